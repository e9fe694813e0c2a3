package extract

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestTimingColumns(t *testing.T) {
	base := []string{
		"iat_min", "iat_max", "iat_mean", "iat_std", "iat_median", "iat_sum", "iat_p25", "iat_p75", "iat_p90", "iat_p95", "iat_p99",
		"iat_skew", "iat_kurtosis", "iat_cv",
		"iat_fwd_min", "iat_fwd_max", "iat_fwd_mean", "iat_fwd_std", "iat_fwd_median",
		"iat_bwd_min", "iat_bwd_max", "iat_bwd_mean", "iat_bwd_std", "iat_bwd_median",
		"burstiness_index", "burstiness_index_fwd", "burstiness_index_bwd",
		"burst_count", "avg_burst_packets", "avg_burst_duration", "max_burst_packets",
		"idle_count", "avg_idle_duration", "max_idle_duration",
		"first_response_time",
	}
	raw := []string{"iat_sequence", "timestamp_sequence"}
	splt := []string{"splt_lengths", "splt_times", "splt_directions"}
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"default", Options{}, base},
		{"raw", Options{IncludeRawSequences: true}, slices.Concat(base, raw)},
		{"splt", Options{IncludeSPLT: true}, slices.Concat(base, splt)},
		{"both", Options{IncludeRawSequences: true, IncludeSPLT: true}, slices.Concat(base, raw, splt)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkNames(t, NewTiming(tc.o), tc.want)
		})
	}
	for _, c := range NewTiming(Options{IncludeRawSequences: true, IncludeSPLT: true}).Columns() {
		if c.Group != "timing" {
			t.Errorf("column %s group %q", c.Name, c.Group)
		}
	}
}

// timingZero is every timing column of a flow without IATs, with
// sequences of length l.
func timingZero(l int) row {
	return zeroRow(NewTiming(Options{IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: l}), l)
}

