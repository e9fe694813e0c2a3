package output

import (
	"math"
	"slices"

	"github.com/jjflow/jj/internal/mem"
)

// Batch is a buffer of finished flows. Extractors append one value per
// column per flow, in column order; writers read rows back by index.
// Reset keeps the buffers for the next batch.
//
// The Int, Bool and Float values lie row after row in one array, fixed:
// stride values a row, a column's at its slot, in column order. An
// extractor's values go one after another into the open row, and the text
// writers read a row's numbers in order from one place. (One buffer per
// column before: each value appended to its own column's slice, through
// that column's header, and read back through a view per column, about 20
// instructions a value written and 7 read (bench/RESULTS.md, session 65).)
// Strings and lists keep a buffer per column.
type Batch struct {
	Schema []Column
	cols   []colBuf
	rows   int

	fixed  []uint64 // rows complete rows and the open one, stride values each
	stride int      // Int, Bool and Float columns of the batch that made fixed
	plain  bool     // the schema's fixed columns are slots 0, 1, … in order
}

type colBuf struct {
	slot   int       // Int, Bool, Float: the value's place in a row of fixed; -1 others
	ints   []int64   // IntList values
	floats []float64 // FloatList values
	bytes  []byte    // String values, concatenated
	offs   []uint32  // String: end offset in bytes; lists: end offset in ints/floats
}

// NewBatch returns an empty batch for the schema.
func NewBatch(schema []Column) *Batch {
	b := &Batch{Schema: schema, cols: make([]colBuf, len(schema)), plain: true}
	for i, c := range schema {
		b.cols[i].slot = -1
		if c.Type.Fixed() {
			b.cols[i].slot = b.stride
			b.stride++
		}
	}
	b.fixed = make([]uint64, b.stride)
	return b
}

// Grow makes room in the batch for rows rows in all: for their Int, Bool
// and Float values, and each String column for rows strings of 16 bytes,
// so that the rows up to there append without growing one doubling at a
// time, into pages allocated at once (mem.Grow). A buffer with the room
// already is kept.
func (b *Batch) Grow(rows int) {
	b.fixed = mem.Grow(b.fixed, max((rows+1)*b.stride-len(b.fixed), 0))
	for i, c := range b.Schema {
		if c.Type == String {
			cb := &b.cols[i]
			cb.bytes = mem.Grow(cb.bytes, max(16*rows-len(cb.bytes), 0))
			cb.offs = mem.Grow(cb.offs, max(rows-len(cb.offs), 0))
		}
	}
}

// Len returns the number of complete rows.
func (b *Batch) Len() int { return b.rows }

// EndRow marks the row complete. Every column must have received exactly one
// value since the previous EndRow.
func (b *Batch) EndRow() {
	b.rows++
	b.reopen()
}

// open returns where the open row starts in fixed.
func (b *Batch) open() int { return b.rows * b.stride }

// reopen sizes fixed to the rows and an open row after them.
func (b *Batch) reopen() {
	if n := b.open() + b.stride; n <= cap(b.fixed) {
		b.fixed = b.fixed[:n]
	} else {
		b.fixed = mem.Grow(b.fixed, n-len(b.fixed))[:n]
	}
}

// Reset empties the batch and keeps its buffers.
func (b *Batch) Reset() {
	for i := range b.cols {
		c := &b.cols[i]
		c.ints, c.floats, c.bytes, c.offs = c.ints[:0], c.floats[:0], c.bytes[:0], c.offs[:0]
	}
	b.rows = 0
	b.fixed = b.fixed[:b.stride]
}

// AppendInt appends an Int value to column col.
func (b *Batch) AppendInt(col int, v int64) { b.fixed[b.open()+b.cols[col].slot] = uint64(v) }

// AppendUint appends an Int value to column col.
func (b *Batch) AppendUint(col int, v uint64) { b.fixed[b.open()+b.cols[col].slot] = v }

// AppendFloat appends a Float value to column col.
func (b *Batch) AppendFloat(col int, v float64) {
	b.fixed[b.open()+b.cols[col].slot] = math.Float64bits(v)
}

