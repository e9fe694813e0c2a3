package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	return compressWith(tb, b, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil })
}

func zstdBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func TestNewReaderCompressed(t *testing.T) {
	pcap := pcapFile(50, 100)
	pcapng := pcapngFile(50, 100)
	wantPcap, wantPcapng := allRecords(t, pcap, 50), allRecords(t, pcapng, 50)
	tests := []struct {
		name string
		in   []byte
		want []rec
	}{
		{"gzip pcap", gzipBytes(t, pcap), wantPcap},
		{"gzip pcapng", gzipBytes(t, pcapng), wantPcapng},
		{"zstd pcap", zstdBytes(t, pcap), wantPcap},
		{"zstd pcapng", zstdBytes(t, pcapng), wantPcapng},
		// Two gzip members, as `cat a.gz b.gz` makes.
		{"gzip in two members", append(gzipBytes(t, pcap[:1000]), gzipBytes(t, pcap[1000:])...), wantPcap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := readBytes(t, tt.in, "x.gz")
			if err != io.EOF {
				t.Errorf("Next = %v, want io.EOF", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records differ from those of the uncompressed file")
			}
		})
	}
}

func TestNewReaderErrors(t *testing.T) {
	pcap := pcapFile(20, 100)
	gz := gzipBytes(t, pcap)
	zs := zstdBytes(t, pcap)
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)-8] ^= 0xff // CRC-32 of the gzip trailer
	tests := []struct {
		name    string
		in      []byte
		openErr error // nil: opens, then Next fails with err
		err     error
		message string
	}{
		{name: "zero bytes", in: nil, openErr: ErrEmpty, message: "read x: empty file"},
		{name: "text", in: []byte("hello, world\n"), openErr: ErrNotCapture, message: "read x: not a pcap or pcapng file"},
		{name: "one byte", in: []byte{'h'}, openErr: ErrNotCapture},
		{name: "start of a pcap magic", in: []byte{0xd4, 0xc3, 0xb2}, openErr: ErrTruncated},
		{name: "start of a gzip magic", in: []byte{0x1f}, openErr: ErrTruncated},
		{name: "gzip header cut", in: gz[:5], openErr: ErrTruncated},
		{name: "gzip of nothing", in: gzipBytes(t, nil), openErr: ErrEmpty},
		{name: "gzip of text", in: gzipBytes(t, []byte("hello, world\n")), openErr: ErrNotCapture},
		{name: "gzip of gzip", in: gzipBytes(t, gz), openErr: ErrNotCapture, message: "read x: not a pcap or pcapng file: compressed data is not a capture"},
		{name: "zstd of text", in: zstdBytes(t, []byte("hello, world\n")), openErr: ErrNotCapture},
		{name: "gzip cut off", in: gz[:len(gz)/2], err: ErrTruncated},
		{name: "gzip trailer missing", in: gz[:len(gz)-8], err: ErrTruncated},
		{name: "gzip checksum wrong", in: corrupt, err: ErrCorrupt},
		{name: "zstd cut off in the first block", in: zs[:len(zs)/2], openErr: ErrTruncated},
		{name: "zstd header garbage", in: append(bytes.Clone(magicZstd), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), openErr: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, recs, err := readBytes(t, tt.in, "x")
			checkErr(t, err)
			if tt.openErr != nil {
				if rd != nil || !errors.Is(err, tt.openErr) {
					t.Errorf("NewReader = %v, want an error wrapping %q", err, tt.openErr)
				}
			} else if rd == nil || !errors.Is(err, tt.err) {
				t.Errorf("after %d records: %v, want an error wrapping %q", len(recs), err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "read x: ") {
				t.Errorf("message %q does not start with %q", err, "read x: ")
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("message = %q, want %q", err, tt.message)
			}

			// Open decompresses in a goroutine of its own (readAhead):
			// the same records, then the same error.
			_, opened, orecs, oerr := openBytes(t, tt.in)
			want := tt.openErr
			if want == nil {
				want = tt.err
			}
			if opened != (rd != nil) || !errors.Is(oerr, want) || len(orecs) != len(recs) {
				t.Errorf("Open: %d records then %v, want %d records then an error wrapping %q", len(orecs), oerr, len(recs), want)
			}
		})
	}
}

