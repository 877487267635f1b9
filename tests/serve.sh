#!/bin/sh
# serve.sh - `vsockemu serve` end to end with real socat, as Firecracker's
# users drive a microVM. Needs socat; without it the test is skipped (77).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
slow=$(cd "${top_builddir:-.}" && pwd)/tests/slow-reader
peer=$(cd "${top_builddir:-.}" && pwd)/tests/seqpacket-peer
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-serve-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""


start() {
	bg_ready ./ready "$emu" serve -q --ready-fd 9 "$@" 2>serve.err
	rc=$?
	pid=$bg_pid
	[ $rc -eq 0 ] || { cat serve.err; return 1; }
}

stop() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	pid=""
	return $rc
}
helpers=""	# background servers the trap must end too
trap 'stop; [ -n "$helpers" ] && kill $helpers 2>/dev/null; cd /; rm -rf "$work"' EXIT

# Sends stdin to guest port $1 through CONNECT and prints what comes back.
host_call() {
	socat -t 30 -T 60 - UNIX-CONNECT:./v.sock
}

# --- host -> guest echo, 10 MiB, and the OK line ---
start || exit 99
head -c 10485760 /dev/urandom > in.bin
{ printf 'CONNECT 52\n'; cat in.bin; } | host_call > out.bin
check "first connection gets 'OK 1073741824'" \
    sh -c 'head -c 14 out.bin | grep -q "^OK 1073741824$"'
tail -c +15 out.bin > echo.bin
check "10 MiB echo, sha256 equal" \
    test "$(sha256sum < in.bin)" = "$(sha256sum < echo.bin)"

# --- refused and malformed CONNECT lines: closed without OK ---
printf 'CONNECT 9999\n' | socat -t 5 - UNIX-CONNECT:./v.sock > refused.out
check "CONNECT to a port nobody listens on: closed, no OK" \
    test ! -s refused.out
for line in '\n' 'CONN\n' 'connect -1\n' 'connect 4294967296\n' \
    'connect 52x\n' 'CONNECT\n' 'FOO 52\n' 'CONNECT                        1'; do
	printf "$line" | socat -t 5 - UNIX-CONNECT:./v.sock > bad.out
	check "malformed line '$line': closed, no OK" test ! -s bad.out
done
printf 'CONNECT 52\nstill here\n' | host_call > again.out
check "still serving after the bad lines" grep -q "still here" again.out

# --- a CONNECT line dribbled one byte at a time ---
{ for c in C o N n E c T ' ' 5 2; do printf '%s' "$c"; sleep 0.02; done
  printf '\ndribbled\n'; } | host_call > dribble.out
check "dribbled CONNECT line works" grep -q "^dribbled$" dribble.out

# --- 200 concurrent host connections to the echo service ---
head -c 65536 /dev/urandom > small.bin
i=0
calls=""
while [ $i -lt 200 ]; do
	{ printf 'CONNECT 52\n'; cat small.bin; } | host_call > "c$i.out" &
	calls="$calls $!"
	i=$((i + 1))
done
# Each ends by itself (host_call's socat: -t 30 -T 60).
wait $calls
ok=0
i=0
want=$(sha256sum < small.bin)
while [ $i -lt 200 ]; do
	[ "$(tail -c +15 "c$i.out" | sha256sum)" = "$want" ] && ok=$((ok + 1))
	i=$((i + 1))
done
check "200 concurrent connections byte-exact ($ok/200)" test $ok -eq 200

# --- SIGTERM: exit 0, no socket files left ---
check "SIGTERM exits 0" stop
check "SIGTERM leaves no socket files" test ! -e ./v.sock

