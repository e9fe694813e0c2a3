//go:build unix

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/gen"
)

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// startPiped starts bin with args, its standard input a pipe that the
// test writes, its standard error kept.
func startPiped(t *testing.T, bin string, args ...string) (*exec.Cmd, io.WriteCloser, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, in, stderr
}

// TestInterrupt stops jj extract with SIGINT, then SIGTERM, in the middle
// of a capture it reads from a pipe, and checks that the output is
// complete up to there: a gzip stream that ends, a CSV whose every row
// has every column, as many rows as the summary says were written; the
// exit code is 128 + the signal's number, and a line says why. A second
// signal stops at once (exit code the same, a line saying so).
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jj")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "jj")
	buildJJ(t, bin)
	for _, c := range []struct {
		sig   syscall.Signal
		name  string
		twice bool
	}{{syscall.SIGINT, "SIGINT", false}, {syscall.SIGTERM, "SIGTERM", false}, {syscall.SIGINT, "SIGINT", true}} {
		out := filepath.Join(dir, c.name+strconv.FormatBool(c.twice)+".csv.gz")
		cmd, in, stderr := startPiped(t, bin, "extract", "-", "-w", "2", "-o", out)
		// A capture far longer than the run: the generator writes until
		// jj stops reading, and the signal goes once 20 MB are through.
		var sent atomic.Int64
		exited, signalled := make(chan struct{}), make(chan struct{})
		// waitFor waits until n bytes are through, and reports whether
		// they are (not: jj ended first).
		waitFor := func(n int64) bool {
			for sent.Load() < n {
				select {
				case <-exited:
					return false
				case <-time.After(time.Millisecond):
				}
			}
			return true
		}
		go func() {
			defer close(signalled)
			if !waitFor(20 << 20) {
				return
			}
			cmd.Process.Signal(c.sig)
			// Signals of one kind pending at once count once: the second
			// goes a little later, again every 5 ms until jj ends, and
			// finds the run finishing its output (200 000 flows to end).
			for c.twice {
				select {
				case <-exited:
					return
				case <-time.After(5 * time.Millisecond):
					cmd.Process.Signal(c.sig)
				}
			}
		}()
		cfg := gen.DefaultConfig()
		// Many flows open at once: ending them when stopped takes long
		// enough (tens of ms) for the second signal to come during it.
		cfg.Packets, cfg.ConcurrentFlows = 10_000_000, 200_000
		go func() {
			gen.Write(countWriter{in, &sent}, cfg, gen.FormatPcap) // fails when jj stops reading
			in.Close()
		}()
		err := cmd.Wait()
		close(exited)
		<-signalled
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 128+int(c.sig) {
			t.Fatalf("%s: %v; want exit code %d\n%s", c.name, err, 128+int(c.sig), stderr.String())
		}
		if c.twice {
			// At once: before the run's end, whose summary never comes.
			if !bytes.Contains(stderr.Bytes(), []byte("jj: "+c.name+" again: stopped at once")) || bytes.Contains(stderr.Bytes(), []byte("flows written")) {
				t.Errorf("%s twice: stderr %q; want the line saying it stopped at once, and no summary", c.name, stderr.String())
			}
			continue
		}
		if !bytes.Contains(stderr.Bytes(), []byte("jj: interrupted by "+c.name+": ")) {
			t.Errorf("%s: stderr %q; want the line saying the run was interrupted", c.name, stderr.String())
		}
		m := regexp.MustCompile(`(\d+) flows written`).FindSubmatch(stderr.Bytes())
		if m == nil {
			t.Fatalf("%s: no flows written in the summary: %q", c.name, stderr.String())
		}
		want, _ := strconv.Atoi(string(m[1]))
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(zr).ReadAll() // checks every row's field count
		f.Close()
		if err != nil {
			t.Fatalf("%s: output: %v", c.name, err)
		}
		if len(rows)-1 != want || want == 0 {
			t.Errorf("%s: %d rows in the output, the summary says %d flows written; want as many, and some", c.name, len(rows)-1, want)
		}
	}
}

// TestInterruptTrickle stops jj extract with SIGTERM while it reads a pipe
// that gives a few records at a time, far apart, and is held open after
// them: the signal takes effect when the next data comes, not at the
// pipe's end (or after 4 096 records, which a slow pipe may never give).
func TestInterruptTrickle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jj")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "jj")
	buildJJ(t, bin)
	capture, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "flows.csv")
	cmd, in, stderr := startPiped(t, bin, "extract", "-", "-o", out)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// 100 bytes every 20 ms; the signal after the first 1 000; the pipe
	// held open for 10 s after the last byte unless jj ends first.
	const chunk = 100
	for off := 0; off < len(capture); off += chunk {
		if off == 1000 {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		in.Write(capture[off:min(off+chunk, len(capture))]) // fails once jj has stopped
		select {
		case err = <-exited:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	if cmd.ProcessState == nil {
		select {
		case err = <-exited:
		case <-time.After(10 * time.Second):
			in.Close()
			err = <-exited
			t.Errorf("jj read on until the pipe closed: %v\n%s", err, stderr.String())
		}
	}
	in.Close()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGTERM) || !strings.Contains(stderr.String(), "jj: interrupted by SIGTERM: ") {
		t.Errorf("%v; want exit code %d and the line saying so\n%s", err, 128+int(syscall.SIGTERM), stderr.String())
	}
	if text, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(text), "src_ip,") {
		t.Errorf("output %q, %v; want a CSV table", text, err)
	}
}

// An interrupted run whose output then fails to close is a failed run:
// exit code 1, and no claim that the output is complete.
func TestInterruptOutputFails(t *testing.T) {
	for _, failed := range []bool{false, true} {
		closeErr := error(nil)
		if failed {
			closeErr = errors.New("no space left on device")
		}
		out := &outputSink{close: func() error { return closeErr }}
		err := finishRun(&extractFlags{quiet: true}, out, &jj.Summary{}, &interrupted{sig: syscall.SIGINT}, io.Discard)
		var intr *interrupted
		if !errors.As(err, &intr) {
			t.Fatalf("output failed %v: error %v, want the interruption", failed, err)
		}
		code, complete := intr.exitCode(), strings.Contains(err.Error(), "complete")
		if failed && (code != exitInput || complete || !strings.Contains(err.Error(), "no space left")) {
			t.Errorf("output failed: exit code %d, error %q; want 1, the write error and no claim of a complete output", code, err)
		}
		if !failed && (code != 130 || !complete) {
			t.Errorf("output closed: exit code %d, error %q; want 130 and a complete output", code, err)
		}
	}
}
