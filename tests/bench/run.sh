#!/bin/sh
# run.sh - `make bench`: every case in a fresh process, CPU time against
# baselines of the same sizes, instruction counts from callgrind, replay and
# fuzzer speed; prints the table and writes bench.json (doc/performance.md).
#
# Adding rows (e.g. replay's): a section below calls
#     row KEY VALUE BASELINE UNIT WHAT...
# once per figure (BASELINE 0 when there is none). KEY becomes a top-level
# key of bench.json and a line of the table; nothing else needs to change.
#
#   run.sh [BENCH_OPTION...]             every section
#   run.sh --replay-only [OPTION...]     the machine and replay's rows only,
#                                        OPTIONs to replay-bench.sh
#                                        (tests/bench-rows.sh uses it)
set -u
replay_only=false
if [ "${1:-}" = --replay-only ]; then
	replay_only=true
	shift
fi
top=${top_builddir:-.}
bench=$top/tests/bench/bench
emu=$top/emu/vsockemu
json=${BENCH_JSON:-bench.json}
rows=$(mktemp /tmp/vsockemu-bench-rows-XXXXXX)
status=0
trap 'rm -f "$rows"' EXIT

# One row of the table and of bench.json.
row() {
	printf '%s %s %s %s %s\n' "$1" "$2" "$3" "$4" "$(shift 4; echo "$*")" \
	    >>"$rows"
}

# The machine's state: the figures are CPU time, but a loaded machine
# still shows in caches and in the wall-clock rows.
read -r load1 load5 load15 _ </proc/loadavg
row load_avg_1m "$load1" 0 load "load average at start (1 min; 5 min $load5)"
row cpus "$(getconf _NPROCESSORS_ONLN)" 0 cpus "online CPUs"

# Every other section, unless --replay-only (left unindented, as they
# were).
if ! $replay_only; then
# The cases, each in its own process (bench forks one per case).
"$bench" --rows "$rows" "$@" >/dev/null || exit 1

# Instructions per control packet: callgrind counts vsock_device_kick in a
# run of 100,000 packets and in one of none (the connections' setup), and
# the difference is the packets' alone.
if command -v valgrind >/dev/null 2>&1; then
	ir() {
		out=$(mktemp /tmp/vsockemu-bench-cg-XXXXXX)
		valgrind --tool=callgrind --callgrind-out-file="$out" \
		    --toggle-collect=vsock_device_kick "$bench" --only "$1" \
		    >/dev/null 2>&1
		callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {
		    gsub(",", "", $1); print $1 }'
		rm -f "$out"
	}
	n=$(ir callgrind-ctl)
	z=$(ir callgrind-ctl0)
	if [ -n "$n" ] && [ -n "$z" ]; then
		row ctl_instructions "$(( (n - z) / 100000 ))" 0 instructions \
		    "0-byte control packet (callgrind, setup subtracted)"
		row ctl_instructions_with_setup "$(( n / 100000 ))" 0 \
		    instructions "the same counted as before 2026-12 (setup in)"
	fi
fi


# The built-in fuzzer's rate.
rate=$("$emu" fuzz --seconds 10 --seed 1 2>&1 | awk '/execs\/s/ {
    for (i = 1; i <= NF; i++) if ($i ~ /execs\/s/) print $(i - 1) }')
[ -n "$rate" ] && row fuzz_execs "$rate" 0 execs/s "built-in fuzzer, seed 1"

# vsockemu run's row (its own file: tests/bench/run-bench.sh).
top_builddir=$top sh "$(dirname "$0")/run-bench.sh" --rows "$rows" || {
	echo "make bench: the vsockemu run rows failed (tests/bench/run-bench.sh)" >&2
	status=1
}

fi

# Replay's rows, from a script of their own (CPU time of whole processes,
# best of 5): replay_fps, replay_vs_libpcap, replay_instr_ratio. They go
# in as rows, before bench.json is written: run after it, with --json,
# they were missing from any bench.json or output read before the last
# minutes of a loaded run, and a failure of theirs went unseen (make
# bench exited 0). Now a failure fails make bench.
status=${status:-0}
$replay_only || set --
srcdir=${srcdir:-$(dirname "$0")/../..} top_builddir=$top \
    sh "$(dirname "$0")/replay-bench.sh" --rows "$rows" "$@" || {
	echo "make bench: the replay rows failed (tests/bench/replay-bench.sh)" >&2
	status=1
}

# The table, then bench.json: every key at the top level, and the rows.
awk '{ what = $5; for (i = 6; i <= NF; i++) what = what " " $i
    v = $2 ~ /^-?[0-9][0-9.e+-]*$/ ? sprintf("%14.4g", $2) : sprintf("%14s", "null")
    printf "%-26s %s %-9s %s\n", $1, v, $4, what }' "$rows"
awk 'BEGIN { print "{" }
    { what = $5; for (i = 6; i <= NF; i++) what = what " " $i
      gsub(/["\\]/, "", what)
      num = "^-?[0-9][0-9.e+-]*$"
      key[NR] = $1; val[NR] = $2 ~ num ? $2 : "null"
      base[NR] = $3 ~ num ? $3 : "null"; unit[NR] = $4; w[NR] = what }
    END {
      for (i = 1; i <= NR; i++)
        printf "  \"%s\": %s,\n", key[i], val[i]
      print "  \"rows\": ["
      for (i = 1; i <= NR; i++)
        printf "    { \"name\": \"%s\", \"value\": %s, \"baseline\": %s, \"unit\": \"%s\", \"what\": \"%s\" }%s\n",
            key[i], val[i], base[i], unit[i], w[i], i < NR ? "," : ""
      print "  ]"
      print "}" }' "$rows" >"$json"
echo "wrote $json"
exit $status
