package extract

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/jjflow/jj/decode"
)

// Flag shorthands.
const (
	fFIN = decode.TCPFin
	fSYN = decode.TCPSyn
	fRST = decode.TCPRst
	fPSH = decode.TCPPsh
	fACK = decode.TCPAck
	fURG = decode.TCPUrg
	fECE = decode.TCPEce
	fCWR = decode.TCPCwr
)

// seg is a TCP test packet: IP length 40 + payload.
func seg(ts int64, d Dir, fl decode.TCPFlags, seq, ack uint32, win uint16, payload uint32) tp {
	return tp{ts: ts, dir: d, length: 40 + payload, payload: payload, tcp: true, flags: fl, seq: seq, ack: ack, win: win}
}

func TestTCPColumns(t *testing.T) {
	want := []string{
		"tcp_is_tcp",
		"tcp_syn_count", "tcp_synack_count",
		"tcp_fin_count", "tcp_rst_count", "tcp_ack_count", "tcp_psh_count", "tcp_urg_count", "tcp_ece_count", "tcp_cwr_count",
		"tcp_syn_count_fwd", "tcp_syn_count_bwd", "tcp_psh_count_fwd", "tcp_psh_count_bwd",
		"tcp_data_packets", "tcp_ack_only_packets",
		"tcp_syn_ratio", "tcp_fin_ratio", "tcp_rst_ratio", "tcp_psh_ratio",
		"tcp_initiator_syn", "tcp_responder_synack", "tcp_complete_handshake",
		"tcp_graceful_close", "tcp_reset_close",
		"tcp_flags_anomaly",
		"tcp_fstat",
		"tcp_flags_agg", "tcp_flags_fwd", "tcp_flags_bwd",
		"tcp_initial_window_fwd", "tcp_initial_window_bwd",
		"tcp_retrans_fwd", "tcp_retrans_bwd", "tcp_out_of_order_fwd", "tcp_out_of_order_bwd", "tcp_dup_ack_fwd", "tcp_dup_ack_bwd",
		"tcp_handshake_rtt",
	}
	checkNames(t, NewTCP(Options{IncludeRawSequences: true, IncludeSPLT: true}), want)
}

func tcpZero() row { return zeroRow(NewTCP(Options{}), 0) }

