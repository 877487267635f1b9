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
