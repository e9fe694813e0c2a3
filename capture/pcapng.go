package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// pcapng block types (draft-ietf-opsawg-pcapng §4, §11.1). Every block is
// type(4) total_length(4) body total_length(4), in the byte order of its
// section, which the section header's byte-order magic gives.
const (
	blockSHB = 0x0a0d0d0a // section header; the same bytes in either order
	blockIDB = 0x00000001 // interface description
	blockPB  = 0x00000002 // packet block, obsolete
	blockSPB = 0x00000003 // simple packet block
	blockISB = 0x00000005 // interface statistics
	blockEPB = 0x00000006 // enhanced packet block

	byteOrderMagic = 0x1a2b3c4d
)

// Interface description options that jj uses.
const (
	optEndOfOpt = 0
	optTSResol  = 9  // if_tsresol: 1 byte
	optTSOffset = 14 // if_tsoffset: int64 seconds

	optISBIfDrop = 5 // isb_ifdrop: packets the interface dropped, uint64
	optISBOSDrop = 7 // isb_osdrop: packets the capturing system dropped, uint64
)

// ngBlockHeaderLen is type, length and the first body word, which for a
// section header is the byte-order magic: enough to read any block's length.
const ngBlockHeaderLen = 12

// maxBlockLen bounds the total length of a block: a record of MaxRecordLen
// plus room for the packet header and options. A longer block is a lying
// length field, and it is never buffered.
const maxBlockLen = MaxRecordLen + 1<<20

// nsPerSec is the number of nanoseconds in a second.
const nsPerSec = 1_000_000_000

// pow10 holds 10^0 to 10^19, all that fit in a uint64.
var pow10 = [20]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// ngInterface is what jj keeps of an interface description block.
type ngInterface struct {
	link      LinkType
	supported bool // Supported(link), computed once
	snaplen   uint32
	binary    bool  // ticks are 2^-exp seconds rather than 10^-exp
	exp       uint8 // if_tsresol exponent, 6 by default
	offset    int64 // if_tsoffset, seconds added to every timestamp

	// scale is 10^(9-exp) for a supported interface whose ticks become
	// nanoseconds by one multiplication (a decimal resolution of 1 ns or
	// coarser, no if_tsoffset), and 0 otherwise: nextEPB reads only the
	// packets of interfaces with a scale.
	scale uint64

	// ifDrop and osDrop are the drop counts of the interface's latest
	// statistics block (counted from the start of the capture).
	ifDrop, osDrop uint64
}

// nanos converts a timestamp in ticks to nanoseconds since the epoch, with
// if_tsoffset applied, exactly (truncating like integer division). A result
// outside the int64 range (the years 1677 to 2262) wraps around, as
// time.Time.UnixNano does, so that the differences between the timestamps of
// a file stay right; ok is false then.
func (ifc *ngInterface) nanos(ticks uint64) (ns int64, ok bool) {
	var hi, lo uint64 // 128-bit nanoseconds
	switch {
	case !ifc.binary && ifc.exp <= 9:
		hi, lo = bits.Mul64(ticks, pow10[9-ifc.exp])
	case !ifc.binary:
		// Below a nanosecond; 10^20 ticks and more exceed any uint64,
		// so such a resolution truncates every timestamp to 0.
		if d := ifc.exp - 9; int(d) < len(pow10) {
			lo = ticks / pow10[d]
		}
	default:
		// ticks × 2^-exp s = (ticks × 10^9) >> exp ns.
		hi, lo = bits.Mul64(ticks, 1e9)
		switch e := uint(ifc.exp); {
		case e >= 64:
			hi, lo = 0, hi>>(e-64)
		case e > 0:
			hi, lo = hi>>e, lo>>e|hi<<(64-e)
		}
	}
	ok = hi == 0 && lo <= math.MaxInt64
	ns = int64(lo)
	if o := ifc.offset; o != 0 {
		ok = ok && o <= math.MaxInt64/nsPerSec && o >= math.MinInt64/nsPerSec
		sum := ns + o*nsPerSec
		if o > 0 && sum < ns || o < 0 && sum > ns {
			ok = false
		}
		ns = sum
	}
	return ns, ok
}

// lookAhead is how far past a packet of an unsupported link type the reader
// looks for a second interface before it rejects a file.
const lookAhead = MaxRecordLen

// errAgain asks next to read the current block again.
var errAgain = errors.New("read the block again")

