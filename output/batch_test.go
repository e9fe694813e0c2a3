package output

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestBatchGrow fills a batch grown to its rows after its first few and
// one left to grow with the same values: they read back alike, and the
// first's scalar and string columns took the rows after Grow without
// growing again.
func TestBatchGrow(t *testing.T) {
	schema := []Column{{Name: "i", Type: Int}, {Name: "f", Type: Float}, {Name: "s", Type: String}, {Name: "b", Type: Bool}, {Name: "l", Type: IntList}, {Name: "fl", Type: FloatList}}
	const rows, before = 50, 3
	grown, plain := NewBatch(schema), NewBatch(schema)
	var arrays [4][4]uintptr
	for _, b := range []*Batch{grown, plain} {
		for r := range rows {
			if r == before && b == grown {
				b.Grow(rows)
				b.Grow(rows - 10) // room already: nothing changes
				for i := range arrays {
					arrays[i] = buffers(&b.cols[i])
				}
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
