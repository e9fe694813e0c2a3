// Package testpkt builds frames and pcap files field by field for tests.
// Every length field it writes is the one the test asks for, so tests can
// build well-formed and hostile packets alike. It is test support only.
package testpkt

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/netip"
)

// Frame describes one packet to build. Zero fields take sensible defaults:
// an Ethernet II frame carrying IPv4 or IPv6 (by the address family), TTL 64.
type Frame struct {
	TS int64 // nanoseconds since the epoch

	// Link is the link layer: "eth" (default), "raw", "sll", "sll2",
	// "null", "ppp" (link type 9, with the 0xff 0x03 address and control
	// bytes), "chdlc" (Cisco HDLC, link type 104), "none" (nothing).
	Link  string
	VLANs []uint16 // 802.1Q tags, outermost first

	// Tunnel lists the headers between the link layer and the IP packet,
	// outermost first: the IP packet below is the innermost one.
	Tunnel []Tunnel

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

// Tunnel is one header of Frame.Tunnel. Its protocol, length and
// bottom-of-stack fields follow from the header inside it, unless Proto
// says otherwise; other fields are zero.
type Tunnel struct {
	// Kind is "ip" (IPv4 or IPv6 by the family of Src), "udp", "gre",
	// "erspan2", "erspan3", "vxlan", "geneve", "gtp", "teredo", "mpls",
	// "pppoe" (session header and PPP protocol), "ppp" (in GRE: 0xff 0x03
	// and protocol), "eth", "vlan" (tag and EtherType, after an EtherType
	// 0x8100) or "cmd" (Cisco MetaData, in its Ethernet or GRE layout).
	Kind string
	// Src and Dst are the endpoints of an "ip" header.
	Src, Dst netip.Addr
	// SrcPort and DstPort are the ports of a "udp" header.
	SrcPort, DstPort uint16
	// Flags is GRE's flags and version word (key, sequence, checksum and
	// acknowledgement fields are written, zero, when their bits ask), or
	// GTP's flags byte (0x30 when 0), or VXLAN's flags byte (0x08 when 0),
	// or an IPv4 header's flags and fragment offset word.
	Flags uint16
	// Proto overrides the protocol field when not 0 (-1 writes 0): IP
	// protocol, GRE or Geneve protocol type, EtherType, PPP protocol;
	// MPLS: the label.
	Proto int
	// Opt adds options: Geneve option bytes; GTP extension headers (4
	// bytes each); Teredo indicators (1 authentication, 2 origin, 3 both).
	Opt int
	// MsgType is GTP's message type (255, a G-PDU, when 0).
	MsgType uint8
	// TotalLen overrides an "ip" header's total length (IPv4) or payload
	// length (IPv6), or a "udp" length; -1 writes 0.
	TotalLen int
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
	inner := "ip4"
	if !f.Src.Is4() {
		inner = "ip6"
	}
	for i := len(f.Tunnel) - 1; i >= 0; i-- {
		outer := ""
		if i > 0 {
			outer = f.Tunnel[i-1].Kind
		}
		ip = f.Tunnel[i].wrap(ip, inner, outer)
		inner = f.Tunnel[i].kind()
	}
	ip = append(ip, make([]byte, f.Pad)...)

	etype := uint16(etherType(inner))
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
		if inner == "ip6" {
			fam = 30
		}
		binary.LittleEndian.PutUint32(link, fam)
	case "ppp":
		link = []byte{0xff, 0x03}
		link = binary.BigEndian.AppendUint16(link, uint16(pppProto(inner)))
	case "chdlc":
		link = []byte{0x0f, 0x00}
		link = binary.BigEndian.AppendUint16(link, etype)
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

// kind names the header for the one outside it: "ip4" or "ip6" for "ip".
func (t Tunnel) kind() string {
	if t.Kind == "ip" {
		if t.Src.Is4() {
			return "ip4"
		}
		return "ip6"
	}
	return t.Kind
}

// etherType is the EtherType announcing a header kind.
func etherType(kind string) int {
	return map[string]int{
		"ip4": 0x0800, "ip6": 0x86dd, "mpls": 0x8847, "pppoe": 0x8864, "vlan": 0x8100,
		"cmd": 0x8909, "eth": 0x6558, "ppp": 0x880b, "erspan2": 0x88be, "erspan3": 0x22eb,
	}[kind]
}

// pppProto is the PPP protocol announcing a header kind.
func pppProto(kind string) int {
	return map[string]int{"ip4": 0x21, "ip6": 0x57, "mpls": 0x281}[kind]
}

// wrap returns the header t followed by payload, whose kind is inner; outer
// is the kind of the header outside t ("" for the link layer).
func (t Tunnel) wrap(payload []byte, inner, outer string) []byte {
	proto := func(def int) int {
		if t.Proto < 0 {
			return 0
		}
		if t.Proto != 0 {
			return t.Proto
		}
		return def
	}
	var h []byte
	switch t.Kind {
	case "ip":
		if t.Src.Is4() {
			h = make([]byte, 20)
			h[0] = 0x45
			total := 20 + len(payload)
			if t.TotalLen != 0 {
				total = max(t.TotalLen, 0)
			}
			binary.BigEndian.PutUint16(h[2:], uint16(total))
			binary.BigEndian.PutUint16(h[6:], t.Flags)
			h[8] = 64
			h[9] = byte(proto(map[string]int{"ip4": 4, "ip6": 41, "udp": 17, "gre": 47, "mpls": 137}[inner]))
			s, d := t.Src.As4(), t.Dst.As4()
			copy(h[12:], s[:])
			copy(h[16:], d[:])
		} else {
			h = make([]byte, 40)
			h[0] = 0x60
			pl := len(payload)
			if t.TotalLen != 0 {
				pl = max(t.TotalLen, 0)
			}
			binary.BigEndian.PutUint16(h[4:], uint16(pl))
			h[6] = byte(proto(map[string]int{"ip4": 4, "ip6": 41, "udp": 17, "gre": 47, "mpls": 137}[inner]))
			h[7] = 64
			s, d := t.Src.As16(), t.Dst.As16()
			copy(h[8:], s[:])
			copy(h[24:], d[:])
		}
	case "udp":
		h = make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:], t.SrcPort)
		binary.BigEndian.PutUint16(h[2:], t.DstPort)
		ul := 8 + len(payload)
		if t.TotalLen != 0 {
			ul = max(t.TotalLen, 0)
		}
		binary.BigEndian.PutUint16(h[4:], uint16(ul))
	case "gre":
		h = binary.BigEndian.AppendUint16(nil, t.Flags)
		h = binary.BigEndian.AppendUint16(h, uint16(proto(etherType(inner))))
		n := 0
		if t.Flags&0xc000 != 0 {
			n++
		}
		if t.Flags&0x2000 != 0 || t.Flags&7 == 1 {
			n++
		}
		if t.Flags&0x1000 != 0 {
			n++
		}
		if t.Flags&7 == 1 && t.Flags&0x0080 != 0 {
			n++
		}
		h = append(h, make([]byte, 4*n)...)
	case "erspan2":
		h = make([]byte, 8)
		h[0] = 0x10
	case "erspan3":
		h = make([]byte, 12)
		h[0] = 0x20
	case "vxlan":
		h = make([]byte, 8)
		h[0] = 0x08
		if t.Flags != 0 {
			h[0] = byte(t.Flags)
		}
	case "geneve":
		h = make([]byte, 8+t.Opt)
		h[0] = byte(t.Opt / 4)
		binary.BigEndian.PutUint16(h[2:], uint16(proto(etherType(inner))))
	case "gtp":
		flags := byte(0x30)
		if t.Flags != 0 {
			flags = byte(t.Flags)
		}
		msg := t.MsgType
		if msg == 0 {
			msg = 0xff
		}
		h = []byte{flags, msg, 0, 0, 0, 0, 0, 1}
		if t.Opt > 0 {
			h[0] |= 0x04
			h = append(h, 0, 0, 0, 0x85)
			for i := 0; i < t.Opt/4; i++ {
				next := byte(0x85)
				if i == t.Opt/4-1 {
					next = 0
				}
				h = append(h, 1, 0, 0, next)
			}
		} else if flags&0x07 != 0 {
			h = append(h, 0, 0, 0, 0)
		}
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)-8+len(payload)))
	case "teredo":
		if t.Opt&1 != 0 {
			h = append(h, 0, 1, 0, 0)
			h = append(h, make([]byte, 9)...)
		}
		if t.Opt&2 != 0 {
			h = append(h, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		}
	case "mpls":
		label := uint32(proto(16)) << 12
		if inner != "mpls" {
			label |= 1 << 8 // bottom of stack
		}
		h = binary.BigEndian.AppendUint32(nil, label|64)
	case "pppoe":
		h = []byte{0x11, 0x00, 0x00, 0x01}
		h = binary.BigEndian.AppendUint16(h, uint16(2+len(payload)))
		h = binary.BigEndian.AppendUint16(h, uint16(proto(pppProto(inner))))
	case "ppp":
		h = []byte{0xff, 0x03}
		h = binary.BigEndian.AppendUint16(h, uint16(proto(pppProto(inner))))
	case "eth":
		h = make([]byte, 12, 14)
		h[0], h[6], h[5], h[11] = 0x02, 0x02, 3, 4
		h = binary.BigEndian.AppendUint16(h, uint16(proto(etherType(inner))))
	case "vlan":
		h = binary.BigEndian.AppendUint16(nil, 100)
		h = binary.BigEndian.AppendUint16(h, uint16(proto(etherType(inner))))
	case "cmd":
		if outer == "gre" {
			h = binary.BigEndian.AppendUint16(nil, uint16(proto(etherType(inner))))
			h = append(h, 1, 1, 0, 1, 0, 0)
		} else {
			h = []byte{1, 1, 0, 1, 0, 0}
			h = binary.BigEndian.AppendUint16(h, uint16(proto(etherType(inner))))
		}
	default:
		panic("testpkt: unknown tunnel kind " + t.Kind)
	}
	return append(h, payload...)
}

// LinkType returns the pcap link type of a Frame.Link value.
func LinkType(link string) uint32 {
	switch link {
	case "ppp":
		return 9
	case "chdlc":
		return 104
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

// Gzip returns b compressed by compress/gzip at its fastest level, as one
// member.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed) // a valid level: no error
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}
