package filter

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/jjflow/jj/capture"
)

// Conditions: the tree a primitive turns into before code generation. Each
// leaf is one load and one comparison; and/or/not keep pcap-filter's
// short-circuit order, which matters because an out-of-bounds load rejects
// the whole packet (in libpcap's programs as in ours).
type cond interface{}

type (
	cTrue  struct{}
	cFalse struct{}
	cAnd   []cond
	cOr    []cond
	cNot   struct{ x cond }
	// cCmp loads ld, masks it when hasMask, and compares it with k.
	cCmp struct {
		ld      load
		hasMask bool
		mask    uint32
		op      byte // '=' equal, '>' greater, 'g' greater or equal, '&' any bit of k set
		k       uint32
	}
	// cRel is a relation between two arithmetic expressions.
	cRel struct {
		op   string
		l, r rarith
	}
)

// load is a packet load: size bytes at off, from the packet start or, when
// ipx is set, from the end of the IPv4 header at ipOff (X = 4*(ip[0]&15)).
type load struct {
	off    uint32
	size   int
	ipx    bool
	ipOff  uint32
	length bool // the packet length instead of a load
}

// Arithmetic expressions with the link layer's offsets resolved.
type rarith interface{}

type (
	rNum  uint32
	rLen  struct{}
	rLoad struct {
		base  uint32
		ipx   bool
		ipOff uint32
		idx   rarith
		size  int
	}
	rBin struct {
		op   string
		l, r rarith
	}
	rNeg struct{ x rarith }
)

// linkKind says how a link type carries the network protocol.
type linkKind uint8

const (
	linkEther linkKind = iota // EtherType at 12; VLAN tags move it
	linkSLL                   // Linux cooked v1: protocol at 14, IP at 16
	linkSLL2                  // Linux cooked v2: protocol at 0, IP at 20
	linkRaw                   // raw IP: the version nibble tells v4 from v6
	linkIPv4                  // only IPv4
	linkIPv6                  // only IPv6
	linkNull                  // BSD loopback, family in the writer's byte order
	linkLoop                  // OpenBSD loopback, family in network order
	linkPPP                   // PPP with address and control bytes: protocol at 2, IP at 4
	linkCHDLC                 // Cisco HDLC: EtherType at 2, IP at 4
)

// layout is where a link type puts things.
type layout struct {
	kind    linkKind
	offType uint32 // offset of the EtherType-like field
	offNL   uint32 // offset of the network header
}

func layoutOf(lt capture.LinkType) (layout, bool) {
	switch lt {
	case capture.LinkEthernet:
		return layout{linkEther, 12, 14}, true
	case capture.LinkSLL:
		return layout{linkSLL, 14, 16}, true
	case capture.LinkSLL2:
		return layout{linkSLL2, 0, 20}, true
	case capture.LinkRaw, capture.LinkRaw12, capture.LinkRaw14:
		return layout{linkRaw, 0, 0}, true
	case capture.LinkIPv4:
		return layout{linkIPv4, 0, 0}, true
	case capture.LinkIPv6:
		return layout{linkIPv6, 0, 0}, true
	case capture.LinkNull:
		return layout{linkNull, 0, 4}, true
	case capture.LinkLoop:
		return layout{linkLoop, 0, 4}, true
	case capture.LinkPPP, capture.LinkPPPHDLC:
		// As libpcap: address and control bytes, then the protocol.
		return layout{linkPPP, 2, 4}, true
	case capture.LinkCHDLC:
		return layout{linkCHDLC, 2, 4}, true
	}
	return layout{}, false
}

// translator turns the syntax tree into conditions for one link type. Like
// libpcap it is stateful in source order: each "vlan" moves the offsets of
// every primitive after it by the 4 bytes of a tag.
type translator struct {
	expr  string
	lay   layout
	shift uint32
	// strict makes a primitive that cannot apply to the link type lt an
	// error (Check), where it otherwise matches nothing.
	strict bool
	lt     capture.LinkType
}

// inapplicable is what a primitive that needs Ethernet frames gives on
// another link type: nothing matches, or, strict, an error at pos.
func (tr *translator) inapplicable(pos int, what string) (cond, error) {
	if tr.strict {
		return nil, tr.fail(pos, "%s needs Ethernet frames, which link type %d does not have", what, tr.lt)
	}
	return cFalse{}, nil
}

