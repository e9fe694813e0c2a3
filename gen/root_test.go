package gen

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// smallConfig is DefaultConfig scaled down so that tests stay fast while
// every slot still sends many flows.
func smallConfig() Config {
	cfg := DefaultConfig()
	cfg.Packets = 30_000
	cfg.ConcurrentFlows = 60
	cfg.Clients = 200
	cfg.Servers = 40
	return cfg
}

// generate writes cfg in format into memory.
func generate(tb testing.TB, cfg Config, format Format) ([]byte, Stats) {
	tb.Helper()
	var buf bytes.Buffer
	st, err := Write(&buf, cfg, format)
	if err != nil {
		tb.Fatalf("Write(%v) = %v", format, err)
	}
	return buf.Bytes(), st
}

// record is one packet as gopacket's pcapgo reads it back.
type record struct {
	ts   time.Time
	data []byte
}

// readBack reads a capture with gopacket's pure-Go readers, checking the
// file header fields on the way.
func readBack(tb testing.TB, file []byte, format Format) []record {
	tb.Helper()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	switch format {
	case FormatPcapNG:
		ng, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("pcapgo.NewNgReader() = %v", err)
		}
		if ng.LinkType() != layers.LinkTypeEthernet {
			tb.Errorf("pcapng link type = %v, want Ethernet", ng.LinkType())
		}
		r = ng
	default:
		pr, err := pcapgo.NewReader(bytes.NewReader(file))
		if err != nil {
			tb.Fatalf("pcapgo.NewReader() = %v", err)
		}
		if pr.LinkType() != layers.LinkTypeEthernet {
			tb.Errorf("pcap link type = %v, want Ethernet", pr.LinkType())
		}
		wantRes := gopacket.TimestampResolutionMicrosecond
		if format == FormatPcapNano {
			wantRes = gopacket.TimestampResolutionNanosecond
		}
		if pr.Resolution() != wantRes {
			tb.Errorf("pcap resolution = %v, want %v", pr.Resolution(), wantRes)
		}
		r = pr
	}
	var recs []record
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			tb.Fatalf("ReadPacketData() after %d packets = %v", len(recs), err)
		}
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			tb.Fatalf("packet %d: capture length %d, wire length %d, data %d bytes", len(recs), ci.CaptureLength, ci.Length, len(data))
		}
		recs = append(recs, record{ts: ci.Timestamp, data: bytes.Clone(data)})
	}
}

// TestWriteReadBack reads every format back with pcapgo and compares each
// record with what the Generator produces for the same Config.
func TestWriteReadBack(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 5000
	for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNG} {
		t.Run(format.String(), func(t *testing.T) {
			file, st := generate(t, cfg, format)
			recs := readBack(t, file, format)
			if int64(len(recs)) != cfg.Packets || st.Packets != cfg.Packets {
				t.Fatalf("read %d packets, Stats.Packets %d, want %d", len(recs), st.Packets, cfg.Packets)
			}
			g, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs {
				ts, frame, _ := g.Next()
				want := time.Unix(0, ts)
				if format == FormatPcap {
					want = want.Truncate(time.Microsecond)
				}
				if !rec.ts.Equal(want) {
					t.Fatalf("packet %d: timestamp %v, want %v", i, rec.ts, want)
				}
				if !bytes.Equal(rec.data, frame) {
					t.Fatalf("packet %d: frame differs from Generator.Next", i)
				}
			}
			if !recs[0].ts.Equal(cfg.Start) {
				t.Errorf("first timestamp %v, want Config.Start %v", recs[0].ts, cfg.Start)
			}
		})
	}
}

// flowKey is a canonical 5-tuple: the smaller endpoint first.
type flowKey struct {
	proto uint8
	a, b  netip.AddrPort
}

// flowCheck accumulates what one flow of the capture shows.
type flowCheck struct {
	first, last int  // packet indices
	client      bool // the client is key.a
	packets     int
	proto       uint8
	flood       bool
	// TCP
	nxt      [2]uint32 // next sequence number expected from each side
	synAck   bool
	tsOpt    int // TCP header length of non-SYN segments, 0 until seen
	fin      [2]bool
	finFirst int // direction of the first FIN
	closed   bool
	rst      bool
	// ICMP
	echoID uint16
}

