//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line asks for the cache line holding p (PREFETCHT0, PRFM PLDL1KEEP).
//
//go:noescape
func Line(p unsafe.Pointer)

// Range asks for the n bytes from p, a cache line every stride bytes. The
// range must lie within one allocation or mapping.
//
//go:noescape
func Range(p *byte, n int, stride int)
