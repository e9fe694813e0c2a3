#!/usr/bin/env bash
# Benchmarks jj live: sends a capture's packets into one end of a veth
# pair with jjreplay (cmd/jjreplay: sendmmsg, 64 packets a call, past the
# qdisc) while jj live reads the other end, and prints, for each rate and
# feature set: the rate sent, the packets jj captured and the kernel
# dropped, jj's CPU time a packet, the cores it kept busy while packets
# came (its CPU time over the seconds of sending) and its peak RSS. Needs
# Linux, root, ip (iproute2) and GNU time (/usr/bin/time); the pair lives
# in a network namespace of its own, removed at the end.
#
#   bench/live.sh                          # real traffic, as fast as one core sends
#   RATES="100000 300000 max" bench/live.sh my.pcap
#   JJ=/tmp/jj-old bench/live.sh           # another jj binary
#
# Without a capture it tiles the real-traffic captures bench/run.sh tiles
# (bench/lib.sh) to about 200 000 packets, the most jjreplay loads; jjreplay
# sends them round and round.
#
# On a veth pair the kernel's receive path (and the copy into jj's ring)
# runs on the sending core, so on a small machine the sender, not jj, is
# the limit: the figure to read is jj's CPU time a packet, which bounds
# the rate it can keep up with (1e9 / ns a packet on one core).
# Each run sends for $SECONDS_SENT seconds (default 5) to one jj live
# run, started before and stopped (SIGINT) after; $REPEAT rounds (default
# 3), the one with the least CPU time a packet kept.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/jj-bench}
RATES=${RATES:-max}
FEATURES=${FEATURES:-flow_meta all}
REPEAT=${REPEAT:-3}
SECS=${SECONDS_SENT:-5}
capture=${1:-$BENCH_DIR/live-200000.pcap}
if [ "$(id -u)" != 0 ]; then
	echo "bench/live.sh needs root (a network namespace and AF_PACKET)" >&2
	exit 1
fi
if [ ! -x /usr/bin/time ]; then
	echo "bench/live.sh needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2
	exit 1
fi
mkdir -p "$BENCH_DIR"
if [ ! -s "$capture" ]; then
	if [ $# -gt 0 ]; then
		echo "bench/live.sh: no capture at $capture" >&2
		exit 1
	fi
	. bench/lib.sh
	mapfile -t inputs < <(real_inputs)
	go build -o "$BENCH_DIR/jjgen" ./cmd/jjgen
	base=$("$BENCH_DIR/jjgen" -o /dev/null "${inputs[@]}" 2>&1 | sed -n 's/.*: \([0-9]*\) packets.*/\1/p')
	"$BENCH_DIR/jjgen" -o "$capture" -copies $(( (200000 + base - 1) / base )) -step 50ms "${inputs[@]}" 2>/dev/null
fi
# JJ: the jj binary to measure (default: built from this tree).
JJ=${JJ:-$BENCH_DIR/jj}
[ "$JJ" != "$BENCH_DIR/jj" ] || CGO_ENABLED=0 go build -o "$JJ" ./cmd/jj # as the README installs it
go build -o "$BENCH_DIR/jjreplay" ./cmd/jjreplay

netns=jjbench$$
ip netns add "$netns"
timed= # the running jj live, under /usr/bin/time
trap '[ -z "$timed" ] || kill "$timed" 2> /dev/null || true; ip netns del "$netns"' EXIT
in_ns() { ip netns exec "$netns" "$@"; }
in_ns ip link add name jjtx mtu 65535 type veth peer name jjrx mtu 65535
in_ns ip link set jjtx up
in_ns ip link set jjrx up

printf "%-10s %-9s %12s %12s %10s %11s %7s %9s\n" rate features "sent/s" captured dropped "ns/packet" cores "RSS MiB"
for rate in $RATES; do
	pps=0
	[ "$rate" = max ] || pps=$rate
	for features in $FEATURES; do
		best=
		for _ in $(seq "$REPEAT"); do
			log=$BENCH_DIR/live.log
			rlog=$BENCH_DIR/replay.log
			# jj runs until SIGINT, sent once the sending is over; it then
			# reads what the ring still holds and ends.
			ip netns exec "$netns" /usr/bin/time -f "TIME %e %U %S %M" "$JJ" live jjrx --features "$features" -o "$BENCH_DIR/live.csv" 2> "$log" &
			timed=$!
			for _ in $(seq 100); do
				grep -q "capturing on" "$log" && break
				if ! kill -0 "$timed" 2> /dev/null; then
					echo "bench/live.sh: jj live did not start:" >&2
					cat "$log" >&2
					exit 1
				fi
				sleep 0.1
			done
			if ! sent=$(in_ns "$BENCH_DIR/jjreplay" -i jjtx -d "$SECS" -pps "$pps" "$capture" 2> "$rlog"); then
				echo "bench/live.sh: jjreplay failed:" >&2
				cat "$rlog" "$log" >&2
				exit 1
			fi
			# /usr/bin/time ignores SIGINT: send it to jj, its child (ip netns
			# exec runs time in its own process).
			jjpid=$(pgrep -P "$timed" || true)
			[ -z "$jjpid" ] || kill -INT "$jjpid"
			if ! wait "$timed"; then
				echo "bench/live.sh: jj live failed:" >&2
				cat "$log" >&2
				exit 1
			fi
			timed=
			line=$(awk -v sent="$sent" -v secs="$SECS" '
				/packets captured/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "packets" && $(i+2) == "captured,") c = $i; if ($(i+1) == "dropped") d = $i } }
				/^TIME/ { cpu = $3 + $4; rss = $5 }
				END {
					split(sent, s, " "); rate = s[2] / s[7]
					printf "%.0f %d %d %.1f %.2f %.0f", rate, c, d, (c > 0 ? cpu * 1e9 / c : 0), cpu / secs, rss / 1024 }' "$log")
			read -r r c d ns cores rss <<< "$line"
			# Keep the round with the least CPU a packet.
			if [ -z "$best" ] || awk -v a="$ns" -v b="${best[3]}" 'BEGIN { exit !(a < b) }'; then
				best=("$r" "$c" "$d" "$ns" "$cores" "$rss")
			fi
		done
		printf "%-10s %-9s %12s %12s %10s %11s %7s %9s\n" "$rate" "$features" "${best[@]}"
	done
done
rm -f "$BENCH_DIR/live.csv" "$BENCH_DIR/live.log" "$BENCH_DIR/replay.log"
