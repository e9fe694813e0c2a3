package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// FileInfo describes a capture file without decoding its packets: what
// `jj info` prints. Info fills it by walking the records with the same
// parsers as the readers, so it counts exactly the records a Reader
// returns, those of link types jj does not decode included.
type FileInfo struct {
	Name string
	// Format is "pcap" or "pcapng"; Compression is "", "gzip", "zstd",
	// "xz", "bzip2" or "lz4".
	Format, Compression string
	// Version is the pcap version, or that of the first pcapng section.
	Version string
	// BigEndian is the byte order of the file (of its first section).
	BigEndian bool
	// Sections counts pcapng section headers (1 for pcap).
	Sections int
	// Interfaces lists the pcap file's one interface, or every pcapng
	// interface description, in file order.
	Interfaces []InterfaceInfo
	// Packets counts the records; CapturedBytes and WireBytes add up their
	// captured and original lengths.
	Packets                  uint64
	CapturedBytes, WireBytes uint64
	// Earliest and Latest are the smallest and largest record timestamps,
	// in nanoseconds since the Unix epoch; meaningful when Packets > 0.
	Earliest, Latest int64
	// InOrder is true when no record's timestamp is before the previous
	// one's.
	InOrder bool
	// FileSize is the size of the file in bytes, -1 when unknown.
	FileSize int64
	// Truncated is true when the file is cut off mid-record: every
	// complete record before the cut was counted.
	Truncated bool
	// Err is the error that stopped the walk before the end (a corrupt
	// block, an I/O error); the counts cover the records before it.
	Err error
	// Warnings are the readers' warnings, as in Reader.Warnings.
	Warnings []string
}

// InterfaceInfo describes one capture interface.
type InterfaceInfo struct {
	// Section is the pcapng section (0 for pcap), Index the interface's
	// number within it.
	Section, Index int
	LinkType       LinkType
	// SnapLen is the snapshot length; 0 means none was set.
	SnapLen uint32
	// Resolution is the timestamp unit: "µs", "ns", "10^-N s" or "2^-N s".
	Resolution string
	// Packets counts this interface's records.
	Packets uint64
	// InterfaceDrops and SystemDrops are the packets the capture tool
	// recorded as dropped by the interface and by the capturing system
	// (pcapng interface statistics: the latest block's isb_ifdrop and
	// isb_osdrop); 0 when it recorded none.
	InterfaceDrops, SystemDrops uint64
}

// LinkName returns the LINKTYPE_ name of the link type ("ETHERNET"), or
// its number when jj does not know it.
func (i InterfaceInfo) LinkName() string {
	if name := linkTypeNames[uint32(i.LinkType)]; name != "" {
		return name
	}
	return strconv.Itoa(int(i.LinkType))
}

// Supported reports whether jj decodes the interface's link type.
func (i InterfaceInfo) Supported() bool { return Supported(uint32(i.LinkType)) }

// Duration returns Latest - Earliest in nanoseconds, 0 without packets.
func (fi *FileInfo) Duration() int64 {
	if fi.Packets == 0 {
		return 0
	}
	return fi.Latest - fi.Earliest
}

// Info reads the capture file at path, or standard input for "-", to its
// end and describes it. It fails, as Open does, when the file is missing,
// empty, not a capture or has a broken file header; a file cut off or
// corrupt after its header gives a FileInfo with Truncated or Err set.
func Info(path string) (*FileInfo, error) {
	if path == "-" {
		return info(os.Stdin, "stdin", -1)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("is a directory")}
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return info(f, path, size)
}

// InfoReader describes the capture read from r, as Info does; name labels
// errors.
func InfoReader(r io.Reader, name string) (*FileInfo, error) { return info(r, name, -1) }

func info(r io.Reader, name string, size int64) (*FileInfo, error) {
	raw := newStream(r)
	in := &input{name: name, raw: raw, s: raw, size: size}
	defer in.close()
	fi := &FileInfo{Name: name, FileSize: size, InOrder: true}
	f, compression, err := in.open()
	if err != nil {
		return nil, err
	}
	fi.Compression = compression
	if f == formatPcap {
		err = pcapInfo(in, fi)
	} else {
		err = ngInfo(in, fi)
	}
	switch {
	case err == io.EOF:
	case errors.Is(err, ErrTruncated) && fi.Format != "":
		fi.Truncated = true
		fi.Err = err
	case err != nil && fi.Format == "":
		return nil, err // the file header
	default:
		fi.Err = err
	}
	fi.Warnings = in.Warnings()
	return fi, nil
}

