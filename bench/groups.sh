#!/usr/bin/env bash
# What each feature group costs on a capture: runs jj with flow_meta alone,
# flow_meta with each of tcp, timing and size, with timing and size
# together, and with all, in interleaved rounds, and prints for each the
# median and fastest time by jj's own clock, its median against
# flow_meta's, and what it adds to flow_meta's median. Timing and size
# keep one packet log between them, so together they cost less than the
# two apart; the last line is that difference, what the log costs each
# of them alone.
#
#   bench/groups.sh                       # a generated capture (PACKETS, FLOWS)
#   bench/groups.sh my.pcap               # your own capture
#   WORKERS=2 REPEAT=7 bench/groups.sh my.pcap
#   SETS="flow_meta flow_meta,connection" bench/groups.sh my.pcap
#
# SETS, feature lists (--features) separated by spaces, replaces the six;
# the ratios and what each adds are then against its first. The last
# line comes only with the four sets it needs.
# WORKERS (default 1) is jj's -w; REPEAT (default 5) the rounds, each of
# which runs every feature set once, in an order that rotates from round
# to round, so that a slow spell of a shared machine falls on all of
# them. The capture is read once with cat before the rounds, and the CSV
# goes to $OUT (default $BENCH_DIR/groups.csv), removed before each run
# and when the script ends. Without a capture, one of PACKETS packets
# (default 5 000 000) and FLOWS concurrent flows (default 100 000) is
# generated into $BENCH_DIR (default /tmp/jj-bench) and put in the page
# cache as bench/run.sh makes and caches its main capture (evicted, then
# read: in folios of up to 2 MiB, as a capture read from disk), and
# reused by later runs. Times are jj's own, to the millisecond: a
# capture that flow_meta reads in under 50 ms gives ratios of little
# meaning, and the script says so.
set -euo pipefail
WORKERS=${WORKERS:-1}
REPEAT=${REPEAT:-5}
PACKETS=${PACKETS:-5000000}
FLOWS=${FLOWS:-100000}
BENCH_DIR=$(realpath -m "${BENCH_DIR:-/tmp/jj-bench}")
OUT=$(realpath -m "${OUT:-$BENCH_DIR/groups.csv}") # before the cd below
if [ $# -gt 1 ]; then
	echo "usage: bench/groups.sh [CAPTURE]" >&2
	exit 2
fi
capture=
if [ $# -eq 1 ]; then
	if ! [ -f "$1" ] || ! [ -r "$1" ]; then
		echo "groups.sh: $1: not a readable file" >&2
		exit 2
	fi
	capture=$(realpath "$1") # before the cd below
fi
cd "$(dirname "$0")/.."
. bench/lib.sh # gen
for v in WORKERS REPEAT; do
	if ! [[ ${!v} =~ ^[1-9][0-9]{0,5}$ ]]; then
		echo "groups.sh: $v must be a whole number from 1 to 999999, with no leading zero" >&2
		exit 2
	fi
done
mkdir -p "$BENCH_DIR"
CGO_ENABLED=0 go build -o "$BENCH_DIR/jj" ./cmd/jj
if [ -z "$capture" ]; then
	go build -o "$BENCH_DIR/jjgen" ./cmd/jjgen
	capture=$(gen "main-$PACKETS-$FLOWS" "$PACKETS" "$FLOWS")
fi
trap 'rm -f "$OUT"' EXIT

read -r -a sets <<< "${SETS:-flow_meta flow_meta,tcp flow_meta,timing flow_meta,size flow_meta,timing,size all}"
if [ ${#sets[@]} -eq 0 ]; then
	echo "groups.sh: SETS names no feature set" >&2
	exit 2
fi
base=${sets[0]}
# times[i]: set i's times, one a round.
times=()
cat "$capture" > /dev/null
for r in $(seq 0 $((REPEAT - 1))); do
	for k in "${!sets[@]}"; do
		i=$(((k + r) % ${#sets[@]}))
		rm -f "$OUT"
		if ! log=$("$BENCH_DIR/jj" extract "$capture" -w "$WORKERS" --features "${sets[i]}" -o "$OUT" 2>&1); then
			echo "groups.sh: jj failed with --features ${sets[i]}:" >&2
			echo "$log" >&2
			exit 1
		fi
		# The summary line alone: other lines name the capture, whose
		# name may hold anything.
		secs=$(sed -nE 's/^jj: [0-9]+ input\(s\), .*, ([0-9]+\.[0-9]+) s, [0-9]+ packets\/s$/\1/p' <<< "$log")
		if [ -z "$secs" ]; then
			echo "groups.sh: no time in jj's summary with --features ${sets[i]} (a run too short to time?):" >&2
			echo "$log" >&2
			exit 1
		fi
		times[i]+="$secs "
	done
done
packets=$(sed -nE 's/^jj: [0-9]+ input\(s\), ([0-9]+) packets read, .*/\1/p' <<< "$log")

w="$WORKERS workers"
[ "$WORKERS" -eq 1 ] && w="1 worker"
echo "feature groups: $(basename "$capture") ($packets packets), $w, $REPEAT rounds, by jj's own clock; ratio and adds against $base"
printf '  %-24s %9s %9s %8s %9s\n' "--features" median fastest ratio adds
# median of one set's times: "median fastest".
stats() {
	# shellcheck disable=SC2086 # one time a word
	printf '%s\n' $1 | sort -n | awk '{ a[++k] = $1 } END { printf "%.3f %.3f\n", k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2, a[1] }'
}
declare -A med
for i in "${!sets[@]}"; do
	read -r m f <<< "$(stats "${times[i]}")"
	med[${sets[i]}]=$m
	awk -v m="$m" -v f="$f" -v b="${med[$base]}" -v first="$((i == 0))" -v n="${sets[i]}" 'BEGIN {
		adds = first ? "-" : sprintf("%.3f s", m - b)
		ratio = b > 0 ? sprintf("%.2f", m / b) : "-"
		printf "  %-24s %7.3f s %7.3f s %8s %9s\n", n, m, f, ratio, adds }'
done
if [ -n "${med[flow_meta]:-}" ] && [ -n "${med[flow_meta,timing]:-}" ] && [ -n "${med[flow_meta,size]:-}" ] && [ -n "${med[flow_meta,timing,size]:-}" ]; then
	awk -v t="${med[flow_meta,timing]}" -v s="${med[flow_meta,size]}" -v ts="${med[flow_meta,timing,size]}" -v b="${med[flow_meta]}" 'BEGIN {
		printf "  timing and size apart less together (their shared packet log): %.3f s\n", t + s - ts - b }'
fi
if awk -v b="${med[$base]}" 'BEGIN { exit !(b < 0.05) }'; then
	echo "  ($base took under 50 ms, and jj times to the millisecond: use a larger capture for ratios that mean something)"
fi
