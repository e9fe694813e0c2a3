package capture

import (
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// gzipReader is checked against klauspost/compress's gzip reader, which
// jj used before it: on the same input both must give the same bytes (or,
// when the input is bad, the library's bytes must begin jj's: jj hands on
// everything it decoded before the error, the library only what it had
// flushed) and the same kind of error. Where they differ, jj must match
// Go's compress/gzip instead. They differ on damaged input only, where
// klauspost/compress is wrong or reads differently:
//   - it reads ahead as many bits as the block's end-of-block code has
//     (and 10 more in a block that is not the last) before it decodes a
//     symbol, and calls the stream cut if it ends first, where jj and
//     compress/gzip decode the shorter symbol those bits hold and may find
//     it wrong;
//   - a block that declares no distance code keeps the previous block's
//     distance code there (its table is not cleared), where jj and
//     compress/gzip refuse a match (TestGzipNoDistanceCodes).

// gzipClass names the kind of a gzip reader's error.
func gzipClass(err error) string {
	var corrupt flate.CorruptInputError
	var bad *deflateError
	var stdCorrupt stdflate.CorruptInputError
	var internal flate.InternalError
	switch {
	case err == nil || err == io.EOF:
		return "ok"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case err == gzip.ErrHeader || err == errGzipHeader || err == stdgzip.ErrHeader:
		return "header"
	case err == gzip.ErrChecksum || err == errGzipChecksum || err == stdgzip.ErrChecksum:
		return "checksum"
	case errors.As(err, &corrupt) || errors.As(err, &bad) || errors.As(err, &stdCorrupt):
		return "corrupt"
	case errors.As(err, &internal):
		// klauspost/compress on some damaged code lengths (a code-length
		// symbol past 18): corrupt data, as compress/gzip says.
		return "corrupt"
	}
	return "other: " + err.Error()
}

// gunzipWith reads all of src through the gzip reader newReader makes.
func gunzipWith(src io.Reader, newReader func(io.Reader) (io.Reader, error)) ([]byte, error) {
	r, err := newReader(src)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	buf := make([]byte, 100_000)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes(), err
		}
	}
}

func jjGunzip(r io.Reader) (io.Reader, error) {
	z, err := newGzipReader(r)
	if err != nil {
		return nil, err
	}
	return z, nil
}

func stdGunzip(r io.Reader) (io.Reader, error) {
	z, err := stdgzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	return z, nil
}

// sameGunzip returns what is wrong with jj's output and error (got, err)
// on data, "" if nothing: they must match the library's (want, wantErr),
// or else compress/gzip's.
func sameGunzip(data, got []byte, err error, want []byte, wantErr error) string {
	if msg := matchGunzip(got, err, want, wantErr); msg == "" {
		return ""
	}
	std, stdErr := gunzipWith(bytes.NewReader(data), stdGunzip)
	if msg := matchGunzip(got, err, std, stdErr); msg != "" {
		return fmt.Sprintf("%s (klauspost/compress %d bytes, %v; compress/gzip %d bytes, %v)", msg, len(want), wantErr, len(std), stdErr)
	}
	return ""
}

// matchGunzip compares jj's output and error with a library's: the same
// kind of error, and the same bytes, or for an error the library's bytes
// first.
func matchGunzip(got []byte, err error, want []byte, wantErr error) string {
	if gzipClass(err) != gzipClass(wantErr) {
		return fmt.Sprintf("error %v (%s), the library's %v (%s)", err, gzipClass(err), wantErr, gzipClass(wantErr))
	}
	if wantErr == io.EOF || wantErr == nil {
		if !bytes.Equal(got, want) {
			return fmt.Sprintf("%d bytes out, the library %d, or different", len(got), len(want))
		}
	} else if !bytes.HasPrefix(got, want) {
		return fmt.Sprintf("%d bytes out, not starting with the library's %d", len(got), len(want))
	}
	return ""
}

