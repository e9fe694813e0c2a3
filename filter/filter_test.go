package filter

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/jjflow/jj/capture"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		expr string
		col  int // column of the error, from 1
	}{
		{"tcp portt 80", 5},
		{"host", 5},
		{"port 80 and", 12},
		{"(tcp", 5},
		{"tcp)", 4},
		{"host 1.2.3", 6},
		{"host example.com", 6},
		{"net 10.0.0.1/8", 5},
		{"port 70000", 6},
		{"tcp host 10.0.0.1", 1},
		{"ip6 host 10.0.0.1", 10},
		{"tcp[13:3] = 1", 8},
		{"ip[0] / 0 = 1", 7},
		{"vlan 5000", 6},
		{"mpls", 1},
		{"port 80 $", 9},
		{"ether host 1.2.3.4", 12},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			err := Parse(tt.expr)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.expr, err)
			}
			if fe.Pos+1 != tt.col {
				t.Errorf("Parse(%q) = %v, want column %d", tt.expr, err, tt.col)
			}
		})
	}
}

func TestEmptyMatchesAll(t *testing.T) {
	for _, expr := range []string{"", "  "} {
		m, err := NewMatcher(expr)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Match(capture.LinkEthernet, []byte{1}) {
			t.Errorf("NewMatcher(%q).Match = false, want true", expr)
		}
	}
}

