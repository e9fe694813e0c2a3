package capture

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bigPcap writes a pcap of 24.6 MB, more than a pager's window, each
// record's first bytes its number, and returns its path and record count.
func bigPcap(t *testing.T) (string, int) {
	t.Helper()
	const n = 40000
	src := pcapFile(n, 600)
	for i := range n {
		binary.LittleEndian.PutUint32(src[24+i*616+16:], uint32(i))
	}
	return writeFile(t, t.TempDir(), "big.pcap", src), n
}

// TestMapCostly checks the probe's decision: read(2) only for a file in
// the page cache whose mapped pages cost more than costlyPage.
func TestMapCostly(t *testing.T) {
	path, _ := bigPcap(t)
	savedPage := costlyPage
	t.Cleanup(func() { costlyPage = savedPage })
	probe := func() bool {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		data := mapFile(f, fi.Size())
		if data == nil {
			t.Skip("no file mapping on this system")
		}
		defer unmapFile(data)
		readsHuge(data)
		return mapCostly(data)
	}
	for _, c := range []struct {
		page time.Duration
		want bool
	}{
		{0, true},          // every page costs more than nothing
		{time.Hour, false}, // cheap pages
	} {
		costlyPage = c.page
		if got := probe(); got != c.want {
			t.Errorf("costlyPage %v: mapCostly = %v, want %v", c.page, got, c.want)
		}
	}
	costlyPage = 0
	evictFile(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Mapped without populating, which would read the pages back.
	if data, err := unix.Mmap(int(f.Fd()), 0, 1<<20, unix.PROT_READ, unix.MAP_SHARED); err == nil {
		missing, pages := absent(data)
		unix.Munmap(data)
		if pages > 0 && missing == 0 {
			t.Skip("the file stays in the page cache here (a tmpfs?)")
		}
	}
	if probe() {
		t.Error("mapCostly = true for a file not in the page cache")
	}
}

// TestMapCostlyMostlyCached checks that a file missing a few pages from
// the page cache, as this project's VM's reclaim leaves a file unread for
// a while, is timed like a cached one, on the windows wholly cached, and
// that one missing a larger share (more than 1/coldShare of the probed
// pages) is mapped untimed.
func TestMapCostlyMostlyCached(t *testing.T) {
	// Written 4 KiB at a time, so that the page cache holds it in pages
	// of that size, each of which can be dropped alone.
	path := filepath.Join(t.TempDir(), "pages.pcap")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	src := pcapFile(100000, 600) // 61.6 MB: 29 pages of 2 MiB, four windows
	for i := 0; i < len(src); i += 4096 {
		if _, err := w.Write(src[i:min(i+4096, len(src))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	savedPage := costlyPage
	t.Cleanup(func() { costlyPage = savedPage })
	costlyPage = 0 // a timed file is always dearer than that
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // dirty pages are not dropped
		t.Fatal(err)
	}
	size := int64(len(src))
	// evict drops the file's 4 KiB pages [from, to).
	evict := func(from, to int64) {
		if err := unix.Fadvise(int(f.Fd()), from*4096, (to-from)*4096, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(drop func()) (bool, int) {
		if _, err := io.Copy(io.Discard, io.NewSectionReader(f, 0, size)); err != nil {
			t.Fatal(err) // all of it cached again
		}
		drop()
		data := mapFile(f, size)
		if data == nil {
			t.Skip("no file mapping on this system")
		}
		defer unmapFile(data)
		missing := 0
		for _, off := range probeOffsets(len(data)) {
			m, _ := absent(data[off : off+probeBytes])
			missing += m
		}
		return mapCostly(data), missing
	}
	offs := probeOffsets(int(size))
	// Each case drops pages no case before it did: pages read back from
	// disk may come in larger folios, which a page's eviction leaves.
	all := func() { // a page of every window: none timed, and so mapped
		for _, off := range offs {
			p := int64(off) / 4096
			evict(p+10, p+11)
		}
	}
	costly, missing := probe(all)
	if missing == 0 {
		t.Skip("pages stay in the page cache here (a tmpfs?)")
	}
	if costly {
		t.Errorf("a file missing %d probed pages, one in each window, was dearer than nothing", missing)
	}
	few := func() { // two pages of every other window: 4 of 1 024
		for k := 0; k < len(offs); k += 2 {
			p := int64(offs[k]) / 4096
			evict(p+100, p+101)
			evict(p+200, p+201)
		}
	}
	if costly, missing := probe(few); !costly {
		t.Errorf("a file missing %d probed pages was mapped untimed", missing)
	}
	half := func() { evict(size/4096/2, size/4096) }
	if costly, missing := probe(half); costly {
		t.Errorf("a file missing %d probed pages was timed", missing)
	}
}

// TestProbeOffsets checks where the probe's windows fall, against offsets
// worked out by hand (in 2 MiB pages).
func TestProbeOffsets(t *testing.T) {
	for _, c := range []struct {
		size  int
		pages []int // offsets in 2 MiB pages
	}{
		{2 << 20, []int{0}}, // one 2 MiB page: the first
		{4<<20 - 1, []int{0}},
		{9<<20 + 5, []int{1, 2, 3}},     // four whole 2 MiB pages, the first left out
		{16<<20 + 1, []int{1, 3, 5, 7}}, // at least four windows: 1 + 6k/3
		// The 218 k-packet capture, 74.2 MiB: 37 pages, two windows of
		// 32 MiB, four at least: 1 + 35k/3.
		{77763944, []int{1, 12, 24, 36}},
		// 200 MiB: six windows, 1 + 98k/5.
		{200 << 20, []int{1, 20, 40, 59, 79, 99}},
		// 1 GiB and 5 bytes (an int on 32-bit systems too): 512 whole
		// pages, 32 windows' worth, sixteen at most: 1 + 510k/15.
		{1<<30 + 5, []int{1, 35, 69, 103, 137, 171, 205, 239, 273, 307, 341, 375, 409, 443, 477, 511}},
	} {
		var want []int
		for _, p := range c.pages {
			want = append(want, p*hugePage)
		}
		got := probeOffsets(c.size)
		if !slices.Equal(got, want) {
			t.Errorf("probeOffsets(%d) = %v, want %v", c.size, got, want)
		}
		for _, off := range got {
			if off+probeBytes > c.size {
				t.Errorf("probeOffsets(%d): a window at %d ends past the file", c.size, off)
			}
		}
	}
}

// TestOpenReadsWhereMappingCostly opens a capture larger than a pager's
// window, with Open and OpenFile, the probe saying yes, then no: the same
// records either way, read with read(2) into the buffers of a ring that
// reads ahead, then from the mapping; and with MapAlways, mapped even
// where the probe says yes.
func TestOpenReadsWhereMappingCostly(t *testing.T) {
	path, n := bigPcap(t)
	saved, savedAlways := mapCostly, MapAlways
	t.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	MapAlways = false
	open := map[string]func() (Reader, io.Closer, error){
		"Open": func() (Reader, io.Closer, error) { return Open(path) },
		"OpenFile": func() (Reader, io.Closer, error) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return OpenFile(f, "big")
		},
	}
	for _, costly := range []bool{true, false} {
		for how, open := range open {
			mapCostly = func([]byte) bool { return costly }
			rd, c, err := open()
			if err != nil {
				t.Fatal(err)
			}
			cl := c.(closer)
			if mapped := cl.mapping != nil; mapped == costly {
				t.Errorf("%s, costly %v: mapped %v", how, costly, mapped)
			}
			got, _ := readNumbered(t, rd, fmt.Sprintf("%s, costly %v", how, costly))
			if got != n {
				t.Errorf("%s, costly %v: %d records, want %d", how, costly, got, n)
			}
			if ahead := cl.in.raw.ring != nil; ahead != costly {
				t.Errorf("%s, costly %v: read ahead by a ring %v", how, costly, ahead)
			}
			c.Close()
			if costly {
				ringClosed(t, cl.in)
			}
		}
	}
	// MapAlways maps the file whatever the probe says.
	MapAlways = true
	mapCostly = func([]byte) bool { return true }
	_, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.(closer).mapping == nil {
		t.Error("MapAlways: not mapped")
	}
	c.Close()
}

// TestJoinedCapturesSaySo reads two captures joined with cat, the first
// larger than a pager's window, every way a file is read: mapped, with
// read(2) into a ring's buffers, through NewReader's buffer, and gzipped.
// Each gives the first capture's records and the record that the second
// file header's first 16 bytes make, then an error naming the second
// header, at its offset.
func TestJoinedCapturesSaySo(t *testing.T) {
	const n = 30000
	first := pcapFile(n, 600)
	joined := append(slices.Clip(first), pcapFile(10, 600)...)
	path := writeFile(t, t.TempDir(), "joined.pcap", joined)
	gz := writeFile(t, t.TempDir(), "joined.pcap.gz", gzipBytes(t, joined))
	saved, savedAlways := mapCostly, MapAlways
	t.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	MapAlways = false
	want := fmt.Sprintf("corrupt capture: a second pcap file header, as where two captures are joined with cat (give each as an input, or merge them with mergecap) at offset %d", len(first))
	check := func(how string, rd Reader, wantMapped, mapped bool) {
		t.Helper()
		recs, err := readAll(t, rd)
		if len(recs) != n+1 || err == nil || !strings.HasSuffix(strings.TrimSuffix(err.Error(), " of the decompressed data"), want) {
			t.Errorf("%s: %d records, then %v; want %d and %q", how, len(recs), err, n+1, want)
		}
		if mapped != wantMapped {
			t.Errorf("%s: mapped %v", how, mapped)
		}
	}
	for _, costly := range []bool{false, true} {
		mapCostly = func([]byte) bool { return costly }
		for name, p := range map[string]string{"pcap": path, "gzip": gz} {
			rd, c, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			// The gzip file, a few hundred KB, is smaller than a pager's
			// window: mapped whatever the probe would say.
			check(fmt.Sprintf("%s, costly %v", name, costly), rd, !costly || name == "gzip", c.(closer).mapping != nil)
			c.Close()
		}
	}
	rd, err := NewReader(bytes.NewReader(joined), "joined.pcap")
	if err != nil {
		t.Fatal(err)
	}
	check("NewReader", rd, false, false)
}

// TestOpenGzipDecodedAhead opens a gzip file larger than a pager's
// window, of dynamic-Huffman blocks, with two CPUs: its blocks decode
// ahead on the other core (gzippar.go) whether the probe finds its mapped
// pages dearer than a copy or not, the tasks reading it with pread(2) in
// the first case, from the mapping in the second. With one CPU nothing
// decodes ahead.
func TestOpenGzipDecodedAhead(t *testing.T) {
	path, gz, n := bigGzip(t)
	if len(gz) <= populateEvery {
		t.Fatalf("%d bytes compressed, not more than a pager's window", len(gz))
	}
	saved, savedAlways := mapCostly, MapAlways
	t.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	MapAlways = false
	for _, c := range []struct {
		procs  int
		costly bool
	}{{2, true}, {2, false}, {1, true}} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.procs))
			mapCostly = func([]byte) bool { return c.costly }
			rd, cl, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			in := cl.(closer).in
			if mapped := cl.(closer).mapping != nil; mapped == c.costly {
				t.Errorf("%+v: mapped %v", c, mapped)
			}
			got, _ := readNumbered(t, rd, fmt.Sprintf("%+v", c))
			if got != n {
				t.Errorf("%+v: %d records, want %d", c, got, n)
			}
			par := in.gzip.par
			switch {
			case c.procs == 1 && par != nil:
				t.Errorf("%+v: blocks decoded ahead with one CPU", c)
			case c.procs > 1 && (par == nil || par.jumps == 0):
				t.Errorf("%+v: no block decoded ahead", c)
			case c.procs > 1 && (par.mapping == nil) != c.costly:
				t.Errorf("%+v: tasks read the mapping %v", c, par.mapping != nil)
			}
			cl.Close()
			if c.costly {
				ringClosed(t, in)
			}
		}()
	}
}

