package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/ulikunitz/xz/lzma"
)

// The xz format (xz-utils, tukaani.org/xz/xz-file-format.txt), read here
// and not by ulikunitz/xz's own reader: that reader allocates whatever
// dictionary a block header declares, up to 4 GiB, with no way to bound
// it (a 200 KB file of 286 blocks declaring 4 GiB each took 12.6 GB and
// three minutes), and takes a stream cut at a block boundary or before
// its index for a complete one. xzReader parses the container itself:
// stream header, block headers (one LZMA2 filter, whose dictionary is
// bounded by maxXzDict), each block's check, the index (compared with the
// blocks read) and the footer, streams one after another and stream
// padding. It leaves the LZMA2 data to ulikunitz/xz/lzma's Reader2, but
// follows its chunk headers as they pass (lzma2Chunks): Reader2 checks
// neither that a chunk's compressed size was used up nor that lc+lp ≤ 4
// (a state of 0x300<<(lc+lp) probabilities is allocated at each state
// reset). Each block gets a dictionary of its own (Reader2 has no reset):
// of the declared size, but no larger than the block's data when the
// header or the chunks already buffered tell it, so that many small
// blocks cost little. Memory stays within a few dictionaries (the garbage
// collector frees outgrown ones late) and buffers, and the blocks held
// whole below, whatever the file.

// A block whose header gives both its sizes, as xz -T writes them, is read
// whole and decompressed on a goroutine of its own (xzJob) while the
// blocks after it are read and started, up to xzJobs at once, as long as
// their compressed data and output buffers fit in xzJobBytes (a block that
// does not is read as a stream once those before it are handed out): a
// block depends on nothing before it, and LZMA2 decoding, not jj, is the
// limit. Each block's output is handed out in file order, and its error
// after the output, so that what comes out, and where it fails, is what
// the same file gives read one block at a time (TestXzParallel). One
// difference: a block whose data decompresses to more than its header
// says fails where the declared output ends, not after the rest.

// maxXzDict bounds the LZMA2 dictionary a block may ask for: xz -9 (and
// -9e) uses 64 MiB. A larger one is refused, as zstd's window is above
// maxZstdWindow.
const maxXzDict = 64 << 20

// xzJobBytes bounds the memory of the blocks decompressing or waiting to
// be handed out, and of the buffers kept for reuse: their compressed data
// and their output buffers. (A variable for tests.)
var xzJobBytes int64 = 128 << 20

// xzJobs returns how many blocks may be decompressing or waiting to be
// read at once: none on one CPU, where streaming each block is as quick and
// needs no block held whole.
var xzJobs = func() int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return min(n, 8)
	}
	return 0
}

var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	xzFooterMagic = []byte{'Y', 'Z'}
	errXzPadding  = errors.New("xz: padding is not zeros")
	errXzInteger  = errors.New("xz: bad integer")
)

// crc64Table is made at the first xz input's check rather than at start:
// crc64.MakeTable builds its slicing tables, 35 KB (0.05-0.09 ms), which
// every other run would pay for.
var crc64Table = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64.ECMA) })

// xzReader decompresses an xz file read from r.
type xzReader struct {
	r      *stream   // counts what it hands out: r.off
	flags  [2]byte   // the stream's flags
	check  hash.Hash // of the stream's check type; nil: none
	block  *lzma.Reader2
	chunks lzma2Chunks // of block
	err    error       // sticky: io.EOF once the last stream has ended

	// The block being read.
	hdrLen       int64
	start        int64 // where its compressed data starts, in r
	uncompressed int64
	wantCompr    int64 // declared in its header, or -1
	wantUncompr  int64

	checkSize     int
	indexCRC      hash.Hash // while the index is read
	records       xzRecords // of the stream's blocks
	indexRecords  xzRecords // of its index
	indexSize     int64
	streamStarted bool
	scratch       [1024]byte // a block header is at most 1024 bytes

	// Blocks decompressing on goroutines of their own, in file order.
	jobs     []*xzJob
	jobBytes int64    // their memory (xzJob.mem), added up
	maxJobs  int      // xzJobs()
	spare    [][]byte // output buffers of blocks handed out, for reuse
	spareLen int64    // their capacities, added up
}

