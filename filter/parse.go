package filter

import (
	"fmt"
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokWord          // a keyword, number, address, range or name
	tokOp            // punctuation: ( ) [ ] : ! && || relational and arithmetic operators
	tokError         // a character no token starts with
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the expression
}

// lex splits an expression into tokens the way libpcap's scanner does
// where it matters: a word may hold '-', '.', '_' and (outside brackets)
// ':', so "1-1024", "10.0.0.0", "fe80::1", "00:11:22:33:44:55" and
// "tcp-syn" are single words. As in libpcap, "len-1" is one word too.
func lex(s string) []token {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isWordStart(c) || (c == ':' && depth == 0 && i+1 < len(s) && s[i+1] == ':'):
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || (s[j] == ':' && depth == 0)) {
				j++
			}
			// A word never ends with '-' (libpcap's rule), so "a-" is "a" "-".
			for j > i+1 && s[j-1] == '-' {
				j--
			}
			toks = append(toks, token{tokWord, s[i:j], i})
			i = j
		case c == '\\' && i+1 < len(s) && isWordStart(s[i+1]):
			// An escaped keyword used as a name: "ip proto \tcp".
			j := i + 2
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], i})
			i = j
		default:
			op := ""
			for _, cand := range []string{"&&", "||", "==", "!=", ">=", "<=", "<<", ">>"} {
				if strings.HasPrefix(s[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" && strings.ContainsRune("()[]:!<>=+-*/%&|^", rune(c)) {
				op = s[i : i+1]
			}
			if op == "" {
				toks = append(toks, token{tokError, s[i : i+1], i})
				i++
				continue
			}
			switch op {
			case "[":
				depth++
			case "]":
				depth--
			}
			toks = append(toks, token{tokOp, op, i})
			i += len(op)
		}
	}
	return append(toks, token{tokEOF, "", len(s)})
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isWordByte(c byte) bool { return isWordStart(c) || c == '-' || c == '.' }

// Qualifiers of a primitive, as in pcap-filter(7).
type proto uint8

const (
	protoNone proto = iota
	protoEther
	protoLink
	protoIP
	protoIP6
	protoARP
	protoRARP
	protoTCP
	protoUDP
	protoICMP
	protoICMP6
	protoSCTP
	protoIGMP
)

var protoNames = map[string]proto{
	"ether": protoEther, "link": protoLink, "ip": protoIP, "ip6": protoIP6,
	"arp": protoARP, "rarp": protoRARP, "tcp": protoTCP, "udp": protoUDP,
	"icmp": protoICMP, "icmp6": protoICMP6, "sctp": protoSCTP, "igmp": protoIGMP,
}

func (p proto) String() string {
	for n, v := range protoNames {
		if v == p {
			return n
		}
	}
	return "?"
}

type dir uint8

const (
	dirDefault dir = iota // src or dst
	dirSrc
	dirDst
	dirSrcOrDst
	dirSrcAndDst
)

type kind uint8

const (
	kindNone kind = iota
	kindHost
	kindNet
	kindPort
	kindPortRange
	kindProto
)

var kindNames = map[string]kind{"host": kindHost, "net": kindNet, "port": kindPort, "portrange": kindPortRange, "proto": kindProto}

// quals are the qualifiers of a primitive; an identifier given alone after
// "and", "or" or "not" reuses the previous primitive's.
type quals struct {
	proto proto
	dir   dir
	kind  kind
}

// Abstract syntax. Nodes keep the position of their first token, for
// errors found when they are translated.
type node interface{ position() int }

