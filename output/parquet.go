package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	kzstd "github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// DefaultRowGroupRows is the number of rows in a Parquet row group. A row
// group is the unit a reader skips or reads in parallel, and the unit the
// writer holds in memory before it writes it out: 65 536 flows of the
// widest schema (every group, sequences on) compress to a few tens of MB.
const DefaultRowGroupRows = 1 << 16

// DefaultRowGroupBytes bounds a row group's size before compression, as
// parquet-go estimates it: with every group and the sequence columns a flow
// takes a few kB, and 65 536 of them would hold hundreds of MB in memory.
const DefaultRowGroupBytes = 64 << 20

// Compressions lists the Parquet compression codecs by name; the first is
// the default.
var Compressions = []string{"zstd", "snappy", "gzip", "none"}

// MetaColumns is the key of the Parquet key-value metadata entry that holds
// the columns' descriptions, as the JSON array that Describe returns.
const MetaColumns = "jj.columns"

// ParquetOptions configure NewParquetWriter. The zero value is valid.
type ParquetOptions struct {
	// Compression is one of Compressions; "" means zstd.
	Compression string
	// CompressionLevel is the codec's level: zstd's 1 to 22 (as the zstd
	// tool counts them, which the encoder takes in four steps: 1-2, 3-5,
	// 6-9 and 10-22) or gzip's 1 to 9; 0 means the codec's level in jj,
	// zstd's fastest and gzip's default (5). snappy and none have no level
	// (ValidCompressionLevel).
	CompressionLevel int
	// RowGroupRows is the number of rows per row group; 0 means
	// DefaultRowGroupRows.
	RowGroupRows int
	// RowGroupBytes ends a row group early when its size before
	// compression has reached it at the end of a batch; 0 means
	// DefaultRowGroupBytes.
	RowGroupBytes int64
	// Metadata is added to the file's key-value metadata, beside the
	// MetaColumns entry the writer always adds (jj adds "jj.version" and
	// "jj.config").
	Metadata map[string]string
	// CreatedBy names the application and version in the file footer
	// ("jj", "0.1.0"); empty leaves the Parquet library's default.
	CreatedBy, Version string
	// Concurrency is how many goroutines encode and compress columns at
	// once; 0 means GOMAXPROCS. The file is the same whatever it is.
	Concurrency int
}

// ValidCompression reports whether name is a known Parquet compression.
func ValidCompression(name string) bool { return slices.Contains(Compressions, name) }

// ValidCompressionLevel returns an error unless level is a level of the
// named compression (ParquetOptions.CompressionLevel).
func ValidCompressionLevel(name string, level int) error {
	if level == 0 {
		return nil
	}
	switch name {
	case "", "zstd":
		if level < 1 || level > 22 {
			return fmt.Errorf("zstd compression level %d out of range 1-22", level)
		}
	case "gzip":
		if level < 1 || level > 9 {
			return fmt.Errorf("gzip compression level %d out of range 1-9", level)
		}
	default:
		return fmt.Errorf("%s compression has no level", name)
	}
	return nil
}

// codec returns the named codec at a level (ValidCompressionLevel). zstd
// runs by default at its fastest level (about zstd's level 1, as the
// klauspost encoder under parquet-go counts): on the 2.5 M-packet
// benchmark capture, --features all written as Parquet took 6.2 s with the
// encoder's default level (about zstd's 3) and 5.4 s with this one, for a
// file 2.6 % larger (104.0 → 106.7 MB); flow_meta's was 1 % smaller.
// Other zstd levels map to the encoder's four (kzstd.EncoderLevelFromZstd).
func codec(name string, level int) (compress.Codec, error) {
	if err := ValidCompressionLevel(name, level); err != nil {
		return nil, err
	}
	switch name {
	case "", "zstd":
		l := zstd.SpeedFastest
		if level != 0 {
			l = kzstd.EncoderLevelFromZstd(level)
		}
		return &zstd.Codec{Level: l}, nil
	case "snappy":
		return &snappy.Codec{}, nil
	case "gzip":
		l := gzip.DefaultCompression
		if level != 0 {
			l = level
		}
		return &gzip.Codec{Level: l}, nil
	case "none":
		return &uncompressed.Codec{}, nil
	}
	return nil, fmt.Errorf("unknown Parquet compression %q (known: %s)", name, strings.Join(Compressions, ", "))
}

