// Package filter compiles tcpdump filter expressions (pcap-filter(7)) to
// classic BPF in pure Go, and runs them on packets. It serves both ends of
// jj's first stage: `jj extract --filter` runs the program in user space on
// every record read from a file, before decoding, and `jj live` attaches it
// to the capture socket so the kernel drops what does not match.
//
// The compiler follows libpcap's semantics rather than its code: the same
// expressions keep the same packets as `tcpdump -r FILE EXPR` (checked
// against tcpdump on the test corpus), but the programs are not optimised
// and so are longer than libpcap's. Supported: host, net (with /len, mask
// or classful shorthand), port, portrange, proto, src/dst qualifiers, the
// ether, ip, ip6, arp, rarp, tcp, udp, icmp, icmp6, sctp and igmp
// protocols, vlan (with libpcap's offset shift for what follows), less,
// greater, broadcast, multicast, relations over proto[offset:size] loads
// with arithmetic, and and/or/not with libpcap's equal precedence of and
// and or. Host and port names are not resolved through DNS (port names come
// from the services database). Anything else is an *Error naming the
// column, and so is an expression nested more than 256 levels deep
// (parentheses, brackets, not, unary minus).
//
// A program depends on the link type: offsets differ between Ethernet,
// Linux cooked captures, loopback and raw IP. Compile builds one for a link
// type; a Matcher holds one for every link type jj decodes.
package filter

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/jjflow/jj/capture"
)

// Parse checks an expression as NewMatcher does: its syntax and
// semantics, and that its program for every link type jj decodes fits the
// kernel's limit (a BSD loopback frame's program is about twice as long as
// an Ethernet frame's). It returns an *Error for an invalid one; what it
// accepts, NewMatcher compiles.
func Parse(expr string) error {
	_, err := NewMatcher(expr)
	return err
}

// Compile returns the program of expr for packets of link type lt, or an
// *Error for an invalid expression. An empty expression gives a program
// that accepts everything. A link type the compiler does not know is an
// error wrapping capture.ErrLinkType.
func Compile(expr string, lt capture.LinkType) ([]bpf.Instruction, error) {
	return compile(expr, lt, false)
}

// Check returns an *Error if expr is invalid or uses a primitive that
// cannot apply to link type lt: vlan, ether host, broadcast and multicast
// need Ethernet frames. Compile's program matches nothing there, which is
// right for a file of several link types; on a live interface of that
// link type tcpdump refuses the expression, and so does jj live.
func Check(expr string, lt capture.LinkType) error {
	_, err := compile(expr, lt, true)
	return err
}

func compile(expr string, lt capture.LinkType, strict bool) ([]bpf.Instruction, error) {
	lay, ok := layoutOf(lt)
	if !ok {
		return nil, &capture.LinkTypeError{LinkType: uint32(lt)}
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return []bpf.Instruction{bpf.RetConstant{Val: accept}}, nil
	}
	tr := &translator{expr: expr, lay: lay, strict: strict, lt: lt}
	c, err := tr.translate(n)
	if err != nil {
		return nil, err
	}
	e := &emitter{}
	tl, fl := e.newLabel(), e.newLabel()
	if err := e.gen(c, tl, fl); err != nil {
		return nil, &Error{Expr: expr, Pos: 0, Msg: err.Error()}
	}
	e.place(tl)
	e.op(bpf.RetConstant{Val: accept})
	e.place(fl)
	e.op(bpf.RetConstant{Val: 0})
	prog, err := e.assemble()
	if err != nil {
		return nil, &Error{Expr: expr, Pos: 0, Msg: fmt.Sprintf("%v (link type %d's program)", err, lt)}
	}
	return prog, nil
}

// CompileRaw is Compile assembled into the kernel's format, for
// SO_ATTACH_FILTER.
func CompileRaw(expr string, lt capture.LinkType) ([]bpf.RawInstruction, error) {
	prog, err := Compile(expr, lt)
	if err != nil {
		return nil, err
	}
	return bpf.Assemble(prog)
}

// UsesVLAN reports whether expr contains the vlan primitive. On a live
// Linux socket the kernel strips VLAN tags before the filter runs (they
// travel beside the packet), so a program that reads tags in the packet
// bytes must run in user space, after the tag is put back.
func UsesVLAN(expr string) bool {
	n, err := parse(expr)
	if err != nil {
		return false
	}
	var walk func(node) bool
	walk = func(n node) bool {
		switch n := n.(type) {
		case *vlanNode:
			return true
		case *andNode:
			return walk(n.l) || walk(n.r)
		case *orNode:
			return walk(n.l) || walk(n.r)
		case *notNode:
			return walk(n.x)
		}
		return false
	}
	return walk(n)
}

// Matcher runs a compiled expression on packets of any link type jj
// decodes. Its methods may be called from several goroutines at once.
type Matcher struct {
	expr string
	vms  [numSlots]*bpf.VM
}

// Link types by slot in Matcher.vms.
var slotTypes = [...]capture.LinkType{
	capture.LinkEthernet, capture.LinkRaw, capture.LinkRaw12, capture.LinkRaw14,
	capture.LinkIPv4, capture.LinkIPv6, capture.LinkSLL, capture.LinkSLL2,
	capture.LinkNull, capture.LinkLoop, capture.LinkPPP, capture.LinkPPPHDLC, capture.LinkCHDLC,
}

const numSlots = len(slotTypes)

func slot(lt capture.LinkType) int {
	switch lt {
	case capture.LinkEthernet:
		return 0
	case capture.LinkRaw:
		return 1
	case capture.LinkRaw12:
		return 2
	case capture.LinkRaw14:
		return 3
	case capture.LinkIPv4:
		return 4
	case capture.LinkIPv6:
		return 5
	case capture.LinkSLL:
		return 6
	case capture.LinkSLL2:
		return 7
	case capture.LinkNull:
		return 8
	case capture.LinkLoop:
		return 9
	case capture.LinkPPP:
		return 10
	case capture.LinkPPPHDLC:
		return 11
	case capture.LinkCHDLC:
		return 12
	}
	return -1
}

// NewMatcher compiles expr for every link type jj decodes. It returns an
// *Error for an invalid expression.
func NewMatcher(expr string) (*Matcher, error) {
	m := &Matcher{expr: expr}
	for i, lt := range slotTypes {
		prog, err := Compile(expr, lt)
		if err != nil {
			return nil, err
		}
		if m.vms[i], err = bpf.NewVM(prog); err != nil {
			return nil, &Error{Expr: expr, Msg: err.Error()}
		}
	}
	return m, nil
}

// String returns the expression.
func (m *Matcher) String() string { return m.expr }

// Match reports whether the packet data, of link type lt, matches. Packets
// of link types the compiler does not know match: jj cannot decode them
// either, and they are counted as such. A program that loads beyond the
// captured bytes rejects the packet, as in the kernel and libpcap; len
// (less, greater) is the captured length, which differs from libpcap's
// wire length only for records cut by a snap length.
func (m *Matcher) Match(lt capture.LinkType, data []byte) bool {
	s := slot(lt)
	if s < 0 {
		return true
	}
	n, err := m.vms[s].Run(data)
	return err == nil && n != 0
}
