package prefetch

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestHasPrefetchW checks the CPUID test against the kernel's flags: Linux
// calls PRFCHW "3dnowprefetch".
func TestHasPrefetchW(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to check against: %v", err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if name, flags, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			want := strings.Contains(" "+flags+" ", " 3dnowprefetch ")
			if hasPrefetchW != want {
				t.Fatalf("hasPrefetchW = %v, /proc/cpuinfo has 3dnowprefetch: %v", hasPrefetchW, want)
			}
			return
		}
	}
	t.Skip("no flags line in /proc/cpuinfo")
}

// TestWrite3 runs Write3 both ways: a prefetch never faults, and never
// changes memory.
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