func TestTCP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proto uint8
		ps    []tp
		want  row
	}{
		{
			// UDP packets: every column 0 or false, tcp_is_tcp too.
			name: "not TCP", proto: 17,
			ps:   []tp{{length: 100, payload: 92}, {dir: Bwd, length: 50, payload: 42}},
			want: tcpZero(),
		},
		{
			// A TCP flow Emitted without any packet observed.
			name: "no packet", proto: 6,
			want: with(tcpZero(), "tcp_is_tcp", true),
		},
		{
			// Later fragments (no TCP header): no flags, no data segments,
			// but they count in the ratios' denominator: 0/2 = 0.
			name: "TCP without headers", proto: 6,
			ps:   []tp{{length: 1500, payload: 1480}, {length: 500, payload: 480}},
			want: with(tcpZero(), "tcp_is_tcp", true),
		},
		{
			// Handshake, one data segment each way, FIN both ways.
			//   F SYN       seq 1000            win 64240   t 0
			//   B SYN ACK   seq 5000 ack 1001   win 65160   t 10 ms
			//   F ACK       seq 1001 ack 5001   win 502     t 20 ms
			//   F PSH ACK   seq 1001 ack 5001   win 502     100 bytes
			//   B ACK       seq 5001 ack 1101   win 509
			//   B PSH ACK   seq 5001 ack 1101   win 509     200 bytes
			//   F ACK       seq 1101 ack 5201   win 501
			//   F FIN ACK   seq 1101 ack 5201   win 501
			//   B FIN ACK   seq 5201 ack 1102   win 509
			//   F ACK       seq 1102 ack 5202   win 501
			// SYN 1, SYN-ACK 1, FIN 2, ACK 9, PSH 2 (one each way).
			// Data 2; pure ACKs 4 (packets 3, 5, 7, 10).
			// Ratios over 10 packets: SYN (1+1)/10, FIN 2/10, PSH 2/10.
			// fstat 0x01|0x02|0x04|0x08|0x10|0x40 = 0x5F; flags
			// FIN|SYN|PSH|ACK = 0x1B both ways. Every segment is new; no
			// ACK repeats the previous one of its direction.
			// RTT: ACK at 20 ms − SYN at 0.
			name: "full connection", proto: 6,
			ps: []tp{
				seg(0, Fwd, fSYN, 1000, 0, 64240, 0),
				seg(ms(10), Bwd, fSYN|fACK, 5000, 1001, 65160, 0),
				seg(ms(20), Fwd, fACK, 1001, 5001, 502, 0),
				seg(ms(21), Fwd, fPSH|fACK, 1001, 5001, 502, 100),
				seg(ms(30), Bwd, fACK, 5001, 1101, 509, 0),
				seg(ms(31), Bwd, fPSH|fACK, 5001, 1101, 509, 200),
				seg(ms(40), Fwd, fACK, 1101, 5201, 501, 0),
				seg(ms(50), Fwd, fFIN|fACK, 1101, 5201, 501, 0),
				seg(ms(60), Bwd, fFIN|fACK, 5201, 1102, 509, 0),
				seg(ms(70), Fwd, fACK, 1102, 5202, 501, 0),
			},
			want: row{
				"tcp_is_tcp":    true,
				"tcp_syn_count": 1, "tcp_synack_count": 1,
				"tcp_fin_count": 2, "tcp_rst_count": 0, "tcp_ack_count": 9, "tcp_psh_count": 2, "tcp_urg_count": 0, "tcp_ece_count": 0, "tcp_cwr_count": 0,
				"tcp_syn_count_fwd": 1, "tcp_syn_count_bwd": 0, "tcp_psh_count_fwd": 1, "tcp_psh_count_bwd": 1,
				"tcp_data_packets": 2, "tcp_ack_only_packets": 4,
				"tcp_syn_ratio": 0.2, "tcp_fin_ratio": 0.2, "tcp_rst_ratio": 0.0, "tcp_psh_ratio": 0.2,
				"tcp_initiator_syn": true, "tcp_responder_synack": true, "tcp_complete_handshake": true,
				"tcp_graceful_close": true, "tcp_reset_close": false,
				"tcp_flags_anomaly": false,
				"tcp_fstat":         0x5F,
				"tcp_flags_agg":     0x1B, "tcp_flags_fwd": 0x1B, "tcp_flags_bwd": 0x1B,
				"tcp_initial_window_fwd": 64240, "tcp_initial_window_bwd": 65160,
				"tcp_retrans_fwd": 0, "tcp_retrans_bwd": 0, "tcp_out_of_order_fwd": 0, "tcp_out_of_order_bwd": 0,
				"tcp_dup_ack_fwd": 0, "tcp_dup_ack_bwd": 0,
				"tcp_handshake_rtt": 0.02,
			},
		},
		{
			// Connection refused: F SYN, B RST ACK (window 0).
			// SYN 1, RST 1, ACK 1 of 2 packets; RST ACK is not a pure ACK.
			// fstat 0x01|0x20 = 0x21; flags: F 0x02, B RST|ACK 0x14.
			name: "refused", proto: 6,
			ps: []tp{
				seg(0, Fwd, fSYN, 7, 0, 1024, 0),
				seg(ms(1), Bwd, fRST|fACK, 0, 8, 0, 0),
			},
			want: with(tcpZero(),
				"tcp_is_tcp", true,
				"tcp_syn_count", 1, "tcp_rst_count", 1, "tcp_ack_count", 1, "tcp_syn_count_fwd", 1,
				"tcp_syn_ratio", 0.5, "tcp_rst_ratio", 0.5,
				"tcp_initiator_syn", true, "tcp_reset_close", true,
				"tcp_fstat", 0x21,
				"tcp_flags_agg", 0x16, "tcp_flags_fwd", 0x02, "tcp_flags_bwd", 0x14,
				"tcp_initial_window_fwd", 1024,
			),
		},
		{
			// A SYN and a packet without a TCP header (a later fragment):
			// the second counts in the ratios' denominator only.
			name: "SYN and a headerless packet", proto: 6,
			ps: []tp{seg(0, Fwd, fSYN, 1, 0, 1024, 0), {length: 20}},
			want: with(tcpZero(),
				"tcp_is_tcp", true,
				"tcp_syn_count", 1, "tcp_syn_count_fwd", 1,
				"tcp_syn_ratio", 0.5,
				"tcp_initiator_syn", true,
				"tcp_fstat", 0x01,
				"tcp_flags_agg", 0x02, "tcp_flags_fwd", 0x02,
				"tcp_initial_window_fwd", 1024,
			),
		},
		{
			// An Xmas-style probe: FIN PSH URG without ACK, window 1024.
			// FIN, PSH, URG 1 each of 1 packet; anomalous (FIN+PSH+URG
			// and FIN without ACK). fstat 0x08|0x80; flags 0x01|0x08|0x20.
			name: "xmas probe", proto: 6,
			ps: []tp{seg(0, Fwd, fFIN|fPSH|fURG, 1, 0, 1024, 0)},
			want: with(tcpZero(),
				"tcp_is_tcp", true,
				"tcp_fin_count", 1, "tcp_psh_count", 1, "tcp_urg_count", 1, "tcp_psh_count_fwd", 1,
				"tcp_fin_ratio", 1.0, "tcp_psh_ratio", 1.0,
				"tcp_flags_anomaly", true,
				"tcp_fstat", 0x88,
				"tcp_flags_agg", 0x29, "tcp_flags_fwd", 0x29,
				"tcp_initial_window_fwd", 1024,
			),
		},
		{
			// ECN-setup handshake and an urgent data byte.
			//   F SYN ECE CWR  seq 0          win 100   t 0
			//   B SYN ACK ECE  seq 0 ack 1    win 200   t 100 ms
			//   F ACK URG      seq 1 ack 1    win 100   1 byte, t 150 ms
			// SYN 1, SYN-ACK 1, ACK 2, URG 1, ECE 2, CWR 1; data 1.
			// SYN ratio 2/3. fstat 0x01|0x02|0x04|0x40 = 0x47.
			// Flags: F SYN|ACK|URG|ECE|CWR = 0xF2, B SYN|ACK|ECE = 0x52.
			// RTT 150 ms: the data segment is the handshake's ACK.
			name: "ecn and urgent", proto: 6,
			ps: []tp{
				seg(0, Fwd, fSYN|fECE|fCWR, 0, 0, 100, 0),
				seg(ms(100), Bwd, fSYN|fACK|fECE, 0, 1, 200, 0),
				seg(ms(150), Fwd, fACK|fURG, 1, 1, 100, 1),
			},
			want: with(tcpZero(),
				"tcp_is_tcp", true,
				"tcp_syn_count", 1, "tcp_synack_count", 1, "tcp_ack_count", 2, "tcp_urg_count", 1, "tcp_ece_count", 2, "tcp_cwr_count", 1,
				"tcp_syn_count_fwd", 1, "tcp_data_packets", 1,
				"tcp_syn_ratio", 2.0/3,
				"tcp_initiator_syn", true, "tcp_responder_synack", true, "tcp_complete_handshake", true,
				"tcp_fstat", 0x47,
				"tcp_flags_agg", 0xF2, "tcp_flags_fwd", 0xF2, "tcp_flags_bwd", 0x52,
				"tcp_initial_window_fwd", 100, "tcp_initial_window_bwd", 200,
				"tcp_handshake_rtt", 0.15,
			),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewTCP(Options{})
			if len(tc.ps) > 0 {
				ex.Observe(refs(1, tc.ps))
			}
			checkRow(t, emitRow(t, ex, 1, tcpFlow(tc.proto, tc.ps)), tc.want)
		})
	}
}

