package extract

import (
	"unsafe"

	"github.com/jjflow/jj/internal/mem"
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
		chunk := make([]T, 1<<slabBits)
		mem.Prefault(chunk) // a slot's first access is often a read
		s.chunks = append(s.chunks, chunk)
	}
	return &s.chunks[c][i&slabMask]
}

// prefetchTail prefetches where the next element appended to s goes, when
// it fits in s's array.
func prefetchTail[T any](s []T) {
	if n := len(s); n < cap(s) {
		prefetch.Line(unsafe.Pointer(&s[:n+1][n]))
	}
}

// prefetchBit prefetches the word of m that bit i, the next one set, goes
// into.
func prefetchBit(m bitmap, i int) {
	prefetchTail(m[:min(i>>6, len(m))])
}
