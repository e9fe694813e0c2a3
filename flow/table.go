// Package flow groups decoded packets into bidirectional flows and decides
// when each flow ends: the third stage of the pipeline
// (capture → decode → flow → extract → output).
//
// The Table keys flows on a canonical 5-tuple (both directions find the same
// entry), keeps its per-flow core state in chunks indexed by slot (mapped
// outside the Go heap where the system allows, arena.go), and hands
// packets to the extractors in batches. Flow ends follow flow-meta.md §3 in
// capture time: idle timeout, active timeout, TCP close (RST, or FIN both
// ways, then a SYN starts a new flow), eviction of the least recently seen
// flow when MaxFlows is reached, and the end of input.
//
// Output order is deterministic: every row carries an Order, the event
// that ended the flow and the input position of the flow's first packet.
// A flow that ends because of a packet (timeout seen by a packet of the
// same 5-tuple, SYN after close, eviction) ends at that packet's event.
// Flows that simply go quiet are ended by Sweep, which the caller runs at
// fixed points of the input (every SweepPackets packets) with the newest
// timestamp seen; Close ends the rest. Rows sorted by Order are the same
// whether one table sees every packet or several tables each see the flows
// of their shard, which is how jj keeps its output identical whatever the
// number of workers. Memory grows with the number of concurrent flows only.
package flow

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync"
	"unsafe"

	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/internal/mem"
	"github.com/jjflow/jj/internal/prefetch"
	"github.com/jjflow/jj/output"
)

// Config sets the flow lifecycle. Times are nanoseconds.
type Config struct {
	FlowTimeout     int64 // idle timeout; a packet more than this after the flow's latest one starts a new flow
	ActiveTimeout   int64 // 0 = off; a packet this long or more after the flow's first one starts a new flow
	TCPCloseTimeout int64 // idle timeout of a closed TCP flow
	MaxFlows        int   // 0 = unlimited; otherwise the least recently seen flow is ended early
}

// Sizes of the internal batches.
const (
	// BatchPackets is how many packets are handed to extractors at once,
	// and to the workers in one message. 512 measured 5-10 % faster than
	// 256 (fewer messages and sweeps of the batch by every worker) and
	// faster than 1024 with every feature group (whose per-batch state
	// then outgrows the caches).
	BatchPackets = 512
	// SweepPackets is how often (in input records) the caller sweeps
	// quiet flows.
	SweepPackets = 4096
	// OutputRows is at most how many rows are collected before the sink
	// is called, and CloseRows how many once the input has ended (Close):
	// there every open flow ends at once, and batches that small stay in
	// cache from the extractors' Emit to their encoding and are recycled
	// before many new ones are made, each of whose pages would cost a
	// fault. OutputBytes bounds a batch's values (8 bytes each) before
	// the input ends: wide rows (--features all, 149 columns) come 439 at
	// a time, flow_meta's 29 columns OutputRows. (With 256 KiB, 219 rows
	// of all, --features all with one worker took 0.6-3 % more time on
	// the synthetic capture in three sets of interleaved runs, and the
	// tile 1.6 %, presumably as more rows share each float memo and
	// hand-off; session 70, bench/RESULTS.md.)
	OutputRows  = 1024
	CloseRows   = 128
	OutputBytes = 512 << 10
)

// Key is a canonical flow key: endpoint A is the lesser of the two in a
// fixed order of (address, port) (Keyed.Set), so both directions map to
// the same Key. It holds no pointer, so maps of Keys cost the garbage
// collector nothing.
type Key struct {
	A, B   [16]byte
	PA, PB uint16
	Proto  uint8
	V6     bool
}

// Order places a row in the output: rows are written sorted by Event,
// then Start.
type Order struct {
	// Event is the input event that ended the flow: 2i+2 for the record at
	// input position i, 2i+1 for a sweep run just before record i, and
	// EndOfInput for the flows still open at the end.
	Event uint64
	// Start is the input position of the flow's first packet.
	Start uint64
}

// equal reports whether k and o are the same key. It compares field by
// field, which the compiler inlines, where == on the 38-byte struct calls
// the runtime's memequal.
func (k *Key) equal(o *Key) bool {
	return k.A == o.A && k.B == o.B && k.PA == o.PA && k.PB == o.PB && k.Proto == o.Proto && k.V6 == o.V6
}

// Less orders rows.
func (o Order) Less(p Order) bool {
	return o.Event < p.Event || (o.Event == p.Event && o.Start < p.Start)
}

// EndOfInput is the Event of flows ended by Close.
const EndOfInput = ^uint64(0)

// PacketEvent is the Event of the record at input position idx.
func PacketEvent(idx uint64) uint64 { return 2*idx + 2 }

// SweepEvent is the Event of a sweep run before the record at position idx.
func SweepEvent(idx uint64) uint64 { return 2*idx + 1 }

// Sink receives output batches with the Order of each row. The batch
// belongs to the sink after the call; the table continues with a batch
// from its NewBatch function.
type Sink func(b *output.Batch, order []Order) error

