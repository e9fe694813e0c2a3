package flow

import (
	"math"
	"unsafe"

	"github.com/jjflow/jj/internal/prefetch"
)

// Flows wait out their idle timeout in wheels, one for each timeout (open
// flows, and TCP flows closed by FIN or RST): a circular array of buckets
// by time, each a doubly linked list of flows (their links) closed by a
// sentinel. A flow sits in the bucket of a time no later than its
// entry.seen, or in the wheel's earliest bucket (the cursor's, which every
// sweep looks at), so a sweep that ends the flows quiet since before a
// time looks at the buckets up to that time's and at no other: it ends
// the flows of those buckets that are quiet, and moves the others to the
// bucket of their entry.seen. So a packet does not move its flow (a move
// writes the links of two other flows, cold in cache when many are open),
// and a flow still active when a sweep reaches its bucket moves about
// once a timeout. The flows a sweep ends are exactly those a list in
// last-seen order would end; their rows go out in flow.Order whatever
// the order they were found in.
//
// With MaxFlows, the least recently seen flow is ended early, so the
// table keeps each wheel as a single bucket in last-seen order, every
// packet moving its flow to the tail (eager), and a sweep stops at the
// first flow still within its timeout.

// wheelBuckets is a wheel's size: half of it spans the timeout, the rest
// the time between two sweeps.
const wheelBuckets = 4096

type wheel struct {
	shift   uint  // a bucket spans 2^shift ns
	mask    int64 // buckets - 1
	base    int32 // the wheel's first sentinel in Table.sent
	cursor  int64 // the earliest bucket (time >> shift) that may hold flows
	started bool  // cursor is set, by the first flow
}

// newWheel returns a wheel for the given timeout whose sentinels start at
// base; a single bucket when eager.
func newWheel(timeout int64, base int32, eager bool) wheel {
	w := wheel{base: base}
	if eager {
		w.shift = 63
		return w
	}
	w.mask = wheelBuckets - 1
	for w.shift < 62 && int64(wheelBuckets/2)<<w.shift < timeout {
		w.shift++
	}
	return w
}

// bucket returns the bucket for a flow last seen at ts: ts's, within the
// wheel's span (in unsigned arithmetic, as the span may pass the largest
// bucket; only b & mask is used).
func (w *wheel) bucket(ts int64) int64 {
	b := ts >> w.shift
	if !w.started {
		w.cursor, w.started = b, true
	}
	if b <= w.cursor {
		return w.cursor
	}
	return w.cursor + int64(min(uint64(b)-uint64(w.cursor), uint64(w.mask)))
}

// quietBefore returns the time before which a flow last seen is quiet as
// of maxTS, for timeout, and false when none can be (the time is below
// the range of int64). It does not overflow where maxTS - seen would,
// with timestamps more than 2^63 ns apart.
func quietBefore(maxTS, timeout int64) (int64, bool) {
	switch {
	case timeout >= 0 && maxTS < math.MinInt64+timeout:
		return 0, false
	case timeout < 0 && maxTS > math.MaxInt64+timeout:
		return math.MaxInt64, true
	}
	return maxTS - timeout, true
}

// sentinel returns the id of bucket b's sentinel (Table.lk).
func (w *wheel) sentinel(b int64) int32 { return -1 - (w.base + int32(b&w.mask)) }

// lk returns the links of slot i, or of a sentinel (i < 0).
func (t *Table) lk(i int32) *link {
	if i >= 0 {
		return t.links.at(uint32(i))
	}
	return &t.sent[-1-i]
}

// initWheels makes the two wheels, with empty buckets.
func (t *Table) initWheels() {
	eager := t.cfg.MaxFlows > 0
	t.eager = eager
	t.wheels[listOpen] = newWheel(t.cfg.FlowTimeout, 0, eager)
	open := int32(t.wheels[listOpen].mask + 1)
	t.wheels[listClosed] = newWheel(t.cfg.TCPCloseTimeout, open, eager)
	// From the arena (64 KiB, spares.take): a table a file with
	// Config.PerFile, and this was a large allocation of each.
	t.sent = allocSlice[link](t.arena, int(open+int32(t.wheels[listClosed].mask+1)))
	for i := range t.sent {
		id := int32(-1 - i)
		t.sent[i] = link{prev: id, next: id}
	}
}

