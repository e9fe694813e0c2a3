package extract

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSizeColumns(t *testing.T) {
	base := slices.Concat(
		[]string{"pkt_len_min", "pkt_len_max", "pkt_len_mean", "pkt_len_std", "pkt_len_median", "pkt_len_p25", "pkt_len_p75", "pkt_len_p90", "pkt_len_p95", "pkt_len_variance"},
		[]string{"pkt_len_skew", "pkt_len_kurtosis", "pkt_len_cv"},
		expand("pkt_len_fwd_min", "_max", "_mean", "_std", "_median"),
		expand("pkt_len_bwd_min", "_max", "_mean", "_std", "_median"),
		[]string{"payload_len_min", "payload_len_max", "payload_len_mean", "payload_len_std", "payload_len_fwd_mean", "payload_len_fwd_std", "payload_len_bwd_mean", "payload_len_bwd_std"},
		[]string{"packets_with_payload", "packets_with_payload_fwd", "packets_with_payload_bwd"},
		[]string{"header_only_ratio"},
		[]string{"dominant_pkt_size", "dominant_pkt_ratio"},
		[]string{"l7_bytes_fwd", "l7_bytes_bwd", "l7_bytes_total"},
		[]string{"l7_pkt_min_fwd", "l7_pkt_max_fwd", "l7_pkt_min_bwd", "l7_pkt_max_bwd"},
		[]string{"pkt_asymmetry", "byte_asymmetry"},
	)
	if got := expand("pkt_len_fwd_min", "_max"); !slices.Equal(got, []string{"pkt_len_fwd_min", "pkt_len_fwd_max"}) {
		t.Fatalf("expand = %v", got)
	}
	checkNames(t, NewSize(Options{}), base)
	checkNames(t, NewSize(Options{IncludeRawSequences: true}), slices.Concat(base, []string{"pkt_len_sequence"}))
	// include_splt belongs to timing only.
	checkNames(t, NewSize(Options{IncludeSPLT: true}), base)
}

