package flow

import (
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/internal/nt"
	"github.com/jjflow/jj/internal/prefetch"
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
// from memory, and AddBatch asks for them coldAhead packets ahead (Batch.
// Staged). Measured on the real-traffic capture of 882 k packets, two
// workers, flow_meta (bench/RESULTS.md, session 40): far apart, 27 % less
// wall time and 22 % less CPU time; near, 2-5 % more (why, not found:
// the reader's and the table's times a batch are less staged, near too).
//
// Where nt has no non-temporal stores (nt.Enabled false), the reader
// decodes in place.
type Stage struct {
	pair [2]decode.Packet
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
// shards, its key and shard, and after every second packet copies the
// pair to b.
func (s *Stage) Put(b *Batch, idx uint64, seen int64, shards int) {
	i := b.N
	if shards > 1 {
		b.keyFrom(i, &s.pair[i&1], shards)
	}
	b.Idx[i] = idx
	b.Seen[i] = seen
	b.N = i + 1
	if i&1 == 1 {
		nt.Copy192(unsafe.Pointer(&b.Pkts[i-1]), unsafe.Pointer(&s.pair))
	}
}

// keyFrom sets the key and shard of packet i from p, its copy.
func (b *Batch) keyFrom(i int, p *decode.Packet, shards int) {
	k := &b.Keys[i]
	k.Set(p)
	b.Shard[i] = uint16(Shard(k.Hash, shards))
}

// Done copies b's last packet if it is left alone in the pair, and makes
// every copy to b visible before the stores after it: the sending of b to
// the workers. (Non-temporal stores are not ordered with
// other stores, and a channel send is not documented to order them.)
func (s *Stage) Done(b *Batch) {
	if b.N&1 == 1 {
		nt.Copy96(unsafe.Pointer(&b.Pkts[b.N-1]), unsafe.Pointer(&s.pair[0]))
	}
	nt.Fence()
}

// PrefetchMeta asks for the lines of slot i's input position and newest
// timestamp and, for several shards, its key, to be written, as
// PrefetchSlot does for a packet decoded in place; the packet itself,
// which Stage.Put copies with non-temporal stores, needs none.
func (b *Batch) PrefetchMeta(i, shards int) {
	i &= BatchPackets - 1
	third := unsafe.Pointer(&b.Keys[i])
	if shards < 2 {
		third = unsafe.Pointer(&b.Seen[i])
	}
	prefetch.Write3(unsafe.Pointer(&b.Idx[i]), unsafe.Pointer(&b.Seen[i]), third)
}

// A pair of packets is 192 bytes, three cache lines: a batch on a line
// (TestPrefetchSlotLines) has each pair of slots on lines of their own.
var (
	_ [192 - 2*unsafe.Sizeof(decode.Packet{})]struct{}
	_ [2*unsafe.Sizeof(decode.Packet{}) - 192]struct{}
)
