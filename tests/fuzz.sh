#!/bin/sh
# fuzz.sh - `vsockemu fuzz` end to end: a short clean campaign, the same
# seed and run count giving the same digest, captures as a corpus, replay.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

digest() { sed -n 's/^digest //p' "$1"; }

"$emu" fuzz --seed 7 --runs 150 -q > "$tmp/a" 2> "$tmp/a.err"
check "150 runs of seed 7 find nothing" test $? -eq 0
"$emu" fuzz --seed 7 --runs 150 -q > "$tmp/b" 2> /dev/null
check "same seed and runs, same digest" test "$(digest "$tmp/a")" = "$(digest "$tmp/b")"
check "the digest is printed" test -n "$(digest "$tmp/a")"
check "the exec rate is printed" grep -q 'execs/s' "$tmp/a"
check "the op x state matrix is printed" grep -q '^established ' "$tmp/a"
"$emu" fuzz --seed 8 --runs 150 -q > "$tmp/c" 2> /dev/null
check "another seed, another digest" test "$(digest "$tmp/a")" != "$(digest "$tmp/c")"
"$emu" fuzz --seed 7 --runs 149 -q > "$tmp/d" 2> /dev/null
check "one run fewer, another digest" test "$(digest "$tmp/a")" != "$(digest "$tmp/d")"

mkdir "$tmp/corpus"
cp "$vec/tcpdump-vsock-1.pcapng" "$tmp/corpus/"
"$emu" fuzz --seed 1 --runs 20 --corpus "$tmp/corpus" -q > "$tmp/e" 2> "$tmp/e.err"
check "a capture seeds the corpus" sh -c "test $? -eq 0 && grep -q 'corpus 1' '$tmp/e'"

for f in "${top_srcdir:-.}"/tests/fuzz/corpus/device/*; do
	[ -f "$f" ] || continue
	"$emu" fuzz --replay "$f" > "$tmp/r" 2>&1
	check "replay $(basename "$f") finds nothing" test $? -eq 0
done

"$emu" fuzz --runs 1 --seconds 1 2> /dev/null
check "--runs with --seconds exits 2" test $? -eq 2
"$emu" fuzz --seed x 2> /dev/null
check "a bad number exits 2" test $? -eq 2
"$emu" fuzz --help > "$tmp/h"
check "--help teaches the invariants" sh -c "test $? -eq 0 && grep -q 'RST for an RST' '$tmp/h'"
check "vsockemu --help lists fuzz" sh -c "$emu --help | grep -q '^  fuzz '"
exit $fail
