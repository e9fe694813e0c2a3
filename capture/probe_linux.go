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
// windows of it spread over the file (probeOffsets), in the page cache,
// cost more than costlyPage a page to map and read once (populate, then a
// byte of each page, as the pager does).
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
// largely not in the page cache is mapped too, untimed: the pager's
// huge-page reads from disk are the faster way there (session 27).
// Largely is more than a sixteenth of the windows' pages (coldShare):
// this machine's proactive reclaim drops single pages of a cached file
// left unread a few seconds (a few to 900 of the 218 k-packet capture's
// 18 986), and a probe that mapped every file not wholly cached mapped
// most runs of such a file, where `read(2)` took 0.91 of the wall time
// and 0.86 of the CPU time (16 rounds, 3 s apart, session 58). Only the
// windows wholly in the cache are timed: a missing page would be read
// from disk in the probe's time.
//
// The windows are 1 MiB each at 2 MiB boundaries (a 2 MiB folio of the
// page cache is what maps with one entry), so that a window's first read
// is spread over the pages the run would read after it, as the pager's
// 16 MiB are; windows of 16 pages, each the first read of its own 2 MiB,
// cost 2-3 times as much a page as the file's mean. There is one for
// each 32 MiB of the file (probeEvery), four at least and sixteen at
// most: the sixteen that the probe read of any file took 2.6-3.5 ms of
// a run of the 218 k-packet capture here, 3-5 % of it (session 58). They
// start at the file's second 2 MiB: its first are cached in small folios
// even when the rest is in huge ones, as the kernel's read-ahead starts
// small (1.7-2.3 µs a page, against 20-80 ns after them). The probe stops as
// soon as the pages read so far have cost more than all its windows may:
// a file whose pages are dear is known after one to three windows, about
// a millisecond here. Each window is released once read, so that a mapped
// run's memory does not hold 16 MiB it reads only later; mapping it again
// at the pager's pass costs a third to a half of its first read here.
//
// A variable, so that tests can decide.
var mapCostly = func(data []byte) bool {
	offs := probeOffsets(len(data))
	whole := make([]bool, len(offs))
	missing, pages := 0, 0
	for k, off := range offs {
		m, n := absent(data[off : off+probeBytes])
		missing, pages = missing+m, pages+n
		whole[k] = n > 0 && m == 0
	}
	if pages == 0 || missing > pages/coldShare {
		return false // largely on disk (or mincore failed): mapped
	}
	budget := time.Duration(len(offs)*probeBytes/4096) * costlyPage
	var spent time.Duration
	timed := 0
	for k, off := range offs {
		if !whole[k] {
			continue
		}
		w := data[off : off+probeBytes]
		start := time.Now()
		populate(w)
		if faulted(data, func() { touch(w) }) {
			return false // the file shrank: reading says so
		}
		spent += time.Since(start)
		releaseMapped(w)
		timed++
		if spent > budget {
			return true // dearer than a copy already, whatever the rest cost
		}
	}
	return spent > time.Duration(timed*probeBytes/4096)*costlyPage
}

// probeOffsets returns where mapCostly's windows start in a file of size
// bytes, at least one 2 MiB page: at 2 MiB boundaries, one for each
// probeEvery bytes, at least probeMinWindows and at most probeWindows, as
// far as the file has 2 MiB pages; the first at the second 2 MiB page
// (at 0 in a file of one), the last at the file's last whole one, the
// others spread evenly between, each in a 2 MiB page of its own.
func probeOffsets(size int) []int {
	pages := size / hugePage
	first := min(1, pages-1)
	n := min(probeWindows, pages-first, max(probeMinWindows, size/probeEvery))
	offs := make([]int, n)
	for k := range offs {
		offs[k] = (first + (pages-1-first)*k/max(n-1, 1)) * hugePage
	}
	return offs
}

// The probe of mapCostly: up to probeWindows windows of probeBytes, spread
// over the file, each at a 2 MiB boundary; costlyPage, a cost for each 4
// KiB of the file whatever the system's page size, is about what read(2)
// takes to copy 4 KiB on the VM (0.3-0.5 µs), and ten times what a page
// costs on bare metal.
const (
	probeWindows    = 16
	probeMinWindows = 4
	probeEvery      = 32 << 20
	probeBytes      = 1 << 20
)

var costlyPage = 400 * time.Nanosecond

// coldShare: a file more than 1/coldShare of whose probed pages are not
// in the page cache is mapped, untimed.
const coldShare = 16

// absent returns how many of the pages of b, part of a file mapping, are
// not in the page cache, of how many (mincore, which golang.org/x/sys/unix
// does not wrap); 0 pages if mincore fails.
func absent(b []byte) (missing, pages int) {
	vec := make([]byte, (len(b)+pageSize-1)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		return 0, 0
	}
	for _, v := range vec {
		if v&1 == 0 {
			missing++
		}
	}
	return missing, len(vec)
}
