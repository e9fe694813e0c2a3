package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// sha is the reference: lowercase hex of SHA-256 over a literal string.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestFlowID(t *testing.T) {
	v4a, v4b := netip.MustParseAddr("192.168.1.100"), netip.MustParseAddr("142.250.189.46")
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:0db8:0000:0000:0000:0000:0000:00ff")
	cases := []struct {
		name   string
		salt   string
		a      netip.Addr
		pa     uint16
		b      netip.Addr
		pb     uint16
		proto  uint8
		preimg string // the contract's string, written by hand
	}{
		// "142.250.189.46" < "192.168.1.100" as text, so it comes first.
		{"ipv4", "", v4a, 52341, v4b, 443, 6, "142.250.189.46:443:192.168.1.100:52341:6"},
		{"ipv4 salted", "consistent-salt", v4a, 52341, v4b, 443, 6, "consistent-salt142.250.189.46:443:192.168.1.100:52341:6"},
		// RFC 5952 text: "2001:db8::1" < "2001:db8::ff".
		{"ipv6", "s", v6b, 53, v6a, 5353, 17, "s2001:db8::1:5353:2001:db8::ff:53:17"},
		// Same address: the smaller port first.
		{"same ip", "", v4a, 9, v4a, 7, 17, "192.168.1.100:7:192.168.1.100:9:17"},
		// Text order, not numeric: "10.0.0.10" < "10.0.0.9".
		{"text order", "", netip.MustParseAddr("10.0.0.9"), 1, netip.MustParseAddr("10.0.0.10"), 2, 1, "10.0.0.10:2:10.0.0.9:1:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := sha(c.preimg)[:32]
			if got := FlowID(c.salt, c.a, c.pa, c.b, c.pb, c.proto); got != want {
				t.Errorf("FlowID = %s, want %s", got, want)
			}
			if got := FlowID(c.salt, c.b, c.pb, c.a, c.pa, c.proto); got != want {
				t.Errorf("FlowID reversed = %s, want %s", got, want)
			}
		})
	}
}

func TestAnonymizeIP(t *testing.T) {
	cases := []struct{ salt, ip, preimg string }{
		{"", "192.168.1.100", "192.168.1.100"},
		{"research-project-2025", "10.0.0.1", "research-project-202510.0.0.1"},
		{"k", "2001:0db8:0:0:0:0:0:0001", "k2001:db8::1"},
		{"k", "::ffff:10.1.2.3", "k::ffff:10.1.2.3"},
	}
	for _, c := range cases {
		want := sha(c.preimg)[:16]
		if got := AnonymizeIP(c.salt, netip.MustParseAddr(c.ip)); got != want {
			t.Errorf("AnonymizeIP(%q, %s) = %s, want %s", c.salt, c.ip, got, want)
		}
	}
}

func TestPortClass(t *testing.T) {
	for _, c := range []struct {
		port uint16
		want int
	}{{0, 0}, {443, 0}, {1023, 0}, {1024, 1}, {49151, 1}, {49152, 2}, {65535, 2}} {
		if got := PortClass(c.port); got != c.want {
			t.Errorf("PortClass(%d) = %d, want %d", c.port, got, c.want)
		}
	}
}

func TestFloatConversions(t *testing.T) {
	// 1704067200.123456789 s: the nearest float64 is the one ParseFloat
	// gives for the decimal text (correct rounding).
	if got, want := Seconds(1704067200123456789), 1704067200.123456789; got != want {
		t.Errorf("Seconds = %.9f, want %.9f", got, want)
	}
	if got := Seconds(1500); got != 1.5e-6 {
		t.Errorf("Seconds(1500) = %g, want 1.5e-06", got)
	}
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"ratio", FwdRatio(22, 23), 22.0 / 23.0},
		{"ratio bwd 0", FwdRatio(5, 0), 5},
		{"ratio both 0", FwdRatio(0, 0), 0},
		{"rate", PerSecond(45, 2665556000), 45 / 2.665556},
		{"rate zero duration", PerSecond(7, 0), 7},
		// 2^62 bytes over 1 s: the product overflows 64 bits.
		{"rate 128-bit", PerSecond(1<<62, 1e9), math.Ldexp(1, 62)},
		{"big ratio", Ratio(1<<60+1, 3), float64(1<<60+1) / 3},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestDivRoundAgainstBig checks the exact integer rounding against
