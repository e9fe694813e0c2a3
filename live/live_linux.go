//go:build linux

package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/filter"
)

// Ring geometry. TPACKET_V3 fills whole blocks with packets of any size up
// to a block, so frameSize only sets the ring's frame count; 64 KiB frames
// keep GRO/TSO super-packets whole.
const (
	frameSize  = 1 << 16
	blockSize  = 1 << 20
	minBlocks  = 4
	snapLen    = blockSize // the longest packet a block can hold
	blockRetry = 50 * time.Millisecond
	// drainLimit bounds the drain after a stop, on a link so busy that the
	// ring never empties.
	drainLimit = time.Second
)

// Reader is a live capture on one interface. Next, Warnings, Stats and
// Close must be called from one goroutine.
type Reader struct {
	// last is the counters' line Warnings read, for Notes.
	last struct {
		line           string
		problem, taken bool
	}
	name      string
	ring      *ring
	ringBytes int
	poll      time.Duration // how long Next waits for a block
	lt        capture.LinkType
	user      *filter.Matcher // filter run in user space, or nil
	all       bool            // user filters: the kernel cannot run the filter (vlan; errUserSpace)
	save      *pcapWriter
	buf       *bufio.Writer

	stop     atomic.Bool
	quit     chan struct{}
	wg       sync.WaitGroup
	stopping bool
	stopAt   int64     // packets stamped after this are not returned
	drainEnd time.Time // wall-clock end of the drain
	done     bool

	stats    Stats
	statsErr error
	closed   bool
}

// CheckFilter returns a *filter.Error if expr is invalid or cannot apply
// to the link type of the interface named iface (filter.Check), as Open
// would; nil if the interface does not exist (Open says so).
func CheckFilter(iface, expr string) error {
	lt, _, _, _, err := linkOf(iface)
	if err != nil {
		return nil
	}
	return filter.Check(expr, lt)
}

// linkOf returns the link type of the packets of the interface named
// iface, the socket type that gives them, its ARPHRD_ type and its index
// (0 and 0 for Any, which gives packets without their link header behind
// a Linux cooked v2 header, as libpcap's device of that name).
func linkOf(iface string) (lt capture.LinkType, sockType int, hw uint16, index int, err error) {
	if iface == Any {
		return capture.LinkSLL2, unix.SOCK_DGRAM, 0, 0, nil
	}
	if hw, index, err = hardwareType(iface); err != nil {
		return 0, 0, 0, 0, err
	}
	lt, sockType = linkTypeOf(hw)
	return lt, sockType, hw, index, nil
}

