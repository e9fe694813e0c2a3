package extract

import (
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
// cache lines of per-flow state that way, three now (the log's record, the
// tail of its series, the word of its bitmap). Observe is mostly cache
// misses with many concurrent flows: --features all takes 11-13 % less
// time at 100 000 of them, half the time at a million (bench/RESULTS.md).
//
// Build gives timing and size one log when both are selected: the first
// of them in column order (timing) observes it, the last (size) releases a
// flow's packets at Emit. Built alone, each has a log of its own and does
// both (logRole).
type packetLog struct {
	state   slab[logState]
	pktPool pool[logPacket]
	bitPool pool[uint64]
}

// logPacket is one packet of a flow's log.
type logPacket struct {
	ts  int64  // timestamp, ns
	len uint32 // IP length (decode.Packet.Length)
	pay uint32 // payload length (decode.Packet.Payload)
}

// logState is one flow's packets.
type logState struct {
	pkts []logPacket // capture order
	dirs bitmap      // bit i set: packet i is backward
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
// they share: the flow's log record, then its first packets and direction
// bits.
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

// ownLog returns the role of an extractor with a log of its own.
func ownLog() logRole {
	return logRole{log: new(packetLog), observe: true, release: true}
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
			}
			if w := len(a.pkts) >> 6; w < cap(a.dirs) {
				bit = unsafe.Pointer(&a.dirs[:w+1][w])
			}
		}
		prefetch.Lines3(next, tail, bit)
		s := l.state.at(r.Slot)
		if r.New {
			s.pkts = l.pktPool.reuse(s.pkts)
			s.dirs = l.bitPool.reuse(s.dirs)
		}
		p := r.Pkt
		k := len(s.pkts)
		s.pkts = append(s.pkts, logPacket{ts: p.Timestamp, len: p.Length, pay: p.Payload})
		s.dirs = s.dirs.set(k, r.Dir == Bwd)
	}
}

// at returns the flow's log.
func (l *packetLog) at(slot uint32) *logState { return l.state.get(slot) }

// release gives the flow's buffers back to the pools and clears its log.
func (l *packetLog) release(slot uint32) {
	s := l.state.get(slot)
	l.pktPool.put(s.pkts)
	l.bitPool.put(s.dirs)
	*s = logState{}
}