func TestTCPAnomaly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags decode.TCPFlags
		want  bool
	}{
		{"no flags", 0, true},
		{"FIN PSH URG", fFIN | fPSH | fURG, true},
		{"FIN PSH URG ACK", fFIN | fPSH | fURG | fACK, true},
		{"FIN without ACK", fFIN, true},
		{"SYN FIN", fSYN | fFIN, true},
		{"SYN RST", fSYN | fRST, true},
		{"FIN ACK", fFIN | fACK, false},
		{"SYN", fSYN, false},
		{"SYN ACK ECE", fSYN | fACK | fECE, false},
		{"RST", fRST, false},
		{"PSH ACK", fPSH | fACK, false},
		{"PSH URG ACK", fPSH | fURG | fACK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewTCP(Options{})
			ps := []tp{seg(0, Fwd, fACK, 1, 1, 1, 0), seg(1, Bwd, tc.flags, 9, 2, 1, 0)}
			ex.Observe(refs(0, ps))
			got := emitRow(t, ex, 0, tcpFlow(6, ps))
			if got["tcp_flags_anomaly"] != tc.want || (got["tcp_fstat"].(int64)&0x80 != 0) != tc.want {
				t.Errorf("flags %#x: anomaly %v, fstat %#x, want anomaly %v", uint8(tc.flags), got["tcp_flags_anomaly"], got["tcp_fstat"], tc.want)
			}
		})
	}
}

func TestTCPHandshake(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ps       []tp
		complete bool
		rtt      float64
	}{
		{
			// The RTT runs from the first SYN: 1020 ms.
			name: "retransmitted SYN",
			ps: []tp{
				seg(0, Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(1000), Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(1010), Bwd, fSYN|fACK, 1, 2, 1, 0),
				seg(ms(1020), Fwd, fACK, 2, 2, 1, 0),
			},
			complete: true, rtt: 1.02,
		},
		{
			// The initiator's ACK carries data: 7 ms.
			name: "ACK with data",
			ps: []tp{
				seg(0, Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(5), Bwd, fSYN|fACK, 1, 2, 1, 0),
				seg(ms(7), Fwd, fPSH|fACK, 2, 2, 1, 10),
			},
			complete: true, rtt: 0.007,
		},
		{
			// An ACK before the SYN-ACK does not complete it, nor does
			// the SYN-ACK alone.
			name: "ACK before SYN-ACK",
			ps: []tp{
				seg(0, Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(1), Fwd, fACK, 2, 2, 1, 0),
				seg(ms(2), Bwd, fSYN|fACK, 1, 2, 1, 0),
			},
		},
		{
			// A SYN-ACK seen before the initiator's SYN is out of order.
			name: "SYN-ACK before SYN",
			ps: []tp{
				seg(0, Fwd, fACK, 2, 2, 1, 0),
				seg(ms(1), Bwd, fSYN|fACK, 1, 2, 1, 0),
				seg(ms(2), Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(3), Fwd, fACK, 2, 2, 1, 0),
			},
		},
		{
			// Simultaneous open: SYN both ways, no SYN-ACK.
			name: "SYN both ways",
			ps: []tp{
				seg(0, Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(1), Bwd, fSYN, 1, 0, 1, 0),
				seg(ms(2), Fwd, fACK, 2, 2, 1, 0),
			},
		},
		{
			// Timestamps out of order: the RTT is never negative.
			name: "ACK stamped before SYN",
			ps: []tp{
				seg(ms(100), Fwd, fSYN, 1, 0, 1, 0),
				seg(ms(50), Bwd, fSYN|fACK, 1, 2, 1, 0),
				seg(ms(20), Fwd, fACK, 2, 2, 1, 0),
			},
			complete: true, rtt: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewTCP(Options{})
			ex.Observe(refs(0, tc.ps))
			got := emitRow(t, ex, 0, tcpFlow(6, tc.ps))
			if got["tcp_complete_handshake"] != tc.complete || got["tcp_handshake_rtt"] != tc.rtt {
				t.Errorf("complete, rtt = %v, %v, want %v, %v", got["tcp_complete_handshake"], got["tcp_handshake_rtt"], tc.complete, tc.rtt)
			}
			if (got["tcp_fstat"].(int64)&0x04 != 0) != tc.complete {
				t.Errorf("fstat %#x, handshake bit want %v", got["tcp_fstat"], tc.complete)
			}
		})
	}
}

