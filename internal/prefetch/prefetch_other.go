//go:build !(amd64 || arm64)

package prefetch

import "unsafe"

// Line does nothing where jj has no prefetch instruction.
func Line(unsafe.Pointer) {}

// Lines3 does nothing where jj has no prefetch instruction.
func Lines3(p, q, r unsafe.Pointer) {}

// sink keeps the loads of Range.
var sink byte

// Range loads a byte every stride bytes of the n bytes from p: without a
// prefetch instruction, plain loads still start the cache misses early, at
// the cost of waiting for them.
func Range(p *byte, n int, stride int) {
	b := unsafe.Slice(p, n)
	var t byte
	for i := 0; i < n; i += stride {
		t += b[i]
	}
	sink += t
}

// Write3 does nothing where jj has no prefetch instruction.
func Write3(p, q, r unsafe.Pointer) {}
