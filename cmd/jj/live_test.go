//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The live tests run the real jj binary inside a network namespace joined
// to a second one by a veth pair, send known traffic between the two and
// check the flows jj writes. Traffic only ever goes to the addresses of
// these two namespaces. The traffic generators are this test binary,
// re-run inside a namespace with JJ_LIVE_HELPER set.

const (
	addrA = "198.51.100.1" // TEST-NET-2, only inside the test namespaces
	addrB = "198.51.100.2"
)

// netns is a pair of namespaces joined by a veth pair.
type netns struct {
	a, b   string // namespace names
	ifA    string // jj captures here, in namespace a
	jj     string // the jj binary
	helper string // this test binary
}

func setupNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespaces and AF_PACKET)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture tests need ip from iproute2 (apt-get install iproute2)")
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	n := &netns{a: "jjA" + id + t.Name()[len(t.Name())-1:], b: "jjB" + id + t.Name()[len(t.Name())-1:]}
	n.ifA = "jva" + id + t.Name()[len(t.Name())-1:]
	ifB := "jvb" + id + t.Name()[len(t.Name())-1:]
	if out, err := exec.Command("ip", "netns", "add", n.a).CombinedOutput(); err != nil {
		t.Skipf("network namespaces not permitted here: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.a).Run() })
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", n.b)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.b).Run() })
	run("link", "add", n.ifA, "netns", n.a, "type", "veth", "peer", "name", ifB, "netns", n.b)
	run("-n", n.a, "addr", "add", addrA+"/24", "dev", n.ifA)
	run("-n", n.b, "addr", "add", addrB+"/24", "dev", ifB)
	for _, ns := range [][2]string{{n.a, n.ifA}, {n.b, ifB}} {
		run("-n", ns[0], "link", "set", "lo", "up")
		run("-n", ns[0], "link", "set", ns[1], "up")
	}

	dir := t.TempDir()
	n.jj = filepath.Join(dir, "jj")
	buildJJ(t, n.jj)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	n.helper = exe
	return n
}

// start runs the helper in a namespace and waits for its first line.
func (n *netns) start(t *testing.T, ns, role string) (*exec.Cmd, *bufio.Reader, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, n.helper, "-test.run=^TestLiveHelper$")
	cmd.Env = append(os.Environ(), "JJ_LIVE_HELPER="+role)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(stdout)
	line, err := readLine(r, 10*time.Second)
	if err != nil {
		t.Fatalf("helper %s: %v", role, err)
	}
	if !strings.HasPrefix(line, "ok") {
		t.Fatalf("helper %s: %s", role, line)
	}
	return cmd, r, stdin
}

func readLine(r *bufio.Reader, timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := r.ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case x := <-ch:
		return x.s, x.err
	case <-time.After(timeout):
		return "", fmt.Errorf("no line within %v", timeout)
	}
}

// startJJ runs jj live on ifA in namespace a and waits until it captures.
func (n *netns) startJJ(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return n.startJJOn(t, n.ifA, args...)
}

// startJJOn runs jj live on iface in namespace a and waits until it
// captures.
func (n *netns) startJJOn(t *testing.T, iface string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.a, n.jj, "live", iface}, args...)...)
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "capturing on") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatalf("jj live did not start: %s", stderr.String())
	}
	return cmd, &stderr
}

func wait(t *testing.T, cmd *exec.Cmd, timeout time.Duration, stderr *bytes.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("jj live: %v\n%s", err, stderr.String())
		}
	case <-time.After(timeout):
		cmd.Process.Kill()
		t.Fatalf("jj live did not end within %v\n%s", timeout, stderr.String())
	}
}

type flowRow map[string]string

func (r flowRow) int(t *testing.T, col string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(r[col], 10, 64)
	if err != nil {
		t.Fatalf("column %s = %q: %v", col, r[col], err)
	}
	return v
}

func readCSVRows(t *testing.T, path string) []flowRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s is not valid CSV: %v", path, err)
	}
	var rows []flowRow
	for _, rec := range recs[1:] {
		r := flowRow{}
		for i, c := range recs[0] {
			r[c] = rec[i]
		}
		rows = append(rows, r)
	}
	return rows
}

