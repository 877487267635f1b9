#!/bin/sh
# replay-live.sh - `vsockemu replay --host UDS`: a trace's guest side played
# against a live host program (tests/live-host.py), which passes when it
# behaves as the trace's host did and diverges, at the right frame and
# offset, when it does not: a flipped byte, a missing byte, an early close,
# silence, a reset, a refusal, a missing half-close.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
host=${top_srcdir:-.}/tests/live-host.py
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-live.XXXXXX") || exit 99
fail=0
hpid=
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. "${top_srcdir:-.}/tests/lib.sh"

command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
uds=$tmp/v.sock
out=$tmp/out err=$tmp/err
# Short enough that a silent program costs little, long enough for a
# loaded CI machine: nothing passes because of it.
to=2000

# stop_host: ends the host program (if still running) and reaps it.
stop_host() {
	if [ -n "$hpid" ]; then
		kill "$hpid" 2> /dev/null
		wait "$hpid" 2> /dev/null
	fi
	hpid=
}

# live PORT MODE ARG TRACE [OPTION...]: the program listens at UDS_PORT (as
# serve's guest connections expect) in MODE, then the trace is replayed
# against it; output in $out, status in $rc.
live() {
	l_port=$1 l_mode=$2 l_arg=$3 l_trace=$4
	shift 4
	rm -f "$uds" "${uds}_$l_port"
	python3 "$host" listen "${uds}_$l_port" "$l_mode" "$l_arg" &
	hpid=$!
	wait_for test -S "${uds}_$l_port" || failed "$l_mode program came up"
	"$emu" replay --host "$uds" --live-timeout $to "$@" "$l_trace" \
	    > "$out" 2> "$err"
	rc=$?
	stop_host
}

# live_connect PORT MODE ARG TRACE: the program connects to UDS with
# "CONNECT PORT" (it waits for the socket to appear).
live_connect() {
	rm -f "$uds" "$tmp/started"
	LIVE_STARTED=$tmp/started python3 "$host" connect "$uds" "$1" "$2" \
	    "$3" &
	hpid=$!
	wait_for test -e "$tmp/started" || failed "connecting program came up"
	"$emu" replay --host "$uds" --live-timeout $to "$4" > "$out" 2> "$err"
	rc=$?
	stop_host
}

# verdict RC FIRST-LINE-PATTERN: the status and the report's first line.
verdict() {
	test "$rc" -eq "$1" && head -1 "$out" | grep -q "$2"
}

# says PATTERN: the report has a line matching it.
says() {
	grep -q -- "$1" "$out"
}

echo_t=$vec/emu-echo.pcap

# Usage.
"$emu" replay --host "$uds" --strict "$echo_t" 2> "$err"
check "--host with --strict: exit 2" test $? -eq 2
for o in --host-script=/dev/null --pcap-out=/dev/null --jobs=2 \
    --host-initiated --guest-cid=3; do
	"$emu" replay --host "$uds" $o "$echo_t" 2> "$err"
	check "--host with $o: exit 2" test $? -eq 2
done
"$emu" replay --host "$uds" --live-timeout 0 "$echo_t" 2> "$err"
check "--live-timeout 0: exit 2, named" \
    sh -c "test $? -eq 2 && grep -q live-timeout '$err'"
"$emu" replay --help > "$out"
check "--help documents --host and --live-timeout" \
    sh -c "grep -q -- '--host UDS' '$out' && grep -q -- '--live-timeout' '$out'"

# The echo the trace's host was: the program echoes, shuts down writing at
# the guest's EOF and closes (the device's SHUTDOWN then RST, or both in
# one SHUTDOWN(RCV|SEND), are one step of the host's lifecycle).
live 1234 echo 0 "$echo_t"
check "emu-echo against an echo program: PASS" verdict 0 "^PASS "
check "... the totals line" says "^1 trace: 1 passed, 0 diverged"
live 1234 close 0 "$echo_t"
check "emu-echo against an echo that closes without shutdown: PASS" \
    verdict 0 "^PASS "
