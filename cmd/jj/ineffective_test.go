package main

import (
	"strings"
	"testing"

	"github.com/jjflow/jj"
)

// Each option that needs a feature group or another option warns without
// it, and only then; an anonymization mode without anonymize_ips is an
// error.
func TestCheckEffective(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*jj.Config)
		warn string // a substring of the one warning expected; "" for none
	}{
		{"defaults", func(*jj.Config) {}, ""},
		{"sequences without timing or size", func(c *jj.Config) { c.IncludeRawSequences = true }, "--include-sequences"},
		{"sequences with size", func(c *jj.Config) { c.IncludeRawSequences = true; c.Features = []string{"size"} }, ""},
		{"splt with size only", func(c *jj.Config) { c.IncludeSPLT = true; c.Features = []string{"size"} }, "--include-splt"},
		{"splt with all", func(c *jj.Config) { c.IncludeSPLT = true; c.Features = []string{"all"} }, ""},
		{"burst without timing", func(c *jj.Config) { c.BurstThresholdMs = 10 }, "--burst-threshold-ms"},
		{"burst with timing", func(c *jj.Config) { c.BurstThresholdMs = 10; c.Features = []string{"flow_meta,timing"} }, ""},
		{"sequence length without sequences", func(c *jj.Config) { c.MaxSequenceLength = 5; c.Features = []string{"all"} }, "--max-sequence-length"},
		{"sequence length with splt", func(c *jj.Config) { c.MaxSequenceLength = 5; c.IncludeSPLT = true; c.Features = []string{"timing"} }, ""},
		{"connection option without connection", func(c *jj.Config) { c.ConnectionTemporal = true; c.Features = []string{"all"} }, "--connection-temporal"},
		{"connection option with connection", func(c *jj.Config) { c.ConnectionUsePorts = true; c.Features = []string{"connection"} }, ""},
		{"salt alone", func(c *jj.Config) { c.AnonymizationSalt = "x" }, "--salt"},
		{"salt with flow id", func(c *jj.Config) { c.AnonymizationSalt = "x"; c.IncludeFlowID = true }, ""},
		{"prefix mode with anonymize_ips", func(c *jj.Config) { c.AnonymizeMode = "prefix"; c.AnonymizeIPs = true; c.AnonymizationSalt = "x" }, ""},
		{"anonymize without a salt (the run's summary warns)", func(c *jj.Config) { c.AnonymizeIPs = true }, ""},
		{"anonymize without a salt nor flow_meta", func(c *jj.Config) { c.AnonymizeIPs = true; c.Features = []string{"timing"} }, "--anonymize-ips (anonymize_ips) has no effect"},
		{"prefix mode from a config, anonymize_ips off", func(c *jj.Config) { c.AnonymizeMode = "prefix" }, "--anonymize-mode"},
		{"no ips without flow_meta", func(c *jj.Config) { c.IncludeIPAddresses = false; c.Features = []string{"timing"} }, "--no-ips"},
		{"no ports without flow_meta", func(c *jj.Config) { c.IncludePorts = false; c.Features = []string{"tcp"} }, "--no-ports"},
		{"flow id without flow_meta", func(c *jj.Config) { c.IncludeFlowID = true; c.Features = []string{"size"} }, "--include-flow-id"},
		{"flow id and salt with all", func(c *jj.Config) { c.IncludeFlowID = true; c.AnonymizationSalt = "x"; c.Features = []string{"all"} }, ""},
		{"anonymize without the address columns", func(c *jj.Config) {
			c.AnonymizeIPs = true
			c.AnonymizationSalt = "x"
			c.IncludeIPAddresses = false
			c.IncludeFlowID = true
		}, "--anonymize-ips"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := jj.DefaultConfig()
			c.set(&cfg)
			warnings, err := checkEffective(cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			if c.warn == "" && len(warnings) != 0 || c.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], c.warn)) {
				t.Errorf("warnings %q, want one naming %q", warnings, c.warn)
			}
		})
	}
	cfg := jj.DefaultConfig()
	cfg.AnonymizeMode = "prefix"
	if _, err := checkEffective(cfg, true); err == nil || !isUsage(err) {
		t.Errorf("--anonymize-mode prefix without anonymize_ips: error %v, want a usage error", err)
	}
	// From the command line: the warning reaches standard error, and -q
	// keeps it off.
	code, _, errs := runJJ(t, nil, "extract", sample, "--include-splt", "-o", t.TempDir()+"/out.csv")
	if code != 0 || !strings.Contains(errs, "jj: warning: --include-splt (include_splt) has no effect without the timing features") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, _, errs = runJJ(t, nil, "extract", sample, "--include-splt", "-q", "-o", t.TempDir()+"/out.csv"); errs != "" {
		t.Errorf("-q: stderr %q", errs)
	}
	// Anonymization without a salt: the summary's warning, once.
	code, _, errs = runJJ(t, nil, "extract", sample, "--anonymize-ips", "-o", t.TempDir()+"/out.csv")
	if code != 0 || strings.Count(errs, "jj: warning: anonymize_ips (--anonymize-ips) without anonymization_salt (--salt): IPv4 hashes can be reversed") != 1 {
		t.Errorf("--anonymize-ips without --salt: exit %d, stderr %q", code, errs)
	}
	for _, mode := range []string{"prefix", "hash"} { // hash, the default, too
		if code, _, errs = runJJ(t, nil, "extract", sample, "--anonymize-mode", mode); code != 2 || !strings.Contains(errs, "--anonymize-ips") {
			t.Errorf("--anonymize-mode %s alone: exit %d, stderr %q", mode, code, errs)
		}
	}
	// A config's anonymization switched off on the command line: its mode
	// is then only warned of, and the addresses are written as they are.
	conf := writeFile(t, "anon.yaml", []byte("anonymize_ips: true\nanonymize_mode: prefix\nanonymization_salt: x\n"))
	code, out, errs := runJJ(t, nil, "extract", sample, "-c", conf, "--anonymize-ips=false")
	if code != 0 || !strings.Contains(out, "192.168.1.100,93.184.216.34,") || !strings.Contains(errs, "--anonymize-mode (anonymize_mode) has no effect") {
		t.Errorf("--anonymize-ips=false over a config: exit %d, stderr %q", code, errs)
	}
}
