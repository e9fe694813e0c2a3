package capture

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The first bytes of each input format, as they appear in the file.
var (
	magicPcapMicroLE = []byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapMicroBE = []byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNanoLE  = []byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNanoBE  = []byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapng      = []byte{0x0a, 0x0d, 0x0d, 0x0a} // the section header block type, a palindrome
	magicGzip        = []byte{0x1f, 0x8b}             // RFC 1952; the third byte is the method
	magicZstd        = []byte{0x28, 0xb5, 0x2f, 0xfd} // RFC 8878
	magicLz4         = []byte{0x04, 0x22, 0x4d, 0x18} // the LZ4 frame format's, little-endian
	magicXz          = xzMagic
)

// format is an input format told by its magic bytes.
type format int

const (
	formatUnknown format = iota
	formatPcap
	formatPcapng
	formatGzip
	formatZstd
	formatBzip2
	formatLz4
	formatXz
)

// compressions names the compressed formats, as messages and
// FileInfo.Compression give them.
var compressions = map[format]string{
	formatGzip:  "gzip",
	formatZstd:  "zstd",
	formatBzip2: "bzip2",
	formatLz4:   "lz4",
	formatXz:    "xz",
}

// unsupported are compressed formats jj recognises but does not read,
// with the tool that decompresses them, and the name ending (ext) that
// has a directory's file of that format taken as an input (Expand), to
// fail with the hint rather than be passed over. The legacy LZ4 format
// has no end mark, so a file cut at a block boundary reads as complete.
// Zip, the container of many other kinds of file (.docx, .jar), is
// refused only when named.
var unsupported = []struct {
	magic           []byte
	name, tool, ext string
}{
	{[]byte{0x02, 0x21, 0x4c, 0x18}, "lz4-compressed in the legacy format", "lz4 -dc", ".lz4"},
	{[]byte{'P', 'K', 0x03, 0x04}, "a zip archive", "unzip -p", ""},
}

// maxMagic is the length of the longest magic, unsupported ones included.
const maxMagic = 6

var magics = []struct {
	magic  []byte
	format format
}{
	{magicPcapMicroLE, formatPcap},
	{magicPcapMicroBE, formatPcap},
	{magicPcapNanoLE, formatPcap},
	{magicPcapNanoBE, formatPcap},
	{magicPcapng, formatPcapng},
	{magicGzip, formatGzip},
	{magicZstd, formatZstd},
	{magicLz4, formatLz4},
	{magicXz, formatXz},
	// bzip2: "BZh" and the block size in hundreds of kB, '1' to '9'.
	{[]byte("BZh1"), formatBzip2}, {[]byte("BZh2"), formatBzip2},
	{[]byte("BZh3"), formatBzip2}, {[]byte("BZh4"), formatBzip2},
	{[]byte("BZh5"), formatBzip2}, {[]byte("BZh6"), formatBzip2},
	{[]byte("BZh7"), formatBzip2}, {[]byte("BZh8"), formatBzip2},
	{[]byte("BZh9"), formatBzip2},
}

// detect tells the format from the first bytes of an input. With fewer bytes
// than a magic, it reports whether they could still be the start of one.
func detect(b []byte) (f format, partial bool) {
	for _, m := range magics {
		if bytes.HasPrefix(b, m.magic) {
			return m.format, false
		}
		if len(b) < len(m.magic) && bytes.HasPrefix(m.magic, b) {
			partial = true
		}
	}
	return formatUnknown, partial
}

// maxZstdWindow bounds the memory a zstd stream may ask for. It is the
// default limit of the zstd command-line tool without --long or --memory,
// so whatever zstd compresses by default decompresses here.
const maxZstdWindow = 128 << 20

// Warnings beyond maxWarnings are counted, not kept: a hostile file could
// otherwise repeat a bad section header a million times.
const maxWarnings = 32

// Warning kinds that can repeat on every record; each is reported once.
const (
	warnFraction uint = 1 << iota
	warnCapLen
	warnSPB
	warnRange
	warnOptions
)

