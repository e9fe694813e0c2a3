package filter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/jjflow/jj/capture"
)

// fuzzFrames are a few records of each link type in the test captures.
var (
	fuzzFramesOnce sync.Once
	fuzzFramesList []frame
)

func fuzzFrames(t testing.TB) []frame {
	fuzzFramesOnce.Do(func() {
		files, _ := filepath.Glob("../testdata/captures/*")
		perLT := map[capture.LinkType]int{}
		for _, file := range files {
			r, c, err := capture.Open(file)
			if err != nil {
				continue
			}
			var rec capture.Record
			for n := 0; n < 50; n++ {
				if r.Next(&rec) != nil {
					break
				}
				if perLT[rec.LinkType] >= 4 {
					continue
				}
				perLT[rec.LinkType]++
				fuzzFramesList = append(fuzzFramesList, frame{data: slices.Clone(rec.Data), lt: rec.LinkType})
			}
			c.Close()
		}
	})
	return fuzzFramesList
}

// fuzzSeeds are the expressions of the package's own tests.
func fuzzSeeds() []string {
	seeds := slices.Clone(tcpdumpExprs)
	seeds = append(seeds,
		// TestErrors
		"tcp portt 80", "host", "port 80 and", "(tcp", "tcp)", "host 1.2.3", "host example.com",
		"net 10.0.0.1/8", "port 70000", "tcp host 10.0.0.1", "ip6 host 10.0.0.1", "tcp[13:3] = 1",
		"ip[0] / 0 = 1", "vlan 5000", "mpls", "port 80 $", "ether host 1.2.3.4",
		// TestEmptyMatchesAll, TestUsesVLAN, TestMatchNoAllocs
		"", "  ", "vlan", "tcp and not vlan 3", "tcp port 80 and host 10.0.0.1",
		// TestCheck
		"tcp and vlan 100", "broadcast", "udp or multicast", "ether host 00:11:22:33:44:55",
		"not ether src 00:11:22:33:44:55", "vlan and ether broadcast", "ether proto 0x88b5",
		// TestShifts
		"ip[0] << 32 = 0", "len > 1 << 40", "ip[1 >> 0x20] = 0", "len > (1 << 040)",
		"tcp[13] >> 4294967295 = 0", "len > 1 << 31", "ip[0] >> 31 = 0", "len > 1 << ip[0]", "len > 1 << -1",
		// TestUnsupported
		"protochain 6", "ip protochain 6", "ip6 protochain 17", "tcp or not ip6 protochain 6", "udp or mpls",
		// TestParentheses
		"tcp port 80 and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", "(ip[0] > 1)", "ip[0] > 1",
		"not ip[0] = 0x45", "tcp and tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
		"((ip[0] > 1))", "(ip[0] > 1 and tcp)", "ip[0] > 1 and tcp", "(-1 = ip[12:4]) or udp",
		"-1 = ip[12:4] or udp", "((ip[0]) + 1 > 1 or (len > 5))", "ip[0] + 1 > 1 or len > 5",
		"(len > 100)", "(5 > ip[0])", "5 > ip[0]", "(tcp and ip[0] > 1)", "(ip[0]) > 1",
		"((ip[0])) & 0xf > 5", "not (5) > ip[0]", "not 5 > ip[0]", "(tcp-syn) = tcp[13]", "tcp-syn = tcp[13]",
		"port 80 or (443)", "port 80 or ((443))", "port 80 or 443", "port 80 or (443 and 8080)",
		"port 80 or (port 443 and port 8080)", "port 80 or (443) + 1 > len", "port 80 or 443 + 1 > len",
		"(ip[0])", "(ip[0] > 1) > 1", "(tcp) > 5", "port 80 or (443 + 1)", "port 80 or (443 and 80) > 5", "(ip[0] > 1",
		// TestDeepNesting, short forms
		"((((tcp))))", "port 80 or ((((443))))", "not not not tcp", "len > - - 1", "ip[ip[ip[0]]] > 0",
	)
	return seeds
}

// FuzzCompile: compiling any expression never panics nor hangs, and
// reports an invalid one as an *Error. An expression Parse accepts
// compiles for every link type jj decodes (jj extract validates with
// Parse, then builds a NewMatcher per input), compiles to the same
// program twice, assembles for the kernel (CompileRaw), and its Matcher
// runs on real frames and on arbitrary bytes without panicking. The seed
// too_long_for_loopback is an expression whose Ethernet program fit the
// kernel's limit and whose BSD loopback one did not: Parse, which then
// compiled for Ethernet alone, accepted it, and jj extract ran with no
// filter at all.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, []byte(nil))
	}
	frames := fuzzFrames(f)
	f.Fuzz(func(t *testing.T, expr string, pkt []byte) {
		if len(expr) > 1<<16 {
			return
		}
		// Watchdog: Go's fuzzer has no per-input timeout. A stuck input
		// kills the worker, and the fuzzer keeps it as a crasher.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				fmt.Fprintf(os.Stderr, "HANG: expression %q took over 10s\n%s\n", expr, buf[:n])
				os.Exit(3)
			}
		}()

		err := Parse(expr)
		var fe *Error
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%s) = %T %v, want an *Error", short(expr), err, err)
			}
			_ = fe.Error()
			_ = UsesVLAN(expr)
			// NewMatcher must refuse it too.
			if m, err := NewMatcher(expr); err == nil {
				t.Fatalf("Parse(%s) refuses (%v), NewMatcher accepts %v", short(expr), fe, m)
			}
			return
		}
		_ = UsesVLAN(expr)
		m, err := NewMatcher(expr)
		if err != nil {
			t.Fatalf("Parse(%s) accepts, NewMatcher refuses: %v", short(expr), err)
		}
		for _, lt := range slotTypes {
			p1, err := Compile(expr, lt)
			if err != nil {
				t.Fatalf("Compile(%s, %d): %v", short(expr), lt, err)
			}
			p2, _ := Compile(expr, lt)
			if !slices.Equal(p1, p2) {
				t.Fatalf("Compile(%s, %d) not deterministic", short(expr), lt)
			}
			if _, err := bpf.Assemble(p1); err != nil {
				t.Fatalf("Compile(%s, %d): program does not assemble: %v", short(expr), lt, err)
			}
			if _, err := CompileRaw(expr, lt); err != nil {
				t.Fatalf("CompileRaw(%s, %d): %v", short(expr), lt, err)
			}
			_ = Check(expr, lt)
			m.Match(lt, pkt)
		}
		for _, fr := range frames {
			m.Match(fr.lt, fr.data)
		}
		m.Match(capture.LinkType(0xdead), pkt) // unknown link type: matches
	})
}

// short quotes an expression for a failure message, cut to 100 bytes.
func short(expr string) string {
	if len(expr) > 100 {
		return fmt.Sprintf("%q… (%d bytes)", expr[:100], len(expr))
	}
	return strconv.Quote(expr)
}
