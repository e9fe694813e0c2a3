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
// It works in exact integer arithmetic. v = m·2^-s with m < 2^53, and the
// reals that round to v form the interval [V−2, V+2]·2^-S around V·2^-S,
// V = 4m, S = s+2 (from V−1 below a power of two, whose float below is
// nearer). A decimal d·10^-t lies in it when (V−2)·10^t ≤ d·2^S ≤
// (V+2)·10^t, integers below 2^126 here. shortest takes the t of v's
// binary exponent (shortestScales) that makes the interval 2 to 20 units
// of 10^-t wide, so that it holds 2 to 20 such d, [lo, hi], computed from
// one product P = V·10^t; the decimals of fewer digits are the multiples
// of 10 or 100 among them. As the interval is narrower than 20 units, a
// multiple of 100 is rare (a value of 15 significant digits or fewer);
// otherwise the decimal has t or t−1 fractional digits, and shortest works
// out the answer for both and picks one, with no branch on which. With
// several decimals of as few digits, the nearest to V·10^t / 2^S is
// taken: at t digits the quotient of P rounded, at t−1 that of P / 10.
//
// Before, shortest took t for 17 or 18 significant digits, where the
// interval is up to 220 units wide, made three products (its bounds, and
// its middle again to round), and took digits off one at a time in a loop,
// whose count the branch predictor guessed wrong on most values: 165
// instructions a value of 16 or 17 digits (callgrind,
// BenchmarkAppendFloatLong) and 0.73 missed branches (callgrind's branch
// simulator); now 150 and 0.10, and BenchmarkAppendFloatLong takes 35-36
// ns a value against 41-45 (bench/RESULTS.md, session 68). Such values
// are a third of a --features all row's floats, and the time formatting
// them a tenth of such a run's with one worker.
//
// A bound of the interval has S−1 or S fractional binary digits, more
// than t (10^t < 5·2^S), so it is never such a decimal, and whether the
// interval is open or closed (round half to even) does not matter; exact
// quotients are left to strconv all the same.
func shortest(v float64) (d uint64, t int, ok bool) {
	b := math.Float64bits(v)
	exp := int(b >> 52 & 0x7ff)
	m := b&(1<<52-1) | 1<<52
	k := uint(exp - shortestMinExp)
	if k >= uint(len(shortestScales)) {
		return 0, 0, false
	}
	sc := &shortestScales[k]
	t = int(sc.t)
	s := uint(sc.shift) // 1077 − exp − t: 2^S = 2^t·2^s
	V := 4 * m
	// P = V·5^t, the interval P − W·5^t to P + 2·5^t (W 2, or 1 below a
	// power of two), all over 2^s: V·10^t / 2^S.
	phi, plo := bits.Mul64(V, sc.pow5)
	e := 2 * sc.pow5
	w := e
	if m == 1<<52 && exp > 1 {
		w = sc.pow5
	}
	ulo, c := bits.Add64(plo, e, 0)
	uhi := phi + c
	llo, c := bits.Sub64(plo, w, 0)
	lhi := phi - c
	if divides(llo, s) || divides(ulo, s) {
		return 0, 0, false
	}
	lo := shr128(lhi, llo, s) + 1 // ceil
	hi := shr128(uhi, ulo, s)
	if lo > hi {
		return 0, 0, false // ruled out: the interval is at least 1.5 wide
	}
	// q2 is floor(2·P / 2^s): twice the quotient, plus its remainder's
	// half; nb is 1 when anything is left under that half. The rounding
	// is in arithmetic on them, as a branch each way is a guess missed.
	q2 := shr128(phi, plo, s-1)
	nb := plo & (1<<((s-1)&63) - 1)
	nb = (nb | -nb) >> 63
	q := q2 >> 1
	lo1, hi1 := (lo+9)/10, hi/10
	if (lo1+9)/10 <= hi1/10 {
		// A multiple of 100 in range: fewer digits still.
		return shortestSlow(V, lo1, hi1, t-1, uint(1077-exp))
	}
	// t digits: P / 2^S rounded, half to even.
	d0 := min(max(q+q2&1&(nb|q&1), lo), hi)
	// t−1 digits: P / (10·2^S) rounded; r is twice the remainder, and
	// up when above 10, or 10 with something under or an odd quotient.
	q1 := q / 10
	r := q2 - 20*q1 + (nb | q1&1)
	d1 := min(max(q1+(10-r)>>63, lo1), hi1)
	var fewer uint64 // 1 when t−1 digits will do
	if lo1 <= hi1 {
		fewer = 1
	}
	d = d0 ^ (d0^d1)&-fewer
	t -= int(fewer)
	if t < 1 {
		return 0, 0, false // a whole number: ruled out
	}
	return d, t, true
}

// shortestSlow finishes shortest when [lo, hi], decimals of t fractional
// digits, holds a multiple of 10: it takes digits off while the range
// still holds a multiple of ten, and then the nearest to V·10^t / 2^S.
func shortestSlow(V, lo, hi uint64, t int, S uint) (uint64, int, bool) {
	for lo1, hi1 := (lo+9)/10, hi/10; lo1 <= hi1; lo1, hi1 = (lo1+9)/10, hi1/10 {
		lo, hi, t = lo1, hi1, t-1
	}
	if t < 1 {
		return 0, 0, false // a whole number: ruled out
	}
	if lo == hi {
		return lo, t, true
	}
	q, cmp := mulShiftRound(V, t, S)
	if cmp == 0 && q&1 == 1 {
		q++
	}
	return min(max(q, lo), hi), t, true
}

