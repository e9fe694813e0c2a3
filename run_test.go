package jj

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/filter"
	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/internal/testpkt"
	"github.com/jjflow/jj/output"
)

// idleReader plays a capture's records, then, as a live capture on a
// quiet link does, reports no packet until want rows have reached the
// writer (or a deadline passes), and only then ends.
type idleReader struct {
	capture.Reader
	rows    *atomic.Int64
	want    int64
	quiet   time.Time // when the records ran out
	waited  time.Duration
	endedAt int64 // rows written when the reader ended
}

// Live: the test readers stand for a live capture (capture.Live).
func (r *idleReader) Live() bool { return true }

func (r *idleReader) Next(rec *capture.Record) error {
	if r.quiet.IsZero() {
		err := r.Reader.Next(rec)
		if err != io.EOF {
			return err
		}
		r.quiet = time.Now()
	}
	if r.rows.Load() < r.want && time.Since(r.quiet) < 3*time.Second {
		time.Sleep(time.Millisecond)
		return capture.ErrNoPacket
	}
	r.waited = time.Since(r.quiet)
	r.endedAt = r.rows.Load()
	return io.EOF
}

// countingWriter counts the rows written to it.
type countingWriter struct{ rows *atomic.Int64 }

func (w countingWriter) Write(b *output.Batch) error { w.rows.Add(int64(b.Len())); return nil }
func (w countingWriter) Close() error                { return nil }

// runLive opens liveCapture into *inner, the capture wrapped by in, and
// runs in through RunReader with so many workers, counting rows.
func runLive(t *testing.T, workers int, inner *capture.Reader, in capture.Reader, rows *atomic.Int64) *Summary {
	t.Helper()
	r, closer, err := capture.Open(liveCapture)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	*inner = r
	cfg := DefaultConfig()
	cfg.Workers = workers
	sum, err := NewPipeline(cfg).RunReader(context.Background(), in, "test", countingWriter{rows})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// liveCapture is the capture the live tests play, and its flows.
const liveCapture = "testdata/captures/nfstream__KakaoTalk_chat.pcap"

func liveFlows(t *testing.T) int64 {
	t.Helper()
	var rows atomic.Int64
	if _, err := NewPipeline(DefaultConfig()).Run([]string{liveCapture}, countingWriter{&rows}); err != nil {
		t.Fatal(err)
	}
	if rows.Load() < 30 {
		t.Fatalf("%s: %d flows, want at least 30", liveCapture, rows.Load())
	}
	return rows.Load()
}

// Live input writes a flow's row as soon as the flow ends, not when the
// capture stops: on a quiet link, the flows expire on the wall clock (the
// capture's timestamps are years old) and their rows reach the writer
// while the reader still waits for packets. With several workers the
// merger would otherwise keep them until it has a full batch (merger.eager;
// one worker hands over whole batches anyway).
func TestRunReaderWritesRowsAsFlowsEnd(t *testing.T) {
	flows := liveFlows(t)
	for _, workers := range []int{1, 2, 3} {
		var rows atomic.Int64
		in := &idleReader{rows: &rows, want: flows}
		sum := runLive(t, workers, &in.Reader, in, &rows)
		if in.endedAt != flows || int64(sum.Flows) != flows {
			t.Errorf("%d workers: %d of %d rows written while the link was quiet (%v), want all %d", workers, in.endedAt, sum.Flows, in.waited, flows)
		}
	}
}

// busyReader plays a capture's records, then keeps sending its last
// packet again, with the same timestamp, every 2 ms, until rows reach
// the writer (or 2 s pass): a link where packets keep coming, too few to
// reach a sweep (every flow.SweepPackets records) by then, in which
// capture time does not move on.
type busyReader struct {
	capture.Reader
	rows    *atomic.Int64
	last    capture.Record // the record it repeats
	data    []byte
	busy    time.Time // when the records ran out
	endedAt int64     // rows written when the reader ended
}

func (r *busyReader) Live() bool { return true }

func (r *busyReader) Next(rec *capture.Record) error {
	if r.busy.IsZero() {
		if err := r.Reader.Next(rec); err != io.EOF {
			r.last, r.data = *rec, append(r.data[:0], rec.Data...)
			return err
		}
		r.busy = time.Now()
	}
	if r.rows.Load() > 0 || time.Since(r.busy) > 2*time.Second {
		r.endedAt = r.rows.Load()
		return io.EOF
	}
	time.Sleep(2 * time.Millisecond)
	*rec = r.last
	rec.Data = r.data
	return nil
}

// A live capture on a link too slow to reach a sweep soon, but never
// quiet, still ends its idle flows on the wall clock, about twice a
// second: here every flow, the capture's timestamps being years old.
func TestRunReaderExpiresOnWallClock(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		var rows atomic.Int64
		in := &busyReader{rows: &rows}
		sum := runLive(t, workers, &in.Reader, in, &rows)
		// The flow still sending starts again after its row; it ends
		// with the capture.
		if in.endedAt == 0 || in.endedAt >= int64(sum.Flows) {
			t.Errorf("%d workers: %d of %d rows written while packets still came, want all but the last", workers, in.endedAt, sum.Flows)
		}
	}
}

// stackWriter records whether each Write was called from within
// Pipeline.Run or Pipeline.RunReader, that is on the caller's goroutine.
type stackWriter struct{ inRun, outside int }

func (w *stackWriter) Write(b *output.Batch) error {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(1, pc)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, "jj.(*Pipeline).Run") || strings.HasSuffix(f.Function, "jj.(*Pipeline).RunReader") {
			w.inRun++
			return nil
		}
		if !more {
			w.outside++
			return nil
		}
	}
}
func (w *stackWriter) Close() error { return nil }

