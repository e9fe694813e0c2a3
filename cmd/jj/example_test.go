package main

import "os"

// The seed's CLI example: flow_meta of a capture, here without addresses
// and ports so that the rows fit on a line.
func Example_extract() {
	run([]string{"extract", "../../testdata/sample.pcap", "--features", "flow_meta", "--no-ips", "--no-ports", "-q"}, nil, os.Stdout, os.Stderr)
	// Output:
	// protocol,start_time,end_time,duration,total_packets,packets_fwd,packets_bwd,total_bytes,bytes_fwd,bytes_bwd,payload_bytes_fwd,payload_bytes_bwd,payload_bytes_total,packets_ratio,bytes_ratio,packets_per_second,bytes_per_second,avg_packet_size,time_first,time_last,flow_stat,num_hdrs,hdr_desc
	// 6,1704067200.0,1704067200.21,0.21,13,4,9,3174,245,2929,85,2569,2654,0.4444444444444444,0.08364629566404916,61.904761904761905,15114.285714285714,244.15384615384616,1704067200.0,1704067200.21,79,3,ETH-IP-TCP
	// 17,1704067200.5,1704067200.52,0.02,2,1,1,141,57,84,29,56,85,1.0,0.6785714285714286,100.0,7050.0,70.5,1704067200.5,1704067200.52,0,3,ETH-IP-UDP
	// 6,1704067201.0,1704067201.2,0.2,3,3,0,228,228,0,108,0,108,3.0,228.0,15.0,1140.0,76.0,1704067201.0,1704067201.2,0,3,ETH-IP-TCP
}
