package jj

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/internal/testpkt"
)

// shrinkCapture returns a pcap file of n records of UDP packets of 50
// flows, 1 ms apart, each record size bytes long. With align, the first
// record is shorter by the file header, so that every record ends on a
// multiple of size.
func shrinkCapture(n, size int, align bool) []byte {
	frames := make([]testpkt.Frame, n)
	for i := range frames {
		frames[i] = testpkt.Frame{
			TS: connEpoch + int64(i)*1e6, Src: testpkt.Addr("10.0.0.1"), Dst: testpkt.Addr("10.0.0.2"), Proto: 17,
			SrcPort: uint16(1000 + i%50), DstPort: 53, Payload: size - 16 - 42,
		}
	}
	if align {
		frames[0].Payload -= 24 // the file header
	}
	return testpkt.Pcap(frames...)
}

// TestFileShrinks truncates a capture file after jj has opened and mapped
// it, before it is read, as a capture tool started again on the same file
// name or a log rotation by copy and truncate can. Reading a page past the
// new end raises SIGBUS, which killed jj with a stack trace; now the input
// ends with an error wrapping capture.ErrChanged at the cut, and every
// flow of the records before it is written: the same rows as the file cut
// there by hand and read whole. With one worker and two and with split
// reading; for files the pager maps ahead (24 MB) and files mapped whole
// (8 MB); with the cut between records (1 KiB records, the walk meets the
// fault) and inside a record's frame (1000-byte records: decoding meets
// it, and the record is not counted as read).
func TestFileShrinks(t *testing.T) {
	for _, c := range []struct {
		n, size int
		align   bool
		cut     int // a multiple of 4096
	}{
		{24 << 10, 1024, true, 20 << 20},
		{8 << 10, 1024, true, 4 << 20},
		{24000, 1000, false, 21463040}, // the frame of record 21463 starts at the cut
		{8000, 1000, false, 4354048},   // 8 bytes into the frame of record 4354
	} {
		if c.cut%os.Getpagesize() != 0 {
			t.Logf("cut at %d left out: not a boundary of this machine's %d-byte pages", c.cut, os.Getpagesize())
			continue
		}
		data := shrinkCapture(c.n, c.size, c.align)
		whole := c.cut / c.size // records before the cut
		end := 24 + whole*c.size
		if c.align {
			end = whole * c.size
		}
		dir := t.TempDir()
		ref := filepath.Join(dir, "ref.pcap")
		if err := os.WriteFile(ref, data[:end], 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := NewPipeline(DefaultConfig()).Process(ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []struct {
			workers, decoders int
		}{{1, -1}, {2, -1}, {2, 1}} {
			t.Run(fmt.Sprintf("%d/%d/w%d/d%d", len(data), c.cut, mode.workers, mode.decoders), func(t *testing.T) {
				path := filepath.Join(dir, "shrinks.pcap")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				shrink(t, path, int64(c.cut))
				cfg := DefaultConfig()
				cfg.Workers = mode.workers
				p := NewPipeline(cfg)
				p.Decoders = mode.decoders
				got, err := p.Process(path)
				var fe *capture.FileError
				if !errors.Is(err, capture.ErrChanged) || !errors.As(err, &fe) || fe.Name != path || fe.Offset < int64(c.cut) || fe.Offset >= int64(c.cut+64) {
					t.Fatalf("error %v, want ErrChanged in %s at offset %d", err, path, c.cut)
				}
				if s := got.Summary; s.Packets != uint64(whole) || s.Used != s.Packets || s.SkippedTotal() != 0 {
					t.Errorf("%d packets read, %d used, %d skipped; want %d, all used", s.Packets, s.Used, s.SkippedTotal(), whole)
				}
				if !slices.EqualFunc(got.Rows, want.Rows, func(a, b []any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) || len(got.Rows) == 0 {
					t.Errorf("%d rows, want the %d of the file cut by hand", len(got.Rows), len(want.Rows))
				}
			})
		}
	}
}

// TestCompressedFileShrinks truncates a gzip capture of 12 MiB (random
// payloads, so that it stays that large and is decoded by the gzip tasks
// too, in chunks of 4 MiB) after jj has opened it, at a chunk's start and
// inside chunks: the decompressing goroutine or a task meets the fault,
// and the input ends with ErrChanged after the flows of what was
// decompressed before it, the rows of the capture's first records read
// whole.
func TestCompressedFileShrinks(t *testing.T) {
	data := shrinkCapture(12<<10, 1024, true)
	rnd := rand.New(rand.NewPCG(1, 2))
	for off := 1024; off < len(data); off += 1024 {
		for i := off + 16 + 42; i < off+1024; i++ {
			data[i] = byte(rnd.Uint32())
		}
	}
	gz := testpkt.Gzip(data)
	if len(gz) < 11<<20 {
		t.Fatalf("%d bytes compressed, want 11 MiB or more", len(gz))
	}
	dir := t.TempDir()
	for _, cut := range []int{4 << 20, 5 << 20, 6 << 20, 9 << 20, 10 << 20} {
		t.Run(fmt.Sprint(cut>>20, "MiB"), func(t *testing.T) {
			path := filepath.Join(dir, "shrinks.pcap.gz")
			if err := os.WriteFile(path, gz, 0o644); err != nil {
				t.Fatal(err)
			}
			shrink(t, path, int64(cut))
			got, err := NewPipeline(DefaultConfig()).Process(path)
			if !errors.Is(err, capture.ErrChanged) {
				t.Fatalf("error %v, want ErrChanged", err)
			}
			// Every record in the data before the cut, less a deflate
			// block's worth, was decompressed before the fault.
			least := uint64(float64(cut-(256<<10)) * float64(len(data)) / float64(len(gz)) / 1024)
			s := got.Summary
			if s.Packets != s.Used+s.SkippedTotal() || s.Packets < least {
				t.Fatalf("%d packets read, %d used and %d skipped; want %d or more read", s.Packets, s.Used, s.SkippedTotal(), least)
			}
			ref := filepath.Join(dir, "ref.pcap")
			if err := os.WriteFile(ref, data[:s.Packets*1024], 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := NewPipeline(DefaultConfig()).Process(ref)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got.Rows, want.Rows, func(a, b []any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				t.Errorf("%d rows, want the %d of the first %d records", len(got.Rows), len(want.Rows), s.Packets)
			}
		})
	}
}

// TestFileShrinksMidPage cuts a capture where no page ends: the mapping
// reads zeros from the new end to the end of its page, which make empty
// records (skipped) before the fault, or a record that ends in zeros.
// The input still ends with ErrChanged, and the counts add up.
func TestFileShrinksMidPage(t *testing.T) {
	data := shrinkCapture(8<<10, 1024, true)
	for _, cut := range []int{4<<20 + 100, 4<<20 + 1024, 4<<20 + 4000} {
		path := filepath.Join(t.TempDir(), "shrinks.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		shrink(t, path, int64(cut))
		got, err := NewPipeline(DefaultConfig()).Process(path)
		if !errors.Is(err, capture.ErrChanged) {
			t.Errorf("cut at %d: error %v, want ErrChanged", cut, err)
		}
		if s := got.Summary; s.Packets != s.Used+s.SkippedTotal() || s.Used < uint64(cut/1024) {
			t.Errorf("cut at %d: %d packets read, %d used and %d skipped", cut, s.Packets, s.Used, s.SkippedTotal())
		}
	}
}

// shrink makes the pipeline truncate path to size once it has opened it.
func shrink(t *testing.T, path string, size int64) {
	if !mapsFiles {
		t.Skipf("capture files are not memory-mapped on %s", runtime.GOOS)
	}
	saved := testHookOpened
	t.Cleanup(func() { testHookOpened = saved })
	testHookOpened = func(f string) {
		if f == path {
			if err := os.Truncate(path, size); err != nil {
				t.Error(err)
			}
		}
	}
}

// mapsFiles tells whether capture.Open maps files here (capture/mmap_unix.go).
var mapsFiles = map[string]bool{"linux": true, "darwin": true, "freebsd": true, "netbsd": true, "openbsd": true}[runtime.GOOS]
