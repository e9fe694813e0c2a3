package extract

import (
	"math/bits"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// TestSharedLog checks that timing and size built together, sharing one
// packet log, emit exactly the rows they emit built alone: over flows
// interleaved in a few slots, slots reused after Emit and restarted by New
// without one, in batches that split flows. It fails if both extractors or
// neither appended packets, or if one released a flow's packets before the
// other had emitted it. Both sides use packetLog.observe: its own faults
// (a slot not restarted by New, say) are caught by TestTimingSlotReuse,
// TestSizeSlotReuse and the columns' tests.
func TestSharedLog(t *testing.T) {
	o := Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 6}
	exs, err := Build([]string{"size,timing"}, o)
	if err != nil {
		t.Fatal(err)
	}
	tm, ok1 := exs[0].(*Timing)
	sz, ok2 := exs[1].(*Size)
	if !ok1 || !ok2 {
		t.Fatalf("Build gave %T, %T; want *Timing, *Size", exs[0], exs[1])
	}
	if tm.log != sz.log || !tm.observe || tm.release || sz.observe || !sz.release {
		t.Fatalf("roles: timing %+v, size %+v; want one log, observed by timing and released by size", tm.logRole, sz.logRole)
	}
	alone := []Extractor{NewTiming(o), NewSize(o)}

	const slots = 5
	r := rand.New(rand.NewPCG(3, 4))
	var pk [4096]decode.Packet
	var batch []Ref
	started := [slots]bool{}
	ts := t0
	emitted := 0
	flush := func() {
		for _, ex := range exs {
			ex.Observe(batch)
		}
		for _, ex := range alone {
			ex.Observe(batch)
		}
		batch = batch[:0]
	}
	for i := range pk {
		slot := uint32(r.IntN(slots))
		ts += int64(r.IntN(80_000_000)) - 5_000_000 // out of order at times
		pay := uint32(r.IntN(3)) * uint32(r.IntN(1500))
		pk[i] = decode.Packet{Timestamp: ts, Length: 40 + pay, Payload: pay, Proto: 17}
		isNew := !started[slot] || r.IntN(40) == 0 // a restart without Emit
		started[slot] = true
		batch = append(batch, Ref{Slot: slot, Dir: Dir(r.IntN(2)), New: isNew, Index: uint64(i), Pkt: &pk[i]})
		if len(batch) == 37 || r.IntN(50) == 0 {
			flush()
		}
		if r.IntN(30) == 0 {
			// End a flow: every batched packet is observed first, as the
			// flow table does.
			flush()
			end := uint32(r.IntN(slots))
			if !started[end] {
				continue
			}
			f := &Flow{Proto: 17}
			for k := range exs {
				got, want := emitRow(t, exs[k], end, f), emitRow(t, alone[k], end, f)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("flow %d, %s: shared log gives\n%v\nalone\n%v", emitted, exs[k].Name(), got, want)
				}
			}
			if s := *tm.log.at(end); s.pkts != nil || s.dirs != nil || s.full != nil {
				t.Fatalf("flow %d: the shared log kept the slot's packets", emitted)
			}
			started[end] = false
			emitted++
		}
	}
	if emitted < 50 {
		t.Fatalf("only %d flows emitted", emitted)
	}
}

