#!/bin/sh
# replay-reports.sh - every report of every bundled trace, in one directory, to diff two builds.
#
#   replay-reports.sh VSOCKEMU OUTDIR
#
# A speed-up of replay must not change a single byte of what it reports
# (doc/performance.md, "Replay"). For each trace under testvectors/ this
# writes, per mode (semantic, strict; each also with --host-initiated):
# the text report with -v, the JSON and TAP reports, and the capture of
# what the device produced (--pcap-out); then both manifests' --expect
# runs. Compare two builds with `diff -r OUT_A OUT_B`.
set -u
[ $# -eq 2 ] || { echo "usage: replay-reports.sh VSOCKEMU OUTDIR" >&2; exit 2; }
emu=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") out=$2
src=${srcdir:-.}
mkdir -p "$out" || exit 1
find "$src/testvectors" -name '*.pcap*' | sort | while read -r t; do
	name=$(echo "${t#"$src"/testvectors/}" | tr / _)
	for mode in semantic strict; do
		for hi in "" --host-initiated; do
			o="$out/$name.$mode${hi:+.hi}"
			"$emu" replay --$mode $hi -v "$t" >"$o.txt" 2>&1
			echo "exit $?" >>"$o.txt"
			"$emu" replay --$mode $hi --format json "$t" >"$o.json" 2>&1
			"$emu" replay --$mode $hi --format tap "$t" >"$o.tap" 2>&1
			"$emu" replay --$mode $hi -q --pcap-out "$o.pcap" "$t" \
			    >/dev/null 2>&1
		done
	done
done
for m in MANIFEST MANIFEST.matrix; do
	for mode in semantic strict; do
		(cd "$src/testvectors" && "$emu" replay --$mode \
		    --expect "$m" $(awk -v m=$mode '!/^#/ && $2 == m { print $1 }' \
		    "$m" | sort -u)) >"$out/expect.$m.$mode" 2>&1
		echo "exit $?" >>"$out/expect.$m.$mode"
	done
done
