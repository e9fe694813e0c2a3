package decode

import (
	"encoding/binary"

	"github.com/jjflow/jj/capture"
)

// Reason says why a frame was skipped. ReasonOK means it was decoded.
type Reason uint8

// Skip reasons, counted in the run summary.
const (
	ReasonOK        Reason = iota
	ReasonNonIP            // ARP, LLDP, STP, ... (EtherType says which)
	ReasonLinkShort        // frame shorter than its link-layer header
	ReasonIPShort          // too short to find the IP addresses
	ReasonIPVersion        // IP version nibble is neither 4 nor 6
	ReasonLinkType         // link type jj does not decode
	NumReasons
)

var reasonNames = [NumReasons]string{
	"", "non-IP frame", "frame shorter than its link header",
	"too short to find the IP addresses", "IP version neither 4 nor 6",
	"unsupported link type",
}

// String describes the reason for the run summary.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// EtherType values the decoder understands.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQ91 = 0x9100
)

// Decoder decodes frames. Its zero value is ready to use. It keeps the
// EtherType (or link protocol) of the last non-IP frame so the caller can
// say what was skipped.
type Decoder struct {
	// EtherType is the link protocol of the last frame skipped with
	// ReasonNonIP (an EtherType, a BSD address family, or an SLL protocol).
	EtherType uint16
}

// Decode decodes one frame of link type lt. data is the captured bytes and
// wireLen the original length. It fills p (resetting every field but
// Timestamp) and returns ReasonOK, or the reason the frame has no IP packet
// jj can use. It never panics and never reads outside data.
func (d *Decoder) Decode(lt capture.LinkType, data []byte, wireLen uint32, p *Packet) Reason {
	ts := p.Timestamp
	*p = Packet{Timestamp: ts}
	var off int   // start of the network layer in data
	var proto int // EtherType of the network layer; 4 or 6 for raw IP by nibble
	switch lt {
	case capture.LinkEthernet:
		if len(data) < 14 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerETH)
		proto, off = int(binary.BigEndian.Uint16(data[12:])), 14
	case capture.LinkSLL:
		if len(data) < 16 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerSLL)
		proto, off = int(binary.BigEndian.Uint16(data[14:])), 16
	case capture.LinkSLL2:
		if len(data) < 20 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerSLL2)
		proto, off = int(binary.BigEndian.Uint16(data[0:])), 20
	case capture.LinkNull, capture.LinkLoop:
		if len(data) < 4 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerNULL)
		// LINKTYPE_NULL stores the family in the capturing host's byte
		// order, LOOP in network order. Families fit in one byte, so the
		// order is whichever reading is small.
		fam := binary.BigEndian.Uint32(data)
		if lt == capture.LinkNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(data)
		}
		off = 4
		switch fam {
		case 2: // AF_INET everywhere
			proto = etherIPv4
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			proto = etherIPv6
		default:
			d.EtherType = uint16(fam)
			return ReasonNonIP
		}
	case capture.LinkRaw12, capture.LinkRaw14, capture.LinkRaw, capture.LinkIPv4, capture.LinkIPv6:
		// The version nibble decides, whatever the link type says.
		if len(data) < 1 {
			return ReasonIPShort
		}
		switch data[0] >> 4 {
		case 4:
			proto = etherIPv4
		case 6:
			proto = etherIPv6
		default:
			return ReasonIPVersion
		}
	default:
		return ReasonLinkType
	}

	// VLAN tags, any depth (802.1Q, 802.1ad, the old 0x9100 QinQ).
	for proto == etherVLAN || proto == etherQinQ || proto == etherQinQ91 {
		if len(data) < off+4 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerVLAN)
		proto = int(binary.BigEndian.Uint16(data[off+2:]))
		off += 4
	}

	// Bytes before the IP header never count (flow-meta.md §2), so the
	// wire-length fallback subtracts them.
	linkLen := uint32(off)
	wire := uint32(0)
	if wireLen > linkLen {
		wire = wireLen - linkLen
	}
	switch proto {
	case etherIPv4:
		return d.ipv4(data[off:], wire, p)
	case etherIPv6:
		return d.ipv6(data[off:], wire, p)
	}
	d.EtherType = uint16(proto)
	return ReasonNonIP
}

