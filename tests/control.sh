#!/bin/sh
# control.sh - `serve --control` and `vsockemu ctl` with real clients
# (socat, Python): each fault's effect on live host connections, and in
# the capture (`vsockemu dump`). Needs socat and python3 (else 77).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
client=$(cd "${top_srcdir:-.}" && pwd)/tests/control-client.py
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-control-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; cd /; rm -rf "$work"' EXIT

ctl() { "$emu" ctl ./c.sock "$@"; }
# json FILE EXPR: PASS when the Python expression holds for the answer j.
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

bg_ready ./ready "$emu" serve -q --ready-fd 9 --control ./c.sock \
    --pcap t.pcap --guest 52=echo --guest 53=echo 2>serve.err
rc=$?
pid=$bg_pid
[ $rc -eq 0 ] || { cat serve.err; exit 99; }

# --- answers, exit status, errors keep the connection ---
ctl stats > stats.json
check "stats: exit 0, one JSON object with the counters" \
    json stats.json 'j["ok"] and j["command"] == "stats" and j["cid"] == 3 and j["connections"] == 0'
ctl bogus > bogus.json
check "unknown command: exit 1" test $? -eq 1
check "... an error answer" json bogus.json 'not j["ok"] and "unknown command" in j["error"]'
ctl delay 52 > bad.json
check "bad argument: exit 1" test $? -eq 1
"$emu" ctl ./c.sock 2>/dev/null
check "no command: exit 2" test $? -eq 2
"$emu" ctl ./missing.sock stats 2>/dev/null
check "no socket: exit 2" test $? -eq 2
python3 "$client" session ./c.sock bogus 'refuse 99999999999' stats > session.out
check "one connection: three lines, three answers, errors in between" \
    sh -c 'test $(wc -l < session.out) -eq 3 && tail -n 1 session.out | grep -q "\"ok\":true,\"command\":\"stats\""'

# --- refuse PORT / accept PORT ---
ctl refuse 52 > /dev/null
printf 'CONNECT 52\n' | socat -t 5 - UNIX-CONNECT:./v.sock > refused.out
check "refuse 52: CONNECT 52 closed without OK" test ! -s refused.out
printf 'CONNECT 53\nfine\n' | socat -t 5 - UNIX-CONNECT:./v.sock > other.out
check "refuse 52: port 53 still served" grep -q '^fine$' other.out
ctl accept 52 > /dev/null
printf 'CONNECT 52\nback\n' | socat -t 5 - UNIX-CONNECT:./v.sock > back.out
check "accept 52: served again" grep -q '^back$' back.out

# --- delay PORT MS: the RESPONSE, and so the OK, comes MS later ---
ctl delay 53 400 > delay.json
check "delay 53 400: ok" json delay.json 'j["ok"] and j["ms"] == 400'
t=$(python3 "$client" connect-time ./v.sock 53)
check "delay 53 400: OK after ${t} s (>= 0.4)" \
    python3 -c "import sys; sys.exit(0 if 0.4 <= float('$t') < 10 else 1)"
ctl accept 53 > /dev/null
t=$(python3 "$client" connect-time ./v.sock 53)
check "accept 53 clears the delay (${t} s)" \
    python3 -c "import sys; sys.exit(0 if float('$t') < 0.4 else 1)"

# --- rst PORT: the guest resets established connections on that port ---
check "rst 52: the live host client on 52 sees its connection end" \
    python3 "$client" ended ./v.sock 52 -- "$emu" ctl ./c.sock rst 52

# --- reset cid=5 under live connections ---
python3 "$client" ended ./v.sock 52,53 -- "$emu" ctl ./c.sock reset cid=5 \
    > reset.json
check "reset cid=5: both live host clients see their connections end" \
    test $? -eq 0
check "... the answer names CID 5 and two dropped connections" \
    json reset.json 'j["ok"] and j["cid"] == 5 and j["conns_dropped"] == 2'
