package output

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// Decimal digits eight at a time. The text formats spend most of their
// time writing digits: a --features all row holds about 60 integers and 60
// floats. Writing them two at a time from a table of pairs makes, for a
// 17-digit value, nine dependent divisions and eighteen one-byte stores;
// digits8 turns eight digits into their ASCII bytes with a few multiplies
// on all of them at once (SWAR, as in Lemire's "Converting integers to
// fixed-digit representations quickly"), and one 8-byte store writes them.

// digits8 returns the 8 decimal digits of v < 10^8, leading zeros
// included, as ASCII bytes in a little-endian word: the first digit is the
// lowest byte.
func digits8(v uint32) uint64 {
	// Two 4-digit halves in 32-bit lanes, the first half in the low lane.
	x := uint64(v/10000) | uint64(v%10000)<<32
	// Each lane y < 10^4 to y/100 (low 16 bits) and y%100 (high 16 bits):
	// y·10486 >> 20 is y/100 for y < 43699.
	hi := (x * 10486 >> 20) & (0x7f<<32 | 0x7f)
	x = (x-100*hi)<<16 | hi
	return tens(x) + 0x3030_3030_3030_3030
}

// tens splits each 16-bit lane z < 100 of x into z/10 (low byte) and z%10
// (high byte): z·103 >> 10 is z/10 for z < 179.
func tens(x uint64) uint64 {
	hi := (x * 103 >> 10) & 0x000f_000f_000f_000f
	return (x-10*hi)<<8 | hi
}

// growSlack extends dst by n ≤ 24 bytes and returns it and the 32 bytes
// of its array from the n new ones on: the digit writers store whole
// words that may run up to 8 bytes past the n. The 32 bytes are an array
// so that stores at constant or masked offsets need no bounds check; the
// pointer is made with unsafe, as a slice expression would check its
// bounds again, after slices.Grow has made them hold: growSlack's slices
// took 54 M of the 4.04 G instructions of a --features all run on the
// 500 000-packet synthetic capture (callgrind; bench/RESULTS.md,
// session 68).
func growSlack(dst []byte, n int) ([]byte, *[32]byte) {
	l := len(dst)
	if cap(dst)-l < 32 {
		dst = slices.Grow(dst, 32)
	}
	b := (*[32]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(dst)), l))
	return dst[:l+n], b
}

// putDigits writes d < 10^m (1 ≤ m ≤ 24) as m decimal digits, leading
// zeros included, into b[:m], and may overwrite up to 8 bytes after them:
// b must hold m+8 bytes.
func putDigits(b []byte, d uint64, m int) {
	_ = b[m+7]
	// The shifts are of 0 to 56 bits: the masks tell the compiler so.
	if m <= 8 {
		binary.LittleEndian.PutUint64(b, digits8(uint32(d))>>(8*(8-m)&63))
		return
	}
	q := d / 1e8
	low := digits8(uint32(d - q*1e8))
	if m <= 16 {
		binary.LittleEndian.PutUint64(b, digits8(uint32(q))>>(8*(16-m)&63))
	} else {
		q2 := q / 1e8
		binary.LittleEndian.PutUint64(b, digits8(uint32(q2))>>(8*(24-m)&63))
		binary.LittleEndian.PutUint64(b[m-16:], digits8(uint32(q-q2*1e8)))
	}
	binary.LittleEndian.PutUint64(b[m-8:], low)
}
