// Package capture reads packet records from capture files: the first stage
// of jj's pipeline (capture → decode → flow → extract → output).
//
// It reads classic pcap (micro- and nanosecond, either byte order) and pcapng
// (several sections and interfaces, per-interface link type, if_tsresol and
// if_tsoffset), from files, directories, standard input, and gzip, zstd,
// xz, bzip2 or LZ4 streams detected by their magic bytes. Readers are
// zero-copy: the bytes of a Record point into a buffer owned by the reader
// and are valid only until the next call to Next. Nothing here allocates
// per packet.
//
// Files are untrusted input. A record or block whose length field lies is
// never allocated blindly: lengths are bounded by MaxRecordLen, and a file
// cut off mid-record ends with ErrTruncated after every complete record.
//
// What a caller sees:
//
//   - Errors are *FileError values, "read NAME: PROBLEM [at offset N]",
//     wrapping a sentinel: NewReader fails on the file header (ErrEmpty,
//     ErrNotCapture, ErrTruncated, ErrCorrupt, or a *LinkTypeError); Next
//     returns io.EOF at a clean end, or ErrTruncated or ErrCorrupt after
//     the last good record. Next never returns a link-type error. After an
//     error, Next returns the same error again.
//   - Unsupported link types: a pcap file of one, or a pcapng file whose only
//     interface has one, is rejected by NewReader. In a pcapng file with
//     several interfaces, records of an unsupported interface are returned
//     with their LinkType; the caller checks Supported and counts them as
//     skipped.
//   - pcapng simple packet blocks carry no timestamp: they get the previous
//     record's (0 before any).
//   - FCS bits in a pcap link type field are ignored: an Ethernet FCS, if
//     any, stays at the end of Data. Records longer than the snap length or
//     than their original length are returned as written.
//   - Timestamps out of the int64 nanosecond range (after 2262) wrap around,
//     as time.Time.UnixNano does, so differences stay right.
//   - Oddities that do not stop reading (a version other than pcap 2.4 or
//     pcapng 1.x, FCS bits, fractions of a second of one second or more,
//     timestamps out of range, simple packet blocks) are Warnings: one line
//     each, starting with the file name, each per-record kind once per
//     file.
package capture

import (
	"errors"
	"fmt"
	"strconv"
)

// MaxRecordLen bounds the captured length of one record. Real link layers
// stay far below it (a 512 KiB BIG TCP super-packet is the largest seen in
// the corpus); anything larger is a corrupt length field, not a packet.
const MaxRecordLen = 16 << 20

// LinkType is a LINKTYPE_ value from the tcpdump.org registry.
type LinkType uint16

// Link types jj decodes. Others are reported by number.
const (
	LinkNull     LinkType = 0   // BSD loopback, host-order family
	LinkEthernet LinkType = 1   // Ethernet II
	LinkRaw12    LinkType = 12  // raw IP (DLT_RAW on most systems)
	LinkRaw14    LinkType = 14  // raw IP (DLT_RAW on OpenBSD)
	LinkRaw      LinkType = 101 // LINKTYPE_RAW
	LinkLoop     LinkType = 108 // OpenBSD loopback, network-order family
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
	LinkPPP      LinkType = 9   // PPP
	LinkPPPHDLC  LinkType = 50  // PPP in HDLC-like framing
	LinkCHDLC    LinkType = 104 // Cisco HDLC
)

// Record is one packet record of a capture file.
type Record struct {
	// Timestamp is the capture time in nanoseconds since the Unix epoch,
	// with pcapng's if_tsoffset applied.
	Timestamp int64
	// Data holds the captured bytes. It points into the reader's buffer and
	// is valid only until the next call to Next.
	Data []byte
	// WireLen is the packet's length on the wire (the record's original
	// length), which may exceed len(Data) when the snap length cut it.
	WireLen uint32
	// LinkType is the link type of the record's interface.
	LinkType LinkType
	// Interface is the pcapng interface index within its section (0 for pcap).
	Interface uint32
}

// Reader reads records one at a time.
type Reader interface {
	// Next fills rec with the next record. It returns io.EOF at the clean end
	// of the input, ErrTruncated (wrapped) when the input ends inside a record,
	// and another error when the input is corrupt beyond that point; every
	// record before the error was returned intact.
	Next(rec *Record) error
	// Warnings returns the non-fatal problems seen so far, such as an
	// unexpected version number, in the order they were found.
	Warnings() []string
}

// Stable is implemented by every Reader this package returns. Stable
// reports whether the bytes of every record stay valid after the next call
// to Next, until the reader is closed: true for a file that Open mapped
// into memory and reads as it is (not compressed), whose records point
// into the mapping. Bytes of the mapping already released to the kernel
// are read from the page cache again, so they stay valid too.
type Stable interface {
	Stable() bool
}

// Holder is implemented by every Reader this package returns. On a Stable
// reader, Hold(off) keeps the bytes of the file from offset off on mapped
// (in Progress.BytesRead's terms: BytesRead() before a Next is at or
// before the start of the record it returns): the reader gives none of
// them back to the kernel, as it otherwise does behind its walk every
// 16 MiB, until a later Hold moves off on or Hold(-1) lifts it. Elsewhere
// it does nothing. A goroutine that reads records after later ones were
// read (split reading's decoders) holds their bytes: a record's page
// given back and read again is faulted in again, and then stays mapped to
// the end, so that resident memory grew with the capture (up to 250 MB
// more on a 3.3 GB one).
type Holder interface {
	Hold(off int64)
}

