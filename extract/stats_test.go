package extract

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// Helpers shared by timing_test.go, size_test.go and tcp_test.go.

// t0 is a realistic Unix time in ns (2023-11-14), large enough that float
// seconds would lose precision: every test timestamp is t0 + offset.
const t0 = int64(1_700_000_000_000_000_000)

// ms returns n milliseconds in ns.
func ms(n float64) int64 { return int64(math.Round(n * 1e6)) }

// tp is a test packet: the fields of decode.Packet a test cares about.
type tp struct {
	ts      int64 // offset from t0, ns
	dir     Dir
	length  uint32
	payload uint32
	// TCP fields; tcp false means the packet has no TCP header.
	tcp   bool
	flags decode.TCPFlags
	seq   uint32
	ack   uint32
	win   uint16
}

// refs turns test packets into the Refs of one flow in slot, the first
// with New set. The packets live as long as the returned slice.
func refs(slot uint32, ps []tp) []Ref {
	pk := make([]decode.Packet, len(ps))
	rs := make([]Ref, len(ps))
	for i, p := range ps {
		pk[i] = decode.Packet{
			Timestamp: t0 + p.ts,
			Length:    p.length,
			Payload:   p.payload,
			Proto:     6,
			TCPFlags:  p.flags,
			Seq:       p.seq,
			Ack:       p.ack,
			Window:    p.win,
			TCPHdrLen: 20,
		}
		if p.tcp {
			pk[i].Flags = decode.FlagTCP | decode.FlagPorts
		}
		rs[i] = Ref{Slot: slot, Dir: p.dir, New: i == 0, Index: uint64(i), Pkt: &pk[i]}
	}
	return rs
}

// row is one emitted flow: column name → value (int64, float64, bool,
// []int64 or []float64).
type row map[string]any

// emitRow emits slot into a fresh batch at a non-zero base (after two
// columns of another group) and returns its values by name. It fails the
// test unless Emit wrote exactly one value to each of its columns.
func emitRow(tb testing.TB, ex Extractor, slot uint32, f *Flow) row {
	tb.Helper()
	prefix := []output.Column{{Name: "before1", Type: output.Int}, {Name: "before2", Type: output.Float}}
	schema := append(prefix, ex.Columns()...)
	b := output.NewBatch(schema)
	b.AppendInt(0, -1)
	b.AppendFloat(1, -1)
	ex.Emit(slot, f, b, len(prefix))
	b.EndRow()
	r := row{}
	for c := len(prefix); c < len(schema); c++ {
		name := schema[c].Name
		if _, dup := r[name]; dup {
			tb.Fatalf("duplicate column %q", name)
		}
		r[name] = b.Value(c, 0)
		if extraValue(b, c) {
			tb.Errorf("%s: column %q got more than one value", ex.Name(), name)
		}
	}
	if b.Int(0, 0) != -1 || b.Float(1, 0) != -1 || extraValue(b, 0) || extraValue(b, 1) {
		tb.Errorf("%s: Emit wrote outside its columns", ex.Name())
	}
	return r
}

// extraValue reports whether column c holds a value for row 1.
func extraValue(b *output.Batch, c int) (extra bool) {
	defer func() {
		if recover() != nil {
			extra = false
		}
	}()
	b.Value(c, 1)
	return true
}

// near is a float expectation met within a relative 1e-12 (for values
// with square roots); a plain float64 expectation must match exactly.
type near float64

// checkRow compares every column of got with want, and fails on columns
// missing from want, so that each case pins every column.
func checkRow(t *testing.T, got, want row) {
	t.Helper()
	for name, g := range got {
		w, ok := want[name]
		if !ok {
			t.Errorf("column %s = %v, not pinned by the test", name, g)
			continue
		}
		if !sameValue(g, w) {
			t.Errorf("column %s = %#v, want %#v", name, g, w)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("column %s missing", name)
		}
	}
}

func sameValue(g, w any) bool {
	switch w := w.(type) {
	case near:
		gf, ok := g.(float64)
		return ok && closeTo(gf, float64(w))
	case int:
		gi, ok := g.(int64)
		return ok && gi == int64(w)
	case []float64:
		gl, ok := g.([]float64)
		return ok && slices.Equal(gl, w)
	case []int64:
		gl, ok := g.([]int64)
		return ok && slices.Equal(gl, w)
	}
	return g == w
}

