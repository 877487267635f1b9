#!/bin/sh
# replay.sh - `vsockemu replay` end to end: usage, unusable input, formats,
# determinism, --pcap-out, host scripts, and mutated traces that must never
# crash it.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-replay.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
tcpd=$vec/tcpdump-vsock-1.pcapng

. "${top_srcdir:-.}/tests/lib.sh"

out=$tmp/out err=$tmp/err

# Usage.
"$emu" replay --help > "$out"
check "--help exits 0" test $? -eq 0
check "--help explains roles and inference" grep -q "fwd_cnt advances" "$out"
check "vsockemu --help lists replay" sh -c "$emu --help | grep -q '^  replay '"
"$emu" replay 2> "$err"
check "no trace: exit 2" test $? -eq 2
check "... one message and the usage line (tests/options.sh)" test "$(wc -l < "$err")" -eq 2
"$emu" replay --frobnicate "$tcpd" 2> /dev/null
check "bad option: exit 2" test $? -eq 2
"$emu" replay --format xml "$tcpd" 2> "$err"
check "bad --format: exit 2, named" sh -c "test $? -eq 2 && grep -q format '$err'"
"$emu" replay --profile qemu "$tcpd" 2> /dev/null
check "bad --profile: exit 2" test $? -eq 2
"$emu" replay --pcap-out "$tmp/x.pcap" "$tcpd" "$tcpd" 2> /dev/null
check "--pcap-out with two traces: exit 2" test $? -eq 2
for c in 0 2 4294967295 x; do
	"$emu" replay --guest-cid $c "$tcpd" 2> "$err"
	check "bad --guest-cid $c: exit 2, named" \
	    sh -c "test $? -eq 2 && grep -q guest-cid '$err'"
done
"$emu" replay --guest-cid 99 "$vec/linux61-vhost-echo.pcap" > "$out"
check "--guest-cid of a guest not in the trace: exit 2" test $? -eq 2
check "... UNUSABLE, naming the CID" \
    grep -q "no frame of guest CID 99 (20 frames of other guests)" "$out"
"$emu" replay --guest-cid 3 "$vec/linux61-vhost-echo.pcap" > "$out"
check "--guest-cid of the trace's guest: conforms as without it" \
    sh -c "test $? -eq 0 && ! grep -q 'other guests' '$out'"
for b in 0 65537 4k; do
	"$emu" replay --guest-rx-buf $b "$tcpd" 2> "$err"
	check "bad --guest-rx-buf $b: exit 2, named" \
	    sh -c "test $? -eq 2 && grep -q guest-rx-buf '$err'"
done

# Guest RX buffers: read off the trace (a real Linux 6.1 guest posts 3732
# payload bytes), or as --guest-rx-buf says.
seq=$vec/qemu-vhu-seqpacket.pcap.gz
"$emu" replay --strict "$seq" > "$out"
check "SEQPACKET fragments of a real guest replay strict" test $? -eq 0
check "... with its 3732-byte RX buffers read off the trace" \
    grep -q "guest RX buffers 3732 (from the trace)" "$out"
"$emu" replay --strict --guest-rx-buf 4096 "$seq" > "$out"
check "--guest-rx-buf 4096 overrides it: diverges" test $? -eq 1
check "... at the first fragment (frame 10, len)" \
    sh -c "grep -q 'at frame 10' '$out' && grep -q 'field: *len' '$out'"
"$emu" replay --strict --guest-rx-buf 3732 --format json "$seq" > "$out"
check "--guest-rx-buf 3732 given: conforms, JSON says so" \
    grep -q '"verdict":"pass".*"guest_rx_buf":3732' "$out"

# Every pipe form, plain and gzip: the trace is read once, and the report is
# the file's (only the name differs). The SEQPACKET trace also needs what the
# first frames tell (its guest's RX buffer size) before the device starts.
# neutral FILE: the report with the trace's name replaced.
neutral() { sed '1s/^\([A-Z]*\) [^:]*:/\1 TRACE:/' "$1"; }
gzip -c "$tcpd" > "$tmp/t.pcapng.gz"
for input in "$tcpd" "$tmp/t.pcapng.gz" "$seq" "$vec/linux61-vhost-bulk-h2g.pcap.gz"; do
	"$emu" replay --strict "$input" > "$tmp/file.out"
	rc=$?
	neutral "$tmp/file.out" > "$tmp/want"
	for form in $pipe_forms; do
		pipe_run "$form" "$input" "$emu" replay --strict > "$out" 2> "$err"
		check "replay $(basename "$input") through $form: exit $rc as the file" \
		    test $? -eq $rc
		neutral "$out" > "$tmp/got"
		check "... the file's report" cmp -s "$tmp/got" "$tmp/want"
		check "... nothing on stderr" test ! -s "$err"
	done
