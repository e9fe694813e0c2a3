package jj

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jjflow/jj/gen"
)

// TestTileFlows checks that a tiled capture (gen.Tile) holds each copy's
// flows apart: copies an hour apart give copies times the flows of the
// inputs, with the same packet and byte counts, and copies 1 ms apart,
// all open at once, as many flows again.
func TestTileFlows(t *testing.T) {
	inputs := []string{"testdata/captures/wireshark__http.cap", "testdata/captures/wireshark__v6-http.cap"}
	counts := func(csv []byte) []string { // total_packets and total_bytes of each row
		lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
		head := strings.Split(lines[0], ",")
		ip, ib := slices.Index(head, "total_packets"), slices.Index(head, "total_bytes")
		var rows []string
		for _, l := range lines[1:] {
			f := strings.Split(l, ",")
			rows = append(rows, f[ip]+" "+f[ib])
		}
		slices.Sort(rows)
		return rows
	}
	base := counts(runCSV(t, DefaultConfig(), 1, inputs...))
	if len(base) < 5 {
		t.Fatalf("only %d flows in the inputs", len(base))
	}
	for _, step := range []time.Duration{time.Hour, time.Millisecond} {
		const copies = 4
		path := filepath.Join(t.TempDir(), "tile.pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen.Tile(f, inputs, gen.TileConfig{Copies: copies, Step: step, Start: time.Unix(1.7e9, 0)}, gen.FormatPcap); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var want []string
		for range copies {
			want = append(want, base...)
		}
		slices.Sort(want)
		if got := counts(runCSV(t, DefaultConfig(), 2, path)); !slices.Equal(got, want) {
			t.Errorf("step %v: %d flows, want %d; packets and bytes:\n%v\nwant\n%v", step, len(got), len(want), got, want)
		}
	}
}
