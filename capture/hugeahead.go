package capture

import "sync/atomic"

// hugeAhead reads a mapped file ahead of the pager, for a mapping marked
// for huge pages (readsHuge), where the pager asks the kernel for no
// read-ahead of its own (MADV_WILLNEED reads 4 KiB pages). It populates
// the chunks up to diskAhead past the pager's window on a goroutine of its
// own, so that their reads from disk, in huge folios, overlap the walk,
// and gives the pages back as soon as they are mapped, a huge page at a
// time, so that they do not count in the resident set before the walk
// gets there. Chunks already in the page cache, or that the pager has
// reached, are left alone. Without it, populate's faults read only a few
// MiB ahead of the walk, waiting for each read: with the device's
// read-ahead at Linux's usual 128 KiB, the tile from disk took 1.09-1.26 s
// with one worker, against 0.80-0.99 s with hugeAhead and 2.19-2.25 s
// with MADV_WILLNEED (bench/RESULTS.md, session 27).
type hugeAhead struct {
	buf  []byte
	todo chan [2]int  // ranges of buf to read
	at   atomic.Int64 // the end of the pager's window: chunks before it are its own
	done chan struct{}
	vec  []byte // cached's scratch
}

func startHugeAhead(buf []byte) *hugeAhead {
	h := &hugeAhead{buf: buf, todo: make(chan [2]int, 4), done: make(chan struct{})}
	go h.run()
	return h
}

// request asks for buf[start:end] to be read, at the pager's window end
// at; it drops the request if the goroutine is that far behind.
func (h *hugeAhead) request(at, start, end int) {
	h.at.Store(int64(at))
	select {
	case h.todo <- [2]int{start, end}:
	default:
	}
}

// stop ends the goroutine and waits for it: the mapping may then go.
func (h *hugeAhead) stop() {
	close(h.todo)
	<-h.done
}

func (h *hugeAhead) run() {
	defer close(h.done)
	for r := range h.todo {
		for start := r[0]; start < r[1]; start += populateEvery {
			if int64(start) < h.at.Load() {
				continue
			}
			chunk := h.buf[start:min(start+populateEvery, r[1])]
			var ok bool
			if ok, h.vec = cached(chunk, h.vec); ok {
				continue
			}
			// A huge page at a time: mapped, the pages count in the
			// resident set until they are given back.
			for i := 0; i < len(chunk); i += releaseAlign {
				testHookReadAhead()
				part := chunk[i:min(i+releaseAlign, len(chunk))]
				populate(part)
				releaseMapped(part)
			}
		}
	}
}

// testHookReadAhead is called by hugeAhead before each chunk it reads.
var testHookReadAhead = func() {}
