package flow

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// benchBatches decodes a generated capture into batches as jj's reading
// goroutine does for one table: input positions and the newest timestamp
// so far, but no keys, which AddBatch computes (and BenchmarkAddBatch
// times, since session 29).
func benchBatches(b *testing.B, packets int64, flows int) []*Batch {
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.ConcurrentFlows = packets, flows
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, cfg, gen.FormatPcap); err != nil {
		b.Fatal(err)
	}
	rd, err := capture.NewReader(&buf, "gen")
	if err != nil {
		b.Fatal(err)
	}
	var d decode.Decoder
	var rec capture.Record
	var out []*Batch
	cur := new(Batch)
	maxTS := int64(-1 << 63)
	for idx := uint64(0); ; idx++ {
		if err := rd.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		p := &cur.Pkts[cur.N]
		p.Timestamp = rec.Timestamp
		if d.Decode(rec.LinkType, rec.Data, rec.WireLen, p) != decode.ReasonOK {
			continue
		}
		maxTS = max(maxTS, p.Timestamp)
		cur.Put(idx, maxTS, 1)
		if cur.N == BatchPackets {
			out = append(out, cur)
			cur = new(Batch)
		}
	}
	if cur.N > 0 {
		out = append(out, cur)
	}
	return out
}

// BenchmarkAddBatch measures one worker's share of a run: the flow table,
// the extractors and the rows, over batches decoded beforehand, with a
// sweep every SweepPackets packets, as jj runs them; with flow_meta and
// with every group. The capture has 100 000 concurrent flows, like
// bench/run.sh's.
func BenchmarkAddBatch(b *testing.B) {
	batches := benchBatches(b, 1_000_000, 100_000)
	var packets int
	for _, bt := range batches {
		packets += bt.N
	}
	for _, features := range []string{"flow_meta", "all"} {
		b.Run(features, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tab := benchTable(b, features)
				for i, bt := range batches {
					if i%(SweepPackets/BatchPackets) == 0 {
						tab.Sweep(bt.Seen[0], bt.Idx[0])
					}
					if err := tab.AddBatch(bt, -1); err != nil {
						b.Fatal(err)
					}
				}
				if err := tab.Close(); err != nil {
					b.Fatal(err)
				}
				tab.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets*b.N), "ns/packet")
		})
	}
}

// benchTable returns a table of the features' extractors whose sink
// hands each batch back for reuse, as jj's merger does.
func benchTable(b *testing.B, features string) *Table {
	exs, err := extract.Build([]string{features}, extract.Options{IncludeIPAddresses: true, IncludePorts: true})
	if err != nil {
		b.Fatal(err)
	}
	var spare *output.Batch
	tab := New(defaultCfg, exs, func(out *output.Batch, _ []Order) error { out.Reset(); spare = out; return nil }, nil)
	spare = output.NewBatch(tab.Schema())
	tab.newBatch = func() *output.Batch { out := spare; spare = nil; return out }
	return tab
}

// BenchmarkPut measures the reading goroutine's share of batching: each
// decoded packet's canonical key, its hash and its shard, for two shards.
// The packets go both ways in no order, as they do on a link.
func BenchmarkPut(b *testing.B) {
	batches := benchBatches(b, 1<<16, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, src := range batches {
			m := src.N
			src.N = 0
			for range m {
				src.Put(0, 0, 2)
			}
			n += m
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

// BenchmarkClose measures Close alone: ending the flows still open at the
// end of the input (about 100 000 here, as at the end of bench/run.sh's
// synthetic capture twice as many), sorting them and emitting their
// flow_meta rows, in ns a flow. At the end of a long input most of the
// table is out of the caches, as the packets and rows went through them
// since its flows were last seen: writing 64 MiB before each Close puts
// it there.
func BenchmarkClose(b *testing.B) {
	evict := make([]byte, 64<<20)
	batches := benchBatches(b, 500_000, 100_000)
	var flows int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tab := benchTable(b, "flow_meta")
		for _, bt := range batches {
			if err := tab.AddBatch(bt, -1); err != nil {
				b.Fatal(err)
			}
		}
		flows = tab.index.Len()
		for i := range evict {
			evict[i]++
		}
		b.StartTimer()
		if err := tab.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		tab.Release()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows*b.N), "ns/flow")
}
