package capture

import "io"

// readAhead reads r in a goroutine of its own, up to a few buffers ahead
// of the caller, so that decompressing a compressed stream, the slowest
// stage, overlaps parsing its records. Read returns the bytes in order,
// then r's error. Close stops the goroutine and waits for it, after which
// r is no longer used.
type readAhead struct {
	full   chan aheadChunk
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	cur    []byte // unread part of the buffer being consumed
	buf    []byte // the buffer being consumed, to give back
	err    error
}

type aheadChunk struct {
	b   []byte
	err error
}

const (
	aheadBufSize = 1 << 20
	aheadBufs    = 4
)

// newReadAhead starts reading r ahead. mapping is the file mapping that r
// reads in the end, or nil: a memory fault inside it (the file shrank,
// fault.go) ends r with ErrChanged, which the format reader reports at its
// offset in the decompressed bytes.
func newReadAhead(r io.Reader, mapping []byte) *readAhead {
	a := &readAhead{
		full:   make(chan aheadChunk, aheadBufs),
		free:   make(chan []byte, aheadBufs),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range aheadBufs {
		a.free <- make([]byte, aheadBufSize)
	}
	go a.run(r, mapping)
	return a
}

func (a *readAhead) run(r io.Reader, mapping []byte) {
	defer close(a.exited)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.done:
			return
		}
		n, err := fill(r, b, mapping)
		select {
		case a.full <- aheadChunk{b[:n], err}:
		case <-a.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads r into b until b is full or r fails, so that the caller gets
// few large chunks. A memory fault inside mapping ends it with ErrChanged,
// after the bytes read before it.
func fill(r io.Reader, b, mapping []byte) (n int, err error) {
	if faulted(mapping, func() {
		zeros := 0
		for n < len(b) && err == nil {
			var m int
			m, err = r.Read(b[n:])
			n += m
			switch {
			case m > 0:
				zeros = 0
			case err == nil:
				if zeros++; zeros == maxEmptyReads {
					err = io.ErrNoProgress
				}
			}
		}
	}) {
		err = ErrChanged
	}
	return n, err
}

// Read implements io.Reader.
func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)] // never blocks: at most aheadBufs exist
			a.buf = nil
		}
		c := <-a.full
		a.buf, a.cur, a.err = c.b, c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it to end.
func (a *readAhead) Close() {
	close(a.done)
	<-a.exited
}

// ring reads a regular file ahead in a goroutine of its own, into buffers
// that the stream then parses in place (stream.fillRing), for a file read
// with read(2) rather than mapped (mapCostly). The kernel's copy, 16 %
// of one worker's time on the synthetic capture so read, then runs on
// another core, as the pager's page work does for a mapping, and
// no byte is copied twice: each buffer keeps room bytes free at its
// start, where the stream moves the unread end of the previous buffer
// (the start of a record that straddles the two) before parsing on.
type ring struct {
	full   chan aheadChunk // b: a buffer with its room, then the bytes read
	free   chan []byte     // buffers the stream is done with, whole
	done   chan struct{}
	exited chan struct{}
	room   int
	closed bool
}

const (
	ringRoom = 64 << 10 // the longest straddling tail moved without a new buffer
	ringRead = 1 << 20  // bytes read into a buffer
	ringBufs = 4
)

// newRing starts reading r ahead into bufs buffers of room+size bytes.
func newRing(r io.Reader, room, size, bufs int) *ring {
	g := &ring{
		full:   make(chan aheadChunk, bufs),
		free:   make(chan []byte, bufs),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		room:   room,
	}
	for range bufs {
		g.free <- make([]byte, room+size)
	}
	go g.run(r)
	return g
}

func (g *ring) run(r io.Reader) {
	defer close(g.exited)
	for {
		var b []byte
		select {
		case b = <-g.free:
		case <-g.done:
			return
		}
		n, err := fill(r, b[g.room:], nil)
		select {
		case g.full <- aheadChunk{b[:g.room+n], err}:
		case <-g.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// close stops the goroutine and waits for it to end; r is then no longer
// read.
func (g *ring) close() {
	if !g.closed {
		g.closed = true
		close(g.done)
		<-g.exited
	}
}
