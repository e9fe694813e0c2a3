package capture

import (
	"io"

	"github.com/jjflow/jj/internal/mem"
)

// readAhead reads r in a goroutine of its own, up to a few buffers ahead
// of the caller, so that decompressing a compressed stream, the slowest
// stage, overlaps parsing its records. Read returns the bytes in order,
// then r's error. Close stops the goroutine and waits for it, after which
// r is no longer used.
type readAhead struct {
	g   *ring
	cur []byte // unread part of the buffer being consumed
	buf []byte // the buffer being consumed, to give back
	err error
}

type aheadChunk struct {
	b   []byte
	err error
}

// newReadAhead starts reading r ahead, a decompressor of a file of size
// bytes. mapping is the file mapping that r reads in the end, or nil: a
// memory fault inside it (the file shrank, fault.go) ends r with
// ErrChanged, which the format reader reports at its offset in the
// decompressed bytes. Its buffers are those of a file four times as large
// (ringReadFor), a guess at what the file decompresses to: a capture of
// 20 MB compressed to 1.2 MB took one worker 82 ms with buffers of 64 KiB
// against 94 with 1 MiB as zstd, 76 against 80 as gzip (1.6 MB; medians
// of ten rounds, session 54).
func newReadAhead(r io.Reader, mapping []byte, size int64) *readAhead {
	return &readAhead{g: newRing(r, mapping, 0, ringReadFor(4*size), ringBufs)}
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
			a.g.free <- a.buf[:cap(a.buf)] // never blocks: the ring's buffers fit
			a.buf = nil
		}
		c := <-a.g.full
		a.buf, a.cur, a.err = c.b, c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it to end.
func (a *readAhead) Close() { a.g.close() }

// ring reads r ahead in a goroutine of its own into a few buffers, which
// it hands over in order, each with room bytes free at its start, then the
// bytes read: up to r's end or error, or until it is closed. readAhead
// serves a decompressor's output from one. A stream reading a regular file
// with read(2) rather than mapped (mapCostly) takes its buffers for its
// own and parses them in place (stream.fillRing): the kernel's copy, 16 %
// of one worker's time on the synthetic capture so read, then runs on
// another core, as the pager's page work does for a mapping, and no byte
// is copied twice: the stream moves the unread end of the previous buffer
// (the start of a record that straddles the two) into the room.
type ring struct {
	full   chan aheadChunk // b: a buffer with its room, then the bytes read
	free   chan []byte     // buffers the reader is done with, whole
	done   chan struct{}
	exited chan struct{}
	room   int
	closed bool
}

// ringRoom is the longest start of a straddling record that a stream
// moves into the next buffer rather than into a buffer of its own (which
// then takes the whole next buffer too): a record of 256 KiB, tcpdump's
// default snapshot length, with its header (pcapng's, options and all).
// 64 KiB was just short of the frames of 64 KiB of IP that captures on
// hosts that merge segments (GRO) hold: each that straddled made a fresh
// buffer of about 400 KB: on the 218 k-packet capture (two such records)
// the stream's page faults were 142-228 of some 2 000, and are 54-56
// (bench/RESULTS.md, session 57). Only its last ringRoomWarm bytes are
// allocated with the buffer, and its other pages where a longer tail
// reaches, so that a larger room costs no fresh memory until a record
// needs it.
const ringRoom = 256<<10 + 4<<10

// ringRoomWarm is how much of the end of a ring buffer's room its first
// fill allocates with the buffer: the tails of records of up to a jumbo
// frame's 9 KiB and more.
const ringRoomWarm = 16 << 10

const (
	ringRead = 1 << 20 // bytes read into a buffer
	ringBufs = 4
)

// newRing starts reading r ahead into bufs buffers of room+size bytes.
// mapping is as for newReadAhead.
func newRing(r io.Reader, mapping []byte, room, size, bufs int) *ring {
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
	go g.run(r, mapping)
	return g
}

func (g *ring) run(r io.Reader, mapping []byte) {
	defer close(g.exited)
	fresh := cap(g.free) // the buffers not yet filled: the first taken
	for {
		var b []byte
		select {
		case b = <-g.free:
		case <-g.done:
			return
		}
		if fresh > 0 {
			// Its pages in one call before read(2) writes them, rather
			// than a page fault each in the kernel's copy: on this
			// project's VM 4.5-7.4 µs a page against 11-15 (session 58).
			// Of the room, only the end that the tail of a record of up
			// to about ringRoomWarm bytes straddling two buffers takes
			// (on the reading goroutine): its other pages only a longer
			// record touches.
			fresh--
			mem.Prefault(b[max(g.room-ringRoomWarm, 0):])
		}
		n, err := fill(r, b[g.room:], mapping)
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