// Open starts capturing on the interface named iface. The capture stops
// when ctx is done or opts.Duration has elapsed; Next then drains the
// ring and returns io.EOF. Errors name the interface; a permission error
// means the process lacks CAP_NET_RAW (run as root). An invalid filter,
// or one that cannot apply to the interface's link type (filter.Check), is
// a *filter.Error.
func Open(ctx context.Context, iface string, opts Options) (*Reader, error) {
	anyDev := iface == Any
	lt, sockType, hw, index, err := linkOf(iface)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", iface, err)
	}
	r := &Reader{name: iface, lt: lt, quit: make(chan struct{})}
	if opts.Filter != "" {
		// vlan, ether host, broadcast and multicast on an interface
		// without Ethernet frames would match nothing: refused, as
		// tcpdump refuses them.
		if err := filter.Check(opts.Filter, lt); err != nil {
			return nil, err
		}
		// The kernel's filter would see VLAN-tagged packets without
		// their tag: jj filters those in user space.
		r.all = filter.UsesVLAN(opts.Filter)
	}
	prog, err := kernelProgram(opts.Filter, lt, hw, r.all)
	if err == errUserSpace {
		// The loopback's check of the direction stays in the kernel.
		r.all = true
		prog, err = kernelProgram(opts.Filter, lt, hw, true)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: attach filter: %w", iface, err)
	}
	if r.all {
		if r.user, err = filter.NewMatcher(opts.Filter); err != nil {
			return nil, err
		}
	}
	ring := opts.RingBytes
	if ring <= 0 {
		ring = DefaultRingBytes
	}
	ring = min(ring, MaxRingBytes)
	poll := opts.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	blocks := max(minBlocks, (ring+blockSize-1)/blockSize)
	r.ringBytes = blocks * blockSize
	r.ring, err = openRing(sockType, anyDev, blockSize, blocks, min(blockRetry, poll/2))
	if err != nil {
		switch {
		case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
			return nil, fmt.Errorf("open %s: %w (live capture needs root or CAP_NET_RAW)", iface, err)
		case errors.Is(err, unix.ENOMEM):
			return nil, fmt.Errorf("open %s: %w (a ring of %d MiB: try a smaller --buffer-size)", iface, err, r.ringBytes>>20)
		}
		return nil, fmt.Errorf("open %s: %w", iface, err)
	}
	r.poll = poll
	if prog != nil {
		if err := r.ring.setFilter(prog); err != nil {
			r.ring.close()
			return nil, fmt.Errorf("open %s: attach filter: %w", iface, err)
		}
	}
	if !opts.NoPromiscuous && !anyDev { // as libpcap: no promiscuous mode for "any"
		if err := r.ring.setPromiscuous(index); err != nil {
			r.ring.close()
			return nil, fmt.Errorf("open %s: promiscuous mode: %w", iface, err)
		}
	}
	if opts.Save != nil {
		r.buf = bufio.NewWriterSize(opts.Save, 1<<20)
		if r.save, err = newPcapWriter(r.buf, uint16(lt), snapLen); err != nil {
			r.ring.close()
			return nil, fmt.Errorf("write pcap: %w", err)
		}
	}
	// The filter is in place before the first packet comes.
	if err := r.ring.bind(index); err != nil {
		r.ring.close()
		return nil, fmt.Errorf("open %s: %w", iface, err)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		var timer <-chan time.Time
		if opts.Duration > 0 {
			t := time.NewTimer(opts.Duration)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-timer:
		case <-r.quit:
		}
		r.stop.Store(true)
	}()
	return r, nil
}

// kernelProgram returns the socket filter, or nil for none. On loopback
// every packet passes the tap twice, going out and coming in; like
// libpcap, the program drops the outgoing copy (SKF_AD_PKTTYPE). With
// userOnly the expression is left out (jj runs it in user space); it
// returns errUserSpace when the kernel cannot run the expression: on Any
// it reads bytes of the cooked header the kernel does not have
// (cookedForKernel), or a load's offset falls where the kernel reads
// packet metadata instead (from SKF_LL_OFF, 0xffe00000, up).
func kernelProgram(expr string, lt capture.LinkType, hw uint16, userOnly bool) ([]bpf.RawInstruction, error) {
	var prog []bpf.Instruction
	if hw == unix.ARPHRD_LOOPBACK {
		prog = append(prog,
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
			bpf.RetConstant{Val: 0})
	}
	if expr != "" && !userOnly {
		p, err := filter.Compile(expr, lt)
		if err != nil {
			return nil, err
		}
		if lt == capture.LinkSLL2 {
			var ok bool
			if p, ok = cookedForKernel(p); !ok {
				return nil, errUserSpace
			}
		}
		for _, ins := range p {
			var off uint32
			switch in := ins.(type) {
			case bpf.LoadAbsolute:
				off = in.Off
			case bpf.LoadIndirect:
				off = in.Off
			case bpf.LoadMemShift:
				off = in.Off
			}
			if off >= skfLLOff {
				return nil, errUserSpace
			}
		}
		prog = append(prog, p...)
	} else if prog != nil {
		prog = append(prog, bpf.RetConstant{Val: 0xffffffff})
	}
	if prog == nil {
		return nil, nil
	}
	return bpf.Assemble(prog)
}

