package capture

import (
	"encoding/binary"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bigPcap writes a pcap of 24.6 MB, more than a pager's window, each
// record's first bytes its number, and returns its path and record count.
func bigPcap(t *testing.T) (string, int) {
	t.Helper()
	const n = 40000
	src := pcapFile(n, 600)
	for i := range n {
		binary.LittleEndian.PutUint32(src[24+i*616+16:], uint32(i))
	}
	return writeFile(t, t.TempDir(), "big.pcap", src), n
}

// TestMapCostly checks the probe's decision: read(2) only for a file in
// the page cache whose mapped pages cost more than costlyPage and not all
// of whose windows were mapped with huge-page entries.
func TestMapCostly(t *testing.T) {
	path, _ := bigPcap(t)
	savedPage, savedHuge := costlyPage, hugeWindows
	t.Cleanup(func() { costlyPage, hugeWindows = savedPage, savedHuge })
	probe := func() bool {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		data := mapFile(f, fi.Size())
		if data == nil {
			t.Skip("no file mapping on this system")
		}
		defer unmapFile(data)
		readsHuge(data)
		return mapCostly(data)
	}
	huge := 0
	hugeWindows = func([]byte) int { return huge }
	for _, c := range []struct {
		page time.Duration
		huge int
		want bool
	}{
		{0, 0, true},          // every page costs more than nothing
		{0, 3, true},          // a window in small folios, which cost every run
		{0, 4, false},         // all mapped whole: the host keeps its work for later runs
		{time.Hour, 0, false}, // cheap pages
	} {
		costlyPage, huge = c.page, c.huge
		if got := probe(); got != c.want {
			t.Errorf("costlyPage %v, %d windows of 4 with huge-page entries: mapCostly = %v, want %v", c.page, c.huge, got, c.want)
		}
	}
	costlyPage, huge = 0, 0
	evictFile(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Mapped without populating, which would read the pages back.
	if data, err := unix.Mmap(int(f.Fd()), 0, 1<<20, unix.PROT_READ, unix.MAP_SHARED); err == nil {
		stillThere := resident(data)
		unix.Munmap(data)
		if stillThere {
			t.Skip("the file stays in the page cache here (a tmpfs?)")
		}
	}
	if probe() {
		t.Error("mapCostly = true for a file not in the page cache")
	}
}

// TestOpenReadsWhereMappingCostly opens a capture larger than a pager's
// window, with Open and OpenFile, the probe saying yes, then no: the same
// records either way, read with read(2) into the buffers of a ring that
// reads ahead, then from the mapping; and with MapAlways, mapped even
// where the probe says yes.
func TestOpenReadsWhereMappingCostly(t *testing.T) {
	path, n := bigPcap(t)
	saved, savedAlways := mapCostly, MapAlways
	t.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	MapAlways = false
	open := map[string]func() (Reader, io.Closer, error){
		"Open": func() (Reader, io.Closer, error) { return Open(path) },
		"OpenFile": func() (Reader, io.Closer, error) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return OpenFile(f, "big")
		},
	}
	for _, costly := range []bool{true, false} {
		for how, open := range open {
			mapCostly = func([]byte) bool { return costly }
			rd, c, err := open()
			if err != nil {
				t.Fatal(err)
			}
			cl := c.(closer)
			if mapped := cl.mapping != nil; mapped == costly {
				t.Errorf("%s, costly %v: mapped %v", how, costly, mapped)
			}
			var rec Record
			got := 0
			for rd.Next(&rec) == nil {
				if len(rec.Data) != 600 || binary.LittleEndian.Uint32(rec.Data) != uint32(got) {
					t.Fatalf("%s, costly %v: record %d wrong (%d bytes)", how, costly, got, len(rec.Data))
				}
				got++
			}
			if got != n {
				t.Errorf("%s, costly %v: %d records, want %d", how, costly, got, n)
			}
			if ahead := cl.in.raw.ring != nil; ahead != costly {
				t.Errorf("%s, costly %v: read ahead by a ring %v", how, costly, ahead)
			}
			c.Close()
			if costly {
				ringClosed(t, cl.in)
			}
		}
	}
	// MapAlways maps the file whatever the probe says.
	MapAlways = true
	mapCostly = func([]byte) bool { return true }
	_, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.(closer).mapping == nil {
		t.Error("MapAlways: not mapped")
	}
	c.Close()
}
