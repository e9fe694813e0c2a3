package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestTHPMode(t *testing.T) {
	for s, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"always madvise never":     "",
		"":                         "",
		"[] always":                "",
	} {
		if got := thpMode(s); got != want {
			t.Errorf("thpMode(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestReadsHuge maps a file and checks that readsHuge marks it for huge
// pages unless the system's setting is "never" (thpAllowed, whose parsing
// TestTHPMode pins), and that the kernel's own account of the mapping
// (/proc/self/smaps, VmFlags "hg") agrees.
func TestReadsHuge(t *testing.T) {
	data := mapTempFile(t, 4<<20)
	huge := readsHuge(data)
	if huge != thpAllowed() {
		t.Errorf("readsHuge = %v where the system allows huge pages: %v", huge, thpAllowed())
	}
	flags := smapsLine(t, data, "VmFlags:")
	if flags == "" {
		t.Skip("no VmFlags for the mapping in /proc/self/smaps")
	}
	if marked := strings.Contains(flags+" ", " hg "); marked != huge {
		t.Errorf("readsHuge = %v, smaps %s", huge, flags)
	}
}

func TestPmdMapped(t *testing.T) {
	const smaps = `00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/jj
FilePmdMapped:      2048 kB
VmFlags: rd ex mr mw me dw
7f000000-7f200000 r--s 00000000 fe:00 1235 /tmp/small.pcap
Rss:                  64 kB
VmFlags: rd mr me ms
3cc00000-9cc00000 r--s 00000000 fe:00 1234 /tmp/big.pcap
Size:            1572864 kB
Rss:               16384 kB
FilePmdMapped:     14336 kB
VmFlags: rd mr me ms hg
`
	// Addresses below 4 GiB, so that the test builds for 32-bit systems.
	for addr, want := range map[uintptr]int{0x3cc00000: 14336, 0x400000: 2048, 0x7f000000: 0, 0x3cc01000: 0} {
		if got := pmdMapped(smaps, addr); got != want {
			t.Errorf("pmdMapped(%#x) = %d, want %d", addr, got, want)
		}
	}
}

// TestMappedHuge maps a file read from disk with the huge-page advice,
// populates its first 4 MiB, and checks mappedHuge against the kernel's
// own count of huge-page entries for the mapping.
func TestMappedHuge(t *testing.T) {
	data := mapTempFile(t, 8<<20)
	readsHuge(data)
	populate(data[:4<<20])
	line := smapsLine(t, data, "FilePmdMapped:")
	want := line != "" && !strings.HasPrefix(strings.Join(strings.Fields(line), " "), "FilePmdMapped: 0 ")
	if got := mappedHuge(data); got != want {
		t.Errorf("mappedHuge = %v, smaps %q", got, line)
	}
	t.Logf("mapped with huge pages: %v", want)
}

// smapsLine returns the line that begins with field in the kernel's
// account of the mapping data (/proc/self/smaps), or "".
func smapsLine(t *testing.T, data []byte, field string) string {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	return smapsField(string(smaps), uintptr(unsafe.Pointer(&data[0])), field)
}

// mapTempFile writes a file of size zero bytes, drops it from the page
// cache (evictFile) and maps it read-only for the rest of the test.
func mapTempFile(t *testing.T, size int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	evictFile(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the mapping outlives the descriptor
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Skip("no file mapping:", err)
	}
	t.Cleanup(func() { unix.Munmap(data) })
	return data
}
