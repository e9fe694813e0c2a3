// Package jj turns packet captures into per-flow feature tables, ready for
// pandas, scikit-learn or Spark. It is the Go counterpart of the Python
// JoyfulJay library: the same feature names, options and meanings.
//
// The simplest use is one call:
//
//	table, err := jj.Extract("capture.pcap", jj.DefaultConfig())
//
// A Pipeline does the same with more control: Process reads several files
// as one capture, Stream and Rows hand over each flow as it ends without
// holding the table in memory, and Run writes straight to an output writer.
//
// Inside, packets go through the stages capture → decode → flow → extract →
// output, one package each.
package jj

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// Version is jj's version.
var Version = "0.1.0"

// Extract reads the capture at path (a file, a directory of captures, or
// "-" for standard input) and returns its flow table.
func Extract(path string, cfg Config) (*Table, error) {
	return NewPipeline(cfg).ProcessPcap(path)
}

// Pipeline runs extractions with one Config.
type Pipeline struct {
	cfg Config
	// Stdin is read for the input "-"; os.Stdin when nil.
	Stdin io.Reader
	// OnProgress, when set, is called from the reading goroutine about
	// every 65 000 records and once at the end.
	OnProgress func(Progress)
	// Decoders is how many goroutines decode the records of a
	// memory-mapped capture file while the reading goroutine only walks
	// them (split reading, which lifts the single reading goroutine's
	// limit of about 8-12 M packets/s when CPUs are left over): 0 chooses
	// (one for every 8 CPUs, up to 3, none below 8), -1 turns split
	// reading off, and a count up to 64 is used as it is; Run refuses
	// other values with an *OptionError. The output is the same either
	// way.
	Decoders int
}

// Progress is a snapshot of a running extraction.
type Progress struct {
	// BytesRead and BytesTotal cover every input file; BytesTotal is -1
	// when a size is unknown (a pipe, or standard input unless it is a
	// file read from its start).
	BytesRead, BytesTotal int64
	// Packets counts the records read, Flows the rows written.
	Packets, Flows uint64
	Elapsed        time.Duration // since the run started
	// Done is true for the last call.
	Done bool
}

// NewPipeline returns a pipeline for cfg. The config is validated when the
// pipeline runs.
func NewPipeline(cfg Config) *Pipeline { return &Pipeline{cfg: cfg} }

// Table is a whole flow table in memory: the columns and one row per flow,
// in output order. A value's Go type follows its column's type: int64,
// float64, string, bool, []int64 or []float64.
type Table struct {
	Columns []output.Column // the schema of the rows
	Rows    [][]any         // one row a flow, a value a column, in output order
	// Summary describes the run that built the table.
	Summary *Summary
}

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	return slices.IndexFunc(t.Columns, func(c output.Column) bool { return c.Name == name })
}

// Value returns the value of the named column in row r, or nil when there
// is no such column.
func (t *Table) Value(r int, name string) any {
	if i := t.Col(name); i >= 0 {
		return t.Rows[r][i]
	}
	return nil
}

// Row is one flow handed to a Stream callback.
type Row struct {
	Columns []output.Column // the schema, shared by every row of a run
	Values  []any           // the flow's values, one a column; the row's own copy
}

// Get returns the value of the named column, or nil.
func (r Row) Get(name string) any {
	for i, c := range r.Columns {
		if c.Name == name {
			return r.Values[i]
		}
	}
	return nil
}

// ProcessPcap extracts the flows of one input (file, directory or "-").
func (p *Pipeline) ProcessPcap(path string) (*Table, error) { return p.Process(path) }

// Process extracts the flows of several inputs read as one capture, in the
// order given (a directory's files in name order, numbers by value:
// dump.pcap2 before dump.pcap10): flows continue across files (with
// Config.PerFile, each file is a capture of its own instead). On an
// input error the table still holds every flow that could be computed,
// and the error says which inputs failed.
func (p *Pipeline) Process(paths ...string) (*Table, error) {
	t := &Table{}
	s, err := p.Stream(func(r Row) error {
		if t.Columns == nil {
			t.Columns = r.Columns
		}
		t.Rows = append(t.Rows, r.Values)
		return nil
	}, paths...)
	if s != nil {
		t.Columns = s.Columns
	}
	t.Summary = s
	return t, err
}

// Stream calls fn for each flow as it ends, in output order, without
// keeping flows in memory. An error from fn stops the run and is returned.
// fn runs on the caller's goroutine, one call at a time, while the
// pipeline waits: a panic in it stops the run, closes its files and comes
// back as a *PanicError panic, and runtime.Goexit (t.FailNow) stops the
// run and ends the caller's goroutine, as it would anywhere.
func (p *Pipeline) Stream(fn func(Row) error, paths ...string) (*Summary, error) {
	if fn == nil {
		return nil, fmt.Errorf("%w: no row callback (nil)", ErrConfig)
	}
	var took uint64 // rows fn returned nil for
	sum, err := p.deliver(paths, func(b *output.Batch) error {
		for r := 0; r < b.Len(); r++ {
			if err := fn(rowOf(b, r)); err != nil {
				return err
			}
			took++
		}
		return nil
	})
	if sum != nil {
		// The writer is fn: a row is written when fn took it, so a batch
		// cut short by fn's error counts only the rows before it.
		sum.Flows = took
	}
	return sum, err
}

