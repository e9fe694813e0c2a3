//go:build linux || darwin || freebsd || netbsd || openbsd

package flow

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/internal/testpkt"
	"golang.org/x/sys/unix"
)

// TestEntryChunkIsHugePage checks that a slab chunk of entries is one huge
// page, so that mapAnon maps it on huge pages.
func TestEntryChunkIsHugePage(t *testing.T) {
	if n := unsafe.Sizeof(entry{}) << chunkBits; n != hugeSize {
		t.Fatalf("a chunk of %d entries is %d bytes, not a huge page (%d)", 1<<chunkBits, n, hugeSize)
	}
}

// TestMapAnonHuge maps sizes in and out of whole huge pages: those in
// whole huge pages start on a huge-page boundary; all are zero, writable,
// and given back. Where the kernel has transparent huge pages on, it
// reports (and the test logs) how much of the huge mapping they back.
func TestMapAnonHuge(t *testing.T) {
	for _, size := range []int{hugeSize, 3 * hugeSize, 64 << 10, hugeSize + 4096} {
		b := mapAnon(size)
		if len(b) != size {
			t.Fatalf("mapAnon(%d): %d bytes", size, len(b))
		}
		at := uintptr(unsafe.Pointer(&b[0]))
		if size%hugeSize == 0 && at%hugeSize != 0 {
			t.Fatalf("mapAnon(%d) at %#x, not on a huge-page boundary", size, at)
		}
		for i := 0; i < size; i += 4096 {
			if b[i] != 0 {
				t.Fatalf("mapAnon(%d): byte %d is %d", size, i, b[i])
			}
			b[i] = 1
		}
		if size == 3*hugeSize {
			if kb, ok := anonHugeKB(at); ok {
				t.Logf("mapAnon(%d): %d kB of huge pages", size, kb)
			}
		}
		unmapAnon(b)
	}
}

// anonHugeKB returns the AnonHugePages of the mapping at addr, from
// /proc/self/smaps (Linux).
func anonHugeKB(addr uintptr) (int, bool) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, false
	}
	in := false
	for _, line := range strings.Split(string(smaps), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uintptr(l) <= addr && addr < uintptr(h)
				continue
			}
		}
		if in && fields[0] == "AnonHugePages:" && len(fields) > 1 {
			kb, err := strconv.Atoi(fields[1])
			return kb, err == nil
		}
	}
	return 0, false
}

// TestKeepAligned runs keepAligned on mappings that start on a huge-page
// boundary and 4 KiB, 12 KiB and 2 MiB − 4 KiB past one (the kernel here
// aligns large mappings itself, so mapAnon alone would not reach the
// unaligned case): it keeps size bytes from the first boundary, mapped,
// and gives back every byte before and after them.
func TestKeepAligned(t *testing.T) {
	const size = 2 * hugeSize
	const prot, flags = syscall.PROT_READ | syscall.PROT_WRITE, syscall.MAP_PRIVATE | syscall.MAP_ANON
	for _, off := range []uintptr{0, 4096, 3 * 4096, hugeSize - 4096} {
		// A region to carve from, then size+hugeSize of it at a
		// boundary plus off, the rest given back.
		const span = size + 3*hugeSize
		q, err := unix.MmapPtr(-1, 0, nil, span, prot, flags)
		if err != nil {
			t.Fatal(err)
		}
		start := (-uintptr(q) & (hugeSize - 1)) + off
		p := unsafe.Add(q, int(start))
		if err := unix.MunmapPtr(q, start); start > 0 && err != nil {
			t.Fatal(err)
		}
		if err := unix.MunmapPtr(unsafe.Add(p, size+hugeSize), span-start-(size+hugeSize)); err != nil {
			t.Fatal(err)
		}
		b := keepAligned(p, size)
		at := uintptr(unsafe.Pointer(&b[0]))
		// What is mapped: madvise fails with ENOMEM on a range with
		// pages not mapped. (The runtime could map something into a
		// freed range meanwhile; it has not been seen to.)
		mapped := func(from, n uintptr) bool {
			return unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, int(from-uintptr(p)))), n), unix.MADV_NORMAL) == nil
		}
		switch {
		case len(b) != size || at%hugeSize != 0 || at < uintptr(p) || at >= uintptr(p)+hugeSize:
			t.Errorf("offset %d: kept %d bytes at %#x, from a mapping at %#x", off, len(b), at, uintptr(p))
		case !mapped(at, size):
			t.Errorf("offset %d: the kept bytes are not all mapped", off)
		case at > uintptr(p) && mapped(uintptr(p), 4096):
			t.Errorf("offset %d: the head's first page is still mapped", off)
		case at > uintptr(p) && mapped(at-4096, 4096):
			t.Errorf("offset %d: the head's last page is still mapped", off)
		case mapped(at+size, 4096) || mapped(uintptr(p)+size+hugeSize-4096, 4096):
			t.Errorf("offset %d: the tail is still mapped", off)
		}
		b[0], b[size-1] = 1, 1
		unmapAnon(b)
	}
}