// traffic is what checkTraffic learns from a whole capture.
type traffic struct {
	flows         map[flowKey]*flowCheck
	perKind       [numKinds]int64
	flood         int64
	maxConcurrent int64
	tcpOpen       int64 // TCP flows without a complete close
	tcpFIN        int64 // TCP flows closed by FINs and a last ACK
	tcpRST        int64 // TCP flows reset
	bytes         int64
}

var (
	floodNet4 = netip.MustParsePrefix("198.18.0.0/15")
	floodNet6 = netip.MustParsePrefix("2001:db8:0:f::/64")
)

// checkTraffic decodes every frame with gopacket's layers and checks it
// against the protocols: lengths, checksums, TCP sequence and
// acknowledgement numbers, the handshake and the close, UDP and ICMP
// exchanges. It returns the flows for comparison with Stats.
func checkTraffic(t *testing.T, recs []record) traffic {
	t.Helper()
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		udp     layers.UDP
		icmp4   layers.ICMPv4
		icmp6   layers.ICMPv6
		payload gopacket.Payload
		decoded []gopacket.LayerType
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &icmp4, &icmp6, &payload)
	// The payload is zeros; port-based application decoders (TLS on 443,
	// DNS on 53) are out of scope.
	parser.IgnoreUnsupported = true
	tr := traffic{flows: map[flowKey]*flowCheck{}}
	fail := func(i int, format string, args ...any) {
		t.Helper()
		t.Fatalf("packet %d: "+format, append([]any{i}, args...)...)
	}
	for i, rec := range recs {
		data := rec.data
		tr.bytes += int64(len(data))
		if err := parser.DecodeLayers(data, &decoded); err != nil {
			fail(i, "decode: %v", err)
		}
		if len(decoded) < 3 {
			fail(i, "decoded only %v", decoded)
		}
		var src, dst netip.Addr
		var proto uint8
		var l4 []byte // transport header and payload
		var network gopacket.NetworkLayer
		switch decoded[1] {
		case layers.LayerTypeIPv4:
			if ip4.IHL != 5 || int(ip4.Length) != len(data)-ethLen {
				fail(i, "IPv4 IHL %d, total length %d, frame %d", ip4.IHL, ip4.Length, len(data))
			}
			if err, res := ip4.VerifyChecksum(); err != nil || !res.Valid {
				fail(i, "IPv4 checksum %#04x wrong (correct %#04x)", res.Actual, res.Correct)
			}
			src, _ = netip.AddrFromSlice(ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(ip4.DstIP)
			proto, l4, network = uint8(ip4.Protocol), ip4.Payload, &ip4
		case layers.LayerTypeIPv6:
			if int(ip6.Length) != len(data)-ethLen-ip6Len {
				fail(i, "IPv6 payload length %d, frame %d", ip6.Length, len(data))
			}
			src, _ = netip.AddrFromSlice(ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
			proto, l4, network = uint8(ip6.NextHeader), ip6.Payload, &ip6
		default:
			fail(i, "network layer %v", decoded[1])
		}
		var sport, dport uint16
		switch decoded[2] {
		case layers.LayerTypeTCP:
			sport, dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
			if err := tcp.SetNetworkLayerForChecksum(network); err != nil {
				t.Fatal(err)
			}
			if err, res := tcp.VerifyChecksum(); err != nil || !res.Valid {
				fail(i, "TCP checksum %#04x wrong (correct %#04x)", res.Actual, res.Correct)
			}
		case layers.LayerTypeUDP:
			sport, dport = uint16(udp.SrcPort), uint16(udp.DstPort)
			if int(udp.Length) != len(l4) {
				fail(i, "UDP length %d, IP payload %d", udp.Length, len(l4))
			}
			if err := udp.SetNetworkLayerForChecksum(network); err != nil {
				t.Fatal(err)
			}
			if err, res := udp.VerifyChecksum(); err != nil || !res.Valid || udp.Checksum == 0 {
				fail(i, "UDP checksum %#04x wrong (correct %#04x)", res.Actual, res.Correct)
			}
		case layers.LayerTypeICMPv4:
			if err, res := icmp4.VerifyChecksum(); err != nil || !res.Valid {
				fail(i, "ICMP checksum %#04x wrong (correct %#04x)", res.Actual, res.Correct)
			}
		case layers.LayerTypeICMPv6:
			if err := icmp6.SetNetworkLayerForChecksum(network); err != nil {
				t.Fatal(err)
			}
			if err, res := icmp6.VerifyChecksum(); err != nil || !res.Valid {
				fail(i, "ICMPv6 checksum %#04x wrong (correct %#04x)", res.Actual, res.Correct)
			}
		default:
			fail(i, "transport layer %v", decoded[2])
		}

		a, b := netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
		forward := a.Compare(b) < 0
		key := flowKey{proto: proto, a: a, b: b}
		if !forward {
			key.a, key.b = b, a
		}
		f := tr.flows[key]
		if f == nil {
			f = &flowCheck{first: i, client: forward, proto: proto}
			f.flood = floodNet4.Contains(src) || floodNet6.Contains(src)
			tr.flows[key] = f
		}
		f.last = i
		f.packets++
		// dir is 0 from the flow's first sender (the client), 1 back.
		dir := 0
		if forward != f.client {
			dir = 1
		}
		switch decoded[2] {
		case layers.LayerTypeTCP:
			checkTCP(t, i, f, dir, &tcp, len(l4))
		case layers.LayerTypeUDP:
			if dir != (f.packets-1)&1 {
				fail(i, "UDP packet %d of its flow goes the wrong way", f.packets)
			}
			if p := sport; dir == 0 && (p < ephemeralFirst || p >= ephemeralFirst+ephemeralCount) {
				fail(i, "UDP client port %d not ephemeral", p)
			}
		case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			var typ uint8
			var id, seq uint16
			if decoded[2] == layers.LayerTypeICMPv4 {
				typ, id, seq = icmp4.TypeCode.Type(), icmp4.Id, icmp4.Seq
			} else {
				// gopacket leaves the echo header in the payload.
				typ = icmp6.TypeCode.Type()
				id, seq = uint16(icmp6.Payload[0])<<8|uint16(icmp6.Payload[1]), uint16(icmp6.Payload[2])<<8|uint16(icmp6.Payload[3])
			}
			wantType := [2][2]uint8{{8, 0}, {128, 129}}[b2i(proto == protoICMPv6)][dir]
			if dir != (f.packets-1)&1 || typ != wantType {
				fail(i, "ICMP packet %d of its flow: type %d from side %d, want type %d", f.packets, typ, dir, wantType)
			}
			if f.packets == 1 {
				f.echoID = id
			}
			if id != f.echoID || int(seq) != (f.packets-1)/2+1 {
				fail(i, "ICMP echo id %d seq %d, want id %d seq %d", id, seq, f.echoID, (f.packets-1)/2+1)
			}
		}
	}

	// Concurrency: a flow is active from its first packet to its last.
	diff := make([]int64, len(recs)+1)
	for _, f := range tr.flows {
		diff[f.first]++
		diff[f.last+1]--
		switch {
		case f.flood:
			tr.flood++
			if f.packets != 1 {
				t.Errorf("SYN-flood flow %+v has %d packets", f, f.packets)
			}
		case f.proto == protoTCP:
			tr.perKind[kindTCP]++
			switch {
			case f.closed:
				tr.tcpFIN++
			case f.rst:
				tr.tcpRST++
			default:
				tr.tcpOpen++
			}
		case f.proto == protoUDP:
			tr.perKind[kindUDP]++
		default:
			tr.perKind[kindICMP]++
		}
	}
	var active int64
	for _, d := range diff {
		active += d
		tr.maxConcurrent = max(tr.maxConcurrent, active)
	}
	return tr
}

// checkTCP follows one TCP segment through the connection: SYN, SYN-ACK,
// then segments whose sequence numbers advance by their payload (plus one
// for FIN) and that acknowledge everything the peer sent; FIN from both
// sides and a last ACK, or a RST, end the flow.
func checkTCP(t *testing.T, i int, f *flowCheck, dir int, tcp *layers.TCP, l4 int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("packet %d (TCP packet %d of its flow, side %d): "+format, append([]any{i, f.packets, dir}, args...)...)
	}
	if f.closed || f.rst {
		fail("segment after the connection ended")
	}
	hlen := int(tcp.DataOffset) * 4
	payload := len(tcp.Payload)
	if hlen+payload != l4 {
		fail("%d bytes of TCP header and %d of payload in %d bytes of IP payload", hlen, payload, l4)
	}
	switch {
	case f.packets == 1:
		if !tcp.SYN || tcp.ACK || tcp.FIN || tcp.RST || payload != 0 {
			fail("first segment is not a bare SYN: %v", flagString(tcp))
		}
		if f.flood {
			if hlen != tcpLen {
				fail("SYN-flood SYN has %d bytes of header, want 20", hlen)
			}
			return
		}
		if hlen != tcpLen+synOptTS && hlen != tcpLen+synOptNoTS {
			fail("SYN with %d bytes of header, want options", hlen)
		}
		f.nxt[0] = tcp.Seq + 1
		return
	case f.packets == 2:
		if dir != 1 || !tcp.SYN || !tcp.ACK || tcp.Ack != f.nxt[0] {
			fail("second segment is not the SYN-ACK of %d: %v ack %d", f.nxt[0], flagString(tcp), tcp.Ack)
		}
		f.synAck = true
		f.nxt[1] = tcp.Seq + 1
		return
	}
	if tcp.SYN || !tcp.ACK {
		fail("segment after the handshake: %v", flagString(tcp))
	}
	if f.tsOpt == 0 {
		f.tsOpt = hlen
	}
	if hlen != f.tsOpt || (hlen != tcpLen && hlen != tcpLen+tsOptLen) {
		fail("header of %d bytes, flow started with %d", hlen, f.tsOpt)
	}
	if tcp.Seq != f.nxt[dir] || tcp.Ack != f.nxt[1-dir] {
		fail("seq %d ack %d, want seq %d ack %d", tcp.Seq, tcp.Ack, f.nxt[dir], f.nxt[1-dir])
	}
	f.nxt[dir] += uint32(payload)
	switch {
	case tcp.RST:
		f.rst = true
	case tcp.FIN:
		if f.fin[dir] {
			fail("second FIN from the same side")
		}
		if !f.fin[1-dir] {
			f.finFirst = dir
		}
		f.fin[dir] = true
		f.nxt[dir]++
	case f.fin[0] && f.fin[1]:
		if dir != f.finFirst || payload != 0 {
			fail("last ACK from side %d with %d bytes, want from side %d", dir, payload, f.finFirst)
		}
		f.closed = true
	case f.fin[0] || f.fin[1]:
		fail("%v with %d bytes after one FIN", flagString(tcp), payload)
	}
}

