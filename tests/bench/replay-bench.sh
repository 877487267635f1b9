#!/bin/sh
# replay-bench.sh - make bench's replay rows: frames per CPU second, and CPU time and instructions against a bare libpcap loop.
#
#   replay-bench.sh [--json FILE] [--rows FILE] [--base OLD_VSOCKEMU]
#                   [--frames N] [--rounds N] [--no-callgrind]
#
# replay_fps          frames of the bundled traces (testvectors/, matrix/)
#                     per CPU second of one `vsockemu replay -q` over them all
# replay_vs_libpcap   CPU time of `vsockemu replay -q T` / CPU time of a
#                     program that only reads every record of T with
#                     pcap_next_ex (replay-bench pcap-loop), T a generated
#                     bulk trace of N frames (1,000,000); best of 5 rounds
#                     (--rounds)
# replay_instr_ratio  the same as instruction counts (callgrind), on a
#                     trace of N/5 frames (callgrind is 50x slower)
# --no-callgrind leaves replay_instr_ratio null (a build valgrind cannot
# run: the sanitizers'), as it is without valgrind.
# --base B measures B (say, the binary before a change) in the same run
# and prints its rows beside. --json adds the keys to FILE (a JSON object,
# e.g. bench.json) or writes FILE with them alone; --rows appends them to
# FILE as run.sh keeps bench.json's rows ("KEY VALUE BASELINE UNIT WHAT"),
# which is how make bench takes them. A figure it cannot measure is an
# error (exit 1, and a line on stderr), never a row left out in silence.
set -u
top=${top_builddir:-.}
src=${srcdir:-$top}
emu=$top/emu/vsockemu
rb=$top/tests/bench/replay-bench
gen=$top/tests/gen-vectors
json= rowsfile= base= frames=1000000 rounds=5 callgrind=true

while [ $# -gt 0 ]; do
	case $1 in
	--json) json=$2; shift 2 ;;
	--base) base=$2; shift 2 ;;
	--rows) rowsfile=$2; shift 2 ;;
	--frames) frames=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--no-callgrind) callgrind=false; shift ;;
	*) echo "usage: replay-bench.sh [--json FILE] [--rows FILE] [--base VSOCKEMU] [--frames N] [--rounds N] [--no-callgrind]" >&2
	   exit 2 ;;
	esac
done

# Every program of these rows on one CPU (the first this script may use):
# a machine's CPUs may differ (this VM's two by 1.45x; bench.c's
# pin_cpu_for), and each row compares two programs.
if command -v taskset >/dev/null 2>&1; then
	cpu=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
	[ -n "$cpu" ] && taskset -pc "$cpu" $$ >/dev/null 2>&1
fi

tmp=$(mktemp -d /tmp/vsockemu-replay-bench-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "replay-bench: $*" >&2
	exit 1
}

# The smaller of a CPU time so far ($1, may be empty) and that of a command.
min_cpu() {
	prev=$1
	shift
	t=$("$rb" cpu "$@") && [ -n "$t" ] || fail "cannot time $*"
	awk -v a="$t" -v b="${prev:-$t}" 'BEGIN { print (a < b ? a : b) }'
}

# Instructions callgrind counts for a whole command.
instructions() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" \
	    >/dev/null 2>"$tmp/cg.err"
	awk '/Collected :/ { print $NF }' "$tmp/cg.err"
}

