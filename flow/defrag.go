package flow

import "github.com/jjflow/jj/decode"

// MaxFrags bounds the fragmented datagrams Defrag remembers at once.
const MaxFrags = 1 << 16

// Defrag gives later IP fragments the ports of their datagram's first
// fragment (flow-meta.md §1): fragments match on source, destination,
// protocol and identification. It runs before packets are sharded, since a
// fragment's ports decide its flow. A first fragment is remembered for one
// idle timeout, and at most MaxFrags of them at once.
type Defrag struct {
	timeout int64
	frags   map[fragKey]fragVal
	order   fragQueue // insertion order, for expiry

	// Joined counts later fragments given their datagram's ports; Orphans
	// those whose first fragment was not seen, or was forgotten.
	Joined, Orphans uint64
	// Forgotten counts first fragments forgotten within the idle timeout
	// because MaxFrags others were remembered: their later fragments, if
	// any come, count in flows of ports 0.
	Forgotten uint64
}

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type fragVal struct {
	sport, dport uint16
	ts           int64
}

// NewDefrag returns a Defrag that forgets first fragments after timeout ns.
func NewDefrag(timeout int64) *Defrag {
	return &Defrag{timeout: timeout, frags: make(map[fragKey]fragVal)}
}

// Fix sets the ports of a later fragment, or remembers those of a first
// fragment. Call it for packets with decode.FlagFragment.
func (d *Defrag) Fix(p *decode.Packet) {
	fk := fragKey{src: p.Src, dst: p.Dst, id: p.FragID, proto: p.Proto, v6: p.V6}
	if p.Flags&decode.FlagLaterFragment != 0 {
		if v, ok := d.frags[fk]; ok {
			p.SrcPort, p.DstPort = v.sport, v.dport
			d.Joined++
		} else {
			d.Orphans++
		}
		return
	}
	if p.Flags&decode.FlagPorts == 0 {
		return
	}
	for d.order.n > 0 {
		old := d.order.front()
		v, ok := d.frags[old]
		if ok && p.Timestamp-v.ts <= d.timeout && len(d.frags) < MaxFrags {
			break
		}
		if ok {
			if p.Timestamp-v.ts <= d.timeout {
				d.Forgotten++
			}
			delete(d.frags, old)
		}
		d.order.pop()
	}
	if _, seen := d.frags[fk]; !seen {
		d.order.push(fk)
	}
	d.frags[fk] = fragVal{sport: p.SrcPort, dport: p.DstPort, ts: p.Timestamp}
}

// fragQueue is a first-in, first-out queue of keys in a ring that doubles
// when full, and never shrinks (at most MaxFrags keys: 2.6 MB). A slice
// cut from the front and appended to at the back reallocated and copied
// its live part every few thousand first fragments on the real-traffic
// tile (0.7 % of --features all's profile).
type fragQueue struct {
	ring []fragKey
	head int // index of the front key
	n    int // keys queued
}

func (q *fragQueue) front() fragKey { return q.ring[q.head] }

func (q *fragQueue) pop() {
	q.head = (q.head + 1) % len(q.ring)
	q.n--
}

func (q *fragQueue) push(k fragKey) {
	if q.n == len(q.ring) {
		r := make([]fragKey, max(16, 2*q.n))
		m := copy(r, q.ring[q.head:])
		copy(r[m:], q.ring[:q.head])
		q.ring, q.head = r, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = k
	q.n++
}

// Shard returns the worker, of n, that owns the flow whose key hashes to
// h (Keyed.Hash). It takes the hash's high bits, by a multiply and shift;
// a table's index takes the low bits, so the flows of one worker still
// spread over its whole index.
func Shard(h uint32, n int) int {
	return int(uint64(h) * uint64(n) >> 32)
}
