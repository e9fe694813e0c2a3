package jj

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jjflow/jj/internal/testpkt"
	"github.com/jjflow/jj/output"
)

// TestPerFile: with PerFile each input is a capture of its own. A flow
// whose packets go on in the next file ends with the first; a file whose
// timestamps go back before the one before it is not behind; every row
// ends with its input's name; and the counts are those of each file read
// alone, the connection group's included, whatever the workers.
func TestPerFile(t *testing.T) {
	udp := func(sec float64, src string, sport uint16, dst string, dport uint16) testpkt.Frame {
		return testpkt.Frame{TS: testpkt.Sec(sec), Src: testpkt.Addr(src), Dst: testpkt.Addr(dst), Proto: 17, SrcPort: sport, DstPort: dport, Payload: 10}
	}
	// a.pcap: a flow at 1000 s and 1001 s, and another host's; b.pcap
	// goes on with the first flow at 1002 s and 1003 s; c.pcap, days
	// before, has one flow of its own.
	a := writeCapture(t, []testpkt.Frame{udp(1000, "10.0.0.1", 1000, "10.0.0.2", 53), udp(1001, "10.0.0.2", 53, "10.0.0.1", 1000), udp(1001.5, "10.0.0.3", 7, "10.0.0.2", 53)})
	b := writeCapture(t, []testpkt.Frame{udp(1002, "10.0.0.1", 1000, "10.0.0.2", 53), udp(1003, "10.0.0.1", 1000, "10.0.0.2", 53)})
	c := writeCapture(t, []testpkt.Frame{udp(5, "10.0.0.1", 1000, "10.0.0.2", 53)})

	// The CSV text (runCSV), and the summary of a run of its own.
	csvOf := func(cfg Config, inputs ...string) (string, *Summary) {
		t.Helper()
		sum, err := NewPipeline(cfg).Run(inputs, discard{})
		if err != nil {
			t.Fatal(err)
		}
		return string(runCSV(t, cfg, cfg.Workers, inputs...)), sum
	}
	column := func(text, name string) []string {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		i := slices.Index(strings.Split(lines[0], ","), name)
		if i < 0 {
			t.Fatalf("no column %s in %q", name, lines[0])
		}
		var vs []string
		for _, l := range lines[1:] {
			vs = append(vs, strings.Split(l, ",")[i])
		}
		return vs
	}

	for _, workers := range []int{1, 2, 3} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		// As one capture: the flow goes on into b.pcap (4 packets, 5
		// with c.pcap's, which its idle timeout does not end: it is not
		// after the flow's last).
		one, _ := csvOf(cfg, a, b, c)
		if got := column(one, "total_packets"); !slices.Contains(got, "4") && !slices.Contains(got, "5") {
			t.Errorf("workers %d, as one capture: total_packets %v, want the flow of a.pcap and b.pcap as one of 4", workers, got)
		}

		cfg.PerFile = true
		got, sum := csvOf(cfg, a, b, c)
		if !strings.HasSuffix(strings.SplitN(got, "\n", 2)[0], ",hdr_desc,source_file") {
			t.Errorf("workers %d: header %q does not end with source_file", workers, strings.SplitN(got, "\n", 2)[0])
		}
		// a.pcap's two flows (the first of 2 packets, the other of 1, in
		// order of their ends at the end of the file), then b.pcap's
		// flow of 2, then c.pcap's of 1.
		if p, s := column(got, "total_packets"), column(got, "source_file"); !slices.Equal(p, []string{"2", "1", "2", "1"}) || !slices.Equal(s, []string{a, a, b, c}) {
			t.Errorf("workers %d: total_packets %v, source_file %v; want [2 1 2 1] from [a a b c]", workers, p, s)
		}
		if st := column(got, "start_time"); !slices.Equal(st, []string{"1000.0", "1001.5", "1002.0", "5.0"}) {
			t.Errorf("workers %d: start_time %v", workers, st)
		}
		if sum.Flows != 4 || sum.Packets != 6 || len(sum.Inputs) != 3 || len(sum.Warnings) != 0 {
			t.Errorf("workers %d: summary %d flows, %d packets, inputs %v, warnings %q; want 4, 6, three, none", workers, sum.Flows, sum.Packets, sum.Inputs, sum.Warnings)
		}
		if want := append(slices.Clip(defaultSchema(t)), SourceColumn); !slices.EqualFunc(sum.Columns, want, func(x, y output.Column) bool { return x.Name == y.Name }) {
			t.Errorf("workers %d: summary columns do not end with source_file", workers)
		}
	}

	// Progress counts every file's bytes, packets and rows, and says
	// Done once, at the end.
	cfg := DefaultConfig()
	cfg.PerFile = true
	p := NewPipeline(cfg)
	var reports []Progress
	p.OnProgress = func(pr Progress) { reports = append(reports, pr) }
	if _, err := p.Run([]string{a, b, c}, discard{}); err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, f := range []string{a, b, c} {
		fi, _ := os.Stat(f)
		size += fi.Size()
	}
	dones := 0
	for _, pr := range reports {
		if pr.Done {
			dones++
		}
	}
	if last := reports[len(reports)-1]; dones != 1 || !last.Done || last.BytesRead != size || last.BytesTotal != size || last.Packets != 6 || last.Flows != 4 {
		t.Errorf("progress: %d reports Done, the last %+v; want one, and %d bytes, 6 packets, 4 flows", dones, last, size)
	}

	// A run stopped before its last file still ends with a Done.
	ctx, cancel := context.WithCancel(context.Background())
	reports = nil
	p.OnProgress = func(pr Progress) { reports = append(reports, pr); cancel() }
	if _, err := p.RunContext(ctx, []string{a, b, c}, discard{}); !errors.Is(err, context.Canceled) {
		t.Errorf("stopped: error %v, want context.Canceled", err)
	}
	if len(reports) == 0 || !reports[len(reports)-1].Done || len(reports) == 3 {
		t.Errorf("stopped after the first file: %d reports, the last %+v; want fewer than 3, the last Done", len(reports), reports[len(reports)-1])
	}

	// Every group, connection included, over a capture named twice (a
	// copy): each file's rows are those of the capture read alone, with
	// their source_file.
	gen := filepath.Join("testdata", "sample.pcap")
	data, err := os.ReadFile(gen)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.pcap")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		cfg := DefaultConfig()
		cfg.Features = []string{"all", "connection"}
		cfg.Workers = workers
		alone, _ := csvOf(cfg, gen)
		cfg.PerFile = true
		got, _ := csvOf(cfg, gen, copyPath)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		want := strings.Split(strings.TrimSuffix(alone, "\n"), "\n")
		if len(lines) != 2*len(want)-1 || lines[0] != want[0]+",source_file" {
			t.Fatalf("workers %d: %d lines, header %q; want %d and the header with source_file", workers, len(lines), lines[0], 2*len(want)-1)
		}
		for i, l := range lines[1:] {
			src := gen
			if i >= len(want)-1 {
				src = copyPath
			}
			if w := want[1+i%(len(want)-1)] + "," + src; l != w {
				t.Errorf("workers %d, row %d:\n got %s\nwant %s", workers, i, l, w)
			}
		}
	}
}

// defaultSchema returns the default config's columns.
func defaultSchema(t *testing.T) []output.Column {
	t.Helper()
	s, err := NewPipeline(DefaultConfig()).Schema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
