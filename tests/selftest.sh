#!/bin/sh
# selftest.sh - the program end to end: `vsockemu selftest` must pass, its
# options must be checked, and --help/--version must answer.
set -u
emu=${top_builddir:-.}/emu/vsockemu
fail=0

check() {
	desc=$1; shift
	if "$@"; then echo "PASS: $desc"; else echo "FAIL: $desc"; fail=1; fi
}

check "--version prints the version" sh -c "$emu --version | grep -q '^vsockemu '"
check "--help lists selftest" sh -c "$emu --help | grep -q selftest"
check "selftest passes" sh -c "$emu selftest --chains 20000 -q | grep -q '20000/20000 chains ok, \([0-9]*\)/\1 malformed'"
check "unknown command exits 2" sh -c "$emu frobnicate 2>/dev/null; test \$? -eq 2"
check "bad --queue-size exits 2" sh -c "$emu selftest --queue-size 3 2>/dev/null; test \$? -eq 2"
check "no arguments exits 2" sh -c "$emu 2>/dev/null; test \$? -eq 2"
# vhost-user: listens for QEMU, and SIGTERM removes both sockets.
dir=$(mktemp -d /tmp/vsockemu-vhu-XXXXXX)
"$emu" vhost-user -q --socket "$dir/vhu.sock" --uds "$dir/v.sock" &
pid=$!
i=0
while [ ! -S "$dir/vhu.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "vhost-user listens on --socket and --uds" \
    sh -c "test -S '$dir/vhu.sock' && test -S '$dir/v.sock'"
kill -TERM $pid
wait $pid
check "vhost-user exits 0 on SIGTERM" test $? -eq 0
check "vhost-user removes its sockets" \
    sh -c "test ! -e '$dir/vhu.sock' && test ! -e '$dir/v.sock'"
check "vhost-user without --socket exits 2" \
    sh -c "$emu vhost-user 2>/dev/null; test \$? -eq 2"
rm -rf "$dir"
exit $fail
