package jj

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// runCSV runs the pipeline with the given worker count and returns the CSV.
func runCSV(t testing.TB, cfg Config, workers int, inputs ...string) []byte {
	t.Helper()
	return runFormat(t, cfg, workers, "csv", inputs...)
}

// runFormat runs the pipeline with the given worker count and returns its
// output in the given format.
func runFormat(t testing.TB, cfg Config, workers int, format string, inputs ...string) []byte {
	t.Helper()
	cfg.Workers = workers
	p := NewPipeline(cfg)
	schema, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := output.NewWriter(format, &buf, schema)
	if _, err := p.Run(inputs, w); err != nil {
		if _, ok := err.(*InputError); !ok {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// The output is byte-identical whatever the number of workers: on every
// shipped capture and on a generated capture with many interleaved flows,
// timeouts that split flows and sweeps that end quiet ones.
func TestWorkersDeterminism(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gen.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 60000, 3000, 7
	st, err := gen.Write(f, gc, gen.FormatPcap)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]string{{path}, {"testdata/captures"}}
	cfgs := map[string]Config{"default": DefaultConfig()}
	short := DefaultConfig()
	short.FlowTimeout, short.ActiveTimeout, short.TCPCloseTimeout = 0.05, 0.2, 0.01
	cfgs["short timeouts"] = short
	for name, cfg := range cfgs {
		for _, in := range inputs {
			one := runCSV(t, cfg, 1, in...)
			if n := bytes.Count(one, []byte("\n")) - 1; name == "default" && in[0] == path && n != int(st.Flows) {
				t.Errorf("%s: %d flows, generator made %d", in[0], n, st.Flows)
			}
			for _, w := range []int{2, 3, 8} {
				if got := runCSV(t, cfg, w, in...); !bytes.Equal(got, one) {
					t.Errorf("%s, %s: output with %d workers differs from 1 worker", name, in[0], w)
				}
			}
		}
	}
}

// With several workers the text formats are encoded by the workers and
// only ordered by the merger (output.RowEncoder); with one, the merger
// encodes. Both give the same bytes, in every text format and with a
// column projection.
func TestWorkersDeterminismFormats(t *testing.T) {
	proj := DefaultConfig()
	proj.Columns = []string{"hdr_desc,start_time", "src_ip"}
	all := DefaultConfig()
	all.Features = []string{"all"}
	for name, cfg := range map[string]Config{"default": DefaultConfig(), "projection": proj, "all": all} {
		for _, format := range []string{"csv", "jsonl", "json"} {
			one := runFormat(t, cfg, 1, format, "testdata/captures")
			if len(one) < 1000 {
				t.Fatalf("%s %s: only %d bytes of output", name, format, len(one))
			}
			if got := runFormat(t, cfg, 3, format, "testdata/captures"); !bytes.Equal(got, one) {
				t.Errorf("%s %s: output with 3 workers differs from 1 worker", name, format)
			}
			if format == "json" && !json.Valid(one) {
				t.Errorf("%s: not valid JSON", name)
			}
		}
	}
}