traces=$(ls "$src"/testvectors/*.pcap* "$src"/testvectors/matrix/*.pcap* \
    2>/dev/null)
"$gen" bulk "$tmp/bulk.pcap" "$frames" >/dev/null 2>&1
"$gen" bulk "$tmp/small.pcap" $((frames / 5)) >/dev/null 2>&1
if [ ! -s "$tmp/bulk.pcap" ] || [ -z "$traces" ]; then
	fail "no traces (gen-vectors or testvectors missing)"
fi
nbundled=$("$emu" dump $traces 2>/dev/null | grep -c '^[0-9]')
pcap_ir=
$callgrind && command -v valgrind >/dev/null 2>&1 &&
    { pcap_ir=$(instructions "$rb" pcap-loop "$tmp/small.pcap") &&
    [ -n "$pcap_ir" ] || fail "callgrind counted nothing for pcap-loop"; }

# CPU times, best of 5 rounds; in each round every program runs once, so a
# change in the machine's load falls on all of them alike.
pcap_cpu= base_bulk= base_all= new_bulk= new_all=
for _ in $(seq "$rounds"); do
	pcap_cpu=$(min_cpu "$pcap_cpu" "$rb" pcap-loop "$tmp/bulk.pcap") || exit 1
	if [ -n "$base" ]; then
		base_bulk=$(min_cpu "$base_bulk" "$base" replay -q "$tmp/bulk.pcap") || exit 1
		base_all=$(min_cpu "$base_all" "$base" replay -q $traces) || exit 1
	fi
	new_bulk=$(min_cpu "$new_bulk" "$emu" replay -q "$tmp/bulk.pcap") || exit 1
	new_all=$(min_cpu "$new_all" "$emu" replay -q $traces) || exit 1
done

# Prints one binary's rows; sets fps, cpu_ratio, ir_ratio.
rows() {
	bin=$1 label=$2 all=$3 bulk=$4
	fps=$(awk -v n="$nbundled" -v t="$all" 'BEGIN { printf "%.0f", n / t }')
	printf "%-40s %12s frames/CPU s  (%d frames, %.3f s)\n" \
	    "replay, bundled traces$label" "$fps" "$nbundled" "$all"
	cpu_ratio=$(awk -v a="$bulk" -v b="$pcap_cpu" 'BEGIN { printf "%.2f", a / b }')
	printf "%-40s %12.3f CPU s    bare libpcap %.3f s  ratio %s (target <= 3)\n" \
	    "replay, $frames-frame bulk trace$label" "$bulk" "$pcap_cpu" "$cpu_ratio"
	ir_ratio=null
	if [ -n "$pcap_ir" ]; then
		ir=$(instructions "$bin" replay -q "$tmp/small.pcap")
		[ -n "$ir" ] || fail "callgrind counted nothing for $bin"
		ir_ratio=$(awk -v a="$ir" -v b="$pcap_ir" 'BEGIN { printf "%.2f", a / b }')
		printf "%-40s %12s instr    bare libpcap %s  ratio %s (target <= 5)\n" \
		    "replay, $((frames / 5))-frame trace$label" "$ir" "$pcap_ir" "$ir_ratio"
	fi
}

if [ -n "$base" ]; then
	rows "$base" " (base)" "$base_all" "$base_bulk"
	base_fps=$fps base_cpu=$cpu_ratio base_ir=$ir_ratio
fi
rows "$emu" "" "$new_all" "$new_bulk"
if [ -n "$base" ]; then
	awk -v a="$base_cpu" -v b="$cpu_ratio" -v c="$base_ir" -v d="$ir_ratio" \
	    -v e="$base_fps" -v f="$fps" 'BEGIN {
	    printf "%-40s CPU %.2fx faster, %.2fx fewer instructions, fps %.2fx\n",
	        "replay, this binary against the base", a / b,
	        (d + 0 > 0 ? c / d : 0), f / e }'
fi

if [ -n "$rowsfile" ]; then
	{
	echo "replay_fps $fps 0 frames/s bundled traces per CPU second of replay -q"
	echo "replay_vs_libpcap $cpu_ratio 0 ratio replay -q CPU time vs a bare libpcap loop, $frames-frame bulk trace"
	echo "replay_instr_ratio $ir_ratio 0 ratio the same in instructions (callgrind), $((frames / 5)) frames"
	} >>"$rowsfile"
fi
[ -n "$json" ] || exit 0
keys="\"replay_fps\": $fps, \"replay_vs_libpcap\": $cpu_ratio, \"replay_instr_ratio\": $ir_ratio"
if [ -s "$json" ] && command -v python3 >/dev/null 2>&1; then
	python3 - "$json" "$fps" "$cpu_ratio" "$ir_ratio" <<'EOF'
import json, sys
path, fps, cpu, ir = sys.argv[1:]
with open(path) as f:
    doc = json.load(f)
doc.update(replay_fps=float(fps), replay_vs_libpcap=float(cpu),
           replay_instr_ratio=None if ir == "null" else float(ir))
with open(path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
EOF
else
	echo "{ $keys }" > "$json"
fi