func sizeZero(l int) row {
	return zeroRow(NewSize(Options{IncludeRawSequences: true, MaxSequenceLength: l}), l)
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    int
		ps   []tp
		want row
	}{
		{name: "no packet", l: 3, want: sizeZero(3)},
		{
			// One forward packet of 60 bytes, no payload. Every length
			// statistic is 60 with spread 0; nothing backward.
			name: "one packet", l: 3,
			ps: []tp{{dir: Fwd, length: 60}},
			want: with(sizeZero(3),
				"pkt_len_min", 60.0, "pkt_len_max", 60.0, "pkt_len_mean", 60.0, "pkt_len_median", 60.0,
				"pkt_len_p25", 60.0, "pkt_len_p75", 60.0, "pkt_len_p90", 60.0, "pkt_len_p95", 60.0,
				"pkt_len_fwd_min", 60.0, "pkt_len_fwd_max", 60.0, "pkt_len_fwd_mean", 60.0, "pkt_len_fwd_median", 60.0,
				"header_only_ratio", 1.0,
				"dominant_pkt_size", 60, "dominant_pkt_ratio", 1.0,
				"pkt_asymmetry", 1.0, "byte_asymmetry", 1.0,
				"pkt_len_sequence", []int64{60, 0, 0},
			),
		},
		{
			// Two packets, 40 forward (no payload) and 1500 backward
			// (1460 payload). Lengths 40 1500: mean 770, deviations ±730,
			// variance 532900, skew 0, kurtosis 1 − 3 = −2, cv 730/770.
			// Ranks p/100: p25 40+0.25·1460 = 405, p50 770, p75 1135,
			// p90 1354, p95 1427. Payloads 0 1460: mean 730, std 730.
			// Asymmetry: packets 0, bytes (40−1500)/1540.
			name: "two packets", l: 1,
			ps: []tp{
				{dir: Fwd, length: 40},
				{ts: 1, dir: Bwd, length: 1500, payload: 1460},
			},
			want: row{
				"pkt_len_min": 40.0, "pkt_len_max": 1500.0, "pkt_len_mean": 770.0, "pkt_len_std": 730.0,
				"pkt_len_median": 770.0, "pkt_len_p25": 405.0, "pkt_len_p75": 1135.0, "pkt_len_p90": 1354.0, "pkt_len_p95": 1427.0,
				"pkt_len_variance": 532900.0, "pkt_len_skew": 0.0, "pkt_len_kurtosis": -2.0, "pkt_len_cv": 730.0 / 770,
				"pkt_len_fwd_min": 40.0, "pkt_len_fwd_max": 40.0, "pkt_len_fwd_mean": 40.0, "pkt_len_fwd_std": 0.0, "pkt_len_fwd_median": 40.0,
				"pkt_len_bwd_min": 1500.0, "pkt_len_bwd_max": 1500.0, "pkt_len_bwd_mean": 1500.0, "pkt_len_bwd_std": 0.0, "pkt_len_bwd_median": 1500.0,
				"payload_len_min": 0.0, "payload_len_max": 1460.0, "payload_len_mean": 730.0, "payload_len_std": 730.0,
				"payload_len_fwd_mean": 0.0, "payload_len_fwd_std": 0.0, "payload_len_bwd_mean": 1460.0, "payload_len_bwd_std": 0.0,
				"packets_with_payload": 1, "packets_with_payload_fwd": 0, "packets_with_payload_bwd": 1,
				"header_only_ratio": 0.5,
				// 40 and 1500 once each: the first seen wins.
				"dominant_pkt_size": 40, "dominant_pkt_ratio": 0.5,
				"l7_bytes_fwd": 0, "l7_bytes_bwd": 1460, "l7_bytes_total": 1460,
				"l7_pkt_min_fwd": 0, "l7_pkt_max_fwd": 0, "l7_pkt_min_bwd": 1460, "l7_pkt_max_bwd": 1460,
				"pkt_asymmetry": 0.0, "byte_asymmetry": -1460.0 / 1540,
				"pkt_len_sequence": []int64{40},
			},
		},
		{
			// F60/0 B60/0 F100/40 B1500/1440 F100/48 B80/28 (length/payload).
			// Lengths sorted 60 60 80 100 100 1500: n 6, sum 1900, mean 950/3.
			// Ranks 5p/100: p25 1.25 → 60+0.25·20 = 65; p50 2.5 → 90;
			// p75 3.75 → 100; p90 4.5 → 100+0.5·1400 = 800; p95 4.75 → 1150.
			// With e = 3x − 950 (−770 −770 −710 −650 −650 3550):
			// Σe² = 15137400 so m2 = 15137400/54 = 2522900/9;
			// Σe³ = 42918648000 so m3 = Σe³/162; Σe⁴ = 160137196380000 so
			// m4 = Σe⁴/486.
			// Forward 60 100 100: mean 260/3, m2 = 3200/9, median 100.
			// Backward 60 1500 80: mean 1640/3, m2 = 4090400/9, median 80.
			// Payloads 0 0 40 1440 48 28: sum 1556, Σx² 2078288,
			// variance (6·2078288 − 1556²)/36 = 10048592/36.
			// Forward 0 40 48: 88/3, variance (3·3904 − 88²)/9 = 3968/9.
			// Backward 0 1440 28: 1468/3, variance (3·2074384 − 1468²)/9 = 4068128/9.
			// 60 and 100 both twice: 60 was seen first.
			// Bytes 260 forward, 1640 backward.
			name: "small flow", l: 4,
			ps: []tp{
				{dir: Fwd, length: 60},
				{dir: Bwd, length: 60},
				{dir: Fwd, length: 100, payload: 40},
				{dir: Bwd, length: 1500, payload: 1440},
				{dir: Fwd, length: 100, payload: 48},
				{dir: Bwd, length: 80, payload: 28},
			},
			want: row{
				"pkt_len_min": 60.0, "pkt_len_max": 1500.0, "pkt_len_mean": 1900.0 / 6, "pkt_len_std": near(math.Sqrt(2522900.0 / 9)),
				"pkt_len_median": 90.0, "pkt_len_p25": 65.0, "pkt_len_p75": 100.0, "pkt_len_p90": 800.0, "pkt_len_p95": 1150.0,
				"pkt_len_variance": near(2522900.0 / 9),
				"pkt_len_skew":     near((42918648000.0 / 162) / math.Pow(2522900.0/9, 1.5)),
				"pkt_len_kurtosis": near((160137196380000.0/486)/((2522900.0/9)*(2522900.0/9)) - 3),
				"pkt_len_cv":       near(math.Sqrt(2522900.0/9) / (1900.0 / 6)),
				"pkt_len_fwd_min":  60.0, "pkt_len_fwd_max": 100.0, "pkt_len_fwd_mean": 260.0 / 3, "pkt_len_fwd_std": near(math.Sqrt(3200.0 / 9)), "pkt_len_fwd_median": 100.0,
				"pkt_len_bwd_min": 60.0, "pkt_len_bwd_max": 1500.0, "pkt_len_bwd_mean": 1640.0 / 3, "pkt_len_bwd_std": near(math.Sqrt(4090400.0 / 9)), "pkt_len_bwd_median": 80.0,
				"payload_len_min": 0.0, "payload_len_max": 1440.0, "payload_len_mean": 1556.0 / 6, "payload_len_std": near(math.Sqrt(10048592.0 / 36)),
				"payload_len_fwd_mean": 88.0 / 3, "payload_len_fwd_std": near(math.Sqrt(3968.0 / 9)),
				"payload_len_bwd_mean": 1468.0 / 3, "payload_len_bwd_std": near(math.Sqrt(4068128.0 / 9)),
				"packets_with_payload": 4, "packets_with_payload_fwd": 2, "packets_with_payload_bwd": 2,
				"header_only_ratio": 2.0 / 6,
				"dominant_pkt_size": 60, "dominant_pkt_ratio": 2.0 / 6,
				"l7_bytes_fwd": 88, "l7_bytes_bwd": 1468, "l7_bytes_total": 1556,
				"l7_pkt_min_fwd": 40, "l7_pkt_max_fwd": 48, "l7_pkt_min_bwd": 28, "l7_pkt_max_bwd": 1440,
				"pkt_asymmetry": 0.0, "byte_asymmetry": (260.0 - 1640) / 1900,
				"pkt_len_sequence": []int64{60, -60, 100, -1500},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewSize(Options{IncludeRawSequences: true, MaxSequenceLength: tc.l})
			if len(tc.ps) > 0 {
				ex.Observe(refs(2, tc.ps))
			}
			checkRow(t, emitRow(t, ex, 2, &Flow{}), tc.want)
		})
	}
}

