package extract

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/network"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/jjflow/jj/decode"
)

// A connection scenario: flows between hosts and the packets of those
// flows in capture order. Tests drive the extractor as the flow table
// does: Observe each packet, Emit each flow right after its last packet.

type connFlow struct {
	src, dst     string
	sport, dport uint16
	proto        uint8
}

type connPkt struct {
	ts     int64 // offset from t0, ns
	flow   int
	bwd    bool
	length uint32
}

// connScenario is the hand-computed scenario of TestConnection. Hosts
// A .1, B .2, C .3, D .4; times in ms.
//
//	#   t     flow  packet           len
//	1   0     F1    A:1000 → B:80    100  (F1 starts)
//	2   10    F1    B → A            200
//	3   20    F2    A:1001 → B:443    60  (F2 starts)
//	4   30    F2    B → A             40  (F2 ends)
//	5   40    F3    B:2000 → A:22     50  (F3 starts and ends: B → A)
//	6   900   F5    C:3000 → B:80     70  (F5)
//	7   1000  F4    A:1002 → C:80     80  (F4)
//	8   1200  F6    D:4000 → B:80     90  (F6)
//	9   1300  F7    A:1003 → B:80    100  (F7 starts: A → B on 80 again)
//	10  1400  F1    A → B             30  (F1 ends, after F7 started)
//	11  2500  F7    B → A            300  (F7 ends)
//	12  3000  F8    C:3001 → A:53     60  (F8, UDP)
var (
	connFlows = []connFlow{
		{"10.0.0.1", "10.0.0.2", 1000, 80, 6},  // F1 A → B
		{"10.0.0.1", "10.0.0.2", 1001, 443, 6}, // F2 A → B
		{"10.0.0.2", "10.0.0.1", 2000, 22, 6},  // F3 B → A
		{"10.0.0.1", "10.0.0.3", 1002, 80, 6},  // F4 A → C
		{"10.0.0.3", "10.0.0.2", 3000, 80, 6},  // F5 C → B
		{"10.0.0.4", "10.0.0.2", 4000, 80, 6},  // F6 D → B
		{"10.0.0.1", "10.0.0.2", 1003, 80, 6},  // F7 A → B
		{"10.0.0.3", "10.0.0.1", 3001, 53, 17}, // F8 C → A
	}
	connPkts = []connPkt{
		{ms(0), 0, false, 100},
		{ms(10), 0, true, 200},
		{ms(20), 1, false, 60},
		{ms(30), 1, true, 40},
		{ms(40), 2, false, 50},
		{ms(900), 4, false, 70},
		{ms(1000), 3, false, 80},
		{ms(1200), 5, false, 90},
		{ms(1300), 6, false, 100},
		{ms(1400), 0, false, 30},
		{ms(2500), 6, true, 300},
		{ms(3000), 7, false, 60},
	}
)

func addr16(s string) ([16]byte, bool) {
	a := netip.MustParseAddr(s)
	if a.Is4() {
		var b [16]byte
		copy(b[:], a.AsSlice())
		return b, false
	}
	return a.As16(), true
}

// connRun drives ex through the scenario and returns each flow's row, in
// flow order. Flows get slots from a free list, so slots are reused. With
// prefix ≥ 0 only packets [0, prefix] are read and every flow still open
// ends after the last one (end of input); flows that never started have
// nil rows.
func connRun(tb testing.TB, ex *Connection, flows []connFlow, pkts []connPkt, prefix int) []row {
	tb.Helper()
	if prefix < 0 || prefix >= len(pkts) {
		prefix = len(pkts) - 1
	}
	pkts = pkts[:prefix+1]
	last := make([]int, len(flows))
	for i := range last {
		last[i] = -1
	}
	for i, p := range pkts {
		last[p.flow] = i
	}
	rows := make([]row, len(flows))
	for pass := 1; pass <= ex.Passes(); pass++ {
		ex.StartPass(pass)
		slot := make([]uint32, len(flows))
		open := make([]bool, len(flows))
		var free []uint32
		next := uint32(0)
		fl := make([]Flow, len(flows))
		decoded := make([]decode.Packet, len(pkts))
		emit := func(f int) {
			r := emitRow(tb, ex, slot[f], &fl[f])
			if pass == ex.Passes() {
				rows[f] = r
			}
			free = append(free, slot[f])
			open[f] = false
		}
		for i, p := range pkts {
			f := flows[p.flow]
			src, v6 := addr16(f.src)
			dst, _ := addr16(f.dst)
			pk := decode.Packet{Timestamp: t0 + p.ts, Src: src, Dst: dst, SrcPort: f.sport, DstPort: f.dport, V6: v6, Proto: f.proto, Length: p.length}
			dir := Fwd
			if p.bwd {
				pk.Src, pk.Dst, pk.SrcPort, pk.DstPort = dst, src, f.dport, f.sport
				dir = Bwd
			}
			decoded[i] = pk
			isNew := !open[p.flow] && fl[p.flow].Counts.Packets == [2]uint64{}
			if isNew {
				if n := len(free); n > 0 {
					slot[p.flow] = free[n-1]
					free = free[:n-1]
				} else {
					slot[p.flow] = next
					next++
				}
				open[p.flow] = true
				fl[p.flow] = Flow{Src: src, Dst: dst, SrcPort: f.sport, DstPort: f.dport, V6: v6, Proto: f.proto, First: pk.Timestamp, StartIndex: uint64(i)}
			}
			fl[p.flow].Last = pk.Timestamp
			fl[p.flow].Counts.Packets[dir]++
			ex.Observe([]Ref{{Slot: slot[p.flow], Dir: dir, New: isNew, Index: uint64(i), Pkt: &decoded[i]}})
			if last[p.flow] == i {
				emit(p.flow)
			}
		}
	}
	return rows
}

