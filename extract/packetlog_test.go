package extract

import (
	"math/rand/v2"
	"reflect"
	"testing"

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
			if s := *tm.log.at(end); s.pkts != nil || s.dirs != nil {
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
