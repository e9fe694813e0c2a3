package extract

import (
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/jjflow/jj/internal/mem"
	"github.com/jjflow/jj/output"
)

// Shared statistics for the timing, size and tcp extractors
// (extractors.md, "Statistics, everywhere").
//
// Series are integers (nanoseconds, bytes) and stay integers until the last
// step: sums are exact 128-bit integers, a percentile is the exact rational
// value of NumPy's linear interpolation, and each of them is rounded to
// float64 once. Central moments are taken around the mean split into an
// exact integer part and a fraction, so every deviation is exact to one
// rounding; a constant series therefore gives a variance of exactly 0, and
// skew and kurtosis are 0 whenever the variance is 0. No statistic can be
// NaN or Inf: every division is guarded, and an empty series gives 0.

// u128 is an unsigned 128-bit integer, used for exact sums.
type u128 struct{ hi, lo uint64 }

// add adds v to the sum.
func (u *u128) add(v uint64) {
	var c uint64
	u.lo, c = bits.Add64(u.lo, v, 0)
	u.hi += c
}

// mul128 returns a × b as a 128-bit integer.
func mul128(a, b uint64) u128 {
	hi, lo := bits.Mul64(a, b)
	return u128{hi, lo}
}

// quo returns n / d rounded once to the nearest float64; d must not be 0.
// Operands below 2^53 take one float division, a 64-bit divisor the exact
// 192-bit path of float.go, and only a divisor of 2^64 or more (sums no
// real flow reaches) math/big, which allocates.
func quo(n, d u128) float64 {
	if d.hi == 0 {
		return divRound(n.hi, n.lo, d.lo)
	}
	f, _ := new(big.Rat).SetFrac(n.big(), d.big()).Float64()
	return f
}

func (u u128) big() *big.Int {
	x := new(big.Int).SetUint64(u.hi)
	x.Lsh(x, 64)
	return x.Or(x, new(big.Int).SetUint64(u.lo))
}

// sub returns u − v (u ≥ v).
func (u u128) sub(v u128) u128 {
	lo, b := bits.Sub64(u.lo, v.lo, 0)
	return u128{u.hi - v.hi - b, lo}
}

// plus returns u + v.
func (u u128) plus(v u128) u128 {
	lo, c := bits.Add64(u.lo, v.lo, 0)
	return u128{u.hi + v.hi + c, lo}
}

