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

# evict FILE drops it from the page cache (GNU dd: posix_fadvise DONTNEED
# on the whole file), so the next read comes from disk.
evict() { sync "$1"; dd if="$1" iflag=nocache count=0 status=none; sleep 1; }

# gnu_time reports whether /usr/bin/time is GNU time, whose -f %M the
# scripts read peak RSS with (a BSD or busybox time has no such format).
gnu_time() { /usr/bin/time --version 2>&1 | grep -q GNU; }

# sha FILE prints the SHA-256 of FILE's bytes, with which the scripts
# compare jj's outputs.
sha() { sha256sum < "$1" | cut -d' ' -f1; }

# mix is the synthetic captures' traffic, as jjgen options beside
# -packets and -flows: 20 % IPv6, a mean frame of 650 bytes (the peers'
# reference capture averages 633), seed 1. gen and bench/flat.sh use it.
mix=(-ipv6 0.2 -frame 650 -seed 1)

# gen NAME PACKETS FLOWS prints the path of $BENCH_DIR/NAME.pcap, a
# synthetic capture that $BENCH_DIR/jjgen writes once (reused by later
# runs), after putting it in the page cache the way a capture read from
# disk gets there: evicted, then read with cat. How a file got into the
# cache matters: Linux caches a file read sequentially from disk in
# folios of up to 2 MiB, which map with one page-table entry each, but a
# file just written in small writes (as jjgen and tcpdump write) in 4 KiB
# pages; mapping those costs jj about 0.1-0.2 CPU-seconds more per 3 GB
# (bench/RESULTS.md). The capture is written aside and renamed once
# whole: an interrupted run left a short capture that the next took as
# it was.
gen() { # name packets flows
	local f="$BENCH_DIR/$1.pcap"
	if [ ! -s "$f" ]; then
		if ! "$BENCH_DIR/jjgen" -o "$f.part" -packets "$2" -flows "$3" "${mix[@]}" 2> "$BENCH_DIR/jjgen.log"; then
			echo "jjgen failed making $f: $(head -n 1 "$BENCH_DIR/jjgen.log")" >&2
			rm -f "$f.part"
			exit 1
		fi
		mv "$f.part" "$f"
	fi
	evict "$f"
	cat "$f" > /dev/null
	echo "$f"
}