// skfLLOff is SKF_LL_OFF as an unsigned offset: the kernel reads loads at
// offsets from it up as loads relative to the link or network header, or
// of packet metadata, not of the packet's bytes.
const skfLLOff = 0xffe00000

// errUserSpace: the kernel cannot run the filter; jj runs it in user
// space.
var errUserSpace = errors.New("the filter runs in user space")

// cookedForKernel rewrites a program compiled for Linux cooked v2 records
// (Any) to run in the kernel, which sees the packets without the cooked
// header, as libpcap does for its any device (fix_offset): loads past the
// header move back by its 20 bytes, and loads of its protocol, interface
// index and packet type become the kernel's ancillary loads of the same.
// ok is false if the program reads anything else of the header. len (and
// less and greater) then count the packet without the header, as tcpdump
// -i any does (but not when jj runs the program in user space).
func cookedForKernel(prog []bpf.Instruction) (out []bpf.Instruction, ok bool) {
	out = make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		switch in := ins.(type) {
		case bpf.LoadAbsolute:
			switch {
			case in.Off >= sll2Len:
				in.Off -= sll2Len
				ins = in
			case in.Off == 0 && in.Size == 2:
				ins = bpf.LoadExtension{Num: bpf.ExtProto}
			case in.Off == 4 && in.Size == 4:
				ins = bpf.LoadExtension{Num: bpf.ExtInterfaceIndex}
			case in.Off == 10 && in.Size == 1:
				ins = bpf.LoadExtension{Num: bpf.ExtType}
			default:
				return nil, false
			}
		case bpf.LoadIndirect:
			if in.Off < sll2Len {
				return nil, false
			}
			in.Off -= sll2Len
			ins = in
		case bpf.LoadMemShift:
			if in.Off < sll2Len {
				return nil, false
			}
			in.Off -= sll2Len
			ins = in
		}
		out[i] = ins
	}
	return out, true
}

// hardwareType returns the interface's ARPHRD_ type and index.
func hardwareType(iface string) (hw uint16, index int, err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return 0, 0, errors.New("no such interface (jj live --list shows them)")
		}
		return 0, 0, err
	}
	hw = ifr.Uint16()
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, 0, err
	}
	return hw, int(ifr.Uint32()), nil
}

// linkTypeOf maps an ARPHRD_ type to the link type of the packets and the
// socket type that gives them. Ethernet-like devices (loopback included)
// are read raw; anything else through a SOCK_DGRAM socket, which strips
// the link header, as raw IP (non-IP frames then fail to decode and are
// counted as skipped).
func linkTypeOf(hw uint16) (capture.LinkType, int) {
	switch hw {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return capture.LinkEthernet, unix.SOCK_RAW
	}
	return capture.LinkRaw, unix.SOCK_DGRAM
}

// RingBytes returns the size of the ring shared with the kernel.
func (r *Reader) RingBytes() int { return r.ringBytes }

// LinkType returns the link type of the records.
func (r *Reader) LinkType() capture.LinkType { return r.lt }

