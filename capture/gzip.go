package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	mbits "math/bits"
	"sync"
)

// The gzip format (RFC 1952) and its deflate data (RFC 1951), decoded here
// rather than by klauspost/compress's gzip reader, which decodes a capture
// of real traffic (mostly literals: encrypted payloads) at about 150 MB/s
// on this project's host, and so bounded jj at about 0.4 M packets/s on
// such a file (jj: about 300 MB/s). gzipReader decodes the way libdeflate
// does:
//
//   - a 64-bit bit buffer refilled eight bytes at a time with no branch,
//     holding enough bits for a whole length and distance pair, or for
//     three literals;
//   - one table lookup a symbol for most codes: 11 bits for literals and
//     lengths, 8 for distances, and a small second-level table for the
//     rare longer codes; each entry holds the symbol's meaning (literal,
//     length base and extra bits, distance base and extra bits) and how
//     many bits it takes; the next symbol's entry is looked up before the
//     current match is copied;
//   - matches copied eight bytes at a time, or by memmove when long and
//     apart from their source;
//   - output written straight into a buffer that is its own history, with
//     32 KiB kept at the front when it is slid; buffers and tables pooled.
//
// A whole file is decoded on the other cores too: see gzippar.go.
//
// The careful path (near the end of the buffered input, at a header,
// a stored block or the trailer) reads byte by byte and knows where the
// input ends. Decoding hands on its output before it reads more input,
// which may block. What it accepts and refuses follows the Go libraries:
// the tests (gzip_test.go) compare it with klauspost/compress's reader,
// and where that one is wrong or reads differently, with compress/gzip's.

const (
	gzipWindow = 32 << 10             // deflate's history
	gzipLimit  = gzipWindow + 256<<10 // decoding stops past this
	gzipOutLen = gzipLimit + 512      // a match of 258 past the limit, and a word
	gzipInBuf  = 256 << 10

	llBits   = 11 // primary table bits, literals and lengths
	distBits = 8  // primary table bits, distances
	llSize   = 1<<llBits + 288*16
	distSize = 1<<distBits + 32*128

	// Table entries: bits 0-7 the bits the entry takes, 8-11 the extra
	// bits after it (for a subtable pointer: the subtable's index bits),
	// 12-15 the flags below, 16-31 the value (literal, length or distance
	// base, subtable offset).
	entLit     = 1 << 12
	entEnd     = 1 << 13
	entSub     = 1 << 14
	entInvalid = 1 << 15
)

var (
	errGzipHeader   = errors.New("gzip: invalid header")
	errGzipChecksum = errors.New("gzip: invalid checksum")
	errGzipReleased = errors.New("gzip: read after close")
	errGzipShort    = errors.New("gzip: symbol past the input buffered") // symbol's, never returned
)

// deflateError is corrupt deflate data, at about byte off of the
// compressed input.
type deflateError struct {
	off  int64
	what string
}

func (e *deflateError) Error() string {
	return fmt.Sprintf("gzip: invalid deflate data near byte %d: %s", e.off, e.what)
}

