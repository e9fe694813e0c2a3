package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// compressWith returns b written through the compressor newWriter makes.
func compressWith(tb testing.TB, b []byte, newWriter func(io.Writer) (io.WriteCloser, error)) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func xzBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	return compressWith(tb, b, func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) })
}

func lz4Bytes(tb testing.TB, b []byte, opts ...lz4.Option) []byte {
	tb.Helper()
	return compressWith(tb, b, func(w io.Writer) (io.WriteCloser, error) {
		zw := lz4.NewWriter(w)
		return zw, zw.Apply(opts...)
	})
}

// compressedFiles returns b compressed in each format jj reads, by file
// name (stem.pcap.gz and so on): bzip2 only where the bzip2 tool is
// installed, since Go has no bzip2 writer; xz by the xz tool where it is
// (blocks of 1 MiB, their sizes left out of their headers as one thread
// leaves them, and written there as two write them; the Go writer, used
// otherwise, takes seconds on these captures under -race).
func compressedFiles(tb testing.TB, stem string, b []byte) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{
		stem + ".pcap.gz":  gzipBytes(tb, b),
		stem + ".pcap.zst": zstdBytes(tb, b),
		stem + ".pcap.lz4": lz4Bytes(tb, b, lz4.BlockSizeOption(lz4.Block64Kb)),
	}
	tool := func(name string, args ...string) ([]byte, bool) {
		if _, err := exec.LookPath(name); err != nil {
			return nil, false
		}
		cmd := exec.Command(name, args...)
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			tb.Fatal(err)
		}
		return out, true
	}
	if out, ok := tool("xz", "-0", "-T1", "--block-size=1MiB", "-c"); ok {
		files[stem+".pcap.xz"] = out
		// Two threads write the blocks' sizes in their headers: jj then
		// decompresses the blocks on goroutines of their own.
		out, _ = tool("xz", "-0", "-T2", "--block-size=1MiB", "-c")
		files[stem+".T2.pcap.xz"] = out
	} else {
		files[stem+".pcap.xz"] = xzBytes(tb, b)
	}
	// Small blocks (100 kB), so that a capture spans several.
	if out, ok := tool("bzip2", "-1", "-c"); ok {
		files[stem+".pcap.bz2"] = out
	} else {
		tb.Logf("no bzip2 case: the bzip2 tool is not installed")
	}
	return files
}

// skippable returns an LZ4 skippable frame: its magic (0x184D2A50 to
// 0x184D2A5F), the size of its data, and size bytes of data.
func skippable(magic uint32, size int) []byte {
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	return append(b, bytes.Repeat([]byte{0xee}, size)...)
}

// lz4Blocks returns the offsets at which the blocks of the LZ4 frame b
// start, its end mark's last, from the frame format's layout: magic, FLG
// (bit 4: block checksums, 3: content size), BD, the content size if any,
// a header checksum, then blocks of a 4-byte size (high bit: stored),
// the data and a checksum if any, and a size of 0 as the end mark.
func lz4Blocks(tb testing.TB, b []byte) []int {
	tb.Helper()
	flg := b[4]
	pos := 7
	if flg&0x08 != 0 {
		pos += 8
	}
	var starts []int
	for {
		starts = append(starts, pos)
		size := int(binary.LittleEndian.Uint32(b[pos:]) &^ (1 << 31))
		if size == 0 {
			return starts
		}
		pos += 4 + size
		if flg&0x10 != 0 {
			pos += 4
		}
	}
}

