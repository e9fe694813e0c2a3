//go:build !(amd64 || arm64)

package prefetch

import "unsafe"

// Line does nothing where jj has no prefetch instruction.
func Line(unsafe.Pointer) {}

// Lines3 does nothing where jj has no prefetch instruction.
func Lines3(p, q, r unsafe.Pointer) {}

// Range does nothing where jj has no prefetch instruction.
func Range(p unsafe.Pointer, n int) {}

// Write3 does nothing where jj has no prefetch instruction.
func Write3(p, q, r unsafe.Pointer) {}
