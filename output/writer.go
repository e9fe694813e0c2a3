package output

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/jjflow/jj/internal/mem"
)

// Writer writes batches of rows in one format.
type Writer interface {
	// Write writes every row of b. b may be reused after the call.
	Write(b *Batch) error
	// Close finishes the output (a JSON array's closing bracket, a CSV
	// header when no row was written) and flushes it. It does not close the
	// underlying io.Writer.
	Close() error
}

// RowEncoder is a Writer whose rows encode independently of one another
// (CSV, JSON lines, JSON): several goroutines can encode rows at once with
// EncodeRows, and the writer then only writes the text in order.
type RowEncoder interface {
	Writer
	// EncodeRows appends the text of every row of b to dst and the end
	// offset of each row in dst to ends. It is safe for concurrent use.
	EncodeRows(dst []byte, ends []int, b *Batch) ([]byte, []int)
	// WriteEncoded writes rows encoded by EncodeRows, in order: text holds
	// them whole, and ends the end offset of each.
	WriteEncoded(text []byte, ends []int) error
}

// Formats lists the output formats by name.
var Formats = []string{"csv", "jsonl", "json", "parquet"}

// FormatFromPath guesses a format from an output file's extension, before
// a compression's (flows.csv.gz is CSV); "" when the extension says
// nothing.
func FormatFromPath(path string) string {
	if c := CompressionFromPath(path); c != "" {
		path = path[:len(path)-len(filepath.Ext(path))]
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".json":
		return "json"
	case ".parquet", ".pq":
		return "parquet"
	}
	return ""
}

// CompressionFromPath is the compression an output file's name asks for:
// "gzip" for .gz, "zstd" for .zst, else "".
func CompressionFromPath(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gz":
		return "gzip"
	case ".zst":
		return "zstd"
	}
	return ""
}

// ValidFormat reports whether name is a known format.
func ValidFormat(name string) bool {
	for _, f := range Formats {
		if f == name {
			return true
		}
	}
	return false
}

// NewWriter returns a writer of the named format on w.
func NewWriter(format string, w io.Writer, schema []Column) (Writer, error) {
	switch format {
	case "csv":
		return &csvWriter{w: w, schema: schema, runs: typeRuns(schema)}, nil
	case "jsonl":
		return newJSONWriter(w, schema, false), nil
	case "json":
		return newJSONWriter(w, schema, true), nil
	case "parquet":
		return NewParquetWriter(w, schema, ParquetOptions{})
	}
	return nil, fmt.Errorf("unknown output format %q (known: %s)", format, strings.Join(Formats, ", "))
}

type csvWriter struct {
	w      io.Writer
	schema []Column
	runs   []*typeRun // the columns in runs of one type, each a pointer: the encoding loop reads them alone, and copying a typeRun took 6 of its instructions a run
	buf    []byte
	ends   []int
	header bool
	room   TextRoom
}

func (c *csvWriter) writeHeader() {
	c.header = true
	for i, col := range c.schema {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = appendCSVField(c.buf, []byte(col.Name))
	}
	c.buf = append(c.buf, '\n')
}

func (c *csvWriter) Write(b *Batch) error {
	c.buf = c.buf[:0]
	if !c.header {
		c.writeHeader()
	}
	c.buf = c.room.Make(c.buf, b.Len())
	start := len(c.buf)
	c.buf, c.ends = c.EncodeRows(c.buf, emptied(c.ends, b.Len()), b)
	c.room.Saw(len(c.buf)-start, b.Len())
	_, err := c.w.Write(c.buf)
	return err
}

