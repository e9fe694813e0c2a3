package jj

import (
	"slices"
	"strings"

	"github.com/jjflow/jj/output"
)

// withSource returns a writer that writes w's rows with a last column,
// source_file, holding name (Config.PerFile): schema is the rows' columns
// and that one. A RowEncoder's rows are encoded with it too, on whichever
// goroutine encodes them. Close does nothing: the run closes w once its
// last input is read.
func withSource(w output.Writer, name string, schema []output.Column) output.Writer {
	// A path is bytes; the column is text (UTF-8 in Parquet, JSON): a
	// byte that is not UTF-8 is written as U+FFFD in every format.
	s := sourceWriter{w: w, name: strings.ToValidUTF8(name, "\uFFFD"), schema: schema}
	if enc, ok := w.(output.RowEncoder); ok {
		return &sourceEncoder{sourceWriter: s, enc: enc}
	}
	return &s
}

type sourceWriter struct {
	w      output.Writer
	name   string
	schema []output.Column
	view   *output.Batch // Write's, reused: the merger writes one batch at a time
}

func (s *sourceWriter) Write(b *output.Batch) error {
	s.view = b.WithString(s.name, s.schema, s.view)
	return s.w.Write(s.view)
}

func (s *sourceWriter) Close() error { return nil }

type sourceEncoder struct {
	sourceWriter
	enc output.RowEncoder
}

// EncodeRows may run on several goroutines at once: a view each.
func (s *sourceEncoder) EncodeRows(dst []byte, ends []int, b *output.Batch) ([]byte, []int) {
	return s.enc.EncodeRows(dst, ends, b.WithString(s.name, s.schema, nil))
}

func (s *sourceEncoder) WriteEncoded(text []byte, ends []int) error {
	return s.enc.WriteEncoded(text, ends)
}

// add returns s with o's counts added, for a run of several passes'
// summaries (Config.PerFile): a nil s is o. A warning both have is kept
// once.
func (s *Summary) add(o *Summary) *Summary {
	if s == nil {
		return o
	}
	s.Inputs = append(s.Inputs, o.Inputs...)
	s.Packets += o.Packets
	s.Used += o.Used
	for reason, n := range o.Skipped {
		s.Skipped[reason] += n
	}
	for in, m := range o.SkippedByInput {
		if s.SkippedByInput[in] == nil {
			s.SkippedByInput[in] = map[string]uint64{}
		}
		for reason, n := range m {
			s.SkippedByInput[in][reason] += n
		}
	}
	s.Flows += o.Flows
	s.OutputFailed = s.OutputFailed || o.OutputFailed
	s.Evicted += o.Evicted
	s.MaxConcurrent = max(s.MaxConcurrent, o.MaxConcurrent)
	for _, w := range o.Warnings {
		if !slices.Contains(s.Warnings, w) {
			s.Warnings = append(s.Warnings, w)
		}
	}
	for _, n := range o.Notes {
		if !slices.Contains(s.Notes, n) {
			s.Notes = append(s.Notes, n)
		}
	}
	return s
}