// sumsVariance returns the population variance (n·s2 − s1²) / n² of n
// values with exact sum s1 and exact sum of squares s2, rounded once. The
// numerator is an exact integer, so a constant series gives exactly 0.
func sumsVariance(n uint64, s1, s2 u128) float64 {
	if n == 0 {
		return 0
	}
	if s1.hi == 0 && s2.hi == 0 {
		hi1, lo1 := bits.Mul64(n, s2.lo)
		hi2, lo2 := bits.Mul64(s1.lo, s1.lo)
		// n·s2 ≥ s1² (Cauchy–Schwarz), so the difference is ≥ 0.
		num := u128{hi1, lo1}.sub(u128{hi2, lo2})
		return quo(num, mul128(n, n))
	}
	num := new(big.Int).Mul(new(big.Int).SetUint64(n), s2.big())
	num.Sub(num, new(big.Int).Mul(s1.big(), s1.big()))
	den := new(big.Int).SetUint64(n)
	den.Mul(den, den)
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// quo64 returns n / d rounded once; d must not be 0.
func quo64(n, d uint64) float64 {
	if (n|d)>>53 == 0 {
		return float64(int64(n)) / float64(int64(d)) // divRound's first case, inlined
	}
	return divRound(0, n, d)
}

// fraction returns a / b, or 0 when b is 0 (ratios of counts).
func fraction(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return quo64(a, b)
}

// asymmetry returns (fwd − bwd) / (fwd + bwd), or 0 when both are 0.
func asymmetry(fwd, bwd uint64) float64 {
	t := u128{lo: fwd}
	t.add(bwd)
	if t.hi == 0 && t.lo == 0 {
		return 0
	}
	if fwd >= bwd {
		return quo(u128{lo: fwd - bwd}, t)
	}
	return -quo(u128{lo: bwd - fwd}, t)
}

// Percentiles reported by the extractors.
const (
	pMedian = 50
	p25     = 25
	p75     = 75
	p90     = 90
	p95     = 95
	p99     = 99
)

// dist summarises one series of non-negative integers. Values are in
// output units: the series unit divided by scale (1e9 turns nanoseconds
// into seconds, 1 keeps bytes).
type dist struct {
	n                   int
	sum                 u128    // exact sum in series units
	min, max, mean, std float64 // output units
	variance            float64 // output units squared
	skew, kurtosis, cv  float64
}

// describe summarises sorted, a series of non-negative integers in
// ascending order. An empty series gives the zero dist.
func describe(sorted []int64, scale uint64) dist {
	n := len(sorted)
	if n == 0 {
		return dist{}
	}
	var d dist
	d.n = n
	for _, x := range sorted {
		d.sum.add(uint64(x))
	}
	d.min = quo64(uint64(sorted[0]), scale)
	d.max = quo64(uint64(sorted[n-1]), scale)
	d.mean = quo(d.sum, mul128(uint64(n), scale))
	m2, m3, m4 := centralMoments(sorted, d.sum)
	s := float64(scale)
	d.variance = m2 / (s * s)
	d.std = math.Sqrt(m2) / s
	if m2 > 0 {
		// m2 > 0 means two values differ, so some deviation is at least
		// 1/2 and m2 ≥ 1/(4n): neither division can overflow.
		d.skew = m3 / (m2 * math.Sqrt(m2))
		d.kurtosis = m4/(m2*m2) - 3
	}
	d.cv = cv(d.std, d.mean)
	return d
}

// cv returns std / mean, or 0 when mean is 0.
func cv(std, mean float64) float64 {
	if mean == 0 {
		return 0
	}
	return std / mean
}

// centralMoments returns the population central moments m2, m3, m4 of xs
// (non-negative), whose exact sum is sum. The mean is q + r/n with integer
// q; x − q is exact, so each deviation is rounded once and a constant
// series gives exactly 0.
//
// Every product is rounded before it is added (the float64 conversions):
// Go may otherwise fuse a multiply and an add into one instruction, which
// rounds once, and does on arm64 (and amd64 built with GOAMD64=v3), so
// that the skew, kurtosis and deviations there differed from amd64's in
// their last digits (TestNoFusedMultiplyAdd).
func centralMoments(xs []int64, sum u128) (m2, m3, m4 float64) {
	n := uint64(len(xs))
	// sum ≤ n·max < n·2^63, so sum.hi < n and Div64 cannot overflow.
	q, r := bits.Div64(sum.hi, sum.lo, n)
	f := float64(r) / float64(n)
	var s2, s3, s4 float64
	for _, x := range xs {
		d := float64(x-int64(q)) - f
		d2 := float64(d * d)
		s2 += d2
		s3 += float64(d2 * d)
		s4 += float64(d2 * d2)
	}
	fn := float64(n)
	return s2 / fn, s3 / fn, s4 / fn
}

// quantile returns the p-th percentile (0 ≤ p ≤ 100) of sorted in output
// units, by linear interpolation between closest ranks at rank
// (n − 1)·p/100 (NumPy's default). The rank is exact (integer arithmetic,
// no float 0.9), and the value 100·a + (b − a)·(rank fraction·100) is an
// exact integer divided by 100·scale once. 0 for an empty series.
func quantile(sorted []int64, p int, scale uint64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	k := uint64(n-1) * uint64(p)
	i, rem := k/100, k%100
	a := uint64(sorted[i])
	if rem == 0 {
		return quo64(a, scale)
	}
	b := uint64(sorted[i+1])
	num := mul128(a, 100)
	t := mul128(b-a, rem)
	var c uint64
	num.lo, c = bits.Add64(num.lo, t.lo, 0)
	num.hi += t.hi + c
	return quo(num, mul128(scale, 100))
}

// Pools of per-flow series buffers. A flow takes a buffer when it starts
// and gives it back at Emit, so in steady state no flow allocates. A
// buffer that grew past poolMaxCap elements (one huge flow) is not kept,
// and a pool keeps at most poolMaxElems elements in all, so that memory
// once needed by a burst of flows can go back to the runtime. It goes back
// a block at a time (carve), once none of the block's buffers is used or
// pooled, as the runtime's own spans of small objects do: buffers
// given back in random order after a burst, more than the pool keeps, left
// 64.7 MB in use against 60.4 MB with a buffer allocated at a time.
const (
	poolMaxCap   = 1 << 16
	poolMaxElems = 1 << 21
	// scratchMaxCap bounds the Emit scratch buffers kept between flows.
	scratchMaxCap = 1 << 16
)

type pool[T any] struct {
	free  [][]T
	elems int // total capacity held in free
	init  int // capacity of a new buffer
	block []T // the rest of the block new buffers are carved from (carve)
	made  int // elements carved in all
}

// get returns an empty buffer with some capacity.
func (p *pool[T]) get() []T {
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.elems -= cap(s)
		return s
	}
	return p.carve()
}

