#!/bin/sh
# vhost-user-vm.sh - `vsockemu vhost-user` with vhost-device-vsock's command
# line: --guest-cid / --socket / --uds-path, repeated --vm, groups, and the
# configurations it refuses (duplicate CIDs and paths, reserved CIDs);
# with several VMs: --ready-fd, --log, -v liveness, and --control refused.
set -u
emu=${top_builddir:-.}/emu/vsockemu
fe=${top_builddir:-.}/tests/vhu-frontend
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

dir=$(mktemp -d /tmp/vsockemu-vhuvm-XXXXXX)

# refused DESCRIPTION MESSAGE ARGS...: exit 2, MESSAGE on stderr, no socket.
refused() {
	desc=$1 msg=$2
	shift 2
	"$emu" vhost-user "$@" > /dev/null 2> "$dir/err"
	rc=$?
	check "$desc: exit 2" test $rc -eq 2
	check "... saying: $msg" grep -qF -- "$msg" "$dir/err"
	check "... and no socket left" sh -c "! ls '$dir'/*.sock* 2> /dev/null"
}

vm3="guest-cid=3,socket=$dir/vhu3.sock,uds-path=$dir/v3.sock"
refused "the same CID twice" "guest CID 3 given twice" \
    --vm "$vm3" --vm "guest-cid=3,socket=$dir/vhu4.sock,uds-path=$dir/v4.sock"
refused "the same front-end socket twice" "socket $dir/vhu3.sock given twice" \
    --vm "$vm3" --vm "guest-cid=4,socket=$dir/vhu3.sock,uds-path=$dir/v4.sock"
refused "the same uds path twice" "uds path $dir/v3.sock given twice" \
    --vm "$vm3" --vm "guest-cid=4,socket=$dir/vhu4.sock,uds-path=$dir/v3.sock"
refused "a socket that is another VM's uds path" \
    "$dir/v3.sock is both a socket and a uds path" \
    --vm "$vm3" --vm "guest-cid=4,socket=$dir/v3.sock,uds-path=$dir/v4.sock"
refused "CID 2 (the host's)" "guest CID 2: not a usable guest CID" \
    --vm "guest-cid=2,socket=$dir/vhu3.sock,uds-path=$dir/v3.sock"
refused "--guest-cid 1" "guest CID 1: not a usable guest CID" \
    --guest-cid 1 --socket "$dir/vhu3.sock"
refused "an unknown key" "unknown key 'forward-cid'" \
    --vm "$vm3,forward-cid=1"
refused "a --vm without uds-path" "uds-path= is required" \
    --vm "guest-cid=3,socket=$dir/vhu3.sock"
refused "a key twice" "'socket' given twice" --vm "$vm3,socket=$dir/x.sock"
refused "an empty group name" "each name 1 to 63 bytes" --vm "$vm3,groups=a++b"
refused "--vm with --socket" "--vm does not go with --socket" \
    --vm "$vm3" --socket "$dir/vhu9.sock"
# vhu-control acts on one device: which VM's would be a guess.
refused "--control with two --vm" \
    "--control does not go with several --vm (one VM only)" --vm "$vm3" \
    --vm "guest-cid=4,socket=$dir/vhu4.sock,uds-path=$dir/v4.sock" \
    --control "$dir/c.sock"

# Two VMs in one process: ready once every socket is there (--ready-fd),
# one event log, a liveness line each; SIGTERM removes every socket.
mkfifo "$dir/rfifo"
"$emu" vhost-user -v --progress-interval 100 --log "$dir/ev.jsonl" \
    --ready-fd 3 --pidfile "$dir/pid" --vm "$vm3,groups=g1+g2" \
    --vm "guest_cid=4,socket=$dir/vhu4.sock,uds_path=$dir/v4.sock,groups=g2" \
    3> "$dir/rfifo" 2> "$dir/err" &
pid=$!
line=$(timeout 30 head -n 1 "$dir/rfifo")
check "two --vm --ready-fd: one line, one triple per VM" test "$line" = \
    "READY socket=$dir/vhu3.sock cid=3 uds=$dir/v3.sock socket=$dir/vhu4.sock cid=4 uds=$dir/v4.sock"
check "... both front-end sockets listen by then" \
    test -S "$dir/vhu3.sock" -a -S "$dir/vhu4.sock"
check "... and both host sockets" test -S "$dir/v3.sock" -a -S "$dir/v4.sock"
check "... --pidfile names it" test "$(cat "$dir/pid")" = "$pid"
check "... -v: a liveness line for each VM" wait_for sh -c "grep -q \
    '^vsockemu vhost-user (CID 3): [0-9]* s: no front-end\$' '$dir/err' && \
    grep -q '^vsockemu vhost-user (CID 4): [0-9]* s: no front-end\$' \
    '$dir/err'"
check "... a front-end on VM 4's socket" "$fe" "$dir/vhu4.sock" kick-error
check "... --log: its attach names CID 4" wait_for grep -q \
    '"ev":"frontend-attached","cid":4}' "$dir/ev.jsonl"
check "... and so does its leaving" wait_for grep -q \
    '"ev":"frontend-left","cid":4,' "$dir/ev.jsonl"
# Until a front-end comes, a host CONNECT is closed without OK.
check "... a host CONNECT to a VM without a front-end gets no OK" sh -c \
    "printf 'CONNECT 52\n' | timeout 10 socat - UNIX-CONNECT:$dir/v4.sock \
    | grep -q OK; test \$? -ne 0"
kill -TERM $pid
wait $pid
check "... SIGTERM: exit 0" test $? -eq 0
check "... every socket removed" sh -c "! ls '$dir'/*.sock 2> /dev/null"
check "... and the pidfile" test ! -e "$dir/pid"

# vhost-device-vsock's single-VM names.
"$emu" vhost-user --guest-cid 5 --socket "$dir/vhu5.sock" \
    --uds-path "$dir/v5.sock" --groups g1 2> "$dir/err" &
pid=$!
check "--guest-cid, --socket, --uds-path, --groups: listening" \
    wait_for test -S "$dir/vhu5.sock" -a -S "$dir/v5.sock"
kill -TERM $pid
wait $pid
check "... SIGTERM: exit 0" test $? -eq 0

if [ $fail -ne 0 ]; then
	echo "--- vsockemu's stderr"
	cat "$dir/err"
fi
rm -rf "$dir"
exit $fail