// TestGrowArena checks that growArena keeps a slice's values and makes
// room for n more, in the arena's mappings when that room is large, and
// returns the slice itself when it has the room already.
func TestGrowArena(t *testing.T) {
	var owner int
	a := newArena(&owner)
	defer func() {
		a.release()
		runtime.KeepAlive(&owner) // its cleanup would release the arena too
	}()
	s := []pending{{slot: 1}, {slot: 2}}
	g := growArena(a, s, 100_000)
	if len(g) != 2 || cap(g) < 100_002 || g[0].slot != 1 || g[1].slot != 2 {
		t.Fatalf("grown: len %d cap %d, %v", len(g), cap(g), g[:len(g)])
	}
	if _, ok := a.maps[(*byte)(unsafe.Pointer(&g[:1][0]))]; !ok {
		t.Error("a slice of 2.4 MB is not one of the arena's mappings")
	}
	if h := growArena(a, g, 50_000); &h[:1][0] != &g[:1][0] || len(h) != 2 {
		t.Error("a slice with room enough was moved")
	}
	// Moved again, the arena's old mapping goes back to the system.
	old := &g[:1][0]
	g = growArena(a, g, 200_000)
	if _, ok := a.maps[(*byte)(unsafe.Pointer(old))]; ok || len(a.maps) != 1 {
		t.Errorf("after a second move the arena holds %d mappings, the old one among them: %v", len(a.maps), ok)
	}
	if h := growArena(a, make([]pending, 2, 10), 9); cap(h) < 11 {
		t.Errorf("room for 9 more after 2 of 10: cap %d", cap(h))
	}
	g = append(g, pending{slot: 3})
	for i, want := range []uint32{1, 2, 3} {
		if g[i].slot != want {
			t.Errorf("value %d: slot %d, want %d", i, g[i].slot, want)
		}
	}
}

// TestSlabChunkAhead checks that a slab asks for its next chunk once its
// last is half used, takes that chunk when it fills, and that the chunk
// is zero and in the arena's mappings; that a chunk asked for and never
// taken goes back with the arena; that a released arena maps nothing
// more; and that a slab without an arena never asks.
func TestSlabChunkAhead(t *testing.T) {
	var owner int
	a := newArena(&owner)
	defer runtime.KeepAlive(&owner) // its cleanup would release the arena too
	s := slab[entry]{arena: a}
	const half = 1 << (chunkBits - 1)
	for i := range 3*half + 1 {
		if got := s.add(); got != uint32(i) {
			t.Fatalf("add %d returned %d", i, got)
		}
		e := s.at(uint32(i))
		if e.first != 0 || e.key.Proto != 0 {
			t.Fatalf("record %d is not zero", i)
		}
		e.first, e.key.Proto = int64(i)+1, 6
		switch asked := s.ahead != nil; {
		case i < half && asked:
			t.Fatalf("the next chunk asked for at record %d, before the first chunk is half used", i)
		case i >= half && i < 2<<(chunkBits-1) && !asked:
			t.Fatalf("the next chunk not asked for at record %d", i)
		case i >= 2*half && i < 3*half && asked:
			t.Fatalf("a chunk still asked for at record %d, after the second chunk came", i)
		}
	}
	if len(s.chunks) != 2 || s.ahead == nil {
		t.Fatalf("%d chunks, a third asked for: %v; want 2 and true", len(s.chunks), s.ahead != nil)
	}
	for i := range 3*half + 1 {
		if e := s.at(uint32(i)); e.first != int64(i)+1 {
			t.Fatalf("record %d holds %d, want %d", i, e.first, i+1)
		}
	}
	s.wait()
	a.mu.Lock()
	n := len(a.maps)
	a.mu.Unlock()
	if n != 3 {
		t.Errorf("the arena holds %d mappings, want 3 (two chunks and the one asked for)", n)
	}
	a.release()
	if len(a.maps) != 0 {
		t.Errorf("after release the arena holds %d mappings", len(a.maps))
	}
	if c := allocSlice[entry](a, 1<<chunkBits); len(c) != 1<<chunkBits || len(a.maps) != 0 {
		t.Errorf("a released arena: allocSlice gave %d records and the arena holds %d mappings", len(c), len(a.maps))
	}
	var heap slab[entry]
	for range 3 * half {
		heap.add()
		if heap.ahead != nil {
			t.Fatal("a slab without an arena asked for a chunk ahead")
		}
	}
}

