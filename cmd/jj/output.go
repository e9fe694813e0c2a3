package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/output"
)

// outputSink is where the rows of `jj extract` go.
type outputSink struct {
	w     output.Writer
	close func() error // flushes and closes what openOutputFor opened
	flush func() error // pushes buffered rows out (nil when nothing buffers)
}

// flushing makes every batch of rows reach the destination at once, for
// live capture, whose flows should be readable as soon as they end.
func (o *outputSink) flushing() output.Writer {
	if o.flush == nil {
		return o.w
	}
	return flushWriter{o.w, o.flush}
}

type flushWriter struct {
	output.Writer
	flush func() error
}

func (w flushWriter) Write(b *output.Batch) error {
	if err := w.Writer.Write(b); err != nil {
		return err
	}
	return w.flush()
}

// checkOutputFlags checks the output options against the format and the
// columns, as usage errors, and says where the rows go: standard output,
// or a dataset directory. jj live calls it before it opens the interface
// or creates the --save-pcap file, so that a bad option leaves nothing
// behind.
func checkOutputFlags(f *extractFlags, format string, schema []output.Column, stdout io.Writer) (toStdout, dir bool, err error) {
	if !output.ValidCompression(f.compression) {
		return false, false, &usageError{fmt.Errorf("option --compression: unknown compression %q (known: %s)", f.compression, strings.Join(output.Compressions, ", "))}
	}
	if format != "parquet" && f.compression != output.Compressions[0] {
		return false, false, &usageError{fmt.Errorf("option --compression applies to Parquet output only (-f parquet), not %s (name a text output .gz or .zst to compress it)", format)}
	}
	if format != "parquet" && f.compLevel != 0 {
		return false, false, &usageError{fmt.Errorf("option --compression-level applies to Parquet output only (-f parquet), not %s", format)}
	}
	if err := output.ValidCompressionLevel(f.compression, f.compLevel); err != nil {
		return false, false, &usageError{fmt.Errorf("option --compression-level: %w", err)}
	}
	if f.partitionBy != "" && !slices.Contains(output.PartitionKeys, f.partitionBy) {
		return false, false, &usageError{fmt.Errorf("option --partition-by: unknown key %q (known: %s)", f.partitionBy, strings.Join(output.PartitionKeys, ", "))}
	}
	toStdout = f.out == "" || f.out == "-"
	dir = f.partitionBy != "" || isDir(f.out)
	if !dir && !toStdout {
		if err := outputNameError(f.out); err != nil {
			return false, false, &usageError{err}
		}
	}
	if c := output.CompressionFromPath(f.out); c != "" && !dir && format == "parquet" {
		return false, false, &usageError{fmt.Errorf("output %s: Parquet compresses its columns itself (--compression, default zstd): name the file .parquet", f.out)}
	}
	if dir && toStdout {
		return false, false, &usageError{errors.New("option --partition-by needs a directory as --output")}
	}
	if dir && f.partitionBy == "date" && !slices.ContainsFunc(schema, func(c output.Column) bool { return c.Name == "start_time" }) {
		return false, false, &usageError{errors.New("option --partition-by date needs the start_time column (see --feature)")}
	}
	if format == "parquet" && toStdout && isTerminal(stdout) {
		return false, false, &usageError{errors.New("refusing to write binary Parquet to a terminal: give --output FILE or redirect standard output")}
	}
	return toStdout, dir, nil
}

// outputNameError refuses an output file name that would mislead: one
// that asks for a compression jj does not write (the file would be plain
// text under a compressed name), and one named as a capture, which a later
// run over its directory would read as a capture, and fail on.
func outputNameError(name string) error {
	switch ext := strings.ToLower(filepath.Ext(name)); {
	case slices.Contains([]string{".xz", ".bz2", ".lz4", ".zip", ".br", ".7z"}, ext):
		return fmt.Errorf("output %s: jj compresses its output as .gz or .zst only, not %s", name, ext)
	case ext == ".zstd" || ext == ".gzip":
		return fmt.Errorf("output %s: name it %s to compress it", name, map[string]string{".zstd": ".zst", ".gzip": ".gz"}[ext])
	case capture.NamedAsCapture(name):
		return fmt.Errorf("output %s: jj writes flow tables, not captures: name it .csv, .jsonl, .json or .parquet", name)
	}
	return nil
}

