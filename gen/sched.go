package gen

// sched decides, packet by packet, whether the packet is a SYN-flood packet
// or which flow slot sends it, and draws the length of each new flow. It
// owns the scheduling stream and nothing else, so it can be replayed on its
// own: New runs a copy to the end to learn the last packet of every slot.
type sched struct {
	rng     rng
	rem     []int64 // packets left in each slot's flow; 0 starts a new flow
	started int     // slots started by the ramp so far
	forced  int     // slot whose flow just ended and that sends next, or -1
	left    int64   // packets left to schedule
	flood   int64   // SYN-flood packets left among them
	p       *params
	rstP    float64
}

// step is the decision for one packet.
type step struct {
	flood bool  // a SYN-flood packet, outside the slots
	slot  int   // the sending slot, when !flood
	fresh bool  // the packet starts the slot's flow: kind and rst are new
	last  bool  // the packet is the last one of its flow's plan
	rem   int64 // packets of the flow left after this one
	kind  kind
	rst   bool // TCP flow ending with a RST
}

// newSched returns the scheduler at the first packet. Only min(flows,
// packets that are not flood) slots can ever send, so no more are kept.
func newSched(c Config, p *params) sched {
	slots := int64(c.ConcurrentFlows)
	if n := c.Packets - c.SYNFlood; n < slots {
		slots = n
	}
	return sched{
		rng:    newRNG(c.Seed, streamSched),
		rem:    make([]int64, slots),
		forced: -1,
		left:   c.Packets,
		flood:  c.SYNFlood,
		p:      p,
		rstP:   c.RSTFraction,
	}
}

// next fills st with the decision for the next packet. The caller checks
// that packets are left.
//
// Flood packets are spread uniformly: the next packet is one with
// probability (flood packets left)/(packets left), which places exactly
// SYNFlood of them. Slots start during a ramp (each packet starts the next
// slot with probability 1/2, or goes to a started slot), so the capture does
// not open with a burst of handshakes; once all are started, a uniformly
// drawn slot sends. A slot whose flow has ended sends the next packet,
// which starts its new flow, so exactly ConcurrentFlows flows stay open.
func (s *sched) next(st *step) {
	s.left--
	if s.flood > 0 && int64(s.rng.below(uint64(s.left+1))) < s.flood {
		s.flood--
		*st = step{flood: true}
		return
	}
	var slot int
	switch {
	case s.forced >= 0:
		slot = s.forced
		s.forced = -1
	case s.started < len(s.rem):
		if s.started == 0 || s.rng.next()&1 == 0 {
			slot = s.started
			s.started++
		} else {
			slot = int(s.rng.below(uint64(s.started)))
		}
	default:
		slot = int(s.rng.below(uint64(len(s.rem))))
	}
	*st = step{slot: slot}
	if s.rem[slot] == 0 {
		st.fresh = true
		st.kind = s.drawKind()
		st.rst = st.kind == kindTCP && s.rng.float() < s.rstP
		s.rem[slot] = s.p.lengths[st.kind].draw(&s.rng)
	}
	s.rem[slot]--
	st.rem = s.rem[slot]
	if st.rem == 0 {
		st.last = true
		s.forced = slot
	}
}

// drawKind returns the kind of a new flow.
func (s *sched) drawKind() kind {
	u := s.rng.float()
	for k := range numKinds {
		// The first cumulative weight above u belongs to a kind of
		// positive weight.
		if u < s.p.kindCum[k] {
			return k
		}
	}
	// Rounding left the cumulative sum just below 1.
	return s.p.lastKind
}

// replay runs the whole schedule and returns, for each slot, the index of
// the last packet it sends (-1 if none), and the composition of the
// capture. A flow still open at its slot's last packet is cut there by the
// packet budget.
func replay(c Config, p *params) ([]int64, composition) {
	s := newSched(c, p)
	last := make([]int64, len(s.rem))
	plan := make([]struct {
		n    int64
		kind kind
		rst  bool
	}, len(s.rem))
	for i := range last {
		last[i] = -1
	}
	var m composition
	var st step
	for i := int64(0); s.left > 0; i++ {
		s.next(&st)
		if st.flood {
			continue
		}
		last[st.slot] = i
		pl := &plan[st.slot]
		if st.fresh {
			pl.n, pl.kind, pl.rst = st.rem+1, st.kind, st.rst
		}
		if st.last {
			m.add(pl.kind, pl.n, pl.rst, pl.n)
		}
	}
	for slot, pl := range plan {
		if s.rem[slot] > 0 {
			m.add(pl.kind, pl.n, pl.rst, pl.n-s.rem[slot])
		}
	}
	return last, m
}