// connBase builds the base columns' row, in contract order.
func connBase(uniqueDsts, uniqueSrcs, pairFlows, portFlows, srcFlows, dstFlows, srcPk, srcBy, dstPk, dstBy, ports, outDeg, inDeg int) row {
	return row{
		"conn_src_unique_dsts": uniqueDsts, "conn_dst_unique_srcs": uniqueSrcs,
		"conn_src_dst_flows": pairFlows, "conn_src_port_flows": portFlows,
		"conn_src_total_flows": srcFlows, "conn_dst_total_flows": dstFlows,
		"conn_src_total_packets": srcPk, "conn_src_total_bytes": srcBy,
		"conn_dst_total_packets": dstPk, "conn_dst_total_bytes": dstBy,
		"conn_src_unique_ports": ports,
		"conn_src_out_degree":   outDeg, "conn_dst_in_degree": inDeg,
	}
}

// stdMs is the population std of starts given in ms, in seconds, from
// n·Σx² − (Σx)² worked out by hand.
func stdMs(num, n float64) near { return near(math.Sqrt(num/(n*n)) / 1000) }

func TestConnectionColumns(t *testing.T) {
	base := []string{
		"conn_src_unique_dsts", "conn_dst_unique_srcs", "conn_src_dst_flows", "conn_src_port_flows",
		"conn_src_total_flows", "conn_dst_total_flows",
		"conn_src_total_packets", "conn_src_total_bytes", "conn_dst_total_packets", "conn_dst_total_bytes",
		"conn_src_unique_ports", "conn_src_out_degree", "conn_dst_in_degree",
	}
	graph := []string{
		"conn_src_betweenness", "conn_dst_betweenness", "conn_src_community", "conn_dst_community",
		"conn_same_community", "conn_src_clustering", "conn_dst_clustering",
	}
	temporal := []string{"conn_src_flow_rate", "conn_temporal_spread", "conn_burst_connections"}
	for _, tc := range []struct {
		name     string
		o        Options
		want     []string
		passes   int
		warnings int
	}{
		{"default", Options{}, base, 2, 0},
		{"capture all", Options{ConnectionScope: "capture", ConnectionGraphMetrics: true, ConnectionTemporal: true}, slices.Concat(base, graph, temporal), 2, 0},
		{"capture temporal", Options{ConnectionTemporal: true}, slices.Concat(base, temporal), 2, 0},
		{"causal", Options{ConnectionScope: "causal"}, base, 1, 0},
		// Graph metrics look at the whole input: left out in scope causal.
		{"causal all", Options{ConnectionScope: "causal", ConnectionGraphMetrics: true, ConnectionTemporal: true}, slices.Concat(base, temporal), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConnection(tc.o)
			checkNames(t, c, tc.want)
			if c.Passes() != tc.passes || !c.Sequential() {
				t.Errorf("Passes() = %d, Sequential() = %v, want %d, true", c.Passes(), c.Sequential(), tc.passes)
			}
			if got := len(c.Warnings()); got != tc.warnings {
				t.Errorf("Warnings() = %q, want %d", c.Warnings(), tc.warnings)
			}
			scope := "scope capture: whole input"
			if tc.o.ConnectionScope == "causal" {
				scope = "scope causal: as of this flow's last packet"
			}
			for _, col := range c.Columns() {
				if col.Group != "connection" || col.Description == "" {
					t.Errorf("column %+v: want group connection and a description", col)
				}
				if !strings.Contains(col.Description, scope) && !strings.Contains(col.Description, "whole input's graph") {
					t.Errorf("column %s: description %q does not state the scope", col.Name, col.Description)
				}
			}
		})
	}
}

