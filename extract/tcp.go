package extract

// The tcp extractor follows extractors.md ("tcp") to the letter. Its
// retransmission, out-of-order and duplicate-ACK counts are meant to be
// cross-checked against tshark's tcp.analysis.* flags, which use different
// rules on purpose. The intended differences:
//
//   - Judged segments. We judge only segments with payload > 0; tshark
//     also judges SYN and FIN segments without payload, so a retransmitted
//     SYN or bare FIN is a tshark retransmission and not one of ours.
//   - Retransmission. Ours: every byte of the segment (its SYN and FIN
//     sequence numbers included) was seen before in that direction. tshark:
//     the segment starts below its nextseq, so a segment that overlaps old
//     bytes but also carries new ones is a tshark retransmission and not
//     ours. tshark also splits retransmissions into three flags: compare
//     our count with tcp.analysis.retransmission ||
//     tcp.analysis.fast_retransmission ||
//     tcp.analysis.spurious_retransmission, minus the segments we count as
//     out of order.
//   - Out of order. Ours: the segment is not a retransmission and covers
//     bytes of a gap left earlier (a hole below next expected). tshark's is
//     time based: a segment that does not advance nextseq and arrives
//     within the first RTT (3 ms when unknown) of the highest segment. A
//     late retransmission that fills a hole made by capture loss is out of
//     order here and a retransmission in tshark; a quick re-send of bytes
//     already seen is a retransmission here and may be out of order there.
//   - Keep-alives. tshark never flags a keep-alive (0 or 1 byte at
//     nextseq − 1) as a retransmission. A 1-byte keep-alive repeats a byte
//     already seen, so we count it as one; a 0-byte one is not judged.
//   - Zero-window probes. tshark flags a 1-byte segment at nextseq sent
//     while the peer's window is 0 as a ZeroWindowProbe and does not advance
//     nextseq for it, so re-sent probes stay probes. Here the first probe
//     carries a new byte (not a retransmission) and, like every packet,
//     moves next expected; a probe re-sent with the same byte therefore
//     repeats a byte seen before and counts as a retransmission.
//   - Next expected. tshark advances nextseq except for zero-window probes
//     and compares sequence numbers modulo 2^32; we advance it on every
//     packet with a TCP header (pure ACKs and RSTs included: one whose
//     sequence number is above next expected opens a gap) and unwrap
//     sequence numbers to 64 bits, to the value nearest next expected.
//   - Gaps. We keep up to maxHoles holes per direction (below), far more
//     than any real connection has open at once; only beyond that is the
//     lowest (oldest) one forgotten, its bytes then counting as seen. Bytes
//     below the direction's first sequence number were not seen either,
//     but they are no gap (no segment started above next expected): a
//     segment there is neither retransmitted nor out of order, lowers the
//     start of the seen range and, if it stops short of it, leaves an
//     unseen range that is not a gap, so filling it later is not counted
//     as out of order.
//   - Duplicate ACKs. Ours: a pure ACK (no payload, no SYN/FIN/RST) with
//     the same ACK number and window as the previous ACK-carrying packet of
//     the same direction. tshark also requires a non-zero window and the
//     sequence number to equal nextseq, compares with the previous segment
//     whatever its flags, and labels window updates, keep-alive ACKs and
//     zero-window-probe ACKs separately; repeated zero-window ACKs are
//     duplicate ACKs here and not in tshark.
//   - Scope. tshark analyses a whole TCP stream; our state lives and dies
//     with the flow (flow-meta.md §3), so a connection split by a timeout
//     starts afresh in the new flow.

import (
	"sync"
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/internal/prefetch"
	"github.com/jjflow/jj/output"
)

// TCP is the tcp extractor: flag counts and ratios, handshake and close
// state, initial windows, retransmissions, out-of-order segments,
// duplicate ACKs and the handshake RTT. Only packets whose TCP header was
// decoded (decode.FlagTCP) carry flags and sequence numbers; every packet
// of the flow counts in the ratios' denominator, as total_packets does.
// Every column is 0 or false for a flow whose protocol is not 6.
//
// The state is a fixed-size value per slot, with no pointer in it: no
// per-packet allocation, and nothing for the garbage collector to scan.
// The few directions with unseen ranges keep them apart (holeSets).
type TCP struct {
	cols    []output.Column
	state   slab[tcpState]
	empty   tcpState
	holes   holeSets
	carries map[uint64]uint64 // the high words of wrapped counters (inc)
}

