package extract

// The connection extractor relates flows through their endpoints
// (extractors.md, "connection"). A node is an IP address, or IP:port with
// connection_use_ports; each flow is an edge from its initiator's node
// (src) to its responder's node (dst).
//
// Both scopes share one set of counters, updated in Observe in capture
// order: when a flow starts (its New packet) it interns its two nodes, its
// edge and its (edge, dst port) triple and counts itself; every packet adds
// itself to the packet and byte totals of the flow's two nodes. (Counting
// a flow at its first packet rather than at Emit gives the same totals
// once the whole input is read, needs no per-flow byte counter, and is
// what scope causal needs anyway.)
//
//   - Scope causal reads the counters at each of the flow's packets and
//     keeps the latest reading in the flow's slot (a snapshot of a few
//     words), so the row holds the values as they stood at the flow's last
//     packet, that packet included. Rows stream.
//   - Scope capture runs the same updates over the whole input in pass 1
//     (MultiPass) and writes throw-away rows; between the passes it derives
//     the temporal values and the graph metrics once; pass 2 reads the
//     final counters for each flow. That looks ahead: a row counts flows
//     that started after it.
//
// Memory grows with distinct nodes, edges, (edge, dst port) triples and
// (src node, dst port) pairs, never with flows: a flow costs only its slot
// while it is open. The one exception is opt-in and bounded by time, not by
// flows: conn_burst_connections keeps, per node, the flow starts of the
// last burstWindow + lateTolerance of capture time (see nodeTimes).
//
// Temporal columns take a flow's start as the timestamp of its first
// packet in capture order. That is start_time whenever the capture is in
// timestamp order; in an out-of-order capture start_time (the earliest
// timestamp) can be lowered by a later packet, which a causal counter
// cannot take back, so both scopes use the first packet's time and agree.

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"

	"github.com/jjflow/jj/output"
)

// Column indexes into connectionColumns.
const (
	cnSrcUniqueDsts = iota
	cnDstUniqueSrcs
	cnSrcDstFlows
	cnSrcPortFlows
	cnSrcTotalFlows
	cnDstTotalFlows
	cnSrcTotalPackets
	cnSrcTotalBytes
	cnDstTotalPackets
	cnDstTotalBytes
	cnSrcUniquePorts
	cnSrcOutDegree
	cnDstInDegree
	cnSrcBetweenness // graph metrics
	cnDstBetweenness
	cnSrcCommunity
	cnDstCommunity
	cnSameCommunity
	cnSrcClustering
	cnDstClustering
	cnSrcFlowRate // temporal
	cnTemporalSpread
	cnBurstConnections
)

// connCol describes one connection column; the scope sentence is added by
// NewConnection.
type connCol struct {
	name, unit, dir, desc string
	t                     output.Type
	counted               bool // a count that depends on the scope
}

