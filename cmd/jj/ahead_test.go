package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAheadWriter writes pieces of every size, from a byte to several
// buffers, and checks that the destination gets the same bytes in the same
// order: after each Flush, everything written so far, and after Close, all.
func TestAheadWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, 5*aheadSize)
	rand.NewChaCha8([32]byte{1}).Read(pool)
	var dst, want bytes.Buffer
	a := newAheadWriter(&dst, nil)
	for i := range 120 {
		n := r.IntN(64)
		switch i % 10 {
		case 3:
			n = aheadSize - 1 + r.IntN(3)
		case 7:
			n = 3*aheadSize + r.IntN(aheadSize)
		}
		off := r.IntN(len(pool) - n)
		p := bytes.Clone(pool[off : off+n])
		want.Write(p)
		if m, err := a.Write(p); m != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		clear(p) // the writer must have copied p
		if i%20 == 19 {
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst.Bytes(), want.Bytes()) {
				t.Fatalf("after Flush, %d bytes written, want %d", dst.Len(), want.Len())
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), want.Bytes()) {
		t.Fatalf("after Close, %d bytes written, want %d", dst.Len(), want.Len())
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := a.Flush(); err != nil {
		t.Fatalf("Flush after Close: %v", err)
	}
	if _, err := a.Write([]byte("late")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close: %v, want %v", err, os.ErrClosed)
	}
}

// gatedWriter blocks every write until open is closed.
type gatedWriter struct {
	open chan struct{}
	got  bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.got.Write(p)
}

// TestAheadWriterMakesBuffersAsNeeded checks that the buffers are made as
// the filling side needs them: two take turns while the destination keeps
// up (each buffer written and flushed before the next is filled), and no
// more than aheadBuffers exist while it is stuck; the bytes arrive whole
// either way.
func TestAheadWriterMakesBuffersAsNeeded(t *testing.T) {
	p := bytes.Repeat([]byte("z"), aheadSize)
	var dst bytes.Buffer
	a := newAheadWriter(&dst, nil)
	for range 10 {
		a.Write(p)
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if a.made != 2 {
		t.Errorf("a destination that keeps up: %d buffers made, want 2", a.made)
	}
	if err := a.Close(); err != nil || dst.Len() != 10*aheadSize {
		t.Fatalf("Close = %v, %d bytes written, want %d", err, dst.Len(), 10*aheadSize)
	}

	g := &gatedWriter{open: make(chan struct{})}
	a = newAheadWriter(g, nil)
	// The first full buffer waits at the destination, the next ones in
	// the queue; the one being filled is the last that may be made.
	for range aheadBuffers - 1 {
		a.Write(p)
	}
	if a.made != aheadBuffers {
		t.Errorf("a stuck destination: %d buffers made, want %d", a.made, aheadBuffers)
	}
	close(g.open)
	for range 6 {
		a.Write(p)
	}
	if err := a.Close(); err != nil || g.got.Len() != (aheadBuffers-1+6)*aheadSize {
		t.Fatalf("Close = %v, %d bytes written, want %d", err, g.got.Len(), (aheadBuffers-1+6)*aheadSize)
	}
	if a.made > aheadBuffers {
		t.Errorf("%d buffers made, want at most %d", a.made, aheadBuffers)
	}
}

// panicWriter panics at its second write; shortWriter takes half of each.
type panicWriter struct{ calls int }

func (p *panicWriter) Write(b []byte) (int, error) {
	if p.calls++; p.calls == 2 {
		panic("boom")
	}
	return len(b), nil
}

type shortWriter struct{}

func (shortWriter) Write(b []byte) (int, error) { return len(b) / 2, nil }

// TestAheadWriterPanicAndShortWrite checks that a panic in the destination
// and a short write without an error both end as errors, not as a crash
// or lost bytes.
func TestAheadWriterPanicAndShortWrite(t *testing.T) {
	p := bytes.Repeat([]byte("y"), aheadSize)
	for _, c := range []struct {
		w    io.Writer
		want string
	}{{&panicWriter{}, "panicked: boom"}, {shortWriter{}, io.ErrShortWrite.Error()}} {
		a := newAheadWriter(c.w, nil)
		for range 8 {
			a.Write(p)
		}
		if err := a.Close(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: Close = %v, want an error with %q", c.w, err, c.want)
		}
	}
}

// failAfter accepts limit bytes, then fails every write.
type failAfter struct {
	got   []byte
	limit int
	calls int
}

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	f.calls++
	if len(f.got)+len(p) > f.limit {
		return 0, errFull
	}
	f.got = append(f.got, p...)
	return len(p), nil
}

// TestAheadWriterError checks that the destination's first error comes
// back from a later Write, from Flush and from Close, and that nothing is
// written to it after the error.
func TestAheadWriterError(t *testing.T) {
	dst := &failAfter{limit: 2 * aheadSize}
	a := newAheadWriter(dst, nil)
	p := bytes.Repeat([]byte("x"), aheadSize)
	var werr error
	for range 20 {
		if _, werr = a.Write(p); werr != nil {
			break
		}
	}
	if !errors.Is(werr, errFull) {
		t.Errorf("Write after the destination failed: %v, want %v", werr, errFull)
	}
	if err := a.Flush(); !errors.Is(err, errFull) {
		t.Errorf("Flush: %v, want %v", err, errFull)
	}
	if err := a.Close(); !errors.Is(err, errFull) {
		t.Errorf("Close: %v, want %v", err, errFull)
	}
	if len(dst.got) != 2*aheadSize || dst.calls != 3 {
		t.Errorf("destination got %d bytes in %d writes, want %d in 3 (none after the error)", len(dst.got), dst.calls, 2*aheadSize)
	}
}

