package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/jjflow/jj/output"
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

// TestStdoutRelease: standard output redirected to an empty regular file
// (`> flows.csv`, emptied by the shell) is released from the write-back
// at jj's exit, before anything is written to it; a file that already
// holds something, a pipe and a writer that is not a file are left alone.
func TestStdoutRelease(t *testing.T) {
	dir := t.TempDir()
	empty, err := os.Create(filepath.Join(dir, "flows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	var seen []unix.Stat_t
	old := testHookReleasing
	defer func() { testHookReleasing = old }()
	testHookReleasing = func(fd int) {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Errorf("fstat of the second descriptor: %v", err)
		}
		seen = append(seen, st)
	}
	release := stdoutRelease(empty)
	if release == nil {
		t.Fatal("an empty regular file: nothing to release")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	var own unix.Stat_t
	if err := unix.Fstat(int(empty.Fd()), &own); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Dev != own.Dev || seen[0].Ino != own.Ino {
		t.Errorf("%d second descriptors, want 1 of the output's inode", len(seen))
	}
	// Wired in: the output's writer releases it before its first write.
	seen = nil
	sink, err := openOutputFor(&extractFlags{compression: output.Compressions[0]}, "csv", []output.Column{{Name: "n", Type: output.Int}}, nil, empty)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.close(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Ino != own.Ino || seen[0].Size != 0 {
		t.Errorf("jj's standard output: %d second descriptors, want 1 of the output's inode, empty", len(seen))
	}

	full, err := os.Create(filepath.Join(dir, "full.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if _, err := full.WriteString("rows\n"); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]io.Writer{"a file that holds rows": full, "a pipe": w, "a buffer": &bytes.Buffer{}} {
		if stdoutRelease(out) != nil {
			t.Errorf("%s: released", name)
		}
	}
}
