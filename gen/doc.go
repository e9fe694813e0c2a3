// Package gen generates synthetic packet captures for the benchmarks and
// scale tests of jj's pipeline. It sits outside the pipeline
// (capture → decode → flow → extract → output) and feeds its first stage.
//
// A Generator keeps Config.ConcurrentFlows flows open at once and sends the
// next packet of one of them, picked pseudo-randomly, at each step: TCP
// connections with a three-way handshake, data both ways with exact
// sequence and acknowledgement numbers, and a FIN exchange or a RST; UDP
// request/response pairs (DNS-, QUIC- and NTP-like); ICMP echo pairs; and
// optionally one-packet TCP SYN-flood flows. Flow lengths follow a
// heavy-tailed (shifted Pareto) law with a configurable mean, TCP data
// frames a mixture of ACK-only, mid-size and full-size frames calibrated to
// a configurable mean frame size. Frames are Ethernet II with correct
// lengths and checksums (IPv4 header, TCP, UDP, ICMP, ICMPv6); payload bytes
// are zeros.
//
// Write turns the packets into a pcap or pcapng stream. The trade-off is
// speed over realism of content: headers are written by hand into reused
// buffers and the payload is never touched, so a packet costs tens of
// nanoseconds and no allocation.
//
// The output is a pure function of the Config: the same Config gives the
// same bytes. Two independent pseudo-random streams keep it cheap to
// compute exact statistics. The scheduling stream decides which flow sends
// each packet and how many packets each flow has; the content stream
// decides everything else. New replays the scheduling stream once before
// the first packet (a few nanoseconds per packet) to learn which flows the
// packet budget will cut short, so Stats.MaxConcurrent is the exact peak of
// flows whose first packet has been sent and whose last has not, as seen
// in the capture.
package gen
