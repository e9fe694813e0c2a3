package extract

import (
	"math"
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
	if us := ns / 1000; us*1000 == ns && us < exactLimit && us > -exactLimit {
		// Whole microseconds, as from pcap's timestamps: us/10^6 is the
		// same number, and one IEEE division of two exact operands rounds
		// it once (a fifth of divRound's time for Unix times).
		return float64(us) / 1e6
	}
	if ns < 0 {
		return -divRound(0, uint64(-ns), 1e9)
	}
	return divRound(0, uint64(ns), 1e9)
}

// Ratio returns a / b rounded once to the nearest float64; b must not be 0.
func Ratio(a, b uint64) float64 { return divRound(0, a, b) }

// PerSecond returns n / (ns / 1e9), rounded once, or n itself when ns is 0
// (flow-meta.md §4: a rate over zero duration is the total).
func PerSecond(n uint64, ns int64) float64 {
	if ns <= 0 {
		return Ratio(n, 1)
	}
	hi, lo := bits.Mul64(n, 1e9)
	return divRound(hi, lo, uint64(ns))
}

// FwdRatio is the contract's fwd / bwd ratio: fwd itself when bwd is 0, and
// so 0 when both are 0.
func FwdRatio(fwd, bwd uint64) float64 {
	if bwd == 0 {
		return Ratio(fwd, 1)
	}
	return Ratio(fwd, bwd)
}

// divRound returns the float64 nearest to the 128-bit a = hi·2^64 + lo
// divided by b > 0, ties to even. The float quotient c is within a few
// ulps of the exact one. Usually c, or its neighbour on the side of a/b, is
// proved nearest in 128-bit integers (nearest); otherwise c and two
// neighbours each side, d = m·2^e, are compared exactly: |m·b·2^(e+S) −
// a·2^S| in 192-bit integers, with S making every exponent non-negative,
// and math/big decides when the nearest of them is at the window's edge.
func divRound(hi, lo, b uint64) float64 {
	if hi == 0 && lo < exactLimit && b < exactLimit {
		return float64(lo) / float64(b)
	}
	c := (float64(float64(hi)*0x1p64) + float64(lo)) / float64(b) // not fused (centralMoments), though exact either way
	if c >= 0x1p100 {
		// Out of the 192-bit range below; no jj value comes near.
		return bigQuotient(hi, lo, b)
	}
	up, down := math.Inf(1), 0.0
	ok, above := nearest(c, hi, lo, b)
	if ok {
		return c
	}
	d := math.Nextafter(c, up)
	if above {
		d = math.Nextafter(c, down)
	}
	if ok, _ := nearest(d, hi, lo, b); ok {
		return d
	}
	cands := [5]float64{math.Nextafter(math.Nextafter(c, down), down), math.Nextafter(c, down), c, math.Nextafter(c, up), math.Nextafter(math.Nextafter(c, up), up)}
	var ms [5]uint64
	var es [5]int
	minE := 0
	// fr·2^53 is exact; rounded alone all the same, as ppc64le and riscv64
	// fused it into the subtraction of the conversion to uint64.
	for i, d := range cands {
		fr, exp := math.Frexp(d) // d = fr·2^exp, fr in [0.5, 1)
		ms[i], es[i] = uint64(float64(fr*0x1p53)), exp-53
		minE = min(minE, es[i])
	}
	S := -minE
	abits := bits.Len64(lo)
	if hi != 0 {
		abits = 64 + bits.Len64(hi)
	}
	if abits+S > 190 {
		return c // unreachable for uint64 inputs; c is within an ulp
	}
	y2, y1, y0 := shl192(0, hi, lo, uint(S))
	best, bestErr, bestI := c, cmpErr{^uint64(0), 0, 0}, -1
	for i, d := range cands {
		if d < 0 || math.IsInf(d, 0) || es[i]+S > 60 {
			continue
		}
		p1, p0 := bits.Mul64(ms[i], b)
		x2, x1, x0 := shl192(0, p1, p0, uint(es[i]+S))
		var e cmpErr
		if x2 > y2 || (x2 == y2 && (x1 > y1 || (x1 == y1 && x0 >= y0))) {
			e = sub192(x2, x1, x0, y2, y1, y0)
		} else {
			e = sub192(y2, y1, y0, x2, x1, x0)
		}
		if e.less(bestErr) || (e == bestErr && evenMantissa(d)) {
			best, bestErr, bestI = d, e, i
		}
	}
	if bestI <= 0 || bestI == len(cands)-1 {
		// The nearest float may lie beyond the window: c, from up to four
		// roundings when a or b exceeds 2^53, can be more than two ulps
		// off. math/big settles it.
		return bigQuotient(hi, lo, b)
	}
	return best
}

