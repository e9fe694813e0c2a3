package jj

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/internal/testpkt"
	"github.com/jjflow/jj/output"
)

// End-to-end tests of the connection group: pcap → decode → flow table →
// connection extractor → rows, in both scopes. The scenario is the one of
// extract/connection_test.go (hosts A .1, B .2, C .3, D .4; UDP, IP
// lengths as listed), whose values are worked out there by hand.

const connEpoch = int64(1_700_000_000) * 1e9

// connFrame is one UDP packet: ms after connEpoch, endpoints, IP length.
func connFrame(ms int64, src string, sport uint16, dst string, dport uint16, ipLen int) testpkt.Frame {
	return testpkt.Frame{
		TS: connEpoch + ms*1e6, Src: testpkt.Addr(src), Dst: testpkt.Addr(dst), Proto: 17,
		SrcPort: sport, DstPort: dport, Payload: ipLen - 28,
	}
}

var connFrames = []testpkt.Frame{
	connFrame(0, "10.0.0.1", 1000, "10.0.0.2", 80, 100),    // F1 A → B
	connFrame(10, "10.0.0.2", 80, "10.0.0.1", 1000, 200),   // F1 reply
	connFrame(20, "10.0.0.1", 1001, "10.0.0.2", 443, 60),   // F2 A → B
	connFrame(30, "10.0.0.2", 443, "10.0.0.1", 1001, 40),   // F2 reply
	connFrame(40, "10.0.0.2", 2000, "10.0.0.1", 22, 50),    // F3 B → A
	connFrame(900, "10.0.0.3", 3000, "10.0.0.2", 80, 70),   // F5 C → B
	connFrame(1000, "10.0.0.1", 1002, "10.0.0.3", 80, 80),  // F4 A → C
	connFrame(1200, "10.0.0.4", 4000, "10.0.0.2", 80, 90),  // F6 D → B
	connFrame(1300, "10.0.0.1", 1003, "10.0.0.2", 80, 100), // F7 A → B
	connFrame(1400, "10.0.0.1", 1000, "10.0.0.2", 80, 30),  // F1, its last packet
	connFrame(2500, "10.0.0.2", 80, "10.0.0.1", 1003, 300), // F7 reply
	connFrame(3000, "10.0.0.3", 3001, "10.0.0.1", 53, 60),  // F8 C → A
}

var connBaseNames = []string{
	"conn_src_unique_dsts", "conn_dst_unique_srcs", "conn_src_dst_flows", "conn_src_port_flows",
	"conn_src_total_flows", "conn_dst_total_flows",
	"conn_src_total_packets", "conn_src_total_bytes", "conn_dst_total_packets", "conn_dst_total_bytes",
	"conn_src_unique_ports", "conn_src_out_degree", "conn_dst_in_degree",
}

// connExpect is one flow's expected values, by its src_port.
type connExpect struct {
	base                   [13]int64
	rate, spread           float64
	burst                  int64
	srcBetw, dstBetw       float64
	srcCluster, dstCluster float64
}

func spreadMs(num, n float64) float64 { return math.Sqrt(num/(n*n)) / 1000 }

// Temporal values of the source nodes over the whole capture.
var (
	tA = connExpect{rate: 4.0 / 3, spread: spreadMs(41422400, 6), burst: 4}
	tB = connExpect{rate: 1e9 / 1.3e9, spread: spreadMs(11680400, 6), burst: 4}
	tC = connExpect{rate: 2e9 / 2.1e9, spread: spreadMs(8420000, 3), burst: 2}
	tD = connExpect{burst: 1}
)

func expect(base [13]int64, t connExpect, sb, db, sc, dc float64) connExpect {
	t.base, t.srcBetw, t.dstBetw, t.srcCluster, t.dstCluster = base, sb, db, sc, dc
	return t
}

var connCapture = map[int64]connExpect{
	1000: expect([13]int64{2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3}, tA, 1.0/3, 1.0/3, 1, 1.0/3),
	1001: expect([13]int64{2, 3, 3, 1, 4, 5, 8, 910, 9, 990, 2, 2, 3}, tA, 1.0/3, 1.0/3, 1, 1.0/3),
	2000: expect([13]int64{1, 2, 1, 1, 1, 2, 1, 50, 2, 110, 1, 1, 2}, tB, 1.0/3, 1.0/3, 1.0/3, 1),
	1002: expect([13]int64{2, 1, 1, 1, 4, 1, 8, 910, 1, 80, 2, 2, 1}, tA, 1.0/3, 0, 1, 1),
	3000: expect([13]int64{2, 3, 1, 1, 2, 5, 2, 130, 9, 990, 2, 2, 3}, tC, 0, 1.0/3, 1, 1.0/3),
	4000: expect([13]int64{1, 3, 1, 1, 1, 5, 1, 90, 9, 990, 1, 1, 3}, tD, 0, 1.0/3, 0, 1.0/3),
	1003: expect([13]int64{2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3}, tA, 1.0/3, 1.0/3, 1, 1.0/3),
	3001: expect([13]int64{2, 2, 1, 1, 2, 2, 2, 130, 2, 110, 2, 2, 2}, tC, 0, 1.0/3, 1, 1),
}