// writeFile writes b to dir/name and returns the path.
func writeFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	pcap := pcapFile(3000, 600) // 1.8 MB: more than one buffer
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"a.pcap", pcap},
		{"a.pcap.zst", zstdBytes(t, pcap)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.name, tt.b)
			rd, c, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			p := rd.(Progress)
			if p.Size() != int64(len(tt.b)) {
				t.Errorf("Size() = %d, want %d", p.Size(), len(tt.b))
			}
			recs, err := readAll(t, rd)
			if err != io.EOF || len(recs) != 3000 {
				t.Errorf("read %d records then %v, want 3000 then io.EOF", len(recs), err)
			}
			if p.BytesRead() != int64(len(tt.b)) {
				t.Errorf("BytesRead() = %d at the end, want %d", p.BytesRead(), len(tt.b))
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(dir, "missing.pcap")
		_, _, err := Open(path)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%q) = %v, want a not-exist error naming it", path, err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, _, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open(%q) = %v, want an error naming it", dir, err)
		}
	})
	t.Run("cut file names itself and the offset", func(t *testing.T) {
		path := writeFile(t, dir, "cut.pcap", pcap[:24+616+10])
		rd, c, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		recs, err := readAll(t, rd)
		want := "read " + path + ": file cut off mid-record: 10 of 16 bytes present at offset 640"
		if len(recs) != 1 || err == nil || err.Error() != want {
			t.Errorf("read %d records then %v, want 1 then %q", len(recs), err, want)
		}
	})
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	pcap := pcapFile(1, 10)
	writeFile(t, dir, "b.pcap", pcap)
	writeFile(t, dir, "a.cap", pcapngFile(1, 10))
	writeFile(t, dir, "c.gz", gzipBytes(t, pcap))
	writeFile(t, dir, "d.zst", zstdBytes(t, pcap))
	writeFile(t, dir, "f.xz", xzBytes(t, pcap))                // a 6-byte magic
	writeFile(t, dir, "k.lz4", []byte{0x02, 0x21, 0x4c, 0x18}) // legacy lz4: taken, to fail with a hint
	writeFile(t, dir, "legacy.tar.lz4", []byte{0x02, 0x21, 0x4c, 0x18})
	writeFile(t, dir, "legacy-inside", []byte{0x02, 0x21, 0x4c, 0x18})
	writeFile(t, dir, "report.docx", []byte("PK\x03\x04\x14\x00"))
	writeFile(t, dir, "g.lz4", lz4Bytes(t, pcap))
	writeFile(t, dir, "h.bz2", []byte("BZh9\x31\x41\x59\x26\x53\x59"))
	writeFile(t, dir, "i.bz2", []byte("BZh0")) // no such block size
	writeFile(t, dir, "notes.txt", []byte("not a capture"))
	writeFile(t, dir, "empty.pcap", nil)
	writeFile(t, dir, "notes.PCAPNG.gz", []byte("named as a capture, is none"))
	writeFile(t, dir, "flows.csv.gz", gzipBytes(t, []byte("src_ip,dst_ip\n10.0.0.1,10.0.0.2\n"))) // jj's own output: not a capture
	writeFile(t, dir, "flows.zst", zstdBytes(t, []byte("text")))
	writeFile(t, dir, "broken.gz", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad}) // cannot tell: taken, to say why
	writeFile(t, dir, "notes.pcap.txt", []byte("not named as a capture"))
	writeFile(t, dir, "short", []byte{0xd4, 0xc3})
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub"), "e.pcap", pcap)
	// Links: to itself (cannot be looked at: taken, so that reading it
	// says so), and dangling, named as a capture (taken) or not (no file).
	for name, to := range map[string]string{"loop": "loop", "dangling.pcap": "nowhere", "dangling": "nowhere"} {
		if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	writeFile(t, empty, "readme.md", []byte("# nothing here"))
	text := writeFile(t, empty, "explicit.txt", []byte("given by name"))

	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{
			name: "directory: captures, compressed ones, files named as captures, entries that cannot be looked at, sorted by name, not recursive",
			in:   []string{dir},
			want: []string{"a.cap", "b.pcap", "broken.gz", "c.gz", "d.zst", "dangling.pcap", "empty.pcap", "f.xz", "g.lz4", "h.bz2", "k.lz4", "loop", "notes.PCAPNG.gz"},
		},
		{
			name: "order of arguments kept, files and - as given",
			in:   []string{text, "-", dir},
			want: []string{text, "-", "a.cap", "b.pcap", "broken.gz", "c.gz", "d.zst", "dangling.pcap", "empty.pcap", "f.xz", "g.lz4", "h.bz2", "k.lz4", "loop", "notes.PCAPNG.gz"},
		},
		{name: "no captures", in: []string{empty}, wantErr: "no capture files in " + empty},
		{name: "missing path", in: []string{filepath.Join(dir, "nope")}, wantErr: filepath.Join(dir, "nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Expand = %v, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				if !filepath.IsAbs(w) && w != "-" {
					tt.want[i] = filepath.Join(dir, w)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Expand = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStreamGrowth reads records larger than the buffer, through a reader
// that returns a few bytes at a time.
func TestStreamGrowth(t *testing.T) {
	sizes := []int{10, bufMax + 3, 5, 3*bufMax + 1, 0, 7}
	file := sizedPcap(sizes)
	for _, chunk := range []int{1 << 30, 4093} {
		rd, err := NewReader(&chunkReader{b: file, n: chunk}, "x")
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(t, rd)
		if err != io.EOF || len(recs) != len(sizes) {
			t.Fatalf("read %d records then %v", len(recs), err)
		}
		for i, r := range recs {
			if len(r.data) != sizes[i] || r.data != strings.Repeat(string(rune(i)), sizes[i]) {
				t.Errorf("record %d: %d bytes, want %d bytes of %d", i, len(r.data), sizes[i], i)
			}
		}
	}
}

// chunkReader returns at most n bytes per Read, and sometimes none.
type chunkReader struct {
	b     []byte
	n     int
	calls int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if r.calls++; r.calls%3 == 0 {
		return 0, nil
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestStuckReader ends with io.ErrNoProgress on a reader that never returns
// anything, rather than looping.
func TestStuckReader(t *testing.T) {
	_, err := NewReader(stuckReader{}, "x")
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("NewReader = %v, want io.ErrNoProgress", err)
	}
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// TestReadError passes an I/O error of the source through, after the
// records before it, plain or compressed, named and not called corrupt.
func TestReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	pcap := pcapFile(10, 100)
	for _, tt := range []struct {
		name   string
		b      []byte
		atOpen bool // the error comes from NewReader
	}{
		{"plain", pcap, false},
		{"gzip", gzipBytes(t, pcap), false},
		{"lz4", lz4Bytes(t, pcap), true}, // its one block is decompressed whole
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := io.MultiReader(bytes.NewReader(tt.b[:len(tt.b)-20]), iotest.ErrReader(errDisk))
			rd, err := NewReader(src, "x")
			if (err != nil) != tt.atOpen {
				t.Fatalf("NewReader: %v", err)
			}
			if err == nil {
				_, err = readAll(t, rd)
			}
			if !errors.Is(err, errDisk) || errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "read x: disk on fire") {
				t.Errorf("Next = %v, want the source's error", err)
			}
		})
	}
}

// TestOpenCompressedProgress reads compressed captures through Open,
// which decompresses in a goroutine of its own while the caller asks how
// far it got (run with -race): the count grows to the file's size.
func TestOpenCompressedProgress(t *testing.T) {
	pcap := pcapFile(5000, 600)
	for name, b := range compressedFiles(t, "p", pcap) {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), name, b)
			rd, c, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pr := rd.(Progress)
			var rec Record
			last, n := int64(0), 0
			for rd.Next(&rec) == nil {
				if n++; n%100 == 0 {
					b := pr.BytesRead()
					if b < last {
						t.Fatalf("BytesRead went back from %d to %d", last, b)
					}
					last = b
				}
			}
			if n != 5000 || pr.BytesRead() != int64(len(b)) {
				t.Errorf("%d records, BytesRead %d, want 5000 and %d", n, pr.BytesRead(), len(b))
			}
		})
	}
}