// TestConnection pins every column of every flow of the scenario in both
// scopes.
func TestConnection(t *testing.T) {
	o := Options{ConnectionGraphMetrics: true, ConnectionTemporal: true}

	// Scope capture: every flow of the input.
	//   A out: F1 F2 F4 F7 → 4 flows, to {B, C}, ports {80, 443},
	//          packets 3+2+1+2 = 8, bytes 330+100+80+400 = 910.
	//   A in:  F3 F8 → 2 flows from {B, C}, 2 packets, 50+60 = 110 bytes.
	//   B out: F3 → 1 flow to {A}, port {22}, 1 packet, 50 bytes.
	//   B in:  F1 F2 F5 F6 F7 → 5 flows from {A, C, D}, 9 packets,
	//          330+100+70+90+400 = 990 bytes.
	//   C out: F5 F8 → 2 flows to {B, A}, ports {80, 53}, 2 packets, 130 bytes.
	//   C in:  F4 → 1 flow from {A}, 1 packet, 80 bytes.
	//   D out: F6 → 1 flow to {B}, port {80}, 1 packet, 90 bytes.
	//   A → B: F1 F2 F7 = 3 flows, 2 of them on port 80.
	//
	// Graph metrics. Directed edges A→B, B→A, A→C, C→B, D→B, C→A; n = 4.
	// Shortest paths through a node: B→A→C and D→B→A→C through A, D→B→A
	// and D→B→A→C through B, none through C or D: betweenness 2/((n−1)(n−2))
	// = 1/3 for A and B, 0 for C and D. Undirected edges A-B, A-C, B-C,
	// B-D: one triangle ABC; clustering A 2·1/(2·1) = 1, B 2·1/(3·2) = 1/3,
	// C 1, D 0 (degree 1). Louvain weights A-B 4, A-C 2, B-C 1, B-D 1:
	// every split has negative modularity (e.g. {A,B,C},{D}: 7/8 − (15/16)²
	// − (1/16)² < 0), the whole graph 0, so one community, id 0.
	//
	// Temporal (starts, ms, either role): A {0, 20, 40, 1000, 1300, 3000},
	// B {0, 20, 40, 900, 1200, 1300}, C {900, 1000, 3000}, D {1200}.
	//   A: rate 4 / 3 s; n·Σx² − (Σx)² = 6·11692000 − 5360² = 41422400;
	//      burst 4: 0, 20, 40 and 1000 in [0, 1000] (the window is closed).
	//   B: rate 1 / 1.3 s; 6·3942000 − 3460² = 11680400; burst 4 in [0, 1000].
	//   C: rate 2 / 2.1 s; 3·10810000 − 4900² = 8420000; burst 2 (900, 1000).
	//   D: one start: rate 0 (no span), spread 0, burst 1.
	graphAB := row{"conn_src_betweenness": 1.0 / 3, "conn_dst_betweenness": 1.0 / 3, "conn_src_community": 0, "conn_dst_community": 0, "conn_same_community": 1, "conn_src_clustering": 1.0, "conn_dst_clustering": 1.0 / 3}
	tempA := row{"conn_src_flow_rate": 4.0 / 3, "conn_temporal_spread": stdMs(41422400, 6), "conn_burst_connections": 4}
	tempB := row{"conn_src_flow_rate": 1e9 / 1.3e9, "conn_temporal_spread": stdMs(11680400, 6), "conn_burst_connections": 4}
	tempC := row{"conn_src_flow_rate": 2e9 / 2.1e9, "conn_temporal_spread": stdMs(8420000, 3), "conn_burst_connections": 2}
	tempD := row{"conn_src_flow_rate": 0.0, "conn_temporal_spread": 0.0, "conn_burst_connections": 1}
	graph := func(sb, db float64, sc, dc float64) row {
		return row{"conn_src_betweenness": sb, "conn_dst_betweenness": db, "conn_src_community": 0, "conn_dst_community": 0, "conn_same_community": 1, "conn_src_clustering": sc, "conn_dst_clustering": dc}
	}
	merge := func(rs ...row) row {
		out := row{}
		for _, r := range rs {
			for k, v := range r {
				out[k] = v
			}
		}
		return out
	}
	capture := []row{
		merge(connBase(2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3), graphAB, tempA),                      // F1 A → B :80
		merge(connBase(2, 3, 3, 1, 4, 5, 8, 910, 9, 990, 2, 2, 3), graphAB, tempA),                      // F2 A → B :443
		merge(connBase(1, 2, 1, 1, 1, 2, 1, 50, 2, 110, 1, 1, 2), graph(1.0/3, 1.0/3, 1.0/3, 1), tempB), // F3 B → A
		merge(connBase(2, 1, 1, 1, 4, 1, 8, 910, 1, 80, 2, 2, 1), graph(1.0/3, 0, 1, 1), tempA),         // F4 A → C
		merge(connBase(2, 3, 1, 1, 2, 5, 2, 130, 9, 990, 2, 2, 3), graph(0, 1.0/3, 1, 1.0/3), tempC),    // F5 C → B
		merge(connBase(1, 3, 1, 1, 1, 5, 1, 90, 9, 990, 1, 1, 3), graph(0, 1.0/3, 0, 1.0/3), tempD),     // F6 D → B
		merge(connBase(2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3), graphAB, tempA),                      // F7 A → B :80
		merge(connBase(2, 2, 1, 1, 2, 2, 2, 130, 2, 110, 2, 2, 2), graph(0, 1.0/3, 1, 1), tempC),        // F8 C → A
	}

	// Scope causal: as of each flow's last packet (#), that packet
	// included; flows started by then count, with their packets so far.
	causal := []row{
		// F1 at #10: F1..F7 started; A out packets #1 #2 #3 #4 #7 #9 #10
		// = 7, bytes 100+200+60+40+80+100+30 = 610; B in #1-#4 #6 #8 #9 #10
		// = 8, bytes 400+70+90+100+30 = 690. A's starts {0, 20, 40, 1000,
		// 1300}: rate 4 / 1.3 s, 5·2692000 − 2360² = 7890400, burst 4.
		merge(connBase(2, 3, 3, 2, 4, 5, 7, 610, 8, 690, 2, 2, 3), row{"conn_src_flow_rate": 4e9 / 1.3e9, "conn_temporal_spread": stdMs(7890400, 5), "conn_burst_connections": 4}),
		// F2 at #4: F1, F2; A out = B in = 4 packets, 400 bytes. A's
		// starts {0, 20}: rate 2 / 0.02 s = 100, std 10 ms, burst 2.
		merge(connBase(1, 1, 2, 1, 2, 2, 4, 400, 4, 400, 2, 1, 1), row{"conn_src_flow_rate": 100.0, "conn_temporal_spread": near(0.01), "conn_burst_connections": 2}),
		// F3 at #5: B out F3 (1 packet, 50 bytes); A in F3. B's starts {0,
		// 20, 40}: rate 1 / 0.04 s = 25, 3·2000 − 60² = 2400, burst 3.
		merge(connBase(1, 1, 1, 1, 1, 1, 1, 50, 1, 50, 1, 1, 1), row{"conn_src_flow_rate": 25.0, "conn_temporal_spread": stdMs(2400, 3), "conn_burst_connections": 3}),
		// F4 at #7: A out F1 F2 F4: packets #1-#4 #7 = 5, bytes 480; C in
		// F4. A's starts {0, 20, 40, 1000}: rate 3 / 1 s,
		// 4·1002000 − 1060² = 2884400, burst 4 ([0, 1000] closed).
		merge(connBase(2, 1, 1, 1, 3, 1, 5, 480, 1, 80, 2, 2, 1), row{"conn_src_flow_rate": 3.0, "conn_temporal_spread": stdMs(2884400, 4), "conn_burst_connections": 4}),
		// F5 at #6: C out F5; B in F1 F2 F5 from {A, C}: 5 packets, 470
		// bytes. C's one start: rate 0, spread 0, burst 1.
		merge(connBase(1, 2, 1, 1, 1, 3, 1, 70, 5, 470, 1, 1, 2), tempD),
		// F6 at #8: B in F1 F2 F5 F6 from {A, C, D}: 6 packets, 560 bytes.
		merge(connBase(1, 3, 1, 1, 1, 4, 1, 90, 6, 560, 1, 1, 3), tempD),
		// F7 at #11: as in scope capture (F8 is not A → anything, and B's
		// in-counters are final); A's starts as for F1.
		merge(connBase(2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3), row{"conn_src_flow_rate": 4e9 / 1.3e9, "conn_temporal_spread": stdMs(7890400, 5), "conn_burst_connections": 4}),
		// F8 at #12, the last packet: as in scope capture.
		merge(connBase(2, 2, 1, 1, 2, 2, 2, 130, 2, 110, 2, 2, 2), tempC),
	}

	for _, tc := range []struct {
		scope string
		want  []row
	}{{"capture", capture}, {"causal", causal}} {
		o := o
		o.ConnectionScope = tc.scope
		rows := connRun(t, NewConnection(o), connFlows, connPkts, -1)
		for f, want := range tc.want {
			t.Run(fmt.Sprintf("%s/F%d", tc.scope, f+1), func(t *testing.T) {
				checkRow(t, rows[f], want)
				finite(t, rows[f])
			})
		}
	}
}

