#!/usr/bin/env bash
# Regenerates cmd/jj/default.pgo, the CPU profile with which `go build`
# optimises jj (profile-guided optimisation: Go applies a default.pgo in
# the main package's directory by itself; -pgo=off builds without it).
# The profile merges the --cpuprofile of runs like those bench/run.sh
# measures: flow_meta and --features all, one worker and two, CSV, on a
# synthetic capture and on real traffic tiled from testdata/captures,
# flow_meta on the same real traffic as pcapng, and flow_meta and all
# written as Parquet. Rerun it after large changes to
# the hot path: a stale profile still builds, it only helps less. The
# profile names a hot call by its line within the calling function, so a
# line added or removed above a hot call loses that call's inlining
# until the profile is made again (session 38: a call in AddBatch was
# no longer inlined; go build -gcflags=PKG=-m shows it). A profile also
# decides what else is inlined, and so the layout: builds with two
# profiles differed by 1-3 %, once by 7-10 % (bench/RESULTS.md, sessions
# 42 and 43), so compare a fresh profile with the old one before keeping
# it.
#
#   bench/pgo.sh                 # 1 M packets a capture
#   PACKETS=500000 bench/pgo.sh
#
# Captures and outputs go to a temporary directory, removed at the end.
set -euo pipefail
shopt -s failglob # no profile to merge fails, rather than merging "*.prof"
trap 'echo "bench/pgo.sh: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -pgo=off -o "$dir/jj" ./cmd/jj
go build -o "$dir/jjgen" ./cmd/jjgen

synthetic="$dir/synthetic.pcap"
"$dir/jjgen" -o "$synthetic" -packets "$PACKETS" -flows 100000 -ipv6 0.2 -frame 650 -seed 1 2>"$dir/log" ||
	{ cat "$dir/log" >&2; exit 1; }
inputs=(testdata/captures/{joyfuljay__sample.pcap,nfstream__KakaoTalk_chat.pcap,nfstream__nats.pcap,nfstream__z3950.pcapng,wireshark__http.cap,wireshark__v6-http.cap,zeek__tls__openjdk-25.0.2-zeek.org.pcap})
count=$("$dir/jjgen" -o /dev/null "${inputs[@]}" 2>&1) || { echo "$count" >&2; exit 1; }
base=$(sed -n 's/.*: \([0-9]*\) packets.*/\1/p' <<<"$count")
if ! [[ $base =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/pgo.sh: no packet count in jjgen's report: $count" >&2
	exit 1
fi
real="$dir/real.pcap"
"$dir/jjgen" -o "$real" -format pcap-ns -copies $(((PACKETS + base - 1) / base)) -step 50ms "${inputs[@]}" 2>"$dir/log" ||
	{ cat "$dir/log" >&2; exit 1; }
# The same packets as pcapng, the format Wireshark and dumpcap write,
# whose reader has hot paths of its own (nextEPB).
realng="$dir/real.pcapng"
"$dir/jjgen" -o "$realng" -format pcapng "$real" 2>"$dir/log" || { cat "$dir/log" >&2; exit 1; }

n=0
profile() { # capture workers features [format]
	n=$((n + 1))
	"$dir/jj" extract "$1" -w "$2" --features "$3" -f "${4:-csv}" -o "$dir/out" --cpuprofile "$dir/$n.prof" 2>"$dir/log" ||
		{ cat "$dir/log" >&2; return 1; }
}
for capture in "$synthetic" "$real"; do
	for workers in 1 2; do
		for features in flow_meta all; do
			profile "$capture" "$workers" "$features"
		done
	done
done
for workers in 1 2; do
	profile "$realng" "$workers" flow_meta
done
profile "$synthetic" 2 flow_meta parquet
profile "$synthetic" 2 all parquet
# Merged apart, then moved: a failed merge leaves the profile as it was.
go tool pprof -proto "$dir"/*.prof > "$dir/merged.pgo"
mv "$dir/merged.pgo" cmd/jj/default.pgo
echo "cmd/jj/default.pgo: $n profiles merged, $(wc -c < cmd/jj/default.pgo) bytes"
