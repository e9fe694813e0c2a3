package gen

import "encoding/binary"

// Directions, used to index per-direction state.
const (
	fromClient = 0
	fromServer = 1
)

// weighted is a server port with its share of flows.
type weighted struct {
	port   uint16
	weight float64
}

// tcpPorts are the TCP server ports and their shares.
var tcpPorts = [...]weighted{{443, 0.55}, {80, 0.20}, {8080, 0.08}, {22, 0.07}, {8443, 0.05}, {25, 0.05}}

// sizeRange is a uniform range of payload lengths: min + [0, span).
type sizeRange struct {
	min, span int
}

// mean returns the mean of the range.
func (r sizeRange) mean() float64 {
	return float64(r.min) + float64(r.span-1)/2
}

// draw returns a length from the range.
func (r sizeRange) draw(g *rng) int {
	return r.min + int(g.below(uint64(r.span)))
}

// udpProfile describes a UDP service: its port, its share of UDP flows and
// the payload lengths of its requests and responses.
type udpProfile struct {
	port      uint16
	weight    float64
	req, resp sizeRange
	// echoReq adds the request's length to the response's, as a DNS
	// answer repeats the question.
	echoReq bool
}

// reqMean returns the mean request payload.
func (p udpProfile) reqMean() float64 { return p.req.mean() }

// respMean returns the mean response payload.
func (p udpProfile) respMean() float64 {
	if p.echoReq {
		return p.req.mean() + p.resp.mean()
	}
	return p.resp.mean()
}

// udpProfiles are DNS-like (small query, larger answer), QUIC-like (small
// client packets, near-full server packets) and NTP (48 bytes each way).
var udpProfiles = [...]udpProfile{
	{port: 53, weight: 0.70, req: sizeRange{20, 41}, resp: sizeRange{16, 385}, echoReq: true},
	{port: 443, weight: 0.20, req: sizeRange{30, 71}, resp: sizeRange{900, 351}},
	{port: 123, weight: 0.10, req: sizeRange{48, 1}, resp: sizeRange{48, 1}},
}

// ICMP echo payloads: Linux, macOS and iOS ping send 56 bytes, Windows 32.
const (
	echoPayloadUnix    = 56
	echoPayloadWindows = 32
)

// TCP segment option layouts.
const (
	optNone  = iota // no options: SYN-flood packets, and flows without timestamps
	optTS           // NOP, NOP, timestamps
	optSYN          // the SYN options of a flow with timestamps
	optSYNNo        // the SYN options of a flow without
)

// flow is the state of one open flow, kept in its slot and overwritten when
// the slot starts the next one.
type flow struct {
	// lastPick is the index of the last packet the slot sends. It is kept
	// here, beside the fields every packet reads, to save a cache miss.
	lastPick int64
	kind     kind
	v6       bool
	ts       bool  // TCP timestamps negotiated
	rst      bool  // the TCP connection ends with a RST
	closer   uint8 // direction that sends the first FIN, or the RST
	udp      uint8 // UDP profile index
	ttl      [2]uint8
	sent     int64 // packets sent so far

	cli, srv     endpoint
	cmac         uint64
	cport, sport uint16

	mss     uint16
	win     [2]uint16
	ipid    [2]uint16
	seq     [2]uint32 // next sequence number each side sends
	tsOff   [2]uint32
	lastTS  [2]uint32 // last timestamp value each side sent
	label   [2]uint32 // IPv6 flow labels
	echoID  uint16
	echoLen uint16
	lastReq uint16 // payload of the last UDP request
}

