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

// Range asks for every cache line of the n bytes at p (PREFETCHT0, PRFM
// PLDL1KEEP), a line every 64 bytes: one call for a block of a capture
// file ahead of the record walk. n may be 0.
//
//go:noescape
func Range(p unsafe.Pointer, n int)

// Write3 asks for the cache lines holding p, q and r, to be written
// (PREFETCHW, PRFM PSTL1KEEP): lines another core last had are taken
// from it ahead of the stores. An amd64 processor without PREFETCHW
// (CPUID PRFCHW clear) gets PREFETCHT0, which only reads them in.
//
//go:noescape
func Write3(p, q, r unsafe.Pointer)