func (tr *translator) fail(pos int, format string, args ...any) error {
	return &Error{Expr: tr.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (tr *translator) nl() uint32 { return tr.lay.offNL + tr.shift }

func abs(off uint32, size int) load { return load{off: off, size: size} }

func eq(ld load, k uint32) cond { return cCmp{ld: ld, op: '=', k: k} }

const (
	etherIP   = 0x0800
	etherARP  = 0x0806
	etherRARP = 0x8035
	etherIP6  = 0x86dd
)

// linkProto is the condition "the network protocol is EtherType et".
func (tr *translator) linkProto(et uint32) cond {
	switch tr.lay.kind {
	case linkEther:
		return eq(abs(tr.lay.offType+tr.shift, 2), et)
	case linkSLL, linkSLL2, linkCHDLC:
		return eq(abs(tr.lay.offType, 2), et)
	case linkPPP:
		switch et {
		case etherIP:
			return eq(abs(tr.lay.offType, 2), 0x0021)
		case etherIP6:
			return eq(abs(tr.lay.offType, 2), 0x0057)
		}
		return cFalse{}
	case linkRaw:
		switch et {
		case etherIP:
			return cCmp{ld: abs(0, 1), hasMask: true, mask: 0xf0, op: '=', k: 0x40}
		case etherIP6:
			return cCmp{ld: abs(0, 1), hasMask: true, mask: 0xf0, op: '=', k: 0x60}
		}
		return cFalse{}
	case linkIPv4:
		if et == etherIP {
			return cTrue{}
		}
		return cFalse{}
	case linkIPv6:
		if et == etherIP6 {
			return cTrue{}
		}
		return cFalse{}
	case linkNull, linkLoop:
		var fams []uint32
		switch et {
		case etherIP:
			fams = []uint32{2}
		case etherIP6:
			fams = []uint32{24, 28, 30} // the BSDs' AF_INET6 values, as libpcap
		default:
			return cFalse{}
		}
		var or cOr
		for _, f := range fams {
			or = append(or, eq(abs(0, 4), f))
			if tr.lay.kind == linkNull {
				// Written in the capturing host's byte order, which the
				// record does not tell: either order matches.
				or = append(or, eq(abs(0, 4), swap32(f)))
			}
		}
		return or
	}
	return cFalse{}
}

func swap32(v uint32) uint32 {
	return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24
}

// translate turns a node into a condition.
func (tr *translator) translate(n node) (cond, error) {
	switch n := n.(type) {
	case *andNode:
		l, err := tr.translate(n.l)
		if err != nil {
			return nil, err
		}
		r, err := tr.translate(n.r)
		if err != nil {
			return nil, err
		}
		return cAnd{l, r}, nil
	case *orNode:
		l, err := tr.translate(n.l)
		if err != nil {
			return nil, err
		}
		r, err := tr.translate(n.r)
		if err != nil {
			return nil, err
		}
		return cOr{l, r}, nil
	case *notNode:
		x, err := tr.translate(n.x)
		if err != nil {
			return nil, err
		}
		return cNot{x}, nil
	case *vlanNode:
		if tr.lay.kind != linkEther {
			return tr.inapplicable(n.pos, "vlan")
		}
		off := tr.lay.offType + tr.shift
		c := cond(cOr{eq(abs(off, 2), 0x8100), eq(abs(off, 2), 0x88a8), eq(abs(off, 2), 0x9100)})
		if n.hasID {
			c = cAnd{c, cCmp{ld: abs(off+2, 2), hasMask: true, mask: 0x0fff, op: '=', k: n.id}}
		}
		tr.shift += 4
		return c, nil
	case *lenNode:
		ld := load{length: true}
		if n.less {
			return cNot{cCmp{ld: ld, op: '>', k: n.n}}, nil
		}
		return cCmp{ld: ld, op: 'g', k: n.n}, nil
	case *castNode:
		return tr.cast(n)
	case *relNode:
		return tr.relation(n)
	case *primNode:
		return tr.primitive(n)
	}
	return nil, fmt.Errorf("filter: unknown node %T", n)
}

func (tr *translator) cast(n *castNode) (cond, error) {
	switch n.proto {
	case protoEther:
		if tr.lay.kind != linkEther {
			what := "broadcast"
			if n.multi {
				what = "multicast"
			}
			return tr.inapplicable(n.pos, what)
		}
		if n.multi {
			return cCmp{ld: abs(0, 1), op: '&', k: 1}, nil
		}
		return cAnd{eq(abs(2, 4), 0xffffffff), eq(abs(0, 2), 0xffff)}, nil
	case protoIP:
		if n.multi {
			return cAnd{tr.linkProto(etherIP), cCmp{ld: abs(tr.nl()+16, 1), op: 'g', k: 224}}, nil
		}
	case protoIP6:
		if n.multi {
			return cAnd{tr.linkProto(etherIP6), eq(abs(tr.nl()+24, 1), 255)}, nil
		}
	}
	what := "broadcast"
	if n.multi {
		what = "multicast"
	}
	return nil, tr.fail(n.pos, "%s %s is not supported", n.proto, what)
}

// ipProto is "ip proto p" (IPv4).
func (tr *translator) ipProto(p uint32) cond {
	return cAnd{tr.linkProto(etherIP), eq(abs(tr.nl()+9, 1), p)}
}

// ip6Proto is "ip6 proto p": libpcap looks at the next header after the
// fixed header and, behind a fragment header, at the one after that.
func (tr *translator) ip6Proto(p uint32) cond {
	nh := abs(tr.nl()+6, 1)
	return cAnd{tr.linkProto(etherIP6), cOr{eq(nh, p), cAnd{eq(nh, 44), eq(abs(tr.nl()+40, 1), p)}}}
}

// Transport protocol numbers.
const (
	ipICMP  = 1
	ipIGMP  = 2
	ipTCP   = 6
	ipUDP   = 17
	ipICMP6 = 58
	ipSCTP  = 132
)

func (tr *translator) protoAlone(n *primNode) (cond, error) {
	switch n.q.proto {
	case protoIP:
		return tr.linkProto(etherIP), nil
	case protoIP6:
		return tr.linkProto(etherIP6), nil
	case protoARP:
		return tr.linkProto(etherARP), nil
	case protoRARP:
		return tr.linkProto(etherRARP), nil
	case protoTCP:
		return cOr{tr.ipProto(ipTCP), tr.ip6Proto(ipTCP)}, nil
	case protoUDP:
		return cOr{tr.ipProto(ipUDP), tr.ip6Proto(ipUDP)}, nil
	case protoSCTP:
		return cOr{tr.ipProto(ipSCTP), tr.ip6Proto(ipSCTP)}, nil
	case protoICMP:
		return tr.ipProto(ipICMP), nil
	case protoIGMP:
		return tr.ipProto(ipIGMP), nil
	case protoICMP6:
		return tr.ip6Proto(ipICMP6), nil
	}
	return nil, tr.fail(n.pos, "%q needs a qualifier and a value, as in \"%s host ADDR\"", n.q.proto.String(), n.q.proto.String())
}

// byDir applies a direction qualifier to a source and a destination test.
func byDir(d dir, src, dst cond) cond {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirSrcAndDst:
		return cAnd{src, dst}
	}
	return cOr{src, dst}
}

func (tr *translator) primitive(n *primNode) (cond, error) {
	if n.id == "" {
		return tr.protoAlone(n)
	}
	switch n.q.kind {
	case kindNone, kindHost:
		return tr.host(n, strings.Contains(n.id, "/") || n.mask != "")
	case kindNet:
		return tr.host(n, true)
	case kindPort, kindPortRange:
		return tr.port(n)
	case kindProto:
		return tr.proto(n)
	}
	return nil, tr.fail(n.pos, "unsupported primitive")
}

var protoNumbers = map[string]uint32{
	"icmp": ipICMP, "igmp": ipIGMP, "tcp": ipTCP, "udp": ipUDP, "icmp6": ipICMP6, "sctp": ipSCTP,
	"ah": 51, "esp": 50, "gre": 47, "pim": 103, "vrrp": 112, "ipv6": 41, "ipip": 4,
}

var etherNumbers = map[string]uint32{"ip": etherIP, "ip6": etherIP6, "arp": etherARP, "rarp": etherRARP}

func (tr *translator) proto(n *primNode) (cond, error) {
	name := strings.TrimPrefix(n.id, "\\")
	v, err := parseNumber(name)
	if n.q.proto == protoEther {
		if err != nil {
			var ok bool
			if v, ok = etherNumbers[name]; !ok {
				return nil, tr.fail(n.idPos, "unknown EtherType %q", n.id)
			}
		}
		if v <= 1500 {
			return nil, tr.fail(n.idPos, "ether proto %d is an 802.3 length: LLC protocols are not supported", v)
		}
		return tr.linkProto(v), nil
	}
	if err != nil {
		var ok bool
		if v, ok = protoNumbers[name]; !ok {
			return nil, tr.fail(n.idPos, "unknown IP protocol %q", n.id)
		}
	}
	if v > 255 {
		return nil, tr.fail(n.idPos, "IP protocol %d is above 255", v)
	}
	switch n.q.proto {
	case protoNone:
		return cOr{tr.ipProto(v), tr.ip6Proto(v)}, nil
	case protoIP:
		return tr.ipProto(v), nil
	case protoIP6:
		return tr.ip6Proto(v), nil
	}
	return nil, tr.fail(n.pos, "%q cannot qualify proto", n.q.proto.String())
}

// host handles "host ID" and "net ID" for IPv4, IPv6 and MAC addresses.
func (tr *translator) host(n *primNode, isNet bool) (cond, error) {
	pr := n.q.proto
	if pr == protoEther {
		if isNet {
			return nil, tr.fail(n.pos, "ether net is not supported")
		}
		mac, err := net.ParseMAC(n.id)
		if err != nil || len(mac) != 6 {
			return nil, tr.fail(n.idPos, "%q is not a MAC address", n.id)
		}
		if tr.lay.kind != linkEther {
			return tr.inapplicable(n.pos, "ether host, src or dst")
		}
		at := func(off uint32) cond {
			return cAnd{eq(abs(off+2, 4), binary.BigEndian.Uint32(mac[2:])), eq(abs(off, 2), uint32(binary.BigEndian.Uint16(mac)))}
		}
		return byDir(n.q.dir, at(6), at(0)), nil
	}
	switch pr {
	case protoNone, protoIP, protoIP6, protoARP, protoRARP:
	default:
		return nil, tr.fail(n.pos, "%q cannot qualify %s", pr.String(), map[bool]string{false: "host", true: "net"}[isNet])
	}
	pfx, err := tr.parseAddr(n, isNet)
	if err != nil {
		return nil, err
	}
	addr := pfx.Addr()
	if addr.Is4() {
		if pr == protoIP6 {
			return nil, tr.fail(n.idPos, "%q is an IPv4 address: ip6 needs an IPv6 one", n.id)
		}
		a := binary.BigEndian.Uint32(addr.AsSlice())
		m := uint32(0xffffffff) << (32 - pfx.Bits())
		if pfx.Bits() == 0 {
			m = 0
		}
		cmp := func(off uint32) cond {
			return cCmp{ld: abs(off, 4), hasMask: m != 0xffffffff, mask: m, op: '=', k: a & m}
		}
		nl := tr.nl()
		ip := cAnd{tr.linkProto(etherIP), byDir(n.q.dir, cmp(nl+12), cmp(nl+16))}
		arp := func(et uint32) cond {
			return cAnd{tr.linkProto(et), byDir(n.q.dir, cmp(nl+14), cmp(nl+24))}
		}
		switch pr {
		case protoIP:
			return ip, nil
		case protoARP:
			return arp(etherARP), nil
		case protoRARP:
			return arp(etherRARP), nil
		}
		return cOr{ip, arp(etherARP), arp(etherRARP)}, nil
	}
	if pr != protoNone && pr != protoIP6 {
		return nil, tr.fail(n.idPos, "%q is an IPv6 address: %s needs an IPv4 one", n.id, pr.String())
	}
	b := addr.As16()
	at := func(off uint32) cond {
		var and cAnd
		for w := 0; w < 4; w++ {
			bits := pfx.Bits() - 32*w
			if bits <= 0 {
				break
			}
			m := uint32(0xffffffff)
			if bits < 32 {
				m <<= 32 - bits
			}
			v := binary.BigEndian.Uint32(b[4*w:])
			and = append(and, cCmp{ld: abs(off+uint32(4*w), 4), hasMask: m != 0xffffffff, mask: m, op: '=', k: v & m})
		}
		if len(and) == 0 {
			return cTrue{}
		}
		return and
	}
	nl := tr.nl()
	return cAnd{tr.linkProto(etherIP6), byDir(n.q.dir, at(nl+8), at(nl+24))}, nil
}

// parseAddr reads a host address, or a network as "a.b.c.d/len",
// "a.b.c" (libpcap's classful shorthand), "ADDR mask MASK" or "v6/len".
func (tr *translator) parseAddr(n *primNode, isNet bool) (netip.Prefix, error) {
	id := n.id
	if !isNet {
		a, err := netip.ParseAddr(id)
		if err != nil || a.Zone() != "" {
			if looksNumeric(id) {
				return netip.Prefix{}, tr.fail(n.idPos, "%q is not an IP address", id)
			}
			return netip.Prefix{}, tr.fail(n.idPos, "unknown word %q (host names are not resolved: give an address)", id)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	var pfx netip.Prefix
	var err error
	switch {
	case n.mask != "":
		a, err1 := netip.ParseAddr(id)
		m, err2 := netip.ParseAddr(n.mask)
		if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
			return pfx, tr.fail(n.idPos, "%q mask %q is not an IPv4 network and mask", id, n.mask)
		}
		mv := binary.BigEndian.Uint32(m.AsSlice())
		bits := 0
		for bits < 32 && mv&(1<<(31-bits)) != 0 {
			bits++
		}
		if bits < 32 && mv<<bits != 0 {
			return pfx, tr.fail(n.idPos, "mask %q is not contiguous", n.mask)
		}
		pfx = netip.PrefixFrom(a, bits)
	case strings.Contains(id, "/"):
		addr, lenText, _ := strings.Cut(id, "/")
		a, aerr := parseClassful(addr)
		if aerr != nil {
			a, aerr = netip.ParseAddr(addr)
		}
		bits, berr := strconv.Atoi(lenText)
		if aerr != nil || berr != nil || bits < 0 || bits > a.BitLen() {
			return pfx, tr.fail(n.idPos, "%q is not a network (ADDR/LEN)", id)
		}
		pfx = netip.PrefixFrom(a, bits)
	default:
		a, perr := netip.ParseAddr(id)
		if perr == nil {
			pfx = netip.PrefixFrom(a, a.BitLen())
			if a.Is4() {
				// A dotted quad without a length: libpcap takes the
				// number of non-zero trailing octets as the mask.
				pfx = classfulNet(a)
			}
		} else {
			a, err = parseClassful(id)
			if err != nil {
				return pfx, tr.fail(n.idPos, "%q is not a network", id)
			}
			pfx = netip.PrefixFrom(a, 8*(strings.Count(id, ".")+1))
		}
	}
	if pfx.Masked().Addr() != pfx.Addr() {
		return pfx, tr.fail(n.idPos, "non-network bits set in %q", id)
	}
	return pfx, nil
}

// parseClassful reads "a", "a.b" or "a.b.c" as the leading octets of an
// IPv4 address.
func parseClassful(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, fmt.Errorf("too many octets")
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return netip.Addr{}, err
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), nil
}

// classfulNet is libpcap's mask for "net a.b.c.d" without a length: the
// address with its trailing zero octets masked off.
func classfulNet(a netip.Addr) netip.Prefix {
	b := a.As4()
	bits := 32
	for bits > 0 && b[bits/8-1] == 0 {
		bits -= 8
	}
	return netip.PrefixFrom(a, bits)
}

func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '/') {
			return false
		}
	}
	return true
}

