package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/internal/testpkt"
)

// runJJ runs the real command tree and returns exit code, stdout, stderr.
func runJJ(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const sample = "../../testdata/sample.pcap"

func TestExtractCSV(t *testing.T) {
	code, out, errs := runJJ(t, nil, "extract", sample, "--features", "flow_meta", "-q")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// The sample holds 3 flows (checked against tshark in the root package).
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "src_ip,dst_ip,src_port,") {
		t.Errorf("output = %q", out)
	}
}

func TestExtractOptions(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.jsonl")
	code, _, errs := runJJ(t, nil, "extract", sample, "--include-flow-id", "--anonymize-ips", "--salt", "s", "--no-ports", "--timeout", "30", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, _ := os.ReadFile(out)
	first := strings.SplitN(string(data), "\n", 2)[0]
	if !strings.HasPrefix(first, `{"flow_id":"`) || strings.Contains(first, "src_port") || strings.Contains(first, "192.168.") {
		t.Errorf("first JSONL row = %s", first)
	}
	if !strings.Contains(errs, "3 flows written") {
		t.Errorf("summary = %q, want the flow count", errs)
	}
}

func TestStdin(t *testing.T) {
	data, _ := os.ReadFile(sample)
	code, out, _ := runJJ(t, data, "extract", "-", "-q", "-f", "json")
	if code != 0 || !strings.HasPrefix(out, "[\n{") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

// Standard input, which cannot be read twice, takes the causal
// connection scope by default (a file takes capture, which looks at the
// whole input); an explicit capture scope is an option error there.
func TestStdinConnectionScope(t *testing.T) {
	data, _ := os.ReadFile(sample)
	// The sample's first flow is the first of three its source starts
	// (tshark: 192.168.1.100 to 93.184.216.34 until 0.21 s, then to
	// 8.8.8.8 at 0.5 s and 10.0.0.1 at 1.0 s): causal counts one
	// destination, capture all three.
	first := func(args ...string) string {
		t.Helper()
		code, out, errs := runJJ(t, data, append([]string{"extract", "-q", "--features", "connection", "--feature", "conn_src_unique_dsts"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return strings.Split(out, "\n")[1]
	}
	if got := first("-"); got != "1" {
		t.Errorf("standard input: conn_src_unique_dsts %q, want 1 (causal)", got)
	}
	if got := first(sample); got != "3" {
		t.Errorf("file: conn_src_unique_dsts %q, want 3 (capture)", got)
	}
	if got := first("-", "--connection-scope", "causal"); got != "1" {
		t.Errorf("standard input, causal: %q", got)
	}
	code, _, errs := runJJ(t, data, "extract", "-", "-q", "--features", "connection", "--connection-scope", "capture")
	if code != 2 || !strings.Contains(errs, "connection_scope") {
		t.Errorf("standard input, capture: exit %d, stderr %q", code, errs)
	}
	// Graph metrics need the capture scope, but only with the connection
	// features: without them the option is merely warned of.
	code, _, errs = runJJ(t, data, "extract", "-", "--connection-graph-metrics", "-o", filepath.Join(t.TempDir(), "out.csv"))
	if code != 0 || !strings.Contains(errs, "--connection-graph-metrics (connection_graph_metrics) has no effect") {
		t.Errorf("standard input, graph metrics without connection: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runJJ(t, data, "extract", "-", "-q", "--features", "connection", "--connection-graph-metrics")
	if code != 2 || !strings.Contains(errs, "graph metrics need the whole capture") {
		t.Errorf("standard input, graph metrics: exit %d, stderr %q", code, errs)
	}
}

func TestConfigFile(t *testing.T) {
	cfg := writeFile(t, "jj.yaml", []byte("include_flow_id: true\ninclude_ip_addresses: false\nflow_timeout: 30\n"))
	code, out, errs := runJJ(t, nil, "extract", sample, "-c", cfg, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(out, "flow_id,src_port,") {
		t.Errorf("header = %q", strings.SplitN(out, "\n", 2)[0])
	}
	cfg = writeFile(t, "jj.json", []byte(`{"include_ports": false}`))
	if code, out, _ = runJJ(t, nil, "extract", sample, "-c", cfg, "-q"); code != 0 || !strings.HasPrefix(out, "src_ip,dst_ip,protocol,") {
		t.Errorf("JSON config: exit %d, header %q", code, strings.SplitN(out, "\n", 2)[0])
	}
}

// A bad config file is a usage error (exit 2) of one line, naming the
// file, the line and the problem, before any input is read.
func TestConfigFileErrors(t *testing.T) {
	for _, c := range []struct {
		name, file, text string
		msg              []string // substrings of the error line
	}{
		{"two JSON objects", "two.json", `{"features": ["timing"]} {"bogus": 1}`, []string{"line 1:", "second document"}},
		{"two YAML documents", "two.yaml", "features: [timing]\n---\nfeatures: [size]\n", []string{"line 2:", "second document"}},
		{"an invalid value in a second object", "bad.json", "{\"features\": [\"timing\"]}\n{\"flow_timeout\": -1}\n", []string{"line 2:", "second document"}},
		{"a fraction of a flow", "flows.yaml", "max_concurrent_flows: 0.5\n", []string{"line 1:", "max_concurrent_flows", "0.5", "not a whole number"}},
		{"a fraction of a worker", "workers.json", `{"workers": 1.5}`, []string{"line 1:", "workers", "1.5", "not a whole number"}},
		{"a quoted boolean", "flowid.yaml", "include_flow_id: \"true\"\n", []string{"line 1:", "include_flow_id", `"true"`, "is a string, not true or false"}},
		{"a quoted number", "timeout.json", `{"flow_timeout": "60"}`, []string{"line 1:", "flow_timeout", `"60"`, "is a string, not a number"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeFile(t, c.file, []byte(c.text))
			code, out, errs := runJJ(t, nil, "extract", sample, "-q", "-c", cfg)
			first, _, _ := strings.Cut(errs, "\n")
			if code != 2 || out != "" || !strings.HasPrefix(first, "jj: config "+cfg+": ") {
				t.Errorf("exit %d, %d bytes out, stderr %q; want 2, none, the config's name", code, len(out), errs)
			}
			for _, m := range c.msg {
				if !strings.Contains(first, m) {
					t.Errorf("error %q does not mention %q", first, m)
				}
			}
		})
	}
}

// A boolean flag overrides the config file either way: =false switches
// off what the file switched on, and a bare flag switches on what it
// switched off.
func TestFlagsOverrideConfigBooleans(t *testing.T) {
	cfg := writeFile(t, "on.yaml", []byte("include_flow_id: true\ninclude_ip_addresses: false\nanonymize_ips: true\nanonymization_salt: x\n"))
	header := func(args ...string) string {
		t.Helper()
		code, out, errs := runJJ(t, nil, append([]string{"extract", sample, "-c", cfg, "-q"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return strings.SplitN(out, "\n", 2)[0]
	}
	if h := header(); !strings.HasPrefix(h, "flow_id,src_port,") {
		t.Fatalf("config alone: header %q", h)
	}
	if h := header("--include-flow-id=false", "--no-ips=false"); !strings.HasPrefix(h, "src_ip,dst_ip,src_port,") {
		t.Errorf("--include-flow-id=false --no-ips=false: header %q", h)
	}
	// anonymize_ips from the file, switched off: the sample's real
	// addresses come back.
	_, anon, _ := runJJ(t, nil, "extract", sample, "-c", cfg, "-q", "--no-ips=false")
	_, plain, _ := runJJ(t, nil, "extract", sample, "-c", cfg, "-q", "--no-ips=false", "--anonymize-ips=false")
	if strings.Contains(anon, "192.168.1.100") {
		t.Errorf("config's anonymize_ips not applied:\n%s", anon)
	}
	if !strings.Contains(plain, "192.168.1.100,93.184.216.34,") {
		t.Errorf("--anonymize-ips=false kept the config's anonymization:\n%s", plain)
	}
}

// Each bad input gives one line naming the file or option, and the
// documented exit code; usage errors read nothing.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, "empty.pcap", nil)
	text := writeFile(t, "notes.pcap", []byte("this is not a capture\n"))
	full, _ := os.ReadFile(sample)
	cut := writeFile(t, "cut.pcap", full[:len(full)-10])
	link := writeFile(t, "link160.pcap", func() []byte {
		b := testpkt.Pcap(testpkt.Frame{Src: testpkt.Addr("10.0.0.1"), Dst: testpkt.Addr("10.0.0.2"), Proto: 17})
		b[20] = 160
		return b
	}())
	// A pcapng section header block whose length says 4 GB.
	lying := writeFile(t, "lying.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a, 0xf0, 0xff, 0xff, 0xff, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	cases := []struct {
		name string
		args []string
		code int
		msg  []string // substrings of stderr
	}{
		{"missing file", []string{"extract", filepath.Join(dir, "nope.pcap")}, 1, []string{"nope.pcap"}},
		{"empty dir", []string{"extract", dir}, 1, []string{dir, "no capture"}},
		{"text file", []string{"extract", text}, 1, []string{"notes.pcap", "not a pcap"}},
		{"zero bytes", []string{"extract", empty}, 1, []string{"empty.pcap", "empty"}},
		{"unsupported link type", []string{"extract", link}, 1, []string{"link160.pcap", "link type 160"}},
		{"lying block length", []string{"extract", lying}, 1, []string{"lying.pcapng"}},
		{"cut file is a warning", []string{"extract", cut}, 0, []string{"cut.pcap", "warning", "cut off"}},
		{"unknown group", []string{"extract", sample, "--features", "bogus"}, 2, []string{"bogus", "flow_meta"}},
		{"negative timeout", []string{"extract", sample, "--timeout", "-1"}, 2, []string{"flow_timeout"}},
		{"empty features", []string{"extract", sample, "--features", ""}, 2, []string{"option features (--features)", `""`}},
		{"empty column", []string{"extract", sample, "--feature", " , "}, 2, []string{"option columns (--feature)", `""`}},
		{"unknown column", []string{"extract", sample, "--feature", "nosuchcol"}, 2, []string{"option columns (--feature)", `"nosuchcol"`}},
		{"unknown column in a config", []string{"extract", sample, "-c", writeFile(t, "cols.yaml", []byte("columns: [x]\n"))}, 2, []string{"option columns (--feature)", `"x"`}},
		{"too many decoders", []string{"extract", sample, "--decoders", "65"}, 2, []string{"decoders", "65", "up to 64"}},
		{"unknown format", []string{"extract", sample, "-f", "xml"}, 2, []string{"xml", "csv"}},
		{"unknown flag", []string{"extract", sample, "--bogus"}, 2, []string{"--bogus"}},
		{"no input", []string{"extract"}, 2, []string{"INPUT"}},
		{"bad config key", []string{"extract", sample, "-c", writeFile(t, "bad.yaml", []byte("flow_timeot: 3\n"))}, 2, []string{"bad.yaml", "flow_timeot"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runJJ(t, nil, append(c.args, "-o", filepath.Join(t.TempDir(), "out.csv"))...)
			if code != c.code {
				t.Errorf("exit = %d, want %d (stderr %q)", code, c.code, errs)
			}
			for _, m := range c.msg {
				if !strings.Contains(errs, m) {
					t.Errorf("stderr %q does not mention %q", errs, m)
				}
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine") {
				t.Errorf("stderr has a stack trace: %s", errs)
			}
		})
	}
}

// An output that is an input is refused before it is created, which
// would empty the capture: named as a file, through another path to it,
// as a capture of an input directory, or as the file standard input is
// redirected from, or standard output redirected to the capture; so is
// standard input named twice.
func TestOutputIsInput(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "cap.pcap")
	if err := os.WriteFile(capFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.pcap")
	if err := os.Symlink(capFile, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"same path", []string{capFile, "-o", capFile}},
		{"symbolic link", []string{link, "-o", capFile}},
		{"in an input directory", []string{sample, dir, "-o", capFile}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runJJ(t, nil, append([]string{"extract"}, c.args...)...)
			if code != 2 || !strings.Contains(errs, "cap.pcap") || !strings.Contains(errs, "refusing to write to it") {
				t.Errorf("exit %d, stderr %q", code, errs)
			}
			if now, _ := os.ReadFile(capFile); !bytes.Equal(now, data) {
				t.Fatalf("the capture was changed (%d bytes, was %d)", len(now), len(data))
			}
		})
	}
	code, _, errs := runJJ(t, data, "extract", "-", "-")
	if code != 2 || !strings.Contains(errs, "standard input") {
		t.Errorf("stdin twice: exit %d, stderr %q", code, errs)
	}
	// A capture named twice, by any path, would count twice in its
	// flows; a copy of it is another capture.
	cp := filepath.Join(t.TempDir(), "copy.pcap")
	if err := os.WriteFile(cp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{capFile, capFile}, "input " + capFile + " is named twice"},
		{[]string{capFile, link}, "input " + link + " is also the input " + capFile},
		{[]string{dir, capFile}, "is named twice"},
		{[]string{"-", capFile}, "input " + capFile + " is also the input standard input (-)"},
	} {
		in, err := os.Open(capFile)
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run(append([]string{"extract"}, c.args...), in, &out, &errb)
		in.Close()
		if code != 2 || !strings.Contains(errb.String(), c.want) || out.Len() > 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
	if code, _, errs := runJJ(t, nil, "extract", capFile, cp, "-o", filepath.Join(t.TempDir(), "two.csv")); code != 0 {
		t.Errorf("a capture and its copy: exit %d, stderr %q", code, errs)
	}
	// Standard input redirected from the capture: jj extract - -o
	// cap.pcap < cap.pcap. (A pipe of it is another file, and fine.)
	in, err := os.Open(capFile)
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	code = run([]string{"extract", "-", "-o", capFile}, in, io.Discard, &errb)
	in.Close()
	if code != 2 || !strings.Contains(errb.String(), "is the input standard input (-): refusing to write to it") {
		t.Errorf("stdin redirected from the output: exit %d, stderr %q", code, errb.String())
	}
	if now, _ := os.ReadFile(capFile); !bytes.Equal(now, data) {
		t.Fatalf("the capture was changed (%d bytes, was %d)", len(now), len(data))
	}
	// Standard output appended to the capture: jj extract cap.pcap >>
	// cap.pcap, and the same with the capture on standard input.
	for _, args := range [][]string{{"extract", capFile}, {"extract", "-"}} {
		app, err := os.OpenFile(capFile, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(capFile)
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		code := run(args, in, app, &errb)
		app.Close()
		in.Close()
		if code != 2 || !strings.Contains(errb.String(), "standard output is the") {
			t.Errorf("%q >> cap.pcap: exit %d, stderr %q", args, code, errb.String())
		}
		if now, _ := os.ReadFile(capFile); !bytes.Equal(now, data) {
			t.Fatalf("%q >> cap.pcap: the capture was changed (%d bytes, was %d)", args, len(now), len(data))
		}
	}
	// A new output beside the capture is fine, and is not read as an
	// input when the run is repeated, even compressed (gzip's magic).
	for range 2 {
		code, out, errs := runJJ(t, nil, "extract", dir, "-o", filepath.Join(dir, "flows.csv.gz"))
		if code != 0 || out != "" || !strings.Contains(errs, "jj: 1 input(s), 18 packets read") {
			t.Errorf("output in the input directory: exit %d, stderr %q", code, errs)
		}
	}
	// A directory whose listing fails (an entry that is a loop of
	// symbolic links) is left to the run to report, but its capture is
	// still not overwritten.
	if err := os.Symlink("loop", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runJJ(t, nil, "extract", dir, "-o", capFile)
	if code != 2 || !strings.Contains(errs, "refusing to write to it") {
		t.Errorf("unlistable directory: exit %d, stderr %q", code, errs)
	}
	if now, _ := os.ReadFile(capFile); !bytes.Equal(now, data) {
		t.Fatalf("the capture was changed (%d bytes, was %d)", len(now), len(data))
	}
}

// A missing file among good ones: the good ones are still written, exit 1.
func TestPartialFailure(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.csv")
	code, _, errs := runJJ(t, nil, "extract", sample, "/nonexistent/x.pcap", "-o", out)
	data, _ := os.ReadFile(out)
	if code != 1 || strings.Count(string(data), "\n") != 4 {
		t.Errorf("exit %d, %d lines written, stderr %q; want 1 and header + 3 flows", code, strings.Count(string(data), "\n"), errs)
	}
}

func TestFeaturesAndVersion(t *testing.T) {
	code, out, _ := runJJ(t, nil, "features")
	if code != 0 || !strings.Contains(out, "flow_meta:") || !strings.Contains(out, "hdr_desc") {
		t.Errorf("features: exit %d, %q", code, out)
	}
	code, out, _ = runJJ(t, nil, "version")
	if code != 0 || out != "jj "+jj.Version+"\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, flag, _ := runJJ(t, nil, "--version"); code != 0 || flag != out {
		t.Errorf("--version: exit %d, %q, want %q", code, flag, out)
	}
	// A usage error points to the help of the command that was run.
	code, _, errs := runJJ(t, nil, "extract", sample, "--bogus")
	if code != 2 || !strings.HasSuffix(errs, "jj: see 'jj extract --help'\n") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, errs)
	}
}

// The committed features reference must be what `jj features --markdown`
// prints today.
func TestFeaturesReferenceUpToDate(t *testing.T) {
	_, out, _ := runJJ(t, nil, "features", "--markdown")
	want, err := os.ReadFile("../../docs/FEATURES.md")
	if err != nil || string(want) != out {
		t.Errorf("docs/FEATURES.md is stale: run `go run ./cmd/jj features --markdown > docs/FEATURES.md`")
	}
}

// The README's flow_meta table is the generated one.
func TestReadmeColumnsUpToDate(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "(generated: go run ./cmd/jj features --markdown) -->\n", "<!-- END flow_meta columns -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the flow_meta columns markers")
	}
	if got, want := s[i+len(begin):j], extract.ColumnTable(extract.Registry[0]); got != want {
		t.Errorf("README.md flow_meta table is stale; want:\n%s", want)
	}
}

// The hidden --cpuprofile, --memprofile and --trace flags write a CPU and
// a memory profile (gzipped protobuf) and a runtime trace ("go 1.N trace"
// header) beside the unchanged output, and a path that cannot be created
// is a one-line error that names it.
func TestProfileFlags(t *testing.T) {
	_, want, _ := runJJ(t, nil, "extract", sample, "-q")
	dir := t.TempDir()
	prof, mem, trace := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof"), filepath.Join(dir, "run.trace")
	code, out, errs := runJJ(t, nil, "extract", sample, "-q", "--cpuprofile", prof, "--memprofile", mem, "--trace", trace)
	if code != 0 || errs != "" || out != want {
		t.Fatalf("exit %d, stderr %q, output changed: %v", code, errs, out != want)
	}
	checkRecordings(t, prof, mem, trace)
	bad := filepath.Join(dir, "missing", "run.trace")
	code, _, errs = runJJ(t, nil, "extract", sample, "-q", "--trace", bad)
	if code == 0 || !strings.Contains(errs, bad) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("unwritable trace: exit %d, stderr %q", code, errs)
	}
}

// checkRecordings checks the files of --cpuprofile and --memprofile
// (gzipped protobuf, as pprof writes) and of --trace ("go 1.N trace"
// header).
func checkRecordings(t *testing.T, prof, mem, trace string) {
	t.Helper()
	for name, path := range map[string]string{"CPU profile": prof, "memory profile": mem} {
		if b, err := os.ReadFile(path); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %v, %d bytes, not gzip", name, err, len(b))
		}
	}
	if b, err := os.ReadFile(trace); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("trace: %v, %d bytes, no trace header", err, len(b))
	}
}

// genCapture writes a generated capture of the given number of packets
// (gen's defaults otherwise) to path.
func genCapture(t *testing.T, path string, packets int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gen.DefaultConfig()
	cfg.Packets = packets
	if _, err := gen.Write(f, cfg, gen.FormatPcap); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// buildJJ builds the jj command into path, for tests that run it as a
// process. -pgo=off: a test needs the binary, not its optimisation, and a
// build with cmd/jj/default.pgo compiles the standard library again.
func buildJJ(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("go", "build", "-pgo=off", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
}

// jj with no command is a usage error that lists the commands, not help
// and success.
func TestNoCommand(t *testing.T) {
	code, out, errs := runJJ(t, nil)
	if code != exitUsage || out != "" || !strings.Contains(errs, "no command given (extract, features, info, live, schema, version)") {
		t.Errorf("jj alone: exit %d, stdout %q, stderr %q; want exit 2 and the commands named", code, out, errs)
	}
	if code, out, _ := runJJ(t, nil, "--help"); code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("jj --help: exit %d, stdout %q", code, out)
	}
}

// --per-file, or per_file in a config file, reads each input as a capture
// of its own and ends each row with its input's name.
func TestPerFileFlag(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	again := writeFile(t, "again.pcap", data)
	cfg := writeFile(t, "per.yaml", []byte("per_file: true\n"))
	for _, args := range [][]string{{"--per-file"}, {"-c", cfg}} {
		code, out, errs := runJJ(t, nil, append([]string{"extract", "-q", sample, again}, args...)...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 7 || !strings.HasSuffix(lines[0], ",source_file") {
			t.Fatalf("%v: exit %d, %d lines, header %q (%s); want 0, a header and 3 rows a file, source_file last", args, code, len(lines), lines[0], errs)
		}
		for i, l := range lines[1:] {
			want := sample
			if i >= 3 {
				want = again
			}
			if !strings.HasSuffix(l, ","+want) {
				t.Errorf("%v: row %d %q does not end with %s", args, i, l, want)
			}
		}
	}
}

// With --per-file, --feature may name source_file (written last anyway),
// but not alone; without it, source_file is an unknown column that names
// the option. A file name's bytes that are not UTF-8 are written as U+FFFD.
func TestPerFileColumns(t *testing.T) {
	code, out, errs := runJJ(t, nil, "extract", "-q", "--per-file", sample, "--feature", "source_file,src_port")
	if lines := strings.Split(out, "\n"); code != 0 || lines[0] != "src_port,source_file" || !strings.HasSuffix(lines[1], ","+sample) {
		t.Errorf("--feature source_file,src_port: exit %d, output %q (%s)", code, out, errs)
	}
	if code, _, errs := runJJ(t, nil, "extract", "-q", "--per-file", sample, "--feature", "source_file"); code != exitUsage || !strings.Contains(errs, "option columns (--feature)") {
		t.Errorf("--feature source_file alone: exit %d, %s; want 2", code, errs)
	}
	if code, _, errs := runJJ(t, nil, "extract", "-q", sample, "--feature", "source_file"); code != exitUsage || !strings.Contains(errs, "--per-file") {
		t.Errorf("source_file without --per-file: exit %d, %s; want 2, naming --per-file", code, errs)
	}
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	odd := writeFile(t, "odd\xff.pcap", data)
	code, out, errs = runJJ(t, nil, "extract", "-q", "--per-file", odd, "--feature", "src_port")
	want := strings.ToValidUTF8(odd, "\uFFFD")
	if lines := strings.Split(out, "\n"); code != 0 || !strings.HasSuffix(lines[1], ","+want) || !strings.Contains(want, "\uFFFD") {
		t.Errorf("a name not UTF-8: exit %d, output %q (%s); want it ending %q", code, out, errs, want)
	}
}
