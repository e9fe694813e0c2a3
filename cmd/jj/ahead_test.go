package main

import (
	"bytes"
	"errors"
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
	var dst, want bytes.Buffer
	a := newAheadWriter(&dst)
	for i := range 400 {
		n := r.IntN(64)
		switch i % 10 {
		case 3:
			n = aheadSize - 1 + r.IntN(3)
		case 7:
			n = 3*aheadSize + r.IntN(aheadSize)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		want.Write(p)
		if m, err := a.Write(p); m != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		clear(p) // the writer must have copied p
		if i%50 == 49 {
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
	a := newAheadWriter(dst)
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
	for _, args := range [][]string{
		{"extract", "-q", filepath.Join("..", "..", "testdata", "sample.pcap"), "-o", "/dev/full"},
		{"extract", "-q", "-w", "2", "--features", "all", filepath.Join("..", "..", "testdata", "sample.pcap"), "-o", "/dev/full"},
		{"extract", "-q", "-f", "parquet", filepath.Join("..", "..", "testdata", "sample.pcap"), "-o", "/dev/full"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := stderr.String()
		if code == exitOK || strings.Count(msg, "\n") != 1 ||
			!strings.Contains(msg, "/dev/full") || !strings.Contains(msg, "no space left on device") {
			t.Errorf("jj %s: exit %d, stderr %q; want a failure and one line naming /dev/full and the error", strings.Join(args, " "), code, msg)
		}
	}
}