func closeTo(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 1e-12*math.Max(math.Abs(got), math.Abs(want))
}

// finite fails the test on any NaN or Inf in r.
func finite(t *testing.T, r row) {
	t.Helper()
	for name, v := range r {
		var fs []float64
		switch v := v.(type) {
		case float64:
			fs = []float64{v}
		case []float64:
			fs = v
		}
		for _, f := range fs {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				t.Errorf("column %s = %v", name, f)
			}
		}
	}
}

// zeroRow returns every column of ex set to its zero value, with lists of
// length l.
func zeroRow(ex Extractor, l int) row {
	r := row{}
	for _, c := range ex.Columns() {
		switch c.Type {
		case output.Int:
			r[c.Name] = 0
		case output.Float:
			r[c.Name] = 0.0
		case output.Bool:
			r[c.Name] = false
		case output.IntList:
			r[c.Name] = make([]int64, l)
		case output.FloatList:
			r[c.Name] = make([]float64, l)
		}
	}
	return r
}

// with returns a copy of r with the given name/value pairs set.
func with(r row, kv ...any) row {
	c := row{}
	for k, v := range r {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		xs    []int64
		p     int
		scale uint64
		want  float64
	}{
		{"empty", nil, 50, 1, 0},
		{"one", []int64{7}, 99, 1, 7},
		// Rank (2−1)·50/100 = 0.5: 1 + 0.5·(2−1).
		{"median of two", []int64{1, 2}, 50, 1, 1.5},
		// Rank 4·90/100 = 3.6: 20 + 0.6·80 = 68.
		{"p90", []int64{0, 10, 10, 20, 100}, 90, 1, 68},
		// 68 ms in seconds, one rounding of 68e6/1e9.
		{"p90 seconds", []int64{0, 10e6, 10e6, 20e6, 100e6}, 90, 1e9, 0.068},
		// Rank 10·90/100 = 9 exactly (0.9·10 in floats is 9.000000000000002).
		{"integer rank", []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 1, 9},
		// Rank 2·99/100 = 1.98: 2^62 + 0.98·100 = 2^62 + 98, beyond 2^53,
		// rounded once (to 2^62: the float spacing there is 1024).
		{"huge", []int64{0, 1 << 62, 1<<62 + 100}, 99, 1, float64(1<<62 + 98)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.xs, tc.p, tc.scale); got != tc.want {
				t.Errorf("quantile(%v, %d, %d) = %v, want %v", tc.xs, tc.p, tc.scale, got, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		xs    []int64
		scale uint64
		want  dist
	}{
		{"empty", nil, 1, dist{}},
		{"one", []int64{5}, 1, dist{n: 1, sum: u128{lo: 5}, min: 5, max: 5, mean: 5}},
		// Mean 28, deviations −28 −18 −18 −8 72: m2 = 6680/5 = 1336,
		// m3 = 339120/5 = 67824, m4 = 27702560/5 = 5540512.
		{"five", []int64{0, 10, 10, 20, 100}, 1, dist{
			n: 5, sum: u128{lo: 140}, min: 0, max: 100, mean: 28,
			std: math.Sqrt(1336), variance: 1336,
			skew: 67824 / (1336 * math.Sqrt(1336)), kurtosis: 5540512.0/(1336*1336) - 3,
			cv: math.Sqrt(1336) / 28,
		}},
		// The same in ns, reported in seconds.
		{"five ns", []int64{0, 10e6, 10e6, 20e6, 100e6}, 1e9, dist{
			n: 5, sum: u128{lo: 140e6}, min: 0, max: 0.1, mean: 0.028,
			std: math.Sqrt(1336) / 1000, variance: 1336e-6,
			skew: 67824 / (1336 * math.Sqrt(1336)), kurtosis: 5540512.0/(1336*1336) - 3,
			cv: math.Sqrt(1336) / 28,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := describe(tc.xs, tc.scale)
			if got.n != tc.want.n || got.sum != tc.want.sum {
				t.Errorf("describe(%v) n, sum = %d, %v, want %d, %v", tc.xs, got.n, got.sum, tc.want.n, tc.want.sum)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"min", got.min, tc.want.min}, {"max", got.max, tc.want.max},
				{"mean", got.mean, tc.want.mean}, {"std", got.std, tc.want.std},
				{"variance", got.variance, tc.want.variance}, {"skew", got.skew, tc.want.skew},
				{"kurtosis", got.kurtosis, tc.want.kurtosis}, {"cv", got.cv, tc.want.cv},
			} {
				if !closeTo(f.got, f.want) {
					t.Errorf("describe(%v).%s = %v, want %v", tc.xs, f.name, f.got, f.want)
				}
			}
		})
	}
}

// TestConstantSeries pins the contract's reason for integer arithmetic: a
// constant series whose sum exceeds 2^53 still has variance, skew and
// kurtosis exactly 0.
func TestConstantSeries(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    int64
		n    int
	}{
		{"small", 3, 10},
		{"sum beyond 2^53", 500_000_000_001, 20_000},
		{"awkward mean", 100_000_003, 3_333},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xs := make([]int64, tc.n)
			for i := range xs {
				xs[i] = tc.v
			}
			d := describe(xs, 1e9)
			if d.std != 0 || d.variance != 0 || d.skew != 0 || d.kurtosis != 0 || d.cv != 0 {
				t.Errorf("describe(%d × %d) std, var, skew, kurt, cv = %v %v %v %v %v, want all 0", tc.n, tc.v, d.std, d.variance, d.skew, d.kurtosis, d.cv)
			}
			if want := Seconds(tc.v); d.mean != want || d.min != want || d.max != want {
				t.Errorf("describe(%d × %d) mean, min, max = %v %v %v, want %v", tc.n, tc.v, d.mean, d.min, d.max, want)
			}
		})
	}
}

