#!/bin/sh
# check-qemu.sh - `make check-qemu`: a real Linux guest (Debian's kernel,
# booted under QEMU's TCG, no KVM) drives `vsockemu vhost-user` through
# QEMU's vhost-user-vsock-pci, with real socat on both sides.
#   guest -> host echo via PATH_PORT, a refused port, 4 MiB each way
#   byte-exact, half-close, 20 concurrent connections, host -> guest via
#   CONNECT, SEQPACKET message boundaries, both sides half-closing then
#   closing in each order, no kernel warning, and the session's capture
#   replayed with `vsockemu replay --strict` (and its half-close
#   connections on their own).
# Then reconnect: one vsockemu serves two QEMUs in turn; the first is
# killed while a host connection is open. Then siblings: two QEMUs at once
# against one `vhost-user --vm ... --vm ...` in one group, guest 3
# connecting to guest 4's CID and echoing through it. Then Linux's
# vsock_test in the guest against the host's under `vsockemu run --host`,
# both directions (tests/qemu/vsock-test-qemu.sh; skipped without
# linux-source-6.1).
# Needs (as root): qemu-system-x86 linux-image-amd64 busybox-static socat
# cpio. Skips (77) when they cannot be had.
set -u
top=$(cd "${top_builddir:-.}" && pwd)
src=$(cd "${top_srcdir:-.}" && pwd)
emu=$top/emu/vsockemu
here=$src/tests/qemu
work=${VSE_QEMU_WORK:-/tmp/vsockemu-qemu}
fail=0

for t in qemu-system-x86_64 socat cpio busybox; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
mkdir -p "$work" && cd "$work" || exit 99

# The kernel: Debian's linux-image-amd64, unpacked, never installed.
if [ ! -d kernel/boot ]; then
	rm -f linux-image-*.deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] && apt-get download -q "$pkg" >/dev/null 2>&1
	ls linux-image-*.deb >/dev/null 2>&1 || { echo "SKIP: no kernel package"; exit 77; }
	dpkg -x linux-image-*.deb kernel
fi
kver=$(ls kernel/lib/modules | head -n 1)
moddir=kernel/lib/modules/$kver

# The initramfs: busybox, socat and its libraries, the vsock guest driver.
rm -rf root && mkdir -p root/bin root/lib/modules root/etc root/proc root/sys root/dev
cp /bin/busybox root/bin/busybox
for a in sh mount insmod sleep echo cat head cut wc ls sha256sum dmesg grep \
    poweroff mkdir; do ln -sf busybox root/bin/$a; done
cp -L "$(command -v socat)" root/bin/socat
ldd "$(command -v socat)" | grep -o '/[^ ]*' | while read -r l; do
	mkdir -p "root$(dirname "$l")"; cp -Ln "$l" "root$l"
