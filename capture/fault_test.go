package capture

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/jjflow/jj/internal/testpkt"
)

// addrError is a memory fault at an address, as the runtime's panics
// with SetPanicOnFault set carry one.
type addrError uintptr

func (e addrError) Error() string { return "unexpected fault address" }
func (e addrError) Addr() uintptr { return uintptr(e) }
func (e addrError) RuntimeError() {}

// TestFault checks which recovered panics Fault turns into ErrChanged: a
// fault inside the reader's mapping only, not one outside it, not a panic
// without an address (a nil dereference's), and not the fault of a reader
// that maps nothing.
func TestFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(path, pcapFile(100, 600), 0o644); err != nil {
		t.Fatal(err)
	}
	r, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := r.(interface{ mappedInput() *input }).mappedInput().mapping()
	if m == nil {
		t.Skip("the file is not mapped here")
	}
	lo := uintptr(unsafe.Pointer(&m[0]))
	var fe *FileError
	if err := Fault(r, addrError(lo+1000)); !errors.Is(err, ErrChanged) || !errors.As(err, &fe) || fe.Offset != 1000 || fe.Name != path {
		t.Errorf("a fault at offset 1000 of the mapping: %v", err)
	}
	for _, v := range []any{addrError(lo - 1), addrError(lo + uintptr(len(m))), errors.New("runtime error: invalid memory address or nil pointer dereference"), "boom"} {
		if err := Fault(r, v); err != nil {
			t.Errorf("Fault(%v) = %v, want nil", v, err)
		}
	}
	plain, err := NewReader(bytes.NewReader(pcapFile(10, 100)), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if err := Fault(plain, addrError(lo+1000)); err != nil {
		t.Errorf("Fault on a reader of no mapping = %v, want nil", err)
	}
}

// TestShrinkBeforeHeader truncates a mapped file before its header is
// read: opening it ends with ErrChanged, not SIGBUS.
func TestShrinkBeforeHeader(t *testing.T) {
	for name, data := range map[string][]byte{"pcap": pcapFile(100, 600), "pcapng": pcapngFile(100, 600)} {
		path, m := mapShrunk(t, name, data, 0)
		_, _, err := newReaderFrom(newMappedStream(m), path, int64(len(data)), true)
		if !errors.Is(err, ErrChanged) {
			t.Errorf("%s: error %v, want ErrChanged", name, err)
		}
	}
}

// mapShrunk writes data to a file named name in a test directory, maps
// it, and truncates it to size: the mapping then faults past the page
// holding the new end. The mapping lasts until the test's end.
func mapShrunk(t *testing.T, name string, data []byte, size int64) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m := mapFile(f, int64(len(data)))
	if m == nil {
		t.Skip("files are not mapped here")
	}
	t.Cleanup(func() { unmapFile(m) })
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// TestShrinkPcapng cuts a mapped pcapng file inside a page: the zeros the
// mapping reads past the new end make a corrupt block before any fault,
// which is reported as ErrChanged since the file is now shorter than its
// mapping.
func TestShrinkPcapng(t *testing.T) {
	data := pcapngFile(1000, 600)
	path := filepath.Join(t.TempDir(), "f.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r.(interface{ mappedInput() *input }).mappedInput().mapping() == nil {
		t.Skip("files are not mapped here")
	}
	if err := os.Truncate(path, int64(len(data)/2+100)); err != nil {
		t.Fatal(err)
	}
	var rec Record
	var n int
	err = func() (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if v := recover(); v != nil {
				if err = Fault(r, v); err == nil {
					panic(v)
				}
			}
		}()
		for {
			if err := r.Next(&rec); err != nil {
				return err
			}
			n++
		}
	}()
	if !errors.Is(err, ErrChanged) || n == 0 {
		t.Errorf("after %d records: %v, want ErrChanged", n, err)
	}
}

// TestShrinkGzipTasks truncates a mapped gzip file of about 13 MiB
// (random record bytes of 4 bits, which deflate codes in dynamic blocks,
// about two to one) inside its chunks before the reader starts, so that the gzip task of that chunk
// finds its first block and then faults decoding: the reader gets no
// tokens from it, decodes in order up to the cut itself, and ends with
// ErrChanged after every record the data before the cut holds.
func TestShrinkGzipTasks(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("gzip tasks run with 2 CPUs or more")
	}
	const size = 1008 // records of 1024 bytes
	data := pcapFile(24<<10, size)
	rnd := rand.New(rand.NewPCG(3, 4))
	for off := 24; off < len(data); off += 16 + size {
		for i := off + 16; i < off+16+size; i++ {
			data[i] = byte(rnd.Uint32() % 16)
		}
	}
	gz := testpkt.Gzip(data)
	if len(gz) < 11<<20 {
		t.Fatalf("%d bytes compressed, want 11 MiB or more", len(gz))
	}
	for _, cut := range []int{5 << 20, 6<<20 + 12345, 9 << 20} {
		path, m := mapShrunk(t, "f.pcap.gz", gz, int64(cut))
		r, in, err := newReaderFrom(newMappedStream(m), path, int64(len(gz)), true)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		n := 0
		for ; ; n++ {
			if err = r.Next(&rec); err != nil {
				break
			}
			if want := data[24+n*(16+size)+16:][:size]; !bytes.Equal(rec.Data, want) {
				t.Fatalf("cut at %d: record %d differs", cut, n)
			}
		}
		least := (cut - 256<<10) * len(data) / len(gz) / 1024
		if !errors.Is(err, ErrChanged) || n < least {
			t.Errorf("cut at %d: %d records, then %v; want %d or more, then ErrChanged", cut, n, err, least)
		}
		in.close()
	}
}