// TestArenaReleasedWhileChunkOnItsWay releases an arena, as the table's
// cleanup may, while its slab's chunk asked for ahead is on its way: right
// after the arena recorded the chunk's mapping (testHookRecorded), and
// right after the slab asked. The chunk's goroutine must neither write to
// pages released under it (the process would die of a fault) nor leave a
// mapping behind.
func TestArenaReleasedWhileChunkOnItsWay(t *testing.T) {
	t.Cleanup(func() { testHookRecorded = func(*arena) {} })
	for i := range 20 {
		var owner int
		a := newArena(&owner)
		s := slab[entry]{arena: a}
		for range 1 << (chunkBits - 1) {
			s.add()
		}
		if i == 0 {
			testHookRecorded = func(a *arena) { a.release() }
		}
		s.add()
		if s.ahead == nil {
			t.Fatal("no chunk asked for ahead")
		}
		if i > 0 {
			a.release()
		}
		if c := <-s.ahead; len(c) != 1<<chunkBits {
			t.Fatalf("the chunk holds %d records", len(c))
		}
		testHookRecorded = func(*arena) {}
		a.mu.Lock()
		n := len(a.maps)
		a.mu.Unlock()
		if n != 0 {
			t.Fatalf("a released arena holds %d mappings", n)
		}
		runtime.KeepAlive(&owner)
	}
}

// TestSpares checks that a released arena's mappings are kept as spares,
// that the next arena's allocSlice takes one of the same size, zeroed,
// rather than mapping afresh, and that a spare of another size is not
// taken; and that the spares keep the latest spareBytes, unmapping the
// oldest.
func TestSpares(t *testing.T) {
	sp := isolateSpares(t)
	held := func() (n, bytes int) {
		sp.mu.Lock()
		defer sp.mu.Unlock()
		return len(sp.maps), sp.bytes
	}

	var owner1, owner2 int
	a1 := newArena(&owner1)
	c := allocSlice[entry](a1, 1<<chunkBits)
	lk := allocSlice[link](a1, 1<<chunkBits)
	for i := range c {
		c[i].first, c[i].key.Proto = int64(i)+1, 17
		lk[i] = link{prev: 7, next: 7}
	}
	chunkAt, linkAt := &c[0], &lk[0]
	a1.release()
	runtime.KeepAlive(&owner1)
	if n, bytes := held(); n != 2 || bytes != hugeSize+len(lk)*8 {
		t.Fatalf("after release the spares hold %d mappings, %d bytes; want 2, %d", n, bytes, hugeSize+len(lk)*8)
	}

	a2 := newArena(&owner2)
	defer func() {
		a2.release()
		runtime.KeepAlive(&owner2)
	}()
	d := allocSlice[entry](a2, 1<<chunkBits)
	if &d[0] != chunkAt {
		t.Error("a chunk of the same size was mapped afresh, not taken from the spares")
	}
	for i := range d {
		if d[i] != (entry{}) {
			t.Fatalf("a spare chunk taken again: entry %d is not zero", i)
		}
	}
	// Of another size (index cells), the link spare stays a spare.
	x := allocSlice[cell](a2, 32<<10)
	if n, _ := held(); &x[0] == (*cell)(unsafe.Pointer(linkAt)) || n != 1 {
		t.Errorf("a mapping of %d bytes came from a spare of %d: the spares hold %d", len(x)*int(unsafe.Sizeof(cell{})), len(lk)*8, n)
	}
	for i := range x {
		if x[i] != (cell{}) {
			t.Fatalf("cell %d is not zero", i)
		}
	}

	// The spares keep the latest spareBytes: the link spare and the first
	// huge mappings given are unmapped.
	var big [][]byte
	for range spareBytes/hugeSize + 2 {
		big = append(big, mapAnon(hugeSize))
	}
	for _, b := range big {
		sp.give(b, false)
	}
	if n, bytes := held(); n != spareBytes/hugeSize || bytes != spareBytes {
		t.Errorf("the spares hold %d mappings, %d bytes; want %d, %d", n, bytes, spareBytes/hugeSize, spareBytes)
	}
	// madvise fails with ENOMEM on a range with pages not mapped.
	mapped := func(b []byte) bool { return unix.Madvise(b[:4096], unix.MADV_NORMAL) == nil }
	if mapped(unsafe.Slice((*byte)(unsafe.Pointer(linkAt)), 4096)) || mapped(big[0]) || mapped(big[1]) {
		t.Error("the oldest spares, past spareBytes, are still mapped")
	}
	if !mapped(big[2]) || !mapped(big[len(big)-1]) {
		t.Error("a spare within the latest spareBytes was unmapped")
	}
}