type (
	andNode struct {
		l, r node
		pos  int
	}
	orNode struct {
		l, r node
		pos  int
	}
	notNode struct {
		x   node
		pos int
	}
	// primNode is "[proto] [dir] [kind] [id]".
	primNode struct {
		q     quals
		id    string // empty when the primitive has no identifier ("tcp")
		pos   int
		idPos int
		mask  string // "net ID mask MASK"
	}
	vlanNode struct {
		id    uint32
		hasID bool
		pos   int
	}
	lenNode struct {
		less bool
		n    uint32
		pos  int
	}
	castNode struct { // broadcast, multicast
		proto proto
		multi bool
		pos   int
	}
	relNode struct {
		op   string
		l, r arith
		pos  int
	}
)

func (n *andNode) position() int  { return n.pos }
func (n *orNode) position() int   { return n.pos }
func (n *notNode) position() int  { return n.pos }
func (n *primNode) position() int { return n.pos }
func (n *vlanNode) position() int { return n.pos }
func (n *lenNode) position() int  { return n.pos }
func (n *castNode) position() int { return n.pos }
func (n *relNode) position() int  { return n.pos }

// Arithmetic expressions of relations ("tcp[13] & 2 != 0").
type arith interface{ apos() int }

type (
	numArith struct {
		v   uint32
		pos int
	}
	lenArith  struct{ pos int }
	loadArith struct {
		proto proto
		idx   arith
		size  int
		pos   int
	}
	binArith struct {
		op   string
		l, r arith
		pos  int
	}
	negArith struct {
		x   arith
		pos int
	}
)

func (a *numArith) apos() int  { return a.pos }
func (a *lenArith) apos() int  { return a.pos }
func (a *loadArith) apos() int { return a.pos }
func (a *binArith) apos() int  { return a.pos }
func (a *negArith) apos() int  { return a.pos }

// Error is an invalid filter expression: what is wrong and where.
type Error struct {
	// Expr is the whole expression.
	Expr string
	// Pos is the byte offset of the offending token.
	Pos int
	// Msg says what is wrong.
	Msg string
}

// Error returns "MSG at column N", columns counted from 1.
func (e *Error) Error() string {
	return fmt.Sprintf("%s at column %d", e.Msg, e.Pos+1)
}

type parser struct {
	expr  string
	toks  []token
	i     int
	last  quals // qualifiers of the latest primitive with an identifier
	depth int   // of nesting, see enter
	err   *Error
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) fail(pos int, format string, args ...any) *Error {
	return &Error{Expr: p.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func describe(t token) string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return strconv.Quote(t.text)
}

func isWord(t token, w string) bool { return t.kind == tokWord && t.text == w }
func isOp(t token, o string) bool   { return t.kind == tokOp && t.text == o }

// parse turns an expression into its syntax tree; an empty expression (or
// one of blanks only) gives nil, which matches every packet.
func parse(expr string) (node, error) {
	p := &parser{expr: expr, toks: lex(expr)}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	n, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.fail(t.pos, "unexpected %s", describe(t))
	}
	return n, nil
}

// maxDepth bounds the nesting of parentheses, brackets, "not" and unary
// minus, so that no nesting makes the parser recurse deep (a long flat
// chain of "or" or "+" still builds a tree as deep as it is long, which
// the limit of 4096 instructions refuses once compiled). libpcap's parser
// runs out of stack near 10 000 levels; real filters stay far below this
// bound.
const maxDepth = 256

