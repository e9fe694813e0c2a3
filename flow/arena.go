package flow

import (
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/jjflow/jj/internal/mem"
)

// arena hands out the table's large arrays (entry and link chunks, index
// cells, and at Close the lists of the flows it ends) from memory mapped
// outside the Go heap, where the system allows
// it. The garbage collector neither scans nor counts that memory, so the
// heap's growth headroom (GOGC, by default as much again as the live heap)
// applies only to the little the table keeps on the heap: a million flows
// cost the resident memory their entries take, not up to twice that. The
// types stored must hold no Go pointers (TestArenaTypesHoldNoPointers).
// The mappings go back when the table is released or garbage: to the
// spares, for the next table (up to spareBytes), or to the system.
//
// A slab's next chunk may be allocated on a goroutine of its own (slab.add),
// so the arena's record of its mappings is shared under a lock; once
// released, the arena maps nothing more.
type arena struct {
	mu       sync.Mutex
	maps     map[*byte][]byte // mapped regions, by their first byte
	released bool
	spares   *spareList // where released mappings go, and new ones come from
}

// newArena returns an arena whose mappings are released once owner is
// unreachable.
func newArena[O any](owner *O) *arena {
	a := &arena{maps: map[*byte][]byte{}, spares: spares}
	runtime.AddCleanup(owner, func(a *arena) { a.release() }, a)
	return a
}

// allocSlice returns n zero values of T, mapped when possible. A nil arena
// allocates on the heap. Either way the pages are allocated now, in one
// call on Linux (mem.Prefault): the table reads an index cell or a slot
// before it writes it.
func allocSlice[T any](a *arena, n int) []T {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if a != nil && size >= 64<<10 {
		b, clean := a.spares.take(size)
		switch {
		case b != nil && !clean:
			clear(b)
		case b == nil:
			if b = mapAnon(size); b != nil {
				mem.Prefault(b)
			}
		}
		if b != nil {
			// The pages first, then the record: once recorded, a
			// mapping may be unmapped by a release on another goroutine
			// (the table's cleanup while a chunk is on its way).
			a.mu.Lock()
			recorded := !a.released
			if recorded {
				a.maps[&b[0]] = b
			}
			a.mu.Unlock()
			if recorded {
				testHookRecorded(a)
				return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
			}
			a.spares.give(b, true)
		}
	}
	s := make([]T, n)
	mem.Prefault(s)
	return s
}

// testHookRecorded is called by allocSlice once the arena has recorded a
// mapping it returns.
var testHookRecorded = func(*arena) {}

// growArena returns s with room for n more values, moved to a slice from
// allocSlice if it has less. The old slice must not be used afterwards:
// if the arena mapped it, it goes back to the system.
func growArena[T any](a *arena, s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	g := allocSlice[T](a, len(s)+n)[:len(s)]
	copy(g, s)
	if cap(s) > 0 {
		freeSlice(a, s[:1])
	}
	return g
}

// freeSlice returns s, from allocSlice, to the system if it was mapped
// (not to the spares: a table's growth would then keep its old index
// resident). Nothing may use s afterwards.
func freeSlice[T any](a *arena, s []T) {
	if a == nil || len(s) == 0 {
		return
	}
	p := (*byte)(unsafe.Pointer(&s[0]))
	a.mu.Lock()
	b, ok := a.maps[p]
	delete(a.maps, p)
	a.mu.Unlock()
	if ok {
		unmapAnon(b)
	}
}

// release gives every mapping back (to the spares, or the system); the
// arena maps nothing afterwards.
func (a *arena) release() { a.releaseAs(false) }

// releaseAs is release, for a caller that has cleared every byte it wrote
// when clean is true: the spares then need no clearing when taken.
func (a *arena) releaseAs(clean bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.released = true
	for p, b := range a.maps {
		delete(a.maps, p)
		a.spares.give(b, clean)
	}
}

// mapped returns the bytes of the arena's mappings.
func (a *arena) mapped() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, b := range a.maps {
		n += len(b)
	}
	return n
}

// spareBytes bounds the mappings the process keeps for later tables.
const spareBytes = 16 << 20

// spares holds mappings released by tables, allocated and still resident,
// for the next tables to take (allocSlice clears those not known to be
// zero): a run with Config.PerFile makes a table a file, and mapping,
// allocating and giving back a table's first chunks cost about 0.3 ms
// (the unmapping flushes the other cores' TLBs by interrupts), as much as
// reading a small file. The latest spareBytes are kept; older ones go
// back to the system. (An arena keeps the list it was made with, so that
// a test can give its own tables a list of their own.)
var spares = new(spareList)

type spareList struct {
	mu    sync.Mutex
	maps  []spare
	bytes int
}

type spare struct {
	b     []byte
	clean bool // every byte zero
}

// take returns a spare mapping of size bytes, and whether it is zero; nil
// if there is none.
func (s *spareList) take(size int) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.maps) - 1; i >= 0; i-- {
		if m := s.maps[i]; len(m.b) == size {
			s.maps = slices.Delete(s.maps, i, i+1)
			s.bytes -= size
			return m.b, m.clean
		}
	}
	return nil, false
}

// give keeps b, a mapping from mapAnon, zero if clean, as a spare, and
// unmaps the oldest spares while they hold more than spareBytes (b too,
// if it alone is larger): a size no table asks for again does not keep
// its place for good.
func (s *spareList) give(b []byte, clean bool) {
	s.mu.Lock()
	s.maps = append(s.maps, spare{b, clean})
	s.bytes += len(b)
	n := 0
	for s.bytes > spareBytes {
		s.bytes -= len(s.maps[n].b)
		n++
	}
	old := slices.Clone(s.maps[:n])
	s.maps = slices.Delete(s.maps, 0, n)
	s.mu.Unlock()
	for _, m := range old {
		unmapAnon(m.b)
	}
}