live 1234 echo 0 "$vec/linux61-vhost-echo.pcap"
check "a real Linux echo trace against the echo program: PASS" \
    verdict 0 "^PASS "

# A flipped byte: named by frame and offset of the coalesced stream.
live 1234 flip 10 "$echo_t"
check "flipped byte 10: DIVERGED at frame 7 (bytes 7..13)" \
    verdict 1 "^DIVERGED .* at frame 7:"
check "... the byte, its offset and the trace's byte" \
    says "what: *the host sent byte 0x66 at offset 10 of the host->guest stream, the trace has 0x67"
check "... field payload" says "field: *payload"

# The last byte dropped, then the close: the close comes too early.
live 1234 short 20 "$echo_t"
check "last byte dropped, then closed: DIVERGED at the close, frame 13" \
    verdict 1 "^DIVERGED .* at frame 13:"
check "... after 20 bytes, the trace's host after 21" \
    says "after 20 bytes of the host->guest stream, the trace's host after 21"
live 1234 short 5 "$echo_t"
check "closed after 5 bytes: DIVERGED at frame 13" \
    verdict 1 "^DIVERGED .* at frame 13:"

# Silence: a bounded wait, then a divergence naming what is owed.
live 1234 silent 0 "$echo_t"
check "a program that never answers: DIVERGED at frame 4" \
    verdict 1 "^DIVERGED .* at frame 4:"
check "... it says what the trace expects" \
    says "the program sent nothing for 2 s, the trace expects RW 7 bytes at frame 4"
check "... field timeout" says "field: *timeout"

# A reset instead of a close: the program closes with the guest's data
# unread, which the device reports as RST.
live 1234 unread 0 "$echo_t"
check "reset instead of echo and close: DIVERGED at frame 13" \
    verdict 1 "^DIVERGED .* at frame 13:"
check "... an RST where the trace's host shut down and closed" \
    says "the host sent RST after 0 bytes"

# Refusals: nothing listens at UDS_99, as the trace's host refused; with a
# listener there the program accepts where the trace refused.
rm -f "$uds"
"$emu" replay --host "$uds" --live-timeout $to "$vec/emu-refused.pcap" \
    > "$out" 2> "$err"
rc=$?
check "emu-refused with no program listening: PASS" verdict 0 "^PASS "
live 99 echo 0 "$vec/emu-refused.pcap"
check "a program accepting what the trace refused: DIVERGED at frame 2" \
    verdict 1 "^DIVERGED .* at frame 2:"
check "... RESPONSE where the trace's host sent RST" \
    says "the host sent RESPONSE where the trace's host sent RST"

# Half-close (issue 15's matrix, a real Linux 6.1 capture): the host writes
# 4000 bytes, shuts down writing, reads the guest's 6000 to EOF, closes.
hc=$vec/matrix/linux61-vhost-m-host-shutwr-late-stream.pcap
live 1306 halfclose 4000 "$hc"
check "matrix host half-close against a half-closing program: PASS" \
    verdict 0 "^PASS "
live 1306 noshut 4000 "$hc"
check "... without the shutdown(SHUT_WR): DIVERGED at frame 5" \
    verdict 1 "^DIVERGED .* at frame 5:"
check "... the trace expects SHUTDOWN(SEND) there" \
    says "the trace expects SHUTDOWN flags SEND at frame 5"

# The same as SEQPACKET: two messages of 2000 bytes, whose ends count.
hcs=$vec/matrix/linux61-vhost-m-host-shutwr-late-seqpacket.pcap
live_seq() {
	rm -f "$uds" "${uds}_1307"
	LIVE_MSG=$1 python3 "$host" listen-seqpacket "${uds}_1307" halfclose 4000 &
	hpid=$!
	wait_for test -S "${uds}_1307" || failed "SEQPACKET program came up"
	"$emu" replay --host "$uds" --live-timeout $to "$hcs" > "$out" 2> "$err"
	rc=$?
	stop_host
}
live_seq 2000
check "matrix SEQPACKET half-close against the same program: PASS" \
    verdict 0 "^PASS "
