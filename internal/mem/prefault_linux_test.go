package mem

import (
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPrefaultPages checks, with mincore, that Prefault allocates every
// page a slice touches, and no other, for slices that start and end
// anywhere in a page, in fresh mappings where no page was touched before;
// both ways, by madvise and by writes (touchPages, where the kernel
// refuses the call).
func TestPrefaultPages(t *testing.T) {
	madvise := func(t *testing.T, b []byte) {
		if !populateWrite(b) {
			if kernelAtLeast(t, 5, 14) {
				t.Fatal("MADV_POPULATE_WRITE refused by Linux 5.14 or later")
			}
			t.Skip("MADV_POPULATE_WRITE needs Linux 5.14")
		}
	}
	writes := func(_ *testing.T, b []byte) { touchPages(b) }
	for name, prefault := range map[string]func(*testing.T, []byte){"madvise": madvise, "writes": writes} {
		t.Run(name, func(t *testing.T) { testPrefaultPages(t, prefault) })
	}
}

func testPrefaultPages(t *testing.T, prefault func(*testing.T, []byte)) {
	const pages = 6
	for _, c := range []struct{ start, n int }{{0, pages * 4096}, {4000, 200}, {1, 4096}, {4095, 2 * 4096}, {100, 5*4096 - 200}} {
		m, err := unix.Mmap(-1, 0, pages*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			t.Fatal(err)
		}
		prefault(t, m[c.start:c.start+c.n])
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

// BenchmarkPrefault allocates the pages of a fresh 4 MiB mapping, by
// madvise (populateWrite, as Prefault does on Linux) and by a write to
// each page (touchPages), and reports the time a page. On this project's
// virtual machine: about 15 µs a page by writes, each a page fault, and
// 0.5-1 µs by madvise.
func BenchmarkPrefault(b *testing.B) {
	const size = 4 << 20
	madvise := func(b []byte) {
		if !populateWrite(b) {
			panic("MADV_POPULATE_WRITE refused")
		}
	}
	for name, prefault := range map[string]func([]byte){"madvise": madvise, "writes": touchPages} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
				if err != nil {
					b.Fatal(err)
				}
				// Small pages, as most of the Go heap gets.
				_ = unix.Madvise(m, unix.MADV_NOHUGEPAGE)
				prefault(m)
				unix.Munmap(m)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/4096), "ns/page")
		})
	}
}

// kernelAtLeast reports whether the running Linux is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", u.Release[:], err)
	}
	return ma > major || ma == major && mi >= minor
}