// A pool's blocks double from blockFirst bytes (each as much as it has
// carved so far) up to blockMin, then are a sixteenth of what it has
// carved, up to blockMax, or one buffer if that is more. A log of a few
// flows (Config.PerFile, a file of a few flows) thus takes a few KiB, not
// 64 KiB a pool, zeroed and faulted in; and a pool holds at most one
// block's rest unused, under 256 KiB, and a packet log's eight pools under
// 2 MiB. (With blocks up to 2 MiB, an eighth of what was carved, two
// workers' peak RSS on the real-traffic tile rose by 8 MB.)
const (
	blockFirst = 4 << 10
	blockMin   = 64 << 10
	blockMax   = 256 << 10
)

// carve returns a new buffer of init elements, cut from a block whose
// pages were allocated in one call (mem.Prefault). Made one at a time, as
// before, each new buffer's pages were page faults: on the synthetic
// capture, --features all took about 14 000 of them in the packet log's
// buffers, 85 % of its faults, at 10-15 µs each on this project's virtual
// machine. A block lives as long as one of its buffers is used or pooled.
//
//go:noinline
func (p *pool[T]) carve() []T {
	if len(p.block) < p.init {
		size := int(unsafe.Sizeof(*new(T)))
		n := min(max(p.made/16, min(p.made, blockMin/size), blockFirst/size), blockMax/size)
		n = max(n-n%p.init, p.init)
		p.block = make([]T, n)
		mem.Prefault(p.block)
	}
	s := p.block[:0:p.init]
	p.block = p.block[p.init:]
	p.made += p.init
	return s
}

// put gives s back; s must not be used afterwards.
func (p *pool[T]) put(s []T) {
	c := cap(s)
	if c == 0 || c > poolMaxCap || p.elems+c > poolMaxElems {
		return
	}
	if len(p.free) == cap(p.free) {
		p.free = growFree(p.free, poolMaxElems/max(p.init, 1))
	}
	p.free = append(p.free, s[:0])
	p.elems += c
}

// growFree returns free with twice the room, or with room for most
// entries (the most a pool of full buffers holds) if that is less but
// more than it has. A large list's new array has its
// pages allocated in one call (mem.Prefault), not by a page fault at each
// page as the buffers come back: at the end of the input, every open flow
// gives its buffers back at once, and with a million of them the lists'
// growth took 14 000 page faults, 15 µs each on this project's virtual
// machine. The new array's pages are all allocated, used or not; grown by
// a quarter at a time, as append grows large slices, the lists left more
// arrays behind and peak RSS rose (a million flows, --features all, three
// runs each: 529 MB doubling, 567 MB by quarters, 551-557 MB with append).
func growFree[T any](free [][]T, most int) [][]T {
	c := max(2*cap(free), 16)
	if most > cap(free) && c > most {
		c = most
	}
	g := make([][]T, 0, c)
	if size := c * int(unsafe.Sizeof(free[0])); size >= 64<<10 {
		mem.Prefault(g[:cap(g)])
	}
	return append(g, free...)
}

// reuse returns s emptied when it holds a buffer (a slot restarted
// without Emit), or a buffer from the pool.
func (p *pool[T]) reuse(s []T) []T {
	if s != nil {
		return s[:0]
	}
	return p.get()
}

// classPool keeps buffers by capacity, in classes: class k is a pool of
// buffers of init<<k elements. A flow's log grows by doubling
// (packetLog.grow), taking its next buffer from the class above and giving
// the outgrown one to its own, so that in steady state every class gives
// back as many buffers as it hands out and no flow allocates. The classes
// keep at most poolMaxElems elements in all, as one pool does.
type classPool[T any] struct {
	classes []pool[T]
}

// newClassPool returns a pool of classes init, 2·init, …, below limit.
func newClassPool[T any](init, limit int) classPool[T] {
	var p classPool[T]
	for c := init; c < limit; c <<= 1 {
		p.classes = append(p.classes, pool[T]{init: c})
	}
	return p
}

// get returns an empty buffer of class k's capacity.
func (p *classPool[T]) get(k int) []T { return p.classes[k].get() }

// class returns the class of a buffer of capacity c, or -1 if c is not
// one of the pool's capacities.
func (p *classPool[T]) class(c int) int {
	for k := range p.classes {
		if p.classes[k].init == c {
			return k
		}
	}
	return -1
}