live_seq 4000
check "... sending one message of 4000: DIVERGED at frame 3" \
    verdict 1 "^DIVERGED .* at frame 3:"
check "... the message ends at 4000, the trace's at 2000" \
    says "ended a message at offset 4000 of the host->guest stream, the trace's message ends at 2000"
live_seq 1000
check "... sending messages of 1000: DIVERGED at frame 3" \
    says "ended a message at offset 1000 of the host->guest stream, the trace's message ends at 2000"

# The host connects: CONNECT 5000, 10000 bytes, reads 3000, closes.
live_connect 5000 pattern 10000:3000 "$vec/emu-host-connect.pcap"
check "emu-host-connect against a connecting program: PASS" \
    verdict 0 "^PASS "
live_connect 5000 pattern 9999:3000 "$vec/emu-host-connect.pcap"
check "... one byte short: DIVERGED at frame 5 (the last RW)" \
    verdict 1 "^DIVERGED .* at frame 5:"

# Issue 19: a trace whose host RW has a flipped byte still passes replay
# (the host is inferred from the very frames under test); replayed live
# against the real program it diverges there. Frame 4's last byte is the
# stream's byte 6.
python3 - "$echo_t" "$tmp/flipped.pcap" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off, n = 24, 0
while off < len(d):
    caplen = struct.unpack_from("<I", d, off + 8)[0]
    n += 1
    if n == 4:
        d[off + 16 + caplen - 1] ^= 0x01
    off += 16 + caplen
open(sys.argv[2], "wb").write(d)
EOF
"$emu" replay "$tmp/flipped.pcap" > "$out"
rc=$?
check "a host byte flipped in the trace: replay alone passes" \
    verdict 0 "^PASS "
live 1234 echo 0 "$tmp/flipped.pcap"
check "... replayed live: DIVERGED at frame 4" \
    verdict 1 "^DIVERGED .* at frame 4:"
check "... at offset 6, the trace's byte" \
    says "at offset 6 of the host->guest stream, the trace has 0x0b"

# Issue 19's workflow: record a host program (an echo that upper-cases)
# with serve --pcap while a guest client talks to it, then replay the
# recording against the same program (PASS) and against variants that
# drop the last byte or flip one (DIVERGED at the frame and offset).
rec=$tmp/rec.pcap
rm -f "$uds" "${uds}_1234"
python3 "$host" listen "${uds}_1234" upper &
hpid=$!
wait_for test -S "${uds}_1234" || failed "upper-case echo came up"
bg_ready "$tmp/ready" "$emu" serve -q --ready-fd 9 --uds "$uds" \
    --pcap "$rec" --guest-connect "$tmp/g.sock=1234" || failed "serve came up"
spid=$bg_pid
check "recording: the guest client talks to the program" \
    python3 "$host" client "$tmp/g.sock" "hello vsock" "second line"
wait "$hpid"
hpid=
kill -TERM "$spid"
wait "$spid"
check "recording: serve --pcap wrote a capture" "$emu" dump -q "$rec"
live 1234 upper 0 "$rec"
check "the recording against the same program: PASS" verdict 0 "^PASS "
live 1234 upper-short 23 "$rec"
check "... against one dropping the last byte: DIVERGED at its close" \
    says "after 23 bytes of the host->guest stream, the trace.s host after 24"
live 1234 upper-flip 3 "$rec"
check "... against one flipping byte 3: DIVERGED at frame 4, offset 3" \
    sh -c "head -1 '$out' | grep -q 'at frame 4:' && grep -q 'byte 0x4d at offset 3 of the host->guest stream, the trace has 0x4c' '$out'"
live 1234 echo 0 "$rec"
check "... against one that does not upper-case: DIVERGED at offset 0" \
    says "byte 0x68 at offset 0 of the host->guest stream, the trace has 0x48"