var connectionColumns = []connCol{
	{name: "conn_src_unique_dsts", t: output.Int, unit: "nodes", desc: "distinct nodes src initiated flows to", counted: true},
	{name: "conn_dst_unique_srcs", t: output.Int, unit: "nodes", desc: "distinct nodes that initiated flows to dst", counted: true},
	{name: "conn_src_dst_flows", t: output.Int, unit: "flows", desc: "flows from src to dst", counted: true},
	{name: "conn_src_port_flows", t: output.Int, unit: "flows", desc: "flows from src to dst on this flow's dst_port", counted: true},
	{name: "conn_src_total_flows", t: output.Int, unit: "flows", desc: "flows src initiated", counted: true},
	{name: "conn_dst_total_flows", t: output.Int, unit: "flows", desc: "flows dst responded to", counted: true},
	{name: "conn_src_total_packets", t: output.Int, unit: "packets", dir: "both", desc: "packets in both directions of the flows src initiated", counted: true},
	{name: "conn_src_total_bytes", t: output.Int, unit: "bytes", dir: "both", desc: "IP bytes in both directions of the flows src initiated", counted: true},
	{name: "conn_dst_total_packets", t: output.Int, unit: "packets", dir: "both", desc: "packets in both directions of the flows dst responded to", counted: true},
	{name: "conn_dst_total_bytes", t: output.Int, unit: "bytes", dir: "both", desc: "IP bytes in both directions of the flows dst responded to", counted: true},
	{name: "conn_src_unique_ports", t: output.Int, unit: "ports", desc: "distinct dst ports of the flows src initiated", counted: true},
	{name: "conn_src_out_degree", t: output.Int, unit: "nodes", desc: "out-degree of src in the simple directed graph (equals conn_src_unique_dsts)", counted: true},
	{name: "conn_dst_in_degree", t: output.Int, unit: "nodes", desc: "in-degree of dst in the simple directed graph (equals conn_dst_unique_srcs)", counted: true},

	{name: "conn_src_betweenness", t: output.Float, desc: "betweenness centrality of src: directed, unweighted, normalised by (n-1)(n-2); estimated from sampled sources on large graphs (see the run summary)"},
	{name: "conn_dst_betweenness", t: output.Float, desc: "betweenness centrality of dst"},
	{name: "conn_src_community", t: output.Int, desc: "Louvain community of src on the undirected graph weighted by flow count (fixed seed); ids numbered by first appearance in the output, src before dst"},
	{name: "conn_dst_community", t: output.Int, desc: "Louvain community of dst"},
	{name: "conn_same_community", t: output.Int, desc: "1 if src and dst are in the same community, else 0"},
	{name: "conn_src_clustering", t: output.Float, desc: "clustering coefficient of src in the undirected, unweighted graph (self-loops ignored)"},
	{name: "conn_dst_clustering", t: output.Float, desc: "clustering coefficient of dst"},

	{name: "conn_src_flow_rate", t: output.Float, unit: "flows/s", desc: "flows src initiated / seconds between the first and last start of src's flows (either role); 0 if that span is 0", counted: true},
	{name: "conn_temporal_spread", t: output.Float, unit: "s", desc: "population standard deviation of the start times of src's flows (either role)", counted: true},
	{name: "conn_burst_connections", t: output.Int, unit: "flows", desc: "largest number of src's flows (either role) starting within one second of each other (a closed 1 s window)", counted: true},
}

// Scope sentences appended to the descriptions of counted columns.
const (
	captureScopeNote = "; scope capture: whole input, flows starting after this one included (look-ahead)"
	causalScopeNote  = "; scope causal: as of this flow's last packet"
	graphScopeNote   = "; whole input's graph (scope capture only, look-ahead)"
)

// Tuning of the derived columns.
const (
	// burstWindow is conn_burst_connections' window, inclusive.
	burstWindow = int64(1e9)
	// lateTolerance is how far (capture time) a flow may start before a
	// flow of the same node seen earlier in the input and still be
	// counted exactly in conn_burst_connections.
	lateTolerance = int64(10e9)
	// louvainSeed and betweennessSeed fix the random choices, so reruns
	// agree.
	louvainSeed     = 1
	betweennessSeed = 2
)

// Connection is the connection extractor.
type Connection struct {
	cols     []output.Column
	colIdx   []int // connectionColumns index of each enabled column
	causal   bool
	ports    bool // nodes are IP:port
	graph    bool // graph metric columns (scope capture only)
	temporal bool
	pass     int

	nodeIdx map[nodeKey]uint32
	nodes   []connNode
	times   []nodeTimes // per node, with temporal columns

	edgeIdx   map[uint64]uint32 // src<<32 | dst → edge
	edgeFlows []uint64

	tripleIdx   map[uint64]uint32 // edge<<16 | dst port → triple
	tripleFlows []uint64

	srcPorts map[uint64]struct{} // src<<16 | dst port, the flows src initiated

	// Per open flow, by slot. Memory grows with concurrent flows only:
	// 8 bytes in scope capture; in scope causal also the snapshot (96
	// bytes, 24 more with temporal columns).
	slots []connSlot
	snaps []causalSlot
	tsnap []timeSnap

	// Graph metrics, per node, computed between the passes.
	rank        []uint32 // 1 + order of first appearance in the output; 0 = none yet
	nextRank    uint32
	betweenness []float64
	community   []int64
	clustering  []float64

	lateStarts uint64 // flow starts counted approximately by the burst window
	warnings   []string
	budget     float64 // betweennessBudget; tests lower it
}

