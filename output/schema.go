// Package output holds the batch every extractor writes its values into,
// the column schema, and the writers that turn batches into CSV, JSON
// Lines, JSON and Parquet files, or a dataset directory of part files
// partitioned by date (NewDirWriter): the last stage of the pipeline
// (capture → decode → flow → extract → output).
//
// Values are kept in typed buffers (the numbers row after row as 64-bit
// words, each column's strings in one byte arena, lists flattened with
// offsets) that are reset, not reallocated, so a batch of flows costs no
// allocation once warm. Writers format by appending
// to a reused []byte and write once per batch.
package output

// Type is a column's value type.
type Type uint8

// Column types.
const (
	Int       Type = iota // 64-bit signed integer
	Float                 // 64-bit float
	String                // UTF-8 string
	Bool                  // boolean
	IntList               // list of 64-bit integers
	FloatList             // list of 64-bit floats
)

var typeNames = [...]string{"int64", "float64", "string", "bool", "list<int64>", "list<float64>"}

// String names the type as jj's schema does ("int64", "list<float64>", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Fixed reports whether t is a number (Int, Bool or Float), held in a
// batch's rows of fixed values rather than as text or a list.
func (t Type) Fixed() bool { return t == Int || t == Bool || t == Float }

// Privacy says how much a column can reveal about the hosts in a capture.
type Privacy uint8

// Privacy levels.
const (
	Safe       Privacy = iota // statistics that name no host
	Sensitive                 // values that may help identify a host or service
	Identifier                // addresses, ports and hashes of them
)

var privacyNames = [...]string{"safe", "sensitive", "identifier"}

// String returns "safe", "sensitive" or "identifier".
func (p Privacy) String() string {
	if int(p) < len(privacyNames) {
		return privacyNames[p]
	}
	return "unknown"
}

// Column describes one output column. The same table feeds the writers,
// `jj features`, `jj schema` and the generated features reference.
type Column struct {
	Group       string // feature group ("flow_meta", "timing", ...)
	Name        string
	Type        Type
	Unit        string // "s", "bytes", "packets", "" for none
	Direction   string // "both", "fwd", "bwd" or "" when it does not apply
	Privacy     Privacy
	Description string
	// Plain marks a String column whose text never holds a comma, a
	// double quote or a line break (addresses, hex digests, names from a
	// fixed set): the CSV writer copies it as it is, without looking for
	// characters to quote.
	Plain bool
}