# --- guest -> host: --guest-connect to PATH_1234, both ways, half-close ---
socat -u UNIX-LISTEN:./v.sock_1234 CREATE:g2h.out &
lpid=$!
wait_for test -S ./v.sock_1234
start --guest-connect ./guest.sock=1234 || exit 99
# serve makes ./v.sock before the --guest-connect socket: a client that
# came at once found no ./guest.sock, and the sink waited for ever (CI,
# under ASan). start waits for serve's readiness line, said after every
# socket; a sender that fails ends the sink too.
head -c 1048576 /dev/urandom > g2h.bin
socat -t 30 -u OPEN:g2h.bin UNIX-CONNECT:./guest.sock || kill "$lpid"
wait "$lpid"
check "guest->host via --guest-connect: 1 MiB byte-exact" \
    test "$(sha256sum < g2h.bin)" = "$(sha256sum < g2h.out)"
# Both directions with half-close: the host side replies after EOF.
socat UNIX-LISTEN:./v.sock_1234 SYSTEM:'cat >h.got; printf reply' &
lpid=$!
wait_for test -S ./v.sock_1234
printf 'question' | socat -t 30 - UNIX-CONNECT:./guest.sock > answer.out ||
    kill "$lpid"
wait "$lpid"
check "half-close: host got the question after guest EOF" \
    test "$(cat h.got)" = "question"
check "half-close: guest got the reply after its own EOF" \
    test "$(cat answer.out)" = "reply"
stop

# --- SEQPACKET: real SOCK_SEQPACKET clients, message boundaries both ways ---
# Host clients of SEQPACKET services use UDS.seqpacket (the main socket is
# SOCK_STREAM, Firecracker's); bridges and guest connections to UDS_PORT
# are SOCK_SEQPACKET too. seqpacket-peer checks every message whole.
"$peer" echo-server ./sp.sock &
sppid=$!
"$peer" echo-server ./v.sock_1234 &
gspid=$!
helpers="$sppid $gspid"
wait_for test -S ./sp.sock && wait_for test -S ./v.sock_1234 || exit 99
start --guest 52=echo --guest 60=echo,seqpacket \
    --guest 61=unix:./sp.sock,seqpacket \
    --guest-connect ./gs.sock=1234,seqpacket || exit 99
wait_for test -S ./v.sock.seqpacket
check "seqpacket: host -> guest echo service, boundaries kept" \
    "$peer" client ./v.sock.seqpacket 60
check "seqpacket: host -> unix: bridge to a SOCK_SEQPACKET server" \
    "$peer" client ./v.sock.seqpacket 61
check "seqpacket: guest -> host, reaching UDS_1234 as SOCK_SEQPACKET" \
    "$peer" client ./gs.sock
printf 'CONNECT 52\nstream\n' | host_call > mixed.out
check "seqpacket: a STREAM service on the main socket still echoes" \
    test "$(tail -n 1 mixed.out)" = stream
printf 'CONNECT 60\n' | socat -t 5 - UNIX-CONNECT:./v.sock > mismatch.out
check "STREAM CONNECT to a SEQPACKET service: closed, no OK (Linux RSTs)" \
    test ! -s mismatch.out
check "SEQPACKET CONNECT to a STREAM service: closed, no OK" \
    sh -c "! '$peer' client ./v.sock.seqpacket 52 2>/dev/null"
stop
check "SIGTERM removes the SEQPACKET socket too" test ! -e ./v.sock.seqpacket
start --seqpacket || exit 99
wait_for test -S ./v.sock.seqpacket
check "--seqpacket: CONNECT 52 from a SOCK_SEQPACKET client, echoed" \
    "$peer" client ./v.sock.seqpacket 52
stop
kill $helpers
wait $helpers 2>/dev/null
helpers=""
rm -f ./sp.sock ./v.sock_1234

# --- a client that never finishes its line is closed at the timeout ---
start --line-timeout 300 || exit 99
# A FIFO held open keeps the client's stdin alive: only the emulator can
# end this connection.
mkfifo line.fifo
exec 3<>line.fifo
printf 'CONN' >&3
t0=$(date +%s%N)
timeout 9 socat -t 0.2 - UNIX-CONNECT:./v.sock < line.fifo > partial.out
t1=$(date +%s%N)
exec 3>&-
ms=$(( (t1 - t0) / 1000000 ))
check "unfinished line closed after the timeout (${ms} ms, no OK)" \
    sh -c "test $ms -ge 250 && test $ms -lt 9000 && test ! -s partial.out"