// port handles "port N" and "portrange A-B".
func (tr *translator) port(n *primNode) (cond, error) {
	var lo, hi uint32
	if n.q.kind == kindPortRange {
		a, b, ok := strings.Cut(n.id, "-")
		if !ok {
			return nil, tr.fail(n.idPos, "%q is not a port range (LOW-HIGH)", n.id)
		}
		var err error
		if lo, err = tr.portNumber(a, n); err != nil {
			return nil, err
		}
		if hi, err = tr.portNumber(b, n); err != nil {
			return nil, err
		}
		if lo > hi {
			lo, hi = hi, lo
		}
	} else {
		p, err := tr.portNumber(n.id, n)
		if err != nil {
			return nil, err
		}
		lo, hi = p, p
	}
	var protos []uint32
	v4, v6 := true, true
	switch n.q.proto {
	case protoNone:
		protos = []uint32{ipSCTP, ipTCP, ipUDP}
	case protoIP:
		protos, v6 = []uint32{ipSCTP, ipTCP, ipUDP}, false
	case protoIP6:
		protos, v4 = []uint32{ipSCTP, ipTCP, ipUDP}, false
	case protoTCP:
		protos = []uint32{ipTCP}
	case protoUDP:
		protos = []uint32{ipUDP}
	case protoSCTP:
		protos = []uint32{ipSCTP}
	default:
		return nil, tr.fail(n.pos, "%q cannot qualify port", n.q.proto.String())
	}
	match := func(ld load) cond {
		if lo == hi {
			return cCmp{ld: ld, op: '=', k: lo}
		}
		return cAnd{cCmp{ld: ld, op: 'g', k: lo}, cNot{cCmp{ld: ld, op: '>', k: hi}}}
	}
	oneOf := func(ld load) cond {
		var or cOr
		for _, p := range protos {
			or = append(or, eq(ld, p))
		}
		return or
	}
	nl := tr.nl()
	var c cOr
	if v6 {
		// As libpcap: the transport header right after the fixed header.
		c = append(c, cAnd{tr.linkProto(etherIP6), oneOf(abs(nl+6, 1)),
			byDir(n.q.dir, match(abs(nl+40, 2)), match(abs(nl+42, 2)))})
	}
	if v4 {
		tl := func(off uint32) load { return load{off: off, size: 2, ipx: true, ipOff: nl} }
		c = append(c, cAnd{tr.linkProto(etherIP), oneOf(abs(nl+9, 1)),
			cNot{cCmp{ld: abs(nl+6, 2), op: '&', k: 0x1fff}},
			byDir(n.q.dir, match(tl(nl)), match(tl(nl+2)))})
	}
	return c, nil
}