// readNumbered reads rd to its end or first error, each record 600 bytes
// starting with its number (bigPcap, bigGzip), and returns how many it
// read and the error; what names the case in a failure.
func readNumbered(t *testing.T, rd Reader, what string) (int, error) {
	t.Helper()
	var rec Record
	for got := 0; ; got++ {
		if err := rd.Next(&rec); err != nil {
			return got, err
		}
		if len(rec.Data) != 600 || binary.LittleEndian.Uint32(rec.Data) != uint32(got) {
			t.Fatalf("%s: record %d wrong (%d bytes)", what, got, len(rec.Data))
		}
	}
}

// bigGzip writes a gzip capture of 65 000 records of 600 bytes, each
// record's first bytes its number and the rest random letters of half a
// byte of entropy, which deflate codes in dynamic blocks: about 20 MB,
// more than a pager's window. It returns its path, its bytes and its
// record count.
func bigGzip(t *testing.T) (string, []byte, int) {
	t.Helper()
	const n = 65000
	src := pcapFile(n, 600)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		rec := src[24+i*616+16 : 24+(i+1)*616]
		for k := range rec {
			rec[k] = 'a' + byte(rnd.IntN(16))
		}
		binary.LittleEndian.PutUint32(rec, uint32(i))
	}
	var gz bytes.Buffer
	zw, _ := stdgzip.NewWriterLevel(&gz, stdgzip.BestSpeed)
	zw.Write(src)
	zw.Close()
	return writeFile(t, t.TempDir(), "big.pcap.gz", gz.Bytes()), gz.Bytes(), n
}

