package output

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// shortest finds the shortest decimal that reads back as v, for
// 1e-4 ≤ v < 1e14 not a whole number: v = d·10^-t with d not a multiple
// of 10 and t ≥ 1. Among several decimals of as few digits it picks the
// nearest to v, and of two as near the even one, as strconv and Python's
// repr do. ok is false only in a case its argument rules out.
//
// It works in exact integer arithmetic, with no table beyond powers of
// ten. v = m·2^-s with m < 2^53, and the reals that round to v form the
// interval [L, U]·2^-(s+2) around V·2^-(s+2), V = 4m. A decimal d·10^-t
// lies in it when L·10^t ≤ d·2^(s+2) ≤ U·10^t, integers below 2^125 here.
// shortest takes t for 17 or 18 significant digits, where the interval
// always holds such a decimal, computes the range [lo, hi] of those d,
// and then keeps the largest power of ten j with a multiple of 10^j in
// that range: the decimals of fewer digits are among those of more. At
// 15 digits or fewer the interval holds only one (two decimals of at most
// 15 significant digits never round to one float64, DBL_DIG); at 16 or
// 17 it may hold two, and the nearest to V·10^t / 2^(s+2) is taken.
//
// A bound of the interval has s+1 or s+2 fractional digits, more than t
// (s+1 = 53 − floor(log2 v) and t ≤ 18 − floor(log10 v), and log2 v −
// log10 v < 34 below 1e14), so it is never such a decimal, and whether
// the interval is open or closed (round half to even) does not matter;
// exact quotients are left to strconv all the same.
func shortest(v float64) (d uint64, t int, ok bool) {
	b := math.Float64bits(v)
	exp := int(b >> 52 & 0x7ff)
	m := b&(1<<52-1) | 1<<52
	S := uint(1075 - exp + 2) // v = 4m·2^-S
	V := 4 * m
	U := V + 2
	L := V - 2
	if m == 1<<52 && exp > 1 {
		L = V - 1 // the float below v is nearer: a power of two
	}
	// k0 ≤ floor(log10 v) ≤ k0+1, from v's binary exponent.
	k0 := (exp - 1023) * 78913 >> 18
	t = 16 - k0
	lo, exactL := mulShift(L, t, S)
	hi, exactU := mulShift(U, t, S)
	if exactL || exactU {
		return 0, 0, false
	}
	lo++ // ceil
	if lo > hi {
		return 0, 0, false
	}
	// Fewer digits while the range still holds a multiple of ten.
	j := 0
	for lo1, hi1 := (lo+9)/10, hi/10; lo1 <= hi1; lo1, hi1 = (lo1+9)/10, hi1/10 {
		lo, hi, j = lo1, hi1, j+1
	}
	t -= j
	if t < 1 {
		return 0, 0, false // a whole number: ruled out
	}
	if lo == hi {
		d = lo
	} else {
		// Two or more: the one nearest to v, and of two as near the
		// even one.
		q, cmp := mulShiftRound(V, t, S)
		if cmp == 0 && q&1 == 1 {
			q++
		}
		d = min(max(q, lo), hi)
	}
	return d, t, true
}

// nearest returns n, and true, when v = m·2^-s (2^52 ≤ m < 2^53) is the
// float64 nearest to n/scale, for scale 10^9 with 33 ≤ s ≤ 66 (v from
// 10^-4 to 10^6) or 10^6 with 20 ≤ s ≤ 33 (v from 10^6 to 2^33); false
// when no n/scale rounds to v. These are AppendFloat's tests for a time in
// seconds. They were made in floating point, n rounded from v·scale and
// n/scale compared with v: a conversion, a multiplication, a conversion
// back and a division, one waiting on the other, and in profiles of
// --features all the test for nine decimals, made on nearly every float
// below 10^6, cost more than the formatting of the values that pass it.
// (That test also refused some times above 2^32 whose product rounded to
// the wrong n, which then took the slower path to the same text:
// bench/RESULTS.md, session 57.)
//
// In exact integers, v·scale = Z/2^s with Z = m·scale < 2^83. The reals
// that round to v lie within half an ulp, 2^-(s+1), of it, so n/scale
// rounds to v when Z is less than scale/2 from n·2^s. Exactly scale/2
// never happens: it would make scale·(2m ∓ 1) = n·2^(s+1), and scale,
// 2^9·5^9 or 2^6·5^6, holds fewer twos than 2^(s+1). So with
// W = Z + scale/2 − 1, n is W's quotient by 2^s when its remainder is
// below scale − 1, and as scale < 2^s no other multiple of 2^s is that
// near. (Below a power of two, m = 2^52, the reals that round to v reach
// only a quarter ulp down; but the powers of two here that are not whole,
// 2^-k for k from 1 to 13, are either n/10^9 exactly or at least
// 2^-k·10^-9 from every n/10^9, far more than their ulp, 2^-(k+52).)
func nearest(m uint64, s uint, scale uint64) (uint64, bool) {
	hi, lo := bits.Mul64(m, scale)
	lo, carry := bits.Add64(lo, scale/2-1, 0)
	hi += carry
	if s >= 64 {
		return hi >> (s - 64), hi&(1<<(s-64)-1) == 0 && lo < scale-1
	}
	return hi<<(64-s) | lo>>s, lo&(1<<s-1) < scale-1
}

