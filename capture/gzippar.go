package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Decoding a deflate stream on several cores. A gzip member is one deflate
// stream, each block of which may copy from the 32 KiB of output before
// it, so its blocks cannot be decoded apart; but nearly all the work is
// the Huffman decoding, which needs no output at all. When the input is a
// whole file, mapped or read from its start (gzipSource), tasks on other
// goroutines do that part ahead of the reader, as rapidgzip finds its
// blocks, each reading its own part of the file:
//
//   - The file is cut into chunks of gzipChunk compressed bytes. A task
//     takes a chunk, looks in it for the start of a dynamic-Huffman block
//     (a header whose code lengths make valid codes), and decodes from
//     there to the first block boundary at or past the chunk's end, into
//     tokens: runs of literal bytes, and matches (length, distance), not
//     yet copied.
//   - The reader (gzipReader, which decodes in order) looks, at each block
//     boundary it reaches, for a task that started exactly there. Then the
//     task's start was a real block's, and the reader executes its tokens
//     (copies literals and matches into its output, with its own history)
//     and moves its input to the task's end. Before a task's start (a
//     chunk whose first block is stored or fixed) the reader decodes on
//     by itself until it gets there; a task whose start it passes (a
//     false header) is dropped.
//
// So what the reader hands on never depends on a guess, and every error,
// its offset, and the end of the input are the reader's own: if the input
// ends under a task (a file cut after the task read its chunk), the reader
// executes the task's blocks before the cut and decodes on in order from
// there (cut), reading the file again. Tasks stop at anything unusual (an
// invalid code, the input's end, gzipTaskTokens bytes of tokens) and keep
// the blocks they finished. A task looks for its start in the first
// gzipFindSpan bytes of its chunk only, and after a chunk without one
// (stored data), tasks leave out more and more chunks (at).
const (
	gzipChunk      = 4 << 20   // compressed bytes a task starts in
	gzipTaskTokens = 16 << 20  // token bytes a task holds at most: it ends at the last whole block within them
	gzipMinPar     = 8 << 20   // files smaller than this are decoded in order
	gzipFindSpan   = 256 << 10 // bytes a task searches for a block's start
	gzipHeaderMax  = 600       // bytes a dynamic block's header may take, and more (563)
)

// gzipPar hands out the reader's tasks, in file order.
type gzipPar struct {
	src      io.ReaderAt // the whole compressed input, size bytes
	size     int64
	mapping  []byte // src's bytes when it is a file's mapping, else nil (fault.go)
	chunk    int64  // gzipChunk, smaller in tests
	stride   int64  // tasks take every stride-th chunk; the reader decodes the others (newGzipPar)
	next     int64  // where the next task's chunk starts
	tasks    []*gzipTask
	stale    []*gzipTask // passed by the reader, still running
	max      int         // tasks running or waiting for the reader, at most
	free     []*gzipTask // done with, their buffers kept
	skip     int64       // chunks left out after a task that found no block
	skipFrom int64       // tasks from here on were started after the last skip
	jumps    int         // tasks taken (for the tests)
	cuts     [2]int      // tasks the input ended under in their first block, and later (cut, for the tests)
	stop     atomic.Bool
	wg       sync.WaitGroup
}

// gzipTask is one chunk's decoding.
type gzipTask struct {
	lo, hi int64         // the chunk: a block is looked for from byte lo; decoding stops at the first boundary from byte hi
	found  chan struct{} // closed once start is set
	done   chan struct{} // closed once the results are

	// Results, once done is closed.
	start  int64      // bit offset of the first block found; -1: none
	blocks []blockEnd // where each block decoded ended; none: no tokens
	final  bool       // the last block decoded was a member's last
	tok    []byte     // the tokens (tokenWriter), and 8 bytes of padding
	need   int        // bytes of output before start that the matches reach
	z      gzipReader
	head   []byte // the chunk's first bytes, where find looks
	window bytes.Reader
	rest   io.SectionReader
}

// blockEnd is where a task's block ended: its bit offset in the input,
// and the tokens' length and open run there (tokenWriter).
type blockEnd struct {
	bit      int64
	tok, run int
}

