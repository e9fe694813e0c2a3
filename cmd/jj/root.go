package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/output"
)

// Exit codes.
const (
	exitOK    = 0
	exitInput = 1 // some input unreadable, or output failed
	exitUsage = 2 // bad command line or option value: nothing was read
)

// usageError marks command-line mistakes (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// run executes the command line and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdin, stdout, stderr)
	if len(args) == 0 {
		// jj alone is a usage error, not help and success: a script
		// that lost its command must not go on as if it had run.
		fatal(stderr, fmt.Errorf("no command given (%s)", commandNames(cmd)))
		fmt.Fprintf(stderr, "jj: see 'jj --help'\n")
		return exitUsage
	}
	cmd.SetArgs(args)
	c, err := cmd.ExecuteC()
	if err == nil {
		return exitOK
	}
	if isUsage(err) {
		fatal(stderr, err)
		fmt.Fprintf(stderr, "jj: see '%s --help'\n", c.CommandPath())
		return exitUsage
	}
	for _, e := range problems(err) {
		fatal(stderr, e)
	}
	if intr := (*interrupted)(nil); errors.As(err, &intr) {
		return intr.exitCode()
	}
	return exitInput
}

// problems returns the errors err stands for, one a line: each input's of
// a jj.InputError, each of an errors.Join (a cancelled run with inputs
// that failed, a run whose output failed too), else err itself.
func problems(err error) []error {
	var errs []error
	switch e := err.(type) {
	case *jj.InputError:
		errs = e.Errs
	case interface{ Unwrap() []error }:
		errs = e.Unwrap()
	default:
		return []error{err}
	}
	var out []error
	for _, e := range errs {
		out = append(out, problems(e)...)
	}
	return out
}

func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || errors.Is(err, jj.ErrConfig) ||
		strings.HasPrefix(err.Error(), "unknown command") ||
		strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.HasPrefix(err.Error(), "unknown shorthand flag")
}

const rootLong = `jj turns packet captures (pcap, pcapng; gzip, zstd, xz, bzip2 or
lz4 compressed) into per-flow feature tables for machine learning: one row per
bidirectional flow, with the feature names of the Python JoyfulJay library.

Exit codes:
  0  success
  1  some input could not be read (every flow that could be computed was
     still written; when none can, an output file is left as it was and
     nothing goes to standard output, unless one is a pipe, whose bytes
     are known only once read), or
     the output could not be written
  2  usage or option error (checked before any input is read; jj with no
     command is one)
  130, 143  jj extract stopped by SIGINT (Ctrl-C) or SIGTERM: the flows of the
     packets read until then were written (but by the first of two passes,
     --connection-scope capture) and the output completed; a second signal
     stops at once, with the output unfinished`

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "jj",
		Short:         "Turn packet captures into per-flow feature tables",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newExtractCmd(stdin, stdout, stderr), newFeaturesCmd(stdout), newSchemaCmd(stdout), newInfoCmd(stdin, stdout), newVersionCmd(stdout))
	root.AddCommand(newLiveCmd(stdin, stdout, stderr))
	root.CompletionOptions.DisableDefaultCmd = true
	// jj --version, as jj version.
	root.Version = jj.Version
	root.SetVersionTemplate("jj {{.Version}}\n")
	return root
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print jj's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdout, "jj %s\n", jj.Version)
			return nil
		},
	}
}

// extractFlags are the command-line options of `jj extract`.
type extractFlags struct {
	features       []string
	out, format    string
	config         string
	timeout        float64
	activeTimeout  float64
	closeTimeout   float64
	maxFlows       int
	noIPs, noPorts bool
	anonymize      bool
	salt           string
	flowID         bool
	quiet          bool
	burstMs        float64
	rawSeq, splt   bool
	maxSeqLen      int

	noDecap       bool
	anonymizeMode string
	connScope     string
	connPorts     bool
	connGraph     bool
	connTemporal  bool
	filter        string
	columns       []string
	perFile       bool
	workers       int
	compression   string
	compLevel     int
	partitionBy   string
	progress      bool
	noProgress    bool
	decoders      int
	cpuProfile    string // hidden: a pprof CPU profile of the run
	trace         string // hidden: a runtime trace of the run
	memProfile    string // hidden: a pprof profile of the run's allocations
}

