package gen

import (
	"fmt"
	"math"
)

// kind is the protocol family of a flow.
type kind uint8

const (
	kindTCP kind = iota
	kindUDP
	kindICMP
	numKinds
)

// String returns the protocol name.
func (k kind) String() string {
	switch k {
	case kindTCP:
		return "tcp"
	case kindUDP:
		return "udp"
	case kindICMP:
		return "icmp"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Shortest flows of each kind: a TCP connection needs a handshake, one data
// segment and the FIN exchange (3 + 1 + 3); UDP and ICMP one request and
// its answer.
const (
	minTCPPackets  = 7
	minPairPackets = 2
)

var minPackets = [numKinds]int64{kindTCP: minTCPPackets, kindUDP: minPairPackets, kindICMP: minPairPackets}

// Frame sizes that the mixture is built from.
const (
	maxFrame = 1514 // Ethernet II frame of a 1500-byte IP packet
	ethLen   = 14
	ip4Len   = 20
	ip6Len   = 40
	tcpLen   = 20
	udpLen   = 8
	icmpLen  = 8
	// tsOptLen is NOP, NOP, timestamps: the options on every segment of a
	// connection that negotiated timestamps.
	tsOptLen = 12
	// synOptTS is MSS, SACK permitted, timestamps, NOP, window scale (the
	// Linux SYN); synOptNoTS is MSS, NOP, window scale, NOP, NOP, SACK
	// permitted (the Windows SYN).
	synOptTS   = 20
	synOptNoTS = 12
)

// tsShare is the share of flows whose client behaves like Linux, macOS or
// iOS rather than Windows: its TCP connections negotiate timestamps, which
// makes their IPv4 ACKs 66 bytes instead of 54, it sends with TTL 64 instead
// of 128 and pings with 56 bytes instead of 32.
const tsShare = 0.75

// Directions of data-phase TCP segments: ACK-only segments mostly come from
// the client, full ones from the server (downloads dominate), mid-size ones
// from either.
const (
	ackFromClient  = 0.80
	midFromClient  = 0.50
	fullFromClient = 0.15
)

// defaultMix is the data-segment mixture at t = 0.5, the middle of the range
// the calibration moves along.
var defaultMix = mix{ack: 0.45, mid: 0.15, full: 0.40}

// mix gives the probabilities of the three kinds of TCP data-phase segment.
type mix struct {
	ack, mid, full float64
}

// mixAt returns the mixture at t in [0, 1]: all ACK-only at 0, defaultMix
// at 0.5, all full-size at 1, linear in between. The mean frame is linear
// in t on each half, so calibration inverts it exactly.
func mixAt(t float64) mix {
	if t <= 0.5 {
		w := t / 0.5
		return mix{ack: 1 - w*(1-defaultMix.ack), mid: w * defaultMix.mid, full: w * defaultMix.full}
	}
	w := (t - 0.5) / 0.5
	return mix{ack: defaultMix.ack * (1 - w), mid: defaultMix.mid * (1 - w), full: defaultMix.full + w*(1-defaultMix.full)}
}

// lengthDist draws flow lengths: min + a Lomax (Pareto type II) variable
// with shape alpha and scale lambda, capped at capX and rounded
// stochastically so that the integer mean equals the real one.
type lengthDist struct {
	min      int64
	lambda   float64
	invAlpha float64
	capX     float64
}

// draw returns one flow length.
func (d *lengthDist) draw(r *rng) int64 {
	if d.lambda == 0 {
		return d.min
	}
	// 1-u is in (0, 1], so the power is finite.
	x := d.lambda * (math.Pow(1-r.float(), -d.invAlpha) - 1)
	if x > d.capX {
		x = d.capX
	}
	return d.min + int64(x+r.float())
}

// newLengthDist solves for the scale that gives the wanted mean once the
// cap is applied. For Lomax(α, λ), E[min(X, K)] = λ/(α-1) ·
// (1 - (λ/(λ+K))^(α-1)), which grows from 0 to K with λ.
func newLengthDist(min int64, mean, alpha float64, maxLen int64) lengthDist {
	d := lengthDist{min: min, invAlpha: 1 / alpha, capX: float64(maxLen - min)}
	target := mean - float64(min)
	if target <= 0 {
		return d
	}
	capped := func(lambda float64) float64 {
		return lambda / (alpha - 1) * (1 - math.Pow(lambda/(lambda+d.capX), alpha-1))
	}
	lo, hi := 0.0, 1.0
	for capped(hi) < target && hi < 1e300 {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if capped(mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	d.lambda = (lo + hi) / 2
	return d
}

// params is what derive computes from a Config once: the distributions and
// thresholds that the hot path reads.
type params struct {
	lengths  [numKinds]lengthDist
	kindCum  [numKinds]float64 // cumulative normalised kind weights
	lastKind kind              // the kind with positive weight drawn last
	mix      mix
	mixT     float64 // calibration point in [0, 1]
	gapMean  uint64  // mean inter-packet gap, ns
	start    int64   // first timestamp, ns since the Unix epoch
}

// derive validates c's fields and computes the params that do not depend on
// the schedule; calibrate completes them.
func (c Config) derive() (params, error) {
	var p params
	if err := c.check(); err != nil {
		return p, err
	}
	weights := [numKinds]float64{c.TCPFraction, c.UDPFraction, c.ICMPFraction}
	sum := weights[0] + weights[1] + weights[2]
	acc := 0.0
	for k := range numKinds {
		acc += weights[k] / sum
		p.kindCum[k] = acc
		if weights[k] > 0 {
			p.lastKind = k
		}
		p.lengths[k] = newLengthDist(minPackets[k], c.MeanFlowPackets, c.FlowLengthTail, c.MaxFlowPackets)
	}
	p.gapMean = uint64(math.Round(1e9 / c.PacketRate))
	if p.gapMean < 1 {
		p.gapMean = 1
	}
	p.start = c.Start.UnixNano()
	// Classic pcap stores seconds in 32 bits; allow twice the expected
	// duration, which the sum of exponential gaps exceeds with vanishing
	// probability for any packet count worth generating.
	if end := float64(c.Start.Unix()) + 2*float64(c.Packets)/c.PacketRate + 1; end >= 1<<32 {
		return p, fmt.Errorf("%w: %d packets at %v packets/s from %v end after 2106", ErrConfig, c.Packets, c.PacketRate, c.Start)
	}
	p.mixT = 0.5
	p.mix = mixAt(p.mixT)
	return p, nil
}

// composition counts the packets of a schedule by the size class they fall
// in. The schedule fixes every flow's kind and how many of its packets the
// capture holds, so the counts are exact before any packet is built.
type composition struct {
	syn   int64 // TCP SYN and SYN-ACK
	base  int64 // TCP handshake ACK and closing segments: headers only
	first int64 // TCP first data segment, a mid-size request
	mix   int64 // other TCP data segments, drawn from the mixture
	req   int64 // UDP requests
	resp  int64 // UDP responses
	icmp  int64 // ICMP echo requests and replies
}

// add counts the first sent packets of a flow of kind k and planned length
// n (see Generator.tcp for the TCP plan).
func (m *composition) add(k kind, n int64, rst bool, sent int64) {
	switch k {
	case kindTCP:
		closeN := int64(3)
		if rst {
			closeN = 1
		}
		dataEnd := n - closeN
		m.syn += min(sent, 2)
		if sent >= 3 {
			m.base++
		}
		m.base += max(0, sent-dataEnd)
		if sent >= 4 {
			m.first++
		}
		m.mix += max(0, min(sent, dataEnd)-4)
	case kindUDP:
		m.req += (sent + 1) / 2
		m.resp += sent / 2
	default:
		m.icmp += sent
	}
}

// calibrate sets the TCP data mixture so that the expected mean frame of the
// composition's packets, SYN-flood apart, is c.MeanFrameSize. The expected
// size of each class averages over the IP family and the client's OS with
// the same sizes the packet builders use; only the mixture class depends on
// the calibration point t, linearly on each half of [0, 1]. An unreachable
// target puts t at the nearer bound.
func (c Config) calibrate(p *params, m composition) {
	if c.TCPFraction == 0 || m.mix == 0 {
		return
	}
	var base, syn, ip float64
	for v6, pv6 := range [2]float64{1 - c.IPv6Fraction, c.IPv6Fraction} {
		l3 := float64(ethLen + ip4Len)
		if v6 == 1 {
			l3 = ethLen + ip6Len
		}
		ip += pv6 * l3
		base += pv6 * (tsShare*(l3+tcpLen+tsOptLen) + (1-tsShare)*(l3+tcpLen))
		syn += pv6 * (tsShare*(l3+tcpLen+synOptTS) + (1-tsShare)*(l3+tcpLen+synOptNoTS))
	}
	mid := (maxFrame + base) / 2
	var req, resp float64
	for _, prof := range udpProfiles {
		req += prof.weight * (ip + udpLen + prof.reqMean())
		resp += prof.weight * (ip + udpLen + prof.respMean())
	}
	echo := ip + icmpLen + tsShare*echoPayloadUnix + (1-tsShare)*echoPayloadWindows
	fixed := float64(m.syn)*syn + float64(m.base)*base + float64(m.first)*mid +
		float64(m.req)*req + float64(m.resp)*resp + float64(m.icmp)*echo
	packets := float64(m.syn + m.base + m.first + m.mix + m.req + m.resp + m.icmp)
	mixMean := func(t float64) float64 {
		x := mixAt(t)
		return x.ack*base + x.mid*mid + x.full*maxFrame
	}
	want := (c.MeanFrameSize*packets - fixed) / float64(m.mix)
	lo, half, hi := mixMean(0), mixMean(0.5), mixMean(1)
	switch {
	case want <= lo:
		p.mixT = 0
	case want < half:
		p.mixT = 0.5 * (want - lo) / (half - lo)
	case want < hi:
		p.mixT = 0.5 + 0.5*(want-half)/(hi-half)
	default:
		p.mixT = 1
	}
	p.mix = mixAt(p.mixT)
}