// Rows returns an iterator over the flows of the inputs, for use with
// range. A final pair with a nil Row's Values and a non-nil error reports
// input errors; breaking out of the loop stops the run. The loop's body
// runs on the caller's goroutine, as Stream's callback does: a panic in
// it comes back as a *PanicError panic, holding its value, and t.FailNow
// ends the test as it should. Rows gives no Summary: where the run's
// warnings (a file cut off mid-record) and skipped records matter, use
// Stream, which returns it.
func (p *Pipeline) Rows(paths ...string) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		stop := errors.New("stopped")
		_, err := p.Stream(func(r Row) error {
			if !yield(r, nil) {
				return stop
			}
			return nil
		}, paths...)
		if err != nil && !errors.Is(err, stop) {
			yield(Row{}, err)
		}
	}
}

// rowOf copies row r of b.
func rowOf(b *output.Batch, r int) Row {
	vals := make([]any, len(b.Schema))
	for c := range b.Schema {
		vals[c] = b.Value(c, r)
	}
	return Row{Columns: b.Schema, Values: vals}
}

// deliver runs the pipeline on a goroutine of its own and hands each
// batch of rows to fn on the caller's goroutine, while the pipeline waits
// for fn's answer (a handoff writer). If fn panics or calls
// runtime.Goexit, the run is stopped and waited for before the caller's
// goroutine goes on unwinding, so that no goroutine or file outlives it;
// a panic comes back as a *PanicError. A panic or Goexit on the run's
// goroutine (in Pipeline.OnProgress or a Stdin reader, say) is carried
// over to the caller's, a panic as a *PanicError with the stack where it
// happened.
func (p *Pipeline) deliver(paths []string, fn func(*output.Batch) error) (*Summary, error) {
	h := &handoff{batches: make(chan *output.Batch), answers: make(chan error), stop: make(chan struct{})}
	var (
		sum      *Summary
		err      error
		panicked any
		exited   = true
	)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer func() {
			if v := recover(); v != nil {
				panicked, exited = asPanicError(v), false // with this goroutine's stack
			}
		}()
		sum, err = p.Run(paths, h)
		exited = false
	}()
	answered := false
	defer func() {
		if answered {
			return
		}
		// fn panicked or called runtime.Goexit: stop the run first.
		v := recover()
		close(h.stop)
		<-finished
		if v != nil {
			panic(asPanicError(v))
		}
	}()
	for {
		select {
		case b := <-h.batches:
			h.answers <- fn(b)
		case <-finished:
			answered = true
			switch {
			case panicked != nil:
				panic(panicked)
			case exited:
				runtime.Goexit()
			}
			return sum, err
		}
	}
}

// asPanicError wraps a recovered panic value in a *PanicError with the
// stack of the goroutine that recovers it, unless it is one already (a
// Stream within a Stream's callback).
func asPanicError(v any) *PanicError {
	if pe, ok := v.(*PanicError); ok {
		return pe
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// handoff is the writer of deliver: it hands each batch to the caller's
// goroutine and returns its answer.
type handoff struct {
	batches chan *output.Batch
	answers chan error
	stop    chan struct{} // closed when the caller's goroutine stops taking batches
}

// errHandoffStopped fails a run whose Stream callback or Rows loop body
// panicked or called runtime.Goexit.
var errHandoffStopped = errors.New("the row callback stopped (a panic or runtime.Goexit)")

func (h *handoff) Write(b *output.Batch) error {
	select {
	case h.batches <- b:
	case <-h.stop:
		return errHandoffStopped
	}
	select {
	case err := <-h.answers:
		return err
	case <-h.stop:
		return errHandoffStopped
	}
}

func (h *handoff) Close() error { return nil }

// Summary describes a run: what was read, used, skipped and written.
type Summary struct {
	// Columns is the schema of the rows written.
	Columns []output.Column
	// Inputs are the files read, in order.
	Inputs []string
	// Packets counts the records read; Used those that joined a flow.
	Packets, Used uint64
	// Skipped counts the records that made no flow, by reason.
	Skipped map[string]uint64
	// SkippedByInput counts them by input (as named in Inputs) and by
	// reason; an input that skipped nothing has no entry.
	SkippedByInput map[string]map[string]uint64
	// Flows counts the rows written: handed to the writer, and, unless
	// OutputFailed, written by it. Under Stream and Process it counts
	// exactly the rows the callback took (returned nil for).
	Flows uint64
	// OutputFailed says that writing the rows failed (the run's error
	// says how): some of the Flows rows may be missing from the output.
	// Stream sets it too when its callback returns an error, even one
	// returned on purpose to stop early.
	OutputFailed bool
	// Evicted counts flows written early because MaxConcurrentFlows was reached.
	Evicted uint64
	// MaxConcurrent is the most flows open at once in a flow table,
	// summed over the run's tables: exact with one table (one worker),
	// and with several at least the most open at once, each table's peak
	// coming when it comes.
	MaxConcurrent int
	// Warnings are non-fatal problems, such as a file cut off mid-record.
	Warnings []string
	// Notes are lines that inform of no problem, such as a live capture's
	// kernel counters when the kernel dropped nothing.
	Notes []string
	// Elapsed is the run's wall-clock time.
	Elapsed time.Duration
}

// SkippedTotal returns the number of skipped records.
func (s *Summary) SkippedTotal() uint64 {
	var n uint64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

// String renders the summary for standard error, one fact a line.
func (s *Summary) String() string {
	var b strings.Builder
	written := "written"
	if s.OutputFailed {
		written = "made (the output failed)"
	}
	fmt.Fprintf(&b, "jj: %d input(s), %d packets read, %d used, %d skipped, %d flows %s",
		len(s.Inputs), s.Packets, s.Used, s.SkippedTotal(), s.Flows, written)
	if s.Evicted > 0 {
		fmt.Fprintf(&b, " (%d ended early: --max-flows reached)", s.Evicted)
	}
	secs := s.Elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(&b, ", %.3f s, %.0f packets/s", secs, float64(s.Packets)/secs)
	}
	b.WriteByte('\n')
	// A line a reason, naming the inputs that skipped records for it:
	// a directory of captures that each hold some ARP makes one line.
	for _, r := range slices.Sorted(maps.Keys(s.Skipped)) {
		fmt.Fprintf(&b, "jj: skipped %d%s\n", s.Skipped[r], s.skippedIn(r))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "jj: %s\n", n)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "jj: warning: %s\n", w)
	}
	return b.String()
}

