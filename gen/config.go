package gen

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is wrapped by every error that Validate, New and Write return
// for a Config that cannot be generated.
var ErrConfig = errors.New("invalid config")

// Address-pool limits, from the prefixes the pools live in: clients in
// 10.0.0.0/8, servers in 172.16.0.0/12 (network and broadcast addresses
// excluded).
const (
	// MaxClients is the largest Config.Clients.
	MaxClients = 1<<24 - 2
	// MaxServers is the largest Config.Servers.
	MaxServers = 1<<20 - 2
)

// Ephemeral client ports are drawn from Linux's default range, 32768–60999.
const (
	ephemeralFirst = 32768
	ephemeralCount = 60999 - 32768 + 1
)

// Config describes the traffic to generate. Start from DefaultConfig and
// change what the test needs: every field must be valid, zero values are not
// replaced by defaults.
type Config struct {
	// Seed selects the pseudo-random sequence. The same Config always gives
	// the same packets, byte for byte.
	Seed int64
	// Packets is the number of packets to generate, SYN-flood packets
	// included. Generation stops when it is reached, cutting the flows
	// still open.
	Packets int64
	// ConcurrentFlows is the number of flows open at once. Flows start
	// during a ramp of about twice as many packets; after that, when a flow
	// sends its last packet, the next packet that is not a SYN-flood packet
	// starts a new flow, so the count stays at ConcurrentFlows. Each costs
	// about 180 bytes of memory.
	ConcurrentFlows int
	// IPv6Fraction is the probability, in [0, 1], that a flow uses IPv6.
	IPv6Fraction float64

	// TCPFraction, UDPFraction and ICMPFraction are the relative shares of
	// TCP, UDP and ICMP echo flows among new flows (SYN-flood flows apart).
	// They are weights, divided by their sum, which must be positive.
	TCPFraction, UDPFraction, ICMPFraction float64

	// MeanFlowPackets is the mean number of packets per flow. Lengths
	// follow a Pareto law shifted to each kind's minimum (7 packets for TCP,
	// 2 for UDP and ICMP): most flows are a few packets long, a few are very
	// long. A kind whose minimum exceeds the mean keeps to its minimum.
	// Each flow slot sends about Packets/ConcurrentFlows packets in all, and
	// the flows open at the end are cut, so a capture whose slots send few
	// packets holds shorter flows than this mean.
	MeanFlowPackets float64
	// FlowLengthTail is the shape α of the Pareto law, above 1. The smaller,
	// the heavier the tail: 1.5 gives an infinite variance, only tamed by
	// MaxFlowPackets.
	FlowLengthTail float64
	// MaxFlowPackets caps the length of one flow, at least 7 and above
	// MeanFlowPackets. The mean accounts for the cap.
	MaxFlowPackets int64

	// MeanFrameSize is the mean Ethernet frame length in bytes, headers
	// included, that the traffic aims at, SYN-flood packets apart, in
	// [54, 1514]. New reaches it by adjusting the mixture of TCP data
	// segments (ACK-only, mid-size, full 1514-byte frames) to the exact
	// make-up of the capture: the handshakes, closes, UDP and ICMP packets
	// that its schedule holds. When those leave it out of reach (a capture
	// of a few packets per flow is mostly handshakes), the mixture goes to
	// its bound, all ACK-only or all full-size, and Stats.MeanFrame tells
	// what was reached. It is ignored when TCPFraction is 0.
	MeanFrameSize float64
	// RSTFraction is the share of TCP connections, in [0, 1], that end
	// with a RST instead of a FIN from each side and a last ACK.
	RSTFraction float64

	// Clients and Servers size the address pools. A flow's client is drawn
	// uniformly, its server with a skew towards low indices (popular
	// servers). Every client has an IPv4 address in 10.0.0.0/8 and an IPv6
	// address in 2001:db8:0:c::/64; every server one in 172.16.0.0/12 and
	// one in 2001:db8:0:5::/64.
	Clients, Servers int

	// PacketRate is the mean number of packets per second. Gaps between
	// packets are exponential with mean 1/PacketRate, at least 1 ns, so
	// timestamps increase strictly.
	PacketRate float64
	// Start is the timestamp of the first packet, between 1970 and 2100.
	Start time.Time

	// SYNFlood is the number of SYN-flood packets among Packets. Each is a
	// flow of its own: one TCP SYN without options from a distinct source
	// (IPv4 in 198.18.0.0/15, IPv6 in 2001:db8:0:f::/64, the family drawn
	// with IPv6Fraction) to port FloodPort of server 0. They are spread
	// uniformly over the capture. SYNFlood equal to Packets gives a pure
	// flood.
	SYNFlood int64
	// FloodPort is the destination port of SYN-flood packets.
	FloodPort uint16
}

