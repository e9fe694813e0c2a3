package jj

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// runSplit runs the pipeline with the given workers and decoders and
// returns its CSV and its summary, without the elapsed time.
func runSplit(t *testing.T, cfg Config, workers, decoders int, inputs ...string) ([]byte, Summary) {
	t.Helper()
	cfg.Workers = workers
	p := NewPipeline(cfg)
	p.Decoders = decoders
	schema, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := output.NewWriter("csv", &buf, schema)
	sum, err := p.Run(inputs, w)
	if _, ok := err.(*InputError); err != nil && !ok {
		t.Fatal(err)
	}
	sum.Elapsed = 0
	slices.Sort(sum.Warnings)
	return buf.Bytes(), *sum
}

// Split reading gives the same rows and the same summary as reading on
// one goroutine, whatever the numbers of decoders and workers: on every
// shipped capture (pcapng with several interfaces, IP fragments, tunnels,
// truncated and fuzzed files, jumbo records that end a run early), on a
// generated capture long enough for many runs and sweeps, on the same
// capture out of time order, and on inputs read as one capture whose
// second file goes back in time; with a filter, with short timeouts
// that make sweeps end flows, and with every feature group.
func TestSplitReading(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 30000, 2000, 11
	path, _ := genCapture(t, gc)
	shaken, _ := genCapture(t, gc)
	jitter(t, shaken, 0.3, 100e6, 2)
	inputs := [][]string{{"testdata/captures"}, {path}, {shaken}, {path, shaken, path}}
	filtered := DefaultConfig()
	filtered.Filter = "tcp or icmp"
	all := DefaultConfig()
	all.Features = []string{"all"}
	outer := DefaultConfig()
	outer.Decapsulate = false
	cfgs := map[string]Config{"default": DefaultConfig(), "short timeouts": shortTimeouts(), "filter": filtered, "all": all, "outer headers": outer}
	for name, cfg := range cfgs {
		for _, in := range inputs {
			want, wantSum := runSplit(t, cfg, 1, -1, in...)
			if len(want) < 1000 {
				t.Fatalf("%s, %v: only %d bytes of output", name, in, len(want))
			}
			for _, c := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {3, 3}} {
				got, sum := runSplit(t, cfg, c[0], c[1], in...)
				label := fmt.Sprintf("%s, %v, %d workers, %d decoders", name, in, c[0], c[1])
				if !bytes.Equal(got, want) {
					t.Errorf("%s: output differs from one reading goroutine's", label)
				}
				if c[0] > 1 {
					_, wantSum = runSplit(t, cfg, c[0], -1, in...)
				}
				if fmt.Sprint(sum) != fmt.Sprint(wantSum) {
					t.Errorf("%s: summary\n%+v\nwant\n%+v", label, sum, wantSum)
				}
			}
		}
	}
}

// decoders: a count given is kept, -1 turns split reading off (other
// counts out of -1..maxDecoders are refused), and by default there is one decoder for every
// 8 CPUs, up to 3, none below 8.
func TestDecoders(t *testing.T) {
	for _, c := range [][2]int{{-1, 0}, {1, 1}, {3, 3}, {maxDecoders, maxDecoders}} {
		if got := decoders(c[0]); got != c[1] {
			t.Errorf("decoders(%d) = %d, want %d", c[0], got, c[1])
		}
	}
	for _, n := range []int{-2, maxDecoders + 1} {
		p := NewPipeline(DefaultConfig())
		p.Decoders = n
		var oe *OptionError
		if _, err := p.Schema(); !errors.As(err, &oe) || oe.Option != "decoders" {
			t.Errorf("Decoders = %d: error %v, want an OptionError for decoders", n, err)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range [][2]int{{1, 0}, {2, 0}, {4, 0}, {7, 0}, {8, 1}, {16, 2}, {24, 3}, {64, 3}} {
		runtime.GOMAXPROCS(c[0])
		if got := decoders(0); got != c[1] {
			t.Errorf("with %d CPUs, decoders(0) = %d, want %d", c[0], got, c[1])
		}
	}
}

// FuzzSplitReading: on any file, split reading gives the output, the
// summary and the errors that reading on one goroutine gives.
func FuzzSplitReading(f *testing.F) {
	files, _ := filepath.Glob("testdata/captures/*")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.FlowTimeout = 1
		// One flow table beside the reader (which keys the packets
		// itself) and two (whose keys the decoders compute).
		for _, workers := range []int{2, 3} {
			var outs [2]string
			for i, d := range []int{-1, 2} {
				cfg.Workers = workers
				p := NewPipeline(cfg)
				p.Decoders = d
				schema, _ := p.Schema()
				var buf bytes.Buffer
				w, _ := output.NewWriter("csv", &buf, schema)
				sum, err := p.Run([]string{path}, w)
				if sum != nil {
					sum.Elapsed, sum.MaxConcurrent = 0, 0
				}
				outs[i] = fmt.Sprintf("%s\n%+v\n%v", buf.Bytes(), sum, err)
			}
			if outs[0] != outs[1] {
				t.Fatalf("%d workers, split reading:\n%s\nreading on one goroutine:\n%s", workers, outs[1], outs[0])
			}
		}
	})
}

