package capture

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// evictFile drops path's pages from the page cache, as far as the
// filesystem lets it (not on a tmpfs), so that the next read comes from
// disk.
func evictFile(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
