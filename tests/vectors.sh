#!/bin/sh
# vectors.sh - every recorded trace in testvectors/ decodes cleanly with
# `vsockemu dump` and with tshark, and both count the same frames.
# A .gz vector is fed to both through gzip -dc. Without tshark the dump
# checks still run (and can FAIL), but the test ends SKIP (77), never PASS.
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

for f in "$vec"/*.pcap*; do
	[ -f "$f" ] || continue
	name=${f##*/} n=$((n + 1))
	p=$(plain "$f") || { echo "FAIL: $name: gzip -dc"; fail=1; continue; }
	"$emu" dump "$p" > "$tmp/dump" 2> "$tmp/err"
	check "$name: vsockemu dump exits 0" test $? -eq 0
	check "$name: vsockemu dump is silent on stderr" test ! -s "$tmp/err"
	frames=$(wc -l < "$tmp/dump")
	check "$name: vsockemu dump prints frames" test "$frames" -gt 0
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
[ $fail = 0 ] && [ $have_tshark = 0 ] && exit 77
exit $fail
