#!/bin/sh
# check-qemu.sh - `make check-qemu`: a real Linux guest (Debian's kernel,
# booted under QEMU's TCG, no KVM) drives `vsockemu vhost-user` through
# QEMU's vhost-user-vsock-pci, with real socat on both sides.
#   guest -> host echo via PATH_PORT, a refused port, 4 MiB each way
#   byte-exact, half-close, 20 concurrent connections, host -> guest via
#   CONNECT, no kernel warning, and the session's capture replayed with
#   `vsockemu replay --strict`.
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
cp "$here/guest-init.sh" root/init && chmod 755 root/init
(cd root && find . | cpio -o -H newc --quiet) > initrd

# Host side: vsockemu, an echo at PATH_5000, a sink at PATH_5001.
rm -f v.sock* vhu.sock console.log g2h.bin
"$emu" vhost-user -q --socket ./vhu.sock --uds ./v.sock --pcap session.pcap --once &
epid=$!
socat UNIX-LISTEN:./v.sock_5000,fork EXEC:cat &
echo_pid=$!
socat -u UNIX-LISTEN:./v.sock_5001 CREATE:g2h.bin &
sink_pid=$!
i=0; while [ ! -S vhu.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

timeout 240 qemu-system-x86_64 -accel tcg -M q35 -cpu max -m 512M -smp 1 \
    -nographic -no-reboot -nodefaults -serial file:console.log \
    -object memory-backend-memfd,id=mem0,size=512M,share=on \
    -machine memory-backend=mem0 \
    -chardev socket,id=c0,path=./vhu.sock \
    -device vhost-user-vsock-pci,chardev=c0 \
    -kernel "kernel/boot/vmlinuz-$kver" -initrd initrd \
    -append "console=ttyS0 quiet panic=-1" &
qpid=$!

# Host -> guest, once the guest's echo listens.
i=0; while ! grep -q "VSE-RESULT ready" console.log 2>/dev/null && [ $i -lt 2400 ]; do
	sleep 0.1; i=$((i + 1)); kill -0 $qpid 2>/dev/null || break
done
r=$(printf 'CONNECT 52\nhello-from-host\n' | timeout 30 socat -t 10 - UNIX-CONNECT:./v.sock)
case "$r" in
"OK 1073741824
hello-from-host") echo "PASS: host->guest CONNECT 52, OK and echo" ;;
*) echo "FAIL: host->guest CONNECT 52: got '$r'"; fail=1 ;;
esac
r=$(printf 'CONNECT 53\n' | timeout 30 socat -t 10 - UNIX-CONNECT:./v.sock)
[ -z "$r" ] && echo "PASS: host->guest to a closed guest port: closed, no OK" ||
    { echo "FAIL: CONNECT 53 got '$r'"; fail=1; }
head -c 4194304 /dev/urandom > h2g.bin
r=$({ printf 'CONNECT 60\n'; cat h2g.bin; } | timeout 60 socat -t 30 - UNIX-CONNECT:./v.sock | head -c 3)
[ "$r" = "OK " ] || { echo "FAIL: host->guest 4 MiB: no OK ('$r')"; fail=1; }
r=$(printf 'CONNECT 61\nquestion' | timeout 30 socat -t 20 - UNIX-CONNECT:./v.sock | tail -c 5)
check_hc=$r
printf 'CONNECT 99\ndone\n' | timeout 30 socat -t 5 - UNIX-CONNECT:./v.sock >/dev/null
wait $qpid
kill $echo_pid $sink_pid 2>/dev/null
wait $epid 2>/dev/null

# A result line's value (firmware output may share the line: match, not cut).
res() { tr -d '\r' < console.log | sed -n "s/.*VSE-RESULT $1 *//p" | head -n 1; }
check() { if [ "$2" = "$3" ]; then echo "PASS: $1"; else echo "FAIL: $1 (got '$2')"; fail=1; fi; }
check "guest booted and finished" "$(res finished)" ""
grep -q "VSE-RESULT finished" console.log || { echo "FAIL: guest did not finish"; tail -30 console.log; fail=1; }
check "guest->host echo via PATH_5000" "$(res g2h-echo)" ok
check "guest->host to a port nobody listens on: refused" "$(res refused)" ok
check "4 MiB guest->host byte-exact" "$(sha256sum < g2h.bin | cut -d' ' -f1)" "$(res g2h-sha)"
check "20 concurrent guest connections echoed" "$(res concurrent-20)" 20
check "4 MiB host->guest byte-exact" "$(res h2g-sha)" "$(sha256sum < h2g.bin | cut -d' ' -f1)"
check "half-close: the guest read the host's data to EOF" "$(res half-close)" question
check "half-close: the host got the reply after its own EOF" "$check_hc" reply
check "no kernel warning mentioning vsock or virtio" "$(res kernel-warnings)" ""
if [ -s session.pcap ]; then
	"$emu" replay --strict session.pcap > replay.txt; rc=$?
	check "the session's capture replays with --strict" "$rc" 0
	[ $rc -eq 0 ] || head -20 replay.txt
fi
exit $fail
