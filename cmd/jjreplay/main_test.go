package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Counts from Wireshark's tools: capinfos counts 43 Ethernet packets in
// the capture, tshark 20 of them longer than 100 bytes (-Y 'frame.cap_len
// > 100'); its first three are 62, 62 and 54 bytes long.
func TestLoad(t *testing.T) {
	const http = "../../testdata/captures/wireshark__http.cap"
	pkts, long, err := load(http, 1000, 1500)
	if err != nil || len(pkts) != 43 || long != 0 {
		t.Fatalf("load = %d packets, %d long, %v; want 43, 0", len(pkts), long, err)
	}
	if len(pkts[0]) != 62 || len(pkts[1]) != 62 || len(pkts[2]) != 54 {
		t.Errorf("first lengths %d %d %d, want 62 62 54", len(pkts[0]), len(pkts[1]), len(pkts[2]))
	}
	if pkts, long, err = load(http, 1000, 86); err != nil || len(pkts) != 23 || long != 20 {
		t.Errorf("load up to 100 bytes = %d packets, %d long, %v; want 23, 20", len(pkts), long, err)
	}
	if pkts, _, err = load(http, 10, 1500); err != nil || len(pkts) != 10 {
		t.Errorf("load of 10 = %d packets, %v", len(pkts), err)
	}
	// Raw IPv4 records are not Ethernet frames.
	if _, _, err = load("../../testdata/captures/tcpdump__LINKTYPE_IPV4.pcap", 1000, 1500); err == nil || !strings.Contains(err.Error(), "no Ethernet packets") {
		t.Errorf("load of raw IPv4 = %v, want no Ethernet packets", err)
	}
	if _, _, err = load("no-such.pcap", 1000, 1500); err == nil {
		t.Error("load of a missing file: no error")
	}
}

// The kernel sends MTU + 14 bytes, and 4 more when the frame is 802.1Q
// tagged (packet_snd): load leaves out what it would refuse.
func TestLoadTagged(t *testing.T) {
	frame := func(n int, etherType uint16) []byte {
		b := make([]byte, n)
		binary.BigEndian.PutUint16(b[12:], etherType)
		return b
	}
	frames := [][]byte{
		frame(1514, 0x0800), frame(1515, 0x0800), // untagged: MTU + 14
		frame(1518, 0x8100), frame(1519, 0x8100), // 802.1Q: 4 more
		frame(1515, 0x88a8), // 802.1ad: none
	}
	// A pcap file: its header, then each frame as a record.
	pcap := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	pcap = binary.LittleEndian.AppendUint16(pcap, 2)
	pcap = binary.LittleEndian.AppendUint16(pcap, 4)
	pcap = append(pcap, make([]byte, 8)...)
	pcap = binary.LittleEndian.AppendUint32(pcap, 65535)
	pcap = binary.LittleEndian.AppendUint32(pcap, 1) // Ethernet
	for _, f := range frames {
		pcap = append(pcap, make([]byte, 8)...)
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(f)))
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(f)))
		pcap = append(pcap, f...)
	}
	path := filepath.Join(t.TempDir(), "tagged.pcap")
	if err := os.WriteFile(path, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	pkts, long, err := load(path, 100, 1500)
	if err != nil || long != 3 || len(pkts) != 2 || len(pkts[0]) != 1514 || len(pkts[1]) != 1518 {
		t.Errorf("load = %d packets, %d long, %v; want the 1514-byte and the tagged 1518-byte ones, 3 long", len(pkts), long, err)
	}
}
