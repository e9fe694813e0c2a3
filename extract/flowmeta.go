package extract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"

	"github.com/jjflow/jj/output"
)

// FlowMeta is the flow_meta extractor (flow-meta.md): identity, times,
// counts, bytes, payload, ratios, rates, flow_stat and the header stack.
type FlowMeta struct {
	o    Options
	cols []output.Column
	nums int               // the numbers among cols (colWriter)
	buf  []byte            // scratch for hashing and IP text
	pan  *PrefixAnonymizer // with anonymize mode prefix: keyed once
}

var _ Passive = (*FlowMeta)(nil)

// Column indexes into flowMetaColumns.
const (
	fmFlowID = iota
	fmSrcIP
	fmDstIP
	fmSrcPort
	fmDstPort
	fmDstPortClass
	fmDstPortClassNum
	fmProtocol
	fmStartTime
	fmEndTime
	fmDuration
	fmTotalPackets
	fmPacketsFwd
	fmPacketsBwd
	fmTotalBytes
	fmBytesFwd
	fmBytesBwd
	fmPayloadFwd
	fmPayloadBwd
	fmPayloadTotal
	fmPacketsRatio
	fmBytesRatio
	fmPacketsPerSecond
	fmBytesPerSecond
	fmAvgPacketSize
	fmTimeFirst
	fmTimeLast
	fmFlowStat
	fmNumHdrs
	fmHdrDesc
)

func meta(name string, t output.Type, unit, dir string, p output.Privacy, desc string) output.Column {
	return output.Column{Group: "flow_meta", Name: name, Type: t, Unit: unit, Direction: dir, Privacy: p, Description: desc}
}

// plain marks c as text with nothing for CSV to quote (output.Column.Plain):
// addresses, hex digests, and names from a fixed set.
func plain(c output.Column) output.Column {
	c.Plain = true
	return c
}

// flowMetaColumns is every flow_meta column in contract order; options drop
// some of them.
var flowMetaColumns = []output.Column{
	plain(meta("flow_id", output.String, "", "", output.Identifier, "first 32 hex chars of SHA-256 over salt + \"ipA:portA:ipB:portB:proto\", endpoints in (IP text, port) order; same for both directions")),
	plain(meta("src_ip", output.String, "", "fwd", output.Identifier, "initiator address (sender of the flow's first packet); RFC 5952 text, or when anonymized 16 hex chars of SHA-256(salt + ip) (anonymize mode hash) or a prefix-preserving Crypto-PAn address keyed by SHA-256(salt) (mode prefix)")),
	plain(meta("dst_ip", output.String, "", "bwd", output.Identifier, "responder address")),
	meta("src_port", output.Int, "", "fwd", output.Identifier, "initiator port; 0 for protocols without ports, later fragments and cut transport headers"),
	meta("dst_port", output.Int, "", "bwd", output.Identifier, "responder port"),
	plain(meta("dst_port_class", output.String, "", "", output.Sensitive, "well_known (0-1023), registered (1024-49151) or dynamic (49152-65535), by dst_port")),
	meta("dst_port_class_num", output.Int, "", "", output.Sensitive, "0 well_known, 1 registered, 2 dynamic"),
	meta("protocol", output.Int, "", "", output.Safe, "IP protocol number of the transport, after IPv6 extension headers"),
	meta("start_time", output.Float, "s", "", output.Sensitive, "Unix time of the flow's earliest packet"),
	meta("end_time", output.Float, "s", "", output.Sensitive, "Unix time of the flow's latest packet"),
	meta("duration", output.Float, "s", "", output.Safe, "end_time - start_time, from integer nanoseconds"),
	meta("total_packets", output.Int, "packets", "both", output.Safe, "packets in both directions"),
	meta("packets_fwd", output.Int, "packets", "fwd", output.Safe, "packets initiator to responder"),
	meta("packets_bwd", output.Int, "packets", "bwd", output.Safe, "packets responder to initiator"),
	meta("total_bytes", output.Int, "bytes", "both", output.Safe, "IP bytes (IPv4 total length, IPv6 payload length + 40) in both directions"),
	meta("bytes_fwd", output.Int, "bytes", "fwd", output.Safe, "IP bytes initiator to responder"),
	meta("bytes_bwd", output.Int, "bytes", "bwd", output.Safe, "IP bytes responder to initiator"),
	meta("payload_bytes_fwd", output.Int, "bytes", "fwd", output.Safe, "application payload bytes initiator to responder, from header lengths"),
	meta("payload_bytes_bwd", output.Int, "bytes", "bwd", output.Safe, "application payload bytes responder to initiator"),
	meta("payload_bytes_total", output.Int, "bytes", "both", output.Safe, "application payload bytes in both directions"),
	meta("packets_ratio", output.Float, "", "", output.Safe, "packets_fwd / packets_bwd; packets_fwd when packets_bwd is 0"),
	meta("bytes_ratio", output.Float, "", "", output.Safe, "bytes_fwd / bytes_bwd; bytes_fwd when bytes_bwd is 0"),
	meta("packets_per_second", output.Float, "packets/s", "both", output.Safe, "total_packets / duration; total_packets when duration is 0"),
	meta("bytes_per_second", output.Float, "bytes/s", "both", output.Safe, "total_bytes / duration; total_bytes when duration is 0"),
	meta("avg_packet_size", output.Float, "bytes", "both", output.Safe, "total_bytes / total_packets"),
	meta("time_first", output.Float, "s", "", output.Sensitive, "same as start_time (Tranalyzer name)"),
	meta("time_last", output.Float, "s", "", output.Sensitive, "same as end_time (Tranalyzer name)"),
	meta("flow_stat", output.Int, "", "", output.Safe, "TCP state bits: 0x01 SYN, 0x02 SYN-ACK, 0x04 FIN fwd, 0x08 FIN bwd, 0x10 RST, 0x40 handshake and FIN-FIN or RST; 0 for non-TCP"),
	meta("num_hdrs", output.Int, "", "", output.Safe, "number of names in hdr_desc"),
	plain(meta("hdr_desc", output.String, "", "", output.Safe, "header stack of the flow's first packet, outermost first, names joined by -: the link (ETH, SLL, SLL2, NULL, PPP, CHDLC for Cisco HDLC, nothing for raw IP), then VLAN per tag, MPLS per label, PPPOE (then PPP), CMD (Cisco MetaData), then IP or IP6 (extension headers not listed), then the transport: TCP, UDP, ICMP, ICMP6, SCTP, GRE, ESP, AH, IGMP, or PROTO and the number (PROTO103); left out for a later fragment or a cut IPv6 extension chain. With decapsulation (the default) a tunnel goes on to its content: GRE then ERSPAN, PPP or CMD; UDP then VXLAN, GENEVE, GTP, TEREDO or MPLS; inner ETH, VLAN, MPLS; then the inner IP and its transport, e.g. ETH-IP-UDP-VXLAN-ETH-IP-TCP; IP-in-IP is ETH-IP-IP6-TCP. A tunnel whose content is not an IP packet ends the stack at its transport (ETH-IP-GRE). At most 16 names: a deeper stack keeps its first 15 and its last")),
}

