#!/bin/sh
# ready.sh - issue 18 item 2: readiness of serve and vhost-user. The
# 30-run race check (every socket connects at once after --ready-fd's
# line or NOTIFY_SOCKET's READY=1; the pidfile) is tests/ready-check.py;
# here the bad uses: a bad or closed --ready-fd and an unusable --pidfile
# exit 2; an unusable NOTIFY_SOCKET is a warning; -q stays silent. Needs
# python3 (77 without).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
checker=$(cd "${top_srcdir:-.}" && pwd)/tests/ready-check.py
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-ready-XXXXXX)
cd "$work" || exit 99
fail=0
pid=""
trap '[ -n "$pid" ] && kill $pid; wait; cd /; rm -rf "$work"' EXIT

python3 "$checker" "$emu" "$work" 30 || fail=1

for bad in 0 2 -1 x 2147483648; do
	"$emu" serve --ready-fd "$bad" 2> err
	check "--ready-fd $bad: exit 2" test $? -eq 2
done
check "... says why" grep -q "want a file descriptor number above 2" err
# fd 9 is closed here: a supervisor would wait for its line forever.
"$emu" serve --uds ./c.sock --ready-fd 9 9>&- 2> err
check "--ready-fd of a closed fd: exit 2" test $? -eq 2
check "... says so" grep -q "ready-fd 9: not an open file descriptor" err
check "... and made no socket" test ! -e c.sock
"$emu" vhost-user --socket ./vhu.sock --pidfile ./no/such/dir/pid 2> err
check "vhost-user --pidfile in a missing directory: exit 2" test $? -eq 2
check "... no socket left" test ! -e vhu.sock

# An unusable NOTIFY_SOCKET: a warning; ready anyway; -q says nothing else.
mkfifo rfifo
NOTIFY_SOCKET=$work/nobody "$emu" serve -q --uds ./n.sock --ready-fd 3 \
    3> rfifo 2> err &
pid=$!
line=$(timeout 30 head -n 1 rfifo)
check "NOTIFY_SOCKET nobody reads: still ready" \
    test "$line" = "READY cid=3 uds=./n.sock"
check "... n.sock takes a client at once" \
    python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("n.sock")'
kill -TERM $pid; wait $pid
check "... exit 0 at SIGTERM" test $? -eq 0
pid=""
check "... one warning, nothing else (-q)" \
    test "$(cat err)" = "vsockemu serve: warning: NOTIFY_SOCKET: No such file or directory"

# Without -q, the ready status on stderr (the man page's 'guest CID' line).
"$emu" serve --uds ./s.sock --ready-fd 3 3> rfifo 2> err &
pid=$!
timeout 30 head -n 1 rfifo > /dev/null
check "stderr: 'guest CID 3 on ./s.sock' once ready" \
    grep -qx "vsockemu serve: guest CID 3 on ./s.sock" err
kill -TERM $pid; wait $pid; pid=""
exit $fail
