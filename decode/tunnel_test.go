package decode

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/internal/testpkt"
)

var (
	o4a = testpkt.Addr("192.0.2.1")
	o4b = testpkt.Addr("192.0.2.2")
	o6a = testpkt.Addr("2001:db8:ffff::1")
	o6b = testpkt.Addr("2001:db8:ffff::2")
)

// Inner packets of the tunnel cases, with their IP length and payload.
var (
	// 20 + 20 + 100: length 140, payload 100.
	tcp4 = testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 40000, DstPort: 443, Payload: 100}
	// 20 + 8 + 30: length 58, payload 30.
	udp4 = testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17, SrcPort: 5353, DstPort: 53, Payload: 30}
	// 20 + 8 + 56: length 84, payload 56.
	icmp4 = testpkt.Frame{Src: v4a, Dst: v4b, Proto: 1, Payload: 56}
	// 40 + 20 + 100: length 160, payload 100.
	tcp6 = testpkt.Frame{Src: v6a, Dst: v6b, Proto: 6, SrcPort: 40000, DstPort: 443, Payload: 100}
	// 40 + 8 + 30: length 78, payload 30.
	udp6 = testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, SrcPort: 5353, DstPort: 53, Payload: 30}
	// 40 + 8 + 16: length 64, payload 16.
	icmp6 = testpkt.Frame{Src: v6a, Dst: v6b, Proto: 58, Payload: 16}
)

// in returns the inner frame f carried by the tunnel headers ts.
func in(f testpkt.Frame, ts ...testpkt.Tunnel) testpkt.Frame {
	f.Tunnel = ts
	return f
}

func ip(a, b netip.Addr) testpkt.Tunnel { return testpkt.Tunnel{Kind: "ip", Src: a, Dst: b} }
func udp(sp, dp uint16) testpkt.Tunnel {
	return testpkt.Tunnel{Kind: "udp", SrcPort: sp, DstPort: dp}
}
func kind(k string) testpkt.Tunnel { return testpkt.Tunnel{Kind: k} }

type tunnelWant struct {
	reason          Reason
	hdrs            string
	src, dst        netip.Addr
	proto           uint8
	sport, dport    uint16
	length, payload uint32
	flags           Flags
	etherType       uint16 // with ReasonNonIP
}