// One worker runs on the caller's goroutine: the reading goroutine adds
// the packets to the flow table and writes the rows itself, so that a run
// with Workers 1 keeps one core busy. With more, a worker's rows reach the
// writer through the merger's goroutine; so do a live capture's, whose
// one worker runs beside the reader, so that a slow output does not hold
// up the capture.
func TestOneWorkerRunsOnCallersGoroutine(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 30000, 2000, 5
	path, _ := genCapture(t, gc)
	for _, c := range []struct {
		workers int
		live    bool
	}{{1, false}, {2, false}, {1, true}} {
		cfg := DefaultConfig()
		cfg.Workers = c.workers
		cfg.FlowTimeout = 0.05 // flows end all along
		var w stackWriter
		p := NewPipeline(cfg)
		if c.live {
			r, closer, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.RunReader(context.Background(), liveReader{r}, "test", &w)
			closer.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else if _, err := p.Run([]string{path}, &w); err != nil {
			t.Fatal(err)
		}
		inline := c.workers == 1 && !c.live
		switch {
		case w.inRun+w.outside < 2:
			t.Errorf("%+v: %d writes, want several", c, w.inRun+w.outside)
		case inline && w.outside > 0:
			t.Errorf("%+v: %d of %d writes made outside the caller's goroutine", c, w.outside, w.inRun+w.outside)
		case !inline && w.inRun > 0:
			t.Errorf("%+v: %d of %d writes made by the caller's goroutine, want the merger's", c, w.inRun, w.inRun+w.outside)
		}
	}
}

// An input smaller than inlineBelow is read as Workers 1 reads it, on the
// caller's goroutine, whatever Workers says, and gives the same rows; an
// input that size or larger, or of unknown size (standard input that is
// not a file), gets the workers. With PerFile the threshold applies to
// each file: a small file's rows are written inline, a large one's by
// the merger.
func TestSmallInputsRunInline(t *testing.T) {
	defer func(n int64) { inlineBelow = n }(inlineBelow)
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 30000, 2000, 5
	path, _ := genCapture(t, gc)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	small := "testdata/captures/wireshark__http.cap"
	sfi, err := os.Stat(small)
	if err != nil {
		t.Fatal(err)
	}
	for _, features := range []string{"flow_meta", "all"} {
		cfg := DefaultConfig()
		cfg.Features = []string{features}
		cfg.FlowTimeout = 0.05 // flows end all along
		inlineBelow = 0
		want, _ := runSplit(t, cfg, 1, 0, path)
		for _, c := range []struct {
			below  int64
			inline bool
		}{{fi.Size() + 1, true}, {fi.Size(), false}} {
			inlineBelow = c.below
			cfg.Workers = 2
			if got, _ := runSplit(t, cfg, 2, 0, path); !bytes.Equal(got, want) {
				t.Errorf("%s, inlineBelow %d: two workers wrote other rows than one", features, c.below)
			}
			var w stackWriter
			if _, err := NewPipeline(cfg).Run([]string{path}, &w); err != nil {
				t.Fatal(err)
			}
			switch {
			case w.inRun+w.outside < 2:
				t.Errorf("%s, inlineBelow %d: %d writes, want several", features, c.below, w.inRun+w.outside)
			case c.inline && w.outside > 0:
				t.Errorf("%s: a %d-byte input with inlineBelow %d: %d of %d writes made outside the caller's goroutine", features, fi.Size(), c.below, w.outside, w.inRun+w.outside)
			case !c.inline && w.inRun > 0:
				t.Errorf("%s: a %d-byte input with inlineBelow %d: %d of %d writes made by the caller's goroutine, want the merger's", features, fi.Size(), c.below, w.inRun, w.inRun+w.outside)
			}
		}
	}

	// PerFile: the small file inline, the generated one by the merger.
	inlineBelow = fi.Size()
	cfg := DefaultConfig()
	cfg.PerFile, cfg.Workers = true, 2
	var w stackWriter
	if _, err := NewPipeline(cfg).Run([]string{small, path}, &w); err != nil {
		t.Fatal(err)
	}
	if w.inRun == 0 || w.outside == 0 {
		t.Errorf("PerFile, a %d-byte and a %d-byte file with inlineBelow %d: %d writes inline and %d by the merger, want some of each", sfi.Size(), fi.Size(), inlineBelow, w.inRun, w.outside)
	}

	// Standard input that is not a file: its size is unknown.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inlineBelow = 1 << 62
	w = stackWriter{}
	p := NewPipeline(cfg)
	p.Stdin = bytes.NewReader(data)
	if _, err := p.Run([]string{"-"}, &w); err != nil {
		t.Fatal(err)
	}
	if w.inRun > 0 || w.outside == 0 {
		t.Errorf("standard input of unknown size: %d of %d writes made by the caller's goroutine, want the merger's", w.inRun, w.inRun+w.outside)
	}
}

// RunReader on a recorded capture, a reader that is not live, reads it as
// Run reads the file: on the capture's own timestamps, not the wall clock,
// which would end every flow of a capture from the past at the first
// sweep. The capture spans minutes of 2024 over 20 000 packets, five
// sweeps.
func TestRunReaderRecordedCapture(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Seed = 7
	gc.Packets = 20_000
	gc.ConcurrentFlows = 200
	gc.PacketRate = 100 // 200 s of capture
	gc.Start = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	file, _ := genCapture(t, gc)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 3} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		p := NewPipeline(cfg)
		schema, err := p.Schema()
		if err != nil {
			t.Fatal(err)
		}
		var want, got bytes.Buffer
		ww, _ := output.NewWriter("csv", &want, schema)
		if _, err := p.Run([]string{file}, ww); err != nil {
			t.Fatal(err)
		}
		r, err := capture.NewReader(bytes.NewReader(data), "rec.pcap")
		if err != nil {
			t.Fatal(err)
		}
		gw, _ := output.NewWriter("csv", &got, schema)
		if _, err := p.RunReader(context.Background(), r, "rec.pcap", gw); err != nil {
			t.Fatal(err)
		}
		if rows := bytes.Count(want.Bytes(), []byte("\n")) - 1; rows < 200 || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d workers: RunReader wrote %d rows, Run %d; want the same text", workers, bytes.Count(got.Bytes(), []byte("\n"))-1, rows)
		}
	}
}

