package extract

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAppendAddr checks appendAddr against netip.Addr.AppendTo: every
// IPv4 address whose bytes are 0, 1, 9, 10, 99, 100, 199, 200 or 255,
// random IPv4 addresses, IPv6 addresses of every pattern of zero groups
// (each of the 256, the other groups random, of one to four hex digits),
// IPv4-mapped ones and the special ones, each after text already there.
func TestAppendAddr(t *testing.T) {
	check := func(a [16]byte, v6 bool) {
		t.Helper()
		var want []byte
		if v6 {
			want = netip.AddrFrom16(a).AppendTo([]byte("x,"))
		} else {
			want = netip.AddrFrom4([4]byte(a[:4])).AppendTo([]byte("x,"))
		}
		if got := appendAddr([]byte("x,"), &a, v6); string(got) != string(want) {
			t.Fatalf("appendAddr(%v, v6 %v) = %q, want %q", a, v6, got, want)
		}
	}
	edge := []byte{0, 1, 9, 10, 99, 100, 199, 200, 255}
	for _, x0 := range edge {
		for _, x1 := range edge {
			for _, x2 := range edge {
				for _, x3 := range edge {
					check([16]byte{x0, x1, x2, x3}, false)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(17, 18))
	for range 20000 {
		var a [16]byte
		for i := range 4 {
			a[i] = byte(r.Uint32())
		}
		check(a, false)
	}
	for mask := range 256 {
		for range 40 {
			var a [16]byte
			for i := range 8 {
				if mask>>i&1 == 1 {
					continue // a zero group
				}
				g := uint16(r.Uint32() >> r.UintN(32)) // 1 to 4 hex digits, or 0
				a[2*i], a[2*i+1] = byte(g>>8), byte(g)
			}
			check(a, true)
		}
	}
	special := []string{"::", "::1", "1::", "::ffff:1.2.3.4", "::ffff:0.0.0.0", "::fffe:1.2.3.4", "64:ff9b::1.2.3.4",
		"fe80::1", "2001:db8::1:0:0:1", "2001:db8:0:0:1::1", "1:0:0:1:0:0:0:1", "0:1:0:1:0:1:0:1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	for _, s := range special {
		check(netip.MustParseAddr(s).As16(), true)
	}
}
