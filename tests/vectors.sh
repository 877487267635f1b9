#!/bin/sh
# vectors.sh - every recorded trace in testvectors/ and testvectors/matrix/
# decodes cleanly with `vsockemu dump` and with tshark, and both count the
# same frames. A .gz vector is fed to both through gzip -dc. A header-only
# trace (classic pcap with a snapshot length below 65535, such as the 4.3 GB
# matrix/*-wrap-* one cut at the 76 bytes of vsockmon and virtio headers)
# decodes whole with both: `vsockemu dump` prints every header and marks the
# records whose payload was cut ("[cut: N of M payload bytes]"). Without
# tshark the dump checks still run (and can FAIL), but the test ends SKIP
# (77), never PASS.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-vectors.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
have_tshark=1
command -v tshark >/dev/null 2>&1 || have_tshark=0

. "${top_srcdir:-.}/tests/lib.sh"

# plain FILE: FILE uncompressed, as a path.
plain() {
	case $1 in
	*.gz) gzip -dc "$1" > "$tmp/plain" && echo "$tmp/plain" ;;
	*) echo "$1" ;;
	esac
}

# snaplen FILE: a classic pcap's snapshot length (little-endian, as tcpdump
# writes on x86 and vsockemu everywhere); 262144 for anything else.
snaplen() {
	case $(od -An -tx1 -N4 "$1" | tr -d ' ') in
	d4c3b2a1|4d3cb2a1) od -An -tu4 -j16 -N4 "$1" | tr -d ' ' ;;
	*) echo 262144 ;;
	esac
}

# dump_cut NAME: a header-only trace: dump prints every record, each one
# the snapshot length cut inside its payload marked, and exits 0.
dump_cut() {
	check "$1: vsockemu dump of the header-only trace exits 0, silent" \
	    sh -c "test $rc -eq 0 && test ! -s '$tmp/err'"
	check "$1: ... the cut records marked with what is left" \
	    grep -q ' \[cut: [0-9]* of [0-9]* payload bytes\]$' "$tmp/dump"
}

for f in "$vec"/*.pcap* "$vec"/matrix/*.pcap*; do
	[ -f "$f" ] || continue
	name=${f#"$vec"/} n=$((n + 1))
	p=$(plain "$f") || { echo "FAIL: $name: gzip -dc"; fail=1; continue; }
	cut=0
	[ "$(snaplen "$p")" -lt 65535 ] && cut=1
	"$emu" dump "$p" > "$tmp/dump" 2> "$tmp/err"
	rc=$?
	frames=$(wc -l < "$tmp/dump")
	if [ $cut = 1 ]; then
		dump_cut "$name"
	else
		check "$name: vsockemu dump exits 0" test $rc -eq 0
		check "$name: vsockemu dump is silent on stderr" test ! -s "$tmp/err"
		check "$name: vsockemu dump prints frames" test "$frames" -gt 0
	fi
	if [ $have_tshark = 0 ]; then
		echo "SKIP: $name: tshark not installed"
		continue
	fi
	# The compressed file itself: tshark reads gzip.
	LC_ALL=C tshark -n -r "$f" > "$tmp/tshark" 2> "$tmp/err"
	check "$name: tshark -r exits 0" test $? -eq 0
	grep -v '^Running as user "root"' "$tmp/err" > "$tmp/err2"
	check "$name: tshark is silent on stderr" test ! -s "$tmp/err2"
	check "$name: tshark finds no malformed frame" \
	    sh -c "! grep -qi 'malformed' '$tmp/tshark'"
	check "$name: tshark and dump agree on $frames frames" \
	    test "$(wc -l < "$tmp/tshark")" -eq "$frames"
done
check "at least 10 real Linux traces ($n vectors in all)" \
    test "$(ls "$vec"/linux61-*.pcap* 2>/dev/null | wc -l)" -ge 10
check "the issue-15 matrix: at least 146 real Linux traces" \
    test "$(ls "$vec"/matrix/linux61-*.pcap* 2>/dev/null | wc -l)" -ge 146
[ $fail = 0 ] && [ $have_tshark = 0 ] && exit 77
exit $fail
