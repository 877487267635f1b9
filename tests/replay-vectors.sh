#!/bin/sh
# replay-vectors.sh - every trace in testvectors/MANIFEST gets its verdict at
# its frame; the vsockemu-made vectors regenerate byte for byte.
set -u
emu=${top_builddir:-.}/emu/vsockemu
gen=${top_builddir:-.}/tests/gen-vectors
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-rvec.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

# The manifest: exit status 0 or 1, and a divergence at exactly FRAME.
while read -r trace mode verdict frame; do
	case $trace in ''|'#'*) continue;; esac
	"$emu" replay "--$mode" "$vec/$trace" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$verdict" = pass ]; then
		check "$trace --$mode passes" test $rc -eq 0
	else
		check "$trace --$mode diverges" test $rc -eq 1
		check "$trace --$mode names frame $frame" \
		    grep -q "^DIVERGED $vec/$trace at frame $frame: " "$tmp/out"
	fi
	check "$trace --$mode: nothing on stderr" test ! -s "$tmp/err"
done < "$vec/MANIFEST"

# --expect: the manifest gates the whole directory, as CI would run it.
ntraces=$(ls "$vec"/*.pcap* | wc -l)
nfiles=$(ls -d "$vec"/* | wc -l)
for mode in semantic strict; do
	"$emu" replay --$mode --expect "$vec/MANIFEST" "$vec"/* > "$tmp/out" \
	    2> "$tmp/err"
	check "replay --$mode --expect MANIFEST testvectors/*: exit 0" test $? -eq 0
	check "... nothing on stderr" test ! -s "$tmp/err"
	check "... every trace as expected, the other files skipped" test \
	    "$(tail -n 1 "$tmp/out")" = "expected: $ntraces as expected, 0 unexpected, $((nfiles - ntraces)) not in the manifest"
	check "... no UNEXPECTED line" sh -c "! grep -q '^UNEXPECTED' '$tmp/out'"
done
# Issue 15's close-ordering matrix: every verdict, pins with their kernel
# reason, in testvectors/MANIFEST.matrix.
nmatrix=$(ls "$vec"/matrix/*.pcap* | wc -l)
for mode in semantic strict; do
	"$emu" replay --$mode --expect "$vec/MANIFEST.matrix" "$vec"/matrix/* \
	    > "$tmp/mout" 2> "$tmp/err"
	check "replay --$mode --expect MANIFEST.matrix matrix/*: exit 0" \
	    test $? -eq 0
	check "... all $nmatrix matrix traces as expected" test \
	    "$(tail -n 1 "$tmp/mout")" = "expected: $nmatrix as expected, 0 unexpected, 0 not in the manifest"
done
# The manifest's strict divergences of this directory (not of negative/).
ndiv=$(awk '$1 !~ /^#/ && $1 !~ /\// && $2 == "strict" && $3 == "diverged"' \
    "$vec/MANIFEST" | wc -l)
check "... strict: the $ndiv divergences, each marked expected" test \
    "$(grep -c '^  as expected: .*/MANIFEST line [0-9]* expects diverged at frame [0-9]*$' "$tmp/out")" -eq "$ndiv"
check "... a file that is no capture is skipped, not unusable" \
    grep -q "^SKIP $vec/README.md: not in $vec/MANIFEST for strict\$" "$tmp/out"
# A manifest of our own, each rule: met and unmet verdicts, frames, unusable.
mkdir "$tmp/m"
cp "$vec/emu-echo.pcap" "$vec/negative/neg-fwd-cnt.pcap" "$vec/README.md" "$tmp/m/"
expect() {	# expect MANIFEST-LINES...: replay --expect over the three files
	printf '%s\n' "$@" > "$tmp/m/M"
	"$emu" replay --expect "$tmp/m/M" "$tmp/m/emu-echo.pcap" \
	    "$tmp/m/neg-fwd-cnt.pcap" "$tmp/m/README.md" > "$tmp/out" 2> "$tmp/err"
}
expect "emu-echo.pcap semantic pass" "neg-fwd-cnt.pcap semantic diverged 4" \
    "README.md semantic unusable"
check "--expect, all met (one unusable as expected): exit 0" test $? -eq 0
expect "emu-echo.pcap semantic pass" "neg-fwd-cnt.pcap semantic diverged 5" \
    "README.md semantic unusable"
check "--expect, diverged at another frame: exit 1" test $? -eq 1
check "... UNEXPECTED naming the manifest line" grep -q \
    "^UNEXPECTED $tmp/m/neg-fwd-cnt.pcap: $tmp/m/M line 2 expects diverged at frame 5\$" "$tmp/out"
expect "emu-echo.pcap semantic diverged" "neg-fwd-cnt.pcap semantic pass"
check "--expect, a pass expected to diverge and vice versa: exit 1" test $? -eq 1
check "... two UNEXPECTED lines" test "$(grep -c '^UNEXPECTED ' "$tmp/out")" -eq 2
check "... the unlisted README.md skipped" grep -q "^SKIP $tmp/m/README.md: " "$tmp/out"
expect "emu-echo.pcap semantic pass" "neg-fwd-cnt.pcap semantic diverged" \
    "README.md semantic pass"
check "--expect, only an unexpected unusable: exit 2" test $? -eq 2
expect "./emu-echo.pcap strict pass" "neg-fwd-cnt.pcap semantic diverged"
check "--expect, the mode decides: emu-echo skipped in semantic mode" \
    grep -q "^SKIP $tmp/m/emu-echo.pcap: not in $tmp/m/M for semantic\$" "$tmp/out"
printf 'emu-echo.pcap semantic passed\n' > "$tmp/m/M"
"$emu" replay --expect "$tmp/m/M" "$tmp/m/emu-echo.pcap" > "$tmp/out" 2> "$tmp/err"
check "--expect, a bad manifest line: exit 2 naming it" \
    sh -c "test $? -eq 2 && grep -q 'M: line 1: ' '$tmp/err'"
"$emu" replay --expect "$tmp/m/none" "$tmp/m/emu-echo.pcap" > "$tmp/out" 2> "$tmp/err"
check "--expect, no manifest: exit 2" test $? -eq 2
abs_emu=$(cd "$(dirname "$emu")" && pwd)/vsockemu
(cd "$tmp/m" && printf 'neg-fwd-cnt.pcap semantic diverged 4\n' > M &&
    "$abs_emu" replay --expect M ./neg-fwd-cnt.pcap "$tmp/m/neg-fwd-cnt.pcap" \
    --format tap > "$tmp/out")
check "--expect: ./x and /abs/x are the manifest's x; TAP marks it TODO" \
    test "$(grep -c '^not ok [12] - .*neg-fwd-cnt.pcap # TODO as M line 1 expects: diverged at frame 4$' "$tmp/out")" -eq 2

# The generated vectors are reproducible: same scenario, same bytes.
for s in echo host-connect refused credit timeout halfclose; do
	"$gen" "$s" "$tmp/emu-$s.pcap"
	check "emu-$s.pcap regenerates identically" \
	    cmp -s "$tmp/emu-$s.pcap" "$vec/emu-$s.pcap"
done
# ... and so are the negative ones: one frame of a positive one altered.
alter() {
	"$gen" alter "$vec/$1" "$tmp/$2" "$3" "$4" "$5"
	check "negative/$2 regenerates identically" \
	    cmp -s "$tmp/$2" "$vec/negative/$2"
}
alter tcpdump-vsock-1.pcapng neg-response-tuple.pcap 2 dst_port 1025
alter tcpdump-vsock-1.pcapng neg-fwd-cnt.pcap 4 fwd_cnt 60
alter tcpdump-vsock-1.pcapng neg-credit-shrunk.pcap 5 buf_alloc 4
alter emu-halfclose.pcap neg-data-after-shut-rcv.pcap 5 flags 1

# Every positive vector at once, as the README's main command runs them.
"$emu" replay "$vec"/*.pcap* > "$tmp/all" 2>&1
check "vsockemu replay testvectors/*.pcap* exits 0" test $? -eq 0
check "... one PASS line per trace" test "$(grep -c '^PASS ' "$tmp/all")" -eq \
    "$(ls "$vec"/*.pcap* | wc -l)"
exit $fail
