package jj

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jjflow/jj/gen"
	"github.com/jjflow/jj/output"
)

// Properties of the timing, size and tcp columns that hold for every flow
// (extractors.md), checked on the CSV output of the whole pipeline for a
// generated capture: TCP, UDP and ICMP over IPv4 and IPv6, resets, a SYN
// flood, flows cut by the end of the capture, bursts and idle periods.

// nanFinder is an output.Writer that reports NaN and infinite values in
// the typed batches before passing them on: the CSV writer prints those as
// 0.0, so the text alone cannot show them.
type nanFinder struct {
	output.Writer
	t   *testing.T
	bad int
}

func (n *nanFinder) Write(b *output.Batch) error {
	for c, col := range b.Schema {
		for r := 0; r < b.Len(); r++ {
			var vs []float64
			switch col.Type {
			case output.Float:
				vs = []float64{b.Float(c, r)}
			case output.FloatList:
				vs = b.FloatList(c, r)
			}
			for _, v := range vs {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					if n.bad++; n.bad <= 10 {
						n.t.Errorf("column %s: %v in the batch", col.Name, v)
					}
				}
			}
		}
	}
	return n.Writer.Write(b)
}

func TestExtractorProperties(t *testing.T) {
	gc := gen.DefaultConfig()
	gc.Seed = 42
	gc.Packets = 30_000
	gc.ConcurrentFlows = 300
	gc.IPv6Fraction = 0.3
	gc.MeanFlowPackets = 30
	gc.MaxFlowPackets = 2_000
	gc.SYNFlood = 300
	gc.RSTFraction = 0.2
	gc.PacketRate = 2_000 // about 7 packets per second per flow: bursts and idle periods
	gc.Start = time.Date(2024, 5, 1, 12, 0, 0, 123_456_789, time.UTC)
	file := filepath.Join(t.TempDir(), "gen.pcapng")
	var capture bytes.Buffer
	if _, err := gen.Write(&capture, gc, gen.FormatPcapNG); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, capture.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig()
	cfg.Features = []string{"all"}
	cfg.IncludeRawSequences, cfg.IncludeSPLT = true, true
	p := NewPipeline(cfg)
	schema, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := output.NewWriter("csv", &out, schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run([]string{file}, &nanFinder{Writer: w, t: t}); err != nil {
		t.Fatal(err)
	}

	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 500 {
		t.Fatalf("%d rows: want a few hundred flows at least", len(recs)-1)
	}
	header := recs[0]
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	types := map[string]output.Type{}
	groups := map[string]string{}
	for _, c := range schema {
		types[c.Name], groups[c.Name] = c.Type, c.Group
	}

	var tcpFlows, otherFlows, idleFlows int
	for r, rec := range recs[1:] {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("row %d (%s %s:%s -> %s:%s): "+format,
				append([]any{r + 1, rec[idx["protocol"]], rec[idx["src_ip"]], rec[idx["src_port"]], rec[idx["dst_ip"]], rec[idx["dst_port"]]}, args...)...)
		}
		// Every float cell parses to a finite number.
		floats := map[string]float64{}
		for i, name := range header {
			cell := rec[i]
			switch types[name] {
			case output.Float:
				v, err := strconv.ParseFloat(cell, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					fail("%s = %q is not a finite float", name, cell)
				}
				floats[name] = v
			case output.FloatList:
				var vs []float64
				if err := json.Unmarshal([]byte(cell), &vs); err != nil {
					fail("%s = %q is not a list of floats: %v", name, cell, err)
				}
				for _, v := range vs {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						fail("%s holds %v", name, v)
					}
				}
			}
		}
		num := func(name string) float64 {
			if v, ok := floats[name]; ok {
				return v
			}
			v, err := strconv.ParseFloat(rec[idx[name]], 64)
			if err != nil {
				fail("%s = %q: %v", name, rec[idx[name]], err)
			}
			return v
		}
		packets, bytes := num("total_packets"), num("total_bytes")

		// The generator's timestamps increase strictly, so the IATs sum to
		// the duration, exactly: both are one rounding of the same integer
		// number of nanoseconds.
		if num("iat_sum") != num("duration") {
			fail("iat_sum %v != duration %v", num("iat_sum"), num("duration"))
		}
		if m := num("pkt_len_mean") * packets; math.Abs(m-bytes) > 1e-9*bytes {
			fail("pkt_len_mean × total_packets = %v, total_bytes %v", m, bytes)
		}
		for _, chain := range [][]string{
			{"iat_min", "iat_p25", "iat_median", "iat_p75", "iat_p90", "iat_p95", "iat_p99", "iat_max"},
			{"pkt_len_min", "pkt_len_p25", "pkt_len_median", "pkt_len_p75", "pkt_len_p90", "pkt_len_p95", "pkt_len_max"},
			{"iat_fwd_min", "iat_fwd_median", "iat_fwd_max"},
			{"iat_bwd_min", "iat_bwd_median", "iat_bwd_max"},
			{"pkt_len_fwd_min", "pkt_len_fwd_median", "pkt_len_fwd_max"},
			{"pkt_len_bwd_min", "pkt_len_bwd_median", "pkt_len_bwd_max"},
			{"payload_len_min", "payload_len_mean", "payload_len_max"},
		} {
			for i := 1; i < len(chain); i++ {
				if num(chain[i-1]) > num(chain[i]) {
					fail("%s %v > %s %v", chain[i-1], num(chain[i-1]), chain[i], num(chain[i]))
				}
			}
		}
		// A few more identities of the contract.
		if m := num("avg_burst_packets") * num("burst_count"); packets >= 2 && math.Abs(m-packets) > 1e-9*packets {
			fail("avg_burst_packets × burst_count = %v, total_packets %v", m, packets)
		}
		if num("l7_bytes_total") != num("payload_bytes_total") {
			fail("l7_bytes_total %v != payload_bytes_total %v", num("l7_bytes_total"), num("payload_bytes_total"))
		}
		if num("iat_cv") != num("burstiness_index") {
			fail("iat_cv %v != burstiness_index %v", num("iat_cv"), num("burstiness_index"))
		}
		if v, s := num("pkt_len_variance"), num("pkt_len_std"); math.Abs(v-s*s) > 1e-9*v {
			fail("pkt_len_variance %v != pkt_len_std² %v", v, s*s)
		}
		if num("idle_count") > 0 {
			idleFlows++
		}

		if rec[idx["protocol"]] != "6" {
			otherFlows++
			for i, name := range header {
				if groups[name] != "tcp" {
					continue
				}
				zero := map[output.Type]string{output.Int: "0", output.Float: "0.0", output.Bool: "false"}[types[name]]
				if rec[i] != zero {
					fail("non-TCP flow: %s = %s", name, rec[i])
				}
			}
			continue
		}
		tcpFlows++
		if rec[idx["tcp_is_tcp"]] != "true" {
			fail("TCP flow: tcp_is_tcp = %s", rec[idx["tcp_is_tcp"]])
		}
		// The generator never re-sends nor reorders a segment.
		for _, c := range []string{"tcp_retrans_fwd", "tcp_retrans_bwd", "tcp_out_of_order_fwd", "tcp_out_of_order_bwd"} {
			if rec[idx[c]] != "0" {
				fail("%s = %s", c, rec[idx[c]])
			}
		}
	}
	if tcpFlows < 100 || otherFlows < 50 || idleFlows < 50 {
		t.Errorf("the capture should exercise more: %d TCP flows, %d others, %d with idle periods", tcpFlows, otherFlows, idleFlows)
	}
	t.Logf("%d flows: %d TCP, %d other, %d with idle periods", len(recs)-1, tcpFlows, otherFlows, idleFlows)
}
