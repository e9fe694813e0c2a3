package flow

import "github.com/jjflow/jj/decode"

// MaxFrags bounds the fragmented datagrams Defrag remembers at once.
const MaxFrags = 1 << 16

// Defrag gives later IP fragments the ports of their datagram's first
// fragment (flow-meta.md §1): fragments match on source, destination,
// protocol and identification. It runs before packets are sharded, since a
// fragment's ports decide its flow. A first fragment is remembered for one
// idle timeout, and at most MaxFrags of them at once.
//
// The first fragments remembered wait in a queue in the order they came,
// with their ports and latest time, and an index of open addressing (the
// flow table's, keyed by hashKey) finds them. A Go map did that before:
// three lookups of a 40-byte key for each first fragment (the oldest's
// time, the new one's, its insertion), about 250 ns a datagram of three
// fragments with the map in the cache and 430 at MaxFrags
// (BenchmarkDefrag), against 140 and 170 now; on the real-traffic tile,
// where one packet in 85 is a fragment, fragments took 2-3 % of
// flow_meta's time with one worker (878 against 856 ms with no
// defragmenting), and 1.5 % now (870 ms; session 42).
type Defrag struct {
	timeout int64
	index   index     // keyed by hashKey; the cells' slots are queue numbers
	order   fragQueue // the first fragments remembered, oldest first

	// Joined counts later fragments given their datagram's ports; Orphans
	// those whose first fragment was not seen, or was forgotten.
	Joined, Orphans uint64
	// Forgotten counts first fragments forgotten within the idle timeout
	// because MaxFrags others were remembered: their later fragments, if
	// any come, count in flows of ports 0.
	Forgotten uint64
}

// fragment is a first fragment remembered: its datagram's key (source,
// destination, protocol and identification, this last in the port
// fields), its hash, ports and latest time.
type fragment struct {
	key          Key
	hash         uint32
	sport, dport uint16
	ts           int64
}

// NewDefrag returns a Defrag that forgets first fragments after timeout ns.
func NewDefrag(timeout int64) *Defrag {
	return &Defrag{timeout: timeout}
}

// Fix sets the ports of a later fragment, or remembers those of a first
// fragment. Call it for packets with decode.FlagFragment.
func (d *Defrag) Fix(p *decode.Packet) {
	if d.index.cells == nil {
		d.index = newIndex(nil)
	}
	k := Key{A: p.Src, B: p.Dst, PA: uint16(p.FragID >> 16), PB: uint16(p.FragID), Proto: p.Proto, V6: p.V6}
	if p.Flags&decode.FlagLaterFragment != 0 {
		f := d.recent(&k)
		if f == nil {
			f = d.find(&k, hashKey(&k))
		}
		if f == nil {
			d.Orphans++
			return
		}
		p.SrcPort, p.DstPort = f.sport, f.dport
		d.Joined++
		return
	}
	if p.Flags&decode.FlagPorts == 0 {
		return
	}
	h := hashKey(&k)
	for d.order.n > 0 {
		f := d.order.at(d.order.first)
		fresh := p.Timestamp-f.ts <= d.timeout
		if fresh && d.order.n < MaxFrags {
			break
		}
		if fresh {
			d.Forgotten++
		}
		d.index.remove(f.hash, d.order.first)
		d.order.pop()
	}
	if f := d.find(&k, h); f != nil {
		// Seen again: its ports and time anew, its place kept.
		f.sport, f.dport, f.ts = p.SrcPort, p.DstPort, p.Timestamp
		return
	}
	d.index.insert(h, d.order.push(fragment{key: k, hash: h, sport: p.SrcPort, dport: p.DstPort, ts: p.Timestamp}))
}

// recent returns the first fragment with key k if it is one of the last
// few queued, or nil. Later fragments mostly come right after their first,
// whose entry is then still in the cache, where the index cell that find
// reads seldom is.
func (d *Defrag) recent(k *Key) *fragment {
	for i := range min(d.order.n, recentFrags) {
		if f := d.order.at(d.order.first + uint32(d.order.n-1-i)); f.key.equal(k) {
			return f
		}
	}
	return nil
}

// recentFrags is how many of the last first fragments queued recent looks
// at.
const recentFrags = 4

// find returns the first fragment remembered with key k, which hashes to
// h, or nil: index.find's probe, with the key read from the queue rather
// than from the flow table's slab (a function or type parameter for the
// key's place would cost the flow table's lookup an indirect call).
func (d *Defrag) find(k *Key, h uint32) *fragment {
	x := &d.index
	for i := uint64(h) & x.mask; ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c.hash == 0 {
			return nil
		}
		if c.hash == h {
			if f := d.order.at(c.slot); f.key.equal(k) {
				return f
			}
		}
	}
}

// fragQueue is a first-in, first-out queue of first fragments in a ring
// that doubles when full, and never shrinks (at most MaxFrags: 3.7 MB).
// Each has a number, one more than the one queued before it (wrapping
// around at 2^32), by which the index finds it wherever the ring has
// moved it. A slice cut from the front and appended to at the back
// reallocated and copied its live part every few thousand first fragments
// on the real-traffic tile (0.7 % of --features all's profile).
type fragQueue struct {
	ring  []fragment
	head  int    // index of the front fragment
	n     int    // fragments queued
	first uint32 // the front fragment's number
}

// at returns the queued fragment numbered num.
func (q *fragQueue) at(num uint32) *fragment {
	i := q.head + int(num-q.first)
	if i >= len(q.ring) {
		i -= len(q.ring)
	}
	return &q.ring[i]
}

func (q *fragQueue) pop() {
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	q.first++
}

// push queues f and returns its number.
func (q *fragQueue) push(f fragment) uint32 {
	if q.n == len(q.ring) {
		r := make([]fragment, max(16, 2*q.n))
		m := copy(r, q.ring[q.head:])
		copy(r[m:], q.ring[:q.head])
		q.ring, q.head = r, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = f
	q.n++
	return q.first + uint32(q.n-1)
}

// Shard returns the worker, of n, that owns the flow whose key hashes to
// h (Keyed.Hash). It takes the hash's high bits, by a multiply and shift;
// a table's index takes the low bits, so the flows of one worker still
// spread over its whole index.
func Shard(h uint32, n int) int {
	return int(uint64(h) * uint64(n) >> 32)
}
