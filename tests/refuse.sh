#!/bin/sh
# refuse.sh - issue 18 item 1: a `serve --guest PORT=unix:PATH` bridge
# whose service is missing, is a regular file, does not listen or has a
# full backlog makes the simulated guest refuse (RST to the REQUEST, as
# Linux's guest with no listener), so a real socat client gets no OK line;
# each refusal is said once on stderr; a service that comes up later is
# used. Needs socat and python3 (77 without).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
svc=$(cd "${top_srcdir:-.}" && pwd)/tests/svc-unready.py
for t in socat python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done

work=$(mktemp -d /tmp/vsockemu-refuse-XXXXXX)
cd "$work" || exit 99
fail=0
pid="" helpers=""
trap 'exec 7>&- 2>/dev/null; [ -n "$pid" ] && kill $pid; [ -n "$helpers" ] && kill $helpers; wait; cd /; rm -rf "$work"' EXIT

: > file.sock
mkfifo hold
python3 "$svc" "$work/quiet.sock" "$work/full.sock" < hold > svc.out &
helpers=$!
exec 7> hold		# the helpers hold their sockets while 7 is open
wait_for grep -q ready svc.out || { echo "FAIL: helpers"; exit 99; }

bg_ready ./ready "$emu" serve --ready-fd 9 --pcap cap.pcap \
    --guest 1024=unix:"$work/missing.sock" \
    --guest 1025=unix:"$work/file.sock" \
    --guest 1026=unix:"$work/quiet.sock" \
    --guest 1027=unix:"$work/full.sock" 2> serve.err
rc=$?
pid=$bg_pid
[ $rc -eq 0 ] || { cat serve.err; exit 99; }

# connect PORT: what a host client gets back after "CONNECT PORT".
connect() {
	printf 'CONNECT %s\nhello\n' "$1" | socat -t 5 - UNIX-CONNECT:./v.sock
}

for way in 1024:missing 1025:regular-file 1026:not-listening \
    1027:backlog-full; do
	port=${way%%:*}
	for k in 1 2; do
		connect "$port" > out
		check "$way ($k): closed without an OK line" test ! -s out
	done
	check "$way: said once on stderr" \
	    test "$(grep -c "guest port $port refuses" serve.err)" -eq 1
done
check "missing: says why" grep -q \
    "guest port 1024 refuses connections: unix:$work/missing.sock: no such socket" serve.err
check "backlog full: says why" grep -q \
    "guest port 1027 refuses .*backlog is full" serve.err

# The service comes up: the next client is bridged, nothing cached.
socat UNIX-LISTEN:"$work/missing.sock",fork EXEC:cat &
helpers="$helpers $!"
wait_for test -S missing.sock || failed "socat listener"
connect 1024 > out
check "service up later: OK, then its echo" \
    sh -c 'head -1 out | grep -q "^OK " && grep -q "^hello$" out'
check "service up later: said so" \
    grep -q "guest port 1024 accepts connections again" serve.err

kill -TERM $pid; wait $pid; pid=""
# In the capture: the guest (CID 3) answered each refused REQUEST with RST.
rst=$("$emu" dump cap.pcap | grep -c '3:102[4-7] > 2:[0-9]* .*RST')
check "capture: 8 RSTs from the refusing ports (got $rst)" test "$rst" -eq 8
check "capture: no RESPONSE from a refusing port" \
    sh -c "! \"$emu\" dump cap.pcap | grep -q '3:102[5-7] > 2:[0-9]* .*RESPONSE'"

# -q: refused all the same, and nothing said.
mkfifo ready
"$emu" serve -q --uds ./q.sock --guest 1024=unix:"$work/nothing.sock" \
    --ready-fd 3 3> ready 2> q.err &
pid=$!
timeout 30 head -n 1 ready > /dev/null
printf 'CONNECT 1024\n' | socat -t 5 - UNIX-CONNECT:./q.sock > out
check "-q: closed without an OK line" test ! -s out
kill -TERM $pid; wait $pid; pid=""
check "-q: nothing said" test ! -s q.err
exit $fail
