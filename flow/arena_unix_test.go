//go:build linux || darwin || freebsd || netbsd || openbsd

package flow

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestEntryChunkIsHugePage checks that a slab chunk of entries is one huge
// page, so that mapAnon maps it on huge pages.
func TestEntryChunkIsHugePage(t *testing.T) {
	if n := unsafe.Sizeof(entry{}) << chunkBits; n != hugeSize {
		t.Fatalf("a chunk of %d entries is %d bytes, not a huge page (%d)", 1<<chunkBits, n, hugeSize)
	}
}

// TestMapAnonHuge maps sizes in and out of whole huge pages: those in
// whole huge pages start on a huge-page boundary; all are zero, writable,
// and given back. Where the kernel has transparent huge pages on, it
// reports (and the test logs) how much of the huge mapping they back.
func TestMapAnonHuge(t *testing.T) {
	for _, size := range []int{hugeSize, 3 * hugeSize, 64 << 10, hugeSize + 4096} {
		b := mapAnon(size)
		if len(b) != size {
			t.Fatalf("mapAnon(%d): %d bytes", size, len(b))
		}
		at := uintptr(unsafe.Pointer(&b[0]))
		if size%hugeSize == 0 && at%hugeSize != 0 {
			t.Fatalf("mapAnon(%d) at %#x, not on a huge-page boundary", size, at)
		}
		for i := 0; i < size; i += 4096 {
			if b[i] != 0 {
				t.Fatalf("mapAnon(%d): byte %d is %d", size, i, b[i])
			}
			b[i] = 1
		}
		if size == 3*hugeSize {
			if kb, ok := anonHugeKB(at); ok {
				t.Logf("mapAnon(%d): %d kB of huge pages", size, kb)
			}
		}
		unmapAnon(b)
	}
}

// anonHugeKB returns the AnonHugePages of the mapping at addr, from
// /proc/self/smaps (Linux).
func anonHugeKB(addr uintptr) (int, bool) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, false
	}
	in := false
	for _, line := range strings.Split(string(smaps), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uintptr(l) <= addr && addr < uintptr(h)
				continue
			}
		}
		if in && fields[0] == "AnonHugePages:" && len(fields) > 1 {
			kb, err := strconv.Atoi(fields[1])
			return kb, err == nil
		}
	}
	return 0, false
}