// pow10x128 holds 10^t, t < 23, as 128-bit integers (hi, lo).
var pow10x128 = func() (p [23][2]uint64) {
	p[0][1] = 1
	for i := 1; i < len(p); i++ {
		hi, lo := bits.Mul64(p[i-1][1], 10)
		p[i] = [2]uint64{p[i-1][0]*10 + hi, lo}
	}
	return p
}()

// mulPow10 returns x·10^t as a 128-bit integer, for x < 2^55 and t < 23.
func mulPow10(x uint64, t int) (hi, lo uint64) {
	p := pow10x128[t]
	hi, lo = bits.Mul64(x, p[1])
	return hi + x*p[0], lo
}

// mulShift returns floor(x·10^t / 2^S) and whether the division is exact,
// for x < 2^55, t < 23, 0 < S < 128 and a quotient below 2^64.
func mulShift(x uint64, t int, S uint) (uint64, bool) {
	hi, lo := mulPow10(x, t)
	if S >= 64 {
		return hi >> (S - 64), lo == 0 && hi&(1<<(S-64)-1) == 0
	}
	return hi<<(64-S) | lo>>S, lo&(1<<S-1) == 0
}

// mulShiftRound returns x·10^t / 2^S rounded to the nearest integer, and
// cmp, the sign of the remainder less one half (0: exactly halfway, and
// the quotient is rounded down).
func mulShiftRound(x uint64, t int, S uint) (q uint64, cmp int) {
	hi, lo := mulPow10(x, t)
	// The remainder's top bit (one half) and whether anything is below it.
	var half, below bool
	if S >= 64 {
		q = hi >> (S - 64)
		r := S - 64
		if r == 0 {
			half, below = lo>>63 == 1, lo<<1 != 0
		} else {
			half = hi>>(r-1)&1 == 1
			below = hi&(1<<(r-1)-1) != 0 || lo != 0
		}
	} else {
		q = hi<<(64-S) | lo>>S
		half = lo>>(S-1)&1 == 1
		below = lo&(1<<(S-1)-1) != 0
	}
	switch {
	case half && below:
		return q + 1, 1
	case half:
		return q, 0
	}
	return q, -1
}

