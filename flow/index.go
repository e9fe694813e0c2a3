package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// index maps flow keys to slots: open addressing with linear probing over
// a power-of-two array of (hash, slot) pairs. It replaces a Go map on the
// hot path: a probe compares 32-bit hashes in one cache line and the full
// key only on a hash match, with the key read from the slot entry the
// caller needs next anyway. Deletion shifts later entries back (no
// tombstones), so lookups never slow down as flows come and go.
type index struct {
	cells []cell
	mask  uint64
	n     int
	arena *arena // where cells come from; nil: the heap
}

type cell struct {
	hash uint32 // 0 means empty
	slot uint32
}

func newIndex(a *arena) index {
	return index{cells: allocSlice[cell](a, 1024), mask: 1023, arena: a}
}

// Len returns the number of keys.
func (x *index) Len() int { return x.n }

// seed keys hashKey. It is drawn afresh by every process, so that nobody
// can craft a capture (or live traffic) whose flows all land in one probe
// cluster: with a fixed hash, 30 000 such flows took 0.8-1 s to add
// instead of 0.02-0.04 s, and the cost grows with the square of their
// number.
// Nothing jj writes depends on it: the hash places a flow in the index and
// picks its worker, and rows come out in the same order whatever the
// worker (TestSeedDoesNotChangeRows).
var seed = newSeed()

func newSeed() [3]uint64 {
	return [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}
}

// hashKey mixes a key into a non-zero 32-bit hash, keyed by seed: a
// multiply-and-fold in the manner of wyhash, which the Go runtime uses for
// its maps where AES instructions are missing.
func hashKey(k *Key) uint32 {
	a0 := binary.LittleEndian.Uint64(k.A[:8])
	a1 := binary.LittleEndian.Uint64(k.A[8:])
	b0 := binary.LittleEndian.Uint64(k.B[:8])
	b1 := binary.LittleEndian.Uint64(k.B[8:])
	return hashWords(a0, a1, b0, b1, k.PA, k.PB, k.Proto, k.V6)
}

// hashWords is hashKey of the key whose addresses A and B are the
// little-endian words a0, a1 and b0, b1: Keyed.Set hashes the words it
// has in registers, rather than load them back from the key it stored.
func hashWords(a0, a1, b0, b1 uint64, pa, pb uint16, proto uint8, v6 bool) uint32 {
	s0, s1, s2 := seed[0], seed[1], seed[2]
	rest := uint64(pa)<<24 | uint64(pb)<<8 | uint64(proto)
	if v6 {
		rest |= 1 << 40
	}
	h1, l1 := bits.Mul64(a0^s0, b0^s1)
	h2, l2 := bits.Mul64(a1^s2, b1^s0)
	h3, l3 := bits.Mul64(rest^s1, (h1^l2)^s2)
	h := h3 ^ l3 ^ l1 ^ h2
	h ^= h >> 32
	if uint32(h) == 0 {
		return 1
	}
	return uint32(h)
}

// find returns the slot of k and its entry in keys, or a nil entry: the
// caller then has the entry without looking its slot up again.
func (x *index) find(k *Key, h uint32, keys *slab[entry]) (uint32, *entry) {
	for i := uint64(h) & x.mask; ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c.hash == 0 {
			return 0, nil
		}
		if c.hash == h {
			if e := keys.at(c.slot); e.key.equal(k) {
				return c.slot, e
			}
		}
	}
}

// probe returns the slot of the first of the four cells from h's home
// that holds hash h, stopping at an empty cell, for AddBatch to prefetch
// that flow's entry: most likely the flow of a key hashing to h, where
// the home cell is another flow's whenever an earlier key took it. The
// few flows further from home (about 1 % at 100 000 flows) get no
// prefetch, as they got a useless one before.
func (x *index) probe(h uint32) (uint32, bool) {
	i := uint64(h) & x.mask
	for range 4 {
		c := x.cells[i]
		if c.hash == h {
			return c.slot, true
		}
		if c.hash == 0 {
			break
		}
		i = (i + 1) & x.mask
	}
	return 0, false
}

// insert adds a key known to be absent.
func (x *index) insert(h uint32, slot uint32) {
	if 2*(x.n+1) > len(x.cells) {
		x.grow()
	}
	i := uint64(h) & x.mask
	for x.cells[i].hash != 0 {
		i = (i + 1) & x.mask
	}
	x.cells[i] = cell{hash: h, slot: slot}
	x.n++
}