func libGunzip(r io.Reader) (io.Reader, error) {
	z, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	return z, nil
}

// checkGunzip compares the two readers on data, read whole and a byte at a
// time (which takes jj's careful path at every symbol), and returns jj's
// output and error.
func checkGunzip(t *testing.T, name string, data []byte) ([]byte, error) {
	t.Helper()
	want, wantErr := gunzipWith(bytes.NewReader(data), libGunzip)
	var got []byte
	var gotErr error
	for _, mode := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"byte at a time", iotest.OneByteReader},
		{"halves", iotest.HalfReader},
	} {
		g, err := gunzipWith(mode.wrap(bytes.NewReader(data)), jjGunzip)
		if msg := sameGunzip(data, g, err, want, wantErr); msg != "" {
			t.Fatalf("%s, %s: %s", name, mode.name, msg)
		}
		if got != nil && !bytes.Equal(g, got) {
			t.Fatalf("%s, %s: %d bytes out, %d read whole", name, mode.name, len(g), len(got))
		}
		got, gotErr = g, err
	}
	return got, gotErr
}

// gzipPayloads returns data that takes each path of the decoder: real
// captures (literals and matches, more than one output buffer), random
// bytes (stored blocks), zeros (matches at distance 1), short periods
// (distances 2 to 7), text, and nothing.
func gzipPayloads(tb testing.TB) map[string][]byte {
	tb.Helper()
	var real []byte
	files, _ := filepath.Glob("../testdata/captures/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		real = append(real, b...)
	}
	if len(real) < 300_000 {
		tb.Fatalf("testdata/captures holds %d bytes, want 300 000 or more", len(real))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var periods []byte
	for p := 1; p <= 9; p++ {
		for i := range 20_000 {
			periods = append(periods, byte(i%p+p))
		}
		periods = append(periods, random[:p*7]...)
	}
	words := []string{"flow ", "packet ", "jj ", "capture ", "tcp ", "\n", "udp ", "0.000123 ", "syn ", "fin "}
	var text []byte
	for len(text) < 200_000 {
		text = append(text, words[rng.IntN(len(words))]...)
	}
	return map[string][]byte{
		"real":    real,
		"random":  random,
		"zeros":   make([]byte, 600_000),
		"periods": periods,
		"text":    text,
		"empty":   nil,
	}
}

// gzipWriters are the encoders the test data is compressed with: Go's and
// klauspost/compress's at their levels (0: stored blocks; -2: Huffman
// codes only), and the gzip tool's when there is one.
func gzipWriters() map[string]func([]byte) ([]byte, error) {
	w := map[string]func([]byte) ([]byte, error){}
	for _, level := range []int{-2, 0, 1, 6, 9} {
		w["compress/gzip "+string(rune('0'+level+2))] = func(b []byte) ([]byte, error) {
			var buf bytes.Buffer
			zw, err := stdgzip.NewWriterLevel(&buf, level)
			if err != nil {
				return nil, err
			}
			zw.Write(b)
			err = zw.Close()
			return buf.Bytes(), err
		}
	}
	for _, level := range []int{-3, 1, 5, 9} {
		w["klauspost "+string(rune('0'+level+3))] = func(b []byte) ([]byte, error) {
			var buf bytes.Buffer
			zw, err := gzip.NewWriterLevel(&buf, level)
			if err != nil {
				return nil, err
			}
			zw.Write(b)
			err = zw.Close()
			return buf.Bytes(), err
		}
	}
	if path, err := exec.LookPath("gzip"); err == nil {
		for _, level := range []string{"-1", "-6", "-9"} {
			w["gzip "+level] = func(b []byte) ([]byte, error) {
				cmd := exec.Command(path, level, "-c")
				cmd.Stdin = bytes.NewReader(b)
				return cmd.Output()
			}
		}
	}
	return w
}

func TestGzipReader(t *testing.T) {
	payloads := gzipPayloads(t)
	writers := gzipWriters()
	if len(writers) < 12 {
		t.Logf("no gzip tool: %d encoders", len(writers))
	}
	for pname, p := range payloads {
		for wname, w := range writers {
			data, err := w(p)
			if err != nil {
				t.Fatalf("%s, %s: %v", pname, wname, err)
			}
			got, err := checkGunzip(t, pname+", "+wname, data)
			if err != io.EOF || !bytes.Equal(got, p) {
				t.Fatalf("%s, %s: %d bytes and %v, want the %d bytes compressed", pname, wname, len(got), err, len(p))
			}
		}
	}
}

// gzipMembers is a small file of several members and blocks: dynamic
// blocks with sync flushes between them (empty stored blocks), a member of
// stored blocks, one of fixed codes, one whose header has every optional
// field, and an empty one.
func gzipMembers(tb testing.TB) []byte {
	tb.Helper()
	payloads := gzipPayloads(tb)
	real := payloads["real"]
	var out bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&out, 6)
	for i := range 3 {
		zw.Write(real[i*1500 : (i+1)*1500])
		zw.Flush()
	}
	zw.Close()
	zw, _ = stdgzip.NewWriterLevel(&out, 0)
	zw.Write(payloads["random"][:700])
	zw.Close()
	zw, _ = stdgzip.NewWriterLevel(&out, 9)
	zw.Write([]byte("fixed codes, fixed codes"))
	zw.Close()
	out.Write(gzipHeaderAll(tb, []byte("every field")))
	zw, _ = stdgzip.NewWriterLevel(&out, 1)
	zw.Close()
	return out.Bytes()
}

