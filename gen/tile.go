package gen

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/jjflow/jj/capture"
)

// TileConfig says how Tile repeats real captures into a larger one.
type TileConfig struct {
	// Copies is how many times the input packets are written, 1 or more.
	Copies int
	// Step is the time from the start of one copy to the start of the
	// next, 0 or more: copies overlap when it is below the inputs' span.
	Step time.Duration
	// Start is the timestamp of the first copy's start, between 1970 and
	// 2100.
	Start time.Time
}

// maxCopies bounds Copies: copy k changes 16 bits of each address, so
// more copies would repeat addresses.
const maxCopies = 1 << 16

// Validate reports the first field out of range.
func (c TileConfig) Validate() error {
	switch {
	case c.Copies < 1 || c.Copies > maxCopies:
		return fmt.Errorf("copies %d not between 1 and %d", c.Copies, maxCopies)
	case c.Step < 0:
		return fmt.Errorf("step %v is negative", c.Step)
	case c.Start.Year() < 1970 || c.Start.Year() > 2100:
		return fmt.Errorf("start %v not between 1970 and 2100", c.Start)
	}
	return nil
}

// TileStats describes what Tile read and wrote.
type TileStats struct {
	Read    int64 // records read from the inputs
	Skipped int64 // records of other link types than Ethernet, left out
	Packets int64 // records written: Copies × (Read − Skipped)
	Bytes   int64 // captured bytes written
	// Damaged lists the inputs that end in a truncated or corrupt
	// record, with the error: their records before it are tiled.
	Damaged []error
}

// Tile writes a capture made of real ones, for benchmarks on real traffic
// at any scale. It reads the Ethernet packets of every input into memory,
// each input's timestamps moved so that it starts at cfg.Start (the
// inputs overlap, as traffic from many hosts at once), and writes them
// cfg.Copies times, copy k delayed by k·cfg.Step, all copies merged in
// time order (on equal timestamps, the lower copy, then input order).
//
// Copy k is its own set of hosts: in each IPv4 and IPv6 source and
// destination address of a plain or VLAN-tagged Ethernet frame, the last
// 16 bits are XORed with k, and the IPv4 header checksum and the TCP or
// UDP checksum (when the header was captured, for an unfragmented packet
// or a first fragment, and for IPv6 when TCP or UDP is the first next
// header) are updated to match (RFC 1624). Copy 0 is the input
// unchanged. Tunnelled packets keep their inner addresses, so the flows
// jj keys on inner headers (VXLAN, GRE, ...) are the same in every copy:
// leave such captures out of the inputs.
//
// Other link types are skipped and counted. Captured and original
// lengths are kept, so snap-length-cut packets stay cut. An input that
// cannot be opened is an error; one that ends in a truncated or corrupt
// record gives the records before it, and the error in TileStats.Damaged.
func Tile(w io.Writer, inputs []string, cfg TileConfig, format Format) (TileStats, error) {
	var st TileStats
	if int(format) >= len(formatNames) {
		return st, fmt.Errorf("%w %d", ErrFormat, uint8(format))
	}
	if err := cfg.Validate(); err != nil {
		return st, err
	}
	base, err := readBase(inputs, cfg.Start.UnixNano(), &st)
	if err != nil {
		return st, err
	}
	bw := bufio.NewWriterSize(w, writerBufSize)
	if err := writeHeader(bw, format); err != nil {
		return st, fmt.Errorf("write %s header: %w", format, err)
	}
	frame := make([]byte, 0, 1<<16)
	for m := newMerge(base, cfg.Copies, int64(cfg.Step)); ; {
		k, i, ts, ok := m.next()
		if !ok {
			break
		}
		p := &base[i]
		frame = append(frame[:0], p.data...)
		perturb(frame, uint16(k))
		if err := writeRecord(bw, format, ts, frame, p.wire); err != nil {
			return st, fmt.Errorf("write packet %d: %w", st.Packets, err)
		}
		st.Packets++
		st.Bytes += int64(len(frame))
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("write %s: %w", format, err)
	}
	return st, nil
}

// basePacket is one input packet, its timestamp moved.
type basePacket struct {
	ts   int64
	data []byte
	wire uint32
}

