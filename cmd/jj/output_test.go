package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/jjflow/jj"
)

// allFeatures asks for every column jj has, sequences included.
var allFeatures = []string{"--features", "all", "--include-sequences", "--include-splt", "--include-flow-id", "-q"}

// roundTripCaptures are testdata captures with TCP, UDP, ICMP, IPv6,
// tunnels and odd link types: every column type and many values.
var roundTripCaptures = []string{
	sample,
	"../../testdata/captures/nfstream__4in6tunnel.pcap",
	"../../testdata/captures/ndpi__dns.pcap",
	"../../testdata/captures/tcpdump__LINKTYPE_IPV6.pcap",
	"../../testdata/captures/gopacket__pcapgo-le-test202.pcapng",
}

// extractTo runs jj extract on a capture into dir/name and returns the
// file's bytes.
func extractTo(t *testing.T, capture, dir, name string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(dir, name)
	code, _, errs := runJJ(t, nil, append(append([]string{"extract", capture, "-o", out}, allFeatures...), args...)...)
	if code != 0 {
		t.Fatalf("jj extract %s -o %s: exit %d: %s", capture, name, code, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// table is a typed table read back by a reader other than jj.
type table struct {
	names []string
	types []string // jj's type names
	rows  [][]any
}

// readCSVAs parses CSV with encoding/csv and types each cell as the other
// table's column of the same index says.
func readCSVAs(t *testing.T, data []byte, types []string) table {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	tb := table{names: recs[0], types: types}
	if len(types) != len(recs[0]) {
		t.Fatalf("CSV has %d columns, Parquet %d", len(recs[0]), len(types))
	}
	for _, rec := range recs[1:] {
		row := make([]any, len(rec))
		for i, cell := range rec {
			var err error
			switch types[i] {
			case "int64":
				row[i], err = strconv.ParseInt(cell, 10, 64)
			case "float64":
				row[i], err = strconv.ParseFloat(cell, 64)
			case "bool":
				row[i], err = strconv.ParseBool(cell)
			case "string":
				row[i] = cell
			case "list<int64>":
				l := []int64{}
				err = json.Unmarshal([]byte(cell), &l)
				row[i] = l
			case "list<float64>":
				l := []float64{}
				err = json.Unmarshal([]byte(cell), &l)
				row[i] = l
			}
			if err != nil {
				t.Fatalf("CSV cell %q of %s: %v", cell, recs[0][i], err)
			}
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// readParquetFile reads a Parquet file with parquet-go's reader.
func readParquetFile(t *testing.T, data []byte) (table, map[string]string) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet.OpenFile: %v", err)
	}
	meta := map[string]string{}
	for _, kv := range f.Metadata().KeyValueMetadata {
		meta[kv.Key] = kv.Value
	}
	var tb table
	for _, fd := range f.Schema().Fields() {
		tb.names = append(tb.names, fd.Name())
		typ := fd
		list := !fd.Leaf()
		if list {
			typ = fd.Fields()[0].Fields()[0] // <name>.list.element
		}
		var name string
		switch typ.Type().Kind() {
		case parquet.Int64:
			name = "int64"
		case parquet.Double:
			name = "float64"
		case parquet.Boolean:
			name = "bool"
		case parquet.ByteArray:
			name = "string"
		default:
			t.Fatalf("column %s: Parquet type %s", fd.Name(), typ.Type())
		}
		if list {
			name = "list<" + name + ">"
		}
		tb.types = append(tb.types, name)
	}
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				vals := make([]any, len(tb.types))
				for i, typ := range tb.types {
					switch typ {
					case "list<int64>":
						vals[i] = []int64{}
					case "list<float64>":
						vals[i] = []float64{}
					}
				}
				for _, v := range r {
					i := v.Column()
					switch tb.types[i] {
					case "int64":
						vals[i] = v.Int64()
					case "float64":
						vals[i] = v.Double()
					case "bool":
						vals[i] = v.Boolean()
					case "string":
						vals[i] = string(v.ByteArray())
					case "list<int64>":
						if v.DefinitionLevel() > 0 {
							vals[i] = append(vals[i].([]int64), v.Int64())
						}
					case "list<float64>":
						if v.DefinitionLevel() > 0 {
							vals[i] = append(vals[i].([]float64), v.Double())
						}
					}
				}
				tb.rows = append(tb.rows, vals)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("ReadRows: %v", err)
			}
		}
		rows.Close()
	}
	return tb, meta
}

// compareTables reports every difference of names, types and values.
func compareTables(t *testing.T, what string, got, want table) {
	t.Helper()
	if !reflect.DeepEqual(got.names, want.names) {
		t.Fatalf("%s columns = %v, want %v", what, got.names, want.names)
	}
	if !reflect.DeepEqual(got.types, want.types) {
		t.Errorf("%s types = %v, want %v", what, got.types, want.types)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s has %d rows, want %d", what, len(got.rows), len(want.rows))
	}
	bad := 0
	for r := range want.rows {
		for i := range want.rows[r] {
			if !reflect.DeepEqual(got.rows[r][i], want.rows[r][i]) && bad < 10 {
				bad++
				t.Errorf("%s row %d %s = %#v, want %#v", what, r, want.names[i], got.rows[r][i], want.rows[r][i])
			}
		}
	}
}

// TestParquetMatchesCSV extracts captures to CSV and to Parquet with every
// column, reads the CSV with encoding/csv and the Parquet with
// parquet-go's reader, and compares every name, type and value.
func TestParquetMatchesCSV(t *testing.T) {
	types := schemaTypes(t)
	for _, capture := range roundTripCaptures {
		t.Run(filepath.Base(capture), func(t *testing.T) {
			dir := t.TempDir()
			pq, meta := readParquetFile(t, extractTo(t, capture, dir, "flows.parquet"))
			csvTable := readCSVAs(t, extractTo(t, capture, dir, "flows.csv"), pq.types)
			compareTables(t, "Parquet", pq, csvTable)
			for i, name := range pq.names {
				if types[name] != pq.types[i] {
					t.Errorf("column %s: Parquet type %s, jj schema says %s", name, pq.types[i], types[name])
				}
			}
			if meta["jj.version"] != jj.Version || !strings.Contains(meta["jj.columns"], `"name":"flow_id"`) {
				t.Errorf("metadata = %v", meta)
			}
		})
	}
}

// TestParquetWorkersSameFile checks that a Parquet file is byte-identical
// whatever the number of workers, which also encode its columns: the
// config recorded in its metadata leaves the workers out.
func TestParquetWorkersSameFile(t *testing.T) {
	dir := t.TempDir()
	one := extractTo(t, sample, dir, "w1.parquet", "-w", "1")
	for _, w := range []string{"2", "5"} {
		if got := extractTo(t, sample, dir, "w"+w+".parquet", "-w", w); !bytes.Equal(got, one) {
			t.Errorf("-w %s: the Parquet file differs from -w 1", w)
		}
	}
	if _, meta := readParquetFile(t, one); !strings.Contains(meta["jj.config"], `"workers":0`) {
		t.Errorf("jj.config = %s, want workers at its default, 0", meta["jj.config"])
	}
}

// TestParquetSaltNotRecorded checks that the salt, the key of the
// anonymized addresses and flow ids, is nowhere in a Parquet file: with
// it, every IPv4 address could be hashed and the file's hashes read back.
func TestParquetSaltNotRecorded(t *testing.T) {
	const salt = "s3cret-KEY"
	dir := t.TempDir()
	for _, mode := range []string{"hash", "prefix"} {
		file := extractTo(t, sample, dir, mode+".parquet", "--anonymize-ips", "--anonymize-mode", mode, "--include-flow-id", "--salt", salt)
		if bytes.Contains(file, []byte(salt)) {
			t.Errorf("mode %s: the salt is in the Parquet file", mode)
		}
		_, meta := readParquetFile(t, file)
		if meta["jj.salt"] != saltNotRecorded || !strings.Contains(meta["jj.config"], `"anonymize_ips":true`) ||
			!strings.Contains(meta["jj.config"], `"anonymization_salt":""`) {
			t.Errorf("mode %s: metadata jj.salt = %q, jj.config = %s", mode, meta["jj.salt"], meta["jj.config"])
		}
	}
	// Without a salt, there is nothing to say of it.
	if _, meta := readParquetFile(t, extractTo(t, sample, dir, "plain.parquet")); meta["jj.salt"] != "" {
		t.Errorf("no salt given: jj.salt = %q", meta["jj.salt"])
	}
}

// schemaTypes returns each column's type as `jj schema -f json` gives it.
func schemaTypes(t *testing.T) map[string]string {
	t.Helper()
	code, out, errs := runJJ(t, nil, "schema", "-f", "json")
	if code != 0 {
		t.Fatalf("jj schema: exit %d: %s", code, errs)
	}
	var doc schemaDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range doc.Columns {
		types[c.Name] = c.Type
	}
	return types
}

func TestParquetCompressionAndStdout(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"zstd", "snappy", "gzip", "none"} {
		data := extractTo(t, sample, dir, c+".parquet", "--compression", c)
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"zstd": "ZSTD", "snappy": "SNAPPY", "gzip": "GZIP", "none": "UNCOMPRESSED"}[c]
		if got := f.Metadata().RowGroups[0].Columns[0].MetaData.Codec.String(); got != want {
			t.Errorf("--compression %s: codec %s, want %s", c, got, want)
		}
	}
	// A level: the codec stays, and the file is another. (Level 3, not 19:
	// the encoder's best level clears tables of megabytes, which under the
	// race detector took 38.7 s of this test against 4.1 with level 3,
	// or 5.7 against 2.0 with the README's GORACE.)
	fast := extractTo(t, sample, dir, "zstd1.parquet", "--compression-level", "1")
	other := extractTo(t, sample, dir, "zstd3.parquet", "--compression-level", "3")
	if bytes.Equal(fast, other) {
		t.Error("--compression-level 3 wrote the same file as level 1")
	}
	for name, data := range map[string][]byte{"1": fast, "3": other} {
		if pq, _ := readParquetFile(t, data); len(pq.rows) != 3 {
			t.Errorf("--compression-level %s: %d rows, want 3", name, len(pq.rows))
		}
	}
	code, out, errs := runJJ(t, nil, "extract", sample, "-f", "parquet", "-q")
	if code != 0 || !strings.HasPrefix(out, "PAR1") || !strings.HasSuffix(out, "PAR1") {
		t.Errorf("Parquet to standard output: exit %d, %d bytes, stderr %q", code, len(out), errs)
	}
	pq, _ := readParquetFile(t, []byte(out))
	if len(pq.rows) != 3 {
		t.Errorf("Parquet to standard output: %d rows, want 3", len(pq.rows))
	}
}

