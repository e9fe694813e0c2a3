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

// mmsghdr is struct mmsghdr of <sys/socket.h> (Go pads it as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
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
	// refused counts a packet the kernel had no room for, and waits a
	// little before the next try.
	refused := func() {
		st.refused++
		time.Sleep(10 * time.Microsecond)
	}
	start := time.Now()
	end := start.Add(dur)
	next := 0 // the next packet to send
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if pps > 0 {
			// Hold to the rate: wait until the packets sent so far are due.
			due := start.Add(time.Duration(float64(st.packets+st.refused) / pps * float64(time.Second)))
			if d := due.Sub(now); d > 0 {
				time.Sleep(d)
			}
		}
		for i := range batch {
			p := pkts[(next+i)%len(pkts)]
			iovs[i].Base = &p[0]
			iovs[i].SetLen(len(p))
		}
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), batch, 0, 0, 0)
		sent := int(r)
		if errno != 0 {
			sent = 0
		}
		for i := range sent {
			st.bytes += uint64(len(pkts[(next+i)%len(pkts)]))
		}
		st.packets += uint64(sent)
		next = (next + sent) % len(pkts)
		if sent == batch {
			continue
		}
		// The packet at next failed (sendmmsg reports the error of a
		// message after the first only as a short count): send it alone
		// to learn why.
		p := pkts[next]
		_, err := unix.Write(fd, p)
		switch {
		case err == nil:
			st.packets++
			st.bytes += uint64(len(p))
		case errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN):
			refused()
		default:
			return st, fmt.Errorf("send a packet of %d bytes on %s: %w", len(p), iface, err)
		}
		next = (next + 1) % len(pkts)
	}
	st.elapsed = time.Since(start)
	return st, nil
}