// start fills f for a new flow of kind k from the content stream.
func (g *Generator) start(f *flow, k kind, rst bool) {
	r := &g.rng
	*f = flow{lastPick: f.lastPick, kind: k, rst: rst}
	f.v6 = r.float() < g.cfg.IPv6Fraction
	unix := r.float() < tsShare
	c := uint32(r.below(uint64(g.cfg.Clients)))
	f.cli, f.cmac = clientAddr(c), clientMAC+uint64(c)+1
	f.ttl[fromClient] = 128
	if unix {
		f.ttl[fromClient] = 64
	}
	var s uint32
	switch k {
	case kindICMP:
		// A client's successive pings go to distinct servers, so ICMP
		// flows keep distinct 5-tuples until a client has pinged them all.
		n := g.icmpNext[c]
		g.icmpNext[c]++
		s = uint32((mix64(g.key^0x1c3b^uint64(c)) + uint64(n)) % uint64(g.cfg.Servers))
		f.echoID = uint16(r.next())
		f.echoLen = echoPayloadWindows
		if unix {
			f.echoLen = echoPayloadUnix
		}
	default:
		u := r.float()
		s = uint32(u * u * float64(g.cfg.Servers))
		f.cport = g.clientPort(c)
	}
	f.srv = serverAddr(s)
	h := mix64(g.key ^ uint64(s))
	f.ttl[fromServer] = [4]uint8{64, 64, 128, 255}[h&3] - uint8(1+h>>8%20)
	for d := range 2 {
		f.ipid[d] = uint16(r.next())
		f.label[d] = uint32(r.next()) & 0xfffff
	}
	switch k {
	case kindTCP:
		f.sport = pickPort(r, tcpPorts[:])
		f.ts = unix
		f.mss = 1460
		if f.v6 {
			f.mss = 1440
		}
		for d := range 2 {
			f.seq[d] = uint32(r.next())
			f.tsOff[d] = uint32(r.next())
		}
		// Initial windows of Linux: 64240 bytes (44 × 1460) for the SYN,
		// 65160 (45 × 1448) for the SYN-ACK; scaled windows follow.
		f.win = [2]uint16{64240, 65160}
		if r.float() < 0.3 {
			f.closer = fromServer
		}
	case kindUDP:
		u := r.float()
		f.udp = uint8(len(udpProfiles) - 1)
		for i, p := range udpProfiles {
			if u < p.weight {
				f.udp = uint8(i)
				break
			}
			u -= p.weight
		}
		f.sport = udpProfiles[f.udp].port
	}
}

// pickPort draws a port by weight.
func pickPort(r *rng, ports []weighted) uint16 {
	u := r.float()
	for _, p := range ports {
		if u < p.weight {
			return p.port
		}
		u -= p.weight
	}
	return ports[len(ports)-1].port
}

// clientPort returns client c's next ephemeral port. Ports go up one by one
// from a per-client origin, as on BSD and Windows, so a client's flows have
// distinct 5-tuples until it has opened 28 232 of them.
func (g *Generator) clientPort(c uint32) uint16 {
	n := g.portNext[c]
	g.portNext[c]++
	origin := mix64(g.key ^ uint64(c))
	return uint16(ephemeralFirst + (origin+uint64(n))%ephemeralCount)
}

// l3 writes the Ethernet and IP headers of a packet of f in direction dir
// carrying l4 bytes of protocol proto. It returns the transport offset and
// the pseudo-header sum.
func (g *Generator) l3(f *flow, dir int, proto uint8, l4 int, df bool) (int, uint64) {
	b := g.buf[:]
	src, dst := f.cli, f.srv
	smac, dmac := f.cmac, uint64(gatewayMAC)
	if dir == fromServer {
		src, dst = dst, src
		smac, dmac = dmac, smac
	}
	id := f.ipid[dir]
	f.ipid[dir]++
	if f.v6 {
		if proto == protoICMP {
			proto = protoICMPv6
		}
		putEth(b, dmac, smac, etherIPv6)
		return ethLen + ip6Len, putIPv6(b[ethLen:], l4, f.label[dir], f.ttl[dir], proto, src, dst)
	}
	putEth(b, dmac, smac, etherIPv4)
	return ethLen + ip4Len, putIPv4(b[ethLen:], l4, id, df, f.ttl[dir], proto, src.v4, dst.v4)
}