// TestOpenCloseEarly closes compressed captures after one record: the
// decompressing goroutines stop.
func TestOpenCloseEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	pcap := pcapFile(20000, 600)
	for name, b := range compressedFiles(t, "e", pcap) {
		path := writeFile(t, t.TempDir(), name, b)
		rd, c, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		if err := rd.Next(&rec); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after closing, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenLargeMapped reads a mapped capture larger than the populate
// window and the release step, so that the pager goroutine maps pages
// ahead and gives them back behind while the records are read (run with
// -race), and stops when the capture is closed.
func TestOpenLargeMapped(t *testing.T) {
	if testing.Short() {
		t.Skip("writes an 80 MB file")
	}
	const n = 130000
	src := pcapFile(n, 600)
	for i := range n { // every record's bytes its own
		binary.LittleEndian.PutUint32(src[24+i*616+16:], uint32(i))
	}
	path := writeFile(t, t.TempDir(), "big.pcap", src)
	evictFile(t, path) // read from disk: in huge folios where the system can
	var willNeeds atomic.Int64
	saved := testHookWillNeed
	testHookWillNeed = func() { willNeeds.Add(1) }
	t.Cleanup(func() { testHookWillNeed = saved })
	rd, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	in := c.(closer).in
	if !in.raw.mapped {
		t.Skip("no file mapping on this system")
	}
	if !rd.(Stable).Stable() {
		t.Error("a mapped file's reader is not Stable")
	}
	var rec Record
	var kept [][]byte // every 997th record's bytes, not copied
	got := 0
	for rd.Next(&rec) == nil {
		if rec.WireLen != 600 || len(rec.Data) != 600 {
			t.Fatalf("record %d: %d bytes of %d", got, len(rec.Data), rec.WireLen)
		}
		if got%997 == 0 {
			kept = append(kept, rec.Data)
		}
		got++
	}
	if got != n {
		t.Errorf("%d records, want %d", got, n)
	}
	if in.raw.pager == nil || in.raw.released == 0 || in.raw.populated != len(in.raw.buf) {
		t.Errorf("pager %v, released %d, populated %d of %d", in.raw.pager != nil, in.raw.released, in.raw.populated, len(in.raw.buf))
	}
	// Stable: records of the part given back to the kernel still hold
	// their bytes, read from the page cache again. Stopping the pager
	// waits for its last release, so that every kept record but the last
	// few is read after its pages were given back.
	in.raw.stop()
	// The kernel reads ahead either in huge folios, as populate faults the
	// pages in (hugeReads, which the pager keeps only if the first window
	// mapped as huge pages), or as the pager asks (willNeed), not both.
	t.Logf("huge-folio reads: %v", in.raw.hugeReads)
	if asks := willNeeds.Load(); in.raw.hugeReads != (asks == 0) {
		t.Errorf("huge-folio reads %v, and the pager asked for read-ahead %d times", in.raw.hugeReads, asks)
	}
	_, want, _ := readBytes(t, src, "x")
	for i, d := range kept {
		if w := want[i*997]; string(d) != w.data || binary.LittleEndian.Uint32(d) != uint32(i*997) {
			t.Fatalf("record %d kept from the mapping: bytes changed after the reader went on", i*997)
		}
	}
	c.Close()
	if in.raw.pager != nil {
		t.Error("pager still running after Close")
	}
}

// TestOpenCorruptMiddle: a compressed capture damaged in the middle gives,
// through Open (which decompresses in another goroutine) exactly the
// records NewReader gives, then the same error: nothing before the damage
// is lost.
func TestOpenCorruptMiddle(t *testing.T) {
	pcap := pcapFile(30000, 600) // 18 MB: several read-ahead buffers
	for name, b := range compressedFiles(t, "m", pcap) {
		t.Run(name, func(t *testing.T) {
			bad := bytes.Clone(b)
			for i := len(bad) / 2; i < len(bad)/2+64; i++ {
				bad[i] ^= 0x5a
			}
			_, want, werr := readBytes(t, bad, "m")
			if werr == nil || werr == io.EOF || len(want) == 0 {
				t.Fatalf("NewReader: %d records, %v: the damage went unnoticed", len(want), werr)
			}
			rd, c, err := Open(writeFile(t, t.TempDir(), name, bad))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, gerr := readAll(t, rd)
			if len(got) != len(want) || !errors.Is(gerr, ErrCorrupt) != !errors.Is(werr, ErrCorrupt) {
				t.Errorf("Open: %d records then %v; NewReader: %d records then %v", len(got), gerr, len(want), werr)
			}
		})
	}
}

// Only a file read through its mapping is Stable: not a compressed file,
// whose records are decompressed into a buffer used again, and not a
// reader given to NewReader.
func TestStable(t *testing.T) {
	dir := t.TempDir()
	pcap := pcapFile(20, 100)
	for name, want := range map[string]bool{"a.pcap": true, "a.pcapng": true, "a.pcap.gz": false, "a.pcap.zst": false} {
		b := pcap
		switch filepath.Ext(name) {
		case ".pcapng":
			b = pcapngFile(20, 100)
		case ".gz":
			b = gzipBytes(t, pcap)
		case ".zst":
			b = zstdBytes(t, pcap)
		}
		rd, c, err := Open(writeFile(t, dir, name, b))
		if err != nil {
			t.Fatal(err)
		}
		if want && !c.(closer).in.raw.mapped {
			t.Skip("no file mapping on this system")
		}
		if got := rd.(Stable).Stable(); got != want {
			t.Errorf("%s: Stable() = %v, want %v", name, got, want)
		}
		c.Close()
	}
	rd, err := NewReader(bytes.NewReader(pcap), "x")
	if err != nil {
		t.Fatal(err)
	}
	if rd.(Stable).Stable() {
		t.Error("NewReader's reader is Stable")
	}
}

// TestOpenFile reads one capture through OpenFile four ways: a file at its
// start is mapped (Stable) and left at its end, a file read from
// elsewhere and a pipe are streams from where they are, and a gzip file
// is decompressed; each gives the capture's records, and Close leaves the
// file open.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	pcap := pcapFile(50, 300)
	want, err := readAll(t, mustReader(t, pcap))
	if err != io.EOF {
		t.Fatal(err)
	}
	const junk = 16 // bytes before the capture in the "from elsewhere" file
	tests := []struct {
		name   string
		open   func() *os.File
		mapped bool
		size   int64 // Progress.Size: the file's, if read from its start
	}{
		{"file at its start", func() *os.File { return mustOpen(t, writeFile(t, dir, "a.pcap", pcap)) }, true, int64(len(pcap))},
		{"file from elsewhere", func() *os.File {
			f := mustOpen(t, writeFile(t, dir, "b.pcap", append(make([]byte, junk), pcap...)))
			if _, err := f.Seek(junk, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			return f
		}, false, -1},
		{"pipe", func() *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() { w.Write(pcap); w.Close() }()
			t.Cleanup(func() { r.Close() })
			return r
		}, false, -1},
		{"gzip file", func() *os.File { return mustOpen(t, writeFile(t, dir, "c.pcap.gz", gzipBytes(t, pcap))) }, false, int64(len(gzipBytes(t, pcap)))},
	}
	// Open maps a path where the system can map files.
	rd, c, err := Open(writeFile(t, dir, "d.pcap", pcap))
	if err != nil {
		t.Fatal(err)
	}
	canMap := rd.(Stable).Stable()
	c.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mapped && !canMap {
				t.Skip("no file mapping on this system")
			}
			f := tt.open()
			rd, c, err := OpenFile(f, "-")
			if err != nil {
				t.Fatal(err)
			}
			if got := rd.(Stable).Stable(); got != tt.mapped {
				t.Errorf("Stable() = %v, want %v", got, tt.mapped)
			}
			if got := rd.(Progress).Size(); got != tt.size {
				t.Errorf("Size() = %d, want %d", got, tt.size)
			}
			if tt.mapped {
				// Consumed, as a stream read to its end would be.
				if off, _ := f.Seek(0, io.SeekCurrent); off != int64(len(pcap)) {
					t.Errorf("the file's offset after OpenFile = %d, want its size %d", off, len(pcap))
				}
			}
			got, err := readAll(t, rd)
			if err != io.EOF || !reflect.DeepEqual(got, want) {
				t.Errorf("read %d records, then %v; want the capture's %d, then EOF", len(got), err, len(want))
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Stat(); err != nil {
				t.Errorf("the file after Close: %v, want it open", err)
			}
		})
	}
}

