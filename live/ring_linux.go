package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/jjflow/jj/internal/prefetch"
)

// ring is an AF_PACKET socket with a TPACKET_V3 receive ring mapped into
// memory: the kernel fills blocks of packets, and the reader walks each
// block in place and hands it back.
//
// It replaces gopacket's afpacket reader on the hot path, which allocates
// a copy of every VLAN-tagged packet (to put back the tag the kernel took
// out) plus its CaptureInfo's ancillary data: on a link where a third of
// the packets are tagged, about 40 % of jj live's time went there and
// into the garbage collector (bench/RESULTS.md, session 19). Like libpcap, the
// ring reserves room before each packet (PACKET_RESERVE) and puts the tag
// back in place, moving only the two MAC addresses.
type ring struct {
	fd        int
	mem       []byte
	blockSize int
	blocks    int
	link      bool               // packets start with their link header (SOCK_RAW), where a tag goes back
	cooked    bool               // every interface: packets get a Linux cooked v2 header
	lo        int                // cooked: the loopback interface, whose outgoing copies are left out
	cur       int                // block being read, or waited for
	blk       *unix.TpacketHdrV1 // the current block's header, while it is the reader's
	pkt       *unix.Tpacket3Hdr  // the packet last returned
	left      uint32             // packets of blk not yet returned
	packets   uint64             // the kernel's counters read so far
	drops     uint64             // (reading them resets the kernel's)
	down      error              // the interface went down: reported once the ring is drained, if it is gone
	ifindex   int                // bound to; 0: every interface
}

const (
	// vlanLen is the length of an 802.1Q tag.
	vlanLen = 4
	// hdrLen is the length of the kernel's headers before a packet: its
	// tpacket3_hdr, aligned, and a sockaddr_ll. The tag goes back only
	// where the packet starts further in than these and the tag (the room
	// PACKET_RESERVE asks for).
	hdrLen = sllOff + unix.SizeofSockaddrLinklayer
	// sllOff is where the packet's sockaddr_ll is, after its aligned
	// tpacket3_hdr.
	sllOff = (unix.SizeofTpacket3Hdr + 15) &^ 15
	// sll2Len is the length of a Linux cooked v2 header.
	sll2Len = 20
	// blockHdr is where a block's header starts in its block descriptor
	// (after its version and the offset to its private data).
	blockHdr = unsafe.Offsetof(unix.TpacketBlockDesc{}.Hdr)
)

// errPollTimeout: no packet within the poll timeout.
var errPollTimeout = errors.New("no packet within the poll timeout")

