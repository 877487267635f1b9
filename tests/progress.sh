#!/bin/sh
# progress.sh - fuzz and multi-trace replay print a progress line every 10 s
# on stderr when it is not a terminal, none with -q. The clock is the test's
# (VSOCKEMU_TEST_CLOCK_STEP: each reading advances so many milliseconds), so
# the lines do not depend on the machine's speed.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-progress.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
err=$tmp/err

. "${top_srcdir:-.}/tests/lib.sh"

# Six traces, 4 s a reading: the clock reads 4 at the start, then 8, 12, 16,
# 20, 24 after each trace; lines are due at 14 and 24 (no line after the
# last trace: the totals follow).
VSOCKEMU_TEST_CLOCK_STEP=4000 "$emu" replay "$vec"/emu-*.pcap > /dev/null 2> "$err"
check "replay: exit 0" test $? -eq 0
printf '%s\n' \
    "vsockemu replay: 12 s: 3 of 6 traces: 3 passed, 0 diverged, 0 unusable" \
    "vsockemu replay: 20 s: 5 of 6 traces: 5 passed, 0 diverged, 0 unusable" \
    > "$tmp/want"
check "replay: a line every 10 s, counting verdicts" cmp -s "$err" "$tmp/want"
VSOCKEMU_TEST_CLOCK_STEP=4000 "$emu" replay -q "$vec"/emu-*.pcap > /dev/null 2> "$err"
check "replay -q: no progress line" test ! -s "$err"
VSOCKEMU_TEST_CLOCK_STEP=60000 "$emu" replay "$vec/emu-echo.pcap" > /dev/null 2> "$err"
check "replay of one trace: no progress line" test ! -s "$err"
VSOCKEMU_TEST_CLOCK_STEP=9000 "$emu" replay "$vec"/emu-*.pcap > /dev/null 2> "$err"
check "replay: 9 s a trace, one line per crossing of 10 s (4 of 5 gaps)" \
    test "$(grep -c '^vsockemu replay: [0-9]* s: ' "$err")" -eq 4

# fuzz: one reading per run, 1 s each.
VSOCKEMU_TEST_CLOCK_STEP=1000 "$emu" fuzz --runs 35 > /dev/null 2> "$err"
check "fuzz: exit 0" test $? -eq 0
check "fuzz: a line at 10, 20 and 30 s" test \
    "$(sed 's/, [0-9]* execs.*//' "$err" | tr '\n' '/')" = \
    "vsockemu fuzz: 10 s: runs 10/vsockemu fuzz: 20 s: runs 20/vsockemu fuzz: 30 s: runs 30/"
check "... each with findings, cells and pool" \
    test "$(grep -c '^vsockemu fuzz: [0-9]* s: runs [0-9]*, [0-9]* execs/s, findings [0-9]*, op x state cells [0-9]*/[0-9]*, pool [0-9]*$' "$err")" -eq 3
VSOCKEMU_TEST_CLOCK_STEP=1000 "$emu" fuzz -q --runs 35 > /dev/null 2> "$err"
check "fuzz -q: no progress line" test ! -s "$err"
VSOCKEMU_TEST_CLOCK_STEP=1000 "$emu" fuzz --seconds 20 > "$tmp/out" 2> "$err"
check "fuzz --seconds 20 on the test's clock: 20 runs, exactly" \
    grep -q '^runs 20 in 20.0 s' "$tmp/out"

# serve and vhost-user with -v (issue 18 item 6): a liveness line every
# --progress-interval MS while stderr is no terminal, with the device's
# counters; none without -v. Waited for with a bounded poll, never a sleep.
if command -v socat > /dev/null 2>&1; then
	mkfifo "$tmp/ready"
	"$emu" serve -v --uds "$tmp/v.sock" --progress-interval 20 \
	    --ready-fd 3 3> "$tmp/ready" 2> "$err" &
	pid=$!
	timeout 30 head -n 1 "$tmp/ready" > /dev/null
	printf 'CONNECT 52\nhello\n' | socat -t 5 - UNIX-CONNECT:"$tmp/v.sock" \
	    > "$tmp/out"
	check "serve -v: a liveness line with the echo's counters" wait_for \
	    grep -q '^vsockemu serve: [0-9]* s: connections 0 open, 1 total, bytes 6 to host, 6 to guest$' "$err"
	kill -TERM $pid; wait $pid
	check "serve -v: exit 0" test $? -eq 0
	"$emu" serve --uds "$tmp/v.sock" --progress-interval 1 \
	    --ready-fd 3 3> "$tmp/ready" 2> "$err" &
	pid=$!
	timeout 30 head -n 1 "$tmp/ready" > /dev/null
	printf 'CONNECT 52\nhello\n' | socat -t 5 - UNIX-CONNECT:"$tmp/v.sock" \
	    > "$tmp/out"
	kill -TERM $pid; wait $pid
	check "serve without -v: served the echo" grep -q '^hello$' "$tmp/out"
	check "serve without -v: no liveness line" \
	    sh -c "! grep -q ' s: connections' '$err'"
fi
"$emu" vhost-user -v --socket "$tmp/vhu.sock" --uds "$tmp/h.sock" \
    --progress-interval 20 2> "$err" &
pid=$!
check "vhost-user -v: a liveness line, no front-end yet" wait_for \
    grep -q '^vsockemu vhost-user: [0-9]* s: no front-end$' "$err"
kill -TERM $pid; wait $pid
for cmd in serve vhost-user; do
	"$emu" $cmd --progress-interval 0 2> "$err"
	check "$cmd --progress-interval 0: exit 2" test $? -eq 2
done
exit $fail
