package flow

import (
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/internal/nt"
)

// Stage fills a batch for workers on other goroutines without taking the
// batch's lines from the cache of the core that read them last.
//
// A batch comes back to the reading goroutine from a worker that read it
// on another core. Decoded in place (Batch.Put), every store to a packet
// slot first waits for the slot's cache line to leave that core's cache,
// which PrefetchSlot asks for ahead. That is cheap when the two cores
// share a cache, but on a host whose two vCPUs sit on cores that share
// none (a core-to-core handoff of 200-270 ns against 20-40, changing from
// minute to minute on session 40's host), the waits made two workers take
// half again as much CPU time as one. Through a Stage the reader decodes each
// packet into a pair of slots of its own, which stay in its cache, and
// copies each pair to the batch whole, three cache lines, with
// non-temporal stores (nt.Copy192): they write the lines to memory
// without taking them from any cache. The worker then reads the packets
// from memory, and AddBatch asks for them coldAhead packets ahead
// (Batch.Staged). Measured on the real-traffic capture of 882 k packets, two
// workers, flow_meta (bench/RESULTS.md, session 40): far apart, 27 % less
// wall time and 22 % less CPU time; near, 2-5 % more (why, not found:
// the reader's and the table's times a batch are less staged, near too).
//
// The rest of what the reader writes for each packet goes the same way
// (session 41): its input position and newest timestamp, on the stage
// until it has a line of each (8 packets), and for several shards its key
// (4 keys, 3 lines). Written with ordinary stores, they had made the
// reading goroutine's own loop take twice the time far apart as near
// with --features all. The same capture, two workers, far apart: 8-9 %
// less wall time with --features all, 5-9 % with flow_meta; near, 1-8 %
// less with flow_meta and about the same with --features all. Only the
// shard numbers (32 to a line, which the reader reads back to group the
// batch) and the last few of each batch (Done) are written with ordinary
// stores.
//
// Where nt has no non-temporal stores (nt.Enabled false), the reader
// decodes in place.
type Stage struct {
	pair [2]decode.Packet
	keys [4]Keyed  // for several shards: 192 bytes, 3 lines of Batch.Keys
	idx  [8]uint64 // a line of Batch.Idx
	seen [8]int64  // a line of Batch.Seen
}

// coldAhead is how many packets ahead of the one it keys AddBatch asks for
// a cold batch's packet: a read from memory takes about 200 ns on session
// 40's host, and keying a packet about 10. Two workers, synthetic
// capture, the vCPUs near: staged without asking, 10 % more wall time
// than decoding in place; asking 32 ahead, 3 %; 16 and 64 measured like
// 32.
const coldAhead = 32

// Slot returns where to decode b's next packet.
func (s *Stage) Slot(b *Batch) *decode.Packet { return &s.pair[b.N&1] }

// Put is Batch.Put for a packet decoded into s.Slot(b): it sets the
// packet's input position, the newest timestamp up to it and, for several
// shards, its key and shard, and copies each to b once it has a whole
// number of cache lines of them: the packets after every second, the keys
// every fourth, the positions and timestamps every eighth.
func (s *Stage) Put(b *Batch, idx uint64, seen int64, shards int) {
	i := b.N
	if shards > 1 {
		k := &s.keys[i&3]
		k.Set(&s.pair[i&1])
		b.Shard[i] = uint16(Shard(k.Hash, shards))
		if i&3 == 3 {
			nt.Copy192(unsafe.Pointer(&b.Keys[i-3]), unsafe.Pointer(&s.keys))
		}
	}
	s.idx[i&7] = idx
	s.seen[i&7] = seen
	if i&7 == 7 {
		nt.Copy64(unsafe.Pointer(&b.Idx[i-7]), unsafe.Pointer(&s.idx))
		nt.Copy64(unsafe.Pointer(&b.Seen[i-7]), unsafe.Pointer(&s.seen))
	}
	b.N = i + 1
	if i&1 == 1 {
		nt.Copy192(unsafe.Pointer(&b.Pkts[i-1]), unsafe.Pointer(&s.pair))
	}
}

// Done copies what Put left on the stage (b's last packet if it is left
// alone in the pair, its last keys, positions and timestamps), with
// ordinary stores but for the packet, and makes every copy to b visible
// before the stores after it: the sending of b to the workers.
// (Non-temporal stores are not ordered with other stores, and a channel
// send is not documented to order them.)
func (s *Stage) Done(b *Batch, shards int) {
	n := b.N
	if n&1 == 1 {
		nt.Copy96(unsafe.Pointer(&b.Pkts[n-1]), unsafe.Pointer(&s.pair[0]))
	}
	if lo := n &^ 3; shards > 1 && lo < n {
		copy(b.Keys[lo:n], s.keys[:n-lo])
	}
	if lo := n &^ 7; lo < n {
		copy(b.Idx[lo:n], s.idx[:n-lo])
		copy(b.Seen[lo:n], s.seen[:n-lo])
	}
	nt.Fence()
}

// A pair of packets is 192 bytes, three cache lines: a batch on a line
// (TestPrefetchSlotLines) has each pair of slots on lines of their own.
var (
	_ [192 - 2*unsafe.Sizeof(decode.Packet{})]struct{}
	_ [2*unsafe.Sizeof(decode.Packet{}) - 192]struct{}
)

// Four keys are 192 bytes, three cache lines: Batch.Keys, on a line,
// has each run of four keys on lines of their own.
var (
	_ [192 - 4*unsafe.Sizeof(Keyed{})]struct{}
	_ [4*unsafe.Sizeof(Keyed{}) - 192]struct{}
)