// end is the bit offset of the end of the task's last block decoded,
// start if none.
func (t *gzipTask) end() int64 {
	if n := len(t.blocks); n > 0 {
		return t.blocks[n-1].bit
	}
	return t.start
}

// newGzipPar returns a gzipPar for src, a whole file of size bytes (its
// mapping, if mapping is not nil), or nil if it is not worth it (small,
// or one CPU).
//
// With two CPUs, tasks take every other chunk, and the reader decodes the
// others itself. A task and the execution of its tokens cost about 1.4
// times what decoding in order does, and with two CPUs the work is bound
// by CPU time, jj's own work beside it: on the real-traffic tile as gzip,
// two workers took 0.944 of the time of tasks on every chunk (medians of
// ten interleaved rounds, 0.923 of the CPU time), one worker 0.981; tasks
// on every third chunk took 1.081 times the time of every other.
func newGzipPar(src io.ReaderAt, size int64, mapping []byte) *gzipPar {
	n := runtime.GOMAXPROCS(0)
	if n < 2 || size < gzipMinPar {
		return nil
	}
	stride := int64(1)
	if n == 2 {
		stride = 2
	}
	return newGzipParWith(src, size, mapping, gzipChunk, min(n, 8), stride)
}

// newGzipParWith returns a gzipPar with chunks of chunk bytes, of which
// tasks take every stride-th, up to tasks of them started at once.
func newGzipParWith(src io.ReaderAt, size int64, mapping []byte, chunk int64, tasks int, stride int64) *gzipPar {
	return &gzipPar{src: src, size: size, mapping: mapping, chunk: chunk, stride: stride, next: chunk, max: tasks}
}

// gzipSource returns what the tasks of a gzip reader read the input of
// in from (newGzipPar), the whole file from its start, its size and its
// mapping; nil when in reads something else. The tasks read a mapped file
// from the mapping, and one that a ring reads with read(2) (mapCostly:
// its mapped pages cost more than a copy) with pread(2), each its own
// chunk: before session 59 they read only a mapped file, and on this
// project's virtual machine large gzip files were decoded on one core
// (bench/RESULTS.md).
func (in *input) gzipSource() (io.ReaderAt, int64, []byte) {
	switch raw := in.raw; {
	case raw.off != 0: // not read from the file's start
		return nil, 0, nil
	case raw.mapped:
		return bytes.NewReader(raw.buf), int64(len(raw.buf)), raw.buf
	case raw.at != nil: // a ring reads it (fileStream), in.size bytes
		return raw.at, in.size, nil
	}
	return nil, 0, nil
}

// close stops the tasks and waits for them: they read data, which the
// caller unmaps after.
func (p *gzipPar) close() {
	p.stop.Store(true)
	p.wg.Wait()
	for _, t := range append(append(p.tasks, p.stale...), p.free...) {
		t.release()
	}
	p.tasks, p.stale, p.free = nil, nil, nil
}

