#!/bin/sh
# vhost-user.sh - `vsockemu vhost-user` against hostile front-ends
# (tests/vhu-frontend): memory that is not there, memory taken away, a
# kick fd that errors for ever. The process must live on, say why once,
# and serve the next front-end.
set -u
emu=${top_builddir:-.}/emu/vsockemu
fe=${top_builddir:-.}/tests/vhu-frontend
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

dir=$(mktemp -d /tmp/vsockemu-vhu-XXXXXX)
"$emu" vhost-user --socket "$dir/vhu.sock" --uds "$dir/v.sock" \
    --log "$dir/ev.jsonl" 2>"$dir/err" &
pid=$!

# Issue 14 item 2: it died of SIGBUS (exit 135) on the first kick.
check "a region past the end of its file: connection closed" \
    "$fe" "$dir/vhu.sock" past-eof
check "... saying which region and why" grep -q "front-end gone: memory \
region 0: offset 0 + size 1048576 is past the end of its file (4096 bytes)" \
    "$dir/err"
check "... and vsockemu lives on" kill -0 $pid

check "memory truncated under running rings: session ended, err fds signalled" \
    "$fe" "$dir/vhu.sock" truncate
check "... saying which region was lost" grep -q "front-end gone: memory \
region 0 (guest 0x100000, 1048576 bytes) lost: the front-end shrank its file \
under our mapping" "$dir/err"
check "... and vsockemu lives on" kill -0 $pid

# Issue 14 item 5: the loop spun on the kick fd until the front-end left.
check "a kick fd in error: the back-end still answers" \
    "$fe" "$dir/vhu.sock" kick-error

# Issue 14 item 3: an interrupt into a pipe nobody reads was SIGPIPE (141).
check "a call fd whose reader is gone: the back-end still answers" \
    "$fe" "$dir/vhu.sock" call-pipe
check "... and vsockemu lives on" kill -0 $pid
kill -TERM $pid
wait $pid
check "vhost-user exits 0 on SIGTERM" test $? -eq 0
check "the failed kick fd is reported once" test "$(grep -c \
    'queue 1: kick fd failed (Bad file descriptor): dropped' "$dir/err")" -eq 1
# The event log: each front-end attached and left, saying why (doc/events.md).
check "--log: 4 front-ends attached" test "$(grep -c \
    '"ev":"frontend-attached","cid":3}' "$dir/ev.jsonl")" -eq 4
check "--log: the one that shrank memory left, saying why" grep -q \
    '"ev":"frontend-left","cid":3,"why":"memory region 0 (guest 0x100000' \
    "$dir/ev.jsonl"
if command -v jq >/dev/null 2>&1; then
	check "--log: every line is schema 1" sh -c "jq -e -s -f \
	    '${top_srcdir:-.}/tests/events-schema.jq' '$dir/ev.jsonl' >/dev/null"
fi
if [ $fail -ne 0 ]; then
	echo "--- vsockemu's stderr"
	cat "$dir/err"
fi
rm -rf "$dir"
exit $fail
