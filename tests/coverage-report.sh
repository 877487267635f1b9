#!/bin/sh
# coverage-report.sh - after `make check` in a --enable-coverage build:
# lcov + genhtml with branch coverage into coverage/, figures for src/
# only (tests, fakeguest, fuzz and emu excluded), the guest-facing core
# file by file, and a gate on src/'s line and branch coverage.
# Usage: coverage-report.sh BUILDDIR MIN_LINE_PCT MIN_BRANCH_PCT
set -eu
build=$1 min_line=$2 min_branch=$3
out=$build/coverage
rc="--rc lcov_branch_coverage=1"

mkdir -p "$out"
# lcov 1.16 on newer Perl warns about redefined subroutines: not ours.
lcov --quiet $rc --capture --directory "$build" \
    --output-file "$out/all.info" 2>&1 | grep -v ' redefined at ' >&2 || true
test -s "$out/all.info"
lcov --quiet $rc --extract "$out/all.info" '*/src/*' \
    --output-file "$out/src.info"
genhtml --quiet --branch-coverage --legend --title "vsockemu src/" \
    --output-directory "$out" "$out/src.info"

echo
echo "Guest-facing core (line % / function % / branch %):"
lcov $rc --list "$out/src.info" 2>/dev/null | grep -E \
    '(virtq|guestmem|pkt|credit|device[a-z-]*|connect-line)\.c' || true
echo
lcov $rc --summary "$out/src.info" 2>&1 | tee "$out/summary.txt"

pct() { sed -n "s/^ *$1\.*: \([0-9.]*\)%.*/\1/p" "$out/summary.txt"; }
line=$(pct lines) branch=$(pct branches) func=$(pct functions)
echo
echo "src/ coverage: lines $line%, functions $func%, branches $branch%"
echo "gate: lines >= $min_line%, branches >= $min_branch%"
echo "HTML report: $out/index.html"
awk -v l="$line" -v b="$branch" -v ml="$min_line" -v mb="$min_branch" \
    'BEGIN { exit !(l + 0 >= ml + 0 && b + 0 >= mb + 0) }' || {
	echo "coverage gate FAILED"
	exit 1
}