// math/big's correctly rounded rational conversion.
func TestDivRoundAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(hi, lo, b uint64) {
		num := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		num.Or(num, new(big.Int).SetUint64(lo))
		want, _ := new(big.Rat).SetFrac(num, new(big.Int).SetUint64(b)).Float64()
		if got := divRound(hi, lo, b); got != want {
			t.Fatalf("divRound(%d, %d, %d) = %v, want %v", hi, lo, b, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		switch i % 5 {
		case 0: // Unix nanoseconds over 1e9
			check(0, 1_500_000_000_000_000_000+r.Uint64N(1<<60), 1e9)
		case 1: // rates: n·1e9 over a duration
			hi, lo := bits.Mul64(r.Uint64N(1<<40), 1e9)
			check(hi, lo, 1+r.Uint64N(1<<50))
		case 2:
			check(0, r.Uint64(), 1+r.Uint64N(1<<20))
		case 3:
			check(r.Uint64N(1<<20), r.Uint64(), 1+r.Uint64())
		case 4: // a far above 2^64, b far above 2^53: c off by several ulps
			h := r.Uint64N(1 << 60)
			check(h, r.Uint64(), h/(1+r.Uint64N(1<<12))+1)
		}
	}
	check(0, 1704067200123456789, 1e9)
	check(0, 1<<54+2, 2)    // 2^53+1: a tie, to even
	check(0, 3<<53+6, 2)    // 3·2^52+3: a tie, to even
	check(0, 1<<62+1, 1<<9) // just above a power of two
	check(0, 1<<62-1, 1<<9) // just below one
	check(0, 1e18, 1e9)     // exact
	// c three ulps off (a > 2^64, b > 2^53), found by review.
	check(10288759644465241, 15661207743270778113, 44753567103625229)
	check(0, 0, 7)
	check(1<<62, 5, 3) // quotient above 2^100
	check(0, 1<<62, 1)
}

// TestSecondsAgainstBig checks Seconds, whole microseconds (its fast path)
// and any nanoseconds, both signs, against exact rational arithmetic.
func TestSecondsAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	check := func(ns int64) {
		want, _ := new(big.Rat).SetFrac64(ns, 1e9).Float64()
		if got := Seconds(ns); got != want {
			t.Fatalf("Seconds(%d) = %v, want %v", ns, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		ns := r.Int64N(1 << 62)
		switch i % 4 {
		case 0: // Unix times in whole microseconds
			ns = (1_500_000_000_000_000_000 + r.Int64N(1<<60)) / 1000 * 1000
		case 1: // durations in whole microseconds
			ns = r.Int64N(1<<40) * 1000
		case 2: // near the fast path's limit: 2^53 µs
			ns = (1<<53 + r.Int64N(1<<20) - 1<<19) * 1000
		}
		check(ns)
		check(-ns)
	}
	for _, ns := range []int64{0, 1000, 999, 1001, math.MaxInt64, math.MinInt64, math.MaxInt64 / 1000 * 1000, (1<<53 - 1) * 1000, 1 << 53 * 1000} {
		check(ns)
	}
}

func BenchmarkSeconds(b *testing.B) {
	var s float64
	for i := range b.N {
		s += Seconds(1704067200123456789 + int64(i)*7919)
	}
	sink = s
}

func BenchmarkPerSecond(b *testing.B) {
	var s float64
	for i := range b.N {
		s += PerSecond(uint64(i&1023)+1, int64(i)*7919+1)
	}
	sink = s
}

var sink float64

// TestFlowMetaHdrDesc: hdr_desc is the flow's header stack as text, taken
// from Flow.HdrDesc when the table made it, written from the stack when
// the caller left it empty.
func TestFlowMetaHdrDesc(t *testing.T) {
	m := NewFlowMeta(Options{})
	col := -1
	for i, c := range m.Columns() {
		if c.Name == "hdr_desc" {
			col = i
		}
	}
	s := decode.Stack{Proto: 6}
	for _, l := range []decode.Layer{decode.LayerETH, decode.LayerVLAN, decode.LayerIP, decode.LayerTCP} {
		s.Push(l)
	}
	for _, desc := range []string{"", "ETH-VLAN-IP-TCP"} {
		b := output.NewBatch(m.Columns())
		m.Emit(0, &Flow{Proto: 6, Hdrs: &s, HdrDesc: desc}, b, 0)
		b.EndRow()
		if got := b.Value(col, 0); got != "ETH-VLAN-IP-TCP" {
			t.Errorf("HdrDesc %q: hdr_desc %v, want ETH-VLAN-IP-TCP", desc, got)
		}
	}
}