// errSkipBlock asks next to leave out the current block, a packet block
// whose interface the section does not describe (skip): its framing is
// sound, so the blocks after it, and the sections after those, are read.
var errSkipBlock = errors.New("skip the block")

// skip counts a packet block left out for why, at offset off, and returns
// errSkipBlock. The input's warnings give the count and the first one.
func (r *ngReader) skip(off int64, why string) error {
	if r.skipped == 0 {
		r.skippedWhy = fmt.Sprintf("at offset %d: %s", off, why)
	}
	r.skipped++
	return errSkipBlock
}

// ngReader reads pcapng.
//
// Link types: when a packet's interface has a link type jj does not decode
// and it is the only interface the file declares, the file is rejected with
// a *LinkTypeError, by NewReader, which reads ahead to the first packet.
// "Only" means: no other interface description block before the packet nor
// in the lookAhead bytes after it. (A reader of a stream cannot see the whole
// file; this sees the multi-section files where each section has one
// interface of its own.) Otherwise packets of unsupported interfaces are
// returned with their LinkType, for the caller to count as skipped after
// checking Supported.
//
// Simple packet blocks carry no timestamp: they get the timestamp of the
// previous record of the file (0 before any), a warning says so once.
type ngReader struct {
	*input
	big      bool          // byte order of the current section
	sections int           // section headers read
	ifaces   []ngInterface // interfaces of the current section
	declared int           // interfaces declared in the whole file
	link0    LinkType      // link type of the file's first interface
	lastTS   int64         // timestamp of the previous record, for SPBs
	several  bool          // a second interface was found ahead

	// ifDrops and osDrops sum the drop counts of the interfaces of the
	// sections before the current one (ngInterface.ifDrop, osDrop).
	ifDrops, osDrops uint64

	pending bool   // first holds the first record, read by newNgReader
	first   Record //
	err     error  // sticky: returned again by every later Next
}

var _ Reader = (*ngReader)(nil)

// newNgReader reads up to the first packet record; in.s starts with the
// section header block type.
func newNgReader(in *input) (*ngReader, error) {
	r := &ngReader{input: in}
	if h, _ := in.s.peek(ngBlockHeaderLen); len(h) == ngBlockHeaderLen {
		if m := binary.LittleEndian.Uint32(h[8:]); m != byteOrderMagic && m != 0x4d3c2b1a {
			// "\n\r\r\n" could start a text file too.
			return nil, in.fail(-1, fmt.Errorf("%w: section header without byte-order magic", ErrNotCapture))
		}
	}
	err := r.next(&r.first)
	var lte *LinkTypeError
	switch {
	case err == nil:
		r.pending = true
	case r.sections == 0, errors.As(err, &lte):
		return nil, err
	default:
		r.err = err // returned by the first Next
	}
	if !r.pending && r.declared == 1 && !Supported(uint32(r.link0)) {
		// No packet, and the only interface is one jj cannot decode.
		return nil, in.fail(-1, &LinkTypeError{LinkType: uint32(r.link0)})
	}
	return r, nil
}

// Next implements Reader.
func (r *ngReader) Next(rec *Record) error {
	if r.pending {
		*rec = r.first
		r.pending, r.first = false, Record{}
		return nil
	}
	if r.err != nil {
		return r.err
	}
	if ngFastPath && r.nextEPB(rec) {
		return nil
	}
	if err := r.next(rec); err != nil {
		r.err = err
		return err
	}
	return nil
}

// ngFastPath is whether Next tries nextEPB first; tests turn it off to
// compare the two paths.
var ngFastPath = true

// epbHeaderLen is the block header and an enhanced packet block's fixed
// fields: type(4) length(4) interface(4) ts high(4) ts low(4) captured
// length(4) original length(4).
const epbHeaderLen = 28