// data is a forward data segment.
func data(seq, n uint32) tp { return seg(0, Fwd, fPSH|fACK, seq, 1, 1000, n) }

func TestTCPSequence(t *testing.T) {
	const top = 1 << 32
	type counts struct{ retransF, retransB, oooF, oooB, dupF, dupB int }
	for _, tc := range []struct {
		name string
		ps   []tp
		want counts
	}{
		{"in order", []tp{data(1, 100), data(101, 100), data(201, 100)}, counts{}},
		// [1,101) again.
		{"retransmission", []tp{data(1, 100), data(101, 100), data(1, 100)}, counts{retransF: 1}},
		// [51,151): bytes 101..150 are new.
		{"overlap with new bytes", []tp{data(1, 100), data(51, 100)}, counts{}},
		// [101,151) inside [1,301).
		{"part of a segment again", []tp{data(1, 300), data(101, 50)}, counts{retransF: 1}},
		// 201 opens the gap [101,201); 101 fills it; 101 again is a
		// retransmission.
		{"gap filled", []tp{data(1, 100), data(201, 100), data(101, 100), data(101, 100)}, counts{retransF: 1, oooF: 1}},
		// [151,251) covers [151,201) of the gap: out of order; [101,151)
		// fills the rest; [101,251) was then all seen.
		{"gap filled in parts", []tp{data(1, 100), data(201, 100), data(151, 100), data(101, 50), data(101, 150)}, counts{retransF: 1, oooF: 2}},
		// Starting above next expected opens a gap and is not counted.
		{"above next expected", []tp{data(1, 100), data(1001, 100)}, counts{}},
		// Next expected runs 2^32−56 → 2^32+44 → 2^32+144; the
		// re-sent [2^32−56, 2^32+44) unwraps below it and was seen.
		// Then 344 opens [2^32+144, 2^32+344), which 144 fills.
		{"wrap-around", []tp{data(top-256, 200), data(top-56, 100), data(44, 100), data(top-56, 100), data(344, 100), data(144, 200)}, counts{retransF: 1, oooF: 1}},
		// The gap [2^32−50, 2^32+50) straddles the wrap.
		{"gap across 2^32", []tp{data(top-100, 50), data(50, 50), data(top-50, 100)}, counts{oooF: 1}},
		// SYN with 10 bytes: [100,111) (SYN at 100, data 101..110), so
		// 111 is next, not a gap; 110 (one byte) was seen. FIN with 10
		// bytes at 121: [121,132), FIN at 131; 131 was seen. 132 is new.
		// The FIN segment re-sent is a retransmission; a bare SYN re-sent
		// has no payload and is not judged.
		{"SYN and FIN take one number", []tp{
			seg(0, Fwd, fSYN, 100, 0, 1000, 10),
			data(111, 10),
			data(110, 1),
			seg(0, Fwd, fFIN|fACK, 121, 1, 1000, 10),
			data(131, 1),
			data(132, 5),
			seg(0, Fwd, fFIN|fACK, 121, 1, 1000, 10),
			seg(0, Fwd, fSYN, 100, 0, 1000, 0),
		}, counts{retransF: 3}},
		// A pure ACK at 201 moves next expected and leaves [101,201)
		// unseen; the data then fills a gap. The pure ACK repeats the ACK
		// number and window of the data segment before it: a duplicate ACK.
		{"pure ACK opens a gap", []tp{data(1, 100), seg(0, Fwd, fACK, 201, 1, 1000, 0), data(101, 100)}, counts{oooF: 1, dupF: 1}},
		// First segment at 1000. [900,950) lies below it: not counted, and
		// [950,1000) is a gap; 950 fills it; 900 again is a
		// retransmission; [800,1000) brings new bytes 800..899.
		// [900,950) and [950,1000) lie below the first sequence number:
		// unseen but no gap, so neither is counted; the repeat of
		// [900,950) is a retransmission; [800,1000) holds unseen bytes and
		// no gap: nothing.
		{"below the first sequence number", []tp{data(1000, 100), data(900, 50), data(950, 50), data(900, 50), data(800, 200)}, counts{retransF: 1}},
		// Five gaps after [0,10): [10,20) [30,40) [50,60) [70,80)
		// [90,100); filling the oldest and the newest are both out of order.
		{"five gaps", []tp{data(0, 10), data(20, 10), data(40, 10), data(60, 10), data(80, 10), data(100, 10), data(10, 10), data(90, 10)}, counts{oooF: 2}},
		// A 1-byte keep-alive at next expected − 1 repeats a seen byte; a
		// 0-byte one is not judged, but as a pure ACK repeating the ACK
		// number and window before it, it is a duplicate ACK.
		{"keep-alive", []tp{data(1, 100), seg(0, Fwd, fACK, 100, 1, 1000, 1), seg(0, Fwd, fACK, 100, 1, 1000, 0)}, counts{retransF: 1, dupF: 1}},
		// The receiver closes its window at 101; the probe is one new
		// byte at next expected: not a retransmission.
		{"zero-window probe", []tp{
			data(1, 100),
			seg(0, Bwd, fACK, 1, 101, 0, 0),
			seg(0, Fwd, fACK, 101, 1, 1000, 1),
		}, counts{}},
		// The window stays closed: the receiver repeats its ACK (a
		// duplicate ACK) and the sender re-sends the probe byte 101, which
		// was seen, so the contract counts it as a retransmission (tshark
		// would not). Then the window opens and data resumes at 102.
		{"zero-window probe re-sent", []tp{
			data(1, 100),
			seg(0, Bwd, fACK, 1, 101, 0, 0),
			seg(0, Fwd, fACK, 101, 1, 1000, 1),
			seg(0, Bwd, fACK, 1, 101, 0, 0),
			seg(0, Fwd, fACK, 101, 1, 1000, 1),
			seg(0, Bwd, fACK, 1, 102, 1000, 0),
			data(102, 100),
		}, counts{retransF: 1, dupB: 1}},
		// Backward ACK-carrying packets (ack, window): (100,1000) first;
		// (100,1000) dup 1; (100,1000) dup 2; (100,2000) window update;
		// (100,2000) dup 3; data (100,2000) is not pure but is the
		// previous ACK-carrying packet of the next pure ACK: dup 4;
		// FIN ACK is not pure; the ACK after it: dup 5; a PSH without
		// ACK is skipped: dup 6. Forward: SYN, then data, no pure ACK.
		{"duplicate ACKs", []tp{
			seg(0, Fwd, fSYN, 1, 0, 1000, 0),
			seg(0, Bwd, fACK, 1, 100, 1000, 0),
			seg(0, Bwd, fACK, 1, 100, 1000, 0),
			seg(0, Bwd, fACK, 1, 100, 1000, 0),
			seg(0, Bwd, fACK, 1, 100, 2000, 0),
			seg(0, Bwd, fACK, 1, 100, 2000, 0),
			seg(0, Bwd, fPSH|fACK, 1, 100, 2000, 10),
			seg(0, Bwd, fACK, 11, 100, 2000, 0),
			seg(0, Bwd, fFIN|fACK, 11, 100, 2000, 0),
			seg(0, Bwd, fACK, 12, 100, 2000, 0),
			seg(0, Bwd, fPSH, 12, 0, 2000, 5),
			seg(0, Bwd, fACK, 17, 100, 2000, 0),
			data(2, 10),
		}, counts{dupB: 6}},
		// Sequence spaces are per direction.
		{"directions apart", []tp{data(1, 100), seg(0, Bwd, fPSH|fACK, 1, 101, 1000, 100), data(101, 100), seg(0, Bwd, fPSH|fACK, 1, 201, 1000, 100)}, counts{retransB: 1}},
		// Out of order backward.
		{"backward gap", []tp{data(1, 1), seg(0, Bwd, fPSH|fACK, 500, 2, 9, 10), seg(0, Bwd, fPSH|fACK, 520, 2, 9, 10), seg(0, Bwd, fPSH|fACK, 510, 2, 9, 10)}, counts{oooB: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := NewTCP(Options{})
			ex.Observe(refs(0, tc.ps))
			got := emitRow(t, ex, 0, tcpFlow(6, tc.ps))
			g := counts{
				int(got["tcp_retrans_fwd"].(int64)), int(got["tcp_retrans_bwd"].(int64)),
				int(got["tcp_out_of_order_fwd"].(int64)), int(got["tcp_out_of_order_bwd"].(int64)),
				int(got["tcp_dup_ack_fwd"].(int64)), int(got["tcp_dup_ack_bwd"].(int64)),
			}
			if g != tc.want {
				t.Errorf("retrans fwd/bwd, ooo fwd/bwd, dup fwd/bwd = %+v, want %+v", g, tc.want)
			}
		})
	}
}

