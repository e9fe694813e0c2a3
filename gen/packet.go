package gen

import "encoding/binary"

// IP protocol numbers and EtherTypes written by the generator.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58

	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
)

// TCP flag bits.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

// Addresses. The capture point sits between the clients' LAN and the
// gateway: client frames carry the client's MAC, server frames the
// gateway's. SYN-flood frames are seen on the attacked server's segment.
const (
	gatewayMAC = 0x02_00_00_00_00_01
	floodMAC   = 0x02_00_05_00_00_01 // server 0, the flood target
	clientMAC  = 0x02_00_0c_00_00_00 // + client index + 1

	clientV4 = 0x0a_00_00_00 // 10.0.0.0/8
	serverV4 = 0xac_10_00_00 // 172.16.0.0/12
	floodV4  = 0xc6_12_00_00 // 198.18.0.0/15, RFC 2544 benchmarking

	// IPv6 /64 prefixes in 2001:db8::/32 (RFC 3849, documentation).
	clientV6 = 0x2001_0db8_0000_000c
	serverV6 = 0x2001_0db8_0000_0005
	floodV6  = 0x2001_0db8_0000_000f
)

// endpoint holds both addresses of a host; the flow uses one of them.
type endpoint struct {
	v4     uint32
	v6, id uint64 // IPv6 prefix and interface identifier
}

// clientAddr returns the addresses of client c.
func clientAddr(c uint32) endpoint {
	return endpoint{v4: clientV4 + c + 1, v6: clientV6, id: uint64(c) + 1}
}

// serverAddr returns the addresses of server s.
func serverAddr(s uint32) endpoint {
	return endpoint{v4: serverV4 + s + 1, v6: serverV6, id: uint64(s) + 1}
}

// putMAC writes a 48-bit address.
func putMAC(b []byte, mac uint64) {
	binary.BigEndian.PutUint16(b[0:2], uint16(mac>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(mac))
}

// putEth writes an Ethernet II header into b[0:14].
func putEth(b []byte, dst, src uint64, etherType uint16) {
	putMAC(b[0:6], dst)
	putMAC(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:14], etherType)
}

// sum32 adds the two 16-bit halves of x, for checksums.
func sum32(x uint32) uint64 {
	return uint64(x>>16) + uint64(x&0xffff)
}

// sum64 adds the four 16-bit words of x, for checksums.
func sum64(x uint64) uint64 {
	return sum32(uint32(x>>32)) + sum32(uint32(x))
}

// sumBytes adds the 16-bit big-endian words of b, whose length is even.
func sumBytes(b []byte) uint64 {
	var s uint64
	for len(b) >= 4 {
		s += sum32(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
	}
	return s
}

// checksum folds a one's-complement sum (RFC 1071) and complements it.
func checksum(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// putIPv4 writes a 20-byte IPv4 header carrying l4 bytes into b, with its
// checksum, and returns the pseudo-header sum for the transport checksum.
func putIPv4(b []byte, l4 int, id uint16, df bool, ttl, proto uint8, src, dst uint32) uint64 {
	total := uint16(ip4Len + l4)
	var flags uint16
	if df {
		flags = 0x4000
	}
	b[0], b[1] = 0x45, 0
	binary.BigEndian.PutUint16(b[2:4], total)
	binary.BigEndian.PutUint16(b[4:6], id)
	binary.BigEndian.PutUint16(b[6:8], flags)
	b[8], b[9] = ttl, proto
	binary.BigEndian.PutUint32(b[12:16], src)
	binary.BigEndian.PutUint32(b[16:20], dst)
	addrs := sum32(src) + sum32(dst)
	s := 0x4500 + uint64(total) + uint64(id) + uint64(flags) + uint64(ttl)<<8 + uint64(proto) + addrs
	binary.BigEndian.PutUint16(b[10:12], checksum(s))
	return addrs + uint64(proto) + uint64(l4)
}

// putIPv6 writes a 40-byte IPv6 header carrying l4 bytes into b and returns
// the pseudo-header sum (RFC 8200 section 8.1) for the transport checksum.
func putIPv6(b []byte, l4 int, label uint32, hop, next uint8, src, dst endpoint) uint64 {
	binary.BigEndian.PutUint32(b[0:4], 6<<28|label&0xfffff)
	binary.BigEndian.PutUint16(b[4:6], uint16(l4))
	b[6], b[7] = next, hop
	binary.BigEndian.PutUint64(b[8:16], src.v6)
	binary.BigEndian.PutUint64(b[16:24], src.id)
	binary.BigEndian.PutUint64(b[24:32], dst.v6)
	binary.BigEndian.PutUint64(b[32:40], dst.id)
	return sum64(src.v6) + sum64(src.id) + sum64(dst.v6) + sum64(dst.id) + uint64(next) + uint64(l4)
}
