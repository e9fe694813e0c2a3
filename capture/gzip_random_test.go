package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// TestGzipRandomCodes decodes streams from a small deflate encoder of its
// own, which writes what ordinary encoders rarely do: dynamic blocks with
// random complete codes of up to 15 bits (so that jj's subtables are
// used), a single distance code of one bit, no distance code at all,
// symbols of the most bits jj's fast loop decodes in a step, fixed-code
// blocks, stored blocks of 0 to 65535 bytes, matches of every length and
// distance, reaching back across blocks, and several members a file of a
// few megabytes (so that jj's buffers slide and refill many times). The
// encoder picks the symbols, so it knows the plaintext: jj must give it,
// reading the file whole, in chunks of random sizes and through
// iotest.DataErrReader, and so must compress/gzip; and a cut file must
// give a prefix of it and a truncated error, as the libraries do.
func TestGzipRandomCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x6a6a, 0x677a))
	var stats rcStats
	for file := range 2 {
		e := &rcEncoder{rng: rng, stats: &stats}
		for len(e.plain) < 2_500_000 {
			// Mostly members smaller than jj's output buffer, whose cuts
			// are cheap to check, and now and then one of more than a
			// megabyte.
			size := rng.IntN(300_000)
			if rng.IntN(4) == 0 {
				size = rng.IntN(1_500_000)
			}
			e.member(size)
		}
		data, plain := e.out, e.plain
		t.Logf("file %d: %d members, %d bytes, %d decoded", file, len(e.ends), len(data), len(plain))
		name := func(s string) string { return fmt.Sprintf("file %d, %s", file, s) }

		for _, mode := range []struct {
			name string
			src  io.Reader
		}{
			{"whole", bytes.NewReader(data)},
			{"random chunks", &rcChunkReader{rng: rng, data: data}},
			{"iotest.DataErrReader", iotest.DataErrReader(bytes.NewReader(data))},
		} {
			got, err := gunzipWith(mode.src, jjGunzip)
			if err != io.EOF || !bytes.Equal(got, plain) {
				t.Fatalf("%s: %d bytes and %v, want the encoder's %d bytes (same for the first %d)",
					name(mode.name), len(got), err, len(plain), rcCommon(got, plain))
			}
		}
		if got, err := gunzipWith(bytes.NewReader(data), stdGunzip); err != io.EOF || !bytes.Equal(got, plain) {
			t.Fatalf("%s: compress/gzip: %d bytes and %v, want the encoder's %d bytes", name("whole"), len(got), err, len(plain))
		}

		// Cuts. Decoding a cut from the start of its member rather than of
		// the file gives the same bytes and error, at a fraction of the
		// cost; a few are decoded from the start of the file all the same.
		for i := range 200 {
			n := rng.IntN(len(data) + 1)
			m := 0 // the member the cut falls in
			for m < len(e.ends) && e.ends[m] <= n {
				m++
			}
			from, plainFrom := 0, 0
			if m > 0 && i%25 != 0 {
				from, plainFrom = e.ends[m-1], e.plainEnds[m-1]
			}
			cut := data[from:n]
			got, err := gunzipWith(bytes.NewReader(cut), jjGunzip)
			want, wantErr := gunzipWith(bytes.NewReader(cut), libGunzip)
			if msg := sameGunzip(cut, got, err, want, wantErr); msg != "" {
				t.Fatalf("%s: cut at %d of %d, read from %d: %s", name("cut"), n, len(data), from, msg)
			}
			class := "truncated"
			if n == from || m > 0 && n == e.ends[m-1] {
				class = "ok" // no member, or only whole ones
			}
			if gzipClass(err) != class || !bytes.HasPrefix(plain[plainFrom:], got) {
				t.Fatalf("%s: cut at %d of %d, read from %d: %d bytes and %v (%s), want a prefix of the plaintext and %s",
					name("cut"), n, len(data), from, len(got), err, gzipClass(err), class)
			}
		}
	}
	t.Logf("%+v", stats)
	// The encoder wrote what the test is for.
	for _, c := range []struct {
		what string
		n    int
	}{
		{"literal/length codes longer than 11 bits", stats.longLit},
		{"distance codes longer than 8 bits", stats.longDist},
		{"single distance codes of one bit", stats.singleDist},
		{"literal-only blocks without distance codes", stats.noDist},
		{"blocks of the costliest symbols", stats.costly},
		{"blocks whose only code is end of block's", stats.endOnly},
		{"fixed-code blocks", stats.fixed},
		{"empty stored blocks", stats.stored0},
		{"stored blocks of 65535 bytes", stats.stored65535},
		{"matches at distance 1", stats.dist1},
		{"matches at distance 2 to 7", stats.dist2to7},
		{"matches at distance 32768", stats.dist32768},
		{"matches of length 3", stats.len3},
		{"matches of length 258", stats.len258},
		{"matches reaching into an earlier block", stats.acrossBlocks},
		{"members", stats.members},
	} {
		if c.n == 0 {
			t.Errorf("the encoder wrote no %s", c.what)
		}
	}
}

