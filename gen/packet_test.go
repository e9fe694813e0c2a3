package gen

import (
	"bytes"
	"testing"
)

// TestPutIPv4 rebuilds the IPv4 header of Wikipedia's "IPv4 header
// checksum" example, checksum 0xb861.
func TestPutIPv4(t *testing.T) {
	want := []byte{
		0x45, 0x00, 0x00, 0x73, // version 4, IHL 5, TOS 0, total length 115
		0x00, 0x00, 0x40, 0x00, // ID 0, DF
		0x40, 0x11, 0xb8, 0x61, // TTL 64, UDP, checksum
		0xc0, 0xa8, 0x00, 0x01, // 192.168.0.1
		0xc0, 0xa8, 0x00, 0xc7, // 192.168.0.199
	}
	got := make([]byte, 20)
	for i := range got {
		got[i] = 0xee // stale bytes must not leak into the checksum
	}
	psum := putIPv4(got, 115-20, 0, true, 64, protoUDP, 0xc0a80001, 0xc0a800c7)
	if !bytes.Equal(got, want) {
		t.Errorf("putIPv4() = % x, want % x", got, want)
	}
	// Pseudo-header: addresses, protocol, transport length.
	if wantSum := uint64(0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 95); psum != wantSum {
		t.Errorf("pseudo-header sum = %#x, want %#x", psum, wantSum)
	}
}

// TestChecksum uses the RFC 1071 section 3 example: the words 0001 f203
// f4f5 f6f7 sum to 0xddf2 once folded.
func TestChecksum(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got, want := checksum(sumBytes(b)), ^uint16(0xddf2); got != want {
		t.Errorf("checksum(% x) = %#x, want %#x", b, got, want)
	}
	if got, want := checksum(sumBytes(b[:6])), ^uint16(0x0001+0xf203+0xf4f5-0x10000+1); got != want {
		t.Errorf("checksum(% x) = %#x, want %#x", b[:6], got, want)
	}
}

func TestPutIPv6(t *testing.T) {
	want := []byte{
		0x60, 0x01, 0x23, 0x45, // version 6, traffic class 0, flow label 0x12345
		0x00, 0x20, 0x06, 0x40, // payload length 32, TCP, hop limit 64
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0x05, // 2001:db8:0:c::5
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8:0:5::1
	}
	got := make([]byte, 40)
	psum := putIPv6(got, 32, 0x12345, 64, protoTCP, clientAddr(4), serverAddr(0))
	if !bytes.Equal(got, want) {
		t.Errorf("putIPv6() =\n% x\nwant\n% x", got, want)
	}
	if wantSum := uint64(2*(0x2001+0x0db8+0x000c)) - 0xc + 0x5 + 5 + 1 + 6 + 32; psum != wantSum {
		t.Errorf("pseudo-header sum = %#x, want %#x", psum, wantSum)
	}
}
