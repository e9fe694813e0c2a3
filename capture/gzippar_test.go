package capture

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// parGunzip decodes data as Open does a mapped file, with tasks of chunk
// compressed bytes, up to tasks of them at once, and returns the output,
// the error and how many tasks the reader took.
func parGunzip(data []byte, chunk int64, tasks int) ([]byte, error, int) {
	return parGunzipStride(data, chunk, tasks, 1)
}

// parGunzipStride is parGunzip with tasks on every stride-th chunk.
func parGunzipStride(data []byte, chunk int64, tasks int, stride int64) ([]byte, error, int) {
	out, err, jumps, _ := parGunzipFrom(bytes.NewReader(data), bytes.NewReader(data), int64(len(data)), chunk, tasks, stride)
	return out, err, jumps
}

// parGunzipFrom decodes the stream r with tasks that read the file src
// of size bytes, and returns the output, the error, and how many tasks
// the reader took and how many the input ended under (gzipPar's jumps and
// cuts; zero if the header failed).
func parGunzipFrom(r io.Reader, src io.ReaderAt, size, chunk int64, tasks int, stride int64) ([]byte, error, int, [2]int) {
	var z *gzipReader
	out, err := gunzipWith(r, func(r io.Reader) (io.Reader, error) {
		var err error
		if z, err = newGzipReader(r); err != nil {
			return nil, err
		}
		z.par = newGzipParWith(src, size, nil, chunk, tasks, stride)
		return z, nil
	})
	if z == nil {
		return out, err, 0, [2]int{}
	}
	jumps, cuts := z.par.jumps, z.par.cuts
	z.release()
	return out, err, jumps, cuts
}

// sameParallel returns what differs between the reader's output and
// error on data decoding in order and with tasks, "" if nothing: the
// same bytes and the same error, offsets and all.
func sameParallel(data []byte, chunk int64, tasks int) (string, int) {
	return sameParallelStride(data, chunk, tasks, 1)
}

// sameParallelStride is sameParallel with tasks on every stride-th chunk.
func sameParallelStride(data []byte, chunk int64, tasks int, stride int64) (string, int) {
	want, wantErr := gunzipWith(bytes.NewReader(data), jjGunzip)
	got, err, jumps := parGunzipStride(data, chunk, tasks, stride)
	return differs(got, err, want, wantErr), jumps
}

// differs returns what differs between output and error got, err and
// those of decoding in order, want, wantErr; "" if nothing.
func differs(got []byte, err error, want []byte, wantErr error) string {
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		return fmt.Sprintf("error %v, in order %v", err, wantErr)
	}
	if !bytes.Equal(got, want) {
		n := 0
		for n < min(len(got), len(want)) && got[n] == want[n] {
			n++
		}
		return fmt.Sprintf("%d bytes out, in order %d, first difference at %d", len(got), len(want), n)
	}
	return ""
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
				chunk  int64
				tasks  int
				stride int64
			}{{4 << 10, 1, 1}, {64 << 10, 3, 1}, {4 << 10, 2, 2}} {
				msg, n := sameParallelStride(data, c.chunk, c.tasks, c.stride)
				if msg != "" {
					t.Fatalf("%s, %s, %+v: %s", pname, wname, c, msg)
				}
				if got, err, _ := parGunzipStride(data, c.chunk, c.tasks, c.stride); err != io.EOF || !bytes.Equal(got, p) {
					t.Fatalf("%s, %s, %+v: %d bytes and %v, want the %d compressed", pname, wname, c, len(got), err, len(p))
				}
				jumps[pname] += n
			}
		}
	}
	t.Logf("tasks taken: %v", jumps)
}

