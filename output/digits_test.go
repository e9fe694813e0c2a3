package output

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPutDigits checks the word-at-a-time digit writer against fmt: every
// width from the value's digit count to 24, values at and around each
// power of ten, 200 000 random ones, and that nothing is written outside
// the m digits and the 8 bytes of slack after them.
func TestPutDigits(t *testing.T) {
	vals := []uint64{0, 1, 9, 99_999_999, 100_000_000, math.MaxUint64, math.MaxUint32}
	for p := uint64(1); p <= 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1, p*7+3)
		if p == 1e19 {
			break
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		vals = append(vals, r.Uint64()>>r.UintN(64))
	}
	buf := make([]byte, 40)
	for _, v := range vals {
		full := fmt.Sprintf("%024d", v) // 24 digits: every uint64 fits
		for m := len(fmt.Sprint(v)); m <= 24; m++ {
			for i := range buf {
				buf[i] = '#'
			}
			putDigits(buf[2:], v, m)
			if got, want := string(buf[2:2+m]), full[24-m:]; got != want {
				t.Fatalf("putDigits(%d, %d) = %q, want %q", v, m, got, want)
			}
			if buf[0] != '#' || buf[1] != '#' || string(buf[2+m+8:]) != "##########################################"[:len(buf)-2-m-8] {
				t.Fatalf("putDigits(%d, %d) wrote outside b[:m+8]: %q", v, m, buf)
			}
		}
	}
}