// Wheel ids (entry.list).
const (
	listOpen   = 0
	listClosed = 1
	listNone   = 2 // ended, waiting to be emitted
)

// entry is the table's core per-flow state: 128 bytes, two cache lines,
// as the slab's chunks are page-aligned. The first line holds what finding
// the flow and deciding whether a packet ends it read, the second what
// each packet updates. (An entry keeps no copy of its key's hash: the index
// has it, and removal recomputes it.)
type entry struct {
	key         Key   // 38 bytes
	stat        uint8 // flow_stat bits
	list        uint8 // listOpen, listClosed or listNone
	initA       bool  // the initiator is endpoint A
	hdr         uint32
	first, last int64 // earliest and latest timestamps

	counts   extract.Counts
	seen     int64  // the input's newest timestamp as of the flow's latest packet
	startIdx uint64 // input position of the first packet
}

// prefetch asks for the entry's two cache lines (entries are 128 bytes,
// in chunks on a huge-page boundary): the key's and the counts'.
func (e *entry) prefetch() {
	prefetch.Lines3(unsafe.Pointer(e), unsafe.Pointer(&e.counts), unsafe.Pointer(&e.counts))
}

// link is a flow's place in its wheel bucket's list (wheel.go): the slots
// of the flows before and after it, or a bucket's sentinel (negative,
// Table.lk). The links live apart from the entries, in a slab of their
// own: moving a flow writes to its two neighbours, flows seen at about
// the same time long ago whose entries are cold.
type link struct{ prev, next int32 }

type pending struct {
	slot  uint32
	order Order
}

// Stats counts what the table did.
type Stats struct {
	Packets uint64 // packets added
	Flows   uint64 // flows emitted
	Evicted uint64 // flows ended early by MaxFlows
	MaxLive int    // the most flows open at once
}

// Table is the flow table. It is not safe for concurrent use.
type Table struct {
	cfg   Config
	exs   []extract.Extractor
	bases []int
	sink  Sink
	out   *output.Batch

	arena *arena // where index, slots, links, last and Close's lists live
	index index
	slots slab[entry]
	links slab[link]
	last  slab[uint64] // with MaxFlows: input position of each flow's latest packet
	free  []uint32
	// The flows waiting out their idle timeout (wheel.go): open ones, and
	// TCP flows closed by FIN or RST.
	wheels [2]wheel
	sent   []link // the wheels' bucket sentinels
	eager  bool   // MaxFlows: one bucket a wheel, in last-seen order

	pkts    *[BatchPackets]decode.Packet // for Add; allocated by the first Packet
	nbatch  int                          // packets in pkts
	refs    []extract.Ref
	observe bool // some extractor looks at packets (not extract.Passive)
	pf      []extract.Prefetcher

	// AddBatch's and the sweeps' scratch.
	keys  *[BatchPackets]Keyed // the keys AddBatch computes (shard < 0)
	done  []pending            // ended flows, in end order, emitted at the next flush
	sweep [64]uint32           // sweepWheel's run of a bucket's flows

	stacks   []decode.Stack
	descs    []string // each stack's text, hdr_desc
	stackIdx map[decode.Stack]uint32
	recent   [recentStacks]recentStack // intern's cache

	order    []Order // of the rows in out
	spare    []Order // a sink's order slice given back (ReuseOrder)
	rows     int     // rows of out that make a batch: OutputRows, CloseRows
	newBatch func() *output.Batch
	event    uint64 // Event of the packet or sweep being handled

	maxTS   int64
	err     error
	stats   Stats
	scratch extract.Flow
}

// New returns a table that feeds the extractors and writes finished rows to
// sink. The output schema is the extractors' columns in order (Schema).
// After each sink call the table takes a new batch from newBatch, which
// may recycle batches the sink is done with; nil allocates.
func New(cfg Config, exs []extract.Extractor, sink Sink, newBatch func() *output.Batch) *Table {
	var schema []output.Column
	bases := make([]int, len(exs))
	for i, ex := range exs {
		bases[i] = len(schema)
		schema = append(schema, ex.Columns()...)
	}
	t := &Table{
		cfg:      cfg,
		exs:      exs,
		bases:    bases,
		sink:     sink,
		out:      output.NewBatch(schema),
		refs:     takeRefs(),
		stackIdx: make(map[decode.Stack]uint32),
		newBatch: newBatch,
		rows:     BatchRows(len(schema)),
		maxTS:    -1 << 63,
	}
	for _, ex := range exs {
		if _, ok := ex.(extract.Passive); !ok {
			t.observe = true
		}
		if p, ok := ex.(extract.Prefetcher); ok {
			t.pf = append(t.pf, p)
		}
	}
	if t.newBatch == nil {
		t.newBatch = func() *output.Batch { return output.NewBatch(t.out.Schema) }
	}
	a := newArena(t)
	t.arena = a
	t.index = newIndex(a)
	t.slots.arena, t.links.arena, t.last.arena = a, a, a
	t.initWheels()
	return t
}

