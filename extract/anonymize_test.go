package extract

import (
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// cryptoPAnKey is the key of the sample trace in the Crypto-PAn reference
// distribution.
var cryptoPAnKey = [32]byte{21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2}

// TestPrefixReferenceVectors checks addresses of the reference
// distribution's sample trace (sample_trace_raw / sample_trace_sanitized)
// and, for IPv6, the values other implementations publish for the same key.
func TestPrefixReferenceVectors(t *testing.T) {
	pa := NewPrefixAnonymizer(cryptoPAnKey)
	for _, v := range [][2]string{
		{"128.11.68.132", "135.242.180.132"},
		{"129.118.74.4", "134.136.186.123"},
		{"130.132.252.244", "133.68.164.234"},
		{"141.223.7.43", "141.167.8.160"},
		{"141.233.145.108", "141.129.237.235"},
		{"152.163.225.39", "151.140.114.167"},
		{"192.102.249.13", "252.138.62.131"},
		{"207.188.7.45", "241.255.249.220"},
		{"24.0.250.221", "100.15.198.226"},
		{"4.3.88.225", "124.60.155.63"},
		{"64.14.118.196", "0.255.183.58"},
		{"10.185.25.118", "117.161.29.118"},
		{"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
		{"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
		{"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
		{"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
	} {
		if got := pa.Anonymize(netip.MustParseAddr(v[0])); got.String() != v[1] {
			t.Errorf("%s → %s, want %s", v[0], got, v[1])
		}
	}
}

// commonPrefix returns the number of leading bits a and b share.
func commonPrefix(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	n := 0
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			return n + bits.LeadingZeros8(d)
		}
		n += 8
	}
	return n
}

// TestPrefixProperty draws pairs of addresses sharing exactly k leading
// bits, for every k, and checks that their images share exactly k bits.
func TestPrefixProperty(t *testing.T) {
	pa := NewPrefixAnonymizer(PrefixKey("research-project-2025"))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{4, 16} {
		for k := 0; k < size*8; k++ {
			for range 8 {
				var a [16]byte
				for i := range a[:size] {
					a[i] = byte(rng.Uint32())
				}
				b := a
				b[k/8] ^= 0x80 >> (k % 8) // differ at bit k
				for i := k + 1; i < size*8; i++ {
					if rng.IntN(2) == 1 {
						b[i/8] ^= 0x80 >> (i % 8)
					}
				}
				x, y := netip.AddrFrom16(a), netip.AddrFrom16(b)
				shift := 0
				if size == 4 {
					x, y = netip.AddrFrom4([4]byte(a[:4])), netip.AddrFrom4([4]byte(b[:4]))
					shift = 96 // As16 puts IPv4 after the 96-bit mapped prefix
				}
				ax, ay := pa.Anonymize(x), pa.Anonymize(y)
				if ax.Is4() != x.Is4() || ay.Is4() != y.Is4() {
					t.Fatalf("%v → %v: family changed", x, ax)
				}
				if got, want := commonPrefix(ax, ay)-shift, commonPrefix(x, y)-shift; got != want || want != k {
					t.Fatalf("%v, %v share %d bits; images %v, %v share %d", x, y, want, ax, ay, got)
				}
			}
		}
	}
}

// TestPrefixDeterministic: the same salt gives the same map, whatever the
// instance; another salt gives another map; the map is one-to-one on a
// sample.
func TestPrefixDeterministic(t *testing.T) {
	a := netip.MustParseAddr("10.1.2.3")
	if x, y := AnonymizePrefix("s1", a), NewPrefixAnonymizer(PrefixKey("s1")).Anonymize(a); x != y || !x.Is4() {
		t.Errorf("AnonymizePrefix = %v, a fresh anonymizer %v", x, y)
	}
	if AnonymizePrefix("s1", a) == AnonymizePrefix("s2", a) {
		t.Errorf("salts s1 and s2 give the same image of %v", a)
	}
	pa := NewPrefixAnonymizer(PrefixKey("s1"))
	seen := map[netip.Addr]netip.Addr{}
	for i := range 1 << 12 {
		x := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		y := pa.Anonymize(x)
		if prev, dup := seen[y]; dup {
			t.Fatalf("%v and %v both map to %v", prev, x, y)
		}
		seen[y] = x
		if z := pa.Anonymize(x); z != y {
			t.Fatalf("%v maps to %v, then %v", x, y, z)
		}
	}
	if got := pa.Anonymize(netip.Addr{}); got.IsValid() {
		t.Errorf("invalid address maps to %v", got)
	}
}

func BenchmarkAnonymizePrefix(b *testing.B) {
	pa := NewPrefixAnonymizer(PrefixKey("salt"))
	for _, s := range []string{"192.0.2.1", "2001:db8::1"} {
		a := netip.MustParseAddr(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pa.Anonymize(a)
			}
		})
	}
}

// TestFlowMetaPrefixMode runs flow_meta's emit with the prefix mode: the
// address columns hold the anonymized addresses as text.
func TestFlowMetaPrefixMode(t *testing.T) {
	for _, mode := range []string{"prefix", "hash"} {
		m := NewFlowMeta(Options{IncludeIPAddresses: true, AnonymizeIPs: true, AnonymizeMode: mode, AnonymizationSalt: "s"})
		var p decode.Packet
		m.Observe([]Ref{{Slot: 0, New: true, Pkt: &p}})
		src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
		f := &Flow{Src: src.As16(), Dst: dst.As16(), V6: true, Hdrs: &p.Hdrs}
		b := output.NewBatch(m.Columns())
		m.Emit(0, f, b, 0)
		b.EndRow()
		want := []string{AnonymizePrefix("s", netip.AddrFrom16(f.Src)).String(), AnonymizePrefix("s", dst).String()}
		if mode == "hash" {
			want = []string{AnonymizeIP("s", netip.AddrFrom16(f.Src)), AnonymizeIP("s", dst)}
		}
		for i, w := range want {
			if got := b.Value(i, 0); got != w {
				t.Errorf("%s: column %s = %v, want %s", mode, m.Columns()[i].Name, got, w)
			}
		}
		if mode == "prefix" {
			if _, err := netip.ParseAddr(want[0]); err != nil {
				t.Errorf("prefix mode writes %q, not an address", want[0])
			}
		}
	}
}
