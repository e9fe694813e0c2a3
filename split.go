package jj

import (
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/filter"
	"github.com/jjflow/jj/flow"
)

// Split reading: one goroutine cannot read a capture faster than about
// 80-110 ns a packet (the record walk, decoding, the flow key), which caps
// jj at 8-12 M packets/s however many workers it has. When the records of
// an input stay valid after the next one is read (capture.Stable: a
// memory-mapped file), the reading goroutine only walks the records and
// hands them out in runs of up to flow.BatchPackets; decoder goroutines
// decode each run, with its flow keys when there are several tables, into
// a packet batch; the reading
// goroutine then takes the decoded runs back in input order and does
// what must be done in order (fragment ports, the newest timestamp so
// far, sweeps) before sending each run to the workers:
//
//	reading goroutine ──► decoder 1 ──┐
//	 (record walk)    ──► decoder 2 ──┤ (in input order)
//	        ▲                         │
//	        └─────────────────────────┘ ──► workers ──► merger
//
// A run ends where a sweep is due, so sweeps fall at the same input
// positions as when one goroutine reads, and the workers see the same
// packets with the same keys (or none, for one table), input positions and timestamps, in the same
// order: the output is the same byte for byte (TestSplitReading).

// Runs hold at most rawBytes of captured data each, and runsPerDec runs
// per decoder are in flight. The capture reader gives its mapping back to
// the kernel 16 MiB at a time behind the walk, but not from the start of
// the oldest run not yet decoded on (capture.Holder): a decoder that read
// bytes already given back would read them right, from the page cache
// again, but fault their pages in again, and those stayed mapped to the
// end (peak RSS 314-329 MB against 80 MB on the 3.3 GB benchmark capture
// with two workers and one decoder, session 24).
const (
	rawBytes    = 1 << 20
	runsPerDec  = 2
	maxDecoders = 64
)

// run is a run of records on its way through a decoder.
type run struct {
	recs  []capture.Record
	first uint64    // input position of recs[0]
	off   int64     // with a Holder, the input's BytesRead before recs[0] was read
	size  int       // captured bytes of recs
	pb    *pktBatch // the decoded packets
	sweep bool      // a sweep is due after the run's records
	frags bool      // some packets are fragments, whose keys are not set
	done  chan struct{}
	skips skips // of the run's records, added to the pass's by retire
	fault error // the file shrank while the run was decoded (capture.Fault)
	minTS int64 // the oldest timestamp of the run's packets
}

// decoders returns how many decoder goroutines split reading uses: n when
// set (Pipeline.Decoders, validated by plan), none when negative, and by
// default one for every 8 CPUs, up to 3, none below 8. On this project's
// 2-CPU machine the reading goroutine and the workers already keep both
// CPUs busy, and decoders only add hand-offs (about 10 % more CPU time;
// with one worker, which runs on the reading goroutine, too);
// from 8 CPUs, a single reading goroutine would leave most of them idle,
// with --features all too. In between, the gain depends on the features,
// the frame sizes and the memory, so it is left to --decoders.
func decoders(n int) int {
	switch {
	case n < 0:
		return 0
	case n > 0:
		return n
	}
	return min(3, runtime.GOMAXPROCS(0)/8)
}

