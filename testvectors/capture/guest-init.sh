#!/bin/sh
# guest-init.sh - /init of the capture guests: run one scenario under vsockmon, print the pcap.
#
# Kernel command line:
#   vse.scenario=NAME   scenarios/NAME.sh or a row of matrix.table (loaded
#                       by /scenario.sh) defines server(), client CID, and
#                       INITIATOR=guest|host (which side connects)
#   vse.mode=loopback   both sides in this guest over CID 1 (vsock_loopback)
#   vse.mode=nested     this guest is the host (CID 2, vhost-vsock); it runs
#                       a KVM guest (CID 3) with the other side
#   vse.mode=l2         this is that nested guest: run vse.part (server or
#                       client) against CID 2, then power off
# The capture comes out on the console gzipped, as base64 between
# VSE-PCAP-BEGIN and VSE-PCAP-END; status lines start with VSE-.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^vse\.$1=//p"; }
say() { echo "VSE-$*"; }
bye() { sync; poweroff -f; }

scenario=$(arg scenario) mode=$(arg mode)
export VSE_MODE=$mode
. /scenario.sh
scenario_load "$scenario" || { say "ERROR no scenario $scenario"; bye; }

# load LIST: insmod the modules of /etc/modules-LIST in order.
load() {
	while read -r m; do
		insmod "/lib/modules/$m.ko" 2>/tmp/insmod.err ||
		    say "NOTE insmod $m: $(cat /tmp/insmod.err)"
	done < "/etc/modules-$1"
}

# wait_for FILE TEXT SECONDS: until FILE contains TEXT; 1 on timeout.
wait_for() {
	wf_n=$(($3 * 10))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		wf_n=$((wf_n - 1))
		[ "$wf_n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# run PART CID [EXTRA]: the scenario's server or client, bounded by its
# TIMEOUT plus EXTRA seconds; says its status.
run() {
	timeout "$((${TIMEOUT:-60} + ${3:-0}))" sh -c ". /scenario.sh;
	    scenario_load $scenario && $1 $2"
	say "$1-exit $?"
}

# start_capture: vsockmon0 up and tcpdump writing /tmp/trace.pcap (whole
# packets unless the scenario sets SNAPLEN; a 16 MiB kernel buffer, so a
# long transfer loses nothing: capture.sh rejects a trace with drops).
start_capture() {
	ip link add name vsockmon0 type vsockmon && ip link set vsockmon0 up ||
	    say "ERROR vsockmon0"
	tcpdump -Z root -U -B 16384 -s "${SNAPLEN:-0}" -i vsockmon0 \
	    -w /tmp/trace.pcap 2>/tmp/tcpdump.err &
	tcpdump_pid=$!
	wait_for /tmp/tcpdump.err "listening on" 20 ||
	    say "ERROR tcpdump: $(cat /tmp/tcpdump.err)"
}

# stop_capture: let the last packets through, stop tcpdump, print the file
# gzipped (a serial console is slow, and header-only traces are large).
stop_capture() {
	sleep 1
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid"
	say "tcpdump $(tail -n 3 /tmp/tcpdump.err | tr '\n' ' ')"
	say "PCAP-BEGIN $(wc -c < /tmp/trace.pcap) gzip"
	gzip -c /tmp/trace.pcap | base64
	say "PCAP-END"
}

# server_bg CID [EXTRA]: start the server part and wait until it is ready.
server_bg() {
	run server "$1" "${2:-0}" > /tmp/server.out 2>&1 &
	server_pid=$!
	wait_for /tmp/server.out 'listening\|bound\|ready\|VSE-server-exit' 20 ||
	    say "ERROR server not ready"
}

# finish_server: the server's output and status, once it has ended.
finish_server() {
	wait "$server_pid"
	sed 's/^/server: /' /tmp/server.out
}

case $mode in
loopback)
	load loopback
	start_capture
	server_bg 1
	run client 1
	finish_server
	stop_capture
	;;
nested)
	load nested
	start_capture
	[ "$INITIATOR" = host ] && part=server || part=client
	# The server's time starts before the nested guest boots (a minute
	# or more under TCG): it gets the nested guest's time limit on top.
	[ "$part" = client ] && server_bg 2 "${L2_TIMEOUT:-240}"
	say "l2 start"
	timeout "${L2_TIMEOUT:-240}" qemu-system-x86_64 \
	    -M microvm,accel=kvm -cpu host -m 192M -smp 1 \
	    -nodefaults -no-user-config -nographic -no-reboot \
	    -serial stdio -kernel /l2/vmlinuz -initrd /l2/initrd \
	    -append "console=ttyS0 quiet panic=-1 vse.mode=l2 vse.scenario=$scenario vse.part=$part" \
	    -device vhost-vsock-device,guest-cid=3 > /tmp/l2.log 2>&1 &
	l2_pid=$!
	if [ "$part" = server ]; then
		wait_for /tmp/l2.log 'VSE-READY' "${L2_TIMEOUT:-240}" ||
		    say "ERROR l2 server not ready"
		run client 3
	fi
	wait "$l2_pid"
	say "l2 exit $?"
	sed -n 's/^/l2: /p' /tmp/l2.log | grep 'VSE-\|server:\|client:\|rror'
	[ "$part" = client ] && finish_server
	stop_capture
	;;
l2)
	load l2
	part=$(arg part)
	if [ "$part" = server ]; then
		run server 2 > /tmp/server.out 2>&1 &
		server_pid=$!
		wait_for /tmp/server.out 'listening\|bound\|ready' 20
		say READY
		finish_server
	else
		run client 2
	fi
	# Stay up a while: the host side may still close after this side's
	# program ended, and its last packets (a late RST, a credit update)
	# are tapped only while this guest is there to take them.
	sleep "${L2_LINGER:-5}"
	;;
*)
	say "ERROR unknown vse.mode '$mode'"
	;;
esac
bye