// Release gives the memory the table keeps outside the Go heap back now
// (to the next tables, up to spareBytes, or to the system), rather than
// once the garbage collector finds the table unreachable (a long-lived
// program may collect rarely), and empties its extractors that implement
// extract.Releaser. The table must not be used afterwards; Stats still
// answers.
func (t *Table) Release() {
	t.slots.wait()
	t.links.wait()
	t.last.wait()
	// The index and Close's list are sized by the flows, and no new
	// table asks for those sizes: they go back to the system. What a
	// small table wrote of the rest, its chunks and sentinels, cleared
	// (in proportion to the flows it had), gives the next table zeroed
	// memory without clearing a whole chunk: 2 MiB of entries for a file
	// of a few flows. A larger one's would mostly not be kept
	// (spareBytes).
	freeSlice(t.arena, t.index.cells)
	freeSlice(t.arena, t.done[:cap(t.done)])
	zero := t.arena.mapped() <= spareBytes
	if zero {
		t.slots.zeroUsed()
		t.links.zeroUsed()
		t.last.zeroUsed()
		clear(t.sent)
	}
	t.index, t.slots, t.links, t.last = index{}, slab[entry]{}, slab[link]{}, slab[uint64]{}
	t.done, t.free, t.sent = nil, nil, nil // Close may have moved done to the arena
	giveScratch(t.keys, t.refs)
	t.keys, t.refs = nil, nil
	t.arena.releaseAs(zero)
	for _, ex := range t.exs {
		if r, ok := ex.(extract.Releaser); ok {
			r.Release()
		}
	}
	runtime.KeepAlive(t) // its cleanup would release the arena too
}

// Schema returns the output columns.
func (t *Table) Schema() []output.Column { return t.out.Schema }

// keysPool and refsPool keep the scratch of released tables (AddBatch's
// keys, 24 KiB, and the packets handed to the extractors, 16 KiB) for the
// next tables: with Config.PerFile each file has a table, and a directory
// of small captures made these most of each one's garbage.
var keysPool, refsPool sync.Pool

func takeKeys() *[BatchPackets]Keyed {
	if k, ok := keysPool.Get().(*[BatchPackets]Keyed); ok {
		return k
	}
	return new([BatchPackets]Keyed)
}

func takeRefs() []extract.Ref {
	if r, ok := refsPool.Get().(*[]extract.Ref); ok {
		return (*r)[:0]
	}
	return make([]extract.Ref, 0, BatchPackets)
}

// giveScratch gives a released table's scratch back; keys may be nil. The
// refs are cleared, so that the pool holds no packet.
func giveScratch(keys *[BatchPackets]Keyed, refs []extract.Ref) {
	if keys != nil {
		keysPool.Put(keys)
	}
	if cap(refs) >= BatchPackets {
		refs = refs[:cap(refs)]
		clear(refs)
		refsPool.Put(&refs)
	}
}

// Stats returns the counters so far.
func (t *Table) Stats() Stats { return t.stats }

// Packet returns the slot the caller decodes the next packet into. The
// packet joins a flow only when Add is called; otherwise the slot is reused.
func (t *Table) Packet() *decode.Packet {
	if t.pkts == nil {
		t.pkts = new([BatchPackets]decode.Packet) // 50 KiB AddBatch never uses
	}
	return &t.pkts[t.nbatch]
}

// Add puts the packet last returned by Packet into its flow. idx is its
// position in the input. It returns the sink's error, if any, once.
func (t *Table) Add(idx uint64) error {
	p := &t.pkts[t.nbatch]
	var k Keyed
	k.Set(p)
	t.add(p, idx, max(t.maxTS, p.Timestamp), &k.Key, k.Hash, k.SrcIsA)
	if t.nbatch++; t.nbatch == BatchPackets {
		t.flush()
	}
	return t.err
}

// Batch is a run of input packets, decoded in place, with their input
// positions and, for several shards, their flow keys and owning shards.
// The reading goroutine fills one batch and hands the same batch to every
// worker; each adds the packets of its own shard, so no packet is copied
// on its way to its table. A batch for one table holds no keys: the table
// computes them (AddBatch).
type Batch struct {
	Pkts  [BatchPackets]decode.Packet
	Keys  [BatchPackets]Keyed
	Idx   [BatchPackets]uint64 // input positions
	Seen  [BatchPackets]int64  // the input's newest timestamp up to each packet
	Shard [BatchPackets]uint16 // Shard of each packet's flow
	N     int                  // packets in the batch

	// After Group: the packets' indexes grouped by shard, in input order
	// within each shard; shard s's are sel[ends[s-1]:ends[s]].
	sel  [BatchPackets]uint16
	ends []uint16

	// Staged says that the batch is filled through a Stage, which copies
	// the packets (and their input positions, timestamps and keys) in
	// with non-temporal stores: in memory, in no cache, so AddBatch asks
	// for the packets ahead. The filler sets it on an empty batch
	// and ends the filling with Stage.Done; Reset clears it.
	Staged bool
}