// nextEPB reads the next block into rec if it is an enhanced packet block
// as nearly every capture is made of: whole in the buffer, its lengths
// consistent, its interface supported and with a scale, its timestamp in
// range, no more bytes captured than sent. It reports whether it did; if
// not, it consumed nothing, and next reads the block the general way,
// with the errors and warnings it calls for. Next tries it for the block
// after a packet; a packet block that follows a block of another kind
// (section header, interface description, statistics) is read by next's
// loop over those blocks. Records come out the same either way
// (TestPcapngFastPath). This way is one function with few branches: one
// test of the bytes held before the block's length is known and one
// after, one of the byte order for the seven fields, and the timestamp
// takes one multiplication. Reading a mapped capture of 600-byte packets
// (BenchmarkPcapngRead/mapped) took 73-75 ns a packet the general way
// and 52-55 ns this way, against 45-49 ns for the same packets in pcap
// (bench/RESULTS.md); with a test of the byte order for each field and
// a slice of the buffer for each test of the bytes held, it took about
// 80 instructions a block more (session 76).
func (r *ngReader) nextEPB(rec *Record) bool {
	s := r.s
	b := s.buf[s.start:s.end]
	if len(b) < epbHeaderLen {
		return false
	}
	h := (*[epbHeaderLen]byte)(b)
	typ := binary.LittleEndian.Uint32(h[0:])
	length := binary.LittleEndian.Uint32(h[4:])
	id := binary.LittleEndian.Uint32(h[8:])
	tsHigh := binary.LittleEndian.Uint32(h[12:])
	tsLow := binary.LittleEndian.Uint32(h[16:])
	capLen := binary.LittleEndian.Uint32(h[20:])
	wireLen := binary.LittleEndian.Uint32(h[24:])
	if r.big {
		typ, length, id = bits.ReverseBytes32(typ), bits.ReverseBytes32(length), bits.ReverseBytes32(id)
		tsHigh, tsLow = bits.ReverseBytes32(tsHigh), bits.ReverseBytes32(tsLow)
		capLen, wireLen = bits.ReverseBytes32(capLen), bits.ReverseBytes32(wireLen)
	}
	// The data and the trailing length fit in the block (the general
	// way's len(body) ≥ 20 and capLen ≤ len(data)).
	if typ != blockEPB || length%4 != 0 || length > maxBlockLen || uint64(capLen)+epbHeaderLen+4 > uint64(length) ||
		capLen > wireLen || id >= uint32(len(r.ifaces)) {
		return false
	}
	ifc := &r.ifaces[id]
	n := int(length)
	if ifc.scale == 0 || n > len(b) || u32(b[n-4:], r.big) != length {
		return false
	}
	hi, ts := bits.Mul64(uint64(tsHigh)<<32|uint64(tsLow), ifc.scale)
	if hi != 0 || ts > math.MaxInt64 {
		return false
	}
	rec.Timestamp = int64(ts)
	rec.Data = b[epbHeaderLen : epbHeaderLen+capLen : epbHeaderLen+capLen]
	rec.WireLen = wireLen
	rec.LinkType = ifc.link
	rec.Interface = id
	r.lastTS = int64(ts)
	s.discard(n)
	return true
}

// block peeks at the next whole block, checking its lengths, and returns
// its offset, type and bytes (valid until the next peek); it follows a
// section header's byte order. The caller discards the block.
func (r *ngReader) block() (off int64, typ uint32, b []byte, err error) {
	off = r.s.off
	h := r.s.buffered(ngBlockHeaderLen)
	if h == nil {
		if h, err = r.s.peek(ngBlockHeaderLen); len(h) < ngBlockHeaderLen {
			return off, 0, nil, r.cut(off, len(h), ngBlockHeaderLen, err)
		}
	}
	typ = u32(h, r.big)
	if typ == blockSHB {
		switch binary.BigEndian.Uint32(h[8:]) {
		case byteOrderMagic:
			r.big = true
		case 0x4d3c2b1a:
			r.big = false
		default:
			return off, typ, nil, r.fail(off, fmt.Errorf("%w: section header with byte-order magic %#08x", ErrCorrupt, binary.BigEndian.Uint32(h[8:])))
		}
	}
	length := u32(h[4:], r.big)
	if length < ngBlockHeaderLen || length%4 != 0 || length > maxBlockLen {
		return off, typ, nil, r.fail(off, fmt.Errorf("%w: block of type %#x with a lying length of %d bytes", ErrCorrupt, typ, length))
	}
	n := int(length)
	if b = r.s.buffered(n); b == nil {
		if b, err = r.s.peek(n); len(b) < n {
			return off, typ, nil, r.cut(off, len(b), n, err) // len(b) > 0: never io.EOF
		}
	}
	if t := u32(b[n-4:], r.big); t != length {
		return off, typ, nil, r.fail(off, fmt.Errorf("%w: block of type %#x with a length of %d bytes and a trailing length of %d", ErrCorrupt, typ, length, t))
	}
	return off, typ, b, nil
}

