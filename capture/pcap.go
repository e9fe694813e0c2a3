package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// Classic pcap layout (draft-ietf-opsawg-pcap). The file header is magic(4)
// version major(2) minor(2) thiszone(4) sigfigs(4) snaplen(4) linktype(4);
// each record header is ts_sec(4) ts_frac(4) incl_len(4) orig_len(4), in the
// byte order the magic reveals.
const (
	pcapHeaderLen       = 24
	pcapRecordHeaderLen = 16
)

// pcapReader reads classic pcap.
type pcapReader struct {
	*input
	big   bool     // big-endian file
	scale int64    // nanoseconds per unit of ts_frac: 1000 or 1
	link  LinkType // from the file header
	err   error    // sticky: returned again by every later Next
	snap  uint32   // the file header's snap length and link type field (overLimit)
	field uint32
}

var _ Reader = (*pcapReader)(nil)

// newPcapReader reads the file header; in.s starts with a pcap magic.
func newPcapReader(in *input) (*pcapReader, error) {
	h, err := in.s.peek(pcapHeaderLen)
	if len(h) < pcapHeaderLen {
		if err == io.EOF {
			err = fmt.Errorf("%w: %d of %d bytes of the file header present", ErrTruncated, len(h), pcapHeaderLen)
		}
		return nil, in.fail(0, err)
	}
	r := &pcapReader{input: in, scale: 1000}
	switch binary.LittleEndian.Uint32(h) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		r.scale = 1
	case 0xd4c3b2a1:
		r.big = true
	case 0x4d3cb2a1:
		r.big, r.scale = true, 1
	}
	if major, minor := u16(h[4:], r.big), u16(h[6:], r.big); major != 2 || minor != 4 {
		r.warnf("pcap version %d.%d read as 2.4", major, minor)
	}
	// The upper 16 bits of the link type field carry the FCS length and
	// reserved flags (draft-ietf-opsawg-pcap §4). jj decodes by IP lengths,
	// so an FCS at the end of a frame does no harm: it stays in Data.
	field := u32(h[20:], r.big)
	r.snap, r.field = u32(h[16:], r.big), field
	r.link = LinkType(field)
	if field>>16 != 0 {
		r.warnf("link type field %#08x has FCS or reserved bits set, read as link type %d", field, r.link)
	}
	if !Supported(uint32(r.link)) {
		return nil, in.fail(-1, &LinkTypeError{LinkType: uint32(r.link)})
	}
	in.s.discard(pcapHeaderLen)
	return r, nil
}

// Next implements Reader. A record longer than the snap length or than its
// original length is returned as written (with a warning for the latter);
// a fraction of a second of one second or more is carried into the seconds.
//
// A record whose bytes the stream holds whole (all of a mapping's, most
// of a ring buffer's), within the length limit and with nothing to warn
// of, is read here with one test of the bytes held and one of the byte
// order; every other record, and the error that ended the input, goes to
// next. (next's way, with a test of the bytes held for the header and
// another for the record, and a test of the byte order for each field,
// took about 90 instructions a record more: bench/RESULTS.md, session
// 76.) An error leaves its record unread, so a later call finds it again
// and goes to next too.
func (r *pcapReader) Next(rec *Record) error {
	s := r.s
	b := s.buf[s.start:s.end]
	if r.err != nil || len(b) < pcapRecordHeaderLen {
		return r.next(rec)
	}
	h := (*[pcapRecordHeaderLen]byte)(b)
	sec := binary.LittleEndian.Uint32(h[0:])
	frac := binary.LittleEndian.Uint32(h[4:])
	incl := binary.LittleEndian.Uint32(h[8:])
	orig := binary.LittleEndian.Uint32(h[12:])
	if r.big {
		sec, frac = bits.ReverseBytes32(sec), bits.ReverseBytes32(frac)
		incl, orig = bits.ReverseBytes32(incl), bits.ReverseBytes32(orig)
	}
	n := pcapRecordHeaderLen + int(incl)
	if incl > MaxRecordLen || n > len(b) || int64(frac)*r.scale >= 1e9 || incl > orig {
		return r.next(rec)
	}
	rec.Timestamp = int64(sec)*1e9 + int64(frac)*r.scale
	rec.Data = b[pcapRecordHeaderLen:n:n]
	rec.WireLen = orig
	rec.LinkType = r.link
	rec.Interface = 0
	s.discard(n)
	return nil
}