// parquetWriter writes Parquet through parquet-go, one column at a time:
// each column's values, gathered from the batch's rows, are handed to its
// column writer in one call, and a row group is written out every
// RowGroupRows rows so that memory stays bounded whatever the number of
// flows. Every column is required (jj never writes nulls); lists use the
// standard three-level LIST layout, which Spark, DuckDB, pandas (pyarrow)
// and Polars read as list columns.
//
// Columns are encoded and compressed in parallel (each): a parquet-go
// column writer keeps its pages, buffers and statistics to itself and
// takes compressors from a synchronised pool, so different columns can be
// written at once; a column's pages, and so the file, do not depend on
// which goroutine wrote them. Only the row group's write-out, which puts
// the columns' pages in the file one after another, is sequential. On one
// core, zstd and the value conversion took two thirds of a --features all
// run written as Parquet.
type parquetWriter struct {
	w         *parquet.Writer
	out       *countingWriter
	schema    []Column
	cols      []*parquet.ColumnWriter
	groupMax  int
	groupSize int64
	inGroup   int               // rows in the current row group
	pend      *Batch            // rows not yet written: fewer than a block
	vals      [][]parquet.Value // a value buffer per goroutine
	colErrs   []error           // per column, from the last each
	err       error             // sticky: a failed writer is not used again
}

var _ Writer = (*parquetWriter)(nil)

// NewParquetWriter returns a writer of Parquet on w. The output is written
// sequentially (w needs no Seek), a row group at a time; the footer is
// written by Close.
func NewParquetWriter(w io.Writer, schema []Column, o ParquetOptions) (Writer, error) {
	c, err := codec(o.Compression, o.CompressionLevel)
	if err != nil {
		return nil, err
	}
	rows := o.RowGroupRows
	if rows <= 0 {
		rows = DefaultRowGroupRows
	}
	root, err := parquetSchema(schema)
	if err != nil {
		return nil, err
	}
	desc, err := json.Marshal(Describe(schema))
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterOption{
		parquet.NewSchema("jj_flows", root),
		parquet.Compression(c),
		parquet.KeyValueMetadata(MetaColumns, string(desc)),
	}
	if o.CreatedBy != "" {
		opts = append(opts, parquet.CreatedBy(o.CreatedBy, o.Version, ""))
	}
	keys := make([]string, 0, len(o.Metadata))
	for k := range o.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		opts = append(opts, parquet.KeyValueMetadata(k, o.Metadata[k]))
	}
	size := o.RowGroupBytes
	if size <= 0 {
		size = DefaultRowGroupBytes
	}
	conc := o.Concurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	conc = max(1, min(conc, len(schema)))
	cw := &countingWriter{w: w}
	pw := parquet.NewWriter(cw, opts...)
	return &parquetWriter{w: pw, out: cw, schema: schema, groupMax: rows, groupSize: size, pend: NewBatch(schema),
		vals: make([][]parquet.Value, conc), colErrs: make([]error, len(schema))}, nil
}

// countingWriter counts the bytes written through it: parquet-go's Size
// less those is the current row group's size.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// parquetSchema maps jj's column types to Parquet: INT64, DOUBLE, BYTE_ARRAY
// annotated STRING, BOOLEAN, and LIST of INT64 or DOUBLE.
func parquetSchema(schema []Column) (parquet.Node, error) {
	g := orderedGroup{Group: parquet.Group{}}
	for _, c := range schema {
		var n parquet.Node
		switch c.Type {
		case Int:
			n = parquet.Leaf(parquet.Int64Type)
		case Float:
			n = parquet.Leaf(parquet.DoubleType)
		case String:
			n = parquet.String()
		case Bool:
			n = parquet.Leaf(parquet.BooleanType)
		case IntList:
			n = parquet.List(parquet.Leaf(parquet.Int64Type))
		case FloatList:
			n = parquet.List(parquet.Leaf(parquet.DoubleType))
		default:
			return nil, fmt.Errorf("column %s: type %s has no Parquet mapping", c.Name, c.Type)
		}
		if _, dup := g.Group[c.Name]; dup {
			return nil, fmt.Errorf("column %s appears twice", c.Name)
		}
		g.Group[c.Name] = n
		g.order = append(g.order, c.Name)
	}
	fields := g.Group.Fields() // sorted by name
	g.fields = make([]parquet.Field, len(fields))
	for _, f := range fields {
		g.fields[slices.Index(g.order, f.Name())] = f
	}
	return g, nil
}