// tcpSegment writes a TCP segment of f in direction dir and returns the
// header length and the frame length. It advances the sender's sequence
// number by the payload and by one for SYN and FIN.
func (g *Generator) tcpSegment(f *flow, dir int, flags uint8, payload int, opts int) (int, int) {
	optLen := 0
	switch opts {
	case optTS:
		optLen = tsOptLen
	case optSYN:
		optLen = synOptTS
	case optSYNNo:
		optLen = synOptNoTS
	}
	hlen := tcpLen + optLen
	off, psum := g.l3(f, dir, protoTCP, hlen+payload, true)
	b := g.buf[off : off+hlen]
	sport, dport := f.cport, f.sport
	if dir == fromServer {
		sport, dport = dport, sport
	}
	var ack uint32
	if flags&flagACK != 0 {
		ack = f.seq[1-dir]
	}
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint32(b[4:8], f.seq[dir])
	binary.BigEndian.PutUint32(b[8:12], ack)
	b[12], b[13] = uint8(hlen/4)<<4, flags
	binary.BigEndian.PutUint16(b[14:16], f.win[dir])
	b[16], b[17], b[18], b[19] = 0, 0, 0, 0
	o := b[tcpLen:]
	switch opts {
	case optTS:
		o[0], o[1] = 1, 1
		g.putTS(f, dir, o[2:12])
	case optSYN:
		o[0], o[1] = 2, 4
		binary.BigEndian.PutUint16(o[2:4], f.mss)
		o[4], o[5] = 4, 2
		g.putTS(f, dir, o[6:16])
		o[16], o[17], o[18], o[19] = 1, 3, 3, 7
	case optSYNNo:
		o[0], o[1] = 2, 4
		binary.BigEndian.PutUint16(o[2:4], f.mss)
		o[4], o[5], o[6], o[7] = 1, 3, 3, 8
		o[8], o[9], o[10], o[11] = 1, 1, 4, 2
	}
	// The payload is zeros, so the header and the pseudo-header are all
	// the checksum covers.
	binary.BigEndian.PutUint16(b[16:18], checksum(psum+sumBytes(b)))
	f.seq[dir] += uint32(payload)
	if flags&(flagSYN|flagFIN) != 0 {
		f.seq[dir]++
	}
	return off + hlen, off + hlen + payload
}

// putTS writes a timestamps option (RFC 7323) into o[0:10]: a millisecond
// clock with a per-side origin, echoing the peer's last value.
func (g *Generator) putTS(f *flow, dir int, o []byte) {
	val := uint32(g.now/1e6) + f.tsOff[dir]
	o[0], o[1] = 8, 10
	binary.BigEndian.PutUint32(o[2:6], val)
	binary.BigEndian.PutUint32(o[6:10], f.lastTS[1-dir])
	f.lastTS[dir] = val
}

// tcp writes the next packet of TCP flow f, which has rem packets left
// after it, and returns the header and frame lengths.
//
// The plan: SYN, SYN-ACK, ACK; a mid-size request from the client; data
// segments drawn from the mixture; then FIN-ACK from the closer, FIN-ACK
// from the other side, last ACK from the closer — or one RST-ACK from the
// closer. Every segment after the SYN acknowledges all the peer has sent.
func (g *Generator) tcp(f *flow, rem int64) (int, int) {
	opts := optNone
	if f.ts {
		opts = optTS
	}
	closeN := int64(3)
	if f.rst {
		closeN = 1
	}
	switch {
	case f.sent == 0:
		syn := optSYNNo
		if f.ts {
			syn = optSYN
		}
		return g.tcpSegment(f, fromClient, flagSYN, 0, syn)
	case f.sent == 1:
		syn := optSYNNo
		if f.ts {
			syn = optSYN
		}
		return g.tcpSegment(f, fromServer, flagSYN|flagACK, 0, syn)
	case f.sent == 2:
		for d := range 2 {
			f.win[d] = uint16(200 + g.rng.below(3000))
		}
		return g.tcpSegment(f, fromClient, flagACK, 0, opts)
	case rem >= closeN:
		return g.tcpData(f, opts)
	}
	closer := int(f.closer)
	if f.rst {
		return g.tcpSegment(f, closer, flagRST|flagACK, 0, opts)
	}
	switch closeN - 1 - rem {
	case 0:
		return g.tcpSegment(f, closer, flagFIN|flagACK, 0, opts)
	case 1:
		return g.tcpSegment(f, 1-closer, flagFIN|flagACK, 0, opts)
	default:
		return g.tcpSegment(f, closer, flagACK, 0, opts)
	}
}

// tcpData writes one data-phase segment of f.
func (g *Generator) tcpData(f *flow, opts int) (int, int) {
	r := &g.rng
	full := int(f.mss)
	if f.ts {
		full -= tsOptLen
	}
	if f.sent == 3 {
		return g.tcpSegment(f, fromClient, flagACK|flagPSH, 1+int(r.below(uint64(full-1))), opts)
	}
	u := r.float()
	switch {
	case u < g.p.mix.ack:
		return g.tcpSegment(f, dirOf(r, ackFromClient), flagACK, 0, opts)
	case u < g.p.mix.ack+g.p.mix.mid:
		return g.tcpSegment(f, dirOf(r, midFromClient), flagACK|flagPSH, 1+int(r.below(uint64(full-1))), opts)
	default:
		return g.tcpSegment(f, dirOf(r, fullFromClient), flagACK, full, opts)
	}
}

