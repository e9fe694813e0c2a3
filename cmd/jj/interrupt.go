package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interrupted is the error of an extract run stopped by SIGINT (Ctrl-C)
// or SIGTERM: the run ended the flows open then and wrote them, as if the
// input ended there (but a run of two passes stopped in its first, which
// writes none), and closed the output, which is complete up to there (a
// CSV's last row whole, a Parquet file's footer written, a gzip stream
// ended). The exit code is 128 plus the signal's number, as a
// shell gives a command the signal ended: 130 and 143.
// If the output then fails (finishRun sets outputFailed), the run is a
// failed one: exit code 1, and the message claims no complete output.
type interrupted struct {
	sig          os.Signal
	outputFailed bool
}

func (e *interrupted) Error() string {
	if e.outputFailed {
		return fmt.Sprintf("interrupted by %s: reading stopped there", signalName(e.sig))
	}
	return fmt.Sprintf("interrupted by %s: reading stopped there; the output is complete, with the flows written", signalName(e.sig))
}

// exitCode is 128 plus the signal's number, or 1 if the output failed.
func (e *interrupted) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok && !e.outputFailed {
		return 128 + int(s)
	}
	return exitInput
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// onSignals returns a context that the first SIGINT or SIGTERM cancels,
// with an *interrupted cause: the run then stops at its next check
// (jj.Pipeline.RunContext: every 4096 records of a file, before every
// record of a pipe, and between inputs) and finishes its output. A
// second signal ends the process at once, with
// the output unfinished. A signal jj was started with ignored (a command
// run in the background by a shell without job control, or under nohup)
// stays ignored. stop ends the handling, and must be called.
func onSignals(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		if !signal.Ignored(s) {
			signal.Notify(sigs, s)
		}
	}
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(&interrupted{sig: s})
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "jj: %s again: stopped at once, the output unfinished\n", signalName(s))
			os.Exit((&interrupted{sig: s}).exitCode())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
