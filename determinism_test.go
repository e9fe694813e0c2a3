package jj

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
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

// shortTimeouts is the default config with timeouts short enough that
// sweeps end flows all along a generated capture, idle, active and after
// a TCP close.
func shortTimeouts() Config {
	c := DefaultConfig()
	c.FlowTimeout, c.ActiveTimeout, c.TCPCloseTimeout = 0.05, 0.2, 0.01
	return c
}

// The output is byte-identical whatever the number of workers: on every
// shipped capture and on a generated capture with many interleaved flows,
// timeouts that split flows and sweeps that end quiet ones.
func TestWorkersDeterminism(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 60000, 3000, 7
	path, st := genCapture(t, gc)
	inputs := [][]string{{path}, {"testdata/captures"}}
	cfgs := map[string]Config{"default": DefaultConfig()}
	cfgs["short timeouts"] = shortTimeouts()
	// One flow table whatever the count: run by the reading goroutine
	// with one worker, beside it with more.
	bounded := DefaultConfig()
	bounded.MaxConcurrentFlows = 500
	cfgs["max flows"] = bounded
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
// only ordered by the merger (output.RowEncoder); with one, mostly the
// merger encodes. Both give the same bytes, in every text format and with a
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

// One worker encodes its rows itself only at the end of the input, while
// the merger is behind, so the merger may write encoded and unencoded
// batches in turn: the output is the same whoever encodes the last rows.
func TestOneWorkerEncodingInTurns(t *testing.T) {
	defer func(f func(*merger) bool) { behind = f }(behind)
	// A generated capture shorter than every timeout: all its rows are
	// made at the end, the first of them perhaps by the worker.
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 20000, 1500, 3
	path, _ := genCapture(t, gc)
	all := DefaultConfig()
	all.Features = []string{"all"}
	// One flow table with two workers asked for (a bound on the flows, or
	// flow_meta alone): its worker runs beside the reader and may find the
	// merger behind. (One worker asked for runs on the reading goroutine,
	// where behind is forced here.)
	one := DefaultConfig()
	one.MaxConcurrentFlows = 1 << 20
	type run struct {
		cfg     Config
		workers int
	}
	for name, r := range map[string]run{"default": {DefaultConfig(), 1}, "all": {all, 1}, "one table beside the reader": {one, 2}, "flow_meta beside the reader": {DefaultConfig(), 2}} {
		cfg := r.cfg
		for _, in := range []string{path, "testdata/captures"} {
			for _, format := range []string{"csv", "jsonl", "json"} {
				outs := map[string][]byte{}
				for mode, f := range map[string]func(*merger) bool{
					"by the merger": func(*merger) bool { return false },
					"by the worker": func(*merger) bool { return true },
					"in turns":      func() func(*merger) bool { n := 0; return func(*merger) bool { n++; return n%2 == 0 } }(),
				} {
					behind = f
					outs[mode] = runFormat(t, cfg, r.workers, format, in)
				}
				if len(outs["by the merger"]) < 1000 {
					t.Fatalf("%s %s %s: only %d bytes of output", name, in, format, len(outs["by the merger"]))
				}
				for _, mode := range []string{"by the worker", "in turns"} {
					if !bytes.Equal(outs[mode], outs["by the merger"]) {
						t.Errorf("%s %s %s: output with the last rows encoded %s differs from the output encoded by the merger", name, in, format, mode)
					}
				}
			}
		}
	}
}

// jitter rewrites a classic little-endian pcap file in place, moving a
// fraction of its records back in time by up to max nanoseconds, so that
// timestamps are out of order as in merged or multi-queue captures.
func jitter(t *testing.T, path string, fraction float64, max int64, seed uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	scale := int64(1000) // microsecond magic
	if binary.LittleEndian.Uint32(data) == 0xa1b23c4d {
		scale = 1
	}
	r := rand.New(rand.NewPCG(seed, seed))
	for off := 24; off+16 <= len(data); {
		h := data[off : off+16]
		if r.Float64() < fraction {
			ts := int64(binary.LittleEndian.Uint32(h))*1e9 + int64(binary.LittleEndian.Uint32(h[4:]))*scale
			ts -= r.Int64N(max)
			binary.LittleEndian.PutUint32(h, uint32(ts/1e9))
			binary.LittleEndian.PutUint32(h[4:], uint32(ts%1e9/scale))
		}
		off += 16 + int(binary.LittleEndian.Uint32(h[8:]))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Out-of-order timestamps must not make the output depend on the number
// of workers either: a sweep ends a flow by how long it has been quiet,
// whatever the order in which the flows were last seen.
func TestWorkersDeterminismOutOfOrder(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 60000, 3000, 11
	path, _ := genCapture(t, gc)
	jitter(t, path, 0.3, 40e6, 1)
	cfg := DefaultConfig()
	cfg.FlowTimeout, cfg.TCPCloseTimeout = 0.05, 0.02
	one := runCSV(t, cfg, 1, path)
	for _, w := range []int{2, 3, 8} {
		if got := runCSV(t, cfg, w, path); !bytes.Equal(got, one) {
			t.Errorf("output with %d workers differs from 1 worker", w)
		}
	}
}

// A flow table without MaxFlows keeps its flows in timing wheels that a
// packet does not update (flow/wheel.go); with MaxFlows, in one list in
// last-seen order that every packet updates. Both must end the same flows
// at the same sweeps: a bound never reached must change nothing, with
// timeouts long and short (each sweep then reaching flows whose bucket
// has gone by, some still active), timestamps in order or not, and gaps.
func TestWheelsEndFlowsAsLastSeenLists(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 60000, 3000, 13
	path, _ := genCapture(t, gc)
	jittered, _ := genCapture(t, gc)
	jitter(t, jittered, 0.3, 40e6, 2)
	gaps, _ := genCapture(t, gc)
	jitter(t, gaps, 0.01, 30e9, 3) // a few records minutes early
	cfgs := map[string]Config{"default": DefaultConfig()}
	cfgs["short timeouts"] = shortTimeouts()
	tiny := DefaultConfig()
	tiny.FlowTimeout, tiny.TCPCloseTimeout = 0.000002, 0.000001
	cfgs["microsecond timeouts"] = tiny
	long := DefaultConfig()
	long.FlowTimeout, long.TCPCloseTimeout = 1e6, 1e5
	cfgs["long timeouts"] = long
	for name, cfg := range cfgs {
		for _, in := range []string{path, jittered, gaps, "testdata/captures"} {
			wheels := runCSV(t, cfg, 2, in)
			cfg := cfg
			cfg.MaxConcurrentFlows = 1 << 30
			lists := runCSV(t, cfg, 1, in)
			if n := bytes.Count(wheels, []byte("\n")); n < 10 {
				t.Fatalf("%s, %s: %d lines of output", name, in, n)
			}
			if !bytes.Equal(wheels, lists) {
				t.Errorf("%s, %s: the wheels' output differs from the last-seen lists'", name, in)
			}
		}
	}
}

// A Parquet file is the same whatever the number of workers, though the
// rows reach the writer in batches of other sizes: on a generated capture
// whose rows fill several batches and several pages of each column chunk,
// with row groups small enough to end within a batch.
func TestWorkersDeterminismParquet(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Seed = 400000, 20000, 7
	path, _ := genCapture(t, gc)
	cfg := DefaultConfig()
	cfg.Features = []string{"all"}
	one := runFormat(t, cfg, 1, "parquet", path)
	if len(one) < 100000 {
		t.Fatalf("only %d bytes of Parquet", len(one))
	}
	for _, w := range []int{2, 3} {
		if got := runFormat(t, cfg, w, "parquet", path); !bytes.Equal(got, one) {
			t.Errorf("Parquet with %d workers differs from 1 worker", w)
		}
	}
}