// flagString names the flags of a segment, for messages.
func flagString(tcp *layers.TCP) string {
	s := ""
	for _, f := range []struct {
		set  bool
		name string
	}{{tcp.SYN, "SYN"}, {tcp.ACK, "ACK"}, {tcp.FIN, "FIN"}, {tcp.RST, "RST"}, {tcp.PSH, "PSH"}} {
		if f.set {
			s += f.name + " "
		}
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestTraffic decodes whole captures and checks them against Stats.
func TestTraffic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		change func(*Config)
	}{
		{"default mix", FormatPcapNano, func(*Config) {}},
		{"pcapng", FormatPcapNG, func(c *Config) { c.Seed = 2 }},
		{"ipv6 heavy rst heavy", FormatPcapNG, func(c *Config) { c.IPv6Fraction, c.RSTFraction = 0.8, 0.5 }},
		{"udp and icmp", FormatPcapNano, func(c *Config) { c.TCPFraction, c.UDPFraction, c.ICMPFraction = 0, 1, 1 }},
		{"with flood", FormatPcapNano, func(c *Config) { c.SYNFlood = 5000 }},
		{"pure flood", FormatPcapNG, func(c *Config) { c.Packets, c.SYNFlood = 10_000, 10_000 }},
		{"fewer packets than flows", FormatPcapNano, func(c *Config) { c.Packets, c.ConcurrentFlows = 500, 1000 }},
		{"long flows", FormatPcapNano, func(c *Config) { c.MeanFlowPackets, c.ConcurrentFlows = 200, 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := smallConfig()
			cfg.Packets = 15_000
			tc.change(&cfg)
			file, st := generate(t, cfg, tc.format)
			recs := readBack(t, file, tc.format)
			if int64(len(recs)) != cfg.Packets || st.Packets != cfg.Packets {
				t.Fatalf("read %d packets, Stats.Packets %d, want Config.Packets %d", len(recs), st.Packets, cfg.Packets)
			}
			for i := 1; i < len(recs); i++ {
				if !recs[i].ts.After(recs[i-1].ts) {
					t.Fatalf("packet %d: timestamp %v not after %v", i, recs[i].ts, recs[i-1].ts)
				}
			}
			tr := checkTraffic(t, recs)
			if got := int64(len(tr.flows)); got != st.Flows {
				t.Errorf("distinct 5-tuples = %d, Stats.Flows = %d", got, st.Flows)
			}
			if want := [numKinds]int64{st.TCPFlows, st.UDPFlows, st.ICMPFlows}; tr.perKind != want {
				t.Errorf("flows per kind (tcp, udp, icmp) = %v, Stats says %v", tr.perKind, want)
			}
			if tr.flood != st.FloodFlows || st.FloodFlows != cfg.SYNFlood {
				t.Errorf("SYN-flood flows = %d, Stats.FloodFlows = %d, Config.SYNFlood = %d", tr.flood, st.FloodFlows, cfg.SYNFlood)
			}
			if tr.maxConcurrent != st.MaxConcurrent {
				t.Errorf("max concurrent flows in the capture = %d, Stats.MaxConcurrent = %d", tr.maxConcurrent, st.MaxConcurrent)
			}
			if tr.tcpOpen > st.Unfinished || st.Unfinished > int64(cfg.ConcurrentFlows) {
				t.Errorf("%d TCP flows without a close, Stats.Unfinished = %d, ConcurrentFlows %d", tr.tcpOpen, st.Unfinished, cfg.ConcurrentFlows)
			}
			if done := tr.tcpFIN + tr.tcpRST; done > 100 && (tr.tcpFIN == 0 || tr.tcpRST == 0) {
				t.Errorf("of %d complete TCP flows, %d closed by FIN, %d reset: want both kinds", done, tr.tcpFIN, tr.tcpRST)
			}
			if tr.bytes != st.Bytes {
				t.Errorf("frame bytes = %d, Stats.Bytes = %d", tr.bytes, st.Bytes)
			}
			if st.First != cfg.Start.UnixNano() || st.Last != recs[len(recs)-1].ts.UnixNano() {
				t.Errorf("Stats.First, Last = %d, %d, want %d, %d", st.First, st.Last, cfg.Start.UnixNano(), recs[len(recs)-1].ts.UnixNano())
			}
			t.Logf("%+v mean frame %.1f", st, st.MeanFrame())
		})
	}
}