// TextRoom sizes text buffers for a batch of rows before the rows are
// encoded, from the bytes a row has taken on average so far, so that a
// buffer grows once to about what the batch needs. Left to append, a
// buffer that goes from a few rows to a thousand grows a quarter at a
// time, each step a new array, copied into and faulted in page by page,
// most of them left to the collector: a fifth of the page faults of one
// worker on the 218 k-packet capture, at 10-15 µs each on this project's
// VM (bench/RESULTS.md, session 56). The room made ahead is at most
// MaxTextRoom, so that a few very long rows (a flow's packet sequences)
// do not make every later batch ask for their length a row: past it the
// text grows by append as before. The CSV and JSON writers keep one, and
// so does the pipeline for the workers that encode their own rows; it is
// safe for concurrent use. The zero value has seen no rows.
type TextRoom struct {
	bytes, rows atomic.Int64 // text and rows encoded so far
}

// MaxTextRoom bounds the room made for a batch ahead of encoding it: 1
// MiB, four times the 250-300 KB that the largest batches of flow_meta or
// --features all rows take.
const MaxTextRoom = 1 << 20

// Make returns buf with room for rows more rows: a new array, holding
// buf's bytes, when buf's is shorter (make rather than slices.Grow, which
// clears the new array's every page, and under the race detector
// allocates twice). A new array has at least twice the room of the old,
// up to MaxTextRoom: the average a row creeps up as rows come, and a
// batch may hold a few rows more than the last, and sized for each batch
// alone a buffer was made again for most of them. With --features all on
// the synthetic benchmark capture, one worker made 84 buffers, the last
// forty of about 309 KB each 247 bytes longer than the one before, 13 MB
// of fresh memory in all; flow_meta 49 (bench/RESULTS.md, session 57).
func (t *TextRoom) Make(buf []byte, rows int) []byte {
	need := textRoom(rows, t.bytes.Load(), t.rows.Load())
	if room := cap(buf) - len(buf); room < need {
		grown := make([]byte, len(buf), len(buf)+max(need, min(2*room, MaxTextRoom)))
		copy(grown, buf)
		mem.Prefault(grown[len(buf):cap(grown)]) // its pages at once, not a fault each as rows are encoded
		return grown
	}
	return buf
}

// Saw records that rows rows took n bytes of text.
func (t *TextRoom) Saw(n, rows int) {
	t.bytes.Add(int64(n))
	t.rows.Add(int64(rows))
}

// textRoom returns the room to make for the text of rows rows when
// earlier ones took bytes for seen rows: their average a row, an eighth
// more, up to MaxTextRoom; none before the first row.
func textRoom(rows int, bytes, seen int64) int {
	if seen <= 0 || rows <= 0 {
		return 0
	}
	perRow := bytes/seen + 1
	if perRow > MaxTextRoom/int64(rows) {
		return MaxTextRoom
	}
	n := rows * int(perRow)
	return min(n+n/8, MaxTextRoom)
}

// emptied returns s emptied, with room for n elements: a new array when
// s's is shorter, of at least twice the old one's capacity, so that a
// series of slightly longer batches does not make one each, and its pages
// allocated at once (mem.Grow).
func emptied[T any](s []T, n int) []T { return mem.Grow(s[:0], n) }

