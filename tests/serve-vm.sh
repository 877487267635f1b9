#!/bin/sh
# serve-vm.sh - `vsockemu serve --vm ...`: several simulated guests in one
# process; a real socat in one guest reaches another guest's service when
# the two share a group (vhost-device-vsock's sibling forwarding), and gets
# "Connection reset by peer" when they do not. Also Cloud Hypervisor's
# extra --vsock keys, and the configurations serve refuses.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit 77; }
socat -V 2>/dev/null | grep -q 'WITH_VSOCK 1' ||
    { echo "SKIP: socat without VSOCK"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-svm-XXXXXX)
cd "$work" || exit 99
export TMPDIR="$work"
fail=0
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; cd /; rm -rf "$work"' EXIT

# refused DESCRIPTION MESSAGE ARGS...: exit 2 and MESSAGE on stderr.
refused() {
	desc=$1 msg=$2
	shift 2
	timeout 20 "$emu" serve "$@" > /dev/null 2> refused.err < /dev/null
	check "$desc: exit 2" test $? -eq 2
	check "... saying: $msg" grep -qF -- "$msg" refused.err
}
refused "serve --vm: the same CID twice" "guest CID 4 given twice" \
    --vm cid=4,uds=x.sock --vm cid=4,uds=y.sock
refused "serve --vm: the same uds twice" "uds path x.sock given twice" \
    --vm cid=4,uds=x.sock --vm cid=5,uds=x.sock
refused "serve --vm: a reserved CID" "guest CID 2: not a usable guest CID" \
    --vm cid=2,uds=x.sock
refused "serve --vm with --uds" "does not go with --uds" \
    --vm cid=4,uds=x.sock --uds z.sock
# One VM's options: refused with --vm, never silently ignored.
for opt in "--log ev.jsonl" "--control ./c.sock"; do
	# shellcheck disable=SC2086 # option and argument, split on purpose
	refused "serve --vm with $opt" "does not go with --log or --control" \
	    --vm cid=4,uds=x.sock $opt
done

# Readiness with several VMs: the line once every VM's sockets listen
# (each then connected at once, no retry), the pidfile written before it
# and removed at exit.
mkfifo ready
"$emu" serve -q --ready-fd 3 --pidfile ./svm.pid \
    --vm cid=3,uds=./r3.sock --vm cid=4,uds=./r4.sock,guest=52=echo \
    3> ready 2> ready.err &
pid=$!
line=$(timeout 30 head -n 1 ready)
check "serve --vm --ready-fd: one line for both VMs" test "$line" = \
    "READY cid=3 uds=./r3.sock cid=4 uds=./r4.sock"
check "... the pidfile holds serve's pid" test "$(cat svm.pid 2>/dev/null)" = "$pid"
check "... every socket listens by then" sh -c '
    for p in r3.sock r3.sock.guest r4.sock r4.sock.guest; do
	socat -u /dev/null UNIX-CONNECT:./$p 2>/dev/null || exit 1
    done'
kill $pid; wait $pid; pid=""
check "... the pidfile is removed at exit" test ! -e svm.pid
refused "serve --vm: a bad service" "want PORT=SERVICE" \
    --vm cid=4,uds=x.sock,guest=52=telnet
refused "serve --vsock iommu=maybe" "iommu 'maybe': want on or off" \
    --vsock cid=3,socket=x.sock,iommu=maybe
refused "serve --vsock: an unknown key" "unknown key 'groups'" \
    --vsock cid=3,socket=x.sock,groups=a

# Cloud Hypervisor's --vsock with its extra keys: served; iommu=on said.
"$emu" serve --vsock cid=7,socket=./ch.sock,iommu=on,id=vsock0,pci_segment=0 \
    2> ch.err &
pid=$!
check "--vsock cid=7,socket=PATH,iommu=on,id=..,pci_segment=..: serving" \
    wait_for test -S ./ch.sock
check "... the echo answers" sh -c "printf 'CONNECT 52\n' |
    timeout 10 socat -t 2 - UNIX-CONNECT:./ch.sock | grep -q '^OK '"
check "... iommu=on: said to have no effect" grep -q "iommu=on has no effect" \
    ch.err
kill $pid; wait $pid; pid=""

# Three VMs: 3 and 4 share g1, 4 and 5 share g2; 3 and 5 share nothing.
bg_ready ./ready "$emu" serve -q --ready-fd 9 --pcap vm.pcap \
    --vm cid=3,uds=./a.sock,groups=g1 \
    --vm cid=4,uds=./b.sock,groups=g1+g2,guest=52=echo,guest=53=discard \
    --vm cid=5,uds=./c.sock,groups=g2 2> serve.err
rc=$?
pid=$bg_pid
[ $rc -eq 0 ] || { cat serve.err; exit 99; }

# 1 MiB there and back: four times a guest's buffer, so credit must flow
# end to end both ways through both devices.
head -c 1048576 /dev/urandom > a.bin
timeout 60 "$emu" run --guest ./a.sock -- socat -t 30 - VSOCK-CONNECT:4:52 \
    < a.bin > back.bin 2> sib.err
check "guest 3 -> guest 4 (shared group): 1 MiB echoed back intact" \
    cmp -s a.bin back.bin
timeout 60 "$emu" run --guest ./c.sock -- socat -t 30 - VSOCK-CONNECT:4:52 \
    < a.bin > back5.bin 2> sib5.err
check "guest 5 -> guest 4 (shared group g2): echoed back intact" \
    cmp -s a.bin back5.bin
timeout 20 "$emu" run --guest ./a.sock -- socat - VSOCK-CONNECT:5:52 \
    < /dev/null > /dev/null 2> nogroup.err
check "guest 3 -> guest 5 (no shared group): refused" \
    grep -q "Connection reset by peer" nogroup.err
timeout 20 "$emu" run --guest ./a.sock -- socat - VSOCK-CONNECT:9:52 \
    < /dev/null > /dev/null 2> nocid.err
check "guest 3 -> CID 9 (no such VM): refused" \
    grep -q "Connection reset by peer" nocid.err
check "the host still reaches guest 4" sh -c "printf 'CONNECT 52\n' |
    timeout 10 socat -t 2 - UNIX-CONNECT:./b.sock | grep -q '^OK '"
kill -USR1 $pid
check "SIGUSR1: a line of live counters for each of the three VMs" \
    wait_for sh -c "test \$(grep -c '^vsockemu serve: cid=[345] stats ' \
    serve.err) -eq 3"
kill $pid; wait $pid
check "SIGTERM: exit 0" test $? -eq 0
pid=""
check "... every socket removed" sh -c "! ls ./*.sock* 2> /dev/null"
"$emu" dump vm.pcap > vm.txt
check "the capture has guest 3's REQUEST to guest 4's port 52" \
    grep -q ' 3:[0-9]* > 4:52 STREAM REQUEST' vm.txt
check "... guest 4's RESPONSE from port 52" \
    grep -q ' 4:52 > 3:[0-9]* STREAM RESPONSE' vm.txt
check "... and the RST 3 got as if from 5" \
    grep -q ' 5:52 > 3:[0-9]* STREAM RST' vm.txt

if [ $fail -ne 0 ]; then
	cat serve.err sib.err 2>/dev/null
fi
exit $fail
