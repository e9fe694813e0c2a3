package capture

import (
	"runtime/debug"
	"unsafe"
)

// A capture file is read through a memory mapping (mapFile). If the file
// shrinks while it is mapped, reading a page past its new end raises
// SIGBUS, which would kill the program with a stack trace. Every goroutine
// that reads a mapping therefore runs with debug.SetPanicOnFault set,
// which turns the fault into a panic, and recovers it: a fault inside the
// mapping becomes ErrChanged, and any other panic goes on.
//
//   - the caller's goroutine, which walks the records and decodes them
//     (jj's pipeline: Fault);
//   - the pager (stream.page), which stops reading pages ahead;
//   - the read-ahead goroutine of a compressed file (readAhead), whose
//     reader then returns the error after the bytes before it;
//   - the gzip tasks (gzippar.go), which end with nothing for the reader,
//     so that the reader meets the fault itself, in order;
//   - the opening of a mapped file (newReaderFrom), which reads its header
//     on the caller's goroutine.
//
// An error met reading a mapped file that is now shorter than its mapping
// is ErrChanged too (input.fail): the bytes from the new end to the end of
// its page read as zeros, which may make a corrupt block before any fault.
// A fault is told from others by its address only, so a write into the
// read-only mapping, which jj never makes, would be reported the same way.

// faultAddr returns the address of the memory fault that v, a value
// recovered from a panic on a goroutine with SetPanicOnFault set, reports,
// and false when v is not one.
func faultAddr(v any) (uintptr, bool) {
	e, ok := v.(interface{ Addr() uintptr })
	if !ok {
		return 0, false
	}
	return e.Addr(), true
}

// inside reports whether addr is the address of a byte of b.
func inside(b []byte, addr uintptr) bool {
	if len(b) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return addr >= lo && addr-lo < uintptr(len(b))
}

// faulted calls f with SetPanicOnFault set, and reports whether it ended
// with a memory fault inside b; it panics again with any other panic.
func faulted(b []byte, f func()) (fault bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if addr, ok := faultAddr(v); !ok || !inside(b, addr) {
				panic(v)
			}
			fault = true
		}
	}()
	f()
	return false
}

// mapping returns the input's file mapping, or nil when it reads no
// mapping.
func (in *input) mapping() []byte {
	if in.raw == nil || !in.raw.mapped {
		return nil
	}
	return in.raw.buf
}

// changed is the error of a fault at addr, inside the input's mapping: a
// *FileError wrapping ErrChanged, at the fault's offset in the file when
// the file is read as it is. A compressed file's offsets count its
// decompressed bytes, so it gets none. (The read-ahead goroutine, which
// reads a compressed file's mapping, returns ErrChanged itself, and the
// format reader wraps it at its decompressed offset.)
func (in *input) changed(addr uintptr) error {
	off := int64(-1)
	if in.s == in.raw {
		off = int64(addr - uintptr(unsafe.Pointer(unsafe.SliceData(in.raw.buf))))
	}
	return &FileError{Name: in.name, Offset: off, Err: ErrChanged}
}

// Fault returns the error to report for v, a value recovered from a panic
// on a goroutine that read r with debug.SetPanicOnFault set: a *FileError
// wrapping ErrChanged when v is a memory fault inside r's mapping of its
// file, and nil otherwise, for the caller to panic again with v.
func Fault(r Reader, v any) error {
	m, ok := r.(interface{ mappedInput() *input })
	if !ok {
		return nil
	}
	in := m.mappedInput()
	addr, ok := faultAddr(v)
	if !ok || !inside(in.mapping(), addr) {
		return nil
	}
	return in.changed(addr)
}

// shrank reports whether the input is a mapped file that is now shorter
// than its mapping, so that an error met reading it may come from that.
func (in *input) shrank() bool {
	if in.raw == nil || in.raw.file == nil {
		return false
	}
	fi, err := in.raw.file.Stat()
	return err == nil && fi.Size() < int64(len(in.mapping()))
}

// mappedInput returns the input, for Fault.
func (in *input) mappedInput() *input { return in }
