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
# file may block in accept() at start, depending on its arguments),
# nfpcapd (from nfdump, writing nfcapd files to a scratch folder) and
# Tranalyzer2 (`tranalyzer`, writing to a scratch folder). For the Python
# JoyfulJay, set JOYFULJAY to the command that runs its extractor, e.g.
# JOYFULJAY="python3 -m joyfuljay extract"; it is given the capture and
# `-o FILE`.
#
# Every tool reads the capture from the page cache (the capture is read
# with cat before each run); jj, nfpcapd, Tranalyzer2 and JoyfulJay write
# their output to files, softflowd sends it over UDP. Each line is the
# fastest and the median of $REPEAT rounds (default 5); a round runs every
# tool once, so that a slow moment of the machine falls on all of them.
# Packets/s is the capture's packet count over the wall time of the whole
# process, start-up and the end of the input included. A tool that fails
# in any round is reported as failed, with the path of its output.
set -euo pipefail
REPEAT=${REPEAT:-5}
BENCH_DIR=$(realpath -m "${BENCH_DIR:-/tmp/jj-bench}")
captures=()
for f in "$@"; do
	captures+=("$(realpath -e "$f")") # before the cd below
done
cd "$(dirname "$0")/.."
. bench/lib.sh
if ! [ "$REPEAT" -ge 1 ] 2> /dev/null; then
	echo "peers.sh: REPEAT must be a whole number of rounds, at least 1" >&2
	exit 2
fi
NCPU=$(nproc)
mkdir -p "$BENCH_DIR"
logs="$BENCH_DIR/peers-logs"
rm -rf "$logs"
mkdir -p "$logs"
go build -o "$BENCH_DIR/jj" ./cmd/jj
go build -o "$BENCH_DIR/jjgen" ./cmd/jjgen

if [ ${#captures[@]} -eq 0 ]; then
	# The size of the peers' reference capture in the issue: 214 000
	# packets, mean frame 633 bytes.
	ref="$BENCH_DIR/ref-214000.pcap"
	if [ ! -s "$ref" ]; then
		# Written aside and renamed once whole, so that an interrupted
		# run leaves no short capture for the next to take.
		"$BENCH_DIR/jjgen" -o "$ref.part" -packets 214000 -flows 2000 -ipv6 0.2 -frame 633 -seed 1 2> /dev/null
		mv "$ref.part" "$ref"
	fi
	captures=("$ref")
fi

tools=("jj (1 worker)" "jj ($NCPU workers)")
command -v softflowd > /dev/null && tools+=(softflowd)
command -v nfpcapd > /dev/null && tools+=(nfpcapd)
command -v tranalyzer > /dev/null && tools+=(tranalyzer)
[ -n "${JOYFULJAY:-}" ] && tools+=(JoyfulJay)

# run TOOL CAPTURE OUT: runs one tool on one capture; OUT is a scratch
# folder for what it writes.
run() {
	local f=$2 out=$3
	case $1 in
	"jj (1 worker)") "$BENCH_DIR/jj" extract "$f" -w 1 -o "$out/flows.csv" ;;
	"jj ($NCPU workers)") "$BENCH_DIR/jj" extract "$f" -w "$NCPU" -o "$out/flows.csv" ;;
	softflowd) softflowd -r "$f" -d -6 -m 2000000 -n 127.0.0.1:9 -c none -p "$out/softflowd.pid" ;;
	nfpcapd) nfpcapd -r "$f" -w "$out" ;;
	tranalyzer) tranalyzer -r "$f" -w "$out/" ;;
	JoyfulJay)
		# shellcheck disable=SC2086 # the command is words on purpose
		$JOYFULJAY "$f" -o "$out/flows.csv"
		;;
	esac
}

# wall TOOL CAPTURE LOG: runs the tool and prints its wall time in
# seconds, or FAIL; the output of a failed run is kept in LOG.
wall() {
	local out start
	out=$(mktemp -d)
	now_us
	start=$now
	if ! run "$1" "$2" "$out" > "$out.log" 2>&1; then
		mv "$out.log" "$3"
		rm -rf "$out"
		echo FAIL
		return
	fi
	now_us
	rm -rf "$out" "$out.log"
	awk -v s="$start" -v e="$now" 'BEGIN { printf "%.4f\n", (e - s) / 1e6 }'
}

echo "jj against its peers: $NCPU CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for c in "${!captures[@]}"; do
	f=${captures[$c]}
	packets=$("$BENCH_DIR/jj" info "$f" | sed -n 's/^packets: *\([0-9][0-9]*\).*/\1/p')
	if [ -z "$packets" ]; then
		echo "peers.sh: jj info did not count the packets of $f" >&2
		exit 1
	fi
	echo "capture: $f ($packets packets, $(du -h "$f" | cut -f1))"
	times=()
	for _ in $(seq "$REPEAT"); do
		for t in "${!tools[@]}"; do
			cat "$f" > /dev/null
			times[t]+="$(wall "${tools[t]}" "$f" "$logs/$c-$t.log") "
		done
	done
	for t in "${!tools[@]}"; do
		# shellcheck disable=SC2086 # one time a word
		printf '%s\n' ${times[t]} | sort -n | awk -v n="${tools[t]}" -v p="$packets" -v lg="$logs/$c-$t.log" '
			/FAIL/ { failed = 1; next }
			{ a[++k] = $1 }
			END {
				if (failed || k == 0) { printf "  %-18s failed: see %s\n", n, lg; exit }
				med = k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
				printf "  %-18s %8.3f s fastest %8.3f s median  %12.0f packets/s (fastest)  %12.0f (median)\n",
					n, a[1], med, p / a[1], p / med }'
	done
done
