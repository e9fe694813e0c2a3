package gen

import (
	"math"
	"testing"
)

// TestRNGReference pins xoshiro256** and splitmix64 to the outputs of the
// authors' reference C code (prng.di.unimi.it): state {1, 2, 3, 4} and
// splitmix64 from 0.
func TestRNGReference(t *testing.T) {
	r := rng{1, 2, 3, 4}
	for i, want := range []uint64{11520, 0, 1509978240, 1215971899390074240} {
		if got := r.next(); got != want {
			t.Errorf("xoshiro256** output %d = %d, want %d", i, got, want)
		}
	}
	var x uint64
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := splitmix(&x); got != want {
			t.Errorf("splitmix64 output %d = %#x, want %#x", i, got, want)
		}
	}
}

func TestRNGStreams(t *testing.T) {
	a, b := newRNG(1, streamSched), newRNG(1, streamContent)
	c := newRNG(1, streamSched)
	if a.next() == b.next() {
		t.Error("sched and content streams start alike")
	}
	if a.next() != (func() uint64 { c.next(); return c.next() })() {
		t.Error("same seed and stream give different sequences")
	}
}

func TestBelowAndFloat(t *testing.T) {
	r := newRNG(7, 0)
	var seen [5]int
	for range 10000 {
		v := r.below(5)
		if v >= 5 {
			t.Fatalf("below(5) = %d", v)
		}
		seen[v]++
		if f := r.float(); f < 0 || f >= 1 {
			t.Fatalf("float() = %v, want [0, 1)", f)
		}
	}
	for v, n := range seen {
		if n < 1800 || n > 2200 {
			t.Errorf("below(5) gave %d %d times in 10000, want about 2000", v, n)
		}
	}
}

// TestExp checks the von Neumann sampler against the exponential law:
// mean, P(X < mean) = 1 - 1/e and P(X < 3 mean) = 1 - 1/e^3.
func TestExp(t *testing.T) {
	for _, mean := range []uint64{1, 1000, 10_000_000} {
		r := newRNG(3, 0)
		const n = 400_000
		var sum float64
		var below1, below3 int
		for range n {
			x := r.exp(mean)
			sum += float64(x)
			if x < mean {
				below1++
			}
			if x < 3*mean {
				below3++
			}
		}
		m := float64(mean)
		if mean == 1 {
			// Rounded down, Exp(1) has mean 1/(e-1).
			m = 1 / (math.E - 1)
		}
		if got := sum / n; math.Abs(got-m)/m > 0.01 {
			t.Errorf("exp(%d) mean = %v, want %v ±1%%", mean, got, m)
		}
		if mean > 1 {
			if got, want := float64(below1)/n, 1-1/math.E; math.Abs(got-want) > 0.003 {
				t.Errorf("exp(%d): P(X < mean) = %v, want %v", mean, got, want)
			}
			if got, want := float64(below3)/n, 1-math.Exp(-3); math.Abs(got-want) > 0.003 {
				t.Errorf("exp(%d): P(X < 3 mean) = %v, want %v", mean, got, want)
			}
		}
	}
}

func TestPerm17Bijective(t *testing.T) {
	for _, key := range []uint64{0, 1, 0xdeadbeefcafef00d} {
		seen := make([]bool, 1<<17)
		for x := range uint64(1 << 17) {
			y := perm17(x, key)
			if y >= 1<<17 {
				t.Fatalf("perm17(%d, %#x) = %d, out of range", x, key, y)
			}
			if seen[y] {
				t.Fatalf("perm17(_, %#x) maps two inputs to %d", key, y)
			}
			seen[y] = true
		}
	}
}
