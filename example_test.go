package jj_test

import (
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/output"
)

// The seed's "Basic Flow Statistics": top talkers and protocol mix.
func Example() {
	table, err := jj.Extract("testdata/sample.pcap", jj.DefaultConfig())
	if err != nil {
		panic(err)
	}
	sent := map[string]int64{}
	protocols := map[int64]int{}
	for r := range table.Rows {
		sent[table.Value(r, "src_ip").(string)] += table.Value(r, "bytes_fwd").(int64)
		protocols[table.Value(r, "protocol").(int64)]++
	}
	for ip, n := range sent {
		fmt.Printf("%s sent %d bytes\n", ip, n)
	}
	names := map[int64]string{6: "TCP", 17: "UDP", 1: "ICMP"}
	keys := make([]int64, 0, len(protocols))
	for p := range protocols {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for _, p := range keys {
		fmt.Printf("%s: %d flows\n", names[p], protocols[p])
	}
	// Output:
	// 192.168.1.100 sent 530 bytes
	// TCP: 2 flows
	// UDP: 1 flows
}

// The seed's "Privacy-Preserving Analysis": IPs become salted SHA-256
// prefixes, the same for the same address and salt (printf 'research-project-2025192.168.1.100' | sha256sum).
func ExamplePipeline_ProcessPcap_anonymized() {
	cfg := jj.DefaultConfig()
	cfg.Features = []string{"flow_meta", "timing", "size"}
	cfg.AnonymizeIPs = true
	cfg.AnonymizationSalt = "research-project-2025"
	table, err := jj.NewPipeline(cfg).ProcessPcap("testdata/sample.pcap")
	if err != nil {
		panic(err)
	}
	for r := range table.Rows {
		fmt.Println(table.Value(r, "src_ip"))
	}
	// Output:
	// 50c837e7b1d4911c
	// 50c837e7b1d4911c
	// 50c837e7b1d4911c
}

// The seed's "Exclude Identifiers for ML": no addresses, no ports.
func ExamplePipeline_ProcessPcap_noIdentifiers() {
	cfg := jj.DefaultConfig()
	cfg.IncludeIPAddresses = false
	cfg.IncludePorts = false
	table, err := jj.NewPipeline(cfg).ProcessPcap("testdata/sample.pcap")
	if err != nil {
		panic(err)
	}
	var names []string
	for _, c := range table.Columns[:4] {
		names = append(names, c.Name)
	}
	fmt.Println(names, len(table.Columns), "columns")
	// 30 flow_meta columns less flow_id, src_ip, dst_ip and the 4 port columns.

	// Output:
	// [protocol start_time end_time duration] 23 columns
}

// The seed's "Flow Linking with flow_id": the same conversation gets the
// same flow_id in every capture, whichever side spoke first.
func ExamplePipeline_Process_flowLinking() {
	cfg := jj.DefaultConfig()
	cfg.IncludeFlowID = true
	cfg.AnonymizationSalt = "consistent-salt"
	p := jj.NewPipeline(cfg)
	t1, err := p.ProcessPcap("testdata/sample.pcap")
	if err != nil {
		panic(err)
	}
	t2, err := p.ProcessPcap("testdata/captures/joyfuljay__sample.pcap")
	if err != nil {
		panic(err)
	}
	seen := map[any]bool{}
	for r := range t2.Rows {
		seen[t2.Value(r, "flow_id")] = true
	}
	common := 0
	for r := range t1.Rows {
		if seen[t1.Value(r, "flow_id")] {
			common++
		}
	}
	fmt.Printf("Found %d common flows\n", common)
	// Output:
	// Found 3 common flows
}

// Streaming: each flow as it ends, without holding the table.
func ExamplePipeline_Rows() {
	var durations []float64
	for row, err := range jj.NewPipeline(jj.DefaultConfig()).Rows("testdata/sample.pcap") {
		if err != nil {
			panic(err)
		}
		durations = append(durations, row.Get("duration").(float64))
	}
	sort.Float64s(durations)
	fmt.Println(durations)
	// Output:
	// [0.02 0.2 0.21]
}

// Run writes the flows through any output.Writer: here CSV to standard
// output, three columns of flow_meta.
func ExamplePipeline_Run() {
	cfg := jj.DefaultConfig()
	cfg.Columns = []string{"dst_ip", "protocol", "total_bytes"}
	p := jj.NewPipeline(cfg)
	schema, err := p.Schema()
	if err != nil {
		panic(err)
	}
	w, err := output.NewWriter("csv", os.Stdout, schema)
	if err != nil {
		panic(err)
	}
	sum, err := p.Run([]string{"testdata/sample.pcap"}, w)
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Flows, "flows")
	// Output:
	// dst_ip,protocol,total_bytes
	// 93.184.216.34,6,3174
	// 8.8.8.8,17,141
	// 10.0.0.1,6,228
	// 3 flows
}