// Group sorts the packets' indexes by shard (a counting sort, which keeps
// their order within a shard), for shards workers: each then finds its own
// packets without scanning the others' shard numbers, which the reading
// goroutine wrote on another core.
func (b *Batch) Group(shards int) {
	if cap(b.ends) < shards {
		b.ends = make([]uint16, shards)
	}
	ends := b.ends[:shards]
	clear(ends)
	for i := range b.N {
		ends[b.Shard[i]]++
	}
	var start uint16
	for s, n := range ends {
		ends[s] = start
		start += n
	}
	for i := range b.N {
		s := b.Shard[i]
		b.sel[ends[s]] = uint16(i)
		ends[s]++
	}
	b.ends = ends
}

// packets returns the indexes of the packets of shard, which Group must
// have grouped among more than shard shards.
func (b *Batch) packets(shard int) []uint16 {
	lo := uint16(0)
	if shard > 0 {
		lo = b.ends[shard-1]
	}
	return b.sel[lo:b.ends[shard]]
}

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	b.N = 0
	b.Staged = false
	b.ends = b.ends[:0]
}

// Put fills the batch's next packet, already decoded into Pkts[N], with its
// input position, the newest timestamp of the input up to it (seen) and,
// with more than one shard (of shards workers), its key and shard
// (SetKey), and counts it.
func (b *Batch) Put(idx uint64, seen int64, shards int) {
	b.SetKey(b.N, shards)
	b.Idx[b.N] = idx
	b.Seen[b.N] = seen
	b.N++
}

// WriteAhead is how far ahead of the packet it decodes a batch's filler
// calls PrefetchSlot: 8 and 16 measured alike, 4 gave back half the gain.
// (The callers add it: PrefetchSlot adding it itself, from b.N, would no
// longer inline.)
const WriteAhead = 8

// PrefetchSlot asks for the cache lines of packet slot i that decoding
// and SetKey write, to be written: the packet's two lines (its first byte
// and its Hdrs, TestPrefetchSlotLines) and, for several shards, its key's first (a key that
// runs onto a second line has it asked for with the next slot; Idx, Seen
// and Shard, 8 to 32 slots a line, are left to the stores); for one shard,
// whose batch holds no key (SetKey), its Idx line instead. A batch comes
// back from the workers, which read it on other cores, so these lines are
// mostly in another core's cache, and a store to one waits for the line
// to move; asked for WriteAhead packets ahead, the moves overlap the
// decoding in between (the reading goroutine 12-22 % faster on the
// real-traffic tile, bench/RESULTS.md, session 11). One table on the
// reading goroutine itself gives each batch back before the next is
// filled, so that one batch, in the core's cache, takes every packet:
// its filler does not call this (session 77).
func (b *Batch) PrefetchSlot(i, shards int) {
	i &= BatchPackets - 1 // past the end, the first slots: written already
	p := &b.Pkts[i]
	third := unsafe.Pointer(&b.Keys[i])
	if shards < 2 { // no key to write (SetKey)
		third = unsafe.Pointer(&b.Idx[i])
	}
	prefetch.Write3(unsafe.Pointer(p), unsafe.Pointer(&p.Hdrs), third)
}

// SetKey sets the flow key and the shard of packet i, as Put does: the key
// of the packet as it is then. With one shard it sets nothing: a batch for
// one table needs no key, since AddBatch keys a batch it takes whole.
func (b *Batch) SetKey(i, shards int) {
	if shards > 1 { // a test small enough to inline into the reader's loop
		b.setKey(i, shards)
	}
}

func (b *Batch) setKey(i, shards int) {
	k := &b.Keys[i]
	k.Set(&b.Pkts[i])
	b.Shard[i] = uint16(Shard(k.Hash, shards))
}

// everyPacket is the indexes of a batch's packets in order, for AddBatch
// to walk every packet of a batch as it walks a shard's.
var everyPacket = func() (sel [BatchPackets]uint16) {
	for i := range sel {
		sel[i] = uint16(i)
	}
	return sel
}()