// openOutputFor opens the destination named by the flags: standard output,
// a file, or, when --output ends with a slash, names a directory or
// --partition-by is given, a dataset directory of part files (see
// output.NewDirWriter). cfg, when not nil, is recorded in the metadata of
// Parquet files as "jj.config", in the config-file format, without its
// number of workers, which changes nothing in the output, and without its
// anonymization salt, a secret (jj.salt says that one was given).
func openOutputFor(f *extractFlags, format string, schema []output.Column, cfg *jj.Config, stdout io.Writer) (*outputSink, error) {
	toStdout, dir, err := checkOutputFlags(f, format, schema, stdout)
	if err != nil {
		return nil, err
	}

	newWriter, err := fileWriter(format, f.compression, f.compLevel, cfg)
	if err != nil {
		return nil, err
	}
	if dir {
		w, err := output.NewDirWriter(schema, output.DirOptions{
			Dir: f.out, PartitionBy: f.partitionBy, Ext: "." + format, NewWriter: newWriter,
		})
		if err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
		// The pipeline closes w, which completes the files.
		return &outputSink{w: w, close: func() error { return nil }}, nil
	}

	var dst io.Writer = stdout
	var file *os.File
	var empty func() error // empties an existing output file: on the writer's goroutine
	var zw compressor
	if toStdout {
		empty = stdoutRelease(stdout)
	} else {
		if file, empty, err = createOutput(f.out); err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
		dst = file
		// flows.csv.gz and flows.jsonl.zst are compressed as named,
		// the same bytes whatever the number of workers (one encoder,
		// no time in the gzip header).
		var zerr error
		switch output.CompressionFromPath(f.out) {
		case "gzip":
			zw, zerr = gzip.NewWriterLevel(file, gzip.DefaultCompression)
		case "zstd":
			zw, zerr = zstd.NewWriter(file, zstd.WithEncoderConcurrency(1))
		}
		if zerr != nil {
			file.Close()
			return nil, fmt.Errorf("create output: %s: %w", f.out, zerr)
		}
		if zw != nil {
			dst = zw
		}
	}
	// The output is written, and compressed, on a goroutine of its own
	// (aheadWriter): the kernel's copy of the text into new page-cache
	// pages, which this project's VM charges for at first touch, and the
	// compressor's work then overlap the encoding of the next rows. With
	// one worker on the synthetic benchmark capture, flow_meta written as
	// CSV took 1.25 against 1.30 s, as .csv.gz 1.62 against 2.55 s and as
	// .csv.zst 1.36 against 1.97 s; --features all on a capture of 2.9 M
	// open flows (4.15 GB of CSV), 30.7-31.4 against 36.3-36.8 s
	// (bench/RESULTS.md, session 31). A small buffer above it gathers the
	// writers' small writes; the text writers hand it a batch of rows at
	// a time (tens to hundreds of KiB), which it passes straight through.
	// (A dataset directory's part files, above, are written as before.)
	ahead := newAheadWriter(dst, empty)
	dst = ahead
	bw := bufio.NewWriterSize(dst, outputBuffer)
	w, err := newWriter(bw, schema)
	if err != nil {
		ahead.Close()
		if zw != nil {
			zw.Close()
		}
		if file != nil {
			file.Close()
		}
		return nil, &usageError{err}
	}
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := ahead.Flush(); err != nil {
			return err
		}
		if zw != nil {
			return zw.Flush()
		}
		return nil
	}
	return &outputSink{w: w, flush: flush, close: func() error {
		err := bw.Flush()
		if cerr := ahead.Close(); err == nil {
			err = cerr
		}
		if zw != nil {
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		if file != nil {
			if cerr := file.Close(); err == nil {
				err = cerr
			}
		}
		return err
	}}, nil
}

