#!/bin/sh
# run.sh - `make bench`: the benchmark table, replay and fuzzer speed, and
# instruction counts per packet from callgrind (stable across runs).
set -u
top=${top_builddir:-.}
bench=$top/tests/bench/bench
emu=$top/emu/vsockemu
"$bench" "$@" || exit 1

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Replay: a generated 1,000,000-frame trace, against libpcap alone reading it.
trace=$(mktemp /tmp/vsockemu-bench-XXXXXX.pcap)
"$top/tests/gen-vectors" bulk "$trace" 1000000 >/dev/null 2>&1
if [ -s "$trace" ]; then
	floor=$("$bench" --pcap-loop "$trace" | awk '{ print $5 }')
	t0=$(ms); "$emu" replay "$trace" >/dev/null; t1=$(ms)
	mb=$(( $(stat -c %s "$trace") / 1048576 ))
	awk -v r=$((t1 - t0)) -v f="$floor" -v mb=$mb 'BEGIN {
	    printf "%-40s %12.0f frames/s  %6.0f MB/s  bare libpcap %.0f frames/s  ratio %.2f\n",
	        "replay, 1M-frame trace", 1e6 / (r / 1e3), mb / (r / 1e3),
	        1e6 / (f / 1e9), (r * 1e6) / f }'
fi
rm -f "$trace"

# The built-in fuzzer's rate.
"$emu" fuzz --seconds 10 --seed 1 2>&1 | awk '/execs\/s/ {
    for (i = 1; i <= NF; i++) if ($i ~ /execs\/s/) printf "%-40s %12s execs/s\n", "fuzzer (built-in, seed 1)", $(i - 1) }'

if command -v valgrind >/dev/null 2>&1; then
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" \
	    --toggle-collect=vsock_device_kick "$bench" --only callgrind-packet \
	    >/dev/null 2>&1
	ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {
	    gsub(",", "", $1); print $1 }')
	rm -f "$out"
	[ -n "$ir" ] && echo "0-byte control packet, instructions (callgrind): $((ir / 100000))"
fi
# vsockemu run's row (its own file: tests/bench/run-bench.sh).
top_builddir=$top sh "$(dirname "$0")/run-bench.sh"
exit 0
