//go:build !(amd64 || arm64)

package prefetch

import "unsafe"

// Line does nothing where jj has no prefetch instruction.
func Line(unsafe.Pointer) {}