// rcStats counts what the encoder wrote.
type rcStats struct {
	dynamic, costly, endOnly, fixed, stored, members int
	longLit, longDist, singleDist, noDist            int
	stored0, stored65535                             int
	dist1, dist2to7, dist32768, len3, len258         int
	acrossBlocks                                     int
}

// rcEncoder writes gzip members of random deflate blocks.
type rcEncoder struct {
	rng   *rand.Rand
	stats *rcStats
	out   []byte // the file so far
	acc   uint64 // bits not yet in out, the first lowest
	nacc  uint
	plain []byte // what the file decodes to

	memberStart, blockStart int   // in plain
	ends, plainEnds         []int // each member's end in out and in plain
}

// bits writes the n low bits of v, lowest first.
func (e *rcEncoder) bits(v uint32, n uint) {
	e.acc |= uint64(v) << e.nacc
	e.nacc += n
	for e.nacc >= 8 {
		e.out = append(e.out, byte(e.acc))
		e.acc >>= 8
		e.nacc -= 8
	}
}

// align writes zero bits up to the next byte boundary.
func (e *rcEncoder) align() { e.bits(0, (8-e.nacc)%8) }

// rcCode is a Huffman code: each symbol's code length (0 for none) and its
// code, bit reversed, since deflate writes codes from their highest bit.
type rcCode struct {
	lens  []uint8
	codes []uint16
}

