package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/live"
)

// liveFlags are the options of `jj live` beyond the extraction options.
type liveFlags struct {
	duration  float64
	savePcap  string
	list      bool
	noPromisc bool
	bufferKiB int
}

// maxBufferKiB bounds --buffer-size (live.MaxRingBytes).
const maxBufferKiB = live.MaxRingBytes >> 10

const liveLong = `Capture packets from a network interface and write their flows as they end.

Needs Linux and root (or CAP_NET_RAW); no libpcap. The capture runs until
--duration seconds have passed or until Ctrl-C (SIGINT) or SIGTERM. Then
every packet already received is used, every open flow is written, the
output file is finished and the summary, with the kernel's drop count,
goes to standard error; the exit code is 0. A second Ctrl-C stops at once,
still writing the open flows.

IFACE "any" captures every interface, as tcpdump -i any -y LINUX_SLL2:
packets without their link header, behind a Linux cooked v2 header
(interface, direction, protocol); no promiscuous mode there. A packet
that crosses two interfaces (a bridge and its port) counts twice.

--filter takes a tcpdump expression; the kernel drops what does not match
(with vlan, or on any for a filter that reads the cooked header itself,
jj filters in user space instead).
Flows idle for --timeout seconds are written while the capture runs; with
--active-timeout long flows are written periodically.`

func newLiveCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f extractFlags
	var lf liveFlags
	def := jj.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "live IFACE",
		Short: "Extract per-flow features from a live interface (Linux)",
		Long:  liveLong,
		Example: `  jj live eth0 -d 60 -o live.csv
  jj live eth0 --filter 'tcp port 443' --save-pcap live.pcap -o flows.jsonl
  jj live any -d 10 -o host.csv
  jj live --list`,
		Args: func(_ *cobra.Command, args []string) error {
			if lf.list {
				return nil
			}
			if len(args) != 1 {
				return &usageError{errors.New("live needs one interface name (jj live --list shows them)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if lf.list {
				return listInterfaces(stdout)
			}
			return runLive(cmd, &f, &lf, args[0], stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.Float64VarP(&lf.duration, "duration", "d", 0, "stop after this many seconds; 0 = until Ctrl-C or SIGTERM")
	fl.StringVar(&lf.savePcap, "save-pcap", "", "also write the captured packets to this pcap file (nanosecond timestamps)")
	fl.BoolVar(&lf.list, "list", false, "list the interfaces and exit")
	fl.BoolVar(&lf.noPromisc, "no-promiscuous", false, "do not put the interface in promiscuous mode")
	wholeVar(fl, &lf.bufferKiB, "buffer-size", "B", live.DefaultRingBytes>>10, "ring shared with the kernel, in KiB, as tcpdump's -B; rounded up to whole MiB, at least 4 MiB; 0 = the default")
	bindExtractFlags(cmd, &f, def)
	for _, name := range []string{"progress", "no-progress"} {
		_ = fl.MarkHidden(name) // a live capture has no size to show progress against
	}
	// Split reading is for capture files; a live capture keeps its one
	// worker beside the reader, so that a slow output cannot hold up the
	// reading of the kernel's ring.
	_ = fl.MarkHidden("decoders")
	fl.Lookup("per-file").Usage = "add a last column, source_file, naming the interface"
	fl.Lookup("workers").Usage = "cores to keep busy; 0 = one per CPU; flow tables run beside the goroutine that reads the kernel's ring: one with 1, N-1 with N for flow_meta alone, N for heavier features, one with --max-flows or connection (output is identical whatever the number)"
	return cmd
}

// listInterfaces prints every interface: index, name, flags, addresses.
func listInterfaces(stdout io.Writer) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tNAME\tFLAGS\tADDRESSES")
	for _, ifi := range ifs {
		addrs, _ := ifi.Addrs()
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ifi.Index, ifi.Name, ifi.Flags, strings.Join(as, " "))
	}
	if runtime.GOOS == "linux" {
		fmt.Fprintf(tw, "-\t%s\t(every interface, as tcpdump -i any)\t\n", live.Any)
	}
	return tw.Flush()
}

func runLive(cmd *cobra.Command, f *extractFlags, lf *liveFlags, iface string, stdout, stderr io.Writer) error {
	cfg, err := buildConfig(cmd, f, true)
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("decoders") {
		return &usageError{errors.New("option --decoders applies to capture files (split reading), not to a live capture")}
	}
	if cfg.ConnectionScope == "capture" && hasGroup(cfg.Features, "connection") {
		return &usageError{errors.New(`option connection_scope: invalid value "capture" (want causal for live capture, whose flows end before it does)`)}
	}
	if err := warnIneffective(cmd, cfg, f, stderr); err != nil {
		return err
	}
	if math.IsNaN(lf.duration) || lf.duration < 0 || lf.duration > 1e9 {
		return &usageError{fmt.Errorf("option --duration: invalid value %v (want seconds ≥ 0)", lf.duration)}
	}
	if lf.bufferKiB < 0 || lf.bufferKiB > maxBufferKiB {
		return &usageError{fmt.Errorf("option --buffer-size: invalid value %d (want KiB from 0 to %d; 0 = the default)", lf.bufferKiB, maxBufferKiB)}
	}
	format, err := outputFormat(f)
	if err != nil {
		return err
	}
	// Schema validates everything, the filter included, before capturing.
	schema, err := jj.NewPipeline(cfg).Schema()
	if err != nil {
		return err
	}
	if _, _, err := checkOutputFlags(f, format, schema, stdout); err != nil {
		return err
	}
	if lf.savePcap != "" && f.out != "" && f.out != "-" && samePath(lf.savePcap, f.out) {
		return &usageError{fmt.Errorf("option --save-pcap: %s is also the output: the packets and the rows would write over each other", lf.savePcap)}
	}
	// The capture applies the filter (in the kernel, or itself with
	// vlan); the engine must not run it a second time.
	expr := cfg.Filter
	engine := cfg // the output's metadata records cfg, filter included
	engine.Filter = ""
	p := jj.NewPipeline(engine)

	// The first signal stops the capture: the reader drains the ring and
	// ends, and the engine writes every open flow. A second one also
	// cancels the engine's context, which stops reading at once.
	soft, stopSoft := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSoft()
	hard, cancelHard := context.WithCancel(context.Background())
	defer cancelHard()
	go func() {
		select {
		case <-soft.Done():
		case <-hard.Done():
			return
		}
		again, stop := signal.NotifyContext(hard, os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-again.Done()
		cancelHard()
	}()

	// A filter that cannot apply to the interface's link type (vlan on
	// any) is refused before anything is created.
	if expr != "" {
		if err := live.CheckFilter(iface, expr); err != nil {
			return &usageError{fmt.Errorf("option --filter: %q cannot filter %s: %w", expr, iface, err)}
		}
	}
	var save *os.File
	if lf.savePcap != "" {
		if save, err = os.Create(lf.savePcap); err != nil {
			return fmt.Errorf("create pcap: %w", err)
		}
		defer save.Close()
	}
	d := time.Duration(lf.duration * float64(time.Second))
	if d == 0 && lf.duration > 0 {
		d = 1 // under a nanosecond: as short as can be, not 0 (no limit)
	}
	opts := live.Options{Filter: expr, Duration: d, NoPromiscuous: lf.noPromisc, RingBytes: lf.bufferKiB << 10}
	if save != nil {
		opts.Save = save
	}
	r, err := live.Open(soft, iface, opts)
	if err != nil {
		return err
	}
	out, err := openOutputFor(f, format, schema, &cfg, stdout)
	if err != nil {
		r.Close()
		return err
	}
	if !f.quiet {
		limit := "Ctrl-C to stop"
		if lf.duration > 0 {
			limit = fmt.Sprintf("for %g s, or until Ctrl-C", lf.duration)
		}
		fmt.Fprintf(stderr, "jj: capturing on %s (link type %d, ring %d MiB), %s\n", iface, r.LinkType(), r.RingBytes()>>20, limit)
	}
	stopProfiles, err := startProfiles(f)
	if err != nil {
		out.close()
		r.Close()
		return err
	}
	sum, runErr := p.RunReader(hard, r, iface, out.flushing())
	stopProfiles()
	closeErr := r.Close()
	if save != nil {
		if err := save.Close(); err != nil && closeErr == nil {
			closeErr = fmt.Errorf("write pcap: %w", err)
		}
	}
	if err := finishRun(f, out, sum, runErr, stderr); err != nil {
		return err
	}
	return closeErr
}

// samePath reports whether two paths name one file: the same absolute
// path, or, when both exist, the same file (a link to it, say).
func samePath(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if bb, err := filepath.Abs(b); err == nil && aa == bb {
			return true
		}
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
