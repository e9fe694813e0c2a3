package capture

import (
	"io"
	"os"
	"runtime"
	"unsafe"

	"github.com/jjflow/jj/internal/prefetch"
)

// Buffer sizes of a stream. Reading 1 MiB at a time makes the system-call
// cost per packet negligible. A stream starts at bufMin so that opening a
// directory of tiny files (or fuzzing) stays cheap, and it doubles up to
// bufMax each time the input fills it. It grows beyond bufMax only to hold
// one record or block that is larger, which the format readers bound by
// maxBlockLen before they ask.
const (
	bufMin = 64 << 10
	bufMax = 1 << 20
)

// maxEmptyReads is how many (0, nil) reads in a row mean that the source is
// stuck, as in bufio.
const maxEmptyReads = 100

// stream is a buffered input that hands out slices of its own buffer, so
// that the format readers parse records in place without copying them again.
// A slice returned by peek is valid until the next peek, Read or ReadByte.
type stream struct {
	r     io.Reader
	buf   []byte // len(buf) is the buffer size in use
	start int    // first unconsumed byte of buf
	end   int    // end of the buffered bytes
	off   int64  // input offset of buf[start]
	total int64  // bytes read from r so far
	err   error  // sticky error of r; io.EOF at the end of the input

	mapped    bool          // buf is a memory-mapped file, never refilled
	file      *os.File      // with mapped, the file (openMapped), or nil
	released  int           // bytes at the start of buf returned to the kernel
	hold      int           // with held, no byte of buf from hold on is released (Holder)
	held      bool          // Hold set hold, and did not lift it
	populated int           // end of the part of buf mapped ahead (populate)
	noTouch   bool          // the pager maps pages ahead without reading them (touch)
	hugeReads bool          // advised to read huge folios (readsHuge): no willNeed; the pager clears it if they do not map (mappedHuge)
	ahead     int           // end of the part of buf prefetched (prefetch.Range)
	pager     chan pageOp   // to the goroutine that maps and releases pages
	pagerDone chan struct{} // closed when it has ended

	ring   *ring       // reads the file ahead (newRingStream), or nil
	inRing bool        // buf is one of ring's buffers, to give back when done
	at     io.ReaderAt // with ring, the file, read from its start (fileStream): gzip's tasks read it too (gzipSource)
}

// The record walk is a chain of dependent loads: each record's length says
// where the next one starts, so on its own every record waits for its own
// cache miss, and every new page for a page fault. discard therefore maps
// the pages 16 MiB at a time ahead of the walk (populate), prefetches
// every line of the mapping aheadBytes ahead of the walk, aheadBlock bytes
// a call (prefetch.Range), and prefetches the first lines of the next
// record (its header and the frame headers that decoding reads: nextLines)
// as soon as it knows where that record starts, a record's worth of work
// before they are read.
//
// Which of the two prefetches pays depends on the processor
// (bench/RESULTS.md). On the AMD EPYC host of sessions 12 to 21 the next
// record's lines were enough, and every line 16 KiB ahead into the
// second-level cache only cost time (session 17, flow_meta on the
// 2.5 M-packet tile, fastest / median of ten interleaved rounds, one
// worker: 0.70 / 0.71 s with the next record's lines, 0.72 / 0.73 s with
// both); on the Intel host, lines 512 B to 8 KiB ahead changed nothing
// (session 22). On the AMD EPYC (Zen 5) host of session 23, with the next
// record's lines alone, the record header's load took 28 % of a run on
// the synthetic capture. Every line 4 KiB ahead as well, into every
// level, four interleaved rounds (the machine slowing from round to
// round), fastest-slowest: one worker, synthetic 1.80-1.98 → 1.50-1.76 s
// (11-17 % less in each round), tile 1.04-1.24 → 0.98-1.22 s; two
// workers, tile 0.88-1.08 → 0.82-1.05 s.
const (
	nextLines     = 112  // the next record's bytes prefetched: its first 3 lines at most
	aheadBytes    = 4096 // how far ahead of the walk every line is prefetched
	aheadBlock    = 1024 // bytes prefetched a call
	populateEvery = 16 << 20
)

func newStream(r io.Reader) *stream {
	return &stream{r: r}
}

// newRingStream serves a regular file of size bytes read ahead by a ring:
// peek returns slices of the ring's buffers.
func newRingStream(r io.Reader, size int64) *stream {
	return &stream{ring: newRing(r, nil, ringRoom, ringReadFor(size), ringBufs)} // fill reads the ring, not r
}