func TestHoles(t *testing.T) {
	g := func(a, b int64) hole { return hole{a, b, true} }
	var hs []hole
	hs = addHole(hs, g(10, 20))
	hs = addHole(hs, g(30, 40))
	hs = addHole(hs, g(20, 25)) // touches [10,20): merged
	hs = addHole(hs, hole{0, 5, false})
	hs = addHole(hs, hole{5, 8, true}) // touches [0,5) but of another kind: kept apart
	if want := []hole{{0, 5, false}, g(5, 8), g(10, 25), g(30, 40)}; !slices.Equal(hs, want) {
		t.Errorf("holes = %v, want %v", hs, want)
	}
	hs = fill(hs, 12, 14) // splits [10,25)
	if want := []hole{{0, 5, false}, g(5, 8), g(10, 12), g(14, 25), g(30, 40)}; !slices.Equal(hs, want) {
		t.Errorf("after fill(12,14) holes = %v, want %v", hs, want)
	}
	hs = fill(hs, 0, 100)
	if len(hs) != 0 {
		t.Errorf("after fill(0,100) holes = %v, want none", hs)
	}
	// Beyond maxHoles the lowest is forgotten.
	for i := int64(0); i <= maxHoles; i++ {
		hs = addHole(hs, g(10*i, 10*i+5))
	}
	if len(hs) != maxHoles || hs[0] != g(10, 15) {
		t.Errorf("%d holes starting %v, want %d starting [10,15)", len(hs), hs[0], maxHoles)
	}
}

// judge runs segment on a segment without flags and counts its verdict
// in d, as Observe does. (It repeats Observe's switch, so these tests
// cannot see Observe count a verdict in the wrong counter:
// TestTCPCountsPast32Bits and TestTCP can.)
func judge(d *tcpDir, st *holeSets, seq, payload uint32) {
	switch d.segment(seq, payload, 0, 0, st) {
	case outOfOrder:
		d.ooo++
	case retransmitted:
		d.retrans++
	}
}

