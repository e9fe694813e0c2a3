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
#
# Each tool's line ends with its peak RSS (MB of 2^20 bytes), from one
# more run of it under GNU time (/usr/bin/time; Debian's time package),
# not timed: time's own fork and exec, 1-2 ms, would weigh on a small
# capture's times. It is that of the tool's largest process, "-" without
# GNU time, "failed" if that run failed. jj's counts the pages of the
# capture it maps while it reads them (page cache, handed back as it
# goes: bench/flat.sh).
#
# After each capture's lines come what the issue checks in one run:
#   - jj's output, the same bytes in every round with 1 and N workers
#     (the SHA-256 of each run's output, kept in peers-logs); a
#     difference says JJ OUTPUT DIFFERS, and the script ends with status
#     1 after its last line, as it does when a run of jj fails or writes
#     no output, which leaves the check undone;
#   - jj with N workers against one, from their fastest rounds and from
#     their medians (with one CPU there is no N-worker run to compare);
#   - jj's faster mode against the peer whose fastest round was fastest,
#     among those that ran every round: fastest against fastest, median
#     against median.
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
status=0
mkdir -p "$BENCH_DIR"
logs="$BENCH_DIR/peers-logs"
rm -rf "$logs"
mkdir -p "$logs"
# Static, as the README installs it: a build that links the C library
# (cgo, Go's default where a C compiler is installed) starts about 1 ms
# later a run, 3 % of the reference-size capture's time.
CGO_ENABLED=0 go build -o "$BENCH_DIR/jj" ./cmd/jj
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

tools=("jj (1 worker)")
[ "$NCPU" -gt 1 ] && tools+=("jj ($NCPU workers)")
njj=${#tools[@]} # jj's tools come first
command -v softflowd > /dev/null && tools+=(softflowd)
command -v nfpcapd > /dev/null && tools+=(nfpcapd)
command -v tranalyzer > /dev/null && tools+=(tranalyzer)
[ -n "${JOYFULJAY:-}" ] && tools+=(JoyfulJay)

# command_of TOOL CAPTURE OUT: sets argv to the command that runs one tool
# on one capture; OUT is a scratch folder for what it writes.
command_of() {
	local f=$2 out=$3
	case $1 in
	"jj (1 worker)") argv=("$BENCH_DIR/jj" extract "$f" -w 1 -o "$out/flows.csv") ;;
	"jj ($NCPU workers)") argv=("$BENCH_DIR/jj" extract "$f" -w "$NCPU" -o "$out/flows.csv") ;;
	softflowd) argv=(softflowd -r "$f" -d -6 -m 2000000 -n 127.0.0.1:9 -c none -p "$out/softflowd.pid") ;;
	nfpcapd) argv=(nfpcapd -r "$f" -w "$out") ;;
	tranalyzer) argv=(tranalyzer -r "$f" -w "$out/") ;;
	JoyfulJay)
		# shellcheck disable=SC2206 # the command is words on purpose
		argv=($JOYFULJAY "$f" -o "$out/flows.csv")
		;;
	esac
}

# run TOOL CAPTURE OUT: runs one tool on one capture.
run() {
	local -a argv
	command_of "$@"
	"${argv[@]}"
}

# wall TOOL CAPTURE LOG: runs the tool and prints its wall time in
# seconds, or FAIL; the output of a failed run is kept in LOG. jj's
# output's SHA-256 is added to LOG.sha, one line a run.
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
	case $1 in
	jj*)
		if [ -f "$out/flows.csv" ]; then
			sha "$out/flows.csv"
		else
			echo "no output"
		fi >> "$3.sha"
		;;
	esac
	rm -rf "$out" "$out.log"
	awk -v s="$start" -v e="$now" 'BEGIN { printf "%.4f\n", (e - s) / 1e6 }'
}