// reset clears slot's state s, giving its holes and carries back.
func (t *TCP) reset(slot uint32, s *tcpState) {
	for i := range s.dir {
		t.holes.release(&s.dir[i])
	}
	if s.wide {
		for k := range t.carries {
			if uint32(k>>16) == slot {
				delete(t.carries, k)
			}
		}
	}
	*s = tcpState{}
}

// The packet counters of a flow's state are 32-bit: each counts packets
// of the flow, and only a flow of 2^32 packets or more could wrap one. A
// counter that wraps carries into TCP.carries, under its slot and its
// offset in the state, and count adds the carries back, so that the
// counts stay exact; the state marks that it has some (wide). 64-bit
// counters made the state 64 bytes larger (240 bytes against 176), a
// tenth of --features all's memory with a million flows open.

// inc adds one to counter c of slot's state s.
func (t *TCP) inc(slot uint32, s *tcpState, c *uint32) {
	if *c++; *c == 0 {
		t.carry(slot, s, c)
	}
}

// carry records that counter c of slot's state s wrapped.
//
//go:noinline
func (t *TCP) carry(slot uint32, s *tcpState, c *uint32) {
	if t.carries == nil {
		t.carries = map[uint64]uint64{}
	}
	t.carries[carryKey(slot, s, c)]++
	s.wide = true
}

// count returns counter c of slot's state s, carries included.
func (t *TCP) count(slot uint32, s *tcpState, c *uint32) uint64 {
	v := uint64(*c)
	if s.wide {
		v += t.carries[carryKey(slot, s, c)] << 32
	}
	return v
}

// carryKey is the key of counter c of slot's state s in TCP.carries.
func carryKey(slot uint32, s *tcpState, c *uint32) uint64 {
	return uint64(slot)<<16 | uint64(uintptr(unsafe.Pointer(c))-uintptr(unsafe.Pointer(s)))
}

// maxHoles bounds the unseen ranges remembered per direction. Holes live
// in a slice allocated only by a flow that has one (capture loss,
// reordering), so the bound costs nothing otherwise.
const maxHoles = 1024

// hole is a range [start, end) of unwrapped sequence numbers not seen yet.
// gap is true for a gap (opened by a segment that started above next
// expected: filling it is out of order) and false for bytes below the
// direction's first sequence number (filling them is neither).
type hole struct {
	start, end int64
	gap        bool
}

// holeSets holds the holes of the directions that have any, in order and
// disjoint, each under a reference kept in its tcpDir (1 + its index here;
// 0: no holes). Kept out of the per-flow state, they cost an in-order
// connection 4 bytes a direction, where a slice took 24 and made the
// state one the garbage collector scans. Released references are kept for
// reuse, up to maxPooled of them with a small slice (spare), which get
// hands out first, the others with none (free).
type holeSets struct {
	sets  [][]hole
	spare []uint32 // released references whose slice has room
	free  []uint32 // released references without a slice
}

// maxPooled bounds the released hole slices kept for reuse.
const maxPooled = 4096

// of returns the holes of reference ref.
func (h *holeSets) of(ref uint32) []hole {
	if ref == 0 {
		return nil
	}
	return h.sets[ref-1]
}

// get gives d a reference if it has none, and returns d's holes.
func (h *holeSets) get(d *tcpDir) []hole {
	if d.holes == 0 {
		if n := len(h.spare); n > 0 {
			d.holes, h.spare = h.spare[n-1], h.spare[:n-1]
		} else if n := len(h.free); n > 0 {
			d.holes, h.free = h.free[n-1], h.free[:n-1]
		} else {
			h.sets = append(h.sets, nil)
			d.holes = uint32(len(h.sets))
		}
	}
	return h.sets[d.holes-1]
}

