package jj

import (
	"sync"
	"sync/atomic"

	"github.com/jjflow/jj/flow"
	"github.com/jjflow/jj/output"
)

// chunk is a message from a worker to the merger: rows with their Order,
// or a watermark (every row of that worker with Event ≤ wm has been sent).
type chunk struct {
	w     int
	b     *output.Batch
	ord   []flow.Order
	wm    uint64
	hasWM bool
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
	out    *output.Batch
	view   *output.Batch
	free   chan *output.Batch
	rows   atomic.Uint64
	eager  bool // write rows as soon as they are final (live input)
	mu     sync.Mutex
	err    error
}

func newMerger(pl *plan, w output.Writer, workers int) *merger {
	return &merger{
		in:     make(chan chunk, 64*workers),
		pl:     pl,
		w:      w,
		queues: make([][]chunk, workers),
		pos:    make([]int, workers),
		wm:     make([]uint64, workers),
		out:    output.NewBatch(pl.schema),
		free:   make(chan *output.Batch, 8*workers),
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

func (m *merger) failed() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *merger) fail(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	m.mu.Unlock()
}

func (m *merger) rowsWritten() uint64 { return m.rows.Load() }

// run merges until every worker has sent its final watermark.
func (m *merger) run() {
	open := len(m.queues)
	for c := range m.in {
		if c.b != nil {
			m.queues[c.w] = append(m.queues[c.w], c)
		}
		if c.hasWM {
			m.wm[c.w] = c.wm
			if c.wm == flow.EndOfInput {
				open--
			}
		}
		m.drain()
		if m.eager {
			m.flushOut()
		}
		if open == 0 {
			break
		}
	}
	m.writeOut()
}

// drain writes every row that is final.
func (m *merger) drain() {
	if len(m.queues) == 1 {
		// One worker: its rows are already in order; pass whole batches.
		for _, c := range m.queues[0] {
			m.flushOut()
			m.write(c.b)
			m.recycle(c.b)
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
		m.out.AppendRow(q[0].b, m.pos[best])
		if m.out.Len() >= flow.OutputRows {
			m.writeOut()
		}
		if m.pos[best]++; m.pos[best] == q[0].b.Len() {
			m.recycle(q[0].b)
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

func (m *merger) flushOut() {
	if m.out.Len() > 0 {
		m.writeOut()
	}
}

func (m *merger) writeOut() {
	m.write(m.out)
	m.out.Reset()
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
	if err := m.w.Write(b); err != nil {
		m.fail(err)
	}
}