stop

# --- a slow host reader gets 8 MiB intact; memory stays bounded ---
start --guest 60=source:8388608 || exit 99
"$slow" ./v.sock 60 8388608 1024 1000 > slow.out &
spid=$!
peak=0
while kill -0 "$spid" 2>/dev/null; do
	rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
	[ "$rss" -gt "$peak" ] && peak=$rss
	sleep 0.2
done
wait "$spid"
src=$?
check "slow reader: 8 MiB intact ($(cat slow.out) bytes)" test $src -eq 0
check "slow reader: emulator RSS bounded (peak ${peak} KiB < 65536)" \
    test "$peak" -lt 65536

# --- idle: no CPU over 2 s ---
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 2
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
check "idle serve uses ~0% CPU ($((after - before)) ticks in 2 s)" \
    test $((after - before)) -le 5
stop

# --- at the fd limit: clients wait (no spin, one message), all served ---
# 40 clients that stay connected, an fd limit of 32: some must wait in the
# listen backlog. Each client's stdin stays open until hold.fifo closes.
(ulimit -n 32 && exec "$emu" serve -q) 2>fdlim.err &
pid=$!
wait_for test -S ./v.sock || { cat fdlim.err; exit 99; }
mkfifo hold.fifo
exec 3<>hold.fifo
i=0
while [ $i -lt 40 ]; do
	# (A client holding fd 3, the FIFO's writer, would never see its
	# end; `exec` closes it for good, where `{ } 3>&-` keeps a copy.)
	{ exec 3>&-; printf 'CONNECT 52\nhello %d\n' $i; cat hold.fifo; } |
	    socat -t 30 - UNIX-CONNECT:./v.sock > "fd$i.out" 3>&- &
	i=$((i + 1))
done
wait_for grep -q "cannot accept" fdlim.err
served=$(cat fd*.out | grep -c '^hello')
check "fd limit: $served of 40 served, the rest wait" test "$served" -lt 40
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 1
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
check "fd limit: no busy loop ($((after - before)) ticks in 1 s)" \
    test $((after - before)) -le 10
exec 3>&-	# every client ends its input: fds come free
all_served() { test "$(cat fd*.out | grep -c '^hello')" -eq 40; }
wait_for all_served
check "fd limit: all 40 served once fds came free" all_served
check "fd limit: said once ($(cat fdlim.err))" \
    sh -c 'test "$(wc -l < fdlim.err)" -eq 1 &&
    grep -q "Too many open files (fd limit 32)" fdlim.err'
stop
rm -f hold.fifo fd*.out

# --- --pcap: the device's packets, readable by dump and by Wireshark ---
start --pcap cap.pcap || exit 99
printf 'CONNECT 52\nHello\n' | host_call > /dev/null
check "SIGTERM with --pcap exits 0" stop
check "recorded capture decodes with vsockemu dump" \
    sh -c "'$emu' dump cap.pcap > cap.dump"
check "recorded capture has the session (REQUEST ... RST)" \
    sh -c 'grep -q " REQUEST " cap.dump && grep -q " RW .*len 6 " cap.dump &&
    grep -q " RST " cap.dump'
if command -v tshark >/dev/null 2>&1; then
	# Wireshark's dissector and our reader must agree on every frame.
	tshark -r cap.pcap -T fields -e vsock.virtio.op -e vsock.virtio.src_cid \
	    -e vsock.virtio.dst_cid -e vsock.virtio.len \
	    -e vsock.virtio.buf_alloc -e vsock.virtio.fwd_cnt 2>/dev/null \
	    > cap.tshark
	awk 'BEGIN { n["REQUEST"]=1; n["RESPONSE"]=2; n["RST"]=3;
	    n["SHUTDOWN"]=4; n["RW"]=5; n["CREDIT_UPDATE"]=6;
	    n["CREDIT_REQUEST"]=7 }
	    { split($3, s, ":"); split($5, d, ":");
	      for (i = 1; i <= NF; i++) {
	        if ($i == "len") l = $(i + 1);
	        if ($i == "buf_alloc") b = $(i + 1);
	        if ($i == "fwd_cnt") f = $(i + 1) }
	      print n[$7] "\t" s[1] "\t" d[1] "\t" l "\t" b "\t" f }' \
	    cap.dump > cap.ours
	check "tshark and vsockemu dump agree on all $(wc -l < cap.ours) frames" \
	    sh -c 'test -s cap.ours && cmp -s cap.ours cap.tshark'
