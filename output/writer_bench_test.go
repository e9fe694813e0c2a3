package output

import (
	"io"
	"testing"
)

// BenchmarkWriters formats 1024 flow_meta-like rows per batch.
func BenchmarkWriters(b *testing.B) {
	schema := []Column{{Name: "src_ip", Type: String}, {Name: "src_port", Type: Int}, {Name: "start_time", Type: Float},
		{Name: "duration", Type: Float}, {Name: "total_bytes", Type: Int}, {Name: "bytes_ratio", Type: Float}, {Name: "hdr_desc", Type: String}}
	batch := NewBatch(schema)
	for i := 0; i < 1024; i++ {
		batch.AppendString(0, "192.168.1.100")
		batch.AppendInt(1, int64(40000+i))
		batch.AppendFloat(2, 1704067200.123456+float64(i))
		batch.AppendFloat(3, 0.21*float64(i))
		batch.AppendInt(4, int64(3174*i))
		batch.AppendFloat(5, 0.08364629566404916)
		batch.AppendString(6, "ETH-IP-TCP")
		batch.EndRow()
	}
	for _, f := range Formats {
		b.Run(f, func(b *testing.B) {
			w, err := NewWriter(f, io.Discard, schema)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.Write(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1024), "ns/row")
		})
	}
}
