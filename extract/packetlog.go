package extract

import (
	"sync"
	"unsafe"

	"github.com/jjflow/jj/internal/prefetch"
)

// packetLog keeps every packet of each flow in capture order: timestamp,
// IP length, payload length and direction. The timing and size extractors
// need exact medians and percentiles, so they must keep the values; they
// keep them in one log between them and compute every column at Emit.
//
// Before, each kept a series and a direction bitmap of its own and size
// streamed its payload sums into a per-flow record: a packet touched eight
// cache lines of per-flow state that way, two now (the log's record and
// the tail of its series; from a flow's 65th packet on, also the word of
// its direction bitmap). Observe is mostly cache
// misses with many concurrent flows: --features all takes 11-13 % less
// time at 100 000 of them, half the time at a million (bench/RESULTS.md).
//
// Build gives timing and size one log when both are selected: the first
// of them in column order (timing) observes it, the last (size) releases a
// flow's packets at Emit. Built alone, each has a log of its own and does
// both (logRole).
//
// A flow's packets are kept in chunks of chunkLen: one that grows by
// doubling, as a slice would, and once it holds chunkLen packets it is set
// aside whole and a new one begins. A flow of millions of packets thus
// never copies its packets to a bigger slice: with one slice, its growth
// copied about four times the packets in all, and the runtime's garbage
// collector spun waiting for those long copies to end (two flows of 6 M
// packets each: 2.0 of 5.9 CPU-seconds went to the copies and the spin,
// bench/RESULTS.md). It also wastes at most one chunk a flow, where a
// slice's last growth leaves a quarter of it unused.
type packetLog struct {
	state     slab[logState]
	pktPool   classPool[logPacket] // buffers of fewer than chunkLen packets, by capacity
	chunkPool pool[logPacket]      // chunks of chunkLen packets
	bitPool   pool[uint64]
	chunkBits uint // chunkLen = 1 << chunkBits > logInitPackets (setChunkBits)

	// scratch is the Emit buffer of timing and size, which Emit one flow
	// after the other: sharing it halves what a huge flow needs at Emit.
	scratch []int64
}

// logChunkBits gives a chunk 256 packets (4 KiB), so that a flow copies
// at most 252 packets in all as its first chunk doubles (4, 8, …, 128);
// past that, its packets are never copied. With chunks of 65 536 packets,
// the copies of doubling took 7 % of the profile of --features all on the
// real-traffic tile (long flows), the wall time was about 7 % longer
// (medians) and peak RSS 157-173 MB against 146-147; flows of millions of
// packets, which Emit then walks in many more chunks, take 5-8 % longer
// (bench/RESULTS.md, session 24).
const logChunkBits = 8

// A new flow's log has room for logInitPackets packets and 64 directions
// (one word): most flows are short, and with a million open at once the
// 16 packets and 16 words it had before took 384 bytes a flow, 256 of
// them unused by a flow of 4 packets or fewer (peak RSS 1.08-1.26 GB ->
// 1.00-1.03 GB, bench/RESULTS.md). A longer flow doubles its buffer as it
// grows, from and to pools by size (classPool): a new flow takes a buffer
// of logInitPackets, and each growth the next size up, giving the
// outgrown one back. Left to the garbage collector, outgrown buffers were
// half of what --features all allocated, and peak RSS on the main
// benchmark capture was 237-240 MB against 189-192 MB; given back to one
// pool of all sizes, from which new flows took any, they filled it, and
// the peak rose by 20-30 MB instead.
const logInitPackets = 4

// newPacketLog returns an empty log.
func newPacketLog() *packetLog {
	l := &packetLog{}
	l.state.spares = &logSpares
	l.bitPool.init = 2 // a flow's bitmap starts at its 65th packet
	l.setChunkBits(logChunkBits)
	return l
}