// TestGzipParallelTakesTasks: on a file whose chunks all hold a dynamic
// block's start, the reader takes nearly every task, and about every
// other chunk's when the tasks take every other chunk.
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
		if chunks := len(data) / chunk; jumps < chunks*3/4 {
			t.Errorf("%s: %d tasks taken of %d chunks", wname, jumps, chunks)
		}
		// Tasks on every other chunk: about half of them.
		msg, jumps = sameParallelStride(data, chunk, 2, 2)
		if msg != "" {
			t.Fatalf("%s, every other chunk: %s", wname, msg)
		}
		if chunks := len(data) / chunk; jumps < chunks*3/8 || jumps > chunks/2+1 {
			t.Errorf("%s, every other chunk: %d tasks taken of %d chunks", wname, jumps, chunks)
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
	msg, jumps := sameParallel(data, 2048, 3)
	if msg != "" || jumps < 5 {
		t.Fatalf("whole: %q, %d tasks taken", msg, jumps)
	}
	for n := 0; n < len(data); n += 211 {
		if msg, _ := sameParallel(data[:n], 2048, 3); msg != "" {
			t.Fatalf("cut at %d: %s", n, msg)
		}
	}
	bad := bytes.Clone(data)
	for i := 0; i < len(bad); i += 421 {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			bad[i] ^= x
			if msg, _ := sameParallel(bad, 2048, 3); msg != "" {
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
		z.par = newGzipParWith(bytes.NewReader(data), int64(len(data)), nil, 512, 4, 1)
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

// rcFile is a file of members of random codes (gzip_random_test.go's
// encoder): dynamic, fixed and stored blocks, empty ones, distances of
// 32 768, lengths of 258, matches across blocks.
func rcFile(seed uint64, plainLen int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x677a))
	e := &rcEncoder{rng: rng, stats: new(rcStats)}
	for len(e.plain) < plainLen {
		size := rng.IntN(300_000)
		if rng.IntN(4) == 0 {
			size = rng.IntN(1_500_000)
		}
		e.member(size)
	}
	return e.out
}

// TestGzipParallelRandomCodes compares decoding with tasks and in order on
// a file of random codes, whole, damaged and cut (from a helper's review).
func TestGzipParallelRandomCodes(t *testing.T) {
	data := rcFile(1, 1_500_000)
	for _, c := range []struct {
		chunk int64
		tasks int
	}{{4 << 10, 2}, {64 << 10, 3}} {
		if msg, _ := sameParallel(data, c.chunk, c.tasks); msg != "" {
			t.Fatalf("chunks of %d: %s", c.chunk, msg)
		}
	}
	rng := rand.New(rand.NewPCG(1, 99))
	bad := bytes.Clone(data)
	for range 25 {
		p, x := rng.IntN(len(bad)), byte(1<<rng.IntN(8))
		bad[p] ^= x
		if msg, _ := sameParallel(bad, 16<<10, 2); msg != "" {
			t.Fatalf("byte %d damaged (^%#x): %s", p, x, msg)
		}
		bad[p] ^= x
	}
	for range 10 {
		n := rng.IntN(len(data))
		if msg, _ := sameParallel(data[:n], 16<<10, 2); msg != "" {
			t.Fatalf("cut at %d: %s", n, msg)
		}
	}
}

// TestGzipParallelErrorOffset: an invalid distance code met by the
// careful path in order (its input buffer ending a byte earlier) and by
// the fast loop with tasks gave offsets a byte apart, until code took an
// invalid code's bits before reporting it, as the fast loop does (found by
// a helper's review). The file: random codes, then a member whose fixed
// block has 6 literals, 461 002 more, two 0xff, a length and the invalid
// distance code 30.
func TestGzipParallelErrorOffset(t *testing.T) {
	e := &rcEncoder{out: append(rcFile(35, 3_000_000), 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)}
	e.bits(1, 1) // final
	e.bits(1, 2) // fixed codes
	for range 6 {
		e.sym(rcFixed, 'a')
	}
	for range 461_002 {
		e.sym(rcFixed, 0xfe)
	}
	e.sym(rcFixed, 0xff)
	e.sym(rcFixed, 0xff)
	e.sym(rcFixed, 257)
	d := make([]uint8, 32)
	for i := range d {
		d[i] = 5
	}
	e.sym(newRCCode(d), 30)
	e.align()
	data := append(e.out, make([]byte, 100_000)...)
	msg, jumps := sameParallel(data, 64<<10, 2)
	if msg != "" {
		t.Fatal(msg)
	}
	if jumps == 0 {
		t.Fatal("no task taken")
	}
}

// TestGzipParallelAfterStored: after a stretch of stored data, where
// tasks find no block and back off, they are taken again (the backoff
// once compounded over the tasks already running, and left most of the
// rest to the reader: a helper's review).
func TestGzipParallelAfterStored(t *testing.T) {
	const chunk = 16 << 10
	rng := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&buf, stdgzip.NoCompression)
	r := make([]byte, 8*chunk)
	for i := range r {
		r[i] = byte(rng.Uint32())
	}
	zw.Write(r)
	zw.Close()
	words := []string{"alpha", "beta", "gamma", "delta", "log", "error", "value", "x=", "42", "\n", "time", "user"}
	zw, _ = stdgzip.NewWriterLevel(&buf, 6)
	for buf.Len() < 100*chunk {
		var line bytes.Buffer
		for line.Len() < 8000 {
			line.WriteString(words[rng.IntN(len(words))])
		}
		zw.Write(line.Bytes())
		zw.Flush()
	}
	zw.Close()
	data := buf.Bytes()
	msg, jumps := sameParallel(data, chunk, 8)
	if msg != "" {
		t.Fatal(msg)
	}
	if chunks := len(data) / chunk; jumps < chunks*3/4 {
		t.Fatalf("%d tasks taken of %d chunks", jumps, chunks)
	}
}

