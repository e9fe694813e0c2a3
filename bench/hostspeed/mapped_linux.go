//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// mappedPages maps size bytes of the file path from offset off, read-only,
// as jj maps a capture: marked for huge pages, its pages mapped in one
// call (MADV_POPULATE_READ), as jj's pager maps them ahead of the record
// walk. It then reads a byte of each 4 KiB page, as the pager does, and
// returns the nanoseconds a page took at each step. A page in the page
// cache costs a read from memory on bare metal; under a hypervisor, its
// first read through a mapping can cost the host's fault, whoever makes
// it: on this project's VM 30 ns to 1.9 µs a page, by how the file sits
// in the page cache and below the guest (bench/RESULTS.md, session 52;
// 250-420 ns a page of the synthetic capture, a quarter of a CPU-second
// a run).
func mappedPages(path string, off, size int64) (populate, read float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), off, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, fmt.Errorf("map %s: %w", path, err)
	}
	defer unix.Munmap(b)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	page := unix.Getpagesize()
	pages := float64(len(b) / page)
	start := time.Now()
	if err := unix.Madvise(b, unix.MADV_POPULATE_READ); err != nil {
		return 0, 0, fmt.Errorf("populate %s: %w", path, err)
	}
	mapped := time.Now()
	var sum byte
	for i := 0; i < len(b); i += page {
		sum += b[i]
	}
	done := time.Now()
	sink = uint64(sum)
	return float64(mapped.Sub(start).Nanoseconds()) / pages, float64(done.Sub(mapped).Nanoseconds()) / pages, nil
}