// A panic in the caller's code that the pipeline calls (a Rows loop's
// body, a Stream callback, a writer), with one to three workers, comes back
// to the caller's goroutine as a *PanicError panic, which it can recover,
// once the run has closed its files and stopped its goroutines; a nil
// writer or callback is a config error.
func TestWriterPanicComesBack(t *testing.T) {
	in := "testdata/captures/nfstream__KakaoTalk_chat.pcap"
	for _, workers := range []int{1, 2, 3} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		p := NewPipeline(cfg)
		fdsBefore, goBefore := openFiles(), runtime.NumGoroutine()
		for _, kind := range []string{"rows", "stream", "csv", "encoder", "reader"} {
			if kind == "encoder" && workers < 3 {
				continue // one flow table (flow_meta with 1 or 2 workers): no EncodeRows
			}
			func() {
				defer func() {
					v := recover()
					pe, ok := v.(*PanicError)
					if !ok || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "panic") {
						t.Errorf("%d workers, %s: recovered %#v, want a *PanicError of \"boom\" with its stack", workers, kind, v)
					}
				}()
				switch kind {
				case "rows":
					for range p.Rows(in) {
						panic("boom")
					}
				case "stream":
					p.Stream(func(Row) error { panic("boom") }, in)
				case "csv": // the text rows' writing (WriteEncoded)
					schema, _ := p.Schema()
					w, _ := output.NewWriter("csv", panicWriter{}, schema)
					p.Run([]string{in}, w)
				case "encoder": // a caller's RowEncoder, on a worker with two
					schema, _ := p.Schema()
					w, _ := output.NewWriter("csv", io.Discard, schema)
					p.Run([]string{in}, panicEncoder{w.(output.RowEncoder)})
				case "reader":
					r, closer, err := capture.Open(in)
					if err != nil {
						t.Fatal(err)
					}
					defer closer.Close()
					p.RunReader(context.Background(), r, in, writerFunc(func(*output.Batch) error { panic("boom") }))
				}
				t.Errorf("%d workers, %s: no panic", workers, kind)
			}()
		}
		// The goroutines of the runs end soon after.
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > goBefore && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if fds, gos := openFiles(), runtime.NumGoroutine(); fds != fdsBefore || gos > goBefore {
			t.Errorf("%d workers: %d open files and %d goroutines after the panics, %d and %d before", workers, fds, gos, fdsBefore, goBefore)
		}
	}
	p := NewPipeline(DefaultConfig())
	if _, err := p.Run([]string{in}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil writer: %v, want a config error", err)
	}
	if _, err := p.Stream(nil, in); !errors.Is(err, ErrConfig) {
		t.Errorf("nil callback: %v, want a config error", err)
	}
}

