package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/internal/testpkt"
	"github.com/jjflow/jj/output"
)

const (
	sec   = int64(1e9)
	epoch = 1700000000 * sec
)

var defaultCfg = Config{FlowTimeout: 60 * sec, TCPCloseTimeout: 5 * sec}

var (
	a = testpkt.Addr("192.0.2.1")
	b = testpkt.Addr("192.0.2.2")
	c = testpkt.Addr("192.0.2.3")
)

// TCP flag bytes.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// row is one emitted flow, the columns the lifecycle tests look at.
type row struct {
	src            string
	sport, dport   int64
	packets        int64
	fwd, bwd       int64
	start, end     float64
	stat           int64
	hdrs           string
	bytes, payload int64
}

func (r row) String() string {
	return fmt.Sprintf("%s:%d->%d pk=%d(%d/%d) t=[%v,%v] stat=%#x", r.src, r.sport, r.dport, r.packets, r.fwd, r.bwd, r.start, r.end, r.stat)
}

// run feeds frames through the decoder and a table with flow_meta, and
// returns the rows in output order.
func run(t testing.TB, cfg Config, frames ...testpkt.Frame) ([]row, Stats, *Defrag) {
	t.Helper()
	tab, rows := rowTable(cfg)
	// As the pipeline does: defragment, sweep every SweepPackets records.
	var d decode.Decoder
	df := NewDefrag(cfg.FlowTimeout)
	maxTS := int64(-1 << 63)
	for i, f := range frames {
		if i > 0 && i%SweepPackets == 0 {
			tab.Sweep(maxTS, uint64(i))
		}
		p := tab.Packet()
		decodeFrame(t, &d, df, i, f, p)
		maxTS = max(maxTS, p.Timestamp)
		if err := tab.Add(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	return *rows, tab.Stats(), df
}

// decodeFrame decodes frame i into p, as the pipeline does, giving a later
// fragment its datagram's ports.
func decodeFrame(t testing.TB, d *decode.Decoder, df *Defrag, i int, f testpkt.Frame, p *decode.Packet) {
	t.Helper()
	data, wire := f.Build()
	p.Timestamp = f.TS
	if r := d.Decode(capture.LinkEthernet, data, uint32(wire), p); r != decode.ReasonOK {
		t.Fatalf("frame %d: %v", i, r)
	}
	if p.Flags&decode.FlagFragment != 0 {
		df.Fix(p)
	}
}

// runBatches is run through Batch and AddBatch, as the pipeline's workers
// run: the frames go in batches for shards tables, each of which adds its
// own shard's packets (shards 1: the whole batch, AddBatch(b, -1)), and
// the tables' rows are returned table after table. Every key the batch
// holds is garbage before Put, so that a table that read a key Put did not
// set would put packets in wrong flows. Staged, the packets are decoded on
// a Stage and put there (Stage.Put, Stage.Done), into a batch whose packet
// slots, input positions and timestamps are garbage too, as the
// pipeline's reader does beside workers.
func runBatches(t testing.TB, cfg Config, shards int, staged bool, frames ...testpkt.Frame) []row {
	t.Helper()
	tabs := make([]*Table, shards)
	rows := make([]*[]row, shards)
	for s := range tabs {
		tabs[s], rows[s] = rowTable(cfg)
	}
	var d decode.Decoder
	df := NewDefrag(cfg.FlowTimeout)
	maxTS := int64(-1 << 63)
	b := new(Batch)
	// The keys of made-up packets, each key whole (its hash its own), so
	// that a table reading them fails by its rows.
	var garbage [BatchPackets]Keyed
	for i := range garbage {
		p := decode.Packet{Proto: 6, SrcPort: uint16(i), DstPort: 9}
		p.Src[0], p.Dst[0] = 192, byte(i)
		garbage[i].Set(&p)
	}
	var junk decode.Packet
	for i := range unsafe.Sizeof(junk) {
		*(*byte)(unsafe.Add(unsafe.Pointer(&junk), i)) = 0xa5
	}
	poison := func() {
		b.Keys = garbage
		if staged {
			for i := range b.Pkts {
				b.Pkts[i] = junk
				b.Idx[i] = 0xa5a5a5a5a5a5a5a5
				b.Seen[i] = -0x5a5a5a5a5a5a5a5a
			}
			b.Staged = true
		}
	}
	poison()
	var stage Stage
	add := func() {
		if staged {
			stage.Done(b, shards)
		}
		if shards > 1 {
			b.Group(shards)
		}
		for s, tab := range tabs {
			shard := s
			if shards == 1 {
				shard = -1
			}
			if err := tab.AddBatch(b, shard); err != nil {
				t.Fatal(err)
			}
		}
		b.Reset()
		if b.Staged {
			t.Fatal("Reset left the batch Staged")
		}
		poison()
	}
	for i, f := range frames {
		if i > 0 && i%SweepPackets == 0 {
			add()
			for _, tab := range tabs {
				tab.Sweep(maxTS, uint64(i))
			}
		}
		p := &b.Pkts[b.N]
		if staged {
			p = stage.Slot(b)
		}
		decodeFrame(t, &d, df, i, f, p)
		maxTS = max(maxTS, p.Timestamp)
		if staged {
			stage.Put(b, uint64(i), maxTS, shards)
		} else {
			b.Put(uint64(i), maxTS, shards)
		}
		// A batch is also sent part full, as the pipeline's reader sends
		// one at a sweep when some records made no packet: its last
		// packets are then left on the stage by Put, for Done.
		if b.N == BatchPackets || i%SweepPackets == SweepPackets/2+3 {
			add()
		}
	}
	add()
	var all []row
	for s, tab := range tabs {
		if err := tab.Close(); err != nil {
			t.Fatal(err)
		}
		all = append(all, *rows[s]...)
	}
	return all
}

// rowTable returns a flow_meta table that appends its rows, in output
// order, to the returned slice.
func rowTable(cfg Config) (*Table, *[]row) {
	fm := extract.NewFlowMeta(extract.Options{IncludeIPAddresses: true, IncludePorts: true})
	col := map[string]int{}
	for i, c := range fm.Columns() {
		col[c.Name] = i
	}
	rows := new([]row)
	tab := New(cfg, []extract.Extractor{fm}, func(bt *output.Batch, _ []Order) error {
		for r := 0; r < bt.Len(); r++ {
			*rows = append(*rows, row{
				src:     string(bt.Bytes(col["src_ip"], r)),
				sport:   bt.Int(col["src_port"], r),
				dport:   bt.Int(col["dst_port"], r),
				packets: bt.Int(col["total_packets"], r),
				fwd:     bt.Int(col["packets_fwd"], r),
				bwd:     bt.Int(col["packets_bwd"], r),
				start:   bt.Float(col["start_time"], r),
				end:     bt.Float(col["end_time"], r),
				stat:    bt.Int(col["flow_stat"], r),
				hdrs:    string(bt.Bytes(col["hdr_desc"], r)),
				bytes:   bt.Int(col["total_bytes"], r),
				payload: bt.Int(col["payload_bytes_total"], r),
			})
		}
		return nil
	}, nil)
	return tab, rows
}

// tcpf builds a TCP frame at s seconds from src:sp to dst:dp.
func tcpf(s float64, src, dst string, sp, dp uint16, flags uint8) testpkt.Frame {
	return testpkt.Frame{TS: epoch + testpkt.Sec(s), Src: testpkt.Addr(src), Dst: testpkt.Addr(dst), Proto: 6, SrcPort: sp, DstPort: dp, Flags: flags}
}

func udpf(s float64, src, dst string, sp, dp uint16) testpkt.Frame {
	return testpkt.Frame{TS: epoch + testpkt.Sec(s), Src: testpkt.Addr(src), Dst: testpkt.Addr(dst), Proto: 17, SrcPort: sp, DstPort: dp}
}

// flows summarises rows as "packets@start" relative to the test epoch.
func summary(rows []row) []string {
	var out []string
	for _, r := range rows {
		rel := func(x float64) float64 { return math.Round((x-1700000000)*1e6) / 1e6 }
		out = append(out, fmt.Sprintf("%s:%d %d@%g-%g stat=%d", r.src, r.sport, r.packets, rel(r.start), rel(r.end), r.stat))
	}
	return out
}

func check(t *testing.T, rows []row, want ...string) {
	t.Helper()
	got := summary(rows)
	if len(got) != len(want) {
		t.Fatalf("got %d flows %q, want %d %q", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("flow %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// The cases follow flow-meta.md §3; each want line is "src:port
// packets@start-end stat=flow_stat", worked out from the rules.
func TestLifecycle(t *testing.T) {
	const A, B = "192.0.2.1", "192.0.2.2"
	cases := []struct {
		name   string
		cfg    Config
		frames []testpkt.Frame
		want   []string
	}{
		{
			// 60 s after the latest packet still joins (strictly greater
			// ends); 60.5 s later starts a new flow.
			name:   "idle timeout is strict",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{udpf(0, A, B, 1000, 53), udpf(60, B, A, 53, 1000), udpf(120.5, A, B, 1000, 53)},
			want:   []string{"192.0.2.1:1000 2@0-60 stat=0", "192.0.2.1:1000 1@120.5-120.5 stat=0"},
		},
		{
			// Active timeout 10 s: the packet at 10 s (≥ 10 after the
			// first) starts a new flow.
			name:   "active timeout",
			cfg:    Config{FlowTimeout: 60 * sec, TCPCloseTimeout: 5 * sec, ActiveTimeout: 10 * sec},
			frames: []testpkt.Frame{udpf(0, A, B, 1000, 53), udpf(5, A, B, 1000, 53), udpf(10, A, B, 1000, 53), udpf(15, B, A, 53, 1000)},
			want:   []string{"192.0.2.1:1000 2@0-5 stat=0", "192.0.2.1:1000 2@10-15 stat=0"},
		},
		{
			// SYN, SYN-ACK, ACK, FIN→, FIN←, last ACK: one flow, 0x4F.
			// The SYN that follows the close starts a new flow.
			name: "fin fin close then syn",
			cfg:  defaultCfg,
			frames: []testpkt.Frame{
				tcpf(0, A, B, 40000, 80, syn), tcpf(0.1, B, A, 80, 40000, syn|ack), tcpf(0.2, A, B, 40000, 80, ack),
				tcpf(1, A, B, 40000, 80, fin|ack), tcpf(1.1, B, A, 80, 40000, fin|ack), tcpf(1.2, A, B, 40000, 80, ack),
				tcpf(2, A, B, 40000, 80, syn),
			},
			want: []string{"192.0.2.1:40000 6@0-1.2 stat=79", "192.0.2.1:40000 1@2-2 stat=1"},
		},
		{
			// A retransmitted FIN and a late ACK after the close stay in it.
			name: "late packets after close stay",
			cfg:  defaultCfg,
			frames: []testpkt.Frame{
				tcpf(0, A, B, 40000, 80, syn), tcpf(0.1, B, A, 80, 40000, syn|ack),
				tcpf(1, A, B, 40000, 80, fin|ack), tcpf(1.1, B, A, 80, 40000, fin|ack),
				tcpf(1.2, B, A, 80, 40000, fin|ack), tcpf(3, A, B, 40000, 80, ack),
			},
			want: []string{"192.0.2.1:40000 6@0-3 stat=79"},
		},
		{
			// A closed flow idles out after the 5 s close timeout: the ACK
			// 5.5 s after the RST starts a new flow (no SYN needed).
			name: "rst then close timeout",
			cfg:  defaultCfg,
			frames: []testpkt.Frame{
				tcpf(0, A, B, 40000, 80, syn), tcpf(0.1, B, A, 80, 40000, rst|ack),
				tcpf(5, A, B, 40000, 80, ack), tcpf(10.5, A, B, 40000, 80, ack),
			},
			want: []string{"192.0.2.1:40000 3@0-5 stat=17", "192.0.2.1:40000 1@10.5-10.5 stat=0"},
		},
		{
			// Handshake then RST: 0x01|0x02|0x10|0x40 = 0x53 = 83.
			name: "rst after handshake is proper termination",
			cfg:  defaultCfg,
			frames: []testpkt.Frame{
				tcpf(0, A, B, 40000, 80, syn), tcpf(0.1, B, A, 80, 40000, syn|ack), tcpf(0.2, A, B, 40000, 80, rst),
			},
			want: []string{"192.0.2.1:40000 3@0-0.2 stat=83"},
		},
		{
			// A retransmitted SYN in an open flow stays in it: 0x01 only.
			name:   "syn retransmission stays",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{tcpf(0, A, B, 40000, 80, syn), tcpf(1, A, B, 40000, 80, syn), tcpf(3, A, B, 40000, 80, syn)},
			want:   []string{"192.0.2.1:40000 3@0-3 stat=1"},
		},
		{
			// FIN from one side only does not close: a SYN stays in the flow.
			name:   "one fin does not close",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{tcpf(0, A, B, 40000, 80, fin|ack), tcpf(1, A, B, 40000, 80, syn)},
			want:   []string{"192.0.2.1:40000 2@0-1 stat=5"},
		},
		{
			// SYN-ACK alone (capture started mid-handshake): the responder
			// sent the first packet, so it is the initiator.
			name:   "initiator is first sender",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{tcpf(0, B, A, 80, 40000, syn|ack), tcpf(0.1, A, B, 40000, 80, ack)},
			want:   []string{"192.0.2.2:80 2@0-0.1 stat=2"},
		},
		{
			// Out-of-order timestamps: start is the min, end the max.
			name:   "out of order timestamps",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{udpf(10, A, B, 1, 2), udpf(5, B, A, 2, 1), udpf(7, A, B, 1, 2)},
			want:   []string{"192.0.2.1:1 3@5-10 stat=0"},
		},
		{
			// Flows end in this order: the first is split by its own
			// timeout at packet 3, the others are still open at the end and
			// come in order of their first packet.
			name:   "output order",
			cfg:    defaultCfg,
			frames: []testpkt.Frame{udpf(0, A, B, 1, 2), udpf(1, A, B, 3, 4), udpf(2, A, B, 5, 6), udpf(100, A, B, 1, 2)},
			want:   []string{"192.0.2.1:1 1@0-0 stat=0", "192.0.2.1:3 1@1-1 stat=0", "192.0.2.1:5 1@2-2 stat=0", "192.0.2.1:1 1@100-100 stat=0"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, _, _ := run(t, c.cfg, c.frames...)
			check(t, rows, c.want...)
		})
	}
}

func TestMaxFlows(t *testing.T) {
	// Three flows, room for two: the least recently seen (port 3, whose
	// last packet is older than port 1's second one) is written early, at
	// the arrival of port 5; every flow is written exactly once.
	cfg := defaultCfg
	cfg.MaxFlows = 2
	rows, st, _ := run(t, cfg,
		udpf(0, "192.0.2.1", "192.0.2.2", 1, 2),
		udpf(1, "192.0.2.1", "192.0.2.2", 3, 4),
		udpf(2, "192.0.2.1", "192.0.2.2", 1, 2),
		udpf(3, "192.0.2.1", "192.0.2.2", 5, 6),
		udpf(4, "192.0.2.1", "192.0.2.2", 1, 2),
	)
	check(t, rows, "192.0.2.1:3 1@1-1 stat=0", "192.0.2.1:1 3@0-4 stat=0", "192.0.2.1:5 1@3-3 stat=0")
	if st.Evicted != 1 || st.MaxLive != 2 {
		t.Errorf("evicted, max live = %d, %d, want 1, 2", st.Evicted, st.MaxLive)
	}
}

func TestMaxFlowsOpenAndClosed(t *testing.T) {
	// The least recently seen flow is evicted whether it is open or closed
	// (a TCP flow after RST sits on the closed list): port 7's RST flow is
	// older than the UDP flow in the first run and newer in the second.
	cfg := defaultCfg
	cfg.MaxFlows = 2
	rows, st, _ := run(t, cfg,
		tcpf(0, "192.0.2.1", "192.0.2.2", 7, 80, rst),
		udpf(1, "192.0.2.1", "192.0.2.2", 1, 2),
		udpf(2, "192.0.2.1", "192.0.2.2", 5, 6),
	)
	check(t, rows, "192.0.2.1:7 1@0-0 stat=16", "192.0.2.1:1 1@1-1 stat=0", "192.0.2.1:5 1@2-2 stat=0")
	if st.Evicted != 1 {
		t.Errorf("evicted %d, want 1", st.Evicted)
	}
	rows, _, _ = run(t, cfg,
		udpf(0, "192.0.2.1", "192.0.2.2", 1, 2),
		tcpf(1, "192.0.2.1", "192.0.2.2", 7, 80, rst),
		udpf(2, "192.0.2.1", "192.0.2.2", 5, 6),
	)
	check(t, rows, "192.0.2.1:1 1@0-0 stat=0", "192.0.2.1:7 1@1-1 stat=16", "192.0.2.1:5 1@2-2 stat=0")
}

func TestFragments(t *testing.T) {
	// A UDP datagram in two fragments (id 7) joins one flow with the first
	// fragment's ports; a later fragment whose first fragment never came
	// (id 8) makes a flow with ports 0. Bytes: 20+8+100 and 20+200; the
	// orphan 20+50.
	first := testpkt.Frame{TS: epoch, Src: a, Dst: b, Proto: 17, SrcPort: 5000, DstPort: 53, IPID: 7, MF: true, Payload: 100, UDPLen: 308}
	later := testpkt.Frame{TS: epoch + 1e6, Src: a, Dst: b, Proto: 17, IPID: 7, FragOff: 14, Payload: 200}
	orphan := testpkt.Frame{TS: epoch + 2e6, Src: a, Dst: c, Proto: 17, IPID: 8, FragOff: 14, Payload: 50}
	rows, _, df := run(t, defaultCfg, first, later, orphan)
	check(t, rows, "192.0.2.1:5000 2@0-0.001 stat=0", "192.0.2.1:0 1@0.002-0.002 stat=0")
	// Payload: first fragment 128 − 20 − 8 (UDP length 308 is beyond the
	// IP payload) = 100, later fragment its whole IP payload 200.
	if rows[0].bytes != 128+220 || rows[0].payload != 300 || rows[0].hdrs != "ETH-IP-UDP" {
		t.Errorf("datagram flow bytes, payload, hdrs = %d %d %q, want 348 300 ETH-IP-UDP", rows[0].bytes, rows[0].payload, rows[0].hdrs)
	}
	if rows[1].dport != 0 || rows[1].payload != 50 || rows[1].hdrs != "ETH-IP" {
		t.Errorf("orphan dport, payload, hdrs = %d %d %q, want 0 50 ETH-IP", rows[1].dport, rows[1].payload, rows[1].hdrs)
	}
	if df.Orphans != 1 || df.Joined != 1 {
		t.Errorf("orphans, joined = %d %d, want 1 1", df.Orphans, df.Joined)
	}
}

func TestTruncatedTCPHeader(t *testing.T) {
	// A SYN cut to 10 bytes of TCP header: ports 0 and flags unknown, so
	// it opens nothing (flow_stat 0) and does not join the port-80 flow.
	cut := tcpf(0, "192.0.2.1", "192.0.2.2", 40000, 80, syn)
	cut.Snap = 14 + 20 + 10
	rows, _, _ := run(t, defaultCfg, cut, tcpf(1, "192.0.2.1", "192.0.2.2", 40000, 80, syn))
	check(t, rows, "192.0.2.1:0 1@0-0 stat=0", "192.0.2.1:40000 1@1-1 stat=1")
}

func TestSweepBoundsMemory(t *testing.T) {
	// 50 000 one-packet flows, one per millisecond, with a 1 s timeout:
	// sweeps keep the table near 1 000 live flows, and every flow is
	// still written exactly once.
	cfg := Config{FlowTimeout: sec, TCPCloseTimeout: sec}
	var frames []testpkt.Frame
	const n = 50000
	for i := 0; i < n; i++ {
		f := udpf(float64(i)/1000, "10.0.0.1", "10.0.0.2", uint16(1+i%60000), 53)
		f.Src = testpkt.Addr(fmt.Sprintf("10.%d.%d.1", i/250%250, i%250))
		frames = append(frames, f)
	}
	rows, st, _ := run(t, cfg, frames...)
	if len(rows) != n {
		t.Fatalf("%d flows written, want %d", len(rows), n)
	}
	if st.MaxLive > 1000+SweepPackets+10 {
		t.Errorf("max live flows = %d, want about 1000 + one sweep interval", st.MaxLive)
	}
}

// randomFrames returns n TCP frames with random flags among about a
// thousand endpoint pairs, a 10 ms mean gap apart.
func randomFrames(n int) []testpkt.Frame {
	r := rand.New(rand.NewPCG(1, 2))
	var frames []testpkt.Frame
	ts := 0.0
	for range n {
		ts += r.ExpFloat64() * 0.01
		src, dst := fmt.Sprintf("10.0.0.%d", r.IntN(20)), fmt.Sprintf("10.0.1.%d", r.IntN(5))
		sp, dp := uint16(1000+r.IntN(10)), uint16(80)
		if r.IntN(2) == 0 {
			src, dst, sp, dp = dst, src, dp, sp
		}
		flags := []uint8{syn, syn | ack, ack, fin | ack, rst, psh | ack}[r.IntN(6)]
		frames = append(frames, tcpf(ts, src, dst, sp, dp, flags))
	}
	return frames
}

// TestRandomInvariants checks, on random traffic, that packets are
// conserved and every flow's counts add up.
func TestRandomInvariants(t *testing.T) {
	frames := randomFrames(20000)
	cfg := defaultCfg
	cfg.FlowTimeout = 2 * sec
	cfg.MaxFlows = 150
	rows, st, _ := run(t, cfg, frames...)
	var total int64
	for _, rw := range rows {
		total += rw.packets
		if rw.fwd+rw.bwd != rw.packets || rw.fwd == 0 || rw.end < rw.start {
			t.Fatalf("bad flow %v", rw)
		}
	}
	if total != int64(len(frames)) || st.Flows != uint64(len(rows)) {
		t.Errorf("packets in flows = %d, want %d", total, len(frames))
	}
}

// TestAddBatchKeys: a table that takes whole batches keys their packets
// itself and reads no key of the batch (which Put leaves unset for one
// table); tables that share batches use the keys Put set. Either way the
// rows are those of packets added one by one (Add), up to the order of
// the tables' rows; and so they are when the packets are put through a
// Stage, with an even and an odd number of packets in the last batch and
// a batch sent part full (whose last packets, keys, input positions and
// timestamps Stage.Done copies).
func TestAddBatchKeys(t *testing.T) {
	cfg := defaultCfg
	cfg.FlowTimeout = 2 * sec
	sorted := func(rows []row) []string {
		var ss []string
		for _, r := range rows {
			ss = append(ss, r.String())
		}
		slices.Sort(ss)
		return ss
	}
	all := randomFrames(5000)
	for _, n := range []int{5000, 4999} {
		frames := all[:n]
		want, _, _ := run(t, cfg, frames...)
		for _, shards := range []int{1, 3} {
			for _, staged := range []bool{false, true} {
				got := runBatches(t, cfg, shards, staged, frames...)
				if shards == 1 && !slices.Equal(got, want) {
					t.Errorf("%d packets, one table of whole batches, staged %v: %d rows, want the %d of Add, in the same order", n, staged, len(got), len(want))
				}
				if g, w := sorted(got), sorted(want); !slices.Equal(g, w) {
					t.Errorf("%d packets, %d tables, staged %v: %d rows, want the %d of Add", n, shards, staged, len(g), len(w))
				}
			}
		}
	}
}

// udpPackets returns each of n UDP flows' packet (source ports 1 to n),
// copies times in a row.
func udpPackets(n, copies int) []decode.Packet {
	var d decode.Decoder
	var pkts []decode.Packet
	for i := 0; i < n; i++ {
		f := udpf(0, "10.0.0.1", "10.0.0.2", uint16(i+1), 53)
		data, wire := f.Build()
		var p decode.Packet
		d.Decode(capture.LinkEthernet, data, uint32(wire), &p)
		for range copies {
			pkts = append(pkts, p)
		}
	}
	return pkts
}

func BenchmarkTable(b *testing.B) {
	// 10 000 concurrent UDP flows, round robin.
	pkts := udpPackets(10000, 1)
	fm := extract.NewFlowMeta(extract.Options{IncludeIPAddresses: true, IncludePorts: true})
	tab := New(defaultCfg, []extract.Extractor{fm}, func(*output.Batch, []Order) error { return nil }, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := tab.Packet()
		*p = pkts[i%len(pkts)]
		p.Timestamp = int64(i)
		tab.Add(uint64(i))
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

// BenchmarkTableLife measures a table's whole life for a small file, as
// Config.PerFile gives each file: made, given 20 packets of 10 flows,
// closed and released. ns/table is the fixed cost a file pays.
func BenchmarkTableLife(b *testing.B) {
	pkts := udpPackets(10, 2)
	sink := func(*output.Batch, []Order) error { return nil }
	batch := new(Batch) // as the pipeline's batches, kept from file to file
	b.ReportAllocs()
	for b.Loop() {
		fm := extract.NewFlowMeta(extract.Options{IncludeIPAddresses: true, IncludePorts: true})
		tab := New(defaultCfg, []extract.Extractor{fm}, sink, nil)
		batch.Reset()
		for i, q := range pkts {
			batch.Pkts[i] = q
			batch.Pkts[i].Timestamp = int64(i)
			batch.Put(uint64(i), int64(i), 1)
		}
		tab.AddBatch(batch, -1)
		tab.Close()
		tab.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/table")
}

// Group lists each shard's packets in input order, as a scan of the shard
// numbers does, for any number of shards and packets, and again after
// Reset with other shards.
func TestBatchGroup(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := new(Batch)
	for round := range 200 {
		shards := 1 + r.IntN(70)
		b.Reset()
		b.N = r.IntN(BatchPackets + 1)
		for i := range b.N {
			b.Shard[i] = uint16(r.IntN(shards))
			if round%5 == 0 {
				b.Shard[i] = uint16(shards - 1) // all in one shard
			}
		}
		b.Group(shards)
		lo := uint16(0)
		for s := range shards {
			var want []uint16
			for i := range b.N {
				if int(b.Shard[i]) == s {
					want = append(want, uint16(i))
				}
			}
			got := b.packets(s)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d, %d shards, %d packets: shard %d holds %v, want %v", round, shards, b.N, s, got, want)
			}
			lo = b.ends[s]
		}
		if int(lo) != b.N {
			t.Fatalf("round %d: the shards hold %d packets, want %d", round, lo, b.N)
		}
	}
}

// TestSeedDoesNotChangeRows: the hash seed, drawn afresh by each process,
// moves flows around the index but changes no row and no row's place,
// with flows ended by timeouts, by FIN and RST, by the flow bound and by
// the end of the input.
func TestSeedDoesNotChangeRows(t *testing.T) {
	defer func(s [3]uint64) { seed = s }(seed)
	frames := randomFrames(20000)
	for _, maxFlows := range []int{0, 150} {
		cfg := defaultCfg
		cfg.FlowTimeout = 2 * sec
		cfg.MaxFlows = maxFlows
		seed = [3]uint64{1, 2, 3}
		want, _, _ := run(t, cfg, frames...)
		for _, s := range [][3]uint64{{4, 5, 6}, newSeed()} {
			seed = s
			got, _, _ := run(t, cfg, frames...)
			if !slices.Equal(got, want) {
				t.Errorf("MaxFlows %d, seed %x: %d rows differ from seed {1 2 3}'s %d", maxFlows, s, len(got), len(want))
			}
		}
		if len(want) < 1000 {
			t.Errorf("MaxFlows %d: %d rows, want over 1 000 for the test to mean much", maxFlows, len(want))
		}
	}
}

// TestBatchRows pins how many rows make a batch: OutputBytes of values
// for wide rows, never more than OutputRows nor fewer than CloseRows.
func TestBatchRows(t *testing.T) {
	for _, c := range []struct{ columns, rows int }{
		{0, OutputRows}, {29, OutputRows}, {64, OutputRows}, {65, 1008}, {149, 439}, {512, 128}, {5000, CloseRows},
	} {
		if got := BatchRows(c.columns); got != c.rows {
			t.Errorf("BatchRows(%d) = %d, want %d", c.columns, got, c.rows)
		}
	}
}

// TestPrefetchSlotLines checks that the two lines PrefetchSlot asks for
// hold every byte of a slot's packet in a heap-allocated batch: a Packet
// grown past 96 bytes, or its Hdrs moved to the first line, would leave a
// line to be moved on the first store to it.
func TestPrefetchSlotLines(t *testing.T) {
	b := new(Batch)
	// Go allocates an object this large on pages of its own (the runtime's
	// large-object path), so a batch starts on a cache line; pass.batch's
	// pktBatch embeds Batch first.
	if a := uintptr(unsafe.Pointer(b)) % 64; a != 0 {
		t.Fatalf("a new Batch starts %d bytes into a cache line", a)
	}
	line := func(p unsafe.Pointer) uintptr { return uintptr(p) &^ 63 }
	for i := range BatchPackets {
		p := &b.Pkts[i]
		asked := []uintptr{line(unsafe.Pointer(p)), line(unsafe.Pointer(&p.Hdrs))}
		for off := uintptr(0); off < unsafe.Sizeof(*p); off++ {
			if l := line(unsafe.Add(unsafe.Pointer(p), off)); !slices.Contains(asked, l) {
				t.Fatalf("packet %d (at %#x, %d bytes): byte %d is on line %#x, not asked for (%#x)", i, uintptr(unsafe.Pointer(p)), unsafe.Sizeof(*p), off, l, asked)
			}
		}
	}
}

// A sink that gives its order slices back (ReuseOrder) gets the same
// backing array with the next batch, filled with that batch's orders
// only; a sink that keeps them gets a new one each time.
func TestReuseOrder(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		var tab *Table
		var arrays []*Order
		var events []uint64
		tab = New(defaultCfg, []extract.Extractor{extract.NewFlowMeta(extract.Options{})}, func(bt *output.Batch, ord []Order) error {
			if len(ord) != bt.Len() {
				t.Fatalf("%d orders for %d rows", len(ord), bt.Len())
			}
			arrays = append(arrays, &ord[:1][0])
			for _, o := range ord {
				events = append(events, o.Event)
			}
			if reuse {
				tab.ReuseOrder(ord)
			}
			return nil
		}, nil)
		var d decode.Decoder
		// Three flows of one packet each, the first two ended by the
		// sweep at record 2 (idle 60 s), the last one by Close.
		for i, s := range []float64{0, 1, 100} {
			f := udpf(s, "10.0.0.1", "10.0.0.2", uint16(1000+i), 53)
			if i == 2 {
				tab.Sweep(epoch+testpkt.Sec(s), 2)
				tab.Flush()
			}
			data, wire := f.Build()
			p := tab.Packet()
			p.Timestamp = f.TS
			d.Decode(capture.LinkEthernet, data, uint32(wire), p)
			tab.Add(uint64(i))
		}
		tab.Close()
		if len(arrays) != 2 || !slices.Equal(events, []uint64{SweepEvent(2), SweepEvent(2), EndOfInput}) {
			t.Fatalf("reuse %v: %d batches, events %v; want 2 batches, events %v", reuse, len(arrays), events, []uint64{SweepEvent(2), SweepEvent(2), EndOfInput})
		}
		if same := arrays[0] == arrays[1]; same != reuse {
			t.Errorf("reuse %v: second batch's orders in the first's array: %v", reuse, same)
		}
	}
}

// Sweeps at the edges of time (flow/wheel.go): timestamps near both ends
// of int64, more than 2^63 ns apart, and buckets 1 ns wide (timeouts of
// up to 2 048 ns, here a TCP close timeout of 0). A flow is quiet when
// last seen before maxTS − timeout, computed without overflow; each case
// lists the flows, by source port, a sweep at maxTS must end, and must
// return (a sweep once looped for 2^64 buckets). The wheels and the
// single last-seen list of MaxFlows must agree.
func TestSweepExtremeTimes(t *testing.T) {
	const rst = 0x04
	cases := []struct {
		name   string
		cfg    Config
		frames []testpkt.Frame
		maxTS  int64
		want   []int64 // source ports of the flows ended by the sweep
	}{
		{"closed flow in 1700, 1 ns buckets", Config{FlowTimeout: 60 * sec},
			[]testpkt.Frame{{TS: -9e18, Src: a, Dst: b, Proto: 6, SrcPort: 1, DstPort: 80, Flags: rst}},
			1.7e18, []int64{1}},
		{"near the largest time, 1 ns buckets", Config{FlowTimeout: 1000, TCPCloseTimeout: 10},
			[]testpkt.Frame{
				{TS: math.MaxInt64 - 5000, Src: a, Dst: b, Proto: 17, SrcPort: 1, DstPort: 53},
				{TS: math.MaxInt64 - 500, Src: a, Dst: b, Proto: 17, SrcPort: 2, DstPort: 53},
			}, math.MaxInt64, []int64{1}},
		{"2^63 ns apart", Config{FlowTimeout: 60 * sec, TCPCloseTimeout: 5 * sec},
			[]testpkt.Frame{
				{TS: -8e18, Src: a, Dst: b, Proto: 17, SrcPort: 1, DstPort: 53},
				{TS: 0, Src: a, Dst: b, Proto: 17, SrcPort: 2, DstPort: 53},
			}, 8e18, []int64{1, 2}},
		{"nothing quiet before the earliest time", Config{FlowTimeout: 60 * sec, TCPCloseTimeout: 5 * sec},
			[]testpkt.Frame{{TS: math.MinInt64 + 10, Src: a, Dst: b, Proto: 17, SrcPort: 1, DstPort: 53}},
			math.MinInt64 + 20, nil},
	}
	for _, c := range cases {
		for _, maxFlows := range []int{0, 1 << 20} {
			cfg := c.cfg
			cfg.MaxFlows = maxFlows
			fm := extract.NewFlowMeta(extract.Options{IncludePorts: true})
			port := -1
			for i, col := range fm.Columns() {
				if col.Name == "src_port" {
					port = i
				}
			}
			var ended []int64
			tab := New(cfg, []extract.Extractor{fm}, func(bt *output.Batch, _ []Order) error {
				for r := 0; r < bt.Len(); r++ {
					ended = append(ended, bt.Int(port, r))
				}
				return nil
			}, nil)
			var d decode.Decoder
			for i, f := range c.frames {
				data, wire := f.Build()
				p := tab.Packet()
				p.Timestamp = f.TS
				if r := d.Decode(capture.LinkEthernet, data, uint32(wire), p); r != decode.ReasonOK {
					t.Fatalf("%s: frame %d: %v", c.name, i, r)
				}
				tab.Add(uint64(i))
			}
			done := make(chan struct{})
			go func() {
				tab.Sweep(c.maxTS, uint64(len(c.frames)))
				tab.Flush()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s, MaxFlows %d: the sweep did not return", c.name, maxFlows)
			}
			slices.Sort(ended)
			if !slices.Equal(ended, c.want) {
				t.Errorf("%s, MaxFlows %d: the sweep ended the flows of ports %v, want %v", c.name, maxFlows, ended, c.want)
			}
		}
	}
}

// TestCloseMakesRoom checks that the rows flush emits at once go into a
// batch grown once to hold them (Table.room), not one doubling at a
// time: Close of 100 flows makes 38 allocations (72 under the race
// detector) for flow_meta's 29 columns, where growing each column from
// empty to 100 rows made 273.
func TestCloseMakesRoom(t *testing.T) {
	pkts := udpPackets(100, 1)
	fm := extract.NewFlowMeta(extract.Options{IncludeIPAddresses: true, IncludePorts: true})
	var rows int
	tab := New(defaultCfg, []extract.Extractor{fm}, func(b *output.Batch, _ []Order) error {
		rows += b.Len()
		return nil
	}, nil)
	var batch Batch
	for i, q := range pkts {
		batch.Pkts[i] = q
		batch.Pkts[i].Timestamp = int64(i)
		batch.Put(uint64(i), int64(i), 1)
	}
	if err := tab.AddBatch(&batch, -1); err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if rows != len(pkts) {
		t.Fatalf("%d rows, want %d", rows, len(pkts))
	}
	cols := len(fm.Columns())
	if n := after.Mallocs - before.Mallocs; n > uint64(4*cols) {
		t.Errorf("Close of %d flows made %d allocations, want at most %d (four a column)", len(pkts), n, 4*cols)
	} else {
		t.Logf("Close of %d flows: %d allocations, %d columns", len(pkts), n, cols)
	}
}

// TestCloseEndsEveryFlow: Close ends every open flow, of both wheels, in
// the order of their first packets, whether it takes them in slot order
// (most slots hold an open flow) or walks the wheels' lists (a few are
// left of many). The young flows reuse the slots of old ones a sweep
// ended, the last freed first, so that slot order is not input order;
// every third is a TCP flow reset by its second packet, which moves it to
// the closed wheel.
func TestCloseEndsEveryFlow(t *testing.T) {
	for _, tc := range []struct {
		name       string
		old, young int
		scan       bool
	}{
		{"most slots open", 1000, 5000, true},
		{"few slots open", 400, 10, false},
		{"most of a few slots open", 100, 300, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultCfg
			cfg.FlowTimeout = 2 * sec
			tab, rows := rowTable(cfg)
			var d decode.Decoder
			df := NewDefrag(cfg.FlowTimeout)
			idx, maxTS := 0, int64(-1<<63)
			add := func(f testpkt.Frame) {
				p := tab.Packet()
				decodeFrame(t, &d, df, idx, f, p)
				maxTS = max(maxTS, p.Timestamp)
				if err := tab.Add(uint64(idx)); err != nil {
					t.Fatal(err)
				}
				idx++
			}
			host := func(i int) string { return fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250) }
			for i := range tc.old {
				add(udpf(float64(i)/1000, host(i), "192.0.2.9", 5000, 53))
			}
			tab.Sweep(maxTS+10*sec, uint64(idx))
			if err := tab.Flush(); err != nil {
				t.Fatal(err)
			}
			if len(*rows) != tc.old {
				t.Fatalf("the sweep ended %d flows, want %d", len(*rows), tc.old)
			}
			// Each young flow's first packet, then their second ones in
			// reverse, so that the wheels' lists are not in input order
			// either.
			at := func(i int) float64 { return 20 + float64(i)/100000 }
			for i := range tc.young {
				if i%3 == 0 {
					add(tcpf(at(i), host(i), "192.0.2.9", 6000, 80, syn))
				} else {
					add(udpf(at(i), host(i), "192.0.2.9", 6000, 53))
				}
			}
			for i := tc.young - 1; i >= 0; i-- {
				if i%3 == 0 {
					add(tcpf(at(tc.young), "192.0.2.9", host(i), 80, 6000, rst|ack))
				} else {
					add(udpf(at(tc.young), "192.0.2.9", host(i), 53, 6000))
				}
			}
			if scan := tab.scansSlots(); scan != tc.scan {
				t.Fatalf("%d open flows in %d slots: Close scans the slots %v, want %v", tab.index.Len(), tab.slots.n, scan, tc.scan)
			}
			if err := tab.Close(); err != nil {
				t.Fatal(err)
			}
			got := (*rows)[tc.old:]
			if len(got) != tc.young {
				t.Fatalf("Close ended %d flows, want %d", len(got), tc.young)
			}
			for i, r := range got {
				rel := func(x float64) float64 { return math.Round((x-1700000000)*1e6) / 1e6 }
				want := fmt.Sprintf("%s:6000 2@%g-%g", host(i), rel(1700000000+at(i)), rel(1700000000+at(tc.young)))
				if s := fmt.Sprintf("%s:%d %d@%g-%g", r.src, r.sport, r.packets, rel(r.start), rel(r.end)); s != want {
					t.Fatalf("row %d of Close = %s, want %s", i, s, want)
				}
				if reset := r.stat&0x10 != 0; reset != (i%3 == 0) {
					t.Errorf("row %d of Close: flow_stat %#x, reset %v, want %v", i, r.stat, reset, i%3 == 0)
				}
			}
		})
	}
}

// TestIntern gives every stack the id of the first stack equal to it, in
// every field, whatever intern's cache holds. Each pair below falls in
// one cell of the cache, and is interned one right after the other, so
// that the second finds the first in its cell: stacks that differ only
// past the fifth layer (the cell's key), only in Proto, or only in a
// layer past N; and the empty stack, whose cell is still unused, after
// another stack took id 0. Then a hundred more stacks share the sixteen
// cells, all of them interned in three orders.
func TestIntern(t *testing.T) {
	fm := extract.NewFlowMeta(extract.Options{IncludeIPAddresses: true, IncludePorts: true})
	tab := New(defaultCfg, []extract.Extractor{fm}, func(*output.Batch, []Order) error { return nil }, nil)
	base := decode.Stack{N: 3}
	base.Layers[0], base.Layers[1], base.Layers[2] = decode.LayerETH, decode.LayerIP, decode.LayerTCP
	deep := decode.Stack{N: 10}
	for i := range 10 {
		deep.Layers[i] = decode.LayerVLAN
	}
	deepTCP := deep
	deepTCP.Layers[9] = decode.LayerTCP
	proto := base
	proto.Proto = 47
	past := base
	past.Layers[12] = decode.LayerUDP
	var empty decode.Stack
	if recentCell(&empty) == recentCell(&base) {
		t.Fatal("the empty stack and base share a cell: the empty stack's case would not test an unused cell")
	}
	stacks := []decode.Stack{base, empty, deep, deepTCP, base, proto, base, past}
	for i := range 100 {
		s := decode.Stack{N: uint8(1 + i%4)}
		s.Layers[0], s.Layers[1], s.Layers[2] = decode.Layer(i%7), decode.Layer(i/7), decode.LayerUDP
		stacks = append(stacks, s)
	}
	n := len(stacks)
	want := map[decode.Stack]uint32{}
	for round, at := range []func(i int) int{
		func(i int) int { return i },
		func(i int) int { return n - 1 - i },
		func(i int) int { return i * 37 % n }, // 37 and 108 are coprime: every stack once
	} {
		for i := range n {
			s := stacks[at(i)]
			id := tab.intern(&s)
			if int(id) >= len(tab.stacks) || tab.stacks[id] != s {
				t.Fatalf("round %d: intern(%v) = %d, not its id", round, s, id)
			}
			if d := string(s.AppendTo(nil)); int(id) >= len(tab.descs) || tab.descs[id] != d {
				t.Fatalf("round %d: stack %d's text is not %q", round, id, d)
			}
			if w, ok := want[s]; ok && id != w {
				t.Fatalf("round %d: intern(%v) = %d, want %d as before", round, s, id, w)
			}
			want[s] = id
		}
	}
	if len(tab.stacks) != len(want) {
		t.Errorf("%d stacks interned, want %d", len(tab.stacks), len(want))
	}
}