// TestCompressedFixtures reads captures compressed by the bzip2, lz4 and
// xz tools (bzip2 1.0.8, lz4 1.9.4, xz-utils 5.4.1; testdata/README.md),
// as two streams one after the other too
// (`(head -c 300 F | lz4; tail -c +301 F | lz4)`),
// through NewReader, Open (which decompresses in a goroutine of its own)
// and Info, and checks them against the files they were made from.
func TestCompressedFixtures(t *testing.T) {
	for _, tt := range []struct{ file, plain, compression string }{
		{"big-endian-sctp.pcap.bz2", "big-endian-sctp.pcap", "bzip2"},
		{"null-and-ethernet-nrb-isb.pcapng.1.bz2", "null-and-ethernet-nrb-isb.pcapng", "bzip2"}, // "BZh1"
		{"big-endian-sctp.pcap.lz4", "big-endian-sctp.pcap", "lz4"},
		{"big-endian-sctp.pcap.BX.lz4", "big-endian-sctp.pcap", "lz4"}, // block checksums
		{"null-and-ethernet-nrb-isb.pcapng.BX-content-size.lz4", "null-and-ethernet-nrb-isb.pcapng", "lz4"},
		{"two-streams-null-and-ethernet-nrb-isb.pcapng.bz2", "null-and-ethernet-nrb-isb.pcapng", "bzip2"},
		{"two-streams-null-and-ethernet-nrb-isb.pcapng.lz4", "null-and-ethernet-nrb-isb.pcapng", "lz4"},
		{"big-endian-sctp.pcap.xz", "big-endian-sctp.pcap", "xz"}, // CRC64
		{"big-endian-sctp.pcap.crc32.xz", "big-endian-sctp.pcap", "xz"},
		{"big-endian-sctp.pcap.none.xz", "big-endian-sctp.pcap", "xz"},
		{"null-and-ethernet-nrb-isb.pcapng.sha256-blocks.xz", "null-and-ethernet-nrb-isb.pcapng", "xz"}, // 6 blocks, sizes in their headers
		{"two-streams-null-and-ethernet-nrb-isb.pcapng.xz", "null-and-ethernet-nrb-isb.pcapng", "xz"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			plain, err := os.ReadFile(filepath.Join("testdata", tt.plain))
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := readBytes(t, plain, tt.plain)
			if err != io.EOF || len(want) == 0 {
				t.Fatalf("%s: %d records, then %v", tt.plain, len(want), err)
			}
			path := filepath.Join("testdata", tt.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := readBytes(t, b, tt.file)
			if err != io.EOF || !reflect.DeepEqual(got, want) {
				t.Errorf("NewReader: %d records, then %v; want the %d records of %s, then io.EOF", len(got), err, len(want), tt.plain)
			}
			rd, c, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err = readAll(t, rd)
			c.Close()
			if err != io.EOF || !reflect.DeepEqual(got, want) {
				t.Errorf("Open: %d records, then %v; want the %d records of %s, then io.EOF", len(got), err, len(want), tt.plain)
			}
			fi, err := Info(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Compression != tt.compression || fi.Packets != uint64(len(want)) {
				t.Errorf("Info: compression %q, %d packets; want %q, %d", fi.Compression, fi.Packets, tt.compression, len(want))
			}
		})
	}
}

// TestCompressedRoundTrip reads captures compressed by the lz4 library,
// whose options the tool's defaults leave out: several frames, skippable
// frames, small blocks, block checksums.
func TestCompressedRoundTrip(t *testing.T) {
	pcap := pcapFile(3000, 600) // 1.8 MB
	pcapng := pcapngFile(50, 100)
	wantPcap, wantPcapng := allRecords(t, pcap, 3000), allRecords(t, pcapng, 50)
	small := []lz4.Option{lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true)}
	for _, tt := range []struct {
		name string
		in   []byte
		want []rec
	}{
		{"lz4 pcap", lz4Bytes(t, pcap), wantPcap},
		{"lz4 pcapng", lz4Bytes(t, pcapng), wantPcapng},
		{"lz4 64 KiB blocks with checksums", lz4Bytes(t, pcap, small...), wantPcap},
		{"lz4 without checksums", lz4Bytes(t, pcap, lz4.ChecksumOption(false)), wantPcap},
		{"lz4 in three frames", bytes.Join([][]byte{lz4Bytes(t, pcap[:1000]), lz4Bytes(t, pcap[1000:5000], small...), lz4Bytes(t, pcap[5000:])}, nil), wantPcap},
		{"lz4 with skippable frames between and after", bytes.Join([][]byte{lz4Bytes(t, pcap[:1000]), skippable(0x184d2a50, 5), skippable(0x184d2a5f, 0), lz4Bytes(t, pcap[1000:]), skippable(0x184d2a57, 70000)}, nil), wantPcap},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := readBytes(t, tt.in, "x")
			if err != io.EOF || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NewReader: %d records, then %v; want %d records, then io.EOF", len(got), err, len(tt.want))
			}
			_, _, got, err = openBytes(t, tt.in)
			if err != io.EOF || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Open: %d records, then %v; want %d records, then io.EOF", len(got), err, len(tt.want))
			}
		})
	}
}

