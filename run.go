package jj

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/filter"
	"github.com/jjflow/jj/flow"
	"github.com/jjflow/jj/internal/mem"
	"github.com/jjflow/jj/internal/nt"
	"github.com/jjflow/jj/output"
)

// How a run is organised:
//
//	reader goroutine ──► worker 1: flow.Table + extractors ──┐
//	 (read, decode,   ──► worker 2: ...                     ├─► merger ──► writer
//	  defragment,     ──► ...                               ┘   (rows in Order)
//	  shard by flow)
//
// The reading goroutine (the caller's) reads records, decodes them, gives
// later fragments their datagram's ports, computes each packet's flow key
// and its hash once, and sends the packet with its key to the worker that
// owns the flow (high bits of the hash); with a single worker, which takes
// every packet, the worker computes the keys (flow.Table.AddBatch). Every
// flow.SweepPackets records it sends every worker a sweep marker with the
// newest timestamp so far, so quiet flows end at the same input position
// whatever the number of workers. Workers tag each row with its flow.Order;
// the merger writes rows in that order, which therefore does not depend on
// the number of workers either. One worker (Config.Workers 1, or one
// CPU) reading files runs on the reading goroutine itself: the reader calls it with
// each batch, and it calls the merger with its rows, so that such a run
// keeps one core busy. With split reading (split.go), decoder
// goroutines decode for the reading goroutine, which then only walks the
// records and does, in input order, what needs the order.

// plan is a validated Config turned into what a run needs.
type plan struct {
	cfg     Config
	fcfg    flow.Config
	opts    extract.Options
	shared  []extract.Extractor // the extractors, when one worker must see everything
	workers int
	inline  bool // one worker, run by the reading goroutine itself
	passes  int
	schema  []output.Column // every column of the selected groups
	proj    []int           // indexes of the kept columns; nil keeps all
	out     []output.Column // the columns the flow tables' rows keep
	written []output.Column // out, and SourceColumn with PerFile
	// match is the filter, compiled for every link type, or nil; it holds
	// programs, not state, so every reading goroutine shares it.
	match *filter.Matcher
	// warnings are the configuration's, for every run's summary.
	warnings []string
}

func (p *Pipeline) plan() (*plan, error) {
	cfg := p.cfg
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p.Decoders < -1 || p.Decoders > maxDecoders {
		return nil, &OptionError{Option: "decoders", Value: fmt.Sprint(p.Decoders), Want: fmt.Sprintf("-1 (none), 0 (by the number of CPUs) or a count up to %d", maxDecoders)}
	}
	var match *filter.Matcher
	if cfg.Filter != "" {
		var err error
		if match, err = filter.NewMatcher(cfg.Filter); err != nil {
			v := fmt.Sprintf("%q", cfg.Filter)
			if len(cfg.Filter) > 100 { // the reason comes after the value
				v = fmt.Sprintf("%q… (%d bytes)", cfg.Filter[:80], len(cfg.Filter))
			}
			return nil, &OptionError{Option: "filter", Value: v, Want: "a tcpdump filter expression: " + err.Error()}
		}
	}
	pl := &plan{
		cfg:  cfg,
		opts: cfg.options(),
		fcfg: flow.Config{
			FlowTimeout:     nanos(cfg.FlowTimeout),
			ActiveTimeout:   nanos(cfg.ActiveTimeout),
			TCPCloseTimeout: nanos(cfg.TCPCloseTimeout),
			MaxFlows:        cfg.MaxConcurrentFlows,
		},
		workers: cfg.Workers,
		passes:  1,
		match:   match,
	}
	exs, err := extract.Build(cfg.Features, pl.opts)
	if err != nil {
		return nil, err
	}
	sequential := cfg.MaxConcurrentFlows > 0 // eviction order is global
	for _, ex := range exs {
		pl.schema = append(pl.schema, ex.Columns()...)
		if s, ok := ex.(extract.Sequential); ok && s.Sequential() {
			sequential = true
		}
		if m, ok := ex.(extract.MultiPass); ok {
			sequential = true
			pl.passes = max(pl.passes, m.Passes())
		}
	}
	if pl.workers == 0 {
		pl.workers = runtime.GOMAXPROCS(0)
	}
	// One worker asked for (or one CPU): the reading goroutine runs the
	// flow table and writes the rows itself, so the run keeps one core
	// busy (but for live capture: newPass). Runs that need a single flow table (--max-flows, extractors
	// that must see every flow) get one worker whatever the count asked
	// for, but beside the reader when more were asked for.
	pl.inline = pl.workers == 1
	switch {
	case sequential:
		pl.workers = 1
		pl.shared = exs
	case pl.workers > 1 && light(cfg.Features):
		// Workers counts the reading goroutine: with light groups alone
		// its work per packet is about a table's, so Workers−1 tables
		// beside it keep Workers cores busy. A table more would add
		// hand-offs between cores, not throughput (flow_meta with two
		// workers: 0.55 s against 0.61 on the real-traffic tile, 0.80
		// against 0.88 on the synthetic capture, session 29).
		pl.workers--
	}
	pl.out = pl.schema
	if len(cfg.Columns) > 0 {
		pl.out = nil
		for _, name := range cfg.Columns {
			for _, n := range strings.Split(name, ",") {
				n = strings.TrimSpace(n)
				i := slices.IndexFunc(pl.schema, func(c output.Column) bool { return c.Name == n })
				if i < 0 {
					want := "a column of the selected feature groups (see jj features)"
					if group, option, ok := extract.WhereColumn(n); ok {
						selected := slices.ContainsFunc(exs, func(ex extract.Extractor) bool { return ex.Name() == group })
						switch {
						case !selected:
							want = fmt.Sprintf("a column of the selected feature groups: %s is %s's, which the features option (--features) does not select", n, group)
						case option != "":
							want = fmt.Sprintf("a column the options write: %s is %s", n, option)
						}
					} else if n == SourceColumn.Name {
						if cfg.PerFile {
							continue // written last whatever the columns kept
						}
						want = "a column of the selected feature groups, or source_file with per_file (--per-file), which writes it"
					}
					return nil, &OptionError{Option: "columns", Value: fmt.Sprintf("%q", n), Want: want}
				}
				if !slices.Contains(pl.proj, i) {
					pl.proj = append(pl.proj, i)
					pl.out = append(pl.out, pl.schema[i])
				}
			}
		}
	}
	if len(cfg.Columns) > 0 && len(pl.out) == 0 {
		// source_file alone, with PerFile: a table needs a flow's column.
		return nil, &OptionError{Option: "columns", Value: fmt.Sprintf("%q", SourceColumn.Name), Want: "a column of the selected feature groups too: source_file is written beside the flows' columns"}
	}
	pl.written = pl.out
	if cfg.PerFile {
		pl.written = append(slices.Clip(pl.out), SourceColumn)
	}
	if cfg.AnonymizeIPs && cfg.AnonymizationSalt == "" && slices.ContainsFunc(pl.out, func(c output.Column) bool { return c.Name == "src_ip" || c.Name == "dst_ip" }) {
		// The spec's warning (flow-meta.md §5), in every run's summary.
		pl.warnings = append(pl.warnings, saltWarning)
	}
	return pl, nil
}