done

# Unusable input: exit 2 and a line naming the file (and frame).
: > "$tmp/empty"
"$emu" replay "$tmp/empty" > "$out" 2> "$err"
check "empty file: exit 2" test $? -eq 2
check "... UNUSABLE naming it" grep -q "^UNUSABLE $tmp/empty: " "$out"
check "... once" test "$(grep -o "$tmp/empty" "$out" | wc -l)" -eq 1
"$emu" replay "$vec/README.md" > "$out"
check "not a capture: exit 2" test $? -eq 2
head -c 600 "$tcpd" > "$tmp/cut.pcapng"
"$emu" replay "$tmp/cut.pcapng" > "$out"
check "truncated capture: exit 2" test $? -eq 2
check "... naming frame 4" grep -q "cut.pcapng: frame 4: " "$out"
{ le 2712847316 4; le 2 2; le 4 2; le 0 4; le 0 4; le 262144 4; le 1 4; } \
    > "$tmp/ether.pcap"
"$emu" replay "$tmp/ether.pcap" > "$out"
check "link type 1: exit 2" test $? -eq 2
"$emu" replay "$tcpd" "$tmp/empty" > "$out"
check "an unusable trace among good ones: exit 2" test $? -eq 2
check "... the good one still reported" grep -q "^PASS $tcpd" "$out"
"$emu" replay "$tcpd" "$vec/negative/neg-fwd-cnt.pcap" > "$out"
check "a divergent trace among good ones: exit 1" test $? -eq 1

# Totals and gating: a final line of totals; exit 1 if any trace diverged
# (an unusable one does not hide it), else 2 if any was unusable, else 0.
{ le 2712847316 4; le 2 2; le 4 2; le 0 4; le 0 4; le 262144 4; le 271 4; } \
    > "$tmp/header-only.pcap"
"$emu" replay "$tmp/header-only.pcap" > "$out"
check "a capture with no frame: exit 2" test $? -eq 2
check "... UNUSABLE, saying so once" test "$(sed -n 1p "$out")" = \
    "UNUSABLE $tmp/header-only.pcap: no frame to replay: the capture holds no packet"
check "... then the totals" test "$(sed -n 2p "$out")" = \
    "1 trace: 0 passed, 0 diverged, 1 unusable"
"$emu" replay "$tcpd" "$vec/emu-echo.pcap" > "$out"
check "all pass: exit 0" test $? -eq 0
check "... totals last" test "$(tail -n 1 "$out")" = \
    "2 traces: 2 passed, 0 diverged, 0 unusable"
"$emu" replay "$tmp/empty" "$tcpd" "$vec/negative/neg-fwd-cnt.pcap" > "$out"
check "unusable, passing and diverged: exit 1, the divergence not hidden" \
    test $? -eq 1
check "... totals last" test "$(tail -n 1 "$out")" = \
    "3 traces: 1 passed, 1 diverged, 1 unusable"
"$emu" replay "$vec/negative/neg-fwd-cnt.pcap" "$tmp/empty" > "$out"
check "diverged then unusable: exit 1" test $? -eq 1
"$emu" replay "$tcpd" "$tmp/header-only.pcap" > "$out"
check "passing and unusable: exit 2" test $? -eq 2
"$emu" replay --format tap "$tcpd" "$tmp/empty" > "$out"
check "tap: totals as a comment, last" test "$(tail -n 1 "$out")" = \
    "# 2 traces: 1 passed, 0 diverged, 1 unusable"
"$emu" replay --format json "$tcpd" "$tmp/empty" > "$out"
check "json: totals as the last object" test "$(tail -n 1 "$out")" = \
    '{"schema":1,"totals":{"traces":2,"passed":1,"diverged":0,"unusable":1}}'

