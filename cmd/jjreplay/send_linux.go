package main

import (
	"errors"
	"fmt"
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is how many packets one sendmmsg call sends.
const batch = 64

// mmsghdr is struct mmsghdr of <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// send sends pkts out of iface, round and round, for dur, at pps packets
// a second (0: as fast as it can).
func send(ifi *net.Interface, pkts [][]byte, dur time.Duration, pps float64) (stats, error) {
	var st stats
	iface := ifi.Name
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return st, fmt.Errorf("open a packet socket: %w (jjreplay needs root or CAP_NET_RAW)", err)
	}
	defer unix.Close(fd)
	// Bypass the queueing discipline, as pktgen does: a full queue then
	// refuses the send instead of the qdisc dropping it unseen.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		return st, fmt.Errorf("bind to %s: %w", iface, err)
	}

	iovs := make([]unix.Iovec, batch)
	msgs := make([]mmsghdr, batch)
	for i := range msgs {
		msgs[i].hdr.Iov = &iovs[i]
		msgs[i].hdr.SetIovlen(1)
	}
	start := time.Now()
	end := start.Add(dur)
	next := 0
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if pps > 0 {
			// Hold to the rate: wait until the packets sent so far are due.
			due := start.Add(time.Duration(float64(st.packets) / pps * float64(time.Second)))
			if d := due.Sub(now); d > 0 {
				time.Sleep(d)
			}
		}
		var bytes [batch]int
		for i := range batch {
			p := pkts[next]
			next = (next + 1) % len(pkts)
			iovs[i].Base = &p[0]
			iovs[i].SetLen(len(p))
			bytes[i] = len(p)
		}
		sent, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), batch, 0, 0, 0)
		if errno != 0 {
			if errors.Is(errno, unix.ENOBUFS) || errors.Is(errno, unix.EAGAIN) {
				st.refused += batch
				continue
			}
			return st, fmt.Errorf("send on %s: %w", iface, errno)
		}
		for i := range int(sent) {
			st.bytes += uint64(bytes[i])
		}
		st.packets += uint64(sent)
		st.refused += uint64(batch - int(sent))
	}
	st.elapsed = time.Since(start)
	return st, nil
}