// TestSteadyState checks the properties of a long default-mix capture that
// the benchmarks rely on: concurrency, mean frame, packets per second.
func TestSteadyState(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 100_000
	cfg.ConcurrentFlows = 250
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var acks, full, frames int64
	for {
		_, frame, ok := g.Next()
		if !ok {
			break
		}
		frames++
		switch len(frame) {
		case 54, 66, 74, 86:
			acks++
		case maxFrame:
			full++
		}
	}
	st := g.Stats()
	if st.MaxConcurrent != int64(cfg.ConcurrentFlows) {
		t.Errorf("Stats.MaxConcurrent = %d, want ConcurrentFlows %d", st.MaxConcurrent, cfg.ConcurrentFlows)
	}
	if got := st.MeanFrame(); math.Abs(got-cfg.MeanFrameSize) > 0.02*cfg.MeanFrameSize {
		t.Errorf("mean frame = %.1f, want MeanFrameSize %v ±2%%", got, cfg.MeanFrameSize)
	}
	// Exponential gaps: the duration is Packets/PacketRate within a few
	// standard deviations (sqrt(n)/rate).
	want := float64(cfg.Packets) / cfg.PacketRate
	if got := st.Duration().Seconds(); math.Abs(got-want) > 5*math.Sqrt(float64(cfg.Packets))/cfg.PacketRate {
		t.Errorf("duration = %vs, want %vs", got, want)
	}
	if a, f := float64(acks)/float64(frames), float64(full)/float64(frames); a < 0.2 || f < 0.2 {
		t.Errorf("header-only frames %.2f, full frames %.2f of all: want many of both", a, f)
	}
	t.Logf("%+v mean frame %.1f, header-only %.2f, full %.2f", st, st.MeanFrame(), float64(acks)/float64(frames), float64(full)/float64(frames))
}