// release gives d's reference back, keeping a small slice for reuse.
func (h *holeSets) release(d *tcpDir) {
	if d.holes == 0 {
		return
	}
	i := d.holes - 1
	if c := cap(h.sets[i]); c > 0 && c <= 64 && len(h.spare) < maxPooled {
		h.sets[i] = h.sets[i][:0]
		h.spare = append(h.spare, d.holes)
	} else {
		h.sets[i] = nil
		h.free = append(h.free, d.holes)
	}
	d.holes = 0
}

// tcpDir is one direction's TCP state.
type tcpDir struct {
	next, low int64  // seen bytes: [low, next) minus the holes
	holes     uint32 // holeSets reference, 0 if none
	started   bool
	haveAck   bool
	flags     decode.TCPFlags // OR of the flag bytes
	initWin   uint16
	lastWin   uint16
	lastAck   uint32
	syn, psh  uint32 // SYN without ACK; PSH (counters: inc)
	retrans   uint32
	ooo       uint32
	dupAck    uint32
}

// Prefetch implements Prefetcher: the flow's TCP state, at stage 0. (For
// a UDP or ICMP flow, whose Emit reads none of it, the lines are fetched
// for nothing: the table's hint carries no protocol.)
func (t *TCP) Prefetch(slot uint32, stage int) {
	if stage != 0 || !t.state.has(slot) {
		return
	}
	// Addresses by offset, as in Observe.
	a := unsafe.Pointer(t.state.at(slot))
	d := unsafe.Add(a, unsafe.Offsetof(tcpState{}.dir))
	prefetch.Lines3(a, d, unsafe.Add(d, unsafe.Sizeof(tcpDir{})))
}

// tcpState is one flow's TCP state.
//
// It holds no packet count: the ratios' denominator is the flow's
// total_packets (Flow.Counts), and a packet with no TCP header, as every
// packet of a UDP or ICMP flow, leaves the state alone. Its counters are
// 32-bit, with carries kept apart (inc).
type tcpState struct {
	used                  bool // a packet with a TCP header came (first: in the first line)
	respSynAck, anomaly   bool
	wide                  bool  // a counter wrapped: TCP.carries holds its carries
	hs                    uint8 // handshake: 1 SYN, 2 SYN-ACK after it, 3 ACK after that
	synack, fin, rst, ack uint32
	urg, ece, cwr         uint32
	data, ackOnly         uint32
	synTS, ackTS          int64
	dir                   [2]tcpDir
}

var _ Extractor = (*TCP)(nil)

// Handshake stages.
const (
	hsSyn      = 1
	hsSynAck   = 2
	hsComplete = 3
)

// tcp_fstat bits.
const (
	fstatInitSyn    = 0x01
	fstatRespSynAck = 0x02
	fstatHandshake  = 0x04
	fstatInitFin    = 0x08
	fstatRespFin    = 0x10
	fstatRst        = 0x20
	fstatData       = 0x40
	fstatAnomaly    = 0x80
)

func ccol(name string, t output.Type, unit, dir, desc string) output.Column {
	return col("tcp", name, t, unit, dir, desc)
}

// tcpNumbers is how many of tcpColumns hold numbers (TestColumnNumbers):
// a constant, for newColWriter.
const tcpNumbers = 39

