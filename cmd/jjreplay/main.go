// Command jjreplay sends the Ethernet packets of a capture out of a
// network interface, again and again, as fast as it can or at a given
// rate, for jj's live-capture benchmark (bench/live.sh, which sends into
// one end of a veth pair while jj live reads the other). It needs Linux
// and root (or CAP_NET_RAW).
//
//	jjreplay -i veth0 -d 10 -pps 500000 capture.pcap
//
// It loads up to -n packets into memory first, so that reading the
// capture costs nothing while it sends, and sends them with sendmmsg(2),
// 64 at a time, past the interface's queueing discipline
// (PACKET_QDISC_BYPASS). At the end it prints the packets and bytes sent,
// the rate it reached and how many packets the kernel refused for want of
// buffer space (counted, not retried). Packets longer than the interface
// sends are left out, and counted, when loaded.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/jjflow/jj/capture"
)

func main() {
	iface := flag.String("i", "", "interface to send on")
	dur := flag.Float64("d", 10, "seconds to send for")
	pps := flag.Float64("pps", 0, "packets a second; 0 = as fast as possible")
	n := flag.Int("n", 200000, "most packets to load from the capture")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: jjreplay -i IFACE [-d SECONDS] [-pps RATE] [-n PACKETS] CAPTURE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *iface == "" || flag.NArg() != 1 || *dur <= 0 || *pps < 0 || *n <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ifi, err := net.InterfaceByName(*iface)
	if err != nil {
		fmt.Fprintln(os.Stderr, "jjreplay:", err)
		os.Exit(1)
	}
	pkts, long, err := load(flag.Arg(0), *n, ifi.MTU)
	if long > 0 {
		fmt.Fprintf(os.Stderr, "jjreplay: left out %d packets longer than %s's MTU (%d) allows\n", long, *iface, ifi.MTU)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jjreplay:", err)
		os.Exit(1)
	}
	st, err := send(ifi, pkts, time.Duration(*dur*float64(time.Second)), *pps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "jjreplay:", err)
		os.Exit(1)
	}
	secs := st.elapsed.Seconds()
	fmt.Printf("sent %d packets (%d bytes) in %.2f s: %.0f packets/s, %.1f MB/s; %d refused (no buffer space)\n",
		st.packets, st.bytes, secs, float64(st.packets)/secs, float64(st.bytes)/secs/1e6, st.refused)
}

// load returns up to n Ethernet packets of the capture at path, and how
// many it left out for being longer than an interface of MTU mtu sends:
// the MTU, the Ethernet header and, as the kernel allows (packet_snd),
// an 802.1Q tag.
func load(path string, n, mtu int) (pkts [][]byte, long int, err error) {
	r, c, err := capture.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil { // the file shrank under its mapping
			if err = capture.Fault(r, v); err == nil {
				panic(v)
			}
			pkts = nil
		}
	}()
	var rec capture.Record
	for len(pkts) < n {
		err := r.Next(&rec)
		if err == io.EOF || errors.Is(err, capture.ErrTruncated) {
			break
		}
		if err != nil {
			return nil, long, err
		}
		switch {
		case rec.LinkType != capture.LinkEthernet || len(rec.Data) < 14:
		case len(rec.Data) > mtu+14 && (len(rec.Data) > mtu+18 || binary.BigEndian.Uint16(rec.Data[12:]) != 0x8100):
			long++
		default:
			pkts = append(pkts, append([]byte(nil), rec.Data...))
		}
	}
	if len(pkts) == 0 {
		return nil, long, fmt.Errorf("%s: no Ethernet packets to send", path)
	}
	return pkts, long, nil
}

type stats struct {
	packets, bytes, refused uint64
	elapsed                 time.Duration
}