else
	echo "SKIP: tshark cross-check (tshark not installed)"
fi

# --- recorder and replayer agree: serve --pcap, then replay --strict ---
start --pcap loop.pcap || exit 99
printf 'CONNECT 52\nHello loop\n' | host_call > /dev/null
printf 'CONNECT 7\n' | host_call > /dev/null
head -c 200000 /dev/urandom > loop.bin
{ printf 'CONNECT 52\n'; cat loop.bin; } | host_call > loop.out
stop
check "recorded session echoed 200 KB intact" \
    sh -c 'tail -c +15 loop.out | cmp -s - loop.bin'
check "replay --strict of serve's own recording passes" \
    sh -c "'$emu' replay --strict loop.pcap > loop.report"
check "replay (semantic) of serve's own recording passes" \
    sh -c "'$emu' replay loop.pcap > /dev/null"
grep -q "^PASS" loop.report || cat loop.report

# --- a killed emulator's capture is readable up to its last record ---
start --pcap killed.pcap || exit 99
printf 'CONNECT 52\nbefore the kill\n' | host_call > /dev/null
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=""
rm -f v.sock
check "capture of a SIGKILLed emulator reads cleanly" \
    sh -c "'$emu' dump killed.pcap | grep -q ' RW .*len 16 '"

# --- --guest-thread: the guest on its own thread, same bytes, clean stop ---
start --guest-thread --guest 52=echo --guest 60=source:8388608 \
    --control ./ctl.sock || exit 99
{ printf 'CONNECT 52\n'; cat in.bin; } | host_call > gt-echo.out
check "--guest-thread: 10 MiB echo, sha256 equal" \
    sh -c 'tail -c +15 gt-echo.out | cmp -s - in.bin'
printf 'CONNECT 60\n' | socat -t 30 -T 60 - UNIX-CONNECT:./v.sock \
    > gt-source.out
check "--guest-thread: source sends 8 MiB" \
    test "$(tail -c +15 gt-source.out | wc -c)" -eq 8388608
"$emu" ctl ./ctl.sock pause-rx > /dev/null
"$emu" ctl ./ctl.sock resume-rx > /dev/null
printf 'CONNECT 52\nafter resume\n' | host_call > gt-resume.out
check "--guest-thread: serving after a --control pause-rx / resume-rx" \
    grep -q "after resume" gt-resume.out
check "--guest-thread: --control stats answers" \
    sh -c "'$emu' ctl ./ctl.sock stats | grep -q '\"conns_opened\":3'"
check "--guest-thread: SIGTERM stops it with status 0" stop
check "--guest-thread: not with --vm" sh -c \
    "! '$emu' serve --guest-thread --vm cid=5,uds=./vm.sock 2>/dev/null"

# --- --halt-poll-ns: the guest thread's poll; 0 sleeps at once ---
start --guest-thread --halt-poll-ns 0 --guest 52=echo || exit 99
{ printf 'CONNECT 52\n'; cat in.bin; } | host_call > gt0-echo.out
check "--halt-poll-ns 0: 10 MiB echo, sha256 equal" \
    sh -c 'tail -c +15 gt0-echo.out | cmp -s - in.bin'
check "--halt-poll-ns 0: SIGTERM stops it with status 0" stop
for a in "--halt-poll-ns 1000" "--guest-thread --halt-poll-ns x" \
    "--guest-thread --halt-poll-ns 10000001" "--guest-thread --halt-poll-ns -1"; do
	"$emu" serve $a > /dev/null 2>&1
	check "serve $a is refused (2)" test $? -eq 2
done
exit $fail
