#!/bin/sh
# selftest.sh - the program end to end: `vsockemu selftest` must pass, its
# options must be checked, and --help/--version must answer.
set -u
emu=${top_builddir:-.}/emu/vsockemu
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

check "--version prints the version" sh -c "$emu --version | grep -q '^vsockemu '"
check "--help lists selftest" sh -c "$emu --help | grep -q selftest"
check "selftest passes" sh -c "$emu selftest --chains 20000 -q | grep -q '20000/20000 chains ok, \([0-9]*\)/\1 malformed'"
check "unknown command exits 2" sh -c "$emu frobnicate 2>/dev/null; test \$? -eq 2"
check "bad --queue-size exits 2" sh -c "$emu selftest --queue-size 3 2>/dev/null; test \$? -eq 2"
check "no arguments exits 2" sh -c "$emu 2>/dev/null; test \$? -eq 2"
# vhost-user: listens for QEMU, and SIGTERM removes both sockets.
dir=$(mktemp -d /tmp/vsockemu-vhu-XXXXXX)
"$emu" vhost-user -vv --socket "$dir/vhu.sock" --uds "$dir/v.sock" \
    2>"$dir/err" &
pid=$!
# Waits (bounded) until the log has $1 $2 times.
wait_log() {
	i=0
	# Before the program opened its log, count 0 (grep -c alone says
	# nothing for a missing file, which ended the wait at once).
	while [ "$(cat "$dir/err" 2>/dev/null | grep -c "$1")" -lt "$2" ] &&
	    [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
}
wait_log "waiting for QEMU" 1
check "vhost-user listens on --socket and --uds" \
    sh -c "test -S '$dir/vhu.sock' && test -S '$dir/v.sock'"
if command -v socat >/dev/null 2>&1; then
	# No QEMU yet, then one that came and went: a host CONNECT is
	# refused both times (closed, no OK) and vsockemu lives on.
	r=$(printf 'CONNECT 52\n' | socat -t 5 - "UNIX-CONNECT:$dir/v.sock")
	check "vhost-user: CONNECT before any QEMU is closed without OK" \
	    test -z "$r"
	socat -u /dev/null "UNIX-CONNECT:$dir/vhu.sock"
	wait_log "front-end gone" 1
	r=$(printf 'CONNECT 52\n' | socat -t 5 - "UNIX-CONNECT:$dir/v.sock")
	check "vhost-user: CONNECT after QEMU left is closed without OK" \
	    test -z "$r"
	check "vhost-user survives both" kill -0 $pid
	socat -u /dev/null "UNIX-CONNECT:$dir/vhu.sock"
	wait_log "front-end gone" 2
	check "vhost-user accepts the next front-end" \
	    test "$(grep -c 'front-end connected' "$dir/err")" -eq 2
	# One front-end at a time: a second QEMU is closed, and told why.
	mkfifo "$dir/hold"
	socat -u "OPEN:$dir/hold" "UNIX-CONNECT:$dir/vhu.sock" &
	hold=$!
	exec 3> "$dir/hold"
	wait_log "front-end connected" 3
	socat -u /dev/null "UNIX-CONNECT:$dir/vhu.sock"
	wait_log "one front-end at a time" 1
	check "vhost-user: a second front-end is refused, saying why" \
	    grep -q "one front-end at a time" "$dir/err"
	exec 3>&-
	wait $hold
	wait_log "front-end gone" 3
	# A front-end that stops mid-message is dropped (after 1 s), not
	# waited on forever.
	mkfifo "$dir/stall"
	socat -u "OPEN:$dir/stall" "UNIX-CONNECT:$dir/vhu.sock" &
	stall=$!
	exec 4> "$dir/stall"
	printf 'abcde' >&4
	wait_log "front-end gone: short message header" 1
	check "vhost-user: a front-end stalling mid-header is dropped" \
	    grep -q "front-end gone: short message header" "$dir/err"
	exec 4>&-
	wait $stall
	# One that asks and never reads the replies is dropped too (it used
	# to block vsockemu in send() for good, SIGTERM included). 786,432
	# bytes of GET_FEATURES (request 1, version 1, size 0), doubled up.
	printf '\001\000\000\000\001\000\000\000\000\000\000\000' > "$dir/flood"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		cat "$dir/flood" "$dir/flood" > "$dir/flood2"
		mv "$dir/flood2" "$dir/flood"
	done
	mkfifo "$dir/deaf"
	socat -u "OPEN:$dir/deaf" "UNIX-CONNECT:$dir/vhu.sock" &
	deaf=$!
	exec 5> "$dir/deaf"
	cat "$dir/flood" >&5 2>/dev/null &
	wait_log "front-end gone: cannot send a reply" 1
	check "vhost-user: a front-end that never reads replies is dropped" \
	    grep -q "front-end gone: cannot send a reply" "$dir/err"
	exec 5>&-
	kill $deaf 2>/dev/null
	wait $deaf 2>/dev/null
else
	echo "SKIP: socat not installed (vhost-user without a front-end)"
fi
kill -TERM $pid
wait $pid
check "vhost-user exits 0 on SIGTERM" test $? -eq 0
check "vhost-user removes its sockets" \
    sh -c "test ! -e '$dir/vhu.sock' && test ! -e '$dir/v.sock'"
check "vhost-user without --socket exits 2" \
    sh -c "$emu vhost-user 2>/dev/null; test \$? -eq 2"
rm -rf "$dir"
exit $fail