// input is the part every reader shares: the name, the buffered streams,
// warnings and the Progress methods.
type input struct {
	name     string
	raw      *stream // the file as read
	s        *stream // the capture bytes: raw, or a decompressor reading raw
	size     int64
	zstd     *zstd.Decoder // closed by Open's closer
	gzip     *gzipReader   // released by Open's closer
	async    bool          // decompress in a goroutine (Open, regular files)
	ahead    *readAhead    // with async: the read-ahead goroutine
	rawRead  atomic.Int64  // with async: raw bytes its goroutine has read
	warnings []string
	dropped  int  // warnings beyond maxWarnings
	warned   uint // warning kinds already reported once
	// skipped counts the packet blocks left out (errSkipBlock), the
	// first of which skippedWhy describes.
	skipped    uint64
	skippedWhy string
}

var (
	_ Progress = (*pcapReader)(nil)
	_ Progress = (*ngReader)(nil)
	_ Stable   = (*pcapReader)(nil)
	_ Stable   = (*ngReader)(nil)
	_ Holder   = (*pcapReader)(nil)
	_ Holder   = (*ngReader)(nil)
)

// BytesRead implements Progress.
func (in *input) BytesRead() int64 {
	if in.ahead != nil {
		return in.rawRead.Load()
	}
	return in.raw.consumed()
}

// counted is the raw stream as a decompressing goroutine reads it: it
// publishes how far it got, for BytesRead on the caller's goroutine.
type counted struct {
	s *stream
	n *atomic.Int64
}

func (c counted) Read(p []byte) (int, error) {
	n, err := c.s.Read(p)
	c.n.Store(c.s.consumed())
	return n, err
}

// Hold implements Holder.
func (in *input) Hold(off int64) {
	s := in.s
	switch {
	case !s.mapped:
	case off < 0:
		s.held = false
	default:
		// buf is the mapping from offset off-start on.
		s.held, s.hold = true, int(max(0, off-(s.off-int64(s.start))))
	}
}

// Stable implements Stable: the records of a mapped file point into the
// mapping, which lasts until the reader is closed.
func (in *input) Stable() bool { return in.s.mapped }

// Size implements Progress.
func (in *input) Size() int64 { return in.size }

// Warnings implements Reader.Warnings. Each warning starts with the input's
// name; the returned slice is the caller's.
func (in *input) Warnings() []string {
	w := append([]string(nil), in.warnings...)
	if in.skipped > 0 {
		w = append(w, fmt.Sprintf("%s: %d packet block(s) skipped, the first %s", in.name, in.skipped, in.skippedWhy))
	}
	if in.dropped > 0 {
		w = append(w, fmt.Sprintf("%s: %d more warnings not shown", in.name, in.dropped))
	}
	return w
}

func (in *input) warnf(format string, args ...any) {
	if len(in.warnings) >= maxWarnings {
		in.dropped++
		return
	}
	in.warnings = append(in.warnings, in.name+": "+fmt.Sprintf(format, args...))
}

// warnOnce reports a warning of a kind that could repeat on every record
// the first time only, and says so.
func (in *input) warnOnce(kind uint, format string, args ...any) {
	if in.warned&kind != 0 {
		return
	}
	in.warned |= kind
	in.warnf(format+" (reported once)", args...)
}

// fail wraps err with the input's name and an offset (-1 for none). The
// *fs.PathError of a failed file read is unwrapped, as the FileError names
// the file already.
func (in *input) fail(off int64, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	if in.shrank() {
		// The bytes at fault may be the zeros a mapping reads between
		// the file's new end and the end of its page (fault.go).
		err = ErrChanged
	}
	return &FileError{Name: in.name, Offset: off, Err: err, Decompressed: in.s != in.raw}
}

// cut turns a short peek at offset off into the error to return: io.EOF
// itself when the input ended cleanly before a record (have == 0), else a
// FileError wrapping ErrTruncated or the reader's own error.
func (in *input) cut(off int64, have, want int, err error) error {
	switch {
	case err == io.EOF && have == 0:
		return io.EOF
	case err == io.EOF:
		return in.fail(off, fmt.Errorf("%w: %d of %d bytes present", ErrTruncated, have, want))
	}
	return in.fail(off, err)
}