// TestOutputWriteError runs the CLI with an output file the kernel cannot
// write (/dev/full): a one-line error that names the file and the problem,
// and the run fails.
func TestOutputWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here:", err)
	}
	// The sample's rows reach the device at the close; the generated
	// capture's (3 MB of CSV) fill the buffers, and the run meets the
	// error in the middle, at a write.
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	big := filepath.Join(t.TempDir(), "big.pcap")
	genCapture(t, big, 100000)
	for _, args := range [][]string{
		{"extract", "-q", sample, "-o", "/dev/full"},
		{"extract", "-q", "-w", "2", "--features", "all", sample, "-o", "/dev/full"},
		{"extract", "-q", "-f", "parquet", sample, "-o", "/dev/full"},
		{"extract", "-q", "-w", "1", big, "-o", "/dev/full"},
		{"extract", "-q", "-w", "2", "--features", "all", big, "-o", "/dev/full"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := stderr.String()
		if code == exitOK || strings.Count(msg, "\n") != 1 ||
			!strings.Contains(msg, "/dev/full") || !strings.Contains(msg, "no space left on device") {
			t.Errorf("jj %s: exit %d, stderr %q; want a failure and one line naming /dev/full and the error", strings.Join(args, " "), code, msg)
		}
	}
	// An input that fails as well: one line for it, one for the output,
	// whether the output failed at a write or at the close.
	for _, in := range []string{sample, big} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"extract", "-q", in, "/nonexistent.pcap", "-o", "/dev/full"}, strings.NewReader(""), &stdout, &stderr)
		msg := stderr.String()
		if code == exitOK || strings.Count(msg, "\n") != 2 || !strings.Contains(msg, "/nonexistent.pcap") ||
			strings.Count(msg, "no space left on device") != 1 {
			t.Errorf("jj extract %s /nonexistent.pcap -o /dev/full: exit %d, stderr %q; want one line for each failure", in, code, msg)
		}
	}
	// Without -q the summary comes first, and says the rows were made,
	// not written.
	var stdout, stderr bytes.Buffer
	run([]string{"extract", sample, "-o", "/dev/full"}, strings.NewReader(""), &stdout, &stderr)
	if msg := stderr.String(); !strings.Contains(msg, "3 flows made (the output failed)") || strings.Contains(msg, "written") {
		t.Errorf("summary of a failed output: %q; want 3 flows made, none written", msg)
	}
}

// orderWriter records whether the call given to newAheadWriter came
// before its first write.
type orderWriter struct {
	first  bool // the call has come
	early  bool // a write came before it
	writes int
}

func (o *orderWriter) Write(p []byte) (int, error) {
	o.writes++
	if !o.first {
		o.early = true
	}
	return len(p), nil
}

// TestAheadWriterFirst: the writer's goroutine makes its first call before
// it writes anything, and that call's error is the destination's, which
// then gets nothing.
func TestAheadWriterFirst(t *testing.T) {
	dst := &orderWriter{}
	a := newAheadWriter(dst, func() error { dst.first = true; return nil })
	for range 3 {
		if _, err := a.Write(bytes.Repeat([]byte("x"), aheadSize)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !dst.first || dst.early || dst.writes != 3 {
		t.Errorf("first called %v, a write before it %v, %d writes; want the call first, then 3 writes", dst.first, dst.early, dst.writes)
	}

	errFirst := errors.New("cannot empty")
	dst = &orderWriter{first: true}
	a = newAheadWriter(dst, func() error { return errFirst })
	a.Write([]byte("rows"))
	if err := a.Close(); !errors.Is(err, errFirst) || dst.writes != 0 {
		t.Errorf("first failed: Close %v, %d writes; want %v and none", err, dst.writes, errFirst)
	}
}

// TestOutputOverwrites: an existing output file longer than the new output
// (emptied on the writer's goroutine, createOutput) ends up holding the
// new output alone, as one written to a new file does, in each format and
// compression; so does one of a file it links to.
func TestOutputOverwrites(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "sample.pcap")
	dir := t.TempDir()
	stale := bytes.Repeat([]byte("an earlier, longer table\n"), 100000)
	for _, name := range []string{"flows.csv", "flows.jsonl", "flows.parquet", "flows.csv.gz", "flows.json.zst"} {
		fresh := filepath.Join(dir, "fresh-"+name)
		old := filepath.Join(dir, name)
		if err := os.WriteFile(old, stale, 0o640); err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{fresh, old} {
			if code, _, errs := runJJ(t, nil, "extract", "-q", "--features", "all", sample, "-o", out); code != 0 {
				t.Fatalf("jj extract -o %s: exit %d: %s", out, code, errs)
			}
		}
		want, _ := os.ReadFile(fresh)
		got, _ := os.ReadFile(old)
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s over an earlier file: %d bytes, want the %d of a new file", name, len(got), len(want))
		}
		if fi, err := os.Stat(old); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s over an earlier file: mode %v (%v), want the file's own 0640 kept", name, fi.Mode(), err)
		}
	}
	// Through a symbolic link: the file it names is emptied and written,
	// and the link stays a link.
	target := filepath.Join(dir, "target.csv")
	link := filepath.Join(dir, "link.csv")
	if err := os.WriteFile(target, stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if code, _, errs := runJJ(t, nil, "extract", "-q", "--features", "all", sample, "-o", link); code != 0 {
		t.Fatalf("jj extract -o %s: exit %d: %s", link, code, errs)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "fresh-flows.csv"))
	if got, _ := os.ReadFile(target); !bytes.Equal(got, want) {
		t.Errorf("through a link: the target holds %d bytes, want %d", len(got), len(want))
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v %v", fi.Mode(), err)
	}
}
