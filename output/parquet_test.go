package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// pqFile is a Parquet file as parquet-go's reader sees it: the reference
// the writer is checked against, independent of jj's Batch.
type pqFile struct {
	names     []string
	types     []string // jj's type names, inferred from the Parquet schema
	rows      [][]any
	meta      map[string]string
	rowGroups []int64 // rows in each row group
	codecs    []string
}

// readParquet reads a whole file with parquet-go's reader, row by row.
func readParquet(tb testing.TB, data []byte) *pqFile {
	tb.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatalf("parquet.OpenFile: %v", err)
	}
	out := &pqFile{meta: map[string]string{}}
	for _, kv := range f.Metadata().KeyValueMetadata {
		out.meta[kv.Key] = kv.Value
	}
	fields := f.Schema().Fields()
	for _, fd := range fields {
		out.names = append(out.names, fd.Name())
		out.types = append(out.types, jjType(tb, fd))
	}
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			out.codecs = append(out.codecs, cc.MetaData.Codec.String())
		}
	}
	for _, rg := range f.RowGroups() {
		out.rowGroups = append(out.rowGroups, rg.NumRows())
		rows := rg.Rows()
		buf := make([]parquet.Row, 7)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				out.rows = append(out.rows, decodeRow(out.types, row))
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("ReadRows: %v", err)
			}
		}
		rows.Close()
	}
	return out
}

// jjType names the jj type a Parquet field stands for, or fails.
func jjType(tb testing.TB, fd parquet.Field) string {
	tb.Helper()
	if !fd.Required() {
		tb.Errorf("column %s is not required", fd.Name())
	}
	if lt := fd.Type().LogicalType(); lt != nil && isLogical[*format.ListType](lt) {
		elem := fd.Fields()[0].Fields()[0] // <name>.list.element
		return "list<" + jjType(tb, elem) + ">"
	}
	if !fd.Leaf() {
		tb.Fatalf("column %s is a group", fd.Name())
	}
	switch fd.Type().Kind() {
	case parquet.Int64:
		return "int64"
	case parquet.Double:
		return "float64"
	case parquet.Boolean:
		return "bool"
	case parquet.ByteArray:
		if lt := fd.Type().LogicalType(); lt == nil || !isLogical[*format.StringType](lt) {
			tb.Errorf("column %s: BYTE_ARRAY without the STRING annotation", fd.Name())
		}
		return "string"
	}
	tb.Fatalf("column %s: unexpected Parquet type %s", fd.Name(), fd.Type())
	return ""
}

func isLogical[T format.LogicalTypeValue](lt *format.LogicalType) bool {
	_, ok := lt.Value.(T)
	return ok
}

