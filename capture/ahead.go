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

func newReadAhead(r io.Reader) *readAhead {
	a := &readAhead{
		full:   make(chan aheadChunk, aheadBufs),
		free:   make(chan []byte, aheadBufs),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range aheadBufs {
		a.free <- make([]byte, aheadBufSize)
	}
	go a.run(r)
	return a
}

func (a *readAhead) run(r io.Reader) {
	defer close(a.exited)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.done:
			return
		}
		// Fill the buffer, so that the caller gets few large chunks.
		n, zeros := 0, 0
		var err error
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