// TestConnectionUsePorts checks nodes IP:port: the same client port to two
// server ports makes two dst nodes; another client port is another node.
func TestConnectionUsePorts(t *testing.T) {
	flows := []connFlow{
		{"10.0.0.1", "10.0.0.2", 1000, 80, 6},  // A:1000 → B:80
		{"10.0.0.1", "10.0.0.2", 1000, 443, 6}, // A:1000 → B:443
		{"10.0.0.1", "10.0.0.2", 1001, 80, 6},  // A:1001 → B:80
	}
	pkts := []connPkt{{0, 0, false, 10}, {ms(1), 1, false, 20}, {ms(2), 2, false, 30}, {ms(3), 0, true, 40}}
	// A:1000 out: flows 0 and 1 to {B:80, B:443}, ports {80, 443},
	// packets 3, bytes 10+20+40 = 70. B:80 in: flows 0 and 2 from
	// {A:1000, A:1001}, packets 3, bytes 10+40+30 = 80. B:443 in: flow 1.
	// A:1001 out: flow 2. Each edge has one flow.
	want := []row{
		connBase(2, 2, 1, 1, 2, 2, 3, 70, 3, 80, 2, 2, 2),
		connBase(2, 1, 1, 1, 2, 1, 3, 70, 1, 20, 2, 2, 1),
		connBase(1, 2, 1, 1, 1, 2, 1, 30, 3, 80, 1, 1, 2),
	}
	rows := connRun(t, NewConnection(Options{ConnectionUsePorts: true}), flows, pkts, -1)
	for f := range want {
		checkRow(t, rows[f], want[f])
	}
	// Without ports the three flows are one pair A → B, two on port 80.
	rows = connRun(t, NewConnection(Options{}), flows, pkts, -1)
	checkRow(t, rows[0], connBase(1, 1, 3, 2, 3, 3, 4, 100, 4, 100, 2, 1, 1))
}

// TestConnectionCommunities checks Louvain on two triangles joined by one
// edge (each triangle is a community) and the numbering of communities by
// first appearance in the output, src before dst.
func TestConnectionCommunities(t *testing.T) {
	// Triangle P = {.1, .2, .3}, triangle Q = {.4, .5, .6}, bridge .3 → .4.
	// The first flow to end is inside Q, so Q is community 0.
	flows := []connFlow{
		{"10.0.0.5", "10.0.0.6", 1, 1, 17}, // Q, ends first
		{"10.0.0.1", "10.0.0.2", 1, 1, 17},
		{"10.0.0.2", "10.0.0.3", 1, 1, 17},
		{"10.0.0.3", "10.0.0.1", 1, 1, 17},
		{"10.0.0.3", "10.0.0.4", 1, 1, 17}, // bridge
		{"10.0.0.4", "10.0.0.5", 1, 1, 17},
		{"10.0.0.6", "10.0.0.4", 1, 1, 17},
	}
	var pkts []connPkt
	for f := range flows {
		pkts = append(pkts, connPkt{ms(float64(f)), f, false, 100})
	}
	rows := connRun(t, NewConnection(Options{ConnectionGraphMetrics: true}), flows, pkts, -1)
	want := [][3]int{{0, 0, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 0, 0}, {0, 0, 1}, {0, 0, 1}}
	for f, w := range want {
		got := [3]int{int(rows[f]["conn_src_community"].(int64)), int(rows[f]["conn_dst_community"].(int64)), int(rows[f]["conn_same_community"].(int64))}
		if got != w {
			t.Errorf("flow %d (%s → %s): communities (src, dst, same) = %v, want %v", f, flows[f].src, flows[f].dst, got, w)
		}
	}
	// Clustering: .1 and .2 have degree 2 in one triangle → 1; .3 has
	// degree 3 (.1, .2, .4) → 2·1/6.
	if got := rows[4]["conn_src_clustering"]; !sameValue(got, near(1.0/3)) {
		t.Errorf("clustering of .3 = %v, want 1/3", got)
	}
}

