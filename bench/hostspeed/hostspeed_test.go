package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestParseCacheSize(t *testing.T) {
	for in, want := range map[string]int{"32768K\n": 32 << 20, "1024K": 1 << 20, "2M": 2 << 20, "512": 512} {
		if got, ok := parseCacheSize(in); !ok || got != want {
			t.Errorf("parseCacheSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "K", "x", "-4K", "0K"} {
		if _, ok := parseCacheSize(bad); ok {
			t.Errorf("parseCacheSize(%q): ok", bad)
		}
	}
}

func TestSummary(t *testing.T) {
	// Medians: of an odd count the middle value, of an even count the
	// mean of the two middle ones; one sample alone has no range.
	got := summary([]float64{0.3, 0.25, 0.5},
		[]int{4 << 20, 512 << 10}, [][]float64{{17, 90, 100, 20}, {15}},
		[]float64{2, 12, 3})
	want := "host: arithmetic 0.300 (0.250-0.500) ns/op; random read in 4 MiB 55 (17-100) ns, in 0.5 MiB 15 ns; fresh page 3.0 (2.0-12.0) µs"
	if got != want {
		t.Errorf("summary =\n%s\nwant\n%s", got, want)
	}
}

// TestChainOneCycle checks that the chain's links visit every line once
// before coming back: a walk that skipped lines, or looped in a few,
// would time a smaller working set than it says.
func TestChainOneCycle(t *testing.T) {
	for _, size := range []int{128, 64 << 10, 1<<20 + 64} {
		c := newChain(size, 7)
		n := len(c.words) / lineWords
		seen := make([]bool, n)
		at := uint64(0)
		for i := range n {
			if at%lineWords != 0 || at/lineWords >= uint64(n) {
				t.Fatalf("size %d: link %d goes to word %d, not a line's first", size, i, at)
			}
			if seen[at/lineWords] {
				t.Fatalf("size %d: line %d reached twice within %d links of %d lines", size, at/lineWords, i, n)
			}
			seen[at/lineWords] = true
			at = c.words[at]
		}
		if at != 0 {
			t.Errorf("size %d: after %d links at word %d, not back at 0", size, n, at)
		}
	}
}

func TestFigures(t *testing.T) {
	// Each figure is a time for real work: positive and finite, and a
	// read from memory slower than an arithmetic operation.
	alu := arithmetic(1_000_000)
	read := newChain(1<<20, 1).walk(100_000)
	for name, v := range map[string]float64{"arithmetic": alu, "read": read} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v ns", name, v)
		}
	}
	if read <= alu {
		t.Errorf("a dependent read (%v ns) no slower than an operation of eight independent chains (%v ns)", read, alu)
	}
	if runtime.GOOS == "linux" {
		us, err := freshPages(4 << 20)
		if err != nil || !(us > 0) {
			t.Errorf("freshPages = %v µs, %v", us, err)
		}
	}
}

func TestMappedSummary(t *testing.T) {
	got := mappedSummary([]float64{40, 12, 900}, []float64{1500, 45, 60})
	want := "; a page of the file mapped 40 (12-900) ns, then first read 60 (45-1500) ns"
	if got != want {
		t.Errorf("mappedSummary =\n%s\nwant\n%s", got, want)
	}
}

// TestMappedFigures times windows of a file of a few MiB, one a sample,
// and wants an error, not a figure, for a file smaller than a page or
// missing.
func TestMappedFigures(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the mapped-page figure is implemented for Linux only")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "capture")
	if err := os.WriteFile(path, make([]byte, 5<<20+100), 0o644); err != nil {
		t.Fatal(err)
	}
	populate, read, err := mappedFigures(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(populate) != 3 || len(read) != 3 {
		t.Fatalf("%d and %d figures, want 3 each", len(populate), len(read))
	}
	for i := range read {
		for name, v := range map[string]float64{"populate": populate[i], "read": read[i]} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("sample %d: %s = %v ns a page", i, name, v)
			}
		}
	}
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{small, filepath.Join(dir, "missing")} {
		if _, _, err := mappedFigures(p, 3); err == nil {
			t.Errorf("mappedFigures(%s): no error", filepath.Base(p))
		}
	}
}

func TestFreePageReporting(t *testing.T) {
	// Features as sysfs prints them: one character a bit, from bit 0.
	for _, c := range []struct {
		name    string
		devices map[string][2]string // directory: device, features
		want    bool
	}{
		{"balloon reporting", map[string][2]string{"virtio0": {"0x0005\n", "0110010100000000000000000000000010\n"}, "virtio1": {"0x0002\n", "0011111\n"}}, true},
		{"balloon without it", map[string][2]string{"virtio0": {"0x0005\n", "0110000100000000000000000000000010\n"}}, false},
		{"bit 5 of another device", map[string][2]string{"virtio1": {"0x0002\n", "0000010\n"}}, false},
		{"short features", map[string][2]string{"virtio0": {"0x0005\n", "011\n"}}, false},
		{"no virtio", nil, false},
	} {
		sys := t.TempDir()
		for dir, f := range c.devices {
			d := filepath.Join(sys, "bus", "virtio", "devices", dir)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "device"), []byte(f[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "features"), []byte(f[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := freePageReporting(sys); got != c.want {
			t.Errorf("%s: freePageReporting = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIdleSummary(t *testing.T) {
	for _, c := range []struct {
		name, driver, pollNS string // "" leaves the file out
		want                 string
	}{
		{"halts at once", "haltpoll\n", "0\n", "; an idle CPU halts at once (cpuidle haltpoll, guest_halt_poll_ns 0)"},
		{"polls", "haltpoll\n", "200000\n", "; an idle CPU polls for up to 200 µs before it halts (cpuidle haltpoll)"},
		{"polls a fraction", "haltpoll\n", "1500\n", "; an idle CPU polls for up to 1.5 µs before it halts (cpuidle haltpoll)"},
		{"haltpoll, no parameter", "haltpoll\n", "", "; idle CPUs: cpuidle haltpoll"},
		{"no driver", "none\n", "", "; an idle CPU halts at once (no cpuidle driver)"},
		{"another driver", "intel_idle\n", "", "; idle CPUs: cpuidle intel_idle"},
		{"no cpuidle", "", "", ""},
	} {
		sys := t.TempDir()
		write := func(path, s string) {
			if s == "" {
				return
			}
			p := filepath.Join(sys, path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("devices/system/cpu/cpuidle/current_driver", c.driver)
		write("module/haltpoll/parameters/guest_halt_poll_ns", c.pollNS)
		if got := idleSummary(sys); got != c.want {
			t.Errorf("%s: idleSummary = %q, want %q", c.name, got, c.want)
		}
	}
}
