package capture

import (
	"encoding/binary"
	"io"
	"os"
	"slices"
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
// the page cache whose mapped pages cost more than costlyPage.
func TestMapCostly(t *testing.T) {
	path, _ := bigPcap(t)
	savedPage := costlyPage
	t.Cleanup(func() { costlyPage = savedPage })
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
	for _, c := range []struct {
		page time.Duration
		want bool
	}{
		{0, true},          // every page costs more than nothing
		{time.Hour, false}, // cheap pages
	} {
		costlyPage = c.page
		if got := probe(); got != c.want {
			t.Errorf("costlyPage %v: mapCostly = %v, want %v", c.page, got, c.want)
		}
	}
	costlyPage = 0
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

// TestProbeOffsets checks where the probe's windows fall, against offsets
// worked out by hand (in 2 MiB pages).
func TestProbeOffsets(t *testing.T) {
	for _, c := range []struct {
		size  int
		pages []int // offsets in 2 MiB pages
	}{
		{2 << 20, []int{0}},
		{4<<20 - 1, []int{0}},
		{9<<20 + 5, []int{0, 1, 2, 3}}, // four whole 2 MiB pages
		{16<<20 + 1, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		// 1 GiB and 5 bytes (an int on 32-bit systems too): 512 whole
		// pages; k·511/15 for k = 0 … 15.
		{1<<30 + 5, []int{0, 34, 68, 102, 136, 170, 204, 238, 272, 306, 340, 374, 408, 442, 476, 511}},
	} {
		var want []int
		for _, p := range c.pages {
			want = append(want, p*hugePage)
		}
		got := probeOffsets(c.size)
		if !slices.Equal(got, want) {
			t.Errorf("probeOffsets(%d) = %v, want %v", c.size, got, want)
		}
		for _, off := range got {
			if off+probeBytes > c.size {
				t.Errorf("probeOffsets(%d): a window at %d ends past the file", c.size, off)
			}
		}
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