// EncodeRows implements RowEncoder. It takes a row's columns a run of one
// type at a time (typeRun), so that a loop per type writes them with no
// choice of type per value for the branch predictor to guess; the numbers
// of a run lie one after another in the row's fixed values. Each value is
// followed by a comma, and the row's last comma becomes its line break.
func (c *csvWriter) EncodeRows(dst []byte, ends []int, b *Batch) ([]byte, []int) {
	var cell []byte
	var memo floatMemo
	var scratch []uint64
	vals, stride := fixedRuns(b, &scratch, c.runs)
	for r := 0; r < b.Len(); r++ {
		row := unsafe.Pointer(unsafe.SliceData(vals[r*stride:]))
		for _, run := range c.runs {
			switch run.typ {
			case Int:
				for k := run.at; k < run.end; k++ {
					v := word(row, k)
					// Most integers have five digits or fewer (counts,
					// flags, sizes, ports): those go in without a call,
					// a byte a digit, by divisions by constants in 32
					// bits. (Those of three or four took a call to a
					// writer of one 8-byte store, 57 instructions with
					// the call, and the loop then loaded its registers
					// again: bench/RESULTS.md, session 68.)
					if v < 10 {
						dst = append(dst, byte('0'+v), ',')
					} else if v < 100 {
						dst = append(dst, byte('0'+v/10), byte('0'+v%10), ',')
					} else if v < 1000 {
						u := uint32(v)
						h := u / 100
						t := (u - 100*h) / 10
						dst = append(dst, byte('0'+h), byte('0'+t), byte('0'+u%10), ',')
					} else if v < 10000 {
						u := uint32(v)
						h, l := u/100, u%100
						dst = append(dst, byte('0'+h/10), byte('0'+h%10), byte('0'+l/10), byte('0'+l%10), ',')
					} else if v < 100000 { // ports, most of them
						u := uint32(v)
						f := u / 10000
						u -= 10000 * f
						h, l := u/100, u%100
						dst = append(dst, byte('0'+f), byte('0'+h/10), byte('0'+h%10), byte('0'+l/10), byte('0'+l%10), ',')
					} else {
						dst = appendIntComma(dst, int64(v))
					}
				}
			case Float:
				for k := run.at; k < run.end; k++ {
					v := word(row, k)
					// floatMemo.append written out (a call took more than
					// a hit's copy), the comma in the text: the memo
					// forgets a row's last value, whose comma became the
					// line break (dropLast).
					if e := memo.entry(v); e.bits == v && e.end != 0 {
						dst = copyText(dst, int(e.off), int(e.end)) // comma included
					} else {
						off := len(dst)
						dst = append(AppendFloat(dst, math.Float64frombits(v)), ',')
						e.set(v, off, len(dst))
					}
				}
			case Bool:
				for k := run.at; k < run.end; k++ {
					if word(row, k) != 0 {
						dst = append(dst, "true,"...)
					} else {
						dst = append(dst, "false,"...)
					}
				}
			default:
				for i := run.from; i < run.to; i++ {
					if run.typ == String {
						if s := b.Bytes(i, r); c.schema[i].Plain {
							// Nothing to quote: flow_meta's addresses,
							// flow_id and hdr_desc went through
							// needsQuote's scan, about half of the
							// 89 instructions a string took
							// (bench/RESULTS.md, session 68).
							dst = append(dst, s...)
						} else {
							dst = appendCSVField(dst, s)
						}
					} else {
						// A list: a JSON array in one cell; it always
						// holds commas.
						cell = appendValue(cell[:0], b, i, r)
						dst = appendCSVField(dst, cell)
					}
					dst = append(dst, ',')
				}
			}
		}
		dst = closeRow(dst, len(c.runs) > 0, '\n')
		if n := len(c.runs); n > 0 && c.runs[n-1].typ == Float {
			last := c.runs[n-1]
			memo.dropLast(word(row, last.end-1), len(dst))
		}
		ends = append(ends, len(dst))
	}
	return dst, ends
}

// closeRow ends a row whose every value was followed by a comma: its last
// comma becomes end. A row of no columns gets end alone.
func closeRow(dst []byte, columns bool, end byte) []byte {
	if !columns {
		return append(dst, end)
	}
	dst[len(dst)-1] = end
	return dst
}

// typeRun is a run of consecutive columns of one type: [from, to). A run
// of numbers (Int, Bool, Float) also says where its values lie among a
// row's numbers, which are in column order: [at, end).
type typeRun struct {
	typ      Type
	from, to int
	at, end  int
}

// word returns number k of row, a row of fixedRuns's values, unchecked.
// The encoders walk a run's numbers with it, k from at to end: as a slice
// (unsafe.Slice), each run paid unsafe.Slice's checks of its length.
func word(row unsafe.Pointer, k int) uint64 { return *(*uint64)(unsafe.Add(row, k*8)) }

