package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real and hostile captures, relative to
// the package directory.
const corpusDir = "../../shared/pcaps"

// corpusFiles lists the capture files of the shared corpus, or skips the
// test when the corpus is absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		tb.Skipf("shared corpus not available: %v", err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".md") && !strings.HasSuffix(e.Name(), ".tsv") {
			files = append(files, filepath.Join(corpusDir, e.Name()))
		}
	}
	return files
}

// hx decodes hex digits, ignoring white space and comments that run from
// '#' to the end of the line, so that byte vectors can be annotated field by
// field.
func hx(tb testing.TB, s string) []byte {
	tb.Helper()
	var digits strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		tb.Fatalf("bad hex vector: %v", err)
	}
	return b
}

// rec is a Record with its own copy of the data.
type rec struct {
	ts    int64
	data  string
	wire  uint32
	link  LinkType
	iface uint32
}

// readAll reads rd to its end and returns the records and the final error
// (io.EOF at a clean end).
func readAll(tb testing.TB, rd Reader) ([]rec, error) {
	tb.Helper()
	var out []rec
	var r Record
	for {
		if err := rd.Next(&r); err != nil {
			return out, err
		}
		if len(r.Data) > MaxRecordLen {
			tb.Fatalf("record of %d bytes, over MaxRecordLen", len(r.Data))
		}
		out = append(out, rec{r.Timestamp, string(r.Data), r.WireLen, r.LinkType, r.Interface})
	}
}

// readBytes opens b with NewReader, naming it name, and reads it to the end.
// A failed open returns the open error and no records.
func readBytes(tb testing.TB, b []byte, name string) (Reader, []rec, error) {
	tb.Helper()
	rd, err := NewReader(bytes.NewReader(b), name)
	if err != nil {
		return nil, nil, err
	}
	recs, err := readAll(tb, rd)
	return rd, recs, err
}

// openBytes writes b to a file named x in a temporary directory and reads
// it through Open, which decompresses in a goroutine of its own: whether
// it opened, its records, and the error that ended them (or Open's).
func openBytes(tb testing.TB, b []byte) (path string, opened bool, recs []rec, err error) {
	tb.Helper()
	path = filepath.Join(tb.TempDir(), "x")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	rd, c, err := Open(path)
	if err != nil {
		return path, false, nil, err
	}
	defer c.Close()
	recs, err = readAll(tb, rd)
	return path, true, recs, err
}

// allRecords returns the n records of the uncompressed capture b, which
// must read to its end without error.
func allRecords(tb testing.TB, b []byte, n int) []rec {
	tb.Helper()
	_, recs, err := readBytes(tb, b, "x")
	if err != io.EOF || len(recs) != n {
		tb.Fatalf("%d records, then %v; want %d, then io.EOF", len(recs), err, n)
	}
	return recs
}

// sentinels are the errors a reader may wrap when the input is a byte slice
// (no I/O errors).
var sentinels = []error{ErrNotCapture, ErrTruncated, ErrCorrupt, ErrLinkType, ErrEmpty}

// checkErr fails unless err is io.EOF or a *FileError wrapping a sentinel.
func checkErr(tb testing.TB, err error) {
	tb.Helper()
	if err == io.EOF {
		return
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		tb.Fatalf("error %q (%T) is not a *FileError", err, err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	tb.Fatalf("error %q wraps no sentinel", err)
}

// builder writes captures for benchmarks and allocation tests, where
// hand-annotated vectors would be too long.
type builder struct{ bytes.Buffer }

func (b *builder) u16(v uint16) { b.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (b *builder) u32(v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }

// pcapFile returns a little-endian µs Ethernet pcap of n records of size
// bytes each, one millisecond apart.
func pcapFile(n, size int) []byte {
	var b builder
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1}) // magic
	b.u16(2)
	b.u16(4)
	b.u32(0)
	b.u32(0)
	b.u32(65535) // snaplen
	b.u32(1)     // Ethernet
	data := bytes.Repeat([]byte{0xab}, size)
	for i := range n {
		b.u32(1_700_000_000 + uint32(i/1000))
		b.u32(uint32(i%1000) * 1000)
		b.u32(uint32(size))
		b.u32(uint32(size))
		b.Write(data)
	}
	return b.Bytes()
}

// sizedPcap returns a little-endian µs Ethernet pcap whose record i has
// sizes[i] bytes, each of them i, and timestamp i seconds.
func sizedPcap(sizes []int) []byte {
	var b builder
	b.Write(pcapFile(0, 0))
	for i, n := range sizes {
		b.u32(uint32(i))
		b.u32(0)
		b.u32(uint32(n))
		b.u32(uint32(n))
		b.Write(bytes.Repeat([]byte{byte(i)}, n))
	}
	return b.Bytes()
}

// pcapngFile returns a little-endian pcapng with one Ethernet interface at
// nanosecond resolution and n enhanced packet blocks of size bytes each.
func pcapngFile(n, size int) []byte {
	var b builder
	b.u32(blockSHB)
	b.u32(28)
	b.u32(byteOrderMagic)
	b.u16(1)
	b.u16(0)
	b.u32(0xffffffff)
	b.u32(0xffffffff)
	b.u32(28)

	b.u32(blockIDB)
	b.u32(28)
	b.u16(1) // Ethernet
	b.u16(0)
	b.u32(0)
	b.u16(optTSResol)
	b.u16(1)
	b.Write([]byte{9, 0, 0, 0}) // 10^-9, padding
	b.u32(28)

	padded := (size + 3) &^ 3
	data := bytes.Repeat([]byte{0xab}, padded)
	for i := range n {
		ts := uint64(1_700_000_000_000_000_000) + uint64(i)*1000
		b.u32(blockEPB)
		b.u32(uint32(32 + padded))
		b.u32(0)
		b.u32(uint32(ts >> 32))
		b.u32(uint32(ts))
		b.u32(uint32(size))
		b.u32(uint32(size))
		b.Write(data)
		b.u32(uint32(32 + padded))
	}
	return b.Bytes()
}
