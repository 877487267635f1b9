# lib.sh - what every program test shares; sourced, never run.
# Each check prints one PASS or FAIL line (the test log shows them all);
# a failure sets fail=1, which the script (having set fail=0) exits with.

pass() { echo "PASS: $1"; }
failed() { echo "FAIL: $1"; fail=1; }

# check DESCRIPTION COMMAND...: PASS when the command succeeds.
check() {
	desc=$1; shift
	if "$@"; then pass "$desc"; else failed "$desc"; fi
}