var tcpColumns = []output.Column{
	ccol("tcp_is_tcp", output.Bool, "", "", "the flow's IP protocol is 6 (TCP); every other tcp column is 0 or false when it is not"),
	ccol("tcp_syn_count", output.Int, "packets", "both", "packets with SYN and without ACK"),
	ccol("tcp_synack_count", output.Int, "packets", "both", "packets with SYN and ACK"),
	ccol("tcp_fin_count", output.Int, "packets", "both", "packets with FIN"),
	ccol("tcp_rst_count", output.Int, "packets", "both", "packets with RST"),
	ccol("tcp_ack_count", output.Int, "packets", "both", "packets with ACK"),
	ccol("tcp_psh_count", output.Int, "packets", "both", "packets with PSH"),
	ccol("tcp_urg_count", output.Int, "packets", "both", "packets with URG"),
	ccol("tcp_ece_count", output.Int, "packets", "both", "packets with ECE"),
	ccol("tcp_cwr_count", output.Int, "packets", "both", "packets with CWR"),
	ccol("tcp_syn_count_fwd", output.Int, "packets", "fwd", "initiator packets with SYN and without ACK"),
	ccol("tcp_syn_count_bwd", output.Int, "packets", "bwd", "responder packets with SYN and without ACK"),
	ccol("tcp_psh_count_fwd", output.Int, "packets", "fwd", "initiator packets with PSH"),
	ccol("tcp_psh_count_bwd", output.Int, "packets", "bwd", "responder packets with PSH"),
	ccol("tcp_data_packets", output.Int, "packets", "both", "TCP segments with payload > 0"),
	ccol("tcp_ack_only_packets", output.Int, "packets", "both", "segments with ACK, no payload and none of SYN, FIN, RST"),
	ccol("tcp_syn_ratio", output.Float, "", "both", "(tcp_syn_count + tcp_synack_count) / all packets of the flow"),
	ccol("tcp_fin_ratio", output.Float, "", "both", "tcp_fin_count / all packets of the flow"),
	ccol("tcp_rst_ratio", output.Float, "", "both", "tcp_rst_count / all packets of the flow"),
	ccol("tcp_psh_ratio", output.Float, "", "both", "tcp_psh_count / all packets of the flow"),
	ccol("tcp_initiator_syn", output.Bool, "", "fwd", "the initiator sent a SYN without ACK"),
	ccol("tcp_responder_synack", output.Bool, "", "bwd", "the responder sent a SYN-ACK"),
	ccol("tcp_complete_handshake", output.Bool, "", "both", "an initiator SYN, then a responder SYN-ACK, then an initiator ACK without SYN, in capture order"),
	ccol("tcp_graceful_close", output.Bool, "", "both", "both sides sent a FIN"),
	ccol("tcp_reset_close", output.Bool, "", "both", "some packet has RST"),
	ccol("tcp_flags_anomaly", output.Bool, "", "both", "some segment has no flag, or FIN+PSH+URG, or FIN without ACK, or SYN+FIN, or SYN+RST"),
	ccol("tcp_fstat", output.Int, "", "both", "bitmap: 0x01 initiator SYN, 0x02 responder SYN-ACK, 0x04 handshake complete, 0x08 initiator FIN, 0x10 responder FIN, 0x20 RST, 0x40 data, 0x80 anomaly"),
	ccol("tcp_flags_agg", output.Int, "", "both", "OR of the TCP flag bytes of all segments (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80)"),
	ccol("tcp_flags_fwd", output.Int, "", "fwd", "OR of the flag bytes of the initiator's segments"),
	ccol("tcp_flags_bwd", output.Int, "", "bwd", "OR of the flag bytes of the responder's segments"),
	ccol("tcp_initial_window_fwd", output.Int, "bytes", "fwd", "window field (unscaled) of the initiator's first segment; 0 if none"),
	ccol("tcp_initial_window_bwd", output.Int, "bytes", "bwd", "window field (unscaled) of the responder's first segment; 0 if none"),
	ccol("tcp_retrans_fwd", output.Int, "packets", "fwd", "initiator segments with payload all of whose sequence numbers (SYN and FIN included) were seen before"),
	ccol("tcp_retrans_bwd", output.Int, "packets", "bwd", "responder segments with payload all of whose sequence numbers were seen before"),
	ccol("tcp_out_of_order_fwd", output.Int, "packets", "fwd", "initiator segments with payload, not retransmissions, that cover bytes of an earlier gap"),
	ccol("tcp_out_of_order_bwd", output.Int, "packets", "bwd", "responder segments with payload, not retransmissions, that cover bytes of an earlier gap"),
	ccol("tcp_dup_ack_fwd", output.Int, "packets", "fwd", "initiator pure ACKs repeating the ACK number and window of the initiator's previous ACK-carrying segment"),
	ccol("tcp_dup_ack_bwd", output.Int, "packets", "bwd", "responder pure ACKs repeating the ACK number and window of the responder's previous ACK-carrying segment"),
	ccol("tcp_handshake_rtt", output.Float, "s", "both", "time of the initiator's first ACK without SYN after the responder's SYN-ACK minus that of the initiator's first SYN; 0 without a complete handshake"),
}

// NewTCP builds the tcp extractor. It has no options.
func NewTCP(o Options) *TCP {
	t := &TCP{cols: tcpColumns}
	t.state.spares = &tcpSpares
	return t
}