// A program longer than 256 instructions needs jumps beyond the 8-bit
// offsets of conditional jumps; the assembler routes them through JA.
func TestLongJumps(t *testing.T) {
	expr := "port 1"
	for p := 2; p <= 60; p++ {
		expr += " or port " + string(rune('0'+p/10)) + string(rune('0'+p%10))
	}
	expr = "(" + expr + ") and host 10.0.0.1"
	prog, err := Compile(expr, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program has %d instructions, want a long one", len(prog))
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	// Ethernet + IPv4 10.0.0.1 → 10.0.0.2, TCP 1234 → 59.
	pkt := make([]byte, 14+20+20)
	pkt[12], pkt[13] = 0x08, 0x00
	pkt[14] = 0x45
	pkt[23] = 6
	copy(pkt[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	pkt[34], pkt[35], pkt[36], pkt[37] = 0x04, 0xd2, 0, 59
	if n, _ := vm.Run(pkt); n == 0 {
		t.Error("port 59 from 10.0.0.1 did not match")
	}
	pkt[37] = 61
	if n, _ := vm.Run(pkt); n != 0 {
		t.Error("port 61 matched")
	}
}

// TestParseFitsEveryLinkType checks that Parse refuses an expression
// whose program fits the kernel's limit for Ethernet frames but not for
// another link type jj decodes, as NewMatcher does: a raw IP or BSD
// loopback frame's program tests the IP version or the family before each
// IP test, and so is longer (twice as long for loopback). Parse, compiling
// for Ethernet alone, used to accept such an expression, and jj extract,
// whose matcher could not be built, then ran with no filter. The
// expression here is "ip or ip or …", as long as the Ethernet program
// allows (found by bisection).
func TestParseFitsEveryLinkType(t *testing.T) {
	ors := func(n int) string { return strings.Repeat("ip or ", n-1) + "ip" }
	lo, hi := 1, 4096 // Ethernet's program fits for lo terms, not for hi
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, err := Compile(ors(mid), capture.LinkEthernet); err == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	expr := ors(lo)
	if _, err := Compile(expr, capture.LinkNull); err == nil {
		t.Fatal("the BSD loopback program fits too: the test needs another expression")
	}
	err := Parse(expr)
	var fe *Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "longer than the kernel's limit of 4096 (link type ") {
		t.Errorf("Parse(%d terms) = %v; want an *Error naming the kernel's limit and the link type", lo, err)
	}
	if m, err := NewMatcher(expr); err == nil || m != nil {
		t.Errorf("NewMatcher = %v, %v; want the same refusal", m, err)
	}
	if err := Parse(ors(lo / 2)); err != nil {
		t.Errorf("Parse(%d terms) = %v; want it accepted", lo/2, err)
	}
}

func TestUsesVLAN(t *testing.T) {
	for expr, want := range map[string]bool{"vlan": true, "tcp and not vlan 3": true, "tcp": false, "": false} {
		if got := UsesVLAN(expr); got != want {
			t.Errorf("UsesVLAN(%q) = %v, want %v", expr, got, want)
		}
	}
}

func TestMatchNoAllocs(t *testing.T) {
	m, err := NewMatcher("tcp port 80 and host 10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 60)
	if n := testing.AllocsPerRun(100, func() { m.Match(capture.LinkEthernet, pkt) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	m, err := NewMatcher("tcp port 80 and host 10.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, 60)
	pkt[12], pkt[14], pkt[23] = 0x08, 0x45, 6
	b.ReportAllocs()
	for b.Loop() {
		m.Match(capture.LinkEthernet, pkt)
	}
}

// Check refuses, where tcpdump does on a live interface, the primitives
// that need Ethernet frames on a link type without them, and points at
// the primitive; Compile's program for them matches nothing.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		expr string
		lt   capture.LinkType
		col  int // of the error; 0: none
	}{
		{"vlan", capture.LinkSLL2, 1},
		{"tcp and vlan 100", capture.LinkRaw, 9},
		{"broadcast", capture.LinkSLL2, 1},
		{"udp or multicast", capture.LinkSLL, 8},
		{"ether host 00:11:22:33:44:55", capture.LinkSLL2, 1},
		{"not ether src 00:11:22:33:44:55", capture.LinkRaw, 5},
		{"vlan and ether broadcast", capture.LinkEthernet, 0},
		{"tcp port 80 and host 10.0.0.1", capture.LinkSLL2, 0},
		{"ether proto 0x88b5", capture.LinkSLL2, 0},
	} {
		err := Check(c.expr, c.lt)
		var fe *Error
		switch {
		case c.col == 0 && err != nil:
			t.Errorf("Check(%q, %d) = %v, want nil", c.expr, c.lt, err)
		case c.col != 0 && (!errors.As(err, &fe) || fe.Pos+1 != c.col || !strings.Contains(fe.Msg, "needs Ethernet frames")):
			t.Errorf("Check(%q, %d) = %v, want an error at column %d", c.expr, c.lt, err, c.col)
		}
		if _, err := Compile(c.expr, c.lt); err != nil {
			t.Errorf("Compile(%q, %d) = %v, want a program", c.expr, c.lt, err)
		}
	}
}

// TestShifts: as libpcap, a shift by a constant above 31 is refused (the
// kernel refuses the instruction); a shift by a computed amount is not.
func TestShifts(t *testing.T) {
	tests := []struct {
		expr string
		col  int // column of the error, from 1; 0: accepted
	}{
		{"ip[0] << 32 = 0", 7},
		{"len > 1 << 40", 9},
		{"ip[1 >> 0x20] = 0", 6},
		{"len > (1 << 040)", 10},
		{"tcp[13] >> 4294967295 = 0", 9},
		{"len > 1 << 31", 0},
		{"ip[0] >> 31 = 0", 0},
		{"len > 1 << ip[0]", 0},
		{"len > 1 << -1", 0},
	}
	_, lookErr := exec.LookPath("tcpdump")
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			err := Parse(tt.expr)
			var fe *Error
			switch {
			case tt.col == 0 && err != nil:
				t.Errorf("Parse(%q) = %v, want nil", tt.expr, err)
			case tt.col != 0 && (!errors.As(err, &fe) || fe.Pos+1 != tt.col || fe.Msg != "shift by more than 31 bits"):
				t.Errorf("Parse(%q) = %v, want \"shift by more than 31 bits at column %d\"", tt.expr, err, tt.col)
			}
			if lookErr != nil {
				return
			}
			if _, ok := tcpdumpProgram(t, tt.expr); ok != (tt.col == 0) {
				t.Errorf("tcpdump accepts %q: %v", tt.expr, ok)
			}
		})
	}
}

// TestUnsupported: a pcap-filter keyword jj does not implement is named
// as such, even after a protocol ("ip protochain 6" read "protochain" as
// a host name), where tcpdump accepts the expression.
func TestUnsupported(t *testing.T) {
	tests := []struct {
		expr string
		word string
		col  int // of the error, from 1
	}{
		{"protochain 6", "protochain", 1},
		{"ip protochain 6", "protochain", 4},
		{"ip6 protochain 17", "protochain", 5},
		{"tcp or not ip6 protochain 6", "protochain", 16},
		{"udp or mpls", "mpls", 8},
	}
	_, lookErr := exec.LookPath("tcpdump")
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			err := Parse(tt.expr)
			want := strconv.Quote(tt.word) + " is not supported by jj's filter compiler"
			var fe *Error
			if !errors.As(err, &fe) || fe.Pos+1 != tt.col || fe.Msg != want {
				t.Errorf("Parse(%q) = %v, want %q at column %d", tt.expr, err, want, tt.col)
			}
			if lookErr != nil {
				return
			}
			if _, ok := tcpdumpProgram(t, tt.expr); !ok {
				t.Errorf("tcpdump refuses %q", tt.expr)
			}
		})
	}
}