// TestReadingPanicStopsGoroutines checks that a panic on the reading
// goroutine, in the caller's OnProgress or Stdin reader, leaves no
// goroutine of the run behind once the caller recovers it, with one
// worker and several, and through RunReader.
func TestReadingPanicStopsGoroutines(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows = 200_000, 2_000
	in, _ := genCapture(t, gc)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	goBefore := runtime.NumGoroutine()
	for _, workers := range []int{1, 2, 4} {
		for _, kind := range []string{"progress", "stdin", "stdin.gz", "reader"} {
			cfg := DefaultConfig()
			cfg.Workers = workers
			cfg.Features = []string{"all"}
			p := NewPipeline(cfg)
			nothing := writerFunc(func(*output.Batch) error { return nil })
			func() {
				defer func() {
					if v := recover(); v != "boom" {
						t.Errorf("%d workers, %s: recovered %#v, want \"boom\"", workers, kind, v)
					}
				}()
				switch kind {
				case "progress":
					p.OnProgress = func(pr Progress) {
						if pr.Packets > 0 && !pr.Done {
							panic("boom")
						}
					}
					p.Run([]string{in}, nothing)
				case "stdin":
					p.Stdin = &panicAfter{r: bytes.NewReader(data), n: len(data) / 2}
					p.Run([]string{"-"}, nothing)
				case "stdin.gz":
					gz := testpkt.Gzip(data)
					p.Stdin = &panicAfter{r: bytes.NewReader(gz), n: len(gz) / 2}
					p.Run([]string{"-"}, nothing)
				case "reader":
					r, err := capture.NewReader(&panicAfter{r: bytes.NewReader(data), n: len(data) / 2}, "gen.pcap")
					if err != nil {
						t.Fatal(err)
					}
					p.RunReader(context.Background(), r, "gen.pcap", nothing)
				}
			}()
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goBefore && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if gos := runtime.NumGoroutine(); gos > goBefore {
		t.Errorf("%d goroutines after the panics, %d before", gos, goBefore)
	}
}

// panicAfter reads r and panics once n bytes have been read.
type panicAfter struct {
	r    io.Reader
	n    int
	read int
}

func (p *panicAfter) Read(b []byte) (int, error) {
	if p.read >= p.n {
		panic("boom")
	}
	k, err := p.r.Read(b[:min(len(b), p.n-p.read+1)])
	p.read += k
	return k, err
}

// RunContext stops when its context is done: the flows open then are
// written as if the input ended there, w is closed, and the error is the
// context's cause.
func TestRunContextCancels(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Seed = 7
	gc.Packets = 100_000
	gc.ConcurrentFlows = 200
	file, _ := genCapture(t, gc)
	stop := errors.New("stop")
	for _, c := range []struct{ workers, decoders int }{{1, 0}, {2, 0}, {2, 1}, {3, 0}, {3, 1}} {
		workers := c.workers
		cfg := DefaultConfig()
		cfg.Workers = workers
		p := NewPipeline(cfg)
		p.Decoders = c.decoders // 1: split reading, whose walk notices ctx too
		all, err := p.Process(file)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		// Cancelled at the first progress report (16 sweeps, 65 536
		// records in): the run ends at its next sweep.
		p.OnProgress = func(Progress) { cancel(stop) }
		var rows int
		sum, err := p.RunContext(ctx, []string{file}, writerFunc(func(b *output.Batch) error {
			rows += b.Len()
			return nil
		}))
		p.OnProgress = nil
		if !errors.Is(err, stop) || rows == 0 || rows >= len(all.Rows) || sum.Packets >= uint64(gc.Packets) || int(sum.Flows) != rows {
			t.Errorf("%+v: error %v, %d rows of %d, %d packets read of %d", c, err, rows, len(all.Rows), sum.Packets, gc.Packets)
		}
		// Done before it starts: nothing is read.
		done, cancel2 := context.WithCancel(context.Background())
		cancel2()
		sum, err = p.RunContext(done, []string{file}, writerFunc(func(*output.Batch) error { return nil }))
		if !errors.Is(err, context.Canceled) || sum.Packets != 0 {
			t.Errorf("%+v, cancelled at the start: error %v, %d packets read", c, err, sum.Packets)
		}
		// Done once the last input is open, a few records before its
		// end: everything is read, and the run still says it stopped.
		saved := testHookOpened
		ctx4, cancel4 := context.WithCancelCause(context.Background())
		testHookOpened = func(string) { cancel4(stop) }
		sum, err = p.RunContext(ctx4, []string{"testdata/sample.pcap"}, writerFunc(func(*output.Batch) error { return nil }))
		testHookOpened = saved
		if !errors.Is(err, stop) || sum.Packets == 0 {
			t.Errorf("%+v, cancelled in a short input: error %v, %d packets read", c, err, sum.Packets)
		}
		// RunReader on a recorded capture says so too.
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := capture.NewReader(f, file)
		if err != nil {
			t.Fatal(err)
		}
		ctx3, cancel3 := context.WithCancelCause(context.Background())
		p.OnProgress = func(Progress) { cancel3(stop) }
		sum, err = p.RunReader(ctx3, r, file, writerFunc(func(*output.Batch) error { return nil }))
		p.OnProgress = nil
		f.Close()
		if !errors.Is(err, stop) || sum.Packets >= uint64(gc.Packets) {
			t.Errorf("%+v, RunReader: error %v, %d packets read of %d", c, err, sum.Packets, gc.Packets)
		}
	}
}

// writerFunc is an output.Writer of a function.
type writerFunc func(*output.Batch) error

func (f writerFunc) Write(b *output.Batch) error { return f(b) }
func (f writerFunc) Close() error                { return nil }

// liveReader stands a recorded capture's reader in for a live capture
// (capture.Live).
type liveReader struct{ capture.Reader }

func (liveReader) Live() bool { return true }

// panicWriter is an io.Writer that panics.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

// panicEncoder is a RowEncoder whose EncodeRows panics.
type panicEncoder struct{ output.RowEncoder }

func (panicEncoder) EncodeRows([]byte, []int, *output.Batch) ([]byte, []int) { panic("boom") }

type goexitEncoder struct{ output.RowEncoder }

func (goexitEncoder) EncodeRows(dst []byte, ends []int, _ *output.Batch) ([]byte, []int) {
	runtime.Goexit()
	return dst, ends
}

// Workers counts the reading goroutine with light feature groups alone
// (flow_meta): Workers−1 flow tables beside it; heavier groups get a
// table a worker, runs that need one table one, and one worker runs on
// the reading goroutine.
func TestPlanWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		features string
		maxFlows int
		workers  int
		tables   int
		inline   bool
		cpus     int
	}{
		{"flow_meta", 0, 0, 1, false, 2}, // this machine's default
		{"", 0, 0, 1, false, 2},          // flow_meta by default
		{"FLOW_META", 0, 2, 1, false, 4},
		{"flow_meta", 0, 0, 1, true, 1},
		{"all", 0, 0, 1, true, 1},
		{"all", 0, 0, 2, false, 2},
		{"flow_meta", 1000, 1, 1, true, 4},
		{"flow_meta", 0, 1, 1, true, 4},
		{"flow_meta", 0, 2, 1, false, 4},
		{"flow_meta", 0, 3, 2, false, 4},
		{"flow_meta", 0, 0, 3, false, 4}, // 4 CPUs
		{"flow_meta,timing", 0, 2, 2, false, 4},
		{"tcp", 0, 2, 2, false, 4},
		{"all", 0, 1, 1, true, 4},
		{"all", 0, 2, 2, false, 4},
		{"all", 0, 0, 4, false, 4},
		{"flow_meta", 1000, 2, 1, false, 4},
		{"all", 1000, 4, 1, false, 4},
		{"flow_meta,connection", 0, 3, 1, false, 4},
	} {
		runtime.GOMAXPROCS(c.cpus)
		cfg := DefaultConfig()
		cfg.Features = []string{c.features}
		cfg.Workers = c.workers
		cfg.MaxConcurrentFlows = c.maxFlows
		pl, err := NewPipeline(cfg).plan()
		if err != nil {
			t.Fatal(err)
		}
		if pl.workers != c.tables || pl.inline != c.inline {
			t.Errorf("%q, max flows %d, %d workers, %d CPUs: %d tables, inline %v; want %d, %v", c.features, c.maxFlows, c.workers, runtime.GOMAXPROCS(0), pl.workers, pl.inline, c.tables, c.inline)
		}
	}
}

// TestWriterErrorSummary checks that a run whose writer fails says so in
// its summary as well as its error, by Run and by RunReader, with one
// worker and with several: the rows counted were handed to the writer,
// not written.
func TestWriterErrorSummary(t *testing.T) {
	in := "testdata/sample.pcap"
	errFull := errors.New("disk full")
	fail := writerFunc(func(*output.Batch) error { return errFull })
	for _, workers := range []int{1, 2} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		p := NewPipeline(cfg)
		sum, err := p.Run([]string{in}, fail)
		if !errors.Is(err, errFull) || sum == nil || !sum.OutputFailed || !strings.Contains(sum.String(), "the output failed") {
			t.Errorf("Run, %d workers: error %v, summary %+v; want the writer's error, told in the summary", workers, err, sum)
		}
		r, closer, err := capture.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		sum, err = p.RunReader(context.Background(), r, in, fail)
		closer.Close()
		if !errors.Is(err, errFull) || sum == nil || !sum.OutputFailed {
			t.Errorf("RunReader, %d workers: error %v, summary %+v; want the writer's error, told in the summary", workers, err, sum)
		}
		// An input that fails as well: both errors come back.
		var ie *InputError
		sum, err = p.Run([]string{in, "testdata/nonexistent.pcap"}, fail)
		if !errors.Is(err, errFull) || !errors.As(err, &ie) || !sum.OutputFailed {
			t.Errorf("Run, %d workers, a missing input too: error %v; want the writer's error and an InputError", workers, err)
		}
		sum, err = p.Run([]string{in}, writerFunc(func(*output.Batch) error { return nil }))
		if err != nil || sum.OutputFailed || !strings.Contains(sum.String(), "3 flows written") {
			t.Errorf("Run, %d workers, a writer that works: error %v, summary %q", workers, err, sum)
		}
	}
}

