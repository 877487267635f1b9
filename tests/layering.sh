#!/bin/sh
# layering.sh - the layering rules hold (tests/layers.sh on the sources), the
# check fails on each kind of planted violation in a copy of the tree, and
# the core suites link no capture library (no libpcap, no zlib).
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
fail=0

. "$src/tests/lib.sh"

check "the sources keep the layering rules" sh "$src/tests/layers.sh" "$src"

# A copy of every folder the check reads, to plant violations in.
tmp=$(mktemp -d /tmp/vsockemu-layers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for d in src/virtio src/vsock src/host src/trace src/replay fakeguest \
    include/vsockemu fuzz emu tests tests/bench; do
	mkdir -p "$tmp/$d"
	for f in "$src/$d"/*.c "$src/$d"/*.h; do
		[ -f "$f" ] && cp "$f" "$tmp/$d/"
	done
done
check "the unchanged copy passes" sh "$src/tests/layers.sh" "$tmp"

# plant DESCRIPTION FILE LINE EXPECTED: appends LINE to FILE in the copy; the
# check must fail and name FILE with EXPECTED; then FILE is restored.
plant() {
	desc=$1 file=$2 line=$3 expected=$4
	cp "$tmp/$file" "$tmp/$file.orig"
	echo "$line" >>"$tmp/$file"
	out=$(sh "$src/tests/layers.sh" "$tmp")
	rc=$?
	mv "$tmp/$file.orig" "$tmp/$file"
	if [ $rc -eq 1 ] && echo "$out" | grep -q "^$file:.*$expected"; then
		pass "planted: $desc"
	else
		failed "planted: $desc (exit $rc): $out"
	fi
}
plant "transport includes a device header" src/virtio/virtq.c \
    '#include "device.h"' "virtio layer may not include device.h"
plant "device includes a trace header" src/vsock/device.c \
    '#include "pcap-writer.h"' "vsock layer may not include pcap-writer.h"
plant "host side includes replay" src/host/backend-muxer.c \
    '#include "replay.h"' "host layer may not include replay.h"
plant "trace includes its sibling host" src/trace/pcap-writer.c \
    '#include "backend-muxer.h"' "trace layer may not include"
plant "guest includes the device's private header" fakeguest/vsock.c \
    '#include "device-int.h"' "device-int.h is private"
plant "a test outside the white list includes device-int.h" \
    tests/check_gsock.c '#include "device-int.h"' "device-int.h is private"
plant "core includes a socket header" src/vsock/device.c \
    '#include <sys/socket.h>' "may not include <sys/socket.h>"
plant "core includes libpcap" src/virtio/guestmem.c \
    '#include <pcap/pcap.h>' "may not include <pcap/pcap.h>"
plant "core reads a clock" src/vsock/device-rx.c \
    '#include <time.h>' "may not include <time.h>"
plant "an unknown header" src/vsock/pkt.c \
    '#include "nowhere.h"' "in no layer folder"
if [ -f "$tmp/src/vsock/vsock-api.h" ]; then
	plant "a public header includes a private one" src/vsock/device.h \
	    '#include "credit.h"' "public header device.h includes credit.h"
	plant "the guest includes a private device header" fakeguest/txq.c \
	    '#include "credit.h"' "sees only the public headers of vsock"
	plant "the umbrella header exposes the host layer" \
	    include/vsockemu/vsockemu.h '#include "backend-muxer.h"' \
	    "public layer may not include backend-muxer.h"
fi

# Core suites: built against the core libraries only. A capture library
# among their dependencies means a higher layer leaked into their link.
# capture_libs BINARY prints what of libpcap and zlib BINARY needs or calls.
capture_libs() {
	readelf -d "$1" | awk '/NEEDED/ && /libpcap|libz\./ { print $NF }'
	nm -u "$1" | awk '$NF ~ /^(pcap_|gz)/ { print $NF }' | head -3
}
for t in ${CORE_SUITES:-}; do
	bin=$build/$t
	[ -x "$bin" ] || { failed "core suite $t is built"; continue; }
	found=$(capture_libs "$bin" | tr '\n' ' ')
	if [ -n "$found" ]; then
		failed "core suite $t links no capture library: $found"
	else
		pass "core suite $t links no capture library"
	fi
done
# ... and the link check can fail: a trace suite does link libpcap.
if [ -n "${CORE_SUITES:-}" ]; then
	if [ -n "$(capture_libs "$build/tests/check_pcap")" ]; then
		pass "the link check finds libpcap in check_pcap"
	else
		failed "the link check finds libpcap in check_pcap"
	fi
fi
exit $fail