// NewReader returns a Reader for the capture in r, whose format it detects
// from the first bytes (never from the name): classic pcap (micro- or
// nanosecond, either byte order), pcapng, or either of them compressed with
// gzip, zstd, xz, bzip2 or LZ4 (frame format), which is decompressed as
// a stream. Legacy LZ4 and zip are recognised and refused with a hint
// (unsupported). The name only labels errors and warnings, which read
// "read NAME: ...".
//
// NewReader reads the file header, and for pcapng the blocks up to the first
// packet. It fails with an error wrapping ErrEmpty when r has no bytes,
// ErrNotCapture when the magic is unknown, and a *LinkTypeError when the
// file's only link type is one jj cannot decode (see Supported). A file
// whose header is complete but which is cut off or corrupt after it opens
// without error: Next returns its records, then the error.
//
// NewReader does not close r. A zstd decoder it starts runs in the calling
// goroutine and needs no closing (Open's closer releases it early).
//
// Every Reader it returns also implements Progress.
func NewReader(r io.Reader, name string) (Reader, error) {
	rd, _, err := newReader(r, name, fileSize(r), false)
	return rd, err
}

// fileSize returns the size of r when it is a regular file, and -1
// otherwise.
func fileSize(r io.Reader) int64 {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return -1
}

// SizeAtStart returns the size of f when it is a regular file read from
// its start, as standard input redirected from a capture file is (OpenFile
// maps such a file), and -1 otherwise: a pipe has no size, and of a file
// read from elsewhere the readers count what they read, not the whole.
func SizeAtStart(f *os.File) int64 {
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return -1
	}
	return fileSize(f)
}

// newReader and newReaderFrom open a capture on r or raw. With async (Open
// of a regular file, whose closer stops what it starts), a compressed
// stream is decompressed ahead in a goroutine of its own while the caller
// parses.
func newReader(r io.Reader, name string, size int64, async bool) (Reader, *input, error) {
	return newReaderFrom(newStream(r), name, size, async)
}

func newReaderFrom(raw *stream, name string, size int64, async bool) (Reader, *input, error) {
	in := &input{name: name, raw: raw, s: raw, size: size, async: async}
	var rd Reader
	var err error
	open := func() {
		var f format
		if f, _, err = in.open(); err != nil {
			return
		}
		if f == formatPcap {
			rd, err = newPcapReader(in)
		} else {
			rd, err = newNgReader(in)
		}
	}
	if raw.mapped {
		// The file may shrink while its header is read (fault.go).
		if faulted(raw.buf, open) {
			rd, err = nil, in.fail(-1, ErrChanged)
		}
	} else {
		open()
	}
	if err != nil {
		in.close()
		return nil, nil, err
	}
	return rd, in, nil
}

// open tells the capture's format from its magic, and when it is
// compressed (compression, its name, is not "") has in.s read it
// decompressed. On error, the caller closes in.
func (in *input) open() (f format, compression string, err error) {
	if f, err = in.detect(); err != nil {
		return f, "", err
	}
	compression, ok := compressions[f]
	if !ok {
		return f, "", nil
	}
	if err := in.decompress(f); err != nil {
		return f, compression, err
	}
	if f, err = in.detect(); err != nil {
		return f, compression, err
	}
	if f != formatPcap && f != formatPcapng {
		return f, compression, in.fail(-1, fmt.Errorf("%w: compressed data is not a capture", ErrNotCapture))
	}
	return f, compression, nil
}