// at returns the task whose output starts at bit pos, where the reader is
// at a block boundary, or nil. It starts tasks ahead of pos and drops
// those pos has passed. Once pos is in a task's chunk it waits for the
// task's search (at most gzipFindSpan bytes), and then for its decoding
// only if it starts at pos; a task passed while decoding is left to end
// (stale).
func (p *gzipPar) at(pos int64) *gzipTask {
	for i := 0; i < len(p.stale); i++ {
		select {
		case <-p.stale[i].done:
			p.recycle(p.stale[i])
			p.stale = append(p.stale[:i], p.stale[i+1:]...)
			i--
		default:
		}
	}
	for len(p.tasks)+len(p.stale) < p.max && p.next < p.size {
		if p.next*8 <= pos {
			p.next = (pos/8/p.chunk + 1) * p.chunk
			continue
		}
		var t *gzipTask
		if k := len(p.free); k > 0 {
			t, p.free = p.free[k-1], p.free[:k-1]
		} else {
			t = new(gzipTask)
		}
		t.lo, t.hi = p.next, p.next+p.chunk
		t.found, t.done = make(chan struct{}), make(chan struct{})
		p.next += p.stride * p.chunk
		p.tasks = append(p.tasks, t)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer close(t.done)
			if faulted(p.mapping, func() { t.run(p, &p.stop) }) {
				// The file shrank under the task (fault.go): it
				// leaves the reader nothing, so that the reader
				// meets the fault itself, in order.
				select {
				case <-t.found:
					t.blocks, t.tok, t.need = t.blocks[:0], t.tok[:0], 0
				default:
					t.start = -1
					close(t.found)
				}
			}
		}()
	}
	for len(p.tasks) > 0 {
		t := p.tasks[0]
		if pos < t.lo*8 {
			return nil
		}
		<-t.found
		if t.start > pos {
			return nil // the reader decodes on to it
		}
		p.pop()
		if t.start < 0 {
			// No block to start at in the chunk's first gzipFindSpan
			// bytes (stored data, say): leave out 1, 3, 7 ... up to
			// 63 chunks after it, growing only for tasks started
			// since the last such skip.
			if t.lo >= p.skipFrom {
				p.skip = min(2*p.skip+1, 63)
			}
			p.next = max(p.next, t.hi+p.skip*p.chunk)
			p.skipFrom = p.next
		} else {
			p.skip = 0
		}
		if t.start == pos {
			<-t.done
			if len(t.blocks) > 0 {
				return t
			}
		}
		p.stale = append(p.stale, t)
	}
	return nil
}

// pop takes the first task off the list.
func (p *gzipPar) pop() *gzipTask {
	t := p.tasks[0]
	p.tasks = p.tasks[1:]
	return t
}

// recycle keeps a task that is done with for a later chunk.
func (p *gzipPar) recycle(t *gzipTask) {
	p.free = append(p.free, t)
}

// release gives the task's reader's buffers back.
func (t *gzipTask) release() {
	if t.z.bufs != nil {
		t.z.release()
	}
}

// run finds the chunk's first block and decodes to the first block
// boundary at or past hi.
func (t *gzipTask) run(p *gzipPar, stop *atomic.Bool) {
	t.final, t.need = false, 0
	t.blocks = t.blocks[:0]
	if t.z.bufs == nil {
		b := gzipPool.Get().(*gzipBufs)
		t.z = gzipReader{bufs: b, in: &b.in}
	}
	z := &t.z
	start := t.find(p, stop)
	t.start = start
	close(t.found)
	if start < 0 {
		return
	}
	t.rest = *io.NewSectionReader(p.src, start>>3, p.size-start>>3)
	if !t.reset(&t.rest, start) {
		return // no tokens: the reader meets the cut itself
	}
	var w tokenWriter
	w.open(t.tok)
	good := w // the tokens at the end of the last whole block
	for !stop.Load() && len(w.tok) < gzipTaskTokens && z.bitPos() < t.hi*8 {
		if z.block() != nil {
			break
		}
		ok := true
		switch z.state {
		case gzStored:
			ok = t.stored(&w)
		case gzHuffman:
			ok = t.huffman(&w)
		}
		if !ok {
			break
		}
		good = w
		t.blocks = append(t.blocks, blockEnd{bit: z.bitPos(), tok: len(w.tok), run: w.run})
		if z.final {
			t.final = true
			break
		}
	}
	t.tok = good.close()
	t.need = good.need
}

// tokenWriter writes a task's tokens: a byte h < 128 is a run of h literal
// bytes, which follow; h ≥ 128 a match of length 3 + h-128 (3 + 127 + the
// next byte if h is 255) at the distance 1 + the next two bytes (little
// endian). A run's header is written when the run ends.
type tokenWriter struct {
	tok  []byte
	run  int // the open run's header; its literals follow, to the end of tok
	n    int // bytes of output before the open run
	need int // bytes of output before the first that matches reach
}

// open starts the tokens in tok, with an empty run.
func (w *tokenWriter) open(tok []byte) {
	w.tok = append(tok[:0], 0)
	w.run, w.n, w.need = 0, 0, 0
}