// Bytes below the first sequence number are unseen but no gap: the
// contract counts nothing for [1900,1950) and [1950,2000) after
// [2000,2010), and a repeat of [1950,2000) is a retransmission.
func TestBelowFirstSequence(t *testing.T) {
	var d tcpDir
	var st holeSets
	judge(&d, &st, 2000, 10)
	judge(&d, &st, 1900, 50)
	judge(&d, &st, 1950, 50)
	if d.ooo != 0 || d.retrans != 0 {
		t.Errorf("out of order, retrans = %d %d, want 0 0", d.ooo, d.retrans)
	}
	judge(&d, &st, 1950, 50)
	if d.ooo != 0 || d.retrans != 1 {
		t.Errorf("after the repeat: out of order, retrans = %d %d, want 0 1", d.ooo, d.retrans)
	}
}

// A segment inside a gap splits it, and the two halves stay the
// direction's: both still count as gaps.
func TestSplitGap(t *testing.T) {
	var d tcpDir
	var st holeSets
	judge(&d, &st, 0, 10)   // seen [0,10)
	judge(&d, &st, 100, 10) // gap [10,100)
	judge(&d, &st, 50, 10)  // out of order; gaps [10,50) and [60,100)
	judge(&d, &st, 20, 10)  // out of order
	judge(&d, &st, 55, 3)   // seen before: retransmission
	judge(&d, &st, 70, 10)  // out of order
	if d.ooo != 3 || d.retrans != 1 {
		t.Errorf("out of order, retrans = %d %d, want 3 1", d.ooo, d.retrans)
	}
	want := []hole{{10, 20, true}, {30, 50, true}, {60, 70, true}, {80, 100, true}}
	if got := st.of(d.holes); !slices.Equal(got, want) {
		t.Errorf("holes = %v, want %v", got, want)
	}
}

// Each direction has holes of its own; a released reference is reused
// empty, a released small slice is kept for reuse up to maxPooled of them
// and handed out before references without one, and a large one is not
// kept.
func TestHoleSets(t *testing.T) {
	var st holeSets
	var a, b, c tcpDir
	for _, d := range []*tcpDir{&a, &b} {
		d.segment(0, 10, 0, 0, &st)
		d.segment(20, 10, 0, 0, &st)
	}
	b.segment(40, 10, 0, 0, &st)
	if a.holes == b.holes || len(st.of(a.holes)) != 1 || len(st.of(b.holes)) != 2 {
		t.Fatalf("references %d %d, holes %v %v", a.holes, b.holes, st.of(a.holes), st.of(b.holes))
	}
	ref := a.holes
	st.release(&a)
	if a.holes != 0 || len(st.spare) != 1 {
		t.Fatalf("after release: reference %d, %d spare", a.holes, len(st.spare))
	}
	c.segment(1000, 10, 0, 0, &st)
	c.segment(1100, 10, 0, 0, &st)
	if c.holes != ref || len(st.spare) != 0 {
		t.Errorf("reference %d, %d spare; want %d, 0", c.holes, len(st.spare), ref)
	}
	if got, want := st.of(c.holes), []hole{{1010, 1100, true}}; !slices.Equal(got, want) {
		t.Errorf("reused reference's holes = %v, want %v", got, want)
	}

	// A direction with more than 64 holes: its slice is not kept.
	var big tcpDir
	big.segment(0, 10, 0, 0, &st)
	for i := uint32(1); i <= 100; i++ {
		big.segment(20*i, 10, 0, 0, &st)
	}
	st.release(&big)
	if len(st.spare) != 0 || len(st.free) != 1 {
		t.Errorf("after releasing 100 holes: %d spare, %d free; want 0, 1", len(st.spare), len(st.free))
	}

	// Beyond maxPooled, released slices are dropped; those kept are
	// still handed out first, past the references without one.
	ds := make([]tcpDir, maxPooled+10)
	for i := range ds {
		ds[i].segment(0, 10, 0, 0, &st)
		ds[i].segment(20, 10, 0, 0, &st)
	}
	for i := range ds {
		st.release(&ds[i])
	}
	if len(st.spare) != maxPooled {
		t.Errorf("%d spare, want %d", len(st.spare), maxPooled)
	}
	var d tcpDir
	d.segment(0, 10, 0, 0, &st)
	if allocs := testing.AllocsPerRun(100, func() {
		d.segment(20, 10, 0, 0, &st) // a hole: a spare slice
		st.release(&d)
		d = tcpDir{started: true, next: 10}
	}); allocs != 0 {
		t.Errorf("a hole with %d spare slices: %v allocations, want 0", len(st.spare), allocs)
	}
}

// Five gaps at once, filled from the oldest: each fill is out of order
// (a bound of four holes would have forgotten the first).
func TestFiveGaps(t *testing.T) {
	var d tcpDir
	var st holeSets
	judge(&d, &st, 0, 10)
	for i := uint32(1); i <= 5; i++ {
		judge(&d, &st, 20*i, 10) // leaves [20i-10, 20i) unseen
	}
	for i := uint32(1); i <= 5; i++ {
		judge(&d, &st, 20*i-10, 10)
	}
	if d.ooo != 5 || d.retrans != 0 {
		t.Errorf("out of order, retrans = %d %d, want 5 0", d.ooo, d.retrans)
	}
}

func TestTCPProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ex := NewTCP(Options{})
	for i := 0; i < 500; i++ {
		n := 1 + rng.IntN(80)
		ps := make([]tp, n)
		var seq [2]uint32
		seq[0], seq[1] = rng.Uint32(), rng.Uint32()
		for k := range ps {
			d := Dir(rng.IntN(2))
			if k == 0 {
				d = Fwd
			}
			pay := uint32(0)
			if rng.IntN(2) == 0 {
				pay = uint32(rng.IntN(1460))
			}
			s := seq[d]
			switch rng.IntN(6) {
			case 0:
				s -= uint32(rng.IntN(3000)) // re-send
			case 1:
				s += uint32(rng.IntN(3000)) // skip
			}
			fl := decode.TCPFlags(rng.IntN(256))
			if rng.IntN(3) > 0 {
				fl = fACK | decode.TCPFlags(rng.IntN(2))*fPSH
			}
			ps[k] = seg(int64(k)*1000, d, fl, s, rng.Uint32N(4), uint16(rng.IntN(3)), pay)
			ps[k].tcp = rng.IntN(20) > 0
			seq[d] = s + pay
		}
		ex.Observe(refs(uint32(i%7), ps))
		got := emitRow(t, ex, uint32(i%7), tcpFlow(6, ps))
		finite(t, got)
		c := func(name string) int64 { return got[name].(int64) }
		for _, r := range []string{"tcp_syn_ratio", "tcp_fin_ratio", "tcp_rst_ratio", "tcp_psh_ratio"} {
			if v := got[r].(float64); v < 0 || v > 1 {
				t.Errorf("flow %d: %s = %v", i, r, v)
			}
		}
		if c("tcp_retrans_fwd")+c("tcp_retrans_bwd")+c("tcp_out_of_order_fwd")+c("tcp_out_of_order_bwd") > c("tcp_data_packets") {
			t.Errorf("flow %d: more retransmissions and out-of-order segments than data segments", i)
		}
		if c("tcp_dup_ack_fwd")+c("tcp_dup_ack_bwd") > c("tcp_ack_only_packets") {
			t.Errorf("flow %d: more duplicate ACKs than pure ACKs", i)
		}
		if c("tcp_syn_count") != c("tcp_syn_count_fwd")+c("tcp_syn_count_bwd") || c("tcp_psh_count") != c("tcp_psh_count_fwd")+c("tcp_psh_count_bwd") {
			t.Errorf("flow %d: per-direction counts do not add up", i)
		}
		if c("tcp_flags_agg") != c("tcp_flags_fwd")|c("tcp_flags_bwd") {
			t.Errorf("flow %d: tcp_flags_agg %#x != fwd|bwd", i, c("tcp_flags_agg"))
		}
	}
}

func TestTCPSlotReuse(t *testing.T) {
	a := []tp{seg(0, Fwd, fSYN, 1, 0, 9, 0), data(2, 10), data(2, 10), seg(1, Bwd, fRST, 0, 0, 0, 0)}
	b := []tp{seg(0, Fwd, fSYN, 77, 0, 5, 0), seg(ms(3), Bwd, fSYN|fACK, 8, 78, 6, 0), seg(ms(4), Fwd, fACK, 78, 9, 5, 0)}
	// c starts with a packet whose TCP header was not decoded.
	c := append([]tp{{length: 20}}, b...)
	for _, next := range [][]tp{b, c} {
		fresh := NewTCP(Options{})
		fresh.Observe(refs(0, next))
		want := emitRow(t, fresh, 0, tcpFlow(6, next))

		reused := NewTCP(Options{})
		reused.Observe(refs(9, a))
		emitRow(t, reused, 9, tcpFlow(6, a))
		if !reflect.DeepEqual(*reused.state.get(9), tcpState{}) {
			t.Errorf("Emit did not reset the slot")
		}
		reused.Observe(refs(9, next))
		checkRow(t, emitRow(t, reused, 9, tcpFlow(6, next)), want)

		restarted := NewTCP(Options{})
		restarted.Observe(refs(9, a))
		restarted.Observe(refs(9, next))
		checkRow(t, emitRow(t, restarted, 9, tcpFlow(6, next)), want)
	}

	// A non-TCP flow leaves its slot's state alone.
	udp := NewTCP(Options{})
	udp.Observe(refs(2, []tp{{length: 10}}))
	if !reflect.DeepEqual(*udp.state.get(2), tcpState{}) {
		t.Errorf("a non-TCP packet wrote the slot's state")
	}
	emitRow(t, udp, 2, &Flow{Proto: 17})
}

// TestTCPStateSize pins what a flow's TCP state costs: 176 bytes, with
// 32-bit counters (inc); every slot of the table has one.
func TestTCPStateSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the size is pinned for 64-bit targets, where int64 is 8-aligned")
	}
	if n := unsafe.Sizeof(tcpState{}); n != 176 {
		t.Errorf("tcpState is %d bytes, want 176", n)
	}
}