// nodeKey identifies a node: an address, and a port with
// connection_use_ports (0 otherwise).
type nodeKey struct {
	addr [16]byte
	port uint16
	v6   bool
}

// connNode holds one node's counters.
type connNode struct {
	outFlows, inFlows    uint64 // flows initiated, responded to
	outPackets, outBytes uint64 // of the flows initiated
	inPackets, inBytes   uint64 // of the flows responded to
	outDegree, inDegree  uint64 // distinct dst nodes, distinct src nodes
	ports                uint64 // distinct dst ports of the flows initiated
}

// connSlot is an open flow's nodes, each + 1 (0: no flow in the slot).
type connSlot struct{ src1, dst1 uint32 }

// causalSlot is an open flow's edge and triple and its count columns as
// of its latest packet (scope causal); the degree columns repeat
// conn_src_unique_dsts and conn_dst_unique_srcs and are not stored.
type causalSlot struct {
	edge, triple uint32
	counts       [cnSrcUniquePorts + 1]uint64
}

// timeSnap is an open flow's temporal columns as of its latest packet
// (scope causal).
type timeSnap struct {
	rate, spread float64
	burst        uint64
}

// connSnap is a flow's values as Emit writes them.
type connSnap struct {
	counts [cnSrcUniquePorts + 1]uint64
	timeSnap
}

var (
	_ Extractor  = (*Connection)(nil)
	_ MultiPass  = (*Connection)(nil)
	_ Sequential = (*Connection)(nil)
)

// NewConnection builds the connection extractor for the options. An empty
// scope is capture, the default. Graph metrics exist in scope capture
// only: in scope causal their columns are left out and Warnings says so.
func NewConnection(o Options) *Connection {
	c := &Connection{
		causal:    o.ConnectionScope == "causal",
		ports:     o.ConnectionUsePorts,
		temporal:  o.ConnectionTemporal,
		pass:      1,
		nodeIdx:   map[nodeKey]uint32{},
		edgeIdx:   map[uint64]uint32{},
		tripleIdx: map[uint64]uint32{},
		srcPorts:  map[uint64]struct{}{},
		budget:    betweennessBudget,
	}
	c.graph = o.ConnectionGraphMetrics && !c.causal
	if o.ConnectionGraphMetrics && c.causal {
		c.warnings = append(c.warnings, "connection: graph metrics need connection_scope capture; their columns are left out in scope causal")
	}
	for i, cc := range connectionColumns {
		switch {
		case i >= cnSrcBetweenness && i <= cnDstClustering && !c.graph:
			continue
		case i >= cnSrcFlowRate && !c.temporal:
			continue
		}
		desc := cc.desc
		switch {
		case i >= cnSrcBetweenness && i <= cnDstClustering:
			desc += graphScopeNote
		case c.causal:
			desc += causalScopeNote
		default:
			desc += captureScopeNote
		}
		c.cols = append(c.cols, output.Column{Group: "connection", Name: cc.name, Type: cc.t, Unit: cc.unit, Direction: cc.dir, Privacy: output.Sensitive, Description: desc})
		c.colIdx = append(c.colIdx, i)
	}
	return c
}

// Name returns "connection".
func (c *Connection) Name() string { return "connection" }

// Columns returns the enabled columns.
func (c *Connection) Columns() []output.Column { return c.cols }

// Sequential is true: the counters span flows, so one flow table must see
// every packet in input order.
func (c *Connection) Sequential() bool { return true }

// Passes is 2 in scope capture (gather, then write) and 1 in scope causal.
func (c *Connection) Passes() int {
	if c.causal {
		return 1
	}
	return 2
}

// StartPass is called before pass n (1-based). Before pass 2 of scope
// capture it derives the temporal values and the graph metrics from the
// final counters and frees what pass 2 does not read.
func (c *Connection) StartPass(n int) {
	c.pass = n
	if n != 2 || c.causal {
		return
	}
	if c.temporal {
		for i := range c.times {
			t := &c.times[i]
			t.refresh(c.nodes[i].outFlows)
			t.win = nil
		}
	}
	if c.lateStarts > 0 {
		c.warnings = append(c.warnings, c.lateWarning())
	}
	c.srcPorts = nil
	c.slots = nil // pass 2 reads flows, not slots
	if c.graph {
		c.graphMetrics()
	}
}

