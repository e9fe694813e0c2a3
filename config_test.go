package jj

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jjflow/jj/extract"
)

// Config files: features and columns as a list or one comma-separated
// string, and
// errors worded for users (the key or value at fault and what it should
// be, with its line), not in yaml.v3's Go terms.
func TestParseConfig(t *testing.T) {
	for _, c := range []struct {
		name, text string
		features   []string // when it parses
		err        string   // the whole message otherwise
	}{
		{"list", "features: [flow_meta, timing]\n", []string{"flow_meta", "timing"}, ""},
		{"comma-separated string", "features: flow_meta,timing\ninclude_flow_id: true\n", []string{"flow_meta,timing"}, ""},
		{"JSON string", `{"features": "size", "flow_timeout": 3}`, []string{"size"}, ""},
		{"unknown key", "flow_timeout: 3\nbogus_key: 1\n", nil, "config c.yaml: line 2: unknown option bogus_key: invalid option"},
		{"not a number", "flow_timeout: abc\n", nil, "config c.yaml: line 1: value `abc` is not a number: invalid option"},
		{"not a bool", "include_flow_id: maybe\n", nil, "config c.yaml: line 1: value `maybe` is not true or false: invalid option"},
		{"list for a number", "flow_timeout: [1]\n", nil, "config c.yaml: line 1: a list is not a number: invalid option"},
		{"string for columns", "columns: src_ip,protocol\n", []string{"flow_meta"}, ""},
		{"string features and columns on one line", `{"features": "size", "columns": "src_ip", "flow_timeout": "x"}`, nil, "config c.yaml: line 1: value `x` is not a number: invalid option"},
		{"a number for columns", "columns: 3\nfeatures: 4\n", nil, "config c.yaml: line 1: value `3` is not a list; line 2: value `4` is not a list: invalid option"},
		{"a misspelt key", "flow_timout: 3\n", nil, "config c.yaml: line 1: unknown option flow_timout (did you mean flow_timeout?): invalid option"},
		{"a list, not a mapping", "- flow_meta\n", nil, "config c.yaml: line 1: a list is not a mapping of options (key: value): invalid option"},
		{"string features and an unknown key", "features: size\nbogus: 1\n", nil, "config c.yaml: line 2: unknown option bogus: invalid option"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.text), "c.yaml", DefaultConfig())
			if c.err != "" {
				if err == nil || err.Error() != c.err || !errors.Is(err, ErrConfig) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Features, c.features) {
				t.Errorf("features %q, want %q", cfg.Features, c.features)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	cfg, err := ParseConfig([]byte("features: flow_meta,timing\ninclude_flow_id: true\nflow_timeout: 30\n"), "c.yaml", DefaultConfig())
	if err != nil || !cfg.IncludeFlowID || cfg.FlowTimeout != 30 {
		t.Errorf("the other keys beside a string features: %+v, %v", cfg, err)
	}
	// Columns as one string: a list of that string, which the run splits
	// at commas as it splits --feature's.
	cfg, err = ParseConfig([]byte("columns: src_ip, protocol\n"), "c.yaml", DefaultConfig())
	if err != nil || !slices.Equal(cfg.Columns, []string{"src_ip, protocol"}) {
		t.Errorf("columns as a string: %q, %v", cfg.Columns, err)
	}
	pl, err := NewPipeline(cfg).plan()
	if err != nil || len(pl.out) != 2 || pl.out[0].Name != "src_ip" || pl.out[1].Name != "protocol" {
		t.Errorf("columns as a string: plan %v", err)
	}
	// An empty name is refused, as --feature refuses it.
	for _, text := range []string{"columns: [\"\"]\n", "columns: src_ip,,protocol\n"} {
		cfg, err := ParseConfig([]byte(text), "c.yaml", DefaultConfig())
		if err == nil {
			_, err = NewPipeline(cfg).plan()
		}
		if err == nil {
			t.Errorf("%q: accepted", text)
		}
	}
}

// Rereadable: regular files and directories can be read twice, standard
// input and devices cannot; a missing path is left to the run to report.
func TestRereadable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.pcap")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]bool{"-": false, file: true, dir: true, filepath.Join(dir, "nope"): true, os.DevNull: false} {
		if got := Rereadable(in); got != want {
			t.Errorf("Rereadable(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestReferenceDefaults checks that the features reference's marks fit
// DefaultConfig: the columns it does not mark as asked for are the
// columns the default options write, in every group.
func TestReferenceDefaults(t *testing.T) {
	cfg := DefaultConfig()
	opts := cfg.options()
	for _, g := range extract.Registry {
		var want []string
		for _, c := range g.New(opts).Columns() {
			want = append(want, c.Name)
		}
		var got []string
		for _, line := range strings.Split(extract.ColumnTable(g), "\n") {
			name, _, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` |")
			if ok && strings.HasPrefix(line, "| `") && !strings.Contains(line, "(written only with `") {
				got = append(got, name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: reference's default columns %q, DefaultConfig's %q", g.Name, got, want)
		}
	}
}

// A config file is one document: what follows the first YAML document or
// JSON object is refused, naming the line where it starts, rather than
// ignored (unknown keys and invalid values included). An empty document
// after it (a "---" alone, or with comments) holds nothing to ignore.
func TestParseConfigOneDocument(t *testing.T) {
	const second = "a second document starts here, but a config file is one YAML document or JSON object: invalid option"
	for _, c := range []struct {
		name, text string
		line       int // of the second document; 0 when the file parses
	}{
		{"two JSON objects on a line", `{"features": ["timing"]} {"bogus": 1}`, 1},
		{"two JSON objects on two lines", "{\"features\": [\"timing\"]}\n{\"flow_timeout\": -1}\n", 2},
		{"a JSON object after a blank line", "{\"features\": [\"timing\"]}\n\n  {\"flow_timeout\": -1}\n", 3},
		{"a JSON list after an object", "{\"features\": [\"timing\"]}\n[1]\n", 2},
		{"two YAML documents", "features: [timing]\n---\nfeatures: [size]\n", 2},
		{"two explicit YAML documents", "# jj\n---\nfeatures: [timing]\n\n--- # more\nfeatures: [size]\n", 5},
		{"an empty second document", "features: [timing]\n---\n", 0},
		{"a second document of comments only", "features: [timing]\n---\n# nothing\n--- \n", 0},
		{"a second document of null", "features: [timing]\n---\n~\n", 2},
		{"a third document after an empty one", "features: [timing]\n---\n---\nfeatures: [size]\n", 3},
		{"a second document that does not parse", "features: [timing]\n---\nfeatures: [size\n", 2},
		{"a second document after an invalid first", "flow_timeout: abc\n---\nflow_timeout: 3\n", 2},
		{"a leading document marker", "---\nfeatures: [timing]\n", 0},
		{"a document end marker", "features: [timing]\n...\n# the end\n", 0},
		{"comments after a JSON object", "{\"features\": [\"timing\"]}\n# the end\n\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.text), "c.yaml", DefaultConfig())
			if c.line == 0 {
				if err != nil || !slices.Equal(cfg.Features, []string{"timing"}) {
					t.Errorf("features %q, error %v; want [timing]", cfg.Features, err)
				}
				return
			}
			want := fmt.Sprintf("config c.yaml: line %d: %s", c.line, second)
			if err == nil || err.Error() != want || !errors.Is(err, ErrConfig) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// A whole-number key takes a whole number, as its flag does: a fraction
// is refused, not cut (max_concurrent_flows: 0.5 was 0, unlimited; 1.9
// was 1). 2.0 and 1e1 are whole. Every int field of Config is tried.
func TestParseConfigWholeNumbers(t *testing.T) {
	typ := reflect.TypeFor[Config]()
	n := 0
	for i := range typ.NumField() {
		if typ.Field(i).Type.Kind() != reflect.Int {
			continue
		}
		n++
		key := typ.Field(i).Tag.Get("yaml")
		for _, v := range []string{"0.5", "-0.5", "1.9", "3.7", "2.5e0", "1.0000000000000001", "1_0.5", ".inf", "-.inf"} {
			for _, text := range []string{fmt.Sprintf("%s: %s\n", key, v), fmt.Sprintf(`{"flow_timeout": 3, %q: %s}`, key, v)} {
				want := fmt.Sprintf("config c.yaml: line 1: %s: value `%s` is not a whole number: invalid option", key, v)
				if _, err := ParseConfig([]byte(text), "c.yaml", DefaultConfig()); err == nil || err.Error() != want || !errors.Is(err, ErrConfig) {
					t.Errorf("%q: error %v, want %q", text, err, want)
				}
			}
		}
		for v, want := range map[string]int64{"2": 2, "2.0": 2, "1e1": 10, "20.0e-1": 2} {
			text := fmt.Sprintf("%s: %s\n", key, v)
			cfg, err := ParseConfig([]byte(text), "c.yaml", DefaultConfig())
			if got := reflect.ValueOf(cfg).Field(i).Int(); err != nil || got != want {
				t.Errorf("%q: %s = %d, error %v; want %d", text, key, got, err, want)
			}
		}
	}
	if n < 3 {
		t.Errorf("%d int fields in Config, want max_concurrent_flows, max_sequence_length and workers at least", n)
	}
	// With other problems, in the order of their lines.
	text := "workers: 1.5\nflow_timeout: abc\nmax_sequence_length: 3.7\n"
	want := "config c.yaml: line 1: workers: value `1.5` is not a whole number; line 2: value `abc` is not a number; line 3: max_sequence_length: value `3.7` is not a whole number: invalid option"
	if _, err := ParseConfig([]byte(text), "c.yaml", DefaultConfig()); err == nil || err.Error() != want {
		t.Errorf("%q: error %v, want %q", text, err, want)
	}
}

// A quoted value is a string, which a boolean or number key does not
// take (the README's keys are typed, and in JSON "true" is a string): the
// message says so when the value would do without its quotes, where
// yaml.v3's own said "value `true` is not true or false".
func TestParseConfigQuoted(t *testing.T) {
	for _, c := range []struct {
		name, text string
		err        string // after "config c.yaml: line 1: ", before ": invalid option"
	}{
		{"a boolean", `include_flow_id: "true"`, "include_flow_id: value `\"true\"` is a string, not true or false (leave out the quotes)"},
		{"a boolean in JSON", `{"include_flow_id": "false"}`, "include_flow_id: value `\"false\"` is a string, not true or false (leave out the quotes)"},
		{"single quotes", `decapsulate: 'false'`, "decapsulate: value `'false'` is a string, not true or false (leave out the quotes)"},
		{"a number", `flow_timeout: "60"`, "flow_timeout: value `\"60\"` is a string, not a number (leave out the quotes)"},
		{"a long number", `{"active_timeout": "1.000000000001"}`, "active_timeout: value `\"1.000000000001\"` is a string, not a number (leave out the quotes)"},
		{"a whole number", `workers: "2"`, "workers: value `\"2\"` is a string, not a whole number (leave out the quotes)"},
		{"a tagged string", `flow_timeout: !!str 60`, "flow_timeout: value `!!str 60` is a string, not a number (leave out the tag)"},
		{"with an unknown key", `{"flow_timeout": "60", "bogus": 1}`, "flow_timeout: value `\"60\"` is a string, not a number (leave out the quotes); line 1: unknown option bogus"},
		// Quotes or not, these are wrong: yaml.v3's messages stay.
		{"not a boolean", `include_flow_id: "maybe"`, "value `maybe` is not true or false"},
		{"not a number", `flow_timeout: "abc"`, "value `abc` is not a number"},
		{"a fraction", `workers: "1.5"`, "value `1.5` is not a whole number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := "config c.yaml: line 1: " + c.err + ": invalid option"
			if _, err := ParseConfig([]byte(c.text), "c.yaml", DefaultConfig()); err == nil || err.Error() != want || !errors.Is(err, ErrConfig) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// A timeout past 1e9 seconds (whose nanoseconds would near int64's
// limit) is refused with the limit in the message: "> 0" alone read as
// though 9.3e9 were not above 0.
func TestValidateTimeoutLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FlowTimeout = 9.3e9
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "at most 1e9") {
		t.Errorf("flow timeout 9.3e9 s: %v; want an error giving the limit", err)
	}
	cfg.FlowTimeout = 1e9
	if err := cfg.Validate(); err != nil {
		t.Errorf("flow timeout 1e9 s: %v; want it taken", err)
	}
}

// TestUnknownColumnSaysWhere checks that a --feature column the run does
// not write is refused with where it comes from: a group not selected, or
// an option that writes it or leaves it out.
func TestUnknownColumnSaysWhere(t *testing.T) {
	for _, tt := range []struct {
		features []string
		noIPs    bool
		column   string
		want     string
	}{
		{nil, false, "flow_id", "flow_id is written only with `--include-flow-id`, `include_flow_id: true`"},
		{nil, true, "src_ip", "src_ip is left out by `--no-ips`, `include_ip_addresses: false`"},
		{[]string{"timing"}, false, "src_ip", "src_ip is flow_meta's, which the features option (--features) does not select"},
		{nil, false, "tcp_flags_fwd", "tcp_flags_fwd is tcp's, which the features option (--features) does not select"},
		{nil, false, "no_such_column", "a column of the selected feature groups (see jj features)"},
	} {
		cfg := DefaultConfig()
		if tt.features != nil {
			cfg.Features = tt.features
		}
		cfg.IncludeIPAddresses = !tt.noIPs
		cfg.Columns = []string{tt.column}
		_, err := NewPipeline(cfg).Schema()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v, --feature %s: %v; want %q", tt.features, tt.column, err, tt.want)
		}
	}
}

// TestUnknownGroupIsOptionError checks that an unknown feature group is an
// *OptionError, as every other bad option is, naming the group.
func TestUnknownGroupIsOptionError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Features = []string{"timing", " NoPe"}
	err := cfg.Validate()
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Option != "features" || oe.Value != `"NoPe"` || !errors.Is(err, ErrConfig) || !strings.Contains(oe.Want, "timing") {
		t.Errorf("Validate = %#v; want an *OptionError of features naming \"NoPe\" as written", err)
	}
}

// TestSubNanosecondDurations checks that a positive duration below half a
// nanosecond is on, as asked, and not rounded to 0 (off for the active
// timeout): sample.pcap's 18 packets then make 18 flows, as with 1 ns,
// where an active timeout of 0 (off) gives its 3 flows.
func TestSubNanosecondDurations(t *testing.T) {
	for s, want := range map[float64]int64{0: 0, 1e-10: 1, 4e-10: 1, 6e-10: 1, 1e-9: 1, 1.4e-9: 1, 1.6e-9: 2} {
		if got := nanos(s); got != want {
			t.Errorf("nanos(%v) = %d, want %d", s, got, want)
		}
	}
	for at, want := range map[float64]int{0: 3, 1e-10: 18, 1e-9: 18} {
		cfg := DefaultConfig()
		cfg.ActiveTimeout = at
		tab, err := Extract("testdata/sample.pcap", cfg)
		if err != nil || len(tab.Rows) != want {
			t.Errorf("active timeout %v: %v, %d flows; want %d", at, err, len(tab.Rows), want)
		}
	}
}

// TestSaltWarning checks the warning the spec asks for (flow-meta.md §5)
// when IP addresses are anonymized with an empty salt: in the run's
// summary, for the library as for the command line, and only when an
// address column is written.
func TestSaltWarning(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Config)
		warn bool
	}{
		{"anonymized, no salt", func(c *Config) { c.AnonymizeIPs = true }, true},
		{"prefix mode, no salt", func(c *Config) { c.AnonymizeIPs, c.AnonymizeMode = true, "prefix" }, true},
		{"anonymized, a salt", func(c *Config) { c.AnonymizeIPs, c.AnonymizationSalt = true, "s" }, false},
		{"not anonymized", func(c *Config) {}, false},
		{"no address columns", func(c *Config) { c.AnonymizeIPs, c.IncludeIPAddresses = true, false }, false},
		{"address columns not selected", func(c *Config) { c.AnonymizeIPs, c.Columns = true, []string{"total_packets"} }, false},
		{"one address column selected", func(c *Config) { c.AnonymizeIPs, c.Columns = true, []string{"dst_ip"} }, true},
	} {
		cfg := DefaultConfig()
		c.set(&cfg)
		tab, err := Extract("testdata/sample.pcap", cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := slices.Contains(tab.Summary.Warnings, saltWarning); got != c.warn {
			t.Errorf("%s: warnings %q; want the salt's: %v", c.name, tab.Summary.Warnings, c.warn)
		}
	}
}
