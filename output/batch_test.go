package output

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

// TestBatchGrow fills a batch grown to its rows after its first few and
// one left to grow with the same values: they read back alike, and the
// first's numbers and strings took the rows after Grow without growing
// again.
func TestBatchGrow(t *testing.T) {
	schema := []Column{{Name: "i", Type: Int}, {Name: "f", Type: Float}, {Name: "s", Type: String}, {Name: "b", Type: Bool}, {Name: "l", Type: IntList}, {Name: "fl", Type: FloatList}}
	const rows, before = 50, 3
	grown, plain := NewBatch(schema), NewBatch(schema)
	var arrays [4][4]uintptr
	var fixed uintptr
	for _, b := range []*Batch{grown, plain} {
		for r := range rows {
			if r == before && b == grown {
				b.Grow(rows)
				b.Grow(rows - 10) // room already: nothing changes
				for i := range arrays {
					arrays[i] = buffers(&b.cols[i])
				}
				fixed = start(b.fixed)
			}
			b.AppendInt(0, int64(r)-7)
			b.AppendFloat(1, float64(r)/3)
			b.AppendString(2, "10.0.0.1"[:1+r%8]+"abcdefgh")
			b.AppendBool(3, r%2 == 0)
			b.AppendIntList(4, []int64{int64(r), 2})
			b.AppendFloatList(5, []float64{float64(r) / 7})
			b.EndRow()
		}
	}
	if grown.Len() != rows || plain.Len() != rows {
		t.Fatalf("rows %d and %d, want %d", grown.Len(), plain.Len(), rows)
	}
	for col := range schema {
		for r := range rows {
			var got, want any
			switch schema[col].Type {
			case Int, Bool:
				got, want = grown.Int(col, r), plain.Int(col, r)
			case Float:
				got, want = grown.Float(col, r), plain.Float(col, r)
			case String:
				got, want = string(grown.Bytes(col, r)), string(plain.Bytes(col, r))
			case IntList:
				got, want = grown.IntList(col, r), plain.IntList(col, r)
			case FloatList:
				got, want = grown.FloatList(col, r), plain.FloatList(col, r)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("column %s row %d: %v, want %v", schema[col].Name, r, got, want)
			}
		}
	}
	if now := start(grown.fixed); now != fixed {
		t.Errorf("the numbers' buffer grew after Grow: %#x, then %#x", fixed, now)
	}
	for i := range arrays {
		if now := buffers(&grown.cols[i]); now != arrays[i] {
			t.Errorf("column %s grew after Grow: %v, then %v", schema[i].Name, arrays[i], now)
		}
	}
}

// buffers returns where a column's buffers start.
func buffers(c *colBuf) [4]uintptr {
	return [4]uintptr{start(c.ints), start(c.floats), start(c.bytes), start(c.offs)}
}

func start[T any](s []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }

// TestView reads a batch through a View that picks some of its columns in
// another order, its numbers no longer in the slots the batch gave them:
// the text of every format, the values and the rows appended from it
// (AppendRows, AppendRow) are those of a batch made with the view's
// columns alone, in its order.
func TestView(t *testing.T) {
	schema := []Column{{Name: "i", Type: Int}, {Name: "s", Type: String}, {Name: "f", Type: Float}, {Name: "b", Type: Bool}, {Name: "l", Type: IntList}, {Name: "g", Type: Float}, {Name: "j", Type: Int}}
	idx := []int{5, 3, 0, 1, 2, 4} // g, b, i, s, f, l: no j, the rest reordered
	var sub []Column
	for _, i := range idx {
		sub = append(sub, schema[i])
	}
	const rows = 40
	whole, want := NewBatch(schema), NewBatch(sub)
	value := func(col, r int) any {
		switch col {
		case 0:
			return int64(r*r - 20)
		case 1:
			return fmt.Sprintf("s%d,x", r)
		case 2:
			return float64(r) / 7
		case 3:
			return r%3 == 0
		case 4:
			return []int64{int64(r), -1}
		case 5:
			return float64(r) * 1e-3
		}
		return int64(r) << 40
	}
	put := func(b *Batch, k int, v any) {
		switch v := v.(type) {
		case int64:
			b.AppendInt(k, v)
		case float64:
			b.AppendFloat(k, v)
		case bool:
			b.AppendBool(k, v)
		case string:
			b.AppendString(k, v)
		case []int64:
			b.AppendIntList(k, v)
		}
	}
	for r := range rows {
		for col := range schema {
			put(whole, col, value(col, r))
		}
		whole.EndRow()
		for k, col := range idx {
			put(want, k, value(col, r))
		}
		want.EndRow()
	}
	view := whole.View(idx, sub, nil)
	if view.plain {
		t.Fatal("the view's numbers lie in the batch's order")
	}
	for _, format := range []string{"csv", "jsonl", "json"} {
		var got, exp bytes.Buffer
		for _, c := range []struct {
			buf *bytes.Buffer
			b   *Batch
		}{{&got, view}, {&exp, want}} {
			w, err := NewWriter(format, c.buf, sub)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(c.b); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != exp.String() {
			t.Errorf("%s through the view:\n%s\nwant:\n%s", format, got.String(), exp.String())
		}
	}
	copied := NewBatch(sub)
	copied.AppendRow(view, 0)
	copied.AppendRows(view, 1, rows)
	for _, b := range []*Batch{view, copied} {
		for k := range sub {
			for r := range rows {
				if got, exp := b.Value(k, r), want.Value(k, r); !reflect.DeepEqual(got, exp) {
					t.Fatalf("column %s row %d: %v, want %v", sub[k].Name, r, got, exp)
				}
			}
		}
	}
}