// next reads blocks until a packet, which it puts in rec.
func (r *ngReader) next(rec *Record) error {
	for {
		off, typ, b, err := r.block()
		if err != nil {
			return err
		}
		n := len(b)
		body := b[8 : n-4]
		switch typ {
		case blockSHB:
			err = r.section(off, body)
		case blockIDB:
			err = r.iface(off, body)
		case blockISB:
			r.stats(body)
		case blockEPB, blockPB, blockSPB:
			if err := r.packet(off, typ, body, rec); err == errAgain {
				continue
			} else if err == errSkipBlock {
				r.s.discard(n)
				continue
			} else if err != nil {
				return err
			}
			r.s.discard(n)
			return nil
		}
		// Other blocks (name resolution, statistics, decryption secrets,
		// custom, unknown) say nothing jj needs.
		if err != nil {
			return err
		}
		r.s.discard(n)
	}
}

// interfaceAhead reports whether an interface description block starts in
// the lookAhead bytes from offset off, the block being read, without
// consuming them. It walks block lengths only; a bad one ends the walk.
func (r *ngReader) interfaceAhead(off int64) bool {
	big := r.big
	for p := int(off - r.s.off); p < lookAhead; {
		b, _ := r.s.peek(p + ngBlockHeaderLen)
		if len(b) < p+ngBlockHeaderLen {
			return false
		}
		h := b[p:]
		typ := u32(h, big)
		switch {
		case typ == blockIDB:
			return true
		case typ == blockSHB:
			big = binary.BigEndian.Uint32(h[8:]) == byteOrderMagic
		}
		length := u32(h[4:], big)
		if length < ngBlockHeaderLen || length%4 != 0 || length > maxBlockLen {
			return false
		}
		p += int(length)
	}
	return false
}

