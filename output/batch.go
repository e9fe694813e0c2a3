package output

import (
	"slices"

	"github.com/jjflow/jj/internal/mem"
)

// Batch is a columnar buffer of finished flows: one typed buffer per column.
// Extractors append one value per column per flow, in column order; writers
// read rows back by index. Reset keeps the buffers for the next batch.
type Batch struct {
	Schema []Column
	cols   []colBuf
	rows   int
}

type colBuf struct {
	ints   []int64   // Int, Bool (0/1), IntList values
	floats []float64 // Float, FloatList values
	bytes  []byte    // String values, concatenated
	offs   []uint32  // String: end offset in bytes; lists: end offset in ints/floats
}

// NewBatch returns an empty batch for the schema.
func NewBatch(schema []Column) *Batch {
	return &Batch{Schema: schema, cols: make([]colBuf, len(schema))}
}

// Grow makes room in the batch for rows rows in all: each Int, Bool and
// Float column for rows values, and each String column for rows strings
// of 16 bytes, so that the rows up to there append without growing the
// columns one doubling at a time, into pages allocated at once
// (mem.Grow). A column with the room already keeps its buffer.
func (b *Batch) Grow(rows int) {
	for i, c := range b.Schema {
		cb := &b.cols[i]
		switch c.Type {
		case Int, Bool:
			cb.ints = mem.Grow(cb.ints, max(rows-len(cb.ints), 0))
		case Float:
			cb.floats = mem.Grow(cb.floats, max(rows-len(cb.floats), 0))
		case String:
			cb.bytes = mem.Grow(cb.bytes, max(16*rows-len(cb.bytes), 0))
			cb.offs = mem.Grow(cb.offs, max(rows-len(cb.offs), 0))
		}
	}
}

// Len returns the number of complete rows.
func (b *Batch) Len() int { return b.rows }

// EndRow marks the row complete. Every column must have received exactly one
// value since the previous EndRow.
func (b *Batch) EndRow() { b.rows++ }

// Reset empties the batch and keeps its buffers.
func (b *Batch) Reset() {
	for i := range b.cols {
		c := &b.cols[i]
		c.ints, c.floats, c.bytes, c.offs = c.ints[:0], c.floats[:0], c.bytes[:0], c.offs[:0]
	}
	b.rows = 0
}

// AppendInt appends an Int value to column col.
func (b *Batch) AppendInt(col int, v int64) { b.cols[col].ints = append(b.cols[col].ints, v) }

// AppendUint appends an Int value to column col.
func (b *Batch) AppendUint(col int, v uint64) { b.cols[col].ints = append(b.cols[col].ints, int64(v)) }

// AppendFloat appends a Float value to column col.
func (b *Batch) AppendFloat(col int, v float64) {
	b.cols[col].floats = append(b.cols[col].floats, v)
}

// AppendBool appends a Bool value to column col.
func (b *Batch) AppendBool(col int, v bool) {
	var i int64
	if v {
		i = 1
	}
	b.cols[col].ints = append(b.cols[col].ints, i)
}

// AppendString appends a String value to column col.
func (b *Batch) AppendString(col int, s string) {
	c := &b.cols[col]
	c.bytes = append(c.bytes, s...)
	c.offs = append(c.offs, uint32(len(c.bytes)))
}

// AppendBytes appends a String value, given as bytes, to column col.
func (b *Batch) AppendBytes(col int, s []byte) {
	c := &b.cols[col]
	c.bytes = append(c.bytes, s...)
	c.offs = append(c.offs, uint32(len(c.bytes)))
}

// StringBuf returns column col's string arena so that a caller can append a
// value in place (for example with netip.Addr.AppendTo); it must then call
// EndString with the grown arena.
func (b *Batch) StringBuf(col int) []byte { return b.cols[col].bytes }

// EndString stores the arena grown from StringBuf, ending one String value.
func (b *Batch) EndString(col int, arena []byte) {
	c := &b.cols[col]
	c.bytes = arena
	c.offs = append(c.offs, uint32(len(arena)))
}

// AppendIntList appends an IntList value to column col.
func (b *Batch) AppendIntList(col int, vs []int64) {
	c := &b.cols[col]
	c.ints = append(c.ints, vs...)
	c.offs = append(c.offs, uint32(len(c.ints)))
}

// AppendFloatList appends a FloatList value to column col.
func (b *Batch) AppendFloatList(col int, vs []float64) {
	c := &b.cols[col]
	c.floats = append(c.floats, vs...)
	c.offs = append(c.offs, uint32(len(c.floats)))
}

// Int returns the Int (or Bool, as 0/1) value of column col in row r.
func (b *Batch) Int(col, r int) int64 { return b.cols[col].ints[r] }

// Float returns the Float value of column col in row r.
func (b *Batch) Float(col, r int) float64 { return b.cols[col].floats[r] }

// Bool returns the Bool value of column col in row r.
func (b *Batch) Bool(col, r int) bool { return b.cols[col].ints[r] != 0 }

// Bytes returns the String value of column col in row r. The slice is valid
// until the next Reset.
func (b *Batch) Bytes(col, r int) []byte {
	c := &b.cols[col]
	return c.bytes[b.start(c, r):c.offs[r]]
}

