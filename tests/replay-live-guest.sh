#!/bin/sh
# replay-live-guest.sh - `vsockemu replay --guest UDS`: a trace's host side
# played against a live guest program under `vsockemu run --guest UDS`
# (tests/live-guest.py), which passes when it behaves as the trace's guest
# did and diverges, at the right frame and offset, when it does not: a
# flipped byte, a dropped last byte, an early close, silence, a listener
# missing or closing at once. Every wait is readiness (--ready-fd through a
# FIFO, files the programs make) or --live-timeout, never a sleep.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
host=${top_srcdir:-.}/tests/live-host.py
guest=${top_srcdir:-.}/tests/live-guest.py
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-lguest.XXXXXX") || exit 99
fail=0
hpid= spid= rpid=
cleanup() {
	for p in $hpid $spid $rpid; do
		kill "$p" 2> /dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

. "${top_srcdir:-.}/tests/lib.sh"

command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
python3 -c 'import socket; socket.AF_VSOCK' 2> /dev/null ||
    { echo "SKIP: no socket.AF_VSOCK in python3"; exit 77; }
uds=$tmp/r.sock
out=$tmp/out err=$tmp/err
fifo=$tmp/ready
mkfifo "$fifo" || exit 99
# A passing run never waits this long (the program answers at once); the
# first wait includes the start of Python under run on a loaded machine.
to=30000

# replay_guest TRACE TIMEOUT PROGRAM-ARGS...: replay --guest TRACE, and
# once it is ready (its --ready-fd line, read from a FIFO: no sleep) run
# live-guest.py with PROGRAM-ARGS under run --guest; the report in $out,
# replay's status in $rc. No PROGRAM-ARGS: no program at all.
replay_guest() {
	rg_trace=$1 rg_to=$2
	shift 2
	"$emu" replay --guest "$uds" --live-timeout "$rg_to" --ready-fd 9 \
	    "$rg_trace" 9> "$fifo" > "$out" 2> "$err" &
	rpid=$!
	read -r rg_line < "$fifo"
	case $rg_line in
	"READY uds=$uds") ;;
	*) failed "replay --guest said it is ready ($rg_line)" ;;
	esac
	if [ $# -gt 0 ]; then
		"$emu" run --guest "$uds" -- python3 "$guest" "$@" \
		    > /dev/null 2>&1
	fi
	wait "$rpid"
	rc=$?
	rpid=
}

# verdict RC FIRST-LINE-PATTERN: the status and the report's first line.
verdict() {
	test "$rc" -eq "$1" && head -1 "$out" | grep -q "$2"
}

# says PATTERN: the report has a line matching it.
says() {
	grep -q -- "$1" "$out"
}

# --- Usage ---
"$emu" replay --guest "$uds" --strict "$vec/emu-echo.pcap" 2> "$err"
check "--guest with --strict: exit 2" sh -c "test $? -eq 2 && grep -q -- '--guest takes none of' '$err'"
"$emu" replay --guest "$uds" --host "$uds" "$vec/emu-echo.pcap" 2> "$err"
check "--guest with --host: exit 2" test $? -eq 2
"$emu" replay --ready-fd 1 "$vec/emu-echo.pcap" 2> "$err"
check "--ready-fd without --host or --guest: exit 2" test $? -eq 2
"$emu" replay --help > "$out"
check "--help documents --guest and --ready-fd" \
    sh -c "grep -q -- '--guest UDS' '$out' && grep -q -- '--ready-fd N' '$out'"

# --- Record: a guest client of host port 1234, an upper-casing host ---
rec=$tmp/rec.pcap
rm -f "${uds}_1234"
python3 "$host" listen "$tmp/s.sock_1234" upper &
hpid=$!
wait_for test -S "$tmp/s.sock_1234" || failed "upper-case host came up"
"$emu" serve -q --uds "$tmp/s.sock" --pcap "$rec" --ready-fd 9 \
    9> "$fifo" &
spid=$!
read -r line < "$fifo"
check "recording: the guest client gets the answer" sh -c "'$emu' run \
    --guest '$tmp/s.sock' -- python3 '$guest' connect 1234 'hello vsock' \
    ok | grep -q '^HELLO VSOCK$'"
wait "$hpid"
hpid=
kill -TERM "$spid"
wait "$spid"
spid=
# REQUEST, RESPONSE, RW 12, RW 12, CREDIT_UPDATE, SHUTDOWN, RST, RST.
check "recording: serve --pcap wrote the session" \
    sh -c "'$emu' dump '$rec' | grep -q '^6 .* SHUTDOWN flags RCV|SEND'"

# The same program: PASS. The trace's host is played by the scripted
# host: it accepts, upper-cases (the recorded bytes), is closed.
replay_guest "$rec" $to connect 1234 "hello vsock" ok
check "the recording against the same guest program: PASS" \
    verdict 0 "^PASS "
check "... the totals line" says "^1 trace: 1 passed, 0 diverged"

# A flipped byte: named by frame and offset of the guest->host stream.
replay_guest "$rec" $to connect 1234 "hello vsock" flip 3
check "byte 3 flipped: DIVERGED at frame 3" verdict 1 "^DIVERGED .* at frame 3:"
check "... the byte, its offset and the trace's byte" \
    says "what: *the guest sent byte 0x6d at offset 3 of the guest->host stream, the trace has 0x6c"
check "... field payload" says "field: *payload"

