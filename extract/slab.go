package extract

import "github.com/jjflow/jj/internal/mem"

// slab is per-slot state in fixed chunks: growing never copies, and never
// holds an old and a new array at once as append's doubling does, so the
// memory of a table of flows stays close to what the flows use.
type slab[T any] struct {
	chunks [][]T
}

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
	if int(m>>slabBits) >= len(s.chunks) {
		s.grow(int(m >> slabBits))
	}
}

// grow adds chunks up to chunk c, kept out of line so that get stays small.
//
//go:noinline
func (s *slab[T]) grow(c int) {
	for c >= len(s.chunks) {
		chunk := make([]T, 1<<slabBits)
		mem.Prefault(chunk) // a slot's first access is often a read
		s.chunks = append(s.chunks, chunk)
	}
}