// TestDirectoryOutput writes date partitions twice into one dataset and an
// unpartitioned directory, and reads them back.
func TestDirectoryOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dataset")
	for range 2 {
		code, _, errs := runJJ(t, nil, "extract", sample, "-o", dir, "-f", "parquet", "--partition-by", "date", "-q")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	// The sample's flows start on 2024-01-01 (UTC).
	files := listDir(t, dir)
	want := []string{"date=2024-01-01/part-0000.parquet", "date=2024-01-01/part-0001.parquet"}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	data, _ := os.ReadFile(filepath.Join(dir, files[1]))
	if pq, _ := readParquetFile(t, data); len(pq.rows) != 3 {
		t.Errorf("%s: %d rows, want 3", files[1], len(pq.rows))
	}

	csvDir := t.TempDir() + "/"
	if code, _, errs := runJJ(t, nil, "extract", sample, "-o", csvDir, "-q"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if files := listDir(t, csvDir); !reflect.DeepEqual(files, []string{"part-0000.csv"}) {
		t.Errorf("unpartitioned CSV directory: files %v", files)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(files)
	return files
}

func TestOutputOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "parquet", "--compression", "lzo", "-o", dir + "/a.parquet"}, "unknown compression"},
		{[]string{"--compression", "snappy", "-o", dir + "/a.csv"}, "Parquet output only"},
		{[]string{"--compression-level", "3", "-o", dir + "/a.csv"}, "--compression-level applies to Parquet output only"},
		{[]string{"-f", "parquet", "--compression", "snappy", "--compression-level", "3", "-o", dir + "/a.parquet"}, "snappy compression has no level"},
		{[]string{"-f", "parquet", "--compression-level", "23", "-o", dir + "/a.parquet"}, "zstd compression level 23 out of range 1-22"},
		{[]string{"-f", "parquet", "--compression", "gzip", "--compression-level", "-1", "-o", dir + "/a.parquet"}, "gzip compression level -1 out of range 1-9"},
		{[]string{"--partition-by", "hour", "-o", dir + "/d/"}, "unknown key"},
		{[]string{"--partition-by", "date"}, "needs a directory"},
		{[]string{"--partition-by", "date", "-o", dir + "/d/", "--feature", "src_ip"}, "start_time"},
		{[]string{"-o", dir + "/a.parquet.gz"}, "Parquet compresses its columns itself"},
		{[]string{"-f", "parquet", "-o", dir + "/a.zst"}, "Parquet compresses its columns itself"},
		{[]string{"-o", dir + "/a.csv.xz"}, "as .gz or .zst only, not .xz"},
		{[]string{"-o", dir + "/a.jsonl.BZ2"}, "as .gz or .zst only, not .bz2"},
		{[]string{"-o", dir + "/a.csv.lz4"}, "as .gz or .zst only, not .lz4"},
		{[]string{"-o", dir + "/a.csv.7z"}, "as .gz or .zst only, not .7z"},
		{[]string{"-o", dir + "/a.csv.zstd"}, "name it .zst to compress it"},
		{[]string{"-o", dir + "/a.jsonl.gzip"}, "name it .gz to compress it"},
		// A table named as a capture would be read as one by a later
		// run over its directory.
		{[]string{"-o", dir + "/flows.pcap"}, "jj writes flow tables, not captures"},
		{[]string{"-f", "csv", "-o", dir + "/flows.PCAPNG"}, "jj writes flow tables, not captures"},
		{[]string{"-o", dir + "/flows.cap.gz"}, "jj writes flow tables, not captures"},
	} {
		code, _, errs := runJJ(t, nil, append([]string{"extract", sample}, tt.args...)...)
		if code != exitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, errs, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors created files: %v", entries)
	}
}