// TestSkippedByInput checks that the summary counts each input's skipped
// records as that input's, as a run of the input alone counts them, and
// names the inputs in each reason's line; with one worker and two, and
// with split reading.
func TestSkippedByInput(t *testing.T) {
	const dir = "testdata/captures/"
	hdlc, qinq, gre, mpls := dir+"tcpdump__HDLC.pcap", dir+"tcpdump__802.1ad_QinQ.pcap", dir+"tcpdump__various_gre.pcap", dir+"wireshark__mpls-basic.cap"
	nothing := writerFunc(func(*output.Batch) error { return nil })
	alone := map[string]map[string]uint64{}
	for _, in := range []string{hdlc, qinq, gre, mpls} {
		sum, err := NewPipeline(DefaultConfig()).Run([]string{in}, nothing)
		if err != nil || len(sum.Skipped) == 0 {
			t.Fatalf("%s alone: %v, skipped %v; want skipped records", in, err, sum.Skipped)
		}
		alone[in] = sum.Skipped
	}
	// HDLC twice: its counts add up, and it is named once. GRE and MPLS
	// both skip loopback frames, which their line then names.
	inputs := []string{hdlc, qinq, "testdata/sample.pcap", gre, mpls, hdlc}
	times := map[string]uint64{hdlc: 2, qinq: 1, gre: 1, mpls: 1}
	var lines []string
	for _, r := range []string{"non-IP frame (loopback)", "non-IP frame (Cisco SLARP)", "non-IP frame (802.3 frame, LLC)"} {
		var ins []string
		var total uint64
		for _, in := range []string{hdlc, qinq, gre, mpls} {
			if n := alone[in][r] * times[in]; n > 0 {
				ins = append(ins, fmt.Sprintf("%d in %s", n, in))
				total += n
			}
		}
		switch len(ins) {
		case 0:
			t.Fatalf("no input skips %q", r)
		case 1:
			lines = append(lines, fmt.Sprintf("jj: skipped %s: %s\n", ins[0], r))
		default:
			lines = append(lines, fmt.Sprintf("jj: skipped %d: %s: %s\n", total, r, strings.Join(ins, ", ")))
		}
	}
	for _, c := range []struct{ workers, decoders int }{{1, 0}, {2, 0}, {2, 2}} {
		cfg := DefaultConfig()
		cfg.Workers = c.workers
		p := NewPipeline(cfg)
		p.Decoders = c.decoders
		sum, err := p.Run(inputs, nothing)
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.SkippedByInput) != len(alone) {
			t.Errorf("%+v: skipped by input %v; want HDLC, QinQ, GRE and MPLS only", c, sum.SkippedByInput)
		}
		for in, want := range alone {
			got := sum.SkippedByInput[in]
			for r, n := range want {
				if got[r] != times[in]*n {
					t.Errorf("%+v: %s skipped %d for %q; want %d", c, in, got[r], r, times[in]*n)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%+v: %s skipped %v; want %v", c, in, got, want)
			}
		}
		text := sum.String()
		for _, line := range lines {
			if strings.Count(text, line) != 1 {
				t.Errorf("%+v: summary %q; want the line %q once", c, text, line)
			}
		}
		if strings.Count(text, "jj: skipped") != len(sum.Skipped) {
			t.Errorf("%+v: summary %q; want a line a reason", c, text)
		}
	}
}

// TestSkippedInManyInputs checks a reason's line when more inputs skipped
// records for it than the line names.
func TestSkippedInManyInputs(t *testing.T) {
	s := &Summary{
		Inputs:  []string{"a", "b", "c", "b", "d", "e", "f"},
		Skipped: map[string]uint64{"ARP": 7, "LLDP": 3},
		SkippedByInput: map[string]map[string]uint64{
			"a": {"ARP": 1}, "b": {"ARP": 1}, "c": {"LLDP": 3}, "d": {"ARP": 1}, "e": {"ARP": 2}, "f": {"ARP": 2},
		},
	}
	text := s.String()
	for _, want := range []string{
		"jj: skipped 7: ARP: 1 in a, 1 in b, 1 in d and 4 in 2 more inputs\n",
		"jj: skipped 3 in c: LLDP\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary %q; want the line %q", text, want)
		}
	}
	// A Summary made without SkippedByInput names no input.
	s.SkippedByInput = nil
	if text := s.String(); !strings.Contains(text, "jj: skipped 7: ARP\n") {
		t.Errorf("summary %q; want the line %q", text, "jj: skipped 7: ARP")
	}
}

