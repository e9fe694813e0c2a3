package main

import (
	"math"
	"runtime"
	"testing"
)

func TestParseCPUs(t *testing.T) {
	if a, b, err := parseCPUs("2, 5"); err != nil || a != 2 || b != 5 {
		t.Errorf(`parseCPUs("2, 5") = %d, %d, %v; want 2, 5`, a, b, err)
	}
	for _, bad := range []string{"", "0", "1,1", "0,x", "-1,0", "0,1,2"} {
		if _, _, err := parseCPUs(bad); err == nil {
			t.Errorf("parseCPUs(%q): no error", bad)
		}
	}
}

func TestSummary(t *testing.T) {
	// Median of an odd count: the middle value; of an even count: the
	// mean of the two middle ones.
	got := summary(0, 1, []float64{90, 30, 35})
	want := "core-to-core handoff, one way, CPUs 0 and 1: 35.0 ns (median of 3 samples, 30.0-90.0)"
	if got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	got = summary(1, 3, []float64{140, 30, 280, 34})
	want = "core-to-core handoff, one way, CPUs 1 and 3: 87.0 ns (median of 4 samples, 30.0-280.0)"
	if got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestHandoff(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		t.Skip("needs Linux and two CPUs")
	}
	ns, err := handoff(0, 1, 1000)
	if err != nil {
		t.Skipf("CPUs 0 and 1 not both allowed here: %v", err)
	}
	// A handoff is a cache line's trip between cores: tens to hundreds
	// of ns, never nothing (a test a broken loop that skipped the waits
	// would fail).
	if math.IsNaN(ns) || ns < 3 || ns > 1e6 {
		t.Errorf("handoff = %v ns", ns)
	}
}

func TestWakeSummary(t *testing.T) {
	got := wakeSummary([]float64{23.4, 11.0, 48.25, 30})
	want := "; a wake, one way: 26.7 µs (11.0-48.2)"
	if got != want {
		t.Errorf("wakeSummary = %q, want %q", got, want)
	}
}

func TestWake(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		t.Skip("needs Linux and two CPUs")
	}
	us, err := wake(0, 1, 200)
	if err != nil {
		t.Skipf("CPUs 0 and 1 not both allowed here: %v", err)
	}
	// A wake through the runtime and the kernel takes a microsecond at
	// least, and far less than a second: a loop that skipped the
	// channels would be faster than that, one that hung would not end.
	if math.IsNaN(us) || us < 0.5 || us > 1e6 {
		t.Errorf("wake = %v µs", us)
	}
}
