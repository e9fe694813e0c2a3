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

// PPP and Cisco HDLC link types.
const (
	linkPPP     = capture.LinkPPP     // PPP, RFC 1661, maybe with RFC 1662 address and control bytes
	linkPPPHDLC = capture.LinkPPPHDLC // PPP in HDLC framing, or Cisco HDLC
	linkCHDLC   = capture.LinkCHDLC   // Cisco HDLC
)

// EtherType values the decoder understands. etherPPP and etherTEB also
// stand for "a PPP header follows" and "an Ethernet header follows" where a
// tunnel or a link type says so without an EtherType.
const (
	etherIPv4      = 0x0800
	etherIPv6      = 0x86dd
	etherVLAN      = 0x8100
	etherQinQ      = 0x88a8
	etherQinQ91    = 0x9100
	etherMPLS      = 0x8847
	etherMPLSMulti = 0x8848
	etherPPPoE     = 0x8864
	etherPPP       = 0x880b
	etherTEB       = 0x6558 // transparent Ethernet bridging
	etherCMD       = 0x8909 // Cisco MetaData
)

// MaxEncap is the deepest tunnel nesting Decode follows: a packet is keyed
// on at most its MaxEncap+1-th IP header. Each level also needs at least
// 20 more bytes of header, so hostile nesting costs no more than a long
// frame.
const MaxEncap = 8

// Decoder decodes frames. Its zero value is ready to use and keys tunnelled
// packets on their outermost IP header. It keeps the link protocol of the
// last non-IP frame so the caller can say what was skipped.
type Decoder struct {
	// Decap keys tunnelled packets on their innermost IP header (see the
	// package comment); false keys them on the outermost one, whose stack
	// then ends at its transport (ETH-IP-UDP for VXLAN), as the Python
	// library does. Encapsulations below the first IP header (MPLS, PPPoE,
	// PPP) are decoded either way.
	Decap bool

	// EtherType is the link protocol of the last frame skipped with
	// ReasonNonIP, in the numbering Numbering says: an EtherType, a BSD
	// address family, an SLL protocol, a PPP protocol number or Cisco
	// HDLC's SLARP.
	EtherType uint16
	Numbering Numbering
}

// Numbering says what numbers Decoder.EtherType.
type Numbering uint8

const (
	NumEtherType Numbering = iota // an EtherType, or below 0x600 an 802.3 length
	NumFamily                     // a BSD address family (LINKTYPE_NULL, LOOP)
	NumSLL                        // a Linux cooked protocol below 0x600 (ARPHRD-specific)
	NumPPP                        // a PPP protocol number
	NumCHDLC                      // Cisco HDLC's own protocols: SLARP (0x8035, not RARP), CDP (0x2000), values below 0x600
)

// Decode decodes one frame of link type lt. data is the captured bytes and
// wireLen the original length. It fills p (resetting every field but
// Timestamp) and returns ReasonOK, or the reason the frame has no IP packet
// jj can use. It never panics, never reads outside data and allocates
// nothing.
func (d *Decoder) Decode(lt capture.LinkType, data []byte, wireLen uint32, p *Packet) Reason {
	ts := p.Timestamp
	*p = Packet{Timestamp: ts}
	var off int   // start of the network layer in data
	var proto int // EtherType of the network layer
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
		if proto < 0x600 {
			d.EtherType, d.Numbering = uint16(proto), NumSLL
			return ReasonNonIP
		}
	case capture.LinkSLL2:
		if len(data) < 20 {
			return ReasonLinkShort
		}
		p.Hdrs.Push(LayerSLL2)
		proto, off = int(binary.BigEndian.Uint16(data[0:])), 20
		if proto < 0x600 {
			d.EtherType, d.Numbering = uint16(proto), NumSLL
			return ReasonNonIP
		}
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
			d.EtherType, d.Numbering = uint16(fam), NumFamily
			return ReasonNonIP
		}
	case linkPPP, linkPPPHDLC, linkCHDLC:
		if len(data) < 2 {
			return ReasonLinkShort
		}
		// Link type 50 holds PPP (address 0xff) or, as tcpdump reads it,
		// Cisco HDLC (address 0x0f unicast, 0x8f broadcast).
		if lt == linkCHDLC || (lt == linkPPPHDLC && (data[0] == 0x0f || data[0] == 0x8f)) {
			if len(data) < 4 {
				return ReasonLinkShort
			}
			p.Hdrs.Push(LayerCHDLC)
			proto, off = int(binary.BigEndian.Uint16(data[2:])), 4
			// Cisco HDLC's protocols are EtherTypes but for its own:
			// SLARP (0x8035, RARP's EtherType), CDP (0x2000) and values
			// below 0x600, which are no 802.3 lengths here.
			if proto == 0x8035 || proto == 0x2000 || proto < 0x600 {
				d.EtherType, d.Numbering = uint16(proto), NumCHDLC
				return ReasonNonIP
			}
		} else {
			proto = etherPPP
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
	return d.network(data, off, proto, wireLen, p, 0)
}

