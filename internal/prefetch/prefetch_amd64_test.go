package prefetch

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestHasPrefetchW checks the CPUID test against the kernel's flags, one
// way: where jj finds PREFETCHW, Linux lists "3dnowprefetch" (its name for
// PRFCHW). Linux also lists it for AMD processors that run the
// instruction without the CPUID bit, so the other way may differ.
func TestHasPrefetchW(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to check against: %v", err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if name, flags, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			listed := strings.Contains(" "+flags+" ", " 3dnowprefetch ")
			if hasPrefetchW && !listed {
				t.Fatal("hasPrefetchW, but /proc/cpuinfo has no 3dnowprefetch")
			}
			t.Logf("hasPrefetchW %v, 3dnowprefetch listed %v", hasPrefetchW, listed)
			return
		}
	}
	t.Skip("no flags line in /proc/cpuinfo")
}

// TestWrite3 runs Write3 both ways, a smoke test: an instruction the
// processor does not know would kill the test binary (SIGILL), and a
// prefetch must leave memory as it was. That it prefetches is measured,
// not tested (bench/RESULTS.md).
func TestWrite3(t *testing.T) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	saved := hasPrefetchW
	defer func() { hasPrefetchW = saved }()
	for _, has := range []bool{true, false} {
		if has && !saved {
			continue // the instruction may fault here
		}
		hasPrefetchW = has
		Write3(unsafe.Pointer(&b[0]), unsafe.Pointer(&b[100]), unsafe.Pointer(&b[255]))
	}
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("byte %d changed to %d", i, b[i])
		}
	}
}
