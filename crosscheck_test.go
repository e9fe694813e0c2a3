package jj

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestTsharkCrossCheck compares, for every capture in testdata/captures,
// the packets, IP bytes and payload bytes of each 5-tuple (summed over the
// flows of that 5-tuple, so that flow splitting does not matter) with the
// same sums computed from tshark's dissection of the file. tshark decodes
// the headers independently of jj; the aggregation below is a few lines of
// the contract (flow-meta.md §1-§2) applied to its fields. Like jj, it keys
// a tunnelled packet on its innermost IP header, reached through tunnel
// layers only (an IP header quoted in an ICMP error is not a tunnel).
func TestTsharkCrossCheck(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the independent cross-check")
	}
	dir := "testdata/captures"
	if d := os.Getenv("JJ_CROSSCHECK_DIR"); d != "" {
		dir = d // e.g. ../shared/pcaps, for exploration
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, wantPackets, err := tsharkFlows(tshark, f)
			if err != nil {
				t.Skipf("tshark cannot read it: %v", err)
			}
			cfg := DefaultConfig()
			tab, err := Extract(f, cfg)
			if err != nil && tab == nil {
				t.Fatal(err)
			}
			got := map[string]*agg{}
			for r := range tab.Rows {
				k := aggKey(tab.Value(r, "src_ip").(string), tab.Value(r, "src_port").(int64),
					tab.Value(r, "dst_ip").(string), tab.Value(r, "dst_port").(int64), protoClass(tab.Value(r, "protocol").(int64)))
				a := got[k]
				if a == nil {
					a = &agg{}
					got[k] = a
				}
				if a.packets == 0 || tab.Value(r, "start_time").(float64) < a.first {
					a.first = tab.Value(r, "start_time").(float64)
				}
				a.last = max(a.last, tab.Value(r, "end_time").(float64))
				a.packets += tab.Value(r, "total_packets").(int64)
				a.bytes += tab.Value(r, "total_bytes").(int64)
				a.payload += tab.Value(r, "payload_bytes_total").(int64)
			}
			if int64(tab.Summary.Used) != wantPackets {
				t.Errorf("packets used = %d, tshark finds %d IP packets", tab.Summary.Used, wantPackets)
			}
			for k, w := range want {
				g := got[k]
				if g == nil {
					t.Errorf("%s: missing (tshark: %+v)", k, *w)
					continue
				}
				if !w.noTime && !tsharkTimeDiffers[filepath.Base(f)] && (g.first != w.first || g.last != w.last) {
					t.Errorf("%s: first, last = %.9f %.9f; tshark %.9f %.9f", k, g.first, g.last, w.first, w.last)
				}
				if g.packets != w.packets || (!w.noBytes && g.bytes != w.bytes) || (w.payloadOK && g.payload != w.payload) {
					t.Errorf("%s: packets, bytes, payload = %d %d %d; tshark %d %d %d (bytes checked %v, payload checked %v)",
						k, g.packets, g.bytes, g.payload, w.packets, w.bytes, w.payload, !w.noBytes, w.payloadOK)
				}
			}
			for k := range got {
				if want[k] == nil {
					t.Errorf("%s: jj has it, tshark does not", k)
				}
			}
		})
	}
}

// tsharkTimeDiffers lists captures whose timestamps tshark reads otherwise:
// a microsecond field of a second or more, which jj carries into the
// seconds (flow-meta.md §1) and tshark turns into a negative time.
var tsharkTimeDiffers = map[string]bool{
	"nfstream__fuzz-2021-06-07-c6c72a0a56.pcap": true,
}

// tunnelLayers are the tshark protocol names jj walks through between two
// IP headers when it decapsulates.
var tunnelLayers = map[string]bool{
	"eth": true, "ethertype": true, "vlan": true, "mpls": true, "pppoes": true, "ppp": true,
	"chdlc": true, "gre": true, "erspan": true, "vxlan": true, "geneve": true, "gtp": true,
	"teredo": true, "udp": true, "cmd": true,
}