// detect peeks at the magic of in.s.
func (in *input) detect() (format, error) {
	b, err := in.s.peek(maxMagic)
	if len(b) < maxMagic && err != io.EOF {
		return formatUnknown, in.fail(0, err)
	}
	if len(b) == 0 {
		return formatUnknown, in.fail(-1, ErrEmpty)
	}
	f, partial := detect(b)
	switch {
	case f != formatUnknown:
		return f, nil
	case partial:
		return f, in.fail(0, fmt.Errorf("%w: %d bytes, less than a magic number", ErrTruncated, len(b)))
	}
	// The hint only for the file itself: what a decompressor gave is not
	// for the tool named to read.
	if u := unsupportedFormat(b); u >= 0 && in.s == in.raw {
		name := shellQuote(in.name)
		if in.name == "-" || in.name == "stdin" {
			name = "FILE"
		}
		const reads = "gzip, zstd, xz, bzip2 and the lz4 frame format"
		return f, in.fail(-1, fmt.Errorf("%w: %s, which jj does not decompress (it reads %s): try %s %s | jj extract -",
			ErrNotCapture, unsupported[u].name, reads, unsupported[u].tool, name))
	}
	return f, in.fail(-1, ErrNotCapture)
}

// unsupportedFormat returns the index in unsupported of the format b
// starts with (of whose magic b holds at least 4 bytes: a file cut short
// of it), or -1.
func unsupportedFormat(b []byte) int {
	for i, u := range unsupported {
		if bytes.HasPrefix(b, u.magic) || len(b) >= 4 && bytes.HasPrefix(u.magic, b) {
			return i
		}
	}
	return -1
}

// shellQuote returns s as a POSIX shell word: as it is when it holds only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	for _, c := range []byte(s) {
		plain := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-_./+:@%,=", c) >= 0
		if !plain {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// decompress makes in.s read the decompressed raw stream.
func (in *input) decompress(f format) error {
	name := compressions[f]
	in.raw.noTouch = true // its readers read the pages first (stream.touch)
	var src io.Reader = in.raw
	if in.async {
		in.rawRead.Store(in.raw.consumed())
		src = counted{in.raw, &in.rawRead}
	}
	var dec io.Reader
	var err error
	switch f {
	case formatGzip:
		// Members one after another too (cat a.gz b.gz), as gzip reads
		// them (gzip.go).
		whole, size, mapping := in.gzipSource()
		in.gzip, err = newGzipReader(src)
		if err == nil && whole != nil {
			// The input is a whole file: its blocks decode ahead on
			// the other cores too (gzippar.go).
			in.gzip.par = newGzipPar(whole, size, mapping)
		}
		dec = in.gzip
	case formatZstd:
		var zr *zstd.Decoder
		zr, err = zstd.NewReader(src,
			zstd.WithDecoderConcurrency(1), // decode in the goroutine that reads, start none
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		in.zstd, dec = zr, zr
	case formatBzip2:
		// Streams one after another too (pbzip2, lbzip2).
		dec = bzip2.NewReader(src)
	case formatXz:
		// Streams one after another and stream padding, as the xz tool
		// reads them, with a bounded dictionary (xz.go).
		dec = newXzReader(src)
	case formatLz4:
		// Frames one after another and skippable frames, as the lz4
		// tool reads them. (Version 4.1.21 of pierrec/lz4, which Parquet
		// brought in, took a frame cut at a block boundary for its end,
		// read on after it, and checked block checksums against the
		// wrong bytes: TestCompressedErrors, TestLz4Reader and the
		// "BX" fixtures fail with it.)
		dec = lz4.NewReader(src)
	}
	if err != nil {
		return in.fail(0, classify(in.raw, name, err))
	}
	if in.async {
		// The decompressor runs in the read-ahead goroutine, up to four
		// buffers ahead of the parser (256 KiB to 4 MiB, by the file's
		// size: newReadAhead).
		in.ahead = newReadAhead(dec, in.mapping(), in.size)
		dec = in.ahead
	}
	in.s = newStream(&decoded{r: dec, src: in.raw, name: name})
	return nil
}

func (in *input) close() {
	defer in.raw.stop() // last: the decompressors above read raw
	if in.ahead != nil {
		in.ahead.Close() // before the decoder it drives
		in.ahead = nil
	}
	if in.zstd != nil {
		in.zstd.Close()
		in.zstd = nil
	}
	if in.gzip != nil {
		in.gzip.release()
		in.gzip = nil
	}
}

// decoded wraps a decompressor so that its errors say what they mean for a
// capture: a cut stream is ErrTruncated, bad compressed data ErrCorrupt,
// and an I/O error of the file stays itself.
type decoded struct {
	r    io.Reader
	src  *stream
	name string
}

func (d *decoded) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = classify(d.src, d.name, err)
	}
	return n, err
}

