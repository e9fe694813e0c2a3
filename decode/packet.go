// Package decode turns the bytes of one captured frame into a Packet: the
// addresses, ports, protocol, lengths and TCP fields that the flow table and
// the extractors need. It is the second stage of the pipeline
// (capture → decode → flow → extract → output).
//
// The decoder is hand-written for speed: it walks the headers with
// encoding/binary on the frame slice, checks every length before reading,
// allocates nothing and keeps no pointer into the frame. Its results are
// checked against gopacket's layers in the tests. It never panics on hostile
// input: a frame it cannot use is reported by a Reason, counted by the
// caller, and skipped.
//
// Tunnels are decapsulated when Decoder.Decap is set: MPLS, PPPoE, PPP and
// Cisco HDLC below the first IP header, then GRE (with ERSPAN, PPTP and
// Cisco MetaData), VXLAN, Geneve, GTP-U, Teredo, MPLS over UDP and
// IP-in-IP of both versions above it. The packet is then keyed on its
// innermost IP header, and its lengths are that packet's. Nesting is
// bounded by MaxEncap; a tunnel whose content is not an IP packet the
// decoder can read (PPP control, ARP in VXLAN, a keepalive, a cut header)
// leaves the packet on the last IP header it could read, its stack ending
// at that header's transport.
package decode

// Packet is one decoded IP packet. Decode resets every field, so a Packet is
// reused for every frame with no allocation. Nothing in it points into the
// frame bytes.
type Packet struct {
	// Timestamp is the capture time in nanoseconds since the Unix epoch.
	Timestamp int64

	// Src and Dst are the IP addresses: IPv4 in the first 4 bytes when V6
	// is false, the 16 bytes of an IPv6 address otherwise.
	Src, Dst [16]byte
	// SrcPort and DstPort are the TCP, UDP or SCTP ports; 0 when the
	// protocol has none, the packet is a later fragment, or its transport
	// header is cut off (see Flags).
	SrcPort, DstPort uint16
	// V6 is true for IPv6.
	V6 bool
	// Proto is the IP protocol number of the transport, after any IPv6
	// extension headers; for a cut extension chain, the next-header value
	// that could not be walked.
	Proto uint8

	// Flags says which parts of the packet were found (FlagXxx).
	Flags Flags

	// Length is the IP packet length in bytes: IPv4 total length or IPv6
	// payload length + 40, or the wire length minus everything before the
	// IP header when the length field is unusable (see flow-meta.md §2).
	// In a decapsulated tunnel it is the innermost IP packet's length.
	Length uint32
	// Payload is the application payload in bytes, from the header lengths
	// (flow-meta.md §2), of the innermost IP packet when decapsulated. It
	// is never above Length.
	Payload uint32

	// FragID is the IPv4 identification or IPv6 fragment identification of
	// a fragment (FlagFragment set).
	FragID uint32

	// TCP fields, valid when FlagTCP is set.
	TCPFlags  TCPFlags
	Seq, Ack  uint32
	Window    uint16
	TCPHdrLen uint8 // data offset × 4, at least 20

	// Hdrs is the header stack, outermost first (ETH, VLAN, IP, TCP, ...),
	// tunnels included (ETH-IP-UDP-VXLAN-ETH-IP-TCP).
	Hdrs Stack
}

// Flags records what the decoder found in a packet.
type Flags uint8

const (
	// FlagTCP: a complete fixed TCP header was found; TCP fields are valid.
	FlagTCP Flags = 1 << iota
	// FlagPorts: the transport has ports and they were read.
	FlagPorts
	// FlagFragment: the packet is an IP fragment (MF set or offset > 0).
	FlagFragment
	// FlagLaterFragment: the fragment offset is above 0, so the packet
	// carries no transport header.
	FlagLaterFragment
	// FlagTransportCut: the fixed transport header (TCP 20, UDP 8, SCTP 12
	// bytes) does not lie within both the captured bytes and the IP packet;
	// ports are 0 and TCP flags unknown.
	FlagTransportCut
	// FlagChainCut: the IPv6 extension header chain is cut off.
	FlagChainCut
)