// count adds a record to the totals.
func (fi *FileInfo) count(rec *Record) {
	if fi.Packets == 0 {
		fi.Earliest, fi.Latest = rec.Timestamp, rec.Timestamp
	} else {
		if rec.Timestamp < fi.Latest {
			fi.InOrder = false
		}
		fi.Earliest = min(fi.Earliest, rec.Timestamp)
		fi.Latest = max(fi.Latest, rec.Timestamp)
	}
	fi.Packets++
	fi.CapturedBytes += uint64(len(rec.Data))
	fi.WireBytes += uint64(rec.WireLen)
}

// pcapInfo walks a pcap file. A link type jj cannot decode, which
// newPcapReader rejects, is described all the same.
func pcapInfo(in *input, fi *FileInfo) error {
	h, _ := in.s.peek(pcapHeaderLen)
	rd, err := newPcapReader(in)
	var lte *LinkTypeError
	switch {
	case errors.As(err, &lte):
		// The header is whole: newPcapReader checks the link type last.
		rd = &pcapReader{input: in, scale: 1000, link: LinkType(lte.LinkType)}
		switch binary.LittleEndian.Uint32(h) {
		case 0xa1b23c4d:
			rd.scale = 1
		case 0xd4c3b2a1:
			rd.big = true
		case 0x4d3cb2a1:
			rd.big, rd.scale = true, 1
		}
		in.s.discard(pcapHeaderLen)
	case err != nil:
		return err
	}
	fi.Format, fi.Sections, fi.BigEndian = "pcap", 1, rd.big
	fi.Version = fmt.Sprintf("%d.%d", u16(h[4:], rd.big), u16(h[6:], rd.big))
	res := "µs"
	if rd.scale == 1 {
		res = "ns"
	}
	fi.Interfaces = []InterfaceInfo{{LinkType: rd.link, SnapLen: u32(h[16:], rd.big), Resolution: res}}
	var rec Record
	for {
		if err := rd.Next(&rec); err != nil {
			return err
		}
		fi.count(&rec)
		fi.Interfaces[0].Packets++
	}
}

// ngInfo walks a pcapng file block by block, as ngReader.next does, to see
// every section and interface, those without packets included. Packets of
// every link type are counted: with several set, the reader never rejects
// a file for its only interface's link type.
func ngInfo(in *input, fi *FileInfo) error {
	if h, _ := in.s.peek(ngBlockHeaderLen); len(h) == ngBlockHeaderLen {
		if m := binary.LittleEndian.Uint32(h[8:]); m != byteOrderMagic && m != 0x4d3c2b1a {
			return in.fail(-1, fmt.Errorf("%w: section header without byte-order magic", ErrNotCapture))
		}
	}
	r := &ngReader{input: in, several: true}
	base := 0 // index in fi.Interfaces of the current section's interface 0
	var rec Record
	for {
		off, typ, b, err := r.block()
		if err != nil {
			return err
		}
		n := len(b)
		body := b[8 : n-4]
		switch typ {
		case blockSHB:
			if err = r.section(off, body); err == nil {
				if fi.Sections == 0 {
					fi.Format, fi.BigEndian = "pcapng", r.big
					fi.Version = fmt.Sprintf("%d.%d", u16(body[4:], r.big), u16(body[6:], r.big))
				}
				fi.Sections++
				base = len(fi.Interfaces)
			}
		case blockIDB:
			if err = r.iface(off, body); err == nil {
				ifc := r.ifaces[len(r.ifaces)-1]
				fi.Interfaces = append(fi.Interfaces, InterfaceInfo{
					Section: fi.Sections - 1, Index: len(r.ifaces) - 1,
					LinkType: ifc.link, SnapLen: ifc.snaplen, Resolution: resolution(ifc.binary, ifc.exp),
				})
			}
		case blockISB:
			if id := r.stats(body); id >= 0 {
				ifc := &fi.Interfaces[base+id]
				ifc.InterfaceDrops, ifc.SystemDrops = r.ifaces[id].ifDrop, r.ifaces[id].osDrop
			}
		case blockEPB, blockPB, blockSPB:
			if err = r.packet(off, typ, body, &rec); err == nil {
				fi.count(&rec)
				fi.Interfaces[base+int(rec.Interface)].Packets++
			} else if err == errSkipBlock {
				err = nil
			}
		}
		if err != nil {
			return err
		}
		r.s.discard(n)
	}
}

// resolution names an if_tsresol unit.
func resolution(binary bool, exp uint8) string {
	switch {
	case binary:
		return "2^-" + strconv.Itoa(int(exp)) + " s"
	case exp == 6:
		return "µs"
	case exp == 9:
		return "ns"
	case exp == 3:
		return "ms"
	case exp == 0:
		return "s"
	}
	return "10^-" + strconv.Itoa(int(exp)) + " s"
}