func TestSumsVariance(t *testing.T) {
	sums := func(xs ...uint64) (n uint64, s1, s2 u128) {
		for _, x := range xs {
			n++
			s1.add(x)
			s2 = s2.plus(mul128(x, x))
		}
		return
	}
	for _, tc := range []struct {
		name string
		xs   []uint64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []uint64{9}, 0},
		{"constant", []uint64{1460, 1460, 1460}, 0},
		// (6·2078288 − 1556²)/36 = 10048592/36.
		{"payloads", []uint64{0, 0, 40, 1440, 48, 28}, 10048592.0 / 36},
		// Squares beyond 64 bits take the big.Int path: values 0 and
		// 2^40 have variance (2^40/2)^2 = 2^78.
		{"big", []uint64{0, 1 << 40}, math.Ldexp(1, 78)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, s1, s2 := sums(tc.xs...)
			if got := sumsVariance(n, s1, s2); got != tc.want {
				t.Errorf("sumsVariance(%v) = %v, want %v", tc.xs, got, tc.want)
			}
		})
	}
}

func TestQuoRoundsOnce(t *testing.T) {
	// 2^64 + 1 over 3, beyond the fast path, against big.Rat.
	n := u128{hi: 1, lo: 1}
	want, _ := new(big.Rat).SetFrac(n.big(), big.NewInt(3)).Float64()
	if got := quo(n, u128{lo: 3}); got != want {
		t.Errorf("quo(2^64+1, 3) = %v, want %v", got, want)
	}
	// Random 128-bit numerators over divisors of every size, against
	// big.Rat. Quotients stay below 2^64, as in every caller (a mean, a
	// percentile or a variance of values below 2^64).
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		n := u128{rng.Uint64() >> rng.UintN(65), rng.Uint64()}
		d := u128{0, rng.Uint64()>>rng.UintN(64) | 1}
		if i%10 == 0 {
			d.hi = rng.Uint64() >> rng.UintN(64)
		} else {
			n.hi %= d.lo
		}
		want, _ := new(big.Rat).SetFrac(n.big(), d.big()).Float64()
		if got := quo(n, d); got != want {
			t.Fatalf("quo(%v, %v) = %v, want %v", n, d, got, want)
		}
	}
	if got := asymmetry(1, 3); got != -0.5 {
		t.Errorf("asymmetry(1, 3) = %v, want -0.5", got)
	}
	if got := asymmetry(0, 0); got != 0 {
		t.Errorf("asymmetry(0, 0) = %v, want 0", got)
	}
	if got := fraction(1, 0); got != 0 {
		t.Errorf("fraction(1, 0) = %v, want 0", got)
	}
}