func (tr *translator) portNumber(s string, n *primNode) (uint32, error) {
	if v, err := parseNumber(s); err == nil {
		if v > 65535 {
			return 0, tr.fail(n.idPos, "port %d is above 65535", v)
		}
		return v, nil
	}
	network := "tcp"
	if n.q.proto == protoUDP {
		network = "udp"
	}
	p, err := net.LookupPort(network, s)
	if err != nil {
		return 0, tr.fail(n.idPos, "unknown port name %q", s)
	}
	return uint32(p), nil
}

// relation handles "EXPR RELOP EXPR": the protocol checks of every load,
// then the comparison.
func (tr *translator) relation(n *relNode) (cond, error) {
	var checks cAnd
	l, err := tr.arith(n.l, &checks)
	if err != nil {
		return nil, err
	}
	r, err := tr.arith(n.r, &checks)
	if err != nil {
		return nil, err
	}
	return append(checks, cRel{op: n.op, l: l, r: r}), nil
}

func (tr *translator) arith(a arith, checks *cAnd) (rarith, error) {
	switch a := a.(type) {
	case *numArith:
		return rNum(a.v), nil
	case *lenArith:
		return rLen{}, nil
	case *negArith:
		x, err := tr.arith(a.x, checks)
		return rNeg{x}, err
	case *binArith:
		l, err := tr.arith(a.l, checks)
		if err != nil {
			return nil, err
		}
		r, err := tr.arith(a.r, checks)
		if err != nil {
			return nil, err
		}
		if k, ok := r.(rNum); ok && k == 0 && (a.op == "/" || a.op == "%") {
			return nil, tr.fail(a.pos, "division by zero")
		}
		// The kernel refuses a BPF shift by a constant of 32 or more, and
		// libpcap refuses it with this message. A shift by a computed
		// amount is left to run time, as in libpcap.
		if k, ok := r.(rNum); ok && k > 31 && (a.op == "<<" || a.op == ">>") {
			return nil, tr.fail(a.pos, "shift by more than 31 bits")
		}
		return rBin{op: a.op, l: l, r: r}, nil
	case *loadArith:
		idx, err := tr.arith(a.idx, checks)
		if err != nil {
			return nil, err
		}
		ld := rLoad{idx: idx, size: a.size}
		nl := tr.nl()
		switch a.proto {
		case protoEther, protoLink:
			ld.base = 0
		case protoIP:
			*checks = append(*checks, tr.linkProto(etherIP))
			ld.base = nl
		case protoIP6:
			*checks = append(*checks, tr.linkProto(etherIP6))
			ld.base = nl
		case protoARP:
			*checks = append(*checks, tr.linkProto(etherARP))
			ld.base = nl
		case protoRARP:
			*checks = append(*checks, tr.linkProto(etherRARP))
			ld.base = nl
		case protoTCP, protoUDP, protoICMP, protoSCTP, protoIGMP:
			p := map[proto]uint32{protoTCP: ipTCP, protoUDP: ipUDP, protoICMP: ipICMP, protoSCTP: ipSCTP, protoIGMP: ipIGMP}[a.proto]
			*checks = append(*checks, tr.ipProto(p), cNot{cCmp{ld: abs(nl+6, 2), op: '&', k: 0x1fff}})
			ld.base, ld.ipx, ld.ipOff = nl, true, nl
		case protoICMP6:
			*checks = append(*checks, tr.ip6Proto(ipICMP6))
			ld.base = nl + 40
		default:
			return nil, tr.fail(a.pos, "%q cannot be loaded from", a.proto.String())
		}
		return ld, nil
	}
	return nil, fmt.Errorf("filter: unknown arithmetic %T", a)
}