// TestUnknownOutputExt checks that an output whose extension names no
// format gets CSV with a warning, and one with no extension or a --format
// gets it without.
func TestUnknownOutputExt(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		warn bool
	}{
		{[]string{"-o", dir + "/flows.xml"}, true},
		{[]string{"-o", dir + "/flows.txt.gz"}, true},
		{[]string{"-o", dir + "/flows"}, false},
		{[]string{"-f", "csv", "-o", dir + "/flows.out"}, false},
		{[]string{"-o", dir + "/flows.csv"}, false},
	} {
		code, _, errs := runJJ(t, nil, append([]string{"extract", sample}, tt.args...)...)
		warned := strings.Contains(errs, "names no format (.csv, .jsonl, .json, .parquet): writing CSV")
		if code != 0 || warned != tt.warn {
			t.Errorf("%v: exit %d, stderr %q; want exit 0, warning %v", tt.args, code, errs, tt.warn)
		}
		text, err := os.ReadFile(tt.args[len(tt.args)-1])
		if strings.HasSuffix(tt.args[len(tt.args)-1], ".gz") {
			text, err = gunzip(text)
		}
		if err != nil || !strings.HasPrefix(string(text), "src_ip,dst_ip,") {
			t.Errorf("%v: output %.40q, %v; want CSV", tt.args, text, err)
		}
	}
}