// Warnings returns what the run summary should report: sampled
// betweenness, approximate burst counts, graph metrics left out. Valid
// after the last pass; scope causal adds its burst warning at the first
// call.
func (c *Connection) Warnings() []string {
	ws := slices.Clone(c.warnings)
	if c.causal && c.lateStarts > 0 {
		ws = append(ws, c.lateWarning())
	}
	return ws
}

func (c *Connection) lateWarning() string {
	return fmt.Sprintf("connection: %d flow starts came more than %gs of capture time after a later-stamped start of the same node; conn_burst_connections may undercount around them", c.lateStarts, float64(lateTolerance)/1e9)
}

// Observe updates the counters (pass 1, or scope causal) and, in scope
// causal, snapshots each packet's flow. Pass 2 of scope capture reads
// nothing from packets.
func (c *Connection) Observe(refs []Ref) {
	if c.pass > 1 {
		return
	}
	for i := range refs {
		r := &refs[i]
		if r.New {
			c.slots = grow(c.slots, int(r.Slot)+1)
			if c.causal {
				c.snaps = grow(c.snaps, int(r.Slot)+1)
				if c.temporal {
					c.tsnap = grow(c.tsnap, int(r.Slot)+1)
				}
			}
			c.start(r)
		}
		s := c.slots[r.Slot]
		if s.src1 == 0 {
			continue // not started (a Ref without New first): nothing to count
		}
		n := uint64(r.Pkt.Length)
		src, dst := &c.nodes[s.src1-1], &c.nodes[s.dst1-1]
		src.outPackets++
		src.outBytes += n
		dst.inPackets++
		dst.inBytes += n
		if c.causal {
			c.snapshot(r.Slot, s)
		}
	}
}

// start interns a new flow's nodes, edge and triple and counts the flow.
// The first packet's sender is the initiator.
func (c *Connection) start(r *Ref) {
	p := r.Pkt
	sa, da, sp, dp := p.Src, p.Dst, p.SrcPort, p.DstPort
	if r.Dir == Bwd {
		sa, da, sp, dp = da, sa, dp, sp
	}
	src, dst := c.intern(sa, sp, p.V6), c.intern(da, dp, p.V6)
	ek := uint64(src)<<32 | uint64(dst)
	e, ok := c.edgeIdx[ek]
	if !ok {
		e = uint32(len(c.edgeFlows))
		c.edgeIdx[ek] = e
		c.edgeFlows = append(c.edgeFlows, 0)
		c.nodes[src].outDegree++
		c.nodes[dst].inDegree++
	}
	c.edgeFlows[e]++
	// With IP:port nodes the dst node carries the port: the triple is the
	// edge, and tripleFlows stays empty (see flowsOn).
	t := e
	if !c.ports {
		tk := uint64(e)<<16 | uint64(dp)
		t, ok = c.tripleIdx[tk]
		if !ok {
			t = uint32(len(c.tripleFlows))
			c.tripleIdx[tk] = t
			c.tripleFlows = append(c.tripleFlows, 0)
		}
		c.tripleFlows[t]++
	}
	pk := uint64(src)<<16 | uint64(dp)
	if _, ok := c.srcPorts[pk]; !ok {
		c.srcPorts[pk] = struct{}{}
		c.nodes[src].ports++
	}
	c.nodes[src].outFlows++
	c.nodes[dst].inFlows++
	if c.temporal {
		ts := p.Timestamp
		late := c.times[src].add(ts)
		if dst != src {
			late = c.times[dst].add(ts) || late
		}
		if late {
			c.lateStarts++
		}
		if c.causal {
			c.times[src].refresh(c.nodes[src].outFlows)
			c.times[dst].refresh(c.nodes[dst].outFlows)
		}
	}
	c.slots[r.Slot] = connSlot{src1: src + 1, dst1: dst + 1}
	if c.causal {
		c.snaps[r.Slot] = causalSlot{edge: e, triple: t}
	}
}