// xzJob is a block decompressed whole on a goroutine of its own.
type xzJob struct {
	done chan struct{} // closed when out and err are set
	out  []byte        // what is left to hand out
	err  error         // after out
	mem  int64         // its compressed data and output buffer, at most
	buf  []byte        // what out is in
}

// xzRecords sums up a stream's blocks (or its index's records) so that
// the two compare in constant memory: how many, their unpadded and
// uncompressed sizes, and a CRC32 of both sizes of each in order.
type xzRecords struct {
	n, unpadded, uncompressed uint64
	crc                       uint32
}

func (x *xzRecords) add(unpadded, uncompressed uint64) {
	x.n++
	x.unpadded += unpadded
	x.uncompressed += uncompressed
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], unpadded)
	binary.LittleEndian.PutUint64(b[8:], uncompressed)
	x.crc = crc32.Update(x.crc, crc32.IEEETable, b[:])
}

func newXzReader(r io.Reader) *xzReader {
	return &xzReader{r: newStream(r), maxJobs: xzJobs()}
}

func (x *xzReader) Read(p []byte) (int, error) {
	for {
		if len(x.jobs) > 0 {
			x.startJobs()
			j := x.jobs[0]
			<-j.done
			if len(j.out) > 0 || len(p) == 0 {
				n := copy(p, j.out)
				j.out = j.out[n:]
				return n, nil
			}
			if j.err != nil {
				// The blocks after it are dropped; their goroutines end
				// by themselves.
				x.jobs, x.err = nil, j.err
				return 0, x.err
			}
			x.jobs[0] = nil
			x.jobs = x.jobs[1:]
			x.jobBytes -= j.mem
			if c := int64(cap(j.buf)); c > 0 && len(x.spare) < 2 && x.jobBytes+x.spareLen+c <= xzJobBytes {
				x.spare = append(x.spare, j.buf)
				x.spareLen += c
			}
			continue
		}
		if x.err != nil {
			return 0, x.err
		}
		if x.block == nil {
			x.err = x.next()
			continue
		}
		n, err := x.block.Read(p)
		x.uncompressed += int64(n)
		if x.check != nil {
			x.check.Write(p[:n])
		}
		switch {
		case err == io.EOF:
			err = x.endBlock()
			x.block = nil
		case x.chunks.err != nil:
			err = x.chunks.err
		case err == io.ErrUnexpectedEOF:
			// The block's data ran out inside a chunk: a cut, unless
			// bytes follow (its header said it was shorter than it is).
			if b, _ := x.r.peek(1); len(b) > 0 {
				err = errors.New("xz: LZMA2 data ends inside a chunk")
			}
		}
		if err != nil {
			x.err = err
		}
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}

// startJobs reads on and starts blocks while there is room for more: it
// stops at a block read as a stream, or at what ends the input or fails,
// which Read takes up once the blocks before it are handed out.
func (x *xzReader) startJobs() {
	for x.err == nil && x.block == nil && len(x.jobs) < x.maxJobs && x.jobBytes < xzJobBytes {
		x.err = x.next()
	}
}

// next reads what comes after a block, or at the start: a stream header,
// a block header (and starts the block), or the index, the footer and
// what follows them. It returns io.EOF when the input ends cleanly.
func (x *xzReader) next() error {
	if !x.streamStarted {
		if err := x.streamHeader(); err != nil {
			return err
		}
	}
	size, err := x.r.ReadByte()
	if err != nil {
		return unexpected(err)
	}
	if size == 0 {
		if err := x.index(); err != nil {
			return err
		}
		return x.footer()
	}
	return x.blockHeader((int(size) + 1) * 4)
}

// streamHeader reads a stream's header, after any stream padding (four
// zero bytes at a time) when it is not the first; io.EOF if the input
// ends there.
func (x *xzReader) streamHeader() error {
	h := x.scratch[:12]
	if x.r.off > 0 { // after a stream: padding, the end, or another stream
		for {
			b, err := x.r.peek(4)
			if len(b) == 0 {
				return err // io.EOF: the end
			}
			if !bytes.Equal(b, []byte{0, 0, 0, 0}) {
				if len(b) < 4 && bytes.Count(b, []byte{0}) == len(b) {
					return errXzPadding // zeros, but not four
				}
				break
			}
			x.r.discard(4)
		}
	}
	if _, err := io.ReadFull(x.r, h); err != nil {
		return unexpected(err)
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return errors.New("xz: bad stream magic")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return errors.New("xz: stream header checksum mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return errors.New("xz: unsupported stream flags")
	}
	x.flags = [2]byte{h[6], h[7]}
	switch h[7] {
	case 0:
		x.check, x.checkSize = nil, 0
	case 1:
		x.check, x.checkSize = crc32.NewIEEE(), 4
	case 4:
		x.check, x.checkSize = crc64.New(crc64Table()), 8
	case 10:
		x.check, x.checkSize = sha256.New(), 32
	default:
		return fmt.Errorf("xz: unsupported integrity check %d", h[7])
	}
	x.records, x.indexRecords = xzRecords{}, xzRecords{}
	x.streamStarted = true
	return nil
}

// blockHeader reads a block header of size bytes (its size byte already
// read) and starts the block's LZMA2 reader.
func (x *xzReader) blockHeader(size int) error {
	h := x.scratch[:size]
	h[0] = byte(size/4 - 1)
	if _, err := io.ReadFull(x.r, h[1:]); err != nil {
		return unexpected(err)
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return errors.New("xz: block header checksum mismatch")
	}
	flags := h[1]
	if flags&0x3c != 0 {
		return errors.New("xz: unsupported block flags")
	}
	b := h[2 : size-4]
	x.wantCompr, x.wantUncompr = -1, -1
	var err error
	if flags&0x40 != 0 {
		if x.wantCompr, b, err = vli(b); err != nil {
			return err
		}
		if x.wantCompr == 0 {
			return errors.New("xz: block of no compressed data")
		}
	}
	if flags&0x80 != 0 {
		if x.wantUncompr, b, err = vli(b); err != nil {
			return err
		}
	}
	if flags&3 != 0 {
		return errors.New("xz: filters other than LZMA2 (BCJ, delta) not supported: decompress with xz -dc")
	}
	id, b, err := vli(b)
	if err != nil {
		return err
	}
	propsLen, b, err := vli(b)
	if err != nil {
		return err
	}
	if id != 0x21 {
		return fmt.Errorf("xz: filter %#x not supported (only LZMA2): decompress with xz -dc", id)
	}
	if propsLen != 1 || len(b) < 1 || b[0]&0xc0 != 0 || b[0] > 40 {
		return errors.New("xz: bad LZMA2 properties")
	}
	d := b[0]
	if bytes.Count(b[1:], []byte{0}) != len(b)-1 {
		return errors.New("xz: block header padding is not zeros")
	}
	dict := int64(1<<32 - 1)
	if d < 40 {
		dict = int64(2|d&1) << (d/2 + 11)
	}
	// A block starts with an empty dictionary, so no match reaches
	// further back than its own data: when the header gives its size (xz
	// -T writes it), or the chunks already buffered end the block, a
	// dictionary that large is enough.
	if x.wantUncompr >= 0 {
		dict = min(dict, x.wantUncompr)
	} else if n, ok := scanChunks(unread(x.r)); ok {
		dict = min(dict, n)
	}
	if dict > maxXzDict {
		return fmt.Errorf("xz: a block asks for a dictionary of %d MiB, over jj's %d MiB: decompress with xz -dc", dict>>20, maxXzDict>>20)
	}
	if x.maxJobs > 0 && x.wantCompr >= 0 && x.wantUncompr >= 0 && max(x.wantCompr, x.wantUncompr) <= xzJobBytes {
		// Its data, padding and check, and its output and a byte more
		// (sizes up to 2^63 declared: bounded first, not to overflow).
		need := x.wantCompr + 3 + int64(x.checkSize) + x.wantUncompr + 1
		if x.jobFits(need) {
			x.startJob(int64(size), int(max(dict, lzma.MinDictCap)))
			return nil
		}
	}
	var src byteReader = x.r
	if x.wantCompr >= 0 {
		src = &limitedBytes{x.r, x.wantCompr}
	}
	// Before NewReader2, which reads the first chunk's header.
	x.hdrLen, x.start, x.uncompressed = int64(size), x.r.off, 0
	if x.check != nil {
		x.check.Reset()
	}
	x.chunks = lzma2Chunks{r: src}
	x.block, err = lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(&x.chunks)
	if x.chunks.err != nil {
		return x.chunks.err
	}
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	return nil
}

// jobFits reports whether a block needing need bytes may start now
// (startJob then drops spare buffers it does not take, if they no longer
// fit).
func (x *xzReader) jobFits(need int64) bool {
	return need <= xzJobBytes && x.jobBytes+need <= xzJobBytes
}

// startJob reads the block whose header (of hdrLen bytes) was just read,
// its padding and its check, and starts decompressing it on a goroutine of
// its own. The block's sizes are those its header declares: the job fails
// unless its data agrees.
func (x *xzReader) startJob(hdrLen int64, dict int) {
	compr, size := x.wantCompr, x.wantUncompr
	pad := (4 - (hdrLen+compr)%4) % 4
	buf := make([]byte, compr+pad+int64(x.checkSize))
	n, _ := io.ReadFull(x.r, buf)
	// Whether bytes follow the block's data, as the streaming path asks
	// when the data ends inside a chunk.
	follows := int64(n) > compr
	if int64(n) == int64(len(buf)) && !follows {
		b, _ := x.r.peek(1)
		follows = len(b) > 0
	}
	var check hash.Hash
	switch x.checkSize {
	case 4:
		check = crc32.NewIEEE()
	case 8:
		check = crc64.New(crc64Table())
	case 32:
		check = sha256.New()
	}
	// The output buffer, for one byte more than the block's output (to
	// see its data not end there): as large as the LZMA2 chunks, all in
	// buf, say, if they end there, up to a byte more than the header
	// declares; otherwise one that grows as the output comes, so that a
	// header declaring much costs nothing until the data gives as much.
	// A spare one is taken if it is near that size.
	want := min(size+1, 1<<20)
	if total, ok := scanChunks(buf[:min(int64(n), compr)]); ok {
		want = min(size, total) + 1
	}
	var out []byte
	for len(x.spare) > 0 && out == nil {
		k := len(x.spare) - 1
		if c := int64(cap(x.spare[k])); c >= want && c <= want+want/8 {
			out = x.spare[k]
		}
		x.spareLen -= int64(cap(x.spare[k]))
		x.spare = x.spare[:k]
	}
	if out == nil {
		out = make([]byte, want)
	}
	j := &xzJob{done: make(chan struct{}), mem: int64(len(buf)) + max(size+1, int64(cap(out)))}
	x.jobs = append(x.jobs, j)
	x.jobBytes += j.mem
	for len(x.spare) > 0 && x.jobBytes+x.spareLen > xzJobBytes {
		k := len(x.spare) - 1
		x.spareLen -= int64(cap(x.spare[k]))
		x.spare = x.spare[:k]
	}
	x.records.add(uint64(hdrLen+compr+int64(x.checkSize)), uint64(size))
	go func() {
		defer close(j.done)
		j.out, j.err = decodeXzBlock(out, size, buf[:n], compr, dict, check, follows)
		j.buf = j.out[:0]
		j.err = checkXzTail(j.err, buf[min(int64(n), compr):n], pad, check)
	}()
}

// decodeXzBlock decompresses a block read whole by startJob, whose header
// declares size bytes of output, into out (grown as needed, up to a byte
// more): b holds its data (compr bytes), padding and check, or less if the
// input ended first. follows tells whether the input goes on after the
// data. It returns what it decompressed, and then checks, in the order
// endBlock and Read do, that the data ended as the block's sizes say.
func decodeXzBlock(out []byte, size int64, b []byte, compr int64, dict int, check hash.Hash, follows bool) ([]byte, error) {
	have := b[:min(int64(len(b)), compr)]
	data := bytes.NewReader(have)
	chunks := lzma2Chunks{r: data}
	rd, err := lzma.Reader2Config{DictCap: dict}.NewReader2(&chunks)
	if chunks.err != nil {
		return nil, chunks.err
	}
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	out = out[:cap(out)]
	n := 0
	for err == nil && int64(n) <= size {
		if n == len(out) { // less than size+1: grow it
			grown := make([]byte, min(2*int64(n), size+1))
			copy(grown, out)
			out = grown
		}
		var k int
		k, err = rd.Read(out[n:min(int64(len(out)), size+1)])
		n += k
	}
	out = out[:min(n, int(size))]
	if check != nil {
		check.Write(out)
	}
	switch {
	case err == io.EOF:
	case chunks.err != nil:
		return out, chunks.err
	case err == io.ErrUnexpectedEOF:
		if follows || data.Len() > 0 {
			return out, errors.New("xz: LZMA2 data ends inside a chunk")
		}
		return out, io.ErrUnexpectedEOF
	case err != nil:
		return out, err
	}
	if n > int(size) {
		return out, errors.New("xz: block sizes differ from its header's")
	}
	if !rd.EOS() {
		return out, io.ErrUnexpectedEOF
	}
	if !chunks.ended || chunks.n != 0 {
		return out, errors.New("xz: LZMA2 chunk sizes and data disagree")
	}
	if used := int64(len(have) - data.Len()); used != compr || int64(n) != size {
		return out, errors.New("xz: block sizes differ from its header's")
	}
	return out, nil
}

// checkXzTail checks, after a block decompressed without error, its
// padding (pad bytes) and check, which tail holds unless the input ended
// first.
func checkXzTail(err error, tail []byte, pad int64, check hash.Hash) error {
	if err != nil {
		return err
	}
	for i := range pad {
		if i == int64(len(tail)) {
			return io.ErrUnexpectedEOF
		}
		if tail[i] != 0 {
			return errXzPadding
		}
	}
	if check == nil {
		return nil
	}
	got := tail[pad:]
	want := check.Sum(nil)
	if len(got) < len(want) {
		return io.ErrUnexpectedEOF
	}
	if len(want) <= 8 {
		slices.Reverse(want) // a CRC is stored little-endian; Sum is big-endian
	}
	if !bytes.Equal(got, want) {
		return errors.New("xz: block check mismatch")
	}
	return nil
}

// endBlock checks a block whose LZMA2 data has ended: the end marker,
// the declared sizes, the padding and the check.
func (x *xzReader) endBlock() error {
	if !x.block.EOS() {
		return io.ErrUnexpectedEOF
	}
	if !x.chunks.ended || x.chunks.n != 0 {
		return errors.New("xz: LZMA2 chunk sizes and data disagree")
	}
	compressed := x.r.off - x.start
	if x.wantCompr >= 0 && compressed != x.wantCompr || x.wantUncompr >= 0 && x.uncompressed != x.wantUncompr {
		return errors.New("xz: block sizes differ from its header's")
	}
	if err := x.padding(x.hdrLen + compressed); err != nil {
		return err
	}
	if x.checkSize > 0 {
		got := x.scratch[:x.checkSize]
		if _, err := io.ReadFull(x.r, got); err != nil {
			return unexpected(err)
		}
		want := x.check.Sum(x.scratch[32:32])
		if x.checkSize <= 8 {
			slices.Reverse(want) // a CRC is stored little-endian; Sum is big-endian
		}
		if !bytes.Equal(got, want) {
			return errors.New("xz: block check mismatch")
		}
	}
	x.records.add(uint64(x.hdrLen+compressed+int64(x.checkSize)), uint64(x.uncompressed))
	return nil
}

// padding reads the zeros that pad n bytes to a multiple of four.
func (x *xzReader) padding(n int64) error {
	for ; n%4 != 0; n++ {
		c, err := x.readByte()
		if err != nil {
			return unexpected(err)
		}
		if c != 0 {
			return errXzPadding
		}
	}
	return nil
}

// index reads a stream's index (its indicator byte already read) and
// compares it with the blocks read.
func (x *xzReader) index() error {
	start := x.r.off - 1
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	x.indexCRC = crc
	defer func() { x.indexCRC = nil }()
	n, err := x.readVLI()
	if err != nil {
		return err
	}
	if uint64(n) != x.records.n {
		return errors.New("xz: index and blocks differ")
	}
	for range n {
		unpadded, err := x.readVLI()
		if err != nil {
			return err
		}
		uncompressed, err := x.readVLI()
		if err != nil {
			return err
		}
		x.indexRecords.add(uint64(unpadded), uint64(uncompressed))
	}
	if x.indexRecords != x.records {
		return errors.New("xz: index and blocks differ")
	}
	if err := x.padding(x.r.off - start); err != nil {
		return err
	}
	x.indexCRC = nil
	want := crc.Sum32()
	got := x.scratch[:4]
	if _, err := io.ReadFull(x.r, got); err != nil {
		return unexpected(err)
	}
	if binary.LittleEndian.Uint32(got) != want {
		return errors.New("xz: index checksum mismatch")
	}
	x.indexSize = x.r.off - start // the footer's backward size gives it too
	return nil
}

// footer reads a stream's footer and returns nil to go on with the next
// stream, or io.EOF if the input ends after it (and its padding).
func (x *xzReader) footer() error {
	f := x.scratch[:12]
	if _, err := io.ReadFull(x.r, f); err != nil {
		return unexpected(err)
	}
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) {
		return errors.New("xz: stream footer checksum mismatch")
	}
	if !bytes.Equal(f[10:], xzFooterMagic) || f[8] != x.flags[0] || f[9] != x.flags[1] {
		return errors.New("xz: bad stream footer")
	}
	if (int64(binary.LittleEndian.Uint32(f[4:]))+1)*4 != x.indexSize {
		return errors.New("xz: stream footer and index differ")
	}
	x.streamStarted = false
	return x.streamHeader()
}

// readByte reads a byte of the index or of padding, adding it to the
// index's CRC while one is being read.
func (x *xzReader) readByte() (byte, error) {
	c, err := x.r.ReadByte()
	if err == nil && x.indexCRC != nil {
		x.indexCRC.Write([]byte{c})
	}
	return c, err
}

// readVLI reads a variable-length integer of the xz format.
func (x *xzReader) readVLI() (int64, error) {
	var b [9]byte
	for i := range b {
		c, err := x.readByte()
		if err != nil {
			return 0, unexpected(err)
		}
		b[i] = c
		if c&0x80 == 0 {
			v, _, err := vli(b[:i+1])
			return v, err
		}
	}
	return 0, errXzInteger
}

// vli decodes a variable-length integer at the start of b: at most 9
// bytes of 7 bits, the last with its high bit clear and not 0 unless
// alone.
func vli(b []byte) (int64, []byte, error) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				break
			}
			return int64(v), b[i+1:], nil
		}
	}
	return 0, nil, errXzInteger
}

