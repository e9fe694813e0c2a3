package decode

import (
	"testing"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/internal/testpkt"
)

var (
	v4a = testpkt.Addr("10.0.0.1")
	v4b = testpkt.Addr("10.0.0.2")
	v6a = testpkt.Addr("2001:db8::1")
	v6b = testpkt.Addr("2001:db8::2")
)

// want is what a case expects; the values come from flow-meta.md §1-§2,
// worked out by hand in each case's comment.
type want struct {
	reason           Reason
	proto            uint8
	sport, dport     uint16
	length, payload  uint32
	hdrs             string
	flags            Flags
	tcpFlags         TCPFlags
	checkTCPHdrLen   uint8
	checkFragID      uint32
	checkFragIDIsSet bool
}

func TestDecode(t *testing.T) {
	tcp := func(f testpkt.Frame) testpkt.Frame { f.Proto = 6; f.SrcPort, f.DstPort = 40000, 443; return f }
	udp := func(f testpkt.Frame) testpkt.Frame { f.Proto = 17; f.SrcPort, f.DstPort = 5353, 53; return f }
	cases := []struct {
		name string
		link capture.LinkType
		f    testpkt.Frame
		want want
	}{
		// 20 IP + 20 TCP + 100 payload.
		{"eth ipv4 tcp", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, Flags: 0x18, Payload: 100}),
			want{proto: 6, sport: 40000, dport: 443, length: 140, payload: 100, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, tcpFlags: TCPPsh | TCPAck, checkTCPHdrLen: 20}},
		// Data offset 8 (32-byte header): payload 100, length 152.
		{"tcp options", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, DataOff: 8, Payload: 100}),
			want{proto: 6, sport: 40000, dport: 443, length: 152, payload: 100, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 32}},
		// Data offset 2 is malformed and counts as 5: header 20, payload 10.
		{"tcp offset below 5", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, DataOff: 2, Payload: 10}),
			want{proto: 6, sport: 40000, dport: 443, length: 50, payload: 10, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// Two tags: ETH-VLAN-VLAN-IP-UDP, 5 names; 20 + 8 + 30.
		{"qinq udp", capture.LinkEthernet, udp(testpkt.Frame{Src: v4a, Dst: v4b, VLANs: []uint16{10, 20}, Payload: 30}),
			want{proto: 17, sport: 5353, dport: 53, length: 58, payload: 30, hdrs: "ETH-VLAN-VLAN-IP-UDP", flags: FlagPorts}},
		// IPv6 with hop-by-hop (8) and destination options (16): payload
		// length 24 + 20 + 5, total 40 + 49 = 89, payload 5.
		{"ipv6 ext headers tcp", capture.LinkEthernet, tcp(testpkt.Frame{Src: v6a, Dst: v6b, Payload: 5, ExtHdrs: []testpkt.ExtHdr{{Type: 0, Len: 8}, {Type: 60, Len: 16}}}),
			want{proto: 6, sport: 40000, dport: 443, length: 89, payload: 5, hdrs: "ETH-IP6-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// IPv6 AH (12 bytes: Len field 1) is walked: 40 + 12 + 8 + 4.
		{"ipv6 ah walked", capture.LinkEthernet, udp(testpkt.Frame{Src: v6a, Dst: v6b, Payload: 4, ExtHdrs: []testpkt.ExtHdr{{Type: 51, Len: 12}}}),
			want{proto: 17, sport: 5353, dport: 53, length: 64, payload: 4, hdrs: "ETH-IP6-UDP", flags: FlagPorts}},
		// Later IPv6 fragment: protocol from the fragment header, no ports;
		// the bytes after the 8-byte fragment header (the builder's 8 + 100)
		// are all payload: 108 of a 40 + 116 packet.
		{"ipv6 later fragment", capture.LinkEthernet, testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, Payload: 100, ExtHdrs: []testpkt.ExtHdr{{Type: 44, Len: 8, FragOff: 185, ID: 7}}},
			want{proto: 17, length: 156, payload: 108, hdrs: "ETH-IP6", flags: FlagFragment | FlagLaterFragment, checkFragID: 7, checkFragIDIsSet: true}},
		// First IPv6 fragment (offset 0, M): transport decoded; the UDP length
		// says 1008 but the IP payload holds 8 + 100, so payload = 108 − 8.
		{"ipv6 first fragment", capture.LinkEthernet, udp(testpkt.Frame{Src: v6a, Dst: v6b, Payload: 100, UDPLen: 1008, ExtHdrs: []testpkt.ExtHdr{{Type: 44, Len: 8, MF: true, ID: 9}}}),
			want{proto: 17, sport: 5353, dport: 53, length: 156, payload: 100, hdrs: "ETH-IP6-UDP", flags: FlagFragment | FlagPorts, checkFragID: 9, checkFragIDIsSet: true}},
		// Later IPv4 fragment: ETH-IP, payload = 20 + 80 − 20 = 80.
		{"ipv4 later fragment", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17, IPID: 0x1234, FragOff: 100, Payload: 80},
			want{proto: 17, length: 100, payload: 80, hdrs: "ETH-IP", flags: FlagFragment | FlagLaterFragment, checkFragID: 0x1234, checkFragIDIsSet: true}},
		// TSO capture: total length 0, so bytes = wire 14+20+20+3000 − 14.
		{"ipv4 total length 0", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, TotalLen: -1, Payload: 3000}),
			want{proto: 6, sport: 40000, dport: 443, length: 3040, payload: 3000, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// Total length below the header (10 < 20) is unusable too: wire 54 − 14.
		{"ipv4 total length below header", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, TotalLen: 10}),
			want{proto: 6, sport: 40000, dport: 443, length: 40, payload: 0, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// IPv6 payload length 0 (jumbogram/offload): wire 14+40+8+500 − 14.
		{"ipv6 payload length 0", capture.LinkEthernet, udp(testpkt.Frame{Src: v6a, Dst: v6b, TotalLen: -1, Payload: 500}),
			want{proto: 17, sport: 5353, dport: 53, length: 548, payload: 500, hdrs: "ETH-IP6-UDP", flags: FlagPorts}},
		// Snap length 60 cuts the payload: lengths still come from headers.
		{"snaplen cut", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, Payload: 1400, Snap: 60}),
			want{proto: 6, sport: 40000, dport: 443, length: 1440, payload: 1400, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// Snap length 44 leaves 10 bytes of TCP header: cut, ports 0, flags
		// unknown; payload counts the minimal header: 1440 − 20 − 20.
		{"tcp header cut by snaplen", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, Flags: 0x02, Payload: 1400, Snap: 44}),
			want{proto: 6, length: 1440, payload: 1400, hdrs: "ETH-IP-TCP", flags: FlagTransportCut}},
		// IP total length 24 holds only 4 bytes of UDP; 20 bytes of Ethernet
		// padding follow, which never count as header.
		{"udp header cut by ip length", capture.LinkEthernet, udp(testpkt.Frame{Src: v4a, Dst: v4b, TotalLen: 24, Pad: 20}),
			want{proto: 17, length: 24, payload: 0, hdrs: "ETH-IP-UDP", flags: FlagTransportCut}},
		// UDP length 4 (< 8): payload = IP payload − 8 = 20.
		{"udp length below 8", capture.LinkEthernet, udp(testpkt.Frame{Src: v4a, Dst: v4b, UDPLen: 4, Payload: 20}),
			want{proto: 17, sport: 5353, dport: 53, length: 48, payload: 20, hdrs: "ETH-IP-UDP", flags: FlagPorts}},
		// UDP length 10 inside a 28-byte IP payload: payload 2.
		{"udp length inside ip payload", capture.LinkEthernet, udp(testpkt.Frame{Src: v4a, Dst: v4b, UDPLen: 10, Payload: 20}),
			want{proto: 17, sport: 5353, dport: 53, length: 48, payload: 2, hdrs: "ETH-IP-UDP", flags: FlagPorts}},
		// IPv4 options (IHL 6): length 24 + 20 + 8 = 52, payload 52 − 24 − 20 = 8.
		{"ipv4 options", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, IHL: 6, Payload: 8}),
			want{proto: 6, sport: 40000, dport: 443, length: 52, payload: 8, hdrs: "ETH-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		// Hop-by-hop (8) then destination options (8), UDP 8 + 20: total
		// 40 + 44 = 84. The capture stops one byte into the destination
		// options header, so the chain is cut there: protocol 60, ports 0,
		// hdr_desc ends at IP6, payload = 84 − 40 − 8 walked = 36.
		{"ipv6 cut chain", capture.LinkEthernet, testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, Payload: 20, ExtHdrs: []testpkt.ExtHdr{{Type: 0, Len: 8}, {Type: 60, Len: 8}}, Snap: 14 + 40 + 9},
			want{proto: 60, length: 84, payload: 36, hdrs: "ETH-IP6", flags: FlagChainCut}},
		// ICMP: payload = IP payload − 8 = 56.
		{"icmp echo", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 1, Payload: 56},
			want{proto: 1, length: 84, payload: 56, hdrs: "ETH-IP-ICMP"}},
		{"icmpv6", capture.LinkEthernet, testpkt.Frame{Src: v6a, Dst: v6b, Proto: 58, Payload: 16},
			want{proto: 58, length: 64, payload: 16, hdrs: "ETH-IP6-ICMP6"}},
		// SCTP has ports; its payload is the whole IP payload (12 + 100).
		{"sctp", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 132, SrcPort: 2905, DstPort: 2905, Payload: 100},
			want{proto: 132, sport: 2905, dport: 2905, length: 132, payload: 112, hdrs: "ETH-IP-SCTP", flags: FlagPorts}},
		{"gre", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 47, Payload: 40},
			want{proto: 47, length: 60, payload: 40, hdrs: "ETH-IP-GRE"}},
		{"esp", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 50, Payload: 40},
			want{proto: 50, length: 60, payload: 40, hdrs: "ETH-IP-ESP"}},
		// In IPv4, AH is the protocol.
		{"ipv4 ah", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 51, Payload: 40},
			want{proto: 51, length: 60, payload: 40, hdrs: "ETH-IP-AH"}},
		{"igmp", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 2, Payload: 8},
			want{proto: 2, length: 28, payload: 8, hdrs: "ETH-IP-IGMP"}},
		{"unknown protocol", capture.LinkEthernet, testpkt.Frame{Src: v4a, Dst: v4b, Proto: 253, Payload: 8},
			want{proto: 253, length: 28, payload: 8, hdrs: "ETH-IP-PROTO253"}},
		// Raw link types: the version nibble decides, so IPv6 under the
		// IPv4-only link type 228 is still IPv6.
		{"raw ipv6 under linktype 228", capture.LinkIPv4, udp(testpkt.Frame{Link: "raw", Src: v6a, Dst: v6b, Payload: 2}),
			want{proto: 17, sport: 5353, dport: 53, length: 50, payload: 2, hdrs: "IP6-UDP", flags: FlagPorts}},
		{"raw 101 ipv4", capture.LinkRaw, tcp(testpkt.Frame{Link: "raw", Src: v4a, Dst: v4b}),
			want{proto: 6, sport: 40000, dport: 443, length: 40, hdrs: "IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		{"sll", capture.LinkSLL, tcp(testpkt.Frame{Link: "sll", Src: v4a, Dst: v4b}),
			want{proto: 6, sport: 40000, dport: 443, length: 40, hdrs: "SLL-IP-TCP", flags: FlagTCP | FlagPorts, checkTCPHdrLen: 20}},
		{"sll2", capture.LinkSLL2, udp(testpkt.Frame{Link: "sll2", Src: v6a, Dst: v6b}),
			want{proto: 17, sport: 5353, dport: 53, length: 48, hdrs: "SLL2-IP6-UDP", flags: FlagPorts}},
		{"null ipv6 darwin", capture.LinkNull, udp(testpkt.Frame{Link: "null", Src: v6a, Dst: v6b}),
			want{proto: 17, sport: 5353, dport: 53, length: 48, hdrs: "NULL-IP6-UDP", flags: FlagPorts}},
		// Too short for the IPv4 addresses: skipped.
		{"ipv4 too short", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, Snap: 14 + 19}),
			want{reason: ReasonIPShort}},
		{"ipv6 too short", capture.LinkEthernet, tcp(testpkt.Frame{Src: v6a, Dst: v6b, Snap: 14 + 39}),
			want{reason: ReasonIPShort}},
		{"ethernet too short", capture.LinkEthernet, tcp(testpkt.Frame{Src: v4a, Dst: v4b, Snap: 13}),
			want{reason: ReasonLinkShort}},
		{"unsupported link type", capture.LinkType(160), tcp(testpkt.Frame{Src: v4a, Dst: v4b}),
			want{reason: ReasonLinkType}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, wire := c.f.Build()
			var d Decoder
			p := Packet{Timestamp: 42}
			r := d.Decode(c.link, data, uint32(wire), &p)
			if r != c.want.reason {
				t.Fatalf("reason = %v, want %v", r, c.want.reason)
			}
			if r != ReasonOK {
				return
			}
			w := c.want
			if p.Timestamp != 42 {
				t.Errorf("timestamp = %d, want 42 (kept)", p.Timestamp)
			}
			if p.Proto != w.proto || p.SrcPort != w.sport || p.DstPort != w.dport {
				t.Errorf("proto, ports = %d %d %d, want %d %d %d", p.Proto, p.SrcPort, p.DstPort, w.proto, w.sport, w.dport)
			}
			if p.Length != w.length || p.Payload != w.payload {
				t.Errorf("length, payload = %d %d, want %d %d", p.Length, p.Payload, w.length, w.payload)
			}
			if got := p.Hdrs.String(); got != w.hdrs {
				t.Errorf("hdrs = %q, want %q", got, w.hdrs)
			}
			if p.Flags != w.flags {
				t.Errorf("flags = %06b, want %06b", p.Flags, w.flags)
			}
			if p.TCPFlags != w.tcpFlags {
				t.Errorf("tcp flags = %#x, want %#x", p.TCPFlags, w.tcpFlags)
			}
			if p.TCPHdrLen != w.checkTCPHdrLen {
				t.Errorf("tcp header = %d, want %d", p.TCPHdrLen, w.checkTCPHdrLen)
			}
			if w.checkFragIDIsSet && p.FragID != w.checkFragID {
				t.Errorf("frag id = %d, want %d", p.FragID, w.checkFragID)
			}
		})
	}
}

