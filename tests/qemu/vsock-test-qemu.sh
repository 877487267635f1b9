# vsock-test-qemu.sh - sourced by check-qemu.sh: Linux's own vsock_test
# (tools/testing/vsock of Debian's linux-source-6.1, unmodified, built
# static into the initramfs) in a real guest kernel against the host-role
# vsock_test under `vsockemu run --host` on `vsockemu vhost-user` (issue
# 17): guest server / host client, then host server / guest client. The
# control channel runs over QEMU's user network: the host reaches the
# guest's control port through a hostfwd, the guest the host's at
# 10.0.2.2 (slirp's alias of the host's loopback).
#
# vt_prepare (before the initramfs is packed) builds vsock_test and adds
# it and virtio-net to root/; vt_run boots the guest and checks both
# directions. Both need check-qemu.sh's $here, $emu, check, boot, res,
# wait_ready and add_module. Without the tarball they say SKIP and pass.

vt_tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
vt_ok=0

vt_prepare() {
	if [ ! -r "$vt_tarball" ]; then
		echo "SKIP: vsock_test in the guest: $vt_tarball missing"
		return 0
	fi
	# The host's is dynamic (run's preload must reach its calls), the
	# guest's static (the initramfs has no libc): the same objects.
	vt_dir=vt-src/tools/testing/vsock
	if [ ! -x $vt_dir/vsock_test.static ]; then
		rm -rf vt-src && mkdir -p vt-src || return 0
		vt_top=$(tar -tJf "$vt_tarball" | head -n 1 | cut -d/ -f1)
		tar -xJf "$vt_tarball" -C vt-src --strip-components=1 \
		    "$vt_top/tools/include" "$vt_top/tools/testing/vsock" &&
		    make -s -C $vt_dir vsock_test &&
		    (cd $vt_dir && ${CC:-cc} -static -o vsock_test.static \
		    vsock_test.o timeout.o control.o util.o) ||
		    { echo "FAIL: building vsock_test"; fail=1; return 0; }
	fi
	cp $vt_dir/vsock_test.static root/bin/vsock_test
	for a in ip; do ln -sf busybox root/bin/$a; done
	add_module virtio_net
	vt_ok=1
}

# The control ports: the guest's (forwarded from the host's $vt_fwd) and
# the host's, both away from the usual ones.
vt_fwd=$((21000 + $$ % 4000))
vt_hport=$((vt_fwd + 4000))

vt_run() {
	[ $vt_ok = 1 ] || return 0
	rm -f vt.sock vt-vhu.sock vt-*.log console-vt.log
	"$emu" vhost-user -q --socket ./vt-vhu.sock --uds ./vt.sock --seqpacket \
	    --once 2> vt-vhu.log &
	vt_epid=$!
	i=0; while [ ! -S vt-vhu.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	boot console-vt.log ./vt-vhu.sock \
	    "vse.mode=vsock_test vse.hport=$vt_hport" \
	    "-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$vt_fwd-10.0.2.15:1234
	    -device virtio-net-pci,netdev=n0,romfile="
	# 1: the guest's vsock_test is the server; the host's the client.
	i=0
	while ! grep -q "Control socket listening" console-vt.log 2>/dev/null &&
	    [ $i -lt 1200 ]; do
		sleep 0.1; i=$((i + 1)); kill -0 $qpid 2>/dev/null || break
	done
	timeout 300 "$emu" run --host ./vt.sock -- $vt_dir/vsock_test \
	    --mode=client --control-host=127.0.0.1 --control-port=$vt_fwd \
	    --peer-cid=3 > vt-host-client.log 2>&1
	vt_crc=$?
	# 2: the host's vsock_test is the server; the guest's the client. The
	# guest waits for "go" on vsock port 98 (its own listener) so that
	# the host server's control socket is up before it connects. A
	# failed first half leaves the guest's server waiting: end it.
	vt_src=skipped
	if [ $vt_crc = 0 ]; then
		timeout 300 "$emu" run --host ./vt.sock -- $vt_dir/vsock_test \
		    --mode=server --control-host=127.0.0.1 \
		    --control-port=$vt_hport --peer-cid=3 > vt-host-server.log 2>&1 &
		vt_spid=$!
		i=0
		while ! grep -q "Control socket listening" vt-host-server.log \
		    2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
		# Until the guest's listener on 98 takes it (OK): it comes up
		# when the guest's server has finished.
		i=0
		until printf 'CONNECT 98\ngo\n' | timeout 30 socat -t 5 - \
		    UNIX-CONNECT:./vt.sock | grep -q '^OK' || [ $i -ge 600 ]; do
			sleep 0.2; i=$((i + 1)); kill -0 $qpid 2>/dev/null || break
		done
		wait $vt_spid
		vt_src=$?
	else
		kill -KILL "$(cat qemu.pid)" 2>/dev/null
	fi
	wait $qpid
	wait $vt_epid
	vt_erc=$?
	echo "--- guest (server, then client):"
	tr -d '\r' < console-vt.log | grep -E '^[0-9]+ - |ok$|FAIL|rror|VSE-RESULT vt'
	echo "--- host client under run --host:"; cat vt-host-client.log
	echo "--- host server under run --host:"; cat vt-host-server.log
	check "vsock_test: host client (run --host) against the guest's server exits 0" "$vt_crc" 0
	check "vsock_test: the guest's server exits 0" "$(res vt-server console-vt.log)" 0
	check "vsock_test: host client: 11 cases and the final barrier ok" \
	    "$(grep -c '\.\.\.ok$' vt-host-client.log)" 12
	check "vsock_test: host server (run --host) against the guest's client exits 0" "$vt_src" 0
	check "vsock_test: the guest's client exits 0" "$(res vt-client console-vt.log)" 0
	check "vsock_test: host server: 11 cases and the final barrier ok" \
	    "$(grep -c '\.\.\.ok$' vt-host-server.log)" 12
	check "vsock_test: vhost-user --once exits 0" "$vt_erc" 0
}