// orderedGroup is a Parquet group whose fields keep jj's column order;
// parquet.Group, a map, sorts them by name.
type orderedGroup struct {
	parquet.Group
	order  []string
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

// blockRows is how many rows the writer hands its columns at a time, and
// how often, in rows of a row group, it checks the group's size against
// RowGroupBytes.
const blockRows = 1024

// Write implements Writer. Rows go to the current row group in blocks of
// blockRows (fewer where a row group ends), whatever the batches they
// came in: parquet-go cuts pages where a write ends, so batches of other
// sizes (another number of workers) made other files. A row group is
// written out whenever it reaches RowGroupRows rows, or RowGroupBytes at
// the end of a block.
func (p *parquetWriter) Write(b *Batch) error {
	if p.err != nil {
		return p.err
	}
	for r := 0; r < b.Len(); {
		block := min(blockRows, p.groupMax-p.inGroup)
		n := min(b.Len()-r, block-p.pend.Len())
		p.pend.AppendRows(b, r, r+n)
		r += n
		if p.pend.Len() == block {
			if err := p.writeBlock(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBlock writes the pending rows to the current row group, and writes
// the group out when it is full.
func (p *parquetWriter) writeBlock() error {
	n := p.pend.Len()
	p.cols = p.w.ColumnWriters()
	if err := p.each(func(i int, vals *[]parquet.Value) error {
		return p.writeColumn(p.pend, i, 0, n, vals)
	}); err != nil {
		return err
	}
	p.pend.Reset()
	if p.inGroup += n; p.inGroup == p.groupMax || p.w.Size()-p.out.n >= p.groupSize {
		if err := p.flushColumns(); err != nil {
			return err
		}
		if err := p.w.Flush(); err != nil {
			p.err = err
			return err
		}
		p.inGroup = 0
	}
	return nil
}

// flushColumns compresses every column's buffered page, in parallel, so
// that the row group's write-out (Flush, Close) only writes the pages.
func (p *parquetWriter) flushColumns() error {
	p.cols = p.w.ColumnWriters()
	return p.each(func(i int, _ *[]parquet.Value) error { return p.cols[i].Flush() })
}

// each calls fn for every column, spread over len(p.vals) goroutines that
// take the next column as they finish one; vals is the goroutine's value
// buffer. The error is that of the first failing column, in column order.
func (p *parquetWriter) each(fn func(i int, vals *[]parquet.Value) error) error {
	if len(p.vals) == 1 {
		for i := range p.schema {
			p.colErrs[i] = fn(i, &p.vals[0])
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := range p.vals {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(p.schema); i = int(next.Add(1)) - 1 {
					p.colErrs[i] = fn(i, &p.vals[g])
				}
			})
		}
		wg.Wait()
	}
	for i, err := range p.colErrs {
		if err != nil {
			p.err = fmt.Errorf("parquet column %s: %w", p.schema[i].Name, err)
			return p.err
		}
	}
	return nil
}

// writeChunk bounds the rows handed to a column writer at once: a page
// holds whole rows, so a large call makes a large page.
const writeChunk = 1024

// writeColumn writes rows [from, to) of column i, through the value buffer
// buf. The values of a string point into the batch; the column writer
// copies them.
//
// A loop per column type, and no levels on the values of the scalar
// columns: a required column's buffer (a plain INT64, DOUBLE, BYTE_ARRAY
// or BOOLEAN column buffer in parquet-go) takes only the values' payloads
// and ignores their levels and column index, and setting them
// (Value.Level, not inlined) took a tenth of a --features all run written
// as Parquet. The file is byte for byte the same (TestParquetScalarLevels).
// The list columns' values carry their levels, which the repeated column
// buffer reads.
func (p *parquetWriter) writeColumn(b *Batch, i, from, to int, buf *[]parquet.Value) error {
	typ := p.schema[i].Type
	for lo := from; lo < to; lo += writeChunk {
		hi := min(lo+writeChunk, to)
		vals := (*buf)[:0]
		// The numbers' values straight from the batch's rows, a row
		// apart, into a buffer sized once: going through Batch.Int or
		// Batch.Float and append for each value, with their bounds and
		// capacity checks, took four times as long (0.84 against 0.21 s
		// in the profile of two --features all runs with two workers).
		fixed, slot, stride := b.fixed, b.cols[i].slot, b.stride
		switch typ {
		case Int:
			vals = slices.Grow(vals, hi-lo)[:hi-lo]
			for k := range vals {
				vals[k] = parquet.Int64Value(int64(fixed[(lo+k)*stride+slot]))
			}
		case Float:
			vals = slices.Grow(vals, hi-lo)[:hi-lo]
			for k := range vals {
				vals[k] = parquet.DoubleValue(math.Float64frombits(fixed[(lo+k)*stride+slot]))
			}
		case String:
			for r := lo; r < hi; r++ {
				vals = append(vals, parquet.ByteArrayValue(b.Bytes(i, r)))
			}
		case Bool:
			vals = slices.Grow(vals, hi-lo)[:hi-lo]
			for k := range vals {
				vals[k] = parquet.BooleanValue(fixed[(lo+k)*stride+slot] != 0)
			}
		case IntList:
			for r := lo; r < hi; r++ {
				l := b.IntList(i, r)
				if len(l) == 0 {
					vals = append(vals, parquet.NullValue().Level(0, 0, i))
				}
				for k, v := range l {
					vals = append(vals, parquet.Int64Value(v).Level(min(k, 1), 1, i))
				}
			}
		case FloatList:
			for r := lo; r < hi; r++ {
				l := b.FloatList(i, r)
				if len(l) == 0 {
					vals = append(vals, parquet.NullValue().Level(0, 0, i))
				}
				for k, v := range l {
					vals = append(vals, parquet.DoubleValue(v).Level(min(k, 1), 1, i))
				}
			}
		}
		if scalarLevels && typ != IntList && typ != FloatList {
			for k := range vals {
				vals[k] = vals[k].Level(0, 0, i)
			}
		}
		*buf = vals
		if _, err := p.cols[i].WriteRowValues(vals); err != nil {
			return err
		}
	}
	clear((*buf)[:cap(*buf)]) // drop the references into the batch
	return nil
}

// scalarLevels sets the levels of the scalar columns' values too, as
// parquet-go's row writers need: TestParquetScalarLevels checks that the
// file is the same without them. Only that test sets it, and no test of
// this package runs in parallel with it (t.Parallel).
var scalarLevels = false

// Close implements Writer: it writes the last row group and the footer.
func (p *parquetWriter) Close() error {
	if p.err != nil {
		return p.err
	}
	if p.pend.Len() > 0 {
		if err := p.writeBlock(); err != nil {
			return err
		}
	}
	if p.inGroup > 0 {
		if err := p.flushColumns(); err != nil { // the last row group's
			return err
		}
	}
	p.err = errClosed
	return p.w.Close()
}

var errClosed = errors.New("parquet writer closed")

// ColumnInfo is the machine-readable description of a column, as `jj
// schema -f json` prints it and as Parquet files carry it in their
// MetaColumns metadata entry.
type ColumnInfo struct {
	Group       string `json:"group"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Unit        string `json:"unit"`
	Direction   string `json:"direction"`
	Privacy     string `json:"privacy"`
	Description string `json:"description"`
}

// Describe returns the descriptions of the columns, in order.
func Describe(cols []Column) []ColumnInfo {
	out := make([]ColumnInfo, len(cols))
	for i, c := range cols {
		out[i] = ColumnInfo{
			Group: c.Group, Name: c.Name, Type: c.Type.String(), Unit: c.Unit,
			Direction: c.Direction, Privacy: c.Privacy.String(), Description: c.Description,
		}
	}
	return out
}