// A directory that alternates compressed files (read by read) and plain
// ones (split reading), each compressed file ending with a record that
// makes no packet: read leaves an empty packet batch behind at each switch,
// which split reading must give back, or the batches run out and the run
// hangs (24 switches did with two workers). The output is also that of
// reading on one goroutine.
func TestSplitReadingMixedInputs(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile("testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	// A pcap of one ARP frame (42 bytes), gzipped.
	arp := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	arp = binary.LittleEndian.AppendUint16(arp, 2)
	arp = binary.LittleEndian.AppendUint16(arp, 4)
	arp = append(arp, make([]byte, 8)...)
	arp = binary.LittleEndian.AppendUint32(arp, 65535)
	arp = binary.LittleEndian.AppendUint32(arp, 1)
	arp = append(arp, 1, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 42, 0, 0, 0)
	frame := make([]byte, 42)
	frame[12], frame[13] = 0x08, 0x06
	arp = append(arp, frame...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(arp)
	zw.Close()
	for i := range 40 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03da.pcap.gz", i)), gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03db.pcap", i)), sample, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := DefaultConfig()
	want, wantSum := runSplit(t, cfg, 2, -1, dir)
	done := make(chan struct{})
	var got []byte
	var sum Summary
	go func() {
		got, sum = runSplit(t, cfg, 2, 1, dir)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("split reading hung on inputs that alternate compressed and plain files")
	}
	if !bytes.Equal(got, want) || fmt.Sprint(sum) != fmt.Sprint(wantSum) {
		t.Errorf("split reading differs from reading on one goroutine on mixed inputs")
	}
}

// TestPktBatchLayout checks that a pktBatch starts with its flow.Batch, so
// that the batch starts on a cache line as flow's TestPrefetchSlotLines
// assumes of a new Batch, and the lines Batch.PrefetchSlot asks for hold
// each packet.
func TestPktBatchLayout(t *testing.T) {
	var pb pktBatch
	if off := unsafe.Offsetof(pb.Batch); off != 0 {
		t.Fatalf("flow.Batch is %d bytes into pktBatch", off)
	}
	if a := uintptr(unsafe.Pointer(new(pktBatch))) % 64; a != 0 {
		t.Fatalf("a new pktBatch starts %d bytes into a cache line", a)
	}
}

