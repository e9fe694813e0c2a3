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

# now_us sets now to the time in microseconds. From bash 5 on it reads
# EPOCHREALTIME and starts no process, not even a subshell: timed with
# `date` in command substitutions until session 62, a short run counted
# part of the forks and execs of `date` (4-5 ms each from bash on this
# project's VM) on top of its own (bench/RESULTS.md). The decimal
# separator of EPOCHREALTIME follows the locale.
now_us() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		now=${EPOCHREALTIME/[.,]/}
	else
		now=$(( $(date +%s%N) / 1000 ))
	fi
}