// createOutput opens the output file path as os.Create does, creating it
// or emptying an existing one, but leaves the emptying of an existing
// regular file to empty, for the output's writer goroutine to call before
// its first write (aheadWriter): truncating a file takes the kernel's time
// in proportion to the file, and on ext4 a file truncated when opened is
// written back when closed, which the next truncation waits for. Run after
// run over the synthetic benchmark capture's 60 MB of CSV, the opening
// took 17-33 ms of a run's start, before anything was read; the output's
// first bytes come later than that. empty is nil where there is nothing
// to empty: a new or empty file, or not a regular file (a named pipe, a
// device), which O_TRUNC leaves alone too. Once emptied, the file is
// released from the kernel's write-back at its close (releaseTruncated).
func createOutput(path string) (file *os.File, empty func() error, err error) {
	file, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	if fi.Mode().IsRegular() && fi.Size() > 0 {
		empty = func() error {
			if err := file.Truncate(0); err != nil {
				return err
			}
			releaseTruncated(file)
			return nil
		}
	}
	return file, empty, nil
}

// stdoutRelease returns, where standard output is an empty regular file,
// the writer goroutine's first call, releaseTruncated: `jj extract
// capture.pcap > flows.csv` over an existing flows.csv has the shell
// empty the file, and jj's exit, the file's last close, then started the
// write-back of the whole output, as the close of a file jj emptied
// itself did (createOutput): 53-91 ms more wall time than jj's clock for
// flow_meta's 108 MB on the synthetic benchmark capture, against 5 ms
// over a new file (bench/RESULTS.md, session 67). Released while empty,
// the file has nothing to write back then. nil otherwise: a pipe, a
// terminal, a device, or a file that already holds something, which a
// second close might have to write back at once.
func stdoutRelease(w io.Writer) func() error {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		return nil
	}
	return func() error {
		releaseTruncated(f)
		return nil
	}
}

// fileWriter returns the constructor of one output file's writer. Parquet
// files carry jj's version and, when cfg is not nil, the config.
func fileWriter(format, compression string, level int, cfg *jj.Config) (func(io.Writer, []output.Column) (output.Writer, error), error) {
	if format != "parquet" {
		return func(w io.Writer, schema []output.Column) (output.Writer, error) {
			return output.NewWriter(format, w, schema)
		}, nil
	}
	o := output.ParquetOptions{
		Compression:      compression,
		CompressionLevel: level,
		Metadata:         map[string]string{"jj.version": jj.Version},
		CreatedBy:        "jj",
		Version:          jj.Version,
	}
	if cfg != nil {
		// The file is the same whatever the number of workers, so the
		// recorded config leaves it at its default; the workers also
		// encode the columns.
		c := *cfg
		o.Concurrency, c.Workers = c.Workers, 0
		// The salt is the key of the anonymized addresses and flow ids:
		// with it, a reader of the file could hash every IPv4 address
		// and read the hashes back. It is left out, and said to be so.
		if c.AnonymizationSalt != "" {
			c.AnonymizationSalt = ""
			o.Metadata["jj.salt"] = saltNotRecorded
		}
		js, err := configJSON(c)
		if err != nil {
			return nil, err
		}
		o.Metadata["jj.config"] = js
	}
	return func(w io.Writer, schema []output.Column) (output.Writer, error) {
		return output.NewParquetWriter(w, schema, o)
	}, nil
}

// saltNotRecorded is the jj.salt metadata of a Parquet file made with a
// salt, which its jj.config leaves out.
const saltNotRecorded = "given, not recorded: give it again (--salt) to reuse jj.config"

// configJSON renders cfg as JSON with the config file's keys (flow_timeout,
// include_flow_id, ...), so that the text is itself a valid `jj extract -c`
// file.
func configJSON(cfg jj.Config) (string, error) {
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := yaml.Unmarshal(y, &m); err != nil {
		return "", err
	}
	js, err := json.Marshal(m)
	return string(js), err
}

