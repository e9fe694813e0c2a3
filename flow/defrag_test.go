package flow

import (
	"fmt"
	"testing"

	"github.com/jjflow/jj/decode"
)

// TestDefragExpiry checks which first fragments Defrag remembers: each for
// one timeout after it came, at most MaxFrags at once (the oldest go
// first), a repeated one once, and through many wrap-arounds of its queue.
func TestDefragExpiry(t *testing.T) {
	const timeout = 95
	d := NewDefrag(timeout)
	first := func(id uint32, ts int64) {
		p := decode.Packet{FragID: id, Proto: 17, Timestamp: ts, SrcPort: uint16(id), DstPort: 53, Flags: decode.FlagFragment | decode.FlagPorts}
		d.Fix(&p)
	}
	joins := func(id uint32) bool {
		p := decode.Packet{FragID: id, Proto: 17, Flags: decode.FlagFragment | decode.FlagLaterFragment}
		d.Fix(&p)
		return p.SrcPort == uint16(id) && p.DstPort == 53
	}
	// Ten first fragments 10 ns apart, ids 0-9, 10-19, 20-29 in turn: at
	// the last one, those of the last timeout are remembered, the older
	// ones not.
	ts := int64(0)
	for round := range 50 {
		for id := range uint32(10) {
			first(id+uint32(round%3)*10, ts)
			ts += 10
		}
	}
	last := ts - 10 // the last first fragment: id 9 + 10·(49%3) = 19
	for id := range uint32(30) {
		// The last run was ids 10-19, the last 90 ns; the others came
		// 100 ns or more before the last, past the timeout.
		want := id >= 10 && id < 20
		if got := joins(id); got != want {
			t.Errorf("id %d: joined %v, want %v", id, got, want)
		}
	}
	// A first fragment after a long pause expires all the others.
	first(100, last+timeout+1000)
	if d.index.Len() != 1 || d.order.n != 1 || d.Forgotten != 0 {
		t.Errorf("after a pause: %d remembered, %d queued, %d forgotten; want 1, 1 and 0 (expired ones are not forgotten)", d.index.Len(), d.order.n, d.Forgotten)
	}
	if !joins(100) || joins(19) {
		t.Errorf("after a pause: the new fragment should join and the old ones not")
	}
	// A repeated first fragment is queued once.
	first(100, last+timeout+1001)
	if d.order.n != 1 {
		t.Errorf("a repeated first fragment queued %d times, want 1", d.order.n)
	}
	// A repeated first fragment refreshes its time in place: at 0 and 50
	// ns, it is still remembered at 120, 70 ns after the second, when
	// another first fragment expires those older than the timeout.
	d = NewDefrag(timeout)
	first(7, 0)
	first(7, 50)
	first(9, 120)
	if !joins(7) || d.order.n != 2 {
		t.Errorf("a first fragment seen again at 50 ns: joined %v at 120 ns, want true; %d queued, want 2", joins(7), d.order.n)
	}
	// A key whose hash matches another's is not that other's: find
	// compares the keys (hashes of 32 bits collide among many).
	k := Key{PB: 7, Proto: 17}
	if f := d.find(&k, hashKey(&k)); f == nil {
		t.Fatalf("first fragment 7 not found")
	} else if other := (Key{PB: 9, Proto: 17}); d.find(&other, hashKey(&k)) != nil {
		t.Errorf("key %v found under the hash of %v", other, k)
	}
	// Queue numbers wrap around at 2^32.
	d = NewDefrag(timeout)
	d.order.first = 1<<32 - 3
	for id := range uint32(40) {
		first(id, int64(id))
	}
	for _, id := range []uint32{0, 2, 3, 5, 39} {
		if !joins(id) {
			t.Errorf("queue numbers wrapped around: id %d not joined", id)
		}
	}
	// The queue grows while its front is mid-ring: ids 0-15 at 0-15 ns fill
	// its first 16 places, ids 100-119 at 25 ns expire ids 0-4 and then
	// wrap around and outgrow it. A key lost in the growth would never
	// expire.
	d = NewDefrag(20)
	for id := range uint32(16) {
		first(id, int64(id))
	}
	for id := uint32(100); id < 120; id++ {
		first(id, 25)
	}
	if d.index.Len() != 31 || d.order.n != 31 {
		t.Errorf("grown queue: %d remembered, %d queued, want 31 and 31", d.index.Len(), d.order.n)
	}
	for _, id := range []uint32{0, 4, 5, 15, 100, 119} {
		if got, want := joins(id), id >= 5; got != want {
			t.Errorf("grown queue, id %d: joined %v, want %v", id, got, want)
		}
	}
	first(200, 1000)
	if d.index.Len() != 1 || d.order.n != 1 {
		t.Errorf("grown queue, after a pause: %d remembered, %d queued, want 1 and 1", d.index.Len(), d.order.n)
	}
	// At most MaxFrags at once, all within the timeout: the oldest go.
	d = NewDefrag(1 << 62)
	for id := range uint32(MaxFrags + 5) {
		first(id, int64(id))
	}
	if d.index.Len() != MaxFrags || d.order.n != MaxFrags || d.Forgotten != 5 {
		t.Errorf("%d remembered, %d queued, %d forgotten; want %d, %d and 5", d.index.Len(), d.order.n, d.Forgotten, MaxFrags, MaxFrags)
	}
	for _, id := range []uint32{0, 4, 5, MaxFrags + 4} {
		if got, want := joins(id), id >= 5; got != want {
			t.Errorf("id %d of %d: joined %v, want %v", id, MaxFrags+5, got, want)
		}
	}
}

// BenchmarkDefrag gives Defrag the fragments of datagrams that come one
// after another, each a first fragment and two later ones, from 64
// sources: live is how many first fragments it remembers at once (a
// timeout of live datagrams).
func BenchmarkDefrag(b *testing.B) {
	for _, live := range []int{1000, 30000, MaxFrags} {
		b.Run(fmt.Sprint(live), func(b *testing.B) {
			d := NewDefrag(int64(live))
			var ps [3]decode.Packet
			for i := range ps {
				ps[i] = decode.Packet{Proto: 17, V6: i == 2, Flags: decode.FlagFragment | decode.FlagLaterFragment}
			}
			ps[0].Flags |= decode.FlagPorts
			ps[0].Flags &^= decode.FlagLaterFragment
			n := 0
			for b.Loop() {
				for i := range ps {
					p := ps[i]
					p.Src[3], p.Dst[3] = byte(n%64), 1
					p.FragID, p.Timestamp = uint32(n), int64(n)
					p.SrcPort, p.DstPort = uint16(n), 53
					d.Fix(&p)
				}
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/datagram")
		})
	}
}