// TestCompressedErrors: a cut or damaged bzip2 or LZ4 stream is
// ErrTruncated or ErrCorrupt, from NewReader or after the records before
// the damage (all of them when the damage is in the trailer), and never a
// clean end. (With pierrec/lz4 4.1.21, a frame cut at a block boundary
// read as complete.)
func TestCompressedErrors(t *testing.T) {
	pcap := pcapFile(3000, 600)
	bz, err := os.ReadFile(filepath.Join("testdata", "big-endian-sctp.pcap.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	lz := lz4Bytes(t, pcap, lz4.BlockSizeOption(lz4.Block64Kb))
	blocks := lz4Blocks(t, lz)
	if len(blocks) < 4 {
		t.Fatalf("%d blocks, want several", len(blocks))
	}
	end := blocks[len(blocks)-1] // the end mark
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x55
		return b
	}
	gz := gzipBytes(t, pcap)
	xzb := xzBytes(t, pcap)
	// The decompressors' own words for a cut stream: the cut must be
	// theirs to find, not left to the capture's parser.
	const (
		bzCut  = "bzip2 stream ends early"
		lz4Cut = "lz4 stream ends early"
		xzCut  = "xz stream ends early"
	)
	for _, tt := range []struct {
		name string
		in   []byte
		want error
		msg  string // in the message, if not ""
	}{
		{"start of a bzip2 magic", []byte("BZ"), ErrTruncated, "2 bytes, less than a magic number"},
		{"bzip2 cut in the middle", bz[:len(bz)/2], ErrTruncated, bzCut},
		{"bzip2 end of stream missing", bz[:len(bz)-10], ErrTruncated, bzCut},
		// After "BZh9" and the block magic 31 41 59 26 53 59, the block's
		// CRC: the data decompresses, and the check at its end fails.
		{"bzip2 block checksum wrong", flip(bz, 10), ErrCorrupt, "corrupt capture: bzip2: block checksum mismatch"},
		{"bzip2 bad block size", append([]byte("BZh0"), bz[4:]...), ErrNotCapture, ""},
		{"lz4 header cut", lz[:5], ErrTruncated, lz4Cut},
		{"lz4 cut in a block", lz[:blocks[2]+100], ErrTruncated, lz4Cut},
		{"lz4 cut at a block boundary", lz[:blocks[2]], ErrTruncated, lz4Cut},
		{"lz4 cut before the end mark", lz[:end], ErrTruncated, lz4Cut},
		{"lz4 cut in the end mark", lz[:end+2], ErrTruncated, lz4Cut},
		{"lz4 content checksum missing", lz[:end+4], ErrTruncated, lz4Cut},
		{"lz4 cut in the content checksum", lz[:end+6], ErrTruncated, lz4Cut},
		{"lz4 content checksum wrong", flip(lz, len(lz)-1), ErrCorrupt, "corrupt capture: lz4: "},
		{"lz4 frame then garbage", append(bytes.Clone(lz), "garbage"...), ErrCorrupt, "corrupt capture: lz4: "},
		{"lz4 skippable frame cut", append(bytes.Clone(lz), skippable(0x184d2a50, 100)[:50]...), ErrTruncated, lz4Cut},
		{"lz4 skippable frame header cut", append(bytes.Clone(lz), skippable(0x184d2a50, 100)[:6]...), ErrTruncated, lz4Cut},
		{"lz4 skippable frame then garbage", append(append(bytes.Clone(lz), skippable(0x184d2a50, 3)...), "garbage"...), ErrCorrupt, "corrupt capture: lz4: "},
		{"lz4 of text", lz4Bytes(t, []byte("hello, world\n")), ErrNotCapture, ""},
		{"gzip checksum wrong", flip(gz, len(gz)-8), ErrCorrupt, "corrupt capture: gzip: "},
		{"start of an xz magic", xzb[:3], ErrTruncated, "3 bytes, less than a magic number"},
		{"xz stream header cut", xzb[:9], ErrTruncated, xzCut},
		{"xz cut in the middle", xzb[:len(xzb)/2], ErrTruncated, xzCut},
		{"xz index and footer missing", xzb[:len(xzb)-24], ErrTruncated, xzCut},
		{"xz footer cut", xzb[:len(xzb)-6], ErrTruncated, xzCut},
		{"xz data damaged", flip(xzb, len(xzb)/2), ErrCorrupt, "corrupt capture: xz: "},
		{"xz footer damaged", flip(xzb, len(xzb)-1), ErrCorrupt, "corrupt capture: xz: bad stream footer"},
		{"xz then three zero bytes", append(bytes.Clone(xzb), 0, 0, 0), ErrCorrupt, "corrupt capture: xz: padding is not zeros"},
		{"xz then garbage", append(bytes.Clone(xzb), "garbage!!!!!!"...), ErrCorrupt, "corrupt capture: xz: bad stream magic"},
		// Formats jj recognises and does not read: a hint, not a bare
		// "not a capture".
		{"lz4 legacy format", []byte{0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0}, ErrNotCapture, "lz4-compressed in the legacy format, which jj does not decompress (it reads gzip, zstd, xz, bzip2 and the lz4 frame format): try lz4 -dc "},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), ErrNotCapture, "a zip archive, which jj does not decompress (it reads gzip, zstd, xz, bzip2 and the lz4 frame format): try unzip -p "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how, name string, err error) {
				t.Helper()
				checkErr(t, err)
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want an error wrapping %q", how, err, tt.want)
				}
				if prefix := "read " + name + ": "; err != nil && !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("%s: message %q does not start with %q", how, err, prefix)
				}
				if err == nil {
					return
				}
				if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("%s: message %q does not say %q", how, err, tt.msg)
				}
				// The decompressor's name once, though its own errors
				// name it too.
				if c := strings.Fields(tt.name)[0]; (c == "bzip2" || c == "lz4" || c == "gzip" || c == "xz") && tt.want != ErrNotCapture && strings.Count(strings.TrimPrefix(err.Error(), "read "+name+": "), c) != 1 {
					t.Errorf("%s: message %q does not name %s once", how, err, c)
				}
			}
			_, recs, err := readBytes(t, tt.in, "x")
			check("NewReader", "x", err)
			// Open decompresses in a goroutine of its own: the same
			// records, then the same error.
			path, _, orecs, oerr := openBytes(t, tt.in)
			check("Open", path, oerr)
			if !reflect.DeepEqual(orecs, recs) {
				t.Errorf("Open: %d records, NewReader %d", len(orecs), len(recs))
			}
		})
	}
}

