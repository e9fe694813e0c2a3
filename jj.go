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
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/flow"
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
}

// NewPipeline returns a pipeline for cfg. The config is validated when the
// pipeline runs.
func NewPipeline(cfg Config) *Pipeline { return &Pipeline{cfg: cfg} }

// Schema returns the columns the pipeline's config produces, in order, or
// the config's error.
func (p *Pipeline) Schema() ([]output.Column, error) {
	if err := p.cfg.Validate(); err != nil {
		return nil, err
	}
	exs, err := extract.Build(p.cfg.Features, p.cfg.options())
	if err != nil {
		return nil, err
	}
	var cols []output.Column
	for _, ex := range exs {
		cols = append(cols, ex.Columns()...)
	}
	return cols, nil
}

// Table is a whole flow table in memory: the columns and one row per flow,
// in output order. A value's Go type follows its column's type: int64,
// float64, string, bool, []int64 or []float64.
type Table struct {
	Columns []output.Column
	Rows    [][]any
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
	Columns []output.Column
	Values  []any
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
// order given (a directory's files in name order): flows continue across
// files. On an input error the table still holds every flow that could be
// computed, and the error says which inputs failed.
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
func (p *Pipeline) Stream(fn func(Row) error, paths ...string) (*Summary, error) {
	return p.Run(paths, &rowWriter{fn: fn})
}

// Rows returns an iterator over the flows of the inputs, for use with
// range. A final pair with a nil Row's Values and a non-nil error reports
// input errors; breaking out of the loop stops the run.
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

// rowWriter adapts a callback to output.Writer.
type rowWriter struct {
	fn func(Row) error
}

func (w *rowWriter) Write(b *output.Batch) error {
	for r := 0; r < b.Len(); r++ {
		vals := make([]any, len(b.Schema))
		for c := range b.Schema {
			vals[c] = b.Value(c, r)
		}
		if err := w.fn(Row{Columns: b.Schema, Values: vals}); err != nil {
			return err
		}
	}
	return nil
}

func (w *rowWriter) Close() error { return nil }

// Summary describes a run: what was read, used, skipped and written.
type Summary struct {
	Columns []output.Column
	// Inputs are the files read, in order.
	Inputs []string
	// Packets counts the records read; Used those that joined a flow.
	Packets, Used uint64
	// Skipped counts the records that made no flow, by reason.
	Skipped map[string]uint64
	// Flows counts the rows written.
	Flows uint64
	// Evicted counts flows written early because MaxConcurrentFlows was reached.
	Evicted uint64
	// MaxConcurrent is the most flows open at once.
	MaxConcurrent int
	// Warnings are non-fatal problems, such as a file cut off mid-record.
	Warnings []string
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
	fmt.Fprintf(&b, "jj: %d file(s), %d packets read, %d used, %d skipped, %d flows written",
		len(s.Inputs), s.Packets, s.Used, s.SkippedTotal(), s.Flows)
	if s.Evicted > 0 {
		fmt.Fprintf(&b, " (%d written early: --max-flows reached)", s.Evicted)
	}
	secs := s.Elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(&b, ", %.3f s, %.0f packets/s", secs, float64(s.Packets)/secs)
	}
	b.WriteByte('\n')
	reasons := make([]string, 0, len(s.Skipped))
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "jj: skipped %d: %s\n", s.Skipped[r], r)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "jj: warning: %s\n", w)
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

