package filter

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
)

// TestParentheses: "(" opens a group of terms or an arithmetic expression,
// as in libpcap's grammar, whatever the group starts with. An accepted
// expression must compile to the same program as its twin without the
// parentheses (parentheses make no node); when tcpdump is installed, it
// must agree, on both the twin and the error.
func TestParentheses(t *testing.T) {
	tests := []struct {
		expr string
		same string // an expression of the same meaning
		col  int    // column of the error, from 1; 0: accepted
	}{
		{expr: "tcp port 80 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)", same: "tcp port 80 and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420"},
		{expr: "(ip[0] > 1)", same: "ip[0] > 1"},
		{expr: "not (ip[0] = 0x45)", same: "not ip[0] = 0x45"},
		{expr: "tcp and (tcp[13] & 2 != 0)", same: "tcp and tcp[13] & 2 != 0"},
		{expr: "(tcp[tcpflags] & (tcp-syn|tcp-fin) != 0)", same: "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"},
		{expr: "((ip[0] > 1))", same: "ip[0] > 1"},
		{expr: "(ip[0] > 1 and tcp)", same: "ip[0] > 1 and tcp"},
		{expr: "(-1 = ip[12:4]) or udp", same: "-1 = ip[12:4] or udp"},
		{expr: "((ip[0]) + 1 > 1 or (len > 5))", same: "ip[0] + 1 > 1 or len > 5"},
		// Accepted before.
		{expr: "(len > 100)", same: "len > 100"},
		{expr: "(5 > ip[0])", same: "5 > ip[0]"},
		{expr: "(tcp and ip[0] > 1)", same: "tcp and ip[0] > 1"},
		{expr: "(ip[0]) > 1", same: "ip[0] > 1"},
		{expr: "((ip[0])) & 0xf > 5", same: "ip[0] & 0xf > 5"},
		{expr: "not (5) > ip[0]", same: "not 5 > ip[0]"},
		{expr: "(tcp-syn) = tcp[13]", same: "tcp-syn = tcp[13]"},
		// A number alone in parentheses is an identifier, unless an
		// operator follows.
		{expr: "port 80 or (443)", same: "port 80 or 443"},
		{expr: "port 80 or ((443))", same: "port 80 or 443"},
		{expr: "port 80 or (443 and 8080)", same: "port 80 or (port 443 and port 8080)"},
		{expr: "port 80 or (443) + 1 > len", same: "port 80 or 443 + 1 > len"},
		// Refused: an arithmetic expression is no term.
		{expr: "(ip[0])", col: 8},
		{expr: "(ip[0] > 1) > 1", col: 13},
		{expr: "(tcp) > 5", col: 7},
		{expr: "port 80 or (443 + 1)", col: 21},
		{expr: "port 80 or (443 and 80) > 5", col: 25},
		{expr: "(ip[0] > 1", col: 11},
	}
	_, lookErr := exec.LookPath("tcpdump")
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := Compile(tt.expr, capture.LinkEthernet)
			var fe *Error
			switch {
			case tt.col != 0 && !errors.As(err, &fe):
				t.Errorf("Compile(%q) = %v, want an error at column %d", tt.expr, err, tt.col)
			case tt.col != 0 && fe.Pos+1 != tt.col:
				t.Errorf("Compile(%q) = %v, want column %d", tt.expr, err, tt.col)
			case tt.col == 0 && err != nil:
				t.Errorf("Compile(%q) = %v, want a program", tt.expr, err)
			case tt.col == 0:
				want, err := Compile(tt.same, capture.LinkEthernet)
				if err != nil {
					t.Fatalf("Compile(%q) = %v", tt.same, err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("Compile(%q) = %v, want the program of %q, %v", tt.expr, got, tt.same, want)
				}
			}
			if lookErr != nil {
				return
			}
			prog, ok := tcpdumpProgram(t, tt.expr)
			switch {
			case tt.col != 0 && ok:
				t.Errorf("tcpdump accepts %q, want an error", tt.expr)
			case tt.col == 0 && !ok:
				t.Errorf("tcpdump refuses %q", tt.expr)
			case tt.col == 0:
				if same, _ := tcpdumpProgram(t, tt.same); same != prog {
					t.Errorf("tcpdump compiles %q and %q differently", tt.expr, tt.same)
				}
			}
		})
	}
}

// TestDeepNesting: whatever the nesting, the compiler answers at once;
// beyond 256 levels it refuses the expression at the first token too
// deep. Parsing used to take cubic time in the depth of parentheses (61 s
// at 6400 levels).
func TestDeepNesting(t *testing.T) {
	const n, limit = 10000, 256
	rep := strings.Repeat
	tests := []struct {
		name string
		expr string
		col  int // column of the error, from 1; 0: accepted
	}{
		{"groups", rep("(", n) + "tcp" + rep(")", n), limit + 1},
		{"groups at the limit", rep("(", limit) + "tcp" + rep(")", limit), 0},
		{"group of a relation", rep("(", n) + "ip[0] > 1" + rep(")", n), limit + 1},
		{"arithmetic group", rep("(", n) + "ip[0]" + rep(")", n) + " > 1", limit + 1},
		{"number", "port 80 or " + rep("(", n) + "443" + rep(")", n), len("port 80 or ") + limit + 1},
		{"number at the limit", "port 80 or " + rep("(", limit) + "443" + rep(")", limit), 0},
		{"unclosed", rep("(", n) + "tcp", limit + 1},
		{"not", rep("not ", n) + "tcp", 4*limit + 1},
		{"not at the limit", rep("! ", limit) + "tcp", 0},
		{"operand", "len > " + rep("(", n) + "1" + rep(")", n), len("len > ") + limit + 1},
		{"minus", "len > " + rep("- ", n) + "1", len("len > ") + 2*limit + 1},
		{"load", rep("ip[", n) + "0" + rep("]", n) + " > 0", 3*limit + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := Parse(tt.expr)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Parse took %v", d)
			}
			var fe *Error
			switch {
			case tt.col == 0 && err != nil:
				t.Errorf("Parse = %v, want nil", err)
			case tt.col != 0 && !errors.As(err, &fe):
				t.Errorf("Parse = %v, want an error at column %d", err, tt.col)
			case tt.col != 0 && (fe.Pos+1 != tt.col || !strings.Contains(fe.Msg, "nested more than 256 levels")):
				t.Errorf("Parse = %v, want the nesting error at column %d", err, tt.col)
			}
		})
	}
}
