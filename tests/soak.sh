#!/bin/sh
# soak.sh - make soak: `vsockemu serve` under churn for SOAK_SECONDS (default
# 60): clients that connect and vanish mid-transfer on echo, discard, source
# and unix: services, slow readers, half-closes, clients that leave before or
# inside their CONNECT line, and one churning client stopped and continued
# (SIGSTOP/SIGCONT) all along. Then everything must come back: serve's fd
# count and its SIGUSR1 counters (guest sockets, services, device
# connections) to their start, RSS to within SOAK_RSS_SLACK_KIB of what it
# was after a warm-up round, and --max-conns connections must open at once.
# Not part of make check. Every wait polls with a bounded deadline.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
client=$(cd "${top_builddir:-.}" && pwd)/tests/soak-client
seconds=${SOAK_SECONDS:-60}
# Allocator arenas and caches settle after the warm-up; a leaked service
# costs 128 KiB, a leaked guest socket up to 256 KiB of queued data.
slack=${SOAK_RSS_SLACK_KIB:-8192}
clients=${SOAK_CLIENTS:-8}
max=64

work=$(mktemp -d /tmp/vsockemu-soak-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""
talker=""
churners=""

# Polls (every 100 ms, at most $1 s) until the rest of the line succeeds;
# gives up at once if serve died.
wait_until() {
	n=$(($1 * 10)); shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
}

cleanup() {
	for p in $churners $talker; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid"; }
	cd /; rm -rf "$work"
}
trap cleanup EXIT

more_stats() { test "$(grep -c ' stats ' serve.err)" -gt "$1"; }

# serve's counters after one more SIGUSR1.
stats() {
	before=$(grep -c ' stats ' serve.err)
	kill -USR1 "$pid" && wait_until 10 more_stats "$before" &&
	    grep ' stats ' serve.err | tail -1 | sed 's/^vsockemu serve: stats //'
}

fds() { ls /proc/$pid/fd | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' /proc/$pid/status; }

# Idle: only the four listeners, no service, no connection, $1 fds.
idle() {
	test "$(fds)" -eq "$1" &&
	    stats | grep -q '^guest_sockets=4 guest_apps=0 device_conns=0 '
}

# Runs $clients churning clients for $1 seconds; the first is stopped for
# 2 s and continued, over and over, while they run.
churn() {
	churners=""
	k=0
	while [ $k -lt "$clients" ]; do
		# A session of its own: the one stopped below would die of the
		# SIGHUP a stopped member of an orphaned group gets (run.sh).
		setsid "$client" churn ./v.sock "$1" "$k$2" > "churn$k.out" 2>&1 &
		churners="$churners $!"
		k=$((k + 1))
	done
	stopped=${churners# }; stopped=${stopped%% *}
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		kill -STOP "$stopped" 2>/dev/null
		sleep 2
		kill -CONT "$stopped" 2>/dev/null
		sleep 1
	done
	rc=0
	for p in $churners; do
		kill -CONT "$p" 2>/dev/null
		wait "$p" || rc=1
	done
	churners=""
	return $rc
}

"$client" talker ./talk.sock &
talker=$!
wait_until 10 test -S ./talk.sock || exit 99
"$emu" serve -q --max-conns $max --guest 52=echo --guest 53=discard \
    --guest 54=source:1000000000 --guest 56=unix:./talk.sock 2>serve.err &
pid=$!
wait_until 10 test -S ./v.sock || { cat serve.err; exit 99; }
fds0=$(fds)
rss0=$(rss)
echo "start: $fds0 fds, RSS $rss0 KiB, $(stats)"

# --- warm-up: the allocator's arenas, TX slots and caches fill once ---
churn 3 1 > /dev/null
check "warm-up: back to idle ($(stats))" wait_until 30 idle "$fds0"
rss1=$(rss)
echo "after warm-up: RSS $rss1 KiB"

# --- the soak ---
t0=$(date +%s)
churn "$seconds" 2
churned=$?
check "$clients churning clients for $seconds s: no bad echo, stall or refusal" \
    test $churned -eq 0
cat churn*.out
peak=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status)
echo "after $(($(date +%s) - t0)) s of churn: $(fds) fds, RSS $(rss) KiB \
(peak $peak KiB), $(stats)"

# --- everything comes back (close timeouts: 2 s) ---
check "fd count back to $fds0 and counters to idle ($(stats))" \
    wait_until 30 idle "$fds0"
rss2=$(rss)
check "RSS $rss2 KiB within $slack KiB of $rss1 KiB (after warm-up)" \
    test "$rss2" -le $((rss1 + slack))
check "--max-conns $max connections open at once, the next is refused" \
    "$client" fill ./v.sock 52 $max
check "idle again after the full table ($(stats))" wait_until 30 idle "$fds0"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "SIGTERM exits 0 after the soak" test $rc -eq 0
exit $fail