// TestConnectionCausalPrefix checks on random inputs that scope causal
// uses nothing after a flow's last packet: each flow's row equals its row
// when the input stops right at that packet.
func TestConnectionCausalPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	o := Options{ConnectionScope: "causal", ConnectionTemporal: true}
	for round := 0; round < 20; round++ {
		flows, pkts := randomScenario(r, 5, 12, 40)
		full := connRun(t, NewConnection(o), flows, pkts, -1)
		for f := range flows {
			lastPkt := -1
			for i, p := range pkts {
				if p.flow == f {
					lastPkt = i
				}
			}
			if lastPkt < 0 {
				continue
			}
			cut := connRun(t, NewConnection(o), flows, pkts, lastPkt)
			if !rowsEqual(full[f], cut[f]) {
				t.Fatalf("round %d flow %d: full-input row\n%v\n!= row of the input cut at its last packet #%d\n%v", round, f, full[f], lastPkt, cut[f])
			}
		}
	}
}

// TestConnectionOracle compares both scopes with a direct recount over
// the flows (the definition in extractors.md), on random inputs with
// slot reuse, both directions and repeated pairs.
func TestConnectionOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 30; round++ {
		flows, pkts := randomScenario(r, 2+r.IntN(5), 1+r.IntN(15), 1+r.IntN(50))
		for _, scope := range []string{"capture", "causal"} {
			for _, ports := range []bool{false, true} {
				o := Options{ConnectionScope: scope, ConnectionUsePorts: ports, ConnectionTemporal: true}
				rows := connRun(t, NewConnection(o), flows, pkts, -1)
				for f := range flows {
					if rows[f] == nil {
						continue
					}
					upto := len(pkts) - 1
					if scope == "causal" {
						for i, p := range pkts {
							if p.flow == f {
								upto = i
							}
						}
					}
					want := connOracle(flows, pkts[:upto+1], f, ports)
					for name, w := range want {
						if !sameValue(rows[f][name], w) {
							t.Fatalf("round %d %s ports=%v flow %d: %s = %v, want %v", round, scope, ports, f, name, rows[f][name], w)
						}
					}
				}
			}
		}
	}
}

// randomScenario makes flows between nh hosts and np packets; flows may
// repeat a 5-tuple after the previous one ended, and packets may carry
// timestamps out of order (up to 0.5 s back).
func randomScenario(r *rand.Rand, nh, nf, np int) ([]connFlow, []connPkt) {
	flows := make([]connFlow, nf)
	for i := range flows {
		a, b := r.IntN(nh), r.IntN(nh)
		flows[i] = connFlow{fmt.Sprintf("10.0.0.%d", a+1), fmt.Sprintf("10.0.0.%d", b+1), uint16(1000 + r.IntN(3)), uint16(80 + r.IntN(3)), 6}
	}
	pkts := make([]connPkt, np)
	ts := int64(0)
	for i := range pkts {
		ts += int64(r.IntN(700)) * 1e6
		back := int64(0)
		if r.IntN(8) == 0 {
			back = int64(r.IntN(500)) * 1e6
		}
		pkts[i] = connPkt{ts: ts - back, flow: r.IntN(nf), bwd: r.IntN(3) == 0, length: uint32(20 + r.IntN(1500))}
	}
	// A flow's first packet is its initiator's.
	seen := make([]bool, nf)
	for i := range pkts {
		if !seen[pkts[i].flow] {
			pkts[i].bwd = false
			seen[pkts[i].flow] = true
		}
	}
	return flows, pkts
}

// connOracle recounts flow f's columns from the packets given (the whole
// input, or the input up to f's last packet).
func connOracle(flows []connFlow, pkts []connPkt, f int, ports bool) row {
	node := func(ip string, port uint16) string {
		if ports {
			return fmt.Sprintf("%s:%d", ip, port)
		}
		return ip
	}
	srcOf := func(i int) string { return node(flows[i].src, flows[i].sport) }
	dstOf := func(i int) string { return node(flows[i].dst, flows[i].dport) }
	started := map[int]int64{} // flow → start (first packet's time)
	var order []int
	pk := map[int]uint64{}
	by := map[int]uint64{}
	for _, p := range pkts {
		if _, ok := started[p.flow]; !ok {
			started[p.flow] = p.ts
			order = append(order, p.flow)
		}
		pk[p.flow]++
		by[p.flow] += uint64(p.length)
	}
	s, d := srcOf(f), dstOf(f)
	dsts, srcs, sports := map[string]bool{}, map[string]bool{}, map[uint16]bool{}
	var pair, port, sFlows, dFlows, sPk, sBy, dPk, dBy uint64
	var starts []int64
	for _, g := range order {
		gs, gd := srcOf(g), dstOf(g)
		if gs == s {
			dsts[gd] = true
			sports[flows[g].dport] = true
			sFlows++
			sPk += pk[g]
			sBy += by[g]
			if gd == d {
				pair++
				if flows[g].dport == flows[f].dport {
					port++
				}
			}
		}
		if gd == d {
			srcs[gs] = true
			dFlows++
			dPk += pk[g]
			dBy += by[g]
		}
		if gs == s || gd == s {
			starts = append(starts, started[g])
		}
	}
	want := connBase(len(dsts), len(srcs), int(pair), int(port), int(sFlows), int(dFlows), int(sPk), int(sBy), int(dPk), int(dBy), len(sports), len(dsts), len(srcs))
	// Temporal, from all of src's starts sorted.
	slices.Sort(starts)
	span := starts[len(starts)-1] - starts[0]
	rate := 0.0
	if span > 0 {
		rate, _ = new(big.Rat).SetFrac(new(big.Int).SetUint64(sFlows*1e9), big.NewInt(span)).Float64()
	}
	burst := 0
	for i := range starts {
		j := i
		for j < len(starts) && starts[j]-starts[i] <= burstWindow {
			j++
		}
		burst = max(burst, j-i)
	}
	mean := new(big.Rat)
	for _, x := range starts {
		mean.Add(mean, new(big.Rat).SetInt64(x))
	}
	mean.Quo(mean, new(big.Rat).SetInt64(int64(len(starts))))
	v := new(big.Rat)
	for _, x := range starts {
		dev := new(big.Rat).Sub(new(big.Rat).SetInt64(x), mean)
		v.Add(v, dev.Mul(dev, dev))
	}
	v.Quo(v, new(big.Rat).SetInt64(int64(len(starts))))
	vf, _ := v.Float64()
	want["conn_src_flow_rate"] = rate
	want["conn_temporal_spread"] = math.Sqrt(vf) / 1e9
	want["conn_burst_connections"] = burst
	return want
}