func TestTiming(t *testing.T) {
	// Threshold 50 ms throughout.
	for _, tc := range []struct {
		name string
		l    int // max_sequence_length
		ps   []tp
		want row
	}{
		{
			// Emit of a slot that saw no packet: every value 0.
			name: "no packet", l: 3, ps: nil,
			want: timingZero(3),
		},
		{
			// No IAT, no burst (a 1-packet flow has none), no response.
			name: "one packet", l: 3,
			ps: []tp{{ts: 0, dir: Fwd, length: 60}},
			want: with(timingZero(3),
				"timestamp_sequence", []float64{0, 0, 0},
				"splt_lengths", []int64{60, 0, 0},
				"splt_directions", []int64{1, 0, 0},
			),
		},
		{
			// One IAT of 10 ms: every statistic 0.01, spread 0. No
			// per-direction IAT (one packet each way). 10 < 50: one burst
			// of 2 packets lasting 0.01; no idle. Response after 0.01.
			name: "two packets", l: 3,
			ps: []tp{
				{ts: 0, dir: Fwd, length: 100},
				{ts: ms(10), dir: Bwd, length: 200},
			},
			want: with(timingZero(3),
				"iat_min", 0.01, "iat_max", 0.01, "iat_mean", 0.01, "iat_median", 0.01, "iat_sum", 0.01,
				"iat_p25", 0.01, "iat_p75", 0.01, "iat_p90", 0.01, "iat_p95", 0.01, "iat_p99", 0.01,
				"burst_count", 1, "avg_burst_packets", 2.0, "avg_burst_duration", 0.01, "max_burst_packets", 2,
				"first_response_time", 0.01,
				"iat_sequence", []float64{0.01, 0, 0},
				"timestamp_sequence", []float64{0, 0.01, 0},
				"splt_lengths", []int64{100, 200, 0},
				"splt_times", []float64{0, 0.01, 0},
				"splt_directions", []int64{1, -1, 0},
			),
		},
		{
			// An IAT of exactly the threshold is idle and closes the
			// burst: two 1-packet bursts of duration 0. The forward IAT
			// is the same 0.05; no backward packet.
			name: "gap equal to threshold", l: 2,
			ps: []tp{
				{ts: 0, dir: Fwd, length: 40},
				{ts: ms(50), dir: Fwd, length: 40},
			},
			want: with(timingZero(2),
				"iat_min", 0.05, "iat_max", 0.05, "iat_mean", 0.05, "iat_median", 0.05, "iat_sum", 0.05,
				"iat_p25", 0.05, "iat_p75", 0.05, "iat_p90", 0.05, "iat_p95", 0.05, "iat_p99", 0.05,
				"iat_fwd_min", 0.05, "iat_fwd_max", 0.05, "iat_fwd_mean", 0.05, "iat_fwd_median", 0.05,
				"burst_count", 2, "avg_burst_packets", 1.0, "avg_burst_duration", 0.0, "max_burst_packets", 1,
				"idle_count", 1, "avg_idle_duration", 0.05, "max_idle_duration", 0.05,
				"iat_sequence", []float64{0.05, 0},
				"timestamp_sequence", []float64{0, 0.05},
				"splt_lengths", []int64{40, 40},
				"splt_times", []float64{0, 0.05},
				"splt_directions", []int64{1, 1},
			),
		},
		{
			// Packets (ms): F0 B10 F30 F130 B140 F135; the last is
			// captured after B140 although stamped earlier.
			// IATs: 10 20 100 10 0 (135−140 < 0 counts as 0).
			// Sorted 0 10 10 20 100, n = 5, sum 140, mean 28.
			// Percentile ranks 4·p/100: p25 1 → 10; p50 2 → 10; p75 3 → 20;
			// p90 3.6 → 20+0.6·80 = 68; p95 3.8 → 84; p99 3.96 → 96.8.
			// Deviations −28 −18 −18 −8 72: m2 = 6680/5 = 1336,
			// m3 = 339120/5 = 67824, m4 = 27702560/5 = 5540512.
			// Forward packets F0 F30 F130 F135: IATs 30 100 5, mean 45,
			// deviations −15 55 −40: m2 = 4850/3; median 30.
			// Backward B10 B140: one IAT 130.
			// Bursts: 10, 20 extend; 100 closes {F0 B10 F30} (30 ms),
			// then 10, 0 extend {F130 B140 F135}: 135 − 130 = 5 ms.
			// Two bursts of 3, mean duration 17.5 ms. Idle: 100.
			// First backward B10: 10 ms after the start (0).
			name: "small flow truncated sequences", l: 4,
			ps: []tp{
				{ts: 0, dir: Fwd, length: 60},
				{ts: ms(10), dir: Bwd, length: 70},
				{ts: ms(30), dir: Fwd, length: 80},
				{ts: ms(130), dir: Fwd, length: 90},
				{ts: ms(140), dir: Bwd, length: 100},
				{ts: ms(135), dir: Fwd, length: 110},
			},
			want: row{
				"iat_min": 0.0, "iat_max": 0.1, "iat_mean": 0.028, "iat_std": near(math.Sqrt(1336) / 1000),
				"iat_median": 0.01, "iat_sum": 0.14,
				"iat_p25": 0.01, "iat_p75": 0.02, "iat_p90": 0.068, "iat_p95": 0.084, "iat_p99": 0.0968,
				"iat_skew":     near(67824 / (1336 * math.Sqrt(1336))),
				"iat_kurtosis": near(5540512.0/(1336*1336) - 3),
				"iat_cv":       near(math.Sqrt(1336) / 28),
				"iat_fwd_min":  0.005, "iat_fwd_max": 0.1, "iat_fwd_mean": 0.045,
				"iat_fwd_std": near(math.Sqrt(4850.0/3) / 1000), "iat_fwd_median": 0.03,
				"iat_bwd_min": 0.13, "iat_bwd_max": 0.13, "iat_bwd_mean": 0.13, "iat_bwd_std": 0.0, "iat_bwd_median": 0.13,
				"burstiness_index":     near(math.Sqrt(1336) / 28),
				"burstiness_index_fwd": near(math.Sqrt(4850.0/3) / 45),
				"burstiness_index_bwd": 0.0,
				"burst_count":          2, "avg_burst_packets": 3.0, "avg_burst_duration": 0.0175, "max_burst_packets": 3,
				"idle_count": 1, "avg_idle_duration": 0.1, "max_idle_duration": 0.1,
				"first_response_time": 0.01,
				"iat_sequence":        []float64{0.01, 0.02, 0.1, 0.01},
				"timestamp_sequence":  []float64{0, 0.01, 0.03, 0.13},
				"splt_lengths":        []int64{60, 70, 80, 90},
				"splt_times":          []float64{0, 0.01, 0.02, 0.1},
				"splt_directions":     []int64{1, -1, 1, 1},
			},
		},
		{
			// The same flow with L = 8: the sequences are padded.
			name: "small flow padded sequences", l: 8,
			ps: []tp{
				{ts: 0, dir: Fwd, length: 60},
				{ts: ms(10), dir: Bwd, length: 70},
				{ts: ms(30), dir: Fwd, length: 80},
				{ts: ms(130), dir: Fwd, length: 90},
				{ts: ms(140), dir: Bwd, length: 100},
				{ts: ms(135), dir: Fwd, length: 110},
			},
			want: row{
				"iat_min": 0.0, "iat_max": 0.1, "iat_mean": 0.028, "iat_std": near(math.Sqrt(1336) / 1000),
				"iat_median": 0.01, "iat_sum": 0.14,
				"iat_p25": 0.01, "iat_p75": 0.02, "iat_p90": 0.068, "iat_p95": 0.084, "iat_p99": 0.0968,
				"iat_skew":     near(67824 / (1336 * math.Sqrt(1336))),
				"iat_kurtosis": near(5540512.0/(1336*1336) - 3),
				"iat_cv":       near(math.Sqrt(1336) / 28),
				"iat_fwd_min":  0.005, "iat_fwd_max": 0.1, "iat_fwd_mean": 0.045,
				"iat_fwd_std": near(math.Sqrt(4850.0/3) / 1000), "iat_fwd_median": 0.03,
				"iat_bwd_min": 0.13, "iat_bwd_max": 0.13, "iat_bwd_mean": 0.13, "iat_bwd_std": 0.0, "iat_bwd_median": 0.13,
				"burstiness_index":     near(math.Sqrt(1336) / 28),
				"burstiness_index_fwd": near(math.Sqrt(4850.0/3) / 45),
				"burstiness_index_bwd": 0.0,
				"burst_count":          2, "avg_burst_packets": 3.0, "avg_burst_duration": 0.0175, "max_burst_packets": 3,
				"idle_count": 1, "avg_idle_duration": 0.1, "max_idle_duration": 0.1,
				"first_response_time": 0.01,
				"iat_sequence":        []float64{0.01, 0.02, 0.1, 0.01, 0, 0, 0, 0},
				"timestamp_sequence":  []float64{0, 0.01, 0.03, 0.13, 0.14, 0.135, 0, 0},
				"splt_lengths":        []int64{60, 70, 80, 90, 100, 110, 0, 0},
				"splt_times":          []float64{0, 0.01, 0.02, 0.1, 0.01, 0, 0, 0},
				"splt_directions":     []int64{1, -1, 1, 1, -1, 1, 0, 0},
			},
		},
		{
			// The first packet is not the earliest: F100 B90 F200 (ms).
			// The flow starts at 90, so the response time is 0 and the
			// times are 10, 0, 110 after the start.
			// IATs: 0 (90−100) and 110; mean = median = 55, deviations
			// ±55: std 55, m3 = 0, m4/m2² = 1 so kurtosis −2, cv 1.
			// Ranks p·1/100: p25 → 27.5, p75 → 82.5, p90 → 99,
			// p95 → 104.5, p99 → 108.9.
			// Forward F100 F200: 100. Bursts: 0 extends {F100 B90} whose
			// duration 90 − 100 < 0 is 0; 110 closes it and opens {F200}.
			name: "earliest packet not first", l: 3,
			ps: []tp{
				{ts: ms(100), dir: Fwd, length: 52},
				{ts: ms(90), dir: Bwd, length: 52},
				{ts: ms(200), dir: Fwd, length: 1500},
			},
			want: row{
				"iat_min": 0.0, "iat_max": 0.11, "iat_mean": 0.055, "iat_std": 0.055,
				"iat_median": 0.055, "iat_sum": 0.11,
				"iat_p25": 0.0275, "iat_p75": 0.0825, "iat_p90": 0.099, "iat_p95": 0.1045, "iat_p99": 0.1089,
				"iat_skew": 0.0, "iat_kurtosis": -2.0, "iat_cv": 1.0,
				"iat_fwd_min": 0.1, "iat_fwd_max": 0.1, "iat_fwd_mean": 0.1, "iat_fwd_std": 0.0, "iat_fwd_median": 0.1,
				"iat_bwd_min": 0.0, "iat_bwd_max": 0.0, "iat_bwd_mean": 0.0, "iat_bwd_std": 0.0, "iat_bwd_median": 0.0,
				"burstiness_index": 1.0, "burstiness_index_fwd": 0.0, "burstiness_index_bwd": 0.0,
				"burst_count": 2, "avg_burst_packets": 1.5, "avg_burst_duration": 0.0, "max_burst_packets": 2,
				"idle_count": 1, "avg_idle_duration": 0.11, "max_idle_duration": 0.11,
				"first_response_time": 0.0,
				"iat_sequence":        []float64{0, 0.11, 0},
				"timestamp_sequence":  []float64{0.01, 0, 0.11},
				"splt_lengths":        []int64{52, 52, 1500},
				"splt_times":          []float64{0, 0, 0.11},
				"splt_directions":     []int64{1, -1, 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewTiming(Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: tc.l})
			if len(tc.ps) > 0 {
				ex.Observe(refs(3, tc.ps))
			}
			got := emitRow(t, ex, 3, &Flow{Proto: 6})
			checkRow(t, got, tc.want)
		})
	}
}

