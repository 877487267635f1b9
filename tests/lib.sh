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

# bg_ready FIFO COMMAND...: runs COMMAND (given `--ready-fd 9`) in the
# background with fd 9 on the FIFO, pid in $bg_pid, and returns 0 once it
# wrote its readiness line: serve says it after every socket it listens on
# exists (say_ready() is its last step before the loop), so no caller polls
# for one path of several (serve.sh once waited for ./v.sock and then found
# no --guest-connect socket yet). 1 when it ended without the line; 60 s
# bound a program that neither says it nor ends.
bg_ready() {
	br_fifo=$1
	shift
	rm -f "$br_fifo" && mkfifo "$br_fifo" || return 99
	"$@" 9> "$br_fifo" &
	bg_pid=$!
	br_line=$(timeout 60 head -n 1 "$br_fifo")
	rm -f "$br_fifo"
	[ -n "$br_line" ]
}

# --- Hand-made captures (dump.sh, replay.sh, ladder.sh) ---

# le VALUE NBYTES: VALUE as NBYTES little-endian bytes on stdout.
# (No `local` in POSIX sh: the le_ prefix keeps callers' variables safe.)
le() {
	le_v=$1 le_n=$2 le_s=''
	while [ "$le_n" -gt 0 ]; do
		le_s="$le_s\\$(printf '%03o' $((le_v & 255)))"
		le_v=$((le_v >> 8)) le_n=$((le_n - 1))
	done
	printf "$le_s"
}

# pcap FILE: a classic pcap header, link type 271, snaplen 262144.
pcap() {
	{ le 2712847316 4; le 2 2; le 4 2; le 0 4; le 0 4; le 262144 4
	  le 271 4; } > "$1"
}

# record FILE SRC_CID DST_CID SRC_PORT DST_PORT LEN TYPE OP FLAGS PAYLOAD:
# appends one kernel-style record (vsockmon op mapped as Linux does).
record() {
	f=$1 sc=$2 dc=$3 sp=$4 dp=$5 len=$6 type=$7 op=$8 flags=$9
	shift 9
	pay=$1 n=${#1}
	case $op in 1|2) mop=1;; 3|4) mop=2;; 5) mop=4;; 6|7) mop=3;; *) mop=0;; esac
	{ le 1000 4; le 0 4; le $((76 + n)) 4; le $((76 + n)) 4
	  le "$sc" 8; le "$dc" 8; le "$sp" 4; le "$dp" 4; le $mop 2; le 2 2
	  le 44 2; le 0 2
	  le "$sc" 8; le "$dc" 8; le "$sp" 4; le "$dp" 4; le "$len" 4
	  le "$type" 2; le "$op" 2; le "$flags" 4; le 262144 4; le 0 4
	  printf '%s' "$pay"; } >> "$f"
}