# peak TOOL CAPTURE: runs the tool once more under GNU time and prints its
# peak RSS in kB, failed if the run failed, or - without GNU time.
gnutime=0
gnu_time && gnutime=1
peak() {
	local out kb=failed
	local -a argv
	[ "$gnutime" = 1 ] || { echo -; return; }
	out=$(mktemp -d)
	command_of "$1" "$2" "$out"
	if /usr/bin/time -f %M -o "$out.rss" "${argv[@]}" > /dev/null 2>&1; then
		kb=$(tail -n 1 "$out.rss")
	fi
	rm -rf "$out" "$out.rss"
	echo "$kb"
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
	fast=() med=()
	for t in "${!tools[@]}"; do
		# shellcheck disable=SC2086 # one time a word
		read -r "fast[t]" "med[t]" < <(printf '%s\n' ${times[t]} | sort -n | awk '
			/FAIL/ { failed = 1; next }
			{ a[++k] = $1 }
			END {
				if (failed || k == 0) { print "FAIL FAIL"; exit }
				print a[1], k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }')
		if [ "${fast[t]}" = FAIL ]; then
			printf '  %-18s failed: see %s\n' "${tools[t]}" "$logs/$c-$t.log"
			continue
		fi
		awk -v n="${tools[t]}" -v p="$packets" -v f="${fast[t]}" -v m="${med[t]}" -v kb="$(peak "${tools[t]}" "$f")" 'BEGIN {
			printf "  %-18s %8.3f s fastest %8.3f s median  %12.0f packets/s (fastest)  %12.0f (median)  peak RSS %s\n",
				n, f, m, p / f, p / m, kb ~ /^[0-9]+$/ ? sprintf("%.1f MB", kb / 1024) : kb }'
	done
	# The issue's checks: jj's output whatever the workers, N workers
	# against one, and jj against the fastest peer.
	jjok=1
	for ((t = 0; t < njj; t++)); do
		if [ "${fast[t]}" = FAIL ]; then
			echo "  jj's output: not checked, ${tools[t]} failed in a round (see $logs/$c-$t.log)"
			jjok=0 status=1
		fi
	done
	shas=()
	for ((t = 0; t < njj; t++)); do
		shas+=("$logs/$c-$t.log.sha")
	done
	if [ "$jjok" = 1 ] && grep -q "no output" "${shas[@]}"; then
		echo "  jj's output: not checked, jj wrote no output in a run"
		jjok=0 status=1
	fi
	if [ "$jjok" = 1 ]; then
		runs=$(cat "${shas[@]}" | wc -l)
		outs=$(sort -u "${shas[@]}" | wc -l)
		modes="1 and $NCPU workers"
		[ "$njj" -gt 1 ] || modes="1 worker (one CPU: no run with more to compare)"
		if [ "$outs" -eq 1 ]; then
			echo "  jj's output: the same bytes in all $runs runs, $modes (SHA-256 $(head -c 16 "${shas[0]}")...)"
		else
			echo "  JJ OUTPUT DIFFERS: $outs different outputs in $runs runs, $modes"
			status=1
		fi
	fi
	if [ "$njj" -gt 1 ] && [ "${fast[0]}" != FAIL ] && [ "${fast[1]}" != FAIL ]; then
		awk -v n="$NCPU" -v f1="${fast[0]}" -v m1="${med[0]}" -v fn="${fast[1]}" -v mn="${med[1]}" 'BEGIN {
			printf "  jj, %d workers against 1: %.2f times as fast (fastest), %.2f (median)\n", n, f1 / fn, m1 / mn }'
	fi
	best=-1 peer=-1
	for t in "${!tools[@]}"; do
		[ "${fast[t]}" = FAIL ] && continue
		if [ "$t" -lt "$njj" ]; then
			if [ "$best" -lt 0 ] || awk -v a="${fast[t]}" -v b="${fast[best]}" 'BEGIN { exit !(a < b) }'; then
				best=$t
			fi
		elif [ "$peer" -lt 0 ] || awk -v a="${fast[t]}" -v b="${fast[peer]}" 'BEGIN { exit !(a < b) }'; then
			peer=$t
		fi
	done
	if [ "${#tools[@]}" -eq "$njj" ]; then
		echo "  no peer installed to compare with"
	elif [ "$peer" -lt 0 ]; then
		echo "  no peer ran every round to compare with"
	elif [ "$best" -ge 0 ]; then
		awk -v j="${tools[best]}" -v p="${tools[peer]}" -v fj="${fast[best]}" -v mj="${med[best]}" -v fp="${fast[peer]}" -v mp="${med[peer]}" 'BEGIN {
			printf "  %s against the fastest peer, %s: %.2f times as fast (fastest), %.2f (median)\n", j, p, fp / fj, mp / mj }'
	fi
done
[ "$gnutime" = 1 ] || echo "peak RSS: not measured, GNU time (/usr/bin/time) not found"
exit "$status"
