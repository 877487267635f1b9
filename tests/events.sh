#!/bin/sh
# events.sh - `vsockemu serve --log` and `-v` with real clients (python3,
# socat): the events of an echo session, a CONNECT nobody serves, a guest
# connect with no host listener, a reset mid-stream, a UDS_PORT path too
# long and the faults of --control (a transport reset to a new CID, a
# refused port), in order, each line valid for tests/events-schema.jq (jq).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
schema=$(cd "${top_srcdir:-.}" && pwd)/tests/events-schema.jq
for tool in python3 socat jq; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

work=$(mktemp -d /tmp/vsockemu-events-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""

# A UDS path of 100 bytes: UDS_4000000000 is then over sun_path's 107.
long=./$(printf '%098d' 0 | tr 0 u)

stop() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	pid=""
}
trap 'stop; cd /; rm -rf "$work"' EXIT

bg_ready ./ready "$emu" serve -v --ready-fd 9 --log ev.jsonl --uds "$long" \
    --control ./ctl.sock --guest-connect ./gc.sock=1234 \
    --guest-connect ./gclong.sock=4000000000 2>serve.err
rc=$?
pid=$bg_pid
[ $rc -eq 0 ] || { cat serve.err; exit 99; }

# Events of the connection with host port $1 and guest port $2, in order.
evs() {
	jq -r "select(.host_port == $1 and .guest_port == $2) |
	    [.ev, .who, (.why // .flags // \"\")] | join(\":\")" ev.jsonl |
	    tr '\n' ' '
}
# Has the log a line for which the jq filter $1 is true?
logged() {
	jq -e -s "any(.[]; $1)" ev.jsonl >/dev/null
}

# --- an echo session, Python as the host application ---
python3 - "$long" <<'PY' > echo.out
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 52\n")
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(b"hello")
got = f.read(5)
s.shutdown(socket.SHUT_WR)
rest = f.read()
print(got.decode(), len(rest))
PY
check "echo: OK and the bytes back" test "$(cat echo.out)" = "OK 1073741824
hello 0"
wait_for logged '.ev == "closed" and .guest_port == 52'
check "echo: requested, established, shutdowns, RST, closed, in order" \
    test "$(evs 1073741824 52)" = "requested:host: established:guest: \
shutdown:host:SEND shutdown:guest:RCV|SEND reset:host:closed closed:device: "
check "echo: closed says 5 bytes each way" logged '.ev == "closed" and
    .guest_port == 52 and .bytes_to_host == 5 and .bytes_to_guest == 5'

# --- CONNECT to a port nobody serves: no OK, refused by the guest ---
printf 'CONNECT 53\n' | socat -t 5 - UNIX-CONNECT:"$long" > refused.out
check "CONNECT 53: closed without OK" test ! -s refused.out
wait_for logged '.ev == "refused" and .guest_port == 53'
check "CONNECT 53: requested, refused (no-listener, by the guest)" \
    test "$(evs 1073741825 53)" = "requested:host: refused:guest:no-listener "
check "-v: the one-liner says so" grep -q \
    "^vsockemu serve: host 1073741825 -> guest 53: refused (no listener)$" \
    serve.err

# --- a guest connect with no host listener (UDS_1234 missing) ---
socat -t 5 - UNIX-CONNECT:./gc.sock < /dev/null > gc.out 2>&1
wait_for logged '.ev == "refused" and .host_port == 1234'
check "guest connect: refused by the host, no listener at UDS_1234" logged \
    ".ev == \"refused\" and .from == \"guest\" and .who == \"host\" and
    .host_port == 1234 and .why == \"no-listener\" and
    .path == \"${long}_1234\""
check "-v: guest connect refused, and where nobody listens" grep -q \
    "^vsockemu serve: guest [0-9]* -> host 1234: refused (no listener at \"${long}_1234\")$" \
    serve.err

# --- a UDS_PORT path over 107 bytes: said, not silently dropped ---
socat -t 5 - UNIX-CONNECT:./gclong.sock < /dev/null > gclong.out 2>&1
wait_for logged '.ev == "refused" and .host_port == 4000000000'
check "UDS path too long: refused, path-too-long, naming the path" logged \
    ".ev == \"refused\" and .host_port == 4000000000 and
    .why == \"path-too-long\" and .path == \"${long}_4000000000\""
check "-v: the one-liner names it" grep -q \
    "host 4000000000: refused (path too long: \"${long}_4000000000\")$" \
    serve.err

# --- a reset mid-stream: the host application closes with data unread ---
python3 - "$long" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 52\n")
f = s.makefile("rb", buffering=0)
f.readline()
s.sendall(b"x" * 4096)
# Wait for the echo to be queued here, then close without reading it:
# AF_UNIX tells the muxer ECONNRESET (unix_release_sock).
s.recv(1, socket.MSG_PEEK)
s.close()
PY
wait_for logged '.ev == "closed" and .host_port == 1073741826'
check "mid-stream close with data unread: reset by the host (aborted)" \
    logged '.ev == "reset" and .host_port == 1073741826 and
    .who == "host" and .why == "aborted"'

# --- a client's hostile line: escaped, never raw ---
printf 'CONN\033]0;x\007\377\n' | socat -t 5 - UNIX-CONNECT:"$long" > bad.out
wait_for logged '.why == "bad-line"'
check "bad line: logged escaped" logged \
    '.why == "bad-line" and .line == "CONN\u001b]0;x\u0007\ufffd\n"'
check "-v: no raw escape byte on stderr" sh -c "! grep -q \"$(printf '\033')\" serve.err"

# --- faults from --control show in the log (issue 18 item 4) ---
# A held echo connection, then a transport reset with a new CID: the log
# says the reset, the CIDs, and the held connection's end and why.
python3 - "$long" <<'PY' > held.out &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 52\n")
f = s.makefile("rb")
print(f.readline().decode().strip(), flush=True)
print(len(f.read()))		# until the reset closes it
PY
held=$!
wait_for grep -q '^OK' held.out
"$emu" ctl ./ctl.sock reset cid=5 > ctl.out
check "ctl reset cid=5: ok" grep -q '"ok":true' ctl.out
wait_for logged '.ev == "transport-reset"'
check "reset: a transport-reset event, CID 3 to 5" logged \
    '.ev == "transport-reset" and .old_cid == 3 and .new_cid == 5'
check "reset: the held connection reset by the device, why transport-reset" \
    logged '.ev == "reset" and .who == "device" and .why == "transport-reset"'
wait $held
check "reset: the held host client saw its socket closed" \
    test "$(sed -n 2p held.out)" = 0
"$emu" ctl ./ctl.sock refuse 52 > ctl.out
printf 'CONNECT 52\n' | socat -t 5 - UNIX-CONNECT:"$long" > refused52.out
check "ctl refuse 52: CONNECT 52 closed without OK" test ! -s refused52.out
wait_for logged '.ev == "refused" and .guest_port == 52 and .cid == 5'
check "refuse: the log says the guest (CID 5 now) refused port 52" logged \
    '.ev == "refused" and .guest_port == 52 and .cid == 5 and .who == "guest"'

stop
check "every line is schema 1, t never goes back" sh -c \
    "jq -e -s -f \"$schema\" ev.jsonl > /dev/null"
check "every line within 1024 bytes" test "$(awk 'length > 1023' ev.jsonl | wc -l)" -eq 0

# --- --log - writes to stderr; a bad --log path is bad usage ---
"$emu" serve --log /nonexistent-dir/ev.jsonl --uds ./x.sock 2>badlog.err
check "--log into a missing directory: exit 2" test $? -eq 2
check "... saying which path" grep -q "/nonexistent-dir/ev.jsonl" badlog.err

if [ $fail -ne 0 ]; then
	echo "--- serve's stderr"; cat serve.err
	echo "--- the log"; cat ev.jsonl
fi
exit $fail
