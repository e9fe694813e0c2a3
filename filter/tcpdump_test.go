package filter

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jjflow/jj/capture"
)

// tcpdumpExprs is the differential table: each expression must keep the
// same frames as `tcpdump -r FILE EXPR` on every capture.
var tcpdumpExprs = []string{
	// protocols
	"ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
	"not ip", "not tcp and not udp",
	// hosts and nets
	"host 192.168.1.1", "src host 10.0.0.1", "dst host 10.0.0.2",
	"host 2001:db8::1", "ip6 host ::1",
	"net 10.0.0.0/8", "net 192.168.0.0/16", "src net 192.168", "dst net 172.16.0.0 mask 255.240.0.0",
	"net 2001:db8::/32", "net fe80::/10", "ip6 net ::/0", "ip net 0.0.0.0/0",
	"ether host ff:ff:ff:ff:ff:ff", "ether src 00:00:00:00:00:00", "broadcast", "multicast",
	"ip multicast", "ip6 multicast",
	// ports
	"port 80", "port 53", "tcp port 443", "udp port 53", "src port 53", "dst port 80",
	"tcp dst port 80 or tcp src port 80", "port http", "udp port domain",
	"portrange 1-1023", "tcp portrange 1024-65535", "src portrange 0-1023", "udp dst portrange 50000-60000",
	"ip6 and port 443", "ip and udp port 53",
	// protocols by number
	"ip proto 6", "ip6 proto 17", "proto 1", "ip proto \\tcp", "ether proto 0x86dd", "ether proto \\arp",
	// vlan
	"vlan", "vlan 100", "vlan 300 or vlan 50", "vlan 1213 and tcp", "vlan and ip", "vlan 1506 and not udp", "vlan and vlan", "vlan and tcp port 80", "not vlan", "vlan or ip",
	// lengths and relations
	"less 100", "greater 1000", "len > 200", "len <= 60",
	"tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "tcp[tcpflags] == tcp-ack",
	"icmp[icmptype] == icmp-echo", "ip[8] < 64", "ip[2:2] - ((ip[0] & 0xf) << 2) > 100",
	"udp[4:2] > 100", "ether[12:2] = 0x0800", "ip[6] & 0x20 != 0", "ip6[6] = 58",
	"tcp[12] >> 4 > 5", "ip[9] % 5 = 1", "-1 = ip[12:4] ^ 0xffffffff",
	"tcp port 80 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)", "not (ip[0] = 0x45)",
	"tcp and (tcp[13] & 2 != 0)", "(tcp[tcpflags] & (tcp-syn|tcp-fin) != 0)", "(ip[0]) & 0xf > 5",
	// combinations (and/or have equal precedence, left to right)
	"tcp and port 80", "udp or icmp", "tcp or udp and port 53", "not (port 53 or port 80)",
	"host 10.0.0.1 or 10.0.0.2", "tcp port 80 or 443", "ip and not net 10.0.0.0/8",
	"(tcp or udp) and not port 22", "! tcp && ip || ip6",
	"src 10.1.1.1 and dst port 80",
}

// corpusFiles are the captures of the differential test: the repository's
// testdata and, when present, more of the shared corpus.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../testdata/captures/*")
	for _, name := range []string{
		"nfstream__KakaoTalk_chat.pcap", "nfstream__raw.pcap", "tcpdump__LINKTYPE_RAW_ipv4.pcap",
		"gopacket__test_loopback.pcap", "nfstream__selfsigned.pcap", "ndpi__dns.pcap",
		"nfstream__6in4tunnel.pcap", "nfstream__malformed_icmp.pcap", "ndpi__vxlan.pcap",
		"nfstream__ip_fragmented_garbage.pcap", "nfstream__http_ipv6.pcap", "ndpi__http2.pcapng",
		"nfstream__mongodb.pcap", "ndpi__syslog.pcap", "tcpdump__various_gre.pcap", "nfstream__4in4tunnel.pcap",
	} {
		p := filepath.Join("..", "..", "shared", "pcaps", name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		t.Skip("no captures found")
	}
	return files
}