func classify(src *stream, name string, err error) error {
	switch {
	case src.err != nil && src.err != io.EOF:
		return src.err
	case errors.Is(err, ErrChanged):
		return err // the file, not its data (fault.go)
	case errors.Is(err, io.ErrUnexpectedEOF), err == io.EOF:
		return fmt.Errorf("%w: %s stream ends early", ErrTruncated, name)
	}
	msg := err.Error()
	var se bzip2.StructuralError // "bzip2 data invalid: ..."
	if errors.As(err, &se) {
		msg = "bzip2: " + string(se)
	} else if !strings.HasPrefix(msg, name+":") { // most decompressors' errors name them
		msg = name + ": " + msg
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, msg)
}

// Open opens the capture file at path, or standard input for "-" (named
// "stdin" in messages), and returns a Reader as NewReader does. Closing the
// io.Closer releases the file and any decompressor; it does not close
// standard input. A path that cannot be opened gives the *fs.PathError of
// os.Open, which names it.
//
// A regular file is read through a memory mapping. If it shrinks while it
// is read, reading past its new end raises SIGBUS in the goroutine that
// reads the records and their bytes, which kills the program unless that
// goroutine has set runtime/debug.SetPanicOnFault and recovers the panic:
// Fault turns it into an error wrapping ErrChanged (jj's pipeline does
// this). The goroutines Open starts itself, and Open's own reading of the
// file header, are guarded already.
func Open(path string) (Reader, io.Closer, error) {
	if path == "-" {
		return OpenFile(os.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			f.Close()
			return nil, nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("is a directory")}
		}
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	if rd, c, ok, err := openMapped(f, path, size); ok {
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		c.f = f
		return rd, c, nil
	}
	growPipe(f)
	rd, in, err := newReaderFrom(fileStream(f, size), path, size, size >= 0)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return rd, closer{in: in, f: f}, nil
}

// OpenFile returns a Reader for the open file f, named name in messages,
// as Open does for a path, and an io.Closer that releases what the Reader
// holds but does not close f. A regular file read from its start, such as
// standard input redirected from a capture file (jj extract - <
// capture.pcap), is memory-mapped and parsed in place as Open parses a
// path; anything else (a pipe, a terminal, a file read from elsewhere than
// its start) is read as a stream, as NewReader reads it.
func OpenFile(f *os.File, name string) (Reader, io.Closer, error) {
	size := SizeAtStart(f)
	if size >= 0 {
		if rd, c, ok, err := openMapped(f, name, size); ok {
			if err != nil {
				return nil, nil, err
			}
			// Consumed, as reading would leave it: a second "-" then
			// reads nothing, and a command after jj on the same
			// standard input starts at its end.
			if _, err := f.Seek(size, io.SeekStart); err != nil {
				c.Close()
				return nil, nil, err
			}
			return rd, c, nil
		}
	}
	growPipe(f)
	// The size is the file's only when read from its start (what progress
	// counts it as).
	rd, in, err := newReaderFrom(fileStream(f, size), name, size, false)
	if err != nil {
		return nil, nil, err
	}
	return rd, closer{in: in}, nil
}

// fileStream returns the stream that Open and OpenFile read f with when
// they do not map it; size is f's, or -1 when it is not a regular file
// read from its start. A pipe or device is read in the caller's goroutine:
// closing early must not wait for a read-ahead blocked on a stalled
// writer. A regular file larger than a pager's window (one openMapped
// declined: mapCostly, its mapped pages dearer than a copy) is read ahead
// by a ring on a goroutine of its own, as the pager works ahead of a
// mapping.
func fileStream(f *os.File, size int64) *stream {
	if size > populateEvery {
		s := newRingStream(f, size)
		s.at = f
		return s
	}
	return newStream(f)
}