// tcpSpares are the state chunks of released tcp extractors.
var tcpSpares sync.Pool

var _ Releaser = (*TCP)(nil)

// Release implements Releaser: the flows' holes and carries go with their
// state, whether or not the flows ended.
func (t *TCP) Release() {
	t.state.release()
	t.holes, t.carries = holeSets{}, nil
}

// Name returns "tcp".
func (t *TCP) Name() string { return "tcp" }

// Columns returns the tcp columns.
func (t *TCP) Columns() []output.Column { return t.cols }

// Observe folds each packet's flags and sequence numbers into its flow.
func (t *TCP) Observe(refs []Ref) {
	t.state.reserve(refs)
	for i := range refs {
		if j := i + prefetch.Ahead; j < len(refs) {
			// Addresses by offset: &a.dir[k] would load a's line to
			// check a for nil, and wait for the miss being prefetched.
			// A packet with no TCP header reads the first line only if
			// it starts a flow.
			rj := &refs[j]
			a := unsafe.Pointer(t.state.at(rj.Slot))
			if rj.Pkt.Flags&decode.FlagTCP != 0 {
				d := unsafe.Add(a, unsafe.Offsetof(tcpState{}.dir)+uintptr(rj.Dir&1)*unsafe.Sizeof(tcpDir{}))
				prefetch.Lines3(a, d, unsafe.Add(d, unsafe.Offsetof(tcpDir{}.syn)))
			} else if rj.New {
				prefetch.Line(a)
			}
		}
		r := &refs[i]
		s := t.state.at(r.Slot)
		if r.New && s.used {
			// Emit resets a flow's state, so a new flow's slot is
			// normally clean already; clearing 176 bytes it never wrote
			// would cost every new flow.
			t.reset(r.Slot, s)
		}
		p := r.Pkt
		if p.Flags&decode.FlagTCP == 0 {
			continue
		}
		s.used = true
		fl := p.TCPFlags
		dir := r.Dir & 1
		d := &s.dir[dir]
		d.flags |= fl
		syn, ack := fl&decode.TCPSyn != 0, fl&decode.TCPAck != 0
		if syn {
			if ack {
				t.inc(r.Slot, s, &s.synack)
				s.respSynAck = s.respSynAck || dir == Bwd
			} else {
				t.inc(r.Slot, s, &d.syn)
			}
		}
		if fl&decode.TCPFin != 0 {
			t.inc(r.Slot, s, &s.fin)
		}
		if fl&decode.TCPRst != 0 {
			t.inc(r.Slot, s, &s.rst)
		}
		if ack {
			t.inc(r.Slot, s, &s.ack)
		}
		if fl&decode.TCPPsh != 0 {
			t.inc(r.Slot, s, &d.psh)
		}
		if fl&decode.TCPUrg != 0 {
			t.inc(r.Slot, s, &s.urg)
		}
		if fl&decode.TCPEce != 0 {
			t.inc(r.Slot, s, &s.ece)
		}
		if fl&decode.TCPCwr != 0 {
			t.inc(r.Slot, s, &s.cwr)
		}
		pure := ack && p.Payload == 0 && fl&(decode.TCPSyn|decode.TCPFin|decode.TCPRst) == 0
		if p.Payload > 0 {
			t.inc(r.Slot, s, &s.data)
		} else if pure {
			t.inc(r.Slot, s, &s.ackOnly)
		}
		if anomalous(fl) {
			s.anomaly = true
		}

		switch {
		case s.hs == 0 && dir == Fwd && syn && !ack:
			s.hs, s.synTS = hsSyn, p.Timestamp
		case s.hs == hsSyn && dir == Bwd && syn && ack:
			s.hs = hsSynAck
		case s.hs == hsSynAck && dir == Fwd && ack && !syn:
			s.hs, s.ackTS = hsComplete, p.Timestamp
		}

		switch d.segment(p.Seq, p.Payload, fl, p.Window, &t.holes) {
		case outOfOrder:
			t.inc(r.Slot, s, &d.ooo)
		case retransmitted:
			t.inc(r.Slot, s, &d.retrans)
		}
		if ack {
			if pure && d.haveAck && p.Ack == d.lastAck && p.Window == d.lastWin {
				t.inc(r.Slot, s, &d.dupAck)
			}
			d.haveAck, d.lastAck, d.lastWin = true, p.Ack, p.Window
		}
	}
}