// mustReader opens b with NewReader.
func mustReader(t *testing.T, b []byte) Reader {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b), "x")
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// mustOpen opens path and closes it when the test ends.
func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestHold checks Holder on a mapped capture: the reader gives back no byte
// from the held offset on while it walks on, releases again once the hold
// moves on or is lifted, and a hold on a reader that maps nothing does
// nothing.
func TestHold(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 60 MB file")
	}
	const n = 100000 // 616-byte records: 61.6 MB
	path := writeFile(t, t.TempDir(), "big.pcap", pcapFile(n, 600))
	rd, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := c.(closer).in
	if !in.raw.mapped {
		t.Skip("no file mapping on this system")
	}
	h, pr := rd.(Holder), rd.(Progress)
	var rec Record
	read := func(k int) {
		for range k {
			if err := rd.Next(&rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	read(10000) // 6.2 MB: nothing given back yet
	held := pr.BytesRead()
	h.Hold(held)
	read(50000) // to 37 MB, two release periods on
	if in.raw.released != 0 {
		t.Errorf("held at %d: %d bytes given back", held, in.raw.released)
	}
	// The hold moves to 20.3 MB (19.4 MiB): the first 18 MiB go, not the
	// part of the 2 MiB after them up to the hold (releases are of whole
	// 2 MiB).
	read(1)
	held = 33000*616 + 24
	h.Hold(held)
	read(1)
	if want := 18 << 20; in.raw.released != want {
		t.Errorf("hold moved to %d: %d bytes given back, want %d", held, in.raw.released, want)
	}
	h.Hold(-1)
	read(1)
	if got, at := in.raw.released, int(pr.BytesRead()); got > at || got < at-hugePage {
		t.Errorf("hold lifted at %d: %d bytes given back, want the last 2 MiB boundary before it", at, got)
	}
	// A capture read from a pipe-like reader maps nothing: Hold is a no-op.
	r2, err := NewReader(bytes.NewReader(pcapFile(3, 60)), "pipe")
	if err != nil {
		t.Fatal(err)
	}
	r2.(Holder).Hold(0)
	if err := r2.Next(&rec); err != nil {
		t.Error(err)
	}
}

// TestPagerFallsBack: where the huge-page advice was taken but the first
// window did not map as huge pages (an older kernel, a filesystem without
// large folios), the pager reads ahead as before.
func TestPagerFallsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 25 MB file")
	}
	src := pcapFile(40000, 600)
	path := writeFile(t, t.TempDir(), "big.pcap", src)
	var willNeeds atomic.Int64
	savedHook, savedHuge := testHookWillNeed, mappedHuge
	testHookWillNeed = func() { willNeeds.Add(1) }
	mappedHuge = func([]byte) bool { return false }
	t.Cleanup(func() { testHookWillNeed, mappedHuge = savedHook, savedHuge })
	rd, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := c.(closer).in
	if !in.raw.mapped || !thpAllowed() {
		t.Skip("no file mapping with the huge-page advice here")
	}
	var rec Record
	got := 0
	for rd.Next(&rec) == nil {
		got++
	}
	in.raw.stop()
	if got != 40000 || in.raw.hugeReads || willNeeds.Load() == 0 {
		t.Errorf("%d records; huge-folio reads %v, read-ahead asked %d times", got, in.raw.hugeReads, willNeeds.Load())
	}
}

