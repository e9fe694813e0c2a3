package jj

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
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
