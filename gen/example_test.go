package gen_test

import (
	"fmt"
	"io"
	"time"

	"github.com/jjflow/jj/gen"
)

// Write a small capture and report what it holds.
func ExampleWrite() {
	cfg := gen.DefaultConfig()
	cfg.Packets = 10_000
	cfg.ConcurrentFlows = 100
	st, err := gen.Write(io.Discard, cfg, gen.FormatPcapNG)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d packets, %d flows, at most %d at once\n", st.Packets, st.Flows, st.MaxConcurrent)
	// Output: 10000 packets, 726 flows, at most 100 at once
}

// Read packets from memory, without a file: the first TCP connection's
// handshake opens the capture.
func ExampleGenerator() {
	cfg := gen.DefaultConfig()
	cfg.Packets = 3
	cfg.ConcurrentFlows = 1
	cfg.IPv6Fraction = 0
	cfg.TCPFraction, cfg.UDPFraction, cfg.ICMPFraction = 1, 0, 0
	g, err := gen.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		ts, frame, ok := g.Next()
		if !ok {
			break
		}
		fmt.Printf("+%v %d bytes, TCP flags %#02x\n", time.Duration(ts-cfg.Start.UnixNano()), len(frame), frame[14+20+13])
	}
	// Output:
	// +0s 66 bytes, TCP flags 0x02
	// +9.101µs 66 bytes, TCP flags 0x12
	// +30.828µs 54 bytes, TCP flags 0x10
}
