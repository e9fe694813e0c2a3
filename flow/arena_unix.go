//go:build linux || darwin || freebsd || netbsd || openbsd

package flow

import "syscall"

// mapAnon maps size bytes of zeroed private memory, or returns nil.
func mapAnon(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	return b
}

func unmapAnon(b []byte) { _ = syscall.Munmap(b) }