// ringReadFor returns the bytes a ring reads into each of its buffers for
// a file of size bytes: a 256th of the file, in whole 64 KiB, from 64 KiB
// up to ringRead from 256 MiB on. Every page of a buffer is fresh memory
// the first time the ring fills it, and on this project's virtual machine
// a fresh page costs 11-18 µs: the four buffers of 1 MiB cost more than
// the ring saves on a file of tens of megabytes. One worker read a
// capture of 20 MB in 70 ms through them against 56 with session 52's
// buffer of its own (medians of twelve rounds), and 50 through buffers
// of 128 KiB against 57 (ten rounds); one of 60 MB in 96 ms through them,
// 80 through 256 KiB and 76 with its own buffer, a directory of six such
// in 226, 183 and 190 ms (ten and eight rounds, bench/RESULTS.md, session
// 54). A larger file takes the buffers whose size was measured on one of
// gigabytes.
func ringReadFor(size int64) int {
	const step = 64 << 10
	n := (size/256 + step - 1) / step * step
	return int(min(max(n, step), ringRead))
}

// newMappedStream serves a memory-mapped file: peek returns slices of the
// mapping itself.
func newMappedStream(data []byte) *stream {
	return &stream{buf: data, end: len(data), total: int64(len(data)), err: io.EOF, mapped: true}
}

// releaseEvery is how many consumed bytes of a mapping are returned to the
// kernel at a time. The mapped pages of the file count in the process's
// resident set until then: at 64 MiB, flow_meta on the 2.5 M-packet tile
// peaked at 107 MB with one worker, at 16 MiB at 58 MB, in the same time
// (bench/RESULTS.md, session 15).
const releaseEvery = 16 << 20

// diskAhead is how far past the populated part of a mapping the pager has
// the kernel read the file ahead, unless the mapping reads huge folios
// (hugeReads).
const diskAhead = 64 << 20

// hugePage is the size of a huge page (x86-64, and arm64 with 4 KiB
// pages): released ranges are aligned to it, and mapCostly's windows.
const hugePage = 2 << 20

// consumed returns how many bytes of the input have been parsed: for a
// mapping, the bytes before the current record; otherwise the bytes read.
func (s *stream) consumed() int64 {
	if s.mapped {
		return s.off
	}
	return s.total
}

// peek returns the next n bytes without consuming them. When the input ends
// or fails first, it returns the bytes it has and the error: io.EOF at the
// end of the input, else the error of the underlying reader.
func (s *stream) peek(n int) ([]byte, error) {
	if b := s.buffered(n); b != nil {
		return b, nil
	}
	return s.fill(n)
}

