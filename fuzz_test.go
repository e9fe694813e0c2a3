package jj

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPipeline runs the whole pipeline on arbitrary bytes given as
// standard input. Invariants: no panic; every record read is either used
// or skipped with a reason (Used + skipped = Packets); every used packet is
// in exactly one flow (the rows' total_packets add up to Used); and each
// row's directions add up to its totals; and decapsulation changes no
// count of packets read or used. Seeds: the test captures.
func FuzzPipeline(f *testing.F) {
	files, _ := filepath.Glob("testdata/captures/*")
	files = append(files, "testdata/sample.pcap")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.Workers = 3 // two flow tables beside the reading goroutine
		p := NewPipeline(cfg)
		p.Stdin = bytes.NewReader(data)
		tab, err := p.Process("-")
		if tab == nil || tab.Summary == nil {
			t.Fatalf("no table or summary (error %v)", err)
		}
		s := tab.Summary
		if s.Used+s.SkippedTotal() != s.Packets {
			t.Fatalf("used %d + skipped %d != packets %d (%v)", s.Used, s.SkippedTotal(), s.Packets, s.Skipped)
		}
		if uint64(len(tab.Rows)) != s.Flows {
			t.Fatalf("%d rows, summary says %d flows", len(tab.Rows), s.Flows)
		}
		var packets int64
		for r := range tab.Rows {
			get := func(c string) int64 { return tab.Value(r, c).(int64) }
			n := get("total_packets")
			if n <= 0 || get("packets_fwd")+get("packets_bwd") != n {
				t.Fatalf("row %d: packets %d = %d + %d", r, n, get("packets_fwd"), get("packets_bwd"))
			}
			if get("bytes_fwd")+get("bytes_bwd") != get("total_bytes") ||
				get("payload_bytes_fwd")+get("payload_bytes_bwd") != get("payload_bytes_total") {
				t.Fatalf("row %d: bytes or payload do not add up", r)
			}
			if get("payload_bytes_total") > get("total_bytes") {
				t.Fatalf("row %d: payload %d above bytes %d", r, get("payload_bytes_total"), get("total_bytes"))
			}
			packets += n
		}
		if uint64(packets) != s.Used {
			t.Fatalf("flows hold %d packets, %d used", packets, s.Used)
		}
		// Opening tunnels never loses or adds a packet.
		cfg.Decapsulate = false
		p = NewPipeline(cfg)
		p.Stdin = bytes.NewReader(data)
		outer, _ := p.Process("-")
		if outer == nil || outer.Summary == nil {
			t.Fatal("no summary without decapsulation")
		}
		if o := outer.Summary; o.Used != s.Used || o.Packets != s.Packets {
			t.Fatalf("%d packets, %d used without decapsulation; %d, %d with", o.Packets, o.Used, s.Packets, s.Used)
		}
	})
}