// readSplit is read for a Stable reader, with n decoders.
func (ps *pass) readSplit(r capture.Reader, n int) error {
	if pr, ok := r.(capture.Progress); ok {
		ps.prog = pr
	}
	if b := ps.cur; b != nil {
		// Packets of an earlier input, read by read, come first; a batch
		// it took for records that then made no packet goes back.
		if b.N > 0 {
			ps.send(workMsg{watermark: flow.PacketEvent(b.Idx[b.N-1])})
		} else {
			ps.cur = nil
			ps.free <- b
		}
	}
	// hold keeps the bytes of the runs not yet decoded mapped, from the
	// oldest one's first record on (capture.Holder).
	h, _ := r.(capture.Holder)
	if ps.prog == nil {
		h = nil
	}
	match := ps.pl.match // shared by every decoder
	todo := make(chan *run, runsPerDec*n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			debug.SetPanicOnFault(true) // the goroutine's own: it ends here
			dec := decode.Decoder{Decap: ps.pl.cfg.Decapsulate}
			for rn := range todo {
				testHookDecode(rn.recs)
				rn.decodeMapped(r, &dec, match, len(ps.workers))
				rn.done <- struct{}{}
			}
		}()
	}
	var (
		queue   []*run // runs handed out, in input order
		free    []*run
		cur     *run
		rec     capture.Record
		readErr error
	)
	// hold keeps mapped what a decoder has yet to read: from the oldest
	// run handed out, else from cur's first record, else from the next
	// record on. It is called whenever the first of these changes, before
	// the walk reads on (a record's own Next may release up to it).
	hold := func() {
		switch {
		case h == nil:
		case len(queue) > 0:
			h.Hold(queue[0].off)
		case cur != nil && len(cur.recs) > 0:
			h.Hold(cur.off)
		default:
			h.Hold(ps.prog.BytesRead())
		}
	}
	// At most limit runs wait in the queue, each holding a packet batch,
	// and one more is filled: fewer than the batches there are, so that
	// the workers always have one to give back.
	limit := min(runsPerDec*n+1, ps.batchLimit-2)
	// retire takes back the decoded runs at the head of the queue, waiting
	// for the head while the queue is full, or for every run with wait.
	retire := func(wait bool) {
		for len(queue) > 0 {
			rn := queue[0]
			if wait || len(queue) >= limit {
				<-rn.done
			} else {
				select {
				case <-rn.done:
				default:
					return
				}
			}
			ps.retire(rn)
			queue = queue[1:]
			free = append(free, rn)
		}
		hold()
	}
	next := func() *run {
		var rn *run
		if len(free) > 0 {
			rn, free = free[len(free)-1], free[:len(free)-1]
		} else {
			rn = &run{recs: make([]capture.Record, 0, flow.BatchPackets), done: make(chan struct{}, 1)}
		}
		rn.reset(ps.idx)
		rn.pb = ps.batch()
		return rn
	}
	// hand gives cur to a decoder; sweep: a sweep is due after it.
	hand := func(sweep bool) {
		cur.sweep = sweep
		if len(cur.recs) == 0 && !sweep {
			ps.free <- cur.pb
			free = append(free, cur)
		} else {
			queue = append(queue, cur)
			todo <- cur
		}
		cur = nil
		retire(false)
	}
	cur = next()
	hold()
	walk := func() (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if v := recover(); v != nil {
				if err = capture.Fault(r, v); err == nil {
					panic(v)
				}
			}
		}()
		for {
			// Where the record starts, for a run it may begin: cur's
			// first, or the first after a sweep.
			var at int64
			if h != nil && (len(cur.recs) == 0 || ps.sweepIn == 1) {
				at = ps.prog.BytesRead()
			}
			if err := r.Next(&rec); err != nil {
				if err != io.EOF {
					return err
				}
				return nil
			}
			if ps.sweepIn--; ps.sweepIn == 0 {
				// The sweep comes before this record, as in read.
				ps.sweepIn = flow.SweepPackets
				if len(cur.recs) == 0 {
					cur.off = at // an empty run holds from where the next one starts
				}
				hand(true)
				if ps.merge.failed() != nil || ps.fault != nil || ps.cancelled() {
					return nil
				}
				cur = next()
			}
			if len(cur.recs) == 0 {
				cur.off = at
			}
			cur.recs = append(cur.recs, rec)
			if len(cur.recs) == 1 {
				hold()
			}
			cur.size += len(rec.Data)
			ps.idx++
			if len(cur.recs) == flow.BatchPackets || cur.size >= rawBytes {
				hand(false)
				if ps.fault != nil {
					return nil
				}
				cur = next()
			}
		}
	}
	readErr = walk()
	if cur != nil {
		hand(false)
	}
	retire(true)
	if h != nil {
		h.Hold(-1)
	}
	close(todo)
	wg.Wait()
	if ps.fault != nil {
		readErr, ps.fault = ps.fault, nil // before any later fault of the walk
	}
	return ps.endInput(r, readErr)
}

// testHookDecode is called by a decoder with a run's records before it
// decodes them (TestSplitHoldsRuns).
var testHookDecode = func([]capture.Record) {}