// TestLz4Reader checks the LZ4 reader jj uses with iotest, on frames one
// after another with a skippable frame between: the bytes whatever the
// reads' sizes, and io.EOF again after io.EOF (lz4 4.1.21 read on).
func TestLz4Reader(t *testing.T) {
	pcap := pcapFile(300, 600)
	in := bytes.Join([][]byte{lz4Bytes(t, pcap[:1000]), skippable(0x184d2a51, 9), lz4Bytes(t, pcap[1000:], lz4.BlockSizeOption(lz4.Block64Kb))}, nil)
	if err := iotest.TestReader(lz4.NewReader(bytes.NewReader(in)), pcap); err != nil {
		t.Error(err)
	}
}

// TestUnsupportedHint: the command a refused format's message suggests
// names the file, quoted for the shell where needed, or FILE for standard
// input; a file cut within the magic gets it too, and what a
// decompressor gave does not.
func TestUnsupportedHint(t *testing.T) {
	legacy := []byte{0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0} // lz4 -l
	for _, tt := range []struct {
		name string
		in   []byte
		want string // the message's end
	}{
		{"a.pcap.lz4", legacy, ": try lz4 -dc a.pcap.lz4 | jj extract -"},
		{"-", legacy, ": try lz4 -dc FILE | jj extract -"},
		{"stdin", legacy, ": try lz4 -dc FILE | jj extract -"},
		{"my cap's.lz4", legacy, `: try lz4 -dc 'my cap'\''s.lz4' | jj extract -`},
		{"x.zip", []byte("PK\x03"), ": not a pcap or pcapng file"}, // 3 bytes: too few to tell
		{"cut.zip", []byte("PK\x03\x04"), ": try unzip -p cut.zip | jj extract -"},
		{"x.lz4.gz", gzipBytes(t, legacy), ": not a pcap or pcapng file"},
	} {
		_, err := NewReader(bytes.NewReader(tt.in), tt.name)
		if !errors.Is(err, ErrNotCapture) || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrNotCapture ending %q", tt.name, err, tt.want)
		}
	}
}