func TestDecodeTunnels(t *testing.T) {
	// Inner packets keep their addresses (v4a, v4b or v6a, v6b); outer
	// ones are o4a, o4b or o6a, o6b.
	tcpIn := func(h string) tunnelWant {
		return tunnelWant{hdrs: h, src: v4a, dst: v4b, proto: 6, sport: 40000, dport: 443, length: 140, payload: 100, flags: FlagTCP | FlagPorts}
	}
	udpIn := func(h string) tunnelWant {
		return tunnelWant{hdrs: h, src: v4a, dst: v4b, proto: 17, sport: 5353, dport: 53, length: 58, payload: 30, flags: FlagPorts}
	}
	icmpIn := func(h string) tunnelWant {
		return tunnelWant{hdrs: h, src: v4a, dst: v4b, proto: 1, length: 84, payload: 56}
	}
	tcp6In := func(h string) tunnelWant {
		return tunnelWant{hdrs: h, src: v6a, dst: v6b, proto: 6, sport: 40000, dport: 443, length: 160, payload: 100, flags: FlagTCP | FlagPorts}
	}
	udp6In := func(h string) tunnelWant {
		return tunnelWant{hdrs: h, src: v6a, dst: v6b, proto: 17, sport: 5353, dport: 53, length: 78, payload: 30, flags: FlagPorts}
	}
	vxlan := []testpkt.Tunnel{ip(o4a, o4b), udp(50000, 4789), kind("vxlan"), kind("eth")}
	// Ten IPv4-in-IPv4 headers, 10.1.0.1 → 10.1.0.2 outermost to
	// 10.10.0.1 → 10.10.0.2, around udp4.
	var deep []testpkt.Tunnel
	for i := 1; i <= 10; i++ {
		deep = append(deep, ip(testpkt.Addr(fmt.Sprintf("10.%d.0.1", i)), testpkt.Addr(fmt.Sprintf("10.%d.0.2", i))))
	}

	cases := []struct {
		name  string
		link  capture.LinkType
		decap bool
		f     testpkt.Frame
		want  tunnelWant
	}{
		{"vxlan", 1, true, in(tcp4, vxlan...), tcpIn("ETH-IP-UDP-VXLAN-ETH-IP-TCP")},
		// Without Decap, the outer UDP packet: 20 + 8 + 8 + 14 + 140 = 190
		// bytes, payload 162, and the stack stops at UDP.
		{"vxlan no decap", 1, false, in(tcp4, vxlan...),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 50000, dport: 4789, length: 190, payload: 162, flags: FlagPorts}},
		// VXLAN carrying ARP: no IP inside, so the outer packet's flow.
		{"vxlan carrying arp", 1, true, in(tcp4, ip(o4a, o4b), udp(50000, 4789), kind("vxlan"), testpkt.Tunnel{Kind: "eth", Proto: 0x0806}),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 50000, dport: 4789, length: 190, payload: 162, flags: FlagPorts}},
		// VXLAN without the I flag is not taken for VXLAN.
		{"vxlan without I flag", 1, true, in(tcp4, ip(o4a, o4b), udp(50000, 4789), testpkt.Tunnel{Kind: "vxlan", Flags: 0x01}, kind("eth")),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 50000, dport: 4789, length: 190, payload: 162, flags: FlagPorts}},
		// Inner total length 0: the wire length minus everything before
		// the inner IP header, 204 − (14 + 20 + 8 + 8 + 14) = 140.
		{"vxlan inner length 0", 1, true, in(testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 40000, DstPort: 443, Payload: 100, TotalLen: -1}, vxlan...),
			tcpIn("ETH-IP-UDP-VXLAN-ETH-IP-TCP")},
		// The snap length cuts the inner IP header: the outer packet's flow.
		{"vxlan inner ip cut", 1, true, func() testpkt.Frame { f := in(tcp4, vxlan...); f.Snap = 64 + 10; return f }(),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 50000, dport: 4789, length: 190, payload: 162, flags: FlagPorts}},
		// The snap length cuts the inner TCP header: the inner flow, ports
		// 0, payload 140 − 20 − 20.
		{"vxlan inner tcp cut", 1, true, func() testpkt.Frame { f := in(tcp4, vxlan...); f.Snap = 64 + 30; return f }(),
			tunnelWant{hdrs: "ETH-IP-UDP-VXLAN-ETH-IP-TCP", src: v4a, dst: v4b, proto: 6, length: 140, payload: 100, flags: FlagTransportCut}},
		{"geneve ethernet with options", 1, true, in(udp6, ip(o4a, o4b), udp(1234, 6081), testpkt.Tunnel{Kind: "geneve", Opt: 8}, kind("eth")),
			udp6In("ETH-IP-UDP-GENEVE-ETH-IP6-UDP")},
		{"geneve ipv4", 1, true, in(tcp4, ip(o4a, o4b), udp(1234, 6081), kind("geneve")), tcpIn("ETH-IP-UDP-GENEVE-IP-TCP")},
		{"gtp-u extension headers", 1, true, in(icmp4, ip(o4a, o4b), udp(2152, 2152), testpkt.Tunnel{Kind: "gtp", Opt: 8}), icmpIn("ETH-IP-UDP-GTP-IP-ICMP")},
		{"gtp-u sequence number", 1, true, in(tcp6, ip(o4a, o4b), udp(30000, 2152), testpkt.Tunnel{Kind: "gtp", Flags: 0x32}), tcp6In("ETH-IP-UDP-GTP-IP6-TCP")},
		// An echo request carries no user packet: 20 + 8 + 8 + 84 = 120.
		{"gtp echo", 1, true, in(icmp4, ip(o4a, o4b), udp(2152, 2152), testpkt.Tunnel{Kind: "gtp", MsgType: 1}),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 2152, dport: 2152, length: 120, payload: 92, flags: FlagPorts}},
		{"teredo with indicators", 1, true, in(icmp6, ip(o4a, o4b), udp(3544, 40000), testpkt.Tunnel{Kind: "teredo", Opt: 3}),
			tunnelWant{hdrs: "ETH-IP-UDP-TEREDO-IP6-ICMP6", src: v6a, dst: v6b, proto: 58, length: 64, payload: 16}},
		{"teredo plain", 1, true, in(udp6, ip(o4a, o4b), udp(40000, 3544), kind("teredo")), udp6In("ETH-IP-UDP-TEREDO-IP6-UDP")},
		// Port 3544 with IPv4 inside is not Teredo: 20 + 8 + 58.
		{"teredo port not teredo", 1, true, in(udp4, ip(o4a, o4b), udp(3544, 5000)),
			tunnelWant{hdrs: "ETH-IP-UDP", src: o4a, dst: o4b, proto: 17, sport: 3544, dport: 5000, length: 86, payload: 58, flags: FlagPorts}},
		{"mpls over udp", 1, true, in(icmp4, ip(o4a, o4b), udp(1000, 6635), kind("mpls")), icmpIn("ETH-IP-UDP-MPLS-IP-ICMP")},
		{"gre checksum key sequence", 1, true, in(tcp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0xb000}), tcpIn("ETH-IP-GRE-IP-TCP")},
		{"gre ipv6 in ipv6", 1, true, in(udp6, ip(o6a, o6b), kind("gre")), udp6In("ETH-IP6-GRE-IP6-UDP")},
		{"gre ethernet", 1, true, in(tcp4, ip(o4a, o4b), kind("gre"), kind("eth")), tcpIn("ETH-IP-GRE-ETH-IP-TCP")},
		{"gre ethernet vlan", 1, true, in(tcp4, ip(o4a, o4b), kind("gre"), kind("eth"), kind("vlan")), tcpIn("ETH-IP-GRE-ETH-VLAN-IP-TCP")},
		{"erspan type I", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Proto: 0x88be}, kind("eth")), udpIn("ETH-IP-GRE-ETH-IP-UDP")},
		{"erspan type II", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x1000}, kind("erspan2"), kind("eth")), udpIn("ETH-IP-GRE-ERSPAN-ETH-IP-UDP")},
		{"erspan type III", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x1000}, kind("erspan3"), kind("eth")), udpIn("ETH-IP-GRE-ERSPAN-ETH-IP-UDP")},
		{"pptp", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x3081}, kind("ppp")), udpIn("ETH-IP-GRE-PPP-IP-UDP")},
		// PPP control inside PPTP's GRE: the outer packet, GRE header
		// 16 + PPP 4 + 58: length 98, payload 78.
		{"pptp lcp", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x3081}, testpkt.Tunnel{Kind: "ppp", Proto: 0xc021}),
			tunnelWant{hdrs: "ETH-IP-GRE", src: o4a, dst: o4b, proto: 47, length: 98, payload: 78}},
		// A GRE keepalive's protocol is 0: 20 + 4 + 58.
		{"gre keepalive", 1, true, in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Proto: -1}),
			tunnelWant{hdrs: "ETH-IP-GRE", src: o4a, dst: o4b, proto: 47, length: 82, payload: 62}},
		{"cmd in gre", 1, true, in(icmp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x2000}, kind("cmd")), icmpIn("ETH-IP-GRE-CMD-IP-ICMP")},
		{"cmd on ethernet", 1, false, in(tcp4, kind("cmd")), tcpIn("ETH-CMD-IP-TCP")},
		{"mpls in ip", 1, true, in(tcp4, ip(o4a, o4b), kind("mpls")), tcpIn("ETH-IP-MPLS-IP-TCP")},
		{"ipv4 in ipv4", 1, true, in(udp4, ip(o4a, o4b)), udpIn("ETH-IP-IP-UDP")},
		// Without Decap: protocol 4, 20 + 58 bytes, the inner packet is
		// the payload.
		{"ipv4 in ipv4 no decap", 1, false, in(udp4, ip(o4a, o4b)),
			tunnelWant{hdrs: "ETH-IP-PROTO4", src: o4a, dst: o4b, proto: 4, length: 78, payload: 58}},
		// A fragmented outer packet is not opened, whatever Decap says.
		{"ipv4 in fragmented ipv4", 1, true, in(udp4, testpkt.Tunnel{Kind: "ip", Src: o4a, Dst: o4b, Flags: 0x2000}),
			tunnelWant{hdrs: "ETH-IP-PROTO4", src: o4a, dst: o4b, proto: 4, length: 78, payload: 58, flags: FlagFragment}},
		{"ipv6 in ipv4", 1, true, in(tcp6, ip(o4a, o4b)), tcp6In("ETH-IP-IP6-TCP")},
		{"ipv4 in ipv6", 1, true, in(tcp4, ip(o6a, o6b)), tcpIn("ETH-IP6-IP-TCP")},
		{"ipv6 in ipv6", 1, true, in(udp6, ip(o6a, o6b)), udp6In("ETH-IP6-IP6-UDP")},
		// Proto 41 with IPv4 inside: the outer packet.
		{"ipv6 in ipv4 wrong version", 1, true, in(udp4, testpkt.Tunnel{Kind: "ip", Src: o4a, Dst: o4b, Proto: 41}),
			tunnelWant{hdrs: "ETH-IP-PROTO41", src: o4a, dst: o4b, proto: 41, length: 78, payload: 58}},
		// Ten nested IPv4 headers: Decode opens MaxEncap = 8 tunnels and
		// keys the packet on the ninth header, 10.9.0.1 → 10.9.0.2,
		// whose payload (20 + 58) is still an IPv4 packet.
		{"nesting bound", 1, true, in(udp4, deep...),
			tunnelWant{hdrs: "ETH-IP-IP-IP-IP-IP-IP-IP-IP-IP-PROTO4", src: testpkt.Addr("10.9.0.1"), dst: testpkt.Addr("10.9.0.2"), proto: 4, length: 98, payload: 78}},
		{"mpls two labels", 1, false, in(tcp4, kind("mpls"), kind("mpls")), tcpIn("ETH-MPLS-MPLS-IP-TCP")},
		// An Ethernet pseudowire: the nibble after the label is 0.
		{"mpls not ip", 1, true, in(tcp4, kind("mpls"), kind("eth")), tunnelWant{reason: ReasonNonIP, etherType: 0x8847}},
		{"pppoe", 1, false, func() testpkt.Frame { f := in(udp6, kind("pppoe")); f.VLANs = []uint16{10}; return f }(), udp6In("ETH-VLAN-PPPOE-PPP-IP6-UDP")},
		{"pppoe lcp", 1, true, in(udp4, testpkt.Tunnel{Kind: "pppoe", Proto: 0xc021}), tunnelWant{reason: ReasonNonIP, etherType: 0xc021}},
		{"ppp link", linkPPP, true, func() testpkt.Frame { f := tcp4; f.Link = "ppp"; return f }(), tcpIn("PPP-IP-TCP")},
		{"ppp link mpls", linkPPP, true, func() testpkt.Frame { f := in(tcp4, kind("mpls")); f.Link = "ppp"; return f }(), tcpIn("PPP-MPLS-IP-TCP")},
		{"ppp hdlc link", linkPPPHDLC, true, func() testpkt.Frame { f := udp6; f.Link = "ppp"; return f }(), udp6In("PPP-IP6-UDP")},
		{"cisco hdlc in link type 50", linkPPPHDLC, true, func() testpkt.Frame { f := udp4; f.Link = "chdlc"; return f }(), udpIn("CHDLC-IP-UDP")},
		{"cisco hdlc", linkCHDLC, true, func() testpkt.Frame { f := in(tcp4, kind("mpls")); f.Link = "chdlc"; return f }(), tcpIn("CHDLC-MPLS-IP-TCP")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, wire := c.f.Build()
			d := Decoder{Decap: c.decap}
			var p Packet
			r := d.Decode(c.link, data, uint32(wire), &p)
			w := c.want
			if r != w.reason {
				t.Fatalf("reason = %v (%s), want %v", r, p.Hdrs, w.reason)
			}
			if r != ReasonOK {
				if d.EtherType != w.etherType {
					t.Errorf("EtherType = %#x, want %#x", d.EtherType, w.etherType)
				}
				return
			}
			if got := p.Hdrs.String(); got != w.hdrs {
				t.Errorf("hdrs = %q, want %q", got, w.hdrs)
			}
			if src, dst := addrOf(p.Src, p.V6), addrOf(p.Dst, p.V6); src != w.src || dst != w.dst {
				t.Errorf("addresses = %v %v, want %v %v", src, dst, w.src, w.dst)
			}
			if p.Proto != w.proto || p.SrcPort != w.sport || p.DstPort != w.dport {
				t.Errorf("proto, ports = %d %d %d, want %d %d %d", p.Proto, p.SrcPort, p.DstPort, w.proto, w.sport, w.dport)
			}
			if p.Length != w.length || p.Payload != w.payload {
				t.Errorf("length, payload = %d %d, want %d %d", p.Length, p.Payload, w.length, w.payload)
			}
			if p.Flags != w.flags {
				t.Errorf("flags = %06b, want %06b", p.Flags, w.flags)
			}
		})
	}
}