// TestOutputKeptWhenNoInputReads checks that a run none of whose inputs
// can be read (a mistyped name, a file that is no capture, compressed or
// not, a capture of a link type jj does not decode, a cut header) reports each
// and leaves an earlier output as it was, a file or a dataset directory,
// and that one readable input among them is enough for the output to be
// written.
func TestOutputKeptWhenNoInputReads(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.pcap")
	if err := os.WriteFile(notCapture, []byte("not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "typo.pcap")
	// A pcap file of a link type jj does not decode (160, as
	// tcpdump's test capture of one): its header, little-endian.
	unsupported := filepath.Join(dir, "type160.pcap")
	header := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 160, 0, 0, 0}
	if err := os.WriteFile(unsupported, header, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same compressed, whose header only decompressing shows; a
	// file cut off in its header; a compressed file that is no capture.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(header)
	zw.Close()
	unsupportedGz := filepath.Join(dir, "type160.pcap.gz")
	cut := filepath.Join(dir, "cut.pcap")
	notesGz := filepath.Join(dir, "notes.gz")
	gz2 := gz.Bytes()
	gz.Reset()
	zw.Reset(&gz)
	zw.Write([]byte("not a capture\n"))
	zw.Close()
	for name, data := range map[string][]byte{unsupportedGz: gz2, cut: header[:10], notesGz: gz.Bytes()} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "keep.csv")
	const earlier = "an earlier run's table\n"
	dataset := filepath.Join(dir, "set") + "/"
	if code, _, errs := runJJ(t, nil, "extract", "-q", sample, "-o", dataset); code != 0 {
		t.Fatalf("dataset: exit %d: %s", code, errs)
	}
	parts, _ := os.ReadDir(dataset)
	for _, inputs := range [][]string{{missing}, {notCapture}, {missing, notCapture}, {unsupported}, {unsupportedGz}, {cut}, {notesGz}} {
		if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runJJ(t, nil, append(append([]string{"extract"}, inputs...), "-o", out)...)
		if code != exitInput || !strings.Contains(errs, "output "+out+" left as it was: no input could be read") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and the output not written", inputs, code, errs)
		}
		for _, in := range inputs {
			if !strings.Contains(errs, in) {
				t.Errorf("%v: stderr %q does not name %s", inputs, errs, in)
			}
		}
		if text, _ := os.ReadFile(out); string(text) != earlier {
			t.Errorf("%v: the earlier output became %q", inputs, text)
		}
		if code, text, errs := runJJ(t, nil, append([]string{"extract"}, inputs...)...); code != exitInput || text != "" {
			t.Errorf("%v to standard output: exit %d, output %q (%s); want exit 1 and no output", inputs, code, text, errs)
		}
		code, _, errs = runJJ(t, nil, append(append([]string{"extract", "-q"}, inputs...), "-o", dataset)...)
		if now, _ := os.ReadDir(dataset); code != exitInput || len(now) != len(parts) {
			t.Errorf("%v into a dataset: exit %d, %d part files, want exit 1 and %d: %s", inputs, code, len(now), len(parts), errs)
		}
	}
	// One capture among them: its 3 flows are written, and the run
	// still fails for the others.
	code, _, errs := runJJ(t, nil, "extract", "-q", missing, notCapture, sample, "-o", out)
	text, _ := os.ReadFile(out)
	if code != exitInput || strings.Count(string(text), "\n") != 4 {
		t.Errorf("with a capture among them: exit %d, output %q, stderr %q; want exit 1 and a header and 3 rows", code, text, errs)
	}
}

