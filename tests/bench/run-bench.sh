#!/bin/sh
# run-bench.sh - make bench's `vsockemu run` row: bulk host -> guest
# throughput with the program under `run` (guest role: the receiver; host
# role: the sender), each as a ratio to the same transfer through `serve
# --guest PORT=unix:PATH` with a plain AF_UNIX receiver. Ratio > 1: slower.
# Called by tests/bench/run.sh; prints its rows, or nothing without socat.
# With --rows FILE it appends them to FILE instead, as bench.json's rows
# are kept ("KEY VALUE BASELINE UNIT WHAT", issue 20's run.sh).
set -u
rows=""
[ "${1:-}" = --rows ] && rows=${2:-}
top=$(cd "${top_builddir:-.}" && pwd)
emu=$top/emu/vsockemu
MIB=${RUN_BENCH_MIB:-256}
command -v socat >/dev/null 2>&1 || exit 0
socat -V 2>/dev/null | grep -q 'WITH_VSOCK 1' || exit 0

work=$(mktemp -d /tmp/vsockemu-runbench-XXXXXX) || exit 1
cd "$work" || exit 1
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; cd /; rm -rf "$work"' EXIT
head -c $((MIB * 1048576)) /dev/zero > data

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# until CMD...: CMD within 10 s (polled, never a fixed sleep), else fail.
until_ok() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 1000 ] || return 1
		sleep 0.01
	done
}

"$emu" serve -q --guest 5200=unix:./sink.sock --uds ./v.sock 2>/dev/null &
pid=$!
until_ok test -S ./v.sock.guest || exit 1

# timed SINK_CMD READY_CMD SEND_CMD: ms from the send's start to the sink's
# exit. The send starts once READY_CMD succeeds (the sink listens): before,
# a sender could beat the sink's socket, the guest's connection to it was
# refused and the sender got EPIPE.
# Each side is bounded (RUN_BENCH_TIMEOUT s): a sender that fails, or a
# sink that never sees its end (bytes lost on the way), fails the row with
# a message instead of hanging make bench, as it once did.
limit=${RUN_BENCH_TIMEOUT:-300}
timed() {
	sink_cmd=$1 ready_cmd=$2 send_cmd=$3
	timeout "$limit" sh -c "$sink_cmd" &
	sink=$!
	if ! until_ok sh -c "$ready_cmd"; then
		echo "run-bench: the receiver was not ready in 10 s: $sink_cmd" >&2
		kill $sink 2>/dev/null
		return 1
	fi
	t0=$(ms)
	if ! timeout "$limit" sh -c "$send_cmd"; then
		echo "run-bench: the sender failed or took over ${limit} s: $send_cmd" >&2
		kill $sink 2>/dev/null
		return 1
	fi
	if ! wait $sink; then
		echo "run-bench: the receiver failed or took over ${limit} s: $sink_cmd" >&2
		return 1
	fi
	echo $(( $(ms) - t0 ))
}

sink_unix='socat -u UNIX-LISTEN:./sink.sock OPEN:/dev/null'
sink_ready='test -S ./sink.sock'
plain_send="(printf 'CONNECT 5200\\n'; cat data) | socat -u - UNIX-CONNECT:./v.sock"
rm -f ./sink.sock
base=$(timed "$sink_unix" "$sink_ready" "$plain_send") || exit 1

# Host role: the sender is socat's VSOCK-CONNECT under run --host, fed by
# the same pipe as the baseline's sender.
rm -f ./sink.sock
host=$(timed "$sink_unix" "$sink_ready" "cat data | '$emu' run --host ./v.sock -- socat -u - VSOCK-CONNECT:3:5200") || exit 1

# Guest role: the receiver is socat's VSOCK-LISTEN under run --guest.
rm -f ready
guest=$(timed "'$emu' run --guest ./v.sock -- socat -d -d -u VSOCK-LISTEN:5201 OPEN:/dev/null 2> ready" \
    "grep -q 'listening on' ready" \
    "(printf 'CONNECT 5201\\n'; cat data) | socat -u - UNIX-CONNECT:./v.sock") || exit 1

if [ -n "$rows" ]; then
	awk -v mib="$MIB" -v b="$base" -v h="$host" -v g="$guest" 'BEGIN {
	    printf "run_baseline_mbs %.1f 0 MB/s host->guest %d MiB to --guest P=unix:\n", mib / (b / 1e3), mib
	    printf "run_host_ratio %.2f %.1f ratio run --host sender vs --guest P=unix: (MB/s %.1f)\n", h / b, mib / (b / 1e3), mib / (h / 1e3)
	    printf "run_guest_ratio %.2f %.1f ratio run --guest receiver vs --guest P=unix: (MB/s %.1f)\n", g / b, mib / (b / 1e3), mib / (g / 1e3)
	}' >> "$rows"
	exit 0
fi
awk -v mib="$MIB" -v b="$base" -v h="$host" -v g="$guest" 'BEGIN {
	printf "%-40s %12.0f MB/s\n", "run: baseline --guest P=unix: " mib " MiB", mib / (b / 1e3)
	printf "%-40s %12.0f MB/s  ratio %.2f\n", "run --host sender, " mib " MiB", mib / (h / 1e3), h / b
	printf "%-40s %12.0f MB/s  ratio %.2f\n", "run --guest receiver, " mib " MiB", mib / (g / 1e3), g / b
}'