// openRing opens a packet socket of sockType (SOCK_RAW or SOCK_DGRAM)
// with a ring of blocks blocks of blockSize bytes that the kernel hands
// over at the latest retire after the first packet entered it. The socket
// receives nothing until bind: the caller attaches its filter first.
// cooked (with SOCK_DGRAM) puts a Linux cooked v2 header before each
// packet, as for the "any" device.
func openRing(sockType int, cooked bool, blockSize, blocks int, retire time.Duration) (*ring, error) {
	fd, err := unix.Socket(unix.AF_PACKET, sockType|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	r := &ring{fd: fd, blockSize: blockSize, blocks: blocks, link: sockType == unix.SOCK_RAW, cooked: cooked}
	reserve := vlanLen
	if cooked {
		reserve = sll2Len
		if _, lo, err := hardwareType("lo"); err == nil {
			r.lo = lo
		}
	}
	fail := func(what string, err error) (*ring, error) {
		r.close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, reserve); err != nil {
		return fail("PACKET_RESERVE", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(blockSize),
		Block_nr:       uint32(blocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(blockSize / frameSize * blocks),
		Retire_blk_tov: uint32(max(1, retire.Milliseconds())),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("PACKET_RX_RING", err)
	}
	if r.mem, err = unix.Mmap(fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return fail("map the ring", err)
	}
	return r, nil
}

// errDown: the interface is down.
var errDown = errors.New("the interface is down")

// bind starts the capture on the interface ifindex: every protocol.
func (r *ring) bind(ifindex int) error {
	if err := unix.Bind(r.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	r.ifindex = ifindex
	// Binding to an interface that is down leaves ENETDOWN pending.
	if e, _ := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR); e != 0 {
		if unix.Errno(e) == unix.ENETDOWN {
			return errDown
		}
		return fmt.Errorf("bind: %w", unix.Errno(e))
	}
	return nil
}

// htons returns v in network byte order, as sockaddr_ll wants it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// block returns the header of block i.
func (r *ring) block(i int) *unix.TpacketHdrV1 {
	return (*unix.TpacketHdrV1)(unsafe.Pointer(&r.mem[i*r.blockSize+int(blockHdr)]))
}

// next returns the next packet: its bytes (valid until the next call; with
// a VLAN tag the kernel took out put back, or, cooked, behind a Linux
// cooked v2 header), its kernel timestamp in nanoseconds and its length
// on the wire. It waits up to poll for a block, and returns errPollTimeout
// if none came.
func (r *ring) next(poll time.Duration) (data []byte, ts int64, wireLen int, err error) {
	for {
		if err := r.advance(poll); err != nil {
			return nil, 0, 0, err
		}
		p := r.pkt
		base := unsafe.Pointer(p)
		if r.left > 0 {
			// The kernel wrote the block on another core: ask for the next
			// packet's header and the frame headers decoding reads (from
			// about 90 bytes in) while this one is decoded.
			n := unsafe.Add(base, p.Next_offset)
			prefetch.Lines3(n, unsafe.Add(n, 64), unsafe.Add(n, 128))
		}
		wireLen = int(p.Len)
		ts = int64(p.Sec)*1e9 + int64(p.Nsec)
		if r.cooked {
			if p.Mac < hdrLen+sll2Len {
				// Cannot happen with the room reserved (libpcap fails too).
				return nil, 0, 0, errors.New("cooked packet without room for its header")
			}
			sll := (*unix.RawSockaddrLinklayer)(unsafe.Add(base, sllOff))
			if sll.Pkttype == unix.PACKET_OUTGOING && (r.lo > 0 && int(sll.Ifindex) == r.lo || sll.Hatype == unix.ARPHRD_CAN) {
				// As libpcap: loopback, and CAN, also receive what they
				// send.
				continue
			}
			// The Linux cooked v2 header, as libpcap writes it for "any",
			// in the room reserved before the packet.
			data = unsafe.Slice((*byte)(unsafe.Add(base, uintptr(p.Mac)-sll2Len)), int(p.Snaplen)+sll2Len)
			proto := (*[2]byte)(unsafe.Pointer(&sll.Protocol)) // network order already
			data[0], data[1], data[2], data[3] = proto[0], proto[1], 0, 0
			binary.BigEndian.PutUint32(data[4:], uint32(sll.Ifindex))
			binary.BigEndian.PutUint16(data[8:], sll.Hatype)
			data[10], data[11] = sll.Pkttype, sll.Halen
			// The address's first Halen bytes; the kernel leaves the
			// rest of the 8 as they were in the ring's slot, which made
			// two captures of the same packet differ.
			n := copy(data[12:12+min(int(sll.Halen), 8)], sll.Addr[:])
			clear(data[12+n : 20])
			return data, ts, wireLen + sll2Len, nil
		}
		if r.link && (p.Status&unix.TP_STATUS_VLAN_VALID != 0 || p.Hv1.Vlan_tci != 0) {
			if p.Snaplen >= 12 && p.Mac >= hdrLen+vlanLen {
				// As libpcap does: move the MAC addresses into the reserved
				// room and put the tag behind them.
				data = unsafe.Slice((*byte)(unsafe.Add(base, uintptr(p.Mac)-vlanLen)), int(p.Snaplen)+vlanLen)
				copy(data[:12], data[vlanLen:vlanLen+12])
				tpid := uint16(unix.ETH_P_8021Q)
				if p.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && p.Hv1.Vlan_tpid != 0 {
					tpid = p.Hv1.Vlan_tpid
				}
				tci := uint16(p.Hv1.Vlan_tci)
				data[12], data[13], data[14], data[15] = byte(tpid>>8), byte(tpid), byte(tci>>8), byte(tci)
				return data, ts, wireLen + vlanLen, nil
			}
		}
		return unsafe.Slice((*byte)(unsafe.Add(base, uintptr(p.Mac))), int(p.Snaplen)), ts, wireLen, nil
	}
}

// advance moves r.pkt to the next packet: the next of the current block,
// or the first of the next block that holds any, handing the current one
// back to the kernel.
func (r *ring) advance(poll time.Duration) error {
	for r.left == 0 {
		if r.blk != nil {
			// Hand the block back to the kernel.
			atomic.StoreUint32(&r.blk.Block_status, unix.TP_STATUS_KERNEL)
			r.blk = nil
			r.cur = (r.cur + 1) % r.blocks
			// The kernel's counters are 32 bits and reading resets them:
			// read them with every block, long before they could wrap.
			_, _, _ = r.counters()
		}
		b := r.block(r.cur)
		for atomic.LoadUint32(&b.Block_status)&unix.TP_STATUS_USER == 0 {
			if err := r.wait(poll); err != nil {
				return err
			}
		}
		r.blk, r.left, r.pkt = b, b.Num_pkts, nil
	}
	if r.pkt == nil {
		// The offset counts from the block's start.
		r.pkt = (*unix.Tpacket3Hdr)(unsafe.Add(unsafe.Pointer(r.blk), uintptr(r.blk.Offset_to_first_pkt)-blockHdr))
	} else {
		r.pkt = (*unix.Tpacket3Hdr)(unsafe.Add(unsafe.Pointer(r.pkt), r.pkt.Next_offset))
	}
	r.left--
	return nil
}

// wait polls the socket until a block may be ready, for at most timeout.
// When the interface goes down it keeps waiting: the kernel still hands
// over the block it was filling, at its retire timeout, and once a poll
// finds nothing more the error comes if the interface is gone (deleted),
// while one that is only down may come up again.
func (r *ring) wait(timeout time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms <= 0 {
			if r.down != nil && r.gone() {
				return r.down
			}
			// Down, then up again (a driver reset): the kernel hooks the
			// socket in again, and the capture goes on.
			r.down = nil
			return errPollTimeout
		}
		n, err := unix.Poll(fds, ms)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("poll: %w", err)
		case n == 0:
			continue // the deadline has passed
		case fds[0].Revents&unix.POLLNVAL != 0:
			return errors.New("poll: the socket is closed")
		case fds[0].Revents&unix.POLLERR != 0:
			// A pending socket error, as when the interface went down:
			// reading it clears it.
			e, err := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case err != nil:
				return fmt.Errorf("poll: %w", err)
			case e == 0:
				continue
			case unix.Errno(e) == unix.ENETDOWN:
				r.down = fmt.Errorf("poll: %w", unix.Errno(e))
				continue
			}
			return fmt.Errorf("poll: %w", unix.Errno(e))
		}
		return nil
	}
}

// gone reports whether the interface the ring is bound to no longer
// exists. The socket answers for its own network namespace.
func (r *ring) gone() bool {
	if r.ifindex == 0 {
		return false
	}
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return false
	}
	ifr.SetUint32(uint32(r.ifindex))
	return unix.IoctlIfreq(r.fd, unix.SIOCGIFNAME, ifr) == unix.ENODEV
}

// setFilter attaches a classic BPF program to the socket.
func (r *ring) setFilter(prog []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	return unix.SetsockoptSockFprog(r.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

// setPromiscuous puts the interface ifindex in promiscuous mode for as
// long as the socket is open.
func (r *ring) setPromiscuous(ifindex int) error {
	mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	return unix.SetsockoptPacketMreq(r.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq)
}

// counters returns the kernel's counters since the socket opened: packets
// that passed the filter, and those of them dropped for want of room in
// the ring.
func (r *ring) counters() (packets, drops uint64, err error) {
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0, 0, err
	}
	// Reading them resets the kernel's.
	r.packets += uint64(st.Packets)
	r.drops += uint64(st.Drops)
	return r.packets, r.drops, nil
}

// close releases the ring and the socket.
func (r *ring) close() {
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}
