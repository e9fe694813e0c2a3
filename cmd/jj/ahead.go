package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/jjflow/jj/internal/mem"
)

// aheadWriter buffers what it is given and writes it to w on a goroutine
// of its own, so that the goroutine that encodes the rows goes on while
// the kernel copies the last ones into the page cache (or a compressor
// compresses them: w may be one).
//
// Write copies p into the buffer being filled; a full buffer goes to the
// writing goroutine, which hands it back once written. The first error of
// w (a short write, or a panic in w, counts as one) is returned by every
// later Write, Flush and Close, and nothing more is written after it.
// (capture.readAhead is its mirror on the input side: it decompresses a
// capture a few buffers ahead of the reader.)
type aheadWriter struct {
	buf  []byte
	full chan []byte // buffers to write, or nil: a flush, answered on flushed
	free chan []byte // buffers written
	made int         // buffers made so far, up to aheadBuffers

	flushed chan struct{}
	done    chan struct{}
	closed  bool

	err atomic.Pointer[error] // the first error of w
}

// aheadBuffers buffers of aheadSize bytes each, at most: one being
// filled, the others on their way to w.
//
// They are made as the filling side first needs them (send), so that
// while w keeps up, two take turns and the others are never made: each
// buffer's pages are fresh memory, which this project's VM charged about
// 13 µs a 4 KiB page for at first touch, on the goroutine that encodes
// the rows. On the 218 k-packet capture (2.5 MB of CSV), making the four
// at the start took 127 more page faults and 4 ms more CPU time than two
// (bench/RESULTS.md, session 48). Allocated in one call
// (newAheadBuffer), a page still costs 4.5-7.4 µs there.
const (
	aheadBuffers = 4
	aheadSize    = 256 << 10
)

// newAheadWriter starts the goroutine that writes to w. first, if not
// nil, is the goroutine's first call, before it writes anything: its
// error is w's (createOutput's emptying of the output file).
func newAheadWriter(w io.Writer, first func() error) *aheadWriter {
	a := &aheadWriter{
		full:    make(chan []byte, aheadBuffers),
		free:    make(chan []byte, aheadBuffers),
		flushed: make(chan struct{}),
		done:    make(chan struct{}),
		made:    1,
	}
	a.buf = newAheadBuffer()
	go a.run(w, first)
	return a
}

// newAheadBuffer makes an empty buffer of aheadSize bytes with its pages
// allocated in one call (mem.Prefault), not by a page fault at each first
// write on the goroutine that encodes the rows: on this project's VM
// 4.5-7.4 µs a page against 11-15 (bench/RESULTS.md, session 58).
func newAheadBuffer() []byte {
	b := make([]byte, aheadSize)
	mem.Prefault(b)
	return b[:0]
}

// run calls first, then writes the buffers it is sent, in order.
func (a *aheadWriter) run(w io.Writer, first func() error) {
	defer close(a.done)
	if first != nil {
		if err := first(); err != nil {
			a.fail(err)
		}
	}
	for b := range a.full {
		if b == nil {
			a.flushed <- struct{}{}
			continue
		}
		if a.failed() == nil {
			a.write(w, b)
		}
		a.free <- b[:0]
	}
}

// write writes b to w, recording w's error, a short write or a panic in
// w: the goroutine goes on taking buffers, so that Write, Flush and Close
// return the error rather than wait for it forever.
func (a *aheadWriter) write(w io.Writer, b []byte) {
	defer func() {
		if v := recover(); v != nil {
			a.fail(fmt.Errorf("output writer panicked: %v", v))
		}
	}()
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		a.fail(err)
	}
}

func (a *aheadWriter) failed() error {
	if p := a.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (a *aheadWriter) fail(err error) { a.err.CompareAndSwap(nil, &err) }

// Write implements io.Writer.
func (a *aheadWriter) Write(p []byte) (int, error) {
	if err := a.failed(); err != nil {
		return 0, err
	}
	if a.closed {
		return 0, os.ErrClosed
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(a.buf[len(a.buf):cap(a.buf)], p)
		a.buf, p = a.buf[:len(a.buf)+k], p[k:]
		if len(a.buf) == cap(a.buf) {
			a.send()
		}
	}
	return n, nil
}

// send hands the buffer being filled to the writing goroutine and takes a
// written one, or makes a new one while none is written and fewer than
// aheadBuffers exist.
func (a *aheadWriter) send() {
	a.full <- a.buf
	select {
	case a.buf = <-a.free:
		return
	default:
	}
	if a.made < aheadBuffers {
		a.made++
		a.buf = newAheadBuffer()
		return
	}
	a.buf = <-a.free
}

// Flush writes everything given so far and waits until it is written.
func (a *aheadWriter) Flush() error {
	if a.closed {
		return a.failed()
	}
	if len(a.buf) > 0 {
		a.send()
	}
	a.full <- nil
	<-a.flushed
	return a.failed()
}

// Close flushes and stops the writing goroutine; it does not close w.
func (a *aheadWriter) Close() error {
	err := a.Flush()
	if !a.closed {
		a.closed = true
		close(a.full)
		<-a.done
	}
	return err
}