// TestMeanFrameSize checks the calibration over the reachable range.
func TestMeanFrameSize(t *testing.T) {
	for _, target := range []float64{300, 650, 800} {
		cfg := smallConfig()
		cfg.MeanFrameSize = target
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, _, ok := g.Next(); !ok {
				break
			}
		}
		if got := g.Stats().MeanFrame(); math.Abs(got-target) > 0.03*target {
			t.Errorf("MeanFrameSize %v: mean frame = %.1f, want ±3%%", target, got)
		}
	}
}

// TestDeterminism hashes two runs of each format, and checks that the seed
// matters.
func TestDeterminism(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 5000
	cfg.SYNFlood = 500
	for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNG} {
		a, _ := generate(t, cfg, format)
		b, _ := generate(t, cfg, format)
		if sha256.Sum256(a) != sha256.Sum256(b) {
			t.Errorf("%v: two runs of one Config differ", format)
		}
		other := cfg
		other.Seed++
		c, _ := generate(t, other, format)
		if sha256.Sum256(a) == sha256.Sum256(c) {
			t.Errorf("%v: seeds %d and %d give the same capture", format, cfg.Seed, other.Seed)
		}
	}
}

func TestNextNoAllocs(t *testing.T) {
	cfg := smallConfig()
	cfg.SYNFlood = 1000
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10_000, func() { g.Next() }); n != 0 {
		t.Errorf("Generator.Next allocates %v times per packet, want 0", n)
	}
}