type agg struct {
	packets, bytes, payload int64
	first, last             float64 // earliest and latest frame.time_epoch
	noTime                  bool    // a simple packet block: tshark says 0, jj the previous time
	noBytes                 bool    // some packet had no usable length field
	payloadOK               bool    // payload computable from tshark fields
}

func protoClass(p int64) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	}
	return "other"
}

func aggKey(a string, pa int64, b string, pb int64, class string) string {
	x, y := fmt.Sprintf("%s:%d", a, pa), fmt.Sprintf("%s:%d", b, pb)
	if y < x {
		x, y = y, x
	}
	return x + " " + y + " " + class
}

var tsharkFields = []string{
	"frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.len", "ipv6.plen",
	"tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
	"tcp.len", "udp.length", "ip.id", "ip.frag_offset", "ip.flags.mf",
	"ipv6.fraghdr.ident", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ip.hdr_len", "ip.proto", "tcp.hdr_len", "frame.time_epoch",
}

// tsharkRun prints fields of every frame of file, tab-separated, without
// IP reassembly or TCP desegmentation; opts choose the occurrences.
func tsharkRun(tshark, file string, fields []string, opts ...string) ([]byte, error) {
	args := []string{"-r", file, "-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-E", "separator=\t"}
	args = append(args, opts...)
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

// tsharkFlows extracts per-5-tuple sums from tshark's dissection.
func tsharkFlows(tshark, file string) (map[string]*agg, int64, error) {
	out, err := tsharkRun(tshark, file, tsharkFields, "-E", "occurrence=a", "-E", "aggregator=,")
	if err != nil {
		return nil, 0, err
	}
	// occ[name] is the occurrence of a protocol's fields to read: that of
	// the innermost IP header and of its transport.
	var occ map[string]int
	col := func(rec []string, name string) string {
		v := strings.Split(rec[slices.Index(tsharkFields, name)], ",")
		if name == "frame.protocols" || name == "frame.time_epoch" {
			return v[0]
		}
		proto := name[:strings.IndexByte(name, '.')]
		if strings.HasPrefix(name, "ipv6.fraghdr.") {
			proto = "fraghdr"
		}
		if i := occ[proto]; i >= 0 && i < len(v) {
			return v[i]
		}
		return ""
	}
	num := func(s string) int64 {
		v, _ := strconv.ParseInt(strings.TrimPrefix(s, "0x"), 10, 64)
		if strings.HasPrefix(s, "0x") {
			v, _ = strconv.ParseInt(s[2:], 16, 64)
		}
		return v
	}
	flows := map[string]*agg{}
	type datagram struct {
		sp, dp int64
		class  string
	}
	frags := map[string]datagram{}
	var used int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rec := strings.Split(sc.Text(), "\t")
		if len(rec) < len(tsharkFields) {
			continue
		}
		layers := strings.Split(col(rec, "frame.protocols"), ":")
		ipAt := slices.IndexFunc(layers, func(l string) bool { return l == "ip" || l == "ipv6" })
		if ipAt < 0 {
			continue
		}
		used++
		// The innermost IP header reached through tunnel layers.
		for j := ipAt + 1; j < len(layers); j++ {
			if l := layers[j]; l == "ip" || l == "ipv6" {
				ipAt = j
			} else if !tunnelLayers[l] && !strings.HasPrefix(l, "ipv6.") {
				break
			}
		}
		v6 := layers[ipAt] == "ipv6"
		// The transport is the first layer after the IP header that is
		// not an IPv6 extension header.
		next := ""
		nextAt := len(layers)
		for j, l := range layers[ipAt+1:] {
			if !strings.HasPrefix(l, "ipv6.") {
				next, nextAt = l, ipAt+1+j
				break
			}
		}
		occ = map[string]int{}
		for _, l := range layers[:nextAt] {
			occ[strings.TrimPrefix(l, "ipv6.")]++
		}
		occ["ip"], occ["ipv6"] = occ[layers[ipAt]]-1, occ[layers[ipAt]]-1
		occ["fraghdr"]-- // the fragment header nearest the transport
		// occ["tcp"] and the like count the layers before the transport:
		// the occurrence of the transport's own fields.
		var src, dst string
		var length int64
		var fragKey string
		var later, first bool
		if v6 {
			src, dst = col(rec, "ipv6.src"), col(rec, "ipv6.dst")
			length = num(col(rec, "ipv6.plen")) + 40
			if length == 40 {
				length = 0
			}
			if id := col(rec, "ipv6.fraghdr.ident"); id != "" {
				fragKey = src + dst + id
				later = num(col(rec, "ipv6.fraghdr.offset")) > 0
				first = !later && col(rec, "ipv6.fraghdr.more") == "1"
			}
		} else {
			src, dst = col(rec, "ip.src"), col(rec, "ip.dst")
			length = num(col(rec, "ip.len"))
			if length < num(col(rec, "ip.hdr_len")) {
				length = 0
			}
			off := num(col(rec, "ip.frag_offset"))
			if mf := col(rec, "ip.flags.mf"); off > 0 || mf == "1" || mf == "True" {
				fragKey = src + dst + col(rec, "ip.id")
				later, first = off > 0, off == 0
			}
		}
		var sp, dp int64
		class := "other"
		payload, payloadOK := int64(0), false
		switch {
		case later:
			next = ""
		case next == "tcp" && col(rec, "tcp.srcport") != "":
			sp, dp, class = num(col(rec, "tcp.srcport")), num(col(rec, "tcp.dstport")), "tcp"
			payload, payloadOK = num(col(rec, "tcp.len")), true
			if !v6 && length > 0 {
				// tshark bounds tcp.len by the frame; the contract takes
				// the header lengths alone.
				hl := max(num(col(rec, "tcp.hdr_len")), 20)
				payload = max(length-num(col(rec, "ip.hdr_len"))-hl, 0)
			}
		case next == "udp" && col(rec, "udp.srcport") != "":
			sp, dp, class = num(col(rec, "udp.srcport")), num(col(rec, "udp.dstport")), "udp"
			payload, payloadOK = num(col(rec, "udp.length"))-8, !first
		case next == "sctp" && col(rec, "sctp.srcport") != "":
			sp, dp, class = num(col(rec, "sctp.srcport")), num(col(rec, "sctp.dstport")), "sctp"
		}
		// tshark reads ports from a header cut short by the IP length; the
		// contract gives such a packet ports 0 (flow-meta.md §1).
		if minHdr := map[string]int64{"tcp": 20, "udp": 8, "sctp": 12}[class]; !v6 && length > 0 && !later && length-num(col(rec, "ip.hdr_len")) < minHdr {
			sp, dp, payloadOK = 0, 0, false
		}
		if later {
			// A later fragment has no transport header: it takes the ports
			// (and protocol) of its datagram's first fragment, or port 0.
			if d, ok := frags[fragKey]; ok {
				sp, dp, class = d.sp, d.dp, d.class
			} else {
				class = protoClass(num(col(rec, "ip.proto")))
			}
		}
		if first && class != "other" {
			frags[fragKey] = datagram{sp, dp, class}
		}
		k := aggKey(src, sp, dst, dp, class)
		a := flows[k]
		if a == nil {
			a = &agg{payloadOK: true}
			flows[k] = a
		}
		// tshark prints the epoch time with nanosecond digits; parsing
		// the decimal text rounds once, as jj's conversion must.
		ts, _ := strconv.ParseFloat(col(rec, "frame.time_epoch"), 64)
		if ts == 0 {
			a.noTime = true
		}
		if a.packets == 0 || ts < a.first {
			a.first = ts
		}
		a.last = max(a.last, ts)
		a.packets++
		a.bytes += length
		if length == 0 {
			a.noBytes = true
		}
		a.payload += payload
		a.payloadOK = a.payloadOK && payloadOK
	}
	return flows, used, nil
}
