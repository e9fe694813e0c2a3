package output

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var timeSchema = []Column{{Name: "id", Type: Int}, {Name: "start_time", Type: Float}, {Name: "seq", Type: IntList}}

// timeBatch has one row per start time; id is the row's number from first.
func timeBatch(first int, times ...float64) *Batch {
	b := NewBatch(timeSchema)
	for i, t := range times {
		b.AppendInt(0, int64(first+i))
		b.AppendFloat(1, t)
		b.AppendIntList(2, []int64{int64(first + i)})
		b.EndRow()
	}
	return b
}

func csvFiles(w io.Writer, schema []Column) (Writer, error) { return NewWriter("csv", w, schema) }

// writeDir writes the batches to a dataset directory and returns the
// files, relative to dir, sorted.
func writeDir(t *testing.T, o DirOptions, batches ...*Batch) []string {
	t.Helper()
	if o.NewWriter == nil {
		o.NewWriter, o.Ext = csvFiles, ".csv"
	}
	w, err := NewDirWriter(timeSchema, o)
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
	return listFiles(t, o.Dir)
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// ids reads the id column of a CSV file.
func ids(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		out = append(out, strings.SplitN(line, ",", 2)[0])
	}
	return out
}

// 2024-01-01T00:00:00Z is 1704067200.
const jan1 = 1704067200.0

func TestDirPartitionByDate(t *testing.T) {
	dir := t.TempDir()
	files := writeDir(t, DirOptions{Dir: dir, PartitionBy: "date"},
		timeBatch(0, jan1-0.000001, jan1, jan1+86399.999999, jan1-86400),
		timeBatch(4, jan1+86400, jan1+1, -0.5, 0))
	want := []string{
		"date=1969-12-31/part-0000.csv",
		"date=1970-01-01/part-0000.csv",
		"date=2023-12-31/part-0000.csv",
		"date=2024-01-01/part-0000.csv",
		"date=2024-01-02/part-0000.csv",
	}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	for file, wantIDs := range map[string][]string{
		"date=2024-01-01/part-0000.csv": {"1", "2", "5"}, // in write order
		"date=2023-12-31/part-0000.csv": {"0", "3"},
		"date=1969-12-31/part-0000.csv": {"6"},
	} {
		if got := ids(t, filepath.Join(dir, file)); !reflect.DeepEqual(got, wantIDs) {
			t.Errorf("%s ids = %v, want %v", file, got, wantIDs)
		}
	}
}

// TestDirReopen checks that a partition whose file was closed to stay
// within MaxOpen gets a new part file when it reappears, and that a second
// run adds files without overwriting the first run's.
func TestDirReopen(t *testing.T) {
	dir := t.TempDir()
	o := DirOptions{Dir: dir, PartitionBy: "date", MaxOpen: 1}
	files := writeDir(t, o, timeBatch(0, jan1), timeBatch(1, jan1+86400), timeBatch(2, jan1+5), timeBatch(3, jan1+6))
	want := []string{"date=2024-01-01/part-0000.csv", "date=2024-01-01/part-0001.csv", "date=2024-01-02/part-0000.csv"}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	if got := ids(t, filepath.Join(dir, want[1])); !reflect.DeepEqual(got, []string{"2", "3"}) {
		t.Errorf("part-0001 ids = %v, want [2 3]", got)
	}
	files = writeDir(t, o, timeBatch(10, jan1))
	want = []string{"date=2024-01-01/part-0000.csv", "date=2024-01-01/part-0001.csv", "date=2024-01-01/part-0002.csv", "date=2024-01-02/part-0000.csv"}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("second run: files = %v, want %v", files, want)
	}
	if got := ids(t, filepath.Join(dir, want[0])); !reflect.DeepEqual(got, []string{"0"}) {
		t.Errorf("the first run's part-0000 was changed: ids %v", got)
	}
}

func TestDirUnpartitioned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dataset")
	files := writeDir(t, DirOptions{Dir: dir}, timeBatch(0, jan1, 0), timeBatch(2, 5))
	if !reflect.DeepEqual(files, []string{"part-0000.csv"}) {
		t.Fatalf("files = %v", files)
	}
	if got := ids(t, filepath.Join(dir, "part-0000.csv")); !reflect.DeepEqual(got, []string{"0", "1", "2"}) {
		t.Errorf("ids = %v", got)
	}
	if files := writeDir(t, DirOptions{Dir: dir}); len(files) != 1 {
		t.Errorf("a run without rows wrote files: %v", files)
	}
}

