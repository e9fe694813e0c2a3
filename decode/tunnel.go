package decode

import "encoding/binary"

// UDP ports of the tunnels jj opens (IANA registry).
const (
	portVXLAN     = 4789 // RFC 7348, destination port
	portGeneve    = 6081 // RFC 8926, destination port
	portGTPU      = 2152 // 3GPP TS 29.281, either port
	portTeredo    = 3544 // RFC 4380, either port (server side)
	portMPLSInUDP = 6635 // RFC 7510, destination port
)

// tunnelPort reports whether a UDP packet's ports name a tunnel.
func tunnelPort(p *Packet) bool {
	switch p.DstPort {
	case portVXLAN, portGeneve, portGTPU, portTeredo, portMPLSInUDP:
		return true
	}
	return p.SrcPort == portGTPU || p.SrcPort == portTeredo
}

// decap opens the tunnel whose header starts at data[l4:], inside the IP
// packet at data[ipOff:] that p describes. When the content is an IP
// packet it can read, p ends up describing the innermost one; otherwise p
// is left as it was, on the outer packet.
func (d *Decoder) decap(data []byte, ipOff, l4 int, wireLen uint32, p *Packet, depth int) {
	// The tunnel's content lies within the outer IP packet: Ethernet
	// padding and trailers after it are not part of it.
	if uint64(len(data)) > uint64(ipOff)+uint64(p.Length) {
		data = data[:ipOff+int(p.Length)]
	}
	if l4 > len(data) {
		return
	}
	saved := *p
	off, proto := l4, -1
	switch p.Proto {
	case 4: // IPv4 in IP, RFC 2003
		p.Hdrs.pop(LayerProto)
		proto = etherIPv4
	case 41: // IPv6 in IP, RFC 4213 / RFC 2473
		p.Hdrs.pop(LayerProto)
		proto = etherIPv6
	case 137: // MPLS in IP, RFC 4023
		p.Hdrs.pop(LayerProto)
		proto = etherMPLS
	case 47:
		off, proto = gre(data, l4, p)
	case 17:
		off, proto = udpTunnel(data, l4+8, p)
	}
	if proto < 0 || d.network(data, off, proto, wireLen, p, depth+1) != ReasonOK {
		*p = saved
	}
}

// gre decodes a GRE header at data[off:] and returns the offset and
// protocol of its content, or a negative protocol.
func gre(data []byte, off int, p *Packet) (int, int) {
	b := data[off:]
	if len(b) < 4 {
		return 0, -1
	}
	flags := binary.BigEndian.Uint16(b)
	proto := be16(b[2:])
	n := 4
	switch flags & 7 {
	case 0:
		// RFC 2784 with RFC 2890 key and sequence number; checksum and
		// offset words are there when either C or R (RFC 1701) is set.
		if flags&0xc000 != 0 {
			n += 4
		}
		if flags&0x2000 != 0 {
			n += 4
		}
		if flags&0x1000 != 0 {
			n += 4
		}
		if flags&0x4000 != 0 {
			// RFC 1701 source route entries, up to an empty one. Each
			// takes at least 4 bytes, so the walk ends.
			for {
				if len(b) < n+4 {
					return 0, -1
				}
				family, size := binary.BigEndian.Uint16(b[n:]), int(b[n+3])
				n += 4 + size
				if family == 0 && size == 0 {
					break
				}
			}
		}
	case 1:
		// Enhanced GRE of PPTP (RFC 2637): the key (payload length, call
		// ID) is always there, then sequence and acknowledgement numbers.
		if proto != etherPPP {
			return 0, -1
		}
		n += 4
		if flags&0x1000 != 0 {
			n += 4
		}
		if flags&0x0080 != 0 {
			n += 4
		}
	default:
		return 0, -1
	}
	if len(b) < n {
		return 0, -1
	}
	switch proto {
	case 0x88be:
		// ERSPAN type II has an 8-byte header and a GRE sequence number;
		// type I has neither (draft-foschiano-erspan).
		if flags&0x1000 == 0 {
			return off + n, etherTEB
		}
		if len(b) < n+8 || b[n]>>4 != 1 {
			return 0, -1
		}
		p.Hdrs.Push(LayerERSPAN)
		return off + n + 8, etherTEB
	case 0x22eb:
		// ERSPAN type III: 12 bytes, 8 more with the platform-specific
		// subheader (O bit); its frame type says Ethernet (0) or IP (2).
		if len(b) < n+12 || b[n]>>4 != 2 {
			return 0, -1
		}
		ft, sub := b[n+10]>>2&0x1f, b[n+11]&1
		n += 12
		if sub != 0 {
			n += 8
		}
		p.Hdrs.Push(LayerERSPAN)
		switch ft {
		case 0:
			return off + n, etherTEB
		case 2:
			return ipByNibble(data, off+n)
		}
		return 0, -1
	case etherCMD:
		// Cisco MetaData in GRE puts its EtherType first, then version,
		// length, option and SGT.
		if len(b) < n+8 {
			return 0, -1
		}
		p.Hdrs.Push(LayerCMD)
		return off + n + 8, be16(b[n:])
	}
	return off + n, proto
}

