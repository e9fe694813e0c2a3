package capture

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompareNatural(t *testing.T) {
	// In order, as tcpdump -C numbers its files and people read numbers;
	// worked out by hand.
	want := []string{
		"", "0", "00", "1", "01", "2", "10", "a", "a.pcap",
		"b1.pcap", "b01.pcap", "b9.pcap", "b10.pcap",
		"dump.pcap", "dump.pcap1", "dump.pcap2", "dump.pcap9", "dump.pcap10", "dump.pcap11", "dump.pcap100",
		"ring_00001_20240101120000.pcap", "ring_00002_20240101115900.pcap", "ring_00010_20240101000000.pcap",
		"x18446744073709551616", "x18446744073709551617", "x100000000000000000000", // past 64 bits
		"y2z", "y2z1", "y10",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		got := slices.Clone(want)
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(got, compareNatural)
		if !slices.Equal(got, want) {
			t.Fatalf("sorted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	for i, a := range want {
		for j, b := range want {
			if got, w := compareNatural(a, b), cmpInt(i, j); got != w {
				t.Errorf("compareNatural(%q, %q) = %d; want %d", a, b, got, w)
			}
		}
	}
}

func cmpInt(i, j int) int {
	switch {
	case i < j:
		return -1
	case i > j:
		return 1
	}
	return 0
}

// A directory's captures come in natural order: dump.pcap2 before
// dump.pcap10, as tcpdump -C wrote them.
func TestExpandNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	names := []string{"dump.pcap10", "dump.pcap", "dump.pcap2", "dump.pcap1", "dump.pcap11"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), pcapFile(1, 60), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range []string{"dump.pcap", "dump.pcap1", "dump.pcap2", "dump.pcap10", "dump.pcap11"} {
		want = append(want, filepath.Join(dir, n))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %q; want %q", got, want)
	}
}