const extractLong = `Extract per-flow features from captures.

INPUT is a pcap or pcapng file (optionally gzip, zstd, xz, bzip2 or lz4
compressed, told by its first bytes), a directory (in name order with
numbers by value, dump.pcap2 before dump.pcap10; its files that start as
captures do, compressed ones that decompress to one, and those named as
captures, .pcap, .pcapng, .cap or .ntar, maybe compressed: a broken one
is reported; not its subdirectories', which a warning names), or - for
standard input.
Several inputs are read as one capture: flows continue across files. With
--per-file each file is a capture of its own, and a last column,
source_file, names the file each row came from.

The output format comes from --format, else from the --output extension
(.csv, .jsonl/.ndjson, .json, .parquet), else CSV, with a warning for an
extension that names no format; a capture's name (.pcap, .pcapng, .cap)
is refused. A text output named .gz or .zst (flows.csv.gz) is compressed
so. Without --output, rows go to standard output; an --output ending in
/ or naming an existing directory (or with --partition-by) is a dataset
directory of part files. A run summary goes to standard error unless
--quiet.`

func newExtractCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f extractFlags
	def := jj.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "extract INPUT...",
		Short: "Extract per-flow features from captures",
		Long:  extractLong,
		Example: `  jj extract capture.pcap -o flows.csv
  jj extract capture.pcapng --features flow_meta --include-flow-id --anonymize-ips --salt s3cret -o flows.jsonl
  jj extract day1/ day2.pcap.gz --timeout 120 -f json > flows.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{errors.New("extract needs at least one INPUT (a file, a directory or -)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExtract(cmd, &f, args, stdin, stdout, stderr)
		},
	}
	bindExtractFlags(cmd, &f, def)
	return cmd
}

// bindExtractFlags defines the extraction options on cmd, binding them to
// f; `jj extract` and `jj live` share them, and buildConfig reads them.
func bindExtractFlags(cmd *cobra.Command, f *extractFlags, def jj.Config) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.features, "features", def.Features, "feature groups, repeatable or comma-separated ("+strings.Join(groupNames(), ", ")+"; all is every group but connection, which is named explicitly)")
	fl.StringVarP(&f.out, "output", "o", "", "output file (default: standard output)")
	fl.StringVarP(&f.format, "format", "f", "", "output format: "+strings.Join(output.Formats, ", ")+" (default: from the --output extension, else csv)")
	fl.StringVarP(&f.config, "config", "c", "", "config file (JSON or YAML, snake_case option names); flags given override it, booleans either way (--no-ips=false)")
	fl.Float64Var(&f.timeout, "timeout", def.FlowTimeout, "idle timeout in seconds (flow_timeout)")
	fl.Float64Var(&f.activeTimeout, "active-timeout", def.ActiveTimeout, "end flows this many seconds after their first packet; 0 = off")
	fl.Float64Var(&f.closeTimeout, "tcp-close-timeout", def.TCPCloseTimeout, "idle timeout in seconds of a TCP flow closed by RST or FIN both ways")
	wholeVar(fl, &f.maxFlows, "max-flows", "", def.MaxConcurrentFlows, "most concurrent flows; when full the least recently seen is written early; 0 = unlimited")
	fl.BoolVar(&f.noIPs, "no-ips", false, "leave out src_ip and dst_ip")
	fl.BoolVar(&f.noPorts, "no-ports", false, "leave out src_port, dst_port, dst_port_class, dst_port_class_num")
	fl.BoolVar(&f.anonymize, "anonymize-ips", false, "anonymize IPs as --anonymize-mode says: 16 hex chars of SHA-256(salt + ip) (hash), or a prefix-preserving address (prefix)")
	fl.StringVar(&f.salt, "salt", "", "salt for IP hashes and flow_id (anonymization_salt)")
	fl.BoolVar(&f.flowID, "include-flow-id", false, "add flow_id, a 32-char hash of the 5-tuple, the same in both directions")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no run summary and no warnings on standard error")
	fl.Float64Var(&f.burstMs, "burst-threshold-ms", def.BurstThresholdMs, "gap in milliseconds that ends a burst (timing)")
	fl.BoolVar(&f.rawSeq, "include-sequences", false, "add raw sequence columns (timing, size)")
	fl.BoolVar(&f.splt, "include-splt", false, "add splt_* sequence columns (timing)")
	wholeVar(fl, &f.maxSeqLen, "max-sequence-length", "", def.MaxSequenceLength, "length of sequence columns")
	fl.BoolVar(&f.noDecap, "no-decap", false, "key tunnelled flows on the outermost IP header (the Python library's behaviour)")
	fl.StringVar(&f.anonymizeMode, "anonymize-mode", def.AnonymizeMode, "IP anonymization: hash (salted SHA-256, as the Python library) or prefix (keyed, prefix-preserving)")
	fl.StringVar(&f.connScope, "connection-scope", "", "connection counts over the whole capture (capture) or only up to each flow's end (causal) (default: capture for files, causal for live capture, standard input and pipes)")
	fl.BoolVar(&f.connPorts, "connection-use-ports", false, "connection graph nodes are IP:port, not IP")
	fl.BoolVar(&f.connGraph, "connection-graph-metrics", false, "add betweenness, community and clustering columns (connection)")
	fl.BoolVar(&f.connTemporal, "connection-temporal", false, "add temporal connection columns")
	fl.StringVar(&f.filter, "filter", "", "tcpdump filter expression: only matching packets are used")
	fl.StringSliceVar(&f.columns, "feature", nil, "keep only this column, repeatable (see jj features)")
	fl.BoolVar(&f.perFile, "per-file", false, "read each input file as a capture of its own (its flows end with it), and add a last column, source_file, naming it")
	wholeVar(fl, &f.workers, "workers", "w", def.Workers, "cores to keep busy; 0 = one per CPU; 1 reads and runs the flow table on one goroutine; N reads on one and runs N-1 flow tables beside it for flow_meta alone, N for heavier features, one with --max-flows or connection; an input under 8 MiB (with --per-file, each file) runs as with 1 (output is identical whatever the number)")
	wholeVar(fl, &f.decoders, "decoders", "", 0, "goroutines decoding a capture file while the reader walks it; 0 = 1 per 8 CPUs up to 3 (none below 8), -1 = none")
	fl.StringVar(&f.compression, "compression", "zstd", "Parquet compression: zstd, snappy, gzip, none")
	wholeVar(fl, &f.compLevel, "compression-level", "", 0, "Parquet compression level: zstd 1-22 (in four steps: 1-2, 3-5, 6-9, 10-22), gzip 1-9; 0 = zstd's fastest, gzip's default (5)")
	fl.StringVar(&f.partitionBy, "partition-by", "", "with a directory output: write Hive-style partitions by date (of start_time)")
	fl.BoolVar(&f.progress, "progress", false, "show a progress bar on standard error (default: when it is a terminal)")
	fl.BoolVar(&f.noProgress, "no-progress", false, "never show a progress bar")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the run to this file")
	fl.MarkHidden("cpuprofile")
	fl.StringVar(&f.trace, "trace", "", "write a runtime trace of the run to this file")
	fl.MarkHidden("trace")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a memory allocation profile (pprof) of the run to this file")
	fl.MarkHidden("memprofile")
	fl.SortFlags = false
}

// buildConfig layers defaults, the config file and the flags the user set.
//
// The connection scope defaults to capture, as the spec has it for files,
// but to causal for a live capture, standard input or a pipe (streamed),
// which cannot be read twice: the default applies when neither the file
// nor --connection-scope sets it.
func buildConfig(cmd *cobra.Command, f *extractFlags, streamed bool) (jj.Config, error) {
	cfg := jj.DefaultConfig()
	defScope := cfg.ConnectionScope
	if streamed {
		defScope = "causal"
	}
	cfg.ConnectionScope = ""
	if f.config != "" {
		var err error
		if cfg, err = jj.LoadConfig(f.config, cfg); err != nil {
			if errors.Is(err, jj.ErrConfig) {
				return cfg, err
			}
			return cfg, &usageError{err}
		}
	}
	set := cmd.Flags().Changed
	// An empty value given on the command line names nothing: refused,
	// not read as the default (an empty list in a config file, or none,
	// is flow_meta, as the library's Config says).
	if set("features") && blank(f.features) {
		return cfg, &jj.OptionError{Option: "features", Value: `""`, Want: "a feature group: " + strings.Join(groupNames(), ", ") + " or all"}
	}
	if set("feature") && blank(f.columns) {
		return cfg, &jj.OptionError{Option: "columns", Value: `""`, Want: "a column of the selected feature groups (see jj features)"}
	}
	if set("features") {
		cfg.Features = f.features
	}
	if set("timeout") {
		cfg.FlowTimeout = f.timeout
	}
	if set("active-timeout") {
		cfg.ActiveTimeout = f.activeTimeout
	}
	if set("tcp-close-timeout") {
		cfg.TCPCloseTimeout = f.closeTimeout
	}
	if set("max-flows") {
		cfg.MaxConcurrentFlows = f.maxFlows
	}
	// A boolean flag given either way overrides the config file:
	// --anonymize-ips=false switches off a config's anonymize_ips.
	if set("no-ips") {
		cfg.IncludeIPAddresses = !f.noIPs
	}
	if set("no-ports") {
		cfg.IncludePorts = !f.noPorts
	}
	if set("anonymize-ips") {
		cfg.AnonymizeIPs = f.anonymize
	}
	if set("salt") {
		cfg.AnonymizationSalt = f.salt
	}
	if set("include-flow-id") {
		cfg.IncludeFlowID = f.flowID
	}
	if set("burst-threshold-ms") {
		cfg.BurstThresholdMs = f.burstMs
	}
	if set("include-sequences") {
		cfg.IncludeRawSequences = f.rawSeq
	}
	if set("include-splt") {
		cfg.IncludeSPLT = f.splt
	}
	if set("max-sequence-length") {
		cfg.MaxSequenceLength = f.maxSeqLen
	}
	if set("no-decap") {
		cfg.Decapsulate = !f.noDecap
	}
	if set("anonymize-mode") {
		cfg.AnonymizeMode = f.anonymizeMode
	}
	if set("connection-scope") {
		cfg.ConnectionScope = f.connScope
	}
	if cfg.ConnectionScope == "" {
		cfg.ConnectionScope = defScope
	}
	if set("connection-use-ports") {
		cfg.ConnectionUsePorts = f.connPorts
	}
	if set("connection-graph-metrics") {
		cfg.ConnectionGraphMetrics = f.connGraph
	}
	if set("connection-temporal") {
		cfg.ConnectionTemporal = f.connTemporal
	}
	if set("filter") {
		cfg.Filter = f.filter
	}
	if set("feature") {
		cfg.Columns = f.columns
	}
	if set("workers") {
		cfg.Workers = f.workers
	}
	if set("per-file") {
		cfg.PerFile = f.perFile
	}
	return cfg, cfg.Validate()
}

func runExtract(cmd *cobra.Command, f *extractFlags, inputs []string, stdin io.Reader, stdout, stderr io.Writer) error {
	streamed := slices.ContainsFunc(inputs, func(in string) bool { return !jj.Rereadable(in) })
	cfg, err := buildConfig(cmd, f, streamed)
	if err != nil {
		return err
	}
	format, err := outputFormat(f)
	if err != nil {
		return err
	}
	if f.progress && f.noProgress {
		return &usageError{errors.New("options --progress and --no-progress: give one of them")}
	}
	if err := warnIneffective(cmd, cfg, f, stderr); err != nil {
		return err
	}

	files, err := expandInputs(f.out, inputs, stdin, stdout)
	if err != nil {
		return err
	}

	p := jj.NewPipeline(cfg)
	p.Stdin = stdin
	p.Decoders = f.decoders
	schema, err := p.Schema()
	if err != nil {
		return err
	}
	if err := p.CheckInputs(files); err != nil {
		return err // before the output is created: it is left as it was
	}
	var out *outputSink
	if !someInputOpens(files, stdin) {
		// Each input's problem is still reported by the run, but the
		// output is left as it was: a mistyped input name must not
		// empty an earlier run's table. Nor is an empty table written
		// to standard output, which a pipeline could take for a
		// capture with no flows.
		if _, _, err := checkOutputFlags(f, format, schema, stdout); err != nil {
			return err
		}
		out = &outputSink{w: discard{}, close: func() error { return nil }}
		if !f.quiet && f.out != "" && f.out != "-" {
			defer fmt.Fprintf(stderr, "jj: output %s left as it was: no input could be read\n", f.out)
		}
	} else if out, err = openOutputFor(f, format, schema, &cfg, stdout); err != nil {
		return err
	}
	if bar := newProgress(f, stderr); bar != nil {
		p.OnProgress = bar.update
		defer bar.finish()
	}
	stop, err := startProfiles(f)
	if err != nil {
		out.close()
		return err
	}
	defer stop()
	ctx, stopSignals := onSignals(stderr)
	defer stopSignals()
	sum, runErr := p.RunContext(ctx, files, out.w)
	if sum != nil {
		// The run reads the files the directories were expanded to here
		// (or a directory that could not be, whose warning it gives), so
		// their warnings are the command line's to add.
		var dirs []string
		for _, in := range inputs {
			if w := capture.SubdirsWarning(in); w != "" && !slices.Contains(files, in) {
				dirs = append(dirs, w)
			}
		}
		sum.Warnings = append(dirs, sum.Warnings...)
	}
	return finishRun(f, out, sum, runErr, stderr)
}

// someInputOpens reports whether one of files opens as a capture of a
// link type jj decodes, compressed or not (capture.StartsAsInput; "-",
// standard input redirected from a file, from where it is read:
// capture.FileStartsAsInput), or may (a pipe, a device, standard input
// that is one or no file at all: what they hold is known only by reading
// it).
func someInputOpens(files []string, stdin io.Reader) bool {
	for _, path := range files {
		if path == "-" {
			if f, ok := stdin.(*os.File); !ok || capture.FileStartsAsInput(f) {
				return true
			}
			continue
		}
		fi, err := os.Stat(path)
		if err != nil || fi.IsDir() {
			continue
		}
		if !fi.Mode().IsRegular() || capture.StartsAsInput(path) {
			return true
		}
	}
	return false
}

// discard is the output of a run none of whose inputs can be read.
type discard struct{}

func (discard) Write(*output.Batch) error { return nil }
func (discard) Close() error              { return nil }

// warnIneffective prints, unless --quiet, checkEffective's warnings, and
// returns its error.
func warnIneffective(cmd *cobra.Command, cfg jj.Config, f *extractFlags, stderr io.Writer) error {
	warnings, err := checkEffective(cfg, cmd.Flags().Changed("anonymize-mode"))
	if err != nil {
		return err
	}
	if w := unknownOutputExt(f); w != "" {
		warnings = append(warnings, w)
	}
	if !f.quiet {
		for _, w := range warnings {
			fmt.Fprintln(stderr, "jj: warning: "+w)
		}
	}
	return nil
}

// unknownOutputExt warns of an output file whose extension names no
// format, when no --format chooses one: flows.xml gets CSV. A name with no
// extension gets CSV without a word.
func unknownOutputExt(f *extractFlags) string {
	if f.format != "" || f.out == "" || f.out == "-" || f.partitionBy != "" || isDir(f.out) || output.FormatFromPath(f.out) != "" || outputNameError(f.out) != nil {
		return ""
	}
	name := f.out
	if output.CompressionFromPath(name) != "" {
		name = strings.TrimSuffix(name, filepath.Ext(name))
	}
	ext := filepath.Ext(name)
	if ext == "" {
		return ""
	}
	return fmt.Sprintf("output %s: %s names no format (.csv, .jsonl, .json, .parquet): writing CSV (--format chooses)", f.out, ext)
}

// outputFormat is --format, else the --output extension, else csv.
func outputFormat(f *extractFlags) (string, error) {
	format := f.format
	if format == "" {
		format = output.FormatFromPath(f.out)
	}
	if format == "" {
		format = "csv"
	}
	format = strings.ToLower(format)
	if !output.ValidFormat(format) {
		return "", &usageError{fmt.Errorf("option --format: unknown format %q (known: %s)", f.format, strings.Join(output.Formats, ", "))}
	}
	return format, nil
}

// finishRun closes the output, prints the summary and returns the run's
// error and the output's: both when the inputs failed and the output did
// too, the run's alone when it already says the output failed (the
// output's close then returns the same error).
func finishRun(f *extractFlags, out *outputSink, sum *jj.Summary, runErr error, stderr io.Writer) error {
	flushErr := out.close()
	if sum != nil && sum.OutputFailed {
		flushErr = nil
	}
	if flushErr != nil {
		flushErr = fmt.Errorf("write output: %w", flushErr)
		if sum != nil {
			sum.OutputFailed = true
		}
	}
	if intr := (*interrupted)(nil); errors.As(runErr, &intr) && (flushErr != nil || sum != nil && sum.OutputFailed) {
		intr.outputFailed = true // a failed run, not one stopped with its output complete
	}
	if sum != nil && !f.quiet {
		fmt.Fprint(stderr, sum.String())
	}
	if runErr != nil && flushErr != nil {
		return errors.Join(runErr, flushErr)
	}
	if runErr != nil {
		return runErr
	}
	return flushErr
}

// blank reports whether a list flag's values hold no name: all empty, or
// commas and spaces only.
func blank(values []string) bool {
	for _, v := range values {
		if strings.Trim(v, ", \t") != "" {
			return false
		}
	}
	return true
}

// commandNames lists root's commands, as its help does.
func commandNames(root *cobra.Command) string {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}