// IntList returns the IntList value of column col in row r, valid until the
// next Reset.
func (b *Batch) IntList(col, r int) []int64 {
	c := &b.cols[col]
	return c.ints[b.start(c, r):c.offs[r]]
}

// FloatList returns the FloatList value of column col in row r, valid until
// the next Reset.
func (b *Batch) FloatList(col, r int) []float64 {
	c := &b.cols[col]
	return c.floats[b.start(c, r):c.offs[r]]
}

func (b *Batch) start(c *colBuf, r int) uint32 {
	if r == 0 {
		return 0
	}
	return c.offs[r-1]
}

// Value returns the value of column col in row r as int64, float64, string,
// bool, []int64 or []float64. It allocates; it is for tests and the Go API's
// Table, not for writers.
func (b *Batch) Value(col, r int) any {
	switch b.Schema[col].Type {
	case Int:
		return b.Int(col, r)
	case Float:
		return b.Float(col, r)
	case String:
		return string(b.Bytes(col, r))
	case Bool:
		return b.Bool(col, r)
	case IntList:
		return append([]int64(nil), b.IntList(col, r)...)
	case FloatList:
		return append([]float64(nil), b.FloatList(col, r)...)
	}
	return nil
}

// AppendRow appends row r of src, which has the same schema, as a
// complete row.
func (b *Batch) AppendRow(src *Batch, r int) {
	for i := range b.Schema {
		c, s := &b.cols[i], &src.cols[i]
		switch b.Schema[i].Type {
		case Int, Bool:
			c.ints = append(c.ints, s.ints[r])
		case Float:
			c.floats = append(c.floats, s.floats[r])
		case String:
			c.bytes = append(c.bytes, s.bytes[src.start(s, r):s.offs[r]]...)
			c.offs = append(c.offs, uint32(len(c.bytes)))
		case IntList:
			c.ints = append(c.ints, s.ints[src.start(s, r):s.offs[r]]...)
			c.offs = append(c.offs, uint32(len(c.ints)))
		case FloatList:
			c.floats = append(c.floats, s.floats[src.start(s, r):s.offs[r]]...)
			c.offs = append(c.offs, uint32(len(c.floats)))
		}
	}
	b.rows++
}

// AppendRows appends rows [from, to) of src, which has the same schema, as
// complete rows: a column at a time, each in one copy, where AppendRow
// copies a value of every column per row.
func (b *Batch) AppendRows(src *Batch, from, to int) {
	if from >= to {
		return
	}
	for i := range b.Schema {
		c, s := &b.cols[i], &src.cols[i]
		switch b.Schema[i].Type {
		case Int, Bool:
			c.ints = append(c.ints, s.ints[from:to]...)
		case Float:
			c.floats = append(c.floats, s.floats[from:to]...)
		case String:
			lo := src.start(s, from)
			c.offs = appendShifted(c.offs, s.offs[from:to], uint32(len(c.bytes))-lo)
			c.bytes = append(c.bytes, s.bytes[lo:s.offs[to-1]]...)
		case IntList:
			lo := src.start(s, from)
			c.offs = appendShifted(c.offs, s.offs[from:to], uint32(len(c.ints))-lo)
			c.ints = append(c.ints, s.ints[lo:s.offs[to-1]]...)
		case FloatList:
			lo := src.start(s, from)
			c.offs = appendShifted(c.offs, s.offs[from:to], uint32(len(c.floats))-lo)
			c.floats = append(c.floats, s.floats[lo:s.offs[to-1]]...)
		}
	}
	b.rows += to - from
}

// appendShifted appends the end offsets offs, each plus d (modulo 2^32: d
// is the destination's length less the source's first offset).
func appendShifted(dst, offs []uint32, d uint32) []uint32 {
	dst = slices.Grow(dst, len(offs))
	for _, o := range offs {
		dst = append(dst, o+d)
	}
	return dst
}

// WithString returns a batch that shows b's columns and, after them, a
// String column holding s in every row: schema is b.Schema with that
// column last. It shares b's buffers but the new column's; view is
// reused when not nil. The view is valid until b changes.
func (b *Batch) WithString(s string, schema []Column, view *Batch) *Batch {
	if view == nil {
		view = &Batch{}
	}
	view.Schema = schema
	view.cols = append(view.cols[:0], b.cols...)
	c := colBuf{bytes: make([]byte, 0, len(s)*b.rows), offs: make([]uint32, 0, b.rows)}
	for range b.rows {
		c.bytes = append(c.bytes, s...)
		c.offs = append(c.offs, uint32(len(c.bytes)))
	}
	view.cols = append(view.cols, c)
	view.rows = b.rows
	return view
}

// View returns a batch that shows only the columns idx of b, sharing its
// buffers; schema is b.Schema restricted to idx. view is reused when not
// nil. The view is valid until b changes.
func (b *Batch) View(idx []int, schema []Column, view *Batch) *Batch {
	if view == nil {
		view = &Batch{}
	}
	view.Schema = schema
	view.cols = view.cols[:0]
	for _, i := range idx {
		view.cols = append(view.cols, b.cols[i])
	}
	view.rows = b.rows
	return view
}