// AddBatch puts the packets of b that belong to shard into their flows:
// with shard negative every packet, whose key AddBatch computes (b's keys
// are not read); otherwise those of shard, with their keys as Put or
// SetKey set them, and b must have been grouped, Group, among more than
// shard shards. Keying on the table's goroutine takes work off the
// reading goroutine, which then writes no key to a batch the table reads
// on another core: with one table beside the reader, flow_meta on the
// real-traffic tile took 0.51-0.55 s against 0.55-0.58 (seven rounds,
// session 29); with the table on the reading goroutine it is level. The packets are read in
// place and must stay unchanged until AddBatch returns, by when the
// extractors have seen them. With many flows, a packet's index cell and
// flow entry are mostly cache misses: AddBatch prefetches the index cell
// of the packet 2·prefetch.Ahead ahead and the entry of the one
// prefetch.Ahead ahead, so that the misses overlap the work on the packets
// in between (−8 % of a worker's time, BenchmarkAddBatch, when the
// reader still keyed every batch). The entry is that of the cell holding
// the packet's hash (index.probe), not of the home cell, which is
// another flow's for 12-25 % of the flows when the index is a quarter to
// half full (19 % with 100 000 flows; −10 to −19 % of flow_meta's
// BenchmarkAddBatch). Where the packet may move its flow in its wheel,
// it prefetches the flow's links with its entry: with MaxFlows, where
// every packet moves its flow (touch), and for a TCP packet with FIN or
// RST, which may close the flow and move it to the closed wheel
// (tcpState). Each TCP flow that closed had missed on its links there:
// unlink took 3.2-3.4 % of flow_meta's samples on the synthetic capture
// with one worker, 0.6 % with the prefetch (session 47).
func (t *Table) AddBatch(b *Batch, shard int) error {
	t.flush()
	var sel []uint16
	keys := &b.Keys
	if shard >= 0 {
		sel = b.packets(shard)
	} else {
		if t.keys == nil {
			t.keys = takeKeys()
		}
		keys = t.keys
		sel = everyPacket[:b.N]
		for i := range b.N {
			if j := i + coldAhead; b.Staged && j < b.N {
				p := &b.Pkts[j]
				prefetch.Lines3(unsafe.Pointer(p), unsafe.Pointer(&p.Hdrs), unsafe.Pointer(&p.Hdrs))
			}
			keys[i].Set(&b.Pkts[i])
		}
	}
	for n, i := range sel {
		if m := n + 2*prefetch.Ahead; m < len(sel) {
			x := &t.index
			cell := unsafe.Pointer(&x.cells[uint64(keys[sel[m]].Hash)&x.mask])
			if b.Staged && shard >= 0 {
				p := &b.Pkts[sel[m]]
				prefetch.Lines3(cell, unsafe.Pointer(p), unsafe.Pointer(&p.Hdrs))
			} else {
				prefetch.Line(cell)
			}
		}
		if m := n + prefetch.Ahead; m < len(sel) {
			if slot, ok := t.index.probe(keys[sel[m]].Hash); ok && int(slot) < t.slots.n {
				e := t.slots.at(slot)
				third := unsafe.Pointer(e)
				if p := &b.Pkts[sel[m]]; t.eager || p.TCPFlags&(decode.TCPFin|decode.TCPRst) != 0 && p.Flags&decode.FlagTCP != 0 {
					third = unsafe.Pointer(t.links.at(slot))
				}
				prefetch.Lines3(unsafe.Pointer(e), unsafe.Pointer(&e.counts), third)
			}
		}
		k := &keys[i]
		t.add(&b.Pkts[i], b.Idx[i], b.Seen[i], &k.Key, k.Hash, k.SrcIsA)
	}
	t.flush()
	return t.err
}

// add is the per-packet work of Add and AddBatch. seen is the newest
// timestamp of the whole input up to this packet, the same whatever the
// number of tables.
//
// It is called, not inlined into AddBatch, on purpose: default.pgo makes
// it a hot call, inlined when it fits the budget, and AddBatch's loop
// then ran slower. flow_meta with one worker on the real-traffic tile
// took 844 ms with add called against 863 with it inlined, with two
// workers 495 against 530 ms (one profile for both builds, six and
// three runs each, session 43).
//
//go:noinline
func (t *Table) add(p *decode.Packet, idx uint64, seen int64, k *Key, h uint32, srcIsA bool) {
	t.stats.Packets++
	t.event = PacketEvent(idx)
	if p.Timestamp > t.maxTS {
		t.maxTS = p.Timestamp
	}
	slot, e := t.index.find(k, h, &t.slots)
	if e != nil && t.ends(e, p) {
		t.end(slot)
		e = nil
	}
	isNew := e == nil
	if isNew {
		slot = t.open(*k, h, p, srcIsA, idx, seen)
		e = t.slots.at(slot)
	}
	dir := extract.Bwd
	if srcIsA == e.initA {
		dir = extract.Fwd
	}
	if p.Timestamp < e.first {
		e.first = p.Timestamp
	}
	if p.Timestamp > e.last {
		e.last = p.Timestamp
	}
	e.counts.Packets[dir]++
	e.counts.Bytes[dir] += uint64(p.Length)
	e.counts.Payload[dir] += uint64(p.Payload)
	e.seen = seen
	if p.Flags&decode.FlagTCP != 0 {
		t.tcpState(slot, e, p.TCPFlags, dir)
	}
	if t.eager {
		t.touch(slot, e, idx)
	}
	if t.observe {
		t.refs = append(t.refs, extract.Ref{Slot: slot, Dir: dir, New: isNew, Index: idx, Pkt: p})
	}
}

// Sweep ends, at event SweepEvent(idx), the flows that have been quiet
// longer than their timeout as of maxTS, the newest timestamp of the
// input so far (which the table may not have seen if other tables got
// those packets). A flow is quiet since the input's newest timestamp at
// its latest packet (entry.seen), which grows in input order even when
// timestamps are out of order, so a sweep ends exactly the flows one
// table holding every flow would end (wheel.go).
func (t *Table) Sweep(maxTS int64, idx uint64) {
	t.flush()
	t.event = SweepEvent(idx)
	if maxTS > t.maxTS {
		t.maxTS = maxTS
	}
	t.sweepWheel(listOpen, t.cfg.FlowTimeout)
	t.sweepWheel(listClosed, t.cfg.TCPCloseTimeout)
	t.flush()
}

