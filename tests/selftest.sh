#!/bin/sh
# selftest.sh - the program end to end: `vsockemu selftest` must pass, its
# options must be checked, and --help/--version must answer.
set -u
emu=${top_builddir:-.}/emu/vsockemu
fail=0

check() {
	desc=$1; shift
	if "$@"; then echo "PASS: $desc"; else echo "FAIL: $desc"; fail=1; fi
}

check "--version prints the version" sh -c "$emu --version | grep -q '^vsockemu '"
check "--help lists selftest" sh -c "$emu --help | grep -q selftest"
check "selftest passes" sh -c "$emu selftest --chains 20000 -q | grep -q '20000/20000 chains ok, \([0-9]*\)/\1 malformed'"
check "unknown command exits 2" sh -c "$emu frobnicate 2>/dev/null; test \$? -eq 2"
check "bad --queue-size exits 2" sh -c "$emu selftest --queue-size 3 2>/dev/null; test \$? -eq 2"
check "no arguments exits 2" sh -c "$emu 2>/dev/null; test \$? -eq 2"
exit $fail