// An output named .gz or .zst is compressed so: it decompresses, by
// Go's own gzip and by the zstd tool where there is one, to the text
// written uncompressed, in every text format, and is the same file with
// one worker or two (the 52 captures of testdata/captures as one input,
// every feature: 193 rows from both workers' tables).
func TestCompressedOutput(t *testing.T) {
	dir := t.TempDir()
	in := "../../testdata/captures"
	for _, format := range []string{"csv", "jsonl", "json"} {
		plain := filepath.Join(dir, "flows."+format)
		if code, _, errs := runJJ(t, nil, "extract", in, "-q", "--features", "all", "-o", plain); code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errs)
		}
		want, _ := os.ReadFile(plain)
		for _, ext := range []string{".gz", ".zst"} {
			var files [][]byte
			for _, w := range []string{"1", "2"} {
				out := filepath.Join(dir, "w"+w+"-flows."+format+ext)
				if code, _, errs := runJJ(t, nil, "extract", in, "-q", "--features", "all", "-w", w, "-o", out); code != 0 {
					t.Fatalf("%s: exit %d: %s", out, code, errs)
				}
				data, _ := os.ReadFile(out)
				files = append(files, data)
				var got []byte
				var err error
				switch ext {
				case ".gz":
					var zr *gzip.Reader
					if zr, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
						got, err = io.ReadAll(zr)
					}
				case ".zst":
					if _, lerr := exec.LookPath("zstd"); lerr != nil {
						t.Logf("zstd not installed: %s checked for its magic only", out)
						if !bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
							t.Errorf("%s: no zstd frame", out)
						}
						continue
					}
					got, err = exec.Command("zstd", "-dc", out).Output()
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: decompressed to %d bytes (%v), want the %d of %s", out, len(got), err, len(want), plain)
				}
			}
			if !bytes.Equal(files[0], files[1]) {
				t.Errorf("flows.%s%s differs between one worker and two", format, ext)
			}
		}
	}
}