// enter goes one level deeper, at token t.
func (p *parser) enter(t token) error {
	if p.depth == maxDepth {
		return p.fail(t.pos, "expression nested more than %d levels deep", maxDepth)
	}
	p.depth++
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseExpr parses "and" and "or" chains: in pcap-filter they have equal
// precedence and associate left to right.
func (p *parser) parseExpr() (node, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return p.parseExprFrom(l)
}

// parseExprFrom parses the rest of an "and"/"or" chain whose first term
// is l.
func (p *parser) parseExprFrom(l node) (node, error) {
	for {
		t := p.peek()
		switch {
		case isWord(t, "and") || isOp(t, "&&"):
			p.next()
			r, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			l = &andNode{l: l, r: r, pos: t.pos}
		case isWord(t, "or") || isOp(t, "||"):
			p.next()
			r, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			l = &orNode{l: l, r: r, pos: t.pos}
		default:
			return l, nil
		}
	}
}

func (p *parser) parseUnary() (node, error) {
	n, _, _, err := p.parseTerm(false)
	return n, err
}

// span is a run of tokens [start, end) that is an arithmetic expression
// but could also be read as a primitive: "443" in "port 80 or (443)".
type span struct {
	start, end int
	ok         bool
}

// parseTerm parses "not" and its operand, a relation ("tcp[13] & 2 != 0"),
// a primitive or a parenthesised group. As in libpcap's grammar, "(" may
// open a group of terms or an arithmetic expression, and which it is shows
// only after its ")": "(ip[0] > 1)" is a group, "(ip[0]) > 1" a relation.
// Inside a group (inGroup), an arithmetic expression followed by ")" is
// returned as such, for the caller to decide; alt then says whether it
// could be a primitive too. Every token is read once, apart from the
// primitive that starts with a number and is not a relation after all
// ("port 80 or 443"), which is read again from its first token.
func (p *parser) parseTerm(inGroup bool) (node, arith, span, error) {
	t := p.peek()
	switch {
	case isWord(t, "not") || isOp(t, "!"):
		if err := p.enter(t); err != nil {
			return nil, nil, span{}, err
		}
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, nil, span{}, err
		}
		p.leave()
		return &notNode{x: x, pos: t.pos}, nil, span{}, nil
	case isOp(t, "("):
		return p.parseGroup(inGroup)
	case isOp(t, "-") || isWord(t, "len") || t.kind == tokWord && protoNames[t.text] != protoNone && isOp(p.peekN(1), "["):
		// Only an arithmetic expression starts so.
		a, err := p.parseArith(0)
		if err != nil {
			return nil, nil, span{}, err
		}
		return p.finishRelation(a, t.pos, inGroup, span{})
	case t.kind == tokWord && isNumeric(t.text):
		// A number is an operand or an identifier ("port 80 or 443").
		start := p.i
		a, err := p.parseArith(0)
		if err == nil && (isRelop(p.peek()) || inGroup && isOp(p.peek(), ")")) {
			alt := span{}
			if !p.committed(start) {
				alt = span{start: start, end: p.i, ok: true}
			}
			return p.finishRelation(a, t.pos, inGroup, alt)
		}
		if p.committed(start) {
			if err != nil {
				return nil, nil, span{}, err
			}
			return p.finishRelation(a, t.pos, inGroup, span{})
		}
		p.i = start
	}
	n, err := p.parsePrimitive()
	return n, nil, span{}, err
}

// isNumeric reports a word that reads as a number or a named constant.
func isNumeric(w string) bool {
	if _, ok := namedConsts[w]; ok {
		return true
	}
	_, err := parseNumber(w)
	return err == nil
}

func isRelop(t token) bool {
	switch t.text {
	case ">", "<", ">=", "<=", "=", "==", "!=":
		return t.kind == tokOp
	}
	return false
}

func isArithOp(t token) bool {
	if t.kind != tokOp {
		return false
	}
	for _, ops := range arithLevels {
		if contains(ops, t.text) {
			return true
		}
	}
	return false
}

// finishRelation parses the rest of a relation whose left operand is a,
// which started at pos. In a group, a with no relational operator but a
// ")" after it is returned as it is, with alt.
func (p *parser) finishRelation(a arith, pos int, inGroup bool, alt span) (node, arith, span, error) {
	t := p.peek()
	if isRelop(t) {
		p.next()
		r, err := p.parseArith(0)
		if err != nil {
			return nil, nil, span{}, err
		}
		return &relNode{op: t.text, l: a, r: r, pos: pos}, nil, span{}, nil
	}
	if inGroup && isOp(t, ")") {
		return nil, a, alt, nil
	}
	return nil, nil, span{}, p.fail(t.pos, "expected a relational operator, found %s", describe(t))
}