// Standard input redirected from a capture file (jj extract - <
// capture.pcap) is mapped as a path is (openInput, capture.OpenFile), so
// split reading applies to it too: the rows are those of the path, with
// one worker or two, one decoder or none, progress knows its size, and
// standard input is left open, at its end: a second "-" reads nothing.
func TestStdinCaptureFile(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 20000, 1000, 5
	path, _ := genCapture(t, gc)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, c, err := openInput("-", f)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := r.(capture.Stable); !ok || !s.Stable() {
		t.Error("standard input from a capture file is not mapped (Stable)")
	}
	c.Close()
	f.Close()
	for _, workers := range []int{1, 2, 3} {
		for _, decoders := range []int{0, 1} {
			want, wantSum := runSplit(t, DefaultConfig(), workers, decoders, path)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Workers = workers
			p := NewPipeline(cfg)
			p.Decoders, p.Stdin = decoders, f
			var last Progress
			p.OnProgress = func(pr Progress) { last = pr }
			schema, err := p.Schema()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, _ := output.NewWriter("csv", &buf, schema)
			sum, err := p.Run([]string{"-"}, w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) || sum.Packets != wantSum.Packets || sum.Flows != wantSum.Flows {
				t.Errorf("-w %d --decoders %d: standard input gave %d packets, %d flows, %d bytes of CSV; the path %d, %d, %d",
					workers, decoders, sum.Packets, sum.Flows, buf.Len(), wantSum.Packets, wantSum.Flows, len(want))
			}
			if fi, err := f.Stat(); err != nil {
				t.Errorf("standard input after the run: %v, want it open", err)
			} else if !last.Done || last.BytesTotal != fi.Size() || last.BytesRead != fi.Size() {
				t.Errorf("last progress %+v, want done, %d bytes of %d read", last, fi.Size(), fi.Size())
			}
			f.Close()
		}
	}
	// "- -": the second reads standard input at its end, an empty file.
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, wantSum := runSplit(t, DefaultConfig(), 1, 0, path)
	p := NewPipeline(DefaultConfig())
	p.Stdin = f
	schema, _ := p.Schema()
	w, _ := output.NewWriter("csv", io.Discard, schema)
	sum, err := p.Run([]string{"-", "-"}, w)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, capture.ErrEmpty) || sum.Packets != wantSum.Packets {
		t.Errorf(`"- -": %d packets, error %v; want the capture's %d once, then an empty input`, sum.Packets, err, wantSum.Packets)
	}
}

// TestSplitHoldsRuns checks that split reading keeps mapped the records its
// decoders have yet to read (capture.Holder): every record's first page
// must still be mapped in this process (/proc/self/pagemap) when its
// decoder starts on it. Given back and read again, the pages stayed mapped
// to the end, and resident memory grew with the capture. The decoder runs
// at full speed (the queue of runs often empty, the walk filling the next
// run), held back 2 ms a run (the queue full, the walk ahead across the
// reader's release points), and held back every third run (the queue
// filling and draining). The output is still that of one reading
// goroutine. The mapping gives pages back every 16 MiB, so this sees a
// lapse only sometimes; TestSplitHoldsPoisoned sees every one.
func TestSplitHoldsRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 70 MB capture")
	}
	if !mapsFiles {
		t.Skipf("capture files are not memory-mapped on %s", runtime.GOOS)
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no page map to check: %v", err)
	}
	defer pm.Close()
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.MeanFrameSize, gc.Seed = 90000, 500, 1500, 3
	path, _ := genCapture(t, gc)
	if fi, err := os.Stat(path); err != nil || fi.Size() < 64<<20 {
		t.Fatalf("capture of %v bytes (%v), want 64 MiB or more: four release periods", fi.Size(), err)
	}
	want, _ := runSplit(t, DefaultConfig(), 1, -1, path)
	page := uintptr(os.Getpagesize())
	var entry [8]byte
	saved := testHookDecode
	t.Cleanup(func() { testHookDecode = saved })
	for _, every := range []int{0, 1, 3} { // runs held back: none, all, every third
		runs, missing := 0, 0
		testHookDecode = func(recs []capture.Record) {
			runs++ // one decoder: no race
			if every > 0 && runs%every == 0 {
				time.Sleep(2 * time.Millisecond) // the walk and the pager go on
			}
			for _, rec := range recs {
				p := uintptr(unsafe.Pointer(unsafe.SliceData(rec.Data)))
				if _, err := pm.ReadAt(entry[:], int64(p/page*8)); err != nil {
					t.Errorf("page map: %v", err)
					return
				}
				if binary.LittleEndian.Uint64(entry[:])>>63 == 0 {
					missing++
				}
			}
		}
		got, _ := runSplit(t, DefaultConfig(), 1, 1, path)
		testHookDecode = saved
		if runs < 100 || missing > 0 {
			t.Errorf("every %d runs held back: %d runs decoded, %d records whose page was given back before their decoder read them", every, runs, missing)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("every %d runs held back: output differs from one reading goroutine's", every)
		}
	}
}

// poisonReader reads a pcap file from memory as the mapped capture reader
// reads its mapping (Stable, Progress, Holder), and gives bytes back behind
// its walk the same way, but every 64 KiB, to 16 KiB boundaries, and by
// overwriting them: a decoder that reads a record after its bytes were
// given back decodes garbage.
type poisonReader struct {
	data     []byte
	pos      int // the next record's header
	released int
	hold     int
	held     bool
}

