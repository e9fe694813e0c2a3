package jj

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// genCapture writes the capture the generator makes with gc to a
// temporary file and returns its path and the generator's statistics.
func genCapture(tb testing.TB, gc gen.Config) (string, gen.Stats) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gen.pcap")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := gen.Write(f, gc, gen.FormatPcap)
	if err != nil {
		tb.Fatal(err)
	}
	return path, st
}

// benchCapture writes a generated capture once per benchmark binary.
func benchCapture(b *testing.B, packets int64, flows int) (string, gen.Stats) {
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.ConcurrentFlows = packets, flows
	return genCapture(b, cfg)
}

// BenchmarkPipeline measures the whole run (read, decode, flows, flow_meta
// or every group, CSV formatting to a discarded writer) per packet, and
// shows that allocations grow with flows, not packets.
func BenchmarkPipeline(b *testing.B) {
	path, st := benchCapture(b, 500000, 20000)
	for _, bc := range []struct {
		name     string
		features []string
		workers  int
	}{
		{"flow_meta/workers=1", []string{"flow_meta"}, 1},
		{"flow_meta/workers=all", []string{"flow_meta"}, 0},
		{"all/workers=1", []string{"all"}, 1},
		{"all/workers=all", []string{"all"}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Features, cfg.Workers = bc.features, bc.workers
			p := NewPipeline(cfg)
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for b.Loop() {
				if _, err := p.Run([]string{path}, discard{}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&ms1)
			pk := float64(st.Packets) * float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pk, "ns/packet")
			b.ReportMetric(pk/b.Elapsed().Seconds(), "packets/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/pk, "allocs/packet")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/(float64(st.Flows)*float64(b.N)), "allocs/flow")
		})
	}
}

// keep is an output.Writer that keeps a copy of every batch.
type keep struct{ batches []*output.Batch }

func (k *keep) Write(b *output.Batch) error {
	c := output.NewBatch(b.Schema)
	for r := range b.Len() {
		c.AppendRow(b, r)
	}
	k.batches = append(k.batches, c)
	return nil
}

func (k *keep) Close() error { return nil }

// BenchmarkEncode measures the text formats on real rows, in the batches
// the workers make: the flows of a generated capture, with flow_meta and
// with every group, per row.
func BenchmarkEncode(b *testing.B) {
	path, _ := benchCapture(b, 200000, 10000)
	for _, features := range []string{"flow_meta", "all"} {
		cfg := DefaultConfig()
		cfg.Features, cfg.Workers = []string{features}, 1
		var k keep
		if _, err := NewPipeline(cfg).Run([]string{path}, &k); err != nil {
			b.Fatal(err)
		}
		rows := 0
		for _, bt := range k.batches {
			rows += bt.Len()
		}
		for _, format := range []string{"csv", "jsonl"} {
			b.Run(features+"/"+format, func(b *testing.B) {
				w, err := output.NewWriter(format, io.Discard, k.batches[0].Schema)
				if err != nil {
					b.Fatal(err)
				}
				enc := w.(output.RowEncoder)
				var text []byte
				var ends []int
				size := 0
				for b.Loop() {
					size = 0
					for _, bt := range k.batches {
						text, ends = enc.EncodeRows(text[:0], ends[:0], bt)
						size += len(text)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
				b.SetBytes(int64(size))
			})
		}
	}
}