// parseGroup parses "(" ... ")" and what it turns out to be part of.
func (p *parser) parseGroup(inGroup bool) (node, arith, span, error) {
	open := p.peek()
	if err := p.enter(open); err != nil {
		return nil, nil, span{}, err
	}
	p.next()
	n, a, alt, err := p.parseTerm(true)
	if err != nil {
		return nil, nil, span{}, err
	}
	if a == nil {
		if n, err = p.parseExprFrom(n); err != nil {
			return nil, nil, span{}, err
		}
	}
	if c := p.peek(); !isOp(c, ")") {
		return nil, nil, span{}, p.fail(c.pos, "expected \")\", found %s", describe(c))
	}
	p.next()
	p.leave()
	if a == nil {
		return n, nil, span{}, nil
	}
	// "(ARITH)": an operand of a longer expression or of a relation, an
	// operand of an enclosing group's, or a primitive after all.
	c := p.peek()
	switch {
	case isArithOp(c):
		if a, err = p.parseArithFrom(0, a); err != nil {
			return nil, nil, span{}, err
		}
	case isRelop(c):
	case inGroup && isOp(c, ")"):
		return nil, a, alt, nil
	case alt.ok:
		end := p.i
		p.i = alt.start
		n, err := p.parsePrimitive()
		if err != nil {
			return nil, nil, span{}, err
		}
		if p.i == alt.end {
			p.i = end
			return n, nil, span{}, nil
		}
		p.i = end // "(443 + 1)": not a primitive either
	}
	return p.finishRelation(a, open.pos, inGroup, span{})
}

// committed reports whether the tokens read since start hold a load
// ("proto["), which no primitive has: the arithmetic reading, and its
// error, is then the only one left.
func (p *parser) committed(start int) bool {
	for i := start; i < p.i; i++ {
		if isOp(p.toks[i], "[") {
			return true
		}
	}
	return false
}

// Binary arithmetic operators by precedence, lowest first, as in C (and
// libpcap's grammar).
var arithLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}}

func (p *parser) parseArith(level int) (arith, error) {
	return p.parseArithFrom(level, nil)
}

// parseArithFrom parses an arithmetic expression of operators from level
// up. When first is not nil, it is the leftmost operand, already parsed.
func (p *parser) parseArithFrom(level int, first arith) (arith, error) {
	if level == len(arithLevels) {
		if first != nil {
			return first, nil
		}
		return p.parseArithUnary()
	}
	l, err := p.parseArithFrom(level+1, first)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp || !contains(arithLevels[level], t.text) {
			return l, nil
		}
		// "&&" and "||" are lexed whole, so "&" and "|" here are bitwise.
		p.next()
		r, err := p.parseArith(level + 1)
		if err != nil {
			return nil, err
		}
		l = &binArith{op: t.text, l: l, r: r, pos: t.pos}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Named constants of relations, from pcap-filter(7).
var namedConsts = map[string]uint32{
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
	"icmptype": 0, "icmpcode": 1, "icmp-echoreply": 0, "icmp-unreach": 3,
	"icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
	"icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
	"icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17,
	"icmp-maskreply": 18,
	"icmp6type":      0, "icmp6code": 1, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
	"icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
}

func (p *parser) parseArithUnary() (arith, error) {
	t := p.peek()
	switch {
	case isOp(t, "-"):
		if err := p.enter(t); err != nil {
			return nil, err
		}
		p.next()
		x, err := p.parseArithUnary()
		if err != nil {
			return nil, err
		}
		p.leave()
		return &negArith{x: x, pos: t.pos}, nil
	case isOp(t, "("):
		if err := p.enter(t); err != nil {
			return nil, err
		}
		p.next()
		a, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); !isOp(c, ")") {
			return nil, p.fail(c.pos, "expected \")\", found %s", describe(c))
		}
		p.next()
		p.leave()
		return a, nil
	case isWord(t, "len"):
		p.next()
		return &lenArith{pos: t.pos}, nil
	case t.kind == tokWord:
		if pr, ok := protoNames[t.text]; ok && isOp(p.peekN(1), "[") {
			return p.parseLoad(pr)
		}
		if v, ok := namedConsts[t.text]; ok {
			p.next()
			return &numArith{v: v, pos: t.pos}, nil
		}
		if v, err := parseNumber(t.text); err == nil {
			p.next()
			return &numArith{v: v, pos: t.pos}, nil
		}
	}
	return nil, p.fail(t.pos, "expected a number, len or proto[offset], found %s", describe(t))
}

