#!/bin/sh
# vsock-test.sh - make check-vsock-test: Linux's own tools/testing/vsock
# vsock_test, unmodified, built from Debian's linux-source-6.1 tarball (no
# network), client and server as `vsockemu run --guest` / `run --host` on
# one `serve --seqpacket`, then the roles swapped. All 11 cases must pass
# both ways; each case's line goes to the log. 77: no tarball here.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
build=$(cd "${top_builddir:-.}" && pwd)
emu=$build/emu/vsockemu
tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
[ -r "$tarball" ] || { echo "SKIP: $tarball missing (apt-get install linux-source-6.1)"; exit 77; }

# Build vsock_test once per build tree, from the tarball's own sources.
src=$build/tests/vsock_test-6.1
vt=$src/tools/testing/vsock/vsock_test
if [ ! -x "$vt" ]; then
	rm -rf "$src" && mkdir -p "$src" || exit 99
	top=$(tar -tJf "$tarball" | head -n 1 | cut -d/ -f1)
	tar -xJf "$tarball" -C "$src" --strip-components=1 \
	    "$top/tools/include" "$top/tools/testing/vsock" || exit 99
	make -s -C "$src/tools/testing/vsock" vsock_test || exit 99
fi

work=$(mktemp -d /tmp/vsockemu-vt-XXXXXX)
cd "$work" || exit 99
export TMPDIR="$work"
fail=0
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; cd /; rm -rf "$work"' EXIT

# direction SERVER_ROLE CLIENT_ROLE SERVER_PEER_CID CLIENT_PEER_CID
direction() {
	# The last direction's logs go first: a background job's "> srv.log"
	# truncates in the child, so the wait below could otherwise find the
	# old "listening" line and start the client before the new server
	# listens (CI, 2026-12-03: "Control socket initialization failed").
	rm -f srv.log cli.log
	# Ready once every socket it listens on exists (tests/lib.sh).
	bg_ready ./ready "$emu" serve -q --ready-fd 9 --seqpacket \
	    --uds ./v.sock 2> serve.err
	rc=$?
	pid=$bg_pid
	[ $rc = 0 ] || { cat serve.err; return 1; }
	# A control port per run, away from the usual ones.
	# (From /dev/urandom: date +%N's leading zero made the shell read
	# "0329" as a bad octal number, about one run in ten.)
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
	timeout 300 "$emu" run --"$1" ./v.sock -- "$vt" --mode=server \
	    --control-port=$port --peer-cid="$3" > srv.log 2>&1 &
	srv=$!
	wait_for grep -q "Control socket listening" srv.log
	timeout 300 "$emu" run --"$2" ./v.sock -- "$vt" --mode=client \
	    --control-host=127.0.0.1 --control-port=$port \
	    --peer-cid="$4" > cli.log 2>&1
	crc=$?
	wait $srv
	src_rc=$?
	kill $pid 2>/dev/null
	wait $pid
	pid=""
	echo "--- server under run --$1:"; cat srv.log
	echo "--- client under run --$2:"; cat cli.log
	check "vsock_test client (run --$2) exits 0" test $crc = 0
	check "vsock_test server (run --$1) exits 0" test $src_rc = 0
	for log in srv.log cli.log; do
		check "$log: 11 cases ok" test "$(grep -c '\.\.\.ok$' $log)" = 12
	done
}

direction host guest 3 2
direction guest host 2 3
exit $fail
