package capture

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// ringInput opens src through a stream that a ring of bufs buffers of
// room+size bytes reads ahead, as Open reads a file that is better not
// mapped.
func ringInput(t *testing.T, src io.Reader, room, size, bufs int) (Reader, *input, error) {
	t.Helper()
	return ringNamed(src, "x", room, size, bufs)
}

func ringNamed(src io.Reader, name string, room, size, bufs int) (Reader, *input, error) {
	raw := &stream{ring: newRing(src, nil, room, size, bufs)}
	return newReaderFrom(raw, name, -1, false)
}

// ringClosed fails the test unless in's ring goroutine has ended.
func ringClosed(t *testing.T, in *input) {
	t.Helper()
	select {
	case <-in.raw.ring.exited:
	default:
		t.Error("the ring's goroutine still runs after close")
	}
}

// TestRingStream reads captures through a ring of tiny buffers: records
// shorter than the room, longer than it and longer than a buffer (which
// straddle two buffers or more), short reads of the source, pcapng, and
// compressed files, which the decompressor reads with Read and ReadByte.
// The records are those NewReader reads from the same bytes.
func TestRingStream(t *testing.T) {
	files := map[string][]byte{
		"growth.pcap":   sizedPcap([]int{10, 100, 5, 300, 0, 7, 31, 32, 33, 64, 65, 1000, 3}),
		"many.pcap":     pcapFile(500, 50),
		"many.pcapng":   pcapngFile(300, 77),
		"empty.pcap":    pcapFile(0, 0),
		"header.pcapng": pcapngFile(0, 0),
	}
	for name, c := range compressedFiles(t, "many", pcapFile(300, 90)) {
		files[name] = c
	}
	for name, file := range files {
		want, wantErr := readAll(t, mustReader(t, file))
		for _, room := range []int{0, 16, 32, 4096} {
			for _, chunk := range []int{1 << 20, 7} {
				rd, in, err := ringInput(t, &chunkReader{b: file, n: chunk}, room, 64, 2)
				if err != nil {
					t.Fatalf("%s, room %d, reads of %d: %v", name, room, chunk, err)
				}
				got, err := readAll(t, rd)
				if err != wantErr || !reflect.DeepEqual(got, want) {
					t.Errorf("%s, room %d, reads of %d: %d records then %v, want %d then %v",
						name, room, chunk, len(got), err, len(want), wantErr)
				}
				in.close()
				ringClosed(t, in)
			}
		}
	}
}

// TestRingParsesInPlace checks that records no longer than the room are
// parsed in the ring's own buffers, the unread end of one moved into the
// next, and not copied into a buffer of the stream's.
func TestRingParsesInPlace(t *testing.T) {
	readInRing(t, pcapFile(2000, 50), 256, 4096, 3, slices.Repeat([]int{50}, 2000))
}

// TestRingRoomHoldsLargeRecords checks that the ring's room takes the
// start of a record of up to 256 KiB that straddles two buffers: a frame
// of 64 KiB of IP (65 549 bytes with its Ethernet header, as captures
// from hosts that merge segments hold), one of tcpdump's default snapshot
// length, 262 144 bytes, and others, read in buffers of a file of 80 MB,
// are all parsed in the ring's own buffers. With a room of 64 KiB, the
// 65 549 bytes and their record header did not fit, and each such record
// that straddled made a buffer of its own, a fresh one as large as a ring
// buffer, which the tail was copied into with all of the next buffer.
func TestRingRoomHoldsLargeRecords(t *testing.T) {
	var sizes []int
	for range 30 {
		sizes = append(sizes, 262144, 65549, 1514, 100000, 40)
	}
	readInRing(t, sizedPcap(sizes), ringRoom, ringReadFor(80<<20), ringBufs, sizes)
}

// readInRing reads file through a ring of bufs buffers of room+size
// bytes and fails the test unless its records have the given sizes and
// every one is parsed in the ring's own buffers.
func readInRing(t *testing.T, file []byte, room, size, bufs int, sizes []int) {
	t.Helper()
	rd, in, err := ringInput(t, bytes.NewReader(file), room, size, bufs)
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()
	var rec Record
	n := 0
	for rd.Next(&rec) == nil {
		if n >= len(sizes) {
			t.Fatalf("more than the %d records written", len(sizes))
		}
		if len(rec.Data) != sizes[n] {
			t.Fatalf("record %d: %d bytes, want %d", n, len(rec.Data), sizes[n])
		}
		if !in.raw.inRing {
			t.Fatalf("record %d (%d bytes) read outside the ring's buffers", n, sizes[n])
		}
		n++
	}
	if n != len(sizes) {
		t.Errorf("%d records, want %d", n, len(sizes))
	}
}

// TestRingError passes the source's error through after the records
// before it, and closing early ends the ring's goroutine, which may be
// waiting for a free buffer.
func TestRingError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	file := pcapFile(10, 100)
	src := io.MultiReader(bytes.NewReader(file[:len(file)-20]), iotest.ErrReader(errDisk))
	rd, in, err := ringInput(t, src, 64, 128, 2)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(t, rd)
	if len(recs) != 9 || !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), "read x: disk on fire") {
		t.Errorf("%d records then %v, want 9 then the source's error", len(recs), err)
	}
	in.close()
	ringClosed(t, in)

	rd, in, err = ringInput(t, bytes.NewReader(pcapFile(1000, 100)), 64, 128, 2)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := rd.Next(&rec); err != nil {
		t.Fatal(err)
	}
	in.close()
	ringClosed(t, in)
}

// TestRingReadFor pins the ring's buffer size for a file of a given size:
// a 256th of it, rounded up to whole 64 KiB, from 64 KiB to 1 MiB.
func TestRingReadFor(t *testing.T) {
	for _, c := range []struct {
		size int64
		want int
	}{
		{0, 64 << 10},
		{16 << 20, 64 << 10},      // the smallest file a ring reads: 16 MiB / 256 = 64 KiB
		{16<<20 + 256, 128 << 10}, // 65 537 bytes round up
		{20_000_000, 128 << 10},   // 78 125 bytes
		{60_000_000, 256 << 10},   // 234 375 bytes
		{200_000_000, 768 << 10},  // 781 250 bytes: 11.9 blocks
		{256 << 20, 1 << 20},      // exactly ringRead
		{3_330_071_829, 1 << 20},  // the synthetic benchmark capture
		{1 << 40, 1 << 20},        // no larger
	} {
		if got := ringReadFor(c.size); got != c.want {
			t.Errorf("ringReadFor(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}