// Expire is Sweep on the wall clock for live capture: as of time now (ns)
// it also ends, with an active timeout, every flow open that long, so
// long flows report periodically even when no packet arrives.
func (t *Table) Expire(now int64, idx uint64) {
	t.Sweep(now, idx)
	if t.cfg.ActiveTimeout > 0 {
		var old []pending
		t.index.each(func(slot uint32) {
			if now-t.slots.at(slot).first >= t.cfg.ActiveTimeout {
				old = append(old, pending{slot: slot})
			}
		})
		t.endSorted(old)
		t.flush()
	}
}

// Close ends every remaining flow and hands the last rows to the sink.
func (t *Table) Close() error {
	t.flush()
	t.event = EndOfInput
	t.rows = CloseRows
	// Every open flow is in one of the two wheels; ending them straight
	// from the wheels, with the pending list grown once, spares a copy of
	// a million-entry slice and its doublings. That list is taken from
	// the arena, whose pages come allocated in one call: grown on the
	// heap, a million flows' lists (28 MB with the free list below) were
	// faulted in page by page, 6 700 faults that took 5-10 % of a run of
	// flow_meta on a virtual machine where a fault costs 15 µs. The slots
	// of the flows ended here are not put on the free list (emit): no
	// flow comes after them to take one, and its room for them would be
	// fresh pages too. As every flow ends, the index is cleared in one go
	// rather than cell by cell (a hash and a probe a flow).
	// (Every open flow is in the index, so the list never outgrows what
	// is taken here.)
	n := t.index.Len()
	t.done = growArena(t.arena, t.done, n)
	t.endAll()
	t.index.clear()
	t.flush()
	t.Flush()
	return t.err
}

// Flush hands the rows emitted so far to the sink, even if the batch is
// not full.
func (t *Table) Flush() error {
	if t.err == nil && t.out.Len() > 0 {
		t.err = t.sink(t.out, t.order)
		t.out = t.newBatch()
		t.order, t.spare = t.spare, nil
	}
	return t.err
}

// ReuseOrder gives the table back an order slice that its sink received
// and no longer needs, for the rows of a later batch, so that each batch
// does not grow a new one. Call it from the sink or between the table's
// calls.
func (t *Table) ReuseOrder(ord []Order) { t.spare = ord[:0] }

// ends reports whether packet p cannot join the flow e (flow-meta.md §3).
func (t *Table) ends(e *entry, p *decode.Packet) bool {
	timeout := t.cfg.FlowTimeout
	closed := e.list == listClosed
	if closed {
		timeout = t.cfg.TCPCloseTimeout
	}
	if p.Timestamp-e.last > timeout {
		return true
	}
	if t.cfg.ActiveTimeout > 0 && p.Timestamp-e.first >= t.cfg.ActiveTimeout {
		return true
	}
	return closed && p.Flags&decode.FlagTCP != 0 &&
		p.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn
}

// tcpState folds a packet's TCP flags into flow_stat and moves the flow to
// the closed list after a RST or a FIN in each direction.
func (t *Table) tcpState(slot uint32, e *entry, f decode.TCPFlags, dir extract.Dir) {
	if f&decode.TCPSyn != 0 {
		if f&decode.TCPAck != 0 {
			e.stat |= 0x02
		} else {
			e.stat |= 0x01
		}
	}
	if f&decode.TCPFin != 0 {
		e.stat |= 0x04 << dir
	}
	if f&decode.TCPRst != 0 {
		e.stat |= 0x10
	}
	if e.list == listOpen && (e.stat&0x10 != 0 || e.stat&0x0c == 0x0c) {
		t.unlink(slot, e)
		t.link(slot, e, listClosed)
	}
}

// open starts a flow for packet p, at input position idx, when the
// input's newest timestamp is seen.
func (t *Table) open(k Key, h uint32, p *decode.Packet, srcIsA bool, idx uint64, seen int64) uint32 {
	if t.cfg.MaxFlows > 0 && t.index.Len() >= t.cfg.MaxFlows {
		t.evict()
	}
	var slot uint32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		slot = t.slots.add()
		t.links.add()
		if t.cfg.MaxFlows > 0 {
			t.last.add()
		}
	}
	*t.slots.at(slot) = entry{
		key:      k,
		first:    p.Timestamp,
		last:     p.Timestamp,
		startIdx: idx,
		hdr:      t.intern(&p.Hdrs),
		initA:    srcIsA,
		list:     listNone,
		seen:     seen,
	}
	t.link(slot, t.slots.at(slot), listOpen)
	t.index.insert(h, slot)
	if t.index.Len() > t.stats.MaxLive {
		t.stats.MaxLive = t.index.Len()
	}
	return slot
}

