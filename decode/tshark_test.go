package decode

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/jjflow/jj/capture"
)

// record is one packet record read by gopacket's pcapgo, which reads every
// link type (package capture refuses those jj did not decode before).
type record struct {
	data []byte
	wire uint32
	link capture.LinkType
}

// readRecords returns the records of a pcap or pcapng file up to the first
// one pcapgo cannot read, and pcapgo's error when it cannot open the file.
func readRecords(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link func(gopacket.CaptureInfo) capture.LinkType
	if len(b) >= 4 && string(b[:4]) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		src = r
		link = func(ci gopacket.CaptureInfo) capture.LinkType {
			return capture.LinkType(ci.AncillaryData[0].(layers.LinkType))
		}
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		src = r
		link = func(gopacket.CaptureInfo) capture.LinkType { return capture.LinkType(r.LinkType()) }
	}
	var recs []record
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			return recs, nil
		}
		recs = append(recs, record{data: slices.Clone(data), wire: uint32(ci.Length), link: link(ci)})
	}
}

// tsharkPacket is what tshark says of one frame's innermost IP packet,
// reached through tunnel layers only (an IP header quoted inside an ICMP
// error is not a tunnel).
type tsharkPacket struct {
	ok           bool // tshark found an IP header
	src, dst     string
	sport, dport int64
	ports        bool
	length       int64 // 0 when the length field is unusable
	fragment     bool
	layers       string
}

// tunnelLayers are the tshark protocol names jj walks through between two
// IP headers.
var tunnelLayers = map[string]bool{
	"eth": true, "ethertype": true, "vlan": true, "mpls": true, "pppoes": true, "ppp": true,
	"chdlc": true, "gre": true, "erspan": true, "vxlan": true, "geneve": true, "gtp": true,
	"teredo": true, "udp": true, "cmd": true,
}

var tsharkPacketFields = []string{
	"frame.protocols", "ip.src", "ip.dst", "ip.len", "ip.hdr_len", "ip.flags.mf", "ip.frag_offset",
	"ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
	"tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
}

// tsharkPackets dissects a file with tshark: one tsharkPacket per frame for
// the innermost IP packets (decap) and for the outermost ones.
func tsharkPackets(tb testing.TB, tshark, path string) (inner, outer []tsharkPacket) {
	tb.Helper()
	args := []string{"-r", path, "-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t"}
	for _, f := range tsharkPacketFields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil && len(out) == 0 {
		tb.Skipf("tshark cannot read it: %v", err)
	}
	col := func(rec []string, name string, i int) string {
		v := strings.Split(rec[slices.Index(tsharkPacketFields, name)], ",")
		if i < len(v) {
			return v[i]
		}
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rec := strings.Split(sc.Text(), "\t")
		for len(rec) < len(tsharkPacketFields) {
			rec = append(rec, "")
		}
		inner = append(inner, tsharkPacketOf(rec, col, true))
		outer = append(outer, tsharkPacketOf(rec, col, false))
	}
	return inner, outer
}

