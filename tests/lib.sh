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

# The ways a capture reaches a program through a pipe: a shell pipe and a
# redirect as "-", /dev/stdin, a process substitution (bash), a FIFO.
pipe_forms="stdin-pipe stdin-redirect dev-stdin process-substitution fifo"

# pipe_run FORM FILE CMD...: CMD with FILE through FORM as its last argument.
# A program that opens its input twice would wait forever on a pipe: 60 s
# (timeout's status 124) makes that a failure, not a hung suite.
pipe_run() {
	pr_form=$1 pr_file=$2
	shift 2
	set -- timeout 60 "$@"
	case $pr_form in
	stdin-pipe) cat "$pr_file" | "$@" - ;;
	stdin-redirect) "$@" - < "$pr_file" ;;
	dev-stdin) cat "$pr_file" | "$@" /dev/stdin ;;
	process-substitution) bash -c '"$@" <(cat "$0")' "$pr_file" "$@" ;;
	fifo)
		pr_fifo=${TMPDIR:-/tmp}/vse-pipe-run.$$
		rm -f "$pr_fifo" && mkfifo "$pr_fifo" || return 99
		cat "$pr_file" > "$pr_fifo" &
		"$@" "$pr_fifo"
		pr_rc=$?
		# A program that never opened the FIFO leaves cat blocked.
		kill $! 2> /dev/null
		wait $! 2> /dev/null
		rm -f "$pr_fifo"
		return $pr_rc ;;
	esac
}

# wait_for COMMAND...: retries (every 50 ms, at most 10 s) until it succeeds.
wait_for() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
}
