#!/bin/sh
# bench-rows.sh - make bench's replay rows reach bench.json: run.sh
# --replay-only on a small trace writes replay_fps, replay_vs_libpcap and
# replay_instr_ratio as numbers, and a failure of replay-bench.sh fails it.
# (Issue 20: the rows were added to bench.json after it was written and
# printed, and a failure of theirs left make bench's exit status 0.)
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-bench-rows.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

. "$src/tests/lib.sh"

# bench ARGS...: run.sh --replay-only ARGS, bench.json in $tmp.
bench() {
	BENCH_JSON=$tmp/bench.json srcdir=$src top_builddir=$top \
	    sh "$src/tests/bench/run.sh" --replay-only "$@" \
	    >"$tmp/out" 2>"$tmp/err"
}

# has_number KEY: bench.json has KEY at the top level with a number.
has_number() {
	grep -Eq "^  \"$1\": [0-9][0-9.e+-]*,\$" "$tmp/bench.json"
}

# valgrind cannot run a sanitizer build: the instructions row is null.
cg=
valgrind --tool=none -q "$top/emu/vsockemu" --version >/dev/null 2>&1 ||
    cg=--no-callgrind
bench --frames 500 --rounds 1 $cg
check "run.sh --replay-only exits 0" test $? -eq 0
check "nothing on stderr" test ! -s "$tmp/err"
check "replay_fps in bench.json, a number" has_number replay_fps
check "replay_vs_libpcap in bench.json, a number" \
    has_number replay_vs_libpcap
if [ -z "$cg" ]; then
	check "replay_instr_ratio in bench.json, a number" \
	    has_number replay_instr_ratio
else
	check "replay_instr_ratio in bench.json (null: valgrind cannot run)" \
	    grep -q '^  "replay_instr_ratio": null,$' "$tmp/bench.json"
fi
check "the table shows replay_vs_libpcap" \
    grep -q '^replay_vs_libpcap ' "$tmp/out"
check "bench.json is written last" \
    test "$(tail -n 1 "$tmp/out")" = "wrote $tmp/bench.json"

# The cases' rows and the ratios derived from them (bench --quick moves
# 16 MiB a case): issue 20's keys are there, as numbers. They once went
# missing in silence: the table was full before the ratios were derived.
"$top/tests/bench/bench" --quick --rows "$tmp/rows" >/dev/null 2>"$tmp/berr"
check "bench --quick exits 0" test $? -eq 0
for k in g2h_64k_ratio h2g_64k_ratio g2h_4k_ratio h2g_4k_ratio ctl_ns \
    conn10k_ratio g2h_64k_thread_wall_ratio h2g_64k_thread_wall_ratio \
    conn_rss_bytes serve_conn_rss_bytes syscall_ns \
    g2h_64k_thread_host_linux_wall_ratio h2g_64k_thread_host_linux_wall_ratio \
    g2h_64k_thread_floor_ratio g2h_64k_thread_linux_floor_ratio \
    h2g_64k_thread_floor_ratio g2h_64k_thread_vs_own_floor \
    h2g_64k_thread_vs_own_floor g2h_64k_thread_linux_vs_own_floor \
    g2h_64k_window_floor_ratio g2h_64k_vs_window_floor \
    g2h_64k_thread_sleep_wall_ratio h2g_64k_thread_sleep_wall_ratio \
    g2h_64k_thread_host_sleep_wall_ratio h2g_64k_thread_host_sleep_wall_ratio \
    h2g_64k_thread_linux_vs_own_floor; do
	check "bench's rows have $k, a number" \
	    grep -Eq "^$k -?[0-9][0-9.e+-]* " "$tmp/rows"
