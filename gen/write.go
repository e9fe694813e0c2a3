package gen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format is a capture file format.
type Format uint8

// Formats Write produces. All are little-endian with link type Ethernet.
const (
	// FormatPcap is classic pcap with microsecond timestamps, the format
	// every tool reads. Timestamps are truncated to the microsecond, so
	// consecutive packets may share one.
	FormatPcap Format = iota
	// FormatPcapNano is classic pcap with nanosecond timestamps (magic
	// 0xa1b23c4d).
	FormatPcapNano
	// FormatPcapNG is pcapng: one section header block, one interface
	// description block with if_tsresol 9 (nanoseconds), then one enhanced
	// packet block per packet.
	FormatPcapNG
)

// ErrFormat is wrapped by the errors for unknown formats.
var ErrFormat = errors.New("unknown capture format")

var formatNames = [...]string{FormatPcap: "pcap", FormatPcapNano: "pcap-ns", FormatPcapNG: "pcapng"}

// String returns the format's name: "pcap", "pcap-ns" or "pcapng".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat returns the format named s, as String spells it.
func ParseFormat(s string) (Format, error) {
	for i, name := range formatNames {
		if s == name {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want pcap, pcap-ns or pcapng)", ErrFormat, s)
}

// MarshalText implements encoding.TextMarshaler, for flag.TextVar.
func (f Format) MarshalText() ([]byte, error) {
	if int(f) >= len(formatNames) {
		return nil, fmt.Errorf("%w %d", ErrFormat, uint8(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, for flag.TextVar.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Capture-file constants (tcpdump.org pcap and pcapng specifications).
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	snapLen        = 262144 // tcpdump's default
	linkEthernet   = 1

	blockSHB  = 0x0a0d0d0a
	blockIDB  = 0x00000001
	blockEPB  = 0x00000006
	byteMagic = 0x1a2b3c4d

	pcapRecHdr  = 16 // pcap record header
	epbOverhead = 32 // EPB fixed fields and trailing length
)

// writerBufSize is the bufio.Writer size: large enough that flushing costs
// nothing per packet.
const writerBufSize = 1 << 20

// Write generates cfg's packets into w in format and returns their Stats.
// It buffers internally and flushes before returning. On a write error it
// stops and returns the Stats of the packets generated so far with the
// error; what reached w is then cut mid-file.
func Write(w io.Writer, cfg Config, format Format) (Stats, error) {
	if int(format) >= len(formatNames) {
		return Stats{}, fmt.Errorf("%w %d", ErrFormat, uint8(format))
	}
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(w, writerBufSize)
	if err := writeHeader(bw, format); err != nil {
		return g.Stats(), fmt.Errorf("write %s header: %w", format, err)
	}
	for {
		ts, frame, ok := g.Next()
		if !ok {
			break
		}
		if err := writeRecord(bw, format, ts, frame, uint32(len(frame))); err != nil {
			return g.Stats(), fmt.Errorf("write packet %d: %w", g.Stats().Packets, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return g.Stats(), fmt.Errorf("write %s: %w", format, err)
	}
	return g.Stats(), nil
}

// shbApp is the shb_userappl option of the section header, padded to 4
// bytes (its length field says 6).
const shbApp = "jj/gen\x00\x00"

// writeHeader writes the file header: the pcap global header, or the
// pcapng section header and interface description blocks.
func writeHeader(bw *bufio.Writer, format Format) error {
	le := binary.LittleEndian
	var b []byte
	switch format {
	case FormatPcap, FormatPcapNano:
		magic := uint32(pcapMagicMicro)
		if format == FormatPcapNano {
			magic = pcapMagicNano
		}
		b = le.AppendUint32(b, magic)
		b = le.AppendUint16(b, 2) // version 2.4
		b = le.AppendUint16(b, 4)
		b = le.AppendUint32(b, 0) // thiszone
		b = le.AppendUint32(b, 0) // sigfigs
		b = le.AppendUint32(b, snapLen)
		b = le.AppendUint32(b, linkEthernet)
	case FormatPcapNG:
		// Section header: type, length, byte-order magic, version 1.0,
		// section length -1 (unknown), shb_userappl, opt_endofopt, length.
		shbLen := uint32(28 + 4 + len(shbApp) + 4)
		b = le.AppendUint32(b, blockSHB)
		b = le.AppendUint32(b, shbLen)
		b = le.AppendUint32(b, byteMagic)
		b = le.AppendUint16(b, 1)
		b = le.AppendUint16(b, 0)
		b = le.AppendUint64(b, ^uint64(0))
		b = le.AppendUint16(b, 4) // shb_userappl
		b = le.AppendUint16(b, 6)
		b = append(b, shbApp...)
		b = le.AppendUint32(b, 0) // opt_endofopt
		b = le.AppendUint32(b, shbLen)
		// Interface description: link type, reserved, snap length,
		// if_tsresol = 9 (10^-9 s) padded to 4 bytes, opt_endofopt, length.
		const idbLen = 32
		b = le.AppendUint32(b, blockIDB)
		b = le.AppendUint32(b, idbLen)
		b = le.AppendUint16(b, linkEthernet)
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, snapLen)
		b = le.AppendUint16(b, 9) // if_tsresol
		b = le.AppendUint16(b, 1)
		b = append(b, 9, 0, 0, 0)
		b = le.AppendUint32(b, 0) // opt_endofopt
		b = le.AppendUint32(b, idbLen)
	}
	_, err := bw.Write(b)
	return err
}

// zeros pads pcapng packet data to 4 bytes.
var zeros [4]byte

// writeRecord writes one packet record, wire its original length. It
// builds the record in the writer's free space (AvailableBuffer) and
// hands it back with one Write, so nothing is allocated or copied twice.
func writeRecord(bw *bufio.Writer, format Format, ts int64, frame []byte, wire uint32) error {
	le := binary.LittleEndian
	n := len(frame)
	pad := -n & 3
	size := pcapRecHdr + n
	if format == FormatPcapNG {
		size = epbOverhead + n + pad
	}
	if bw.Available() < size {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	b := bw.AvailableBuffer()
	switch format {
	case FormatPcap:
		b = le.AppendUint32(b, uint32(ts/1e9))
		b = le.AppendUint32(b, uint32(ts%1e9/1e3))
		b = le.AppendUint32(b, uint32(n))
		b = le.AppendUint32(b, wire)
		b = append(b, frame...)
	case FormatPcapNano:
		b = le.AppendUint32(b, uint32(ts/1e9))
		b = le.AppendUint32(b, uint32(ts%1e9))
		b = le.AppendUint32(b, uint32(n))
		b = le.AppendUint32(b, wire)
		b = append(b, frame...)
	default:
		b = le.AppendUint32(b, blockEPB)
		b = le.AppendUint32(b, uint32(size))
		b = le.AppendUint32(b, 0) // interface
		b = le.AppendUint32(b, uint32(uint64(ts)>>32))
		b = le.AppendUint32(b, uint32(ts))
		b = le.AppendUint32(b, uint32(n))
		b = le.AppendUint32(b, wire)
		b = append(b, frame...)
		b = append(b, zeros[:pad]...)
		b = le.AppendUint32(b, uint32(size))
	}
	_, err := bw.Write(b)
	return err
}