func addrOf(a [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}

// TestDecodePPPCompressed reads a PPP frame whose protocol field is
// compressed to one byte (RFC 1661 §6.5), with no address and control.
func TestDecodePPPCompressed(t *testing.T) {
	ipb, _ := func() testpkt.Frame { f := udp4; f.Link = "none"; return f }().Build()
	data := append([]byte{0x21}, ipb...)
	var d Decoder
	var p Packet
	if r := d.Decode(linkPPP, data, uint32(len(data)), &p); r != ReasonOK || p.Hdrs.String() != "PPP-IP-UDP" || p.Length != 58 {
		t.Errorf("Decode = %v, %s, length %d; want PPP-IP-UDP, 58", r, p.Hdrs, p.Length)
	}
}

// TestDecapNeverWorse checks that opening tunnels never loses a packet:
// every frame that decodes without Decap decodes with it, and the other
// way round.
func TestDecapNeverWorse(t *testing.T) {
	for _, f := range tunnelFrames() {
		data, wire := f.Build()
		for n := 0; n <= len(data); n++ {
			var on, off Decoder
			on.Decap = true
			var p, q Packet
			r1 := on.Decode(capture.LinkEthernet, data[:n], uint32(wire), &p)
			r2 := off.Decode(capture.LinkEthernet, data[:n], uint32(wire), &q)
			if (r1 == ReasonOK) != (r2 == ReasonOK) {
				t.Fatalf("%d bytes: decap %v, no decap %v", n, r1, r2)
			}
			if p.Payload > p.Length || int(p.Hdrs.N) > MaxLayers {
				t.Fatalf("%d bytes: payload %d, length %d, %d layers", n, p.Payload, p.Length, p.Hdrs.N)
			}
		}
	}
}

// tunnelFrames is one frame of each tunnel, for the robustness tests.
func tunnelFrames() []testpkt.Frame {
	return []testpkt.Frame{
		in(tcp4, ip(o4a, o4b), udp(50000, 4789), kind("vxlan"), kind("eth"), kind("vlan")),
		in(udp6, ip(o4a, o4b), udp(1234, 6081), testpkt.Tunnel{Kind: "geneve", Opt: 8}, kind("eth")),
		in(icmp4, ip(o4a, o4b), udp(2152, 2152), testpkt.Tunnel{Kind: "gtp", Opt: 8}),
		in(icmp6, ip(o4a, o4b), udp(3544, 40000), testpkt.Tunnel{Kind: "teredo", Opt: 3}),
		in(tcp4, ip(o6a, o6b), testpkt.Tunnel{Kind: "gre", Flags: 0xb000}, kind("mpls"), kind("mpls")),
		in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x1000}, kind("erspan3"), kind("eth"), kind("pppoe")),
		in(udp4, ip(o4a, o4b), testpkt.Tunnel{Kind: "gre", Flags: 0x3081}, kind("ppp"), ip(o6a, o6b), kind("gre"), kind("cmd")),
		in(udp4, ip(o4a, o4b), ip(o4b, o4a), ip(o6a, o6b), ip(o6b, o6a)),
	}
}

// BenchmarkDecodeTunnels decodes one frame of each tunnel with Decap.
func BenchmarkDecodeTunnels(b *testing.B) {
	for _, f := range tunnelFrames() {
		data, wire := f.Build()
		d := Decoder{Decap: true}
		var p Packet
		d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
		b.Run(p.Hdrs.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
		})
	}
}
