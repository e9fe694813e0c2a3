// Package mem prepares fresh memory for the hot path.
package mem

import "unsafe"

// Prefault writes a zero byte to every 4 KiB of s, which must be zero, as
// new memory from make is. The kernel then allocates each page on one
// write fault now, where the hot path would often read the page first
// (is this slot in use? what does this cell hold?): a read of a page never
// written maps the kernel's shared zero page, and the write that follows
// faults again to copy it, sending a TLB-flush interrupt to every other
// core the process runs on. In the profile of --features all with two
// workers, 8 % of the CPU time went to those copies and interrupts.
func Prefault[T any](s []T) {
	n := len(s) * int(unsafe.Sizeof(*new(T)))
	if n == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	// The first byte, in a page that may start before s, then the first
	// byte of every page that starts within s.
	b[0] = 0
	for i := int(-uintptr(unsafe.Pointer(&b[0])) & 4095); i < n; i += 4096 {
		b[i] = 0
	}
}
