package jj

import (
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jjflow/jj/flow"
	"github.com/jjflow/jj/output"
)

// orderWriter records the first column of every row it is given.
type orderWriter struct{ vals []int64 }

func (w *orderWriter) Write(b *output.Batch) error {
	for r := range b.Len() {
		w.vals = append(w.vals, b.Int(0, r))
	}
	return nil
}
func (w *orderWriter) Close() error { return nil }

// A worker whose rows the merger cannot write yet, because another worker
// may still send earlier ones, hands over chunkCredits chunks and then
// waits, rather than queueing batch after batch; once the other worker's
// watermark lets the merger write them, it goes on, and every row comes
// out in order.
func TestMergerBoundsAWorkerAhead(t *testing.T) {
	schema := []output.Column{{Name: "event", Type: output.Int}}
	pl := &plan{schema: schema, out: schema}
	w := &orderWriter{}
	m := newMerger(pl, w, 2)
	done := make(chan struct{})
	go func() {
		m.run()
		close(done)
	}()

	const chunks = 3 * chunkCredits
	var handed atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // worker 0: one row a chunk, events 2, 4, 6, ...
		defer wg.Done()
		for i := range chunks {
			b := m.batch()
			b.AppendInt(0, int64(2*i+2))
			b.EndRow()
			m.put(chunk{w: 0, b: b, ord: []flow.Order{{Event: uint64(2*i + 2)}}})
			handed.Add(1)
		}
		m.put(chunk{w: 0, wm: flow.EndOfInput, hasWM: true})
	}()

	// Worker 1 has sent nothing: worker 0 must stop at chunkCredits.
	deadline := time.Now().Add(10 * time.Second)
	for handed.Load() < chunkCredits && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // time enough to hand over more
	if n := handed.Load(); n != chunkCredits {
		t.Fatalf("worker 0 handed over %d chunks the merger could not write, want %d", n, chunkCredits)
	}

	// Worker 1 sends one row that goes before all of worker 0's, then ends.
	b := m.batch()
	b.AppendInt(0, 1)
	b.EndRow()
	m.put(chunk{w: 1, b: b, ord: []flow.Order{{Event: 1}}})
	m.put(chunk{w: 1, wm: flow.EndOfInput, hasWM: true})
	wg.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the merger did not end")
	}

	want := []int64{1}
	for i := range chunks {
		want = append(want, int64(2*i+2))
	}
	if !slices.Equal(w.vals, want) {
		t.Errorf("rows written %v, want %v", w.vals, want)
	}
}

// A worker encoding its rows sizes the text for a batch from the batches
// encoded before: 1 000 rows after 4 take one buffer for the text and one
// for the row ends (and the chunk's own), where append grew them a quarter
// at a time, a new array at each step (about 20 allocations here).
func TestMergerSizesText(t *testing.T) {
	schema := []output.Column{{Name: "i", Type: output.Int}, {Name: "f", Type: output.Float}}
	batch := func(rows int) *output.Batch {
		b := output.NewBatch(schema)
		for r := range rows {
			b.AppendInt(0, 1e9+int64(r)) // rows of one length
			b.AppendFloat(1, 0.125)
			b.EndRow()
		}
		return b
	}
	// The fewest of three tries, each with a merger of its own, in case
	// another goroutine allocates while one is counted.
	allocs := uint64(math.MaxUint64)
	for range 3 {
		w, err := output.NewWriter("csv", io.Discard, schema)
		if err != nil {
			t.Fatal(err)
		}
		m := newMerger(&plan{schema: schema, out: schema}, w, 2)
		var view *output.Batch
		if e := m.encode(batch(4), &view); e == nil || len(e.ends) != 4 {
			t.Fatalf("4 rows encoded as %+v", e)
		}
		large := batch(1000)
		var e *encoded
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e = m.encode(large, &view)
		runtime.ReadMemStats(&after)
		if e == nil || len(e.ends) != 1000 || len(e.text) != 1000*len("1000000000,0.125\n") {
			t.Fatalf("1 000 rows encoded as %+v", e)
		}
		allocs = min(allocs, after.Mallocs-before.Mallocs)
	}
	if allocs > 3 {
		t.Errorf("encoding 1 000 rows after 4 made %d allocations, want at most 3", allocs)
	}
}

// TestMergerInterleavesIntoRoom checks that rows of two workers' text,
// written in their order, go into a buffer made once with a batch's room
// (TextRoom), not one grown by append from nothing, a new array at each
// doubling (31 allocations in all here before). Five remain: the text and
// the row ends of the merger's batch, the two queues' first chunk, and the
// CSV header.
func TestMergerInterleavesIntoRoom(t *testing.T) {
	schema := []output.Column{{Name: "i", Type: output.Int}, {Name: "f", Type: output.Float}}
	const rows = 1000
	batch := func() *output.Batch {
		b := output.NewBatch(schema)
		for r := range rows {
			b.AppendInt(0, 1e9+int64(r))
			b.AppendFloat(1, 0.125)
			b.EndRow()
		}
		return b
	}
	allocs := uint64(math.MaxUint64)
	for range 3 { // the fewest of three tries, as above
		w, err := output.NewWriter("csv", io.Discard, schema)
		if err != nil {
			t.Fatal(err)
		}
		m := newMerger(&plan{schema: schema, out: schema}, w, 2)
		m.inline = true // no credits to give back: take is called here
		var view *output.Batch
		var chunks [2]chunk
		for k := range chunks {
			ord := make([]flow.Order, rows)
			for r := range ord {
				ord[r] = flow.Order{Event: uint64(4*r + 2*k + 2)} // the workers' rows alternate
			}
			e := m.encode(batch(), &view)
			if e == nil {
				t.Fatal("encode failed")
			}
			chunks[k] = chunk{w: k, text: e, ord: ord, hasWM: true, wm: flow.EndOfInput}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m.take(chunks[0])
		done := m.take(chunks[1])
		m.writeOut()
		runtime.ReadMemStats(&after)
		if !done || m.rowsWritten() != 2*rows {
			t.Fatalf("done %v, %d rows written, want %d", done, m.rowsWritten(), 2*rows)
		}
		allocs = min(allocs, after.Mallocs-before.Mallocs)
	}
	if allocs > 5 {
		t.Errorf("merging 2 × %d rows of text made %d allocations, want at most 5", rows, allocs)
	}
}
