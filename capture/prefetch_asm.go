//go:build amd64 || arm64

package capture

// prefetchRange asks the CPU to bring n bytes from addr into its caches, a
// cache line every stride bytes, without waiting for them (PREFETCHT0,
// PRFM PLDL1KEEP): unlike loads, prefetches do not hold up the
// instructions after them. The range must lie within one allocation or
// mapping.
//
//go:noescape
func prefetchRange(addr *byte, n int, stride int)
