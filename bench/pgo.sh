#!/usr/bin/env bash
# Regenerates cmd/jj/default.pgo, the CPU profile with which `go build`
# optimises jj (profile-guided optimisation: Go applies a default.pgo in
# the main package's directory by itself; -pgo=off builds without it).
# The profile merges the --cpuprofile of runs like those bench/run.sh
# measures: flow_meta and --features all, one worker and two, CSV, on a
# synthetic capture and on real traffic tiled from testdata/captures, and
# flow_meta and all written as Parquet. Rerun it after large changes to
# the hot path: a stale profile still builds, it only helps less.
#
#   bench/pgo.sh                 # 1 M packets a capture
#   PACKETS=500000 bench/pgo.sh
#
# Captures and outputs go to a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -pgo=off -o "$dir/jj" ./cmd/jj
go build -o "$dir/jjgen" ./cmd/jjgen

synthetic="$dir/synthetic.pcap"
"$dir/jjgen" -o "$synthetic" -packets "$PACKETS" -flows 100000 -ipv6 0.2 -frame 650 -seed 1 2>/dev/null
inputs=(testdata/captures/{joyfuljay__sample,nfstream__KakaoTalk_chat,nfstream__nats,nfstream__z3950,wireshark__http,wireshark__v6-http,zeek__tls__openjdk-25.0.2-zeek.org}.*)
base=$("$dir/jjgen" -o /dev/null "${inputs[@]}" 2>&1 | sed -n 's/.*: \([0-9]*\) packets.*/\1/p')
real="$dir/real.pcap"
"$dir/jjgen" -o "$real" -format pcap-ns -copies $(((PACKETS + base - 1) / base)) -step 50ms "${inputs[@]}" 2>/dev/null

n=0
profile() { # capture workers features [format]
	n=$((n + 1))
	"$dir/jj" extract "$1" -w "$2" --features "$3" -f "${4:-csv}" -o "$dir/out" --cpuprofile "$dir/$n.prof" 2>/dev/null
}
for capture in "$synthetic" "$real"; do
	for workers in 1 2; do
		for features in flow_meta all; do
			profile "$capture" "$workers" "$features"
		done
	done
done
profile "$synthetic" 2 flow_meta parquet
profile "$synthetic" 2 all parquet
go tool pprof -proto "$dir"/*.prof > cmd/jj/default.pgo 2>/dev/null
echo "cmd/jj/default.pgo: $n profiles merged, $(wc -c < cmd/jj/default.pgo) bytes"
