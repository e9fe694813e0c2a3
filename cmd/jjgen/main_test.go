package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	const http = "../../testdata/captures/wireshark__http.cap" // 43 packets
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		magic     uint32 // first 4 bytes of the output file, little-endian; 0 for none
		stdout    bool   // the capture goes to stdout
		errSubstr string
	}{
		{"pcap", []string{"-packets", "1000", "-flows", "50"}, exitOK, 0xa1b2c3d4, false, "1000 packets"},
		{"pcap ns", []string{"-packets", "1000", "-flows", "50", "-format", "pcap-ns"}, exitOK, 0xa1b23c4d, false, "1000 packets"},
		{"pcapng flood", []string{"-packets", "1000", "-flows", "50", "-format", "pcapng", "-flood", "100", "-flood-port", "443"}, exitOK, 0x0a0d0d0a, false, "syn flood 100"},
		{"stdout", []string{"-o", "-", "-packets", "10", "-flows", "5"}, exitOK, 0xa1b2c3d4, true, "10 packets"},
		{"help", []string{"-h"}, exitOK, 0, false, "Exit status"},
		{"unknown flag", []string{"-nope"}, exitUsage, 0, false, "flag provided but not defined"},
		{"bad format", []string{"-format", "cap"}, exitUsage, 0, false, "unknown capture format"},
		{"bad port", []string{"-flood-port", "70000"}, exitUsage, 0, false, "port number"},
		{"bad start", []string{"-start", "yesterday"}, exitUsage, 0, false, "-start"},
		{"stray argument", []string{"-packets", "10", "out.pcap"}, exitUsage, 0, false, "-packets describes synthetic traffic"},
		{"tile", []string{"-copies", "3", "-step", "10ms", "-format", "pcap-ns", http}, exitOK, 0xa1b23c4d, false, "129 packets"},
		{"tile missing", []string{"-copies", "3", "missing.pcap"}, exitRun, 0, false, "missing.pcap"},
		{"tile copies", []string{"-copies", "0", http}, exitUsage, 0, false, "copies 0"},
		{"copies alone", []string{"-copies", "2"}, exitUsage, 0, false, "-copies needs capture files"},
		{"invalid config", []string{"-flows", "0"}, exitUsage, 0, false, "invalid config: ConcurrentFlows"},
		{"unwritable", []string{"-packets", "10", "-o", filepath.Join(dir, "missing", "x.pcap")}, exitRun, 0, false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".cap")
			args := tc.args
			if !tc.stdout && !hasFlag(args, "-o") {
				args = append([]string{"-o", out}, args...)
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != tc.code {
				t.Fatalf("run(%q) = %d, want %d; stderr:\n%s", args, code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.errSubstr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", args, stderr.String(), tc.errSubstr)
			}
			if tc.magic == 0 {
				return
			}
			data := stdout.Bytes()
			if !tc.stdout {
				var err error
				if data, err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
				if stdout.Len() != 0 {
					t.Errorf("run(%q) wrote %d bytes to stdout, want none", args, stdout.Len())
				}
			}
			if len(data) < 4 || binary.LittleEndian.Uint32(data) != tc.magic {
				t.Errorf("run(%q) output starts % x, want magic %#x", args, data[:min(4, len(data))], tc.magic)
			}
		})
	}
}

// TestRunDeterministic checks that the command, like the library, gives the
// same bytes for the same flags.
func TestRunDeterministic(t *testing.T) {
	var a, b, stderr bytes.Buffer
	args := []string{"-packets", "2000", "-flows", "20", "-seed", "9", "-ipv6", "0.5"}
	if run(args, &a, &stderr) != exitOK || run(args, &b, &stderr) != exitOK {
		t.Fatalf("run(%q) failed: %s", args, stderr.String())
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two runs with the same flags differ")
	}
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name {
			return true
		}
	}
	return false
}