func findFlow(rows []flowRow, proto, srcPort, dstPort string) flowRow {
	for _, r := range rows {
		if r["protocol"] == proto && r["src_ip"] == addrA && r["dst_ip"] == addrB && r["src_port"] == srcPort && r["dst_port"] == dstPort {
			return r
		}
	}
	return nil
}

func tcpdumpCount(t *testing.T, pcap, expr string) int {
	t.Helper()
	out, err := exec.Command("tcpdump", "-nr", pcap, expr).Output()
	if err != nil {
		t.Fatalf("tcpdump -r %s %q: %v", pcap, expr, err)
	}
	return strings.Count(string(out), "\n")
}

// TestLiveCapture sends UDP, ICMP and TCP traffic of known sizes across the
// veth pair while jj captures for a few seconds, and checks the flows.
func TestLiveCapture(t *testing.T) {
	n := setupNetns(t)
	n.start(t, n.b, "server")
	dir := t.TempDir()
	csvPath, pcapPath := filepath.Join(dir, "live.csv"), filepath.Join(dir, "live.pcap")
	stderr := n.captureClient(t, n.ifA, "-d", "4", "-o", csvPath, "--save-pcap", pcapPath)
	t.Logf("jj stderr:\n%s", stderr)
	if !strings.Contains(stderr, "dropped by kernel") {
		t.Errorf("summary lacks the kernel drop count:\n%s", stderr)
	}
	// Counters with nothing dropped inform: a plain line, not a warning.
	if strings.Contains(stderr, " 0 dropped by kernel") && (strings.Contains(stderr, "warning: live") || !strings.Contains(stderr, "jj: live "+n.ifA+": ")) {
		t.Errorf("kernel counters with nothing dropped: want a plain line\n%s", stderr)
	}
	rows := readCSVRows(t, csvPath)
	checkClientFlows(t, rows)
	// ICMP: 3 echo requests with 56 bytes of data (IP length 84), 3 replies.
	checkFlow(t, rows, "ICMP", "1", "0", "0", map[string]int64{"packets_fwd": 3, "packets_bwd": 3, "bytes_fwd": 252, "bytes_bwd": 252})
	tcp := findFlow(rows, "6", "40001", "9001")
	if got := tcp.int(t, "total_packets"); got < 25 {
		t.Errorf("TCP flow total_packets = %d, want at least 25 (handshake, 20 data, FINs)", got)
	}

	// The saved pcap is valid and holds the same packets, as tcpdump counts them.
	if _, err := exec.LookPath("tcpdump"); err == nil {
		if got := tcpdumpCount(t, pcapPath, "udp port 9000"); got != 10 {
			t.Errorf("tcpdump counts %d UDP packets in the saved pcap, want 10", got)
		}
		if got := tcpdumpCount(t, pcapPath, "icmp"); got != 6 {
			t.Errorf("tcpdump counts %d ICMP packets in the saved pcap, want 6", got)
		}
		if got, want := tcpdumpCount(t, pcapPath, "tcp port 40001"), int(tcp.int(t, "total_packets")); got != want {
			t.Errorf("tcpdump counts %d TCP packets in the saved pcap, jj's flow has %d", got, want)
		}
	}
	// jj extract on the saved pcap gives the same flows.
	extracted := filepath.Join(dir, "extract.csv")
	if out, err := exec.Command(n.jj, "extract", pcapPath, "-q", "-o", extracted).CombinedOutput(); err != nil {
		t.Fatalf("jj extract: %v: %s", err, out)
	}
	if a, b := sortedLines(t, csvPath), sortedLines(t, extracted); !slices.Equal(a, b) {
		t.Errorf("live flows differ from jj extract on the saved pcap:\nlive:\n%s\nextract:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// captureClient runs jj live on iface in namespace a, with args, while the
// client exchanges its traffic with the server (which must be running),
// and returns jj's standard error.
func (n *netns) captureClient(t *testing.T, iface string, args ...string) string {
	t.Helper()
	jj, stderr := n.startJJOn(t, iface, args...)
	_, client, _ := n.start(t, n.a, "client")
	if line, err := readLine(client, 15*time.Second); err != nil || line != "done" {
		t.Fatalf("client: %q %v", line, err)
	}
	wait(t, jj, 20*time.Second, stderr)
	return stderr.String()
}

// checkClientFlows checks the client's UDP and TCP flows.
func checkClientFlows(t *testing.T, rows []flowRow) {
	t.Helper()
	// UDP: 5 datagrams of 100 bytes each way (IP length 128).
	checkFlow(t, rows, "UDP", "17", "40000", "9000", map[string]int64{"packets_fwd": 5, "packets_bwd": 5, "bytes_fwd": 640, "bytes_bwd": 640,
		"payload_bytes_fwd": 500, "payload_bytes_bwd": 500, "flow_stat": 0})
	// TCP: 10 echoed messages of 100 bytes, then FIN both ways.
	checkFlow(t, rows, "TCP", "6", "40001", "9001", map[string]int64{"payload_bytes_fwd": 1000, "payload_bytes_bwd": 1000, "flow_stat": 0x4f})
}

// checkFlow checks columns of the flow from addrA to addrB of proto and
// ports.
func checkFlow(t *testing.T, rows []flowRow, name, proto, srcPort, dstPort string, want map[string]int64) {
	t.Helper()
	f := findFlow(rows, proto, srcPort, dstPort)
	if f == nil {
		t.Fatalf("no %s flow in %v", name, rows)
	}
	for col, w := range want {
		if got := f.int(t, col); got != w {
			t.Errorf("%s flow %s = %d, want %d", name, col, got, w)
		}
	}
}

// TestLiveAny captures the same traffic as TestLiveCapture on "any" in
// namespace a, where it crosses only the veth end: the same flows, with
// the Linux cooked v2 header in their header chain, and a saved pcap that
// tcpdump reads as such.
func TestLiveAny(t *testing.T) {
	n := setupNetns(t)
	n.start(t, n.b, "server")
	dir := t.TempDir()
	csvPath, pcapPath := filepath.Join(dir, "live.csv"), filepath.Join(dir, "live.pcap")
	stderr := n.captureClient(t, "any", "-d", "4", "-o", csvPath, "--save-pcap", pcapPath)
	if !strings.Contains(stderr, "capturing on any (link type 276,") {
		t.Errorf("start line does not name the cooked link type:\n%s", stderr)
	}
	rows := readCSVRows(t, csvPath)
	checkClientFlows(t, rows)
	if udp := findFlow(rows, "17", "40000", "9000"); udp["hdr_desc"] != "SLL2-IP-UDP" {
		t.Errorf("UDP flow hdr_desc = %q, want SLL2-IP-UDP", udp["hdr_desc"])
	}
	if _, err := exec.LookPath("tcpdump"); err == nil {
		if got := tcpdumpCount(t, pcapPath, "udp port 9000"); got != 10 {
			t.Errorf("tcpdump counts %d UDP packets in the saved pcap, want 10", got)
		}
	}
}

func sortedLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	return lines
}

// TestLiveInterrupt sends SIGINT to jj while a TCP connection is open and
// checks that the open flow was written and the JSONL file is complete. A
// filter keeps only TCP: the UDP datagram sent meanwhile must not appear.
func TestLiveInterrupt(t *testing.T) {
	n := setupNetns(t)
	n.start(t, n.b, "server")
	out := filepath.Join(t.TempDir(), "live.jsonl")
	jj, stderr := n.startJJ(t, "-o", out, "--filter", "tcp port 9001")
	_, client, _ := n.start(t, n.a, "hold")
	if line, err := readLine(client, 15*time.Second); err != nil || line != "sent" {
		t.Fatalf("client: %q %v", line, err)
	}
	if err := jj.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	wait(t, jj, 15*time.Second, stderr)
	t.Logf("jj stderr:\n%s", stderr.String())

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var found map[string]any
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("line %d of the output is not JSON: %v: %q", i+1, err, line)
		}
		if row["protocol"] != float64(6) {
			t.Errorf("filter tcp port 9001 let through %v", row)
		}
		if row["src_port"] == float64(40002) {
			found = row
		}
	}
	if found == nil {
		t.Fatalf("the open TCP flow was not written:\n%s", b)
	}
	// SYN and SYN-ACK seen, no FIN: the flow was open at the interrupt.
	for col, want := range map[string]float64{"payload_bytes_fwd": 300, "payload_bytes_bwd": 300, "flow_stat": 0x03} {
		if got := found[col]; got != want {
			t.Errorf("open TCP flow %s = %v, want %v", col, got, want)
		}
	}
}