// unexpected turns the end of the input inside an xz stream into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// byteReader reads bytes one at a time or more.
type byteReader interface {
	io.Reader
	io.ByteReader
}

// lzma2Chunks passes r's bytes on to Reader2 and follows the LZMA2 chunk
// headers among them: a control byte (0: the end; 1, 2: an uncompressed
// chunk, with its size less one in 2 bytes; 0x80 and up: an LZMA chunk,
// with 5 bits and 2 bytes of its uncompressed size less one, 2 bytes of
// its compressed size less one, and from 0xC0 a properties byte), then
// the chunk's data. It fails at properties with lc+lp > 4, and at
// anything read after the end.
type lzma2Chunks struct {
	r     byteReader
	hdr   [6]byte
	hn    int   // header bytes gathered
	n     int   // data bytes left in the chunk
	ended bool  // the end marker has passed
	err   error // what failed
}

func (c *lzma2Chunks) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	for i := 0; i < n && c.err == nil; {
		if c.n > 0 && c.hn == 0 { // data: skip it whole
			k := min(c.n, n-i)
			c.n -= k
			i += k
			continue
		}
		c.track(p[i])
		i++
	}
	if c.err != nil {
		return n, c.err
	}
	return n, err
}

func (c *lzma2Chunks) ReadByte() (byte, error) {
	if c.err != nil {
		return 0, c.err
	}
	b, err := c.r.ReadByte()
	if err != nil {
		return b, err
	}
	if c.n > 0 && c.hn == 0 {
		c.n--
	} else if c.track(b); c.err != nil {
		return 0, c.err
	}
	return b, nil
}

