#!/usr/bin/env bash
# Runs jj and the flow meters installed on this machine side by side on the
# same captures, interleaved, and prints each one's packets/s.
#
#   bench/peers.sh                       # the reference-size capture
#   bench/peers.sh my.pcap other.pcap    # your own captures
#
# Peers, each run when found on PATH (Debian: apt-get install softflowd
# nfdump): softflowd (NetFlow export to the UDP discard port of
# 127.0.0.1, flow table as large as 2 M flows so that none is expired
# early, no control socket: with one, Debian's softflowd 1.1.0 reading a
# file may block in accept() at start, depending on its arguments), nfpcapd (from nfdump, writing nfcapd files to a scratch folder)
# and Tranalyzer2 (`tranalyzer`, writing to a scratch folder). For the
# Python JoyfulJay, set JOYFULJAY to the command that runs its extractor,
# e.g. JOYFULJAY="python3 -m joyfuljay extract"; it is given the capture
# and `-o FILE`.
#
# Every tool reads the capture from the page cache (the capture is read
# with cat before each run) and writes its output to a file. Each line is
# the fastest and the median of $REPEAT rounds (default 5); a round runs
# every tool once, so that a slow moment of the machine falls on all of
# them. Packets/s is the capture's packet count over the wall time of the
# whole process, start-up and the end of the input included.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/jj-bench}
NCPU=$(nproc)
mkdir -p "$BENCH_DIR"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
go build -o "$BENCH_DIR/jj" ./cmd/jj
go build -o "$BENCH_DIR/jjgen" ./cmd/jjgen

captures=("$@")
if [ ${#captures[@]} -eq 0 ]; then
	# The size of the peers' reference capture in the issue: 214 000
	# packets, mean frame 633 bytes.
	ref="$BENCH_DIR/ref-214000.pcap"
	if [ ! -s "$ref" ]; then
		"$BENCH_DIR/jjgen" -o "$ref" -packets 214000 -flows 2000 -ipv6 0.2 -frame 633 -seed 1 2>/dev/null
	fi
	captures=("$ref")
fi

# The tools, as NAME=COMMAND lines; %f is the capture, %o an output path.
tools=(
	"jj (1 worker)=$BENCH_DIR/jj extract %f -w 1 -o %o.csv"
	"jj ($NCPU workers)=$BENCH_DIR/jj extract %f -w $NCPU -o %o.csv"
)
if command -v softflowd > /dev/null; then
	tools+=("softflowd=softflowd -r %f -d -6 -m 2000000 -n 127.0.0.1:9 -c none -p %o.pid")
fi
if command -v nfpcapd > /dev/null; then
	tools+=("nfpcapd=nfpcapd -r %f -w %o.d")
fi
if command -v tranalyzer > /dev/null; then
	tools+=("tranalyzer=tranalyzer -r %f -w %o.d/")
fi
if [ -n "${JOYFULJAY:-}" ]; then
	tools+=("JoyfulJay=$JOYFULJAY %f -o %o.csv")
fi

# wall COMMAND...: runs the command, output discarded, and prints its wall
# time in seconds; a failing tool is reported and left out.
wall() {
	local start end
	start=$(date +%s.%N)
	if ! "$@" > "$scratch/log" 2>&1; then
		echo "FAIL"
		return
	fi
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }'
}

echo "jj against its peers: $NCPU CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for f in "${captures[@]}"; do
	packets=$("$BENCH_DIR/jj" info "$f" | sed -n 's/^packets: *\([0-9]*\).*/\1/p')
	echo "capture: $f ($packets packets, $(du -h "$f" | cut -f1))"
	declare -A times=()
	for _ in $(seq "$REPEAT"); do
		for t in "${tools[@]}"; do
			name=${t%%=*}
			cmd=${t#*=}
			out="$scratch/out"
			rm -rf "$out".*
			mkdir -p "$out.d"
			cmd=${cmd//%f/$f}
			cmd=${cmd//%o/$out}
			cat "$f" > /dev/null
			# shellcheck disable=SC2086 # the command is split on purpose
			times[$name]+="$(wall $cmd) "
		done
	done
	for t in "${tools[@]}"; do
		name=${t%%=*}
		# shellcheck disable=SC2086
		printf '%s\n' ${times[$name]} | sort -n | awk -v n="$name" -v p="$packets" '
			/FAIL/ { failed = 1; next }
			{ a[++k] = $1 }
			END {
				if (failed || k == 0) { printf "  %-18s failed (see its own output)\n", n; exit }
				printf "  %-18s %8.3f s fastest %8.3f s median  %12.0f packets/s (fastest)  %12.0f (median)\n",
					n, a[1], a[int((k + 1) / 2)], p / a[1], p / a[int((k + 1) / 2)] }'
	done
	unset times
done