func (p *poisonReader) Next(rec *capture.Record) error {
	if p.pos+16 > len(p.data) {
		return io.EOF
	}
	h := p.data[p.pos:]
	n := int(binary.LittleEndian.Uint32(h[8:]))
	rec.Timestamp = int64(binary.LittleEndian.Uint32(h))*1e9 + int64(binary.LittleEndian.Uint32(h[4:]))*1e3
	rec.WireLen = binary.LittleEndian.Uint32(h[12:])
	rec.Data = p.data[p.pos+16 : p.pos+16+n : p.pos+16+n]
	rec.LinkType = capture.LinkEthernet
	p.pos += 16 + n
	lim := p.pos
	if p.held {
		lim = min(lim, p.hold)
	}
	if lim-p.released >= 64<<10 {
		end := lim &^ (16<<10 - 1)
		for i := p.released; i < end; i++ {
			p.data[i] = 0xee
		}
		p.released = end
	}
	return nil
}

func (p *poisonReader) Warnings() []string { return nil }
func (p *poisonReader) Stable() bool       { return true }
func (p *poisonReader) BytesRead() int64   { return int64(p.pos) }
func (p *poisonReader) Size() int64        { return int64(len(p.data)) }
func (p *poisonReader) Hold(off int64) {
	p.held, p.hold = off >= 0, int(off)
}

// TestSplitHoldsPoisoned runs split reading on a reader that overwrites
// what it gives back (poisonReader), so often that any record not held
// while a decoder has yet to read it is overwritten first: the rows must
// be those of the file read on one goroutine, whatever the decoders' pace.
func TestSplitHoldsPoisoned(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 30000, 1000, 5
	path, _ := genCapture(t, gc)
	want, _ := runSplit(t, DefaultConfig(), 1, -1, path)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	saved := testHookDecode
	t.Cleanup(func() { testHookDecode = saved })
	for _, every := range []int{0, 1, 3} { // runs held back 1 ms: none, all, every third
		for _, decoders := range []int{1, 2} {
			runs := atomic.Int64{}
			testHookDecode = func([]capture.Record) {
				if n := runs.Add(1); every > 0 && n%int64(every) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			cfg := DefaultConfig()
			cfg.Workers = 1
			ps, w, buf := testPass(t, cfg)
			ps.sum.Inputs = append(ps.sum.Inputs, path)
			pr := &poisonReader{data: slices.Clone(file), pos: 24}
			if err := ps.readSplit(pr, decoders); err != nil {
				t.Fatal(err)
			}
			if _, err := ps.finish(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			testHookDecode = saved
			if pr.released < len(file)/2 {
				t.Fatalf("only %d of %d bytes given back", pr.released, len(file))
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("every %d runs held back, %d decoders: output differs from one reading goroutine's", every, decoders)
			}
		}
	}
}

// A batch read filled through the stage and gave back unsent (a record
// that made no packet took it, and split reading of the next input then
// returned it) is no longer staged when taken again: split reading's
// decoders fill batches in place, and send would otherwise end theirs as
// staged (flow.Stage.Done), writing over an odd batch's last packet.
func TestBatchNotStaged(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers = 2
	ps, _, _ := testPass(t, cfg)
	b := ps.batch()
	b.Staged = true
	ps.free <- b
	if b2 := ps.batch(); b2 != b || b2.Staged {
		t.Errorf("batch taken again: the same %v, Staged %v; want the same, not Staged", b2 == b, b2.Staged)
	}
	if _, err := ps.finish(); err != nil {
		t.Fatal(err)
	}
}

// testPass starts a pass of a pipeline of cfg that writes CSV to the
// returned buffer.
func testPass(t *testing.T, cfg Config) (*pass, output.Writer, *bytes.Buffer) {
	t.Helper()
	p := NewPipeline(cfg)
	pl, err := p.plan()
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := p.Schema()
	buf := new(bytes.Buffer)
	w, err := output.NewWriter("csv", buf, schema)
	if err != nil {
		t.Fatal(err)
	}
	return newPass(p, pl, w, time.Now(), false), w, buf
}