// TestStartsAsInput: a file starts as an input exactly when Open takes
// it, compressed or not: a capture's whole header of a link type jj
// decodes, which for pcapng is the first packet's interface.
func TestStartsAsInput(t *testing.T) {
	dir := t.TempDir()
	vsock, err := os.ReadFile("testdata/linktype-271-vsock.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile("testdata/spb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		data []byte
		want bool
	}{
		"notes.pcap": {[]byte("hello, world\n"), false},
		"empty.pcap": {nil, false},
		"half.pcap":  {[]byte{0xd4, 0xc3}, false},
		// A magic alone is not a header.
		"magic.pcap":   {[]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}, false},
		"cut.pcap":     {pcapHeader(false, 1)[:10], false},
		"magic.pcapng": {[]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0}, false},
		// Whole pcap headers: the link type decides, in either byte order
		// (FCS bits above the type's 16 do not matter).
		"eth-le.pcap":     {pcapHeader(false, 1), true},
		"eth-be.pcap":     {pcapHeader(true, 1), true},
		"eth-fcs.pcap":    {pcapHeader(false, 0x1000_0001), true},
		"type160.pcap":    {pcapHeader(false, 160), false},
		"type160-be.pcap": {pcapHeader(true, 160), false},
		// pcapng: the first packet's interface decides.
		"spb.pcapng":   {ng, true},
		"vsock.pcapng": {vsock, false},
		// Compressed: what the stream decompresses to decides.
		"eth.pcap.gz":     {gzipBytes(t, pcapHeader(false, 1)), true},
		"type160.pcap.gz": {gzipBytes(t, pcapHeader(false, 160)), false},
		"vsock.pcapng.gz": {gzipBytes(t, vsock), false},
		"notes.gz":        {gzipBytes(t, []byte("hello, world\n")), false},
		"f.gz":            {[]byte{0x1f, 0x8b, 8, 0}, false},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := StartsAsInput(path); got != tt.want {
			t.Errorf("%s: StartsAsInput = %v, want %v", name, got, tt.want)
		}
	}
	if StartsAsInput(filepath.Join(dir, "missing.pcap")) || StartsAsInput(dir) {
		t.Error("a missing file or a directory starts as an input")
	}
}