# Formats.
"$emu" replay --format tap "$tcpd" "$vec/negative/neg-fwd-cnt.pcap" > "$out"
check "tap: plan" test "$(sed -n 2p "$out")" = "1..2"
check "tap: ok 1" grep -q "^ok 1 - $tcpd\$" "$out"
check "tap: not ok 2 with the frame" grep -q "^not ok 2 - .* # diverged at frame 4\$" "$out"
"$emu" replay --format json "$tcpd" "$vec/negative/neg-fwd-cnt.pcap" > "$out"
check "json: one object a line" test "$(grep -c '^{"schema":1,"trace":.*}$' "$out")" -eq 2
check "json: the divergence" grep -q '"divergence":{"frame":4,' "$out"
check "json: summary counts" grep -q '"frames":10,"guest_frames":5,"host_frames":5,"connections":1,"bytes_guest_to_host":12,"bytes_host_to_guest":7' "$out"

# JSON, schema 1 (doc/replay.md): every kind of object the report can hold,
# checked against tests/replay-schema.jq.
schema=${top_srcdir:-.}/tests/replay-schema.jq
valid() { jq -e -s -f "$schema" "$1" > /dev/null 2>&1; }
printf '%s semantic diverged 4\n%s semantic unusable\n' \
    "$(cd "$vec/negative" && pwd)/neg-fwd-cnt.pcap" "$tmp/empty" > "$tmp/M"
"$emu" replay --format json "$tcpd" "$vec/negative/neg-fwd-cnt.pcap" \
    "$tmp/empty" "$vec/linux61-vhost-split-tap.pcap" > "$tmp/j1"
"$emu" replay --format json --strict "$vec/qemu-vhu-seqpacket.pcap.gz" \
    "$vec/linux61-vhost-seqpacket.pcap" > "$tmp/j2"
"$emu" replay --format json --expect "$tmp/M" "$tcpd" \
    "$vec/negative/neg-fwd-cnt.pcap" "$tmp/empty" > "$tmp/j3"
for j in j1 j2 j3; do
	check "json $j: valid against schema 1" valid "$tmp/$j"
done
check "json: the schema check itself rejects a report without totals" \
    sh -c "head -n 1 '$tmp/j1' > '$tmp/jbad'; ! jq -e -s -f '$schema' '$tmp/jbad' > /dev/null"
sed 's/"flags":\[/"flags":[3,/' "$tmp/j1" > "$tmp/jbad"
check "... and flags given as a number" sh -c "! jq -e -s -f '$schema' '$tmp/jbad' > /dev/null"
check "json: totals and expectations folded into one last object" \
    test "$(tail -n 1 "$tmp/j3")" = '{"schema":1,"totals":{"traces":2,"passed":0,"diverged":1,"unusable":1,"expected":{"met":2,"unexpected":0,"skipped":1}}}'
check "json: context frames are objects with flags by name" \
    test "$(jq -c 'select(.divergence) | .divergence.context[-1]' "$tmp/j1")" = \
    '{"frame":4,"time_ns":1291175294,"from":"host","src_cid":2,"src_port":1234,"dst_cid":3,"dst_port":1024,"type":"STREAM","op":"CREDIT_UPDATE","flags":[],"len":0,"buf_alloc":262144,"fwd_cnt":60,"divergent":true}'

# Flags by name wherever a frame is printed. A host SHUTDOWN whose only
# change is its flags (RCV|SEND -> RCV: Linux's shutdown(SHUT_RD)) replays
# as a shut-read in the linux profile, never as "op, actual: nothing"; a
# Firecracker device resets there instead, which is an op difference.
"${top_builddir:-.}/tests/gen-vectors" alter "$vec/linux61-vhost-echo.pcap" \
    "$tmp/shut-rcv.pcap" 16 flags 1
"$emu" replay "$tmp/shut-rcv.pcap" > "$out"
check "SHUTDOWN flags 3 -> 1, linux profile: a shut-read, PASS" grep -q "^PASS " "$out"
"$emu" replay --profile firecracker "$tmp/shut-rcv.pcap" > "$out"
check "... firecracker profile: diverged at frame 16" grep -q "^DIVERGED .* at frame 16:" "$out"
check "... an RST where the trace shows SHUTDOWN(RCV), by name" sh -c \
    "grep -q '^  expected: .* STREAM SHUTDOWN flags RCV len 0 ' '$out' && grep -q '^  actual: .* STREAM RST flags 0 ' '$out'"