// evict ends the least recently seen flow, open or closed.
func (t *Table) evict() {
	o, c := t.oldest(listOpen), t.oldest(listClosed)
	victim := o
	if victim < 0 || (c >= 0 && *t.last.at(uint32(c)) < *t.last.at(uint32(o))) {
		victim = c
	}
	if victim >= 0 {
		t.stats.Evicted++
		t.end(uint32(victim))
	}
}

// end removes a flow from the index and queues it for emission at the
// current event.
func (t *Table) end(slot uint32) {
	e := t.slots.at(slot)
	t.index.remove(hashKey(&e.key), slot)
	t.unlink(slot, e)
	t.queue(slot, e)
}

// queue adds an ended flow to those emitted at the next flush.
func (t *Table) queue(slot uint32, e *entry) {
	t.done = append(t.done, pending{slot: slot, order: Order{Event: t.event, Start: e.startIdx}})
}

// endSorted ends several flows at the current event; flush sorts them.
func (t *Table) endSorted(ps []pending) {
	for _, p := range ps {
		t.end(p.slot)
	}
}

// flush hands the batched packets to the extractors, then emits the flows
// that ended. Slots of ended flows are reused only after this point, so a
// batch never mixes two flows in one slot.
func (t *Table) flush() {
	t.nbatch = 0
	if len(t.refs) > 0 {
		for _, ex := range t.exs {
			ex.Observe(t.refs)
		}
		t.refs = t.refs[:0]
	}
	// Several flows ending at one event are written by first packet.
	// Each one's entry is prefetched prefetch.Ahead rows before emit
	// reads it: a sweep may end more flows than the caches hold, and in
	// the profile of flow_meta on the synthetic capture emit's first read
	// of an entry was a quarter of its time.
	sortPending(t.done)
	for n, d := range t.done {
		if n == 0 || t.out.Len() == 0 {
			t.room(len(t.done) - n)
		}
		if m := n + prefetch.Ahead; m < len(t.done) {
			t.slots.at(t.done[m].slot).prefetch()
		}
		if len(t.pf) > 0 {
			t.prefetch(n)
		}
		t.emit(d.slot, d.order)
	}
	t.done = t.done[:0]
}

// room makes room in the batch, and in its order slice, for the next
// rows rows, up to a whole batch (output.Batch.Grow): flush knows how many
// flows it is about to emit. Grown one append at a time, each column of a
// new batch went from empty to its rows one doubling at a time, a new
// array and a copy at each step, all but the last left to the collector:
// Close of 100 flow_meta flows made 273 allocations, now 38
// (TestCloseMakesRoom). Most batches take a few rows, the flows a packet
// batch ended, but a sweep or Close ends hundreds, and with one flow
// table beside the reader, whose merger may hold up to 17 of its batches
// at once, a short run makes most of its batches: the 218 k-packet capture
// with two workers took 101.9 → 92.3 ms (25 interleaved rounds), and
// 670 small captures with --per-file 298.5 → 276.6 ms
// (bench/RESULTS.md, session 49).
func (t *Table) room(rows int) {
	n := min(t.out.Len()+rows, t.rows)
	t.out.Grow(n)
	t.order = mem.Grow(t.order, max(n-len(t.order), 0))
}

// prefetch has the extractors prefetch the state of the flows that
// flush emits 2·prefetch.Ahead and prefetch.Ahead rows after row n
// (extract.Prefetcher).
func (t *Table) prefetch(n int) {
	if m := n + 2*prefetch.Ahead; m < len(t.done) {
		for _, p := range t.pf {
			p.Prefetch(t.done[m].slot, 0)
		}
	}
	if m := n + prefetch.Ahead; m < len(t.done) {
		for _, p := range t.pf {
			p.Prefetch(t.done[m].slot, 1)
		}
	}
}

// emit writes one ended flow's row and frees its slot.
func (t *Table) emit(slot uint32, order Order) {
	e := t.slots.at(slot)
	f := &t.scratch
	k := &e.key
	if e.initA {
		f.Src, f.Dst, f.SrcPort, f.DstPort = k.A, k.B, k.PA, k.PB
	} else {
		f.Src, f.Dst, f.SrcPort, f.DstPort = k.B, k.A, k.PB, k.PA
	}
	f.V6, f.Proto = k.V6, k.Proto
	f.First, f.Last = e.first, e.last
	f.Counts = e.counts
	f.StartIndex = e.startIdx
	f.FlowStat = 0
	if k.Proto == 6 {
		f.FlowStat = e.stat
		if e.stat&0x03 == 0x03 && (e.stat&0x0c == 0x0c || e.stat&0x10 != 0) {
			f.FlowStat |= 0x40
		}
	}
	f.Hdrs, f.HdrDesc = &t.stacks[e.hdr], t.descs[e.hdr]
	for i, ex := range t.exs {
		ex.Emit(slot, f, t.out, t.bases[i])
	}
	t.out.EndRow()
	t.order = append(t.order, order)
	t.stats.Flows++
	if t.event != EndOfInput {
		t.free = append(t.free, slot)
	}
	if t.out.Len() >= t.rows {
		t.Flush()
	}
}

