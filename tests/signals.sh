#!/bin/sh
# signals.sh - what signals do to the long-running commands: SIGHUP ends
# serve and vhost-user exactly as SIGTERM does (connections reset, sockets
# removed, exit 0), and SIGPIPE never kills them: a capture reader that goes
# away stops the capture with one message while serving goes on. Needs
# socat; without it the test is skipped (77).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-signals-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; cd /; rm -rf "$work"' EXIT

# One echo session on the main socket; prints what came back.
echo_session() {
	printf 'CONNECT 52\n%s\n' "$1" | socat -t 30 - UNIX-CONNECT:./v.sock
}

# Is process $1 running (not exited, not a zombie waiting to be reaped)?
alive() { grep -q '^State:[^Z]*$' "/proc/$1/status" 2>/dev/null; }
gone() { ! alive "$1"; }

# --- serve: SIGHUP resets the open connection and removes every socket ---
"$emu" serve -q --guest-connect ./g.sock=1234 2>hup.err &
pid=$!
wait_for test -S ./g.sock || { cat hup.err; exit 99; }
# A host client that stays connected: its stdin is a FIFO held open here.
mkfifo held.fifo
exec 3<>held.fifo
socat -t 0.2 - UNIX-CONNECT:./v.sock <held.fifo >held.out &
spid=$!
printf 'CONNECT 52\n' >&3
wait_for grep -q '^OK' held.out
kill -HUP "$pid"
wait "$pid"
rc=$?
pid=""
check "serve: SIGHUP exits 0 (got $rc)" test $rc -eq 0
check "serve: SIGHUP removes the main socket" test ! -e ./v.sock
check "serve: SIGHUP removes the --guest-connect socket" test ! -e ./g.sock
wait_for gone "$spid"
check "serve: SIGHUP closed the host client's connection" gone "$spid"
exec 3>&-
wait "$spid" 2>/dev/null

# --- serve --pcap - | head -c 100: the reader leaves, serving goes on ---
# head reads from a FIFO so that its end is known: once it has exited,
# nobody reads the capture and the next record meets EPIPE.
mkfifo cap.fifo
head -c 100 <cap.fifo >head.out &
hpid=$!
rm -f ./v.sock	# left behind if the SIGHUP checks failed
"$emu" serve -q --pcap - >cap.fifo 2>pipe.err &
pid=$!
wait_for test -S ./v.sock || { cat pipe.err; exit 99; }
check "serve --pcap -: an echo session while the reader reads" \
    sh -c "test \"\$(printf 'CONNECT 52\nfirst\n' | socat -t 30 - \
    UNIX-CONNECT:./v.sock | tail -n 1)\" = first"
wait_for gone "$hpid"
check "the capture reader took its 100 bytes and left" \
    test "$(wc -c <head.out)" -eq 100
echo_session second >second.out
check "serve survives its capture reader leaving (no SIGPIPE)" \
    alive "$pid"
check "a full echo session after the reader left" \
    sh -c 'head -n 1 second.out | grep -q "^OK [0-9]*$" &&
    test "$(tail -n 1 second.out)" = second'
echo_session third >third.out
check "and another" test "$(tail -n 1 third.out)" = third
check "one clear message says the capture stopped ($(cat pipe.err))" \
    sh -c 'test "$(wc -l <pipe.err)" -eq 1 &&
    grep -q "capture stopped.*serving goes on" pipe.err'
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "serve exits 0 after the capture stopped (got $rc)" test $rc -eq 0
check "no second message at exit" test "$(wc -l <pipe.err)" -eq 1

# --- vhost-user: SIGPIPE ignored; SIGHUP ends it like SIGTERM ---
rm -f ./v.sock
"$emu" vhost-user -q --socket ./vhu.sock 2>vhu.err &
pid=$!
wait_for test -S ./v.sock || { cat vhu.err; exit 99; }
# SigIgn is a hex mask, bit (n - 1) for signal n: SIGPIPE is 13.
ign=$(awk '/^SigIgn:/ { print $2 }' /proc/$pid/status)
check "vhost-user ignores SIGPIPE (a call fd nobody reads cannot kill it)" \
    test $(( 0x$ign >> 12 & 1 )) -eq 1
kill -HUP "$pid"
wait "$pid"
rc=$?
pid=""
check "vhost-user: SIGHUP exits 0 (got $rc)" test $rc -eq 0
check "vhost-user: SIGHUP removes both sockets" \
    sh -c 'test ! -e ./vhu.sock && test ! -e ./v.sock'
exit $fail
