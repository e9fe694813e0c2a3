# Shell functions shared by the benchmark scripts (sourced from the repo's
# root).

# real_inputs prints the real-traffic captures the benchmarks tile: the
# Ethernet captures of ../shared/pcaps that have no tunnels and no fuzzed
# or garbage packets, or, without it, a few of testdata/captures.
real_inputs() {
	local m=../shared/pcaps/MANIFEST.tsv
	if [ -r "$m" ]; then
		awk -F'\t' 'NR > 1 && $7 ~ /^1 EN10MB/ && $9 !~ /vxlan|gtp|gre|geneve|6in4|l2tp|mpls|pppoe|fuzz|garbage|ISL|erspan|teredo|ipip|no IP|MPLS|GRE|VXLAN/ { print "../shared/pcaps/" $1 }' "$m"
	else
		ls testdata/captures/{joyfuljay__sample,nfstream__KakaoTalk_chat,nfstream__nats,nfstream__z3950,wireshark__http,wireshark__v6-http,zeek__tls__openjdk-25.0.2-zeek.org}.*
	fi
}