// gzipHeaderAll returns a member of b whose header has FEXTRA, FNAME,
// FCOMMENT and FHCRC (which Go's writer never sets).
func gzipHeaderAll(tb testing.TB, b []byte) []byte {
	tb.Helper()
	h := []byte{0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 1, 2, 3, 4, 0, 3}
	h = append(h, 5, 0, 'x', 'y', 'z', 'z', 'y')
	h = append(h, "name.pcap\x00a comment\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(crc32.ChecksumIEEE(h)))
	var body bytes.Buffer
	fw, _ := flate.NewWriter(&body, 5)
	fw.Write(b)
	fw.Close()
	h = append(h, body.Bytes()...)
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(b))
	return binary.LittleEndian.AppendUint32(h, uint32(len(b)))
}

// TestGzipCutsAndDamage compares the readers on every cut of a file of
// several members and blocks, and on every byte of it damaged.
func TestGzipCutsAndDamage(t *testing.T) {
	data := gzipMembers(t)
	full, err := checkGunzip(t, "whole", data)
	if err != io.EOF {
		t.Fatalf("whole: %v", err)
	}
	for n := range len(data) {
		got, _ := checkGunzip(t, "cut", data[:n])
		if !bytes.HasPrefix(full, got) {
			t.Fatalf("cut at %d: %d bytes out, not the start of the whole", n, len(got))
		}
	}
	bad := bytes.Clone(data)
	for i := range bad {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			bad[i] ^= x
			checkGunzip(t, "damaged", bad)
			bad[i] ^= x
		}
	}
}