// BatchRows returns how many rows of so many columns make a batch before
// the input ends: OutputBytes of values, between CloseRows and
// OutputRows.
func BatchRows(columns int) int {
	return min(OutputRows, max(CloseRows, OutputBytes/(8*max(columns, 1))))
}

// intern returns the id of a header stack; stacks are few. A new flow
// looks its stack up in a small cache first, a cell picked by the
// stack's first layers: the map's hash and probe of the 18-byte key took
// 4 % of the flow table's time in profiles of flow_meta with two workers
// on the synthetic capture (bench/RESULTS.md, session 63).
func (t *Table) intern(s *decode.Stack) uint32 {
	c := &t.recent[recentCell(s)]
	if c.ok && c.s == *s {
		return c.id
	}
	id, ok := t.stackIdx[*s]
	if !ok {
		id = t.newStack(s)
	}
	*c = recentStack{s: *s, id: id, ok: true}
	return id
}

// newStack gives a stack not seen before its id, and makes its text.
func (t *Table) newStack(s *decode.Stack) uint32 {
	id := uint32(len(t.stacks))
	t.stacks = append(t.stacks, *s)
	t.descs = append(t.descs, s.String())
	t.stackIdx[*s] = id
	return id
}

// recentStacks is how many cells intern's cache has, 1<<recentBits.
const (
	recentBits   = 4
	recentStacks = 1 << recentBits
)

// recentStack is a cell of intern's cache: a stack and its id.
type recentStack struct {
	s  decode.Stack
	id uint32
	ok bool
}

// recentCell picks a stack's cell in intern's cache from its first five
// layers and its depth, which tell the usual stacks apart (ETH-IP-TCP,
// ETH-IP6-UDP, ETH-VLAN-IP-TCP, ...). Two stacks in one cell take turns;
// either way the cache never gives another stack's id.
func recentCell(s *decode.Stack) int {
	l := &s.Layers
	x := uint64(l[0]) | uint64(l[1])<<8 | uint64(l[2])<<16 | uint64(l[3])<<24 | uint64(l[4])<<32 | uint64(s.N)<<40
	return int((x * 0x9e3779b97f4a7c15) >> (64 - recentBits))
}

// Keyed is a packet's flow key, computed once: by the goroutine that
// reads the input when the packet's batch goes to several tables, by the
// table's (AddBatch) when it goes to one. It holds the canonical Key, its
// hash, which also picks the packet's worker (Shard), and whether the
// packet's source is endpoint A.
type Keyed struct {
	Key    Key
	Hash   uint32
	SrcIsA bool
}

// Set makes k packet p's flow key. Endpoints are ordered by their
// addresses read as two little-endian words, the first eight bytes' word
// first, then by port, A the lesser; equal endpoints (a host talking to
// itself on one port) make the sender A. The order is one the processor
// compares in a few instructions, with no byte swap to load or store a
// word; nothing jj writes depends on it, as a flow's source is the sender
// of its first packet, whichever endpoint is A. Which one is A follows the
// packet's direction, which on a link changes from packet to packet in no
// order a branch predictor could learn; so the endpoints are compared and
// placed without branches (BenchmarkPut: 16.5-18.9 → 11.6-17.3 ns a packet
// with them). The hash is made from the words in registers (hashWords).
// (With the addresses in byte order, big-endian words, the swaps and the
// hash's loads of the stored key made Set 116 instructions a packet,
// against 90; bench/RESULTS.md, session 77.)
func (k *Keyed) Set(p *decode.Packet) {
	c := &k.Key
	c.Proto, c.V6 = p.Proto, p.V6
	s0, s1 := binary.LittleEndian.Uint64(p.Src[:8]), binary.LittleEndian.Uint64(p.Src[8:])
	d0, d1 := binary.LittleEndian.Uint64(p.Dst[:8]), binary.LittleEndian.Uint64(p.Dst[8:])
	// swap is all ones when the destination is the lesser endpoint, which
	// then is A: the borrow of the 144-bit subtraction dst − src.
	_, borrow := bits.Sub64(uint64(p.DstPort), uint64(p.SrcPort), 0)
	_, borrow = bits.Sub64(d1, s1, borrow)
	_, borrow = bits.Sub64(d0, s0, borrow)
	swap := -borrow
	x0, x1 := (s0^d0)&swap, (s1^d1)&swap
	a0, a1, b0, b1 := s0^x0, s1^x1, d0^x0, d1^x1
	binary.LittleEndian.PutUint64(c.A[:8], a0)
	binary.LittleEndian.PutUint64(c.A[8:], a1)
	binary.LittleEndian.PutUint64(c.B[:8], b0)
	binary.LittleEndian.PutUint64(c.B[8:], b1)
	xp := (p.SrcPort ^ p.DstPort) & uint16(swap)
	c.PA, c.PB = p.SrcPort^xp, p.DstPort^xp
	k.SrcIsA = swap == 0
	k.Hash = hashWords(a0, a1, b0, b1, c.PA, c.PB, p.Proto, p.V6)
}