func rowsEqual(a, b row) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !sameValue(b[k], v) {
			return false
		}
	}
	return true
}

// TestConnectionDeterminism runs a random input twice with every column:
// the rows must be identical.
func TestConnectionDeterminism(t *testing.T) {
	o := Options{ConnectionGraphMetrics: true, ConnectionTemporal: true}
	for seed := uint64(0); seed < 5; seed++ {
		flows, pkts := randomScenario(rand.New(rand.NewPCG(seed, 9)), 20, 200, 600)
		a := connRun(t, NewConnection(o), flows, pkts, -1)
		b := connRun(t, NewConnection(o), flows, pkts, -1)
		for f := range a {
			if !rowsEqual(a[f], b[f]) {
				t.Fatalf("seed %d flow %d: %v != %v", seed, f, a[f], b[f])
			}
		}
	}
}

// TestBurstWindow checks the sliding burst count against a sort of every
// start, for starts in order, slightly out of order (exact) and far out
// of order (reported late, never above the exact count).
func TestBurstWindow(t *testing.T) {
	exact := func(ts []int64) uint64 {
		s := slices.Sorted(slices.Values(ts))
		best := 0
		for i := range s {
			j, _ := slices.BinarySearch(s, s[i]+burstWindow+1)
			best = max(best, j-i)
		}
		return uint64(best)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		var tm nodeTimes
		var ts []int64
		now := int64(0)
		farLate := false
		for i := 0; i < 1+r.IntN(200); i++ {
			now += int64(r.IntN(400)) * 1e6
			x := now
			switch r.IntN(10) {
			case 0: // up to the tolerance back: still exact
				x -= r.Int64N(lateTolerance + 1)
			case 1:
				if round%3 == 0 { // far back: approximate
					x -= lateTolerance + 1 + r.Int64N(30e9)
				}
			}
			late := tm.add(x)
			farLate = farLate || late
			ts = append(ts, x)
			if len(tm.win) > 0 && !slices.IsSorted(tm.win) {
				t.Fatalf("window not sorted: %v", tm.win)
			}
		}
		want := exact(ts)
		if !farLate && tm.burst != want {
			t.Fatalf("round %d: burst %d, want %d (starts %v)", round, tm.burst, want, ts)
		}
		if farLate && tm.burst > want {
			t.Fatalf("round %d: approximate burst %d above the exact %d", round, tm.burst, want)
		}
	}
	// Retention: the window keeps only the last burstWindow + lateTolerance.
	var tm nodeTimes
	for i := int64(0); i < 100_000; i++ {
		tm.add(i * 1e6) // 1000 starts per second for 100 s
	}
	if tm.burst != 1001 || len(tm.win) > int((burstWindow+lateTolerance)/1e6)+1 {
		t.Errorf("burst %d (want 1001), window holds %d starts", tm.burst, len(tm.win))
	}
}

// TestNodeTimesVariance checks the exact variance against math/big,
// including huge spans, negative deviations and the 192-bit sums.
func TestNodeTimesVariance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for round := 0; round < 500; round++ {
		var tm nodeTimes
		n := 1 + r.IntN(50)
		scale := []int64{1, 1e6, 1e12, 1e17, 1 << 61}[round%5]
		var xs []int64
		base := t0
		for i := 0; i < n; i++ {
			x := base + r.Int64N(scale) - scale/2
			xs = append(xs, x)
			tm.add(x)
		}
		sum, sq := new(big.Int), new(big.Int)
		for _, x := range xs {
			b := big.NewInt(x)
			sum.Add(sum, b)
			sq.Add(sq, new(big.Int).Mul(b, b))
		}
		num := new(big.Int).Mul(sq, big.NewInt(int64(n)))
		num.Sub(num, new(big.Int).Mul(sum, sum))
		den := new(big.Int).Mul(big.NewInt(int64(n)), big.NewInt(int64(n)))
		want, _ := new(big.Rat).SetFrac(num, den).Float64()
		if got := tm.variance(); got != want && !closeTo(got, want) {
			t.Fatalf("round %d: variance %v, want %v", round, got, want)
		}
	}
	var tm nodeTimes
	for i := 0; i < 5; i++ {
		tm.add(t0 + 123)
	}
	if v := tm.variance(); v != 0 {
		t.Errorf("constant starts: variance %v, want 0", v)
	}
}

// randomGraph makes a directed graph on n nodes with about m distinct
// edges (self-loops included), as the extractor stores it.
func randomGraph(r *rand.Rand, n, m int) (src, dst []uint32, flows []uint64) {
	seen := map[[2]uint32]bool{}
	for i := 0; i < m; i++ {
		e := [2]uint32{uint32(r.IntN(n)), uint32(r.IntN(n))}
		if seen[e] {
			continue
		}
		seen[e] = true
		src, dst = append(src, e[0]), append(dst, e[1])
		flows = append(flows, uint64(1+r.IntN(5)))
	}
	return src, dst, flows
}