// TestGzipSourceErrors: an error of the source comes after the output
// decoded before it, as the library gives it, and a source that gives
// nothing for ever is an error.
func TestGzipSourceErrors(t *testing.T) {
	data := gzipMembers(t)
	full, _ := gunzipWith(bytes.NewReader(data), jjGunzip)
	failing := errors.New("disk on fire")
	for _, n := range []int{0, 1, 9, 10, 30, 700, len(data) / 2, len(data) - 9, len(data) - 1, len(data)} {
		src := func() io.Reader { return io.MultiReader(bytes.NewReader(data[:n]), iotest.ErrReader(failing)) }
		got, err := gunzipWith(src(), jjGunzip)
		want, wantErr := gunzipWith(src(), libGunzip)
		if err != failing || wantErr != failing {
			t.Fatalf("cut at %d, then an error: %v, klauspost/compress %v; want %v", n, err, wantErr, failing)
		}
		if !bytes.HasPrefix(got, want) || !bytes.HasPrefix(full, got) {
			t.Fatalf("cut at %d, then an error: %d bytes out, klauspost/compress %d", n, len(got), len(want))
		}
	}
	_, err := gunzipWith(iotest.OneByteReader(io.MultiReader(bytes.NewReader(data[:100]), emptyReader{})), jjGunzip)
	if err != io.ErrNoProgress {
		t.Fatalf("a source that gives nothing: %v, want %v", err, io.ErrNoProgress)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// FuzzGzipReader compares the readers on any input (go test runs the
// seeds; go test -fuzz FuzzGzipReader ./capture looks further).
func FuzzGzipReader(f *testing.F) {
	f.Add(gzipMembers(f))
	p := gzipPayloads(f)
	for _, b := range [][]byte{p["text"][:3000], p["periods"][:5000], p["real"][:4000]} {
		for _, level := range []int{-2, 1, 9} {
			var buf bytes.Buffer
			zw, _ := stdgzip.NewWriterLevel(&buf, level)
			zw.Write(b)
			zw.Close()
			f.Add(buf.Bytes())
		}
	}
	// Dynamic blocks of a few hundred bytes, for tasks that a cut falls
	// under (sameParallelCut).
	var buf bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&buf, 6)
	for i := 0; i < 8000; i += 700 {
		zw.Write(p["text"][i : i+700])
		zw.Flush()
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := gunzipWith(bytes.NewReader(data), libGunzip)
		got, err := gunzipWith(bytes.NewReader(data), jjGunzip)
		if msg := sameGunzip(data, got, err, want, wantErr); msg != "" {
			t.Fatal(msg)
		}
		// With tasks (gzippar.go), chunks small enough for the inputs.
		if msg, _ := sameParallel(data, 64, 2); msg != "" {
			t.Fatal("with tasks: " + msg)
		}
		if msg, _ := sameParallelStride(data, 64, 2, 2); msg != "" {
			t.Fatal("with tasks on every other chunk: " + msg)
		}
		// The file cut under the tasks, a quarter to seven eighths in.
		for k := 2; k < 8; k++ {
			if msg, _ := sameParallelCut(data, 256, 2, len(data)*k/8, cutEnds[k%len(cutEnds)]); msg != "" {
				t.Fatal("cut with tasks: " + msg)
			}
		}
	})
}

