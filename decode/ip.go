package decode

import "encoding/binary"

// ipv4 decodes an IPv4 header at the start of b. wire is the on-wire length
// from the IP header on, the fallback when the total length is unusable. It
// returns the offset of the transport header in b, which may lie beyond b.
func (d *Decoder) ipv4(b []byte, wire uint32, p *Packet) (Reason, uint32) {
	if len(b) < 20 {
		return ReasonIPShort, 0
	}
	if b[0]>>4 != 4 {
		return ReasonIPVersion, 0
	}
	// An IHL below 5 is malformed; like a TCP data offset below 5 it
	// counts as 5, so the addresses and the rest still decode.
	hl := uint32(b[0]&0x0f) * 4
	if hl < 20 {
		hl = 20
	}
	p.Hdrs.Push(LayerIP)
	// Array assignments: a copy's memmove tests whether the two overlap.
	*(*[4]byte)(p.Src[:4]) = [4]byte(b[12:16])
	*(*[4]byte)(p.Dst[:4]) = [4]byte(b[16:20])
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
		return ReasonOK, hl
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
	return ReasonOK, hl
}

// IPv6 extension headers walked to find the transport (flow-meta.md §1).
const (
	nhHopByHop = 0
	nhRouting  = 43
	nhFragment = 44
	nhAH       = 51
	nhDestOpts = 60
)

// ipv6 decodes an IPv6 header and its extension headers at the start of b,
// and returns the offset of the transport header in b.
func (d *Decoder) ipv6(b []byte, wire uint32, p *Packet) (Reason, uint32) {
	if len(b) < 40 {
		return ReasonIPShort, 0
	}
	if b[0]>>4 != 6 {
		return ReasonIPVersion, 0
	}
	p.V6 = true
	p.Hdrs.Push(LayerIP6)
	p.Src = [16]byte(b[8:24])
	p.Dst = [16]byte(b[24:40])
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
				return cutChain(nh, total, off, p), off
			}
			hlen = (uint32(b[off+1]) + 1) * 8
		case nhAH:
			if off+2 > limit {
				return cutChain(nh, total, off, p), off
			}
			hlen = (uint32(b[off+1]) + 2) * 4
		case nhFragment:
			if off+8 > limit {
				return cutChain(nh, total, off, p), off
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
				return ReasonOK, off
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
			return ReasonOK, off
		}
		if off+hlen > limit {
			return cutChain(nh, total, off, p), off
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
		// As an array, the header's fields are read with no test of
		// their bounds each (avail ≤ len(seg)).
		h := (*[20]byte)(seg)
		p.Flags |= FlagTCP | FlagPorts
		p.SrcPort = binary.BigEndian.Uint16(h[0:])
		p.DstPort = binary.BigEndian.Uint16(h[2:])
		p.Seq = binary.BigEndian.Uint32(h[4:])
		p.Ack = binary.BigEndian.Uint32(h[8:])
		doff := h[12] >> 4
		if doff < 5 {
			doff = 5
		}
		p.TCPHdrLen = doff * 4
		p.TCPFlags = TCPFlags(h[13])
		p.Window = binary.BigEndian.Uint16(h[14:])
		p.Payload = sub(ipPayload, uint32(p.TCPHdrLen))
	case 17:
		p.Hdrs.Push(LayerUDP)
		if avail < 8 {
			p.Flags |= FlagTransportCut
			p.Payload = sub(ipPayload, 8)
			return
		}
		h := (*[8]byte)(seg)
		p.Flags |= FlagPorts
		p.SrcPort = binary.BigEndian.Uint16(h[0:])
		p.DstPort = binary.BigEndian.Uint16(h[2:])
		ulen := uint32(binary.BigEndian.Uint16(h[4:]))
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