func TestTimingThreshold(t *testing.T) {
	// IATs 1.5 ms and 2 ms; with a 2 ms threshold the first extends the
	// burst and the second closes it. The threshold counts in whole
	// nanoseconds, the nearest: 1.5 ms is idle at threshold 1.5 and at
	// 1.5000001 (1 500 000.1 ns), not at 1.500001 (1 500 001 ns).
	ps := []tp{{ts: 0, length: 1}, {ts: 1_500_000, length: 1}, {ts: 3_500_000, length: 1}}
	// IATs of exactly 8.3 ms: idle at threshold 8.3, whose float 8.3·1e6
	// is 8300000.000000001 (a review found them counted as bursts when
	// that was rounded up).
	ps83 := []tp{{ts: 0, length: 1}, {ts: 8_300_000, length: 1}, {ts: 16_600_000, length: 1}}
	for _, tc := range []struct {
		ps    []tp
		thr   float64
		burst int
		idle  int
	}{
		{ps, 2, 2, 1},
		{ps, 1.5, 3, 2},
		{ps, 1.5000001, 3, 2},
		{ps, 1.500001, 2, 1},
		{ps, 0, 1, 0}, // 0 means the default, 50 ms
		{ps, 1e300, 1, 0},
		{ps83, 8.3, 3, 2},
		{ps83, 16.1, 1, 0},
		{ps, 1e-10, 3, 2}, // under a nanosecond: 1 ns
	} {
		ex := NewTiming(Options{BurstThresholdMs: tc.thr})
		ex.Observe(refs(0, tc.ps))
		got := emitRow(t, ex, 0, &Flow{})
		if got["burst_count"] != int64(tc.burst) || got["idle_count"] != int64(tc.idle) {
			t.Errorf("threshold %v ms: burst_count, idle_count = %v, %v, want %d, %d", tc.thr, got["burst_count"], got["idle_count"], tc.burst, tc.idle)
		}
	}
	// Every decimal threshold of one place up to 1000 ms is its whole
	// number of nanoseconds (a review counted 99 of them rounded up).
	for tenths := 1; tenths <= 10000; tenths++ {
		ms, _ := strconv.ParseFloat(strconv.Itoa(tenths/10)+"."+strconv.Itoa(tenths%10), 64)
		if got := burstThresholdNs(ms); got != int64(tenths)*100_000 {
			t.Fatalf("burstThresholdNs(%v) = %d, want %d", ms, got, int64(tenths)*100_000)
		}
	}
}

