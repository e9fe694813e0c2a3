//go:build linux

package main

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// freshPages maps size bytes of anonymous memory in 4 KiB pages, writes a
// byte to each page, and returns the microseconds a page took: the kernel
// finding, clearing and mapping it, and under a hypervisor the host
// backing it first where the guest's free memory was given back.
func freshPages(size int) (float64, error) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return 0, fmt.Errorf("map %d MiB: %w", size>>20, err)
	}
	defer unix.Munmap(b)
	_ = unix.Madvise(b, unix.MADV_NOHUGEPAGE) // a page at a time, as jj's writes and heap see them
	page := unix.Getpagesize()
	start := time.Now()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	return float64(time.Since(start).Nanoseconds()) / float64(len(b)/page) / 1e3, nil
}