// DefaultConfig returns the configuration the benchmarks use: 1 M packets,
// 10 000 concurrent flows, 20 % IPv6, 80/15/5 % TCP/UDP/ICMP flows of 20
// packets on average (Pareto α 1.5), a 650-byte mean frame, 10 % of TCP
// connections reset, 100 000 packets per second from 2024-01-01T00:00:00Z.
func DefaultConfig() Config {
	return Config{
		Seed:            1,
		Packets:         1_000_000,
		ConcurrentFlows: 10_000,
		IPv6Fraction:    0.2,
		TCPFraction:     0.80,
		UDPFraction:     0.15,
		ICMPFraction:    0.05,
		MeanFlowPackets: 20,
		FlowLengthTail:  1.5,
		MaxFlowPackets:  1_000_000,
		MeanFrameSize:   650,
		RSTFraction:     0.1,
		Clients:         4096,
		Servers:         512,
		PacketRate:      100_000,
		Start:           time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		SYNFlood:        0,
		FloodPort:       80,
	}
}

// Validate reports the first problem that keeps the Config from being
// generated, wrapping ErrConfig, or nil.
func (c Config) Validate() error {
	_, err := c.derive()
	return err
}

// prepare validates c and computes its params and the last packet of each
// slot.
func (c Config) prepare() (params, []int64, error) {
	p, err := c.derive()
	if err != nil {
		return p, nil, err
	}
	last, m := replay(c, &p)
	c.calibrate(&p, m)
	return p, last, nil
}

// check validates the fields one by one; derive adds the checks that need
// computed parameters.
func (c Config) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	fraction := func(name string, v float64) error {
		if !(v >= 0 && v <= 1) {
			return bad("%s %v not in [0, 1]", name, v)
		}
		return nil
	}
	switch {
	case c.Packets < 0:
		return bad("Packets %d is negative", c.Packets)
	case c.ConcurrentFlows < 1:
		return bad("ConcurrentFlows %d is not positive", c.ConcurrentFlows)
	case c.SYNFlood < 0 || c.SYNFlood > c.Packets:
		return bad("SYNFlood %d not in [0, Packets=%d]", c.SYNFlood, c.Packets)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"IPv6Fraction", c.IPv6Fraction},
		{"TCPFraction", c.TCPFraction},
		{"UDPFraction", c.UDPFraction},
		{"ICMPFraction", c.ICMPFraction},
		{"RSTFraction", c.RSTFraction},
	} {
		if err := fraction(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case c.TCPFraction+c.UDPFraction+c.ICMPFraction <= 0:
		return bad("TCPFraction, UDPFraction and ICMPFraction are all 0")
	case !(c.FlowLengthTail > 1 && c.FlowLengthTail <= 100):
		return bad("FlowLengthTail %v not in (1, 100]", c.FlowLengthTail)
	case c.MaxFlowPackets < minTCPPackets:
		return bad("MaxFlowPackets %d below %d", c.MaxFlowPackets, minTCPPackets)
	case !(c.MeanFlowPackets >= 1 && c.MeanFlowPackets < float64(c.MaxFlowPackets)):
		return bad("MeanFlowPackets %v not in [1, MaxFlowPackets=%d)", c.MeanFlowPackets, c.MaxFlowPackets)
	case c.Clients < 1 || c.Clients > MaxClients:
		return bad("Clients %d not in [1, %d]", c.Clients, MaxClients)
	case c.Servers < 1 || c.Servers > MaxServers:
		return bad("Servers %d not in [1, %d]", c.Servers, MaxServers)
	case !(c.PacketRate >= 1e-3 && c.PacketRate <= 1e9):
		return bad("PacketRate %v not in [0.001, 1e9] packets/s", c.PacketRate)
	case c.Start.Year() < 1970 || c.Start.Year() > 2100:
		return bad("Start %v not between 1970 and 2100", c.Start)
	case c.TCPFraction > 0 && !(c.MeanFrameSize >= ethLen+ip4Len+tcpLen && c.MeanFrameSize <= maxFrame):
		return bad("MeanFrameSize %v not in [%d, %d]", c.MeanFrameSize, ethLen+ip4Len+tcpLen, maxFrame)
	}
	return nil
}