done
# A paired ratio is the median of the rounds (4 a CPU by default), each
# round the baseline then the cases measured against it, pinned to one
# CPU: KEY_min <= KEY <= KEY_max, and the row says how many it is the
# median of.
ncpu=$(nproc)
nr=$((ncpu * 4 > 32 ? 32 : ncpu * 4))
for k in g2h_64k_ratio h2g_64k_ratio g2h_4k_ratio h2g_4k_ratio \
    h2g_64k_bigbuf_ratio g2h_64k_linux_ratio h2g_64k_linux_ratio \
    conn10k_ratio conn10k_strided_ratio ctl_vs_ring copy_floor_64k_ratio \
    g2h_64k_vs_floor h2g_64k_vs_floor g2h_64k_aligned_ratio \
    g2h_64k_floor_ratio h2g_64k_floor_ratio g2h_64k_vs_own_floor \
    h2g_64k_vs_own_floor g2h_64k_thread_wall_ratio h2g_64k_thread_wall_ratio \
    g2h_64k_thread_host_wall_ratio h2g_64k_thread_host_wall_ratio \
    g2h_64k_thread_floor_ratio h2g_64k_thread_floor_ratio \
    g2h_64k_thread_vs_own_floor h2g_64k_thread_vs_own_floor \
    g2h_64k_window_floor_ratio g2h_64k_vs_window_floor \
    g2h_64k_thread_sleep_wall_ratio h2g_64k_thread_sleep_wall_ratio; do
	check "$k is the median of $nr rounds" \
	    grep -Eq "^$k [0-9.e+-]+ 0 ratio .*; median of $nr( on [0-9]+ CPUs)?\$" \
	    "$tmp/rows"
	check "${k}_min <= $k <= ${k}_max" awk -v k="$k" '
	    $1 == k { v = $2 } $1 == k "_min" { lo = $2 }
	    $1 == k "_max" { hi = $2 }
	    END { exit !(lo != "" && hi != "" && lo + 0 <= v + 0 &&
	        v + 0 <= hi + 0) }' "$tmp/rows"
done
# One round is the run's own pair: min, median and max are one value.
"$top/tests/bench/bench" --quick --rounds 1 --rows "$tmp/rows1" \
    >/dev/null 2>"$tmp/berr"
check "bench --rounds 1 exits 0" test $? -eq 0
check "one round: g2h_64k_ratio = its min = its max" awk '
    $1 == "g2h_64k_ratio" { v = $2; m = $0 ~ /median of 1$/ }
    $1 == "g2h_64k_ratio_min" { lo = $2 } $1 == "g2h_64k_ratio_max" { hi = $2 }
    END { exit !(m && v == lo && v == hi) }' "$tmp/rows1"
for a in "--rounds 0" "--rounds 33" "--rounds x" "--rounds 2x" \
    "--cpu 99999" "--cpu x"; do
	"$top/tests/bench/bench" $a >/dev/null 2>"$tmp/berr"
	check "bench $a is refused" test $? -eq 2
done
# A case of one thread runs on one CPU (the one --cpu names); a case of
# threads may use every CPU the run may.
cpu=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
"$top/tests/bench/bench" --only affinity --cpu "${cpu:-0}" >"$tmp/aff"
check "a one-thread case may use one CPU" \
    grep -q '^affinity_cpus 1 ' "$tmp/aff"
check "the one --cpu names" grep -q "^affinity_cpu ${cpu:-0} " "$tmp/aff"
"$top/tests/bench/bench" --only affinity >"$tmp/aff"
check "pinned without --cpu too" grep -q '^affinity_cpus 1 ' "$tmp/aff"
"$top/tests/bench/bench" --only affinity-threads >"$tmp/aff"
check "a case of threads may use all $ncpu" \
    grep -q "^affinity_cpus $ncpu " "$tmp/aff"
# A table too small for the rows fails bench and says so.
VSE_BENCH_ROWS_MAX=1 "$top/tests/bench/bench" --only pair_4k \
    >/dev/null 2>"$tmp/berr"
check "a full row table fails bench" test $? -ne 0
check "and says so" grep -q 'more than 1 rows' "$tmp/berr"

# A binary that cannot run: replay-bench.sh fails, and so does run.sh.
bench --frames 500 --rounds 1 $cg --base "$tmp/no-such-vsockemu"
check "a failed replay row fails run.sh" test $? -ne 0
check "and says so" grep -q 'the replay rows failed' "$tmp/err"
exit $fail