// TestBetweennessAgainstGonum checks our Brandes against gonum's
// network.Betweenness (normalised by 1/((n−1)(n−2)) as networkx does).
func TestBetweennessAgainstGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 40; round++ {
		n := 3 + r.IntN(40)
		src, dst, flows := randomGraph(r, n, r.IntN(4*n))
		g := newConnGraph(n, src, dst, flows)
		got, k := g.betweenness(math.Inf(1))
		if k != n {
			t.Fatalf("unbounded budget: %d of %d sources", k, n)
		}
		dg := simple.NewDirectedGraph()
		for i := 0; i < n; i++ {
			dg.AddNode(simple.Node(i))
		}
		for i := range src {
			if src[i] != dst[i] {
				dg.SetEdge(dg.NewEdge(simple.Node(src[i]), simple.Node(dst[i])))
			}
		}
		want := network.Betweenness(dg)
		for v := 0; v < n; v++ {
			w := want[int64(v)] / float64((n-1)*(n-2))
			if math.Abs(got[v]-w) > 1e-12*math.Max(1, math.Abs(w)) {
				t.Fatalf("round %d node %d: betweenness %v, gonum %v", round, v, got[v], w)
			}
		}
	}
}

// TestBetweennessSampling checks that over budget the sources are a
// prefix of a fixed random order, scaled by n/k, and that the extractor
// reports it.
func TestBetweennessSampling(t *testing.T) {
	if a, b := sourceOrder(1000), sourceOrder(1000); !slices.Equal(a, b) {
		t.Fatal("source order differs between calls")
	}
	// Directed path 0 → 1 → … → 9: source s gives node v (s < v < 9) a
	// dependency of 9 − v. A budget of one visit stops after the first
	// source s: node v gets 10·(9 − v)/((n−1)(n−2)) if s < v, else 0.
	var ps, pd []uint32
	for i := uint32(0); i < 9; i++ {
		ps, pd = append(ps, i), append(pd, i+1)
	}
	path := newConnGraph(10, ps, pd, make([]uint64, 9))
	bc, k := path.betweenness(1)
	s := int(sourceOrder(10)[0])
	if k != 1 {
		t.Fatalf("budget 1: %d sources, want 1", k)
	}
	for v := 0; v < 10; v++ {
		want := 0.0
		if s < v && v < 9 {
			want = 10 * float64(9-v) / 72
		}
		if !closeTo(bc[v], want) {
			t.Errorf("sampled path betweenness of %d (source %d) = %v, want %v", v, s, bc[v], want)
		}
	}
	// A full path is exact: node v lies on v·(9 − v) paths.
	bc, k = path.betweenness(betweennessBudget)
	for v := 0; v < 10; v++ {
		if want := float64(v*(9-v)) / 72; k != 10 || !closeTo(bc[v], want) {
			t.Errorf("exact path betweenness of %d = %v (%d sources), want %v", v, bc[v], k, want)
		}
	}
	// Over the budget the extractor samples and reports it; reruns agree.
	o := Options{ConnectionGraphMetrics: true}
	var rows [2][]row
	for i := range rows {
		c := NewConnection(o)
		c.budget = 10
		rows[i] = connRun(t, c, connFlows, connPkts, -1)
		if ws := c.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], "betweenness estimated from 1 of 4 source nodes") {
			t.Errorf("warnings %q, want one on sampled betweenness", ws)
		}
	}
	for f := range rows[0] {
		if !rowsEqual(rows[0][f], rows[1][f]) {
			t.Errorf("flow %d: sampled betweenness differs between runs", f)
		}
	}
	if c := NewConnection(o); len(c.Warnings()) != 0 {
		t.Errorf("warnings before any run: %q", c.Warnings())
	}
}

// TestClusteringBruteForce checks triangle counting against a direct
// count over every pair of neighbours.
func TestClusteringBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for round := 0; round < 40; round++ {
		n := 1 + r.IntN(30)
		src, dst, flows := randomGraph(r, n, r.IntN(5*n))
		g := newConnGraph(n, src, dst, flows)
		got := g.clustering()
		adj := make([]map[int32]bool, n)
		for i := range adj {
			adj[i] = map[int32]bool{}
		}
		for i := range src {
			if src[i] != dst[i] {
				adj[src[i]][int32(dst[i])] = true
				adj[dst[i]][int32(src[i])] = true
			}
		}
		for v := 0; v < n; v++ {
			var nb []int32
			for w := range adj[v] {
				nb = append(nb, w)
			}
			links := 0
			for i := range nb {
				for j := i + 1; j < len(nb); j++ {
					if adj[nb[i]][nb[j]] {
						links++
					}
				}
			}
			want := 0.0
			if d := len(nb); d >= 2 {
				want = float64(2*links) / float64(d*(d-1))
			}
			if got[v] != want {
				t.Fatalf("round %d node %d: clustering %v, want %v", round, v, got[v], want)
			}
		}
	}
}

// TestConnectionGraphWeights checks the undirected arrays: both
// directions merged into one weighted entry, self-loops apart, lists
// sorted.
func TestConnectionGraphWeights(t *testing.T) {
	g := newConnGraph(3, []uint32{0, 1, 2, 2, 1}, []uint32{1, 0, 2, 0, 1}, []uint64{3, 1, 7, 2, 5})
	if !slices.Equal(g.und, []int32{1, 2, 0, 0}) || !slices.Equal(g.w, []uint64{4, 2, 4, 2}) || !slices.Equal(g.undOff, []int{0, 2, 3, 4}) {
		t.Errorf("undirected rows %v %v weights %v", g.undOff, g.und, g.w)
	}
	if !slices.Equal(g.self, []uint64{0, 5, 7}) {
		t.Errorf("self-loops %v, want [0 5 7]", g.self)
	}
	if !slices.Equal(g.out, []int32{1, 0, 1, 0, 2}) || !slices.Equal(g.outOff, []int{0, 1, 3, 5}) {
		t.Errorf("directed rows %v %v", g.outOff, g.out)
	}
}