// shrinkingReaderAt serves data to its first read, and from then on only
// its first cut bytes: a file read with pread(2) that is cut after a
// task's find has read its chunk's start.
type shrinkingReaderAt struct {
	data  []byte
	cut   int64
	reads int
}

func (r *shrinkingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.reads++
	end := int64(len(r.data))
	if r.reads > 1 {
		end = min(end, r.cut)
	}
	return readAtUpTo(p, r.data[:end], off)
}

// readAtUpTo is data.ReadAt(p, off), as a file of len(data) bytes reads.
func readAtUpTo(p, data []byte, off int64) (int, error) {
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestGzipTaskSourceShrinks: a task whose file is cut after its search,
// at or just after the block start it found, ends with no tokens and no
// panic (its bit buffer once took bits the input did not have, and its
// next block header read before the input's start); cut further on, it
// keeps the blocks before the cut.
func TestGzipTaskSourceShrinks(t *testing.T) {
	// Random letters of half a byte of entropy, in dynamic blocks that
	// start anywhere in a byte.
	rnd := rand.New(rand.NewPCG(5, 6))
	plain := make([]byte, 1<<20)
	for i := range plain {
		plain[i] = 'a' + byte(rnd.IntN(16))
	}
	var buf bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&buf, 6)
	zw.Write(plain)
	zw.Close()
	data := buf.Bytes()
	const chunk = 16 << 10
	var stop atomic.Bool
	for lo := int64(chunk); lo+chunk < int64(len(data)); lo += chunk {
		newTask := func() *gzipTask {
			return &gzipTask{lo: lo, hi: lo + chunk, found: make(chan struct{}), done: make(chan struct{})}
		}
		whole := newTask()
		whole.run(newGzipParWith(bytes.NewReader(data), int64(len(data)), nil, chunk, 1, 1), &stop)
		whole.release()
		if whole.start < 0 || whole.start&7 == 0 {
			continue // a block start inside a byte is the case
		}
		if len(whole.blocks) == 0 {
			t.Fatalf("the whole file: start %d, no block decoded; want tokens", whole.start)
		}
		for _, extra := range []int64{0, 1, 2, 7, 100, 3000, 20000} {
			// find's read sees the whole file; the reads after it
			// end extra bytes into the block found.
			cut := whole.start>>3 + extra
			src := &shrinkingReaderAt{data: data, cut: cut}
			task := newTask()
			task.run(newGzipParWith(src, int64(len(data)), nil, chunk, 1, 1), &stop)
			switch {
			case task.start != whole.start:
				t.Errorf("cut %d byte(s) past the block start: start %d, want %d", extra, task.start, whole.start)
			case len(task.blocks) > 0 && (task.end() > cut*8 || extra <= 1):
				t.Errorf("cut %d byte(s) past the block start: tokens to bit %d, past the cut", extra, task.end())
			}
			task.release()
		}
		return
	}
	t.Fatal("no block starts inside a byte")
}