func TestWriteNoAllocsPerPacket(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 1000
	small := testing.AllocsPerRun(2, func() { Write(io.Discard, cfg, FormatPcapNG) })
	cfg.Packets = 10_000
	large := testing.AllocsPerRun(2, func() { Write(io.Discard, cfg, FormatPcapNG) })
	if large != small {
		t.Errorf("Write allocates %v times for 1000 packets, %v for 20000: want the same", small, large)
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errDisk
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 10_000
	st, err := Write(&failWriter{n: 2 << 20}, cfg, FormatPcap)
	if !errors.Is(err, errDisk) {
		t.Fatalf("Write() error = %v, want %v", err, errDisk)
	}
	if st.Packets == 0 || st.Packets >= cfg.Packets {
		t.Errorf("Stats.Packets = %d at the error, want between 0 and %d", st.Packets, cfg.Packets)
	}
	if _, err := Write(io.Discard, cfg, Format(7)); !errors.Is(err, ErrFormat) {
		t.Errorf("Write(Format(7)) error = %v, want ErrFormat", err)
	}
	bad := cfg
	bad.ConcurrentFlows = 0
	if _, err := Write(io.Discard, bad, FormatPcap); !errors.Is(err, ErrConfig) {
		t.Errorf("Write(bad config) error = %v, want ErrConfig", err)
	}
}

func TestEmptyCapture(t *testing.T) {
	cfg := smallConfig()
	cfg.Packets = 0
	for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNG} {
		file, st := generate(t, cfg, format)
		if recs := readBack(t, file, format); len(recs) != 0 || st != (Stats{}) {
			t.Errorf("%v: %d packets read, Stats %+v, want none", format, len(recs), st)
		}
	}
}
