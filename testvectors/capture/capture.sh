#!/bin/sh
# capture.sh - record real Linux vsockmon traces in QEMU (TCG, no KVM needed on the machine).
#
# usage: capture.sh [-o OUTDIR] [-w WORKDIR] [-m loopback|nested|all] [SCENARIO...]
#
# From Debian packages alone: downloads linux-image-amd64 (unpacked with
# dpkg -x, never installed), builds two initramfs (mkinitramfs.sh) and the
# helpers, then boots one TCG guest per scenario and mode, one at a time:
#   loopback  both sides in the guest over CID 1 (vsock_loopback), tapped
#             on vsockmon0; written as linux61-lo-NAME.pcap, and rewritten
#             by rewrite-cids as linux61-lo-NAME.vm.pcap (CIDs 3 and 2);
#   nested    the TCG guest is the host (vhost-vsock, CID 2) of a KVM guest
#             (microvm, CID 3) running the other side; tapped on the host's
#             vsockmon0 as a real host-side capture: linux61-vhost-NAME.pcap.
# Scenarios are scenarios/NAME.sh and the rows of matrix.table (all of them
# by default; scenario.sh reads both). A scenario with GZIP=1 is written
# gzipped (.pcap.gz); a table row's traces go to OUTDIR/matrix/. OUTDIR
# defaults to testvectors/. A trace tcpdump dropped packets from is an
# error. Needs root only to install missing Debian packages.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SCENARIO_DIR=$here/scenarios SCENARIO_TABLE=$here/matrix.table
. "$here/scenario.sh"
out=$(cd "$here/.." && pwd)
work=${TMPDIR:-/tmp}/vsockemu-capture
modes=all
while getopts o:w:m: opt; do
	case $opt in
	o) out=$OPTARG ;;
	w) work=$OPTARG ;;
	m) modes=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "$modes" = all ] && modes="loopback nested"
mkdir -p "$work" "$work/logs" "$out"
work=$(cd "$work" && pwd) out=$(cd "$out" && pwd)

log() { echo "capture: $*" >&2; }
die() { log "$*"; exit 1; }

# need: install the Debian packages of any missing tool.
need() {
	missing=
	command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
	dpkg -s busybox-static >/dev/null 2>&1 ||
	    missing="$missing busybox-static"
	command -v socat >/dev/null || missing="$missing socat"
	command -v tcpdump >/dev/null || missing="$missing tcpdump"
	command -v ip >/dev/null || missing="$missing iproute2"
	command -v cpio >/dev/null || missing="$missing cpio"
	command -v gcc >/dev/null || missing="$missing gcc libc6-dev"
	[ -f /usr/include/pcap/pcap.h ] || missing="$missing libpcap-dev"
	[ -z "$missing" ] && return 0
	log "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# kernel: the current Debian linux-image-amd64, unpacked into $work/kernel.
kernel() {
	[ -d "$work/kernel/boot" ] && return 0
	pkg=$(apt-cache depends linux-image-amd64 |
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
	[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (apt-get update?)"
	log "downloading $pkg"
	(cd "$work" && apt-get download -q "$pkg" 2>&1 | grep -v unsandboxed) || true
	ls "$work/$pkg"_*.deb >/dev/null 2>&1 || die "download of $pkg failed"
	dpkg -x "$work/$pkg"_*.deb "$work/kernel"
}

# build: helpers and both initramfs, from this checkout's sources.
build() {
	mkdir -p "$work/bin"
	gcc -static -O2 -o "$work/bin/vsock-play" "$here/vsock-play.c"
	gcc -O2 -o "$work/bin/rewrite-cids" "$here/rewrite-cids.c" -lpcap
	sh "$here/mkinitramfs.sh" l2 "$work/kernel" "$work/bin" "$work/l2.cpio"
	sh "$here/mkinitramfs.sh" l1 "$work/kernel" "$work/bin" "$work/l1.cpio" \
	    "$work/l2.cpio"
	kver=$(ls "$work/kernel/lib/modules")
}

# boot MODE NAME: one TCG guest running scenario NAME; the console log.
boot() {
	timeout "${VSE_BOOT_TIMEOUT:-900}" qemu-system-x86_64 \
	    -accel tcg -M q35 -cpu max -m 1536M -smp 1 \
	    -nodefaults -no-user-config -display none -no-reboot \
	    -serial stdio -kernel "$work/kernel/boot/vmlinuz-$kver" \
	    -initrd "$work/l1.cpio" \
	    -append "console=ttyS0 quiet panic=-1 vse.mode=$1 vse.scenario=$2" \
	    < /dev/null > "$work/logs/$2-$1.log" 2>&1
}

# extract LOG PCAP: the gzipped base64 between the markers, decoded.
extract() {
	tr -d '\r' < "$1" | sed -n '/^VSE-PCAP-BEGIN/,/^VSE-PCAP-END/p' |
	    sed '1d;$d' | base64 -d | gzip -dc > "$2"
}

# capture MODE NAME: record one scenario and install its trace(s) in $out.
capture() {
	m=$1 s=$2
	scenario_load "$s" || { log "$s: no such scenario"; return 1; }
	case " $MODES " in *" $m "*) ;; *) return 0 ;; esac
	[ "$m" = loopback ] && base=linux61-lo-$s || base=linux61-vhost-$s
	dest=$out${SUBDIR:+/$SUBDIR}
	mkdir -p "$dest"
	l=$work/logs/$s-$m.log start=$(date +%s)
	boot "$m" "$s" || log "$s ($m): qemu exited $?"
	grep -a '^VSE-' "$l" | tr -d '\r' | sed "s/^/  $s ($m): /" >&2
	grep -aq 'client-exit 0' "$l" && grep -aq 'server-exit 0' "$l" ||
	    { log "$s ($m): a side failed, see $l"; return 1; }
	grep -aq ' 0 packets dropped by kernel' "$l" ||
	    { log "$s ($m): tcpdump dropped packets, see $l"; return 1; }
	extract "$l" "$work/$base.pcap" ||
	    { log "$s ($m): no capture in $l"; return 1; }
	files=$base.pcap
	if [ "$m" = loopback ]; then
		[ "$INITIATOR" = host ] && H=-H || H=
		"$work/bin/rewrite-cids" $H "$work/$base.pcap" \
		    "$work/$base.vm.pcap" || return 1
		files="$files $base.vm.pcap"
	fi
	for f in $files; do
		rm -f "$dest/$f" "$dest/$f.gz"
		if [ -n "$GZIP" ]; then
			gzip -9n < "$work/$f" > "$dest/$f.gz"
		else
			cp "$work/$f" "$dest/$f"
		fi
	done
	log "$s ($m): $(( $(date +%s) - start )) s: $(cd "$dest" && ls -s "$base".* | tr '\n' ' ')"
}

need
kernel
build
[ $# -gt 0 ] || set -- $(scenario_names)
fail=0
for mode in $modes; do
	for s; do
		capture "$mode" "$s" || fail=1
	done
done
exit $fail