// TestLiveOutputOptionErrors checks that jj live rejects bad output
// options before it creates the --save-pcap file or opens the interface
// (which would need capture rights and start capturing).
func TestLiveOutputOptionErrors(t *testing.T) {
	dir := t.TempDir()
	save := filepath.Join(dir, "x.pcap")
	for _, args := range [][]string{
		{"-f", "csv", "--compression-level", "3"},
		{"-f", "parquet", "--compression", "snappy", "--compression-level", "3", "-o", dir + "/a.parquet"},
		{"--compression", "lzo", "-f", "parquet", "-o", dir + "/a.parquet"},
		{"--partition-by", "hour", "-o", dir + "/d/"},
		{"-B", "-1"},
		{"--buffer-size", "67108865"},
		{"--filter", "vlan", "any"},
		{"--filter", "udp or broadcast", "any"},
	} {
		iface := "lo"
		if last := args[len(args)-1]; last == "any" {
			iface, args = last, args[:len(args)-1]
		}
		code, _, errs := runJJ(t, nil, append([]string{"live", iface, "--save-pcap", save}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, stderr %q; want exit 2", args, code, errs)
		}
		if iface == "any" && !strings.Contains(errs, "needs Ethernet frames") {
			t.Errorf("%v on any: stderr %q, want the primitive refused", args, errs)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: left %v behind", args, entries)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	cfg := jj.DefaultConfig()
	cfg.Features = []string{"flow_meta", "timing"}
	cfg.IncludeFlowID, cfg.AnonymizationSalt, cfg.FlowTimeout = true, `s"alt`, 12.5
	js, err := configJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"flow_timeout":12.5`) || !strings.Contains(js, `"include_flow_id":true`) {
		t.Errorf("configJSON = %s", js)
	}
	back, err := jj.ParseConfig([]byte(js), "jj.config", jj.Config{})
	if err != nil {
		t.Fatalf("the metadata config does not parse as a config file: %v", err)
	}
	if len(cfg.Columns) == 0 && len(back.Columns) == 0 {
		back.Columns = cfg.Columns // nil and empty mean the same
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("config round trip:\n got %+v\nwant %+v", back, cfg)
	}
}

// duckDBModule finds @duckdb/node-api, installed by .ci/run with
// `npm install --prefix DIR @duckdb/node-api`; DIR is $JJ_DUCKDB, else
// ~/.cache/jj-duckdb.
func duckDBModule(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: DuckDB cross-check skipped")
	}
	dir := os.Getenv("JJ_DUCKDB")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "jj-duckdb")
	}
	mod := filepath.Join(dir, "node_modules", "@duckdb", "node-api")
	if _, err := os.Stat(mod); err != nil {
		t.Skipf("DuckDB for Node.js not installed in %s (npm install --prefix %s @duckdb/node-api): cross-check skipped", dir, dir)
	}
	return mod
}

// duckScript reads a Parquet file and a Hive-partitioned dataset with
// DuckDB and prints column names and types, every row (BIGINT as strings,
// DOUBLE as JSON numbers, lists as arrays), the key-value metadata and the
// dataset's row count and dates.
const duckScript = `
const { DuckDBInstance } = require(process.argv[2]);
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const file = q(process.argv[3]), glob = q(process.argv[4] + '/**/*.parquet');
  const desc = await c.runAndReadAll('DESCRIBE SELECT * FROM read_parquet(' + file + ')');
  const rows = await c.runAndReadAll('SELECT * FROM read_parquet(' + file + ')');
  const kv = await c.runAndReadAll('SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(' + file + ')');
  const ds = await c.runAndReadAll('SELECT count(*)::VARCHAR AS n, string_agg(DISTINCT date::VARCHAR) AS dates FROM read_parquet(' + glob + ', hive_partitioning = true)');
  console.log(JSON.stringify({
    columns: desc.getRowObjectsJson().map(r => [r.column_name, r.column_type]),
    rows: rows.getRowsJson(), kv: kv.getRowObjectsJson(), dataset: ds.getRowObjectsJson()[0],
  }));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestDuckDBReadsParquet is the cross-check with an independent Parquet
// reader: DuckDB (its C++ reader, through @duckdb/node-api) reads jj's
// Parquet files and a partitioned dataset, and every name, type and value
// must equal those of jj's CSV output of the same capture.
func TestDuckDBReadsParquet(t *testing.T) {
	mod := duckDBModule(t)
	duckTypes := map[string]string{"BIGINT": "int64", "DOUBLE": "float64", "VARCHAR": "string", "BOOLEAN": "bool", "BIGINT[]": "list<int64>", "DOUBLE[]": "list<float64>"}
	script := filepath.Join(t.TempDir(), "read.js")
	if err := os.WriteFile(script, []byte(duckScript), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, capture := range roundTripCaptures {
		t.Run(filepath.Base(capture), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "flows.parquet")
			extractTo(t, capture, dir, "flows.parquet")
			csvData := extractTo(t, capture, dir, "flows.csv")
			dataset := filepath.Join(dir, "dataset")
			for range 2 {
				if code, _, errs := runJJ(t, nil, append([]string{"extract", capture, "-o", dataset, "-f", "parquet", "--partition-by", "date"}, allFeatures...)...); code != 0 {
					t.Fatalf("partitioned extract: exit %d: %s", code, errs)
				}
			}
			out, err := exec.Command("node", script, mod, file, dataset).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("node: %v\n%s", err, ee.Stderr)
				}
				t.Fatal(err)
			}
			var res struct {
				Columns [][2]string
				Rows    [][]any
				KV      []struct{ Key, Value string }
				Dataset struct{ N, Dates string }
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.UseNumber()
			if err := dec.Decode(&res); err != nil {
				t.Fatalf("DuckDB output: %v\n%s", err, out)
			}
			var duck table
			for _, c := range res.Columns {
				duck.names = append(duck.names, c[0])
				typ, ok := duckTypes[c[1]]
				if !ok {
					t.Errorf("column %s: DuckDB type %s", c[0], c[1])
				}
				duck.types = append(duck.types, typ)
			}
			for _, r := range res.Rows {
				row := make([]any, len(r))
				for i, v := range r {
					row[i] = fromDuck(t, duck.types[i], v)
				}
				duck.rows = append(duck.rows, row)
			}
			csvTable := readCSVAs(t, csvData, duck.types)
			compareTables(t, "DuckDB", duck, csvTable)

			kv := map[string]string{}
			for _, e := range res.KV {
				kv[e.Key] = e.Value
			}
			if kv["jj.version"] != jj.Version || !strings.Contains(kv["jj.columns"], `"privacy":"identifier"`) {
				t.Errorf("DuckDB sees metadata %v", kv)
			}
			wantN := strconv.Itoa(2 * len(csvTable.rows))
			if res.Dataset.N != wantN || (len(csvTable.rows) > 0 && res.Dataset.Dates == "") {
				t.Errorf("DuckDB reads the dataset as %s rows, dates %q; want %s rows", res.Dataset.N, res.Dataset.Dates, wantN)
			}
		})
	}
}

// fromDuck converts a value of DuckDB's JSON rendering to jj's Go type.
func fromDuck(t *testing.T, typ string, v any) any {
	t.Helper()
	var err error
	var out any
	switch typ {
	case "int64":
		out, err = strconv.ParseInt(v.(string), 10, 64)
	case "float64":
		out, err = v.(json.Number).Float64()
	case "bool", "string":
		out = v
	case "list<int64>", "list<float64>":
		var ints []int64
		var floats []float64
		for _, e := range v.([]any) {
			x := fromDuck(t, strings.TrimSuffix(strings.TrimPrefix(typ, "list<"), ">"), e)
			switch x := x.(type) {
			case int64:
				ints = append(ints, x)
			case float64:
				floats = append(floats, x)
			}
		}
		if typ == "list<int64>" {
			out = append([]int64{}, ints...)
		} else {
			out = append([]float64{}, floats...)
		}
	}
	if err != nil {
		t.Fatalf("DuckDB value %v: %v", v, err)
	}
	if f, ok := out.(float64); ok && math.IsInf(f, 0) {
		t.Fatalf("DuckDB value %v out of range", v)
	}
	return out
}

// TestJSONMatchesCSV reads jj's JSON Lines and JSON output with
// encoding/json and compares every value with the CSV output of the same
// capture. Types are those of `jj schema`; a float is written with a
// decimal point or an exponent, an integer without, so that readers that
// infer types (pandas, Polars, DuckDB) get the schema's.
func TestJSONMatchesCSV(t *testing.T) {
	schema := schemaTypes(t)
	for _, capture := range roundTripCaptures {
		t.Run(filepath.Base(capture), func(t *testing.T) {
			dir := t.TempDir()
			csvData := extractTo(t, capture, dir, "flows.csv")
			header, err := csv.NewReader(bytes.NewReader(csvData)).Read()
			if err != nil {
				t.Fatal(err)
			}
			types := make([]string, len(header))
			for i, name := range header {
				types[i] = schema[name]
			}
			want := readCSVAs(t, csvData, types)
			for _, format := range []string{"jsonl", "json"} {
				data := extractTo(t, capture, dir, "flows."+format)
				var objs []map[string]json.RawMessage
				if format == "json" {
					if err := json.Unmarshal(data, &objs); err != nil {
						t.Fatalf("json: %v", err)
					}
				} else {
					for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
						var o map[string]json.RawMessage
						if err := json.Unmarshal([]byte(line), &o); err != nil {
							t.Fatalf("jsonl line %q: %v", line, err)
						}
						objs = append(objs, o)
					}
				}
				got := table{names: header, types: types}
				for _, o := range objs {
					row := make([]any, len(header))
					for i, name := range header {
						row[i] = fromJSON(t, types[i], o[name])
					}
					got.rows = append(got.rows, row)
				}
				compareTables(t, format, got, want)
			}
		})
	}
}

// fromJSON decodes a JSON value of a column of type typ, checking that
// numbers are written as that type.
func fromJSON(t *testing.T, typ string, raw json.RawMessage) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("JSON value %s: %v", raw, err)
	}
	return jsonValue(t, typ, v)
}

