#!/bin/sh
# dump.sh - `vsockemu dump` end to end: the tcpdump vector line for line,
# flag names, split-tap marks, and a clean exit 2 for every unusable file.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-dump.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

# line N FILE: line N of FILE.
line() { sed -n "$1p" "$2"; }

out=$tmp/out err=$tmp/err

# The tcpdump vector: exactly the hand-written expected output.
"$emu" dump "$vec/tcpdump-vsock-1.pcapng" > "$out" 2> "$err"
check "dump of the tcpdump vector exits 0" test $? -eq 0
check "dump of the tcpdump vector prints nothing on stderr" test ! -s "$err"
check "dump matches testvectors/tcpdump-vsock-1.dump" \
    cmp -s "$out" "$vec/tcpdump-vsock-1.dump"
check "10 lines" test "$(wc -l < "$out")" -eq 10
check "frame 3: guest RW of 6 bytes" test "$(line 3 "$out" | cut -d" " -f1,3-5,7,9-11)" = \
    "3 3:1024 > 2:1234 RW 0 len 6"
check "frame 9: host SHUTDOWN RCV|SEND" test "$(line 9 "$out" | cut -d' ' -f3-9)" = \
    "2:1234 > 3:1024 STREAM SHUTDOWN flags RCV|SEND"
check "every frame buf_alloc 262144" test "$(grep -c ' buf_alloc 262144 ' "$out")" -eq 10
check "CIDs 3/2 and ports 1024/1234 only" test "$(grep -c -e ' 3:1024 > 2:1234 ' \
    -e ' 2:1234 > 3:1024 ' "$out")" -eq 10
check "frame 10 is 6.115325 s after frame 1" test "$(line 10 "$out" | cut -d' ' -f2)" = 6.115325

"$emu" dump -x "$vec/tcpdump-vsock-1.pcapng" > "$out"
check "dump -x matches testvectors/tcpdump-vsock-1.dump-x" \
    cmp -s "$out" "$vec/tcpdump-vsock-1.dump-x"
check "dump -x: frame 3 payload Hello" test "$(line 4 "$out")" = \
    "  0000  48 65 6c 6c 6f 0a                                 |Hello.|"

# Flag names and types on crafted records.
pcap "$tmp/seq.pcap"
record "$tmp/seq.pcap" 3 2 1024 1234 2 2 5 3 hi
record "$tmp/seq.pcap" 3 2 1024 1234 0 2 4 5 ''
record "$tmp/seq.pcap" 3 2 1024 1234 0 9 6 16 ''
record "$tmp/seq.pcap" 3 2 1024 1234 0 1 5 0 ''
"$emu" dump "$tmp/seq.pcap" > "$out" 2> "$err"
check "crafted pcap exits 0" test $? -eq 0
check "SEQPACKET RW flags EOM|EOR" test "$(line 1 "$out" | cut -d" " -f7-9)" = "RW flags EOM|EOR"
check "SHUTDOWN unknown bit in hex" test "$(line 2 "$out" | cut -d" " -f7-9)" = "SHUTDOWN flags RCV|0x4"
check "unknown type, other flags hex" test "$(line 3 "$out" | cut -d" " -f6-10)" = \
    "unknown 9 CREDIT_UPDATE flags 0x10"

# Linux 6.1's split tap: host->guest RW, len 4, 10 bytes tapped.
pcap "$tmp/split.pcap"
record "$tmp/split.pcap" 2 3 1234 1024 4 1 5 0 0123456789
"$emu" dump -x "$tmp/split.pcap" > "$out" 2> "$err"
check "split tap accepted" test $? -eq 0
check "split tap marked" test "$(line 1 "$out")" = \
    "1 0.000000 2:1234 > 3:1024 STREAM RW flags 0 len 4 buf_alloc 262144 fwd_cnt 0 [split-tap: 10 bytes tapped]"
check "split tap trimmed to len" sh -c "sed -n 2p '$out' | grep -q '|0123|\$'"
pcap "$tmp/excess.pcap"
record "$tmp/excess.pcap" 3 2 1024 1234 4 1 5 0 0123456789
"$emu" dump "$tmp/excess.pcap" > "$out" 2> "$err"
check "guest->host excess payload exits 2" test $? -eq 2
check "... naming file and frame" grep -q "excess.pcap: frame 1: RW header says len 4 but the record has 10 payload bytes" "$err"

