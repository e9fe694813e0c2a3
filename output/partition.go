package output

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// PartitionKeys lists the values of DirOptions.PartitionBy.
var PartitionKeys = []string{"date"}

// DefaultMaxOpen is how many partition files a DirWriter keeps open at once.
// Flows end roughly in time order, so a date-partitioned run writes to one
// or two partitions at a time; each open Parquet file holds up to a row
// group in memory.
const DefaultMaxOpen = 4

// DirOptions configure NewDirWriter.
type DirOptions struct {
	// Dir is the dataset directory; it is created if needed.
	Dir string
	// PartitionBy is "" (one file per run) or "date": Hive-style
	// directories date=YYYY-MM-DD by the UTC date of start_time.
	PartitionBy string
	// Ext is the files' extension, with the dot (".parquet").
	Ext string
	// NewWriter makes the writer of one file.
	NewWriter func(w io.Writer, schema []Column) (Writer, error)
	// MaxOpen bounds the partition files open at once; 0 means
	// DefaultMaxOpen.
	MaxOpen int
}

// dirWriter writes a dataset directory: files part-NNNN<ext>, one per run
// and partition, in Hive-style partition directories ("date=2024-01-01/")
// when partitioned, so that Spark, DuckDB, Polars or Trino read every run
// as one table. It never overwrites a file: each new file takes the next
// free number in its directory, so runs add to a dataset, and concurrent
// runs into the same directory do not collide. A file is written under a
// hidden name (".part-NNNN<ext>.inprogress", which those readers skip) and
// renamed when complete.
type dirWriter struct {
	o      DirOptions
	schema []Column
	col    int // index of start_time, when partitioned
	parts  map[int64]*partition
	open   []*partition // the partitions with an open file
	rows   uint64       // rows written, for least-recently-used eviction
	err    error        // sticky
	paths  []string     // the files completed, in order
}

// partition is one partition directory and, while open, its current file.
type partition struct {
	dir   string // the partition's directory
	next  int    // the next part number to try
	stage *Batch // this batch's rows of the partition
	used  uint64 // rows written up to this partition's last, for eviction
	out   Writer // nil when no file is open
	bw    *bufio.Writer
	f     *os.File
	tmp   string // the file's in-progress name
	final string // the name it gets when complete
}