// Live is implemented by readers of traffic as it arrives, such as the
// live package's: their records are stamped as they come, so that a flow
// gone quiet can be ended on the wall clock (jj.Pipeline.RunReader). A
// reader of a recorded capture, whose timestamps lie in the past, does not
// implement it, or returns false. To have a reader of one's own read as
// live, wrap it in a type that embeds it and adds Live.
type Live interface {
	Live() bool
}

// Progress is implemented by every Reader this package returns, for a
// progress bar: BytesRead out of Size.
type Progress interface {
	// BytesRead returns how many bytes have been read from the file so far,
	// read-ahead included; for compressed input it counts compressed
	// bytes, like Size.
	BytesRead() int64
	// Size returns the size of the file in bytes, or -1 when it is unknown
	// (standard input, pipes, or a reader given to NewReader that is not a
	// regular *os.File).
	Size() int64
}

// Sentinel errors. Readers wrap them with the file name and the offset.
var (
	// ErrNotCapture means the input starts with no known capture magic.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrTruncated means the input ends inside a header or record.
	ErrTruncated = errors.New("file cut off mid-record")
	// ErrCorrupt means a header or length field is impossible.
	ErrCorrupt = errors.New("corrupt capture")
	// ErrLinkType means the file's only link type is one jj cannot decode.
	ErrLinkType = errors.New("unsupported link type")
	// ErrChanged means a file jj had mapped into memory lost bytes while it
	// was read: truncated, or overwritten, which truncates it first (a
	// capture tool started again on the same file name, a log rotation by
	// copy and truncate). Reading a page past its new end raised SIGBUS,
	// which jj turns into this error: the records before it are kept.
	ErrChanged = errors.New("the file shrank while it was read (truncated or overwritten)")
	// ErrEmpty means the input has no bytes at all.
	ErrEmpty = errors.New("empty file")
	// ErrNoPacket is returned by live readers when no packet arrived within
	// their poll interval. It is not a failure: the caller uses the pause to
	// expire flows on the wall clock, then calls Next again.
	ErrNoPacket = errors.New("no packet yet")
)

// FileError is the error of every reader and opener of this package: it
// names the input and, when the problem sits at a known place, the byte
// offset of the record or block at fault. Its message reads
// "read NAME: PROBLEM" or "read NAME: PROBLEM at offset N". Err wraps one of
// the sentinel errors above (or a *LinkTypeError) whenever one applies, so
// errors.Is and errors.As see through a FileError.
type FileError struct {
	// Name is the name given to NewReader, the path given to Open, or
	// "stdin".
	Name string
	// Offset is the byte offset of the record or block at fault, counted in
	// the decompressed input for compressed files, or -1 when the error
	// concerns the whole file.
	Offset int64
	// Err is the problem.
	Err error
	// Decompressed says that the file is compressed, and Offset counts
	// its decompressed bytes.
	Decompressed bool
}

// Error returns "read NAME: PROBLEM", with " at offset N" when the offset
// is known (" at offset N of the decompressed data" in a compressed file).
func (e *FileError) Error() string {
	if e.Offset < 0 {
		return "read " + e.Name + ": " + e.Err.Error()
	}
	of := ""
	if e.Decompressed {
		of = " of the decompressed data"
	}
	return "read " + e.Name + ": " + e.Err.Error() + " at offset " + strconv.FormatInt(e.Offset, 10) + of
}

// Unwrap returns the problem, so that errors.Is(err, ErrTruncated) works.
func (e *FileError) Unwrap() error { return e.Err }

// LinkTypeError reports a link type jj cannot decode.
type LinkTypeError struct {
	LinkType uint32
}

// Error names the link type, and its LINKTYPE_ name when jj knows it.
func (e *LinkTypeError) Error() string {
	if name := linkTypeNames[e.LinkType]; name != "" {
		return fmt.Sprintf("unsupported link type %d (%s)", e.LinkType, name)
	}
	return fmt.Sprintf("unsupported link type %d", e.LinkType)
}

// Unwrap makes errors.Is(err, ErrLinkType) true.
func (e *LinkTypeError) Unwrap() error { return ErrLinkType }

// Supported reports whether jj decodes the link type.
func Supported(lt uint32) bool {
	switch LinkType(lt) {
	case LinkNull, LinkEthernet, LinkRaw12, LinkRaw14, LinkRaw, LinkLoop,
		LinkSLL, LinkIPv4, LinkIPv6, LinkSLL2, LinkPPP, LinkPPPHDLC, LinkCHDLC:
		return lt <= 0xffff
	}
	return false
}

// linkTypeNames names common link types in error messages.
var linkTypeNames = map[uint32]string{
	0: "NULL", 1: "ETHERNET", 6: "IEEE802_5", 8: "SLIP", 9: "PPP", 10: "FDDI",
	12: "RAW", 14: "RAW", 50: "PPP_HDLC", 51: "PPP_ETHER", 101: "RAW", 104: "C_HDLC",
	105: "IEEE802_11", 108: "LOOP", 113: "LINUX_SLL", 119: "PRISM_HEADER",
	127: "IEEE802_11_RADIOTAP", 138: "APPLE_IP_OVER_IEEE1394", 147: "USER0",
	160: "USER13", 187: "BLUETOOTH_HCI_H4", 192: "PPI", 195: "IEEE802_15_4",
	197: "ERF", 201: "BLUETOOTH_HCI_H4_WITH_PHDR", 220: "USB_LINUX_MMAPPED",
	228: "IPV4", 229: "IPV6", 239: "NFLOG", 242: "IPOIB", 249: "USBPCAP",
	258: "PKTAP", 271: "VSOCK", 276: "LINUX_SLL2",
}