// fixedRuns returns b's rows of numbers (Batch.fixedRows), after checking
// that they hold the numbers of runs, made by typeRuns from b's schema: a
// row's runs then lie within it, and word, which the encoders call
// for every run of every row, needs no bounds check of its own (those
// checks and the copy of each run took 56 M of the CSV encoder's 1 048 M
// instructions on the 500 000-packet synthetic capture with --features
// all: bench/RESULTS.md, session 69).
func fixedRuns(b *Batch, scratch *[]uint64, runs []*typeRun) (vals []uint64, stride int) {
	vals, stride = b.fixedRows(scratch)
	most := 0
	if n := len(runs); n > 0 {
		most = runs[n-1].end
	}
	if most > stride || len(vals) < b.Len()*stride {
		panic(fmt.Sprintf("output: a batch of %d numbers a row for a writer of %d", stride, most))
	}
	return vals, stride
}

// typeRuns returns the runs of columns of one type that schema makes, in
// order.
func typeRuns(schema []Column) []*typeRun {
	var runs []*typeRun
	k := 0 // the numbers before column i
	for i, col := range schema {
		t := col.Type
		if n := len(runs); n > 0 && runs[n-1].typ == t {
			runs[n-1].to = i + 1
		} else {
			runs = append(runs, &typeRun{typ: t, from: i, to: i + 1, at: k, end: k})
		}
		if t.Fixed() {
			k++
			runs[len(runs)-1].end = k
		}
	}
	return runs
}

// WriteEncoded implements RowEncoder.
func (c *csvWriter) WriteEncoded(text []byte, _ []int) error {
	if !c.header {
		c.buf = c.buf[:0]
		c.writeHeader()
		if _, err := c.w.Write(c.buf); err != nil {
			return err
		}
	}
	_, err := c.w.Write(text)
	return err
}

func (c *csvWriter) Close() error {
	if c.header {
		return nil
	}
	c.buf = c.buf[:0]
	c.writeHeader()
	_, err := c.w.Write(c.buf)
	return err
}

// appendCSVField quotes a field when it holds a comma, quote or line break
// (RFC 4180).
func appendCSVField(dst, s []byte) []byte {
	if !needsQuote(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, ch := range s {
		if ch == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, ch)
	}
	return append(dst, '"')
}

// needsQuote reports whether s holds a comma, a quote, a CR or an LF. The
// four are below '-', and the bytes of jj's strings (addresses, header and
// port class names) are not: eight bytes at a time, one subtraction tells
// that none is, and only a word with such a byte is looked at closely (a
// string of 8 bytes or more ends with a word that overlaps the one
// before). A comparison of each byte with each of the four took 4 % of a
// flow_meta run's instructions.
func needsQuote(s []byte) bool {
	const ones, tops = 0x0101_0101_0101_0101, 0x8080_8080_8080_8080
	if len(s) < 8 {
		for _, ch := range s {
			if ch <= ',' && (ch == ',' || ch == '"' || ch == '\n' || ch == '\r') {
				return true
			}
		}
		return false
	}
	for i := 0; ; i += 8 {
		i = min(i, len(s)-8)
		// (w − 0x2d…2d) &^ w has a byte's top bit set when a byte of w
		// is below 0x2d, the first such byte's at least.
		if w := binary.LittleEndian.Uint64(s[i:]); (w-ones*'-')&^w&tops != 0 && special(w) {
			return true
		}
		if i == len(s)-8 {
			return false
		}
	}
}

// special reports whether a byte of w is a comma, a quote, a CR or an LF:
// whether a byte of w XOR each, repeated, is zero, (x − 0x01…01) &^ x
// having a byte's top bit set when a byte of x is zero.
func special(w uint64) bool {
	const ones, tops = 0x0101_0101_0101_0101, 0x8080_8080_8080_8080
	zero := func(x uint64) uint64 { return (x - ones) &^ x }
	return (zero(w^(ones*','))|zero(w^(ones*'"'))|zero(w^(ones*'\n'))|zero(w^(ones*'\r')))&tops != 0
}