// cutFile is a file cut while it is read: the tasks' reads (ReadAt) see
// it whole until the reader's stream (Read) has met the cut, where the
// stream ends with err (io.EOF if nil); then data[:cut], or the whole file
// again if regrown (copied back over, say).
type cutFile struct {
	data    []byte
	cut     int
	read    int
	met     atomic.Bool
	err     error
	regrown bool
}

func (f *cutFile) Read(p []byte) (int, error) {
	if f.read == f.cut {
		f.met.Store(true)
		if f.err != nil {
			return 0, f.err
		}
		return 0, io.EOF
	}
	n := copy(p, f.data[f.read:f.cut])
	f.read += n
	return n, nil
}

func (f *cutFile) ReadAt(p []byte, off int64) (int, error) {
	if f.met.Load() && !f.regrown {
		return readAtUpTo(p, f.data[:f.cut], off)
	}
	return readAtUpTo(p, f.data, off)
}

// cutEnd is how a cutFile's stream ends at the cut: io.EOF or err, the
// file regrown or not.
type cutEnd struct {
	err     error
	regrown bool
}

var cutEnds = []cutEnd{{nil, false}, {errors.New("input/output error"), false}, {nil, true}}

// sameParallelCut returns what differs between the reader's output and
// error on data cut at cut (ending as end says), decoding in order and
// with tasks that read past the cut, "" if nothing; and how many tasks
// the input ended under (gzipPar.cuts).
func sameParallelCut(data []byte, chunk int64, tasks int, cut int, end cutEnd) (string, [2]int) {
	var src io.Reader = bytes.NewReader(data[:cut])
	if end.err != nil {
		src = io.MultiReader(src, iotest.ErrReader(end.err))
	}
	want, wantErr := gunzipWith(src, jjGunzip)
	f := &cutFile{data: data, cut: cut, err: end.err, regrown: end.regrown}
	got, err, _, cuts := parGunzipFrom(f, f, int64(len(data)), chunk, tasks, 1)
	if msg := differs(got, err, want, wantErr); msg != "" {
		return fmt.Sprintf("cut at %d, ending %v, regrown %v: %s", cut, end.err, end.regrown, msg), cuts
	}
	return "", cuts
}

// TestGzipCutUnderTasks cuts a file, from compress/gzip, klauspost's
// stateless level (-3) and the gzip tool (whose last blocks hold data,
// where compress/gzip's is empty), after its tasks read past the cut, the
// input ending there, failing there, or the file regrown before the
// reader reads it again: the reader executes the tokens of the blocks
// before the cut, decodes the rest in order from the file read again up
// to the cut, and hands on the same bytes and the same error as decoding
// in order does. (The reader once lost the task's whole output, up to a
// chunk's.)
func TestGzipCutUnderTasks(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	plain := make([]byte, 256<<10)
	for i := range plain {
		plain[i] = 'a' + byte(rnd.IntN(16))
	}
	writers := gzipWriters()
	var cuts [2]int
	for _, wname := range []string{"compress/gzip 8", "klauspost 0", "gzip -6"} {
		w, ok := writers[wname]
		if !ok && strings.HasPrefix(wname, "gzip ") {
			continue // no gzip tool
		}
		if !ok {
			t.Fatalf("no encoder %q among gzipWriters", wname)
		}
		data, err := w(plain)
		if err != nil {
			t.Fatalf("%s: %v", wname, err)
		}
		// Chunks of two blocks or more; each cut ending one way, in turn.
		for k, cut := 0, 1000; cut < len(data); k, cut = k+1, cut+1201 {
			msg, c := sameParallelCut(data, 64<<10, 4, cut, cutEnds[k%len(cutEnds)])
			if msg != "" {
				t.Errorf("%s, %s", wname, msg)
			}
			cuts[0] += c[0]
			cuts[1] += c[1]
		}
	}
	if cuts[0] == 0 || cuts[1] == 0 {
		t.Errorf("tasks cut in their first block %d times, later %d; want both", cuts[0], cuts[1])
	}
	t.Logf("tasks cut in their first block %d times, later %d", cuts[0], cuts[1])
}