// ipv4 decodes an IPv4 header at the start of b. wire is the on-wire length
// from the IP header on, the fallback when the total length is unusable.
func (d *Decoder) ipv4(b []byte, wire uint32, p *Packet) Reason {
	if len(b) < 20 {
		return ReasonIPShort
	}
	if b[0]>>4 != 4 {
		return ReasonIPVersion
	}
	// An IHL below 5 is malformed; like a TCP data offset below 5 it
	// counts as 5, so the addresses and the rest still decode.
	hl := uint32(b[0]&0x0f) * 4
	if hl < 20 {
		hl = 20
	}
	p.Hdrs.Push(LayerIP)
	copy(p.Src[:4], b[12:16])
	copy(p.Dst[:4], b[16:20])
	p.Proto = b[9]
	total := uint32(binary.BigEndian.Uint16(b[2:]))
	if total == 0 || total < hl {
		// TSO captures write 0; a length below the header is a lie.
		total = wire
	}
	p.Length = total
	ipPayload := sub(total, hl)

	fragField := binary.BigEndian.Uint16(b[6:])
	if fragOff := fragField & 0x1fff; fragOff != 0 {
		p.Flags |= FlagFragment | FlagLaterFragment
		p.FragID = uint32(binary.BigEndian.Uint16(b[4:]))
		p.Payload = ipPayload
		return ReasonOK
	}
	if fragField&0x2000 != 0 {
		p.Flags |= FlagFragment
		p.FragID = uint32(binary.BigEndian.Uint16(b[4:]))
	}
	var seg []byte
	if uint32(len(b)) > hl {
		seg = b[hl:]
	}
	transport(seg, ipPayload, p)
	return ReasonOK
}

// IPv6 extension headers walked to find the transport (flow-meta.md §1).
const (
	nhHopByHop = 0
	nhRouting  = 43
	nhFragment = 44
	nhAH       = 51
	nhDestOpts = 60
)

// ipv6 decodes an IPv6 header and its extension headers at the start of b.
func (d *Decoder) ipv6(b []byte, wire uint32, p *Packet) Reason {
	if len(b) < 40 {
		return ReasonIPShort
	}
	if b[0]>>4 != 6 {
		return ReasonIPVersion
	}
	p.V6 = true
	p.Hdrs.Push(LayerIP6)
	copy(p.Src[:], b[8:24])
	copy(p.Dst[:], b[24:40])
	total := uint32(binary.BigEndian.Uint16(b[4:])) + 40
	if total == 40 {
		// Payload length 0: segmentation offload or a jumbogram.
		total = wire
	}
	p.Length = total

	// An extension header must lie within both the captured bytes and the
	// IP packet; otherwise the chain is cut and its next-header value is
	// the flow's protocol.
	limit := uint32(len(b))
	if total < limit {
		limit = total
	}
	nh := b[6]
	off := uint32(40)
	for {
		var hlen uint32
		switch nh {
		case nhHopByHop, nhRouting, nhDestOpts:
			if off+2 > limit {
				return cutChain(nh, total, off, p)
			}
			hlen = (uint32(b[off+1]) + 1) * 8
		case nhAH:
			if off+2 > limit {
				return cutChain(nh, total, off, p)
			}
			hlen = (uint32(b[off+1]) + 2) * 4
		case nhFragment:
			if off+8 > limit {
				return cutChain(nh, total, off, p)
			}
			fragField := binary.BigEndian.Uint16(b[off+2:])
			next := b[off]
			id := binary.BigEndian.Uint32(b[off+4:])
			off += 8
			if fragField>>3 != 0 || fragField&1 != 0 {
				p.Flags |= FlagFragment
				p.FragID = id
			}
			if fragField>>3 != 0 {
				p.Flags |= FlagLaterFragment
				p.Proto = next
				p.Payload = sub(total, off)
				return ReasonOK
			}
			nh = next
			continue
		default:
			p.Proto = nh
			var seg []byte
			if uint32(len(b)) > off {
				seg = b[off:]
			}
			transport(seg, sub(total, off), p)
			return ReasonOK
		}
		if off+hlen > limit {
			return cutChain(nh, total, off, p)
		}
		nh = b[off]
		off += hlen
	}
}