// next is Next for every record: one the stream does not yet hold whole,
// one over the length limit or with a warning, and the error that ended
// the input.
//
//go:noinline
func (r *pcapReader) next(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	off := r.s.off
	h := r.s.buffered(pcapRecordHeaderLen)
	if h == nil {
		var err error
		if h, err = r.s.peek(pcapRecordHeaderLen); len(h) < pcapRecordHeaderLen {
			r.err = r.cut(off, len(h), pcapRecordHeaderLen, err)
			return r.err
		}
	}
	sec := u32(h[0:], r.big)
	frac := u32(h[4:], r.big)
	incl := u32(h[8:], r.big)
	orig := u32(h[12:], r.big)
	if incl > MaxRecordLen {
		r.err = r.overLimit(off, h, incl)
		return r.err
	}
	n := pcapRecordHeaderLen + int(incl)
	b := r.s.buffered(n)
	if b == nil {
		var err error
		if b, err = r.s.peek(n); len(b) < n {
			r.err = r.cut(off, len(b), n, err) // len(b) > 0: never io.EOF
			return r.err
		}
	}
	if int64(frac)*r.scale >= 1e9 {
		r.warnOnce(warnFraction, "record at offset %d has a fraction of a second of %d ns, carried into the seconds", off, int64(frac)*r.scale)
	}
	if incl > orig {
		r.warnOnce(warnCapLen, "record at offset %d has %d captured bytes, more than its original length %d", off, incl, orig)
	}
	// ts_sec is unsigned (draft-ietf-opsawg-pcap): at most 2^32 s, so
	// neither product overflows int64.
	rec.Timestamp = int64(sec)*1e9 + int64(frac)*r.scale
	rec.Data = b[pcapRecordHeaderLen:n:n]
	rec.WireLen = orig
	rec.LinkType = r.link
	rec.Interface = 0
	r.s.discard(n)
	return nil
}

// overLimit is the error of the record header h at off, whose length
// incl is over MaxRecordLen. Where two pcap files were joined end to end
// (cat a.pcap b.pcap), the second one's file header reads as a record of
// no bytes (its time zone field, 0, in the length's place), then its snap
// length and link type as the time of a record whose length is its first
// packet's time, over the limit: a record whose time is this file's own
// snap length and link type, in either byte order, says that a second
// file header starts 16 bytes before it. (Its magic is in bytes already
// consumed, which a stream may no longer hold: the error would then
// depend on how the file is read.)
//
//go:noinline
func (r *pcapReader) overLimit(off int64, h []byte, incl uint32) error {
	sec, frac := u32(h[0:], r.big), u32(h[4:], r.big)
	same := sec == r.snap && frac == r.field
	reversed := bits.ReverseBytes32(sec) == r.snap && bits.ReverseBytes32(frac) == r.field
	if off >= pcapHeaderLen+pcapRecordHeaderLen && (same || reversed) {
		return r.fail(off-pcapRecordHeaderLen, fmt.Errorf("%w: a second pcap file header, as where two captures are joined with cat (give each as an input, or merge them with mergecap)", ErrCorrupt))
	}
	return r.fail(off, fmt.Errorf("%w: record length %d over the %d-byte limit", ErrCorrupt, incl, MaxRecordLen))
}

// u16 and u32 read an unsigned integer in the file's byte order. A bool
// rather than a binary.ByteOrder keeps them inlinable (the getUint16 comment
// in gopacket's pcapgo/ngread.go measured 20%).
func u16(b []byte, big bool) uint16 {
	if big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func u32(b []byte, big bool) uint32 {
	if big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func u64(b []byte, big bool) uint64 {
	if big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
