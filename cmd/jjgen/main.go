// Command jjgen writes a synthetic packet capture for jj's benchmarks and
// scale tests: TCP, UDP and ICMP flows, optionally a SYN flood, as pcap or
// pcapng. The same flags always give the same bytes. It turns flags into a
// gen.Config and calls gen.Write; see package gen for the traffic model.
//
//	jjgen -o out.pcap -packets 1000000 -flows 10000 -seed 1 -ipv6 0.2 -format pcap
//
// Given capture files, it tiles them instead (gen.Tile): their Ethernet
// packets, -copies times, each copy -step later than the one before and
// with addresses of its own, for benchmarks on real traffic.
//
//	jjgen -o big.pcap -copies 500 -step 50ms real1.pcap real2.pcapng
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/jjflow/jj/gen"
)

// Exit codes.
const (
	exitOK    = 0
	exitRun   = 1 // the capture could not be written
	exitUsage = 2 // bad flags or an invalid configuration
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the flags that are not part of gen.Config.
type options struct {
	out    string
	format gen.Format
	copies int           // tiling: copies of the input captures
	step   time.Duration // tiling: time between copies
}

// Flags of both kinds of run, and of tiling runs only; the others
// describe synthetic traffic.
var (
	sharedFlags = map[string]bool{"o": true, "format": true, "start": true}
	tileFlags   = map[string]bool{"copies": true, "step": true}
)

// bindFlags defines the flags on fs, writing into cfg and o. Defaults come
// from cfg and o.
func bindFlags(fs *flag.FlagSet, cfg *gen.Config, o *options) {
	fs.StringVar(&o.out, "o", "-", "output `file`; - for standard output")
	fs.TextVar(&o.format, "format", o.format, "capture `format`: pcap (µs), pcap-ns or pcapng (ns)")
	fs.Int64Var(&cfg.Packets, "packets", cfg.Packets, "number of packets, SYN flood included")
	fs.IntVar(&cfg.ConcurrentFlows, "flows", cfg.ConcurrentFlows, "flows open at once")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "pseudo-random seed")
	fs.Float64Var(&cfg.IPv6Fraction, "ipv6", cfg.IPv6Fraction, "share of IPv6 flows, 0 to 1")
	fs.Float64Var(&cfg.TCPFraction, "tcp", cfg.TCPFraction, "weight of TCP flows")
	fs.Float64Var(&cfg.UDPFraction, "udp", cfg.UDPFraction, "weight of UDP flows")
	fs.Float64Var(&cfg.ICMPFraction, "icmp", cfg.ICMPFraction, "weight of ICMP echo flows")
	fs.Float64Var(&cfg.MeanFlowPackets, "mean-flow", cfg.MeanFlowPackets, "mean packets per flow")
	fs.Float64Var(&cfg.FlowLengthTail, "tail", cfg.FlowLengthTail, "Pareto shape of flow lengths, above 1; smaller is heavier")
	fs.Int64Var(&cfg.MaxFlowPackets, "max-flow", cfg.MaxFlowPackets, "longest flow, in packets")
	fs.Float64Var(&cfg.MeanFrameSize, "frame", cfg.MeanFrameSize, "target mean frame size in bytes, 54 to 1514")
	fs.Float64Var(&cfg.RSTFraction, "rst", cfg.RSTFraction, "share of TCP connections ending with a RST")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "client addresses")
	fs.IntVar(&cfg.Servers, "servers", cfg.Servers, "server addresses")
	fs.Float64Var(&cfg.PacketRate, "rate", cfg.PacketRate, "mean packets per second")
	fs.TextVar(&cfg.Start, "start", cfg.Start, "timestamp of the first packet, RFC 3339")
	fs.Int64Var(&cfg.SYNFlood, "flood", cfg.SYNFlood, "SYN-flood packets among -packets, one flow each")
	fs.IntVar(&o.copies, "copies", o.copies, "tiling: copies of the input captures")
	fs.DurationVar(&o.step, "step", o.step, "tiling: time from the start of one copy to the next")
	fs.Func("flood-port", fmt.Sprintf("destination port of the SYN flood (default %d)", cfg.FloodPort), func(s string) error {
		p, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return errors.New("want a port number, 0 to 65535")
		}
		cfg.FloodPort = uint16(p)
		return nil
	})
}