func TestPool(t *testing.T) {
	p := pool[int64]{init: 5}
	s := p.get()
	if len(s) != 0 || cap(s) != 5 {
		t.Fatalf("get() = len %d cap %d, want 0, 5", len(s), cap(s))
	}
	s = append(s, 1, 2, 3)
	p.put(s)
	if r := p.get(); len(r) != 0 || &r[:1][0] != &s[0] {
		t.Errorf("get() after put did not reuse the buffer")
	}
	p.put(make([]int64, 0, poolMaxCap+1))
	if len(p.free) != 0 {
		t.Errorf("put kept a buffer of %d > poolMaxCap elements", poolMaxCap+1)
	}
	for i := 0; i < poolMaxElems/poolMaxCap+2; i++ {
		p.put(make([]int64, 0, poolMaxCap))
	}
	if p.elems > poolMaxElems {
		t.Errorf("pool holds %d elements, want at most %d", p.elems, poolMaxElems)
	}
}

// TestPoolGrowsItsList puts back more buffers than fit a free list of
// 64 KiB, so that the list grows past the size from which growFree
// allocates its pages in one call, and gets every one back, last in
// first out, unchanged; and a list grows no further than its pool's
// budget can fill.
func TestPoolGrowsItsList(t *testing.T) {
	p := pool[int64]{init: 1}
	const n = 10_000 // 240 KB of slice headers
	bufs := make([][]int64, n)
	for i := range bufs {
		bufs[i] = make([]int64, 0, 1)
		p.put(bufs[i])
	}
	if len(p.free) != n || p.elems != n {
		t.Fatalf("%d buffers and %d elements in the pool, want %d", len(p.free), p.elems, n)
	}
	for i := n - 1; i >= 0; i-- {
		if b := p.get(); cap(b) != 1 || &b[:1][0] != &bufs[i][:1][0] {
			t.Fatalf("get %d: not buffer %d back", n-i, i)
		}
	}
	if len(p.free) != 0 || p.elems != 0 {
		t.Errorf("%d buffers and %d elements left", len(p.free), p.elems)
	}
	// A pool of buffers of poolMaxElems/100 elements holds at most 100:
	// its list stops growing there.
	big := pool[byte]{init: poolMaxElems / 100}
	for range 150 {
		big.put(make([]byte, 0, big.init))
	}
	if len(big.free) != 100 || cap(big.free) != 100 {
		t.Errorf("a pool of 100 full buffers: %d in a list of room %d, want 100 and 100", len(big.free), cap(big.free))
	}
}