// bigQuotient is divRound by math/big, for what the fast paths leave open.
func bigQuotient(hi, lo, b uint64) float64 {
	x := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
	x.Or(x, new(big.Int).SetUint64(lo))
	f, _ := new(big.Rat).SetFrac(x, new(big.Int).SetUint64(b)).Float64()
	return f
}

// nearest reports whether c = m·2^-k, k > 0, is certainly the float64
// nearest to a/b (a = hi·2^64 + lo): whether |m·b − a·2^k| < b/2, in
// 128-bit integers, which is |c − a/b| below half an ulp of c; above says
// whether c > a/b. It answers false when the quotient may be a tie, when c
// is a power of two (whose lower neighbour is nearer) or when the products
// need more than 128 bits, and divRound then compares five candidates.
// For jj's times and rates c or its neighbour passes, at a fraction of the
// cost of the full comparison.
func nearest(c float64, hi, lo, b uint64) (ok, above bool) {
	u := math.Float64bits(c)
	e := int(u>>52) & 0x7ff
	m := u&(1<<52-1) | 1<<52 // c = m·2^-k for a normal c > 0
	if c <= 0 || e == 0 || m == 1<<52 || 1075-e <= 0 || 1075-e >= 64 {
		return false, false
	}
	k := uint(1075 - e)
	abits := bits.Len64(lo)
	if hi != 0 {
		abits = 64 + bits.Len64(hi)
	}
	if abits+int(k) > 128 {
		return false, false
	}
	a1, a0 := hi<<k|lo>>(64-k), lo<<k // a·2^k
	p1, p0 := bits.Mul64(m, b)
	above = p1 > a1 || p1 == a1 && p0 > a0
	if !above {
		p1, p0, a1, a0 = a1, a0, p1, p0
	}
	d0, borrow := bits.Sub64(p0, a0, 0)
	d1, _ := bits.Sub64(p1, a1, borrow)
	return d1 == 0 && d0 < 1<<63 && 2*d0 < b, above
}

// cmpErr is a 192-bit magnitude.
type cmpErr struct{ w2, w1, w0 uint64 }

func (x cmpErr) less(y cmpErr) bool {
	if x.w2 != y.w2 {
		return x.w2 < y.w2
	}
	if x.w1 != y.w1 {
		return x.w1 < y.w1
	}
	return x.w0 < y.w0
}

// shl192 shifts a 192-bit number left by s < 192 bits.
func shl192(a2, a1, a0 uint64, s uint) (uint64, uint64, uint64) {
	for s >= 64 {
		a2, a1, a0 = a1, a0, 0
		s -= 64
	}
	if s == 0 {
		return a2, a1, a0
	}
	return a2<<s | a1>>(64-s), a1<<s | a0>>(64-s), a0 << s
}

func sub192(a2, a1, a0, b2, b1, b0 uint64) cmpErr {
	r0, c := bits.Sub64(a0, b0, 0)
	r1, c := bits.Sub64(a1, b1, c)
	r2, _ := bits.Sub64(a2, b2, c)
	return cmpErr{r2, r1, r0}
}

func evenMantissa(d float64) bool { return math.Float64bits(d)&1 == 0 }