// shr128 returns floor((hi, lo) / 2^s) for 0 < s < 64 and a quotient
// below 2^64. The masks tell the compiler that s < 64, which saves it
// the instructions that make a shift by 64 or more give 0.
func shr128(hi, lo uint64, s uint) uint64 {
	return hi<<((64-s)&63) | lo>>(s&63)
}

// divides reports whether 2^s divides a 128-bit integer whose low word is
// lo, for s < 64.
func divides(lo uint64, s uint) bool {
	return lo&(1<<(s&63)-1) == 0
}

// shortestMinExp is the binary exponent (biased) of 1e-4, the least value
// shortest takes; 2^52, past its greatest, has 1075.
const shortestMinExp = 1009

// shortestScales holds, for each biased binary exponent e from
// shortestMinExp to 1074, with S = 1077 − e: shortest's t, the least with
// 2·10^t ≥ 2^S, which makes the interval of values that round to a float
// of that exponent, 4·10^t / 2^S units of 10^-t wide, at least 2 (1.5
// below a power of two) and less than 20; 5^t; and S − t. As 10^t / 2^S =
// 5^t / 2^(S−t), shortest multiplies by 5^t < 2^49 (t ≤ 21), one word,
// and shifts by S − t, 2 to 47, within one word too.
var shortestScales = func() (s [1075 - shortestMinExp]struct {
	pow5     uint64
	t, shift uint32
}) {
	for i := range s {
		S := 1077 - shortestMinExp - i
		// p10 = 10^t, exact while t ≤ 22 (math.Pow took 0.03 ms of every
		// start), and p5 = 5^t.
		t, p10, p5 := 0, 1.0, uint64(1)
		for 2*p10 < math.Ldexp(1, S) { // exact: both are float64s
			t++
			p10 *= 10
			p5 *= 5
		}
		s[i].pow5, s[i].t, s[i].shift = p5, uint32(t), uint32(S-t)
	}
	return s
}()

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
// session 64). The words go through array pointers at masked offsets,
// whose bounds the compiler then needs no check of: appendShortest's own
// part of those instructions went from 208 to 170 (session 68). (With no
// branch on the lengths of the parts, the digits taken out of d's 24 by
// shifts, it missed no branch but took 218, and --features all took 4-7 %
// more time: in a run's rows, where each column's floats are of one
// kind, the branches are well guessed.)
func appendShortest(dst []byte, neg bool, d uint64, t int, i uint64) []byte {
	f := d - i*pow10x128[t][1] // 10^t's low word: above 10^19, i is 0
	l := len(dst)
	dst = slices.Grow(dst, 64)
	b := (*[64]byte)(dst[l : l+64]) // '-', 14 + 1 + 22 characters, and slack for whole words
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
		b[(k+n)&15] = '.'
		k += n + 1
	default:
		n := decimalLen(i)
		putDigits(b[k:], i, n)
		b[(k+n)&15] = '.'
		k += n + 1
	}
	// k ≤ 16, t ≤ 22: the words below stay within b; the masks tell the
	// compiler so, which then checks no index.
	fr := (*[32]byte)(b[k&31:])
	switch {
	case t <= 8:
		binary.LittleEndian.PutUint64(fr[:], digits8(uint32(f))>>(8*(8-t)&63))
	case t <= 16:
		q := f / 1e8
		binary.LittleEndian.PutUint64(fr[:], digits8(uint32(q))>>(8*(16-t)&63))
		binary.LittleEndian.PutUint64(fr[(t-8)&15:], digits8(uint32(f-q*1e8)))
	default: // f < d < 10^17: its first 8 digits hold at most one
		q := f / 1e8
		q2 := q / 1e8
		binary.LittleEndian.PutUint64(fr[:], digits8(uint32(q2))>>(8*(24-t)&63))
		binary.LittleEndian.PutUint64(fr[(t-16)&15:], digits8(uint32(q-q2*1e8)))
		binary.LittleEndian.PutUint64(fr[(t-8)&15:], digits8(uint32(f-q*1e8)))
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
	var w uint64 // the six fractional digits, then two '0's
	if n >= 1e15 {
		// A whole part of ten digits, the Unix times from September 2001
		// on: the sixteen digits from two digits8, the whole part's
		// first eight, then its last two and the six fractional ones.
		// appendUint's general writer took 145 instructions for the
		// whole part, a time about 170 in all, against about 100 so
		// (callgrind, bench/RESULTS.md, session 77).
		q := n / 1e8
		lo := digits8(uint32(n - q*1e8))
		var b *[32]byte
		dst, b = growSlack(dst, 10)
		binary.LittleEndian.PutUint64(b[:], digits8(uint32(q)))
		binary.LittleEndian.PutUint16(b[8:], uint16(lo))
		w = lo>>16 | 0x3030<<48
	} else {
		whole := n / 1e6
		dst = appendUint(dst, whole)
		w = digits8(uint32(n-whole*1e6) * 100)
	}
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