// TestPoolCarves checks the buffers a pool makes: each of init elements,
// none overlapping another (a full buffer's append moves it, leaving its
// neighbour alone), from blocks that start at blockFirst bytes and double
// (as much as was carved before) up to blockMin, then a sixteenth of what
// was carved before up to blockMax, or one buffer if that is more.
func TestPoolCarves(t *testing.T) {
	// The first blocks of 1-element buffers, worked out by hand: 4 KiB,
	// then as much as was carved (4, 8, 16, 32 KiB), then 64 KiB until 1
	// MiB was carved.
	p1 := pool[logPacket]{init: 1}
	var first []int
	for range (4 + 4 + 8 + 16 + 32 + 64 + 64) << 10 / 16 {
		newBlock := len(p1.block) < 1
		p1.get()
		if newBlock {
			first = append(first, (len(p1.block)+1)*16>>10)
		}
	}
	if want := []int{4, 4, 8, 16, 32, 64, 64}; !slices.Equal(first, want) {
		t.Errorf("blocks of 1-element buffers: %v KiB, want %v", first, want)
	}
	for _, init := range []int{1, 4, 256, 3000, 20000} {
		p := pool[logPacket]{init: init}
		const size = 16                      // bytes of a logPacket
		n := 8 * blockMax * 16 / size / init // far past the blocks' growth
		bufs := make([][]logPacket, n)
		carved, blocks, sizes := 0, 0, map[int]bool{}
		for i := range bufs {
			before := len(p.block)
			bufs[i] = p.get()
			if b := bufs[i]; len(b) != 0 || cap(b) != init {
				t.Fatalf("init %d: buffer %d has len %d, cap %d", init, i, len(b), cap(b))
			}
			if before < init { // a new block
				blocks++
				got := (len(p.block) + init) * size
				want := min(max(carved*size/16, min(carved*size, blockMin), blockFirst), blockMax)
				want = max(want-want%(init*size), init*size)
				if got != want {
					t.Fatalf("init %d: block %d of %d bytes after %d carved, want %d", init, blocks, got, carved*size, want)
				}
				sizes[got] = true
			}
			carved += init
			for k := range init {
				bufs[i] = append(bufs[i], logPacket{ts: int64(i), len: uint32(k)})
			}
		}
		bufs[0] = append(bufs[0], logPacket{ts: -1})
		for i, b := range bufs {
			for k, pk := range b[:init] {
				if pk.ts != int64(i) || pk.len != uint32(k) {
					t.Fatalf("init %d: buffer %d's packet %d is %+v: another buffer wrote over it", init, i, k, pk)
				}
			}
		}
		if init*size < blockMin/2 && len(sizes) < 3 {
			t.Errorf("init %d: %d blocks of %d sizes; want them to grow from blockFirst to blockMax", init, blocks, len(sizes))
		}
	}
}

func TestClassPool(t *testing.T) {
	p := newClassPool[int64](4, 64) // classes of 4, 8, 16 and 32
	if len(p.classes) != 4 {
		t.Fatalf("%d classes, want 4", len(p.classes))
	}
	for k := range 4 {
		if s := p.get(k); len(s) != 0 || cap(s) != 4<<k {
			t.Errorf("get(%d) = len %d cap %d, want 0, %d", k, len(s), cap(s), 4<<k)
		}
	}
	for c, want := range map[int]int{0: -1, 2: -1, 4: 0, 6: -1, 8: 1, 12: -1, 16: 2, 32: 3, 64: -1, 128: -1} {
		if got := p.class(c); got != want {
			t.Errorf("class(%d) = %d, want %d", c, got, want)
		}
	}
	s := append(p.get(2), 1, 2, 3)
	p.put(s)
	p.put(make([]int64, 0, 12)) // of no class: dropped
	p.put(make([]int64, 0, 64)) // above the classes: dropped
	if p.elems() != 16 || len(p.classes[2].free) != 1 {
		t.Fatalf("after three puts: %d elements, class 2 holds %d buffers; want 16 and 1", p.elems(), len(p.classes[2].free))
	}
	if len(p.get(1)) != 0 || len(p.classes[2].free) != 1 {
		t.Errorf("get(1) took the buffer of class 2")
	}
	if r := p.get(2); len(r) != 0 || &r[:1][0] != &s[0] || p.elems() != 0 {
		t.Errorf("get(2) after put did not reuse the buffer, or left %d elements counted", p.elems())
	}
	// The budget is for all the classes together: class 3 filled to it,
	// class 2 takes nothing more.
	for range poolMaxElems / 32 {
		p.put(make([]int64, 0, 32))
	}
	p.put(make([]int64, 0, 16))
	if p.elems() != poolMaxElems || len(p.classes[2].free) != 0 {
		t.Errorf("pool holds %d elements, %d of them in class 2; want %d, none", p.elems(), len(p.classes[2].free), poolMaxElems)
	}
}

func TestBitmap(t *testing.T) {
	var m bitmap
	want := make([]bool, 200)
	for i := range want {
		want[i] = i%3 == 0 || i == 64 || i == 127
		m = m.set(i, want[i])
	}
	for i, w := range want {
		if got := m.get(i); got != w {
			t.Errorf("bit %d = %v, want %v", i, got, w)
		}
	}
	if len(m) != 4 {
		t.Errorf("200 bits use %d words, want 4", len(m))
	}
}

