package extract

import (
	"unsafe"

	"github.com/jjflow/jj/internal/prefetch"
)

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

// at returns slot i's state, making room for it if needed; new state is
// zero.
func (s *slab[T]) at(i uint32) *T {
	c := int(i >> slabBits)
	for c >= len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, 1<<slabBits))
	}
	return &s.chunks[c][i&slabMask]
}

// prefetchAhead is how many packets ahead of the one it works on Observe
// prefetches per-flow state: far enough for a cache miss to complete
// (about 100 ns against tens of ns of work a packet), near enough that
// the line is still in cache when its packet comes.
const prefetchAhead = 8

// prefetchTail prefetches where the next element appended to s goes, when
// it fits in s's array.
func prefetchTail[T any](s []T) {
	if n := len(s); n < cap(s) {
		prefetch.Line(unsafe.Pointer(&s[:n+1][n]))
	}
}