var (
	lengthBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase     = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra    = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	precodeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// The table entries of each symbol, without its code's length.
var llEntries, distEntries, precodeEntries = func() (ll [288]uint32, dist [32]uint32, pre [19]uint32) {
	for sym := range ll {
		switch {
		case sym < 256:
			ll[sym] = entLit | uint32(sym)<<16
		case sym == 256:
			ll[sym] = entEnd
		case sym < 286:
			ll[sym] = uint32(lengthBase[sym-257])<<16 | uint32(lengthExtra[sym-257])<<8
		default:
			ll[sym] = entInvalid
		}
	}
	for sym := range dist {
		if sym < 30 {
			dist[sym] = uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<8
		} else {
			dist[sym] = entInvalid
		}
	}
	for sym := range pre {
		pre[sym] = uint32(sym) << 16
	}
	return
}()

// fixedLitLens returns the code lengths of the fixed literal/length code
// (RFC 1951, 3.2.6).
func fixedLitLens() (lens [288]uint8) {
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	return lens
}

// fixedCodes returns the fixed codes of block type 1, built at their first
// use rather than when the program starts: they take 80 KB that a run
// reading no deflate stream (most runs) need not allocate and fault in.
var fixedCodes = sync.OnceValues(func() (ll *[llSize]uint32, dist *[distSize]uint32) {
	lens := fixedLitLens()
	ll, dist = new([llSize]uint32), new([distSize]uint32)
	var dlens [32]uint8
	for i := range dlens {
		dlens[i] = 5
	}
	if !buildTable(ll[:], lens[:], llBits, llEntries[:]) || !buildTable(dist[:], dlens[:], distBits, distEntries[:]) {
		panic("capture: deflate's fixed codes do not build")
	}
	return ll, dist
})

// buildTable fills table for the canonical Huffman code of lens (a code
// length per symbol, 0 for none): 1<<bits entries indexed by the next
// bits of input, then the subtables of the codes longer than bits. entries
// holds each symbol's entry, to which its code's length is added. It reports
// false for lengths that over-subscribe the code space, or that leave part
// of it unused other than by a single code of length 1 (as zlib and Go
// allow); no code at all is allowed, and every entry is then invalid.
func buildTable(table []uint32, lens []uint8, bits uint, entries []uint32) bool {
	var count [16]int
	for _, l := range lens {
		count[l&15]++
	}
	count[0] = 0
	maxLen := 0
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false
		}
		if count[l] > 0 {
			maxLen = l
		}
	}
	if left > 0 && maxLen != 0 && !(maxLen == 1 && count[1] == 1) {
		return false
	}
	// The symbols by code length, each length's in symbol order: the
	// order of their canonical codes.
	var offset [17]int
	for l := 1; l <= 15; l++ {
		offset[l+1] = offset[l] + count[l]
	}
	var sorted [288]uint16
	for sym, l := range lens {
		if l != 0 {
			sorted[offset[l&15]] = uint16(sym)
			offset[l&15]++
		}
	}
	// The primary table grows a length at a time: the entries of the
	// codes of length l go in its first 2^l entries, at their codes bit
	// reversed, and then those 2^l entries are copied after themselves,
	// so that each code's entry is at every index whose low l bits are
	// its code. Entries no code reaches keep the first two's: no code
	// (which takes none of the bits when there is no code at all, and
	// the first when there is one, of length 1).
	inv := uint32(entInvalid)
	if maxLen > 0 {
		inv |= 1
	}
	table[0], table[1] = inv, inv
	code, i := 0, 0
	for l := 1; l <= int(bits); l++ {
		for range count[l] {
			sym := sorted[i]
			i++
			rev := int(mbits.Reverse16(uint16(code)) >> (16 - l))
			table[rev] = entries[sym] | uint32(l)
			code++
		}
		code <<= 1
		if l < int(bits) {
			copy(table[1<<l:2<<l], table[:1<<l])
		}
	}
	if maxLen <= int(bits) {
		return true
	}
	// Longer codes: a subtable for each primary index they begin with,
	// indexed by the subBits bits after those.
	subBits := uint(maxLen) - bits
	end := 1 << bits
	code >>= 1
	for l := int(bits) + 1; l <= maxLen; l++ {
		code <<= 1
		for range count[l] {
			sym := sorted[i]
			i++
			rev := int(mbits.Reverse16(uint16(code)) >> (16 - l))
			code++
			p := rev & (1<<bits - 1)
			if table[p]&entSub == 0 {
				if end+1<<subBits > len(table) {
					return false // cannot happen for a code that passed the checks
				}
				table[p] = entSub | uint32(end)<<16 | uint32(subBits)<<8 | uint32(bits)
				for k := range 1 << subBits {
					table[end+k] = entInvalid | uint32(subBits)
				}
				end += 1 << subBits
			}
			sub := table[int(table[p]>>16):][:1<<subBits]
			e := entries[sym] | uint32(uint(l)-bits)
			for k, step := rev>>bits, 1<<(uint(l)-bits); k < len(sub); k += step {
				sub[k] = e
			}
		}
	}
	return true
}