// track takes in the next header byte.
func (c *lzma2Chunks) track(b byte) {
	if c.ended {
		c.err = errors.New("xz: LZMA2 data after its end")
		return
	}
	c.hdr[c.hn] = b
	c.hn++
	size := chunkHeaderLen(c.hdr[0])
	switch {
	case size == 1:
		c.ended, c.hn = true, 0
		return
	case size == 0:
		c.err = fmt.Errorf("xz: bad LZMA2 chunk %#x", c.hdr[0])
		return
	case c.hn < size:
		return
	}
	c.hn = 0
	c.n, _ = chunkSizes(c.hdr[:size])
	if size == 6 {
		props := int(c.hdr[5])
		if lc, lp := props%9, props/9%5; props >= 9*5*5 || lc+lp > 4 {
			c.err = fmt.Errorf("xz: LZMA2 properties %#x: lc+lp over 4", props)
		}
	}
}

// chunkHeaderLen returns the length of the LZMA2 chunk header that starts
// with control byte ctl: 1 for the end marker, 0 for no valid chunk.
func chunkHeaderLen(ctl byte) int {
	switch {
	case ctl == 0:
		return 1
	case ctl <= 2:
		return 3
	case ctl < 0x80:
		return 0
	case ctl >= 0xc0:
		return 6
	}
	return 5
}

