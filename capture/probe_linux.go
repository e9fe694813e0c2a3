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
// the file with read(2), so that the file is better read that way: when
// probeWindows windows of it spread over the file, in the page cache, cost
// more than costlyPage a page to map and read once (populate, then a byte
// of each page, as the pager does).
//
// On this project's virtual machine a page of a file mapping costs the
// host's work at its first read, up to 2-4 µs a 4 KiB page, where a copy
// by read(2) costs 0.3-0.5 µs. What the host charges differs from one
// part of a file to the next and holds from run to run: mapped and read
// a 2 MiB window at a time, the synthetic benchmark capture cost 470-490
// ns a page, a fifth of its windows about 2 µs a page and the rest 30-50
// ns, where the real-traffic tile as pcapng cost 72-77 ns (twice each;
// an hour later 197 ns: the host's charges drift too). The synthetic
// capture read with read(2) took two workers 15-27 % less time than
// mapped, one worker 4-14 %; the pcapng at 72-77 ns a page 5-7 % more
// (bench/RESULTS.md, session 55). Whether the file is cached in 2 MiB
// folios does not tell: both were, whole. This probe put the synthetic
// capture at 435-619 ns a page then, and at 167-365 after it was read
// back from disk, when mapping was the faster, by about 10 % with two
// workers: costlyPage lies between. Elsewhere (bare metal, or a
// hypervisor whose guest maps its own pages) a page costs a read from
// memory, a tenth of costlyPage or less, and the file is mapped. A file
// not wholly in the page cache is mapped too: the pager's huge-page reads
// from disk are the faster way there (session 27).
//
// The windows are 1 MiB each at 2 MiB boundaries (a 2 MiB folio of the
// page cache is what maps with one entry), so that a window's first read
// is spread over the pages the run would read after it, as the pager's
// 16 MiB are; windows of 16 pages, each the first read of its own 2 MiB,
// cost 2-3 times as much a page as the file's mean. The probe stops as
// soon as the pages read so far have cost more than all its windows may:
// a file whose pages are dear is known after one to three windows, about
// a millisecond here. Each window is released once read, so that a mapped
// run's memory does not hold 16 MiB it reads only later; mapping it again
// at the pager's pass costs a third to a half of its first read here.
//
// A variable, so that tests can decide.
var mapCostly = func(data []byte) bool {
	offs := probeOffsets(len(data))
	budget := time.Duration(len(offs)*probeBytes/4096) * costlyPage
	var spent time.Duration
	for _, off := range offs {
		w := data[off : off+probeBytes]
		if !resident(w) {
			return false
		}
		start := time.Now()
		populate(w)
		if faulted(data, func() { touch(w) }) {
			return false // the file shrank: reading says so
		}
		spent += time.Since(start)
		releaseMapped(w)
		if spent > budget {
			return true // dearer than a copy already, whatever the rest cost
		}
	}
	return false
}

// probeOffsets returns where mapCostly's windows start in a file of size
// bytes, at least one 2 MiB page: at 2 MiB boundaries, the first at 0 and
// the last at the file's last whole 2 MiB page, the others spread evenly
// between, each in a 2 MiB page of its own.
func probeOffsets(size int) []int {
	pages := size / hugePage
	n := min(probeWindows, pages)
	offs := make([]int, n)
	for k := range offs {
		offs[k] = (pages - 1) * k / max(n-1, 1) * hugePage
	}
	return offs
}

// The probe of mapCostly: up to probeWindows windows of probeBytes, spread
// over the file, each at a 2 MiB boundary; costlyPage, a cost for each 4
// KiB of the file whatever the system's page size, is about what read(2)
// takes to copy 4 KiB on the VM (0.3-0.5 µs), and ten times what a page
// costs on bare metal.
const (
	probeWindows = 16
	probeBytes   = 1 << 20
)

var costlyPage = 400 * time.Nanosecond

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