// section starts a section: byte order (set by next), version, no interfaces.
func (r *ngReader) section(off int64, body []byte) error {
	// byte-order magic(4) major(2) minor(2) section length(8) options
	if len(body) < 16 {
		return r.fail(off, fmt.Errorf("%w: section header block of %d bytes", ErrCorrupt, len(body)+12))
	}
	if major, minor := u16(body[4:], r.big), u16(body[6:], r.big); major != 1 {
		r.warnf("section at offset %d has version %d.%d, read as 1.0", off, major, minor)
	}
	r.sections++
	for _, ifc := range r.ifaces {
		r.ifDrops += ifc.ifDrop
		r.osDrops += ifc.osDrop
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// stats keeps the drop counts of an interface statistics block, and
// returns the interface's index in the section, or -1 for a block too
// short or of an interface not declared: a capture tool writes one for
// each interface at the end of its capture, sometimes more as it goes,
// each counting from the start, so the latest counts. A block whose
// options run past its end gives what it can.
func (r *ngReader) stats(body []byte) int {
	// interface id(4) ts high(4) ts low(4) options
	if len(body) < 12 {
		return -1
	}
	id := u32(body, r.big)
	if id >= uint32(len(r.ifaces)) {
		return -1
	}
	ifc := &r.ifaces[id]
	for opts := body[12:]; len(opts) >= 4; {
		code, n := u16(opts, r.big), int(u16(opts[2:], r.big))
		padded := (n + 3) &^ 3
		if code == optEndOfOpt || 4+padded > len(opts) {
			break
		}
		if val := opts[4 : 4+n]; n == 8 {
			switch code {
			case optISBIfDrop:
				ifc.ifDrop = u64(val, r.big)
			case optISBOSDrop:
				ifc.osDrop = u64(val, r.big)
			}
		}
		opts = opts[4+padded:]
	}
	return int(id)
}

// Warnings implements Reader: the input's, and the packets the capture
// tool said were dropped while it captured (its interface statistics),
// which are in no capture and so in no flow.
func (r *ngReader) Warnings() []string {
	w := r.input.Warnings()
	ifDrops, osDrops := r.ifDrops, r.osDrops
	for _, ifc := range r.ifaces {
		ifDrops += ifc.ifDrop
		osDrops += ifc.osDrop
	}
	if ifDrops+osDrops > 0 {
		w = append(w, fmt.Sprintf("%s: the capture tool recorded %d packets dropped while it captured (%d by the interface, %d by the capturing system: pcapng interface statistics); they are in no flow", r.name, ifDrops+osDrops, ifDrops, osDrops))
	}
	return w
}

// iface adds an interface to the section.
func (r *ngReader) iface(off int64, body []byte) error {
	// link type(2) reserved(2) snaplen(4) options
	if len(body) < 8 {
		return r.fail(off, fmt.Errorf("%w: interface description block of %d bytes", ErrCorrupt, len(body)+12))
	}
	ifc := ngInterface{
		link:    LinkType(u16(body, r.big)),
		snaplen: u32(body[4:], r.big),
		exp:     6, // microseconds unless if_tsresol says otherwise
	}
	ifc.supported = Supported(uint32(ifc.link))
	// Each option is code(2) length(2) value, padded to 4 bytes.
	for opts := body[8:]; len(opts) >= 4; {
		code, n := u16(opts, r.big), int(u16(opts[2:], r.big))
		if code == optEndOfOpt {
			break
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(opts) {
			r.warnOnce(warnOptions, "options of the interface description block at offset %d run past its end, the rest ignored", off)
			break
		}
		val := opts[4 : 4+n]
		switch {
		case code == optTSResol && n >= 1:
			ifc.binary, ifc.exp = val[0]&0x80 != 0, val[0]&0x7f
		case code == optTSOffset && n >= 8:
			ifc.offset = int64(u64(val, r.big))
		}
		opts = opts[4+padded:]
	}
	if ifc.supported && !ifc.binary && ifc.exp <= 9 && ifc.offset == 0 {
		ifc.scale = pow10[9-ifc.exp]
	}
	if r.declared == 0 {
		r.link0 = ifc.link
	}
	r.declared++
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// packet fills rec from an enhanced, simple or obsolete packet block.
func (r *ngReader) packet(off int64, typ uint32, body []byte, rec *Record) error {
	var id, capLen, wireLen uint32
	var ticks uint64
	var data []byte
	switch typ {
	case blockEPB, blockPB:
		// EPB: interface id(4) ts high(4) ts low(4) captured len(4) original len(4) data options
		// PB:  interface id(2) drops(2), then the same
		if len(body) < 20 {
			return r.fail(off, fmt.Errorf("%w: packet block of %d bytes", ErrCorrupt, len(body)+12))
		}
		if typ == blockEPB {
			id = u32(body, r.big)
		} else {
			id = uint32(u16(body, r.big))
		}
		ticks = uint64(u32(body[4:], r.big))<<32 | uint64(u32(body[8:], r.big))
		capLen = u32(body[12:], r.big)
		wireLen = u32(body[16:], r.big)
		data = body[20:]
	case blockSPB:
		// original len(4) data; interface 0, captured length implied
		if len(body) < 4 {
			return r.fail(off, fmt.Errorf("%w: simple packet block of %d bytes", ErrCorrupt, len(body)+12))
		}
		if len(r.ifaces) == 0 {
			return r.skip(off, "simple packet block before any interface description")
		}
		wireLen = u32(body, r.big)
		data = body[4:]
		capLen = min(wireLen, uint32(len(data)))
		if s := r.ifaces[0].snaplen; s != 0 {
			capLen = min(capLen, s)
		}
	}
	if id >= uint32(len(r.ifaces)) {
		return r.skip(off, fmt.Sprintf("packet for interface %d, but its section describes %s", id, interfaces(len(r.ifaces))))
	}
	if capLen > uint32(len(data)) {
		return r.fail(off, fmt.Errorf("%w: captured length %d larger than the %d-byte block body", ErrCorrupt, capLen, len(data)))
	}
	ifc := &r.ifaces[id]
	if !ifc.supported && r.declared == 1 && !r.several {
		if !r.interfaceAhead(off) {
			return r.fail(-1, &LinkTypeError{LinkType: uint32(ifc.link)})
		}
		// The look-ahead may have moved the buffer: read the block again.
		r.several = true
		return errAgain
	}
	ts := r.lastTS
	if typ == blockSPB {
		r.warnOnce(warnSPB, "simple packet blocks carry no timestamp; each gets the previous record's")
	} else {
		var ok bool
		if ts, ok = ifc.nanos(ticks); !ok {
			r.warnOnce(warnRange, "block at offset %d has a timestamp outside the years 1677 to 2262, wrapped around", off)
		}
	}
	if capLen > wireLen {
		r.warnOnce(warnCapLen, "block at offset %d has %d captured bytes, more than its original length %d", off, capLen, wireLen)
	}
	rec.Timestamp = ts
	rec.Data = data[:capLen:capLen]
	rec.WireLen = wireLen
	rec.LinkType = ifc.link
	rec.Interface = id
	r.lastTS = ts
	return nil
}

// interfaces words a section's count of interfaces: "no interface",
// "1 interface (0)", "3 interfaces (0 to 2)".
func interfaces(n int) string {
	switch n {
	case 0:
		return "no interface"
	case 1:
		return "1 interface (0)"
	}
	return fmt.Sprintf("%d interfaces (0 to %d)", n, n-1)
}