// TestLiveHelper is not a test: it is the traffic generator the live tests
// run inside a namespace.
func TestLiveHelper(t *testing.T) {
	role := os.Getenv("JJ_LIVE_HELPER")
	if role == "" {
		t.Skip("helper process for the live tests")
	}
	var err error
	switch role {
	case "server":
		err = serve()
	case "client":
		err = client()
	case "hold":
		err = hold()
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve echoes UDP on port 9000 and TCP on 9001 until stdin closes.
func serve() error {
	uc, err := net.ListenPacket("udp4", addrB+":9000")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", addrB+":9001")
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			uc.WriteTo(buf[:n], from)
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	fmt.Println("ok")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// echo sends count messages of size bytes on c, reading each echo back.
func echo(c net.Conn, count, size int) error {
	msg := bytes.Repeat([]byte{'j'}, size)
	buf := make([]byte, size)
	for i := 0; i < count; i++ {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
	}
	return nil
}

func dial(network string, localPort int, remote string) (net.Conn, error) {
	var local net.Addr
	if network == "udp4" {
		local = &net.UDPAddr{IP: net.ParseIP(addrA), Port: localPort}
	} else {
		local = &net.TCPAddr{IP: net.ParseIP(addrA), Port: localPort}
	}
	d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
	return d.Dial(network, remote)
}

func client() error {
	fmt.Println("ok")
	uc, err := dial("udp4", 40000, addrB+":9000")
	if err != nil {
		return err
	}
	if err := echo(uc, 5, 100); err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	uc.Close()
	if err := ping(3, 56); err != nil {
		return fmt.Errorf("icmp: %w", err)
	}
	tc, err := dial("tcp4", 40001, addrB+":9001")
	if err != nil {
		return err
	}
	if err := echo(tc, 10, 100); err != nil {
		return fmt.Errorf("tcp: %w", err)
	}
	tc.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, tc)
	tc.Close()
	time.Sleep(200 * time.Millisecond) // the last ACK
	fmt.Println("done")
	return nil
}

// ping sends count ICMP echo requests with size bytes of data and waits
// for each reply.
func ping(count, size int) error {
	c, err := net.ListenPacket("ip4:icmp", addrA)
	if err != nil {
		return err
	}
	defer c.Close()
	dst := &net.IPAddr{IP: net.ParseIP(addrB)}
	buf := make([]byte, 1500)
	for seq := 1; seq <= count; seq++ {
		m := make([]byte, 8+size)
		m[0] = 8 // echo request
		binary.BigEndian.PutUint16(m[4:], 0x6a6a)
		binary.BigEndian.PutUint16(m[6:], uint16(seq))
		binary.BigEndian.PutUint16(m[2:], checksum(m))
		if _, err := c.WriteTo(m, dst); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return err
			}
			if n >= 8 && buf[0] == 0 && binary.BigEndian.Uint16(buf[6:]) == uint16(seq) {
				break
			}
		}
	}
	return nil
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// hold opens a TCP connection, exchanges 3 messages, sends one UDP
// datagram (which the test's filter must drop) and keeps the connection
// open until stdin closes.
func hold() error {
	fmt.Println("ok")
	tc, err := dial("tcp4", 40002, addrB+":9001")
	if err != nil {
		return err
	}
	if err := echo(tc, 3, 100); err != nil {
		return err
	}
	uc, err := dial("udp4", 40003, addrB+":9000")
	if err != nil {
		return err
	}
	uc.Write([]byte("not captured"))
	time.Sleep(300 * time.Millisecond) // let the kernel stamp and ring them
	fmt.Println("sent")
	io.Copy(io.Discard, os.Stdin)
	tc.Close()
	return nil
}

// jj live takes the same hidden recording flags as extract, and writes
// them when the capture ends (a short capture on the loopback interface).
func TestLiveProfileFlags(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
	if err != nil {
		t.Skipf("live capture needs an AF_PACKET socket, which this process may not open: %v", err)
	}
	syscall.Close(fd)
	dir := t.TempDir()
	prof, mem, trace := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof"), filepath.Join(dir, "run.trace")
	code, _, errs := runJJ(t, nil, "live", "lo", "--duration", "0.2", "-q", "-o", filepath.Join(dir, "out.csv"),
		"--cpuprofile", prof, "--memprofile", mem, "--trace", trace)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	checkRecordings(t, prof, mem, trace)
}

// The connection scope of a live capture is causal by default; capture,
// which needs the whole input before its first row, is refused before the
// interface is opened (no root needed: the interface does not exist).
func TestLiveConnectionScope(t *testing.T) {
	for _, features := range []string{"connection", "flow_meta,Connection"} {
		code, _, errs := runJJ(t, nil, "live", "jjnosuchif0", "-d", "1", "--features", features, "--connection-scope", "capture")
		if code != 2 || !strings.Contains(errs, "connection_scope") || strings.Contains(errs, "jjnosuchif0") {
			t.Errorf("explicit capture scope, --features %s: exit %d, stderr %q", features, code, errs)
		}
	}
	code, _, errs := runJJ(t, nil, "live", "jjnosuchif0", "-d", "1", "--features", "connection")
	if code == 2 || strings.Contains(errs, "connection_scope") || !strings.Contains(errs, "jjnosuchif0") {
		t.Errorf("default scope: exit %d, stderr %q (want the interface's error)", code, errs)
	}
	// --decoders (split reading of files) is not live's: hidden from its
	// help, and refused.
	code, _, errs = runJJ(t, nil, "live", "jjnosuchif0", "-d", "1", "--decoders", "2")
	if code != 2 || !strings.Contains(errs, "--decoders") || strings.Contains(errs, "jjnosuchif0") {
		t.Errorf("--decoders: exit %d, stderr %q", code, errs)
	}
	if _, help, _ := runJJ(t, nil, "live", "--help"); strings.Contains(help, "--decoders") || !strings.Contains(help, "beside the goroutine that reads the kernel's ring") {
		t.Errorf("live --help:\n%s", help)
	}
	// --save-pcap and -o naming one file, by two paths, are refused
	// before anything is created.
	dir := t.TempDir()
	save := filepath.Join(dir, "s.csv")
	code, _, errs = runJJ(t, nil, "live", "jjnosuchif0", "-d", "1", "--save-pcap", save, "-o", filepath.Join(dir, ".", "..", filepath.Base(dir), "s.csv"))
	if _, err := os.Stat(save); code != 2 || !strings.Contains(errs, "--save-pcap") || strings.Contains(errs, "jjnosuchif0") || err == nil {
		t.Errorf("--save-pcap the output: exit %d, stderr %q, file made: %v", code, errs, err == nil)
	}
}

// TestLiveParquetRecordsFilter checks that a live capture's Parquet file
// records the filter it ran in its jj.config metadata: the capture, not
// the engine, applies it, and the engine's copy of the configuration,
// which has none, used to be the one recorded.
func TestLiveParquetRecordsFilter(t *testing.T) {
	n := setupNetns(t)
	n.start(t, n.b, "server")
	out := filepath.Join(t.TempDir(), "live.parquet")
	stderr := n.captureClient(t, n.ifA, "-d", "3", "-o", out, "--filter", "tcp port 9001")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tab, meta := readParquetFile(t, data)
	if !strings.Contains(meta["jj.config"], `"filter":"tcp port 9001"`) {
		t.Errorf("jj.config = %s; want the filter", meta["jj.config"])
	}
	if len(tab.rows) == 0 {
		t.Errorf("no rows:\n%s", stderr)
	}
}
