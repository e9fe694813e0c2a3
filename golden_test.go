package jj

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jjflow/jj/output"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCase is one whole-pipeline run compared byte for byte with
// testdata/golden/<name>.<format> and its summary with <name>.summary.
type goldenCase struct {
	name   string
	inputs []string
	format string
	cfg    func(*Config)
}

func goldenCases(t *testing.T) []goldenCase {
	files, err := filepath.Glob("testdata/captures/*")
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 captures in testdata/captures, have %d (%v)", len(files), err)
	}
	var cases []goldenCase
	for _, f := range files {
		cases = append(cases, goldenCase{name: filepath.Base(f), inputs: []string{f}, format: "csv"})
	}
	sample := []string{"testdata/sample.pcap"}
	allGroups := func(c *Config) {
		c.Features, c.IncludeRawSequences, c.IncludeSPLT = []string{"all", "connection"}, true, true
	}
	cases = append(cases,
		goldenCase{name: "sample-flowid-anon", inputs: sample, format: "csv", cfg: func(c *Config) {
			c.IncludeFlowID, c.AnonymizeIPs, c.AnonymizationSalt = true, true, "research-project-2025"
		}},
		goldenCase{name: "sample-no-ips", inputs: sample, format: "csv", cfg: func(c *Config) { c.IncludeIPAddresses = false }},
		goldenCase{name: "sample-no-ports", inputs: sample, format: "jsonl", cfg: func(c *Config) { c.IncludePorts = false }},
		goldenCase{name: "http-short-timeouts", inputs: []string{"testdata/captures/wireshark__http.cap"}, format: "json", cfg: func(c *Config) {
			c.FlowTimeout, c.ActiveTimeout, c.TCPCloseTimeout = 1, 2, 0.5
		}},
		// Outer headers only, as the Python library keys tunnels; the
		// per-packet values are checked against tshark in decode.
		goldenCase{name: "vxlan-no-decap", inputs: []string{"testdata/captures/tcpdump__vxlan.pcap"}, format: "csv", cfg: func(c *Config) { c.Decapsulate = false }},
		// Crypto-PAn is checked against its reference vectors in extract.
		goldenCase{name: "sample-prefix-anon", inputs: sample, format: "csv", cfg: func(c *Config) {
			c.AnonymizeIPs, c.AnonymizeMode, c.AnonymizationSalt = true, "prefix", "research-project-2025"
		}},
		goldenCase{name: "directory", inputs: []string{"testdata/captures"}, format: "csv", cfg: func(c *Config) { c.IncludeFlowID = true }},
		// Every feature group with the raw and SPLT sequences, on captures
		// whose timing, size and tcp columns TestTsharkExtractorsCrossCheck
		// recomputes from tshark (Ethernet IPv4, pcapng, IPv6).
		goldenCase{name: "all-sample", inputs: sample, format: "jsonl", cfg: allGroups},
		goldenCase{name: "all-http", inputs: []string{"testdata/captures/wireshark__http.cap"}, format: "jsonl", cfg: allGroups},
		goldenCase{name: "all-z3950-pcapng", inputs: []string{"testdata/captures/nfstream__z3950.pcapng"}, format: "jsonl", cfg: allGroups},
		goldenCase{name: "all-v6-http", inputs: []string{"testdata/captures/wireshark__v6-http.cap"}, format: "jsonl", cfg: allGroups},
	)
	return cases
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			p := NewPipeline(cfg)
			schema, err := p.Schema()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := output.NewWriter(c.format, &buf, schema)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := p.Run(c.inputs, w)
			if sum == nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata/golden", c.name+"."+c.format), buf.Bytes())
			compareGolden(t, filepath.Join("testdata/golden", c.name+".summary"), []byte(goldenSummary(sum, err)))
		})
	}
}

// goldenSummary is the summary without the wall-clock time.
func goldenSummary(s *Summary, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "files %d\npackets %d\nused %d\nflows %d\n", len(s.Inputs), s.Packets, s.Used, s.Flows)
	var reasons []string
	for r, n := range s.Skipped {
		reasons = append(reasons, fmt.Sprintf("skipped %d: %s\n", n, r))
	}
	sort.Strings(reasons)
	b.WriteString(strings.Join(reasons, ""))
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}
