package extract

import (
	"math/big"
	"math/bits"
)

// Values below 2^53 convert to float64 exactly, so one IEEE division of two
// of them is correctly rounded.
const exactLimit = 1 << 53

// Seconds converts nanoseconds to float seconds, rounded once to the
// nearest float64 (float64(ns)/1e9 would round twice for Unix times, which
// exceed 2^53 ns).
func Seconds(ns int64) float64 {
	if ns > -exactLimit && ns < exactLimit {
		return float64(ns) / 1e9
	}
	f, _ := new(big.Rat).SetFrac64(ns, 1e9).Float64()
	return f
}

// Ratio returns a / b rounded once to the nearest float64; b must not be 0.
func Ratio(a, b uint64) float64 {
	if a < exactLimit && b < exactLimit {
		return float64(a) / float64(b)
	}
	x := new(big.Int).SetUint64(a)
	y := new(big.Int).SetUint64(b)
	f, _ := new(big.Rat).SetFrac(x, y).Float64()
	return f
}

// PerSecond returns n / (ns / 1e9), rounded once, or n itself when ns is 0
// (flow-meta.md §4: a rate over zero duration is the total).
func PerSecond(n uint64, ns int64) float64 {
	if ns <= 0 {
		return Ratio(n, 1)
	}
	hi, lo := bits.Mul64(n, 1e9)
	if hi == 0 {
		return Ratio(lo, uint64(ns))
	}
	x := new(big.Int).SetUint64(hi)
	x.Lsh(x, 64).Or(x, new(big.Int).SetUint64(lo))
	f, _ := new(big.Rat).SetFrac(x, big.NewInt(ns)).Float64()
	return f
}

// FwdRatio is the contract's fwd / bwd ratio: fwd itself when bwd is 0, and
// so 0 when both are 0.
func FwdRatio(fwd, bwd uint64) float64 {
	if bwd == 0 {
		return Ratio(fwd, 1)
	}
	return Ratio(fwd, bwd)
}