# Every pipe form, plain and gzip, pcapng and pcap: read once, as from the file.
gzip -c "$vec/tcpdump-vsock-1.pcapng" > "$tmp/t.pcapng.gz"
"$emu" dump "$vec/emu-echo.pcap" > "$tmp/echo.dump"
gzip -c "$vec/emu-echo.pcap" > "$tmp/echo.pcap.gz"
for form in $pipe_forms; do
	for input in "$vec/tcpdump-vsock-1.pcapng:$vec/tcpdump-vsock-1.dump" \
	    "$tmp/t.pcapng.gz:$vec/tcpdump-vsock-1.dump" \
	    "$vec/emu-echo.pcap:$tmp/echo.dump" \
	    "$tmp/echo.pcap.gz:$tmp/echo.dump"; do
		file=${input%%:*} want=${input#*:}
		pipe_run "$form" "$file" "$emu" dump > "$out" 2> "$err"
		check "dump $(basename "$file") through $form exits 0" test $? -eq 0
		check "... prints what dump of the file prints" cmp -s "$out" "$want"
		check "... nothing on stderr" test ! -s "$err"
	done
done
printf 'not a capture\n' | "$emu" dump - > "$out" 2> "$err"
check "a pipe of text exits 2" test $? -eq 2
check "... one line naming -" grep -q '^vsockemu dump: -: not a pcap or pcapng capture' "$err"

# A capture taken with a snapshot length (tcpdump -s 80) cut inside the
# payload: every frame printed, the cut ones marked with what is left.
if command -v editcap >/dev/null 2>&1; then
	"$emu" dump "$vec/emu-echo.pcap" > "$tmp/whole"
	editcap -s 80 "$vec/emu-echo.pcap" "$tmp/snap.pcap"
	"$emu" dump "$tmp/snap.pcap" > "$out" 2> "$err"
	check "snaplen-cut capture exits 0, nothing on stderr" \
	    sh -c "test $? -eq 0 && test ! -s '$err'"
	check "... every frame, the cut RWs marked [cut: 4 of 7 payload bytes]" \
	    sh -c "sed 's/ \[cut: 4 of 7 payload bytes\]\$//' '$out' | cmp -s - '$tmp/whole' &&
	    test \$(grep -c 'RW flags 0 len 7 .* \[cut: 4 of 7 payload bytes\]\$' '$out') -eq \$(grep -c ' RW ' '$tmp/whole')"
	"$emu" dump -x "$tmp/snap.pcap" > "$out" 2> "$err"
	check "... -x shows the 4 bytes that were kept" \
	    sh -c "sed -n 4p '$out' | grep -q '^  0000  70 69 6e 67  *|ping|\$'"
	"$emu" dump --html "$tmp/snap.html" "$tmp/snap.pcap" 2> "$err"
	check "... dump --html draws it, the cut arrows marked" \
	    sh -c "test $? -eq 0 && test \$(grep -o 'cut: 4 of 7 payload bytes' '$tmp/snap.html' | wc -l) -ge \$(grep -c ' RW ' '$tmp/whole')"
	"$emu" replay -q --html "$tmp/snapr.html" "$tmp/snap.pcap" 2> "$err"
	check "replay --html of it: PASS, the cut arrows and the note shown" \
	    sh -c "test $? -eq 0 && grep -q 'PASS' '$tmp/snapr.html' &&
	    grep -q 'bytes not compared: [0-9]* records cut at snaplen 80' '$tmp/snapr.html' &&
	    grep -q 'cut: 4 of 7 payload bytes' '$tmp/snapr.html'"
	editcap -s 64 "$vec/emu-echo.pcap" "$tmp/snap50.pcap"
	"$emu" dump "$tmp/snap50.pcap" > "$out" 2> "$err"
	check "a snaplen that cuts the headers still exits 2, frame named" \
	    sh -c "test $? -eq 2 && grep -q 'snap50.pcap: frame 1: ' '$err'"
else
	echo "SKIP: snaplen checks (no editcap)"
fi

# Unusable input: exit 2 and one line naming the file (and frame).
head -c 600 "$vec/tcpdump-vsock-1.pcapng" > "$tmp/cut.pcapng"
"$emu" dump "$tmp/cut.pcapng" > "$out" 2> "$err"
check "truncated capture exits 2" test $? -eq 2
check "truncated capture: frames before the cut printed" test "$(wc -l < "$out")" -eq 3
check "truncated capture: file and frame 4 named" grep -q "cut.pcapng: frame 4: " "$err"
check "one line on stderr" test "$(wc -l < "$err")" -eq 1
: > "$tmp/empty"
"$emu" dump "$tmp/empty" 2> "$err"
check "empty file exits 2, named" sh -c "test $? -eq 2 && grep -q '/empty: ' '$err'"
check "... once, in our words" sh -c "test \$(grep -o empty '$err' | wc -l) -eq 2 && ! grep -q 'dump file' '$err'"
"$emu" dump "$vec/README.md" 2> "$err"
check "non-capture exits 2, named" sh -c "test $? -eq 2 && grep -q 'README.md: not a pcap or pcapng capture' '$err'"
"$emu" dump "$tmp/missing.pcap" 2> "$err"
check "missing file exits 2" test $? -eq 2
check "... named once, with the reason" test "$(cat "$err")" = \
    "vsockemu dump: $tmp/missing.pcap: cannot open: No such file or directory"
"$emu" dump "$vec/tcpdump-vsock-1.pcapng" "$tmp/empty" > "$out" 2> "$err"
check "a bad file among good ones exits 2" test $? -eq 2
check "... after dumping the good one" test "$(grep -c buf_alloc "$out")" -eq 10
# A reader that leaves (`| head`) ends dump at once, quietly: SIGPIPE is
# ignored (serve must survive it), so dump itself stops at the EPIPE. The
# -x output of one capture is several times a pipe's buffer, so the
# missing file after it is reached only if dump ignored the EPIPE.
seq="$vec/linux61-vhost-seqpacket.pcap"
"$emu" dump -x "$seq" "$seq" "$tmp/missing.pcap" 2> "$err" | head -c 1 > "$out"
check "a reader that leaves stops dump quietly ($(cat "$err"))" \
    sh -c "test -s '$out' && test ! -s '$err'"
"$emu" dump 2> /dev/null
check "no file exits 2" test $? -eq 2
"$emu" dump --frobnicate x 2> /dev/null
check "bad option exits 2" test $? -eq 2
"$emu" dump --help > "$out"
check "--help exits 0 and teaches the marks" sh -c "test $? -eq 0 && grep -q split-tap '$out'"
check "vsockemu --help lists dump" sh -c "$emu --help | grep -q '^  dump '"
exit $fail