// close ends the open run and returns the tokens and 8 bytes of padding
// (the reader copies literals 8 bytes at a time).
func (w *tokenWriter) close() []byte {
	w.tok[w.run] = byte(len(w.tok) - w.run - 1)
	return append(w.tok, make([]byte, 8)...)
}

// reset points the task's reader at bit pos of the input, at a block
// header, to read from src, which starts at byte pos>>3; false if src
// holds no byte (a file read with pread(2) that shrank after find read
// its start).
func (t *gzipTask) reset(src io.Reader, pos int64) bool {
	t.z.state = gzBlock
	t.z.final = false
	return t.z.seek(src, pos)
}

// seek has z read its input from src, which starts at byte pos>>3, from
// bit pos on; false if src holds no byte (the input's end or error is
// then z's, truncated).
func (z *gzipReader) seek(src io.Reader, pos int64) bool {
	z.src = src
	z.ip, z.iend, z.inBase = 0, 0, pos>>3
	z.srcEOF, z.srcErr = false, nil
	z.bb, z.bl = 0, 0
	if !z.need(uint(pos & 7)) {
		return false
	}
	z.bits(uint(pos & 7))
	return true
}

// find returns the bit offset of the first header in the first
// gzipFindSpan bytes of [lo, hi) of a
// dynamic block that is not a member's last, whose code-length code is
// complete (as encoders make it) and whose code lengths build valid codes
// with an end-of-block code; or -1. It reads those bytes, and the longest
// header after them, into head.
func (t *gzipTask) find(p *gzipPar, stop *atomic.Bool) int64 {
	z := &t.z
	span := min(p.chunk, gzipFindSpan) + gzipHeaderMax + 16
	if int64(cap(t.head)) < span {
		t.head = make([]byte, span)
	}
	n, _ := p.src.ReadAt(t.head[:span], t.lo) // an error ends the bytes read
	data := t.head[:n]                        // the input from byte t.lo
	end := min(t.hi, t.lo+gzipFindSpan, t.lo+int64(n)-16)
	for off := t.lo; off < end; off++ {
		if off&0xffff == 0 && stop.Load() {
			return -1
		}
		w := binary.LittleEndian.Uint64(data[off-t.lo:])
		for bit := range int64(8) {
			v := w >> bit
			// Not final, dynamic; at most 286 and 30 codes.
			if v&7 != 4 || v>>3&31 > 29 || v>>8&31 > 29 {
				continue
			}
			if !precodeComplete(data, (off-t.lo)*8+bit+17, int(v>>13&15)+4) {
				continue
			}
			// The whole header, from a short reader: a header is at
			// most 563 bytes.
			pos := off*8 + bit
			t.window.Reset(data[off-t.lo : min(int64(n), off-t.lo+gzipHeaderMax)])
			if t.reset(&t.window, pos) && z.block() == nil && z.state == gzHuffman && z.lens[256] != 0 {
				return pos
			}
		}
	}
	return -1
}

// precodeComplete reports whether the n 3-bit code length code lengths
// at bit pos of data make a complete code (RFC 1951, 3.2.7), as those of
// an encoder's block header do.
func precodeComplete(data []byte, pos int64, n int) bool {
	// n ≤ 19 lengths: 57 bits, all in one load shifted by up to 7.
	w := binary.LittleEndian.Uint64(data[pos>>3:]) >> (pos & 7)
	sum := 0
	for i := range n {
		if l := w >> (3 * i) & 7; l > 0 {
			sum += 128 >> l
		}
	}
	return sum == 128
}

// stored writes a stored block's bytes as literals.
func (t *gzipTask) stored(w *tokenWriter) bool {
	z := &t.z
	for z.stored > 0 {
		if z.ip == z.iend && !z.fill() {
			return false
		}
		for _, c := range z.in[z.ip:min(z.iend, z.ip+z.stored)] {
			if len(w.tok)-w.run-1 == 127 {
				w.tok[w.run] = 127
				w.n += 127
				w.run = len(w.tok)
				w.tok = append(w.tok, 0)
			}
			w.tok = append(w.tok, c)
			z.ip++
			z.stored--
		}
	}
	z.endBlock()
	return true
}