// TestFileStartsAsInput: an open regular file starts as an input when
// what lies from its offset on does, and the check leaves the offset
// where it was; a pipe may, and the check reads none of it.
func TestFileStartsAsInput(t *testing.T) {
	dir := t.TempDir()
	junk := []byte("hello")
	junkEth := slices.Concat(junk, pcapHeader(false, 1))
	for name, tt := range map[string]struct {
		data []byte
		off  int64
		want bool
	}{
		"eth.pcap":             {pcapHeader(false, 1), 0, true},
		"notes.pcap":           {[]byte("hello, world\n"), 0, false},
		"empty.pcap":           {nil, 0, false},
		"type160.pcap":         {pcapHeader(false, 160), 0, false},
		"eth.pcap.gz":          {gzipBytes(t, pcapHeader(false, 1)), 0, true},
		"type160.pcap.gz":      {gzipBytes(t, pcapHeader(false, 160)), 0, false},
		"junk-eth.pcap":        {junkEth, 0, false},
		"junk-eth.pcap, past":  {junkEth, int64(len(junk)), true},
		"eth.pcap, past":       {pcapHeader(false, 1), 1, false},
		"eth.pcap, at its end": {pcapHeader(false, 1), 24, false},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, ", ", "-"))
		if err := os.WriteFile(path, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(tt.off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if got := FileStartsAsInput(f); got != tt.want {
			t.Errorf("%s: FileStartsAsInput = %v, want %v", name, got, tt.want)
		}
		if off, _ := f.Seek(0, io.SeekCurrent); off != tt.off {
			t.Errorf("%s: the offset moved from %d to %d", name, tt.off, off)
		}
		f.Close()
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.Write(junk); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !FileStartsAsInput(r) {
		t.Error("a pipe does not start as an input")
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, junk) {
		t.Errorf("the pipe then held %q, want %q", got, junk)
	}
}

// pcapHeader returns a pcap file header (microseconds, version 2.4, snap
// length 65535) of the link type field, in big- or little-endian order.
func pcapHeader(big bool, field uint32) []byte {
	order := binary.ByteOrder(binary.LittleEndian)
	if big {
		order = binary.BigEndian
	}
	h := make([]byte, 24)
	order.PutUint32(h, 0xa1b2c3d4)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 65535)
	order.PutUint32(h[20:], field)
	return h
}