// clear removes every key.
func (x *index) clear() {
	clear(x.cells)
	x.n = 0
}

// remove deletes the cell holding slot (whose key hashes to h).
func (x *index) remove(h uint32, slot uint32) {
	i := uint64(h) & x.mask
	for x.cells[i].slot != slot || x.cells[i].hash != h {
		if x.cells[i].hash == 0 {
			return // not present
		}
		i = (i + 1) & x.mask
	}
	// Backward-shift: move later cells of the cluster into the hole when
	// their home position allows it.
	for {
		x.cells[i] = cell{}
		j := i
		for {
			j = (j + 1) & x.mask
			c := x.cells[j]
			if c.hash == 0 {
				x.n--
				return
			}
			home := uint64(c.hash) & x.mask
			// c may move to i if its home is not in (i, j] cyclically.
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				x.cells[i] = c
				i = j
				break
			}
		}
	}
}

func (x *index) grow() {
	old := x.cells
	defer freeSlice(x.arena, old)
	x.cells = allocSlice[cell](x.arena, 2*len(old))
	x.mask = uint64(len(x.cells) - 1)
	for _, c := range old {
		if c.hash == 0 {
			continue
		}
		i := uint64(c.hash) & x.mask
		for x.cells[i].hash != 0 {
			i = (i + 1) & x.mask
		}
		x.cells[i] = c
	}
}

// each calls fn for every slot, in table order.
func (x *index) each(fn func(slot uint32)) {
	for _, c := range x.cells {
		if c.hash != 0 {
			fn(c.slot)
		}
	}
}

// slab stores per-flow records (entries, wheel links) in fixed chunks, so
// that growing never copies the table and never holds an old and a new
// array at once (append's doubling would briefly need three times the live
// size). A chunk holds 16 384 records: for entries, 2 MiB, one huge page
// (mapAnon).
//
// Once the last chunk is half used, the next one is allocated on a
// goroutine of its own (ahead), so that the table does not wait for its
// pages: on this project's virtual machine the first write to fresh memory
// is slow, and allocating the entries' chunks took a quarter of the flow
// table's time with a million concurrent flows (about 4 ms a chunk, 0.5
// GB/s), on the goroutine every packet waits for.
type slab[T any] struct {
	chunks []*[1 << chunkBits]T // arrays, so that at tests one bound, not two
	n      int
	arena  *arena   // where chunks come from; nil: the heap
	ahead  chan []T // the next chunk, allocated on another goroutine; nil: not asked for
}

const (
	chunkBits = 14
	chunkMask = 1<<chunkBits - 1
)

// at returns record i, which must be below n.
func (s *slab[T]) at(i uint32) *T { return &s.chunks[i>>chunkBits][i&chunkMask] }

// add makes room for one more record and returns its index.
func (s *slab[T]) add() uint32 {
	if s.n&chunkMask == 1<<(chunkBits-1) {
		s.askAhead()
	}
	if s.n == len(s.chunks)<<chunkBits {
		s.grow()
	}
	s.n++
	return uint32(s.n - 1)
}

// askAhead starts allocating the next chunk on a goroutine of its own, if
// the slab has an arena. (The first chunk is allocated when the first
// record comes: a table of a few flows has one.)
//
//go:noinline
func (s *slab[T]) askAhead() {
	if s.ahead != nil || s.arena == nil {
		return
	}
	s.ahead = make(chan []T, 1)
	go func(a *arena, c chan<- []T) { c <- allocSlice[T](a, 1<<chunkBits) }(s.arena, s.ahead)
}

// grow adds a chunk: the one asked for ahead, or a new one.
//
//go:noinline
func (s *slab[T]) grow() {
	c := s.wait()
	if c == nil {
		c = allocSlice[T](s.arena, 1<<chunkBits)
	}
	s.chunks = append(s.chunks, (*[1 << chunkBits]T)(c))
}

// zeroUsed clears the records add handed out, the only ones written, so
// that the chunks go back to the arena's spares zero (Table.Release).
func (s *slab[T]) zeroUsed() {
	for k, c := range s.chunks {
		clear(c[:min(max(s.n-k<<chunkBits, 0), len(c))])
	}
}

// wait waits for a chunk asked for ahead, which the arena then holds, and
// returns it; nil if none was asked for.
func (s *slab[T]) wait() []T {
	if s.ahead == nil {
		return nil
	}
	c := <-s.ahead
	s.ahead = nil
	return c
}
