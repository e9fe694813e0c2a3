// Package live captures packets from a network interface: the live
// counterpart of package capture's file readers, at the same first stage
// of jj's pipeline (capture → decode → flow → extract → output). A *Reader
// implements capture.Reader, so jj.Pipeline.RunReader turns a live
// interface into flows exactly as it does a file.
//
// On Linux it reads an AF_PACKET socket through a TPACKET_V3 ring mapped
// into memory (ring_linux.go, pure Go: no cgo, no libpcap), with kernel
// timestamps in nanoseconds; VLAN tags the kernel took out are put back
// in place, as libpcap does. A filter expression is compiled by package
// filter and attached to the socket (SO_ATTACH_FILTER), so the kernel
// drops what does not match before it reaches the ring (on Any, rewritten
// as libpcap does for its any device); with vlan, or where the kernel
// cannot run it, it runs in user space instead. Other systems get
// ErrUnsupported.
//
// An interface that goes down and comes up again does not end the
// capture; one that is deleted does, once every packet the kernel handed
// over has been read.
//
// Stopping loses nothing that arrived before the stop: when the context is
// done or the duration has elapsed, Next keeps returning the packets
// already in the ring (those with a kernel timestamp up to the stop) and
// only then returns io.EOF. Packets the kernel dropped because the ring
// was full are counted and reported by Warnings (Notes gives the
// counters when none was).
package live

import (
	"errors"
	"io"
	"math"
	"time"
)

// Any names the pseudo-interface that captures every interface (Linux),
// as libpcap's "any" device: packets without their link header, behind a
// Linux cooked v2 header (capture.LinkSLL2) that names the interface, the
// protocol and the direction; loopback's outgoing copies are left out, no
// interface is put in promiscuous mode, and the kernel runs a filter
// rewritten for packets without the cooked header, as libpcap does (one
// that reads other bytes of the header runs in user space).
const Any = "any"

// ErrUnsupported is returned by Open on systems without live capture.
var ErrUnsupported = errors.New("live capture is only supported on Linux")

// Options configure a capture. The zero value captures everything until
// the context given to Open is done.
type Options struct {
	// Filter is a tcpdump filter expression; empty keeps every packet.
	Filter string
	// Duration stops the capture this long after Open; 0 means no limit.
	Duration time.Duration
	// Save, when not nil, receives every packet returned by Next as a
	// nanosecond pcap file. Open writes its header; Close flushes it.
	Save io.Writer
	// NoPromiscuous leaves the interface out of promiscuous mode (tcpdump's
	// -p): only traffic to and from the host is seen.
	NoPromiscuous bool
	// RingBytes is the size of the ring shared with the kernel, rounded
	// up to whole MiB, at least 4 MiB and at most MaxRingBytes; 0 means
	// DefaultRingBytes. Packets that arrive while it is full are dropped
	// by the kernel and counted.
	RingBytes int
	// Poll is how long Next waits for a packet before it returns
	// capture.ErrNoPacket; 0 means DefaultPoll.
	Poll time.Duration
}

// Defaults of Options.
const (
	DefaultRingBytes = 32 << 20
	DefaultPoll      = 100 * time.Millisecond
)

// MaxRingBytes bounds Options.RingBytes: 64 GiB (65 536 blocks of 1 MiB,
// as many as the kernel's block counter, 16 bits, tells apart), less on
// 32-bit systems.
const MaxRingBytes = min(64<<30, math.MaxInt>>1)

// Stats are the counters of a capture.
type Stats struct {
	// Packets counts the packets returned by Next.
	Packets uint64
	// KernelPackets counts the packets that passed the kernel filter, and
	// KernelDrops those of them the kernel dropped because the ring was
	// full (PACKET_STATISTICS).
	KernelPackets, KernelDrops uint64
	// Filtered counts packets that the filter removed in user space, where
	// it runs when the kernel cannot run it (vlan: the kernel takes VLAN
	// tags out before its filter runs; on Any, a program that reads bytes
	// of the cooked header the kernel does not have).
	Filtered uint64
}