// gzipReader decodes a gzip stream of one or more members.
type gzipReader struct {
	src    io.Reader
	in     *[gzipInBuf]byte // compressed input; in[ip:iend] unread
	ip     int
	iend   int
	inBase int64 // input offset of in[0]
	srcEOF bool  // src has nothing more
	srcErr error // what src ended with, if not io.EOF

	bb uint64 // bit buffer, next bits lowest
	bl uint   // valid bits in bb

	out   *[gzipOutLen]byte // history, then new output; see decode
	op    int               // end of the output
	rp    int               // output not yet returned: out[rp:op]
	hist  int               // start of this member's output in out (for distances)
	crcAt int               // output not yet in crc: out[crcAt:op]
	crc   uint32
	size  uint32

	state  int
	final  bool // the current block is the member's last
	stored int  // bytes left of a stored block
	ll     *[llSize]uint32
	dist   *[distSize]uint32
	err    error // after the output, the stream's end or error
	yield  bool  // decode stopped to hand on its output before reading more

	bufs *gzipBufs // in, out and the dynamic tables
	lens [286 + 30]uint8

	// Decoding on other cores (gzippar.go): nil, or the tasks, and the
	// one whose tokens are being executed, from task.tok[tp:].
	par  *gzipPar
	task *gzipTask
	tp   int
}

const (
	gzBlock = iota // a block header next
	gzHuffman
	gzStored
	gzTrailer
	gzNext
	gzTokens // a task's tokens (gzippar.go)
)

// newGzipReader reads the first member's header, as gzip.NewReader does.
func newGzipReader(src io.Reader) (*gzipReader, error) {
	b := gzipPool.Get().(*gzipBufs)
	z := &gzipReader{src: src, bufs: b, in: &b.in, out: &b.out}
	if err := z.header(); err != nil {
		z.release()
		return nil, err
	}
	z.state = gzBlock
	return z, nil
}

// gzipBufs are a reader's buffers and tables, about 600 KB: pooled, so
// that a directory of small files does not allocate and clear them for
// each (about 0.1 ms a file).
type gzipBufs struct {
	in      [gzipInBuf]byte
	out     [gzipOutLen]byte
	dynLL   [llSize]uint32
	dynDist [distSize]uint32
}

var gzipPool = sync.Pool{New: func() any { return new(gzipBufs) }}

// release gives the buffers back, once the reader is no longer used.
func (z *gzipReader) release() {
	if z.par != nil {
		if z.task != nil {
			z.par.recycle(z.task)
			z.task = nil
		}
		z.par.close()
		z.par = nil
	}
	if z.bufs != nil {
		gzipPool.Put(z.bufs)
		z.bufs, z.in, z.out, z.ll, z.dist = nil, nil, nil, nil, nil
		z.rp, z.op = 0, 0
		if z.err == nil {
			z.err = errGzipReleased
		}
	}
}

