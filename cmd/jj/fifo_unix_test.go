//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A named pipe, like standard input, cannot be read twice: the
// connection scope defaults to causal for it, and an explicit capture
// scope is refused before the pipe is opened.
func TestPipeConnectionScope(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "cap.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	code, _, errs := runJJ(t, nil, "extract", fifo, "-q", "--features", "connection", "--connection-scope", "capture")
	if code != 2 || !strings.Contains(errs, "not a regular file") {
		t.Errorf("explicit capture scope: exit %d, stderr %q", code, errs)
	}
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Write(data)
			w.Close()
		}
	}()
	code, out, errs := runJJ(t, nil, "extract", fifo, "-q", "--features", "connection", "--feature", "conn_src_unique_dsts")
	// Causal: the sample's first flow ends before its source starts the
	// other two (TestStdinConnectionScope).
	if code != 0 || out != "conn_src_unique_dsts\n1\n2\n3\n" {
		t.Errorf("default scope: exit %d, output %q, stderr %q", code, out, errs)
	}
}
