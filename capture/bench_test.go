package capture

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNoAllocs checks that Next allocates nothing once the buffer has grown
// to its steady size. AllocsPerRun divides by the run count with integer
// division, so one run reading many records counts every allocation.
func TestNoAllocs(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"pcap", pcapFile(21000, 600)},
		{"pcapng", pcapngFile(21000, 600)}, // room for three tries
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(tt.b), "x")
			if err != nil {
				t.Fatal(err)
			}
			var r Record
			next := func() {
				if err := rd.Next(&r); err != nil {
					t.Fatal(err)
				}
			}
			for range 2000 { // past 1 MiB: the buffer is at bufMax
				next()
			}
			// AllocsPerRun calls the function twice: a warm-up and the run.
			// It counts every allocation of the process, so a stray one of
			// the runtime's (seen once in CI, under -race with every
			// package's tests running) gets two more tries; an allocation
			// of Next would show in each.
			var allocs float64
			for range 3 {
				if allocs = testing.AllocsPerRun(1, func() {
					for range 3000 {
						next()
					}
				}); allocs == 0 {
					break
				}
			}
			if allocs != 0 {
				t.Errorf("%v allocations in 3000 calls to Next, want 0", allocs)
			}
		})
	}
}

// benchRead reads data to the end once per iteration and reports the time
// per packet. allocs/op counts per file (the reader and its buffer), not
// per packet; MB/s counts the uncompressed size.
func benchRead(b *testing.B, data []byte, size int) {
	benchOpen(b, size, func() (Reader, io.Closer, error) {
		rd, err := NewReader(bytes.NewReader(data), "bench")
		return rd, io.NopCloser(nil), err
	})
}

// benchMapped writes data to a file and reads it by Open, memory-mapped,
// as jj reads a capture file: from the page cache, with no copy.
func benchMapped(b *testing.B, data []byte) {
	path := filepath.Join(b.TempDir(), "bench")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	benchOpen(b, len(data), func() (Reader, io.Closer, error) { return Open(path) })
}

// benchRing writes data to a file and reads it by Open as jj reads a
// file whose mapping costs more than a copy (mapCostly): with read(2), a
// ring's goroutine reading ahead, into buffers sized by the file
// (ringReadFor: 256 KiB for the 62 MB of BenchmarkPcapRead). Its
// iterations reuse the heap the ones before freed, so the buffers' fresh
// pages, which the size saves a run of jj, cost nothing here, and only
// their number shows: 88-97 ns a packet, against 69-72 with the 1 MiB
// buffers of session 53 (bench/RESULTS.md, session 54).
func benchRing(b *testing.B, data []byte) {
	path := filepath.Join(b.TempDir(), "bench")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	saved, savedAlways := mapCostly, MapAlways
	b.Cleanup(func() { mapCostly, MapAlways = saved, savedAlways })
	mapCostly, MapAlways = func([]byte) bool { return true }, false
	benchOpen(b, len(data), func() (Reader, io.Closer, error) { return Open(path) })
}

// BenchmarkSmallFiles reads 100 pcap files of 1 000 records of 450 bytes
// (466 KB each) by Open, one after the other, as jj reads a directory of
// rotated captures: the cost of each file's mapping and page faults
// shows next to the records' (mmap_unix.go, MAP_POPULATE).
func BenchmarkSmallFiles(b *testing.B) {
	const files, records, size = 100, 1000, 450
	data := pcapFile(records, size)
	dir := b.TempDir()
	var paths []string
	for i := range files {
		path := filepath.Join(dir, fmt.Sprintf("part-%03d.pcap", i))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, path)
	}
	b.SetBytes(int64(files * len(data)))
	b.ReportAllocs()
	packets := 0
	var r Record
	for b.Loop() {
		for _, path := range paths {
			rd, c, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			packets += readToEnd(b, rd, &r)
			c.Close()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*files), "ns/file")
}

// benchOpen reads the capture that open opens to the end once per
// iteration.
func benchOpen(b *testing.B, size int, open func() (Reader, io.Closer, error)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	packets := 0
	var r Record
	for b.Loop() {
		rd, c, err := open()
		if err != nil {
			b.Fatal(err)
		}
		packets += readToEnd(b, rd, &r)
		c.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
	b.ReportMetric(float64(packets)/float64(b.N), "packets/op")
}

// readToEnd reads rd to its end into r, without keeping the records, and
// returns how many it read.
func readToEnd(b *testing.B, rd Reader, r *Record) int {
	n := 0
	for {
		if err := rd.Next(r); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			return n
		}
		n++
	}
}

// The benchmark captures: 100,000 records of 600 bytes (about 60 MB).
const benchPackets, benchSize = 100_000, 600

func BenchmarkPcapRead(b *testing.B) {
	data := pcapFile(benchPackets, benchSize)
	b.Run("plain", func(b *testing.B) { benchRead(b, data, len(data)) })
	b.Run("mapped", func(b *testing.B) { benchMapped(b, data) })
	b.Run("ring", func(b *testing.B) { benchRing(b, data) })
	b.Run("gzip", func(b *testing.B) { benchRead(b, gzipBytes(b, data), len(data)) })
	b.Run("zstd", func(b *testing.B) { benchRead(b, zstdBytes(b, data), len(data)) })
	b.Run("lz4", func(b *testing.B) { benchRead(b, lz4Bytes(b, data), len(data)) })
	b.Run("xz", func(b *testing.B) { benchRead(b, xzBytes(b, data), len(data)) })
	// Blocks of 1 MiB with their sizes in their headers, decompressed on
	// every CPU (xz.go); the xz library writes one block, without them.
	b.Run("xz-T2", func(b *testing.B) {
		if _, err := exec.LookPath("xz"); err != nil {
			b.Skip("the xz tool is not installed")
		}
		cmd := exec.Command("xz", "-0", "-T2", "--block-size=1MiB", "-c")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		benchRead(b, out, len(data))
	})
}

func BenchmarkPcapngRead(b *testing.B) {
	data := pcapngFile(benchPackets, benchSize)
	b.Run("plain", func(b *testing.B) { benchRead(b, data, len(data)) })
	b.Run("mapped", func(b *testing.B) { benchMapped(b, data) })
	b.Run("ring", func(b *testing.B) { benchRing(b, data) })
	b.Run("gzip", func(b *testing.B) { benchRead(b, gzipBytes(b, data), len(data)) })
	b.Run("zstd", func(b *testing.B) { benchRead(b, zstdBytes(b, data), len(data)) })
}
