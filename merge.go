package jj

import (
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/jjflow/jj/flow"
	"github.com/jjflow/jj/internal/mem"
	"github.com/jjflow/jj/output"
)

// chunk is a message from a worker to the merger: rows with their Order,
// as a batch or already encoded as text, or a watermark (every row of that
// worker with Event ≤ wm has been sent).
type chunk struct {
	w     int
	b     *output.Batch
	text  *encoded
	ord   []flow.Order
	wm    uint64
	hasWM bool
}

// rows returns the number of rows of c.
func (c *chunk) rows() int {
	if c.text != nil {
		return len(c.text.ends)
	}
	return c.b.Len()
}

// encoded is rows encoded as text by a worker (output.RowEncoder).
type encoded struct {
	text []byte
	ends []int // end offset of each row in text
}

// merger writes the workers' rows in flow.Order. Each worker's rows come
// sorted; a row is written once no worker can still send a smaller one.
type merger struct {
	in     chan chunk
	pl     *plan
	w      output.Writer
	queues [][]chunk
	pos    []int // next row in each queue's head chunk
	wm     []uint64
	ended  int // workers that have sent their final watermark
	out    *output.Batch
	view   *output.Batch
	free   chan *output.Batch

	// With a text format, workers may encode their rows (enc) and the
	// merger then only orders the text: always with several workers
	// (encodeAll), and with one at the end of the input while the merger
	// is behind (encodes).
	enc       output.RowEncoder
	encodeAll bool
	outText   encoded
	freeText  chan *encoded
	freeOrd   []chan []flow.Order // each worker's order slices, drained
	textRoom  output.TextRoom     // sizes the text of workers that encode their rows
	rows      atomic.Uint64
	eager     bool            // write rows as soon as they are final (live input)
	inline    bool            // the worker calls take itself (Config.Workers 1)
	credits   []chan struct{} // each worker's chunks of rows not yet written (chunkCredits)
	mu        sync.Mutex
	err       error
	failed1   chan struct{} // closed by the first fail: put then waits for no credit
	anyFailed atomic.Bool   // set by the first fail, after err (failed's fast path)
}

// chunkCredits is how many chunks of rows each worker may have handed the
// merger and the merger not yet written. A worker with that many waits
// for the merger (put). Without a bound, a worker that runs ahead while
// the merger waits for another worker's rows, as when every worker ends
// its open flows at the end of the input, queued batch after batch: with
// a million open flows, --features all and Parquet output, two workers
// made about 200 MB of batches the merger then dropped. The free lists
// hold every chunk a worker can have out, so that none is dropped.
//
// A worker waiting for a credit never holds up the rows the merger waits
// for. Its own queue at the merger is not empty, so the merger does not
// wait on its watermark; and a worker with an empty queue holds no credit,
// so it goes on handling every message sent to it, and the watermark of
// the last one it handled is at least the event of the first row the
// waiting worker has queued (the rows made while handling a message are
// final after its watermark). The merger can therefore always write a
// row, and a chunk whose rows are all written gives its credit back.
const chunkCredits = 16

func newMerger(pl *plan, w output.Writer, workers int) *merger {
	out := workers * (chunkCredits + 1) // chunks out at once, at most
	m := &merger{
		in:       make(chan chunk, 64*workers),
		pl:       pl,
		w:        w,
		queues:   make([][]chunk, workers),
		pos:      make([]int, workers),
		wm:       make([]uint64, workers),
		out:      output.NewBatch(pl.schema),
		free:     make(chan *output.Batch, out),
		freeText: make(chan *encoded, out),
		freeOrd:  make([]chan []flow.Order, workers),
		credits:  make([]chan struct{}, workers),
		failed1:  make(chan struct{}),
	}
	for i := range m.freeOrd {
		m.freeOrd[i] = make(chan []flow.Order, chunkCredits+1)
		m.credits[i] = make(chan struct{}, chunkCredits)
	}
	if enc, ok := w.(output.RowEncoder); ok {
		m.enc = enc
		m.encodeAll = workers > 1
	}
	return m
}

// encodes reports whether a worker should encode its next batch of rows:
// always with several workers; with one, only while it is closing its
// table and the merger is behind. One worker otherwise leaves the encoding
// to the merger, which then runs beside it rather than after it. At the
// end of the input, though, the worker ends every open flow at once and
// the merger, encoding each row, would be left doing most of the work
// alone. (Before that the merger lags only when the two goroutines share
// a core with the reader, and encoding in the worker then only slows the
// worker, which the reader waits for.) One worker run inline, by the
// reading goroutine, never finds the merger behind: it runs the merger.
func (m *merger) encodes(closing bool) bool {
	return m.enc != nil && (m.encodeAll || closing && behind(m))
}

