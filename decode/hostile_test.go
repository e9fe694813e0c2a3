package decode

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/internal/testpkt"
)

// hostileCase is a frame whose length fields lie. The decoder must neither
// allocate, panic, loop nor return a length below zero (which, in uint32,
// would show as a number near 4 G): the expected values come from the
// contract's fallbacks (flow-meta.md §1-§2), worked out in each comment.
type hostileCase struct {
	name    string
	data    []byte
	wire    uint32
	reason  Reason
	hdrs    string
	length  uint32
	payload uint32
	flags   Flags
}

func frame(f testpkt.Frame) ([]byte, uint32) {
	data, wire := f.Build()
	return data, uint32(wire)
}

func hostileCases() []hostileCase {
	var cs []hostileCase
	add := func(name string, data []byte, wire uint32, reason Reason, hdrs string, length, payload uint32, flags Flags) {
		cs = append(cs, hostileCase{name, data, wire, reason, hdrs, length, payload, flags})
	}

	// IHL 15 (60 bytes) in a 20-byte packet whose total length says 20:
	// below the header, so the wire length (34 − 14) counts; the IP
	// payload is 20 − 60 → 0, and TCP is cut.
	d, w := frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, IHL: 15, TotalLen: 20, Snap: 34, Wire: 34})
	add("ipv4 ihl 15 in 20 bytes", d, w, ReasonOK, "ETH-IP-TCP", 20, 0, FlagTransportCut)

	// IHL 2 counts as 5: 20 + 8 + 4.
	d, w = frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17, IHL: 2, Payload: 4})
	add("ipv4 ihl below 5", d, w, ReasonOK, "ETH-IP-UDP", 32, 4, FlagPorts)

	// 100 hop-by-hop headers, each naming another, the last one too: the
	// chain runs to the end of the packet (40 + 800) and is cut there,
	// protocol 0, payload 0.
	var ext []testpkt.ExtHdr
	for range 100 {
		ext = append(ext, testpkt.ExtHdr{Type: 0, Len: 8})
	}
	d, w = frame(testpkt.Frame{Src: v6a, Dst: v6b, Proto: 0, ExtHdrs: ext})
	add("ipv6 extension chain to the end", d, w, ReasonOK, "ETH-IP6", 840, 0, FlagChainCut)

	// A destination options header claiming 2048 bytes in a 56-byte
	// packet: cut at 40, payload 16.
	d, w = frame(testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, ExtHdrs: []testpkt.ExtHdr{{Type: 60, Len: 8}}})
	d[14+40+1] = 255
	add("ipv6 extension header past the end", d, w, ReasonOK, "ETH-IP6", 56, 16, FlagChainCut)

	// Data offset 15 (60 bytes) in a 40-byte packet: the header is read,
	// the payload 20 − 60 is 0.
	d, w = frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, DataOff: 15, TotalLen: 40})
	add("tcp data offset 15", d, w, ReasonOK, "ETH-IP-TCP", 40, 0, FlagTCP|FlagPorts)

	// A 4 GB wire length and a total length of 0: bytes are the wire
	// length minus the Ethernet header, payload that minus 40.
	d, _ = frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, TotalLen: -1})
	add("ipv4 4 GB wire length", d, 0xffffffff, ReasonOK, "ETH-IP-TCP", 0xffffffff-14, 0xffffffff-14-40, FlagTCP|FlagPorts)

	// The same for IPv6 (payload length 0, a jumbogram without its
	// option): 4 G − 14, UDP payload that minus 48.
	d, _ = frame(testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, TotalLen: -1, UDPLen: -1})
	add("ipv6 4 GB wire length", d, 0xffffffff, ReasonOK, "ETH-IP6-UDP", 0xffffffff-14, 0xffffffff-14-48, FlagPorts)

	// A 4 GB wire length inside VXLAN, inner length 0: the wire length
	// minus the 64 bytes before the inner IP header.
	d, _ = frame(in(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, TotalLen: -1}, ip(o4a, o4b), udp(1, 4789), kind("vxlan"), kind("eth")))
	add("vxlan 4 GB wire length", d, 0xffffffff, ReasonOK, "ETH-IP-UDP-VXLAN-ETH-IP-TCP", 0xffffffff-64, 0xffffffff-64-40, FlagTCP|FlagPorts)

	// Total length 65535 with 40 bytes captured: lengths from the header.
	d, w = frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, TotalLen: 65535})
	add("ipv4 total length 65535", d, w, ReasonOK, "ETH-IP-TCP", 65535, 65535-40, FlagTCP|FlagPorts)

	// UDP length 65535 above the IP payload (8 + 10): payload 10.
	d, w = frame(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17, UDPLen: 65535, Payload: 10})
	add("udp length above ip payload", d, w, ReasonOK, "ETH-IP-UDP", 38, 10, FlagPorts)

	// VLAN tags to the end of the frame.
	vl := make([]byte, 12, 64)
	for len(vl) < 64 {
		vl = append(vl, 0x81, 0x00)
	}
	add("vlan tags to the end", vl, 64, ReasonLinkShort, "", 0, 0, 0)

	// MPLS labels without a bottom of stack to the end of the frame.
	mp := binary.BigEndian.AppendUint16(make([]byte, 12), etherMPLS)
	for len(mp) < 64 {
		mp = append(mp, 0, 1, 0, 64)
	}
	add("mpls labels to the end", mp, 64, ReasonLinkShort, "", 0, 0, 0)

	// GRE with the routing bit and source route entries of size 0 and
	// family 1 up to the end: the tunnel is not opened, the outer packet
	// counts (20 + 4 + 4 + 58).
	d, w = frame(in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x4000}))
	for i := 14 + 20 + 8; i+4 <= len(d); i += 4 {
		d[i], d[i+1], d[i+2], d[i+3] = 0, 1, 0, 0
	}
	add("gre endless source route", d, w, ReasonOK, "ETH-IP-GRE", 86, 66, 0)

	// A GTP-U extension header of length 0 would never advance: the
	// tunnel is not opened (20 + 8 + 20 + 84).
	d, w = frame(in(icmp4, ip(o4a, o4b), udp(2152, 2152), testpkt.Tunnel{Kind: "gtp", Opt: 8}))
	d[14+20+8+12] = 0
	add("gtp extension length 0", d, w, ReasonOK, "ETH-IP-UDP", 132, 104, FlagPorts)

	// Teredo authentication lengths of 255 and 255 run past the end.
	d, w = frame(in(icmp6, ip(o4a, o4b), udp(3544, 40000), testpkt.Tunnel{Kind: "teredo", Opt: 1}))
	d[14+20+8+2], d[14+20+8+3] = 255, 255
	add("teredo lengths past the end", d, w, ReasonOK, "ETH-IP-UDP", 105, 77, FlagPorts)

	// Geneve options of 252 bytes run past the end: outer packet.
	d, w = frame(in(udp4, ip(o4a, o4b), udp(1, 6081), kind("geneve")))
	d[14+20+8] = 0x3f
	add("geneve options past the end", d, w, ReasonOK, "ETH-IP-UDP", 94, 66, FlagPorts)

	// An inner IPv4 header that claims 65535 bytes inside a 78-byte outer
	// packet: lengths come from the headers, as for any packet (the UDP
	// length, 38, is within the IP payload: payload 30).
	d, w = frame(in(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17, SrcPort: 1, DstPort: 2, Payload: 30, TotalLen: 65535}, ip(o4a, o4b)))
	add("inner length above outer", d, w, ReasonOK, "ETH-IP-IP-UDP", 65535, 30, FlagPorts)

	// Ethernet in Ethernet (EtherType 0x6558) to the end of the frame.
	te := make([]byte, 12, 14*8)
	for len(te)+14 <= 14*8 {
		te = append(te, 0x65, 0x58)
		te = append(te, make([]byte, 12)...)
	}
	add("ethernet in ethernet to the end", te, uint32(len(te)), ReasonLinkShort, "", 0, 0, 0)
	return cs
}

func TestDecodeHostile(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			d := Decoder{Decap: true}
			var p Packet
			start := time.Now()
			r := d.Decode(capture.LinkEthernet, c.data, c.wire, &p)
			if el := time.Since(start); el > time.Second {
				t.Errorf("Decode took %v", el)
			}
			if r != c.reason {
				t.Fatalf("reason = %v (%s), want %v", r, p.Hdrs, c.reason)
			}
			if allocs := testing.AllocsPerRun(10, func() { d.Decode(capture.LinkEthernet, c.data, c.wire, &p) }); allocs != 0 {
				t.Errorf("%v allocations", allocs)
			}
			if r != ReasonOK {
				return
			}
			if got := p.Hdrs.String(); got != c.hdrs {
				t.Errorf("hdrs = %q, want %q", got, c.hdrs)
			}
			if p.Length != c.length || p.Payload != c.payload {
				t.Errorf("length, payload = %d %d, want %d %d", p.Length, p.Payload, c.length, c.payload)
			}
			if p.Flags != c.flags {
				t.Errorf("flags = %06b, want %06b", p.Flags, c.flags)
			}
		})
	}
}