// AppendBool appends a Bool value to column col.
func (b *Batch) AppendBool(col int, v bool) {
	var i uint64
	if v {
		i = 1
	}
	b.fixed[b.open()+b.cols[col].slot] = i
}

// OpenRow returns the open row's Int, Bool and Float values from column
// col's on, for an extractor to write those of consecutive columns of
// these types, in order: an Int's bits as uint64, a Float's as
// math.Float64bits, a Bool's as 0 or 1. It is AppendUint, AppendFloat and
// AppendBool for many columns at once, without a column's lookup each.
// Its first value is that of the first such column from col on.
func (b *Batch) OpenRow(col int) []uint64 {
	for ; col < len(b.cols); col++ {
		if s := b.cols[col].slot; s >= 0 {
			o := b.open()
			return b.fixed[o+s : o+b.stride]
		}
	}
	return nil
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
func (b *Batch) Int(col, r int) int64 { return int64(b.at(col, r)) }

// Float returns the Float value of column col in row r.
func (b *Batch) Float(col, r int) float64 { return math.Float64frombits(b.at(col, r)) }

// Bool returns the Bool value of column col in row r.
func (b *Batch) Bool(col, r int) bool { return b.at(col, r) != 0 }

// at returns the bits of the Int, Bool or Float value of column col in
// row r < Len.
func (b *Batch) at(col, r int) uint64 {
	if uint(r) >= uint(b.rows) {
		panic("output: row out of range")
	}
	return b.fixed[r*b.stride+b.cols[col].slot]
}

// fixedRows returns the Int, Bool and Float values of b's rows in schema
// order, row r's n of them at vals[r*stride:], n the number of such
// columns: b's own when they lie so, else gathered into *scratch (a View
// of some of a batch's columns, or of them reordered).
func (b *Batch) fixedRows(scratch *[]uint64) (vals []uint64, stride int) {
	if b.plain {
		return b.fixed, b.stride
	}
	var slots []int
	for i, c := range b.Schema {
		if c.Type.Fixed() {
			slots = append(slots, b.cols[i].slot)
		}
	}
	n := len(slots)
	vals = mem.Grow((*scratch)[:0], b.rows*n)[:b.rows*n]
	for r := range b.rows {
		row := b.fixed[r*b.stride:]
		for k, s := range slots {
			vals[r*n+k] = row[s]
		}
	}
	*scratch = vals
	return vals, n
}

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
		case Int, Bool, Float:
			b.fixed[b.open()+c.slot] = src.at(i, r)
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
	b.EndRow()
}

// AppendRows appends rows [from, to) of src, which has the same schema, as
// complete rows: a column at a time, each in one copy, where AppendRow
// copies a value of every column per row; the fixed values in one copy
// when both batches lay them out alike.
func (b *Batch) AppendRows(src *Batch, from, to int) {
	if from >= to {
		return
	}
	if b.plain && src.plain && b.stride == src.stride {
		b.fixed = append(b.fixed[:b.open()], src.fixed[from*src.stride:to*src.stride]...)
		b.rows += to - from
		b.reopen()
	} else {
		for r := from; r < to; r++ {
			for i := range b.Schema {
				if b.Schema[i].Type.Fixed() {
					b.fixed[b.open()+b.cols[i].slot] = src.at(i, r)
				}
			}
			b.rows++
			b.reopen()
		}
	}
	for i := range b.Schema {
		c, s := &b.cols[i], &src.cols[i]
		switch b.Schema[i].Type {
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
	view.fixed, view.stride, view.plain = b.fixed, b.stride, b.plain
	c := colBuf{slot: -1, bytes: make([]byte, 0, len(s)*b.rows), offs: make([]uint32, 0, b.rows)}
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
	view.fixed, view.stride, view.plain = b.fixed, b.stride, true
	next := 0 // the slot the next fixed column has when plain
	for _, i := range idx {
		c := b.cols[i]
		if c.slot >= 0 {
			view.plain = view.plain && c.slot == next
			next++
		}
		view.cols = append(view.cols, c)
	}
	view.rows = b.rows
	return view
}