// intern returns the node of an endpoint, adding it if new.
func (c *Connection) intern(a [16]byte, port uint16, v6 bool) uint32 {
	if !c.ports {
		port = 0
	}
	k := nodeKey{addr: a, port: port, v6: v6}
	id, ok := c.nodeIdx[k]
	if !ok {
		id = uint32(len(c.nodes))
		c.nodeIdx[k] = id
		c.nodes = append(c.nodes, connNode{})
		if c.temporal {
			c.times = append(c.times, nodeTimes{})
		}
	}
	return id
}

// lookup returns the node of an endpoint of an emitted flow.
func (c *Connection) lookup(a [16]byte, port uint16, v6 bool) (uint32, bool) {
	if !c.ports {
		port = 0
	}
	id, ok := c.nodeIdx[nodeKey{addr: a, port: port, v6: v6}]
	return id, ok
}

// counts fills the count columns of the flow src → dst over edge e and
// triple t from the current counters.
func (c *Connection) counts(v *[cnSrcUniquePorts + 1]uint64, src, dst, e, t uint32) {
	sn, dn := &c.nodes[src], &c.nodes[dst]
	*v = [cnSrcUniquePorts + 1]uint64{
		cnSrcUniqueDsts:   sn.outDegree,
		cnDstUniqueSrcs:   dn.inDegree,
		cnSrcDstFlows:     c.edgeFlows[e],
		cnSrcPortFlows:    c.flowsOn(e, t),
		cnSrcTotalFlows:   sn.outFlows,
		cnDstTotalFlows:   dn.inFlows,
		cnSrcTotalPackets: sn.outPackets,
		cnSrcTotalBytes:   sn.outBytes,
		cnDstTotalPackets: dn.inPackets,
		cnDstTotalBytes:   dn.inBytes,
		cnSrcUniquePorts:  sn.ports,
	}
}

// flowsOn returns the flows of triple t on edge e.
func (c *Connection) flowsOn(e, t uint32) uint64 {
	if c.ports {
		return c.edgeFlows[e]
	}
	return c.tripleFlows[t]
}

// snapshot records the flow's values as of the packet just counted.
func (c *Connection) snapshot(slot uint32, s connSlot) {
	cs := &c.snaps[slot]
	c.counts(&cs.counts, s.src1-1, s.dst1-1, cs.edge, cs.triple)
	if c.temporal {
		t := &c.times[s.src1-1]
		c.tsnap[slot] = timeSnap{t.rate, t.spread, t.burst}
	}
}

// Emit appends the flow's connection values: the snapshot in scope
// causal, zeros in pass 1 of scope capture (those rows are not written),
// the final counters in pass 2.
func (c *Connection) Emit(slot uint32, f *Flow, b *output.Batch, base int) {
	var s connSlot
	if int(slot) < len(c.slots) {
		s = c.slots[slot]
		c.slots[slot] = connSlot{}
	}
	switch {
	case c.causal:
		var snap connSnap
		if s.src1 != 0 {
			snap.counts = c.snaps[slot].counts
			if c.temporal {
				snap.timeSnap = c.tsnap[slot]
			}
		}
		c.write(b, base, &snap, 0, 0)
	case c.pass == 1:
		if s.src1 != 0 && c.graph {
			c.appear(s.src1 - 1)
			c.appear(s.dst1 - 1)
		}
		c.write(b, base, &connSnap{}, 0, 0)
	default:
		var snap connSnap
		src, dst, ok := c.final(f, &snap)
		if !ok {
			c.write(b, base, &connSnap{}, 0, 0)
			break
		}
		c.write(b, base, &snap, src, dst)
	}
}

// final fills snap from the final counters for flow f (scope capture,
// pass 2); false if the flow was not seen in pass 1.
func (c *Connection) final(f *Flow, snap *connSnap) (src, dst uint32, ok bool) {
	src, ok1 := c.lookup(f.Src, f.SrcPort, f.V6)
	dst, ok2 := c.lookup(f.Dst, f.DstPort, f.V6)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	e, ok := c.edgeIdx[uint64(src)<<32|uint64(dst)]
	if !ok {
		return 0, 0, false
	}
	t := e
	if !c.ports {
		if t, ok = c.tripleIdx[uint64(e)<<16|uint64(f.DstPort)]; !ok {
			return 0, 0, false
		}
	}
	c.counts(&snap.counts, src, dst, e, t)
	if c.temporal {
		tm := &c.times[src]
		snap.rate, snap.spread, snap.burst = tm.rate, tm.spread, tm.burst
	}
	return src, dst, true
}

