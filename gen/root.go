package gen

import "time"

// Stats describes what a Generator produced so far.
type Stats struct {
	// Packets is the number of packets generated.
	Packets int64
	// Bytes is the sum of their frame lengths.
	Bytes int64
	// Flows is the number of flows started: TCPFlows + UDPFlows +
	// ICMPFlows + FloodFlows. Flows have distinct 5-tuples (ports 0 for
	// ICMP), as long as no client opens more than 28 232 TCP and UDP flows
	// or pings more than Config.Servers times.
	Flows int64
	// TCPFlows, UDPFlows and ICMPFlows count the flows of each kind,
	// SYN-flood flows apart.
	TCPFlows, UDPFlows, ICMPFlows int64
	// FloodFlows is the number of SYN-flood packets, one flow each.
	FloodFlows int64
	// Unfinished is the number of flows that the packet budget cut short:
	// those open after the last packet.
	Unfinished int64
	// MaxConcurrent is the largest number of flows active at one packet,
	// a flow being active from its first packet to its last one inclusive,
	// as the capture shows them. It reaches Config.ConcurrentFlows once the
	// ramp is over, plus one while a SYN-flood packet (a flow of its own)
	// is sent.
	MaxConcurrent int64
	// First and Last are the timestamps of the first and last packets, in
	// nanoseconds since the Unix epoch.
	First, Last int64
}

// Duration returns the time from the first packet to the last.
func (s Stats) Duration() time.Duration {
	return time.Duration(s.Last - s.First)
}

// MeanFrame returns the mean frame length in bytes, or 0 with no packets.
func (s Stats) MeanFrame() float64 {
	if s.Packets == 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Packets)
}

// Generator produces the packets of a Config one at a time, in memory. It
// is what Write uses, and what benchmarks of later stages can read directly
// to leave file parsing out.
type Generator struct {
	cfg      Config
	p        params
	sched    sched
	st       step
	rng      rng // content stream
	key      uint64
	flows    []flow
	portNext []uint32 // per client: ephemeral ports used
	icmpNext []uint32 // per client: pings started
	flood4   uint64   // IPv4 SYN-flood packets sent
	flood6   uint64   // IPv6 SYN-flood packets sent
	now      int64
	active   int64
	hdr      int // header bytes of the frame in buf; the rest is zeros
	stats    Stats
	buf      [maxFrame]byte
}

// New validates cfg and returns a Generator at its first packet. It
// allocates the per-flow and per-client state and replays the schedule
// once (see the package comment); Next allocates nothing.
func New(cfg Config) (*Generator, error) {
	p, last, err := cfg.prepare()
	if err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:      cfg,
		p:        p,
		rng:      newRNG(cfg.Seed, streamContent),
		key:      mix64(uint64(cfg.Seed) ^ 0x6a09e667f3bcc909),
		portNext: make([]uint32, cfg.Clients),
		icmpNext: make([]uint32, cfg.Clients),
		now:      p.start,
	}
	// The scheduler keeps a pointer to the params, which live in g.
	g.sched = newSched(cfg, &g.p)
	g.flows = make([]flow, len(g.sched.rem))
	for i := range g.flows {
		g.flows[i].lastPick = last[i]
	}
	return g, nil
}

// Next returns the timestamp (nanoseconds since the Unix epoch) and the
// Ethernet frame of the next packet, or ok false after Config.Packets
// packets. The frame points into the Generator and is valid until the next
// call; it must not be modified, since the generator relies on the payload
// bytes staying zero.
func (g *Generator) Next() (ts int64, frame []byte, ok bool) {
	if g.sched.left == 0 {
		return 0, nil, false
	}
	i := g.stats.Packets
	st := &g.st
	g.sched.next(st)
	clear(g.buf[:g.hdr])
	var n int
	if st.flood {
		g.hdr, n = g.flood()
		g.stats.Flows++
		g.stats.FloodFlows++
		// The flood flow is active at this packet only.
		g.stats.MaxConcurrent = max(g.stats.MaxConcurrent, g.active+1)
	} else {
		f := &g.flows[st.slot]
		if st.fresh {
			g.start(f, st.kind, st.rst)
			g.active++
			g.stats.Flows++
			switch st.kind {
			case kindTCP:
				g.stats.TCPFlows++
			case kindUDP:
				g.stats.UDPFlows++
			default:
				g.stats.ICMPFlows++
			}
		}
		g.stats.MaxConcurrent = max(g.stats.MaxConcurrent, g.active)
		switch f.kind {
		case kindTCP:
			g.hdr, n = g.tcp(f, st.rem)
		case kindUDP:
			g.hdr, n = g.udp(f)
		default:
			g.hdr, n = g.icmp(f)
		}
		f.sent++
		// A flow stops being active after its last packet: the last of
		// its plan, or the last its slot sends before the budget runs out.
		if st.last || i == f.lastPick {
			g.active--
			if !st.last {
				g.stats.Unfinished++
			}
		}
	}
	ts = g.now
	if i == 0 {
		g.stats.First = ts
	}
	g.stats.Last = ts
	g.stats.Packets++
	g.stats.Bytes += int64(n)
	g.now += int64(max(1, g.rng.exp(g.p.gapMean)))
	return ts, g.buf[:n], true
}

// Stats returns the statistics of the packets generated so far.
func (g *Generator) Stats() Stats {
	return g.stats
}
