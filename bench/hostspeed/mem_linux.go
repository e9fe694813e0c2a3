//go:build linux

package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// words returns n zeroed uint64s in memory of their own, in huge pages
// where the kernel grants them (MADV_HUGEPAGE), so that the read figures
// time the caches and memory rather than the walks of the page tables.
func words(n int) []uint64 {
	size := (n*8 + hugePage - 1) / hugePage * hugePage
	b, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n)
	}
	// Start at a huge page's boundary within the mapping.
	off := (hugePage - int(uintptr(unsafe.Pointer(&b[0]))%hugePage)) % hugePage
	b = b[off : off+size]
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

const hugePage = 2 << 20