// Prefetch, called by the flow table before a flow's Emit, must be safe for
// any slot: one no packet reached (beyond the state made so far, or never
// used), one with packets, and one whose packets were released by Emit;
// and it changes nothing: the rows are the same with and without it.
func TestPrefetchAnySlot(t *testing.T) {
	build := func() []Extractor {
		exs, err := Build([]string{"all"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return exs
	}
	pkts := []decode.Packet{
		{Timestamp: 1e9, Length: 60, Proto: 6, Flags: decode.FlagTCP, TCPFlags: decode.TCPSyn},
		{Timestamp: 2e9, Length: 60, Proto: 6, Flags: decode.FlagTCP, TCPFlags: decode.TCPSyn | decode.TCPAck},
		{Timestamp: 3e9, Length: 1500, Payload: 1440, Proto: 6, Flags: decode.FlagTCP, TCPFlags: decode.TCPAck},
	}
	refs := []Ref{{Slot: 5, New: true, Pkt: &pkts[0]}, {Slot: 5, Dir: Bwd, Index: 1, Pkt: &pkts[1]}, {Slot: 5, Index: 2, Pkt: &pkts[2]}}
	rows := map[bool]*output.Batch{}
	for _, withPrefetch := range []bool{false, true} {
		exs := build()
		var pfs []Prefetcher
		for _, ex := range exs {
			if p, ok := ex.(Prefetcher); ok {
				pfs = append(pfs, p)
			}
		}
		if len(pfs) != 3 { // timing, size and tcp; flow_meta has no state
			t.Fatalf("%d prefetchers among %d extractors of all, want 3", len(pfs), len(exs))
		}
		prefetchAll := func(slots ...uint32) {
			if withPrefetch {
				for _, p := range pfs {
					for _, s := range slots {
						p.Prefetch(s, 0)
						p.Prefetch(s, 1)
					}
				}
			}
		}
		prefetchAll(0, 5, 1<<20) // before any state exists
		var cols []output.Column
		for _, ex := range exs {
			cols = append(cols, ex.Columns()...)
			ex.Observe(refs)
		}
		prefetchAll(0, 4, 5, 6, 1<<12, 1<<20)
		b := output.NewBatch(cols)
		f := &Flow{Proto: 6, First: 1e9, Last: 3e9, Hdrs: &decode.Stack{}}
		base := 0
		for _, ex := range exs {
			ex.Emit(5, f, b, base)
			base += len(ex.Columns())
		}
		b.EndRow()
		prefetchAll(5) // released
		rows[withPrefetch] = b
	}
	if !reflect.DeepEqual(rows[false], rows[true]) {
		t.Error("the rows differ with Prefetch")
	}
}

// TestLogChunks checks that the rows do not depend on the log's chunk
// length: timing and size, sharing a log, are built with chunks of 16 and
// 32 packets, with the default (256) and with 65 536, which none of these
// flows fills, so that it keeps each flow in one slice as the columns' own
// tests do. The flows, interleaved in a few slots, run up to 300 packets,
// so the short chunks fill many times, and slots restart without Emit, which
// must drop their chunks. The sequences (40 values) cross chunk
// boundaries too. It fails if a packet is lost or misplaced at a chunk
// boundary, or a restart keeps a chunk.
func TestLogChunks(t *testing.T) {
	o := Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 40}
	build := func(chunkBits uint) []Extractor {
		exs, err := Build([]string{"timing,size"}, o)
		if err != nil {
			t.Fatal(err)
		}
		exs[0].(*Timing).log.setChunkBits(chunkBits)
		return exs
	}
	runs := map[uint][]row{}
	// Chunks of 1 << 16 packets hold every flow here whole: the
	// reference the shorter chunks must match.
	const whole = 16
	for _, bits := range []uint{4, 5, logChunkBits, whole} {
		exs := build(bits)
		lg := exs[0].(*Timing).log
		const slots = 4
		r := rand.New(rand.NewPCG(5, 6))
		var pk [20000]decode.Packet
		started := [slots]int{} // packets so far, 0: not started
		ts := t0
		var rows []row
		spilled := 0
		for i := range pk {
			slot := uint32(r.IntN(slots))
			ts += int64(r.IntN(80_000_000)) - 5_000_000
			pay := uint32(r.IntN(3)) * uint32(r.IntN(1500))
			pk[i] = decode.Packet{Timestamp: ts, Length: 40 + pay, Payload: pay, Proto: 17}
			isNew := started[slot] == 0 || r.IntN(400) == 0 // a restart without Emit
			if isNew {
				started[slot] = 0
			}
			started[slot]++
			ref := Ref{Slot: slot, Dir: Dir(r.IntN(2)), New: isNew, Index: uint64(i), Pkt: &pk[i]}
			for _, ex := range exs {
				ex.Observe([]Ref{ref})
			}
			if s := lg.at(slot); s.full != nil {
				spilled = max(spilled, len(*s.full))
				for _, c := range *s.full {
					if len(c) != 1<<bits {
						t.Fatalf("chunk bits %d: a full chunk of %d packets", bits, len(c))
					}
				}
			}
			if n := started[slot]; n >= 300 || r.IntN(200) == 0 {
				f := &Flow{Proto: 17}
				for _, ex := range exs {
					rows = append(rows, emitRow(t, ex, slot, f))
				}
				started[slot] = 0
			}
		}
		if bits == whole && spilled > 0 || bits == logChunkBits && spilled < 1 || bits <= 5 && spilled < 5 {
			t.Fatalf("chunk bits %d: up to %d full chunks a flow", bits, spilled)
		}
		if len(rows) < 100 {
			t.Fatalf("only %d rows", len(rows))
		}
		runs[bits] = rows
	}
	for _, bits := range []uint{4, 5, logChunkBits} {
		for i, want := range runs[whole] {
			if got := runs[bits][i]; !reflect.DeepEqual(got, want) {
				t.Fatalf("chunk bits %d, row %d:\n%v\nwant\n%v", bits, i, got, want)
			}
		}
	}
}

// TestLogElephant checks a flow longer than a chunk of the default length:
// 2·256 + 100 packets, kept in two full chunks and a short one. The
// packets come 1 ms apart, lengths 100, 200, 300 in turn, every fourth one
// backward, so that the statistics are known: each IAT is 1 ms (forward
// ones 1 or 2 ms, backward 4 ms), and a third of the packets have each
// length (n is a multiple of 3). And the chunks go back to the pool at
// Emit, for the next flow.
func TestLogElephant(t *testing.T) {
	exs, err := Build([]string{"timing,size"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tm, sz := exs[0].(*Timing), exs[1].(*Size)
	const n = 2<<logChunkBits + 100
	pk := make([]decode.Packet, n)
	refs := make([]Ref, n)
	for i := range pk {
		pk[i] = decode.Packet{Timestamp: t0 + int64(i)*1e6, Length: uint32(100 * (1 + i%3)), Proto: 17}
		refs[i] = Ref{Slot: 2, Dir: Dir(max(0, i%4-2)), New: i == 0, Index: uint64(i), Pkt: &pk[i]}
	}
	for lo := 0; lo < n; lo += 1000 {
		for _, ex := range exs {
			ex.Observe(refs[lo:min(lo+1000, n)])
		}
	}
	if s := tm.log.at(2); s.full == nil || len(*s.full) != 2 || len(s.pkts) != 100 {
		t.Fatalf("log: %v full chunks and %d packets after them, want 2 and 100", s.full, len(s.pkts))
	}
	f := &Flow{Proto: 17}
	timing, size := emitRow(t, tm, 2, f), emitRow(t, sz, 2, f)
	if got := len(tm.log.chunkPool.free); got != 3 {
		t.Errorf("%d chunks in the pool after Emit, want 3 (the third one began at the 2nd spill)", got)
	}
	for col, want := range map[string]any{
		"iat_min": 0.001, "iat_max": 0.001, "iat_median": 0.001, "iat_p99": 0.001, "iat_std": 0.0,
		"iat_fwd_min": 0.001, "iat_fwd_max": 0.002, "iat_fwd_median": 0.001,
		"iat_bwd_min": 0.004, "iat_bwd_max": 0.004,
		"first_response_time": 0.003,
	} {
		if timing[col] != want {
			t.Errorf("%s = %v, want %v", col, timing[col], want)
		}
	}
	if got, want := timing["iat_sum"], float64(n-1)/1000; got != want {
		t.Errorf("iat_sum = %v, want %v", got, want)
	}
	for col, want := range map[string]any{
		"pkt_len_min": 100.0, "pkt_len_max": 300.0, "pkt_len_median": 200.0,
		"pkt_len_fwd_min": 100.0, "pkt_len_fwd_max": 300.0,
		// n/3 packets of each length: 100, the first seen, and a third.
		"dominant_pkt_size": int64(100), "dominant_pkt_ratio": 1.0 / 3,
	} {
		if size[col] != want {
			t.Errorf("%s = %v, want %v", col, size[col], want)
		}
	}
}

// TestLogMemory checks what a flow's log costs: its state fills one
// cache line, no more (logState), and a new flow takes room for
// logInitPackets packets, then doubles; its directions take no room of
// their own until its 65th packet.
func TestLogMemory(t *testing.T) {
	// Exactly a line with 64-bit words; less with 32-bit ones.
	if n := unsafe.Sizeof(logState{}); n != 64 && (unsafe.Sizeof(uintptr(0)) == 8 || n > 64) {
		t.Errorf("logState is %d bytes, want 64", n)
	}
	l := newPacketLog()
	pk := decode.Packet{Timestamp: t0, Length: 60}
	want := func(n int) (pkts, words int) {
		switch {
		case n <= 4:
			return 4, 0
		case n <= 64:
			return 1 << bits.Len(uint(n-1)), 0
		}
		return 128, 2
	}
	for i := range 65 {
		l.observe([]Ref{{Slot: 3, New: i == 0, Dir: Dir(i % 2), Pkt: &pk}})
		pkts, words := want(i + 1)
		if s := l.at(3); cap(s.pkts) != pkts || cap(s.dirs) != words {
			t.Errorf("after %d packets: room for %d packets and %d words, want %d and %d", i+1, cap(s.pkts), cap(s.dirs), pkts, words)
		}
	}
}

// TestLogReusesBuffers checks that a flow's log takes its buffers from the
// pools, class by class, and gives every one back: a flow that grows to 100
// packets leaves one buffer in each class it passed through, and the next
// flow of the same length, in another slot, allocates nothing.
func TestLogReusesBuffers(t *testing.T) {
	l := newPacketLog()
	pk := decode.Packet{Timestamp: t0, Length: 60}
	flow := func(slot uint32) {
		for i := range 100 {
			l.observe([]Ref{{Slot: slot, New: i == 0, Dir: Dir(i % 2), Pkt: &pk}})
		}
		l.release(slot)
	}
	flow(1)
	// 4, 8, 16, 32, 64 outgrown, then the 128 given back at release: one
	// in each of the six classes.
	if len(l.pktPool.classes) != 6 {
		t.Fatalf("%d classes, want 6 (4 to 128 packets)", len(l.pktPool.classes))
	}
	for k, c := range l.pktPool.classes {
		if len(c.free) != 1 {
			t.Errorf("class %d (%d packets): %d buffers in the pool, want 1", k, logInitPackets<<k, len(c.free))
		}
		for _, b := range c.free {
			if cap(b) != logInitPackets<<k {
				t.Errorf("class %d holds a buffer of %d packets, want %d", k, cap(b), logInitPackets<<k)
			}
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { flow(2) }); allocs != 0 {
		t.Errorf("a flow of 100 packets after one like it: %v allocations, want 0", allocs)
	}
}