// FlowMetaColumns returns every flow_meta column, whatever the options.
func FlowMetaColumns() []output.Column { return flowMetaColumns }

// NewFlowMeta builds the flow_meta extractor for the options.
func NewFlowMeta(o Options) *FlowMeta {
	m := &FlowMeta{o: o, cols: make([]output.Column, 0, len(flowMetaColumns))}
	if o.AnonymizeIPs && o.AnonymizeMode == "prefix" {
		m.pan = NewPrefixAnonymizer(PrefixKey(o.AnonymizationSalt))
	}
	for i, c := range flowMetaColumns {
		if m.enabled(i) {
			m.cols = append(m.cols, c)
		}
	}
	m.nums = numbers(m.cols)
	return m
}

func (m *FlowMeta) enabled(col int) bool {
	switch col {
	case fmFlowID:
		return m.o.IncludeFlowID
	case fmSrcIP, fmDstIP:
		return m.o.IncludeIPAddresses
	case fmSrcPort, fmDstPort, fmDstPortClass, fmDstPortClassNum:
		return m.o.IncludePorts
	}
	return true
}

// Name returns "flow_meta".
func (m *FlowMeta) Name() string { return "flow_meta" }

// Columns returns the enabled columns.
func (m *FlowMeta) Columns() []output.Column { return m.cols }

// Observe does nothing: the flow table counts packets, IP bytes and
// payload per direction (Flow.Counts), and the rest of flow_meta comes from
// the flow's entry at Emit.
func (m *FlowMeta) Observe([]Ref) {}

// Passive marks flow_meta as an extractor that needs no packets.
func (m *FlowMeta) Passive() {}

