package flow

import (
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstMap runs random inserts, lookups and removals against a
// Go map, with a tiny hash space so that clusters and wrap-around happen.
func TestIndexAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := newIndex()
	ref := map[Key]uint32{}
	var slots slab[entry]
	keyOf := func(i int) Key {
		var k Key
		k.A[0], k.PA, k.Proto = byte(i), uint16(i>>8), 6
		return k
	}
	for step := 0; step < 200000; step++ {
		k := keyOf(r.IntN(3000))
		h := hashKey(&k)
		if step%3 == 0 {
			h = h%7 + 1 // force collisions
		}
		slot, ok := x.find(&k, h, &slots)
		want, wantOK := ref[k]
		if ok != wantOK || (ok && slot != want) {
			// The forced hash differs from a previous insert of the same key:
			// look it up with the hash it was stored under.
			if wantOK && slots.at(want).hash != h {
				continue
			}
			t.Fatalf("step %d: find = %d %v, want %d %v", step, slot, ok, want, wantOK)
		}
		switch {
		case !ok && r.IntN(2) == 0:
			s := slots.add()
			*slots.at(s) = entry{key: k, hash: h}
			x.insert(h, s)
			ref[k] = s
		case ok && r.IntN(2) == 0:
			x.remove(slots.at(slot).hash, slot)
			delete(ref, k)
		}
		if x.Len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, x.Len(), len(ref))
		}
	}
	n := 0
	x.each(func(slot uint32) {
		if ref[slots.at(slot).key] != slot {
			t.Errorf("slot %d not in the reference", slot)
		}
		n++
	})
	if n != len(ref) {
		t.Errorf("each visited %d, want %d", n, len(ref))
	}
}