// link puts a flow at the tail of its bucket in wheel list.
func (t *Table) link(slot uint32, e *entry, list uint8) {
	w := &t.wheels[list]
	e.list = list
	t.insert(slot, w.sentinel(w.bucket(e.seen)))
}

// insert puts slot before the sentinel s, at its list's tail.
func (t *Table) insert(slot uint32, s int32) {
	S := t.lk(s)
	k := t.links.at(slot)
	k.prev, k.next = S.prev, s
	t.lk(S.prev).next = int32(slot)
	S.prev = int32(slot)
}

// unlink takes a flow out of its wheel.
func (t *Table) unlink(slot uint32, e *entry) {
	if e.list == listNone {
		return
	}
	t.detach(slot)
	e.list = listNone
}

// detach takes slot out of its bucket's list.
func (t *Table) detach(slot uint32) {
	k := t.links.at(slot)
	t.lk(k.prev).next = k.next
	t.lk(k.next).prev = k.prev
}

// touch moves a flow to the tail of its (single) bucket after its packet
// at input position idx: eager wheels only.
func (t *Table) touch(slot uint32, e *entry, idx uint64) {
	w := &t.wheels[e.list]
	if s := w.sentinel(w.cursor); t.lk(s).prev != int32(slot) {
		t.detach(slot)
		t.insert(slot, s)
	}
	*t.last.at(slot) = idx
}

// oldest returns the least recently seen flow of an eager wheel, or -1.
func (t *Table) oldest(list uint8) int32 {
	w := &t.wheels[list]
	s := w.sentinel(w.cursor)
	if i := t.lk(s).next; i != s {
		return i
	}
	return -1
}

// sweepWheel ends the flows of wheel list quiet for longer than timeout
// as of t.maxTS: last seen before quietBefore's time.
func (t *Table) sweepWheel(list uint8, timeout int64) {
	w := &t.wheels[list]
	limit, ok := quietBefore(t.maxTS, timeout)
	if !w.started || !ok {
		return
	}
	if t.eager {
		// One bucket in last-seen order.
		s := w.sentinel(w.cursor)
		for i := t.lk(s).next; i != s; {
			if t.slots.at(uint32(i)).seen >= limit {
				break
			}
			next := t.lk(i).next
			t.end(uint32(i))
			i = next
		}
		return
	}
	last := limit >> w.shift // the bucket of the quiet limit
	if last < w.cursor {
		return
	}
	from := w.cursor
	n := w.mask + 1 // buckets to look at: at most a whole turn
	if d := uint64(last) - uint64(from); d < uint64(w.mask) {
		n = int64(d) + 1
	}
	w.cursor = last // where the flows still active go, at the earliest
	for j := int64(0); j < n; j++ {
		s := w.sentinel(from + j)
		end := t.lk(s).prev // the bucket's last flow before this sweep
		if end == s {
			continue
		}
		// The bucket's flows go in runs: their slots first, from the
		// links, then their entries. Each flow's entry, and the index
		// cell of one that ends, is a cache miss when many flows are
		// open; with the run's slots known, they are prefetched ahead
		// of the flow being looked at. The links are misses too, each
		// load waiting for the one before, so the list is walked from
		// both ends at once (forward from its first flow, back from
		// end), two loads in flight rather than one. Ending or moving a
		// flow detaches it alone, writing the next of the flow before it
		// and the prev of the one after: the walk reads only the next of
		// its front flow and the prev of its back flow, which the flows
		// already taken, beyond them, never change.
		f, b := t.lk(s).next, end
		for done := false; !done; {
			var run []uint32
			run, f, b, done = t.listRun(f, b)
			t.sweepRun(run, w, s, limit)
		}
	}
}

// listRun fills t.sweep with the next flows of a bucket's list, taken
// from both ends at once: f and b are the first and last flows not yet
// taken. It returns the run and the ends to go on from, or done once the
// run holds the last of them. It reads only the next of f and the prev
// of b, so ending or moving the flows of a run (sweepRun) before the next
// call leaves the walk sound.
func (t *Table) listRun(f, b int32) (run []uint32, nf, nb int32, done bool) {
	run = t.sweep[:0]
	for len(run)+2 <= len(t.sweep) {
		if f == b {
			return append(run, uint32(f)), f, b, true
		}
		run = append(run, uint32(f), uint32(b))
		nf, nb = t.lk(f).next, t.lk(b).prev
		if nf == b {
			return run, nf, nb, true
		}
		f, b = nf, nb
	}
	return run, f, b, false
}