var connCausal = map[int64]connExpect{
	1000: {base: [13]int64{2, 3, 3, 2, 4, 5, 7, 610, 8, 690, 2, 2, 3}, rate: 4e9 / 1.3e9, spread: spreadMs(7890400, 5), burst: 4},
	1001: {base: [13]int64{1, 1, 2, 1, 2, 2, 4, 400, 4, 400, 2, 1, 1}, rate: 100, spread: 0.01, burst: 2},
	2000: {base: [13]int64{1, 1, 1, 1, 1, 1, 1, 50, 1, 50, 1, 1, 1}, rate: 25, spread: spreadMs(2400, 3), burst: 3},
	1002: {base: [13]int64{2, 1, 1, 1, 3, 1, 5, 480, 1, 80, 2, 2, 1}, rate: 3, spread: spreadMs(2884400, 4), burst: 4},
	3000: {base: [13]int64{1, 2, 1, 1, 1, 3, 1, 70, 5, 470, 1, 1, 2}, burst: 1},
	4000: {base: [13]int64{1, 3, 1, 1, 1, 4, 1, 90, 6, 560, 1, 1, 3}, burst: 1},
	1003: {base: [13]int64{2, 3, 3, 2, 4, 5, 8, 910, 9, 990, 2, 2, 3}, rate: 4e9 / 1.3e9, spread: spreadMs(7890400, 5), burst: 4},
	3001: {base: [13]int64{2, 2, 1, 1, 2, 2, 2, 130, 2, 110, 2, 2, 2}, rate: tC.rate, spread: tC.spread, burst: 2},
}

