package capture

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// readsHuge marks b, a whole file mapping, for transparent huge pages
// (MADV_HUGEPAGE) and reports whether the kernel took the advice. From
// Linux 5.18, on filesystems that hold large folios, the pages of the file
// not yet in the page cache are then read as populate faults them in, two
// 2 MiB folios at a time whatever the device's read-ahead size, and the
// stream's pager asks for no read-ahead of its own (willNeed), which reads
// 4 KiB pages. Elsewhere the advice is taken and changes nothing, so the
// pager keeps it only if its first window maps as huge pages
// (mappedHuge). Folios of 2 MiB take less of the kernel's time to read
// and to map, and on this project's VM the first read of each 4 KiB page
// of a mapping costs about 1.1 µs. The real-traffic tile read from disk
// with one worker took 0.99-1.18 s this way against 1.58-1.62 s with
// willNeed (1.01-1.26 against 2.17-2.39 s with Linux's usual 128 KiB
// device read-ahead), and the next run, the file then in the page cache,
// 0.80-0.81 s against 1.11-1.21 s (bench/RESULTS.md, session 27). The
// advice is not given when the system's setting for huge pages is "never"
// (thpAllowed).
func readsHuge(b []byte) bool {
	return thpAllowed() && unix.Madvise(b, unix.MADV_HUGEPAGE) == nil
}

// mappedHuge reports whether the kernel has mapped part of b, a whole file
// mapping, with huge-page entries (FilePmdMapped in /proc/self/smaps). A
// variable, so that tests can have it say no.
var mappedHuge = func(b []byte) bool { return pmdMappedKB(b) > 0 }

// pmdMappedKB returns the kB of b, a whole file mapping, that the kernel
// has mapped with huge-page entries (FilePmdMapped in /proc/self/smaps),
// or 0 if it cannot tell.
func pmdMappedKB(b []byte) int {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	return pmdMapped(string(smaps), uintptr(unsafe.Pointer(&b[0])))
}

// pmdMapped returns the FilePmdMapped kB of the mapping that starts at
// addr in smaps, the text of /proc/PID/smaps, or 0 if there is none.
func pmdMapped(smaps string, addr uintptr) int {
	if f := strings.Fields(smapsField(smaps, addr, "FilePmdMapped:")); len(f) == 3 {
		if n, err := strconv.Atoi(f[1]); err == nil {
			return n
		}
	}
	return 0
}

// smapsField returns the line that begins with field in the account of
// the mapping that starts at addr in smaps, the text of /proc/PID/smaps,
// or "" if there is none.
func smapsField(smaps string, addr uintptr, field string) string {
	start := fmt.Sprintf("%08x-", addr) // as the kernel prints it
	found := false
	for line := range strings.Lines(smaps) {
		switch {
		case strings.HasPrefix(line, start):
			found = true
		case !found:
		case strings.HasPrefix(line, field):
			return strings.TrimSuffix(line, "\n")
		case strings.HasPrefix(line, "VmFlags:"): // the mapping's last line
			return ""
		}
	}
	return ""
}

// thpAllowed reports whether the system's transparent huge page setting
// allows huge pages at least where asked for, read once.
var thpAllowed = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && thpMode(string(b)) != "never"
})

// thpMode returns the selected mode of a transparent huge page setting as
// the kernel shows it ("always [madvise] never": "madvise"), or "" if
// none is selected.
func thpMode(s string) string {
	for _, f := range strings.Fields(s) {
		if len(f) > 2 && f[0] == '[' && f[len(f)-1] == ']' {
			return f[1 : len(f)-1]
		}
	}
	return ""
}