// decodeMapped decodes the run as decode does, on a decoder goroutine
// with debug.SetPanicOnFault set: if r's mapped file shrank under the
// records (capture.Fault), the run ends at the record that faulted, with
// the error in rn.fault.
func (rn *run) decodeMapped(r capture.Reader, dec *decode.Decoder, match *filter.Matcher, shards int) {
	defer func() {
		if v := recover(); v != nil {
			if rn.fault = capture.Fault(r, v); rn.fault == nil {
				panic(v)
			}
		}
	}()
	rn.decode(dec, match, shards)
}

func (rn *run) reset(first uint64) {
	rn.recs = rn.recs[:0]
	rn.first, rn.size = first, 0
	rn.pb, rn.sweep, rn.frags = nil, false, false
	rn.minTS = math.MaxInt64
}

// decode decodes the run's records into rn.pb, as read does, with the
// flow key and shard of every packet but fragments when there are several
// shards (with one, the table keys the packets).
func (rn *run) decode(dec *decode.Decoder, match *filter.Matcher, shards int) {
	b := rn.pb
	seen := int64(-1 << 63) // the run's newest timestamp so far
	for i := range rn.recs {
		rec := &rn.recs[i]
		if match != nil && !match.Match(rec.LinkType, rec.Data) {
			rn.skips.filtered++
			continue
		}
		p := &b.Pkts[b.N]
		b.PrefetchSlot(b.N+flow.WriteAhead, shards)
		p.Timestamp = rec.Timestamp
		if reason := dec.Decode(rec.LinkType, rec.Data, rec.WireLen, p); reason != decode.ReasonOK {
			rn.skips.add(reason, dec, rec.LinkType)
			continue
		}
		b.Idx[b.N] = rn.first + uint64(i)
		seen = max(seen, p.Timestamp)
		rn.minTS = min(rn.minTS, p.Timestamp)
		b.Seen[b.N] = seen
		if p.Flags&decode.FlagFragment != 0 {
			rn.frags = true
		} else {
			b.SetKey(b.N, shards)
		}
		b.N++
	}
}

// retire does, in input order, what read does after decoding: fragment
// ports, the newest timestamp so far, the counts; then it sends the run's
// packets to the workers, with the sweep due after them.
func (ps *pass) retire(rn *run) {
	b := rn.pb
	if rn.frags {
		for i := range b.N {
			if p := &b.Pkts[i]; p.Flags&decode.FlagFragment != 0 {
				ps.defrag.Fix(p)
				b.SetKey(i, len(ps.workers))
			}
		}
	}
	// The decoder set the newest timestamp of the run so far; the input's
	// newest so far is the larger of that and the input's before the run,
	// which is the run's own from its first packet as new (in a capture in
	// time order, the first).
	for i := range b.N {
		if b.Seen[i] >= ps.maxTS {
			break
		}
		b.Seen[i] = ps.maxTS
	}
	if b.N > 0 {
		ps.maxTS = max(ps.maxTS, b.Seen[b.N-1])
	}
	// Late packets counted as read counts them (Seen[i] is at least the
	// packet's own timestamp), by a pass over the packets, which the
	// decoder wrote on another core, only if one is older than the last
	// sweep's time.
	for i := 0; rn.minTS < ps.sweptTS && i < b.N; i++ {
		ts := b.Pkts[i].Timestamp
		if d := uint64(b.Seen[i]) - uint64(ts); d > ps.lateAfter && ts < ps.sweptTS {
			ps.lateSeen(d)
		}
	}
	if rn.fault != nil {
		// The records from the one that faulted on were not read; no
		// later run is handed out, and those handed out fault too or
		// come after the fault.
		ps.lost += uint64(len(rn.recs)) - uint64(b.N) - rn.skips.total()
		if ps.fault == nil {
			ps.fault = rn.fault
		}
		rn.fault = nil
	}
	ps.sum.Used += uint64(b.N)
	ps.skips.addAll(&rn.skips)
	ps.cur = b
	switch {
	case rn.sweep:
		// Sends the packets with the sweep, due before the next record.
		ps.marker(false, rn.first+uint64(len(rn.recs)))
	case b.N > 0:
		ps.send(workMsg{watermark: flow.PacketEvent(b.Idx[b.N-1])})
	}
	if ps.cur != nil { // no packet: the batch goes back
		ps.cur = nil
		ps.free <- b
	}
}
