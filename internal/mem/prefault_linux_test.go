package mem

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPrefaultPages checks, with mincore, that Prefault faults in every
// page a slice touches, for slices that start and end anywhere in a page,
// in fresh mappings where no page was touched before.
func TestPrefaultPages(t *testing.T) {
	const pages = 6
	for _, c := range []struct{ start, n int }{{0, pages * 4096}, {4000, 200}, {1, 4096}, {4095, 2 * 4096}, {100, 5*4096 - 200}} {
		m, err := unix.Mmap(-1, 0, pages*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			t.Fatal(err)
		}
		Prefault(m[c.start : c.start+c.n])
		vec := make([]byte, pages)
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			t.Fatal(e)
		}
		for p := range pages {
			want := p >= c.start/4096 && p <= (c.start+c.n-1)/4096
			if got := vec[p]&1 == 1; got != want {
				t.Errorf("slice [%d, %d): page %d resident %v, want %v", c.start, c.start+c.n, p, got, want)
			}
		}
		unix.Munmap(m)
	}
}