# What live mode does not judge (doc/replay.md): a host fwd_cnt counts
# what the device wrote into the program's socket, not what it read, so a
# lowered one (which replay alone passes too) passes live.
"${top_builddir:-.}/tests/gen-vectors" alter "$echo_t" "$tmp/fwd.pcap" 7 \
    fwd_cnt 8
live 1234 echo 0 "$tmp/fwd.pcap"
check "a host fwd_cnt lowered in the trace: not judged live, PASS" \
    verdict 0 "^PASS "

# The report machinery is replay's: JSON, schema-valid.
live 1234 flip 10 "$echo_t" --format json
check "--format json: DIVERGED object" \
    sh -c "grep -q '\"verdict\":\"diverged\"' '$out' && grep -q '\"frame\":7' '$out'"
if command -v jq > /dev/null; then
	check "... valid against tests/replay-schema.jq" sh -c "jq -e -s -f \
	    '${top_srcdir:-.}/tests/replay-schema.jq' '$out' > /dev/null"
fi

# The trace is read whole before the program is run: what it may hold is
# capped, and a trace beyond a cap is UNUSABLE naming the frame.
gen=${top_builddir:-.}/tests/gen-vectors
"$gen" churn "$tmp/churn.pcap" 30000
rm -f "$uds"
"$emu" replay --host "$uds" "$tmp/churn.pcap" > "$out" 2> "$err"
rc=$?
check "a trace of 5000 connections: UNUSABLE at connection 4097" \
    verdict 2 "^UNUSABLE .*: frame 24577: more connections than live replay holds (4096)"
"$gen" bulk "$tmp/bulk.pcap" 270000
"$emu" replay --host "$uds" "$tmp/bulk.pcap" > "$out" 2> "$err"
rc=$?
check "a trace of 270000 frames: UNUSABLE at frame 262145" \
    verdict 2 "^UNUSABLE .*: frame 262145: more frames than live replay holds"
rm -f "$tmp/churn.pcap" "$tmp/bulk.pcap"
# 1025 guest RWs of 64 KiB: one more than 64 MiB of payload.
python3 - "$tmp/big.pcap" <<'EOF2'
import struct, sys
f = open(sys.argv[1], "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144 + 76, 271))
pay = bytes(65536)
for i in range(1025):
    mon = struct.pack("<QQIIHHHH", 3, 2, 1024, 1234, 4, 2, 44, 0)
    hdr = struct.pack("<QQIIIHHIII", 3, 2, 1024, 1234, len(pay), 1, 5, 0,
                      262144, 0)
    n = len(mon) + len(hdr) + len(pay)
    f.write(struct.pack("<IIII", i, 0, n, n) + mon + hdr + pay)
EOF2
"$emu" replay --host "$uds" "$tmp/big.pcap" > "$out" 2> "$err"
rc=$?
check "a trace of 64 MiB + 64 KiB of payload: UNUSABLE at frame 1025" \
    verdict 2 "^UNUSABLE .*: frame 1025: more payload than live replay holds (64 MiB)"
rm -f "$tmp/big.pcap"

# Interrupted while it waits for the program: it ends as a replay without
# a loop would (killed by the signal), leaving no socket file behind.
rm -f "$uds" "${uds}_1234"
python3 "$host" listen "${uds}_1234" silent &
hpid=$!
wait_for test -S "${uds}_1234" || failed "silent program came up"
"$emu" replay --host "$uds" --live-timeout 3600000 "$echo_t" > "$out" &
rpid=$!
wait_for test -S "$uds" || failed "replay's muxer came up"
kill -INT "$rpid"
wait "$rpid"
rc=$?
check "SIGINT while waiting: killed by SIGINT (status 130)" test "$rc" -eq 130
check "... the muxer's socket file removed" test ! -e "$uds"
stop_host

# A trace with no host CID (loopback) cannot be replayed live.
rm -f "$uds"
"$emu" replay --host "$uds" "$vec/linux61-lo-echo.pcap" > "$out" 2> "$err"
rc=$?
check "a loopback trace: UNUSABLE, exit 2" verdict 2 "^UNUSABLE "
check "... saying why" says "neither end is the host"

exit $fail
