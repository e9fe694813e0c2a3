//go:build linux || darwin || freebsd || netbsd || openbsd

package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only, so that records are parsed in
// place in the page cache: no read system calls and no copy of packet
// bytes jj never looks at. It returns nil when mapping is not possible;
// the caller then reads the file.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	flags := unix.MAP_SHARED
	if size <= populateEvery {
		// Map every page now, in the one system call (on Linux;
		// mapPopulate is 0 elsewhere): a file no larger than one
		// populate window gets no pager (stream.page), and faulting
		// its pages in one at a time cost about 250 µs a file of
		// 450 KB (a directory of 2 005 such files read at 240 ns a
		// packet that way, 126-143 ns with MAP_POPULATE,
		// bench/RESULTS.md). Touching ahead then works on these files
		// too: a prefetch of a page not yet mapped is dropped.
		flags |= mapPopulate
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, flags)
	if err != nil {
		return nil
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data
}

// unmapFile releases a mapping made by mapFile.
func unmapFile(data []byte) { _ = unix.Munmap(data) }

// releaseMapped tells the kernel that jj is done with a page-aligned
// prefix of a mapping, so the pages leave the process's resident set
// (they stay in the page cache): memory stays flat however long the file.
func releaseMapped(data []byte) { _ = unix.Madvise(data, unix.MADV_DONTNEED) }