// MapAlways has Open and OpenFile map every regular file they can. By
// default a file larger than a pager's window that is in the page cache is
// read with read(2) instead where a probe finds its mapped pages dearer
// than a copy (mapCostly: on this project's virtual machine, most large
// files). Tests of the mapped path set it, so that what they
// test does not depend on the host.
var MapAlways bool

// openMapped maps f, a regular file of size bytes, and opens a Reader on
// the mapping; ok is false when f cannot be mapped, or is better read
// (mapCostly). The closer it returns unmaps f but does not close it.
func openMapped(f *os.File, name string, size int64) (rd Reader, c closer, ok bool, err error) {
	data := mapFile(f, size)
	if data == nil {
		return nil, closer{}, false, nil
	}
	// Huge folios for a file the pager maps window by window; a smaller
	// one is read whole in the mmap call (MAP_POPULATE), before any
	// advice could apply.
	raw := newMappedStream(data)
	if size > populateEvery {
		raw.hugeReads = readsHuge(data)
		if !MapAlways && mapCostly(data) {
			unmapFile(data)
			return nil, closer{}, false, nil
		}
	}
	raw.file = f // for input.shrank, from the header on
	rd, in, err := newReaderFrom(raw, name, size, true)
	if err != nil {
		raw.stop()
		unmapFile(data)
		return nil, closer{}, true, err
	}
	return rd, closer{in: in, mapping: data}, true, nil
}

// closer is the io.Closer that Open and OpenFile return.
type closer struct {
	in      *input
	f       *os.File // nil for standard input
	mapping []byte   // the file's mapping, if any
}

func (c closer) Close() error {
	c.in.close()
	if c.mapping != nil {
		unmapFile(c.mapping)
	}
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// Expand turns command-line arguments into the list of inputs to read, in
// order. A file stays as it is, whatever its content (reading it reports a
// non-capture); "-" stays as it is; a directory becomes its regular files
// (not those of subdirectories) whose first bytes are a pcap or pcapng
// magic, or a compression magic when the file decompresses to a capture
// or cannot be read to tell (NewReader; those of a compression jj does
// not read too, when the name ends as such files do, so that opening them
// fails with a hint), or whose name ends as a capture's (captureName:
// opening an empty or broken one reports it), in name order with numbers
// by value (compareNatural: dump.pcap2 before dump.pcap10). An entry
// that cannot be looked at, or a dangling link named as a capture, is an
// input too, so that reading it reports it and the others are read
// (isCaptureFile). A path that does not exist, a directory that cannot be
// listed and one without capture files ("no capture files in DIR") are
// errors naming the path.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(entries, func(a, b os.DirEntry) int { return compareNatural(a.Name(), b.Name()) })
		found := 0
		for _, e := range entries {
			name := filepath.Join(p, e.Name())
			if isCaptureFile(name) {
				out = append(out, name)
				found++
			}
		}
		if found == 0 {
			return nil, fmt.Errorf("no capture files in %s", p)
		}
	}
	return out, nil
}

// subdirs returns the names of the subdirectories of dir (links to
// directories too), but hidden ones (.git), in name order: Expand does not
// read them, which a run says.
func subdirs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var subs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.IsDir() {
			subs = append(subs, e.Name())
		}
	}
	slices.SortFunc(subs, compareNatural)
	return subs
}

// SubdirsWarning returns the warning for a directory given as an input
// whose subdirectories Expand does not read, or "" if it has none.
func SubdirsWarning(dir string) string {
	subs := subdirs(dir)
	if len(subs) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: its subdirectories are not read (%s): name them as inputs to read them", dir, nameSome(subs))
}

