package mem

import "testing"

// TestPrefault checks that Prefault leaves zero memory zero, of any size
// and element type, and accepts an empty slice.
func TestPrefault(t *testing.T) {
	Prefault([]int64(nil))
	for _, n := range []int{1, 4095, 4096, 4097, 100_000} {
		s := make([]struct {
			a uint8
			b [3]uint64
		}, n)
		Prefault(s)
		for i := range s {
			if s[i].a != 0 || s[i].b != [3]uint64{} {
				t.Fatalf("n=%d: element %d changed to %+v", n, i, s[i])
			}
		}
	}
}

// TestGrow checks that Grow keeps the elements, makes room for n more and
// leaves the new room zero, and returns a slice with the room as it is.
func TestGrow(t *testing.T) {
	s := []int32{1, 2, 3}
	g := Grow(s, 5000)
	if len(g) != 3 || cap(g) < 5003 || g[0] != 1 || g[2] != 3 {
		t.Fatalf("Grow = len %d cap %d %v", len(g), cap(g), g[:3])
	}
	for i, v := range g[3:cap(g)] {
		if v != 0 {
			t.Fatalf("element %d of the new room is %d", 3+i, v)
		}
	}
	h := Grow(g, 10)
	if &h[0] != &g[0] || len(h) != 3 {
		t.Errorf("Grow with room enough made a new array")
	}
	if e := Grow([]byte(nil), 0); e != nil {
		t.Errorf("Grow(nil, 0) = %v", e)
	}
}

// TestGrowAmortized checks that growing by one element at a time makes a
// new array only every doubling.
func TestGrowAmortized(t *testing.T) {
	var s []int
	arrays := 0
	for i := range 10_000 {
		g := Grow(s, 1)
		if cap(g) != cap(s) {
			arrays++
		}
		s = append(g, i)
	}
	if arrays > 15 {
		t.Errorf("%d arrays for 10 000 appends one at a time, want at most 15", arrays)
	}
	for i, v := range s {
		if v != i {
			t.Fatalf("element %d is %d", i, v)
		}
	}
}