// huffman decodes a Huffman block into tokens and reports whether it got
// to the block's end. Its loop is huffman's fast loop, writing tokens
// instead of output; it ends the task near the end of the input.
func (t *gzipTask) huffman(w *tokenWriter) bool {
	z := &t.z
	in := z.in
	ip, bb, bl := z.ip, z.bb, z.bl
	ll, dt := z.ll, z.dist
	tok := w.tok[:cap(w.tok)]
	op := len(w.tok)
	run, n, need := w.run, w.n, w.need // the run's length is op-run-1
	ok := false
	var e uint32
	have := false // e is the next symbol's entry
	for {
		if op+16 > len(tok) {
			if len(tok) >= gzipTaskTokens {
				break // the task ends at its last whole block
			}
			size := min(max(2*len(tok), 1<<16), gzipTaskTokens)
			tok = slices.Grow(tok[:op], size-op)[:size]
		}
		if ip > z.iend-8 {
			z.ip = ip
			z.fill()
			if ip = z.ip; ip > z.iend-8 {
				break // the end of the input
			}
		}
		if op-run > 127-3 {
			// Room for three more literals in the open run, or a new
			// run.
			tok[run] = byte(op - run - 1)
			n += op - run - 1
			run = op
			op++
		}
		// At least 11 bits were in the buffer for a preloaded e (19
		// after literals); the refill adds bits above them.
		bb |= binary.LittleEndian.Uint64(in[ip:ip+8]) << (bl & 63)
		ip += int((63 - bl) >> 3)
		bl |= 56
		if !have {
			e = ll[bb&(1<<llBits-1)]
		}
		have = true
		if e&entSub != 0 {
			bb >>= llBits
			bl -= llBits
			e = ll[e>>16+uint32(bb)&(1<<(e>>8&15)-1)]
		}
		bb >>= e & 63
		bl -= uint(e & 0xff)
		if e&entLit != 0 {
			// Up to three literals, as in huffman; the run's length is
			// op-run-1.
			tok[op] = byte(e >> 16)
			op++
			e = ll[bb&(1<<llBits-1)]
			if e&(entLit|entSub) != entLit {
				continue
			}
			bb >>= e & 63
			bl -= uint(e & 0xff)
			tok[op] = byte(e >> 16)
			op++
			e = ll[bb&(1<<llBits-1)]
			if e&(entLit|entSub) != entLit {
				continue
			}
			bb >>= e & 63
			bl -= uint(e & 0xff)
			tok[op] = byte(e >> 16)
			op++
			e = ll[bb&(1<<llBits-1)] // 19 bits left at least
			continue
		}
		have = false
		if e&(entEnd|entInvalid) != 0 {
			if e&entInvalid == 0 {
				z.endBlock()
				ok = true
			}
			break
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
			break
		}
		x = d >> 8 & 15
		dist := int(d>>16) + int(bb&(1<<x-1))
		bb >>= x & 63
		bl -= uint(x)
		tok[run] = byte(op - run - 1)
		n += op - run - 1
		if dist > n {
			need = max(need, dist-n)
		}
		if l := length - 3; l < 127 {
			tok[op] = byte(0x80 | l)
			op++
		} else {
			tok[op] = 0xff
			tok[op+1] = byte(l - 127)
			op += 2
		}
		binary.LittleEndian.PutUint16(tok[op:], uint16(dist-1))
		run = op + 2
		op += 3
		n += length
	}
	z.ip, z.bb, z.bl = ip, bb, bl
	w.tok = tok[:op]
	w.run, w.n, w.need = run, n, need
	return ok
}

// bitPos is the bit offset in the input of the next bit to decode.
func (z *gzipReader) bitPos() int64 {
	return (z.inBase+int64(z.ip))*8 - int64(z.bl)
}