// Next fills rec with the next packet. Its Data points into the ring and
// is valid until the next call. Next returns capture.ErrNoPacket when no
// packet came within the poll interval, and io.EOF once the capture has
// stopped and the ring holds no packet from before the stop.
func (r *Reader) Next(rec *capture.Record) error {
	if r.closed {
		return io.EOF
	}
	var first int64 = -1 // kernel time of the first packet filtered out in this call
	for {
		if r.done {
			return io.EOF
		}
		if !r.stopping && r.stop.Load() {
			r.stopping = true
			r.stopAt = time.Now().UnixNano()
			r.drainEnd = time.Now().Add(drainLimit)
		}
		data, ts, wireLen, err := r.ring.next(r.poll)
		if err != nil {
			if err == errPollTimeout {
				if r.stopping {
					// The poll outlasts the block timeout, so every packet
					// from before the stop has been seen.
					return r.finish()
				}
				return capture.ErrNoPacket
			}
			return &capture.FileError{Name: r.name, Offset: -1, Err: err}
		}
		if r.stopping && (ts > r.stopAt || time.Now().After(r.drainEnd)) {
			return r.finish()
		}
		if r.all && !r.user.Match(r.lt, data) {
			r.stats.Filtered++
			// While only packets that do not match come, return as when
			// none comes, once a poll interval of them has passed, so that
			// flows still end on the wall clock.
			if first < 0 {
				first = ts
			} else if ts-first >= int64(r.poll) {
				return capture.ErrNoPacket
			}
			continue
		}
		r.stats.Packets++
		rec.Timestamp = ts
		rec.Data = data
		rec.WireLen = uint32(max(wireLen, len(data)))
		rec.LinkType = r.lt
		rec.Interface = 0
		if r.save != nil {
			if err := r.save.write(ts, data, rec.WireLen); err != nil {
				return fmt.Errorf("write pcap: %w", err)
			}
		}
		return nil
	}
}

// finish ends the capture: no more packets, the counters read.
func (r *Reader) finish() error {
	r.done = true
	r.readStats()
	return io.EOF
}

func (r *Reader) readStats() {
	if r.closed {
		return
	}
	packets, drops, err := r.ring.counters()
	if err != nil {
		r.statsErr = err
		return
	}
	// PACKET_STATISTICS counts in tp_packets every packet that passed the
	// filter, the dropped ones included.
	r.stats.KernelPackets = packets
	r.stats.KernelDrops = drops
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats {
	r.readStats()
	return r.stats
}

// Live reports true: the records are stamped as they arrive
// (capture.Live).
func (r *Reader) Live() bool { return true }

// Warnings returns the kernel's counters when it dropped packets because
// the ring was full, or says that they could not be read; Notes returns
// them otherwise. Notes called after Warnings goes by the same reading of
// the counters, so that the line is in one or the other.
func (r *Reader) Warnings() []string {
	r.last.line, r.last.problem = r.counters()
	r.last.taken = true
	if r.last.problem {
		return []string{r.last.line}
	}
	return nil
}

// Notes returns one line with the kernel's counters, how many packets
// passed the filter and that none was dropped, when Warnings does not.
func (r *Reader) Notes() []string {
	line, problem := r.last.line, r.last.problem
	if !r.last.taken {
		line, problem = r.counters()
	}
	r.last.taken = false
	if problem {
		return nil
	}
	return []string{line}
}

// counters is the line of the kernel's counters, and whether it tells of
// a problem: packets dropped, or counters that could not be read.
func (r *Reader) counters() (line string, problem bool) {
	if !r.done {
		r.readStats()
	}
	if r.statsErr != nil {
		return fmt.Sprintf("live %s: kernel statistics unavailable: %v", r.name, r.statsErr), true
	}
	s := r.stats
	line = fmt.Sprintf("live %s: %d packets captured, %d received by filter, %d dropped by kernel", r.name, s.Packets, s.KernelPackets, s.KernelDrops)
	if s.Filtered > 0 {
		line += fmt.Sprintf(", %d filtered in user space", s.Filtered)
	}
	if s.KernelDrops > 0 {
		line += fmt.Sprintf(" (the ring of %d MiB was full: a larger --buffer-size absorbs longer bursts)", r.ringBytes>>20)
	}
	return line, s.KernelDrops > 0
}

// Close stops the capture, releases the socket and flushes the saved
// pcap. It returns the pcap's write error, if any.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	if !r.done {
		r.readStats()
	}
	r.closed = true
	close(r.quit)
	r.wg.Wait()
	r.ring.close()
	if r.buf != nil {
		if err := r.buf.Flush(); err != nil {
			return fmt.Errorf("write pcap: %w", err)
		}
	}
	return nil
}
