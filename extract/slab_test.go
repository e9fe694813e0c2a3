package extract

import "testing"

// stack is a spares that hands back what it was given, last first (a
// sync.Pool may drop what it is given, and does at random under -race).
type stack []any

func (s *stack) Put(x any) { *s = append(*s, x) }

func (s *stack) Get() any {
	if len(*s) == 0 {
		return nil
	}
	x := (*s)[len(*s)-1]
	*s = (*s)[:len(*s)-1]
	return x
}

// TestSlabRelease checks that a released slab gives its chunks to its
// spares, that a later slab takes them, and that every slot there is zero
// though the first slab wrote slots made room for by reserve and by get,
// in several chunks.
func TestSlabRelease(t *testing.T) {
	var sp stack
	a := slab[[3]uint64]{spares: &sp}
	written := []uint32{0, 5, slabMask, 1 << slabBits, 2<<slabBits + 17}
	a.reserve([]Ref{{Slot: 0}, {Slot: 5}, {Slot: slabMask}, {Slot: 1 << slabBits}})
	for _, i := range written[:4] {
		*a.at(i) = [3]uint64{1, 2, 3}
	}
	*a.get(written[4]) = [3]uint64{4, 5, 6}
	if len(a.chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(a.chunks))
	}
	first := &a.chunks[0][0]
	a.release()
	if len(a.chunks) != 0 || a.used != 0 || len(sp) != 3 {
		t.Fatalf("released: %d chunks, used %d, %d spares; want 0, 0, 3", len(a.chunks), a.used, len(sp))
	}

	b := slab[[3]uint64]{spares: &sp}
	b.get(3<<slabBits - 1)
	if len(sp) != 0 || len(b.chunks) != 3 {
		t.Fatalf("a new slab of 3 chunks left %d spares", len(sp))
	}
	reused := false
	for k, c := range b.chunks {
		reused = reused || &c[0] == first
		for i := range c {
			if c[i] != ([3]uint64{}) {
				t.Fatalf("chunk %d, slot %d of a slab that took spares holds %v", k, i, c[i])
			}
		}
	}
	if !reused {
		t.Error("the first chunk was not taken again")
	}
	// The slab can be released again and used afresh.
	b.release()
	*b.get(7) = [3]uint64{7, 7, 7}
	if len(b.chunks) != 1 || b.at(7)[0] != 7 || b.at(8)[0] != 0 {
		t.Errorf("a released slab used again: %d chunks, slot 7 %v, slot 8 %v", len(b.chunks), *b.at(7), *b.at(8))
	}
}