// network walks the headers between a link layer and an IP header, from
// data[off:] whose protocol is proto: VLAN tags, MPLS labels, PPPoE, PPP,
// Cisco MetaData and (inside tunnels) Ethernet, then decodes the IP packet.
// Every step consumes at least one byte, so the loop ends.
func (d *Decoder) network(data []byte, off, proto int, wireLen uint32, p *Packet, depth int) Reason {
	for {
		switch proto {
		case etherIPv4, etherIPv6:
			return d.ip(data, off, proto == etherIPv6, wireLen, p, depth)
		case etherVLAN, etherQinQ, etherQinQ91:
			// VLAN tags, any depth (802.1Q, 802.1ad, the old 0x9100 QinQ).
			if len(data) < off+4 {
				return ReasonLinkShort
			}
			p.Hdrs.Push(LayerVLAN)
			proto = int(binary.BigEndian.Uint16(data[off+2:]))
			off += 4
		case etherMPLS, etherMPLSMulti:
			// Labels up to the bottom-of-stack bit. MPLS does not say what
			// it carries: like tcpdump and akvorado, guess IP from the
			// version nibble (RFC 4385 pseudowires start with 0).
			for {
				if len(data) < off+4 {
					return ReasonLinkShort
				}
				p.Hdrs.Push(LayerMPLS)
				bottom := data[off+2]&1 != 0
				off += 4
				if bottom {
					break
				}
			}
			if len(data) <= off {
				return ReasonIPShort
			}
			switch data[off] >> 4 {
			case 4:
				proto = etherIPv4
			case 6:
				proto = etherIPv6
			default:
				d.EtherType, d.Numbering = etherMPLS, NumEtherType
				return ReasonNonIP
			}
		case etherPPPoE:
			// RFC 2516 session header: version/type, code, session ID and
			// length, then a PPP protocol field.
			if len(data) < off+6 {
				return ReasonLinkShort
			}
			p.Hdrs.Push(LayerPPPoE)
			proto, off = etherPPP, off+6
		case etherPPP:
			// RFC 1661 PPP: the RFC 1662 address and control bytes
			// (0xff 0x03) when present, then a protocol field of two
			// bytes, or one when compressed (an odd first byte).
			if len(data) < off+2 {
				return ReasonLinkShort
			}
			if data[off] == 0xff && data[off+1] == 0x03 {
				off += 2
			}
			if len(data) < off+1 {
				return ReasonLinkShort
			}
			pp := int(data[off])
			if pp&1 == 0 {
				if len(data) < off+2 {
					return ReasonLinkShort
				}
				pp = int(binary.BigEndian.Uint16(data[off:]))
				off++
			}
			off++
			p.Hdrs.Push(LayerPPP)
			switch pp {
			case 0x0021:
				proto = etherIPv4
			case 0x0057:
				proto = etherIPv6
			case 0x0281:
				proto = etherMPLS
			case 0x0283:
				proto = etherMPLSMulti
			default:
				d.EtherType, d.Numbering = uint16(pp), NumPPP
				return ReasonNonIP
			}
		case etherTEB:
			// An Ethernet frame inside a tunnel.
			if len(data) < off+14 {
				return ReasonLinkShort
			}
			p.Hdrs.Push(LayerETH)
			proto, off = int(binary.BigEndian.Uint16(data[off+12:])), off+14
		case etherCMD:
			// Cisco MetaData on Ethernet: version, length, option, SGT,
			// then the EtherType.
			if len(data) < off+8 {
				return ReasonLinkShort
			}
			p.Hdrs.Push(LayerCMD)
			proto, off = int(binary.BigEndian.Uint16(data[off+6:])), off+8
		default:
			d.EtherType, d.Numbering = uint16(proto), NumEtherType
			return ReasonNonIP
		}
	}
}

// ip decodes the IP packet at data[off:] and, with Decap, the tunnel it
// carries. Bytes before the IP header never count (flow-meta.md §2), so
// the wire-length fallback subtracts all of them, outer tunnels included.
func (d *Decoder) ip(data []byte, off int, v6 bool, wireLen uint32, p *Packet, depth int) Reason {
	if off >= len(data) {
		return ReasonIPShort
	}
	if depth > 0 {
		// Forget the outer IP header's fields; keep the stack.
		*p = Packet{Timestamp: p.Timestamp, Hdrs: p.Hdrs}
	}
	wire := sub(wireLen, uint32(off))
	var r Reason
	var l4 uint32 // transport header offset from off
	if v6 {
		r, l4 = d.ipv6(data[off:], wire, p)
	} else {
		r, l4 = d.ipv4(data[off:], wire, p)
	}
	if r != ReasonOK || !d.Decap || depth >= MaxEncap ||
		p.Flags&(FlagFragment|FlagTransportCut|FlagChainCut) != 0 {
		// A fragment's tunnel content is incomplete: the packet stays in
		// the flow of the header that was fragmented, like its later
		// fragments.
		return r
	}
	switch p.Proto {
	case 4, 41, 47, 137:
	case 17:
		if !tunnelPort(p) {
			return r
		}
	default:
		return r
	}
	d.decap(data, off, off+int(l4), wireLen, p, depth)
	return ReasonOK
}

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
