package live

import (
	"bytes"
	"io"
	"testing"

	"github.com/jjflow/jj/capture"
)

// The saved pcap reads back through capture's reader with nanosecond
// timestamps, lengths and link type intact.
func TestPcapWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	pw, err := newPcapWriter(&buf, uint16(capture.LinkEthernet), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	recs := []struct {
		ts   int64
		data []byte
		wire uint32
	}{
		{1_700_000_000_123_456_789, []byte{1, 2, 3, 4}, 4},
		{1_700_000_001_000_000_001, bytes.Repeat([]byte{9}, 60), 1514},
	}
	for _, r := range recs {
		if err := pw.write(r.ts, r.data, r.wire); err != nil {
			t.Fatal(err)
		}
	}
	rd, err := capture.NewReader(&buf, "saved")
	if err != nil {
		t.Fatal(err)
	}
	var rec capture.Record
	for i, want := range recs {
		if err := rd.Next(&rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if rec.Timestamp != want.ts || !bytes.Equal(rec.Data, want.data) || rec.WireLen != want.wire || rec.LinkType != capture.LinkEthernet {
			t.Errorf("record %d = %d %x %d %d, want %d %x %d 1", i, rec.Timestamp, rec.Data, rec.WireLen, rec.LinkType, want.ts, want.data, want.wire)
		}
	}
	if err := rd.Next(&rec); err != io.EOF {
		t.Errorf("after the records: %v, want io.EOF", err)
	}
}

func TestPcapWriterNoAllocs(t *testing.T) {
	pw, err := newPcapWriter(io.Discard, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 100)
	if n := testing.AllocsPerRun(100, func() { pw.write(1, data, 100) }); n != 0 {
		t.Errorf("write allocates %v times", n)
	}
}
