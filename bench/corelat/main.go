// Command corelat measures how long a cache line takes to go from one CPU
// to another and back: two threads, each held to its own CPU, hand a
// counter back and forth through one cache line, and it prints the time
// of a one-way handoff. bench/run.sh prints it beside its figures: on a
// virtual machine whose host moves the vCPUs about, it changes from
// minute to minute (30-35 ns with the two vCPUs near each other, 140-280
// ns far apart; bench/RESULTS.md, session 34), and with it what a second
// worker gains, since the reading goroutine hands every packet batch to a
// flow table on the other CPU. It then times a wake: the two threads
// hand a token over channels -wakes times, each blocked while it waits,
// as jj's goroutines wait for a batch; a wake goes through the Go runtime
// and the kernel, and through the host where the idle vCPU halted
// (bench/RESULTS.md, session 63: 16-37 µs on a vCPU that halts at once,
// 12-18 µs on one that polls first; hostspeed says which).
//
//	go run ./bench/corelat            # CPUs 0 and 1, 5 samples
//	go run ./bench/corelat -cpus 0,3 -samples 9
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	cpus := flag.String("cpus", "0,1", "the two CPUs to hand the line between")
	samples := flag.Int("samples", 5, "how many times to measure")
	n := flag.Int("n", 1000000, "round trips a sample")
	wakes := flag.Int("wakes", 2000, "round trips a sample of the wake, by channels")
	flag.Parse()
	a, b, err := parseCPUs(*cpus)
	if err == nil && (*samples < 1 || *n < 1 || *wakes < 1) {
		err = fmt.Errorf("-samples, -n and -wakes must be at least 1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "corelat:", err)
		os.Exit(2)
	}
	ns := measure(*samples, func() (float64, error) { return handoff(a, b, *n) })
	us := measure(*samples, func() (float64, error) { return wake(a, b, *wakes) })
	fmt.Println(summary(a, b, ns) + wakeSummary(us))
}

// measure returns samples results of f, or exits with f's error.
func measure(samples int, f func() (float64, error)) []float64 {
	var xs []float64
	for range samples {
		x, err := f()
		if err != nil {
			fmt.Fprintln(os.Stderr, "corelat:", err)
			os.Exit(1)
		}
		xs = append(xs, x)
	}
	return xs
}

// parseCPUs reads "A,B", two distinct CPU numbers.
func parseCPUs(s string) (int, int, error) {
	x, y, ok := strings.Cut(s, ",")
	a, errA := strconv.Atoi(strings.TrimSpace(x))
	b, errB := strconv.Atoi(strings.TrimSpace(y))
	if !ok || errA != nil || errB != nil || a < 0 || b < 0 || a == b {
		return 0, 0, fmt.Errorf("-cpus %q: want two distinct CPU numbers, as 0,1", s)
	}
	return a, b, nil
}

// summary is the start of the line corelat prints: the handoff's median
// over the samples, with their range.
func summary(a, b int, ns []float64) string {
	med, lo, hi := spread(ns)
	return fmt.Sprintf("core-to-core handoff, one way, CPUs %d and %d: %.1f ns (median of %d samples, %.1f-%.1f)", a, b, med, len(ns), lo, hi)
}

// wakeSummary is the rest of the line: the wake's median, with its range.
func wakeSummary(us []float64) string {
	med, lo, hi := spread(us)
	return fmt.Sprintf("; a wake, one way: %.1f µs (%.1f-%.1f)", med, lo, hi)
}

// spread returns the median of xs and their range.
func spread(xs []float64) (med, lo, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, s[0], s[len(s)-1]
}