// anomalous reports the flag combinations of tcp_flags_anomaly.
func anomalous(fl decode.TCPFlags) bool {
	const (
		fin = decode.TCPFin
		syn = decode.TCPSyn
		rst = decode.TCPRst
	)
	return fl == 0 ||
		fl.Has(fin|decode.TCPPsh|decode.TCPUrg) ||
		fl&fin != 0 && fl&decode.TCPAck == 0 ||
		fl.Has(syn|fin) ||
		fl.Has(syn|rst)
}

// A segment's verdict.
const (
	inOrder       = iota // or not judged: no payload
	outOfOrder           // covers bytes of a gap
	retransmitted        // every byte seen before
)

// segment runs the sequence analysis for one segment of this direction:
// it judges a segment with payload (retransmitted, out of order, or
// neither), then records its bytes as seen, and returns its verdict. SYN
// and FIN each occupy one sequence number.
func (d *tcpDir) segment(seq, payload uint32, fl decode.TCPFlags, win uint16, st *holeSets) (verdict int) {
	n := int64(payload)
	if fl&decode.TCPSyn != 0 {
		n++
	}
	if fl&decode.TCPFin != 0 {
		n++
	}
	if !d.started {
		d.started, d.initWin = true, win
		d.low = int64(seq)
		d.next = d.low + n
		return inOrder
	}
	// Unwrap to the 64-bit value nearest next expected.
	s := d.next + int64(int32(seq-uint32(d.next)))
	e := s + n
	hs := st.of(d.holes)
	if payload > 0 {
		gap, unseen := overlaps(hs, s, e)
		switch {
		case gap:
			verdict = outOfOrder
		case !unseen && s >= d.low && e <= d.next:
			verdict = retransmitted
		}
	}
	if e > s {
		hs = fill(hs, s, e)
		if s < d.low {
			if e < d.low {
				if d.holes == 0 {
					hs = st.get(d) // empty: fill found no hole
				}
				hs = addHole(hs, hole{start: e, end: d.low})
			}
			d.low = s
		}
	}
	if s > d.next {
		if d.holes == 0 {
			hs = st.get(d)
		}
		hs = addHole(hs, hole{start: d.next, end: s, gap: true})
	}
	if d.holes != 0 {
		st.sets[d.holes-1] = hs
	}
	d.next = max(d.next, e)
	return verdict
}

// overlaps reports whether [s, e) covers bytes of a gap, and of any hole.
func overlaps(hs []hole, s, e int64) (gap, unseen bool) {
	for _, h := range hs {
		if h.start < e && s < h.end {
			unseen = true
			gap = gap || h.gap
		}
	}
	return gap, unseen
}

// fill marks [s, e) as seen: holes shrink, vanish or split in two. It
// works in place: holes are disjoint, so at most one contains [s, e)
// strictly and splits, and then no other hole overlaps it.
func fill(hs []hole, s, e int64) []hole {
	if _, unseen := overlaps(hs, s, e); !unseen {
		return hs // the common case: an in-order stream has no hole
	}
	k := 0
	for i, h := range hs {
		switch {
		case h.end <= s || e <= h.start:
			hs[k] = h
			k++
		case h.start < s && e < h.end:
			// Split: every earlier hole was kept (k == i).
			hs = append(hs, hole{})
			copy(hs[i+2:], hs[i+1:])
			hs[i] = hole{h.start, s, h.gap}
			hs[i+1] = hole{e, h.end, h.gap}
			return hs
		case h.start < s:
			hs[k] = hole{h.start, s, h.gap}
			k++
		case e < h.end:
			hs[k] = hole{e, h.end, h.gap}
			k++
		}
	}
	return hs[:k]
}

