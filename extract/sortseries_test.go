package extract

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortSeries checks sortSeries against slices.Sort on series of every
// shape it takes apart: lengths around radixMin, one or several bytes
// wide, bytes constant in some positions (skipped passes), duplicates,
// zeros, the largest int64 and already sorted or reversed input.
func TestSortSeries(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range []struct {
		name string
		gen  func(i, n int) int64
	}{
		{"zero", func(i, n int) int64 { return 0 }},
		{"byte", func(i, n int) int64 { return r.Int64N(256) }},
		{"length", func(i, n int) int64 { return 40 + r.Int64N(1460) }},
		{"mtu", func(i, n int) int64 { return []int64{40, 52, 1500}[r.IntN(3)] }},
		{"iat", func(i, n int) int64 { return int64(1) << r.IntN(40) * (1 + r.Int64N(1000)) }},
		{"gap", func(i, n int) int64 { return r.Int64N(16) << 24 }}, // low bytes all zero
		{"max", func(i, n int) int64 { return []int64{0, 1 << 62, 1<<63 - 1}[r.IntN(3)] }},
		{"wide", func(i, n int) int64 { return r.Int64() }},
		{"sorted", func(i, n int) int64 { return int64(i) * 1000 }},
		{"reversed", func(i, n int) int64 { return int64(n-i) * 777 }},
	} {
		name, gen := g.name, g.gen
		for _, n := range []int{0, 1, 2, radixMin - 1, radixMin, radixMin + 1, 1000, 5000} {
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = gen(i, n)
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			tmp := make([]int64, n+3)
			sortSeries(xs, tmp)
			if !slices.Equal(xs, want) {
				t.Errorf("%s, n=%d: not sorted as slices.Sort sorts it", name, n)
			}
		}
	}
}

// BenchmarkSortSeries compares sortSeries with slices.Sort on IATs
// (log-uniform from 1 µs to 100 s, in ns) and packet lengths (40 to
// 1500), at the lengths where the choice of radixMin is made.
func BenchmarkSortSeries(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := map[string]func() int64{
		"iat":    func() int64 { return int64(1e3 * math.Pow(10, r.Float64()*8)) },
		"length": func() int64 { return []int64{40, 52, 1500, 40 + r.Int64N(1460)}[r.IntN(4)] },
	}
	for _, kind := range []string{"iat", "length"} {
		for _, n := range []int{512, 1024, 2048, 4096, 8192, 65536} {
			src := make([]int64, n)
			for i := range src {
				src[i] = kinds[kind]()
			}
			xs, tmp := make([]int64, n), make([]int64, n)
			for _, impl := range []string{"slices", "series"} {
				b.Run(fmt.Sprintf("%s/%s/n=%d", kind, impl, n), func(b *testing.B) {
					for b.Loop() {
						copy(xs, src)
						if impl == "slices" {
							slices.Sort(xs)
						} else {
							sortSeries(xs, tmp)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
				})
			}
		}
	}
}

// TestSortSmall checks the sorting networks: by the 0-1 principle, a
// network that sorts every sequence of zeros and ones sorts every input,
// so sort8 and sort16 are checked on all of them; sort32, sort64 and
// sortSmall as a whole on random values, duplicates and the largest int64
// among them, at every length they take, against slices.Sort.
func TestSortSmall(t *testing.T) {
	for _, c := range []struct {
		n    int
		sort func([]int64)
	}{{8, sort8}, {16, sort16}} {
		xs := make([]int64, c.n)
		for bits := range 1 << c.n {
			for i := range xs {
				xs[i] = int64(bits >> i & 1)
			}
			c.sort(xs)
			if !slices.IsSorted(xs) {
				t.Fatalf("sort%d of the bits %b: %v", c.n, bits, xs)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		n := r.IntN(65)
		xs := make([]int64, n)
		limit := []int64{2, 50, 1 << 40}[r.IntN(3)]
		for i := range xs {
			xs[i] = r.Int64N(limit)
			if r.IntN(20) == 0 {
				xs[i] = 1<<63 - 1
			}
		}
		want := slices.Clone(xs)
		slices.Sort(want)
		got := slices.Clone(xs)
		sortSmall(got)
		if !slices.Equal(got, want) {
			t.Fatalf("sortSmall(%v) = %v, want %v", xs, got, want)
		}
		for _, c := range []struct {
			n    int
			sort func([]int64)
		}{{32, sort32}, {64, sort64}} {
			if n <= c.n {
				got = slices.Clone(xs)
				c.sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("sort%d(%v) = %v, want %v", c.n, xs, got, want)
				}
			}
		}
	}
}

// BenchmarkSortSmall compares sortSmall with slices.Sort on IATs
// (log-uniform from 1 µs to 100 s, in ns) of as many values as short
// flows have, each time a different window of 64 Ki values, so that the
// branch predictor cannot learn the inputs.
func BenchmarkSortSmall(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	src := make([]int64, 1<<16+64)
	for i := range src {
		src[i] = int64(1e3 * math.Pow(10, r.Float64()*8))
	}
	for _, n := range []int{3, 5, 8, 12, 16, 24, 32, 48, 64} {
		xs := make([]int64, n)
		for _, impl := range []string{"slices", "small"} {
			b.Run(fmt.Sprintf("%s/n=%d", impl, n), func(b *testing.B) {
				off := 0
				for b.Loop() {
					copy(xs, src[off:])
					off = (off + 40503) & (1<<16 - 1)
					if impl == "slices" {
						slices.Sort(xs)
					} else {
						sortSmall(xs)
					}
				}
			})
		}
	}
}