// backlog is how many chunks waiting for the merger make a closing worker
// encode its rows itself (one worker) or yield its core to the merger
// (several, which encode their rows anyway).
const backlog = 4

// behind reports whether the merger is behind one worker. (A variable, so
// that tests can make the worker and the merger take turns.)
var behind = func(m *merger) bool { return len(m.in) >= backlog }

// encode turns a worker's batch into text, on the worker's goroutine, and
// recycles the batch; view is the worker's projection scratch. It returns
// nil, and keeps the batch, if the writer's EncodeRows panicked (the run
// has then failed: encodeRows).
func (m *merger) encode(b *output.Batch, view **output.Batch) *encoded {
	var e *encoded
	select {
	case e = <-m.freeText:
	default:
		e = &encoded{}
	}
	// Room for the batch's text and row ends, so that a buffer, new or too
	// short, grows once: a burst of rows (the flows still open at the end
	// of the input) makes many such buffers, and with --features all two
	// workers on the 218 k-packet capture made 5 929-7 037 page faults a
	// run, and 5 288-6 327 sized so (bench/RESULTS.md, session 56).
	rows := b.Len()
	e.text = m.textRoom.Make(e.text[:0], rows)
	e.ends = mem.Grow(e.ends[:0], rows) // as output's emptied
	v := b
	if m.pl.proj != nil {
		*view = b.View(m.pl.proj, m.pl.out, *view)
		v = *view
	}
	if !m.encodeRows(e, v) {
		return nil
	}
	m.textRoom.Saw(len(e.text), rows)
	m.recycle(b)
	return e
}

// encodeRows has the writer encode v into e, and reports whether it did.
// The writer may be the caller's own RowEncoder: a panic there fails the
// run (catch) rather than ending the program on this worker goroutine.
func (m *merger) encodeRows(e *encoded, v *output.Batch) (ok bool) {
	defer m.catch()
	e.text, e.ends = m.enc.EncodeRows(e.text[:0], e.ends[:0], v)
	return true
}

// reuseOrder gives worker w's table an order slice of a chunk the merger
// has written, if there is one.
func (m *merger) reuseOrder(w int, t *flow.Table) {
	select {
	case ord := <-m.freeOrd[w]:
		t.ReuseOrder(ord)
	default:
	}
}

// batch returns an empty batch for a worker's table, recycled if possible.
func (m *merger) batch() *output.Batch {
	select {
	case b := <-m.free:
		return b
	default:
		return output.NewBatch(m.pl.schema)
	}
}

// failed returns the run's failure, or nil; for the cost of an atomic
// load while there is none, as the reader asks before every record of a
// pipe.
func (m *merger) failed() error {
	if !m.anyFailed.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *merger) fail(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
		close(m.failed1)
		m.anyFailed.Store(true)
	}
	m.mu.Unlock()
}

func (m *merger) rowsWritten() uint64 { return m.rows.Load() }

// put hands the merger a chunk: through its channel, or inline.
func (m *merger) put(c chunk) {
	if m.inline {
		m.take(c)
		return
	}
	if c.b != nil || c.text != nil {
		select {
		case m.credits[c.w] <- struct{}{}: // returned by recycleChunk
		case <-m.failed1:
			// Rows of a failed run are not written: the chunk goes
			// without them, and waits for no credit, which a merger
			// that stopped (discardRest) would never give back.
			c.b, c.text = nil, nil
		}
	}
	m.in <- c
}

// discardRest takes the chunks still to come of a failed run, writing
// none, until every worker has sent its final watermark or the channel is
// closed (pass.abandon). It stands in for run when the caller's writer
// ended the merger's goroutine (runtime.Goexit), so that the workers, and
// the caller waiting for them, do not wait for it for ever.
func (m *merger) discardRest() {
	for m.ended < len(m.queues) {
		c, ok := <-m.in
		if !ok {
			return
		}
		if c.hasWM && c.wm == flow.EndOfInput {
			m.ended++
		}
	}
}

// run merges until every worker has sent its final watermark.
func (m *merger) run() {
	for c := range m.in {
		if m.take(c) {
			break
		}
	}
	m.writeOut()
}

// take queues a chunk, writes the rows that are now final and reports
// whether every worker has sent its final watermark.
func (m *merger) take(c chunk) bool {
	if c.b != nil || c.text != nil {
		m.queues[c.w] = append(m.queues[c.w], c)
	}
	if c.hasWM {
		m.wm[c.w] = c.wm
		if c.wm == flow.EndOfInput {
			m.ended++
		}
	}
	m.drain()
	if m.eager {
		m.flushOut()
	}
	return m.ended == len(m.queues)
}

