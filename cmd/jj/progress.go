package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/jjflow/jj"
)

// progressBar shows the run's progress on standard error: bytes read out
// of the inputs' total, packets per second, flows written and the time
// left. It draws through schollz/progressbar, which redraws one line in
// place with carriage returns, throttles redraws and estimates the time
// left from the recent rate.
type progressBar struct {
	w    io.Writer
	bar  *progressbar.ProgressBar // nil before the first report of a pass
	pass int
	last time.Time // of the last redraw
}

// redrawEvery bounds redraws: OnProgress may come a hundred times a second.
const redrawEvery = 150 * time.Millisecond

// newProgress returns a progress bar when the flags and the terminal ask
// for one, or nil: --no-progress never shows it, --progress always does,
// and otherwise it shows when standard error is a terminal (not a pipe, a
// file or a CI log) and --quiet is not given.
func newProgress(f *extractFlags, stderr io.Writer) *progressBar {
	switch {
	case f.noProgress:
		return nil
	case f.progress:
	case f.quiet || !isTerminal(stderr) || os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb":
		return nil
	}
	return &progressBar{w: stderr}
}

// update is jj.Pipeline's OnProgress: it runs in the reading goroutine.
func (b *progressBar) update(p jj.Progress) {
	if b.bar == nil {
		b.start(p.BytesTotal)
	}
	if !p.Done && time.Since(b.last) < redrawEvery {
		return
	}
	b.last = time.Now()
	desc := humanCount(p.Packets) + " packets"
	if secs := p.Elapsed.Seconds(); secs > 0 {
		desc += ", " + humanCount(uint64(float64(p.Packets)/secs)) + " packets/s"
	}
	desc += ", " + humanCount(p.Flows) + " flows"
	if b.pass > 1 {
		desc = "pass " + strconv.Itoa(b.pass) + ": " + desc
	}
	b.bar.Describe(desc)
	if p.BytesRead > 0 {
		b.bar.Set64(p.BytesRead)
	}
	if p.Done {
		// A run that reads its inputs twice reports Done once a pass:
		// the next report starts a new bar.
		b.bar.Finish()
		b.bar = nil
	}
}

func (b *progressBar) start(total int64) {
	b.pass++
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(redrawEvery),
		// No spinner ticker: it would redraw from its own goroutine,
		// racing with the run summary written after the run.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
	)
}

// finish ends a bar left open by a run that stopped early, so that what
// follows starts on a new line.
func (b *progressBar) finish() {
	if b.bar != nil {
		b.bar.Exit()
		b.bar = nil
	}
}

// humanCount renders n with an SI suffix: 950, 12.3k, 4.56M, 7.89G.
func humanCount(n uint64) string {
	f := float64(n)
	switch {
	case n < 1000:
		return strconv.FormatUint(n, 10)
	case f < 1e6:
		return strconv.FormatFloat(f/1e3, 'f', digits(f/1e3), 64) + "k"
	case f < 1e9:
		return strconv.FormatFloat(f/1e6, 'f', digits(f/1e6), 64) + "M"
	}
	return strconv.FormatFloat(f/1e9, 'f', digits(f/1e9), 64) + "G"
}

// digits keeps three significant digits.
func digits(f float64) int {
	switch {
	case f < 10:
		return 2
	case f < 100:
		return 1
	}
	return 0
}
