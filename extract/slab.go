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
		chunk := make([]T, 1<<slabBits)
		prefault(chunk)
		s.chunks = append(s.chunks, chunk)
	}
	return &s.chunks[c][i&slabMask]
}

// prefault writes a zero byte to every 4 KiB of s, fresh from make, so
// that its pages are allocated by one write fault each now. Otherwise the
// first access to a flow's state is often a read (is this slot clean?
// prefetch its series), which maps the shared zero page, and the write
// that follows faults again to copy it, with a TLB flush on every other
// CPU running the process: in the profile of --features all with two
// workers, 8 % of all CPU time went to those copy faults and their
// inter-processor interrupts.
func prefault[T any](s []T) {
	n := len(s) * int(unsafe.Sizeof(s[0]))
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	for i := 0; i < n; i += 4096 {
		b[i] = 0
	}
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