// fill reads until n bytes are buffered or the input ends.
func (s *stream) fill(n int) ([]byte, error) {
	if s.ring != nil {
		return s.fillRing(n)
	}
	if s.start+n > len(s.buf) && s.err == nil {
		// Not enough room after start: move the unread bytes to the front,
		// growing the buffer if it is still small or n does not fit.
		size := len(s.buf)
		switch {
		case size == 0:
			size = bufMin
		case size < bufMax:
			size *= 2
		}
		if size < n {
			size = max(n, 2*len(s.buf)) // geometric, for a look-ahead that grows
		}
		if size != len(s.buf) {
			buf := make([]byte, size)
			copy(buf, s.buf[s.start:s.end])
			s.buf = buf
		} else {
			copy(s.buf, s.buf[s.start:s.end])
		}
		s.end -= s.start
		s.start = 0
	}
	for empty := 0; s.end-s.start < n && s.err == nil; {
		m, err := s.r.Read(s.buf[s.end:])
		if m < 0 || m > len(s.buf)-s.end {
			// A reader that breaks the io.Reader contract must not
			// make us slice out of bounds.
			s.err = io.ErrShortBuffer
			break
		}
		s.end += m
		s.total += int64(m)
		switch {
		case err != nil:
			s.err = err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				s.err = io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	if s.end-s.start >= n {
		return s.buf[s.start : s.start+n], nil
	}
	return s.buf[s.start:s.end], s.err
}

// fillRing is fill for a stream whose file a ring reads ahead: it takes
// the ring's next buffer for its own, with the unread bytes moved into the
// room before the buffer's first byte read, until n bytes are buffered.
// Unread bytes longer than the room (a record of more than 260 KiB that
// straddles two buffers) go with the new ones into a buffer of the
// stream's own, grown as fill grows its buffer.
func (s *stream) fillRing(n int) ([]byte, error) {
	g := s.ring
	for s.end-s.start < n && s.err == nil {
		if g.closed {
			s.err = os.ErrClosed
			break
		}
		c := <-g.full
		tail := s.end - s.start
		data := c.b[g.room:]
		if tail <= g.room {
			copy(c.b[g.room-tail:], s.buf[s.start:s.end])
			s.giveBack()
			s.buf, s.inRing = c.b, true
			s.start, s.end = g.room-tail, len(c.b)
		} else {
			need := tail + len(data)
			buf := s.buf
			if s.inRing || cap(buf) < need {
				buf = make([]byte, max(need, 2*tail))
			}
			buf = buf[:cap(buf)]
			copy(buf, s.buf[s.start:s.end])
			copy(buf[tail:], data)
			s.giveBack()
			g.free <- c.b[:cap(c.b)] // never blocks: the ring's buffers fit
			s.buf = buf
			s.start, s.end = 0, need
		}
		s.ahead = s.start // discard's prefetching starts again in the new buffer
		s.total += int64(len(data))
		s.err = c.err
	}
	if s.end-s.start >= n {
		return s.buf[s.start : s.start+n], nil
	}
	return s.buf[s.start:s.end], s.err
}

// giveBack returns buf to the ring if it is one of the ring's buffers.
func (s *stream) giveBack() {
	if s.inRing {
		s.ring.free <- s.buf[:cap(s.buf)] // never blocks: the ring's buffers fit
		s.inRing = false
	}
}

// buffered returns the next n bytes, as peek would, when they are already
// in buf (always, for a mapping, until its end), and nil otherwise. Unlike
// peek it is inlined: the fast path of the readers' Next.
func (s *stream) buffered(n int) []byte {
	if s.end-s.start >= n {
		return s.buf[s.start : s.start+n]
	}
	return nil
}

// discard consumes n bytes, which the caller has peeked.
func (s *stream) discard(n int) {
	s.start += n
	s.off += int64(n)
	if s.mapped {
		if s.start+populateEvery/2 >= s.populated && s.populated < len(s.buf) {
			end := min(s.populated+populateEvery, len(s.buf))
			s.page(pageOp{populate: true, touch: !s.noTouch, start: s.populated, end: end})
			s.populated = end
		}
	} else if s.ring == nil {
		return
	}
	// Prefetch ahead of the walk in the mapping or the ring's buffer, up
	// to the bytes it holds (all of a mapping's), here rather than in a
	// call: discard is inlined into the readers' Next.
	s.ahead = max(s.ahead, s.start) // past a record longer than aheadBytes
	for s.ahead <= s.start+aheadBytes-aheadBlock && s.ahead < s.end {
		end := min(s.ahead+aheadBlock, s.end)
		prefetch.Range(unsafe.Pointer(&s.buf[s.ahead]), end-s.ahead)
		s.ahead = end
	}
	if s.start+nextLines < s.end {
		next := unsafe.Pointer(&s.buf[s.start])
		prefetch.Lines3(next, unsafe.Add(next, nextLines/2), unsafe.Add(next, nextLines))
	}
	if !s.mapped {
		return
	}
	lim := s.start
	if s.held {
		lim = min(lim, s.hold)
	}
	if lim-s.released >= releaseEvery {
		// The pages before the current position can go, or before the
		// bytes held (Holder): a slice of an earlier record that is
		// still read (Stable) would fault its page in again from the
		// page cache.
		// At 2 MiB-aligned offsets: a file cached in 2 MiB folios (as
		// after a read from disk by cat, or by jj: hugeReads) is mapped
		// in huge pages where the kernel aligns the mapping, as it does
		// for large file mappings, and is then released in whole ones.
		end := lim &^ (hugePage - 1)
		s.page(pageOp{start: s.released, end: end})
		s.released = end
	}
}

// pageOp asks the pager to map a part of a mapping ahead (populate) or to
// give a consumed part back (release).
type pageOp struct {
	populate   bool
	touch      bool // and read a byte of each page (touch)
	start, end int
}

// page has the pager goroutine do op. Mapping 16 MiB ahead and releasing
// 64 MiB behind were system calls that cost about a fifth of the reading
// goroutine's time when it made them itself (the releases are now of
// 16 MiB, four times as many, of the same pages); the pager makes them on
// another core while the reader goes on. Before each populate it also asks
// the kernel to read the next diskAhead bytes from disk (MADV_WILLNEED),
// which does not wait for them: with a file not in the page cache, the
// disk then works while the reader parses, where populating alone left the
// reader waiting on each window (a run took twice as long or more,
// bench/RESULTS.md, session 3). A mapping marked for huge pages
// (hugeReads) skips that once its first window has mapped as huge pages:
// populate's faults there read ahead in 2 MiB folios, where MADV_WILLNEED
// reads 4 KiB pages, which cost more to map and to read, in this run and
// in every later run of the same file (readsHuge). The pager starts with
// the first request of a mapping larger than one populate window; smaller
// ones are mapped whole when the file is (MAP_POPULATE, mapFile) on Linux,
// and fault their pages in as they are read elsewhere.
func (s *stream) page(op pageOp) {
	if s.pager == nil {
		if len(s.buf) <= populateEvery {
			return
		}
		s.pager = make(chan pageOp, 8)
		s.pagerDone = make(chan struct{})
		go func(buf []byte, ops <-chan pageOp, done chan<- struct{}, huge *bool) {
			defer close(done)
			advised := 0    // end of the part of buf read ahead (willNeed)
			shrunk := false // a touch faulted: the file shrank (fault.go)
			checked := !*huge
			for op := range ops {
				if op.populate {
					if end := min(op.end+diskAhead, len(buf)); end > advised && !*huge {
						testHookWillNeed()
						willNeed(buf[max(advised, op.end):end])
						advised = end
					}
					populate(buf[op.start:op.end])
					if !checked {
						// The advice is taken on any kernel with huge
						// pages, but only Linux 5.18 on reads a file in
						// huge folios for it, and only on filesystems that
						// hold large folios: if the first window did not
						// map as huge pages, read ahead as before.
						checked = true
						*huge = mappedHuge(buf)
					}
					if op.touch && !shrunk {
						shrunk = faulted(buf, func() { touch(buf[op.start:op.end]) })
					}
				} else {
					releaseMapped(buf[op.start:op.end])
				}
			}
		}(s.buf, s.pager, s.pagerDone, &s.hugeReads)
	}
	s.pager <- op
}

// touch reads a byte of every page of b, part of a file mapping, on the
// pager's goroutine, right after populate has mapped them. On the VM
// host of session 23 the first read of each page of a fresh mapping cost
// about 1.1 µs even once populate had mapped it, and again after a few
// seconds unread (something below the guest ages the pages: 0.5 µs after
// 2 s, 0.9 µs after 4 s; anonymous memory 0.03 → 0.1 µs), so that the
// mapped tile streamed at 3.4 GB/s where read(2) copied it at 12 and a
// second pass over the same mapping ran at 13-30. The record walk paid
// that on its own goroutine: about 0.5 s of flow_meta's 1.1 s on the
// real-traffic tile with one worker. Touched here, on another core, the
// pages are warm when the walk comes 8 to 24 MiB later. Where a first
// read costs what any other does, this is a load a page on the pager.
//
// A compressed file's pages are not touched (noTouch): its decompressor
// reads them on a goroutine of its own (readAhead), off the walk, and the
// gzip tasks read them first, ahead of the pager; touching them again took
// 5-10 % more time with two workers on the tile as gzip (the one
// compression measured) (3.38-4.04 s against
// 3.14-3.67 s before touch, three rounds; in three more, not touched
// 3.54-3.57 s, touched 3.58-3.69, before touch 3.53-3.61).
func touch(b []byte) {
	var sum byte
	for i := 0; i < len(b); i += pageSize {
		sum += b[i]
	}
	runtime.KeepAlive(sum) // the loads are the point; keep them
}

var pageSize = os.Getpagesize()

// testHookWillNeed is called by the pager before each willNeed.
var testHookWillNeed = func() {}

// stop ends the pager, after its last request, and a ring: the mapping
// may then be unmapped, the file closed.
func (s *stream) stop() {
	if s.ring != nil {
		s.ring.close()
	}
	if s.pager != nil {
		close(s.pager)
		<-s.pagerDone
		s.pager = nil
	}
}

// Read implements io.Reader, so that a decompressor can read the stream.
func (s *stream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := s.peek(1)
	if len(b) == 0 {
		return 0, err
	}
	n := copy(p, s.buf[s.start:s.end])
	s.discard(n)
	return n, nil
}

// ReadByte implements io.ByteReader, which spares gzip a second buffer.
func (s *stream) ReadByte() (byte, error) {
	b, err := s.peek(1)
	if len(b) == 0 {
		return 0, err
	}
	s.discard(1)
	return b[0], nil
}