// TestProtoName checks the names of non-IP frames' protocols, each in its
// link's numbering (Wireshark's names).
func TestProtoName(t *testing.T) {
	for _, c := range []struct {
		num  decode.Numbering
		p    uint16
		want string
	}{
		{decode.NumEtherType, 0x0806, "ARP"},
		{decode.NumEtherType, 0x8035, "RARP"},
		{decode.NumEtherType, 0x2000, "EtherType 0x2000"},
		{decode.NumEtherType, 38, "802.3 frame, LLC"},
		{decode.NumEtherType, 1500, "802.3 frame, LLC"},
		{decode.NumEtherType, 0x05ff, "EtherType 0x05ff"},
		{decode.NumCHDLC, 0x8035, "Cisco SLARP"},
		{decode.NumCHDLC, 0x2000, "CDP"},
		{decode.NumCHDLC, 5, "Cisco HDLC protocol 0x0005"},
		{decode.NumPPP, 0xc021, "PPP LCP"},
		{decode.NumPPP, 0x00ff, "PPP protocol 0x00ff"},
		{decode.NumFamily, 16, "address family 16"},
		{decode.NumSLL, 4, "Linux cooked protocol 0x0004"},
	} {
		if got := protoName(c.num, c.p); got != c.want {
			t.Errorf("protoName(%v, %#x) = %q, want %q", c.num, c.p, got, c.want)
		}
	}
}

// TestLateWarning: two taps of one link, one direction each, given as two
// inputs. By the end of the first, its flow has been idle for minutes and
// a sweep has ended it; the replies in the second tap, from the same
// seconds, then start a flow of their own, and the summary says so,
// naming the second tap. Merged by time into one capture, the same
// packets make one flow and no warning; so do the queries alone then the
// replies, with no sweep between them.
func TestLateWarning(t *testing.T) {
	const s = int64(1e9)
	epoch := int64(1_700_000_000) * s
	udp := func(ts int64, src string, sport uint16, dst string, dport uint16) testpkt.Frame {
		return testpkt.Frame{TS: epoch + ts, Src: testpkt.Addr(src), Dst: testpkt.Addr(dst), Proto: 17, SrcPort: sport, DstPort: dport, Payload: 20}
	}
	var tap1, tap2 []testpkt.Frame
	for i := range int64(10) { // a query a second, and its reply 5 ms later
		tap1 = append(tap1, udp(i*s, "10.99.0.1", 4000, "10.99.0.2", 53))
		tap2 = append(tap2, udp(i*s+5e6, "10.99.0.2", 53, "10.99.0.1", 4000))
	}
	// Another flow from 10 s to 299.942 s, a packet every 58 ms: more
	// records than a sweep's period, and minutes past the first flow's
	// 60 s idle timeout.
	for i := range int64(5000) {
		tap1 = append(tap1, udp(10*s+i*58e6, "10.1.0.1", 1, "10.1.0.2", 2))
	}
	dir := t.TempDir()
	write := func(name string, frames []testpkt.Frame) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, testpkt.Pcap(frames...), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	one, two := write("tap1.pcap", tap1), write("tap2.pcap", tap2)
	queries := write("queries.pcap", tap1[:10])
	// The first capture with its record 4 090 moved after 4 100, past the
	// sweep before record 4 096: 10 packets of 58 ms, 0.58 s, late.
	moved := slices.Concat(tap1[:4090], tap1[4091:4101], tap1[4090:4091], tap1[4101:])
	jittered := write("jittered.pcap", moved)
	byTime := append(append([]testpkt.Frame(nil), tap1[:10]...), tap2...)
	slices.SortStableFunc(byTime, func(a, b testpkt.Frame) int { return cmp.Compare(a.TS, b.TS) })
	merged := write("merged.pcap", append(byTime, tap1[10:]...))
	// The most behind is the first reply: 299.942 − 0.005 s. The
	// shortest idle timeout is the TCP close timeout, 5 s by default.
	want := two + ": 10 packets came more than 5s behind the newest timestamp before them (up to 4m59.937s behind)"
	for _, c := range []struct{ workers, decoders int }{{1, 0}, {2, 0}, {2, 2}} {
		runCfg := func(input string, set func(*Config)) (*Summary, uint64) {
			t.Helper()
			cfg := DefaultConfig()
			cfg.Workers = c.workers
			set(&cfg)
			p := NewPipeline(cfg)
			p.Decoders = c.decoders
			var rows atomic.Int64
			sum, err := p.Run([]string{input}, countingWriter{&rows})
			if err != nil {
				t.Fatal(err)
			}
			return sum, uint64(rows.Load())
		}
		run := func(inputs ...string) (*Summary, uint64) {
			t.Helper()
			cfg := DefaultConfig()
			cfg.Workers = c.workers
			p := NewPipeline(cfg)
			p.Decoders = c.decoders
			var rows atomic.Int64
			sum, err := p.Run(inputs, countingWriter{&rows})
			if err != nil {
				t.Fatal(err)
			}
			return sum, uint64(rows.Load())
		}
		sum, rows := run(one, two)
		if rows != 3 {
			t.Errorf("%+v: two taps made %d flows; want 3 (the split flow in two, and the other)", c, rows)
		}
		var found []string
		for _, w := range sum.Warnings {
			if strings.Contains(w, "behind the newest") {
				found = append(found, w)
			}
		}
		if len(found) != 1 || !strings.HasPrefix(found[0], want+": ") {
			t.Errorf("%+v: warnings %q; want one starting %q", c, sum.Warnings, want)
		}
		// Out of order too, but no sweep came before the replies (ten
		// records): the flow is whole, and no warning.
		if sum, rows := run(queries, two); rows != 1 || strings.Contains(strings.Join(sum.Warnings, "\n"), "behind the newest") {
			t.Errorf("%+v: queries then replies, no sweep between: %d flows, warnings %q; want 1 and none of packets behind", c, rows, sum.Warnings)
		}
		// Jitter below a second, a packet 0.58 s late just after a sweep,
		// is not warned of, even with a close timeout of 0 (lateFloor).
		if sum, _ := runCfg(jittered, func(cfg *Config) { cfg.TCPCloseTimeout = 0 }); strings.Contains(strings.Join(sum.Warnings, "\n"), "behind the newest") {
			t.Errorf("%+v: jitter of 0.58 s, close timeout 0: warnings %q; want none of packets behind", c, sum.Warnings)
		}
		for _, in := range [][]string{{merged}, {one}} {
			sum, rows := run(in...)
			if strings.Contains(strings.Join(sum.Warnings, "\n"), "behind the newest") {
				t.Errorf("%+v: %s: warnings %q; want none of packets behind", c, in, sum.Warnings)
			}
			if in[0] == merged && rows != 2 {
				t.Errorf("%+v: merged by time, %d flows; want 2", c, rows)
			}
		}
	}
}