// readBase reads the Ethernet packets of every input, each input's first
// packet at start, and sorts them by time (stable: input order on ties).
func readBase(inputs []string, start int64, st *TileStats) ([]basePacket, error) {
	var base []basePacket
	for _, path := range inputs {
		var err error
		if base, err = readInput(path, base, start, st); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(base, func(a, b basePacket) int { return cmp.Compare(a.ts, b.ts) })
	return base, nil
}

// readInput appends the Ethernet packets of the capture at path to base,
// its first packet at start. A read error after the file header, or the
// file shrinking under its mapping (capture.Fault), counts in st.Damaged.
func readInput(path string, base []basePacket, start int64, st *TileStats) (out []basePacket, err error) {
	r, c, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			ferr := capture.Fault(r, v)
			if ferr == nil {
				panic(v)
			}
			st.Damaged = append(st.Damaged, ferr)
			out, err = base, nil // the packets before the fault
		}
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	var rec capture.Record
	first := true
	var shift int64
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			st.Damaged = append(st.Damaged, err)
			break
		}
		st.Read++
		if rec.LinkType != capture.LinkEthernet {
			st.Skipped++
			continue
		}
		if first {
			shift, first = start-rec.Timestamp, false
		}
		base = append(base, basePacket{rec.Timestamp + shift, slices.Clone(rec.Data), rec.WireLen})
	}
	return base, nil
}

// merge yields the packets of every copy in time order: a heap of the
// copies, keyed by their next packet's time, then copy number.
type merge struct {
	base []basePacket
	step int64
	h    cursors
}

// cursor is copy k at its packet i.
type cursor struct {
	k, i int
	ts   int64
}

// cursors is a heap.Interface.
type cursors []cursor

func (h cursors) Len() int { return len(h) }
func (h cursors) Less(a, b int) bool {
	return cmp.Or(cmp.Compare(h[a].ts, h[b].ts), cmp.Compare(h[a].k, h[b].k)) < 0
}
func (h cursors) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *cursors) Push(x any)   { *h = append(*h, x.(cursor)) }
func (h *cursors) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

func newMerge(base []basePacket, copies int, step int64) *merge {
	m := &merge{base: base, step: step}
	if len(base) == 0 {
		return m
	}
	// Copies start in order of k, so the slice is already a heap.
	for k := range copies {
		m.h = append(m.h, cursor{k: k, ts: base[0].ts + int64(k)*step})
	}
	return m
}

// next returns the next packet: its copy, its index in base and its time.
func (m *merge) next() (k, i int, ts int64, ok bool) {
	if len(m.h) == 0 {
		return 0, 0, 0, false
	}
	top := m.h[0]
	if top.i+1 < len(m.base) {
		m.h[0] = cursor{k: top.k, i: top.i + 1, ts: m.base[top.i+1].ts + int64(top.k)*m.step}
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return top.k, top.i, top.ts, true
}

// perturb XORs k into the last 16 bits of the IP addresses of an Ethernet
// frame and updates the checksums that cover them (see Tile).
func perturb(b []byte, k uint16) {
	if k == 0 {
		return
	}
	be := binary.BigEndian
	off := 12
	for range 2 { // up to two VLAN tags
		if off+2 > len(b) {
			return
		}
		if t := be.Uint16(b[off:]); t != 0x8100 && t != 0x88a8 && t != 0x9100 {
			break
		}
		off += 4
	}
	if off+2 > len(b) {
		return
	}
	et := be.Uint16(b[off:])
	ip := b[off+2:]
	var words []int // offsets in ip of the address words
	var l4 []byte
	var proto byte
	switch {
	case et == 0x0800 && len(ip) >= 20 && ip[0]>>4 == 4:
		words = []int{14, 18}
		ihl := int(ip[0]&0xf) * 4
		if ihl >= 20 && len(ip) >= ihl && be.Uint16(ip[6:])&0x1fff == 0 {
			l4, proto = ip[ihl:], ip[9]
		}
	case et == 0x86dd && len(ip) >= 40 && ip[0]>>4 == 6:
		words = []int{22, 38}
		l4, proto = ip[40:], ip[6]
	default:
		return
	}
	// The checksum fields that cover the addresses.
	var sums []int // offsets in ip
	if et == 0x0800 {
		sums = append(sums, 10)
	}
	l4off, udp := len(ip)-len(l4), false
	switch {
	case proto == 6 && len(l4) >= 18:
		sums = append(sums, l4off+16)
	case proto == 17 && len(l4) >= 8 && (et == 0x86dd || be.Uint16(l4[6:]) != 0):
		sums = append(sums, l4off+6) // 0 over IPv4: no checksum
		udp = true
	}
	for _, o := range words {
		old := be.Uint16(ip[o:])
		be.PutUint16(ip[o:], old^k)
		for _, s := range sums {
			be.PutUint16(ip[s:], adjustSum(be.Uint16(ip[s:]), old, old^k))
		}
	}
	if udp && be.Uint16(ip[l4off+6:]) == 0 {
		be.PutUint16(ip[l4off+6:], 0xffff) // a UDP sum of 0 is sent as all ones
	}
}

// adjustSum returns the Internet checksum sum updated for one 16-bit word
// of the data it covers changing from old to nw (RFC 1624, eqn. 3).
func adjustSum(sum, old, nw uint16) uint16 {
	x := uint32(^sum) + uint32(^old) + uint32(nw)
	x = x&0xffff + x>>16
	x = x&0xffff + x>>16
	return ^uint16(x)
}