// TestRegistryColumns checks that the three groups are registered in
// order after flow_meta and that every column is documented.
func TestRegistryColumns(t *testing.T) {
	want := []string{"flow_meta", "timing", "size", "tcp"}
	if got := Names(); !slices.Equal(got[:min(len(got), 4)], want) {
		t.Errorf("Names() = %v, want prefix %v", got, want)
	}
	for _, g := range Registry[1:min(len(Registry), 4)] {
		if g.Description == "" {
			t.Errorf("group %s has no description", g.Name)
		}
		seen := map[string]bool{}
		for _, c := range AllColumns(g) {
			if c.Group != g.Name || c.Description == "" || c.Privacy != output.Safe {
				t.Errorf("column %+v: want group %s, a description, privacy safe", c, g.Name)
			}
			if c.Direction != "" && c.Direction != "both" && c.Direction != "fwd" && c.Direction != "bwd" {
				t.Errorf("column %s: direction %q", c.Name, c.Direction)
			}
			if seen[c.Name] {
				t.Errorf("column %s twice", c.Name)
			}
			seen[c.Name] = true
		}
	}
}

// names returns the column names of ex.
func names(ex Extractor) []string {
	var ns []string
	for _, c := range ex.Columns() {
		ns = append(ns, c.Name)
	}
	return ns
}

// expand turns the contract's shorthand "pkt_len_fwd_min, _max" into full
// names: a name starting with "_" takes the stem of the previous name.
func expand(short ...string) []string {
	var out []string
	stem := ""
	for _, s := range short {
		if s[0] == '_' {
			s = stem + s
		} else if i := lastUnderscore(s); i > 0 {
			stem = s[:i]
		}
		out = append(out, s)
	}
	return out
}

func lastUnderscore(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '_' {
			return i
		}
	}
	return -1
}

func checkNames(t *testing.T, ex Extractor, want []string) {
	t.Helper()
	if got := names(ex); !slices.Equal(got, want) {
		t.Errorf("%s columns =\n%v\nwant\n%v", ex.Name(), got, want)
	}
}

// steadyState runs rounds of flows through ex (Observe, then Emit of
// every flow, then a batch Reset) and reports the allocations of one
// round once warm.
func steadyState(ex Extractor, flows, perFlow int) float64 {
	ps := make([]decode.Packet, flows*perFlow)
	rs := make([]Ref, 0, len(ps))
	for i := range ps {
		f, k := i%flows, i/flows
		ps[i] = decode.Packet{
			Timestamp: t0 + int64(i)*1_000_003 + int64(f%7)*50_000_000*int64(k%3),
			Length:    uint32(40 + (i*37)%1460),
			Payload:   uint32((i * 37) % 1460),
			Proto:     6,
			Flags:     decode.FlagTCP,
			TCPFlags:  decode.TCPAck | decode.TCPFlags(k%2)*decode.TCPPsh,
			Seq:       uint32(k * 1000),
			Ack:       uint32(k / 2),
			Window:    1000,
		}
		rs = append(rs, Ref{Slot: uint32(f), Dir: Dir(k % 2), New: k == 0, Index: uint64(i), Pkt: &ps[i]})
	}
	b := output.NewBatch(ex.Columns())
	fl := &Flow{Proto: 6}
	round := func() {
		for lo := 0; lo < len(rs); lo += 256 {
			ex.Observe(rs[lo:min(lo+256, len(rs))])
		}
		for f := 0; f < flows; f++ {
			ex.Emit(uint32(f), fl, b, 0)
			b.EndRow()
		}
		b.Reset()
	}
	round()
	return testing.AllocsPerRun(20, round)
}