// fill reads more input, keeping the 8 bytes before ip (which the bit
// buffer may give back). It reports whether it got any.
func (z *gzipReader) fill() bool {
	if z.srcEOF {
		return false
	}
	if keep := min(z.ip, 8); z.ip > keep && (z.iend == len(z.in) || z.ip > len(z.in)/2) {
		n := copy(z.in[:], z.in[z.ip-keep:z.iend])
		z.inBase += int64(z.ip - keep)
		z.ip, z.iend = keep, n
	}
	for empty := 0; ; {
		n, err := z.src.Read(z.in[z.iend:])
		if n < 0 || n > len(z.in)-z.iend {
			n, err = 0, io.ErrShortBuffer
		}
		z.iend += n
		if err != nil {
			z.srcEOF = true
			if err != io.EOF {
				z.srcErr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
		if empty++; empty >= maxEmptyReads {
			z.srcEOF, z.srcErr = true, io.ErrNoProgress
			return false
		}
	}
}

// truncated is the error for input that ends too soon: src's own error if
// it had one.
func (z *gzipReader) truncated() error {
	if z.srcErr != nil {
		return z.srcErr
	}
	return io.ErrUnexpectedEOF
}

// waits reports whether decoding should stop and hand on the output it
// made before it reads more input, which may block (a pipe whose writer
// pauses): when there is output, the source is not at its end, and fewer
// than n bytes are buffered. The next decode, with no output to hand on,
// reads.
func (z *gzipReader) waits(n int) bool {
	return z.op > z.rp && !z.srcEOF && z.iend-z.ip < n
}

func (z *gzipReader) corrupt(what string) error {
	return &deflateError{off: z.inBase + int64(z.ip) - int64(z.bl>>3), what: what}
}

// byteAligned drops the bits to the next byte boundary and gives the
// whole bytes in the bit buffer back to the input.
func (z *gzipReader) byteAligned() {
	z.ip -= int(z.bl >> 3)
	z.bb, z.bl = 0, 0
}

// readByte returns the next byte of byte-aligned input (after
// byteAligned), or false at the end of the input.
func (z *gzipReader) readByte() (byte, bool) {
	if z.ip == z.iend && !z.fill() {
		return 0, false
	}
	c := z.in[z.ip]
	z.ip++
	return c, true
}

// need makes sure the bit buffer holds n ≤ 56 bits, reading byte by byte;
// false if the input ends first.
func (z *gzipReader) need(n uint) bool {
	for z.bl < n {
		if z.ip == z.iend && !z.fill() {
			return false
		}
		z.bb |= uint64(z.in[z.ip]) << z.bl
		z.ip++
		z.bl += 8
	}
	return true
}

// bits takes n bits, which need made sure of.
func (z *gzipReader) bits(n uint) uint32 {
	v := uint32(z.bb & (1<<n - 1))
	z.bb >>= n
	z.bl -= n
	return v
}

// header reads a member's header (RFC 1952, 2.3), byte-aligned input.
func (z *gzipReader) header() error {
	var h [10]byte
	crc := uint32(0)
	read := func(b []byte) error {
		for i := range b {
			c, ok := z.readByte()
			if !ok {
				return z.truncated()
			}
			b[i] = c
		}
		crc = crc32.Update(crc, crc32.IEEETable, b)
		return nil
	}
	if z.ip == z.iend && !z.fill() && z.srcErr == nil {
		return io.EOF // no member at all, as gzip.NewReader says
	}
	if err := read(h[:]); err != nil {
		return err
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return errGzipHeader
	}
	flg := h[3]
	if flg&4 != 0 { // FEXTRA
		var x [2]byte
		if err := read(x[:]); err != nil {
			return err
		}
		var b [64]byte
		for n := int(binary.LittleEndian.Uint16(x[:])); n > 0; {
			m := min(n, len(b))
			if err := read(b[:m]); err != nil {
				return err
			}
			n -= m
		}
	}
	for _, f := range []byte{8, 16} { // FNAME, FCOMMENT: NUL-terminated
		if flg&f == 0 {
			continue
		}
		// At most 511 bytes and the NUL, as Go's readers take them (a
		// file name is at most 255 bytes on most file systems).
		for i := 0; ; i++ {
			if i == 512 {
				return errGzipHeader
			}
			var c [1]byte
			if err := read(c[:]); err != nil {
				return err
			}
			if c[0] == 0 {
				break
			}
		}
	}
	if flg&2 != 0 { // FHCRC
		want := uint16(crc)
		var c [2]byte
		if err := read(c[:]); err != nil {
			return err
		}
		if binary.LittleEndian.Uint16(c[:]) != want {
			return errGzipHeader
		}
	}
	if flg>>5 != 0 {
		return errGzipHeader
	}
	z.crc, z.size = 0, 0
	z.crcAt = z.op
	z.hist = z.op
	return nil
}

// Read implements io.Reader.
func (z *gzipReader) Read(p []byte) (int, error) {
	for z.rp == z.op {
		if z.err != nil {
			return 0, z.err
		}
		z.decode()
	}
	n := copy(p, z.out[z.rp:z.op])
	z.rp += n
	return n, nil
}

// decode decodes more output into out[op:], once the output before it has
// been read, or sets err.
func (z *gzipReader) decode() {
	if z.op > gzipLimit {
		// Slide: keep the last window of output as history.
		d := z.op - gzipWindow
		copy(z.out[:], z.out[d:z.op])
		z.op -= d
		z.rp = z.op
		z.crcAt -= d
		z.hist = max(z.hist-d, 0)
	}
	z.yield = false
	for z.err == nil && z.op <= gzipLimit && !z.yield {
		if z.state == gzBlock && z.par != nil && z.jump() {
			continue
		}
		switch z.state {
		case gzBlock, gzTrailer, gzNext:
			// A header or trailer is read byte by byte and cannot stop
			// half way: with output to hand on, it waits for the next
			// decode if the input buffered may not hold it (a block
			// header takes at most 563 bytes, a trailer 8, a member
			// header 10, 65 537 of extra field, 512 of name, 512 of
			// comment and 2 of CRC).
			n := 1024
			if z.state == gzNext {
				n = 8 + 10 + 2 + 65535 + 512 + 512 + 2
			}
			if z.waits(n) {
				z.yield = true
				continue
			}
		}
		switch z.state {
		case gzBlock:
			z.err = z.block()
		case gzHuffman:
			z.err = z.huffman()
		case gzStored:
			z.err = z.copyStored()
		case gzTokens:
			z.tokens()
		case gzTrailer:
			z.err = z.trailer()
		case gzNext:
			z.byteAligned()
			if z.ip == z.iend && !z.fill() {
				if z.srcErr != nil {
					z.err = z.srcErr
				} else {
					z.err = io.EOF
				}
				break
			}
			if z.err = z.header(); z.err == nil {
				z.state = gzBlock
			}
		}
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, z.out[z.crcAt:z.op])
	z.size += uint32(z.op - z.crcAt)
	z.crcAt = z.op
}

// block reads a block header.
func (z *gzipReader) block() error {
	if !z.need(3) {
		return z.truncated()
	}
	z.final = z.bits(1) == 1
	switch z.bits(2) {
	case 0:
		z.byteAligned()
		var h [4]byte
		for i := range h {
			c, ok := z.readByte()
			if !ok {
				return z.truncated()
			}
			h[i] = c
		}
		n := binary.LittleEndian.Uint16(h[:2])
		if n != ^binary.LittleEndian.Uint16(h[2:]) {
			return z.corrupt("stored block length check")
		}
		z.stored = int(n)
		z.state = gzStored
	case 1:
		z.ll, z.dist = fixedCodes()
		z.state = gzHuffman
	case 2:
		if err := z.dynamic(); err != nil {
			return err
		}
		z.ll, z.dist = &z.bufs.dynLL, &z.bufs.dynDist
		z.state = gzHuffman
	default:
		return z.corrupt("reserved block type")
	}
	return nil
}

// dynamic reads a dynamic block's code lengths and builds its tables.
func (z *gzipReader) dynamic() error {
	if !z.need(14) {
		return z.truncated()
	}
	nlit := int(z.bits(5)) + 257
	ndist := int(z.bits(5)) + 1
	nclen := int(z.bits(4)) + 4
	if nlit > 286 || ndist > 30 {
		return z.corrupt("too many length or distance codes")
	}
	var clens [19]uint8
	for i := range nclen {
		if !z.need(3) {
			return z.truncated()
		}
		clens[precodeOrder[i]] = uint8(z.bits(3))
	}
	var pre [128]uint32
	if !buildTable(pre[:], clens[:], 7, precodeEntries[:]) {
		return z.corrupt("invalid code lengths code")
	}
	lens := z.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		z.need(7) // as many as there are: the code may be shorter
		e := pre[z.bb&127]
		if e&entInvalid != 0 {
			if z.bl < uint(e&0xff) {
				return z.truncated()
			}
			return z.corrupt("invalid code length code")
		}
		n := uint(e & 0xff)
		if n > z.bl {
			return z.truncated()
		}
		z.bits(n)
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var prev uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.corrupt("repeated code length with none before")
			}
			if !z.need(2) {
				return z.truncated()
			}
			rep, prev = 3+int(z.bits(2)), lens[i-1]
		case 17:
			if !z.need(3) {
				return z.truncated()
			}
			rep = 3 + int(z.bits(3))
		default:
			if !z.need(7) {
				return z.truncated()
			}
			rep = 11 + int(z.bits(7))
		}
		if i+rep > len(lens) {
			return z.corrupt("code lengths past the end")
		}
		for range rep {
			lens[i] = prev
			i++
		}
	}
	// A code without an end-of-block symbol is taken, as the Go
	// libraries take it (zlib refuses it): such a block can only end in
	// an error.
	if !buildTable(z.bufs.dynLL[:], lens[:nlit], llBits, llEntries[:]) {
		return z.corrupt("invalid literal/length code")
	}
	if !buildTable(z.bufs.dynDist[:], lens[nlit:], distBits, distEntries[:]) {
		return z.corrupt("invalid distance code")
	}
	return nil
}