// nameSome joins the first three names, and says how many more there are.
func nameSome(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// StartsAsInput reports whether the file at path opens as an input: Open
// succeeds on it, so its header (decompressed, if need be) is a capture's,
// of a link type jj decodes. It reads no further than Open does, to the
// first packet of a pcapng file: whether the rest reads is for the run to
// say.
func StartsAsInput(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return opensAsInput(f, path)
}

// opensAsInput reports whether r, named name, opens as an input: read,
// not mapped, and decompressed on this goroutine, a few buffers' worth at
// most, where mapping a large file costs milliseconds.
func opensAsInput(r io.Reader, name string) bool {
	_, in, err := newReader(r, name, -1, false)
	if err != nil {
		return false
	}
	in.close()
	return true
}

// FileStartsAsInput is StartsAsInput for an open file, read from where
// its offset stands, which it leaves there (pread): standard input
// redirected from a file (jj extract - < notes.txt), which OpenFile reads
// from that offset. A file that is not regular (a pipe, a terminal, a
// device) may start as an input: what it holds is known only by reading
// it, which would take the bytes from the run.
func FileStartsAsInput(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return true
	}
	return opensAsInput(io.NewSectionReader(f, off, max(fi.Size()-off, 0)), f.Name())
}

// NamedAsCapture reports whether name ends as a capture's does (.pcap,
// .pcapng, .cap, .ntar, before an optional compression's extension): a
// directory's entry so named is always read as an input.
func NamedAsCapture(name string) bool { return captureName(name) }

// captureName reports whether name ends as a capture file's name does:
// .pcap, .pcapng, .cap or .ntar, any case, maybe compressed (.gz, .zst,
// .xz, .bz2, .lz4).
func captureName(name string) bool {
	name = strings.ToLower(name)
	for _, c := range []string{".gz", ".zst", ".xz", ".bz2", ".lz4"} {
		if s, ok := strings.CutSuffix(name, c); ok {
			name = s
			break
		}
	}
	switch filepath.Ext(name) {
	case ".pcap", ".pcapng", ".cap", ".ntar":
		return true
	}
	return false
}

// isCaptureFile reports whether a directory's entry name is to be read:
// a regular file (symbolic links followed) that is named as a capture
// (captureName), starts with a capture magic, or starts with a
// compression magic and does not decompress to something else. An entry
// named as a capture is taken whatever it is but a directory, a device, a
// FIFO or a socket (a dangling link too), and so is one that cannot be
// looked at (a link to itself, a file that cannot be opened or read), so
// that reading it says what is wrong, once the other files are read,
// rather than it being passed over in silence or losing the other files.
func isCaptureFile(name string) bool {
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return captureName(name) // a dangling link, or gone since listed
	}
	if err != nil {
		return true
	}
	if !fi.Mode().IsRegular() {
		return false
	}
	// Any file named as a capture is taken (empty, cut short, or not one
	// at all), so that opening it says what is wrong rather than the
	// file being passed over in silence; and so is a format jj does not
	// read when the name says it is one (unsupported, below). A file so
	// named is not opened here: a directory of captures is read with a
	// third of the system calls (on this project's VM, about 7 µs each).
	if captureName(name) {
		return true
	}
	file, err := os.Open(name)
	if err != nil {
		return true
	}
	defer file.Close()
	var b [maxMagic]byte
	n, err := io.ReadFull(file, b[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return true
	}
	if f, _ := detect(b[:n]); f != formatUnknown {
		if _, ok := compressions[f]; ok {
			// Compressed, and not named as a capture: taken unless it
			// decompresses to something else (flows.csv.gz, jj's own
			// output beside its inputs, or a log), and taken if it
			// cannot be read, so that reading it says why.
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return true
			}
			_, in, err := newReader(file, name, -1, false)
			if in != nil {
				in.close()
			}
			return !errors.Is(err, ErrNotCapture)
		}
		return true
	}
	u := unsupportedFormat(b[:n])
	if u < 0 || unsupported[u].ext == "" {
		return false
	}
	ext := unsupported[u].ext
	return strings.HasSuffix(name, ext) && !strings.HasSuffix(name, ".tar"+ext)
}