func jsonValue(t *testing.T, typ string, v any) any {
	t.Helper()
	switch typ {
	case "int64", "float64":
		n, ok := v.(json.Number)
		isFloat := strings.ContainsAny(n.String(), ".eE")
		if !ok || isFloat != (typ == "float64") {
			t.Fatalf("JSON value %v for a %s column", v, typ)
		}
		if typ == "int64" {
			i, err := n.Int64()
			if err != nil {
				t.Fatal(err)
			}
			return i
		}
		f, err := n.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case "list<int64>":
		l := []int64{}
		for _, e := range v.([]any) {
			l = append(l, jsonValue(t, "int64", e).(int64))
		}
		return l
	case "list<float64>":
		l := []float64{}
		for _, e := range v.([]any) {
			l = append(l, jsonValue(t, "float64", e).(float64))
		}
		return l
	}
	return v
}

// gunzip decompresses a gzip file's bytes.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// TestOutputKeptWhenStdinFileDoesNotRead checks that "-" with standard
// input redirected from a file that is no capture (empty, text, a
// capture of a link type jj does not decode) leaves an earlier output as
// it was, as that file named as a path does; that a capture so
// redirected is read whole; and that standard input from a pipe, whose
// bytes jj knows only by reading them, gets the output written.
func TestOutputKeptWhenStdinFileDoesNotRead(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keep.csv")
	const earlier = "an earlier run's table\n"
	stdinFrom := func(data []byte) *os.File {
		f, err := os.Open(writeFile(t, "stdin", data))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	extract := func(stdin io.Reader) (int, string, string) {
		if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		code := run([]string{"extract", "-q", "-", "-o", out}, stdin, io.Discard, &errb)
		text, _ := os.ReadFile(out)
		return code, string(text), errb.String()
	}
	type160 := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 160, 0, 0, 0}
	for name, data := range map[string][]byte{"empty": nil, "text": []byte("not a capture\n"), "link type 160": type160} {
		code, text, errs := extract(stdinFrom(data))
		if code != exitInput || text != earlier || !strings.Contains(errs, "read -: ") {
			t.Errorf("%s: exit %d, output %q, stderr %q; want exit 1, the output as it was, and the error", name, code, text, errs)
		}
	}
	capture, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	if code, text, errs := extract(stdinFrom(capture)); code != 0 || strings.Count(text, "\n") != 4 {
		t.Errorf("a capture: exit %d, output %q, stderr %q; want a header and 3 rows", code, text, errs)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write([]byte("not a capture\n"))
		w.Close()
	}()
	if code, text, errs := extract(r); code != exitInput || !strings.HasPrefix(text, "src_ip,dst_ip,") {
		t.Errorf("text through a pipe: exit %d, output %q, stderr %q; want exit 1 and a header", code, text, errs)
	}
}