func TestDominant(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lens    []uint32
		want    int64
		wantCnt uint64
	}{
		{"empty", nil, 0, 0},
		{"single", []uint32{7}, 7, 1},
		// 100 and 60 twice each: 100 was seen first though 60 sorts first.
		{"tie first seen", []uint32{100, 60, 100, 60}, 100, 2},
		{"clear winner", []uint32{1500, 40, 40, 1500, 40}, 40, 3},
		{"tie of three", []uint32{9, 8, 7, 7, 8, 9}, 9, 2},
		{"all once", []uint32{500, 40, 1500}, 500, 1},
		{"one best among ties below it", []uint32{3, 4, 3, 4, 5, 5, 5}, 5, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sorted := make([]int64, len(tc.lens))
			for i, l := range tc.lens {
				sorted[i] = int64(l)
			}
			slices.Sort(sorted)
			ps := make([]logPacket, len(tc.lens))
			for i, l := range tc.lens {
				ps[i].len = l
			}
			if got, cnt := dominant(&packets{tail: ps, n: len(ps)}, sorted); got != tc.want || cnt != tc.wantCnt {
				t.Errorf("dominant(%v) = %d, %d, want %d, %d", tc.lens, got, cnt, tc.want, tc.wantCnt)
			}
		})
	}
}

func TestSizeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ex := NewSize(Options{IncludeRawSequences: true, MaxSequenceLength: 8})
	for i := 0; i < 500; i++ {
		n := rng.IntN(100)
		fwdShare := 2  // one packet in fwdShare forward, on average
		if i%25 == 0 { // long enough for sortSeries' radix sort
			n = radixMin + rng.IntN(3*radixMin)
			fwdShare = 1 + rng.IntN(8)
		}
		ps := make([]tp, n)
		var total, payTotal uint64
		constant := rng.IntN(4) == 0
		for k := range ps {
			l := uint32(20 + rng.IntN(1481))
			if constant {
				l = 576
			}
			ps[k] = tp{dir: Dir(min(rng.IntN(fwdShare), 1)), length: l, payload: uint32(rng.IntN(int(l) - 19))}
			total += uint64(l)
			payTotal += uint64(ps[k].payload)
		}
		slot := uint32(rng.IntN(30))
		if n > 0 {
			ex.Observe(refs(slot, ps))
		}
		got := emitRow(t, ex, slot, &Flow{})
		finite(t, got)
		f := func(name string) float64 { return got[name].(float64) }
		if n > 0 {
			if prod := f("pkt_len_mean") * float64(n); math.Abs(prod-float64(total)) > 1e-9*float64(total) {
				t.Errorf("flow %d: pkt_len_mean × %d = %v, want total bytes %d", i, n, prod, total)
			}
			if got["l7_bytes_total"] != int64(payTotal) {
				t.Errorf("flow %d: l7_bytes_total = %v, want %d", i, got["l7_bytes_total"], payTotal)
			}
			if v, s := f("pkt_len_variance"), f("pkt_len_std"); s != math.Sqrt(v) {
				t.Errorf("flow %d: pkt_len_std %v != sqrt(variance %v)", i, s, v)
			}
		}
		// Against a float oracle on each series.
		for _, sr := range []struct {
			prefix string
			keep   func(tp) bool
		}{
			{"pkt_len_", func(tp) bool { return true }},
			{"pkt_len_fwd_", func(p tp) bool { return p.dir == Fwd }},
			{"pkt_len_bwd_", func(p tp) bool { return p.dir == Bwd }},
		} {
			var xs []float64
			for _, p := range ps {
				if sr.keep(p) {
					xs = append(xs, float64(p.length))
				}
			}
			if len(xs) == 0 {
				continue
			}
			slices.Sort(xs)
			if want := oraclePercentile(xs, 50); math.Abs(f(sr.prefix+"median")-want) > 1e-9*want {
				t.Errorf("flow %d: %smedian = %v, oracle %v", i, sr.prefix, f(sr.prefix+"median"), want)
			}
			if f(sr.prefix+"min") != xs[0] || f(sr.prefix+"max") != xs[len(xs)-1] {
				t.Errorf("flow %d: %smin, max = %v, %v, want %v, %v", i, sr.prefix, f(sr.prefix+"min"), f(sr.prefix+"max"), xs[0], xs[len(xs)-1])
			}
		}
		if constant && (f("pkt_len_std") != 0 || f("pkt_len_skew") != 0 || f("pkt_len_kurtosis") != 0 || f("pkt_len_fwd_std") != 0) {
			t.Errorf("flow %d: constant lengths: std %v skew %v kurtosis %v", i, f("pkt_len_std"), f("pkt_len_skew"), f("pkt_len_kurtosis"))
		}
		ordered := []string{"pkt_len_min", "pkt_len_p25", "pkt_len_median", "pkt_len_p75", "pkt_len_p90", "pkt_len_p95", "pkt_len_max"}
		for k := 1; k < len(ordered); k++ {
			if f(ordered[k-1]) > f(ordered[k]) {
				t.Errorf("flow %d: %s %v > %s %v", i, ordered[k-1], f(ordered[k-1]), ordered[k], f(ordered[k]))
			}
		}
		for _, a := range []string{"pkt_asymmetry", "byte_asymmetry", "header_only_ratio", "dominant_pkt_ratio"} {
			if v := f(a); v < -1 || v > 1 {
				t.Errorf("flow %d: %s = %v outside [-1, 1]", i, a, v)
			}
		}
		seq := got["pkt_len_sequence"].([]int64)
		for k := 0; k < len(seq); k++ {
			want := int64(0)
			if k < n {
				want = int64(ps[k].length)
				if ps[k].dir == Bwd {
					want = -want
				}
			}
			if seq[k] != want {
				t.Errorf("flow %d: pkt_len_sequence[%d] = %d, want %d", i, k, seq[k], want)
			}
		}
	}
}

// A slot's next flow, after an Emit or restarted without one, has none
// of the directions of the flow before: one shorter than 64 packets (its
// directions in the state's word) and one longer (in a bitmap).
func TestSizeSlotReuse(t *testing.T) {
	o := Options{IncludeRawSequences: true, MaxSequenceLength: 3}
	b := []tp{{length: 60}, {length: 61, payload: 1}, {dir: Bwd, length: 62, payload: 2}}
	fresh := NewSize(o)
	fresh.Observe(refs(0, b))
	want := emitRow(t, fresh, 0, &Flow{})

	for _, n := range []int{3, 70} {
		a := []tp{{length: 1500, payload: 1460}}
		for k := 1; k < n; k++ {
			a = append(a, tp{dir: Bwd, length: 9000 - uint32(k), payload: 8900})
		}
		reused := NewSize(o)
		reused.Observe(refs(4, a))
		emitRow(t, reused, 4, &Flow{})
		reused.Observe(refs(4, b))
		checkRow(t, emitRow(t, reused, 4, &Flow{}), want)
		if s := *reused.log.at(4); s.pkts != nil || s.dirs != nil || s.full != nil || s.dir0 != [1]uint64{} {
			t.Errorf("Emit kept the slot's state: %+v", s)
		}

		restarted := NewSize(o)
		restarted.Observe(refs(4, a))
		restarted.Observe(refs(4, b))
		checkRow(t, emitRow(t, restarted, 4, &Flow{}), want)
	}
}

// TestSizeNoAllocs checks that a steady run of flows allocates nothing:
// flows of 40 packets, and of 100, whose directions take a bitmap from the
// pool.
func TestSizeNoAllocs(t *testing.T) {
	for _, perFlow := range []int{40, 100} {
		if a := steadyState(NewSize(Options{IncludeRawSequences: true, MaxSequenceLength: 50}), 64, perFlow); a != 0 {
			t.Errorf("flows of %d packets: Observe+Emit round: %v allocations, want 0", perFlow, a)
		}
	}
}

func BenchmarkObserveSize(b *testing.B) {
	benchObserve(b, NewSize(Options{MaxSequenceLength: 50}))
}
