package extract

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
