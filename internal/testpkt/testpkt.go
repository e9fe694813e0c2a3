// Package testpkt builds frames and pcap files field by field for tests.
// Every length field it writes is the one the test asks for, so tests can
// build well-formed and hostile packets alike. It is test support only.
package testpkt

import (
	"encoding/binary"
	"net/netip"
)

// Frame describes one packet to build. Zero fields take sensible defaults:
// an Ethernet II frame carrying IPv4 or IPv6 (by the address family), TTL 64.
type Frame struct {
	TS int64 // nanoseconds since the epoch

	Link  string   // "eth" (default), "raw", "sll", "sll2", "null", "none"
	VLANs []uint16 // 802.1Q tags, outermost first

	Src, Dst netip.Addr
	Proto    uint8
	IPID     uint16
	FragOff  uint16 // in 8-byte units
	MF       bool
	IHL      int // IPv4 header length in 32-bit words; 0 = 5
	// TotalLen overrides the IPv4 total length / IPv6 payload length when
	// set; -1 writes 0.
	TotalLen int
	ExtHdrs  []ExtHdr // IPv6 extension headers, in order

	SrcPort, DstPort uint16
	Flags            uint8 // TCP flags byte
	Seq, Ack         uint32
	Window           uint16
	DataOff          int // TCP data offset in words; 0 = 5
	UDPLen           int // overrides the UDP length when set; -1 writes 0

	Payload int // payload bytes (zeros)
	Pad     int // bytes after the IP packet (Ethernet padding, trailers)
	Snap    int // captured bytes when > 0 (snap-length cut)
	Wire    int // original length override when > 0
}

// ExtHdr is one IPv6 extension header.
type ExtHdr struct {
	Type uint8 // 0, 43, 44, 51, 60
	Len  int   // total bytes (multiple of 8; for AH multiple of 4)
	// For fragment headers:
	FragOff uint16
	MF      bool
	ID      uint32
}