// TestXz checks the xz reader (xz.go) on what the xz tool writes and on
// what it must refuse: every cut of a file of six blocks is an error,
// never a shorter capture; every damaged byte is an error or changes
// nothing; a block asking for a dictionary over maxXzDict, or a filter
// other than LZMA2, is refused before anything is allocated for it;
// stream padding between and after streams is read.
func TestXz(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain := read("null-and-ethernet-nrb-isb.pcapng")
	want := allRecords(t, plain, 5)
	blocks := read("null-and-ethernet-nrb-isb.pcapng.sha256-blocks.xz")

	for cut := 1; cut < len(blocks); cut++ { // 0: an empty file
		_, got, err := readBytes(t, blocks[:cut], "x")
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: %d records, then %v; want ErrTruncated", cut, len(blocks), len(got), err)
		}
	}
	for i := range len(blocks) {
		b := bytes.Clone(blocks)
		b[i] ^= 0x10
		_, got, err := readBytes(t, b, "x")
		if err == io.EOF {
			t.Fatalf("byte %d damaged: %d records and no error (xz -t finds every one)", i, len(got))
		}
	}

	// A capture of random payloads, so that its one block (the xz
	// library writes one, without its sizes) is larger than jj reads
	// ahead, and its dictionary cannot be bounded by its data. The block
	// header starts at 12: its size byte, flags 00, filter 21 (LZMA2),
	// 01, the dictionary byte, padding, CRC32.
	random := pcapFile(500, 600)
	r := rand.New(rand.NewPCG(1, 2))
	for k := range 500 {
		for i := 24 + k*616 + 16; i < 24+(k+1)*616; i++ {
			random[i] = byte(r.Uint32())
		}
	}
	one := xzBytes(t, random)
	if one[14] != 0x21 || one[15] != 1 || len(one) < 200_000 {
		t.Fatalf("block header % x, %d bytes: not the file expected", one[12:24], len(one))
	}
	// 32 MiB, 64 MiB (maxXzDict), 96 MiB, 4 GiB.
	for dict, wantErr := range map[byte]error{26: nil, 28: nil, 29: ErrCorrupt, 40: ErrCorrupt} {
		b := bytes.Clone(one)
		b[16] = dict
		size := int(b[12]+1) * 4
		binary.LittleEndian.PutUint32(b[12+size-4:], crc32.ChecksumIEEE(b[12:12+size-4]))
		_, _, err := readBytes(t, b, "x")
		switch {
		case wantErr == nil && err != io.EOF:
			t.Errorf("dictionary byte %d: %v, want the records", dict, err)
		case wantErr != nil && (!errors.Is(err, wantErr) || !strings.Contains(err.Error(), "dictionary")):
			t.Errorf("dictionary byte %d: %v, want a refusal naming the dictionary", dict, err)
		}
	}
	if _, _, err := readBytes(t, read("big-endian-sctp.pcap.x86.xz"), "x"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "LZMA2") {
		t.Errorf("BCJ filter (xz --x86): %v, want a refusal", err)
	}

	// Files a helper's review made by hand (testdata/README.md): a
	// thousand empty blocks asking for 4 GiB each, read in little
	// memory, and LZMA2 damage that Reader2 alone misses or misnames.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readBytes(t, read("empty-blocks-4gib-dict.xz"), "x")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrEmpty) || after.TotalAlloc-before.TotalAlloc > 32<<20 {
		t.Errorf("1000 empty blocks of 4 GiB dictionaries: %v, %d MB allocated; want ErrEmpty, under 32 MB", err, (after.TotalAlloc-before.TotalAlloc)>>20)
	}
	for name, msg := range map[string]string{
		"lzma2-lc-lp-over-4.xz":       "lc+lp over 4",
		"lzma2-chunk-size-larger.xz":  "LZMA2 chunk sizes and data disagree",
		"lzma2-chunk-size-smaller.xz": "LZMA2 data ends inside a chunk",
	} {
		if _, _, err := readBytes(t, read(name), "x"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want ErrCorrupt saying %q", name, err, msg)
		}
	}

	two := read("two-streams-null-and-ethernet-nrb-isb.pcapng.xz")
	second := bytes.Index(two[1:], xzMagic) + 1
	padded := slices.Concat(two[:second], make([]byte, 8), two[second:], make([]byte, 4))
	if _, got, err := readBytes(t, padded, "x"); err != io.EOF || !reflect.DeepEqual(got, want) {
		t.Errorf("stream padding: %d records, then %v", len(got), err)
	}
}