// saltWarning is the summary's warning for IP addresses anonymized with
// no salt.
const saltWarning = "anonymize_ips (--anonymize-ips) without anonymization_salt (--salt): IPv4 hashes can be reversed by brute force over the 2^32 addresses"

// light reports whether every feature group of features is light
// (extract.Group.Light); features were validated.
func light(features []string) bool {
	groups, err := extract.Resolve(features)
	if err != nil {
		return false
	}
	for _, g := range groups {
		if !g.Light {
			return false
		}
	}
	return true
}

// extractors returns the extractors of one worker.
func (pl *plan) extractors() []extract.Extractor {
	if pl.shared != nil {
		return pl.shared
	}
	exs, _ := extract.Build(pl.cfg.Features, pl.opts) // validated by plan
	return exs
}

// Schema returns the columns the pipeline's config produces, in order, or
// the config's error.
func (p *Pipeline) Schema() ([]output.Column, error) {
	pl, err := p.plan()
	if err != nil {
		return nil, err
	}
	return pl.written, nil
}

// SourceColumn is the column Config.PerFile adds after the others: the
// input each row's flow was read from.
var SourceColumn = extract.SourceColumn

// Run reads the inputs as one capture (with Config.PerFile, each as one
// of its own) and writes every flow to w, then closes w. It reads every
// input it is given: a file named twice is read twice, its packets
// counted twice (jj extract refuses that). The
// returned error is an *InputError when some inputs could not be read
// (every computable flow was still written), a config error before
// anything is read (errors.Is(err, ErrConfig); w is then not closed), or
// the writer's error. w may be called on a goroutine of the pipeline
// (with more than one worker), one call at a time; if it panics, Run
// stops the run and panics with a *PanicError on the caller's goroutine,
// without closing w; if it calls runtime.Goexit there, the run fails
// with an error that says so. A panic in the caller's other code that
// the run calls (Pipeline.OnProgress, a Pipeline.Stdin reader) goes on as
// it is, once the run's goroutines are stopped and its files closed.
func (p *Pipeline) Run(inputs []string, w output.Writer) (*Summary, error) {
	return p.RunContext(context.Background(), inputs, w)
}