// setChunkBits sets the chunk length to 1 << bits > logInitPackets
// packets, before any packet is logged; tests make it small.
func (l *packetLog) setChunkBits(bits uint) {
	l.chunkBits = bits
	l.chunkPool.init = 1 << bits
	l.pktPool = newClassPool[logPacket](logInitPackets, 1<<bits)
}

// logPacket is one packet of a flow's log.
type logPacket struct {
	ts  int64  // timestamp, ns
	len uint32 // IP length (decode.Packet.Length)
	pay uint32 // payload length (decode.Packet.Payload)
}

// logState is one flow's packets. It fills a cache line: the slab's
// chunks are page-aligned, so no flow's state straddles two lines. At 56
// bytes, unpadded, five in eight did, and --features all took 2-4 % more
// time on the benchmark capture (a miss more at Observe and at Emit).
//
// The directions of a flow's first 64 packets are a word of the state
// itself (dir0): most flows are shorter, and need no bitmap of their own,
// nor the cache line it takes at each packet. The 65th packet moves that
// word into dirs, which then holds every packet's direction.
type logState struct {
	pkts []logPacket    // the packets after those of full, capture order
	dirs bitmap         // empty, or bit i set: packet i (of all) is backward
	full *[][]logPacket // nil, or the flow's first packets in full chunks
	dir0 [1]uint64      // while dirs is empty: bit i set, packet i is backward
}

// directions returns the flow's direction bits: dirs, or the word of the
// state while dirs is empty.
func (s *logState) directions() bitmap {
	if len(s.dirs) == 0 {
		return s.dir0[:]
	}
	return s.dirs
}

// setDir records that packet k (of all) goes backward, or not.
func (s *logState) setDir(k int, bwd bool, bits *pool[uint64]) {
	if k < 64 && len(s.dirs) == 0 {
		if bwd {
			s.dir0[0] |= 1 << uint(k)
		}
		return
	}
	if len(s.dirs) == 0 {
		if s.dirs == nil {
			s.dirs = bits.get()
		}
		s.dirs = append(s.dirs, s.dir0[0])
	}
	s.dirs = s.dirs.set(k, bwd)
}

// logRole is an extractor's part in a packet log.
type logRole struct {
	log     *packetLog
	observe bool // append the packets of Observe
	release bool // give a flow's packets back after its Emit
}

// Observe appends the packets to the log if this extractor is the one that
// does: timing's and size's Observe.
func (r *logRole) Observe(refs []Ref) {
	if r.observe {
		r.log.observe(refs)
	}
}

// Prefetch implements Prefetcher for timing and size, once for the log
// they share: the flow's log record, then the first packets of its last
// chunk (of its only one, but for a huge flow) and, past 64 packets, its
// direction bitmap.
func (r *logRole) Prefetch(slot uint32, stage int) {
	if !r.observe || !r.log.state.has(slot) {
		return
	}
	s := r.log.state.at(slot)
	if stage == 0 {
		prefetch.Line(unsafe.Pointer(s))
		return
	}
	if n := len(s.pkts); n > 0 {
		bits := unsafe.Pointer(&s.pkts[0])
		if len(s.dirs) > 0 {
			bits = unsafe.Pointer(&s.dirs[0])
		}
		prefetch.Lines3(unsafe.Pointer(&s.pkts[0]), unsafe.Pointer(&s.pkts[min(n-1, 4)]), bits)
	}
}

// releaseLog gives the flow's packets back, after its Emit, if this
// extractor is the one that does.
func (r *logRole) releaseLog(slot uint32) {
	if r.release {
		r.log.release(slot)
	}
}

// Release implements Releaser for timing and size, once for the log they
// share: by the extractor that gives flows' packets back.
func (r *logRole) Release() {
	if r.release {
		r.log.state.release()
	}
}

var _, _ Releaser = (*Timing)(nil), (*Size)(nil)

// logSpares are the state chunks of released packet logs.
var logSpares sync.Pool

// ownLog returns the role of an extractor with a log of its own.
func ownLog() logRole {
	return logRole{log: newPacketLog(), observe: true, release: true}
}