// TCPFlags is the TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN).
type TCPFlags uint8

// TCP flag bits.
const (
	TCPFin TCPFlags = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// Has reports whether all bits of f2 are set in f.
func (f TCPFlags) Has(f2 TCPFlags) bool { return f&f2 == f2 }

// Layer names one header in a Stack.
type Layer uint8

// Layer names, as they appear in hdr_desc.
const (
	LayerNone Layer = iota
	LayerETH
	LayerSLL
	LayerSLL2
	LayerNULL
	LayerVLAN
	LayerIP
	LayerIP6
	LayerTCP
	LayerUDP
	LayerICMP
	LayerICMP6
	LayerSCTP
	LayerGRE
	LayerESP
	LayerAH
	LayerIGMP
	// LayerProto is "PROTO<n>"; the number is the packet's Proto.
	LayerProto
	// Encapsulations (see Decoder.Decap).
	LayerMPLS   // one per label of an MPLS label stack
	LayerPPPoE  // PPPoE session header
	LayerPPP    // PPP header (link types 9 and 50, PPPoE, PPTP's GRE)
	LayerCHDLC  // Cisco HDLC header (link type 104, or 50 with Cisco framing)
	LayerCMD    // Cisco MetaData (EtherType 0x8909)
	LayerERSPAN // ERSPAN type II or III header inside GRE
	LayerVXLAN  // VXLAN header (UDP port 4789)
	LayerGENEVE // Geneve header and options (UDP port 6081)
	LayerGTP    // GTP-U header and extension headers (UDP port 2152)
	LayerTEREDO // Teredo (UDP port 3544), with its indicators if any
	numLayers
)

var layerNames = [numLayers]string{
	"", "ETH", "SLL", "SLL2", "NULL", "VLAN", "IP", "IP6", "TCP", "UDP",
	"ICMP", "ICMP6", "SCTP", "GRE", "ESP", "AH", "IGMP", "PROTO",
	"MPLS", "PPPOE", "PPP", "CHDLC", "CMD", "ERSPAN", "VXLAN", "GENEVE", "GTP", "TEREDO",
}

// String returns the layer's name in hdr_desc.
func (l Layer) String() string {
	if l < numLayers {
		return layerNames[l]
	}
	return "?"
}

// MaxLayers is the deepest header stack recorded; deeper stacks keep their
// first MaxLayers-1 names and their last one.
const MaxLayers = 16

// Stack is a header stack: Layers[:N], outermost first. It is a comparable
// value so flow tables can intern it.
type Stack struct {
	Layers [MaxLayers]Layer
	N      uint8
	// Proto is the protocol number shown by a trailing LayerProto.
	Proto uint8
}

// pop removes the last layer if it is l. Decapsulation uses it to drop the
// PROTO4 / PROTO41 / PROTO137 that named the tunnel before its content was
// known.
func (s *Stack) pop(l Layer) {
	if s.N > 0 && s.Layers[s.N-1] == l {
		s.N--
	}
}

// Push appends a layer. Past MaxLayers the last slot is overwritten, so the
// innermost layer is always kept.
func (s *Stack) Push(l Layer) {
	if int(s.N) < MaxLayers {
		s.Layers[s.N] = l
		s.N++
		return
	}
	s.Layers[MaxLayers-1] = l
}

// AppendTo appends the hdr_desc text ("ETH-VLAN-IP-TCP") to b.
func (s *Stack) AppendTo(b []byte) []byte {
	for i := 0; i < int(s.N); i++ {
		if i > 0 {
			b = append(b, '-')
		}
		l := s.Layers[i]
		b = append(b, l.String()...)
		if l == LayerProto {
			b = appendUint8(b, s.Proto)
		}
	}
	return b
}

// String returns the hdr_desc text.
func (s Stack) String() string { return string(s.AppendTo(nil)) }

func appendUint8(b []byte, v uint8) []byte {
	if v >= 100 {
		b = append(b, '0'+v/100)
	}
	if v >= 10 {
		b = append(b, '0'+v/10%10)
	}
	return append(b, '0'+v%10)
}