// TestTimingProperties checks invariants on random flows, and their
// percentiles against a float oracle. One flow in 25 is long enough for
// sortSeries' radix sort (radixMin): in all IATs, in one direction's, or
// in both, which then take the capture-order IATs' room as scratch.
func TestTimingProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ex := NewTiming(Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 10})
	for i := 0; i < 500; i++ {
		n := rng.IntN(120)
		fwdShare := 2 // one packet in fwdShare forward, on average
		if i%25 == 0 {
			n = radixMin + rng.IntN(3*radixMin)
			fwdShare = 1 + rng.IntN(8)
		}
		ps := make([]tp, n)
		var ts int64
		gapKind := rng.IntN(4)
		for k := range ps {
			switch gapKind {
			case 0: // constant gaps
				ts += 20_000_001
			case 1: // small and large
				ts += rng.Int64N(200_000_000)
			case 2: // a few distinct values
				ts += int64(rng.IntN(3)) * 49_999_999
			default: // heavy tail
				ts += int64(math.Exp(rng.Float64()*25)) + 1
			}
			ps[k] = tp{ts: ts, dir: Dir(min(rng.IntN(fwdShare), 1)), length: uint32(rng.IntN(1500))}
			if k == 0 {
				ps[k].dir = Fwd
			}
		}
		slot := uint32(rng.IntN(50))
		if n > 0 {
			ex.Observe(refs(slot, ps))
		}
		got := emitRow(t, ex, slot, &Flow{})
		finite(t, got)
		f := func(name string) float64 { return got[name].(float64) }
		if n >= 2 {
			if want := Seconds(ps[n-1].ts - ps[0].ts); f("iat_sum") != want {
				t.Errorf("flow %d: iat_sum = %v, want last − first = %v", i, f("iat_sum"), want)
			}
			// Against a float oracle: NumPy-style percentiles on float ns.
			iats := make([]float64, n-1)
			for k := 1; k < n; k++ {
				iats[k-1] = float64(ps[k].ts - ps[k-1].ts)
			}
			slices.Sort(iats)
			for _, p := range []struct {
				name string
				p    float64
			}{{"iat_p25", 25}, {"iat_median", 50}, {"iat_p75", 75}, {"iat_p90", 90}, {"iat_p95", 95}, {"iat_p99", 99}} {
				want := oraclePercentile(iats, p.p) / 1e9
				if math.Abs(f(p.name)-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("flow %d: %s = %v, oracle %v", i, p.name, f(p.name), want)
				}
			}
			// Each direction's IATs: min, max and median.
			for _, d := range []struct {
				prefix string
				dir    Dir
			}{{"iat_fwd_", Fwd}, {"iat_bwd_", Bwd}} {
				var xs []float64
				last := int64(-1)
				for _, p := range ps {
					if p.dir == d.dir {
						if last >= 0 {
							xs = append(xs, float64(p.ts-last))
						}
						last = p.ts
					}
				}
				if len(xs) == 0 {
					continue
				}
				slices.Sort(xs)
				if want := oraclePercentile(xs, 50) / 1e9; math.Abs(f(d.prefix+"median")-want) > 1e-9*math.Max(1, want) {
					t.Errorf("flow %d: %smedian = %v, oracle %v", i, d.prefix, f(d.prefix+"median"), want)
				}
				if f(d.prefix+"min") != xs[0]/1e9 || f(d.prefix+"max") != xs[len(xs)-1]/1e9 {
					t.Errorf("flow %d: %smin, max = %v, %v, want %v, %v", i, d.prefix, f(d.prefix+"min"), f(d.prefix+"max"), xs[0]/1e9, xs[len(xs)-1]/1e9)
				}
			}
			if gapKind == 0 && (f("iat_std") != 0 || f("iat_skew") != 0 || f("iat_kurtosis") != 0) {
				t.Errorf("flow %d: constant IATs: std, skew, kurtosis = %v %v %v, want 0", i, f("iat_std"), f("iat_skew"), f("iat_kurtosis"))
			}
		}
		ordered := []string{"iat_min", "iat_p25", "iat_median", "iat_p75", "iat_p90", "iat_p95", "iat_p99", "iat_max"}
		for k := 1; k < len(ordered); k++ {
			if f(ordered[k-1]) > f(ordered[k]) {
				t.Errorf("flow %d: %s %v > %s %v", i, ordered[k-1], f(ordered[k-1]), ordered[k], f(ordered[k]))
			}
		}
		if m := f("iat_mean"); m < f("iat_min") || m > f("iat_max") {
			t.Errorf("flow %d: iat_mean %v outside [min, max]", i, m)
		}
		if f("burstiness_index") != f("iat_cv") {
			t.Errorf("flow %d: burstiness_index %v != iat_cv %v", i, f("burstiness_index"), f("iat_cv"))
		}
		if n >= 2 {
			bc := got["burst_count"].(int64)
			if bc != got["idle_count"].(int64)+1 {
				t.Errorf("flow %d: burst_count %d, idle_count %d", i, bc, got["idle_count"])
			}
			if want := float64(n) / float64(bc); f("avg_burst_packets") != want {
				t.Errorf("flow %d: avg_burst_packets = %v, want %v", i, f("avg_burst_packets"), want)
			}
		}
	}
}