// Build returns the frame's captured bytes and its wire length.
func (f Frame) Build() (data []byte, wire int) {
	var l4 []byte
	switch f.Proto {
	case 6:
		off := f.DataOff
		if off == 0 {
			off = 5
		}
		hl := off * 4
		if hl < 20 {
			hl = 20
		}
		l4 = make([]byte, hl+f.Payload)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
		binary.BigEndian.PutUint32(l4[4:], f.Seq)
		binary.BigEndian.PutUint32(l4[8:], f.Ack)
		l4[12] = byte(off) << 4
		l4[13] = f.Flags
		binary.BigEndian.PutUint16(l4[14:], f.Window)
	case 17:
		l4 = make([]byte, 8+f.Payload)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
		ul := 8 + f.Payload
		if f.UDPLen > 0 {
			ul = f.UDPLen
		} else if f.UDPLen < 0 {
			ul = 0
		}
		binary.BigEndian.PutUint16(l4[4:], uint16(ul))
	case 132:
		l4 = make([]byte, 12+f.Payload)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
	case 1, 58:
		l4 = make([]byte, 8+f.Payload)
		l4[0] = 8
	default:
		l4 = make([]byte, f.Payload)
	}
	if f.FragOff > 0 {
		// A later fragment carries no transport header.
		l4 = make([]byte, f.Payload)
	}

	var ip []byte
	if f.Src.Is4() {
		ihl := f.IHL
		if ihl == 0 {
			ihl = 5
		}
		hl := ihl * 4
		if hl < 20 {
			hl = 20
		}
		ip = make([]byte, hl, hl+len(l4))
		ip[0] = 0x40 | byte(ihl&0x0f)
		total := hl + len(l4)
		if f.TotalLen > 0 {
			total = f.TotalLen
		} else if f.TotalLen < 0 {
			total = 0
		}
		binary.BigEndian.PutUint16(ip[2:], uint16(total))
		binary.BigEndian.PutUint16(ip[4:], f.IPID)
		frag := f.FragOff & 0x1fff
		if f.MF {
			frag |= 0x2000
		}
		binary.BigEndian.PutUint16(ip[6:], frag)
		ip[8] = 64
		ip[9] = f.Proto
		s, d := f.Src.As4(), f.Dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		ip = append(ip, l4...)
	} else {
		ip = make([]byte, 40)
		ip[0] = 0x60
		ip[7] = 64
		s, d := f.Src.As16(), f.Dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		next := f.Proto
		var ext []byte
		for i := len(f.ExtHdrs) - 1; i >= 0; i-- {
			h := f.ExtHdrs[i]
			b := make([]byte, h.Len)
			b[0] = next
			switch h.Type {
			case 44:
				fo := h.FragOff << 3
				if h.MF {
					fo |= 1
				}
				binary.BigEndian.PutUint16(b[2:], fo)
				binary.BigEndian.PutUint32(b[4:], h.ID)
			case 51:
				b[1] = byte(h.Len/4 - 2)
			default:
				b[1] = byte(h.Len/8 - 1)
			}
			ext = append(b, ext...)
			next = h.Type
		}
		ip[6] = next
		pl := len(ext) + len(l4)
		if f.TotalLen > 0 {
			pl = f.TotalLen
		} else if f.TotalLen < 0 {
			pl = 0
		}
		binary.BigEndian.PutUint16(ip[4:], uint16(pl))
		ip = append(ip, ext...)
		ip = append(ip, l4...)
	}
	ip = append(ip, make([]byte, f.Pad)...)

	etype := uint16(0x0800)
	if !f.Src.Is4() {
		etype = 0x86dd
	}
	var link []byte
	switch f.Link {
	case "", "eth":
		link = make([]byte, 12, 14+4*len(f.VLANs))
		link[0], link[6] = 0x02, 0x02
		link[5], link[11] = 1, 2
		for _, v := range f.VLANs {
			link = binary.BigEndian.AppendUint16(link, 0x8100)
			link = binary.BigEndian.AppendUint16(link, v)
		}
		link = binary.BigEndian.AppendUint16(link, etype)
	case "sll":
		link = make([]byte, 16)
		binary.BigEndian.PutUint16(link[14:], etype)
	case "sll2":
		link = make([]byte, 20)
		binary.BigEndian.PutUint16(link[0:], etype)
	case "null":
		link = make([]byte, 4)
		fam := uint32(2)
		if !f.Src.Is4() {
			fam = 30
		}
		binary.LittleEndian.PutUint32(link, fam)
	}
	data = append(link, ip...)
	wire = len(data)
	if f.Wire > 0 {
		wire = f.Wire
	}
	if f.Snap > 0 && f.Snap < len(data) {
		data = data[:f.Snap]
	}
	return data, wire
}

// LinkType returns the pcap link type of a Frame.Link value.
func LinkType(link string) uint32 {
	switch link {
	case "raw":
		return 101
	case "sll":
		return 113
	case "sll2":
		return 276
	case "null":
		return 0
	}
	return 1
}

// Pcap returns a nanosecond little-endian pcap file holding the frames,
// all of the first frame's link type.
func Pcap(frames ...Frame) []byte {
	link := ""
	if len(frames) > 0 {
		link = frames[0].Link
	}
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b23c4d)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 262144)
	binary.LittleEndian.PutUint32(b[20:], LinkType(link))
	for _, f := range frames {
		data, wire := f.Build()
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(f.TS/1e9))
		binary.LittleEndian.PutUint32(h[4:], uint32(f.TS%1e9))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
		binary.LittleEndian.PutUint32(h[12:], uint32(wire))
		b = append(b, h[:]...)
		b = append(b, data...)
	}
	return b
}

// Addr parses an address or panics; for test tables.
func Addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Sec returns whole and fractional seconds as nanoseconds.
func Sec(s float64) int64 { return int64(s*1e9 + 0.5) }