// benchObserve measures, per packet, Observe alone ("observe": the Emit
// that frees the flows is run with the timer stopped) and Observe plus the
// Emit of every flow ("observe+emit"), for short and long flows. One round
// runs before timing, so pools and batch buffers are warm.
func benchObserve(b *testing.B, ex Extractor) {
	for _, mode := range []string{"observe", "observe+emit"} {
		for _, perFlow := range []int{4, 32, 256} {
			b.Run(fmt.Sprintf("%s/pkts_per_flow=%d", mode, perFlow), func(b *testing.B) {
				flows := 8192 / perFlow
				ps := make([]decode.Packet, flows*perFlow)
				rs := make([]Ref, len(ps))
				next := make([][2]uint32, flows) // per flow and direction
				for i := range ps {
					f, k := i%flows, i/flows
					d := Dir(k % 2)
					pay := uint32((i * 131) % 1460)
					seq := next[f][d]
					if k%16 == 15 {
						seq -= pay // re-send the bytes just before next expected
					} else {
						next[f][d] += pay
					}
					ps[i] = decode.Packet{
						Timestamp: t0 + int64(i)*997_001 + int64(k%5)*20_000_000,
						Length:    40 + pay,
						Payload:   pay,
						Proto:     6,
						Flags:     decode.FlagTCP,
						TCPFlags:  decode.TCPAck | decode.TCPFlags(k%2)*decode.TCPPsh,
						Seq:       seq,
						Ack:       next[f][1-d],
						Window:    1000,
					}
					rs[i] = Ref{Slot: uint32(f), Dir: d, New: k == 0, Index: uint64(i), Pkt: &ps[i]}
				}
				out := output.NewBatch(ex.Columns())
				fl := &Flow{Proto: 6}
				observe := func() {
					for lo := 0; lo < len(rs); lo += 256 {
						ex.Observe(rs[lo:min(lo+256, len(rs))])
					}
				}
				emit := func() {
					for f := 0; f < flows; f++ {
						ex.Emit(uint32(f), fl, out, 0)
						out.EndRow()
					}
					out.Reset()
				}
				observe()
				emit()
				b.ReportAllocs()
				for b.Loop() {
					observe()
					if mode == "observe" {
						b.StopTimer()
						emit()
						b.StartTimer()
					} else {
						emit()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rs)), "ns/packet")
			})
		}
	}
}

// TestExtremes feeds hostile values (lengths near 2^32, timestamps decades
// apart and out of order, random sequence numbers) to every extractor:
// nothing may panic, and no column may be NaN or Inf.
func TestExtremes(t *testing.T) {
	big := []tp{
		{ts: -t0, length: math.MaxUint32, payload: math.MaxUint32, tcp: true, flags: 0xFF, seq: math.MaxUint32},
		{ts: 1 << 62, dir: Bwd, length: math.MaxUint32, payload: math.MaxUint32 - 1, tcp: true, seq: 0, ack: math.MaxUint32, win: math.MaxUint16},
		{ts: 0, length: 0, tcp: true, flags: fSYN | fFIN | fRST, seq: 1 << 31},
		{ts: 1<<62 + 1, dir: Bwd, length: 1, payload: 1, tcp: true, flags: fACK, seq: 1<<31 + 1},
		{ts: -t0, length: math.MaxUint32, payload: 0},
	}
	o := Options{BurstThresholdMs: 1e-9, IncludeRawSequences: true, IncludeSPLT: true, MaxSequenceLength: 7}
	for _, ex := range []Extractor{NewTiming(o), NewSize(o), NewTCP(o)} {
		for n := 0; n <= len(big); n++ {
			if n > 0 {
				ex.Observe(refs(5, big[:n]))
			}
			finite(t, emitRow(t, ex, 5, &Flow{Proto: 6}))
		}
	}
}

// TestColumnNumbers checks the constant counts of numbers that timing,
// size and tcp cut their colWriter's row to: a count too small fails
// their Emit, but one too large would let them write into the next
// extractor's columns.
func TestColumnNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		cols []output.Column
		n    int
	}{
		{"timing", timingColumns, timingNumbers},
		{"size", sizeColumns, sizeNumbers},
		{"tcp", tcpColumns, tcpNumbers},
	} {
		if got := numbers(c.cols); got != c.n {
			t.Errorf("%s: %d of its columns hold numbers, its constant says %d", c.name, got, c.n)
		}
	}
	// Their optional columns are lists, which hold no numbers.
	for _, cols := range [][]output.Column{timingRawColumns, timingSPLTColumns, sizeRawColumns} {
		if n := numbers(cols); n != 0 {
			t.Errorf("optional columns %s...: %d numbers, want none", cols[0].Name, n)
		}
	}
}
