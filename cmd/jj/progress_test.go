package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jjflow/jj"
)

func TestNewProgress(t *testing.T) {
	var buf bytes.Buffer
	tests := []struct {
		name string
		f    extractFlags
		want bool
	}{
		{"pipe", extractFlags{}, false},
		{"forced", extractFlags{progress: true}, true},
		{"forced and quiet", extractFlags{progress: true, quiet: true}, true},
		{"disabled", extractFlags{noProgress: true}, false},
		{"both", extractFlags{progress: true, noProgress: true}, false},
	}
	for _, tt := range tests {
		if got := newProgress(&tt.f, &buf) != nil; got != tt.want {
			t.Errorf("%s: bar = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestProgressRender drives a forced bar with reports as the pipeline
// sends them and checks what it draws.
func TestProgressRender(t *testing.T) {
	var buf bytes.Buffer
	b := newProgress(&extractFlags{progress: true}, &buf)
	b.update(jj.Progress{BytesRead: 1 << 20, BytesTotal: 4 << 20, Packets: 49152, Flows: 120, Elapsed: time.Second})
	b.update(jj.Progress{BytesRead: 4 << 20, BytesTotal: 4 << 20, Packets: 200000, Flows: 2500, Elapsed: 2 * time.Second, Done: true})
	b.finish()
	out := buf.String()
	for _, want := range []string{"200k packets", "100k packets/s", "2.50k flows", "100%", "4.2/4.2 MB", "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}

	// Unknown size (standard input): no percentage, bytes read.
	buf.Reset()
	b = newProgress(&extractFlags{progress: true}, &buf)
	b.update(jj.Progress{BytesRead: 3 << 20, BytesTotal: -1, Packets: 5, Flows: 1, Elapsed: time.Second, Done: true})
	if out := buf.String(); strings.Contains(out, "%") || !strings.Contains(out, "3.1 MB") {
		t.Errorf("bar of unknown size:\n%q", out)
	}
}

func TestHumanCount(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1.00k", 12345: "12.3k", 999499: "999k", 4560000: "4.56M", 7.89e9: "7.89G"} {
		if got := humanCount(n); got != want {
			t.Errorf("humanCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressTerminal runs jj extract in a real terminal (tmux) and
// checks that the bar appears on it without --progress, then that it stays
// off when standard error is a pipe.
func TestProgressTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux not installed (apt-get install tmux)")
	}
	if testing.Short() {
		t.Skip("builds jj and writes a capture")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "jj")
	buildJJ(t, bin)
	pcap := filepath.Join(dir, "in.pcap")
	genCapture(t, pcap, 200000)

	session := "jj-progress-test-" + strconv.Itoa(os.Getpid())
	done := filepath.Join(dir, "done")
	cmd := "env -u CI TERM=xterm " + bin + " extract " + pcap + " -o " + filepath.Join(dir, "out.csv") + "; touch " + done + "; sleep 60"
	if out, err := exec.Command(tmux, "new-session", "-d", "-s", session, "-x", "150", "-y", "10", cmd).CombinedOutput(); err != nil {
		t.Skipf("tmux cannot start a session here: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(tmux, "kill-session", "-t", session).Run() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(done); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("jj extract did not finish in 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	screen, err := exec.Command(tmux, "capture-pane", "-p", "-t", session).Output()
	if err != nil {
		t.Fatalf("tmux capture-pane: %v", err)
	}
	s := string(screen)
	for _, want := range []string{"200k packets", "100%", "flows", "|", "jj: 1 input(s), 200000 packets read"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal screen lacks %q:\n%s", want, s)
		}
	}

	// The same run with standard error to a pipe: no bar.
	c := exec.Command(bin, "extract", pcap, "-o", filepath.Join(dir, "out2.csv"))
	c.Env = append(os.Environ(), "TERM=xterm")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("jj extract: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "%") || strings.Contains(stderr.String(), "\r") {
		t.Errorf("bar drawn into a pipe:\n%q", stderr.String())
	}
}

func TestProgressFlagsExclusive(t *testing.T) {
	code, _, errs := runJJ(t, nil, "extract", sample, "--progress", "--no-progress", "-o", t.TempDir()+"/f.csv")
	if code != exitUsage || !strings.Contains(errs, "--progress and --no-progress: give one of them") {
		t.Errorf("exit %d, stderr %q; want a usage error", code, errs)
	}
	if code, _, errs := runJJ(t, nil, "extract", sample, "-q", "--progress=false", "--no-progress", "-o", t.TempDir()+"/f.csv"); code != 0 {
		t.Errorf("--progress=false --no-progress: exit %d: %s", code, errs)
	}
}
