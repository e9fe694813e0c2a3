package extract

import (
	"sync"

	"github.com/jjflow/jj/internal/mem"
)

// slab is per-slot state in fixed chunks: growing never copies, and never
// holds an old and a new array at once as append's doubling does, so the
// memory of a table of flows stays close to what the flows use.
type slab[T any] struct {
	chunks []*[1 << slabBits]T // arrays, so that at tests one bound, not two
	used   uint32              // one past the highest slot reserve or get made room for
	spares spares              // zeroed chunks of released slabs of T (release), or nil
}

// spares keeps chunks for later slabs: a *sync.Pool (tests use their own).
type spares interface {
	Get() any
	Put(any)
}

var _ spares = (*sync.Pool)(nil)

const (
	slabBits = 12
	slabMask = 1<<slabBits - 1
)

// at returns slot i's state, which reserve or get has made room for. It
// is inlined: the extractors' Observe calls it several times a packet.
func (s *slab[T]) at(i uint32) *T {
	return &s.chunks[i>>slabBits][i&slabMask]
}

// has reports whether room was made for slot i's state, so that at may be
// called.
func (s *slab[T]) has(i uint32) bool { return int(i>>slabBits) < len(s.chunks) }

// get returns slot i's state, making room for it if needed; new state is
// zero.
func (s *slab[T]) get(i uint32) *T {
	s.used = max(s.used, i+1)
	if int(i>>slabBits) >= len(s.chunks) {
		s.grow(int(i >> slabBits))
	}
	return s.at(i)
}

// reserve makes room for the slot of every ref, so that Observe can use
// at.
func (s *slab[T]) reserve(refs []Ref) {
	var m uint32
	for i := range refs {
		m = max(m, refs[i].Slot)
	}
	s.used = max(s.used, m+1)
	if int(m>>slabBits) >= len(s.chunks) {
		s.grow(int(m >> slabBits))
	}
}

// grow adds chunks up to chunk c, kept out of line so that get stays small.
//
//go:noinline
func (s *slab[T]) grow(c int) {
	for c >= len(s.chunks) {
		var chunk *[1 << slabBits]T
		if s.spares != nil {
			chunk, _ = s.spares.Get().(*[1 << slabBits]T)
		}
		if chunk == nil {
			chunk = new([1 << slabBits]T)
			mem.Prefault(chunk[:]) // a slot's first access is often a read
		}
		s.chunks = append(s.chunks, chunk)
	}
}

// release empties the slab, its chunks given to its spares for a later
// slab of T, cleared as far as slots were used: a run with Config.PerFile
// builds its extractors afresh for each file, and a small file's state
// chunks (4 096 slots, 720 KB of TCP state) were most of what its
// extractors allocated, and most of the clearing.
func (s *slab[T]) release() {
	if s.spares != nil {
		for k, c := range s.chunks {
			n := int(s.used) - k<<slabBits
			clear(c[:min(max(n, 0), len(c))])
			s.spares.Put(c)
		}
	}
	s.chunks, s.used = nil, 0
}
