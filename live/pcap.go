package live

import (
	"encoding/binary"
	"io"
)

// pcapWriter writes a nanosecond-resolution pcap file, little-endian. The
// caller buffers w; each record costs one Write of its header and one of
// its bytes, with no allocation.
type pcapWriter struct {
	w   io.Writer
	hdr [16]byte
}

func newPcapWriter(w io.Writer, linkType uint16, snapLen uint32) (*pcapWriter, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond magic
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snapLen)
	binary.LittleEndian.PutUint32(h[20:], uint32(linkType))
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &pcapWriter{w: w}, nil
}

// write appends one record: ts in nanoseconds since the epoch.
func (pw *pcapWriter) write(ts int64, data []byte, wireLen uint32) error {
	binary.LittleEndian.PutUint32(pw.hdr[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(pw.hdr[4:], uint32(ts%1e9))
	binary.LittleEndian.PutUint32(pw.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(pw.hdr[12:], max(wireLen, uint32(len(data))))
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return err
	}
	_, err := pw.w.Write(data)
	return err
}
