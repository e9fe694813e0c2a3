package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAppendFloatAgainstStrconv checks the fast paths of AppendFloat
// against strconv's shortest formatting on random values of every
// magnitude jj writes, whole numbers included.
func TestAppendFloatAgainstStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ref := func(f float64) string {
		if f == 0 {
			return strconv.FormatFloat(f, 'f', 1, 64)
		}
		if a := math.Abs(f); a >= 1e16 || a < 1e-4 {
			return strconv.FormatFloat(f, 'e', -1, 64)
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Whole numbers of every length and both signs, which AppendFloat
	// tells apart by their bits and writes in one store below 10^6, and
	// the values next to them, which it must not take for whole.
	var special []float64
	for v := -3000; v <= 3000; v++ {
		special = append(special, float64(v))
	}
	for p := 1.0; p < 1e17; p *= 10 {
		for _, v := range []float64{p - 1, p, p + 1, math.Ldexp(1, int(math.Log2(p))), math.Ldexp(1, int(math.Log2(p))+1) - 1} {
			special = append(special, v, -v, math.Nextafter(v, 0), math.Nextafter(v, 2*v+1))
		}
	}
	for _, f := range special {
		if got, want := string(AppendFloat([]byte("x,"), f)), "x,"+ref(f); got != want {
			t.Fatalf("AppendFloat(%v) = %q, want %q", f, got, want)
		}
	}
	for i := 0; i < 2000000; i++ {
		var f float64
		switch i % 8 {
		case 0:
			f = math.Float64frombits(r.Uint64()) // any bit pattern
		case 1:
			f = float64(r.Int64N(1<<54)) - 1<<53 // whole numbers around 2^53
		case 2:
			f = math.Ldexp(r.Float64(), r.IntN(120)-60)
		case 3:
			f = float64(r.Int64N(1e9)) / float64(1+r.Int64N(1e6))
		case 4: // seconds from nanoseconds, as jj's times
			f = float64(r.Int64N(1e15)) / 1e9
		case 5: // short decimals
			f = float64(r.Int64N(1e7)) / float64([]int64{10, 100, 1000, 1e4, 1e5, 1e6}[r.IntN(6)])
		case 6: // Unix times with microseconds, milliseconds, nanoseconds
			f = float64(1e15+r.Int64N(8e15)) / 1e6
			switch r.IntN(4) {
			case 1:
				f = float64(1e12+r.Int64N(8e12)) / 1e3
			case 2:
				f = math.Nextafter(f, math.Inf(int(r.IntN(2))*2-1)) // a neighbour: rarely a short decimal
			case 3: // Unix times with microseconds, up to 2^32
				f = float64(1e12+r.Int64N(1<<32*1e6-1e12+1e9)) / 1e6
			}
		case 7: // any value in the range of the microsecond path
			f = 1e6 + r.Float64()*9e9
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if got, want := string(AppendFloat(nil, f)), ref(f); got != want {
			t.Fatalf("AppendFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	cases := []struct {
		f    float64
		want string // Python's repr of the same value
	}{
		{0, "0.0"}, {1, "1.0"}, {-2, "-2.0"}, {0.1, "0.1"}, {1.5, "1.5"},
		{1704067200.123456, "1704067200.123456"}, {1e15, "1000000000000000.0"},
		{1e16, "1e+16"}, {1.5e-5, "1.5e-05"}, {0.0001, "0.0001"}, {123456789.0, "123456789.0"},
		{math.NaN(), "0.0"}, {math.Inf(1), "0.0"},
	}
	for _, c := range cases {
		got := string(AppendFloat(nil, c.f))
		if got != c.want {
			t.Errorf("AppendFloat(%v) = %q, want %q", c.f, got, c.want)
		}
		if !math.IsNaN(c.f) && !math.IsInf(c.f, 0) {
			if back, err := strconv.ParseFloat(got, 64); err != nil || back != c.f {
				t.Errorf("%q reads back as %v, %v", got, back, err)
			}
		}
	}
}

func testBatch() *Batch {
	schema := []Column{
		{Name: "s", Type: String}, {Name: "i", Type: Int}, {Name: "f", Type: Float},
		{Name: "b", Type: Bool}, {Name: "il", Type: IntList}, {Name: "fl", Type: FloatList},
	}
	b := NewBatch(schema)
	b.AppendString(0, `a,"b"`)
	b.AppendInt(1, -7)
	b.AppendFloat(2, 2)
	b.AppendBool(3, true)
	b.AppendIntList(4, []int64{1, -2})
	b.AppendFloatList(5, []float64{0.5, 3})
	b.EndRow()
	b.AppendString(0, "ETH-IP-TCP\n\x01")
	b.AppendInt(1, 1<<40)
	b.AppendFloat(2, 0.25)
	b.AppendBool(3, false)
	b.AppendIntList(4, nil)
	b.AppendFloatList(5, []float64{})
	b.EndRow()
	return b
}

func write(t *testing.T, format string, batches ...*Batch) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(format, &buf, testBatch().Schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestCSV(t *testing.T) {
	out := write(t, "csv", testBatch())
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read our CSV: %v\n%s", err, out)
	}
	want := [][]string{
		{"s", "i", "f", "b", "il", "fl"},
		{`a,"b"`, "-7", "2.0", "true", "[1,-2]", "[0.5,3.0]"},
		{"ETH-IP-TCP\n\x01", "1099511627776", "0.25", "false", "[]", "[]"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if recs[i][j] != want[i][j] {
				t.Errorf("record %d field %d = %q, want %q", i, j, recs[i][j], want[i][j])
			}
		}
	}
	if got := write(t, "csv"); got != "s,i,f,b,il,fl\n" {
		t.Errorf("empty CSV = %q, want the header alone", got)
	}
}

// TestCSVPlain checks that the CSV writer copies a Plain column's text as
// it is and quotes the same text in a column that is not: the flag is the
// extractor's promise that nothing needs quoting (jj's TestPlainColumns
// checks flow_meta keeps it), so the writer does not look.
func TestCSVPlain(t *testing.T) {
	schema := []Column{{Name: "p", Type: String, Plain: true}, {Name: "q", Type: String}, {Name: "r", Type: String, Plain: true}}
	b := NewBatch(schema)
	b.AppendString(0, "10.0.0.1")
	b.AppendString(1, "a,b")
	b.AppendString(2, "x,y")
	b.EndRow()
	var buf bytes.Buffer
	w, err := NewWriter("csv", &buf, schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "p,q,r\n10.0.0.1,\"a,b\",x,y\n"; got != want {
		t.Errorf("CSV = %q, want %q", got, want)
	}
}

// TestCSVIntegers checks the integers of CSV rows against strconv: values
// at and around every power of ten, both signs, the extremes and random
// values of every length, through appendIntComma alone (with the values
// below 10 it leaves to appendInt) and in rows: three Int columns one
// after the other and one after a string, encoded after text already
// there.
func TestCSVIntegers(t *testing.T) {
	vals := []int64{0, 1, 9, 10, 11, 99, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= 1e18; p *= 10 {
		vals = append(vals, p-1, p, p+1, -p, -p+1, -p-1)
	}
	r := rand.New(rand.NewPCG(15, 16))
	for range 30000 {
		v := int64(r.Uint64() >> r.UintN(64))
		if r.IntN(4) == 0 {
			v = -v
		}
		vals = append(vals, v)
	}
	schema := []Column{{Name: "a", Type: Int}, {Name: "b", Type: Int}, {Name: "c", Type: Int}, {Name: "s", Type: String}, {Name: "d", Type: Int}}
	b := NewBatch(schema)
	want := []byte("earlier text,")
	for i := range vals {
		row := []int64{vals[i], vals[(i+1)%len(vals)], vals[(i+7)%len(vals)], vals[(i+13)%len(vals)]}
		b.AppendInt(0, row[0])
		b.AppendInt(1, row[1])
		b.AppendInt(2, row[2])
		b.AppendString(3, "x")
		b.AppendInt(4, row[3])
		b.EndRow()
		want = fmt.Appendf(want, "%d,%d,%d,x,%d\n", row[0], row[1], row[2], row[3])
	}
	// appendIntComma alone, for the values EncodeRows writes otherwise.
	for _, v := range vals {
		if got, want := string(appendIntComma([]byte("x"), v)), "x"+strconv.FormatInt(v, 10)+","; got != want {
			t.Fatalf("appendIntComma(%d) = %q, want %q", v, got, want)
		}
	}
	w, err := NewWriter("csv", io.Discard, schema)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := w.(RowEncoder).EncodeRows([]byte("earlier text,"), nil, b)
	if !bytes.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				lo := max(i-40, 0)
				t.Fatalf("CSV integers differ at byte %d: got %q, want %q", i, got[lo:min(i+40, len(got))], want[lo:min(i+40, len(want))])
			}
		}
		t.Fatalf("CSV integers: got %d bytes, want %d", len(got), len(want))
	}
}

func TestJSON(t *testing.T) {
	for _, format := range []string{"jsonl", "json"} {
		out := write(t, format, testBatch(), testBatch())
		var rows []map[string]any
		if format == "json" {
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
		} else {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("jsonl line %q: %v", line, err)
				}
				rows = append(rows, m)
			}
		}
		if len(rows) != 4 {
			t.Fatalf("%s: %d rows, want 4", format, len(rows))
		}
		r := rows[0]
		if r["s"] != `a,"b"` || r["i"] != -7.0 || r["f"] != 2.0 || r["b"] != true {
			t.Errorf("%s row 0 = %v", format, r)
		}
		if l, ok := r["fl"].([]any); !ok || len(l) != 2 || l[1] != 3.0 {
			t.Errorf("%s fl = %v, want [0.5 3]", format, r["fl"])
		}
		if rows[1]["s"] != "ETH-IP-TCP\n\x01" {
			t.Errorf("%s escaped string = %q", format, rows[1]["s"])
		}
	}
	if got := write(t, "json"); got != "[]\n" {
		t.Errorf("empty JSON = %q, want []", got)
	}
}

func TestFormatFromPath(t *testing.T) {
	for path, want := range map[string]string{"a.csv": "csv", "b.JSONL": "jsonl", "c.ndjson": "jsonl", "d.json": "json", "e.txt": "", "": "",
		"f.csv.gz": "csv", "g.json.ZST": "json", "h.gz": "", "i.parquet.gz": "parquet", "j.gz.csv": "csv"} {
		if got := FormatFromPath(path); got != want {
			t.Errorf("FormatFromPath(%q) = %q, want %q", path, got, want)
		}
	}
	for path, want := range map[string]string{"a.csv.gz": "gzip", "b.jsonl.ZST": "zstd", "c.gz": "gzip", "d.csv": "", "e.gz.csv": "", "f.tgz": ""} {
		if got := CompressionFromPath(path); got != want {
			t.Errorf("CompressionFromPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func BenchmarkAppendFloat(b *testing.B) {
	cases := map[string]float64{"micros": 1704067200.123456, "nanos": 12.000123456, "short": 0.0123, "whole": 1500,
		"long": 15114.285714285714, "long17": 0.00044654205351294247, "zero": 0}
	for name, f := range cases {
		b.Run(name, func(b *testing.B) {
			var buf []byte
			for range b.N {
				buf = AppendFloat(buf[:0], f)
			}
		})
	}
}

// BenchmarkAppendFloatMix formats the float columns of a --features all
// row in the proportions of the main benchmark capture's (counted from
// its CSV, bench/RESULTS.md, session 13): 10 % zero, 20 % whole numbers,
// 38 % decimals of at most 6 or 9 places (times in seconds), 32 % of 15 to
// 17 significant digits (means, ratios, rates). One value after another of
// different kinds costs more than the same value over and over
// (BenchmarkAppendFloat): the branches that pick the path are mispredicted.
func BenchmarkAppendFloatMix(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := make([]float64, 1<<16)
	for i := range vals {
		switch x := r.IntN(100); {
		case x < 10:
		case x < 30:
			vals[i] = float64(r.IntN(1500))
		case x < 61:
			vals[i] = float64(r.Int64N(1e7)) / 1e6
		case x < 68:
			vals[i] = float64(r.Int64N(1e9)) / 1e9
		default:
			vals[i] = float64(1+r.Int64N(1e6)) / float64(3+r.Int64N(1000))
		}
	}
	benchFloats(b, vals)
}

// benchFloats formats vals one after the other, a comma before each, into
// a buffer of 128 KiB emptied as it fills; len(vals) is a power of two.
func benchFloats(b *testing.B, vals []float64) {
	buf := make([]byte, 0, 1<<17)
	b.ResetTimer()
	for i := range b.N {
		if len(buf) > 1<<16 {
			buf = buf[:0]
		}
		buf = AppendFloat(append(buf, ','), vals[i&(len(vals)-1)])
	}
}

// BenchmarkAppendFloatLong formats varied values of 15 to 17 significant
// digits, the means, ratios and deviations that make a third of a
// --features all row's floats and most of its formatting time: shortest
// and appendShortest, with the branches a changing magnitude and digit
// count mispredict (BenchmarkAppendFloat/long repeats one value).
func BenchmarkAppendFloatLong(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	vals := make([]float64, 1<<16)
	for i := range vals {
		q := 3 + r.Int64N(1e6) // a quotient from 1 to 10, 1e-3 to 1e6 in all
		vals[i] = float64(q+r.Int64N(9*q)) / float64(q) * math.Pow(10, float64(r.IntN(9)-3))
	}
	benchFloats(b, vals)
}

// TestAppendInt checks appendInt and appendUint against strconv: every
// value near a power of ten, both signs, the extremes, and random values
// of every bit length, each appended after existing text.
func TestAppendInt(t *testing.T) {
	var vals []int64
	for v := int64(-1000); v <= 1000; v++ {
		vals = append(vals, v)
	}
	for p := int64(10); ; p *= 10 {
		vals = append(vals, p-1, p, p+1, 1-p, -p, -p-1)
		if p > math.MaxInt64/10 {
			break
		}
	}
	vals = append(vals, math.MaxInt64, math.MinInt64, math.MinInt64+1)
	r := rand.New(rand.NewPCG(1, 2))
	for bits := 1; bits < 64; bits++ {
		for range 2000 {
			v := int64(r.Uint64() >> (64 - bits))
			vals = append(vals, v, -v)
		}
	}
	for _, v := range vals {
		prefix := []byte("x,") // capacity 2: appending must grow
		if got, want := string(appendInt(prefix[:2:2], v)), string(strconv.AppendInt([]byte("x,"), v, 10)); got != want {
			t.Fatalf("appendInt(%d) = %q, want %q", v, got, want)
		}
	}
	for _, u := range []uint64{math.MaxUint64, math.MaxUint64 - 1, 1e19, 1e19 - 1, 1<<63 + 5} {
		if got, want := string(appendUint(nil, u)), strconv.FormatUint(u, 10); got != want {
			t.Fatalf("appendUint(%d) = %q, want %q", u, got, want)
		}
	}
}

// TestShortest checks shortest against strconv's shortest formatting on
// values of every kind in its range: any bits, powers of two and their
// neighbours (whose lower neighbour is nearer), quotients of integers,
// values next to powers of ten, and sums of short decimals.
func TestShortest(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	fallbacks, n := 0, 0
	check := func(v float64) {
		t.Helper()
		if v < 1e-4 || v >= 1e14 || v == math.Trunc(v) {
			return
		}
		n++
		want := strconv.FormatFloat(v, 'f', -1, 64)
		d, k, ok := shortest(v)
		if !ok {
			fallbacks++ // left to strconv
			return
		}
		// appendShortest writes it after text already there, with the
		// whole part it is given, and negated.
		if got := string(appendShortest([]byte("x,"), false, d, k, uint64(v))); got != "x,"+want {
			t.Fatalf("shortest(%v) = %q, want %q", v, got, "x,"+want)
		}
		if got := string(appendShortest(nil, true, d, k, uint64(v))); got != "-"+want {
			t.Fatalf("shortest(%v) negated = %q, want %q", v, got, "-"+want)
		}
	}
	for i := 0; i < 3000000; i++ {
		var v float64
		switch i % 6 {
		case 0: // any value in range
			v = math.Float64frombits(0x3f1a36e2eb1c432d + r.Uint64N(0x42d6bcc41e900000-0x3f1a36e2eb1c432d))
		case 1: // a power of two or a neighbour
			v = math.Ldexp(1, r.IntN(60)-13)
			for range r.IntN(3) {
				v = math.Nextafter(v, math.Inf(2*r.IntN(2)-1))
			}
		case 2:
			v = float64(r.Int64N(1e9)) / float64(1+r.Int64N(1e6))
		case 3: // next to a power of ten
			v = math.Pow(10, float64(r.IntN(18)-4))
			for range r.IntN(4) {
				v = math.Nextafter(v, math.Inf(2*r.IntN(2)-1))
			}
		case 4: // sums of short decimals, as 0.1 + 0.2
			v = float64(r.IntN(1000))/10 + float64(r.IntN(1000))/100
		case 5: // any magnitude in range, uniform digits
			v = math.Pow(10, r.Float64()*18-4)
		}
		check(v)
	}
	if fallbacks > 0 {
		t.Errorf("%d of %d values left to strconv, want none", fallbacks, n)
	}
}

// TestAppendNanos checks appendNanos against the text of n·10^-9 built
// from strconv's integer text (the whole part, a point, the nine
// fractional digits with trailing zeros trimmed, one kept): every n below
// 20 000, random n up to 10^15 with 0 to 9 trailing zeros, and the
// extremes, both signs, after text already in dst.
func TestAppendNanos(t *testing.T) {
	want := func(neg bool, n uint64) string {
		frac := strings.TrimRight(fmt.Sprintf("%09d", n%1e9), "0")
		if frac == "" {
			frac = "0"
		}
		s := strconv.FormatUint(n/1e9, 10) + "." + frac
		if neg {
			s = "-" + s
		}
		return s
	}
	check := func(n uint64) {
		t.Helper()
		for _, neg := range []bool{false, true} {
			dst := []byte("x,")
			if got := string(appendNanos(dst, neg, n)); got != "x,"+want(neg, n) {
				t.Fatalf("appendNanos(%v, %d) = %q, want %q", neg, n, got, "x,"+want(neg, n))
			}
		}
	}
	for n := uint64(0); n < 20000; n++ {
		check(n)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		z := r.IntN(10)
		pow := uint64(1)
		for range z {
			pow *= 10
		}
		check(r.Uint64N(1e15/pow) * pow)
	}
	for _, n := range []uint64{1e9, 1e9 + 1, 1e15 - 1, 1e15 - 1e9, 999_999_999, 123_456_789_000_000} {
		check(n)
	}
}

// TestAppendMicros checks appendMicros against the text of n·10^-6 built
// from strconv's integer text (the whole part, a point, the six fractional
// digits with trailing zeros trimmed): every n below 20 000 that is not a
// multiple of 10^6, random n up to 2^33·10^6 with 0 to 5 trailing zeros,
// Unix times, and the extremes, both signs, after text already in dst.
func TestAppendMicros(t *testing.T) {
	want := func(neg bool, n uint64) string {
		s := strconv.FormatUint(n/1e6, 10) + "." + strings.TrimRight(fmt.Sprintf("%06d", n%1e6), "0")
		if neg {
			s = "-" + s
		}
		return s
	}
	check := func(n uint64) {
		t.Helper()
		if n%1e6 == 0 {
			return // a whole number: AppendFloat's own path
		}
		for _, neg := range []bool{false, true} {
			if got := string(appendMicros([]byte("x,"), neg, n)); got != "x,"+want(neg, n) {
				t.Fatalf("appendMicros(%v, %d) = %q, want %q", neg, n, got, "x,"+want(neg, n))
			}
		}
	}
	for n := uint64(0); n < 20000; n++ {
		check(n)
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 200000 {
		pow := []uint64{1, 10, 100, 1000, 1e4, 1e5}[r.IntN(6)]
		check(r.Uint64N(1<<33*1e6/pow) * pow)
		check(1_704_067_200_000_000 + r.Uint64N(1e13)) // Unix times of 2024
	}
	for _, n := range []uint64{1, 999_999, 1_000_001, 1<<33*1e6 - 1, 1_704_067_200_100_000, 1_704_067_200_000_001,
		1e15 - 1, 1e15 + 1, 1e15 + 999_999, 1e15 + 100_000, 1e16 - 1, 1e16 - 1_000_001, 9_999_999_999_000_010} {
		check(n)
	}
}

// TestNearest checks nearest against exact arithmetic (math/big): the n
// it returns must be the one of the two integers around v·scale whose
// n/scale rounds to v, and it must refuse v when neither does. The values
// are n/scale for random n, whole or with trailing zeros, and the floats
// one and two ulps away, random floats, and the powers of two (whose ulp
// below is half the one above) and their neighbours, over both ranges.
func TestNearest(t *testing.T) {
	ranges := []struct {
		scale  uint64
		lo, hi float64
	}{{1e9, 1e-4, 1e6}, {1e6, 1e6, 1 << 33}}
	exact := func(v float64, scale uint64) (uint64, bool) {
		x := new(big.Rat).SetFloat64(v)
		x.Mul(x, new(big.Rat).SetInt(new(big.Int).SetUint64(scale)))
		q := new(big.Int).Quo(x.Num(), x.Denom()).Uint64() // v > 0: the floor
		for _, n := range []uint64{q, q + 1} {
			if f, _ := new(big.Rat).SetFrac(new(big.Int).SetUint64(n), new(big.Int).SetUint64(scale)).Float64(); f == v {
				return n, true
			}
		}
		return 0, false
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, rg := range ranges {
		accepted, checked := 0, 0
		check := func(v float64) {
			t.Helper()
			if v < rg.lo || v >= rg.hi || v == math.Trunc(v) {
				return // outside the range, or whole: not asked
			}
			b := math.Float64bits(v)
			n, ok := nearest(b&(1<<52-1)|1<<52, uint(1075-b>>52), rg.scale)
			wn, wok := exact(v, rg.scale)
			if ok != wok || ok && n != wn {
				t.Fatalf("nearest(%v, scale %d) = %d, %v; want %d, %v", v, rg.scale, n, ok, wn, wok)
			}
			checked++
			if ok {
				accepted++
			}
		}
		near := func(v float64) {
			t.Helper()
			up, down := math.Nextafter(v, math.Inf(1)), math.Nextafter(v, 0)
			for _, w := range []float64{v, up, down, math.Nextafter(up, math.Inf(1)), math.Nextafter(down, 0)} {
				check(w)
			}
		}
		for p := math.Ldexp(1, math.Ilogb(rg.lo)); p < rg.hi; p *= 2 {
			near(p)
			near(p * 1.5)
		}
		lo, hi := uint64(math.Ceil(rg.lo*float64(rg.scale))), uint64(rg.hi*float64(rg.scale))
		for range 40000 {
			near(float64(lo+r.Uint64N(hi-lo)) / float64(rg.scale))
			// n with trailing zeros, as times from coarser clocks.
			z := uint64(math.Pow10(r.IntN(6)))
			near(float64((lo+r.Uint64N(hi-lo))/z*z) / float64(rg.scale))
			check(rg.lo + r.Float64()*(rg.hi-rg.lo))
			check(math.Exp(math.Log(rg.lo) + r.Float64()*(math.Log(rg.hi)-math.Log(rg.lo))))
		}
		if accepted < checked/10 {
			t.Fatalf("scale %d: %d of %d values accepted: the test draws too few decimals", rg.scale, accepted, checked)
		}
	}
}

// TestFloatMemo checks the text encoders' float memo against AppendFloat:
// rows of values drawn from a small pool (so that most repeat, in the same
// row and across rows: zeros of both signs, whole numbers, times, long
// ratios, NaN) give the text of formatting every value, in a dst that
// starts with text of its own and grows by reallocation along the way.
func TestFloatMemo(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pool := []float64{0, math.Copysign(0, -1), 1, 1500, 0.5, 1704067200.123456, 0.000126, 1.0 / 3, 2.0 / 3,
		65.57142857142857, 1e-7, 3e17, math.NaN()}
	for range 40 {
		pool = append(pool, float64(r.Int64N(1e12))/float64(1+r.Int64N(1e4)))
	}
	// Half the values come from many more than the memo has entries, so
	// that values take one another's entries.
	rare := make([]float64, 20000)
	for i := range rare {
		rare[i] = float64(r.Int64N(1e9)) / float64(1+r.Int64N(1e3))
	}
	value := func() float64 {
		if r.IntN(2) == 0 {
			return rare[r.IntN(len(rare))]
		}
		return pool[r.IntN(len(pool))]
	}
	schema := []Column{{Name: "a", Type: Float}, {Name: "s", Type: String}, {Name: "b", Type: Float}, {Name: "i", Type: Int}, {Name: "c", Type: Float}}
	b := NewBatch(schema)
	for range 20000 {
		b.AppendFloat(0, value())
		b.AppendString(1, "x")
		b.AppendFloat(2, value())
		b.AppendInt(3, r.Int64N(100))
		b.AppendFloat(4, value())
		b.EndRow()
	}
	for _, format := range []string{"csv", "jsonl"} {
		w, err := NewWriter(format, io.Discard, schema)
		if err != nil {
			t.Fatal(err)
		}
		enc := w.(RowEncoder)
		got, ends := enc.EncodeRows([]byte("earlier text,"), nil, b)
		want := []byte("earlier text,")
		for row := range b.Len() {
			sep, open, close, key := ",", "", "\n", func(string) string { return "" }
			if format == "jsonl" {
				open, close, key = "{", "}\n", func(n string) string { return `"` + n + `":` }
			}
			want = append(want, open+key("a")...)
			want = AppendFloat(want, b.Float(0, row))
			if format == "jsonl" {
				want = append(want, sep+key("s")+`"x"`...)
			} else {
				want = append(want, sep+"x"...)
			}
			want = append(want, sep+key("b")...)
			want = AppendFloat(want, b.Float(2, row))
			want = append(want, sep+key("i")...)
			want = strconv.AppendInt(want, b.Int(3, row), 10)
			want = append(want, sep+key("c")...)
			want = AppendFloat(want, b.Float(4, row))
			want = append(want, close...)
			if ends[row] != len(want) {
				t.Fatalf("%s: row %d ends at %d, want %d", format, row, ends[row], len(want))
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: text differs from formatting every value", format)
		}
	}
}

// TestEncodeNoColumns: a row without columns is an empty line in CSV and
// an empty object in JSON lines (the encoders turn each row's last comma
// into its end, and a row of no columns has none).
func TestEncodeNoColumns(t *testing.T) {
	b := NewBatch(nil)
	b.EndRow()
	b.EndRow()
	for format, want := range map[string]string{"csv": "\n\n", "jsonl": "{}\n{}\n"} {
		w, err := NewWriter(format, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := w.(RowEncoder).EncodeRows(nil, nil, b); string(got) != want {
			t.Errorf("%s: %q, want %q", format, got, want)
		}
	}
}

// TestWriteGrowsOnce checks that Write sizes its buffers for a batch from
// the batches before it: a batch of 1 000 rows after one of 4 allocates
// its text and its row ends once each, where append grew them a quarter
// at a time, a new array at each step (about 20 allocations here).
func TestWriteGrowsOnce(t *testing.T) {
	schema := []Column{{Name: "i", Type: Int}, {Name: "f", Type: Float}}
	batch := func(rows int) *Batch {
		b := NewBatch(schema)
		for r := range rows {
			b.AppendInt(0, 1e9+int64(r)) // rows of one length
			b.AppendFloat(1, 0.125)
			b.EndRow()
		}
		return b
	}
	small, large := batch(4), batch(1000)
	for _, format := range []string{"csv", "jsonl", "json"} {
		// The fewest of three tries, each with a writer of its own, in
		// case another goroutine allocates while one is counted.
		n := uint64(math.MaxUint64)
		for range 3 {
			w, err := NewWriter(format, io.Discard, schema)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(small); err != nil {
				t.Fatal(err)
			}
			n = min(n, mallocs(func() {
				if err := w.Write(large); err != nil {
					t.Fatal(err)
				}
			}))
		}
		// JSON's array copies the rows once more, into its own buffer.
		want := uint64(2)
		if format == "json" {
			want = 3
		}
		if n > want {
			t.Errorf("%s: writing 1 000 rows after 4 made %d allocations, want at most %d", format, n, want)
		}
	}
}

// mallocs returns the number of heap allocations made while f ran.
func mallocs(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

func TestTextRoom(t *testing.T) {
	for _, c := range []struct {
		rows        int
		bytes, seen int64
		want        int
	}{
		{0, 1000, 10, 0},
		{10, 0, 0, 0},                // nothing seen yet
		{1000, 17000, 1000, 20250},   // 18 bytes a row (17 and one), an eighth more
		{4, 70, 4, 81},               // 18 a row: 72 + 9
		{1024, 10 << 20, 1, 1 << 20}, // a 10 MiB row seen: at most MaxTextRoom
		{3, 1 << 40, 2, 1 << 20},
		{1000, 1000 << 10, 1000, 1 << 20}, // 1 025 a row: 1 025 000 and an eighth, past the bound
	} {
		if got := textRoom(c.rows, c.bytes, c.seen); got != c.want {
			t.Errorf("textRoom(%d, %d, %d) = %d, want %d", c.rows, c.bytes, c.seen, got, c.want)
		}
	}
}

// TestTextRoomKeepsBuffer checks that the text writers make few new
// buffers as their batches grow: 200 batches of 1 to 200 rows, then 300
// of 200 rows each a byte longer than the last batch's (the average a row
// creeping up, as it did by a byte every few batches of --features all).
// Sized for each batch alone, the buffers were made again for 208 of the
// batches; at twice the room each time, for 16 (JSON lines) and 18 (CSV,
// whose first batch also holds the header). The rows growing by a byte a
// batch outrun the average, so that some batches still outgrow their
// room while being encoded.
func TestTextRoomKeepsBuffer(t *testing.T) {
	schema := []Column{{Name: "s", Type: String}, {Name: "i", Type: Int}}
	batch := func(rows, size int) *Batch {
		b := NewBatch(schema)
		for r := range rows {
			b.AppendString(0, strings.Repeat("x", size))
			b.AppendInt(1, int64(r))
			b.EndRow()
		}
		return b
	}
	for _, format := range []string{"csv", "jsonl"} {
		w, err := NewWriter(format, io.Discard, schema)
		if err != nil {
			t.Fatal(err)
		}
		buf := func() []byte {
			if c, ok := w.(*csvWriter); ok {
				return c.buf
			}
			return w.(*jsonWriter).buf
		}
		made, last := 0, (*byte)(nil)
		write := func(b *Batch) {
			t.Helper()
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			if p := unsafe.SliceData(buf()); p != last {
				made, last = made+1, p
			}
		}
		for rows := 1; rows <= 200; rows++ {
			write(batch(rows, 10))
		}
		for size := 11; size <= 310; size++ {
			write(batch(200, size))
		}
		if made > 24 {
			t.Errorf("%s: %d text buffers made for 500 growing batches, want at most 24", format, made)
		}
	}
}

// A few very long rows do not make a writer ask for their length for
// every row of the batches after them: a row of 64 KiB, then 1 000 short
// ones, leave the CSV buffer at the 64 KiB it needed, not 1 000 times it.
func TestWriteRoomBounded(t *testing.T) {
	schema := []Column{{Name: "s", Type: String}}
	long := NewBatch(schema)
	long.AppendString(0, strings.Repeat("x", 64<<10))
	long.EndRow()
	short := NewBatch(schema)
	for range 1000 {
		short.AppendString(0, "y")
		short.EndRow()
	}
	w, err := NewWriter("csv", io.Discard, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Batch{long, short} {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if c := cap(w.(*csvWriter).buf); c > 2*MaxTextRoom {
		t.Errorf("after a 64 KiB row and 1 000 of 2 bytes the CSV buffer holds %d bytes, want at most %d", c, 2*MaxTextRoom)
	}
}

// TestNeedsQuote checks needsQuote's eight bytes at a time against a
// comparison of each byte, on strings of every length up to 40 drawn from
// bytes next to the four it looks for, their values with the top bit set
// and zeros (where a subtraction borrows), with one of the four or none.
func TestNeedsQuote(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []byte{0, 1, '+', '-', '.', '!', '#', 0x0b, 0x0c, 0x0e, 0xac, 0xa2, 0x8a, 0x8d, 0xff, 'a', '0'}
	var s []byte
	for range 200000 {
		s = s[:0]
		for range r.IntN(41) {
			s = append(s, alphabet[r.IntN(len(alphabet))])
		}
		if len(s) > 0 && r.IntN(2) == 0 {
			s[r.IntN(len(s))] = ",\"\n\r"[r.IntN(4)]
		}
		want := bytes.ContainsAny(s, ",\"\n\r")
		if got := needsQuote(s); got != want {
			t.Fatalf("needsQuote(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestEncodeRowsOtherSchema checks that an encoder given a batch of fewer
// numbers a row than its schema panics (fixedRuns) rather than read past
// the batch's rows: word checks no bounds.
func TestEncodeRowsOtherSchema(t *testing.T) {
	wide := []Column{{Name: "a", Type: Int}, {Name: "b", Type: Float}, {Name: "c", Type: Int}}
	b := NewBatch([]Column{{Name: "a", Type: Int}})
	for i := range 3 {
		b.AppendInt(0, int64(i))
		b.EndRow()
	}
	for _, format := range []string{"csv", "jsonl"} {
		w, err := NewWriter(format, io.Discard, wide)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "a batch of 1 numbers a row for a writer of 3") {
					t.Errorf("%s: EncodeRows of a narrower batch: recovered %v, want fixedRuns's panic", format, r)
				}
			}()
			w.(RowEncoder).EncodeRows(nil, nil, b)
		}()
	}
}