// Run reads the inputs as one capture and writes every flow to w, then
// closes w. The returned error is an *InputError when some inputs could
// not be read (every computable flow was still written), a config error
// before anything is read, or the writer's error.
func (p *Pipeline) Run(inputs []string, w output.Writer) (*Summary, error) {
	start := time.Now()
	cfg := p.cfg
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	exs, err := extract.Build(cfg.Features, cfg.options())
	if err != nil {
		return nil, err
	}
	sum := &Summary{Skipped: map[string]uint64{}}
	var inErrs []error
	table := flow.New(flow.Config{
		FlowTimeout:     nanos(cfg.FlowTimeout),
		ActiveTimeout:   nanos(cfg.ActiveTimeout),
		TCPCloseTimeout: nanos(cfg.TCPCloseTimeout),
		MaxFlows:        cfg.MaxConcurrentFlows,
	}, exs, w.Write)
	sum.Columns = table.Schema()

	var files []string
	for _, in := range inputs {
		if in == "-" {
			files = append(files, in)
			continue
		}
		fs, err := capture.Expand([]string{in})
		if err != nil {
			inErrs = append(inErrs, err)
			continue
		}
		files = append(files, fs...)
	}
	if len(inputs) == 0 {
		inErrs = append(inErrs, errors.New("no input given"))
	}

	rd := reader{table: table, sum: sum}
	var writeErr error
	for _, f := range files {
		sum.Inputs = append(sum.Inputs, f)
		err := rd.file(f, p.Stdin)
		var we *writeError
		if errors.As(err, &we) {
			writeErr = we.err
			break
		}
		if err != nil {
			inErrs = append(inErrs, err)
		}
	}
	if err := table.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if err := w.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	rd.finish()
	st := table.Stats()
	sum.Flows, sum.Evicted, sum.MaxConcurrent = st.Flows, st.Evicted, st.MaxLive
	sum.Elapsed = time.Since(start)
	if writeErr != nil {
		return sum, fmt.Errorf("write output: %w", writeErr)
	}
	if len(inErrs) > 0 {
		return sum, &InputError{Errs: inErrs}
	}
	return sum, nil
}

// writeError marks an error of the output, which stops the run.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// reader is the hot loop: records to decoded packets to the flow table.
type reader struct {
	table   *flow.Table
	sum     *Summary
	dec     decode.Decoder
	idx     uint64
	skipped [decode.NumReasons]uint64
	nonIP   map[uint16]uint64
	links   map[capture.LinkType]uint64
}

func (rd *reader) file(name string, stdin io.Reader) error {
	var r capture.Reader
	var closer io.Closer
	var err error
	if name == "-" {
		in := stdin
		if in == nil {
			in = os.Stdin
		}
		r, err = capture.NewReader(in, "-")
	} else {
		r, closer, err = capture.Open(name)
	}
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	var rec capture.Record
	var readErr error
	for {
		if err := r.Next(&rec); err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		idx := rd.idx
		rd.idx++
		p := rd.table.Packet()
		p.Timestamp = rec.Timestamp
		if reason := rd.dec.Decode(rec.LinkType, rec.Data, rec.WireLen, p); reason != decode.ReasonOK {
			rd.skip(reason, rec.LinkType)
			continue
		}
		rd.sum.Used++
		if err := rd.table.Add(idx); err != nil {
			return &writeError{err}
		}
	}
	rd.sum.Packets = rd.idx
	for _, w := range r.Warnings() {
		rd.sum.Warnings = append(rd.sum.Warnings, w)
	}
	if errors.Is(readErr, capture.ErrTruncated) {
		// Every complete record was read: a warning, not a failure.
		rd.sum.Warnings = append(rd.sum.Warnings, readErr.Error())
		return nil
	}
	return readErr
}

// skip counts a record that made no flow. Non-IP frames and unsupported
// link types are rare, so a map per kind is fine here.
func (rd *reader) skip(reason decode.Reason, lt capture.LinkType) {
	switch reason {
	case decode.ReasonNonIP:
		if rd.nonIP == nil {
			rd.nonIP = map[uint16]uint64{}
		}
		rd.nonIP[rd.dec.EtherType]++
	case decode.ReasonLinkType:
		if rd.links == nil {
			rd.links = map[capture.LinkType]uint64{}
		}
		rd.links[lt]++
	default:
		rd.skipped[reason]++
	}
}

// finish turns the skip counters into the summary's reasons.
func (rd *reader) finish() {
	rd.sum.Packets = rd.idx
	for r, n := range rd.skipped {
		if n > 0 {
			rd.sum.Skipped[decode.Reason(r).String()] += n
		}
	}
	for et, n := range rd.nonIP {
		rd.sum.Skipped[fmt.Sprintf("non-IP frame (%s)", etherName(et))] += n
	}
	for lt, n := range rd.links {
		rd.sum.Skipped[(&capture.LinkTypeError{LinkType: uint32(lt)}).Error()] += n
	}
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
	if et < 0x0600 {
		return fmt.Sprintf("802.3 length %d, LLC", et)
	}
	return fmt.Sprintf("EtherType 0x%04x", et)
}
