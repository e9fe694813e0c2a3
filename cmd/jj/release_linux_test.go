package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReleaseTruncated: emptying an existing output file (createOutput)
// opens a second descriptor of the same file, through a link too, and
// closes it while the file is empty (releaseTruncated), so that the
// kernel's write-back on close after a truncation finds nothing to write.
func TestReleaseTruncated(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "flows.csv")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for _, path := range []string{target, link} {
		if err := os.WriteFile(target, bytes.Repeat([]byte("an earlier table\n"), 10000), 0o644); err != nil {
			t.Fatal(err)
		}
		var seen []unix.Stat_t
		old := testHookReleasing
		testHookReleasing = func(fd int) {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				t.Errorf("%s: fstat of the second descriptor: %v", path, err)
			}
			seen = append(seen, st)
		}
		file, empty, err := createOutput(path)
		if err != nil {
			t.Fatal(err)
		}
		if empty == nil {
			t.Fatalf("%s: nothing to empty in a file of 170 000 bytes", path)
		}
		if err := empty(); err != nil {
			t.Fatalf("%s: empty: %v", path, err)
		}
		testHookReleasing = old
		var own unix.Stat_t
		if err := unix.Fstat(int(file.Fd()), &own); err != nil {
			t.Fatal(err)
		}
		file.Close()
		if len(seen) != 1 {
			t.Fatalf("%s: %d second descriptors opened, want 1", path, len(seen))
		}
		if st := seen[0]; st.Dev != own.Dev || st.Ino != own.Ino || st.Size != 0 {
			t.Errorf("%s: second descriptor of inode %d:%d, %d bytes; want the output's %d:%d, empty", path, st.Dev, st.Ino, st.Size, own.Dev, own.Ino)
		}
	}
	// A new file has nothing to empty, and nothing to release.
	fresh := filepath.Join(dir, "fresh.csv")
	file, empty, err := createOutput(fresh)
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	if empty != nil {
		t.Errorf("a new file: something to empty")
	}
}