check "... context with flags by name" \
    grep -q "^  > 16 0.911578 host  2:1234 > 3:3773385309 STREAM SHUTDOWN flags RCV len 0 " "$out"
check "... no flags as a number anywhere" sh -c "! grep -q 'flags [1-9]' '$out'"
"$emu" replay --profile firecracker --format json "$tmp/shut-rcv.pcap" > "$out"
check "... json: context flags [\"RCV\"]" test \
    "$(jq -r 'select(.divergence) | .divergence.context[-1].flags | join("|")' "$out")" = "RCV"

# --jobs N: the serial run's report, byte for byte, whatever finishes first.
man=$vec/MANIFEST
"$emu" replay --strict --expect "$man" "$vec"/* > "$tmp/serial" 2> /dev/null
serial_rc=$?
for j in 2 4 7; do
	"$emu" replay --strict --expect "$man" --jobs $j "$vec"/* > "$tmp/par" 2> /dev/null
	check "--jobs $j: the same exit status as serially" test $? -eq $serial_rc
	check "--jobs $j: the same report, in input order" cmp -s "$tmp/serial" "$tmp/par"
done
"$emu" replay --format json "$vec"/*.pcap* "$vec/negative"/* "$tmp/empty" > "$tmp/serial"
serial_rc=$?
"$emu" replay --format json -j 3 "$vec"/*.pcap* "$vec/negative"/* "$tmp/empty" > "$tmp/par"
check "-j 3, json with divergences and an unusable file: same status" test $? -eq $serial_rc
check "-j 3, json: the same report" cmp -s "$tmp/serial" "$tmp/par"

# --shard K/N: each trace in exactly one shard; the shards' verdicts together
# are the serial run's.
verdicts() { grep -E '^(PASS|DIVERGED|UNUSABLE|SKIP) ' "$1" | sed 's/ at frame.*//; s/:.*//'; }
"$emu" replay --semantic "$vec"/*.pcap* "$vec/negative"/* > "$tmp/serial"
verdicts "$tmp/serial" | sort > "$tmp/v.serial"
: > "$tmp/v.shards"
for k in 1 2 3 4; do
	"$emu" replay --shard $k/4 --jobs 2 "$vec"/*.pcap* "$vec/negative"/* > "$tmp/shard$k"
	verdicts "$tmp/shard$k" >> "$tmp/v.shards"
done
sort -o "$tmp/v.shards" "$tmp/v.shards"
check "--shard 1..4/4: together the serial run's verdicts, each trace once" \
    cmp -s "$tmp/v.serial" "$tmp/v.shards"
check "... and no shard is empty" sh -c "for k in 1 2 3 4; do grep -q '^PASS ' '$tmp/shard'\$k || exit 1; done"
mkdir "$tmp/elsewhere"
cp "$vec/emu-echo.pcap" "$tmp/elsewhere/"
for k in 1 2 3; do
	"$emu" replay --shard $k/3 "$vec/emu-echo.pcap" "$tmp/elsewhere/emu-echo.pcap" > "$tmp/out"
	check "--shard $k/3: a file's shard is its name's, not its directory's" \
	    sh -c "tail -n 1 '$tmp/out' | grep -qE '^(0|2) traces'"
done
# The documented split (doc/replay.md): FNV-1a 64 of the name, mod N, + 1.
# It must not change between versions, or CI matrices reshuffle.
for ks in "emu-echo.pcap 3/4 3/3" "linux61-vhost-echo.pcap 2/4 1/3" \
    "tcpdump-vsock-1.pcapng 1/4 2/3"; do
	set -- $ks
	for sh in $2 $3; do
		"$emu" replay --shard $sh "$vec/$1" > "$tmp/out"
		check "$1 is in shard $sh" grep -q "^PASS " "$tmp/out"
	done
done
for bad in 0/4 5/4 1/0 4 1/ /4 x/4 1/65537 -1/4; do
	"$emu" replay --shard $bad "$tcpd" > /dev/null 2>&1
	check "--shard $bad: exit 2" test $? -eq 2
done
for bad in 0 257 x; do
	"$emu" replay --jobs $bad "$tcpd" > /dev/null 2>&1
	check "--jobs $bad: exit 2" test $? -eq 2
done

# Determinism: the same trace and options give the same report, byte for byte.
for f in "$tcpd" "$vec/negative/neg-credit-shrunk.pcap" "$vec/emu-timeout.pcap"; do
	for fmt in text json; do
		"$emu" replay --format $fmt "$f" > "$tmp/r1"
		"$emu" replay --format $fmt "$f" > "$tmp/r2"
		check "$(basename "$f") $fmt: two replays, identical reports" \
		    cmp -s "$tmp/r1" "$tmp/r2"
	done
done

# --pcap-out: the device's packets interleaved with the replayed guest
# frames. For the tcpdump trace that is the trace itself, to the microsecond.
"$emu" replay --strict --pcap-out "$tmp/dev.pcap" "$tcpd" > "$out"
check "--pcap-out: exit 0" test $? -eq 0
"$emu" dump "$tmp/dev.pcap" > "$tmp/dev.txt"
check "--pcap-out reproduces the tcpdump trace" \
    cmp -s "$tmp/dev.txt" "$vec/tcpdump-vsock-1.dump"

# Host scripts.
printf '# the echo service\n1234 echo\n' > "$tmp/echo.script"
# emu-echo.pcap's application half-closed on EOF; an echo script closes, so
# the device owes SHUTDOWN(RCV|SEND) where the trace shows SHUTDOWN(SEND).
"$emu" replay --strict --host-script "$tmp/echo.script" "$vec/emu-echo.pcap" > "$out"
check "an echo host script replays emu-echo.pcap up to its close" test $? -eq 1
check "... and differs exactly at the close (frame 13, SHUTDOWN flags)" \
    sh -c "grep -q 'at frame 13' '$out' && grep -q 'field: *flags' '$out'"
printf '1234 refuse\n' > "$tmp/refuse.script"
"$emu" replay --host-script "$tmp/refuse.script" "$tcpd" > "$out"
check "a refusing host script diverges" test $? -eq 1
check "... at frame 2, RST for RESPONSE" sh -c "grep -q 'at frame 2' '$out' && grep -q 'actual: .* STREAM RST flags 0 ' '$out'"
printf '1234 echo\nhello\n' > "$tmp/bad.script"
"$emu" replay --host-script "$tmp/bad.script" "$tcpd" 2> "$err"
check "a bad host script: exit 2 naming the line" sh -c "test $? -eq 2 && grep -q 'line 2' '$err'"
"$emu" replay --host-script "$tmp/none" "$tcpd" 2> /dev/null
check "a missing host script: exit 2" test $? -eq 2

# Mutated traces: every verdict is allowed, a crash or a word on stderr is not.
n=0 bad=0
for f in "$tcpd" "$vec"/emu-*.pcap; do
	size=$(wc -c < "$f")
	i=0
	while [ $i -lt 24 ]; do
		cp "$f" "$tmp/m"
		off=$(( (i * 7919 + 40) % size ))
		printf "\\$(printf '%03o' $(( (i * 37 + 101) & 255 )))" |
		    dd of="$tmp/m" bs=1 seek=$off conv=notrunc 2> /dev/null
		"$emu" replay --strict "$tmp/m" > "$out" 2> "$err"
		rc=$?
		n=$((n + 1))
		if [ $rc -gt 2 ] || [ -s "$err" ]; then
			bad=$((bad + 1))
			echo "mutant of $f at $off: exit $rc"; cat "$err"
		fi
		head -c $(( (i * 4111) % size )) "$f" > "$tmp/m"
		"$emu" replay "$tmp/m" > "$out" 2> "$err"
		rc=$?
		if [ $rc -gt 2 ] || [ -s "$err" ]; then
			bad=$((bad + 1))
			echo "prefix of $f: exit $rc"; cat "$err"
		fi
		i=$((i + 1))
	done
done
check "$n mutated and $n truncated traces: no crash, nothing on stderr" test $bad -eq 0
exit $fail
