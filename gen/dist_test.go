package gen

import (
	"math"
	"testing"
)

// TestLengthDist checks the bounds and the mean of flow lengths. Cases with
// a heavy tail use a low cap so that 300 000 draws pin the mean to 1 %.
func TestLengthDist(t *testing.T) {
	for _, tc := range []struct {
		name  string
		min   int64
		mean  float64
		alpha float64
		max   int64
	}{
		{"tcp light tail", 7, 20, 3, 1_000_000},
		{"udp light tail", 2, 20, 3, 1_000_000},
		{"tcp heavy tail low cap", 7, 20, 1.5, 200},
		{"udp heavy tail low cap", 2, 12.5, 1.2, 100},
		{"cap binds hard", 7, 30, 1.1, 40},
		{"mean below min", 7, 3, 1.5, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newLengthDist(tc.min, tc.mean, tc.alpha, tc.max)
			r := newRNG(11, 0)
			const n = 300_000
			var sum float64
			for range n {
				l := d.draw(&r)
				if l < tc.min || l > tc.max {
					t.Fatalf("draw() = %d, want [%d, %d]", l, tc.min, tc.max)
				}
				sum += float64(l)
			}
			want := math.Max(tc.mean, float64(tc.min))
			if got := sum / n; math.Abs(got-want)/want > 0.01 {
				t.Errorf("mean length = %.3f, want %v ±1%%", got, want)
			}
		})
	}
}

// TestLengthDistHeavyTail checks the default law's shape against the Lomax
// survival function S(x) = (1 + x/λ)^-α: most flows are short, a few are
// long. With stochastic rounding, P(L <= m+k) = ∫₀¹ 1 - S(k+1-u) du.
func TestLengthDistHeavyTail(t *testing.T) {
	const alpha = 1.5
	d := newLengthDist(minPairPackets, 20, alpha, 1_000_000)
	survival := func(x float64) float64 { return math.Pow(1+x/d.lambda, -alpha) }
	atMost := func(k float64) float64 { // P(L - min <= k)
		var p float64
		const steps = 1000
		for i := range steps {
			u := (float64(i) + 0.5) / steps
			p += (1 - survival(k+1-u)) / steps
		}
		return p
	}
	r := newRNG(5, 0)
	const n = 400_000
	var short, long int
	for range n {
		switch l := d.draw(&r); {
		case l <= 10:
			short++
		case l >= 200:
			long++
		}
	}
	if got, want := float64(short)/n, atMost(8); math.Abs(got-want) > 0.005 {
		t.Errorf("P(L <= 10) = %.4f, want %.4f", got, want)
	}
	if got, want := float64(long)/n, 1-atMost(197); math.Abs(got-want) > 0.001 {
		t.Errorf("P(L >= 200) = %.4f, want %.4f", got, want)
	}
	if want := 0.6; atMost(8) < want {
		t.Errorf("P(L <= 10) = %.3f: the default law should leave most flows short", atMost(8))
	}
}

func TestMixAt(t *testing.T) {
	for _, tc := range []struct {
		t    float64
		want mix
	}{
		{0, mix{ack: 1}},
		{0.25, mix{ack: 1 - 0.5*(1-defaultMix.ack), mid: defaultMix.mid / 2, full: defaultMix.full / 2}},
		{0.5, defaultMix},
		{1, mix{full: 1}},
	} {
		got := mixAt(tc.t)
		if math.Abs(got.ack-tc.want.ack) > 1e-12 || math.Abs(got.mid-tc.want.mid) > 1e-12 || math.Abs(got.full-tc.want.full) > 1e-12 {
			t.Errorf("mixAt(%v) = %+v, want %+v", tc.t, got, tc.want)
		}
		if s := got.ack + got.mid + got.full; math.Abs(s-1) > 1e-12 {
			t.Errorf("mixAt(%v) sums to %v", tc.t, s)
		}
	}
}

// TestCompositionAdd counts size classes by hand from the TCP plan: SYN,
// SYN-ACK, ACK, request, data..., then FIN, FIN, ACK or one RST.
func TestCompositionAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    kind
		n    int64
		rst  bool
		sent int64
		want composition
	}{
		{"shortest tcp", kindTCP, 7, false, 7, composition{syn: 2, base: 4, first: 1}},
		{"tcp with data", kindTCP, 12, false, 12, composition{syn: 2, base: 4, first: 1, mix: 5}},
		{"tcp rst", kindTCP, 10, true, 10, composition{syn: 2, base: 2, first: 1, mix: 5}},
		{"tcp cut after syn", kindTCP, 12, false, 1, composition{syn: 1}},
		{"tcp cut in data", kindTCP, 12, false, 6, composition{syn: 2, base: 1, first: 1, mix: 2}},
		{"tcp cut in close", kindTCP, 12, false, 10, composition{syn: 2, base: 2, first: 1, mix: 5}},
		{"udp odd", kindUDP, 9, false, 5, composition{req: 3, resp: 2}},
		{"icmp", kindICMP, 4, false, 4, composition{icmp: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got composition
			got.add(tc.k, tc.n, tc.rst, tc.sent)
			if got != tc.want {
				t.Errorf("add(%v, %d, %v, %d) = %+v, want %+v", tc.k, tc.n, tc.rst, tc.sent, got, tc.want)
			}
		})
	}
}
