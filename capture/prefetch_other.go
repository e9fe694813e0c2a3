//go:build !(amd64 || arm64)

package capture

import "unsafe"

// prefetchSink keeps the loads of prefetchRange.
var prefetchSink byte

// prefetchRange loads a byte every stride bytes of n bytes from addr: on
// architectures without the prefetch instruction in jj, plain loads start
// the cache misses early, at the cost of waiting for them.
func prefetchRange(addr *byte, n int, stride int) {
	b := unsafe.Slice(addr, n)
	var t byte
	for i := 0; i < n; i += stride {
		t += b[i]
	}
	prefetchSink += t
}