// shareLog gives the timing and size extractors of exs one packet log.
func shareLog(exs []Extractor) {
	var users []*logRole
	for _, ex := range exs {
		switch e := ex.(type) {
		case *Timing:
			users = append(users, &e.logRole)
		case *Size:
			users = append(users, &e.logRole)
		}
	}
	if len(users) < 2 {
		return
	}
	shared := users[0].log
	for i, u := range users {
		*u = logRole{log: shared, observe: i == 0, release: i == len(users)-1}
	}
}

// observe appends each packet to its flow's log; a packet that starts a
// flow starts its log afresh.
func (l *packetLog) observe(refs []Ref) {
	l.state.reserve(refs)
	for i := range refs {
		r := &refs[i]
		// One call prefetches the log record of the packet 2·Ahead
		// ahead and, for the one Ahead ahead (whose record came in by
		// now), where its packet and direction bit go. A line not to
		// fetch is r's own, in cache already.
		here := unsafe.Pointer(r)
		next, tail, bit := here, here, here
		if j := i + 2*prefetch.Ahead; j < len(refs) {
			next = unsafe.Pointer(l.state.at(refs[j].Slot))
		}
		if j := i + prefetch.Ahead; j < len(refs) {
			a := l.state.at(refs[j].Slot)
			if n := len(a.pkts); n < cap(a.pkts) {
				tail = unsafe.Pointer(&a.pkts[:n+1][n])
			} else if n > 0 && !refs[j].New {
				l.prefetchGrow(a.pkts)
			}
			if w := len(a.pkts) >> 6; len(a.dirs) > 0 && w < cap(a.dirs) {
				bit = unsafe.Pointer(&a.dirs[:w+1][w])
			}
		}
		prefetch.Lines3(next, tail, bit)
		s := l.state.at(r.Slot)
		if r.New {
			l.restart(s)
		}
		k := len(s.pkts)
		if k == cap(s.pkts) {
			l.grow(s)
			k = len(s.pkts)
		}
		p := r.Pkt
		s.pkts = s.pkts[:k+1]
		s.pkts[k] = logPacket{ts: p.Timestamp, len: p.Length, pay: p.Payload}
		if s.full != nil {
			k += len(*s.full) << l.chunkBits
		}
		s.setDir(k, r.Dir == Bwd, &l.bitPool)
	}
}

// prefetchGrow asks for the lines grow will copy pkts, a full buffer, from
// and to: its packets, and the first lines of the buffer the pool will
// give it, if it has one. Both are cold: the packets were written long
// ago, and the pool's buffer was last used by another flow. grow's copies
// took 7 % of --features all's profile on the synthetic capture; with the
// prefetches the run took 3.67-3.88 s against 3.69-3.94 s (medians 3.72
// and 3.86, eight rounds).
//
//go:noinline
func (l *packetLog) prefetchGrow(pkts []logPacket) {
	c := len(pkts)
	var next *pool[logPacket]
	if k := l.pktPool.class(c); k >= 0 && 2*c < 1<<l.chunkBits {
		next = &l.pktPool.classes[k+1]
	} else if 2*c == 1<<l.chunkBits {
		next = &l.chunkPool
	} else {
		// A full chunk, set aside, not copied: the packet goes to the
		// first line of the chunk the pool gives.
		if n := len(l.chunkPool.free); n > 0 {
			prefetch.Line(unsafe.Pointer(unsafe.SliceData(l.chunkPool.free[n-1])))
		}
		return
	}
	size := c * int(unsafe.Sizeof(pkts[0]))
	prefetch.Range(unsafe.Pointer(&pkts[0]), size)
	if n := len(next.free); n > 0 {
		prefetch.Range(unsafe.Pointer(unsafe.SliceData(next.free[n-1])), size)
	}
}

