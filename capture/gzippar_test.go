package capture

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
)

// parGunzip decodes data as Open does a mapped file, with tasks of chunk
// compressed bytes, up to tasks of them at once, and returns the output,
// the error and how many tasks the reader took.
func parGunzip(data []byte, chunk int64, tasks int) ([]byte, error, int) {
	var z *gzipReader
	out, err := gunzipWith(bytes.NewReader(data), func(r io.Reader) (io.Reader, error) {
		var err error
		if z, err = newGzipReader(r); err != nil {
			return nil, err
		}
		z.par = newGzipParWith(data, chunk, tasks)
		return z, nil
	})
	if z == nil {
		return out, err, 0
	}
	jumps := z.par.jumps
	z.release()
	return out, err, jumps
}

// sameParallel returns what differs between the reader's output and
// error on data decoding in order and with tasks, "" if nothing: the
// same bytes and the same error, offsets and all.
func sameParallel(data []byte, chunk int64, tasks int) (string, int) {
	want, wantErr := gunzipWith(bytes.NewReader(data), jjGunzip)
	got, err, jumps := parGunzip(data, chunk, tasks)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		return fmt.Sprintf("error %v, in order %v", err, wantErr), jumps
	}
	if !bytes.Equal(got, want) {
		n := 0
		for n < min(len(got), len(want)) && got[n] == want[n] {
			n++
		}
		return fmt.Sprintf("%d bytes out, in order %d, first difference at %d", len(got), len(want), n), jumps
	}
	return "", jumps
}

// TestGzipParallel decodes every payload from every encoder with tasks
// of several sizes, and compares with decoding in order. The tasks must
// have been taken: most of the output of the multi-block files comes
// from them.
func TestGzipParallel(t *testing.T) {
	payloads := gzipPayloads(t)
	writers := gzipWriters()
	jumps := map[string]int{}
	for pname, p := range payloads {
		for wname, w := range writers {
			data, err := w(p)
			if err != nil {
				t.Fatalf("%s, %s: %v", pname, wname, err)
			}
			for _, c := range []struct {
				chunk int64
				tasks int
			}{{4 << 10, 1}, {64 << 10, 3}} {
				msg, n := sameParallel(data, c.chunk, c.tasks)
				if msg != "" {
					t.Fatalf("%s, %s, chunks of %d, %d tasks: %s", pname, wname, c.chunk, c.tasks, msg)
				}
				jumps[pname] += n
			}
		}
	}
	t.Logf("tasks taken: %v", jumps)
}

// TestGzipParallelTakesTasks: on a file whose chunks all hold a dynamic
// block's start, the reader takes nearly every task.
func TestGzipParallelTakesTasks(t *testing.T) {
	real := bytes.Repeat(gzipPayloads(t)["real"], 4)
	for wname, w := range gzipWriters() {
		if strings.HasSuffix(wname, " 2") || strings.HasSuffix(wname, " 0") {
			continue // stored blocks, Huffman codes only
		}
		data, err := w(real)
		if err != nil {
			t.Fatal(err)
		}
		const chunk = 64 << 10
		msg, jumps := sameParallel(data, chunk, 2)
		if msg != "" {
			t.Fatalf("%s: %s", wname, msg)
		}
		t.Logf("%s: %d tasks taken of %d chunks", wname, jumps, len(data)/chunk)
		if chunks := len(data) / chunk; jumps < chunks*3/4 {
			t.Errorf("%s: %d tasks taken of %d chunks", wname, jumps, chunks)
		}
	}
}

// gzipParFile is a file with many blocks in one member (dynamic blocks
// ended by sync flushes, each an empty stored block, then longer ones),
// then the members of gzipMembers.
func gzipParFile(tb testing.TB) []byte {
	var buf bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&buf, 6)
	real := gzipPayloads(tb)["real"]
	for i := 0; i < 45_000; i += 3000 {
		zw.Write(real[i : i+3000])
		zw.Flush()
	}
	zw.Write(real[45_000:90_000])
	zw.Close()
	return append(buf.Bytes(), gzipMembers(tb)...)
}

// TestGzipParallelCutsAndDamage compares decoding with tasks and in order
// on cuts of a file of many blocks and members, and on damaged bytes.
func TestGzipParallelCutsAndDamage(t *testing.T) {
	data := gzipParFile(t)
	msg, jumps := sameParallel(data, 512, 2)
	if msg != "" || jumps < 5 {
		t.Fatalf("whole: %q, %d tasks taken", msg, jumps)
	}
	for n := 0; n < len(data); n += 211 {
		if msg, _ := sameParallel(data[:n], 512, 2); msg != "" {
			t.Fatalf("cut at %d: %s", n, msg)
		}
	}
	bad := bytes.Clone(data)
	for i := 0; i < len(bad); i += 421 {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			bad[i] ^= x
			if msg, _ := sameParallel(bad, 512, 2); msg != "" {
				t.Fatalf("byte %d damaged (^%#x): %s", i, x, msg)
			}
			bad[i] ^= x
		}
	}
}

// TestGzipParallelClose closes readers part way, with tasks running: the
// tasks end before release returns (the race detector watches their
// buffers).
func TestGzipParallelClose(t *testing.T) {
	data := gzipParFile(t)
	for _, n := range []int{0, 1, 5000, 60_000} {
		z, err := newGzipReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		z.par = newGzipParWith(data, 512, 4)
		if _, err := io.ReadFull(z, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		par := z.par
		z.release()
		if len(par.tasks) != 0 || len(par.free) != 0 {
			t.Fatalf("after %d bytes: %d tasks and %d free left", n, len(par.tasks), len(par.free))
		}
		if _, err := z.Read(make([]byte, 10)); err != errGzipReleased {
			t.Fatalf("read after release: %v", err)
		}
	}
}