func TestDecodeNonIP(t *testing.T) {
	// An ARP frame: Ethernet header with EtherType 0x0806 and 28 bytes.
	arp := make([]byte, 14+28)
	arp[12], arp[13] = 0x08, 0x06
	var d Decoder
	var p Packet
	if r := d.Decode(capture.LinkEthernet, arp, uint32(len(arp)), &p); r != ReasonNonIP || d.EtherType != 0x0806 || d.Numbering != NumEtherType {
		t.Errorf("Decode(ARP) = %v, EtherType %#x (%v), want non-IP, 0x0806", r, d.EtherType, d.Numbering)
	}
	// Link types whose protocol numbers are not EtherTypes.
	for _, c := range []struct {
		name  string
		lt    capture.LinkType
		frame []byte
		proto uint16
		num   Numbering
	}{
		{"NULL, AF_APPLETALK (16) little-endian", capture.LinkNull, []byte{16, 0, 0, 0, 0x45, 0}, 16, NumFamily},
		{"LOOP, family 7", capture.LinkLoop, []byte{0, 0, 0, 7, 0x45, 0}, 7, NumFamily},
		{"SLL, 802.2 LLC (4)", capture.LinkSLL, append(make([]byte, 14), 0, 4, 0x42, 0x42), 4, NumSLL},
		{"SLL2, CAN (0x0c)", capture.LinkSLL2, append([]byte{0, 0x0c}, make([]byte, 20)...), 0x0c, NumSLL},
		{"SLL, ARP", capture.LinkSLL, append(make([]byte, 14), 0x08, 0x06, 0), 0x0806, NumEtherType},
		{"PPP, LCP", linkPPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1}, 0xc021, NumPPP},
		{"Cisco HDLC, SLARP", linkCHDLC, []byte{0x0f, 0, 0x80, 0x35, 0, 0}, 0x8035, NumCHDLC},
		{"Cisco HDLC, CDP", linkCHDLC, []byte{0x0f, 0, 0x20, 0x00, 0, 0}, 0x2000, NumCHDLC},
		{"Cisco HDLC, protocol 5", linkCHDLC, []byte{0x0f, 0, 0, 5, 0, 0}, 5, NumCHDLC},
		{"Ethernet, 802.3 length 38", capture.LinkEthernet, append(make([]byte, 12), 0, 38, 0x42, 0x42, 3), 38, NumEtherType},
		{"PPP in HDLC framing, Cisco HDLC, ARP", linkPPPHDLC, []byte{0x8f, 0, 0x08, 0x06, 0, 0}, 0x0806, NumEtherType},
	} {
		d := Decoder{Numbering: NumPPP} // a value left from an earlier frame
		if r := d.Decode(c.lt, c.frame, uint32(len(c.frame)), &p); r != ReasonNonIP || d.EtherType != c.proto || d.Numbering != c.num {
			t.Errorf("%s: Decode = %v, protocol %#x (%v); want non-IP, %#x (%v)", c.name, r, d.EtherType, d.Numbering, c.proto, c.num)
		}
	}
	// IPv4 EtherType with a version 5 nibble.
	bad := make([]byte, 14+40)
	bad[12], bad[13], bad[14] = 0x08, 0x00, 0x50
	if r := d.Decode(capture.LinkEthernet, bad, uint32(len(bad)), &p); r != ReasonIPVersion {
		t.Errorf("Decode(version 5) = %v, want %v", r, ReasonIPVersion)
	}
}

