//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line asks for the cache line holding p (PREFETCHT0, PRFM PLDL1KEEP).
//
//go:noescape
func Line(p unsafe.Pointer)

// Lines3 asks for the cache lines holding p, q and r: one call where three
// calls of Line would each cost a call and the spilling and reloading of
// the caller's registers around it.
//
//go:noescape
func Lines3(p, q, r unsafe.Pointer)

// Range asks for the n bytes from p, a cache line every stride bytes, into
// the core's second-level cache (PREFETCHT2, PRFM PLDL2KEEP), not the
// first as Line does: the capture walk reads a few lines of each record
// soon after, and with prefetches into the first level it took 20-28 %
// more time when walking alone (split reading) and 3-7 % more for a whole
// run on one CPU (bench/RESULTS.md, session 10). The range must lie
// within one allocation or mapping.
//
//go:noescape
func Range(p *byte, n int, stride int)

// Write3 asks for the cache lines holding p, q and r, to be written
// (PREFETCHW, PRFM PSTL1KEEP): lines another core last had are taken
// from it ahead of the stores. An amd64 processor without PREFETCHW
// (CPUID PRFCHW clear) gets PREFETCHT0, which only reads them in.
//
//go:noescape
func Write3(p, q, r unsafe.Pointer)
