package nt

import "unsafe"

// Enabled says that the copies store non-temporally here.
const Enabled = true

// Copy64 copies the 64 bytes at src to dst, which must be 16-byte aligned,
// as Copy96 does: at dst on a cache line, one whole line.
//
//go:noescape
func Copy64(dst, src unsafe.Pointer)

// Copy96 copies the 96 bytes at src to dst, which must be 16-byte aligned,
// with non-temporal stores (MOVNTDQ). Fence must follow before another
// goroutine reads dst.
//
//go:noescape
func Copy96(dst, src unsafe.Pointer)

// Copy192 copies the 192 bytes at src to dst, which must be 16-byte
// aligned, as Copy96 does: at dst on a cache line, three whole lines.
//
//go:noescape
func Copy192(dst, src unsafe.Pointer)

// Fence makes the non-temporal stores before it visible before any store
// after it (SFENCE): Go does not promise that a channel send orders them.
func Fence()