// copyStored copies a stored block's bytes.
func (z *gzipReader) copyStored() error {
	for z.stored > 0 && z.op <= gzipLimit {
		if z.ip == z.iend {
			if z.waits(1) {
				z.yield = true
				return nil
			}
			if !z.fill() {
				return z.truncated()
			}
		}
		n := copy(z.out[z.op:gzipLimit+1], z.in[z.ip:min(z.iend, z.ip+z.stored)])
		z.ip += n
		z.op += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.endBlock()
	}
	return nil
}

func (z *gzipReader) endBlock() {
	if z.final {
		z.state = gzTrailer
	} else {
		z.state = gzBlock
	}
}

// trailer checks a member's CRC-32 and size.
func (z *gzipReader) trailer() error {
	z.byteAligned()
	var t [8]byte
	for i := range t {
		c, ok := z.readByte()
		if !ok {
			return z.truncated()
		}
		t[i] = c
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, z.out[z.crcAt:z.op])
	z.size += uint32(z.op - z.crcAt)
	z.crcAt = z.op
	if binary.LittleEndian.Uint32(t[:4]) != z.crc || binary.LittleEndian.Uint32(t[4:]) != z.size {
		return errGzipChecksum
	}
	z.state = gzNext
	return nil
}

// huffman decodes a Huffman block's symbols until its end, until the
// output is past gzipLimit, or until an error. Its fast loop refills the
// bit buffer to at least 56 bits and then decodes a literal and up to two
// more with primary codes (15 + 11 + 11 bits), or a length and distance
// (15 + 5 + 15 + 13 bits). Each step looks up the next symbol's entry before it
// refills or copies, from bits already in the buffer, so that the lookup
// does not wait for them. Near the end of the buffered input it hands
// each symbol to slowSymbol.
func (z *gzipReader) huffman() error {
	in, out := z.in, z.out
	ip, op := z.ip, z.op
	// An iteration refills twice at most, each reading 8 bytes and taking 7.
	ilimit := z.iend - 16
	bb, bl := z.bb, z.bl
	ll, dt := z.ll, z.dist
	hist := z.hist
	var e uint32 // the next symbol's entry, when ip ≤ ilimit
	if ip <= ilimit {
		bb |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bl & 63)
		ip += int((63 - bl) >> 3)
		bl |= 56
		e = ll[bb&(1<<llBits-1)]
	}
	for op <= gzipLimit {
		if ip > ilimit {
			z.ip, z.op, z.bb, z.bl = ip, op, bb, bl
			if end, err := z.slowSymbol(); err != nil || end || z.yield {
				return err
			}
			ip, op, bb, bl = z.ip, z.op, z.bb, z.bl
			if ilimit = z.iend - 16; ip <= ilimit {
				bb |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bl & 63)
				ip += int((63 - bl) >> 3)
				bl |= 56
				e = ll[bb&(1<<llBits-1)]
			}
			continue
		}
		// At least 11 bits were in the buffer for e (19 after literals);
		// the refill adds bits above them.
		bb |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bl & 63)
		ip += int((63 - bl) >> 3)
		bl |= 56

		if e&entSub != 0 {
			bb >>= llBits
			bl -= llBits
			e = ll[e>>16+uint32(bb)&(1<<(e>>8&15)-1)]
		}
		if e&entLit != 0 {
			bb >>= e & 63
			bl -= uint(e & 0xff)
			out[op] = byte(e >> 16)
			op++
			// At least 41 bits left: two more literals of primary codes.
			e = ll[bb&(1<<llBits-1)]
			if e&(entLit|entSub) != entLit {
				continue
			}
			bb >>= e & 63
			bl -= uint(e & 0xff)
			out[op] = byte(e >> 16)
			op++
			e = ll[bb&(1<<llBits-1)]
			if e&(entLit|entSub) != entLit {
				continue
			}
			bb >>= e & 63
			bl -= uint(e & 0xff)
			out[op] = byte(e >> 16)
			op++
			e = ll[bb&(1<<llBits-1)] // 19 bits left at least
			continue
		}
		bb >>= e & 63
		bl -= uint(e & 0xff)
		if e&(entEnd|entInvalid) != 0 {
			if e&entInvalid != 0 {
				return z.stop(ip, op, bb, bl, "invalid literal/length code")
			}
			z.endBlock()
			return z.stop(ip, op, bb, bl, "")
		}
		x := e >> 8 & 15
		length := int(e>>16) + int(bb&(1<<x-1))
		bb >>= x & 63
		bl -= uint(x)

		d := dt[bb&(1<<distBits-1)]
		if d&entSub != 0 {
			bb >>= distBits
			bl -= distBits
			d = dt[d>>16+uint32(bb)&(1<<(d>>8&15)-1)]
		}
		bb >>= d & 63
		bl -= uint(d & 0xff)
		if d&entInvalid != 0 {
			return z.stop(ip, op, bb, bl, "invalid distance code")
		}
		x = d >> 8 & 15
		dist := int(d>>16) + int(bb&(1<<x-1))
		bb >>= x & 63
		bl -= uint(x)
		if dist > op-hist {
			return z.stop(ip, op, bb, bl, "distance too far back")
		}
		// Refill and look up the next symbol before the copy.
		bb |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bl & 63)
		ip += int((63 - bl) >> 3)
		bl |= 56
		e = ll[bb&(1<<llBits-1)]
		op = copyMatch(out, op, dist, length)
	}
	return z.stop(ip, op, bb, bl, "")
}

