package capture

import (
	"bytes"
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
	flags := smapsField(t, data, "VmFlags:")
	if marked := strings.Contains(flags+" ", " hg "); marked != huge {
		t.Errorf("readsHuge = %v, smaps %s", huge, flags)
	}
}

// smapsField returns the line of the kernel's account of the mapping that
// starts at data (/proc/self/smaps) that begins with field.
func smapsField(t *testing.T, data []byte, field string) string {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	start := fmt.Sprintf("%08x-", uintptr(unsafe.Pointer(&data[0])))
	found := false
	for _, line := range strings.Split(string(smaps), "\n") {
		switch {
		case strings.HasPrefix(line, start):
			found = true
		case found && strings.HasPrefix(line, field):
			return line // each mapping's lines have every field
		}
	}
	t.Fatalf("mapping at %s not found in smaps", start)
	return ""
}

// TestHugeAheadReadsUncached evicts a mapped file from the page cache and
// has hugeAhead read it: every page is then cached, and none is left
// mapped (the mapping's Rss is 0). A file in the page cache, and a range
// the pager has reached (at), are left alone.
func TestHugeAheadReadsUncached(t *testing.T) {
	const size = 3 * populateEvery
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte{1}, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Skip("no file mapping:", err)
	}
	defer unix.Munmap(data)
	readsHuge(data)
	evict := func() {
		t.Helper()
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Skip("cannot evict:", err)
		}
		if all, _ := cached(data, nil); all {
			t.Skip("the file stays in the page cache when evicted (tmpfs?)")
		}
	}

	var reads int
	saved := testHookReadAhead
	testHookReadAhead = func() { reads++ }
	t.Cleanup(func() { testHookReadAhead = saved })

	evict()
	h := startHugeAhead(data)
	h.request(populateEvery, populateEvery, size) // the pager has the first window
	h.stop()
	if all, _ := cached(data[populateEvery:], nil); !all {
		t.Error("hugeAhead left pages of the file uncached")
	}
	if all, _ := cached(data[:populateEvery], nil); all {
		t.Error("hugeAhead read the pager's window")
	}
	if rss := strings.Fields(smapsField(t, data, "Rss:")); len(rss) < 2 || rss[1] != "0" {
		t.Errorf("pages left mapped: %v", rss)
	}

	reads = 0
	h = startHugeAhead(data)
	h.request(populateEvery, populateEvery, size) // all cached now
	h.stop()
	if reads != 0 {
		t.Errorf("hugeAhead read %d parts of a file in the page cache", reads)
	}

	evict()
	h = startHugeAhead(data)
	h.request(size, populateEvery, size) // the pager is past the range
	h.stop()
	if all, _ := cached(data[populateEvery:], nil); all {
		t.Error("hugeAhead read a range the pager had reached")
	}
}