type jsonWriter struct {
	w      io.Writer
	schema []Column
	runs   []*typeRun // the columns in runs of one type
	array  bool
	rows   int
	buf    []byte
	ends   []int
	out    []byte   // a JSON array's rows with their separators
	keys   [][]byte // `"name":` for each column
	room   TextRoom
}

func newJSONWriter(w io.Writer, schema []Column, array bool) *jsonWriter {
	j := &jsonWriter{w: w, schema: schema, runs: typeRuns(schema), array: array}
	for _, col := range schema {
		k := appendJSONString(nil, []byte(col.Name))
		j.keys = append(j.keys, append(k, ':'))
	}
	return j
}

func (j *jsonWriter) Write(b *Batch) error {
	j.buf = j.room.Make(j.buf[:0], b.Len())
	j.buf, j.ends = j.EncodeRows(j.buf, emptied(j.ends, b.Len()), b)
	j.room.Saw(len(j.buf), b.Len())
	return j.WriteEncoded(j.buf, j.ends)
}

// EncodeRows implements RowEncoder: one object per row, each followed by a
// line break in JSON lines. Columns go a run of one type at a time, each
// value followed by a comma, as in CSV (csvWriter.EncodeRows); the last
// comma becomes the closing brace.
func (j *jsonWriter) EncodeRows(dst []byte, ends []int, b *Batch) ([]byte, []int) {
	var memo floatMemo
	var scratch []uint64
	vals, stride := fixedRuns(b, &scratch, j.runs)
	for r := 0; r < b.Len(); r++ {
		dst = append(dst, '{')
		row := vals[r*stride:]
		for _, run := range j.runs {
			keys := j.keys[run.from:run.to]
			switch run.typ {
			case Int:
				for k, v := range row[run.at:run.end] {
					dst = append(appendInt(append(dst, keys[k]...), int64(v)), ',')
				}
			case Float:
				for k, v := range row[run.at:run.end] {
					dst = append(memo.append(append(dst, keys[k]...), v), ',')
				}
			case Bool:
				for k, v := range row[run.at:run.end] {
					dst = append(strconv.AppendBool(append(dst, keys[k]...), v != 0), ',')
				}
			default:
				for i := run.from; i < run.to; i++ {
					dst = append(dst, j.keys[i]...)
					if run.typ == String {
						dst = appendJSONString(dst, b.Bytes(i, r))
					} else {
						dst = appendValue(dst, b, i, r)
					}
					dst = append(dst, ',')
				}
			}
		}
		dst = closeRow(dst, len(j.runs) > 0, '}')
		if !j.array {
			dst = append(dst, '\n')
		}
		ends = append(ends, len(dst))
	}
	return dst, ends
}

// WriteEncoded implements RowEncoder; a JSON array's brackets and commas go
// between the rows here.
func (j *jsonWriter) WriteEncoded(text []byte, ends []int) error {
	if !j.array {
		j.rows += len(ends)
		_, err := j.w.Write(text)
		return err
	}
	out := emptied(j.out, len(text)+2*len(ends)) // the rows and their separators
	start := 0
	for _, end := range ends {
		if j.rows == 0 {
			out = append(out, "[\n"...)
		} else {
			out = append(out, ",\n"...)
		}
		j.rows++
		out = append(out, text[start:end]...)
		start = end
	}
	j.out = out
	_, err := j.w.Write(out)
	return err
}

