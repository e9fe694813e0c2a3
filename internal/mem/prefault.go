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

// Grow returns s with room for n more elements, as slices.Grow does, in
// a new array, when it makes one, whose pages are allocated in one call
// (Prefault) before s's elements are copied in, rather than a fault at a
// time by the copy and the appends that follow: the buffers that the flow
// table, the output's batches and the text encoders grow as a run
// starts, on the goroutine that reads the capture when one worker runs
// there. On this project's VM a page fault cost 11-15 µs and a page
// allocated so 4.5-7.4 (bench/RESULTS.md, session 58). The new array
// holds at least twice s's capacity, so that growing by a little at a
// time costs amortized constant time. A slice with the room already is
// returned as it is.
func Grow[S ~[]E, E any](s S, n int) S {
	if n <= cap(s)-len(s) {
		return s
	}
	g := make(S, len(s), max(len(s)+n, 2*cap(s)))
	Prefault(g[:cap(g)]) // zero: all of it is new
	copy(g, s)
	return g
}