printf 'CONNECT 52\nafter reset\n' | socat -t 5 - UNIX-CONNECT:./v.sock > new.out
check "reset cid=5: a new connection works" grep -q '^after reset$' new.out
ctl stats > stats2.json
check "reset cid=5: the guest took TRANSPORT_RESET and reads CID 5" \
    json stats2.json 'j["cid"] == 5 and j["guest_transport_resets"] == 1'
check "reset cid=2: refused (reserved CID)" sh -c '! "$0" ctl ./c.sock reset cid=2 >/dev/null' "$emu"

# --- pause-rx / resume-rx: back-pressure, then everything ---
python3 "$client" backpressure ./v.sock ./c.sock "$emu" $pid > bp.out
check "pause-rx holds host data without spinning; resume-rx delivers all: $(tr '\n' ' ' < bp.out)" \
    test $? -eq 0

# --- a client that never reads does not stop the others ---
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.setblocking(False)
try:
    while True: s.send(b"stats\n" * 1000)
except BlockingIOError: pass
s.detach()
import time; time.sleep(30)' ./c.sock &
hog=$!
check "a control client that never reads: others still answered" \
    sh -c '"$0" ctl ./c.sock stats | grep -q "\"ok\":true"' "$emu"
kill $hog
wait $hog 2>/dev/null

kill -TERM $pid
wait $pid
rc=$?
check "serve exits 0 ($rc) and removes the control socket" \
    sh -c "test $rc -eq 0 && test ! -e ./c.sock"
pid=""

# --- the capture ---
"$emu" dump t.pcap > t.txt
check "capture: the refused REQUEST (RST), the held RESPONSE, the guest RST and CID 5" \
    python3 - t.txt <<'PY'
import re, sys
conns = {}
for line in open(sys.argv[1]):
    f = line.split()
    src, dst, op, t = f[2], f[4], f[6], float(f[1])
    host = src if src.startswith("2:") else dst
    guest = dst if host == src else src
    conns.setdefault(host, []).append((t, guest, op, src == host))
checks = {
    "refused": any([o for _, _, o, _ in c[:2]] == ["REQUEST", "RST"] and
                   c[0][1] == "3:52" for c in conns.values()),
    "delayed": any(c[0][2] == "REQUEST" and c[1][2] == "RESPONSE" and
                   c[1][0] - c[0][0] >= 0.4 and c[0][1] == "3:53"
                   for c in conns.values()),
    "guest rst": any(c[0][1] == "3:52" and "RW" in [o for _, _, o, _ in c]
                     and c[-1][2] == "RST" and not c[-1][3] and
                     "SHUTDOWN" not in [o for _, _, o, _ in c]
                     for c in conns.values()),
    "cid 5": any(c[0][1] == "5:52" and c[1][2] == "RESPONSE"
                 for c in conns.values()),
}
print(checks)
sys.exit(0 if all(checks.values()) else 1)
PY

# --- vhost-user --control: what a back-end can do without a guest yet ---
"$emu" vhost-user -q --socket ./vhu.sock --uds ./vu.sock --control ./c.sock \
    2>vhu.err &
pid=$!
wait_for test -S ./c.sock || { cat vhu.err; exit 99; }
ctl stats > vstats.json
check "vhost-user stats: ok, no front-end yet" \
    json vstats.json 'j["ok"] and j["frontend"] is False and j["host_accepted"] == 0'
ctl reset cid=5 > vreset.json
check "vhost-user reset: exit 1" test $? -eq 1
check "... QEMU owns the event queue, said in the answer" \
    json vreset.json 'not j["ok"] and "QEMU owns the event queue" in j["error"]'
ctl refuse 52 > vrefuse.json
check "vhost-user refuse: refused, the guest's kernel decides" \
    json vrefuse.json 'not j["ok"] and "guest" in j["error"]'
kill -TERM $pid
wait $pid
rc=$?
check "vhost-user exits 0 ($rc) and removes the control socket" \
    sh -c "test $rc -eq 0 && test ! -e ./c.sock"
pid=""
exit $fail