// cutChain records an IPv6 extension chain that ends before its transport.
func cutChain(nh uint8, total, off uint32, p *Packet) Reason {
	p.Flags |= FlagChainCut
	p.Proto = nh
	p.Payload = sub(total, off)
	return ReasonOK
}

// transport decodes the transport header at the start of seg (the captured
// bytes after the IP headers). ipPayload is the IP payload length from the
// header lengths; the fixed header must lie within both.
func transport(seg []byte, ipPayload uint32, p *Packet) {
	avail := uint32(len(seg))
	if ipPayload < avail {
		avail = ipPayload
	}
	switch p.Proto {
	case 6:
		p.Hdrs.Push(LayerTCP)
		if avail < 20 {
			// The data offset is unknown: count the minimal header.
			p.Flags |= FlagTransportCut
			p.Payload = sub(ipPayload, 20)
			return
		}
		p.Flags |= FlagTCP | FlagPorts
		p.SrcPort = binary.BigEndian.Uint16(seg[0:])
		p.DstPort = binary.BigEndian.Uint16(seg[2:])
		p.Seq = binary.BigEndian.Uint32(seg[4:])
		p.Ack = binary.BigEndian.Uint32(seg[8:])
		doff := seg[12] >> 4
		if doff < 5 {
			doff = 5
		}
		p.TCPHdrLen = doff * 4
		p.TCPFlags = TCPFlags(seg[13])
		p.Window = binary.BigEndian.Uint16(seg[14:])
		p.Payload = sub(ipPayload, uint32(p.TCPHdrLen))
	case 17:
		p.Hdrs.Push(LayerUDP)
		if avail < 8 {
			p.Flags |= FlagTransportCut
			p.Payload = sub(ipPayload, 8)
			return
		}
		p.Flags |= FlagPorts
		p.SrcPort = binary.BigEndian.Uint16(seg[0:])
		p.DstPort = binary.BigEndian.Uint16(seg[2:])
		ulen := uint32(binary.BigEndian.Uint16(seg[4:]))
		if ulen < 8 || ulen > ipPayload {
			// A first fragment, or a lying length.
			ulen = ipPayload
		}
		p.Payload = sub(ulen, 8)
	case 132:
		p.Hdrs.Push(LayerSCTP)
		p.Payload = ipPayload
		if avail < 12 {
			p.Flags |= FlagTransportCut
			return
		}
		p.Flags |= FlagPorts
		p.SrcPort = binary.BigEndian.Uint16(seg[0:])
		p.DstPort = binary.BigEndian.Uint16(seg[2:])
	case 1:
		p.Hdrs.Push(LayerICMP)
		p.Payload = sub(ipPayload, 8)
	case 58:
		p.Hdrs.Push(LayerICMP6)
		p.Payload = sub(ipPayload, 8)
	default:
		p.Payload = ipPayload
		switch p.Proto {
		case 47:
			p.Hdrs.Push(LayerGRE)
		case 50:
			p.Hdrs.Push(LayerESP)
		case 51:
			p.Hdrs.Push(LayerAH)
		case 2:
			p.Hdrs.Push(LayerIGMP)
		default:
			p.Hdrs.Push(LayerProto)
			p.Hdrs.Proto = p.Proto
		}
	}
}

// sub returns a − b, or 0 when b > a: lengths are never negative.
func sub(a, b uint32) uint32 {
	if b > a {
		return 0
	}
	return a - b
}