// appear numbers a node by its first appearance in the output (pass 1).
func (c *Connection) appear(n uint32) {
	c.rank = grow(c.rank, int(n)+1)
	if c.rank[n] == 0 {
		c.nextRank++
		c.rank[n] = c.nextRank
	}
}

// write appends the enabled columns. Graph values are those of nodes src
// and dst when the metrics were computed, zero otherwise.
func (c *Connection) write(b *output.Batch, base int, snap *connSnap, src, dst uint32) {
	haveGraph := c.graph && c.pass > 1 && int(src) < len(c.community) && int(dst) < len(c.community)
	for j, i := range c.colIdx {
		col := base + j
		switch {
		case i <= cnSrcUniquePorts:
			b.AppendUint(col, snap.counts[i])
		case i == cnSrcOutDegree:
			b.AppendUint(col, snap.counts[cnSrcUniqueDsts])
		case i == cnDstInDegree:
			b.AppendUint(col, snap.counts[cnDstUniqueSrcs])
		case i == cnSrcFlowRate:
			b.AppendFloat(col, snap.rate)
		case i == cnTemporalSpread:
			b.AppendFloat(col, snap.spread)
		case i == cnBurstConnections:
			b.AppendUint(col, snap.burst)
		case !haveGraph:
			if connectionColumns[i].t == output.Float {
				b.AppendFloat(col, 0)
			} else {
				b.AppendInt(col, 0)
			}
		case i == cnSrcBetweenness:
			b.AppendFloat(col, c.betweenness[src])
		case i == cnDstBetweenness:
			b.AppendFloat(col, c.betweenness[dst])
		case i == cnSrcCommunity:
			b.AppendInt(col, c.community[src])
		case i == cnDstCommunity:
			b.AppendInt(col, c.community[dst])
		case i == cnSameCommunity:
			same := int64(0)
			if c.community[src] == c.community[dst] {
				same = 1
			}
			b.AppendInt(col, same)
		case i == cnSrcClustering:
			b.AppendFloat(col, c.clustering[src])
		case i == cnDstClustering:
			b.AppendFloat(col, c.clustering[dst])
		}
	}
}

// nodeTimes is one node's flow starts, either role, for the temporal
// columns. Sums are exact integers of start − base, so the variance is
// exact before its one rounding and a constant series gives exactly 0.
//
// conn_burst_connections needs, for each start e, the starts in
// [e − 1 s, e]. Exact over the whole input that needs every start of the
// node sorted, which grows with flows. Instead the starts arrive in
// capture order and win keeps those within burstWindow + lateTolerance of
// the latest one: memory grows with the node's flows per 11 s, not with
// its flows. A start at or after the latest closes the window ending at
// it; a start up to lateTolerance before the latest is inserted in order
// and the windows ending at or after it (whose starts are all still kept)
// are recounted, so the count stays exact. Only a start more than
// lateTolerance before the latest (captures merged out of order) is
// counted against the starts kept, possibly too low; it is reported as
// late.
type nodeTimes struct {
	n      uint64    // flows, either role
	base   int64     // first start seen; deviations are from it
	lo, hi int64     // earliest and latest start
	s1     u128      // Σ (start − base), two's complement
	s2     [3]uint64 // Σ (start − base)², little-endian words
	burst  uint64
	win    []int64 // sorted starts ≥ latest − burstWindow − lateTolerance

	// Derived by refresh: at each start in scope causal, once after
	// pass 1 in scope capture.
	rate, spread float64
}

// add counts a flow start; it reports whether the start was too late for
// an exact burst count.
func (t *nodeTimes) add(ts int64) (late bool) {
	if t.n == 0 {
		t.base, t.lo, t.hi = ts, ts, ts
	}
	t.n++
	t.lo, t.hi = min(t.lo, ts), max(t.hi, ts)
	// |ts − base| < 2^64 always, computed without overflow in uint64.
	if ts >= t.base {
		d := uint64(ts) - uint64(t.base)
		t.s1.add(d)
		t.addSquare(d)
	} else {
		d := uint64(t.base) - uint64(ts)
		lo, b := bits.Sub64(t.s1.lo, d, 0)
		t.s1 = u128{t.s1.hi - b, lo}
		t.addSquare(d)
	}
	return t.addBurst(ts)
}