func (j *jsonWriter) Close() error {
	if !j.array {
		return nil
	}
	end := "\n]\n"
	if j.rows == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// appendValue appends a non-string value as text that CSV and JSON readers
// both parse to the right type: integers, floats that always read as floats,
// true/false, and JSON arrays for lists.
func appendValue(dst []byte, b *Batch, col, r int) []byte {
	switch b.Schema[col].Type {
	case Int:
		return appendInt(dst, b.Int(col, r))
	case Float:
		return AppendFloat(dst, b.Float(col, r))
	case Bool:
		return strconv.AppendBool(dst, b.Bool(col, r))
	case String:
		return append(dst, b.Bytes(col, r)...)
	case IntList:
		dst = append(dst, '[')
		for i, v := range b.IntList(col, r) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendInt(dst, v)
		}
		return append(dst, ']')
	case FloatList:
		dst = append(dst, '[')
		for i, v := range b.FloatList(col, r) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendFloat(dst, v)
		}
		return append(dst, ']')
	}
	return dst
}

// AppendFloat appends the shortest text that reads back to f, always with a
// decimal point or exponent so that readers infer a float ("1.0", not "1").
// The layout matches Python's repr: plain notation from 1e-4 up to 1e16,
// exponent notation outside. NaN and infinities, which jj never produces,
// are written as 0.0 so that the output stays valid JSON.
//
// It tells the kinds of value apart by f's bits, in integer registers: one
// unsigned comparison sends zeros and values outside the plain range to
// appendOutside, and the exponent and mantissa tell a whole number, which
// is written from them with no conversion.
func AppendFloat(dst []byte, f float64) []byte {
	b := math.Float64bits(f)
	a := b &^ (1 << 63) // the bits of |f|, which order as |f| does
	if a-bitsMin >= bitsMax-bitsMin {
		return appendOutside(dst, f)
	}
	neg := b != a
	exp := a >> 52 // 1009 to 1076 here
	m := a&(1<<52-1) | 1<<52
	if exp >= 1075 {
		// 2^52 ≤ |f| < 1e16: a whole number, m·2^(exp−1075).
		return appendWhole(dst, neg, m<<(exp-1075))
	}
	sh := 1075 - exp // |f| = m·2^-sh
	if uint64(bits.TrailingZeros64(m)) >= sh {
		// A whole number: m's low sh bits are zero (below 1, sh ≥ 53,
		// none is, m having bit 52 set). One instruction counts them,
		// where a mask 1<<sh − 1 took Go's test of shifts of 64 or more.
		return appendWhole(dst, neg, m>>sh)
	}
	// Not a whole number: its shortest text has a fractional part, because
	// every integer within half an ulp of it is a float64 of its own.
	abs := math.Float64frombits(a)
	if a < bits1e6 {
		// A decimal of at most 9 decimals, as jj's times in seconds
		// computed from nanoseconds: when f is the float nearest to
		// n·10^-9, n·10^-9 is f's shortest text, since n < 10^15 has at
		// most 15 significant digits and two decimals of at most 15
		// significant digits never round to the same float64 (DBL_DIG).
		// This is quicker than shortest's search for so few digits.
		if n, ok := nearest(m, uint(sh), 1e9); ok {
			return appendNanos(dst, neg, n)
		}
	} else if a < bits2p33 {
		// A decimal of at most 6 decimals below 2^33, as Unix times in
		// seconds from captures with microsecond timestamps: when f is the
		// float nearest to n·10^-6, n·10^-6 is f's shortest text. f's ulp
		// is below 10^-6 there, so no other multiple of 10^-6 (which every
		// shorter decimal is) rounds to f.
		if n, ok := nearest(m, uint(sh), 1e6); ok {
			return appendMicros(dst, neg, n)
		}
	}
	if a < bits1e14 {
		if d, t, ok := shortest(abs); ok {
			return appendShortest(dst, neg, d, t, uint64(abs))
		}
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// The bits of the bounds AppendFloat tests |f| against.
const (
	bitsMin  = 0x3f1a36e2eb1c432d // 1e-4, the least written in plain notation
	bitsMax  = 0x4341c37937e08000 // 1e16, the least written with an exponent
	bits1e6  = 0x412e848000000000
	bits2p33 = 0x4200000000000000
	bits1e14 = 0x42d6bcc41e900000
)

// copyText appends dst[off:end], at most 24 bytes, as three 8-byte words
// rather than with a call to memmove: half the floats of a --features all
// row are the memo's hits, and the call took about 40 instructions a hit.
// The words past end are copied too, into dst's spare capacity; as the
// text ends at or before dst's end, where the copy goes, every byte of it
// is read before it could be written over, in whatever order the words
// go. They are read and written through pointers: with slice expressions
// and their bounds checks, the copy took more instructions than the call
// (bench/RESULTS.md, session 64). Only where a word may be at any address
// (unalignedOK); elsewhere it appends.
func copyText(dst []byte, off, end int) []byte {
	n := end - off
	l := len(dst)
	if !unalignedOK || n > 24 || cap(dst)-l < 24 || off < 0 || off+n > l {
		return append(dst, dst[off:end]...)
	}
	// off+24 ≤ l+24 ≤ cap(dst): the three words lie within dst's array.
	p := unsafe.Pointer(unsafe.SliceData(dst))
	w := *(*words3)(unsafe.Add(p, off))
	*(*words3)(unsafe.Add(p, l)) = w
	return dst[:l+n]
}

// words3 is copyText's 24 bytes as a struct, which the compiler keeps in
// three registers. As a [3]uint64 they went through a copy on the stack,
// written as two 16-byte stores at offsets 0 and 8 and read back the same
// way, and the first load, spanning both stores, waited for them to reach
// the cache (no store-to-load forwarding): in pprof of --features all with
// one worker, 200 ms of 7.5 s of samples on the instruction after it
// (bench/RESULTS.md, session 66).
type words3 struct{ a, b, c uint64 }

// appendOutside appends f as AppendFloat does for a zero, a NaN or an
// infinity, or |f| below 1e-4 or from 1e16 on.
func appendOutside(dst []byte, f float64) []byte {
	switch {
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, "0.0"...)
	}
	return strconv.AppendFloat(dst, f, 'e', -1, 64)
}

// appendIntComma appends v and a comma, for 10 ≤ v < 10^16 in at most
// three 8-byte stores: below 10^7 (counts, sizes, ports) the digits and
// the comma in one; above, the digits in two and the comma. It replaced
// appendInt, its general digit writer and an append for the comma, and
// took 0.4 % off the instructions of a flow_meta run (bench/RESULTS.md,
// session 64).
func appendIntComma(dst []byte, v int64) []byte {
	if uint64(v)-10 >= 1e16-10 {
		return append(appendInt(dst, v), ',')
	}
	u := uint64(v)
	n := decimalLen(u)
	dst, b := growSlack(dst, n+1)
	// 2 ≤ n ≤ 16: the masks keep the shifts and offsets where they are,
	// and tell the compiler so. (For n = 8 the first word, eight '0's
	// unshifted, is written over by the second.)
	if n < 8 {
		binary.LittleEndian.PutUint64(b[:], digits8(uint32(u))>>(8*(8-n)&63)|','<<(8*n&63))
		return dst
	}
	q := u / 1e8 // the first n−8 digits; none for n = 8
	binary.LittleEndian.PutUint64(b[:], digits8(uint32(q))>>(8*(16-n)&63))
	binary.LittleEndian.PutUint64(b[(n-8)&15:], digits8(uint32(u-q*1e8)))
	b[n&31] = ','
	return dst
}

// appendWhole appends u < 1e16, negated if neg, followed by ".0". Below
// 10^6 the digits, the point and the zero go in one 8-byte store.
func appendWhole(dst []byte, neg bool, u uint64) []byte {
	if neg {
		dst = append(dst, '-')
	}
	if u >= 1e6 {
		return append(appendUint(dst, u), ".0"...)
	}
	n := 1
	if u >= 10 {
		n = decimalLen(u)
	}
	dst, b := growSlack(dst, n+2)
	binary.LittleEndian.PutUint64(b[:], digits8(uint32(u))>>(8*(8-n)&63)|0x302e<<(8*n&63)) // 1 ≤ n ≤ 6
	return dst
}

// floatMemo remembers where recent floats of one EncodeRows call were
// written, so that a value written again is copied from the text, not
// formatted again. Rows repeat many floats: time_first and time_last are
// start_time and end_time, a median is often a mean, a minimum or a
// maximum, and ratios, zeros and small whole numbers recur from row to
// row. A value's entry is picked by a hash of its bits, and a newer value
// takes its place. With 128 entries (sessions 39 to 65) a batch of
// --features all rows, 200 to 1 000 rows of 82 floats, overwrote most
// entries before their values came again; with 4 096 (64 KiB, zeroed with
// each call's frame) the 500 000-packet synthetic capture's rows format
// 24 % fewer values of 15 to 17 digits (1.68 → 1.28 million), 23 % fewer
// times from nanoseconds and 58 % fewer whole numbers, and its run takes
// 3.3 % fewer instructions (bench/RESULTS.md, session 66). The zeroing
// costs a call about 0.6 µs: a batch of one row took 0.11 µs to encode
// with 128 entries and 0.71 µs with 4 096, and a batch of 200 --features
// all rows takes about 500 µs either way.
type floatMemo [1 << memoBits]memoEntry

// memoBits is the number of bits of a float's hash that pick its entry.
const memoBits = 12

type memoEntry struct {
	bits     uint64
	off, end int32 // its text, dst[off:end]; end 0: none yet
}

// append appends the float of bits as AppendFloat does, copying the text
// of an earlier bit-identical value of the same dst if the memo still
// holds it (0 and -0 have entries of their own). dst may only grow
// between calls, as EncodeRows's does.
func (m *floatMemo) append(dst []byte, bits uint64) []byte {
	e := m.entry(bits)
	if e.bits == bits && e.end != 0 {
		return copyText(dst, int(e.off), int(e.end))
	}
	off := len(dst)
	dst = AppendFloat(dst, math.Float64frombits(bits))
	e.set(bits, off, len(dst))
	return dst
}

// entry returns the entry that a float of these bits has, if any.
func (m *floatMemo) entry(bits uint64) *memoEntry {
	return &m[bits*0x9e3779b97f4a7c15>>(64-memoBits)]
}

// dropLast forgets the float of bits if its text is the one that ends
// at end, a row's last, whose comma closeRow made the line break: the
// CSV writer's hits copy the text with its comma, and write none.
func (m *floatMemo) dropLast(bits uint64, end int) {
	if e := m.entry(bits); e.bits == bits && int(e.end) == end {
		e.end = 0
	}
}

// set records that the float of bits was written as dst[off:end].
func (e *memoEntry) set(bits uint64, off, end int) {
	if end <= math.MaxInt32 {
		e.bits, e.off, e.end = bits, int32(off), int32(end)
	}
}

// appendInt appends v in decimal, as strconv.AppendInt(dst, v, 10) does
// (TestAppendInt), but writes the digits in place, where strconv formats
// them in a buffer of its own and then copies them: a third of the time
// of a flow_meta CSV row went to that copy and its call.
func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendUint(append(dst, '-'), -uint64(v))
	}
	return appendUint(dst, uint64(v))
}

// appendUint appends u in decimal.
func appendUint(dst []byte, u uint64) []byte {
	if u < 10 {
		return append(dst, byte('0'+u))
	}
	n := decimalLen(u)
	dst, b := growSlack(dst, n)
	putDigits(b[:], u, n)
	return dst
}

// decimalLen returns the number of decimal digits of u ≥ 10: about
// log10(2) = 1233/4096 digits a bit, then one fewer below that power of 10.
func decimalLen(u uint64) int {
	t := bits.Len64(u) * 1233 >> 12
	if u < pow10x128[t][1] { // t ≤ 19: 10^t fits the low word
		return t
	}
	return t + 1
}

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