// chunkSizes returns the length of the data after the LZMA2 chunk header
// h (of chunkHeaderLen bytes, more than 1), and how many bytes that data
// decompresses to.
func chunkSizes(h []byte) (data, uncompressed int) {
	if h[0] <= 2 { // stored as it is
		n := int(binary.BigEndian.Uint16(h[1:])) + 1
		return n, n
	}
	return int(binary.BigEndian.Uint16(h[3:])) + 1, int(h[0]&0x1f)<<16 + int(binary.BigEndian.Uint16(h[1:])) + 1
}

// scanChunks adds up the uncompressed sizes of the LZMA2 chunks at the
// start of b, and reports whether their end marker is in b.
func scanChunks(b []byte) (int64, bool) {
	var total int64
	for len(b) > 0 {
		size := chunkHeaderLen(b[0])
		switch {
		case size == 1:
			return total, true
		case size == 0 || len(b) < size:
			return total, false
		}
		data, uncompressed := chunkSizes(b[:size])
		total += int64(uncompressed)
		b = b[min(len(b), size+data):]
	}
	return total, false
}

// limitedBytes reads at most n bytes of c, a byte at a time too.
type limitedBytes struct {
	c *stream
	n int64
}

func (l *limitedBytes) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	n, err := l.c.Read(p[:min(int64(len(p)), l.n)])
	l.n -= int64(n)
	return n, err
}

func (l *limitedBytes) ReadByte() (byte, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	b, err := l.c.ReadByte()
	if err == nil {
		l.n--
	}
	return b, err
}

// unread returns the bytes s has read ahead and not yet handed out,
// after reading some if there are none.
func unread(s *stream) []byte {
	s.peek(1)
	return s.buf[s.start:s.end]
}
