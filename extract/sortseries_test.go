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
