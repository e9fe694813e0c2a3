package prefetch

import (
	"testing"
	"unsafe"
)

// TestRange runs Range over lengths that end inside a line, at its end and
// at none, a smoke test as TestWrite3 is: an instruction the processor
// does not know would kill the test binary, and a prefetch must leave
// memory as it was. That it prefetches is measured, not tested
// (bench/RESULTS.md).
func TestRange(t *testing.T) {
	b := make([]byte, 4096+64)
	for i := range b {
		b[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 4096} {
		Range(unsafe.Pointer(&b[0]), n)
		Range(unsafe.Pointer(&b[63]), n)
	}
	for i := range b {
		if b[i] != byte(i*7) {
			t.Fatalf("byte %d changed to %d", i, b[i])
		}
	}
}