// Emit appends the flow's flow_meta values.
func (m *FlowMeta) Emit(slot uint32, f *Flow, b *output.Batch, base int) {
	s := &f.Counts
	// The numbers straight into the batch's open row (colWriter), and the
	// strings by their columns.
	w, strs := newColWriter(b, base, m.nums), newStrCols(b, base) // one line: default.pgo names hot calls by line
	src, dst := addr(f.Src, f.V6), addr(f.Dst, f.V6)
	if m.o.IncludeFlowID {
		strs.string(w.k, FlowID(m.o.AnonymizationSalt, src, f.SrcPort, dst, f.DstPort, f.Proto))
	}
	if m.o.IncludeIPAddresses {
		for k, a := range [2]netip.Addr{src, dst} {
			c := strs.col(w.k)
			if m.pan != nil {
				b.EndString(c, m.pan.Anonymize(a).AppendTo(b.StringBuf(c)))
			} else if m.o.AnonymizeIPs {
				b.AppendString(c, AnonymizeIP(m.o.AnonymizationSalt, a))
			} else {
				b.EndString(c, appendAddr(b.StringBuf(c), [2]*[16]byte{&f.Src, &f.Dst}[k], f.V6))
			}
		}
	}
	if m.o.IncludePorts {
		w = w.int(int64(f.SrcPort))
		w = w.int(int64(f.DstPort))
		class := PortClass(f.DstPort)
		strs.string(w.k, portClassNames[class])
		w = w.int(int64(class))
	}
	w = w.int(int64(f.Proto))
	start, end := Seconds(f.First), Seconds(f.Last)
	dur := f.Last - f.First
	w = w.float(start)
	w = w.float(end)
	w = w.float(Seconds(dur))
	pk := s.Packets[Fwd] + s.Packets[Bwd]
	by := s.Bytes[Fwd] + s.Bytes[Bwd]
	w = w.uint(pk)
	w = w.uint(s.Packets[Fwd])
	w = w.uint(s.Packets[Bwd])
	w = w.uint(by)
	w = w.uint(s.Bytes[Fwd])
	w = w.uint(s.Bytes[Bwd])
	w = w.uint(s.Payload[Fwd])
	w = w.uint(s.Payload[Bwd])
	w = w.uint(s.Payload[Fwd] + s.Payload[Bwd])
	w = w.float(FwdRatio(s.Packets[Fwd], s.Packets[Bwd]))
	w = w.float(FwdRatio(s.Bytes[Fwd], s.Bytes[Bwd]))
	w = w.float(PerSecond(pk, dur))
	w = w.float(PerSecond(by, dur))
	if pk == 0 {
		w = w.float(0)
	} else {
		w = w.float(Ratio(by, pk))
	}
	w = w.float(start)
	w = w.float(end)
	w = w.int(int64(f.FlowStat))
	w = w.int(int64(f.Hdrs.N))
	// The stack's text as the table made it, once a stack: written layer
	// by layer, it took a sixth of Emit's instructions.
	if c := strs.col(w.k); f.HdrDesc != "" {
		b.AppendString(c, f.HdrDesc)
	} else {
		b.EndString(c, f.Hdrs.AppendTo(b.StringBuf(c)))
	}
}

// addr returns the flow address as a netip.Addr.
func addr(a [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}

var portClassNames = [3]string{"well_known", "registered", "dynamic"}

// PortClass returns 0 for well-known ports (0-1023), 1 for registered
// (1024-49151) and 2 for dynamic (49152-65535).
func PortClass(port uint16) int {
	switch {
	case port < 1024:
		return 0
	case port < 49152:
		return 1
	}
	return 2
}

// AnonymizeIP returns the first 16 lowercase hex chars of SHA-256 over
// salt + the address's text.
func AnonymizeIP(salt string, a netip.Addr) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write(a.AppendTo(make([]byte, 0, 48)))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// FlowID returns the first 32 lowercase hex chars of SHA-256 over
// salt + "ipA:portA:ipB:portB:proto", where (ipA, portA) is the smaller
// endpoint compared as (IP text, port), so both directions agree.
func FlowID(salt string, a netip.Addr, pa uint16, b netip.Addr, pb uint16, proto uint8) string {
	at, bt := a.AppendTo(make([]byte, 0, 48)), b.AppendTo(make([]byte, 0, 48))
	if c := bytes.Compare(at, bt); c > 0 || (c == 0 && pa > pb) {
		at, bt, pa, pb = bt, at, pb, pa
	}
	s := make([]byte, 0, len(salt)+len(at)+len(bt)+16)
	s = append(s, salt...)
	s = append(s, at...)
	s = append(s, ':')
	s = strconv.AppendUint(s, uint64(pa), 10)
	s = append(s, ':')
	s = append(s, bt...)
	s = append(s, ':')
	s = strconv.AppendUint(s, uint64(pb), 10)
	s = append(s, ':')
	s = strconv.AppendUint(s, uint64(proto), 10)
	sum := sha256.Sum256(s)
	return hex.EncodeToString(sum[:16])
}
