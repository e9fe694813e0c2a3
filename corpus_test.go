package jj

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corpusDir is the shared corpus of real captures (see its README.md).
const corpusDir = "/work/shared/pcaps"

// TestCorpus runs every file of the shared capture corpus through the
// pipeline, tunnels opened and not. Each file must either give flows, or
// be rejected by an error that names the file and the problem, or hold
// only frames skipped with a reason; never panic, never take long; and
// opening tunnels must never lose or add a packet.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Skipf("corpus %s absent (%v): skipping", corpusDir, err)
	}
	if testing.Short() {
		t.Skip("-short: skipping the corpus walk")
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "README.md" || strings.HasSuffix(name, ".tsv") {
			continue
		}
		path := filepath.Join(corpusDir, name)
		t.Run(name, func(t *testing.T) {
			var used [2]uint64
			for i, decap := range []bool{true, false} {
				cfg := DefaultConfig()
				cfg.Decapsulate = decap
				type result struct {
					tab *Table
					err error
				}
				done := make(chan result, 1)
				start := time.Now()
				go func() {
					tab, err := NewPipeline(cfg).Process(path)
					done <- result{tab, err}
				}()
				var r result
				select {
				case r = <-done:
				case <-time.After(time.Minute):
					t.Fatalf("decap %v: still running after a minute", decap)
				}
				if r.tab == nil || r.tab.Summary == nil {
					t.Fatalf("decap %v: no summary (error %v)", decap, r.err)
				}
				s := r.tab.Summary
				used[i] = s.Used
				if s.Used+s.SkippedTotal() != s.Packets {
					t.Errorf("decap %v: used %d + skipped %d != %d packets", decap, s.Used, s.SkippedTotal(), s.Packets)
				}
				switch {
				case r.err != nil:
					if msg := r.err.Error(); !strings.Contains(msg, name) || len(msg) < len(path)+8 {
						t.Errorf("decap %v: error %q does not name the file and the problem", decap, msg)
					}
					if decap {
						t.Logf("rejected, %d flows kept: %v", s.Flows, r.err)
					}
				case s.Flows > 0:
					if decap {
						t.Logf("%d packets, %d used, %d flows in %v", s.Packets, s.Used, s.Flows, time.Since(start).Round(time.Millisecond))
					}
				case s.Packets > 0 && s.SkippedTotal() == s.Packets:
					if decap {
						t.Logf("no IP packet: %v", s.Skipped)
					}
				case s.Packets == 0:
					if decap {
						t.Logf("no packet, warnings %q", s.Warnings)
					}
				default:
					t.Errorf("decap %v: %d packets, %d used, no flow and no error", decap, s.Packets, s.Used)
				}
			}
			if used[0] != used[1] {
				t.Errorf("%d packets used with decapsulation, %d without", used[0], used[1])
			}
		})
	}
}
