package flow

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortPending checks the radix sort against a comparison sort, on the
// shapes flushes produce: one event for all (sweeps, the end of input),
// a few events (flows ended by packets of one batch), keys that differ
// only in high bytes, and every length around the insertion-sort cut-off.
func TestSortPending(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 47, 48, 49, 100, 1000, 20000, 200000} {
		for shape := range 4 {
			ps := make([]pending, n)
			for i := range ps {
				o := Order{Event: EndOfInput, Start: r.Uint64N(1 << 24)}
				switch shape {
				case 1:
					o.Event = PacketEvent(1000 + r.Uint64N(4))
				case 2:
					o = Order{Event: r.Uint64() &^ 0xffff, Start: r.Uint64() &^ 0xffffff}
				case 3:
					o = Order{Event: r.Uint64N(3), Start: r.Uint64N(3)} // ties
				}
				ps[i] = pending{slot: uint32(i), order: o}
			}
			want := slices.Clone(ps)
			slices.SortStableFunc(want, byOrder)
			sortPending(ps)
			// The keys in order, and no flow lost or repeated. (Flows
			// with equal keys, which a table never has, may come in any
			// order.)
			for i := range ps {
				if ps[i].order != want[i].order {
					t.Fatalf("n=%d shape %d: key %d is %v, want %v", n, shape, i, ps[i].order, want[i].order)
				}
			}
			bySlot := func(a, b pending) int { return int(a.slot) - int(b.slot) }
			slices.SortFunc(ps, bySlot)
			slices.SortFunc(want, bySlot)
			if !slices.Equal(ps, want) {
				t.Fatalf("n=%d shape %d: the sorted flows are not the flows given", n, shape)
			}
		}
	}
}

// byOrder is the comparison sort's order of pending flows.
func byOrder(a, b pending) int {
	switch {
	case a.order.Less(b.order):
		return -1
	case b.order.Less(a.order):
		return 1
	}
	return 0
}

func BenchmarkSortPending(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]pending, 100000)
	for i := range src {
		src[i] = pending{slot: uint32(i), order: Order{Event: EndOfInput, Start: r.Uint64N(5000000)}}
	}
	ps := make([]pending, len(src))
	b.Run("radix", func(b *testing.B) {
		for b.Loop() {
			copy(ps, src)
			sortPending(ps)
		}
	})
	b.Run("pdqsort", func(b *testing.B) {
		for b.Loop() {
			copy(ps, src)
			slices.SortFunc(ps, byOrder)
		}
	})
}