// drain writes every row that is final.
func (m *merger) drain() {
	if len(m.queues) == 1 {
		// One worker: its rows are already in order; pass whole batches.
		for _, c := range m.queues[0] {
			m.flushOut()
			if c.text != nil {
				m.writeText(c.text)
			} else {
				m.write(c.b)
			}
			m.recycleChunk(&c)
		}
		m.queues[0] = m.queues[0][:0]
		return
	}
	for {
		best := -1
		var bo flow.Order
		for i, q := range m.queues {
			if len(q) == 0 {
				continue
			}
			if o := q[0].ord[m.pos[i]]; best < 0 || o.Less(bo) {
				best, bo = i, o
			}
		}
		if best < 0 {
			return
		}
		// A worker with nothing queued may still send a row up to its
		// watermark.
		for i, q := range m.queues {
			if len(q) == 0 && bo.Event > m.wm[i] {
				return
			}
		}
		q := m.queues[best]
		c, r := &q[0], m.pos[best]
		if c.text != nil {
			if len(m.outText.ends) == 0 {
				// Room for a batch of rows at once (output.TextRoom), its
				// pages allocated in one call: grown by append, the
				// buffer doubled from nothing, each step new memory
				// faulted in a page at a time (388 faults, with two
				// workers and --features all on the 218 k-packet capture).
				rows := flow.BatchRows(len(m.pl.schema))
				m.outText.text = m.textRoom.Make(m.outText.text[:0], rows)
				m.outText.ends = mem.Grow(m.outText.ends[:0], rows)
			}
			start := 0
			if r > 0 {
				start = c.text.ends[r-1]
			}
			m.outText.text = append(m.outText.text, c.text.text[start:c.text.ends[r]]...)
			m.outText.ends = append(m.outText.ends, len(m.outText.text))
		} else {
			m.out.AppendRow(c.b, r)
		}
		if m.out.Len()+len(m.outText.ends) >= flow.BatchRows(len(m.pl.schema)) {
			m.writeOut()
		}
		if m.pos[best]++; m.pos[best] == c.rows() {
			m.recycleChunk(c)
			m.queues[best] = q[1:]
			m.pos[best] = 0
		}
	}
}

func (m *merger) recycle(b *output.Batch) {
	b.Reset()
	select {
	case m.free <- b:
	default:
	}
}

// recycleChunk keeps a chunk's batch or text buffers and its order slice
// for reuse.
func (m *merger) recycleChunk(c *chunk) {
	if !m.inline {
		<-m.credits[c.w]
	}
	if c.ord != nil {
		select {
		case m.freeOrd[c.w] <- c.ord:
		default:
		}
	}
	if c.text == nil {
		m.recycle(c.b)
		return
	}
	select {
	case m.freeText <- c.text:
	default:
	}
}

func (m *merger) flushOut() {
	if m.out.Len() > 0 || len(m.outText.ends) > 0 {
		m.writeOut()
	}
}

func (m *merger) writeOut() {
	if len(m.outText.ends) > 0 {
		m.writeText(&m.outText)
		m.outText.text, m.outText.ends = m.outText.text[:0], m.outText.ends[:0]
	}
	m.write(m.out)
	m.out.Reset()
}

// writeText hands encoded rows to the writer.
func (m *merger) writeText(e *encoded) {
	if len(e.ends) == 0 || m.failed() != nil {
		return
	}
	m.rows.Add(uint64(len(e.ends)))
	defer m.catch()
	if err := m.enc.WriteEncoded(e.text, e.ends); err != nil {
		m.fail(err)
	}
}

// catch, deferred around a call of the caller's writer, turns a panic
// there into the run's failure: the merger may be on a goroutine of its own,
// where a panic would end the program whatever the caller recovers. Run
// and RunReader panic again with it on the caller's goroutine
// (PanicError), once every file is closed and every goroutine stopped.
func (m *merger) catch() {
	if v := recover(); v != nil {
		m.fail(&PanicError{Value: v, Stack: debug.Stack()})
	}
}

// write hands a batch to the writer, with only the kept columns.
func (m *merger) write(b *output.Batch) {
	if b.Len() == 0 || m.failed() != nil {
		return
	}
	m.rows.Add(uint64(b.Len()))
	if m.pl.proj != nil {
		m.view = b.View(m.pl.proj, m.pl.out, m.view)
		b = m.view
	}
	defer m.catch()
	if err := m.w.Write(b); err != nil {
		m.fail(err)
	}
}