// TestGoexitStopsTheRun checks that runtime.Goexit, as t.FailNow calls
// it, in a Rows loop's body or a Stream callback ends the goroutine that
// ranged or streamed, as it would anywhere, and in a writer on a goroutine
// of the pipeline fails the run; in each case the run stops, with no
// goroutine or file left behind, whatever the number of workers.
func TestGoexitStopsTheRun(t *testing.T) {
	// Enough flows, with every feature, for the workers to have all
	// their chunks out (chunkCredits) while the writer is gone.
	in := filepath.Join(t.TempDir(), "many.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows = 100_000, 20_000
	if _, err := gen.Write(f, gc, gen.FormatPcap); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, workers := range []int{1, 2, 3} {
		cfg := DefaultConfig()
		cfg.Workers, cfg.Features = workers, []string{"all"}
		p := NewPipeline(cfg)
		fdsBefore, goBefore := openFiles(), runtime.NumGoroutine()
		for _, kind := range []string{"rows", "stream"} {
			ended, after := make(chan struct{}), false
			go func() {
				defer close(ended)
				switch kind {
				case "rows":
					for range p.Rows(in) {
						runtime.Goexit()
					}
				case "stream":
					p.Stream(func(Row) error { runtime.Goexit(); return nil }, in)
				}
				after = true
			}()
			select {
			case <-ended:
			case <-time.After(10 * time.Second):
				t.Fatalf("%d workers, %s: the goroutine did not end", workers, kind)
			}
			if after {
				t.Errorf("%d workers, %s: the goroutine went on after Goexit", workers, kind)
			}
		}
		// A writer that ends the merger's goroutine, or a RowEncoder a
		// worker's (several workers), fails the run; with one worker
		// they run on the caller's goroutine, which they end.
		schema, _ := p.Schema()
		csv, _ := output.NewWriter("csv", io.Discard, schema)
		for kind, w := range map[string]output.Writer{
			"writer":  writerFunc(func(*output.Batch) error { runtime.Goexit(); return nil }),
			"encoder": goexitEncoder{csv.(output.RowEncoder)},
		} {
			var sum *Summary
			var err error
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				sum, err = p.Run([]string{in}, w)
			}()
			select {
			case <-ended:
			case <-time.After(10 * time.Second):
				t.Fatalf("%d workers, %s: the run did not end", workers, kind)
			}
			if workers > 1 && (!errors.Is(err, errWriterExited) || sum == nil || !sum.OutputFailed) {
				t.Errorf("%d workers, %s: %v, %+v; want the run failed for the Goexit", workers, kind, err, sum)
			}
		}
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > goBefore && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if fds, gos := openFiles(), runtime.NumGoroutine(); fds != fdsBefore || gos > goBefore {
			t.Errorf("%d workers: %d open files and %d goroutines after the runs, %d and %d before", workers, fds, gos, fdsBefore, goBefore)
		}
	}
}

// openFiles counts the process's open files, or -1 where /proc does not
// tell.
func openFiles() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// TestStreamProgressPanicKeepsStack checks that a panic in OnProgress,
// which runs on the run's goroutine while Stream calls back on the
// caller's, comes back as a *PanicError holding the value and the stack
// where it happened, and that a panic in the callback is wrapped once.
func TestStreamProgressPanicKeepsStack(t *testing.T) {
	in := "testdata/captures/nfstream__KakaoTalk_chat.pcap"
	p := NewPipeline(DefaultConfig())
	p.OnProgress = func(Progress) { panicInProgress() }
	func() {
		defer func() {
			pe, ok := recover().(*PanicError)
			if !ok || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "panicInProgress") {
				t.Errorf("recovered %#v; want a *PanicError of \"boom\" with panicInProgress in its stack", pe)
			}
		}()
		p.Stream(func(Row) error { return nil }, in)
	}()
	p.OnProgress = nil
	func() {
		defer func() {
			pe, ok := recover().(*PanicError)
			if !ok || pe.Value != "inner" {
				t.Errorf("nested: recovered %#v; want a *PanicError of \"inner\", wrapped once", pe)
			}
		}()
		p.Stream(func(Row) error {
			p.Stream(func(Row) error { panic("inner") }, in)
			return nil
		}, in)
	}()
}

func panicInProgress() { panic("boom") }

// TestStreamStopCountsTaken checks that a Stream callback that stops the
// run early is credited only with the rows it took: sample.pcap's three
// flows come in one batch, and a callback that refuses the second leaves
// one flow made, as its summary says.
func TestStreamStopCountsTaken(t *testing.T) {
	stop := errors.New("enough")
	for _, workers := range []int{1, 2} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		calls := 0
		sum, err := NewPipeline(cfg).Stream(func(Row) error {
			if calls++; calls == 2 {
				return stop
			}
			return nil
		}, "testdata/sample.pcap")
		if !errors.Is(err, stop) || sum == nil || !sum.OutputFailed || sum.Flows != 1 || !strings.Contains(sum.String(), " 1 flows made") {
			t.Errorf("%d workers: error %v, summary %+v; want the callback's error and 1 flow made", workers, err, sum)
		}
		sum, err = NewPipeline(cfg).Stream(func(Row) error { return nil }, "testdata/sample.pcap")
		if err != nil || sum.Flows != 3 {
			t.Errorf("%d workers, a callback that takes every row: error %v, %d flows; want 3", workers, err, sum.Flows)
		}
	}
}