// skippedInputs is how many inputs a summary line names for a reason.
const skippedInputs = 3

// skippedIn tells, after the count, in which inputs records were skipped
// for reason r and why: " in a.pcap: r" for one input, else ": r: 2 in
// a.pcap, 5 in b.pcap", the first skippedInputs inputs in order and how
// many more.
func (s *Summary) skippedIn(r string) string {
	var ins []string
	seen := map[string]bool{}
	for _, in := range s.Inputs {
		if n := s.SkippedByInput[in][r]; n > 0 && !seen[in] {
			seen[in] = true
			ins = append(ins, in)
		}
	}
	switch {
	case len(ins) == 0: // a Summary made without SkippedByInput
		return ": " + r
	case len(ins) == 1:
		return " in " + ins[0] + ": " + r
	}
	var b strings.Builder
	b.WriteString(": " + r + ": ")
	var rest uint64
	for i, in := range ins {
		n := s.SkippedByInput[in][r]
		if i >= skippedInputs {
			rest += n
			continue
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d in %s", n, in)
	}
	if more := len(ins) - skippedInputs; more > 0 {
		fmt.Fprintf(&b, " and %d in %d more inputs", rest, more)
	}
	return b.String()
}

// InputError reports the inputs that could not be read (fully). The flows of
// everything that was read were still written.
type InputError struct {
	Errs []error
}

func (e *InputError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual input errors.
func (e *InputError) Unwrap() []error { return e.Errs }

// protoName names the link protocol of a non-IP frame, numbered as num
// says.
func protoName(num decode.Numbering, p uint16) string {
	switch num {
	case decode.NumFamily:
		return fmt.Sprintf("address family %d", p)
	case decode.NumSLL:
		return fmt.Sprintf("Linux cooked protocol 0x%04x", p)
	case decode.NumCHDLC:
		switch p {
		case 0x8035:
			return "Cisco SLARP"
		case 0x2000:
			return "CDP"
		}
		return fmt.Sprintf("Cisco HDLC protocol 0x%04x", p)
	case decode.NumPPP:
		if name, ok := pppNames[p]; ok {
			return name
		}
		return fmt.Sprintf("PPP protocol 0x%04x", p)
	}
	return etherName(p)
}

// pppNames names the PPP protocols seen most.
var pppNames = map[uint16]string{
	0xc021: "PPP LCP",
	0x8021: "PPP IPCP",
	0x8057: "PPP IPv6CP",
	0xc023: "PPP PAP",
	0xc223: "PPP CHAP",
	0x80fd: "PPP CCP",
}

func etherName(et uint16) string {
	switch et {
	case 0x0806:
		return "ARP"
	case 0x88cc:
		return "LLDP"
	case 0x8035:
		return "RARP"
	case 0x8847, 0x8848:
		return "MPLS"
	case 0x8863, 0x8864:
		return "PPPoE"
	case 0x888e:
		return "EAPOL"
	case 0x88e5:
		return "MACsec"
	case 0x8809:
		return "slow protocols"
	case 0x9000:
		return "loopback"
	}
	if et <= 1500 {
		// A length, not a protocol: 802.3 frames of every length are one
		// kind (LLC: STP, CDP, IPX, ...).
		return "802.3 frame, LLC"
	}
	return fmt.Sprintf("EtherType 0x%04x", et)
}