done
: > root/etc/modules
add_module() {
	grep -qx "$1" root/etc/modules && return 0
	f=$(find "$moddir/kernel" \( -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" \) | head -n 1)
	[ -n "$f" ] || return 0	# built into the kernel
	for d in $(tr '\0' '\n' < "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$d"
	done
	# sh has no locals: the recursion overwrote $f, so look it up again.
	f=$(find "$moddir/kernel" \( -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" \) | head -n 1)
	cp "$f" "root/lib/modules/$1.ko"
	echo "$1" >> root/etc/modules
}
for m in virtio_pci vmw_vsock_virtio_transport; do add_module $m; done
# Both ends of the SEQPACKET check: one static binary, host and guest.
${CC:-cc} -static -O2 -o seqpacket-echo "$here/seqpacket-echo.c" || exit 99
cp seqpacket-echo root/bin/seqpacket-echo
# Both ends of the half-close check, the same way.
${CC:-cc} -static -O2 -o half-close "$here/half-close.c" || exit 99
cp half-close root/bin/half-close
. "$here/vsock-test-qemu.sh"
vt_prepare
cp "$here/guest-init.sh" root/init && chmod 755 root/init
(cd root && find . | cpio -o -H newc --quiet) > initrd

# Boots the guest in the background ($qpid, the timeout wrapping QEMU;
# QEMU's own pid goes to qemu.pid): console file, vhost-user socket, extra
# kernel arguments, extra QEMU arguments (split at blanks).
boot() {
	rm -f qemu.pid
	timeout 240 qemu-system-x86_64 -accel tcg -M q35 -cpu max -m 512M \
	    -smp 1 -nographic -no-reboot -nodefaults -serial "file:$1" \
	    -pidfile qemu.pid \
	    -object memory-backend-memfd,id=mem0,size=512M,share=on \
	    -machine memory-backend=mem0 \
	    -chardev "socket,id=c0,path=$2" \
	    -device vhost-user-vsock-pci,chardev=c0 \
	    -kernel "kernel/boot/vmlinuz-$kver" -initrd initrd \
	    -append "console=ttyS0 quiet panic=-1 $3" ${4:-} &
	qpid=$!
}

# The session's capture replayed with --strict, then its two half-close
# connections (host ports 5003 and 5004), cut out with tshark, on their
# own: the device's close rules in both orders (issue 15), as a capture
# that replays by itself.
hc_ports='vsock.src_port == 5003 || vsock.dst_port == 5003 ||
    vsock.src_port == 5004 || vsock.dst_port == 5004'
replay_session() {
	[ -s session.pcap ] || return 0
	"$emu" replay --strict session.pcap > replay.txt; rc=$?
	check "the session's capture replays with --strict" "$rc" 0
	[ $rc -eq 0 ] || head -20 replay.txt
	if ! command -v tshark >/dev/null 2>&1; then
		echo "SKIP: the half-close capture on its own: no tshark"
		return 0
	fi
	tshark -r session.pcap -Y "$hc_ports" -F pcap -w half-close.pcap \
	    2>/dev/null
	check "tshark cuts the half-close connections out" "$?" 0
	check "the half-close capture holds both connections" \
	    "$(tshark -r half-close.pcap -Y 'vsock.virtio.op == 1' 2>/dev/null | wc -l)" 2
	"$emu" replay --strict half-close.pcap > replay-hc.txt; rc=$?
	check "the half-close capture replays with --strict" "$rc" 0
	[ $rc -eq 0 ] || head -20 replay-hc.txt
}

# Waits (bounded) until the guest writing console file $1 says it is ready.
wait_ready() {
	i=0
	while ! grep -q "VSE-RESULT ready" "$1" 2>/dev/null && [ $i -lt 2400 ]; do
		sleep 0.1; i=$((i + 1)); kill -0 $qpid 2>/dev/null || break
	done
}

# A result line's value (firmware output may share the line: match, not cut).
# The key ends at a space or the line's end: seqpacket is not seqpacket-feature.
res() {
	tr -d '\r' < "${2:-console.log}" |
	    sed -n "s/.*VSE-RESULT $1 //p; s/.*VSE-RESULT $1\$//p" | head -n 1
}
check() { if [ "$2" = "$3" ]; then echo "PASS: $1"; else echo "FAIL: $1 (got '$2')"; fail=1; fi; }

# Host side: vsockemu, an echo at PATH_5000, a sink at PATH_5001, a
# SEQPACKET echo at PATH_5002, the host ends of the half-close check at
# PATH_5003 (the guest half-closes first) and PATH_5004 (the host does).
rm -f v.sock* vhu.sock vhu2.sock console*.log g2h.bin hold.* hc-*.out
"$emu" vhost-user -q --socket ./vhu.sock --uds ./v.sock --pcap session.pcap \
    --seqpacket --once &
epid=$!
# backlog: the guest's 20 concurrent connections may all arrive before
# socat accepts one. With socat's default of 5 the muxer's connect finds
# the backlog full (EAGAIN): under the firecracker profile (this run's) it
# now waits and retries, as Firecracker's blocking connect does
# (check_muxer test_guest_connect_backlog_full_*); under the linux profile
# the guest gets RST, as a Linux host's full accept queue does
# (virtio_transport_recv_listen). 64 keeps this check about the echo.
socat UNIX-LISTEN:./v.sock_5000,fork,backlog=64 EXEC:cat &
echo_pid=$!
socat -u UNIX-LISTEN:./v.sock_5001 CREATE:g2h.bin &
sink_pid=$!
./seqpacket-echo listen ./v.sock_5002 &
seq_pid=$!
./half-close second unix ./v.sock_5003 > hc-guest-first.out &
hc1_pid=$!
./half-close first unix ./v.sock_5004 > hc-host-first.out &
hc2_pid=$!
i=0; while [ ! -S vhu.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

boot console.log ./vhu.sock ""

# Host -> guest, once the guest's echo listens. "ready" comes after the
# guest started its listeners in the background: under load one may not
# listen yet and the guest refuses (RST, no OK), so a refused CONNECT is
# tried again, bounded.
wait_ready console.log
# until_ok CMD...: runs CMD (a CONNECT through socat) until its output
# starts with OK (at most 50 tries); prints the last output.
until_ok() {
	uo_i=0
	while uo_r=$("$@"); case $uo_r in OK*) false ;; *) true ;; esac &&
	    [ $uo_i -lt 50 ]; do
		sleep 0.2; uo_i=$((uo_i + 1))
	done
	printf '%s' "$uo_r"
}
r=$(until_ok sh -c "printf 'CONNECT 52\nhello-from-host\n' |
    timeout 30 socat -t 10 - UNIX-CONNECT:./v.sock")
case "$r" in
"OK 10737418"[0-9][0-9]"
hello-from-host") echo "PASS: host->guest CONNECT 52, OK and echo" ;;
*) echo "FAIL: host->guest CONNECT 52: got '$r'"; fail=1 ;;
esac
r=$(printf 'CONNECT 53\n' | timeout 30 socat -t 10 - UNIX-CONNECT:./v.sock)
[ -z "$r" ] && echo "PASS: host->guest to a closed guest port: closed, no OK" ||
    { echo "FAIL: CONNECT 53 got '$r'"; fail=1; }
head -c 4194304 /dev/urandom > h2g.bin
r=$(until_ok sh -c "{ printf 'CONNECT 60\n'; cat h2g.bin; } |
    timeout 60 socat -t 30 - UNIX-CONNECT:./v.sock | head -c 3")
[ "$r" = "OK " ] || { echo "FAIL: host->guest 4 MiB: no OK ('$r')"; fail=1; }
r=$(until_ok sh -c "printf 'CONNECT 61\nquestion' |
    timeout 30 socat -t 20 - UNIX-CONNECT:./v.sock" | tail -c 5)
check_hc=$r
until_ok sh -c "printf 'CONNECT 99\ndone\n' |
    timeout 30 socat -t 5 - UNIX-CONNECT:./v.sock" >/dev/null
wait $qpid
kill $sink_pid $seq_pid $hc1_pid $hc2_pid 2>/dev/null
wait $epid
erc=$?

check "guest booted and finished" "$(res finished)" ""
# --once: exit 0 when QEMU leaves (under --enable-sanitizers, a report or
# a leak would make it non-zero).
check "vsockemu --once exits 0 after the guest powered off" "$erc" 0
grep -q "VSE-RESULT finished" console.log || { echo "FAIL: guest did not finish"; tail -30 console.log; fail=1; }
check "guest->host echo via PATH_5000" "$(res g2h-echo)" ok
check "guest->host to a port nobody listens on: refused" "$(res refused)" ok
check "4 MiB guest->host byte-exact" "$(sha256sum < g2h.bin | cut -d' ' -f1)" "$(res g2h-sha)"
check "20 concurrent guest connections echoed" "$(res concurrent-20)" 20
check "4 MiB host->guest byte-exact" "$(res h2g-sha)" "$(sha256sum < h2g.bin | cut -d' ' -f1)"
check "half-close: the guest read the host's data to EOF" "$(res half-close)" question
check "half-close: the host got the reply after its own EOF" "$check_hc" reply
check "the guest driver negotiated SEQPACKET" "$(res seqpacket-feature)" 1
check "SEQPACKET: 10 messages back whole (1 B to 60000 B, back to back); 65537 B refused, nothing of it sent" \
    "$(res seqpacket)" "ok 10"
check "half-close, guest first: the guest read the host's bytes" \
    "$(res half-close-guest-first)" ok
check "half-close, guest first: the host read the guest's bytes" \
    "$(cat hc-guest-first.out)" ok
check "half-close, host first: the guest read the host's bytes" \
    "$(res half-close-host-first)" ok
check "half-close, host first: the host read the guest's bytes" \
    "$(cat hc-host-first.out)" ok
check "no kernel warning mentioning vsock or virtio" "$(res kernel-warnings)" ""
replay_session

# --- Reconnect: one vsockemu, two QEMUs in turn; the first is killed ---
nfds() { ls /proc/$rpid/fd | wc -l; }
"$emu" vhost-user -vv --socket ./vhu2.sock --uds ./v.sock 2>reconnect.err &
rpid=$!
i=0; while [ ! -S vhu2.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
fds0=$(nfds)
boot console-a.log ./vhu2.sock vse.mode=reconnect
wait_ready console-a.log
# A host connection to the guest's echo, held open while QEMU is killed.
mkfifo hold.in
socat -t 1 - UNIX-CONNECT:./v.sock < hold.in > hold.out &
hold_pid=$!
exec 3> hold.in
printf 'CONNECT 52\nping\n' >&3
i=0; while ! grep -q ping hold.out && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "reconnect: the first guest echoes on a held host connection" \
    "$(tail -n 1 hold.out)" ping
# QEMU itself: timeout would not pass SIGKILL on.
kill -KILL "$(cat qemu.pid)"
wait $qpid 2>/dev/null
i=0; while kill -0 $hold_pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "reconnect: QEMU killed, the held host connection is closed" \
    "$(kill -0 $hold_pid 2>/dev/null && echo open)" ""
exec 3>&-
kill $hold_pid 2>/dev/null
check "reconnect: vsockemu outlives the killed QEMU" \
    "$(kill -0 $rpid 2>/dev/null && echo alive)" alive
r=$(printf 'CONNECT 52\n' | timeout 10 socat -t 5 - UNIX-CONNECT:./v.sock)
check "reconnect: a CONNECT with no guest is closed without OK" "$r" ""
i=0; while [ "$(nfds)" != "$fds0" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "reconnect: every fd of the killed session is closed" "$(nfds)" "$fds0"
boot console-b.log ./vhu2.sock vse.mode=reconnect
wait_ready console-b.log
r=$(printf 'CONNECT 52\nhello-again\n' | timeout 30 socat -t 10 - UNIX-CONNECT:./v.sock | tail -n 1)
check "reconnect: the second guest answers a host CONNECT" "$r" hello-again
until_ok sh -c "printf 'CONNECT 99\ndone\n' |
    timeout 30 socat -t 5 - UNIX-CONNECT:./v.sock" >/dev/null
wait $qpid
check "reconnect: both guests echoed guest->host" \
    "$(res g2h-echo console-a.log) $(res g2h-echo console-b.log)" "ok ok"
check "reconnect: the second guest finished" "$(grep -c 'VSE-RESULT finished' console-b.log)" 1
check "reconnect: vsockemu saw both front-ends" \
    "$(grep -c 'front-end connected' reconnect.err)" 2
kill -TERM $rpid
wait $rpid
check "reconnect: vsockemu exits 0 on SIGTERM" $? 0
check "reconnect: its sockets are removed" \
    "$(ls vhu2.sock v.sock 2>/dev/null)" ""

# --- Siblings: two QEMUs against one vhost-user --vm --vm, one group ---
rm -f vhu-a.sock vhu-b.sock va.sock* vb.sock*
"$emu" vhost-user -vv --pcap siblings.pcap \
    --vm guest-cid=3,socket=./vhu-a.sock,uds-path=./va.sock,groups=ci \
    --vm guest-cid=4,socket=./vhu-b.sock,uds-path=./vb.sock,groups=ci+other \
    2> siblings.err &
spid=$!
i=0; while [ ! -S vhu-b.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
boot console-sb.log ./vhu-b.sock vse.mode=sibling-b
qpid_b=$qpid
wait_ready console-sb.log
boot console-sa.log ./vhu-a.sock vse.mode=sibling-a
wait $qpid
until_ok sh -c "printf 'CONNECT 99\ndone\n' |
    timeout 30 socat -t 5 - UNIX-CONNECT:./vb.sock" >/dev/null
qpid=$qpid_b
wait $qpid
check "siblings: guest 3 -> guest 4's CID, a line echoed" \
    "$(res sibling console-sa.log)" ok
check "siblings: 1 MiB there and back between the two guests" \
    "$(res sibling-1mib console-sa.log)" ok
check "siblings: a CID no VM has is refused" \
    "$(res sibling-refused console-sa.log)" ok
check "siblings: both guests finished" \
    "$(res finished console-sa.log)$(res finished console-sb.log)" ""
check "siblings: vsockemu saw both front-ends" \
    "$(grep -c 'front-end connected' siblings.err)" 2
kill -TERM $spid
wait $spid
check "siblings: vsockemu exits 0 on SIGTERM" $? 0
check "siblings: the capture has guest 3's REQUEST to 4:52" \
    "$("$emu" dump siblings.pcap | grep -c ' 3:[0-9]* > 4:52 STREAM REQUEST' |
    sed 's/^[1-9][0-9]*$/yes/')" yes
kill $echo_pid 2>/dev/null
vt_run
exit $fail
