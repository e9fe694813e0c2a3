package main

import (
	"strings"
	"testing"
)

// Counts from Wireshark's tools: capinfos counts 43 Ethernet packets in
// the capture, tshark 20 of them longer than 100 bytes (-Y 'frame.cap_len
// > 100'); its first three are 62, 62 and 54 bytes long.
func TestLoad(t *testing.T) {
	const http = "../../testdata/captures/wireshark__http.cap"
	pkts, long, err := load(http, 1000, 1514)
	if err != nil || len(pkts) != 43 || long != 0 {
		t.Fatalf("load = %d packets, %d long, %v; want 43, 0", len(pkts), long, err)
	}
	if len(pkts[0]) != 62 || len(pkts[1]) != 62 || len(pkts[2]) != 54 {
		t.Errorf("first lengths %d %d %d, want 62 62 54", len(pkts[0]), len(pkts[1]), len(pkts[2]))
	}
	if pkts, long, err = load(http, 1000, 100); err != nil || len(pkts) != 23 || long != 20 {
		t.Errorf("load up to 100 bytes = %d packets, %d long, %v; want 23, 20", len(pkts), long, err)
	}
	if pkts, _, err = load(http, 10, 1514); err != nil || len(pkts) != 10 {
		t.Errorf("load of 10 = %d packets, %v", len(pkts), err)
	}
	// Raw IPv4 records are not Ethernet frames.
	if _, _, err = load("../../testdata/captures/tcpdump__LINKTYPE_IPV4.pcap", 1000, 1514); err == nil || !strings.Contains(err.Error(), "no Ethernet packets") {
		t.Errorf("load of raw IPv4 = %v, want no Ethernet packets", err)
	}
	if _, _, err = load("no-such.pcap", 1000, 1514); err == nil {
		t.Error("load of a missing file: no error")
	}
}