func tsharkPacketOf(rec []string, col func([]string, string, int) string, decap bool) tsharkPacket {
	var tp tsharkPacket
	tp.layers = rec[0]
	layers := strings.Split(rec[0], ":")
	cur := slices.IndexFunc(layers, func(l string) bool { return l == "ip" || l == "ipv6" })
	if cur < 0 {
		return tp
	}
	tp.ok = true
	for j := cur + 1; decap && j < len(layers); j++ {
		l := layers[j]
		if l == "ip" || l == "ipv6" {
			cur = j
		} else if !tunnelLayers[l] && !strings.HasPrefix(l, "ipv6.") {
			break
		}
	}
	name := layers[cur]
	k := 0 // occurrence of the innermost IP among its version's
	for _, l := range layers[:cur] {
		if l == name {
			k++
		}
	}
	if name == "ip" {
		tp.src, tp.dst = col(rec, "ip.src", k), col(rec, "ip.dst", k)
		tp.length, _ = strconv.ParseInt(col(rec, "ip.len", k), 10, 64)
		hl, _ := strconv.ParseInt(col(rec, "ip.hdr_len", k), 10, 64)
		if tp.length < hl {
			tp.length = 0
		}
		mf := col(rec, "ip.flags.mf", k)
		tp.fragment = mf == "1" || mf == "True" || (col(rec, "ip.frag_offset", k) != "0" && col(rec, "ip.frag_offset", k) != "")
	} else {
		tp.src, tp.dst = col(rec, "ipv6.src", k), col(rec, "ipv6.dst", k)
		plen, _ := strconv.ParseInt(col(rec, "ipv6.plen", k), 10, 64)
		if plen > 0 {
			tp.length = plen + 40
		}
	}
	// The transport: the first layer after the IP header that is not
	// an extension header, and its occurrence.
	for j := cur + 1; j < len(layers); j++ {
		l := layers[j]
		if strings.HasPrefix(l, "ipv6.") {
			continue
		}
		if l == "tcp" || l == "udp" || l == "sctp" {
			n := 0
			for _, m := range layers[:j] {
				if m == l {
					n++
				}
			}
			sp, err1 := strconv.ParseInt(col(rec, l+".srcport", n), 10, 64)
			dp, err2 := strconv.ParseInt(col(rec, l+".dstport", n), 10, 64)
			if err1 == nil && err2 == nil {
				tp.sport, tp.dport, tp.ports = sp, dp, true
			}
		}
		break
	}
	return tp
}

func addrText(a [16]byte, v6 bool) string {
	if v6 {
		return netip.AddrFrom16(a).String()
	}
	return netip.AddrFrom4([4]byte(a[:4])).String()
}

// TestTsharkPackets compares, packet by packet, the innermost IP packet of
// every capture in testdata/ and ../testdata/captures (or of
// JJ_DECODE_CROSSCHECK_DIR when set, for exploration) with tshark's
// dissection: addresses, ports, length; and the outermost one with Decap
// off.
func TestTsharkPackets(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the per-packet cross-check")
	}
	files, _ := filepath.Glob("../testdata/captures/*")
	if dir := os.Getenv("JJ_DECODE_CROSSCHECK_DIR"); dir != "" {
		files, _ = filepath.Glob(filepath.Join(dir, "*"))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			recs, err := readRecords(f)
			if err != nil {
				t.Skipf("pcapgo: %v", err)
			}
			inner, outer := tsharkPackets(t, tshark, f)
			for _, decap := range []bool{true, false} {
				want := outer
				if decap {
					want = inner
				}
				if len(want) != len(recs) {
					t.Skipf("tshark reads %d frames, pcapgo %d", len(want), len(recs))
				}
				d := Decoder{Decap: decap}
				var p Packet
				for i, r := range recs {
					w := want[i]
					reason := d.Decode(r.link, r.data, r.wire, &p)
					if !w.ok {
						if reason == ReasonOK {
							t.Errorf("decap %v, frame %d: jj finds %s, tshark no IP (%s)", decap, i+1, p.Hdrs, w.layers)
						}
						continue
					}
					if reason != ReasonOK {
						t.Errorf("decap %v, frame %d: jj skips it (%v), tshark has %s", decap, i+1, reason, w.layers)
						continue
					}
					got := fmt.Sprintf("%s %s", addrText(p.Src, p.V6), addrText(p.Dst, p.V6))
					if exp := w.src + " " + w.dst; got != exp {
						t.Errorf("decap %v, frame %d: jj %s (%s), tshark %s (%s)", decap, i+1, got, p.Hdrs, exp, w.layers)
						continue
					}
					if p.Flags&FlagPorts != 0 && w.ports && (int64(p.SrcPort) != w.sport || int64(p.DstPort) != w.dport) {
						t.Errorf("decap %v, frame %d: ports %d %d, tshark %d %d (%s)", decap, i+1, p.SrcPort, p.DstPort, w.sport, w.dport, w.layers)
					}
					if w.length > 0 && int64(p.Length) != w.length {
						t.Errorf("decap %v, frame %d: length %d, tshark %d (%s, %s)", decap, i+1, p.Length, w.length, p.Hdrs, w.layers)
					}
					if p.Payload > p.Length {
						t.Errorf("decap %v, frame %d: payload %d above length %d", decap, i+1, p.Payload, p.Length)
					}
				}
			}
		})
	}
}