// TestFilterTooLongRefused checks that a filter whose program fits the
// kernel's limit for Ethernet frames but not for every link type jj
// decodes is an option error before any input is read, with one decoder
// and with split reading. jj extract used to run such a filter as no
// filter at all: its matcher could not be built, and the error was
// dropped.
func TestFilterTooLongRefused(t *testing.T) {
	expr := strings.Repeat("ip or ", 999) + "ip" // about 2 800 instructions for Ethernet, 5 700 for loopback
	if _, err := filter.Compile(expr, capture.LinkEthernet); err != nil {
		t.Fatalf("the Ethernet program must fit for this test: %v", err)
	}
	for _, decoders := range []int{-1, 2} {
		cfg := DefaultConfig()
		cfg.Filter = expr
		p := NewPipeline(cfg)
		p.Decoders = decoders
		var oe *OptionError
		sum, err := p.Run([]string{"testdata/sample.pcap"}, writerFunc(func(*output.Batch) error { return nil }))
		if !errors.As(err, &oe) || oe.Option != "filter" || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "kernel's limit") || (sum != nil && sum.Packets > 0) {
			t.Errorf("decoders %d: %v, summary %v; want an option error of filter, nothing read", decoders, err, sum)
		}
	}
}

// TestSubdirsWarned checks that a directory input's subdirectories, which
// are not read, are named in a warning, hidden ones aside, whether the
// directory holds captures of its own or not; the command line's summary
// says it once.
func TestSubdirsWarned(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"day2", "day10", ".git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, d, "b.pcap"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := dir + ": its subdirectories are not read (day2, day10): name them as inputs to read them"
	nop := writerFunc(func(*output.Batch) error { return nil })
	sum, err := NewPipeline(DefaultConfig()).Run([]string{dir}, nop)
	if err == nil || !strings.Contains(err.Error(), "no capture files in "+dir) || sum == nil || !slices.Equal(sum.Warnings, []string{want}) {
		t.Errorf("no captures of its own: %v, warnings %q; want the error and %q", err, sum.Warnings, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pcap"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = NewPipeline(DefaultConfig()).Run([]string{dir}, nop)
	if err != nil || sum.Flows != 3 || !slices.Equal(sum.Warnings, []string{want}) {
		t.Errorf("a capture of its own: %v, %d flows, warnings %q; want 3 flows and %q", err, sum.Flows, sum.Warnings, want)
	}
	sum, err = NewPipeline(DefaultConfig()).Run([]string{filepath.Join(dir, "day2")}, nop)
	if err != nil || len(sum.Warnings) != 0 {
		t.Errorf("a directory without subdirectories: %v, warnings %q", err, sum.Warnings)
	}
}

// TestForgottenFragmentsWarned checks that first IP fragments forgotten
// because 65 536 other fragmented datagrams were open at once are counted
// in a warning: 65 546 datagrams' first fragments, 1 µs apart, then the
// later fragments of the first 10, which count in flows of ports 0 where
// the spec (flow-meta.md §1) would give them their first fragment's.
func TestForgottenFragmentsWarned(t *testing.T) {
	const n = 1<<16 + 10
	const epoch = int64(1_700_000_000e9)
	dst := testpkt.Addr("192.0.2.200")
	src := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 16), byte(i >> 8)}) }
	frames := make([]testpkt.Frame, 0, n+10)
	for i := range n {
		frames = append(frames, testpkt.Frame{TS: epoch + int64(i)*1000, Src: src(i), Dst: dst, Proto: 17, SrcPort: 5000, DstPort: 53, IPID: uint16(i), MF: true, Payload: 8, UDPLen: 100})
	}
	for i := range 10 {
		frames = append(frames, testpkt.Frame{TS: epoch + int64(n+i)*1000, Src: src(i), Dst: dst, Proto: 17, IPID: uint16(i), FragOff: 2, Payload: 84})
	}
	path := filepath.Join(t.TempDir(), "frags.pcap")
	if err := os.WriteFile(path, testpkt.Pcap(frames...), 0o644); err != nil {
		t.Fatal(err)
	}
	port0 := 0 // packets in flows of port 0
	sum, err := NewPipeline(DefaultConfig()).Stream(func(r Row) error {
		if fmt.Sprint(r.Get("src_port")) == "0" {
			n, _ := strconv.Atoi(fmt.Sprint(r.Get("total_packets")))
			port0 += n
		}
		return nil
	}, path)
	if err != nil {
		t.Fatal(err)
	}
	want := "10 first IP fragments were forgotten within the idle timeout: more than 65536 fragmented datagrams were open at once; their later fragments count in flows of ports 0"
	if !slices.Contains(sum.Warnings, want) || port0 != 10 {
		t.Errorf("warnings %q, %d packets in flows of port 0; want %q and 10", sum.Warnings, port0, want)
	}
}

// TestSkipsCount checks the non-IP counts, whose last kind waits beside
// the map (skips.last): runs of one kind and kinds coming back, read by
// named and total between adds, and added to another count (addAll, as
// split reading does).
func TestSkipsCount(t *testing.T) {
	var s, all skips
	var dec decode.Decoder
	kinds := []uint16{0x0806, 0x0806, 0x8137, 0x0806, 0x0806, 0x0806, 0x88cc, 0x8137}
	for i, k := range kinds {
		dec.Numbering, dec.EtherType = decode.NumEtherType, k
		s.add(decode.ReasonNonIP, &dec, 1)
		if i == 4 {
			if n := s.total(); n != 5 {
				t.Errorf("after 5 frames, total %d", n)
			}
		}
	}
	s.add(decode.ReasonIPShort, &dec, 1)
	m := map[string]uint64{}
	s.named(m)
	want := map[string]uint64{"non-IP frame (ARP)": 5, "non-IP frame (EtherType 0x8137)": 2, "non-IP frame (LLDP)": 1, decode.ReasonIPShort.String(): 1}
	if !maps.Equal(m, want) || s.total() != 9 {
		t.Errorf("named %v, total %d; want %v and 9", m, s.total(), want)
	}
	dec.EtherType = 0x0806
	s.add(decode.ReasonNonIP, &dec, 1)
	all.addAll(&s)
	all.addAll(&s) // s was cleared
	m = map[string]uint64{}
	all.named(m)
	want["non-IP frame (ARP)"] = 6
	if !maps.Equal(m, want) || all.total() != 10 || s.total() != 0 {
		t.Errorf("added: named %v, total %d, left %d; want %v, 10 and 0", m, all.total(), s.total(), want)
	}
}
