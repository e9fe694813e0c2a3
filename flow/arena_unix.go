//go:build linux || darwin || freebsd || netbsd || openbsd

package flow

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeSize is the size of a huge page (x86-64, arm64 with 4 KiB pages),
// and of a chunk of flow entries (slab, 16 384 entries of 128 bytes).
const hugeSize = 2 << 20

// mapAnon maps size bytes of zeroed private memory, or returns nil.
//
// A size in whole huge pages is mapped on a huge-page boundary and, on
// Linux, marked for huge pages (mapHuge): the table reads its entries,
// links and index cells at random, and with 100 000 flows or more their
// 4 KiB pages outnumber the TLB's entries, so that most packets cost a
// page walk or more. With 2 MiB pages, flow_meta with a million
// concurrent flows took 3-23 % less CPU time; with 100 000, 0-4 % in the
// final comparison (bench/RESULTS.md, session 11).
//
// The pages are allocated at once, by allocSlice (mem.Prefault: on Linux
// one madvise call, after mapHuge has asked for huge pages). Left to
// faults, a page the table reads before it writes (an index cell probed
// empty) is first mapped to the shared zero page, and the later write
// replaces that mapping, which flushes the other cores' TLBs with an
// interrupt each. In a 214 000-packet run under this project's virtual
// machine, those flushes under index growth took 1.2 % of the samples,
// and 0.4 % with the pages allocated at once.
func mapAnon(size int) []byte {
	const prot, flags = syscall.PROT_READ | syscall.PROT_WRITE, syscall.MAP_PRIVATE | syscall.MAP_ANON
	if size%hugeSize == 0 {
		// A huge page more, to keep size bytes from a boundary.
		p, err := unix.MmapPtr(-1, 0, nil, uintptr(size+hugeSize), prot, flags)
		if err != nil {
			return nil
		}
		b := keepAligned(p, size)
		mapHuge(b)
		return b
	}
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), prot, flags)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), size)
}

// keepAligned keeps, of the size+hugeSize bytes mapped at p, the size
// bytes from the first huge-page boundary, and gives back the bytes before
// and after them.
func keepAligned(p unsafe.Pointer, size int) []byte {
	head := -uintptr(p) & (hugeSize - 1) // bytes to the boundary
	if head > 0 {
		_ = unix.MunmapPtr(p, head)
	}
	_ = unix.MunmapPtr(unsafe.Add(p, int(head)+size), hugeSize-head) // never empty
	return unsafe.Slice((*byte)(unsafe.Add(p, int(head))), size)
}

// unmapAnon gives back a mapping from mapAnon.
func unmapAnon(b []byte) { _ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b))) }