// stop saves huffman's state and returns the corrupt data error what
// describes, or nil for none.
func (z *gzipReader) stop(ip, op int, bb uint64, bl uint, what string) error {
	z.ip, z.op, z.bb, z.bl = ip, op, bb, bl
	if what != "" {
		return z.corrupt(what)
	}
	return nil
}

// copyMatch copies length bytes from dist back to out[op:] and returns the
// new end. It may write up to 7 bytes past it.
func copyMatch(out *[gzipOutLen]byte, op, dist, length int) int {
	src := op - dist
	end := op + length
	switch {
	case length > 32 && dist >= length:
		// Long and not overlapping: memmove's wide moves.
		copy(out[op:end], out[src:src+length])
	case dist >= 8:
		for ; op < end; op, src = op+8, src+8 {
			binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(out[src:]))
		}
	case dist == 1:
		v := uint64(out[src]) * 0x0101010101010101
		for ; op < end; op += 8 {
			binary.LittleEndian.PutUint64(out[op:], v)
		}
	default:
		// A period of 2 to 7 bytes: its first bytes one at a time, as
		// far as the smallest multiple of the period of 8 or more, and
		// the rest eight at a time from that far back.
		far := (8 + dist - 1) / dist * dist
		for n := min(end, op+far); op < n; op, src = op+1, src+1 {
			out[op] = out[src]
		}
		for src = op - far; op < end; op, src = op+8, src+8 {
			binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(out[src:]))
		}
	}
	return end
}