// dirOf returns fromClient with probability p.
func dirOf(r *rng, p float64) int {
	if r.float() < p {
		return fromClient
	}
	return fromServer
}

// udp writes the next packet of UDP flow f: requests and responses
// alternate, starting with a request.
func (g *Generator) udp(f *flow) (int, int) {
	prof := &udpProfiles[f.udp]
	dir := int(f.sent & 1)
	var payload int
	if dir == fromClient {
		payload = prof.req.draw(&g.rng)
		f.lastReq = uint16(payload)
	} else {
		payload = prof.resp.draw(&g.rng)
		if prof.echoReq {
			payload += int(f.lastReq)
		}
	}
	l4 := udpLen + payload
	off, psum := g.l3(f, dir, protoUDP, l4, false)
	b := g.buf[off : off+udpLen]
	sport, dport := f.cport, f.sport
	if dir == fromServer {
		sport, dport = dport, sport
	}
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(l4))
	b[6], b[7] = 0, 0
	sum := checksum(psum + sumBytes(b))
	if sum == 0 {
		// Zero means "no checksum" in UDP (RFC 768); send its other form.
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:8], sum)
	return off + udpLen, off + l4
}

// icmp writes the next packet of ICMP flow f: echo requests and replies
// alternate, with sequence numbers from 1.
func (g *Generator) icmp(f *flow) (int, int) {
	dir := int(f.sent & 1)
	l4 := icmpLen + int(f.echoLen)
	off, psum := g.l3(f, dir, protoICMP, l4, false)
	b := g.buf[off : off+icmpLen]
	typ := uint8(8) // echo request (RFC 792)
	if dir == fromServer {
		typ = 0
	}
	if f.v6 {
		typ = 128 + uint8(dir) // echo request, reply (RFC 4443)
	} else {
		psum = 0 // ICMPv4 has no pseudo-header
	}
	b[0], b[1], b[2], b[3] = typ, 0, 0, 0
	binary.BigEndian.PutUint16(b[4:6], f.echoID)
	binary.BigEndian.PutUint16(b[6:8], uint16(f.sent/2+1))
	binary.BigEndian.PutUint16(b[2:4], checksum(psum+sumBytes(b)))
	return off + icmpLen, off + l4
}

// flood writes one SYN-flood packet, a flow of its own, and returns the
// header and frame lengths. Sources never repeat: IPv4 ones walk a
// permutation of 198.18.0.0/15, taking the next port of each address on
// every lap; IPv6 ones are a bijective scramble of a counter.
func (g *Generator) flood() (int, int) {
	r := &g.rng
	var f flow
	f.v6 = r.float() < g.cfg.IPv6Fraction
	f.srv = serverAddr(0)
	f.sport = g.cfg.FloodPort
	if f.v6 {
		f.cli = endpoint{v6: floodV6, id: mix64(g.flood6 ^ g.key)}
		g.flood6++
		f.cport = uint16(ephemeralFirst + r.below(ephemeralCount))
	} else {
		addr := perm17(g.flood4, g.key)
		lap := g.flood4 >> 17
		f.cli = endpoint{v4: floodV4 + uint32(addr)}
		f.cport = uint16(ephemeralFirst + (mix64(g.key^addr)+lap)%ephemeralCount)
		g.flood4++
	}
	f.ttl[fromClient] = uint8(32 + r.below(224))
	f.ipid[fromClient] = uint16(r.next())
	f.label[fromClient] = uint32(r.next()) & 0xfffff
	f.seq[fromClient] = uint32(r.next())
	f.win[fromClient] = uint16(512 + r.below(65024))
	hdr, n := g.tcpSegment(&f, fromClient, flagSYN, 0, optNone)
	// The flood comes through the gateway to the server, not from a
	// client of the LAN.
	putMAC(g.buf[0:6], floodMAC)
	putMAC(g.buf[6:12], gatewayMAC)
	return hdr, n
}
