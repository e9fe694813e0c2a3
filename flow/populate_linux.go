package flow

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// mapPopulate makes mapAnon allocate its pages at once.
const mapPopulate = syscall.MAP_POPULATE

// mapHuge asks for b, huge-page aligned, to be backed by huge pages
// (transparent huge pages in "madvise" mode, the kernel's default, or
// "always"; nothing changes when they are off) and allocates its pages.
// Errors leave b as it is: small pages, allocated by allocSlice
// (mem.Prefault).
func mapHuge(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE) // Linux 5.14 and later
}