// oraclePercentile is NumPy's linear percentile on floats.
func oraclePercentile(sorted []float64, p float64) float64 {
	r := float64(len(sorted)-1) * p / 100
	lo := math.Floor(r)
	hi := math.Min(lo+1, float64(len(sorted)-1))
	return sorted[int(lo)] + (sorted[int(hi)]-sorted[int(lo)])*(r-lo)
}

// TestTimingSlotReuse checks that Emit releases a slot: a flow observed in
// a reused slot gives the same row as in a fresh extractor, and New
// restarts a slot even without Emit.
func TestTimingSlotReuse(t *testing.T) {
	o := Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 5}
	a := []tp{{ts: 0, length: 1000}, {ts: ms(70), dir: Bwd, length: 40}, {ts: ms(71), length: 1000}, {ts: ms(72), length: 9}}
	b := []tp{{ts: ms(5), length: 60}, {ts: ms(6), dir: Bwd, length: 61}}
	fresh := NewTiming(o)
	fresh.Observe(refs(0, b))
	want := emitRow(t, fresh, 0, &Flow{})

	reused := NewTiming(o)
	reused.Observe(refs(7, a))
	emitRow(t, reused, 7, &Flow{})
	reused.Observe(refs(7, b))
	checkRow(t, emitRow(t, reused, 7, &Flow{}), want)
	if s := *reused.log.at(7); s.pkts != nil || s.dirs != nil || s.full != nil {
		t.Errorf("Emit kept the slot's buffers: %+v", s)
	}

	restarted := NewTiming(o)
	restarted.Observe(refs(7, a)) // never emitted
	restarted.Observe(refs(7, b))
	checkRow(t, emitRow(t, restarted, 7, &Flow{}), want)
}

func TestTimingNoAllocs(t *testing.T) {
	ex := NewTiming(Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 50})
	if a := steadyState(ex, 64, 40); a != 0 {
		t.Errorf("Observe+Emit round: %v allocations, want 0", a)
	}
}

func BenchmarkObserveTiming(b *testing.B) {
	benchObserve(b, NewTiming(Options{BurstThresholdMs: 50, MaxSequenceLength: 50}))
}

func BenchmarkObserveTimingSequences(b *testing.B) {
	benchObserve(b, NewTiming(Options{BurstThresholdMs: 50, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 50}))
}
