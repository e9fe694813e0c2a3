package mem

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// populateWrite allocates every page that b touches, as a write to each
// would, in one madvise call, and reports whether the kernel did. The
// range is widened to whole pages: populating a page changes none of its
// bytes, so the other values that share b's first and last pages are
// safe. (The widened range is passed as numbers: as a slice it would
// straddle other allocations, which -race's pointer checks refuse.)
func populateWrite(b []byte) bool {
	page := uintptr(unix.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	lo := start &^ (page - 1)
	hi := (start + uintptr(len(b)) + page - 1) &^ (page - 1)
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_POPULATE_WRITE)
	runtime.KeepAlive(b)
	return errno == 0
}