// parseLoad parses "proto[expr]" or "proto[expr:size]".
func (p *parser) parseLoad(pr proto) (arith, error) {
	t := p.next()
	if err := p.enter(p.peek()); err != nil {
		return nil, err
	}
	p.next() // "["
	idx, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	size := 1
	if c := p.peek(); isOp(c, ":") {
		p.next()
		s := p.next()
		switch s.text {
		case "1", "2", "4":
			size = int(s.text[0] - '0')
		default:
			return nil, p.fail(s.pos, "load size must be 1, 2 or 4, not %s", describe(s))
		}
	}
	if c := p.peek(); !isOp(c, "]") {
		return nil, p.fail(c.pos, "expected \"]\", found %s", describe(c))
	}
	p.next()
	p.leave()
	switch pr {
	case protoRARP, protoLink:
		if pr == protoLink {
			pr = protoEther
		}
	}
	return &loadArith{proto: pr, idx: idx, size: size, pos: t.pos}, nil
}

// parseNumber reads a decimal, 0x hexadecimal or 0-prefixed octal number,
// as libpcap does.
func parseNumber(s string) (uint32, error) {
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	v, err := strconv.ParseUint(s, base, 32)
	return uint32(v), err
}

// unsupported are the keywords of pcap-filter(7) that jj's compiler does
// not implement: named, they give an honest error rather than a parse of
// the word as a host name.
var unsupported = map[string]bool{
	"mpls": true, "pppoed": true, "pppoes": true, "geneve": true, "vxlan": true, "gateway": true,
	"protochain": true, "inbound": true, "outbound": true, "ifname": true, "on": true, "rnr": true,
	"rulenum": true, "reason": true, "rset": true, "ruleset": true, "srnr": true, "subrulenum": true,
	"action": true, "wlan": true, "type": true, "subtype": true, "dir": true, "addr1": true, "addr2": true,
	"addr3": true, "addr4": true, "ra": true, "ta": true, "fddi": true, "tr": true, "decnet": true,
	"atalk": true, "aarp": true, "iso": true, "esis": true, "isis": true, "clnp": true, "stp": true,
	"ipx": true, "netbeui": true, "lat": true, "sca": true, "moprc": true, "mopdl": true, "llc": true,
	"pim": true, "vrrp": true, "carp": true, "ah": true, "esp": true, "radio": true, "ppp": true, "slip": true,
	"link": true, "gre": true,
}

