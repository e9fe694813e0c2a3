package jj

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// idleReader plays a capture's records, then, as a live capture on a
// quiet link does, reports no packet until rows have reached the writer
// (or a deadline passes), and only then ends.
type idleReader struct {
	capture.Reader
	rows    *atomic.Int64
	quiet   time.Time // when the records ran out
	waited  time.Duration
	endedAt int64 // rows written when the reader ended
}

func (r *idleReader) Next(rec *capture.Record) error {
	if r.quiet.IsZero() {
		err := r.Reader.Next(rec)
		if err != io.EOF {
			return err
		}
		r.quiet = time.Now()
	}
	if r.rows.Load() == 0 && time.Since(r.quiet) < 3*time.Second {
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

// Live input writes a flow's row as soon as the flow ends, not when the
// capture stops: on a quiet link, the flows expire on the wall clock (the
// capture's timestamps are years old) and their rows reach the writer
// while the reader still waits for packets. With one worker (run by the
// reading goroutine) and with several (whose rows the merger would
// otherwise keep until it has a full batch).
func TestRunReaderWritesRowsAsFlowsEnd(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		r, closer, err := capture.Open("testdata/captures/nfstream__KakaoTalk_chat.pcap")
		if err != nil {
			t.Fatal(err)
		}
		var rows atomic.Int64
		in := &idleReader{Reader: r, rows: &rows}
		cfg := DefaultConfig()
		cfg.Workers = workers
		sum, err := NewPipeline(cfg).RunReader(context.Background(), in, "test", countingWriter{&rows})
		closer.Close()
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatal(err)
			}
		}
		if in.endedAt == 0 || in.endedAt != int64(sum.Flows) || sum.Flows < 30 {
			t.Errorf("%d workers: %d of %d rows written while the link was quiet (%v), want all (at least 30)", workers, in.endedAt, sum.Flows, in.waited)
		}
	}
}

// stackWriter records whether each Write was called from within
// Pipeline.Run, that is on the caller's goroutine.
type stackWriter struct{ inRun, outside int }

func (w *stackWriter) Write(b *output.Batch) error {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(1, pc)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, "jj.(*Pipeline).Run") {
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
// writer through the merger's goroutine.
func TestOneWorkerRunsOnCallersGoroutine(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 30000, 2000, 5
	path, _ := genCapture(t, gc)
	for _, workers := range []int{1, 2} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		cfg.FlowTimeout = 0.05 // flows end all along
		var w stackWriter
		if _, err := NewPipeline(cfg).Run([]string{path}, &w); err != nil {
			t.Fatal(err)
		}
		switch {
		case w.inRun+w.outside < 2:
			t.Errorf("%d workers: %d writes, want several", workers, w.inRun+w.outside)
		case workers == 1 && w.outside > 0:
			t.Errorf("1 worker: %d of %d writes made outside Pipeline.Run", w.outside, w.inRun+w.outside)
		case workers > 1 && w.inRun > 0:
			t.Errorf("%d workers: %d of %d writes made by Pipeline.Run's goroutine, want the merger's", workers, w.inRun, w.inRun+w.outside)
		}
	}
}