// addHole inserts h (disjoint from the others) in order, merging it with a
// neighbour of the same kind that it touches, and forgets the lowest hole
// beyond maxHoles (its bytes then count as seen).
func addHole(hs []hole, h hole) []hole {
	i := 0
	for i < len(hs) && hs[i].start < h.start {
		i++
	}
	if i > 0 && hs[i-1].end == h.start && hs[i-1].gap == h.gap {
		hs[i-1].end = h.end
		i--
	} else {
		hs = append(hs, hole{})
		copy(hs[i+1:], hs[i:])
		hs[i] = h
	}
	if i+1 < len(hs) && hs[i].end == hs[i+1].start && hs[i].gap == hs[i+1].gap {
		hs[i].end = hs[i+1].end
		hs = append(hs[:i+1], hs[i+2:]...)
	}
	if len(hs) > maxHoles {
		hs = hs[1:]
	}
	return hs
}

// Emit appends the flow's tcp values and resets a TCP flow's slot (a
// flow of another protocol never wrote it).
func (t *TCP) Emit(slot uint32, f *Flow, b *output.Batch, base int) {
	isTCP := f != nil && f.Proto == 6
	s := &t.empty
	var packets uint64 // total_packets
	if isTCP {
		s = t.state.get(slot)
		packets = f.Counts.Packets[Fwd] + f.Counts.Packets[Bwd]
	}
	w := newColWriter(b, base, tcpNumbers)
	fw, bw := &s.dir[Fwd], &s.dir[Bwd]

	c := func(p *uint32) uint64 { return t.count(slot, s, p) }
	synFwd, synBwd := c(&fw.syn), c(&bw.syn)
	pshFwd, pshBwd := c(&fw.psh), c(&bw.psh)
	synack, fin, rst, data := c(&s.synack), c(&s.fin), c(&s.rst), c(&s.data)
	syn, psh := synFwd+synBwd, pshFwd+pshBwd

	w = w.bool(isTCP)
	w = w.uint(syn)
	w = w.uint(synack)
	w = w.uint(fin)
	w = w.uint(rst)
	w = w.uint(c(&s.ack))
	w = w.uint(psh)
	w = w.uint(c(&s.urg))
	w = w.uint(c(&s.ece))
	w = w.uint(c(&s.cwr))
	w = w.uint(synFwd)
	w = w.uint(synBwd)
	w = w.uint(pshFwd)
	w = w.uint(pshBwd)
	w = w.uint(data)
	w = w.uint(c(&s.ackOnly))
	w = w.float(fraction(syn+synack, packets))
	w = w.float(fraction(fin, packets))
	w = w.float(fraction(rst, packets))
	w = w.float(fraction(psh, packets))

	var fstat uint8
	if synFwd > 0 {
		fstat |= fstatInitSyn
	}
	if s.respSynAck {
		fstat |= fstatRespSynAck
	}
	if s.hs == hsComplete {
		fstat |= fstatHandshake
	}
	if fw.flags&decode.TCPFin != 0 {
		fstat |= fstatInitFin
	}
	if bw.flags&decode.TCPFin != 0 {
		fstat |= fstatRespFin
	}
	if rst > 0 {
		fstat |= fstatRst
	}
	if data > 0 {
		fstat |= fstatData
	}
	if s.anomaly {
		fstat |= fstatAnomaly
	}
	w = w.bool(fstat&fstatInitSyn != 0)
	w = w.bool(fstat&fstatRespSynAck != 0)
	w = w.bool(fstat&fstatHandshake != 0)
	w = w.bool(fstat&(fstatInitFin|fstatRespFin) == fstatInitFin|fstatRespFin)
	w = w.bool(rst > 0)
	w = w.bool(s.anomaly)
	w = w.int(int64(fstat))
	w = w.int(int64(fw.flags | bw.flags))
	w = w.int(int64(fw.flags))
	w = w.int(int64(bw.flags))
	w = w.int(int64(fw.initWin))
	w = w.int(int64(bw.initWin))
	w = w.uint(c(&fw.retrans))
	w = w.uint(c(&bw.retrans))
	w = w.uint(c(&fw.ooo))
	w = w.uint(c(&bw.ooo))
	w = w.uint(c(&fw.dupAck))
	w = w.uint(c(&bw.dupAck))
	if s.hs == hsComplete {
		w = w.float(Seconds(max(s.ackTS-s.synTS, 0)))
	} else {
		w = w.float(0)
	}

	if s != &t.empty {
		t.reset(slot, s)
	}
}