// newRCCode assigns the canonical codes of RFC 1951, 3.2.2: shorter codes
// first, and codes of a length in symbol order.
func newRCCode(lens []uint8) rcCode {
	var count, next [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	c := rcCode{lens: lens, codes: make([]uint16, len(lens))}
	for sym, l := range lens {
		if l > 0 {
			c.codes[sym] = bits.Reverse16(uint16(next[l])) >> (16 - l)
			next[l]++
		}
	}
	return c
}

func (e *rcEncoder) sym(c rcCode, s int) {
	if c.lens[s] == 0 {
		panic("rcEncoder: symbol without a code")
	}
	e.bits(uint32(c.codes[s]), uint(c.lens[s]))
}

// rcRandomLengths gives the symbols syms (two or more) the code lengths of a
// random complete prefix code of at most maxLen bits. It grows the code's
// tree from a single leaf, splitting a random leaf, the deepest (which
// makes a few very long codes) or the shallowest (which keeps the code
// balanced), in proportions drawn for each code.
func rcRandomLengths(rng *rand.Rand, lens []uint8, syms []int, maxLen uint8) {
	depth := []uint8{0}
	deep, shallow := rng.IntN(4), rng.IntN(4) // in eighths; the rest random
	for len(depth) < len(syms) {
		i := -1
		switch r := rng.IntN(8); {
		case r < deep:
			for j, d := range depth {
				if d < maxLen && (i < 0 || d > depth[i]) {
					i = j
				}
			}
		case r < deep+shallow:
			for j, d := range depth {
				if i < 0 || d < depth[i] {
					i = j
				}
			}
		default:
			for i < 0 || depth[i] == maxLen {
				i = rng.IntN(len(depth))
			}
		}
		depth[i]++
		depth = append(depth, depth[i])
	}
	rng.Shuffle(len(depth), func(i, j int) { depth[i], depth[j] = depth[j], depth[i] })
	for k, s := range syms {
		lens[s] = depth[k]
	}
}

// member writes a gzip member of blocks until its plaintext is at least
// size bytes.
func (e *rcEncoder) member(size int) {
	e.out = append(e.out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)
	e.memberStart = len(e.plain)
	for final := false; !final; {
		final = len(e.plain)-e.memberStart >= size
		e.blockStart = len(e.plain)
		switch r := e.rng.IntN(10); {
		case r < 6:
			e.dynamicBlock(final)
		case r < 8:
			e.fixedBlock(final)
		default:
			e.storedBlock(final)
		}
	}
	e.align()
	p := e.plain[e.memberStart:]
	e.out = binary.LittleEndian.AppendUint32(e.out, crc32.ChecksumIEEE(p))
	e.out = binary.LittleEndian.AppendUint32(e.out, uint32(len(p)))
	e.ends = append(e.ends, len(e.out))
	e.plainEnds = append(e.plainEnds, len(e.plain))
	e.stats.members++
}

func rcFinal(final bool) uint32 {
	if final {
		return 1
	}
	return 0
}

// storedBlock writes a stored block of random bytes.
func (e *rcEncoder) storedBlock(final bool) {
	e.stats.stored++
	var n int
	switch e.rng.IntN(4) {
	case 0:
		n = 0
		e.stats.stored0++
	case 1:
		n = 65535
		e.stats.stored65535++
	case 2:
		n = 1 + e.rng.IntN(100)
	default:
		n = e.rng.IntN(65536)
	}
	e.bits(rcFinal(final), 1)
	e.bits(0, 2)
	e.align()
	e.out = binary.LittleEndian.AppendUint16(e.out, uint16(n))
	e.out = binary.LittleEndian.AppendUint16(e.out, ^uint16(n))
	for i := 0; i < n; i += 8 {
		e.plain = binary.LittleEndian.AppendUint64(e.plain, e.rng.Uint64())
	}
	e.plain = e.plain[:len(e.plain)-(-n&7)]
	e.out = append(e.out, e.plain[len(e.plain)-n:]...)
}

// rcFixed is the fixed literal/length code of RFC 1951, 3.2.6.
var rcFixed = func() rcCode {
	lens := fixedLitLens()
	return newRCCode(lens[:])
}()

// fixedBlock writes a block of the fixed codes, which take every symbol.
func (e *rcEncoder) fixedBlock(final bool) {
	var lits, lengths, dists []int
	for s := range 256 {
		lits = append(lits, s)
	}
	for s := 257; s < 286; s++ {
		lengths = append(lengths, s)
	}
	for s := range 30 {
		dists = append(dists, s)
	}
	dlens := make([]uint8, 30)
	for i := range dlens {
		dlens[i] = 5
	}
	e.bits(rcFinal(final), 1)
	e.bits(1, 2)
	e.body(rcFixed, newRCCode(dlens), lits, lengths, dists, false)
	e.stats.fixed++
}

// dynamicBlock writes a block of one of these kinds:
//   - literal-only: a random code for some literals and end of block, and no
//     distance code at all;
//   - a random code for some literals, lengths and end of block, and a
//     single distance code of one bit;
//   - the costliest symbols of jj's fast loop (see below);
//   - random codes for some of each alphabet's symbols;
//
// and, rarely, an empty block whose only code is end of block's (of one bit).
func (e *rcEncoder) dynamicBlock(final bool) {
	rng := e.rng
	lens := make([]uint8, 286)
	dlens := make([]uint8, 30)
	var lits, lengths, dists []int
	kind := rng.IntN(10)
	if kind == 2 || kind == 3 {
		// The symbols that take the most bits a step of jj's fast loop
		// decodes, to come near the most input it reads in a step:
		// literals of 11-bit codes, the longest it decodes three of at a
		// step, and lengths and distances of 15-bit codes with the most
		// extra bits. The rest of each code goes to end of block and to
		// symbols that are not used.
		lits = rng.Perm(256)[:3+rng.IntN(200)]
		lengths = []int{281, 282, 283, 284}
		dists = []int{26, 27, 28, 29}
		for _, s := range lits {
			lens[s] = 11
		}
		for _, s := range lengths {
			lens[s] = 15
		}
		for _, s := range dists {
			dlens[s] = 15
		}
		rcComplete(lens, append([]int{256}, rng.Perm(286)...))
		rcComplete(dlens, rng.Perm(30))
		e.stats.costly++
	} else {
		// The literal and length symbols with codes, besides end of block.
		var cands []int
		for s := range 286 {
			if s != 256 && (kind > 0 || s < 256) {
				cands = append(cands, s)
			}
		}
		rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		cands = cands[:1+rng.IntN(len(cands))]
		if rng.IntN(50) == 0 {
			cands = nil
		}
		for _, s := range cands {
			if s < 256 {
				lits = append(lits, s)
			} else {
				lengths = append(lengths, s)
			}
		}
		if len(cands) == 0 {
			lens[256] = 1
			e.stats.endOnly++
		} else {
			rcRandomLengths(rng, lens, append(cands, 256), 15)
		}
		switch kind {
		case 0:
			e.stats.noDist++
		case 1:
			// For a distance at hand, when there is any history.
			s := rng.IntN(30)
			if h := len(e.plain) - e.memberStart; h > 0 {
				for int(distBase[s]) > h {
					s = rng.IntN(30)
				}
			}
			dlens[s] = 1
			dists = []int{s}
			e.stats.singleDist++
		default:
			dists = rng.Perm(30)[:2+rng.IntN(29)]
			rcRandomLengths(rng, dlens, dists, 15)
		}
	}

	// The header: how many lengths of each code follow, all of them as
	// one sequence encoded with the code-length code, with repeats that
	// may cross from one code's lengths to the other's.
	nlit := 257
	for s, l := range lens {
		if l > 0 {
			nlit = max(nlit, s+1)
		}
	}
	nlit += rng.IntN(287 - nlit)
	ndist := 1
	for s, l := range dlens {
		if l > 0 {
			ndist = max(ndist, s+1)
		}
	}
	ndist += rng.IntN(31 - ndist)
	all := append(slices.Clone(lens[:nlit]), dlens[:ndist]...)
	type clSym struct {
		sym, extra int
		n          uint // bits of extra
	}
	var seq []clSym
	for i := 0; i < len(all); {
		v, run := all[i], 1
		for i+run < len(all) && all[i+run] == v {
			run++
		}
		switch {
		case v == 0 && run >= 3 && rng.IntN(4) > 0:
			n := 3 + rng.IntN(min(run, 138)-2)
			if n >= 11 {
				seq = append(seq, clSym{18, n - 11, 7}) // 11 to 138 zeros
			} else {
				seq = append(seq, clSym{17, n - 3, 3}) // 3 to 10 zeros
			}
			i += n
		case i > 0 && all[i-1] == v && run >= 3 && rng.IntN(4) > 0:
			n := 3 + rng.IntN(min(run, 6)-2)
			seq = append(seq, clSym{16, n - 3, 2}) // the last length 3 to 6 times
			i += n
		default:
			seq = append(seq, clSym{int(v), 0, 0})
			i++
		}
	}
	// The code-length code: a random complete code of up to 7 bits for
	// the symbols used (and another when only one is).
	var used []int
	for _, s := range seq {
		if !slices.Contains(used, s.sym) {
			used = append(used, s.sym)
		}
	}
	if len(used) == 1 {
		used = append(used, (used[0]+1+rng.IntN(18))%19)
	}
	plens := make([]uint8, 19)
	rcRandomLengths(rng, plens, used, 7)
	pre := newRCCode(plens)
	nclen := 4
	for i, s := range precodeOrder {
		if plens[s] > 0 {
			nclen = max(nclen, i+1)
		}
	}
	nclen += rng.IntN(20 - nclen)

	e.bits(rcFinal(final), 1)
	e.bits(2, 2)
	e.bits(uint32(nlit-257), 5)
	e.bits(uint32(ndist-1), 5)
	e.bits(uint32(nclen-4), 4)
	for _, s := range precodeOrder[:nclen] {
		e.bits(uint32(plens[s]), 3)
	}
	for _, s := range seq {
		e.sym(pre, s.sym)
		e.bits(uint32(s.extra), s.n)
	}
	e.body(newRCCode(lens), newRCCode(dlens), lits, lengths, dists, kind == 2 || kind == 3)
	e.stats.dynamic++
}

// body writes a Huffman block's symbols, each symbol with a code as likely
// as another, whatever its length, so that the longest codes are used as
// often as the shortest; and then the end of the block.
func (e *rcEncoder) body(ll, dc rcCode, lits, lengths, dists []int, costly bool) {
	rng := e.rng
	pMatch := [4]float64{0.02, 0.1, 0.3, 0.7}[rng.IntN(4)]
	// Mostly short blocks, for many blocks and matches across them.
	for i := range rng.IntN(1 + rng.IntN(2000)) {
		// Costly blocks repeat three literals and a match: the most bits
		// a step of jj's fast loop decodes, and then the most the next
		// step does.
		match := rng.Float64() < pMatch
		if costly {
			match = i%4 == 3
		}
		history := min(len(e.plain)-e.memberStart, gzipWindow)
		if match && len(lengths) > 0 && len(dists) > 0 {
			ds := dists[rng.IntN(len(dists))]
			if int(distBase[ds]) <= history {
				ls := lengths[rng.IntN(len(lengths))]
				lmax := 1<<lengthExtra[ls-257] - 1
				if ls == 284 {
					lmax-- // 284 could say 258, which RFC 1951 does not allow (285 is 258)
				}
				lx := rcExtra(rng, lmax)
				dx := rcExtra(rng, min(1<<distExtra[ds]-1, history-int(distBase[ds])))
				length, dist := int(lengthBase[ls-257])+lx, int(distBase[ds])+dx
				e.sym(ll, ls)
				e.bits(uint32(lx), uint(lengthExtra[ls-257]))
				e.sym(dc, ds)
				e.bits(uint32(dx), uint(distExtra[ds]))
				for range length {
					e.plain = append(e.plain, e.plain[len(e.plain)-dist])
				}
				e.stats.match(ll.lens[ls], dc.lens[ds], length, dist, len(e.plain)-length-e.blockStart)
				continue
			}
		}
		if len(lits) > 0 {
			s := lits[rng.IntN(len(lits))]
			e.sym(ll, s)
			e.plain = append(e.plain, byte(s))
			if ll.lens[s] > llBits {
				e.stats.longLit++
			}
		}
	}
	e.sym(ll, 256)
}

// rcComplete gives code lengths to symbols that have none, taken in
// order, to complete the code: the shortest that fits in what is left of
// the code space, until none is left.
func rcComplete(lens []uint8, order []int) {
	left := 1 << 15 // in codes of 15 bits
	for _, l := range lens {
		if l > 0 {
			left -= 1 << (15 - l)
		}
	}
	for _, s := range order {
		if left > 0 && lens[s] == 0 {
			l := 16 - bits.Len(uint(left))
			lens[s] = uint8(l)
			left -= 1 << (15 - l)
		}
	}
	if left != 0 {
		panic("rcComplete: too few symbols")
	}
}

// rcExtra returns a value of extra bits up to max: often the least or
// the most, else any.
func rcExtra(rng *rand.Rand, max int) int {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return max
	}
	return rng.IntN(max + 1)
}

// match counts a match of length at dist, whose codes have lengths ll
// and dl, written inBlock bytes after the start of its block.
func (s *rcStats) match(ll, dl uint8, length, dist, inBlock int) {
	if ll > llBits {
		s.longLit++
	}
	if dl > distBits {
		s.longDist++
	}
	switch {
	case dist == 1:
		s.dist1++
	case dist < 8:
		s.dist2to7++
	case dist == gzipWindow:
		s.dist32768++
	}
	switch length {
	case 3:
		s.len3++
	case 258:
		s.len258++
	}
	if dist > inBlock {
		s.acrossBlocks++
	}
}

// rcChunkReader returns data in chunks of random sizes, 1 to 70000 bytes,
// mostly small, and now and then nothing (0, nil). Each chunk ends jj's
// input for a while: its fast loop must stop short of it.
type rcChunkReader struct {
	rng  *rand.Rand
	data []byte
}

func (r *rcChunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.rng.IntN(10) == 0 {
		return 0, nil
	}
	n := 1 + r.rng.IntN([5]int{8, 100, 300, 3000, 70_000}[r.rng.IntN(5)])
	n = copy(p, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	return n, nil
}

// rcCommon is how many bytes a and b have in common at their start.
func rcCommon(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
