package capture

import "golang.org/x/sys/unix"

// mapPopulate is the mmap flag that maps every page of a file mapping in
// the mmap call (MAP_POPULATE); mapFile sets it for small files.
const mapPopulate = unix.MAP_POPULATE

// populate maps the pages of b, part of a file mapping, in one system call
// (MADV_POPULATE_READ, Linux 5.14; older kernels refuse it, and pages are
// then mapped by faults as they are read). Mapping 16 MiB at a time costs a
// fraction of the page faults it replaces, and prefetches of pages not yet
// mapped would be dropped.
func populate(b []byte) { _ = unix.Madvise(b, unix.MADV_POPULATE_READ) }

// willNeed starts reading the pages of b, part of a file mapping, into the
// page cache and returns without waiting for them (MADV_WILLNEED).
func willNeed(b []byte) { _ = unix.Madvise(b, unix.MADV_WILLNEED) }
