#!/bin/sh
# api.sh - doc/examples/echo.c, built against the public headers and linked
# to libvsockemu alone, echoes through the device, records the session and
# replays it: the public API is enough, and the library exports what it uses.
# Usage: api.sh [ECHO-BINARY]  (default: the build's tests/api-echo)
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
fail=0

. "$src/tests/lib.sh"

echo_bin=${1:-$build/tests/api-echo}
tmp=$(mktemp -d /tmp/vsockemu-api-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

check "the example echoes" sh -c "'$echo_bin' >'$tmp/out' && grep -qx 'echo ok' '$tmp/out'"
check "the example records and replays its session" \
    sh -c "'$echo_bin' '$tmp/echo.pcap' >'$tmp/out2' && grep -q 'PASS' '$tmp/out2'"
if command -v tshark >/dev/null 2>&1 && [ -s "$tmp/echo.pcap" ]; then
	check "tshark decodes its capture as vsock" \
	    sh -c "tshark -r '$tmp/echo.pcap' 2>/dev/null | grep -q 'vSocket .*Op: Request'"
fi
[ $fail -ne 0 ] && cat "$tmp"/out* 2>/dev/null
exit $fail
