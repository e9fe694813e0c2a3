package capture

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A capture piped to jj is read through a 1 MiB pipe buffer (growPipe),
// and read whole.
func TestPipeBufferGrown(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := pcapFile(1000, 600)
	go func() {
		w.Write(data)
		w.Close()
	}()
	rd, c, err := OpenFile(r, "pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got < pipeSize {
		// The system may refuse: check that it refuses us too.
		p, q, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		defer q.Close()
		if _, err := unix.FcntlInt(p.Fd(), unix.F_SETPIPE_SZ, pipeSize); err != nil {
			t.Skipf("this system refuses a %d-byte pipe buffer: %v", pipeSize, err)
		}
		t.Errorf("pipe buffer %d bytes, want %d", got, pipeSize)
	}
	var rec Record
	n := 0
	for rd.Next(&rec) == nil {
		if len(rec.Data) != 600 {
			t.Fatalf("record %d: %d bytes, want 600", n, len(rec.Data))
		}
		n++
	}
	if n != 1000 {
		t.Errorf("read %d records from the pipe, want 1000", n)
	}
}