// TestOutputKeptOnTwoPassRefusal checks that a run refused because its
// connection scope capture needs to read standard input twice exits 2
// with the output file, or a dataset directory, left as it was: the
// refusal used to come after the output was created (emptied).
func TestOutputKeptOnTwoPassRefusal(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keep.csv")
	const earlier = "an earlier run's table\n"
	if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	capture, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	dataset := filepath.Join(dir, "set") + "/"
	for _, o := range []string{out, dataset} {
		code, _, errs := runJJ(t, capture, "extract", "-", "--features", "connection", "--connection-scope", "capture", "-o", o)
		if code != exitUsage || !strings.Contains(errs, "which cannot be read twice") {
			t.Errorf("-o %s: exit %d, stderr %q; want exit 2 and the refusal", o, code, errs)
		}
	}
	if text, _ := os.ReadFile(out); string(text) != earlier {
		t.Errorf("the earlier output became %q", text)
	}
	if _, err := os.Stat(dataset); !os.IsNotExist(err) {
		t.Errorf("the dataset directory was made (%v)", err)
	}
}

// TestSubdirsWarnedOnce checks that jj extract on a directory with a
// subdirectory says, once, that the subdirectory is not read, as the
// library's run does for a directory it expands itself.
func TestSubdirsWarnedOnce(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.pcap", "sub/b.pcap"} {
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	warning := "jj: warning: " + dir + ": its subdirectories are not read (sub): name them as inputs to read them\n"
	code, _, errs := runJJ(t, nil, "extract", dir, "-o", filepath.Join(t.TempDir(), "out.csv"))
	if code != 0 || strings.Count(errs, warning) != 1 || !strings.Contains(errs, "3 flows written") {
		t.Errorf("exit %d, stderr %q; want 3 flows and the warning once", code, errs)
	}
	os.Remove(filepath.Join(dir, "a.pcap"))
	code, _, errs = runJJ(t, nil, "extract", dir, "-o", filepath.Join(t.TempDir(), "out.csv"))
	if code != exitInput || strings.Count(errs, warning) != 1 || !strings.Contains(errs, "no capture files in "+dir) {
		t.Errorf("no capture of its own: exit %d, stderr %q; want exit 1, the error and the warning once", code, errs)
	}
}