// udpTunnel decodes the tunnel header at data[off:] of a UDP packet whose
// ports tunnelPort accepted, and returns the offset and protocol of its
// content, or a negative protocol.
func udpTunnel(data []byte, off int, p *Packet) (int, int) {
	if off > len(data) {
		return 0, -1
	}
	b := data[off:]
	switch {
	case p.DstPort == portVXLAN:
		// Flags (I set: the VNI is valid), reserved, VNI, reserved.
		if len(b) < 8 || b[0]&0x08 == 0 {
			return 0, -1
		}
		p.Hdrs.Push(LayerVXLAN)
		return off + 8, etherTEB
	case p.DstPort == portGeneve:
		// Version 0, options length in 4-byte words, protocol type.
		if len(b) < 8 || b[0]>>6 != 0 {
			return 0, -1
		}
		p.Hdrs.Push(LayerGENEVE)
		return off + 8 + int(b[0]&0x3f)*4, be16(b[2:])
	case p.DstPort == portMPLSInUDP:
		return off, etherMPLS
	case p.DstPort == portGTPU || p.SrcPort == portGTPU:
		return gtp(data, off, p)
	case p.DstPort == portTeredo || p.SrcPort == portTeredo:
		return teredo(data, off, p)
	}
	return 0, -1
}

// gtp decodes a GTP-U header (3GPP TS 29.281) at data[off:]. Only a G-PDU
// (message type 255) of GTPv1 (not GTP') carries a user packet.
func gtp(data []byte, off int, p *Packet) (int, int) {
	b := data[off:]
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != 0xff {
		return 0, -1
	}
	n := 8
	if b[0]&0x07 != 0 {
		// Any of E, S, PN adds sequence number, N-PDU number and the
		// next extension header type.
		if len(b) < 12 {
			return 0, -1
		}
		n = 12
		if b[0]&0x04 != 0 {
			// Extension headers: a length in 4-byte words (at least 1),
			// the content, and the next type in the last byte.
			for next := b[11]; next != 0; {
				if len(b) < n+1 {
					return 0, -1
				}
				size := int(b[n]) * 4
				if size == 0 || len(b) < n+size {
					return 0, -1
				}
				next = b[n+size-1]
				n += size
			}
		}
	}
	p.Hdrs.Push(LayerGTP)
	return ipByNibble(data, off+n)
}

// teredo finds the IPv6 packet of a Teredo datagram (RFC 4380 §5.1.1) at
// data[off:], after the optional authentication and origin indicators. The
// IPv6 header must fit the UDP payload, so that other traffic on port 3544
// is rarely taken for Teredo.
func teredo(data []byte, off int, p *Packet) (int, int) {
	b := data[off:]
	n := 0
	if len(b) >= 4 && b[0] == 0 && b[1] == 1 {
		// Authentication: client ID and value lengths, the ID, the value,
		// an 8-byte nonce and a confirmation byte.
		n = 4 + int(b[2]) + int(b[3]) + 8 + 1
	}
	if len(b) >= n+2 && b[n] == 0 && b[n+1] == 0 {
		n += 8 // origin: port and address
	}
	if len(b) < n+40 || b[n]>>4 != 6 {
		return 0, -1
	}
	if uint32(n)+40+uint32(binary.BigEndian.Uint16(b[n+4:])) > p.Payload {
		return 0, -1
	}
	p.Hdrs.Push(LayerTEREDO)
	return off + n, etherIPv6
}

// ipByNibble returns data[off:] as IPv4 or IPv6 by its version nibble, for
// tunnels that do not say which.
func ipByNibble(data []byte, off int) (int, int) {
	if off >= len(data) {
		return 0, -1
	}
	switch data[off] >> 4 {
	case 4:
		return off, etherIPv4
	case 6:
		return off, etherIPv6
	}
	return 0, -1
}