// TestXzParallel checks that blocks decompressed on goroutines of their
// own (xzReader.startJob) give what the same file gives read one block at
// a time: the same bytes, then the same error, for the file whole, cut at
// every byte and with every byte damaged.
func TestXzParallel(t *testing.T) {
	blocks, err := os.ReadFile(filepath.Join("testdata", "null-and-ethernet-nrb-isb.pcapng.sha256-blocks.xz"))
	if err != nil {
		t.Fatal(err)
	}
	// Reads it all, through buffers of changing sizes.
	decompress := func(b []byte, jobs int) (out []byte, started bool, err error) {
		x := newXzReader(bytes.NewReader(b))
		x.maxJobs = jobs
		for i := 0; ; i++ {
			p := make([]byte, 1+i%7*100)
			n, err := x.Read(p)
			out = append(out, p[:n]...)
			started = started || len(x.jobs) > 0
			if err != nil {
				return out, started, err
			}
		}
	}
	same := func(what string, b []byte) {
		t.Helper()
		want, _, wantErr := decompress(b, 0)
		for _, jobs := range []int{1, 2, 3} {
			got, _, err := decompress(b, jobs)
			if !bytes.Equal(got, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%s, %d jobs: %d bytes, then %v; one block at a time: %d bytes, then %v", what, jobs, len(got), err, len(want), wantErr)
			}
		}
	}

	plain, started, err := decompress(blocks, 2)
	if err != io.EOF || !started {
		t.Fatalf("whole file: %v, blocks started on their own goroutines: %v", err, started)
	}
	if want, _ := os.ReadFile(filepath.Join("testdata", "null-and-ethernet-nrb-isb.pcapng")); !bytes.Equal(plain, want) {
		t.Fatalf("whole file: %d bytes, not the %d of the capture", len(plain), len(want))
	}
	if _, started, _ := decompress(blocks, 0); started {
		t.Fatal("no jobs allowed, but blocks were started on their own goroutines")
	}
	for cut := range len(blocks) {
		same(fmt.Sprintf("cut at %d", cut), blocks[:cut])
	}
	for i := range len(blocks) {
		b := bytes.Clone(blocks)
		b[i] ^= 0x10
		same(fmt.Sprintf("byte %d damaged", i), b)
	}

	// The first block's header (at 12, 16 bytes) declares 240 bytes of
	// data (f0 01) and 400 of output (90 03); here with its CRC mended.
	header := func(compr, size [2]byte) []byte {
		b := bytes.Clone(blocks)
		if !bytes.Equal(b[14:18], []byte{0xf0, 0x01, 0x90, 0x03}) {
			t.Fatalf("first block header % x: not the file expected", b[12:28])
		}
		copy(b[14:], compr[:])
		copy(b[16:], size[:])
		binary.LittleEndian.PutUint32(b[24:], crc32.ChecksumIEEE(b[12:24]))
		return b
	}
	// Its data said to run 4 bytes into its check.
	same("data size 244", header([2]byte{0xf4, 0x01}, [2]byte{0x90, 0x03}))
	// Found by a helper's review: damaged, then cut, where the parallel
	// path said "cut" and the stream "corrupt". Its data said to run 5
	// bytes further, and cut after 245 (the stream then finds the data
	// ending early); its first LZMA2 chunk's size (at 0x20) damaged, and
	// cut inside the block.
	same("data size 245, cut at 268", header([2]byte{0xf5, 0x01}, [2]byte{0x90, 0x03})[:268])
	b := bytes.Clone(blocks)
	b[0x20] = 0x20
	same("chunk size damaged, cut at 256", b[:256])
	// Found by the second review: sizes near 2^63 declared (a panic
	// then). A stream with no check, and a block holding "hi" in a
	// stored chunk, its header declaring the sizes given (VLIs).
	blockOf := func(compr, size []byte) []byte {
		h := slices.Concat([]byte{0, 0xc0}, compr, size, []byte{0x21, 1, 0})
		for len(h)%4 != 0 {
			h = append(h, 0)
		}
		h[0] = byte(len(h)/4 - 1 + 1)
		h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
		stream := []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 0}
		stream = binary.LittleEndian.AppendUint32(stream, crc32.ChecksumIEEE(stream[6:8]))
		return slices.Concat(stream, h, []byte{1, 0, 1, 'h', 'i', 0})
	}
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	same("output size 2^63-1", blockOf([]byte{6}, huge))
	same("data size 2^63-1", blockOf(huge, []byte{2}))
	if _, _, err := decompress(blockOf([]byte{6}, []byte{2}), 2); err != io.ErrUnexpectedEOF {
		t.Errorf("the block made for the test: %v, want it to end where its index should start", err)
	}
	// Its output said to be a byte shorter: read whole, the block fails
	// where its declared output ends, a byte earlier than when streamed.
	got, _, err := decompress(header([2]byte{0xf0, 0x01}, [2]byte{0x8f, 0x03}), 2)
	if len(got) != 399 || err == nil || err.Error() != "xz: block sizes differ from its header's" {
		t.Errorf("output size 399: %d bytes, then %v; want 399, then the sizes refused", len(got), err)
	}
}

