#!/bin/sh
# guest-init.sh - /init of the check-qemu guest: load the virtio-vsock
# driver, run the guest side of each check, report on the serial console.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
for m in $(cat /etc/modules); do
	insmod /lib/modules/$m.ko || { echo "VSE-MODFAIL $m"; dmesg | tail -n 3; }
done
i=0
while [ ! -e /dev/vsock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
say() { echo "VSE-RESULT $*"; }

# vse.mode=reconnect: the short guest of the reconnect check. It echoes on
# port 52, checks one guest -> host echo, and waits for "done" on 99 (or
# for QEMU to be killed under it).
if grep -q "vse.mode=reconnect" /proc/cmdline; then
	socat VSOCK-LISTEN:52,fork EXEC:cat &
	socat -u VSOCK-LISTEN:99 CREATE:/tmp/done &
	r=$(echo hello-again | socat -t 10 - VSOCK-CONNECT:2:5000)
	[ "$r" = hello-again ] && say g2h-echo ok || say g2h-echo FAIL "$r"
	say ready
	i=0
	while [ ! -s /tmp/done ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	say finished
	poweroff -f
fi

# vse.mode=vsock_test: Linux's vsock_test (tests/qemu/vsock-test-qemu.sh),
# server here first, then client; the control channel over QEMU's user
# network. The host says "go" on vsock port 98 once its server listens.
if grep -q "vse.mode=vsock_test" /proc/cmdline; then
	hport=$(sed -n 's/.*vse.hport=\([0-9]*\).*/\1/p' /proc/cmdline)
	ip link set lo up
	ip link set eth0 up
	ip addr add 10.0.2.15/24 dev eth0
	ip route add default via 10.0.2.2
	vsock_test --mode=server --control-host=0.0.0.0 --control-port=1234 \
	    --peer-cid=2
	say vt-server $?
	socat -u VSOCK-LISTEN:98 CREATE:/tmp/go
	vsock_test --mode=client --control-host=10.0.2.2 \
	    --control-port="$hport" --peer-cid=2
	say vt-client $?
	say finished
	poweroff -f
fi

# vse.mode=sibling-b: guest 4 of the sibling check, an echo on port 52
# until "done" arrives on 99 from the host.
if grep -q "vse.mode=sibling-b" /proc/cmdline; then
	socat VSOCK-LISTEN:52,fork EXEC:cat &
	socat -u VSOCK-LISTEN:99 CREATE:/tmp/done &
	sleep 0.5
	say ready
	i=0
	while [ ! -s /tmp/done ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	say finished
	poweroff -f
fi

# vse.mode=sibling-a: guest 3 of the sibling check connects to guest 4's
# CID (booted and listening first) through one vsockemu: a line, then
# 1 MiB there and back; a CID no VM has is refused.
if grep -q "vse.mode=sibling-a" /proc/cmdline; then
	# Guest 4 said ready after starting its listener; under load the
	# listener may come later: retry a refused connect, bounded.
	i=0
	while r=$(echo hello-sibling | socat -t 10 - VSOCK-CONNECT:4:52 \
	    2>/dev/null); [ "$r" != hello-sibling ] && [ $i -lt 100 ]; do
		sleep 0.2; i=$((i + 1))
	done
	[ "$r" = hello-sibling ] && say sibling ok || say sibling FAIL "$r"
	head -c 1048576 /dev/urandom > /tmp/s
	a=$(sha256sum < /tmp/s | cut -d' ' -f1)
	b=$(socat -t 60 - VSOCK-CONNECT:4:52 < /tmp/s | sha256sum | cut -d' ' -f1)
	[ "$a" = "$b" ] && say sibling-1mib ok || say sibling-1mib FAIL
	if echo x | socat -t 5 - VSOCK-CONNECT:9:52 >/dev/null 2>&1; then
		say sibling-refused FAIL
	else
		say sibling-refused ok
	fi
	say finished
	poweroff -f
fi

# Guest -> host echo through PATH_5000.
r=$(echo hello-from-guest | socat -t 10 - VSOCK-CONNECT:2:5000)
[ "$r" = hello-from-guest ] && say g2h-echo ok || say g2h-echo FAIL "$r"

# A host port nobody listens on: refused.
if echo x | socat -t 5 - VSOCK-CONNECT:2:5999 >/dev/null 2>&1; then
	say refused FAIL
else
	say refused ok
fi

# 4 MiB guest -> host, byte-exact (the host compares digests).
head -c 4194304 /dev/urandom > /tmp/g2h
say g2h-sha $(sha256sum /tmp/g2h | cut -d' ' -f1)
socat -t 60 -u OPEN:/tmp/g2h VSOCK-CONNECT:2:5001 && say g2h-bulk sent

# 20 concurrent guest connections to the host echo.
n=0
while [ $n -lt 20 ]; do
	(r=$(echo "c$n" | socat -t 20 - VSOCK-CONNECT:2:5000); \
	    [ "$r" = "c$n" ] && echo ok > /tmp/c$n) &
	n=$((n + 1))
done
wait
say concurrent-20 $(ls /tmp/c* 2>/dev/null | wc -l)

# SEQPACKET, when the driver negotiated it (feature bit 1 of the vsock
# device, id 0x0013): message boundaries both ways through the host's
# SOCK_SEQPACKET echo at PATH_5002.
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat $d/device)" = 0x0013 ] && say seqpacket-feature $(cut -c2 $d/features)
done
say seqpacket "$(seqpacket-echo check 2 5002)"

# Both sides half-close, then close (issue 15): to PATH_5003 the guest
# shuts down writing first, to PATH_5004 the host does.
say half-close-guest-first "$(half-close first vsock 2 5003)"
say half-close-host-first "$(half-close second vsock 2 5004)"

# Host -> guest: an echo on port 52, a 4 MiB sink on 60, a half-close
# check on 61 (reply only after the host's EOF), "done" on 99.
socat VSOCK-LISTEN:52,fork EXEC:cat &
socat -u VSOCK-LISTEN:60 CREATE:/tmp/h2g &
socat VSOCK-LISTEN:61 SYSTEM:'cat > /tmp/hc; printf reply' &
socat -u VSOCK-LISTEN:99 CREATE:/tmp/done &
sleep 0.5
say ready
i=0
while [ ! -s /tmp/done ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
say h2g-sha $(sha256sum /tmp/h2g | cut -d' ' -f1)
say half-close "$(cat /tmp/hc)"
dmesg | grep -iE "vsock|virtio" | grep -iE "warn|error|bug" && say kernel-warnings FAIL
say finished
poweroff -f