// expandInputs turns the inputs into the files the run reads, before the
// output is created (capture.Expand): an output written into an input
// directory is then not read as an input, even where it looks like one
// (flows.csv.gz has gzip's magic). A directory Expand cannot list stays
// as it is, for the run to report. It refuses, as usage errors, an output
// file, or standard output redirected to a file, that is one of the
// files to read, any file of an input directory it cannot list, or the
// file standard input is redirected from when "-" is an input (creating
// the output would empty the capture; jj extract c.pcap >> c.pcap would
// append the rows to it); a file named twice (namedTwice); and standard
// input named twice (the second read would find it empty).
func expandInputs(out string, inputs []string, stdin io.Reader, stdout io.Writer) ([]string, error) {
	var files []string
	var unlisted []string // directories Expand failed on
	stdins := 0
	for _, in := range inputs {
		if in == "-" {
			if stdins++; stdins == 2 {
				return nil, &usageError{errors.New("standard input (-) is named twice as an input")}
			}
			files = append(files, in)
			continue
		}
		if fi, err := os.Stat(in); err != nil || !fi.IsDir() {
			files = append(files, in) // a file, or an error the run reports
			continue
		}
		fs, err := capture.Expand([]string{in})
		if err != nil {
			files = append(files, in)
			unlisted = append(unlisted, in)
			continue
		}
		files = append(files, fs...)
	}
	ins := statInputs(files, stdin)
	if err := namedTwice(ins); err != nil {
		return nil, err
	}
	var ofi os.FileInfo
	what := "output " + out
	if out == "" || out == "-" {
		f, ok := stdout.(*os.File)
		if !ok {
			return files, nil
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return files, nil // a terminal, a pipe, /dev/null
		}
		what, ofi = "standard output", fi
	} else if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		ofi = fi
	} else {
		return files, nil // a new file, or a dataset directory of new part files
	}
	// jj extract - -o c.pcap < c.pcap, too: creating the output would
	// empty the capture before it is read.
	for _, dir := range unlisted {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := filepath.Join(dir, e.Name())
			if fi, err := os.Stat(name); err == nil {
				ins = append(ins, inputFile{name, fi})
			}
		}
	}
	for _, in := range ins {
		if os.SameFile(in.fi, ofi) {
			return nil, &usageError{fmt.Errorf("%s is the input %s: refusing to write to it", what, in.name)}
		}
	}
	return files, nil
}

// inputFile is an input that is a regular file, and its FileInfo.
type inputFile struct {
	name string
	fi   os.FileInfo
}

// statInputs returns the inputs that are regular files, each with its
// FileInfo: "-" as "standard input (-)" when standard input is one.
// Others the run reports, or cannot read twice anyway.
func statInputs(files []string, stdin io.Reader) []inputFile {
	var ins []inputFile
	for _, name := range files {
		var fi os.FileInfo
		var err error
		if name == "-" {
			f, ok := stdin.(*os.File)
			if !ok {
				continue
			}
			fi, err = f.Stat()
			name = "standard input (-)"
		} else {
			fi, err = os.Stat(name)
		}
		if err == nil && fi.Mode().IsRegular() {
			ins = append(ins, inputFile{name, fi})
		}
	}
	return ins
}

// namedTwice refuses, as a usage error, a file among the inputs twice:
// by two paths, as a file and in a directory also named, or as a file and
// as what standard input (-) is redirected from. Read twice, its packets
// would count twice in its flows. Files are compared by device and inode
// (os.SameFile) within groups of equal size and time of change, so that
// thousands of inputs cost no more than their stats.
func namedTwice(ins []inputFile) error {
	type group struct {
		size int64
		mod  time.Time
	}
	groups := map[group][]inputFile{}
	for _, in := range ins {
		g := group{in.fi.Size(), in.fi.ModTime()}
		for _, s := range groups[g] {
			if os.SameFile(s.fi, in.fi) {
				if s.name == in.name {
					return &usageError{fmt.Errorf("input %s is named twice: its packets would count twice", in.name)}
				}
				return &usageError{fmt.Errorf("input %s is also the input %s: its packets would count twice", in.name, s.name)}
			}
		}
		groups[g] = append(groups[g], in)
	}
	return nil
}

// isDir reports whether path names a directory: it ends with a slash, or
// it is one.
func isDir(path string) bool {
	if path == "" || path == "-" {
		return false
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// compressor is a compressing writer of the output file.
type compressor interface {
	io.WriteCloser
	Flush() error
}

// outputBuffer is the size of the buffer above the output's aheadWriter,
// which gathers the writers' small writes.
const outputBuffer = 64 << 10