// TestXzJobMemory reads files of several blocks with room for few in
// xzJobBytes, and checks after every read that the blocks queued and the
// buffers kept for reuse stay within it (a block alone may fill it), and
// that each queued block's buffers are within what it was counted for.
func TestXzJobMemory(t *testing.T) {
	defer func(b int64) { xzJobBytes = b }(xzJobBytes)
	blocks, err := os.ReadFile(filepath.Join("testdata", "null-and-ethernet-nrb-isb.pcapng.sha256-blocks.xz"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "null-and-ethernet-nrb-isb.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	// Six blocks of 400 bytes of output (the last 312) and about 240 of
	// data: a block needs about 680 bytes.
	for _, budget := range []int64{700, 1400, 2100, 1 << 20} {
		xzJobBytes = budget
		for _, jobs := range []int{1, 2, 3, 8} {
			x := newXzReader(bytes.NewReader(blocks))
			x.maxJobs = jobs
			var got []byte
			p := make([]byte, 100)
			for {
				n, err := x.Read(p)
				got = append(got, p[:n]...)
				var sum int64
				for _, j := range x.jobs {
					sum += j.mem
					select {
					case <-j.done:
						if int64(cap(j.buf)) > j.mem {
							t.Fatalf("budget %d, %d jobs: a block's buffer of %d bytes, counted for %d", budget, jobs, cap(j.buf), j.mem)
						}
					default:
					}
				}
				alone := len(x.jobs) == 1 && x.spareLen == 0
				if sum != x.jobBytes || x.jobBytes+x.spareLen > budget && !alone || len(x.jobs) > jobs {
					t.Fatalf("budget %d, %d jobs: %d queued, %d bytes counted, %d in them, %d in spares", budget, jobs, len(x.jobs), x.jobBytes, sum, x.spareLen)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("budget %d, %d jobs: %d bytes, not the %d of the capture", budget, jobs, len(got), len(want))
			}
		}
	}
}

// TestDecompressedOffset checks that an error's offset in a compressed file
// says it counts decompressed bytes, and in a plain one does not: a
// record length of 0x7fffffff 24 bytes in (the first record's header,
// whose length field is at bytes 8-11 of it).
func TestDecompressedOffset(t *testing.T) {
	pcap := pcapFile(10, 100)
	binary.LittleEndian.PutUint32(pcap[24+8:], 0x7fffffff)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"plain", pcap, "at offset 24"},
		{"gzip", gzipBytes(t, pcap), "at offset 24 of the decompressed data"},
	} {
		r, err := NewReader(bytes.NewReader(tt.data), tt.name)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var rec Record
		err = r.Next(&rec)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error ending %q", tt.name, err, tt.want)
		}
	}
}