// decodeRow turns a row of leaf values (list elements carry repetition
// and definition levels) into Go values.
func decodeRow(types []string, row parquet.Row) []any {
	vals := make([]any, len(types))
	for i, t := range types {
		switch t {
		case "list<int64>":
			vals[i] = []int64{}
		case "list<float64>":
			vals[i] = []float64{}
		}
	}
	for _, v := range row {
		i := v.Column()
		switch types[i] {
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
	return vals
}

// readCSVTyped parses CSV output with encoding/csv and types each cell by
// its column type (lists are JSON arrays), the way a CSV consumer would.
func readCSVTyped(tb testing.TB, data []byte, schema []Column) (names []string, rows [][]any) {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		tb.Fatalf("encoding/csv: %v", err)
	}
	names = recs[0]
	for _, rec := range recs[1:] {
		row := make([]any, len(rec))
		for i, cell := range rec {
			var err error
			switch schema[i].Type {
			case Int:
				row[i], err = strconv.ParseInt(cell, 10, 64)
			case Float:
				row[i], err = strconv.ParseFloat(cell, 64)
			case Bool:
				row[i], err = strconv.ParseBool(cell)
			case String:
				row[i] = cell
			case IntList:
				var l []int64
				err = json.Unmarshal([]byte(cell), &l)
				row[i] = append([]int64{}, l...)
			case FloatList:
				var l []float64
				err = json.Unmarshal([]byte(cell), &l)
				row[i] = append([]float64{}, l...)
			}
			if err != nil {
				tb.Fatalf("CSV cell %q of %s: %v", cell, schema[i].Name, err)
			}
		}
		rows = append(rows, row)
	}
	return names, rows
}

// wideBatch has every type, edge values, and n rows.
func wideBatch(n int) *Batch {
	schema := []Column{
		{Group: "g", Name: "s", Type: String, Description: `text, with "quotes"`},
		{Group: "g", Name: "i", Type: Int, Unit: "bytes", Direction: "fwd", Privacy: Identifier},
		{Group: "g", Name: "f", Type: Float, Unit: "s", Privacy: Sensitive},
		{Group: "h", Name: "b", Type: Bool},
		{Group: "h", Name: "il", Type: IntList, Direction: "both"},
		{Group: "h", Name: "fl", Type: FloatList},
		{Group: "h", Name: "a_last", Type: Int}, // sorts first by name: order must hold
	}
	b := NewBatch(schema)
	strs := []string{"", `a,"b"`, "ETH-IP-TCP\n\x01", "é漢字", "x"}
	ints := []int64{0, -1, math.MaxInt64, math.MinInt64, 1 << 40}
	floats := []float64{0, math.Copysign(0, -1), 1.5e-300, 1704067200.123456, 1e16, -2.5, math.MaxFloat64, 0.1}
	for r := 0; r < n; r++ {
		b.AppendString(0, strs[r%len(strs)])
		b.AppendInt(1, ints[r%len(ints)])
		b.AppendFloat(2, floats[r%len(floats)])
		b.AppendBool(3, r%3 == 0)
		il := make([]int64, r%4)
		for k := range il {
			il[k] = int64(r*10 + k - 5)
		}
		b.AppendIntList(4, il)
		fl := make([]float64, (r+2)%3)
		for k := range fl {
			fl[k] = float64(r) + float64(k)/4
		}
		b.AppendFloatList(5, fl)
		b.AppendInt(6, int64(r))
		b.EndRow()
	}
	return b
}

// writeFormat writes the batches in a format, with Parquet options.
func writeFormat(tb testing.TB, format string, o ParquetOptions, batches ...*Batch) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w Writer
	var err error
	if format == "parquet" {
		w, err = NewParquetWriter(&buf, batches[0].Schema, o)
	} else {
		w, err = NewWriter(format, &buf, batches[0].Schema)
	}
	if err != nil {
		tb.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestParquetRoundTrip writes the same batches as CSV and Parquet, reads the
// CSV back with encoding/csv and the Parquet with parquet-go's reader, and
// compares every name, type and value. Row groups split batches exactly.
func TestParquetRoundTrip(t *testing.T) {
	batches := []*Batch{wideBatch(1), wideBatch(37), wideBatch(0), wideBatch(100)}
	for _, tt := range []struct {
		name      string
		o         ParquetOptions
		rowGroups []int64
		codec     string
	}{
		{"default", ParquetOptions{}, []int64{138}, "ZSTD"},
		{"row groups of 16", ParquetOptions{RowGroupRows: 16, Compression: "snappy"}, []int64{16, 16, 16, 16, 16, 16, 16, 16, 10}, "SNAPPY"},
		{"row groups of 38", ParquetOptions{RowGroupRows: 38, Compression: "gzip"}, []int64{38, 38, 38, 24}, "GZIP"},
		{"uncompressed", ParquetOptions{RowGroupRows: 1, Compression: "none"}, nil, "UNCOMPRESSED"},
		{"size checked every blockRows rows", ParquetOptions{RowGroupBytes: 1}, []int64{138}, "ZSTD"}, // fewer rows: one group
	} {
		t.Run(tt.name, func(t *testing.T) {
			csvNames, csvRows := readCSVTyped(t, writeFormat(t, "csv", tt.o, batches...), batches[0].Schema)
			pq := readParquet(t, writeFormat(t, "parquet", tt.o, batches...))
			if !reflect.DeepEqual(pq.names, csvNames) {
				t.Errorf("Parquet columns = %v, CSV header %v", pq.names, csvNames)
			}
			for i, c := range batches[0].Schema {
				if pq.types[i] != c.Type.String() {
					t.Errorf("column %s: Parquet type %s, want %s", c.Name, pq.types[i], c.Type)
				}
			}
			if len(pq.rows) != len(csvRows) {
				t.Fatalf("Parquet has %d rows, CSV %d", len(pq.rows), len(csvRows))
			}
			for r := range csvRows {
				for i := range csvRows[r] {
					if !sameValue(pq.rows[r][i], csvRows[r][i]) {
						t.Errorf("row %d column %s: Parquet %#v, CSV %#v", r, pq.names[i], pq.rows[r][i], csvRows[r][i])
					}
				}
			}
			if tt.rowGroups != nil && !reflect.DeepEqual(pq.rowGroups, tt.rowGroups) {
				t.Errorf("row groups = %v, want %v", pq.rowGroups, tt.rowGroups)
			}
			if tt.rowGroups == nil && len(pq.rowGroups) != len(csvRows) {
				t.Errorf("%d row groups of one row, want %d", len(pq.rowGroups), len(csvRows))
			}
			for _, c := range pq.codecs {
				if c != tt.codec {
					t.Errorf("column chunk compressed with %s, want %s", c, tt.codec)
					break
				}
			}
		})
	}
}

// TestParquetScalarLevels checks that the scalar columns' values, written
// without their levels and column index (writeColumn), make the same file
// byte for byte as values with them, with one row group or several and
// every codec: parquet-go's required column buffers read only the values'
// payloads. A parquet-go that began to use the values' column index there
// would fail it (a required column's levels are 0 either way).
func TestParquetScalarLevels(t *testing.T) {
	batches := []*Batch{wideBatch(1), wideBatch(37), wideBatch(0), wideBatch(100), wideBatch(3000)}
	for _, o := range []ParquetOptions{{}, {RowGroupRows: 16}, {RowGroupRows: 16, Compression: "snappy"}, {RowGroupBytes: 1, Compression: "gzip"}, {Compression: "none"}} {
		got := writeFormat(t, "parquet", o, batches...)
		scalarLevels = true
		want := writeFormat(t, "parquet", o, batches...)
		scalarLevels = false
		if !bytes.Equal(got, want) {
			t.Errorf("%+v: the file differs from the one written with levels on every value", o)
		}
		if n := len(readParquet(t, got).rows); n != 3138 {
			t.Errorf("%+v: %d rows, want 3138", o, n)
		}
	}
}

// TestParquetCompressionLevels checks the levels each codec takes, and
// that a level changes the file but not its rows.
func TestParquetCompressionLevels(t *testing.T) {
	for _, tt := range []struct {
		codec string
		level int
		ok    bool
	}{
		{"zstd", 0, true}, {"zstd", 1, true}, {"zstd", 22, true}, {"", 3, true}, {"zstd", 23, false}, {"zstd", -1, false},
		{"gzip", 0, true}, {"gzip", 1, true}, {"gzip", 9, true}, {"gzip", 10, false}, {"gzip", -1, false},
		{"snappy", 0, true}, {"snappy", 1, false}, {"none", 0, true}, {"none", 5, false},
	} {
		err := ValidCompressionLevel(tt.codec, tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("ValidCompressionLevel(%q, %d) = %v, want ok %v", tt.codec, tt.level, err, tt.ok)
		}
		var buf bytes.Buffer
		if _, err := NewParquetWriter(&buf, wideBatch(1).Schema, ParquetOptions{Compression: tt.codec, CompressionLevel: tt.level}); (err == nil) != tt.ok {
			t.Errorf("NewParquetWriter(%q, level %d): %v, want ok %v", tt.codec, tt.level, err, tt.ok)
		}
	}
	batches := []*Batch{wideBatch(3000)}
	// What level 0 means, and the encoder's steps of zstd levels.
	file := func(c string, level int) []byte {
		return writeFormat(t, "parquet", ParquetOptions{Compression: c, CompressionLevel: level}, batches...)
	}
	for _, same := range []struct {
		codec string
		a, b  int
	}{{"zstd", 0, 1}, {"zstd", 1, 2}, {"zstd", 3, 5}, {"zstd", 10, 22}, {"gzip", 0, 5}} {
		if !bytes.Equal(file(same.codec, same.a), file(same.codec, same.b)) {
			t.Errorf("%s levels %d and %d wrote different files", same.codec, same.a, same.b)
		}
	}
	for _, c := range []string{"zstd", "gzip"} {
		one := writeFormat(t, "parquet", ParquetOptions{Compression: c, CompressionLevel: 1}, batches...)
		nine := writeFormat(t, "parquet", ParquetOptions{Compression: c, CompressionLevel: 9}, batches...)
		if bytes.Equal(one, nine) {
			t.Errorf("%s levels 1 and 9 wrote the same file", c)
		}
		if a, b := readParquet(t, one).rows, readParquet(t, nine).rows; !reflect.DeepEqual(a, b) {
			t.Errorf("%s levels 1 and 9 wrote other rows", c)
		}
	}
}

// TestParquetConcurrency checks that columns encoded by several goroutines
// make the same file, byte for byte, as one goroutine, with one row group
// or several (the last pages of each are compressed in parallel, the last
// row group's at Close), with every codec, and that parquet-go's column
// writers and codecs share nothing unsynchronised (go test -race).
func TestParquetConcurrency(t *testing.T) {
	batches := []*Batch{wideBatch(1), wideBatch(37), wideBatch(0), wideBatch(100), wideBatch(3000)}
	for _, o := range []ParquetOptions{{}, {RowGroupRows: 16}, {RowGroupRows: 16, Compression: "snappy"}, {RowGroupBytes: 1, Compression: "gzip"}} {
		o.Concurrency = 1
		want := writeFormat(t, "parquet", o, batches...)
		if got := len(readParquet(t, want).rows); got != 3138 {
			t.Fatalf("%+v: %d rows, want 3138", o, got)
		}
		for _, c := range []int{2, 3, 16} {
			o.Concurrency = c
			if got := writeFormat(t, "parquet", o, batches...); !bytes.Equal(got, want) {
				t.Errorf("%+v: the file differs from the one written with Concurrency 1", o)
			}
		}
	}
}

// sameValue compares typed values; floats by bits, so -0.0 and 0.0 differ.
func sameValue(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return reflect.DeepEqual(a, b)
}

func TestParquetMetadata(t *testing.T) {
	b := wideBatch(3)
	data := writeFormat(t, "parquet", ParquetOptions{
		Metadata:  map[string]string{"jj.version": "9.9.9", "jj.config": `{"flow_timeout":60}`},
		CreatedBy: "jj", Version: "9.9.9",
	}, b)
	pq := readParquet(t, data)
	if pq.meta["jj.version"] != "9.9.9" || pq.meta["jj.config"] != `{"flow_timeout":60}` {
		t.Errorf("metadata = %v", pq.meta)
	}
	var cols []ColumnInfo
	if err := json.Unmarshal([]byte(pq.meta[MetaColumns]), &cols); err != nil {
		t.Fatalf("%s: %v", MetaColumns, err)
	}
	want := ColumnInfo{Group: "g", Name: "i", Type: "int64", Unit: "bytes", Direction: "fwd", Privacy: "identifier"}
	if len(cols) != len(b.Schema) || cols[1] != want || cols[0].Description != `text, with "quotes"` {
		t.Errorf("%s = %+v, want column 1 %+v", MetaColumns, cols, want)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Metadata().CreatedBy; !strings.HasPrefix(got, "jj version 9.9.9") {
		t.Errorf("created_by = %q, want jj version 9.9.9", got)
	}
}

func TestParquetEmpty(t *testing.T) {
	b := wideBatch(0)
	pq := readParquet(t, writeFormat(t, "parquet", ParquetOptions{}, b))
	if len(pq.rows) != 0 || len(pq.names) != len(b.Schema) {
		t.Errorf("empty file: %d rows, columns %v", len(pq.rows), pq.names)
	}
}

func TestParquetOptionErrors(t *testing.T) {
	if _, err := NewParquetWriter(io.Discard, wideBatch(0).Schema, ParquetOptions{Compression: "lzo"}); err == nil || !strings.Contains(err.Error(), "lzo") {
		t.Errorf("compression lzo: err = %v", err)
	}
	dup := []Column{{Name: "a", Type: Int}, {Name: "a", Type: Float}}
	if _, err := NewParquetWriter(io.Discard, dup, ParquetOptions{}); err == nil {
		t.Error("duplicate column: no error")
	}
	if !ValidCompression("snappy") || ValidCompression("lz4") {
		t.Error("ValidCompression")
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestParquetWriteError(t *testing.T) {
	b := wideBatch(50)
	w, err := NewParquetWriter(&failWriter{n: 10}, b.Schema, ParquetOptions{RowGroupRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(b)
	if err == nil {
		err = w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write to a failing writer: err = %v, want disk full", err)
	}
	if err2 := w.Write(b); err2 == nil {
		t.Error("Write after a failure succeeded")
	}
}

func BenchmarkParquetWrite(b *testing.B) {
	batch := wideBatch(4096)
	w, err := NewParquetWriter(io.Discard, batch.Schema, ParquetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch.Len()), "ns/row")
}

func ExampleNewParquetWriter() {
	schema := []Column{{Name: "protocol", Type: Int}, {Name: "hdr_desc", Type: String}}
	b := NewBatch(schema)
	b.AppendInt(0, 6)
	b.AppendString(1, "ETH-IP-TCP")
	b.EndRow()
	var buf bytes.Buffer
	w, _ := NewParquetWriter(&buf, schema, ParquetOptions{Compression: "zstd"})
	_ = w.Write(b)
	_ = w.Close()
	fmt.Println(string(buf.Bytes()[:4]), string(buf.Bytes()[buf.Len()-4:]))
	// Output: PAR1 PAR1
}

// TestAppendRows checks AppendRows against AppendRow: ranges of every
// length, empty ones, the first row and the last, appended after rows
// already in the batch, give the same values in every column.
func TestAppendRows(t *testing.T) {
	src := wideBatch(50)
	ranges := [][2]int{{0, 0}, {0, 1}, {1, 7}, {7, 7}, {7, 32}, {32, 49}, {49, 50}, {0, 50}, {13, 14}}
	got, want := NewBatch(src.Schema), NewBatch(src.Schema)
	got.AppendRow(src, 3) // a destination that already holds a row
	want.AppendRow(src, 3)
	for _, rg := range ranges {
		got.AppendRows(src, rg[0], rg[1])
		for r := rg[0]; r < rg[1]; r++ {
			want.AppendRow(src, r)
		}
	}
	if got.Len() != want.Len() {
		t.Fatalf("%d rows, want %d", got.Len(), want.Len())
	}
	for r := range want.Len() {
		for c := range src.Schema {
			if g, w := got.Value(c, r), want.Value(c, r); !reflect.DeepEqual(g, w) {
				t.Errorf("row %d column %s = %#v, want %#v", r, src.Schema[c].Name, g, w)
			}
		}
	}
}

// TestParquetBatchSizes writes the same 2 600 rows in batches of 1, of
// 300 and of all of them: the files are identical, and with RowGroupBytes
// of 1 each row group ends at the first size check, every blockRows rows.
func TestParquetBatchSizes(t *testing.T) {
	const rows = 2600
	whole := wideBatch(rows)
	split := func(size int) []*Batch {
		var bs []*Batch
		for start := 0; start < rows; start += size {
			b := NewBatch(whole.Schema)
			for r := start; r < min(start+size, rows); r++ {
				b.AppendRow(whole, r)
			}
			bs = append(bs, b)
		}
		return bs
	}
	o := ParquetOptions{RowGroupBytes: 1}
	want := writeFormat(t, "parquet", o, whole)
	for _, size := range []int{1, 300} {
		if got := writeFormat(t, "parquet", o, split(size)...); !bytes.Equal(got, want) {
			t.Errorf("batches of %d rows: another file than one batch", size)
		}
	}
	// Row groups of 700 rows, which end inside batches and inside blocks.
	o7 := ParquetOptions{RowGroupRows: 700}
	want7 := writeFormat(t, "parquet", o7, whole)
	for _, size := range []int{1, 7, 300, 1025} {
		if got := writeFormat(t, "parquet", o7, split(size)...); !bytes.Equal(got, want7) {
			t.Errorf("row groups of 700, batches of %d rows: another file than one batch", size)
		}
	}
	if g := readParquet(t, want7).rowGroups; !reflect.DeepEqual(g, []int64{700, 700, 700, 500}) {
		t.Errorf("row groups of 700 = %v, want 700, 700, 700, 500", g)
	}
	if g := readParquet(t, want).rowGroups; !reflect.DeepEqual(g, []int64{blockRows, blockRows, rows - 2*blockRows}) {
		t.Errorf("row groups = %v, want %d, %d, %d", g, blockRows, blockRows, rows-2*blockRows)
	}
}
