package gen

import "math/bits"

// rng is xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64.
// It is defined here rather than taken from math/rand/v2 so that the output
// can never change with the Go release, and so that every call is a
// concrete, inlinable method on the hot path.
type rng struct {
	s0, s1, s2, s3 uint64
}

// Stream numbers keep the scheduling and content sequences independent.
const (
	streamSched   uint64 = 1
	streamContent uint64 = 2
)

// newRNG returns the generator for stream of seed.
func newRNG(seed int64, stream uint64) rng {
	x := uint64(seed) ^ stream*0xd1b54a32d192ed03
	var r rng
	r.s0 = splitmix(&x)
	r.s1 = splitmix(&x)
	r.s2 = splitmix(&x)
	r.s3 = splitmix(&x)
	return r
}

// splitmix advances x and returns the next splitmix64 output.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	return mix64(*x)
}

// mix64 is the splitmix64 finaliser: a bijection on uint64 that scatters
// nearby inputs, used to derive stable per-index values.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// next returns 64 uniformly distributed bits.
func (r *rng) next() uint64 {
	result := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return result
}

// below returns a value in [0, n) by Lemire's multiply-shift. The bias,
// at most n/2^64, is far below anything a capture could show, and skipping
// the rejection step keeps the number of draws per call fixed.
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// float returns a value in [0, 1) with 53 random bits.
func (r *rng) float() float64 {
	return float64(r.next()>>11) * 0x1p-53
}

// exp returns an exponentially distributed value with the given mean,
// rounded down. It uses von Neumann's comparison method (Knuth, TAOCP
// vol. 2, 3.4.1): integer comparisons only, no math.Log, so the result is
// exact and identical on every platform. It draws about four numbers on
// average.
//
// Given a first draw x, the chance that the run x > u1 > u2 > ... first
// stops rising at an odd position is e^-x, so accepting the odd runs leaves
// x with the exponential density on [0, 1); a rejection, whose probability
// is e^-1 = P(X >= 1), adds one to the integer part (memorylessness).
func (r *rng) exp(mean uint64) uint64 {
	var whole uint64
	for {
		x := r.next()
		prev, n := x, 1
		for {
			u := r.next()
			if u >= prev {
				break
			}
			prev = u
			n++
		}
		if n&1 == 1 {
			frac, _ := bits.Mul64(x, mean)
			return whole*mean + frac
		}
		whole++
	}
}

// perm17 is a bijection on [0, 2^17) that scatters consecutive indices,
// used to give SYN-flood packets distinct random-looking IPv4 sources.
// Multiplying by an odd number and xor-shifting right are both invertible
// modulo a power of two.
func perm17(x, key uint64) uint64 {
	const mask = 1<<17 - 1
	x = (x ^ key) & mask
	x = (x * 0x1a5b5) & mask
	x ^= x >> 9
	x = (x*0x0c9d3 + key>>17) & mask
	x ^= x >> 7
	x = (x * 0x13c6b) & mask
	return x ^ x>>8
}