func TestDecodeAddresses(t *testing.T) {
	data, wire := testpkt.Frame{Src: v6a, Dst: v6b, Proto: 17, SrcPort: 1, DstPort: 2}.Build()
	var d Decoder
	var p Packet
	d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
	if !p.V6 || p.Src != v6a.As16() || p.Dst != v6b.As16() {
		t.Errorf("v6 addresses = %x %x", p.Src, p.Dst)
	}
	data, wire = testpkt.Frame{Src: v4a, Dst: v4b, Proto: 17}.Build()
	d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
	if p.V6 || [4]byte(p.Src[:4]) != v4a.As4() || [4]byte(p.Dst[:4]) != v4b.As4() || p.Src[4] != 0 {
		t.Errorf("v4 addresses = %x %x", p.Src, p.Dst)
	}
}

func TestDecodeNoAllocs(t *testing.T) {
	frames := append([]testpkt.Frame{{Src: v6a, Dst: v6b, Proto: 6, Payload: 100, VLANs: []uint16{1}}}, tunnelFrames()...)
	for _, f := range frames {
		data, wire := f.Build()
		d := Decoder{Decap: true}
		var p Packet
		n := testing.AllocsPerRun(100, func() { d.Decode(capture.LinkEthernet, data, uint32(wire), &p) })
		if n != 0 {
			t.Errorf("Decode(%s) allocates %v times per packet, want 0", p.Hdrs, n)
		}
	}
}

// TestDecodeNeverPanics decodes every prefix of some frames under every
// link type: hostile lengths must never read out of bounds.
func TestDecodeNeverPanics(t *testing.T) {
	frames := append([]testpkt.Frame{
		{Src: v6a, Dst: v6b, Proto: 6, ExtHdrs: []testpkt.ExtHdr{{Type: 0, Len: 8}, {Type: 44, Len: 8, MF: true}, {Type: 51, Len: 12}}},
		{Src: v4a, Dst: v4b, Proto: 17, IHL: 15, VLANs: []uint16{1, 2}},
		{Src: v4a, Dst: v4b, Proto: 6, DataOff: 15, TotalLen: 65535},
	}, tunnelFrames()...)
	links := []capture.LinkType{0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 276}
	d := Decoder{Decap: true}
	var p Packet
	for _, f := range frames {
		data, _ := f.Build()
		for _, lt := range links {
			for n := 0; n <= len(data); n++ {
				d.Decode(lt, data[:n], uint32(n), &p)
				d.Decode(lt, data[len(data)-n:], 0, &p)
			}
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, wire := testpkt.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 1, DstPort: 2, Payload: 600}.Build()
	var d Decoder
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}
