//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line asks for the cache line holding p (PREFETCHT0, PRFM PLDL1KEEP).
//
//go:noescape
func Line(p unsafe.Pointer)
