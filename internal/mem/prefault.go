// Package mem prepares fresh memory for the hot path.
package mem

import "unsafe"

// Prefault allocates the pages of s, which must be zero, as new memory
// from make is, and leaves it zero. The kernel then allocates each page
// now, where the hot path would often read the page first (is this slot in
// use? what does this cell hold?): a read of a page never written maps the
// kernel's shared zero page, and the write that follows faults again to
// copy it, sending a TLB-flush interrupt to every other core the process
// runs on. In the profile of --features all with two workers, 8 % of the
// CPU time went to those copies and interrupts.
//
// On Linux it asks for all the pages in one system call
// (MADV_POPULATE_WRITE, Linux 5.14): on this project's virtual machine a
// page fault cost about 15 µs, and a page allocated by that call about
// 0.5-1 µs (24 MiB: 82-94 ms of faults, 3-6 ms populated). Elsewhere, or
// when the kernel refuses the call, it writes a zero byte to every page.
func Prefault[T any](s []T) {
	n := len(s) * int(unsafe.Sizeof(*new(T)))
	if n == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	if populateWrite(b) {
		return
	}
	touchPages(b)
}

// touchPages writes a zero byte to the first byte of b, in a page that may
// start before b, then to the first byte of every page that starts within
// b.
func touchPages(b []byte) {
	b[0] = 0
	for i := int(-uintptr(unsafe.Pointer(&b[0])) & 4095); i < len(b); i += 4096 {
		b[i] = 0
	}
}
