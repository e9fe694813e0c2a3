#!/usr/bin/env bash
# Memory against capture length: jj's peak RSS on synthetic captures of
# the same concurrent flows and more and more packets, which jjgen writes
# straight into jj through a pipe (`jj extract -`), so that no capture is
# kept on disk or in the page cache, whatever its size. The issue asks
# that a capture 10 times longer with the same flows use the same memory;
# TIMES goes as far as you like (150 M packets of 650 bytes are about
# 100 GB).
#
#   bench/flat.sh                              # 8 M and 80 M packets
#   TIMES="1 10 19" bench/flat.sh              # and 152 M: about 100 GB
#   FEATURES=flow_meta WORKERS=2 bench/flat.sh
#   FEATURES=all ARGS="--active-timeout 60" bench/flat.sh
#
# PACKETS (default 8 000 000) times each of TIMES (default "1 10") is the
# packets of a capture, FLOWS (default 100 000) the flows open at once,
# with bench/run.sh's mix (bench/lib.sh: 20 % IPv6, mean frame 650
# bytes, seed 1); for
# each of FEATURES (default "flow_meta all") and WORKERS (jj's -w,
# default "1 N", N the CPUs) each length is run once, with ARGS (more
# options of jj extract, split at spaces) if given, and the script
# prints the capture's size, jj's peak RSS, that peak against the first
# length's, the packets/s through the pipe, the flows written and the
# most open at once (jjgen's count). The first length must be long
# enough for jj's table to hold as many flows as it ever will: jjgen's
# flows open over the capture's first seconds (24 711 of 100 000 at
# 200 000 packets, all by 2 M), and jj keeps a flow open until 60 s of
# capture time pass without a packet of it (the idle timeout; jjgen
# sends 100 000 packets a second): with flow_meta, 2 M packets peaked
# at 46 MB, 5 M at 53, 20 M and 40 M at 55 (one worker). The default 8 M
# packets are 80 s of traffic. The timing and size groups (in all) keep
# every packet of a flow until the flow is written, as their exact
# medians need: jjgen's flows that last longer than a minute keep
# theirs until they end, so all's peak grows with the length unless
# --active-timeout writes long flows in parts (README, "Memory"). The
# default runs take about 15 minutes here. jjgen,
# on one core, is slower than jj (about 1.5 M packets/s of 650 bytes on
# this project's machine): the packets/s are the pipe's, not jj's. The
# CSV goes to $OUT (default $BENCH_DIR/flat.csv), removed after each
# run.
set -euo pipefail
PACKETS=${PACKETS:-8000000}
FLOWS=${FLOWS:-100000}
TIMES=${TIMES:-1 10}
FEATURES=${FEATURES:-flow_meta all}
read -r -a args <<< "${ARGS:-}"
BENCH_DIR=$(realpath -m "${BENCH_DIR:-/tmp/jj-bench}")
OUT=$(realpath -m "${OUT:-$BENCH_DIR/flat.csv}") # before the cd below
if [ $# -gt 0 ]; then
	echo "usage: bench/flat.sh (no arguments; PACKETS, FLOWS, TIMES, FEATURES, WORKERS, ARGS from the environment)" >&2
	exit 2
fi
cd "$(dirname "$0")/.."
. bench/lib.sh # mix, now_us, gnu_time
NCPU=$(nproc)
WORKERS=${WORKERS:-1 $NCPU}
if [ "$WORKERS" = "1 1" ]; then
	WORKERS=1
fi
for v in PACKETS FLOWS; do
	if ! [[ ${!v} =~ ^[1-9][0-9]{0,9}$ ]]; then
		echo "flat.sh: $v must be a whole number from 1, with no leading zero" >&2
		exit 2
	fi
done
for v in TIMES WORKERS; do
	if ! [[ ${!v} =~ ^[1-9][0-9]{0,4}( [1-9][0-9]{0,4})*$ ]]; then
		echo "flat.sh: $v must be whole numbers from 1, separated by spaces" >&2
		exit 2
	fi
done
if ! gnu_time; then
	echo "flat.sh: GNU time at /usr/bin/time (Debian: apt-get install time) measures the peak RSS; not found" >&2
	exit 1
fi
mkdir -p "$BENCH_DIR"
CGO_ENABLED=0 go build -o "$BENCH_DIR/jj" ./cmd/jj
go build -o "$BENCH_DIR/jjgen" ./cmd/jjgen
trap 'rm -f "$OUT" "$BENCH_DIR/flat.gen" "$BENCH_DIR/flat.jj"' EXIT

echo "jj memory against capture length: $NCPU CPUs, $(go env GOVERSION), $(date +%F)"
echo "captures: PACKETS=$PACKETS times each of TIMES=\"$TIMES\", $FLOWS flows open at once, from jjgen through a pipe${ARGS:+; jj extract $ARGS}"
for features in $FEATURES; do
	for workers in $WORKERS; do
		first=
		for t in $TIMES; do
			n=$((PACKETS * t))
			rm -f "$OUT"
			now_us
			start=$now
			if ! "$BENCH_DIR/jjgen" -o - -packets "$n" -flows "$FLOWS" "${mix[@]}" 2> "$BENCH_DIR/flat.gen" |
				/usr/bin/time -f "RSS %M" "$BENCH_DIR/jj" extract - -w "$workers" --features "$features" "${args[@]}" -o "$OUT" 2> "$BENCH_DIR/flat.jj"; then
				echo "flat.sh: $n packets, $features, -w $workers failed:" >&2
				cat "$BENCH_DIR/flat.gen" "$BENCH_DIR/flat.jj" >&2
				exit 1
			fi
			now_us
			# jjgen: "wrote standard output (pcap): N packets, B frame bytes (...)";
			# the capture is its 24-byte header, a 16-byte header a record and the frames.
			frames=$(sed -n 's/.*packets, \([0-9]*\) frame bytes.*/\1/p' "$BENCH_DIR/flat.gen")
			rss=$(sed -n 's/^RSS \([0-9]*\)$/\1/p' "$BENCH_DIR/flat.jj")
			open=$(sed -n 's/.*at most \([0-9]*\) at once.*/\1/p' "$BENCH_DIR/flat.gen")
			flows=$(sed -n 's/.* \([0-9]*\) flows written.*/\1/p' "$BENCH_DIR/flat.jj")
			if [ -z "$frames" ] || [ -z "$open" ] || [ -z "$rss" ] || [ -z "$flows" ]; then
				echo "flat.sh: could not read the run's figures:" >&2
				cat "$BENCH_DIR/flat.gen" "$BENCH_DIR/flat.jj" >&2
				exit 1
			fi
			first=${first:-$rss}
			awk -v f="$features" -v w="$workers" -v n="$n" -v b="$((24 + 16 * n + frames))" -v rss="$rss" -v first="$first" -v us="$((now - start))" -v open="$open" -v flows="$flows" 'BEGIN {
				printf "%-10s workers=%-3s %11d packets %8.2f GB  peak RSS %6.1f MB  %5.2f x the first  %5.2f M packets/s  %9d flows, %7d open at most\n",
					f, w, n, b / 1e9, rss / 1024, rss / first, n / us, flows, open
			}'
		done
	done
done