// restart empties a flow's log for a flow that starts in its slot: the
// slot's buffers if it still has them (restarted without Emit), or
// buffers from the pools.
func (l *packetLog) restart(s *logState) {
	l.putChunks(s)
	s.pkts = l.pktPool.classes[0].reuse(s.pkts)
	s.dirs, s.dir0 = s.dirs[:0], [1]uint64{}
}

// grow makes room for one more packet in a flow's last chunk, which is
// full: it moves its packets to one twice as big, or sets it aside when it
// holds chunkLen packets and starts the next. Out of line: most packets
// find room.
//
//go:noinline
func (l *packetLog) grow(s *logState) {
	chunkLen := 1 << l.chunkBits
	c := cap(s.pkts)
	if c == chunkLen {
		if s.full == nil {
			s.full = new([][]logPacket)
		}
		*s.full = append(*s.full, s.pkts)
		s.pkts = l.chunkPool.get()
		return
	}
	// The pools hold no buffer above chunkLen packets, nor do they give
	// one below logInitPackets, so c < chunkLen here, and a buffer of
	// c = logInitPackets<<k packets moves to one of class k+1 (or to a
	// chunk), the outgrown one back to class k.
	var p []logPacket
	if k := l.pktPool.class(c); k >= 0 && 2*c < chunkLen {
		p = l.pktPool.get(k + 1)
	} else if 2*c == chunkLen {
		p = l.chunkPool.get()
	} else {
		p = make([]logPacket, 0, min(max(2*c, logInitPackets), chunkLen))
	}
	p = append(p, s.pkts...)
	l.pktPool.put(s.pkts)
	s.pkts = p
}

// putChunks gives a flow's full chunks back to their pool.
func (l *packetLog) putChunks(s *logState) {
	if s.full == nil {
		return
	}
	for _, c := range *s.full {
		l.chunkPool.put(c)
	}
	s.full = nil
}

// at returns the flow's log.
func (l *packetLog) at(slot uint32) *logState { return l.state.get(slot) }

// packets returns the flow's packets, for Emit.
func (l *packetLog) packets(slot uint32) packets {
	s := l.state.get(slot)
	ps := packets{tail: s.pkts, dirs: s.directions(), bits: l.chunkBits}
	if s.full != nil {
		ps.full = *s.full
		ps.head = len(ps.full) << l.chunkBits
	}
	ps.n = ps.head + len(ps.tail)
	return ps
}

// scratchFor returns the log's scratch buffer with length n. A buffer
// grown by a huge flow is dropped at release.
func (l *packetLog) scratchFor(n int) []int64 {
	l.scratch = growScratch(l.scratch, n)
	return l.scratch
}

// release gives the flow's buffers back to the pools and clears its log.
func (l *packetLog) release(slot uint32) {
	s := l.state.get(slot)
	l.putChunks(s)
	if cap(s.pkts) == 1<<l.chunkBits {
		l.chunkPool.put(s.pkts)
	} else {
		l.pktPool.put(s.pkts)
	}
	l.bitPool.put(s.dirs)
	*s = logState{}
	l.scratch = trimScratch(l.scratch)
}

// packets is one flow's packets in capture order, as Emit reads them:
// those of the full chunks, then those of tail. Loops over all of them
// take the parts in turn:
//
//	for k := range ps.parts() {
//		for _, p := range ps.part(k) {
type packets struct {
	full [][]logPacket // chunks of 1<<bits packets
	tail []logPacket
	dirs bitmap // bit i set: packet i is backward
	bits uint
	head int // packets in full
	n    int // packets in all
}

// parts returns the number of parts: the full chunks and the tail.
func (ps *packets) parts() int { return len(ps.full) + 1 }

// part returns part k < parts().
func (ps *packets) part(k int) []logPacket {
	if k < len(ps.full) {
		return ps.full[k]
	}
	return ps.tail
}

// at returns packet i < n.
func (ps *packets) at(i int) *logPacket {
	if j := i - ps.head; j >= 0 {
		return &ps.tail[j]
	}
	return &ps.full[i>>ps.bits][i&(1<<ps.bits-1)]
}
