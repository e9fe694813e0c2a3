package gen

import (
	"io"
	"testing"
)

// BenchmarkWrite measures whole captures of the default mix written to
// io.Discard, so the file system stays out of the figure. It reports
// ns/packet and MB/s of frames; allocations are per capture (setup) only.
func BenchmarkWrite(b *testing.B) {
	for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNG} {
		b.Run(format.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Packets = 1 << 20
			b.ReportAllocs()
			var st Stats
			for b.Loop() {
				var err error
				if st, err = Write(io.Discard, cfg, format); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N) * float64(cfg.Packets)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/packet")
			b.ReportMetric(n/b.Elapsed().Seconds(), "packets/s")
			b.SetBytes(st.Bytes)
		})
	}
}

// BenchmarkNext measures the Generator alone, one packet per iteration,
// with the schedule replay of New left out.
func BenchmarkNext(b *testing.B) {
	for _, tc := range []struct {
		name  string
		flows int
		flood int64
	}{
		{"flows=10k", 10_000, 0},
		{"flows=1M", 1_000_000, 0},
		{"flood", 10_000, 1 << 22},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Packets = 1 << 22
			cfg.ConcurrentFlows = tc.flows
			cfg.SYNFlood = tc.flood
			g, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, _, ok := g.Next(); !ok {
					b.StopTimer()
					if g, err = New(cfg); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
		})
	}
}
