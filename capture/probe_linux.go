//go:build linux

package capture

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapCostly reports whether reading data, the mapping of a whole regular
// file larger than a pager's window (populateEvery), marked for huge pages
// where the system allows them (readsHuge), would cost more than copying
// the file with read(2), so that the file is better read that way: when a
// few windows of it, in the page cache, cost more than costlyPage a page
// at the first read after being mapped, and not all were mapped with
// huge-page entries (hugeWindows).
//
// On this project's virtual machine the first read of each 4 KiB page of
// a file through a mapping costs the host's fault, 0.9-2.5 µs, where a
// copy by read(2) costs 0.3-0.5 µs a page (bench/RESULTS.md, session 52).
// For a file cached in 2 MiB folios, which a mapping maps whole, the host
// keeps what it built, and every later mapping of the page, in any
// process, reads it at 25-50 ns: over runs mapping is the faster way, and
// such a file stays mapped. A file cached in small folios (one just
// written by a capture tool, in small writes) pays the fault at every run:
// the real-traffic tile so cached took one worker 1 213 ms mapped and
// 1 031 ms read, two workers 1 112 and 715 ms (medians), and the read
// goes faster since a ring reads it ahead (stream.fillRing). Elsewhere
// (bare metal, or a hypervisor whose guest maps its own pages) a page
// costs a read from memory, well under costlyPage, and the file is
// mapped. A file not wholly
// in the page cache is mapped too: the pager's huge-page reads from disk
// are the faster way there (session 27).
//
// A variable, so that tests can decide.
var mapCostly = func(data []byte) bool {
	var pages int
	var spent time.Duration
	for k := 1; k <= probeWindows; k++ {
		off := len(data) * k / (probeWindows + 1) &^ (2<<20 - 1)
		w := data[off:min(off+probeBytes, len(data))]
		if !resident(w) {
			return false
		}
		populate(w)
		start := time.Now()
		if faulted(data, func() { touch(w) }) {
			return false // the file shrank: reading says so
		}
		spent += time.Since(start)
		pages += (len(w) + pageSize - 1) / pageSize
	}
	return spent > time.Duration(pages)*costlyPage && hugeWindows(data) < probeWindows
}

// hugeWindows returns how many of mapCostly's windows of data, all mapped,
// were mapped with a huge-page entry: the mapping's FilePmdMapped, as
// each window lies within one 2 MiB page (and data holds no other mapped
// page yet). A file can be cached partly in 2 MiB folios: a file just
// written in small writes had 0, 2, 6 and 8 MiB of the 16 of four windows
// so mapped after a few runs, and half of mapCostly's windows. (Not by
// khugepaged: this kernel does not collapse a file's pages, MADV_COLLAPSE
// refuses them; more likely pages the kernel dropped came back from disk
// in 2 MiB folios, read by a mapping marked for huge pages.) Its pages
// in small folios cost 1-2.5 µs every run, and a fifth of them cost more
// than reading the whole file with read(2), at 0.3-0.5 µs a page: such
// a file is read unless every window was mapped whole. A variable, so
// that tests can decide.
var hugeWindows = func(data []byte) int { return pmdMappedKB(data) / (2 << 10) }

// The probe of mapCostly: probeWindows windows of probeBytes, spread over
// the file, each at a 2 MiB boundary (so that it maps as the pager maps
// it); costlyPage is about twice what read(2) takes to copy a 4 KiB page
// on the VM, and ten times what a page costs on bare metal.
const (
	probeWindows = 4
	probeBytes   = 256 << 10
)

var costlyPage = 800 * time.Nanosecond

// resident reports whether every page of b, part of a file mapping, is in
// the page cache (mincore, which golang.org/x/sys/unix does not wrap).
func resident(b []byte) bool {
	vec := make([]byte, (len(b)+pageSize-1)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		return false
	}
	for _, v := range vec {
		if v&1 == 0 {
			return false
		}
	}
	return true
}