// TestTCPCountsPast32Bits brings every counter of a flow to 2^32 - 1 and
// counts on: the 32-bit counters carry (inc), Emit writes the whole
// counts (2^32 and more, a wrapped RST count of 0 included), and the
// carries go with the slot's state, at Emit and when a new flow restarts
// the slot, and only that slot's.
func TestTCPCountsPast32Bits(t *testing.T) {
	const full = 1<<32 - 1
	ex := NewTCP(Options{})
	ex.Observe(refs(3, []tp{seg(0, Fwd, fSYN, 0, 0, 9, 0)}))
	s := ex.state.get(3)
	fw, bw := &s.dir[Fwd], &s.dir[Bwd]
	for _, c := range []*uint32{&s.synack, &s.fin, &s.rst, &s.ack, &s.urg, &s.ece, &s.cwr, &s.data, &s.ackOnly,
		&fw.syn, &fw.psh, &fw.retrans, &fw.ooo, &fw.dupAck, &bw.syn, &bw.psh, &bw.retrans, &bw.ooo, &bw.dupAck} {
		*c = full
	}
	more := refs(3, []tp{
		seg(1, Bwd, fSYN, 500, 0, 7, 0),                      // syn bwd
		seg(2, Bwd, fSYN|fACK, 500, 1, 7, 0),                 // synack, ack
		seg(3, Fwd, fACK|fPSH|fURG|fECE|fCWR, 1, 501, 9, 10), // ack, psh fwd, urg, ece, cwr, data
		seg(4, Fwd, fACK|fPSH, 1, 501, 9, 10),                // retransmission; ack, psh fwd, data
		seg(5, Fwd, fACK, 31, 501, 9, 10),                    // leaves the gap [11, 31); ack, data
		seg(6, Fwd, fACK, 11, 501, 9, 10),                    // out of order; ack, data
		seg(7, Bwd, fACK, 501, 41, 7, 0),                     // ack only; ack
		seg(8, Bwd, fACK, 501, 41, 7, 0),                     // duplicate ACK; ack only; ack
		seg(9, Fwd, fFIN|fACK, 41, 501, 9, 0),                // fin, ack
		seg(10, Bwd, fRST, 501, 0, 0, 0),                     // rst
		seg(11, Bwd, fACK|fPSH, 501, 42, 7, 5),               // psh bwd, ack, data
	})
	for i := range more {
		more[i].New = false
	}
	ex.Observe(more)

	// A second flow, at slot 4, with a carry of its own.
	ex.Observe(refs(4, []tp{seg(0, Fwd, fSYN, 0, 0, 9, 0)}))
	ex.state.get(4).ack = full
	ack4 := refs(4, []tp{seg(1, Fwd, fACK, 1, 1, 9, 0), seg(2, Fwd, fACK, 1, 1, 9, 0)})
	for i := range ack4 {
		ack4[i].New = false
	}
	ex.Observe(ack4)

	f := &Flow{Proto: 6}
	f.Counts.Packets[Fwd] = 1 << 33
	got := emitRow(t, ex, 3, f)
	for name, want := range map[string]any{
		"tcp_syn_count": int64(full + 1<<32), "tcp_synack_count": int64(1 << 32),
		"tcp_fin_count": int64(1 << 32), "tcp_rst_count": int64(1 << 32), "tcp_ack_count": int64(full + 9),
		"tcp_psh_count": int64(2*full + 3), "tcp_urg_count": int64(1 << 32), "tcp_ece_count": int64(1 << 32),
		"tcp_cwr_count": int64(1 << 32), "tcp_syn_count_fwd": int64(full), "tcp_syn_count_bwd": int64(1 << 32),
		"tcp_psh_count_fwd": int64(full + 2), "tcp_psh_count_bwd": int64(1 << 32),
		"tcp_data_packets": int64(full + 5), "tcp_ack_only_packets": int64(full + 2),
		"tcp_fin_ratio": 0.5, "tcp_rst_ratio": 0.5, "tcp_reset_close": true, // RST count 2^32, its low word 0
		"tcp_fstat":       int64(0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40), // SYN, SYN-ACK, handshake, FIN, RST, data,
		"tcp_retrans_fwd": int64(1 << 32), "tcp_retrans_bwd": int64(full),
		"tcp_out_of_order_fwd": int64(1 << 32), "tcp_out_of_order_bwd": int64(full),
		"tcp_dup_ack_fwd": int64(full), "tcp_dup_ack_bwd": int64(1 << 32),
	} {
		if g, ok := got[name]; !ok || !sameValue(g, want) {
			t.Errorf("%s = %v, want %v", name, g, want)
		}
	}
	if !reflect.DeepEqual(*ex.state.get(3), tcpState{}) || len(ex.carries) != 1 {
		t.Errorf("after Emit: state %+v, carries %v; want a clean state and slot 4's carry", *ex.state.get(3), ex.carries)
	}

	// A new flow restarting slot 4 drops its carry.
	ex.Observe(refs(4, []tp{seg(0, Fwd, fACK, 1, 1, 9, 0)}))
	if g := emitRow(t, ex, 4, tcpFlow(6, []tp{{}}))["tcp_ack_count"]; !sameValue(g, int64(1)) || len(ex.carries) != 0 {
		t.Errorf("restarted slot: tcp_ack_count %v, carries %v; want 1, none", g, ex.carries)
	}
}

// tcpFlow is the Flow of packets ps at Emit: its protocol and its
// packets, the ratios' denominator (total_packets).
func tcpFlow(proto uint8, ps []tp) *Flow {
	f := &Flow{Proto: proto}
	for _, p := range ps {
		f.Counts.Packets[p.dir&1]++
	}
	return f
}

func TestTCPNoAllocs(t *testing.T) {
	if a := steadyState(NewTCP(Options{}), 64, 40); a != 0 {
		t.Errorf("Observe+Emit round: %v allocations, want 0", a)
	}
}

func BenchmarkObserveTCP(b *testing.B) {
	benchObserve(b, NewTCP(Options{}))
}
