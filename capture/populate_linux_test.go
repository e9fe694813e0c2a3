package capture

import (
	"fmt"
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

// TestReadsHuge maps a file and checks, in the kernel's own account of the
// mapping (/proc/self/smaps, VmFlags "hg"), that readsHuge marked it for
// huge pages exactly when it says it did, and that it does so unless the
// system's setting is "never".
func TestReadsHuge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := unix.Mmap(int(f.Fd()), 0, 4<<20, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Skip("no file mapping:", err)
	}
	defer unix.Munmap(data)
	huge := readsHuge(data)
	setting, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err == nil && thpMode(string(setting)) != "never" && !huge {
		t.Errorf("huge pages allowed (%q), but readsHuge did not mark the mapping", strings.TrimSpace(string(setting)))
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	start := fmt.Sprintf("%08x-", uintptr(unsafe.Pointer(&data[0])))
	var flags string
	for _, block := range strings.Split(string(smaps), "\n") {
		if strings.HasPrefix(block, start) {
			flags = "?" // found: the VmFlags line follows
		} else if flags == "?" && strings.HasPrefix(block, "VmFlags:") {
			flags = block
			break
		}
	}
	if flags == "" || flags == "?" {
		t.Fatalf("mapping at %s not found in smaps", start)
	}
	if marked := strings.Contains(flags+" ", " hg "); marked != huge {
		t.Errorf("readsHuge = %v, smaps %s", huge, flags)
	}
}