// slowSymbol decodes one symbol from the bits buffered, byte by byte,
// knowing where the input ends; end reports the end of the block. If the
// symbol runs past the input buffered it takes nothing and, with output
// to hand on, yields (z.yield) rather than read; else it reads and tries
// again.
func (z *gzipReader) slowSymbol() (end bool, err error) {
	for {
		ip, bb, bl := z.ip, z.bb, z.bl
		for z.bl < 48 && z.ip < z.iend {
			z.bb |= uint64(z.in[z.ip]) << z.bl
			z.ip++
			z.bl += 8
		}
		end, err = z.symbol()
		if err != errGzipShort {
			return end, err
		}
		z.ip, z.bb, z.bl = ip, bb, bl // nothing taken
		if z.srcEOF {
			return false, z.truncated()
		}
		if z.op > z.rp {
			z.yield = true
			return false, nil
		}
		z.fill()
	}
}

// symbol decodes one symbol from the bits in the buffer (at most 55),
// or returns errGzipShort if they end inside it.
func (z *gzipReader) symbol() (end bool, err error) {
	e, err := z.code(z.ll[:], llBits, "invalid literal/length code")
	if err != nil {
		return false, err
	}
	if e&entLit != 0 {
		z.out[z.op] = byte(e >> 16)
		z.op++
		return false, nil
	}
	if e&entEnd != 0 {
		z.endBlock()
		return true, nil
	}
	x := uint(e >> 8 & 15)
	if x > z.bl {
		return false, errGzipShort
	}
	length := int(e>>16) + int(z.bits(x))
	d, err := z.code(z.dist[:], distBits, "invalid distance code")
	if err != nil {
		return false, err
	}
	x = uint(d >> 8 & 15)
	if x > z.bl {
		return false, errGzipShort
	}
	dist := int(d>>16) + int(z.bits(x))
	if dist > z.op-z.hist {
		return false, z.corrupt("distance too far back")
	}
	z.op = copyMatch(z.out, z.op, dist, length)
	return false, nil
}

// code takes the next code of table t (primary bits wide, then its
// subtables) from the bits in the buffer and returns its entry; or
// errGzipShort if the bits end inside it, or corrupt data (what) if it is
// no code.
func (z *gzipReader) code(t []uint32, bits uint, what string) (uint32, error) {
	e := t[z.bb&(1<<bits-1)]
	if e&entSub != 0 {
		if z.bl < bits {
			return 0, errGzipShort
		}
		z.bits(bits)
		e = t[e>>16+uint32(z.bb)&(1<<(e>>8&15)-1)]
	}
	n := uint(e & 0xff)
	if n > z.bl {
		return 0, errGzipShort
	}
	z.bits(n)
	if e&entInvalid != 0 {
		// After its bits, as the fast loop reports it: the error's
		// offset does not depend on which path met it.
		return 0, z.corrupt(what)
	}
	return e, nil
}