func TestDirParquet(t *testing.T) {
	dir := t.TempDir()
	o := DirOptions{Dir: dir, PartitionBy: "date", Ext: ".parquet", NewWriter: func(w io.Writer, s []Column) (Writer, error) {
		return NewParquetWriter(w, s, ParquetOptions{})
	}}
	files := writeDir(t, o, timeBatch(0, jan1, jan1+86400, jan1+2))
	if !reflect.DeepEqual(files, []string{"date=2024-01-01/part-0000.parquet", "date=2024-01-02/part-0000.parquet"}) {
		t.Fatalf("files = %v", files)
	}
	data, err := os.ReadFile(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	pq := readParquet(t, data)
	want := [][]any{{int64(0), jan1, []int64{0}}, {int64(2), jan1 + 2, []int64{2}}}
	if !reflect.DeepEqual(pq.rows, want) {
		t.Errorf("rows = %v, want %v", pq.rows, want)
	}
}

func TestDirErrors(t *testing.T) {
	if _, err := NewDirWriter([]Column{{Name: "id", Type: Int}}, DirOptions{Dir: t.TempDir(), PartitionBy: "date"}); err == nil || !strings.Contains(err.Error(), "start_time") {
		t.Errorf("no start_time: err = %v", err)
	}
	if _, err := NewDirWriter(timeSchema, DirOptions{Dir: t.TempDir(), PartitionBy: "hour"}); err == nil {
		t.Error("partition key hour: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDirWriter(timeSchema, DirOptions{Dir: file}); err == nil {
		t.Error("a file as the directory: no error")
	}

	// A failing file writer: the run's in-progress files are removed.
	dir := t.TempDir()
	fail := errors.New("disk full")
	w, err := NewDirWriter(timeSchema, DirOptions{Dir: dir, PartitionBy: "date", Ext: ".x", NewWriter: func(io.Writer, []Column) (Writer, error) {
		return errWriter{fail}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(timeBatch(0, jan1)); !errors.Is(err, fail) {
		t.Errorf("Write = %v, want %v", err, fail)
	}
	if err := w.Close(); !errors.Is(err, fail) {
		t.Errorf("Close = %v, want %v", err, fail)
	}
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("files left after a failure: %v", files)
	}
}

type errWriter struct{ err error }

func (e errWriter) Write(*Batch) error { return e.err }
func (e errWriter) Close() error       { return nil }

// TestDirSameWhateverBatches: the same rows in batches of other sizes, as
// other numbers of workers hand them over, make the same files with the
// same rows, though partitions outnumber the files kept open and files are
// closed and opened again along the way.
func TestDirSameWhateverBatches(t *testing.T) {
	var times []float64
	x := uint32(1)
	for len(times) < 300 {
		x = x*1664525 + 1013904223 // a fixed pseudo-random walk of days
		day := float64((x >> 29) % 5)
		for n := int(x>>24)%4 + 1; n > 0 && len(times) < 300; n-- {
			times = append(times, jan1+day*86400+float64(len(times)))
		}
	}
	write := func(size int) map[string]string {
		dir := t.TempDir()
		var batches []*Batch
		for i := 0; i < len(times); i += size {
			batches = append(batches, timeBatch(i, times[i:min(i+size, len(times))]...))
		}
		files := map[string]string{}
		for _, f := range writeDir(t, DirOptions{Dir: dir, PartitionBy: "date", MaxOpen: 2}, batches...) {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			files[f] = string(data)
		}
		return files
	}
	one := write(1)
	if len(one) < 10 {
		t.Fatalf("%d files; want files closed and opened again", len(one))
	}
	for _, size := range []int{2, 3, 7, 64, 300} {
		if got := write(size); !reflect.DeepEqual(got, one) {
			var names []string
			for f := range got {
				names = append(names, f)
			}
			slices.Sort(names)
			t.Errorf("batches of %d: files %v differ from batches of 1's", size, names)
		}
	}
}