// TestGzipTasksFileShrinks truncates a gzip capture that a ring reads
// with read(2) (the probe saying that its mapped pages are dear) after it
// is open and the first tasks have read their chunks with pread(2), at a
// chunk's start and inside chunks, with two CPUs: where the cut falls
// under a task, the reader decodes in order from the last block end
// before it (cut), tasks started after the cut find the file short, and
// the input ends with an error after all the records before the cut,
// each right.
func TestGzipTasksFileShrinks(t *testing.T) {
	path, gz, _ := bigGzip(t)
	saved, savedAlways := mapCostly, MapAlways
	t.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	MapAlways = false
	mapCostly = func([]byte) bool { return true }
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, c := range []struct {
		cut  int64
		cuts [2]int // gzipPar.cuts: the input ended under a task in its first block, later
	}{
		{gzipChunk, [2]int{}},             // at chunk 1's start, before its task's first block
		{gzipChunk + 1<<20, [2]int{0, 1}}, // in chunk 1's task, blocks after its first
		{2*gzipChunk + 1<<20, [2]int{}},   // in chunk 2, the reader's own, past chunk 1's task's last block
	} {
		if err := os.WriteFile(path, gz, 0o644); err != nil {
			t.Fatal(err)
		}
		rd, cl, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		in := cl.(closer).in
		if in.gzip.par == nil || cl.(closer).mapping != nil {
			t.Fatalf("cut at %d: not read with read(2) and decoded ahead", c.cut)
		}
		// Open started the first tasks, on chunks 1 and 3 (every other
		// chunk with two CPUs): they read their chunks whole before the
		// cut. (The read-ahead goroutine that decodes holds four
		// buffers of 320 KiB of output at most, newReadAhead, so it
		// waits far before chunk 1, some 7 MiB of output in, and leaves
		// the list of tasks as it is while this reads it.)
		for _, task := range in.gzip.par.tasks {
			<-task.done
		}
		if err := os.Truncate(path, c.cut); err != nil {
			t.Fatal(err)
		}
		got, err := readNumbered(t, rd, fmt.Sprint("cut at ", c.cut))
		// Every record that compress/gzip decodes from the bytes before
		// the cut.
		plain, _ := gunzipWith(bytes.NewReader(gz[:c.cut]), stdGunzip)
		want := (len(plain) - 24) / 616
		if err == io.EOF || err == nil || got != want {
			t.Errorf("cut at %d: %d records, then %v; want %d, then an error", c.cut, got, err, want)
		}
		if in.gzip.par.cuts != c.cuts {
			t.Errorf("cut at %d: tasks the input ended under %v, want %v", c.cut, in.gzip.par.cuts, c.cuts)
		}
		cl.Close()
		ringClosed(t, in)
	}
}