type frame struct {
	data []byte
	lt   capture.LinkType
	cut  bool // shorter than on the wire
}

func readFrames(t testing.TB, path string) []frame {
	t.Helper()
	r, c, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer c.Close()
	var out []frame
	var rec capture.Record
	for {
		err := r.Next(&rec)
		if err != nil {
			if err != io.EOF && !errors.Is(err, capture.ErrTruncated) {
				t.Fatalf("read %s: %v", path, err)
			}
			return out
		}
		out = append(out, frame{data: bytes.Clone(rec.Data), lt: rec.LinkType, cut: int64(rec.WireLen) > int64(len(rec.Data))})
	}
}

// tcpdumpKeeps returns the frame numbers (from 1) that tcpdump keeps, or
// ok false when tcpdump rejects the expression for this capture.
func tcpdumpKeeps(t *testing.T, path, expr string, all []frame) ([]int, bool) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.pcap")
	cmd := exec.Command("tcpdump", "-r", path, "-w", out, "--", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Logf("tcpdump -r %s %q: %v: %s", filepath.Base(path), expr, err, strings.TrimSpace(stderr.String()))
		return nil, false
	}
	kept := readFrames(t, out)
	var nums []int
	j := 0
	for _, k := range kept {
		for j < len(all) && !bytes.Equal(all[j].data, k.data) {
			j++
		}
		if j == len(all) {
			t.Fatalf("tcpdump's output of %q on %s has a frame not in the input", expr, path)
		}
		nums = append(nums, j+1)
		j++
	}
	return nums, true
}

// tcpdumpProgram returns tcpdump's program for expr on Ethernet, as
// `tcpdump -d` prints it, or ok false when tcpdump refuses expr.
func tcpdumpProgram(t *testing.T, expr string) (prog string, ok bool) {
	t.Helper()
	out, err := exec.Command("tcpdump", "-y", "EN10MB", "-d", "--", expr).Output()
	return string(out), err == nil
}

func TestTcpdumpDifferential(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: apt-get install tcpdump")
	}
	files := corpusFiles(t)
	matchers := map[string]*Matcher{}
	for _, expr := range tcpdumpExprs {
		m, err := NewMatcher(expr)
		if err != nil {
			t.Fatalf("NewMatcher(%q): %v", expr, err)
		}
		matchers[expr] = m
	}
	var compared atomic.Int64
	t.Cleanup(func() { t.Logf("%d (capture, expression) pairs compared with tcpdump", compared.Load()) })
	for _, path := range files {
		all := readFrames(t, path)
		lts := map[capture.LinkType]bool{}
		for _, f := range all {
			lts[f.lt] = true
		}
		if len(lts) != 1 {
			continue // libpcap reads one link type per file
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel() // tcpdump start-up dominates: overlap the runs
			for _, expr := range tcpdumpExprs {
				want, ok := tcpdumpKeeps(t, path, expr, all)
				if !ok {
					continue
				}
				// In user space len is the captured length (see Match), so
				// relations on it are compared on whole records only.
				usesLen := strings.Contains(expr, "len") || strings.Contains(expr, "less") || strings.Contains(expr, "greater")
				var got []int
				for i, f := range all {
					if usesLen && f.cut {
						want = slices.DeleteFunc(want, func(n int) bool { return n == i+1 })
						continue
					}
					if matchers[expr].Match(f.lt, f.data) {
						got = append(got, i+1)
					}
				}
				compared.Add(1)
				if !slices.Equal(got, want) {
					t.Errorf("%q: kept %d frames %v, tcpdump %d frames %v", expr, len(got), head(got), len(want), head(want))
				}
			}
		})
	}
}

func head(s []int) []int {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}
