package jj

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainColumns checks the promise of output.Column.Plain, which lets
// the CSV writer copy a column's text without looking for characters to
// quote: over every capture in testdata, with addresses plain, hashed and
// prefix-preserved, and flow_id on, no value of a Plain column holds a
// comma, a double quote or a line break. It also checks that the columns
// the writer relies on are marked, so that the test cannot pass by
// checking none.
func TestPlainColumns(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "captures", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures in testdata/captures (%v)", err)
	}
	paths = append(paths, filepath.Join("testdata", "sample.pcap"))
	want := map[string]bool{"flow_id": true, "src_ip": true, "dst_ip": true, "dst_port_class": true, "hdr_desc": true}
	for _, mode := range []string{"", "hash", "prefix"} {
		cfg := DefaultConfig()
		cfg.IncludeFlowID = true
		if mode != "" {
			cfg.AnonymizeIPs, cfg.AnonymizeMode, cfg.AnonymizationSalt = true, mode, "salt"
		}
		checked := map[string]int{}
		for _, path := range paths {
			if fi, err := os.Stat(path); err != nil || fi.IsDir() {
				continue
			}
			tab, _ := NewPipeline(cfg).Process(path) // a capture that fails part way still gives its flows
			if tab == nil {
				continue
			}
			for i, c := range tab.Columns {
				if !c.Plain {
					continue
				}
				for _, row := range tab.Rows {
					s, _ := row[i].(string)
					if strings.ContainsAny(s, ",\"\r\n") {
						t.Fatalf("mode %q, %s: Plain column %s holds %q", mode, path, c.Name, s)
					}
					checked[c.Name]++
				}
			}
		}
		for name := range want {
			if checked[name] == 0 {
				t.Errorf("mode %q: no value of %s checked: is it still Plain?", mode, name)
			}
		}
	}
}
