// Command tracestat summarises a runtime trace of a jj run (jj extract
// --trace FILE): for each goroutine that ran for at least 0.5 % of the
// run, its time running, runnable (waiting for a core) and blocked (by
// reason), how often it was woken and how long it then waited for a core;
// and, over each tenth of the run, the cores busy on average and each
// goroutine's share running and runnable. bench/RESULTS.md (session 15)
// has what it showed for two workers on the real-traffic tile.
//
//	cd bench/tracestat && go run . /tmp/run.trace
//
// It is a module of its own, so that jj does not depend on
// golang.org/x/exp.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/exp/trace"
)

const tenths = 10

type goStats struct {
	name     string
	reason   string     // why it blocked, while it is
	since    trace.Time // of the current state
	running  trace.Time
	runnable trace.Time
	blocked  map[string]trace.Time
	woken    trace.Time // when last made runnable from blocked; 0 if not
	wakeP    trace.ProcID
	waits    []trace.Time // from woken to running
	sameProc int          // of those, ran on the waker's processor
	runT     [tenths]trace.Time
	readyT   [tenths]trace.Time
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tracestat FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "tracestat: %v\n", err)
		os.Exit(1)
	}
}

func run(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var evs []trace.Event
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		evs = append(evs, ev)
	}
	if len(evs) < 2 {
		return fmt.Errorf("%s: no events", path)
	}
	t0, t1 := evs[0].Time(), evs[len(evs)-1].Time()
	span := t1 - t0
	// spread adds [a, b) to the tenths of the run it covers.
	spread := func(acc *[tenths]trace.Time, a, b trace.Time) {
		for i := range tenths {
			lo := t0 + span*trace.Time(i)/tenths
			hi := t0 + span*trace.Time(i+1)/tenths
			if d := min(b, hi) - max(a, lo); d > 0 {
				acc[i] += d
			}
		}
	}
	gs := map[trace.GoID]*goStats{}
	for _, ev := range evs {
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		g := gs[st.Resource.Goroutine()]
		if g == nil {
			g = &goStats{since: t0, blocked: map[string]trace.Time{}}
			gs[st.Resource.Goroutine()] = g
		}
		from, to := st.Goroutine()
		now := ev.Time()
		switch from {
		case trace.GoRunning:
			g.running += now - g.since
			spread(&g.runT, g.since, now)
		case trace.GoRunnable:
			g.runnable += now - g.since
			spread(&g.readyT, g.since, now)
		case trace.GoWaiting:
			g.blocked[g.reason] += now - g.since
		case trace.GoSyscall:
			g.blocked["syscall"] += now - g.since
		}
		switch {
		case from == trace.GoWaiting && to == trace.GoRunnable:
			g.woken, g.wakeP = now, ev.Proc()
		case from == trace.GoRunnable && to == trace.GoRunning && g.woken != 0:
			g.waits = append(g.waits, now-g.woken)
			if ev.Proc() == g.wakeP {
				g.sameProc++
			}
			g.woken = 0
		}
		g.reason, g.since = st.Reason, now
		if g.name == "" {
			stack := st.Stack
			if stack == trace.NoStack {
				stack = ev.Stack()
			}
			for frame := range stack.Frames() {
				g.name = frame.Func // the outermost frame: the goroutine's function
			}
		}
	}

	ms := func(t trace.Time) float64 { return float64(t) / 1e6 }
	pct := func(t, of trace.Time) int64 { return int64(t) * 100 / int64(of) }
	fmt.Fprintf(w, "run %.1f ms\n", ms(span))
	var busy [tenths]trace.Time
	ids := make([]trace.GoID, 0, len(gs))
	for id, g := range gs {
		for i := range tenths {
			busy[i] += g.runT[i]
		}
		if g.running >= span/200 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	fmt.Fprint(w, "cores busy, by tenth of the run:")
	for i := range tenths {
		fmt.Fprintf(w, " %.2f", float64(busy[i])*tenths/float64(span))
	}
	fmt.Fprintln(w)
	for _, id := range ids {
		g := gs[id]
		fmt.Fprintf(w, "\ngoroutine %d %s\n", id, g.name)
		fmt.Fprintf(w, "  running %.1f ms (%d %%), runnable %.1f ms (%d %%)", ms(g.running), pct(g.running, span), ms(g.runnable), pct(g.runnable, span))
		reasons := make([]string, 0, len(g.blocked))
		for reason := range g.blocked {
			reasons = append(reasons, reason)
		}
		slices.Sort(reasons)
		for _, reason := range reasons {
			if d := g.blocked[reason]; d >= span/200 {
				fmt.Fprintf(w, ", blocked on %s %.1f ms (%d %%)", reason, ms(d), pct(d, span))
			}
		}
		fmt.Fprintln(w)
		if n := len(g.waits); n > 0 {
			slices.Sort(g.waits)
			us := func(q int) float64 { return float64(g.waits[min(n*q/100, n-1)]) / 1e3 }
			fmt.Fprintf(w, "  woken %d times; then waited for a core: median %.1f µs, p90 %.1f, p99 %.1f; ran on the waker's processor %d times\n",
				n, us(50), us(90), us(99), g.sameProc)
		}
		fmt.Fprint(w, "  running, % by tenth: ")
		for i := range tenths {
			fmt.Fprintf(w, " %3d", pct(g.runT[i]*tenths, span))
		}
		fmt.Fprint(w, "\n  runnable, % by tenth:")
		for i := range tenths {
			fmt.Fprintf(w, " %3d", pct(g.readyT[i]*tenths, span))
		}
		fmt.Fprintln(w)
	}
	return nil
}
