package extract

import (
	"math/bits"
	"slices"
)

//go:generate go run gen_sortnet.go

// radixMin is the series length from which sortSeries uses a radix sort.
// Below it slices.Sort (insertion sort, then pattern-defeating quicksort)
// is as quick or quicker: in BenchmarkSortSeries, on IATs, they are level
// at 1024 values and the radix sort is 1.8× quicker at 2048 and 3-4× from
// 4096; packet lengths, few distinct values that pdqsort handles well,
// lose up to 5 ns a value below 8192 and gain 2× from there.
const radixMin = 2048

// sortSeries sorts xs, non-negative integers, in ascending order. tmp is
// scratch space of at least len(xs) elements; scratched reports whether
// sortSeries wrote to it (only from radixMin values). The result is the one
// slices.Sort gives (sorted integers have one order), only sooner for long
// series: timing sorts three IAT series at every flow's end and size two
// length series, and on a flow of millions of packets slices.Sort's
// O(n log n) took most of their Emit.
//
// It is a least-significant-digit radix sort, a byte a pass: no pass for
// the high bytes that are zero in every value, and none for a byte that is
// the same in every value. Lengths below 65 536 take two passes and IATs
// below 2^40 ns (18 min) at most five.
func sortSeries(xs, tmp []int64) (scratched bool) {
	n := len(xs)
	if n <= 64 {
		sortSmall(xs)
		return false
	}
	if n < radixMin {
		slices.Sort(xs)
		return false
	}
	tmp = tmp[:n]
	var or uint64
	for _, x := range xs {
		or |= uint64(x)
	}
	passes := (bits.Len64(or) + 7) / 8
	src, dst := xs, tmp
	for p := range passes {
		shift := 8 * uint(p)
		var c [256]uint32
		for _, x := range src {
			c[byte(uint64(x)>>shift)]++
		}
		if c[byte(uint64(src[0])>>shift)] == uint32(n) {
			continue // one byte value throughout: the order stands
		}
		// Counts to start offsets.
		var sum uint32
		for i, k := range c {
			c[i] = sum
			sum += k
		}
		for _, x := range src {
			b := byte(uint64(x) >> shift)
			dst[c[b]] = x
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xs[0] {
		copy(xs, src)
	}
	return true
}

// sortSmall sorts up to 64 values: four or fewer by slices.Sort
// (insertion sort), more by the smallest sorting network that holds them
// (sortnet.go). A network's comparators are each a min and a max, with no
// branch to mispredict, where insertion sort and pdqsort mispredict about
// once a value on random input: in BenchmarkSortSmall, IATs of 8, 12, 16,
// 32 and 64 values took 23, 45, 42, 109 and 677 ns against 97, 179, 270,
// 708 and 1 670 with slices.Sort (5 values: 35 against 42; 3: 21 both
// ways). Most flows are short, and timing and size sort five series at
// each flow's end: in the profile of --features all on the synthetic
// capture, slices.Sort took 6 % of the time.
func sortSmall(xs []int64) {
	switch n := len(xs); {
	case n <= 4:
		slices.Sort(xs)
	case n <= 8:
		sort8(xs)
	case n <= 16:
		sort16(xs)
	case n <= 32:
		sort32(xs)
	default:
		sort64(xs)
	}
}

// at returns xs[i], or the largest int64 past the end of xs: a missing
// value of a sorting network's input.
func at(xs []int64, i int) int64 {
	if i < len(xs) {
		return xs[i]
	}
	return 1<<63 - 1
}
