#!/bin/sh
# run.sh - `make bench`: the benchmark table, then instruction counts per
# packet from callgrind (stable across runs, unlike nanoseconds).
set -u
bench=${top_builddir:-.}/tests/bench/bench
"$bench" "$@" || exit 1
if command -v valgrind >/dev/null 2>&1; then
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" \
	    --toggle-collect=vsock_device_kick "$bench" --only callgrind-packet \
	    >/dev/null 2>&1
	ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {
	    gsub(",", "", $1); print $1 }')
	rm -f "$out"
	[ -n "$ir" ] && echo "0-byte control packet, instructions (callgrind): $((ir / 100000))"
fi