// put gives s back to its class; s must not be used afterwards. A buffer
// of no class, or one past the pool's budget, is left to the garbage
// collector.
func (p *classPool[T]) put(s []T) {
	k := p.class(cap(s))
	if k < 0 || p.elems()+cap(s) > poolMaxElems {
		return
	}
	p.classes[k].put(s)
}

// elems returns the capacity held in all the classes.
func (p *classPool[T]) elems() int {
	n := 0
	for k := range p.classes {
		n += p.classes[k].elems
	}
	return n
}

// bitmap is a growable bit vector (packet directions, one bit per packet).
type bitmap []uint64

// set sets bit i (bits must be appended in order: i ≤ 64·len).
func (m bitmap) set(i int, v bool) bitmap {
	w := i >> 6
	if w == len(m) {
		m = append(m, 0)
	}
	if v {
		m[w] |= 1 << (uint(i) & 63)
	}
	return m
}

// get reports bit i.
func (m bitmap) get(i int) bool { return m[i>>6]>>(uint(i)&63)&1 != 0 }

// growScratch returns s with length n, reusing its capacity.
func growScratch[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return make([]T, n, n+n/4)
}

// trimScratch drops a scratch buffer grown by a huge flow.
func trimScratch[T any](s []T) []T {
	if cap(s) > scratchMaxCap {
		return nil
	}
	return s
}

// col builds a column of one of the statistics groups; all are Safe (no
// host can be named from them).
func col(group, name string, t output.Type, unit, dir, desc string) output.Column {
	return output.Column{Group: group, Name: name, Type: t, Unit: unit, Direction: dir, Privacy: output.Safe, Description: desc}
}

// colWriter appends numbers to consecutive columns of a batch: straight
// into the batch's open row (output.Batch.OpenRow), one after another,
// with no column index to keep up. Its methods take and return it by
// value (w = w.float(v)): a slice and a count, it then stays in
// registers. With pointer methods it was on the stack, where each value's
// store into the row made the compiler load the count and the row back
// (the store might have changed them), and store the count again: 8
// instructions a value, each waiting on the one before through memory;
// now 3 (bench/RESULTS.md, session 68). Strings and lists go through
// strCols, which needs the count of numbers written before them.
type colWriter struct {
	row []uint64 // the open row's numbers from the first column's on
	k   int      // numbers written
}

// newColWriter returns a writer to b's columns from col on, for n
// numbers: the row is cut to them, so that a write past them fails rather
// than land in the next extractor's columns, and, n being a constant for
// timing, size and tcp, the compiler then knows the row's length and
// checks no store at a constant count (each took a comparison and a
// branch: bench/RESULTS.md, session 69).
func newColWriter(b *output.Batch, col, n int) colWriter {
	return colWriter{row: b.OpenRow(col)[:n:n]}
}

// numbers returns how many of cols hold numbers (output.Type.Fixed), the
// values a colWriter writes.
func numbers(cols []output.Column) int {
	n := 0
	for _, c := range cols {
		if c.Type.Fixed() {
			n++
		}
	}
	return n
}

func (w colWriter) float(v float64) colWriter { w.row[w.k] = math.Float64bits(v); w.k++; return w }
func (w colWriter) int(v int64) colWriter     { w.row[w.k] = uint64(v); w.k++; return w }
func (w colWriter) uint(v uint64) colWriter   { w.row[w.k] = v; w.k++; return w }
func (w colWriter) bool(v bool) colWriter {
	var u uint64
	if v {
		u = 1
	}
	w.row[w.k] = u
	w.k++
	return w
}

// strCols gives the columns of the strings and lists among a colWriter's
// numbers: a string's or a list's column is the first column's plus the
// values written before it.
type strCols struct {
	b    *output.Batch
	next int // the first column plus the strings and lists written
}

// newStrCols returns the string columns of b from col on.
func newStrCols(b *output.Batch, col int) strCols { return strCols{b: b, next: col} }

// col returns the column of the next value, a string or a list that the
// caller writes there itself, after k numbers, and moves past it.
func (s *strCols) col(k int) int {
	c := s.next + k
	s.next++
	return c
}

func (s *strCols) string(k int, v string)    { s.b.AppendString(s.col(k), v) }
func (s *strCols) ints(k int, v []int64)     { s.b.AppendIntList(s.col(k), v) }
func (s *strCols) floats(k int, v []float64) { s.b.AppendFloatList(s.col(k), v) }
