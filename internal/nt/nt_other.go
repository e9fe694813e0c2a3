//go:build !amd64

package nt

import "unsafe"

// Enabled is false where jj has no non-temporal copy: the copies are plain
// ones.
const Enabled = false

// Copy64 copies the 64 bytes at src to dst.
func Copy64(dst, src unsafe.Pointer) { *(*[64]byte)(dst) = *(*[64]byte)(src) }

// Copy96 copies the 96 bytes at src to dst.
func Copy96(dst, src unsafe.Pointer) { *(*[96]byte)(dst) = *(*[96]byte)(src) }

// Copy192 copies the 192 bytes at src to dst.
func Copy192(dst, src unsafe.Pointer) { *(*[192]byte)(dst) = *(*[192]byte)(src) }

// Fence does nothing: plain stores need none.
func Fence() {}