func (t *nodeTimes) addSquare(d uint64) {
	hi, lo := bits.Mul64(d, d)
	var c uint64
	t.s2[0], c = bits.Add64(t.s2[0], lo, 0)
	t.s2[1], c = bits.Add64(t.s2[1], hi, c)
	t.s2[2] += c
}

// addBurst puts ts into the window and updates the burst count.
func (t *nodeTimes) addBurst(ts int64) (late bool) {
	w := t.win
	if len(w) == 0 || ts >= w[len(w)-1] {
		// In order: drop what no later window can reach, then count the
		// window ending at ts.
		cut := subSat(ts, burstWindow+lateTolerance)
		k := 0
		for k < len(w) && w[k] < cut {
			k++
		}
		w = append(w[k:], ts)
		i, _ := slices.BinarySearch(w, subSat(ts, burstWindow))
		t.burst = max(t.burst, uint64(len(w)-i))
		t.win = w
		return false
	}
	late = ts < subSat(w[len(w)-1], lateTolerance)
	// Insert after equal starts, then recount every window ending at a
	// start in [ts, ts + burstWindow]: only those contain ts.
	j := len(w)
	for j > 0 && w[j-1] > ts {
		j--
	}
	w = slices.Insert(w, j, ts)
	lo := 0
	for e := j; e < len(w) && subSat(w[e], burstWindow) <= ts; e++ {
		for w[lo] < subSat(w[e], burstWindow) {
			lo++
		}
		t.burst = max(t.burst, uint64(e-lo+1))
	}
	t.win = w
	return late
}

// subSat returns a − b (b ≥ 0), saturated at math.MinInt64.
func subSat(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// refresh derives rate and spread; out is the node's flows as initiator.
func (t *nodeTimes) refresh(out uint64) {
	t.rate = 0
	if span := uint64(t.hi) - uint64(t.lo); span > 0 && out > 0 {
		if span <= math.MaxInt64 {
			t.rate = PerSecond(out, int64(span))
		} else {
			t.rate = float64(out) / (float64(span) / 1e9)
		}
	}
	t.spread = math.Sqrt(t.variance()) / 1e9
}

// variance returns the population variance of the starts in ns²,
// (n·Σd² − (Σd)²) / n², from the exact sums, rounded once on the common
// path (math/big beyond 128-bit numerators).
func (t *nodeTimes) variance() float64 {
	n := t.n
	if n < 2 {
		return 0
	}
	s1 := t.s1
	if int64(s1.hi) < 0 {
		lo, b := bits.Sub64(0, s1.lo, 0)
		s1 = u128{0 - s1.hi - b, lo}
	}
	if s1.hi == 0 && t.s2[2] == 0 && n < 1<<32 {
		// n·s2 in 192 bits, minus s1² in 128 bits.
		h0, l0 := bits.Mul64(t.s2[0], n)
		h1, l1 := bits.Mul64(t.s2[1], n)
		p1, c := bits.Add64(h0, l1, 0)
		p2 := h1 + c
		q1, q0 := bits.Mul64(s1.lo, s1.lo)
		r0, b := bits.Sub64(l0, q0, 0)
		r1, b := bits.Sub64(p1, q1, b)
		if p2-b == 0 {
			return divRound(r1, r0, n*n)
		}
	}
	s2 := new(big.Int).SetUint64(t.s2[2])
	s2.Lsh(s2, 64).Or(s2, new(big.Int).SetUint64(t.s2[1]))
	s2.Lsh(s2, 64).Or(s2, new(big.Int).SetUint64(t.s2[0]))
	num := s2.Mul(s2, new(big.Int).SetUint64(n))
	a := s1.big()
	num.Sub(num, a.Mul(a, a))
	den := new(big.Int).SetUint64(n)
	den.Mul(den, den)
	v, _ := new(big.Rat).SetFrac(num, den).Float64()
	return v
}