// appendShortest appends d·10^-t, shortest's decimal for a float64 |f|
// from 1e-4 to 1e14 that is not whole, negated if neg; i is floor(|f|).
//
// i is also the decimal's whole part: an integer between the two would
// read back as f, being between two reals that do, and it would be the
// shorter. (None can: a float64 below 2^53 that is not whole is further
// than its rounding interval from every integer.) So the whole part and
// the t fractional digits, d − i·10^t, are written each in its place, in
// whole words: no division by ten for trailing zeros, which shortest's
// decimal has none of, and no byte-by-byte move of the whole part to make
// room for the point, as the general decimal writer before it did. With
// them, a value of 15 to 17 significant digits took 488 instructions
// (callgrind, BenchmarkAppendFloatLong), against 461 (bench/RESULTS.md,
// session 64).
func appendShortest(dst []byte, neg bool, d uint64, t int, i uint64) []byte {
	f := d - i*pow10x128[t][1] // 10^t's low word: above 10^19, i is 0
	l := len(dst)
	dst = slices.Grow(dst, 48)
	b := dst[l : l+48] // '-', 14 + 1 + 22 characters, and 8 bytes of slack
	k := 0
	if neg {
		b[0] = '-'
		k = 1
	}
	switch {
	case i == 0:
		binary.LittleEndian.PutUint16(b[k:], '0'|'.'<<8)
		k += 2
	case i < 1e8:
		n := decimalLen(i)
		binary.LittleEndian.PutUint64(b[k:], digits8(uint32(i))>>(8*(8-n)&63))
		b[k+n] = '.'
		k += n + 1
	default:
		n := decimalLen(i)
		putDigits(b[k:], i, n)
		b[k+n] = '.'
		k += n + 1
	}
	fr := b[k:]
	switch {
	case t <= 8:
		binary.LittleEndian.PutUint64(fr, digits8(uint32(f))>>(8*(8-t)&63))
	case t <= 16:
		q := f / 1e8
		binary.LittleEndian.PutUint64(fr, digits8(uint32(q))>>(8*(16-t)&63))
		binary.LittleEndian.PutUint64(fr[t-8:], digits8(uint32(f-q*1e8)))
	default:
		putDigits(fr, f, t)
	}
	return dst[:l+k+t]
}

// appendMicros appends n·10^-6 (n < 10^16 not a multiple of 10^6) in
// plain notation, trailing zeros trimmed: the Unix times in seconds of
// captures with microsecond timestamps, two of a flow_meta row's ten
// floats. As appendNanos, it writes the whole part, then the six
// fractional digits in one word, whose trailing '0' bytes it counts with
// one instruction. (A division by ten a trailing zero, and a loop that
// moved the whole part's ten digits up a byte to make room for the
// point, made such a time cost more than a 17-digit ratio.)
func appendMicros(dst []byte, neg bool, n uint64) []byte {
	if neg {
		dst = append(dst, '-')
	}
	whole := n / 1e6
	frac := uint32(n - whole*1e6)
	dst = appendUint(dst, whole)
	w := digits8(frac * 100) // the six digits, then two '0's
	// The digits up to the last that is not '0'; one if all are.
	k := max(8-bits.LeadingZeros64(w^0x3030_3030_3030_3030)>>3, 1)
	dst, b := growSlack(dst, 1+k)
	b[0] = '.'
	binary.LittleEndian.PutUint64(b[1:], w)
	return dst
}

// appendNanos appends n·10^-9 (n < 10^15) in plain notation, trailing
// zeros trimmed (one fractional digit at least), for the times in seconds
// that make a third of the floats of a --features all row. It writes the
// whole part, then the nine fractional digits at once and keeps those up
// to the last that is not zero: the first eight come from one digits8,
// whose word shows its trailing zeros as its top bytes equal to '0',
// counted with one instruction. The general decimal writer's trimming, a
// division by ten a zero (three or more for a time from microseconds) in a
// loop whose count the branch predictor misses, made such a value cost 35
// ns, against 27 now; the float columns of the synthetic capture's
// --features all rows (session 39, bench/RESULTS.md) 42.5-43.8 ns a float,
// against 39.3-40.9.
func appendNanos(dst []byte, neg bool, n uint64) []byte {
	if neg {
		dst = append(dst, '-')
	}
	whole := n / 1e9
	frac := uint32(n - whole*1e9)
	w := digits8(frac / 10) // fractional digits 1 to 8
	last := frac % 10
	k := 9
	if last == 0 {
		// Digits 1 to 8 less those at the end that are '0': the top
		// bytes of w that equal '0'. All eight zero leaves one.
		k = max(8-bits.LeadingZeros64(w^0x3030_3030_3030_3030)>>3, 1)
	}
	if whole < 10 {
		// Most times are under ten seconds: the whole part's digit and
		// the point go in with the fraction, with no call for them.
		dst, b := growSlack(dst, 2+k) // b holds 2+k+8 ≥ 11 bytes
		b[0], b[1] = byte('0'+whole), '.'
		binary.LittleEndian.PutUint64(b[2:], w)
		b[10] = byte('0' + last)
		return dst
	}
	dst = appendUint(dst, whole)
	dst, b := growSlack(dst, 1+k) // b holds 1+k+8 ≥ 10 bytes
	b[0] = '.'
	binary.LittleEndian.PutUint64(b[1:], w)
	b[9] = byte('0' + last)
	return dst
}