# The last byte dropped, then the close: the close comes too early.
replay_guest "$rec" $to connect 1234 "hello vsock" short
check "last byte dropped, then closed: DIVERGED at the close, frame 6" \
    verdict 1 "^DIVERGED .* at frame 6:"
check "... after 11 bytes, the trace's guest after 12" \
    says "the guest sent SHUTDOWN flags RCV|SEND after 11 bytes of the guest->host stream, the trace's guest after 12"
replay_guest "$rec" $to connect 1234 "hello vsock" early 5
check "closed after 5 bytes: DIVERGED at frame 6, after 5 bytes" \
    sh -c "head -1 '$out' | grep -q 'at frame 6:' && grep -q 'after 5 bytes of the guest->host stream' '$out'"

# Silence: the program never connects; a divergence after the timeout.
replay_guest "$rec" 2000 connect 1234 "hello vsock" silent
check "a program that never connects: DIVERGED at frame 1" \
    verdict 1 "^DIVERGED .* at frame 1:"
check "... field timeout, naming what it owes" \
    says "the program sent nothing for 2 s, the trace expects REQUEST at frame 1"

# --- Record: the host connects to a guest listener on port 5000 ---
rec2=$tmp/rec2.pcap
"$emu" serve -q --uds "$tmp/s.sock" --pcap "$rec2" --ready-fd 9 \
    9> "$fifo" &
spid=$!
read -r line < "$fifo"
rm -f "$tmp/listening"
LIVE_LISTENING=$tmp/listening "$emu" run --guest "$tmp/s.sock" -- \
    python3 "$guest" listen 5000 ok 12 &
gpid=$!
wait_for test -e "$tmp/listening" || failed "guest listener came up"
check "recording: the host connects to the guest's listener" \
    python3 "$host" connect "$tmp/s.sock" 5000 pattern 12:12
wait "$gpid"
kill -TERM "$spid"
wait "$spid"
spid=
check "recording: the host's REQUEST first" \
    sh -c "'$emu' dump '$rec2' | grep -q '^1 .* > 3:5000 STREAM REQUEST'"

# The trace's host connects only once the program listens (bounded).
replay_guest "$rec2" $to listen 5000 ok 12
check "host-initiated recording against the same listener: PASS" \
    verdict 0 "^PASS "
replay_guest "$rec2" $to listen 5000 refuse 12
check "a listener that closes at once: DIVERGED at the guest's close" \
    says "the guest sent SHUTDOWN flags RCV|SEND after 0 bytes of the guest->host stream, the trace's guest after 12"
check "... exit 1" test "$rc" -eq 1
replay_guest "$rec2" 2000 listen 5000 none 12
check "a program that never listens: DIVERGED at frame 1" \
    verdict 1 "^DIVERGED .* at frame 1:"
check "... naming the port" \
    says "the program did not listen on guest port 5000 for 2 s, the trace's host connects to it at frame 1"

# The report machinery is replay's: JSON, schema-valid.
"$emu" replay --guest "$uds" --live-timeout 1 --format json "$rec" \
    > "$out" 2> "$err"
check "--format json: a diverged object naming frame 1" \
    sh -c "grep -q '\"verdict\":\"diverged\"' '$out' && grep -q '\"frame\":1' '$out'"
if command -v jq > /dev/null; then
	check "... valid against tests/replay-schema.jq" sh -c "jq -e -s -f \
	    '${top_srcdir:-.}/tests/replay-schema.jq' '$out' > /dev/null"
fi

# --- Signals: SIGTERM while waiting removes UDS.guest, ends by SIGTERM ---
"$emu" replay --guest "$uds" --live-timeout 3600000 --ready-fd 9 "$rec" \
    9> "$fifo" > "$out" &
rpid=$!
read -r line < "$fifo"
check "waiting for the program: UDS.guest listens" test -S "$uds.guest"
kill -TERM "$rpid"
wait "$rpid"
rc=$?
rpid=
check "SIGTERM while waiting: killed by SIGTERM (status 143)" \
    test "$rc" -eq 143
check "... UDS.guest removed" test ! -e "$uds.guest"

# --- Unusable input: one clear line, exit 2 ---
"$emu" replay --guest "$uds" "$vec/linux61-lo-echo.pcap" > "$out" 2> "$err"
rc=$?
check "a loopback trace: UNUSABLE, exit 2" verdict 2 "^UNUSABLE "
check "... saying why" says "neither end is the host"
# Only the host's frames: nothing of a guest program to compare.
python3 - "$tmp/hostonly.pcap" <<'EOF2'
import struct, sys
f = open(sys.argv[1], "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65536, 271))
pay = b"hello"
mon = struct.pack("<QQIIHHHH", 2, 3, 1234, 1024, 4, 2, 44, 0)
hdr = struct.pack("<QQIIIHHIII", 2, 3, 1234, 1024, len(pay), 1, 5, 0,
                  262144, 0)
n = len(mon) + len(hdr) + len(pay)
f.write(struct.pack("<IIII", 0, 0, n, n) + mon + hdr + pay)
EOF2
"$emu" replay --guest "$uds" "$tmp/hostonly.pcap" > "$out" 2> "$err"
rc=$?
check "a trace with no guest frame: UNUSABLE, exit 2" \
    verdict 2 "^UNUSABLE .*: no frame of the guest: nothing a live guest program does could be compared"
check "... one line, then the totals" test "$(wc -l < "$out")" -eq 2
check "... and no UDS.guest left" test ! -e "$uds.guest"

exit $fail