// TestLouvainAgainstGonum compares the modularity our Louvain reaches with
// gonum's community.Modularize, both measured by gonum's community.Q, on
// planted-partition graphs and on sparse random graphs.
func TestLouvainAgainstGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for round := 0; round < 30; round++ {
		var src, dst []uint32
		var flows []uint64
		n := 20 + r.IntN(80)
		groups := 2 + r.IntN(5)
		seen := map[[2]uint32]bool{}
		for i := 0; i < 4*n; i++ {
			a := uint32(r.IntN(n))
			b := uint32(r.IntN(n))
			if round%2 == 0 && r.IntN(10) > 0 {
				// Planted: 90% of edges inside a group (a mod groups).
				b = uint32((r.IntN(n/groups)*groups + int(a)%groups) % n)
			}
			if seen[[2]uint32{a, b}] {
				continue
			}
			seen[[2]uint32{a, b}] = true
			src, dst, flows = append(src, a), append(dst, b), append(flows, uint64(1+r.IntN(3)))
		}
		g := newConnGraph(n, src, dst, flows)
		ours := g.louvain()
		ug := simple.NewWeightedUndirectedGraph(0, 0)
		for v := 0; v < n; v++ {
			ug.AddNode(simple.Node(v))
		}
		for v := int32(0); int(v) < n; v++ {
			for e, u := range g.adj(v) {
				if v < u {
					ug.SetWeightedEdge(ug.NewWeightedEdge(simple.Node(v), simple.Node(u), float64(g.w[g.undOff[v]+e])))
				}
			}
		}
		byComm := map[int32][]graph.Node{}
		for v, c := range ours {
			byComm[c] = append(byComm[c], simple.Node(v))
		}
		var parts [][]graph.Node
		for _, p := range byComm {
			parts = append(parts, p)
		}
		qOurs := community.Q(ug, parts, 1)
		qGonum := community.Q(ug, community.Modularize(ug, 1, rand.NewPCG(1, 1)).Communities(), 1)
		t.Logf("round %d: ours %.4f gonum %.4f", round, qOurs, qGonum)
		if qOurs < qGonum-0.02 {
			t.Errorf("round %d (n %d, planted %v): modularity %.4f, gonum %.4f", round, n, round%2 == 0, qOurs, qGonum)
		}
		if again := g.louvain(); !slices.Equal(again, ours) {
			t.Fatalf("round %d: two runs differ", round)
		}
	}
}

// TestFirstAppearance checks community numbering.
func TestFirstAppearance(t *testing.T) {
	got := firstAppearance([]int32{7, 7, 3, 9, 3}, []uint32{3, 0, 1, 0, 2})
	// Community 3 holds the first node to appear (node 2, rank 1), then
	// community 7 (node 0, rank 3); community 9 never appeared: last.
	if want := []int64{1, 1, 0, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("firstAppearance = %v, want %v", got, want)
	}
}

// TestConnectionHostile feeds extreme timestamps and lengths: nothing may
// panic and no column may be NaN or Inf.
func TestConnectionHostile(t *testing.T) {
	flows := []connFlow{{"10.0.0.1", "10.0.0.2", 1, 2, 6}, {"::1", "::2", 3, 4, 17}, {"10.0.0.2", "10.0.0.1", 5, 6, 6}}
	pkts := []connPkt{
		{-t0, 0, false, math.MaxUint32},
		{1 << 62, 1, false, math.MaxUint32},
		{-t0, 2, false, 0},
		{math.MaxInt64 - t0, 0, true, 1},
		{0, 2, true, math.MaxUint32},
	}
	for _, scope := range []string{"capture", "causal"} {
		o := Options{ConnectionScope: scope, ConnectionGraphMetrics: true, ConnectionTemporal: true}
		for _, r := range connRun(t, NewConnection(o), flows, pkts, -1) {
			finite(t, r)
		}
	}
	// A slot that saw no packet emits zeros.
	c := NewConnection(Options{ConnectionScope: "causal", ConnectionTemporal: true})
	checkRow(t, emitRow(t, c, 3, &Flow{}), zeroRow(c, 0))
}

// TestConnectionNoAllocs checks Observe and Emit of flows between known
// nodes. (The temporal window appends as time advances; steadyState
// replays the same timestamps, so it is left out here.)
func TestConnectionNoAllocs(t *testing.T) {
	for _, scope := range []string{"capture", "causal"} {
		c := NewConnection(Options{ConnectionScope: scope})
		if n := steadyState(c, 64, 8); n != 0 {
			t.Errorf("scope %s: %v allocations per round once warm, want 0", scope, n)
		}
	}
}

func BenchmarkObserveConnection(b *testing.B) {
	for _, scope := range []string{"capture", "causal"} {
		b.Run(scope, func(b *testing.B) {
			benchObserve(b, NewConnection(Options{ConnectionScope: scope}))
		})
	}
}

// BenchmarkConnectionGraph times the graph metrics on a client-server
// graph: 3000 clients each talking to 100 of 500 servers.
func BenchmarkConnectionGraph(b *testing.B) {
	r := rand.New(rand.NewPCG(17, 18))
	var src, dst []uint32
	var flows []uint64
	for c := uint32(0); c < 3000; c++ {
		for _, s := range r.Perm(500)[:100] {
			src, dst = append(src, c), append(dst, 3000+uint32(s))
			flows = append(flows, 1+uint64(r.IntN(4)))
		}
	}
	g := newConnGraph(3500, src, dst, flows)
	b.Run("betweenness", func(b *testing.B) {
		for b.Loop() {
			g.betweenness(betweennessBudget)
		}
	})
	b.Run("clustering", func(b *testing.B) {
		for b.Loop() {
			g.clustering()
		}
	})
	b.Run("louvain", func(b *testing.B) {
		for b.Loop() {
			g.louvain()
		}
	})
}