// RunContext is Run, stopped when ctx is done: it then ends the flows
// open at that point, writes them as if the input ended there, closes w
// and returns context.Cause(ctx) (joined with the input errors so far).
// It notices ctx between inputs, every 4096 records of a file
// (flow.SweepPackets), before every record of an input of unknown size
// (a pipe, standard input), whose next records may be long in coming,
// and once the inputs are read: ctx done by then, the run has read
// everything but still returns ctx's cause. A
// run of two passes (connection scope capture) cancelled in its first
// pass writes no row.
func (p *Pipeline) RunContext(ctx context.Context, inputs []string, w output.Writer) (*Summary, error) {
	start := time.Now()
	if ctx == nil {
		ctx = context.Background()
	}
	if w == nil {
		return nil, errNilWriter
	}
	pl, err := p.plan()
	if err != nil {
		return nil, err
	}
	var files []string
	var inErrs []error
	var dirWarnings []string // a directory's subdirectories, not read
	for _, in := range inputs {
		if in == "-" {
			files = append(files, in)
			continue
		}
		if w := capture.SubdirsWarning(in); w != "" {
			dirWarnings = append(dirWarnings, w)
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
	if err := pl.checkInputs(files); err != nil {
		return nil, err
	}
	stdins := 0
	for _, f := range files {
		if f == "-" {
			stdins++
		}
	}
	sizes := make(map[string]int64, len(files)) // -1: unknown
	for _, f := range files {
		n := int64(-1)
		if f != "-" {
			if fi, err := os.Stat(f); err == nil {
				n = fi.Size()
			}
		} else if in, ok := p.stdin().(*os.File); ok && stdins == 1 {
			// Known for one "-" only: a second reads what the first left.
			n = capture.SizeAtStart(in)
		}
		sizes[f] = n
	}
	total := sizeOf(files, sizes)

	// The inputs are read as one capture, or with PerFile each as one:
	// a plan, and passes, of its own (fresh connection graphs too), its
	// rows written with their source_file.
	groups := [][]string{files}
	if pl.cfg.PerFile && len(files) > 1 {
		groups = nil
		for _, f := range files {
			groups = append(groups, []string{f})
		}
	}
	var sum *Summary
	var runErr error
	var before Progress // what the groups before read (PerFile)
	stopped := false    // a pass stopped for ctx
	for g, group := range groups {
		if g > 0 {
			if pl, err = p.plan(); err != nil {
				return nil, err // not after a plan of the same config passed
			}
		}
		if n := sizeOf(group, sizes); n >= 0 && n < inlineBelow {
			pl.workers, pl.inline = 1, true
		}
		var gsum *Summary
		var last Progress // the group's last pass's counts
		for n := 1; n <= pl.passes; n++ {
			for _, ex := range pl.shared {
				if m, ok := ex.(extract.MultiPass); ok {
					m.StartPass(n)
				}
			}
			dst := w
			if n < pl.passes {
				dst = discard{}
			} else if pl.cfg.PerFile && len(group) == 1 {
				dst = withSource(w, group[0], pl.written)
			}
			ps := newPass(p, pl, dst, start, false)
			ps.ctx = ctx
			ps.total = total
			ps.before = before
			ps.more = g < len(groups)-1
			var errs []error
			func() {
				// Deferred in a function of its own, not the run's: with
				// PerFile a run has a pass a file, and a finished pass
				// must not stay reachable (its merger's buffers) until
				// the run ends.
				defer ps.abandon() // if a panic on this goroutine ends the pass
				errs = ps.readFiles(group)
				// A signal in the last records of a file (fewer than a
				// sweep's), or while a pipe's writer kept it open with
				// nothing more to send, is noticed here: the run still
				// says it was stopped.
				ps.cancelled()
				gsum, runErr = ps.finish()
			}()
			if n == pl.passes || ps.stopped {
				inErrs = append(inErrs, errs...)
			}
			if ps.stopped {
				stopped = true
				if n < pl.passes {
					gsum.Flows = 0 // the first pass's rows went to discard
				}
			}
			last = ps.progress(false)
			if runErr != nil || stopped {
				break
			}
		}
		sum = sum.add(gsum)
		before = last
		if runErr != nil || stopped {
			break
		}
	}
	rethrow(runErr)
	if err := w.Close(); err != nil && runErr == nil {
		runErr = err
	}
	sum.Warnings = append(dirWarnings, sum.Warnings...)
	sum.Elapsed = time.Since(start)
	if runErr != nil {
		sum.OutputFailed = true
		runErr = fmt.Errorf("write output: %w", runErr)
		if len(inErrs) > 0 {
			return sum, errors.Join(runErr, &InputError{Errs: inErrs})
		}
		return sum, runErr
	}
	if stopped {
		if len(inErrs) > 0 {
			return sum, errors.Join(context.Cause(ctx), &InputError{Errs: inErrs})
		}
		return sum, context.Cause(ctx)
	}
	if len(inErrs) > 0 {
		return sum, &InputError{Errs: inErrs}
	}
	return sum, nil
}

// inlineBelow is the input size, in bytes of the files as they are on
// disk, below which a run (or with PerFile a file) is read with one
// worker on the reading goroutine, as Workers 1 reads it, whatever Workers
// says: the output is the same, and on so little input a worker beside
// the reader, the merger and their hand-offs cost more than the second
// core gives back. On this project's 2-vCPU machine (bench/RESULTS.md,
// session 50), 670 small captures with PerFile and two workers took
// 286.7 ms before and 232.5 after, as one worker (230.7), and with
// every feature group 673.6 and 516.3 (one worker 528.7). One capture
// of 16 to 100 MB took as long with two workers or up to 9 % longer, and
// 6 % less from 140 MB on; but two workers took 25-30 ms against one
// worker's 37 on a 77 MB capture on the host of sessions 39 to 45, so
// the threshold stays where a second core pays on no host measured.
// Standard input, a pipe or another input of unknown size keeps the
// workers. (A variable for the tests, which run the workers on small
// captures.)
var inlineBelow int64 = 8 << 20

// sizeOf returns the sum of the sizes of files, or -1 if one is unknown.
func sizeOf(files []string, sizes map[string]int64) int64 {
	var total int64
	for _, f := range files {
		n, ok := sizes[f]
		if !ok || n < 0 {
			return -1
		}
		total += n
	}
	return total
}

// errNilWriter is the error of a run given no writer.
var errNilWriter = fmt.Errorf("%w: no output writer (nil)", ErrConfig)

// PanicError is what Run and RunReader panic with, on the caller's
// goroutine, when the output writer panicked: a writer (its Write, or a
// RowEncoder's EncodeRows) may be called on a goroutine of the pipeline,
// where the panic would otherwise end the program. Stream, Process and
// Rows, whose callback or loop body runs on the caller's goroutine, panic
// with it too when that panics. The run stops at the panic, and its files
// and goroutines are released first; the writer, whose state is unknown,
// is not closed.
type PanicError struct {
	Value any    // what the writer panicked with
	Stack []byte // the stack of the goroutine that panicked, at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("jj: output writer panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic's value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// rethrow panics with err's PanicError, if it has one.
func rethrow(err error) {
	var pe *PanicError
	if errors.As(err, &pe) {
		panic(pe)
	}
}

// CheckInputs returns the error Run would return for inputs before
// reading any of them, if any: an invalid configuration, or a run of two
// passes (connection scope capture) given an input that cannot be read
// twice (Rereadable). The command line calls it before it creates its
// output, so that such a refusal leaves an earlier output as it was.
func (p *Pipeline) CheckInputs(inputs []string) error {
	pl, err := p.plan()
	if err != nil {
		return err
	}
	return pl.checkInputs(inputs)
}

// checkInputs is CheckInputs with the plan made: a directory, whose
// captures are regular files, passes.
func (pl *plan) checkInputs(inputs []string) error {
	if pl.passes < 2 {
		return nil
	}
	for _, f := range inputs {
		if !Rereadable(f) {
			what := "standard input"
			if f != "-" {
				what = f + ", not a regular file"
			}
			return &OptionError{Option: "connection_scope", Value: `"capture"`, Want: "causal when reading " + what + ", which cannot be read twice"}
		}
	}
	return nil
}

// Rereadable reports whether an input can be read twice, as the
// connection scope capture needs: a regular file (or a path that does not
// exist, an error of its own), not standard input ("-") or a pipe or
// device such as /dev/stdin or a shell's <(...).
func Rereadable(input string) bool {
	if input == "-" {
		return false
	}
	fi, err := os.Stat(input)
	return err != nil || fi.Mode().IsRegular() || fi.IsDir()
}

// RunReader extracts the flows of one open capture reader, such as a live
// capture, and writes them to w, then closes w. It stops at io.EOF from
// the reader or when ctx is done, and writes every open flow then. For a
// live reader (capture.Live, as the live package's), flows that go quiet
// end on the wall clock, also when the reader returns capture.ErrNoPacket,
// and each row is written as its flow ends; any other reader, such as
// capture.NewReader's on a recorded capture, is read as Run reads a file,
// on the capture's own timestamps. When ctx stops the reading of such a
// reader, RunReader returns context.Cause(ctx), as RunContext does; a
// live reader stopped so returns no error for it, as stopping is how a
// live capture ends.
func (p *Pipeline) RunReader(ctx context.Context, r capture.Reader, name string, w output.Writer) (*Summary, error) {
	start := time.Now()
	if w == nil {
		return nil, errNilWriter
	}
	if r == nil {
		return nil, fmt.Errorf("%w: no capture reader (nil)", ErrConfig)
	}
	pl, err := p.plan()
	if err != nil {
		return nil, err
	}
	if pl.passes > 1 {
		return nil, &OptionError{Option: "connection_scope", Value: `"capture"`, Want: "causal for a reader, which cannot be read twice"}
	}
	l, live := r.(capture.Live)
	live = live && l.Live()
	dst := w
	if pl.cfg.PerFile {
		dst = withSource(w, name, pl.written)
	}
	ps := newPass(p, pl, dst, start, live)
	ps.ctx = ctx
	ps.total = -1
	ps.startInput(name)
	defer ps.abandon() // if a panic on this goroutine ends the pass
	readErr := ps.read(r)
	ps.cancelled() // as RunContext: ctx done in the last records
	sum, runErr := ps.finish()
	rethrow(runErr)
	if err := w.Close(); err != nil && runErr == nil {
		runErr = err
	}
	sum.Elapsed = time.Since(start)
	if runErr != nil {
		sum.OutputFailed = true
		runErr = fmt.Errorf("write output: %w", runErr)
		if readErr != nil {
			return sum, errors.Join(runErr, &InputError{Errs: []error{readErr}})
		}
		return sum, runErr
	}
	if ps.stopped && !live {
		// A recorded capture cut short: as RunContext says so.
		if readErr != nil {
			return sum, errors.Join(context.Cause(ctx), &InputError{Errs: []error{readErr}})
		}
		return sum, context.Cause(ctx)
	}
	if readErr != nil {
		return sum, &InputError{Errs: []error{readErr}}
	}
	return sum, nil
}

type discard struct{}

func (discard) Write(*output.Batch) error { return nil }
func (discard) Close() error              { return nil }

// pktBatch is a flow.Batch on its way to the workers, which all read it
// and each add the packets of its shard; the last one done with it
// returns it to the free list.
type pktBatch struct {
	flow.Batch
	pending atomic.Int32 // workers yet to finish with it
}

// workMsg is one message to a worker: packets, then optionally a sweep,
// then optionally the end. After it, rows with Event ≤ watermark are final.
type workMsg struct {
	b         *pktBatch
	sweep     bool
	expire    bool // also end the flows past the active timeout (live; Table.Expire)
	sweepTS   int64
	sweepIdx  uint64
	end       bool
	watermark uint64
}

type worker struct {
	id    int
	shard int // the shard it adds from each batch; -1 (all) when alone
	in    chan workMsg
	free  chan *pktBatch // shared by all workers
	table *flow.Table
	exs   []extract.Extractor
	view  *output.Batch // projection scratch for encoding rows
	// closing: the input has ended and the table is ending every open
	// flow; while the merger is behind, a single worker then helps it
	// encode (merger.encodes), and each of several yields its core to it.
	closing bool
	holding *pktBatch // the batch being added, until given back (discard)
}

// pass is one reading of the inputs.
type pass struct {
	p       *Pipeline
	pl      *plan
	sum     *Summary
	workers []*worker
	merge   *merger
	done    chan struct{}
	// running counts the workers' goroutines; inClosed says their
	// channels are closed (finish, abandon); finished, that finish
	// returned.
	running  sync.WaitGroup
	inClosed bool
	finished bool

	dec        decode.Decoder
	stage      flow.Stage // where read fills batches beside workers (staged)
	defrag     *flow.Defrag
	cur        *pktBatch // being filled
	free       chan *pktBatch
	batches    int    // batches still to be made
	batchLimit int    // batches there may be
	idx        uint64 // input position of the next record
	maxTS      int64
	sweepIn    int
	markers    int

	// skips counts the current input's records that made no packet, and
	// skipsDone those of the inputs before it (inputSkips).
	skips, skipsDone skips
	lost             uint64 // records counted in idx whose bytes a fault took (capture.Fault)
	fault            error  // the first fault of split reading's decoders, for the input's end

	// late counts the current input's packets more than lateAfter behind
	// the newest timestamp before them, and lateBy is the most one was: a
	// sweep may have ended a flow such a packet would have joined
	// (lateWarning, lateSeen).
	late, lateBy, lateAfter uint64
	sweptTS                 int64 // the newest timestamp at the last sweep (marker)

	live       bool
	inline     bool      // the worker runs on the reading goroutine (plan.inline, not live)
	lastMarker time.Time // of the last sweep on the wall clock
	lastExpire time.Time // of the last Table.Expire
	ctx        context.Context
	stopped    bool // a cancellation check saw ctx done (cancelled)
	start      time.Time
	total      int64    // bytes of all inputs, -1 if unknown
	read0      int64    // bytes of the inputs already read
	before     Progress // what the inputs before the pass's read (PerFile)
	more       bool     // inputs follow, read by other passes (PerFile)
	prog       capture.Progress
}

// newPass starts the workers and the merger of one reading of the input;
// live input writes rows as soon as they are final.
func newPass(p *Pipeline, pl *plan, w output.Writer, start time.Time, live bool) *pass {
	ps := &pass{
		p:       p,
		pl:      pl,
		sum:     &Summary{Skipped: map[string]uint64{}, SkippedByInput: map[string]map[string]uint64{}, Columns: pl.written, Warnings: slices.Clone(pl.warnings)},
		defrag:  flow.NewDefrag(pl.fcfg.FlowTimeout),
		maxTS:   -1 << 63,
		start:   start,
		done:    make(chan struct{}),
		sweepIn: flow.SweepPackets,
		live:    live,
	}
	ps.dec.Decap = pl.cfg.Decapsulate
	ps.lateAfter = uint64(max(lateFloor, min(pl.fcfg.FlowTimeout, pl.fcfg.TCPCloseTimeout)))
	ps.sweptTS = math.MinInt64
	ps.merge = newMerger(pl, w, pl.workers)
	ps.merge.eager = live
	// Live capture keeps its one worker beside the reader, so that a slow
	// output (the rows are flushed as they come) does not hold up the
	// reading of the kernel's ring.
	ps.inline = pl.inline && !live
	// Up to 16+4w packet batches (83 KB each), made as the reader first
	// needs them: a small capture, or workers that keep up, use a few.
	ps.batches = 16 + 4*pl.workers
	ps.batchLimit = ps.batches
	ps.free = make(chan *pktBatch, ps.batches)
	for i := 0; i < pl.workers; i++ {
		wk := &worker{id: i, shard: i, in: make(chan workMsg, 16), free: ps.free}
		if pl.workers == 1 {
			wk.shard = -1
		}
		wk.exs = pl.extractors()
		wk.table = flow.New(pl.fcfg, wk.exs, func(b *output.Batch, ord []flow.Order) error {
			c := chunk{w: wk.id, b: b, ord: ord}
			if ps.merge.encodes(wk.closing) {
				if e := ps.merge.encode(b, &wk.view); e != nil {
					c.b, c.text = nil, e
				}
			}
			ps.merge.put(c)
			ps.merge.reuseOrder(wk.id, wk.table)
			if wk.closing && ps.merge.encodeAll && behind(ps.merge) {
				// Workers ending every open flow at once keep the
				// cores busy, and the merger, waiting for one, would
				// let chunks pile up in its channel, each a fresh
				// text buffer to fault in: give it the core.
				runtime.Gosched()
			}
			return ps.merge.failed()
		}, ps.merge.batch)
		ps.workers = append(ps.workers, wk)
		if !ps.inline {
			ps.running.Add(1)
			go ps.guard(func() { wk.run(ps.merge) }, func() { wk.discard(ps.merge) }, ps.running.Done)
		}
	}
	if ps.inline {
		ps.merge.inline = true
		close(ps.done)
		return ps
	}
	go ps.guard(ps.merge.run, ps.merge.discardRest, func() { close(ps.done) })
	return ps
}

// guard runs body, a goroutine's work that calls the caller's writer
// (the merger's, or a worker's for EncodeRows), then after. If the
// writer ends the goroutine with runtime.Goexit (t.FailNow, say), the run
// fails, and instead, which takes what is still sent to that goroutine
// without writing it, then after, run on a new goroutine, so that nothing
// waits for the ended one for ever.
func (ps *pass) guard(body, instead, after func()) {
	returned := false
	defer func() {
		if !returned {
			ps.merge.fail(errWriterExited)
			go func() {
				defer after()
				instead()
			}()
			return
		}
		after()
	}()
	body()
	returned = true
}

// errWriterExited fails a run whose writer called runtime.Goexit on a
// goroutine of the pipeline (the merger's, or a worker's for EncodeRows).
var errWriterExited = errors.New("the output's writer ended its goroutine (runtime.Goexit, as t.FailNow does)")

// run handles the worker's messages on a goroutine of its own.
func (wk *worker) run(m *merger) {
	for msg := range wk.in {
		wk.handle(msg, m)
	}
}

// discard stands in for run when the caller's RowEncoder ended the
// worker's goroutine (runtime.Goexit) in a failed run: it gives back the
// packet batches still sent to it, and the one it held, which the reader
// would otherwise wait for, and then sends the merger its final
// watermark, writing no row.
func (wk *worker) discard(m *merger) {
	wk.giveBack(wk.holding)
	wk.holding = nil
	for msg := range wk.in {
		wk.giveBack(msg.b)
	}
	m.put(chunk{w: wk.id, wm: flow.EndOfInput, hasWM: true})
}

// giveBack returns a packet batch to the reader once every worker that
// shares it is done with it; b may be nil.
func (wk *worker) giveBack(b *pktBatch) {
	if b != nil && b.pending.Add(-1) == 0 {
		b.Reset()
		wk.free <- b
	}
}

// handle adds a message's packets to the table, sweeps or ends it, and
// hands the merger the rows and the watermark.
func (wk *worker) handle(msg workMsg, m *merger) {
	t := wk.table
	if b := msg.b; b != nil {
		wk.holding = b
		t.AddBatch(&b.Batch, wk.shard)
		wk.holding = nil
		wk.giveBack(b)
	}
	switch {
	case msg.sweep && msg.expire:
		t.Expire(msg.sweepTS, msg.sweepIdx)
	case msg.sweep:
		t.Sweep(msg.sweepTS, msg.sweepIdx)
	}
	if msg.end {
		wk.closing = true
		t.Close()
	}
	t.Flush()
	m.put(chunk{w: wk.id, wm: msg.watermark, hasWM: true})
}

// batch returns an empty packet batch, not Staged (read stages those it
// fills through ps.stage; one it took and gave back unsent, and so not
// Reset, may come back to split reading's decoders, which fill batches in
// place).
func (ps *pass) batch() *pktBatch {
	b := ps.takeBatch()
	b.Staged = false
	return b
}

// takeBatch returns an empty packet batch: a recycled one, a new one while
// fewer than the limit exist, else the first a worker gives back.
func (ps *pass) takeBatch() *pktBatch {
	select {
	case b := <-ps.free:
		return b
	default:
	}
	if ps.batches > 0 {
		ps.batches--
		if b, ok := batchPool.Get().(*pktBatch); ok {
			return b
		}
		// Decoding reads parts of a packet before writing them.
		b := new(pktBatch)
		mem.Prefault(unsafe.Slice(b, 1))
		return b
	}
	return <-ps.free
}

// batchPool keeps the packet batches of finished passes for the next
// passes: a run with PerFile has a pass a file, and a small file's batches
// (83 KB each) were most of what its pass allocated.
var batchPool sync.Pool

// poolBatches gives the batches back to batchPool once the pass's
// goroutines are done with them. (Those split reading gives back unsent
// are not Reset: see batch.)
func (ps *pass) poolBatches() {
	for {
		select {
		case b := <-ps.free:
			b.Reset()
			batchPool.Put(b)
		default:
			return
		}
	}
}

// readFiles reads every input in order; it returns the input errors.
func (ps *pass) readFiles(files []string) []error {
	var errs []error
	for _, f := range files {
		if ps.merge.failed() != nil || ps.cancelled() {
			break
		}
		ps.startInput(f)
		if err := ps.readFile(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// cancelled reports whether the run's context is done, and remembers that
// the run stopped for it.
func (ps *pass) cancelled() bool {
	if ps.ctx != nil && ps.ctx.Err() != nil {
		ps.stopped = true
	}
	return ps.stopped
}

// readFile opens one input and reads it. The input is closed however the
// reading ends, a panic included.
func (ps *pass) readFile(f string) error {
	r, closer, err := openInput(f, ps.p.stdin())
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	testHookOpened(f)
	read := ps.read
	if n := decoders(ps.p.Decoders); n > 0 {
		if s, ok := r.(capture.Stable); ok && s.Stable() {
			read = func(r capture.Reader) error { return ps.readSplit(r, n) }
		}
	}
	err = read(r)
	if pr, ok := r.(capture.Progress); ok && pr.Size() >= 0 {
		ps.read0 += pr.Size()
	}
	ps.prog = nil
	return err
}

// testHookOpened is called with each input's path once it is open, before it is
// read: a variable, so that a test can shrink the file under the mapping
// (TestFileShrinks).
var testHookOpened = func(string) {}

// stdin returns the standard input the pipeline reads for "-".
func (p *Pipeline) stdin() io.Reader {
	if p.Stdin != nil {
		return p.Stdin
	}
	return os.Stdin
}

// openInput opens an input: a path, or "-" for stdin. Standard input that
// is a file is opened by capture.OpenFile, which maps a capture file read
// from its start (jj extract - < capture.pcap) as a path is. The closer is
// nil when there is nothing to close.
func openInput(f string, stdin io.Reader) (capture.Reader, io.Closer, error) {
	if f != "-" {
		return capture.Open(f)
	}
	if file, ok := stdin.(*os.File); ok {
		return capture.OpenFile(file, "-")
	}
	r, err := capture.NewReader(stdin, "-")
	return r, nil, err
}

// read is the hot loop: records to decoded packets to workers.
func (ps *pass) read(r capture.Reader) (err error) {
	// A pipe may give its records a few at a time, far apart: the run
	// then checks for cancellation, and for a failed output (a Rows loop
	// left), before every record, not only every SweepPackets, so that
	// it stops when the next data comes. A file, whose records come as
	// fast as they are read, pays nothing for it, nor does a live
	// reader, which returns ErrNoPacket when it has nothing to give.
	piped := false
	if pr, ok := r.(capture.Progress); ok {
		ps.prog = pr
		piped = pr.Size() < 0
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = ps.endFault(r, v)
		}
	}()
	nw := len(ps.workers)
	var rec capture.Record
	var readErr error
	// The filter runs on the record's bytes before decoding; records that
	// do not match count as skipped. Without a filter the loop pays one
	// nil test per record.
	match := ps.pl.match
	staged := ps.staged()
	for {
		if piped && (ps.cancelled() || ps.merge.failed() != nil) {
			break
		}
		if err := r.Next(&rec); err != nil {
			if errors.Is(err, capture.ErrNoPacket) {
				// No packet for now (a quiet link): end what went quiet,
				// and stop here, not at the next sweep, when the run is
				// cancelled or the output failed.
				if ps.cancelled() || ps.merge.failed() != nil {
					break
				}
				ps.marker(ps.live, ps.idx)
				continue
			}
			if err != io.EOF {
				readErr = err
			}
			break
		}
		idx := ps.idx
		if ps.live && idx&63 == 0 && time.Since(ps.lastMarker) > 500*time.Millisecond {
			// Live input at a low rate: expire on the wall clock at least
			// twice a second, not only every SweepPackets records.
			ps.marker(true, ps.idx)
		}
		if ps.sweepIn--; ps.sweepIn == 0 {
			ps.sweepIn = flow.SweepPackets
			ps.marker(ps.live, ps.idx)
			if ps.merge.failed() != nil || ps.cancelled() {
				break
			}
		}
		ps.idx++
		if match != nil && !match.Match(rec.LinkType, rec.Data) {
			ps.skips.filtered++
			continue
		}
		b := ps.cur
		if b == nil {
			b = ps.batch()
			b.Staged = staged
			ps.cur = b
		}
		// Decoded in place, or, beside workers, on the stage; a skipped
		// record leaves its slot for the next.
		var p *decode.Packet
		if b.Staged {
			p = ps.stage.Slot(&b.Batch)
		} else {
			p = &b.Pkts[b.N]
			// A worker on this goroutine (inline) hands each batch
			// back before the next is taken, so one batch, in this
			// core's cache, takes every packet: nothing to ask for
			// ahead (2 % of one worker's instructions, level in time).
			if !ps.inline {
				b.PrefetchSlot(b.N+flow.WriteAhead, nw)
			}
		}
		p.Timestamp = rec.Timestamp
		if reason := ps.dec.Decode(rec.LinkType, rec.Data, rec.WireLen, p); reason != decode.ReasonOK {
			ps.skips.add(reason, &ps.dec, rec.LinkType)
			continue
		}
		if p.Flags&decode.FlagFragment != 0 {
			ps.defrag.Fix(p)
		}
		if p.Timestamp > ps.maxTS {
			ps.maxTS = p.Timestamp
		} else if d := uint64(ps.maxTS) - uint64(p.Timestamp); d > ps.lateAfter && p.Timestamp < ps.sweptTS {
			ps.lateSeen(d)
		}
		ps.sum.Used++
		if b.Staged {
			ps.stage.Put(&b.Batch, idx, ps.maxTS, nw)
		} else {
			b.Put(idx, ps.maxTS, nw)
		}
		if b.N == flow.BatchPackets {
			ps.send(workMsg{watermark: flow.PacketEvent(idx)})
		}
	}
	return ps.endInput(r, readErr)
}

// endFault ends an input whose mapped file shrank under the reading loop
// (capture.Fault): v is what the loop panicked with, which goes on if it
// is not such a fault. The packets before the fault are kept, as after
// any other read error; a record whose decoding faulted is not counted as
// read.
func (ps *pass) endFault(r capture.Reader, v any) error {
	ferr := capture.Fault(r, v)
	if ferr == nil {
		panic(v)
	}
	// idx, Used and the skips count every input so far, and so does
	// lost: an assignment here, an addition in split reading's retire.
	ps.lost = ps.idx - ps.sum.Used - ps.skipsDone.total() - ps.skips.total()
	return ps.endInput(r, ferr)
}

// endInput adds an input's warnings to the summary and returns its error:
// none for a file cut off mid-record, whose every complete record was
// read (a warning, not a failure).
func (ps *pass) endInput(r capture.Reader, readErr error) error {
	ps.sum.Packets = ps.idx - ps.lost
	ps.sum.Warnings = append(ps.sum.Warnings, r.Warnings()...)
	if n, ok := r.(interface{ Notes() []string }); ok {
		ps.sum.Notes = append(ps.sum.Notes, n.Notes()...)
	}
	if w := ps.lateWarning(); w != "" {
		ps.sum.Warnings = append(ps.sum.Warnings, w)
	}
	if errors.Is(readErr, capture.ErrTruncated) {
		ps.sum.Warnings = append(ps.sum.Warnings, readErr.Error())
		return nil
	}
	return readErr
}

// lateSeen counts a packet d nanoseconds behind the newest timestamp
// before it, d above lateAfter, and from before the last sweep's newest
// timestamp. The second condition is needed: only a sweep as of a later
// time than a packet's can have ended a flow it would have joined (the
// flow's latest packet is then more than its timeout before the sweep's
// time, and the packet at most its timeout after that packet). The first
// is a filter, not a need: it keeps the warning for inputs out of time
// order, and off the jitter of a capture merged from several queues,
// which splits a flow only if it went idle within the jitter of its
// timeout. So a packet less than lateAfter behind that found its flow
// swept is not warned of; lateAfter is the shortest idle timeout, but at
// least lateFloor.
func (ps *pass) lateSeen(d uint64) {
	ps.late++
	ps.lateBy = max(ps.lateBy, d)
}

// lateFloor is the least lateAfter: with --tcp-close-timeout 0, any
// reordering would be warned of.
const lateFloor = int64(time.Second)

// lateWarning returns, and clears, the warning for the current input's
// late packets (lateSeen), if it had any. Sweeps end the flows idle for
// longer than their timeout as of the newest timestamp so far; a packet
// that comes later in the input with a timestamp from before then may
// belong to such a flow, which it then does not join: it starts a new
// one, where in a capture in time order it would have joined it. Inputs
// out of time order do this: two taps of one link given as two inputs, or
// a capture's rotated files in the wrong order. A live capture sweeps on
// the wall clock and is not concerned.
func (ps *pass) lateWarning() string {
	n, by := ps.late, ps.lateBy
	ps.late, ps.lateBy = 0, 0
	if n == 0 || ps.live || len(ps.sum.Inputs) == 0 {
		return ""
	}
	packets := "packets"
	if n == 1 {
		packets = "packet"
	}
	return fmt.Sprintf("%s: %d %s came more than %v behind the newest timestamp before them (up to %v behind): a flow already ended as idle is not rejoined, so some flows may be split in two; merge captures of one period by time first (mergecap -w merged.pcap a.pcap b.pcap)",
		ps.sum.Inputs[len(ps.sum.Inputs)-1], n, packets, time.Duration(ps.lateAfter), time.Duration(min(by, math.MaxInt64)).Round(time.Millisecond))
}

// marker sends every worker its pending packets and a sweep before the
// record at input position idx, then reports progress.
//
// A live capture sweeps on the wall clock, and at most twice a second
// the sweep also ends the flows past the active timeout (Table.Expire),
// which scans every open flow: a fast link sweeps every SweepPackets
// records, hundreds of times a second.
func (ps *pass) marker(wallClock bool, idx uint64) {
	ts := ps.maxTS
	expire := false
	if wallClock {
		now := time.Now()
		ps.lastMarker = now
		ts = now.UnixNano()
		if now.Sub(ps.lastExpire) >= expireEvery {
			ps.lastExpire, expire = now, true
		}
	}
	ps.send(workMsg{sweep: true, expire: expire, sweepTS: ts, sweepIdx: idx, watermark: flow.SweepEvent(idx)})
	ps.sweptTS = ts
	if ps.markers++; ps.p.OnProgress != nil && ps.markers%16 == 0 {
		ps.p.OnProgress(ps.progress(false))
	}
}

// expireEvery is how often a live capture ends the flows past the active
// timeout.
const expireEvery = 500 * time.Millisecond

// staged reports whether read decodes on ps.stage: with workers on other
// goroutines, and non-temporal stores (flow.Stage).
func (ps *pass) staged() bool { return nt.Enabled && !ps.inline }

// send sends m to every worker with the batch being filled, if it holds
// packets.
func (ps *pass) send(m workMsg) {
	if b := ps.cur; b != nil && b.N > 0 {
		ps.cur = nil
		if len(ps.workers) > 1 {
			b.Group(len(ps.workers))
		}
		if b.Staged {
			ps.stage.Done(&b.Batch, len(ps.workers))
		}
		b.pending.Store(int32(len(ps.workers)))
		m.b = b
	}
	if ps.inline {
		ps.workers[0].handle(m, ps.merge)
		return
	}
	for _, wk := range ps.workers {
		wk.in <- m
	}
}

func (ps *pass) progress(done bool) Progress {
	b := &ps.before
	pr := Progress{BytesRead: b.BytesRead + ps.read0, BytesTotal: ps.total, Packets: b.Packets + ps.idx - ps.lost, Flows: b.Flows + ps.merge.rowsWritten(), Elapsed: time.Since(ps.start), Done: done}
	if ps.prog != nil {
		pr.BytesRead += ps.prog.BytesRead()
	}
	return pr
}

// errAbandoned fails a pass whose reading goroutine panicked.
var errAbandoned = errors.New("the run was abandoned: a panic on its reading goroutine")

// abandon, deferred by the caller of finish, stops the workers and the
// merger of a pass that did not finish: its reading goroutine is
// panicking (in the caller's OnProgress or Stdin reader, say). No
// goroutine, flow table or file is then left behind when the caller
// recovers: the merger fails, the workers end once they have handled what
// was sent them, and the merger, which will not see their final
// watermarks, is stopped after them.
func (ps *pass) abandon() {
	if ps.finished || ps.inline {
		return // nothing left running, or no goroutine of its own
	}
	ps.merge.fail(errAbandoned)
	if !ps.inClosed {
		ps.inClosed = true
		for _, wk := range ps.workers {
			close(wk.in)
		}
	}
	ps.running.Wait()
	select {
	case <-ps.done: // the merger had every final watermark
	default:
		close(ps.merge.in)
		<-ps.done
	}
}

// finish ends every worker, waits for the merger and fills the summary.
func (ps *pass) finish() (*Summary, error) {
	ps.send(workMsg{end: true, watermark: flow.EndOfInput})
	ps.inClosed = true
	for _, wk := range ps.workers {
		close(wk.in)
	}
	<-ps.done
	if ps.inline {
		ps.merge.writeOut()
	}
	sum := ps.sum
	sum.Packets = ps.idx - ps.lost
	for _, wk := range ps.workers {
		st := wk.table.Stats()
		sum.Evicted += st.Evicted
		sum.MaxConcurrent += st.MaxLive
	}
	sum.Flows = ps.merge.rowsWritten()
	ps.inputSkips()
	ps.skipsDone.named(sum.Skipped)
	if n := ps.defrag.Forgotten; n > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("%d first IP fragments were forgotten within the idle timeout: more than %d fragmented datagrams were open at once; their later fragments count in flows of ports 0", n, flow.MaxFrags))
	}
	// Extractors may have something to say (sampled graph metrics, ...);
	// workers run copies of the same extractors, so say each thing once.
	type warner interface{ Warnings() []string }
	seen := map[string]bool{}
	for _, wk := range ps.workers {
		for _, ex := range wk.exs {
			if w, ok := ex.(warner); ok {
				for _, msg := range w.Warnings() {
					if !seen[msg] {
						seen[msg] = true
						sum.Warnings = append(sum.Warnings, msg)
					}
				}
			}
		}
	}
	if ps.p.OnProgress != nil {
		// The run's last call says Done: after its last input, or
		// before it when the run stopped or failed.
		ps.p.OnProgress(ps.progress(!ps.more || ps.stopped || ps.merge.failed() != nil))
	}
	for _, wk := range ps.workers {
		wk.table.Release()
	}
	ps.poolBatches()
	ps.finished = true
	return sum, ps.merge.failed()
}

// startInput adds an input to the summary, after the one before it ends.
func (ps *pass) startInput(name string) {
	ps.inputSkips()
	ps.sum.Inputs = append(ps.sum.Inputs, name)
}

// inputSkips counts the records skipped since the last input started as
// that input's (Summary.SkippedByInput), and moves them to skipsDone.
// Every record of an input is counted by the time the next one starts:
// split reading's decoders hand theirs over before readFile returns.
// (Naming only the input's own counts keeps a run of many inputs from
// naming every reason seen so far at each one: 670 small captures in one
// run made 3.9 MB of strings that way, session 48.)
func (ps *pass) inputSkips() {
	if n := len(ps.sum.Inputs); n > 0 && ps.skips.total() > 0 {
		in := ps.sum.Inputs[n-1]
		m := ps.sum.SkippedByInput[in]
		if m == nil {
			m = map[string]uint64{}
			ps.sum.SkippedByInput[in] = m
		}
		ps.skips.named(m)
	}
	ps.skipsDone.addAll(&ps.skips)
}

// skips counts the records that made no packet, by reason. Unsupported
// link types are rare, so a map of them is fine; non-IP frames less so
// (2 % of the real-traffic tile's, in runs of one kind), and the last
// kind's count waits beside the map until another kind comes: a map
// update a frame took about 0.8 % of flow_meta's time with one worker on
// the tile.
type skips struct {
	reasons  [decode.NumReasons]uint64
	nonIP    map[nonIP]uint64
	last     nonIP  // the kind of the last non-IP frame
	lastN    uint64 // its frames not yet in nonIP
	links    map[capture.LinkType]uint64
	filtered uint64 // by the filter, before decoding
}

// settle adds the count of the last non-IP kind to the map.
func (s *skips) settle() {
	if s.lastN > 0 {
		count(&s.nonIP, s.last, s.lastN)
		s.lastN = 0
	}
}

// total returns the number of records skipped, for every reason.
func (s *skips) total() uint64 {
	s.settle()
	n := s.filtered
	for _, c := range s.reasons {
		n += c
	}
	for _, c := range s.nonIP {
		n += c
	}
	for _, c := range s.links {
		n += c
	}
	return n
}

// named adds the counts to m by the reasons the summary gives.
func (s *skips) named(m map[string]uint64) {
	s.settle()
	for r, n := range s.reasons {
		if n > 0 {
			m[decode.Reason(r).String()] += n
		}
	}
	for k, n := range s.nonIP {
		m[fmt.Sprintf("non-IP frame (%s)", protoName(k.num, k.proto))] += n
	}
	for lt, n := range s.links {
		m[(&capture.LinkTypeError{LinkType: uint32(lt)}).Error()] += n
	}
	if n := s.filtered; n > 0 {
		m["filtered out"] += n
	}
}

// nonIP is the link protocol of a non-IP frame, as the decoder numbers it.
type nonIP struct {
	num   decode.Numbering
	proto uint16
}

// add counts a record that decoding skipped for reason; dec is the
// decoder, lt the record's link type.
func (s *skips) add(reason decode.Reason, dec *decode.Decoder, lt capture.LinkType) {
	switch reason {
	case decode.ReasonNonIP:
		if k := (nonIP{dec.Numbering, dec.EtherType}); k != s.last {
			s.settle()
			s.last = k
		}
		s.lastN++
	case decode.ReasonLinkType:
		count(&s.links, lt, 1)
	default:
		s.reasons[reason]++
	}
}

// count adds n to m[k], making m when it is nil.
func count[K comparable](m *map[K]uint64, k K, n uint64) {
	if *m == nil {
		*m = map[K]uint64{}
	}
	(*m)[k] += n
}

// addAll adds o's counts to s and clears o.
func (s *skips) addAll(o *skips) {
	s.settle()
	o.settle()
	for r, n := range o.reasons {
		s.reasons[r] += n
	}
	for et, n := range o.nonIP {
		count(&s.nonIP, et, n)
	}
	for lt, n := range o.links {
		count(&s.links, lt, n)
	}
	s.filtered += o.filtered
	o.reasons, o.filtered = [decode.NumReasons]uint64{}, 0
	clear(o.nonIP)
	clear(o.links)
}