func (p *parser) parsePrimitive() (node, error) {
	t := p.peek()
	if t.kind != tokWord {
		return nil, p.fail(t.pos, "expected a primitive (host, net, port, tcp, …), found %s", describe(t))
	}
	if unsupported[t.text] && !(t.text == "link" && isOp(p.peekN(1), "[")) {
		return nil, p.fail(t.pos, "%q is not supported by jj's filter compiler", t.text)
	}
	switch t.text {
	case "vlan":
		p.next()
		n := &vlanNode{pos: t.pos}
		if c := p.peek(); c.kind == tokWord {
			if v, err := parseNumber(c.text); err == nil {
				if v > 4095 {
					return nil, p.fail(c.pos, "VLAN ID %d is above 4095", v)
				}
				p.next()
				n.id, n.hasID = v, true
			}
		}
		return n, nil
	case "less", "greater":
		p.next()
		c := p.next()
		v, err := parseNumber(c.text)
		if c.kind != tokWord || err != nil {
			return nil, p.fail(c.pos, "%s needs a length, found %s", t.text, describe(c))
		}
		return &lenNode{less: t.text == "less", n: v, pos: t.pos}, nil
	case "broadcast", "multicast":
		p.next()
		return &castNode{proto: protoEther, multi: t.text == "multicast", pos: t.pos}, nil
	}

	var q quals
	start := t.pos
	explicit := false
	if pr, ok := protoNames[t.text]; ok {
		q.proto = pr
		p.next()
		explicit = true
		if c := p.peek(); isWord(c, "broadcast") || isWord(c, "multicast") {
			p.next()
			return &castNode{proto: pr, multi: c.text == "multicast", pos: start}, nil
		}
		if c := p.peek(); c.kind == tokWord && unsupported[c.text] {
			// "ip protochain 6": a keyword, not the identifier of "ip ID".
			return nil, p.fail(c.pos, "%q is not supported by jj's filter compiler", c.text)
		}
	}
	if t := p.peek(); isWord(t, "src") || isWord(t, "dst") {
		p.next()
		q.dir = dirSrc
		if t.text == "dst" {
			q.dir = dirDst
		}
		if c, d := p.peek(), p.peekN(1); (isWord(c, "or") || isWord(c, "and")) && (isWord(d, "src") || isWord(d, "dst")) && d.text != t.text {
			p.next()
			p.next()
			q.dir = dirSrcOrDst
			if c.text == "and" {
				q.dir = dirSrcAndDst
			}
		}
		explicit = true
	}
	if t := p.peek(); t.kind == tokWord {
		if k, ok := kindNames[t.text]; ok {
			p.next()
			q.kind = k
			explicit = true
		}
	}
	if explicit && q.kind == kindNone && q.dir == dirDefault {
		// A protocol alone ("tcp", "ip6"), unless an identifier follows
		// ("ip 10.0.0.1" is "ip host 10.0.0.1").
		if c := p.peek(); c.kind != tokWord || isKeyword(c.text) {
			return &primNode{q: q, pos: start}, nil
		}
	}
	if !explicit {
		// An identifier alone reuses the previous primitive's qualifiers.
		q = p.last
	}
	c := p.peek()
	if c.kind != tokWord || isKeyword(c.text) {
		return nil, p.fail(c.pos, "expected an address, port or name, found %s", describe(c))
	}
	if (q.kind == kindNone || q.kind == kindHost || q.kind == kindNet) && !looksNumeric(c.text) {
		return nil, p.fail(c.pos, "unknown word %q (host names are not resolved: give an address)", c.text)
	}
	p.next()
	n := &primNode{q: q, id: c.text, pos: start, idPos: c.pos}
	if s, l := p.peek(), p.peekN(1); isOp(s, "/") && l.kind == tokWord && s.pos == c.pos+len(c.text) {
		// "10.0.0.0/8": the slash is an operator to the scanner.
		p.next()
		p.next()
		n.id += "/" + l.text
	}
	if q.kind == kindNet || q.kind == kindNone || q.kind == kindHost {
		if m := p.peek(); isWord(m, "mask") {
			p.next()
			v := p.next()
			if v.kind != tokWord {
				return nil, p.fail(v.pos, "expected a netmask, found %s", describe(v))
			}
			n.mask = v.text
		}
	}
	p.last = n.q
	return n, nil
}

// isKeyword reports words that cannot be identifiers.
func isKeyword(w string) bool {
	switch w {
	case "and", "or", "not", "src", "dst", "host", "net", "port", "portrange", "proto",
		"vlan", "less", "greater", "len", "mask", "broadcast", "multicast":
		return true
	}
	_, ok := protoNames[w]
	return ok
}