// sweepRun ends the flows of run, slots of bucket s in list order, quiet
// before limit, and moves the others to the bucket of their entry.seen.
// It prefetches the entries of the run's first 2·prefetch.Ahead flows
// before it starts, then the entry of the flow 2·prefetch.Ahead ahead,
// and the index cell of the one prefetch.Ahead ahead if that one ends.
func (t *Table) sweepRun(run []uint32, w *wheel, s int32, limit int64) {
	for _, slot := range run[:min(len(run), 2*prefetch.Ahead)] {
		t.slots.at(slot).prefetch()
	}
	for n, slot := range run {
		if m := n + 2*prefetch.Ahead; m < len(run) {
			t.slots.at(run[m]).prefetch()
		}
		if m := n + prefetch.Ahead; m < len(run) {
			if e := t.slots.at(run[m]); e.seen < limit {
				x := &t.index
				prefetch.Line(unsafe.Pointer(&x.cells[uint64(hashKey(&e.key))&x.mask]))
			}
		}
		e := t.slots.at(slot)
		if e.seen < limit {
			t.end(slot)
		} else if to := w.sentinel(w.bucket(e.seen)); to != s {
			t.detach(slot)
			t.insert(slot, to)
		}
	}
}

// endAll queues every flow of the wheels, which it empties. Every flow of
// the wheels is in the index, and every slot below slots.n not in a wheel
// is free (listNone), so where many open flows fill a sixteenth of the
// slots or more (scansSlots) it takes them in slot order, reading the
// entries one after another, a few ahead asked for (scanAhead): walking
// the lists chased a link and missed on an entry a flow. At the end of
// the synthetic benchmark capture (193 000 open flows, two workers) the
// walk took about 17 ms of the table's goroutine, while the merger had
// nothing to encode, and the scan takes about 8, most of it the first
// writes to the pending list's pages; BenchmarkClose 222 → 193 ns a flow
// (medians of four and six runs, the table evicted from the caches
// first). The order flows are queued in does not matter: flush sorts
// them by input position, which no two share. Otherwise (a file of a few
// flows with Config.PerFile, or the few left of a capture that once had
// many) it walks each list from both ends at once, as sweepWheel does
// (listRun), and stops at the bucket of the last one rather than look at
// all 8 192 buckets.
func (t *Table) endAll() {
	left := t.index.Len()
	if t.scansSlots() {
		for c, chunk := range t.slots.chunks {
			used := chunk[:min(max(t.slots.n-c<<chunkBits, 0), len(chunk))]
			for i := range used {
				if j := i + scanAhead; j < len(used) {
					used[j].prefetch()
				}
				if e := &used[i]; e.list != listNone {
					e.list = listNone
					t.queue(uint32(c<<chunkBits+i), e)
				}
			}
		}
		for i := range t.sent {
			s := int32(-1 - i)
			t.sent[i] = link{prev: s, next: s}
		}
		return
	}
	for i := 0; left > 0 && i < len(t.sent); i++ {
		s := int32(-1 - i)
		f, b := t.sent[i].next, t.sent[i].prev
		if f == s {
			continue
		}
		for done := false; !done; {
			var run []uint32
			run, f, b, done = t.listRun(f, b)
			for _, slot := range run {
				e := t.slots.at(slot)
				e.list = listNone
				t.queue(slot, e)
			}
			left -= len(run)
		}
		t.sent[i] = link{prev: s, next: s}
	}
}

// scansSlots reports whether endAll takes the open flows in slot order:
// whether there are scanMin of them or more, and they fill a sixteenth of
// the slots or more. Fewer are quickly walked, and a table of a few
// flows, as a small file's with Config.PerFile, then touches the
// sentinels of their buckets alone, not all of them.
func (t *Table) scansSlots() bool {
	n := t.index.Len()
	return n >= scanMin && n >= t.slots.n/16
}

// scanMin is the fewest open flows endAll scans the slots for.
const scanMin = 4096

// scanAhead is how many entries ahead of the one it looks at endAll's
// scan asks for an entry's lines.
const scanAhead = 8