// run is the whole command; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jjgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := gen.DefaultConfig()
	o := options{format: gen.FormatPcap, copies: 1, step: time.Second}
	bindFlags(fs, &cfg, &o)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: jjgen [flags]\n"+
			"       jjgen [-o file] [-format f] [-start t] [-copies n] [-step d] capture...\n\n"+
			"Writes a deterministic synthetic capture; statistics go to standard error.\n"+
			"Given captures, tiles their Ethernet packets instead: -copies copies, each\n"+
			"-step after the one before, its addresses' last 16 bits XORed with its\n"+
			"number and the checksums updated.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExit status: %d success, %d write error, %d usage error.\n", exitOK, exitRun, exitUsage)
	}
	err := fs.Parse(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	tiling := fs.NArg() > 0
	var bad string
	fs.Visit(func(f *flag.Flag) {
		if bad == "" && !sharedFlags[f.Name] && tiling != tileFlags[f.Name] {
			bad = f.Name
		}
	})
	if bad != "" {
		if tiling {
			fmt.Fprintf(stderr, "jjgen: -%s describes synthetic traffic, not a tiling of captures\n", bad)
		} else {
			fmt.Fprintf(stderr, "jjgen: -%s needs capture files to tile\n", bad)
		}
		return exitUsage
	}
	tc := gen.TileConfig{Copies: o.copies, Step: o.step, Start: cfg.Start}
	if tiling {
		err = tc.Validate()
	} else {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "jjgen: %v\n", err)
		return exitUsage
	}

	w, name := stdout, "standard output"
	var file *os.File
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			fmt.Fprintf(stderr, "jjgen: %v\n", err)
			return exitRun
		}
		w, name, file = f, o.out, f
	}
	began := time.Now()
	if tiling {
		st, err := gen.Tile(w, fs.Args(), tc, o.format)
		for _, d := range st.Damaged {
			fmt.Fprintf(stderr, "jjgen: warning: %v (the records before it are used)\n", d)
		}
		if err = closeOut(file, err); err != nil {
			fmt.Fprintf(stderr, "jjgen: %s: %v\n", name, err)
			return exitRun
		}
		fmt.Fprintf(stderr, "jjgen: wrote %s (%s): %d packets, %d frame bytes; read %d records, %d of other link types left out\n",
			name, o.format, st.Packets, st.Bytes, st.Read, st.Skipped)
		fmt.Fprintf(stderr, "jjgen: took %s\n", time.Since(began).Round(time.Millisecond))
		return exitOK
	}
	st, err := gen.Write(w, cfg, o.format)
	if err = closeOut(file, err); err != nil {
		fmt.Fprintf(stderr, "jjgen: %s: %v\n", name, err)
		return exitRun
	}
	elapsed := time.Since(began)
	fmt.Fprintf(stderr, "jjgen: wrote %s (%s): %d packets, %d frame bytes (mean %.1f), %s of traffic\n",
		name, o.format, st.Packets, st.Bytes, st.MeanFrame(), st.Duration())
	fmt.Fprintf(stderr, "jjgen: %d flows (tcp %d, udp %d, icmp %d, syn flood %d), %d cut at the end, at most %d at once\n",
		st.Flows, st.TCPFlows, st.UDPFlows, st.ICMPFlows, st.FloodFlows, st.Unfinished, st.MaxConcurrent)
	if st.Packets > 0 {
		fmt.Fprintf(stderr, "jjgen: took %s, %.0f ns/packet\n",
			elapsed.Round(time.Millisecond), float64(elapsed.Nanoseconds())/float64(st.Packets))
	}
	return exitOK
}

// closeOut closes the output file, if any, and returns the first error.
func closeOut(file *os.File, err error) error {
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	return err
}
