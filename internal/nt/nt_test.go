package nt

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestCopy checks that Copy64, Copy96 and Copy192 copy every byte of their
// source and no byte past it, to a destination on a 16-byte boundary, from
// a source on any boundary (the stage's pair is in a Go struct).
func TestCopy(t *testing.T) {
	for _, c := range []struct {
		n    int
		copy func(dst, src unsafe.Pointer)
	}{{64, Copy64}, {96, Copy96}, {192, Copy192}} {
		for srcOff := range 16 {
			src := make([]byte, c.n+16)
			for i := range src {
				src[i] = byte(i*7 + 1)
			}
			// A destination on a cache line, with spare bytes on each side.
			buf := make([]byte, c.n+64+64)
			start := 64 - int(uintptr(unsafe.Pointer(&buf[0]))%64)
			dst := buf[start : start+c.n]
			for i := range buf {
				buf[i] = 0xee
			}
			c.copy(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[srcOff]))
			Fence()
			if !bytes.Equal(dst, src[srcOff:srcOff+c.n]) {
				t.Errorf("copy of %d bytes from offset %d: got %x", c.n, srcOff, dst)
			}
			for i, v := range buf {
				if (i < start || i >= start+c.n) && v != 0xee {
					t.Fatalf("copy of %d bytes wrote byte %d outside its destination", c.n, i-start)
				}
			}
		}
	}
}
