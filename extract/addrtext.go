package extract

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
)

// appendAddr appends the text of a flow address, a[:4] for IPv4, exactly
// as netip.Addr.AppendTo writes it (TestAppendAddr): dotted decimal for
// IPv4; for IPv6 lowercase hexadecimal groups without leading zeros, the
// first longest run of two or more zero groups written "::" (RFC 5952),
// and an IPv4-mapped address as "::ffff:" and its IPv4 text.
//
// flow_meta writes two addresses a row, on the flow table's goroutine.
// Through netip (a scan for zero runs from every group, then a loop a hex
// digit), an IPv6 address took about 950 instructions and an IPv4 one
// about 150: 4.5 % of a flow_meta run's instructions on the synthetic
// capture, a fifth of its addresses IPv6. Here, with a group's four hex
// digits made at once (hex4) and an IPv4 byte's digits and dot taken from
// a table (dec8), about 580 and 105 (bench/RESULTS.md, session 64).
func appendAddr(dst []byte, a *[16]byte, v6 bool) []byte {
	if !v6 {
		return appendIPv4(dst, a[0], a[1], a[2], a[3])
	}
	if binary.BigEndian.Uint64(a[:8]) == 0 && binary.BigEndian.Uint32(a[8:12]) == 0xffff {
		return appendIPv4(append(dst, "::ffff:"...), a[12], a[13], a[14], a[15])
	}
	// Bit i of zero set: group i is 0.
	var zero uint
	for i := range 8 {
		if a[2*i]|a[2*i+1] == 0 {
			zero |= 1 << i
		}
	}
	// The first longest run of two or more zero groups, [zs, ze); none
	// when zs is 8.
	zs, ze := 8, 8
	for run := zero; run != 0; {
		i := bits.TrailingZeros(run)
		j := i + bits.TrailingZeros(^(run >> i)) // the run's end
		if j-i >= 2 && j-i > ze-zs {
			zs, ze = i, j
		}
		run &^= 1<<j - 1 // every bit below j: this run and those before
	}
	l := len(dst)
	dst = slices.Grow(dst, 40)[:l+40] // 8 groups of 4, 7 colons, or fewer with "::"
	b := dst[l:]
	k := 0
	for i := 0; i < 8; i++ {
		if i == zs {
			b[k], b[k+1] = ':', ':'
			k += 2
			if i = ze; i >= 8 {
				break
			}
		} else if i > 0 {
			b[k] = ':'
			k++
		}
		g := uint32(binary.BigEndian.Uint16(a[2*i:]))
		n := max((bits.Len32(g)+3)>>2, 1) // hex digits, without leading zeros
		binary.LittleEndian.PutUint32(b[k:], hex4(g)>>(8*(4-n)&31))
		k += n
	}
	return dst[:l+k]
}

// hex4 returns the four lowercase hexadecimal digits of g < 2^16, leading
// zeros included, as ASCII bytes in a little-endian word, the first digit
// lowest: the nibbles spread one a byte, then '0' added to each and, to
// those from 10 up, the 39 more that reach 'a'.
func hex4(g uint32) uint32 {
	w := g>>12 | g>>8&0xf<<8 | g>>4&0xf<<16 | g&0xf<<24
	ten := (w + 0x0606_0606) >> 4 & 0x0101_0101 // 1 in each byte from 10 up
	return w + 0x3030_3030 + ten*39
}

// appendIPv4 appends the dotted decimal text of an IPv4 address: each
// byte's digits and a dot in one 4-byte store, from a table (dec8).
func appendIPv4(dst []byte, x0, x1, x2, x3 byte) []byte {
	l := len(dst)
	dst = slices.Grow(dst, 16)[:l+16]
	b := dst[l:]
	w0, w1, w2, w3 := dec8[x0], dec8[x1], dec8[x2], dec8[x3]
	k1 := int(w0>>32) + 1 // each byte's digits and the dot
	k2 := k1 + int(w1>>32) + 1
	k3 := k2 + int(w2>>32) + 1
	binary.LittleEndian.PutUint32(b, uint32(w0))
	binary.LittleEndian.PutUint32(b[k1&7:], uint32(w1)) // k1 ≤ 4, k2 ≤ 8, k3 ≤ 12
	binary.LittleEndian.PutUint32(b[k2&15:], uint32(w2))
	binary.LittleEndian.PutUint32(b[k3&15:], uint32(w3))
	return dst[:l+k3+int(w3>>32)]
}

// dec8 holds, for each byte value, its decimal digits and a dot in the
// low four bytes of a word (the first digit lowest) and the number of
// digits above them.
var dec8 = func() (t [256]uint64) {
	for v := range t {
		var w uint64
		n := 0
		for _, c := range []byte(strconv.Itoa(v) + ".") {
			w |= uint64(c) << (8 * n)
			n++
		}
		t[v] = w | uint64(n-1)<<32
	}
	return t
}()