// writeCapture writes frames as a pcap file in a test directory.
func writeCapture(t testing.TB, frames []testpkt.Frame) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conn.pcap")
	if err := os.WriteFile(path, testpkt.Pcap(frames...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func connConfig(scope string) Config {
	cfg := DefaultConfig()
	cfg.Features = []string{"flow_meta", "connection"}
	cfg.ConnectionScope = scope
	cfg.ConnectionGraphMetrics = scope == "capture"
	cfg.ConnectionTemporal = true
	return cfg
}

// connRows returns each flow's row by src_port.
func connRows(t testing.TB, cfg Config, path string) (map[int64]map[string]any, *Table) {
	t.Helper()
	tab, err := NewPipeline(cfg).Process(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int64]map[string]any{}
	for r := range tab.Rows {
		row := map[string]any{}
		for i, c := range tab.Columns {
			row[c.Name] = tab.Rows[r][i]
		}
		rows[row["src_port"].(int64)] = row
	}
	return rows, tab
}

func closeEnough(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 1e-12*math.Max(math.Abs(got), math.Abs(want))
}

func TestConnectionPipeline(t *testing.T) {
	path := writeCapture(t, connFrames)
	for _, tc := range []struct {
		scope string
		want  map[int64]connExpect
	}{{"capture", connCapture}, {"causal", connCausal}} {
		t.Run(tc.scope, func(t *testing.T) {
			rows, tab := connRows(t, connConfig(tc.scope), path)
			if len(rows) != len(tc.want) || tab.Summary.Flows != uint64(len(tc.want)) {
				t.Fatalf("%d flows, want %d", len(rows), len(tc.want))
			}
			for sport, w := range tc.want {
				r := rows[sport]
				for i, name := range connBaseNames {
					if got := r[name]; got != w.base[i] {
						t.Errorf("flow from port %d: %s = %v, want %d", sport, name, got, w.base[i])
					}
				}
				floats := map[string]float64{"conn_src_flow_rate": w.rate, "conn_temporal_spread": w.spread}
				if tc.scope == "capture" {
					floats["conn_src_betweenness"], floats["conn_dst_betweenness"] = w.srcBetw, w.dstBetw
					floats["conn_src_clustering"], floats["conn_dst_clustering"] = w.srcCluster, w.dstCluster
					// One community (every split of A-B 4, A-C 2, B-C 1,
					// B-D 1 has negative modularity).
					for name, want := range map[string]int64{"conn_src_community": 0, "conn_dst_community": 0, "conn_same_community": 1} {
						if got := r[name]; got != want {
							t.Errorf("flow from port %d: %s = %v, want %d", sport, name, got, want)
						}
					}
				} else if _, ok := r["conn_src_betweenness"]; ok {
					t.Errorf("scope causal wrote graph metrics")
				}
				for name, want := range floats {
					if got, ok := r[name].(float64); !ok || !closeEnough(got, want) {
						t.Errorf("flow from port %d: %s = %v, want %v", sport, name, r[name], want)
					}
				}
				if got := r["conn_burst_connections"]; got != w.burst {
					t.Errorf("flow from port %d: conn_burst_connections = %v, want %d", sport, got, w.burst)
				}
			}
		})
	}
}

// TestConnectionCausalNoLookAhead cuts the capture right after each flow's
// last packet: in scope causal the flow's row must not change, so nothing
// that came later (flows that start after it, later packets of flows that
// end after it) was counted.
func TestConnectionCausalNoLookAhead(t *testing.T) {
	cfg := connConfig("causal")
	full, _ := connRows(t, cfg, writeCapture(t, connFrames))
	lastOf := map[int64]int{}
	for i, f := range connFrames {
		sport := int64(f.SrcPort)
		if _, ok := connCausal[sport]; !ok {
			sport = int64(f.DstPort) // a reply
		}
		lastOf[sport] = i
	}
	for sport, last := range lastOf {
		cut, _ := connRows(t, cfg, writeCapture(t, connFrames[:last+1]))
		for name, v := range full[sport] {
			if strings.HasPrefix(name, "conn_") && cut[sport][name] != v {
				t.Errorf("flow from port %d cut after packet %d: %s = %v, full capture %v", sport, last+1, name, cut[sport][name], v)
			}
		}
	}
	// The scope matters: F1's capture-scope row counts F7's reply, which
	// comes after F1's last packet.
	capture, _ := connRows(t, connConfig("capture"), writeCapture(t, connFrames))
	if capture[1000]["conn_src_total_packets"] == full[1000]["conn_src_total_packets"] {
		t.Errorf("F1: scope capture and causal agree on conn_src_total_packets; the scenario should tell them apart")
	}
}

// TestConnectionGenerated runs a generated capture: two runs agree byte
// for byte in both scopes, every count of scope causal is at most the
// capture-scope count of the same flow, and standard input works in scope
// causal only.
func TestConnectionGenerated(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Packets, gc.ConcurrentFlows, gc.Clients, gc.Servers, gc.Seed = 30000, 500, 60, 12, 3
	path, _ := genCapture(t, gc)
	csvOf := func(cfg Config, in []string, stdin []byte) ([]byte, error) {
		p := NewPipeline(cfg)
		if stdin != nil {
			p.Stdin = bytes.NewReader(stdin)
		}
		schema, err := p.Schema()
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		w, _ := output.NewWriter("csv", &buf, schema)
		_, err = p.Run(in, w)
		return buf.Bytes(), err
	}
	for _, scope := range []string{"capture", "causal"} {
		cfg := connConfig(scope)
		cfg.ConnectionGraphMetrics = scope == "capture"
		a, err := csvOf(cfg, []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Workers = 4
		b, err := csvOf(cfg, []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || bytes.Count(a, []byte("\n")) < 1000 {
			t.Errorf("scope %s: two runs differ (%d and %d bytes) or too few flows", scope, len(a), len(b))
		}
	}
	_, capTab := connRows(t, connConfig("capture"), path)
	_, causTab := connRows(t, connConfig("causal"), path)
	if len(capTab.Rows) != len(causTab.Rows) {
		t.Fatalf("%d rows in scope capture, %d in scope causal", len(capTab.Rows), len(causTab.Rows))
	}
	for r := range capTab.Rows {
		for _, name := range connBaseNames {
			c, k := capTab.Value(r, name).(int64), causTab.Value(r, name).(int64)
			if k > c || k < 1 {
				t.Fatalf("row %d: %s causal %d, capture %d", r, name, k, c)
			}
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var oe *OptionError
	if _, err := csvOf(connConfig("capture"), []string{"-"}, data); !errors.As(err, &oe) || oe.Option != "connection_scope" {
		t.Errorf("scope capture on standard input: error %v, want an OptionError on connection_scope", err)
	}
	fromStdin, err := csvOf(connConfig("causal"), []string{"-"}, data)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _ := csvOf(connConfig("causal"), []string{path}, nil)
	if !bytes.Equal(fromStdin, fromFile) {
		t.Errorf("scope causal: standard input and file outputs differ")
	}
}