// isolateSpares gives the tables the test makes a list of spares of their
// own (tables of earlier tests may release theirs at any time, from their
// cleanups), and unmaps it after the test.
func isolateSpares(t *testing.T) *spareList {
	old, own := spares, new(spareList)
	spares = own
	t.Cleanup(func() {
		spares = old
		own.mu.Lock()
		defer own.mu.Unlock()
		for _, m := range own.maps {
			unmapAnon(m.b)
		}
		own.maps, own.bytes = nil, 0
	})
	return own
}

// TestReleaseZeroesSpares runs tables of thousands of flows (more than a
// chunk of entries, an index past 64 KiB, with and without MaxFlows and
// its slab of positions) to their end, or not, releases them, and checks
// that every mapping they leave as a zeroed spare is zero, as the next
// table takes it without clearing, and that the index, sized by the
// flows, is not kept.
func TestReleaseZeroesSpares(t *testing.T) {
	// 20 000 TCP connections of three packets, some closed by FIN or RST.
	var frames []testpkt.Frame
	for i := range 60000 {
		c := i % 20000
		src, dst := fmt.Sprintf("10.0.%d.%d", c/250, c%250), "10.1.0.1"
		sp := uint16(1024 + c)
		ts := float64(i) * 0.001
		switch flags := []uint8{syn, fin | ack, rst}[c%3]; i / 20000 {
		case 0:
			frames = append(frames, tcpf(ts, src, dst, sp, 443, syn))
		case 1:
			frames = append(frames, tcpf(ts, dst, src, 443, sp, syn|ack))
		default:
			frames = append(frames, tcpf(ts, src, dst, sp, 443, flags))
		}
	}
	for _, tc := range []struct {
		maxFlows int
		close    bool
	}{{0, true}, {30000, true}, {0, false}} {
		maxFlows := tc.maxFlows
		sp := isolateSpares(t)
		cfg := defaultCfg
		cfg.FlowTimeout = 1000 * sec
		cfg.MaxFlows = maxFlows
		tab, rows := rowTable(cfg)
		var d decode.Decoder
		df := NewDefrag(cfg.FlowTimeout)
		for i, f := range frames {
			decodeFrame(t, &d, df, i, f, tab.Packet())
			if err := tab.Add(uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if tc.close {
			if err := tab.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if tab.slots.n <= 1<<chunkBits || len(tab.index.cells)*8 < 64<<10 {
			t.Fatalf("%d flows, %d index cells: too few for the test", tab.slots.n, len(tab.index.cells))
		}
		cells := len(tab.index.cells) * int(unsafe.Sizeof(cell{}))
		tab.Release()
		sp.mu.Lock()
		maps := slices.Clone(sp.maps)
		sp.mu.Unlock()
		clean := 0
		for _, m := range maps {
			if len(m.b) == cells {
				t.Errorf("MaxFlows %d, closed %v: the index's cells (%d bytes), which no new table asks for, were kept as a spare", maxFlows, tc.close, cells)
			}
			if !m.clean {
				continue
			}
			clean++
			for i, c := range m.b {
				if c != 0 {
					t.Fatalf("MaxFlows %d, closed %v: byte %d of a spare of %d bytes left as zeroed is %d", maxFlows, tc.close, i, len(m.b), c)
				}
			}
		}
		if clean < 4 {
			t.Errorf("MaxFlows %d: %d spares left zeroed of %d, want 4 or more (%d rows)", maxFlows, clean, len(maps), len(*rows))
		}
	}
}