// jump, at a block boundary, takes the task that starts there, if any,
// whose tokens the reader then executes (tokens), and moves the input to
// the task's end, block by block: if the input ends under one, cut. It
// reports whether it set the reader's state (tokens to execute, or an
// error); false: the reader decodes the next block itself.
func (z *gzipReader) jump() bool {
	pos := z.bitPos()
	t := z.par.at(pos)
	if t == nil {
		return false
	}
	if t.need > z.op-z.hist {
		// A match reaches before the member's start: the reader
		// decodes, and finds the error.
		z.par.recycle(t)
		return false
	}
	from := pos
	for i, b := range t.blocks {
		if !z.skip(b.bit - from) {
			return z.cut(t, i, from)
		}
		from = b.bit
	}
	z.par.jumps++
	z.task, z.tp = t, 0
	z.final = t.final
	z.state = gzTokens
	return true
}

// cut, the input having ended under task t in its block i, which starts
// at bit from (a file cut, or failing, after the task read past that
// point with pread(2); a mapped file faults instead, fault.go), readies
// the task's tokens of the blocks before i for tokens, and has the reader
// decode from block i's start on in order, reading the bytes the input
// gave again with pread(2), then meeting the input's own end or error
// (cutSource): so the reader hands on what decoding in order would have.
// It reports true when the reader goes on from the state cut set (those
// tokens, or an error), false when the reader decodes block i at once.
func (z *gzipReader) cut(t *gzipTask, i int, from int64) bool {
	z.par.cuts[min(i, 1)]++
	end := z.inBase + int64(z.iend) // the input's bytes
	if !z.seek(&cutSource{io.NewSectionReader(z.par.src, from>>3, end-from>>3), z.srcErr}, from) {
		z.par.recycle(t)
		z.err = z.truncated()
		return true
	}
	if i == 0 {
		z.par.recycle(t)
		return false
	}
	// The tokens to block i-1's end, its open run closed there; the 8
	// bytes after them, whatever they hold, are the padding (close).
	z.par.jumps++
	b := t.blocks[i-1]
	t.tok[b.run] = byte(b.tok - b.run - 1)
	t.tok = t.tok[:b.tok+8]
	z.task, z.tp = t, 0
	z.final = false
	z.state = gzTokens
	return true
}

// cutSource is the input of a reader after cut: bytes read again, then
// the error the input had ended with, if it was not io.EOF.
type cutSource struct {
	r   *io.SectionReader
	err error // nil: io.EOF
}

func (c *cutSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF && c.err != nil {
		if n > 0 {
			return n, nil
		}
		return 0, c.err
	}
	return n, err
}

// tokens executes the task's tokens into the output, until their end or
// the output is past gzipLimit.
func (z *gzipReader) tokens() {
	tok := z.task.tok
	end := len(tok) - 8
	out := z.out
	p, op := z.tp, z.op
	for op <= gzipLimit && p < end {
		h := int(tok[p])
		p++
		if h < 128 {
			// Literals, 8 bytes at a time: tok has 8 bytes of room
			// at its end, out 512 past gzipLimit.
			for i := 0; i < h; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], binary.LittleEndian.Uint64(tok[p+i:]))
			}
			op += h
			p += h
			continue
		}
		length := h - 128 + 3
		if h == 255 {
			length += int(tok[p])
			p++
		}
		dist := int(binary.LittleEndian.Uint16(tok[p:])) + 1
		p += 2
		op = copyMatch(out, op, dist, length)
	}
	z.tp, z.op = p, op
	if p >= end {
		z.par.recycle(z.task)
		z.task = nil
		z.endBlock()
	}
}

// skip drops n bits of input.
func (z *gzipReader) skip(n int64) bool {
	if n <= int64(z.bl) {
		z.bits(uint(n))
		return true
	}
	n -= int64(z.bl)
	z.bb, z.bl = 0, 0
	for n >= 8 {
		if z.ip == z.iend && !z.fill() {
			return false
		}
		k := min(int64(z.iend-z.ip), n>>3)
		z.ip += int(k)
		n -= k * 8
	}
	if !z.need(uint(n)) {
		return false
	}
	z.bits(uint(n))
	return true
}
