package flow

import "golang.org/x/sys/unix"

// mapHuge asks for b, huge-page aligned, to be backed by huge pages
// (transparent huge pages in "madvise" mode, the kernel's default, or
// "always"; nothing changes when they are off), before allocSlice
// allocates its pages (mem.Prefault). An error leaves b in small pages.
func mapHuge(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