// BenchmarkGunzip decodes the repository's real captures (mostly
// literals) and the synthetic records of BenchmarkPcapRead (mostly
// matches), compressed by compress/gzip at its default level, with jj's
// reader and the two libraries': MB/s of output.
func BenchmarkGunzip(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"real", gzipPayloads(b)["real"]},
		{"synthetic", pcapFile(benchPackets/10, benchSize)},
	}
	for _, in := range inputs {
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		zw.Write(in.data)
		zw.Close()
		for _, r := range []struct {
			name string
			new  func(io.Reader) (io.Reader, error)
		}{{"jj", jjGunzip}, {"klauspost", libGunzip}, {"compress-gzip", stdGunzip}} {
			b.Run(in.name+"/"+r.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				out := make([]byte, 1<<20)
				for b.Loop() {
					z, err := r.new(bytes.NewReader(buf.Bytes()))
					if err != nil {
						b.Fatal(err)
					}
					for {
						_, err := z.Read(out)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// TestGzipLongName: a file name or comment of up to 511 bytes is read,
// and a longer one refused, as the libraries do.
func TestGzipLongName(t *testing.T) {
	for _, n := range []int{511, 512} {
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		zw.Comment = string(bytes.Repeat([]byte("b"), n))
		zw.Write([]byte("a capture"))
		zw.Close()
		checkGunzip(t, fmt.Sprintf("comment of %d bytes", n), buf.Bytes())
		got, err := gunzipWith(bytes.NewReader(buf.Bytes()), jjGunzip)
		if n == 511 && (err != io.EOF || string(got) != "a capture") || n == 512 && err != errGzipHeader {
			t.Fatalf("comment of %d bytes: %q, %v", n, got, err)
		}
	}
}

// TestGzipNoDistanceCodes: a block that declares no distance code cannot
// hold a match. Here the first block holds "ab" and a match of three at
// distance 1, and the second, with no distance codes, a length code: jj
// and compress/gzip refuse it; klauspost/compress decodes it with the
// first block's distance code (a helper's review found it).
func TestGzipNoDistanceCodes(t *testing.T) {
	data := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x0c, 0xe0, 0xdb, 0x92, 0x24, 0x49, 0x92, 0x2c, 0xcb, 0x7e, 0x2b, 0xd1, 0xff, 0x7f, 0x04, 0x11, 0xe2, 0x6a, 0x00, 0xdf, 0x96, 0x24, 0x49, 0x92, 0x64, 0x59, 0xf6, 0x5b, 0x89, 0xfe, 0xff, 0x23, 0x88, 0x60, 0x01, 0x6b, 0x81, 0x8f, 0xed, 0x08, 0, 0, 0}
	got, err := checkGunzip(t, "no distance codes", data)
	if string(got) != "abbbb" || gzipClass(err) != "corrupt" {
		t.Fatalf("%q, %v; want %q and corrupt data", got, err, "abbbb")
	}
}

// TestGzipPipeStall: output decoded is handed on before jj waits for more
// input, as from a pipe whose writer pauses: after a flush of literals
// with long codes, after one whose last symbols and end take fewer bits
// than a whole symbol can (a helper's review), and after a member whose
// next member's header (3 000 bytes of extra field) is only half written.
func TestGzipPipeStall(t *testing.T) {
	flushed := func(level int, data []byte) func(io.Writer) {
		return func(w io.Writer) {
			zw, _ := stdgzip.NewWriterLevel(w, level)
			zw.Write(data)
			zw.Flush()
		}
	}
	real := gzipPayloads(t)["real"][:70_000]
	var next bytes.Buffer
	zw := stdgzip.NewWriter(&next)
	zw.Extra = make([]byte, 3000)
	zw.Write([]byte("the next member"))
	zw.Close()
	for _, tt := range []struct {
		name  string
		want  []byte
		write func(io.Writer)
	}{
		{"real traffic, flushed", real, flushed(stdgzip.DefaultCompression, real)},
		{"231 bytes of a, flushed", bytes.Repeat([]byte("a"), 231), flushed(1, bytes.Repeat([]byte("a"), 231))},
		{"a member, then half a header", real[:16_000], func(w io.Writer) {
			var b bytes.Buffer
			zw := stdgzip.NewWriter(&b)
			zw.Write(real[:16_000])
			zw.Close()
			w.Write(append(b.Bytes(), next.Bytes()[:1500]...)) // in one read
		}},
	} {
		pr, pw := io.Pipe()
		go func() {
			tt.write(pw)
			// The writer pauses here until the reader has given up.
		}()
		got := make(chan []byte, 1)
		go func() {
			z, err := newGzipReader(pr)
			if err != nil {
				got <- nil
				return
			}
			b := make([]byte, len(tt.want))
			n, _ := io.ReadFull(z, b)
			got <- b[:n]
		}()
		select {
		case b := <-got:
			if !bytes.Equal(b, tt.want) {
				t.Fatalf("%s: %d bytes before the pause, want the %d written", tt.name, len(b), len(tt.want))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the output written before the pause is held back", tt.name)
		}
		pw.Close()
	}
}
