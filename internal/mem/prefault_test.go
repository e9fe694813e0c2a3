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