// NewDirWriter returns a writer of the dataset directory o.Dir. A
// partitioned schema needs a float64 start_time column.
func NewDirWriter(schema []Column, o DirOptions) (Writer, error) {
	if o.MaxOpen <= 0 {
		o.MaxOpen = DefaultMaxOpen
	}
	d := &dirWriter{o: o, schema: schema, col: -1, parts: map[int64]*partition{}}
	switch o.PartitionBy {
	case "":
	case "date":
		d.col = slices.IndexFunc(schema, func(c Column) bool { return c.Name == "start_time" })
		if d.col < 0 || schema[d.col].Type != Float {
			return nil, errors.New("partitioning by date needs the start_time column")
		}
	default:
		return nil, fmt.Errorf("unknown partition key %q (known: date)", o.PartitionBy)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	return d, nil
}

// Paths returns the files completed so far, in the order they were
// completed.
func (d *dirWriter) Paths() []string { return d.paths }

// Write implements Writer: each row goes to its partition's file.
func (d *dirWriter) Write(b *Batch) error {
	if d.err != nil {
		return d.err
	}
	if b.Len() == 0 {
		return nil
	}
	if d.col < 0 {
		p := d.partition(0, "")
		if err := d.openFile(p); err != nil {
			return d.fail(err)
		}
		return d.fail(p.out.Write(b))
	}
	var touched []*partition
	var last *partition
	var lastDay int64
	// Rows of one day come in runs (a batch is mostly one day), which go
	// to their partition's stage a column at a time. A partition's file
	// is opened, and the least recently used one closed for it, at the
	// first row that needs it, by the rows written before that row: the
	// files a run makes then do not depend on how its rows come in
	// batches, which differ with the number of workers.
	for r := 0; r < b.Len(); {
		day := dayOf(b.Float(d.col, r))
		end := r + 1
		for end < b.Len() && dayOf(b.Float(d.col, end)) == day {
			end++
		}
		p := last
		if p == nil || day != lastDay {
			p = d.partition(day, "date="+time.Unix(day*86400, 0).UTC().Format(time.DateOnly))
			last, lastDay = p, day
		}
		if err := d.openFile(p); err != nil {
			return d.fail(err)
		}
		if p.stage.Len() == 0 {
			touched = append(touched, p) // maybe again, after a close (flushStage)
		}
		p.stage.AppendRows(b, r, end)
		d.rows += uint64(end - r)
		p.used = d.rows
		r = end
	}
	for _, p := range touched {
		if err := d.flushStage(p); err != nil {
			return d.fail(err)
		}
	}
	return nil
}

// flushStage writes the rows staged for p to its file.
func (d *dirWriter) flushStage(p *partition) error {
	if p.stage.Len() == 0 {
		return nil
	}
	err := p.out.Write(p.stage)
	p.stage.Reset()
	return err
}

// dayOf returns the UTC day number (days since 1970-01-01) of a Unix time.
func dayOf(sec float64) int64 {
	if math.IsNaN(sec) || math.IsInf(sec, 0) {
		return 0
	}
	return int64(math.Floor(sec / 86400))
}

func (d *dirWriter) fail(err error) error {
	if err != nil && d.err == nil {
		d.err = err
	}
	return err
}

// partition returns the partition of day, remembering it.
func (d *dirWriter) partition(day int64, name string) *partition {
	p := d.parts[day]
	if p == nil {
		p = &partition{dir: filepath.Join(d.o.Dir, name), stage: NewBatch(d.schema)}
		d.parts[day] = p
	}
	return p
}

// openFile opens a new file for p unless it has one, closing the least
// recently used file first when MaxOpen files are open.
func (d *dirWriter) openFile(p *partition) error {
	if p.out != nil {
		return nil
	}
	if len(d.open) >= d.o.MaxOpen {
		lru := 0
		for i, q := range d.open {
			if q.used < d.open[lru].used {
				lru = i
			}
		}
		// Its rows staged from this batch go to the file before it closes.
		if err := d.flushStage(d.open[lru]); err != nil {
			return err
		}
		if err := d.closeFile(d.open[lru]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	for ; ; p.next++ {
		name := fmt.Sprintf("part-%04d%s", p.next, d.o.Ext)
		final := filepath.Join(p.dir, name)
		tmp := filepath.Join(p.dir, "."+name+".inprogress")
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue // another run is writing this number
		}
		if err != nil {
			return err
		}
		// The in-progress name is ours; the number is free unless an
		// earlier run completed it.
		if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
			f.Close()
			os.Remove(tmp)
			if err != nil {
				return err
			}
			continue
		}
		p.next++
		p.f, p.tmp, p.final = f, tmp, final
		break
	}
	p.bw = bufio.NewWriterSize(p.f, 256<<10)
	w, err := d.o.NewWriter(p.bw, d.schema)
	if err != nil {
		p.f.Close()
		os.Remove(p.tmp)
		p.f = nil
		return err
	}
	p.out = w
	d.open = append(d.open, p)
	return nil
}

// closeFile completes p's file: writer, buffer, file, then the rename to
// its final name.
func (d *dirWriter) closeFile(p *partition) error {
	d.open = slices.DeleteFunc(d.open, func(q *partition) bool { return q == p })
	err := p.out.Close()
	if ferr := p.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.tmp, p.final)
	}
	if err == nil {
		d.paths = append(d.paths, p.final)
	}
	p.out, p.bw, p.f = nil, nil, nil
	return err
}

// Close implements Writer: it completes every open file, in the order
// their partitions were opened. After a write error it completes none:
// their in-progress files are removed, so that a failed run adds no
// partial file to the dataset (files of partitions closed earlier to stay
// within MaxOpen were complete, and stay).
func (d *dirWriter) Close() error {
	err := d.err
	for len(d.open) > 0 {
		p := d.open[0]
		if err != nil {
			d.open = d.open[1:]
			p.f.Close()
			os.Remove(p.tmp)
			continue
		}
		err = d.closeFile(p)
	}
	d.err = errors.New("dataset writer closed")
	return err
}
