#!/bin/sh
# mkinitramfs.sh - build the capture guests' initramfs from an unpacked kernel package.
#
# usage: mkinitramfs.sh l2|l1 KROOT HELPERDIR OUT.cpio [L2_CPIO]
#   l2  the innermost guest: busybox, socat, vsock-play, the scenarios, and
#       the virtio-mmio vsock driver modules;
#   l1  everything in l2 plus tcpdump, iproute2's ip, the loopback, vsockmon,
#       kvm and vhost-vsock modules, qemu-system-x86_64 with its firmware, and
#       the kernel and L2_CPIO for a nested guest.
# KROOT is where `dpkg -x linux-image-*.deb` unpacked; HELPERDIR holds the
# static vsock-play. Uncompressed cpio: a TCG guest unpacks it faster.
set -eu

role=$1 kroot=$2 helpers=$3 out=$4 l2cpio=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(ls "$kroot/lib/modules")
moddir=$kroot/lib/modules/$kver
tree=$(mktemp -d "${TMPDIR:-/tmp}/vse-initramfs.XXXXXX")
trap 'rm -rf "$tree"' EXIT

# copy_bin PROG: PROG and every shared library ldd names, at their paths.
copy_bin() {
	cb_p=$(command -v "$1") || { echo "mkinitramfs: $1 not found" >&2; exit 1; }
	mkdir -p "$tree$(dirname "$cb_p")"
	cp -L "$cb_p" "$tree$cb_p"
	ldd "$cb_p" 2>/dev/null | grep -o '/[^ ]*' | while read -r cb_l; do
		mkdir -p "$tree$(dirname "$cb_l")"
		cp -Ln "$cb_l" "$tree$cb_l"
	done
}

# ko_path NAME: the module file for NAME (kvm_amd is kvm-amd.ko).
ko_path() {
	find "$moddir/kernel" \( -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" \) |
	    head -n 1
}

# add_module LIST NAME: NAME after its dependencies, once, in load order,
# appended to /etc/modules-LIST (the guest's init loads a list in order).
add_module() {
	grep -qx "$2" "$tree/etc/modules-$1" 2>/dev/null && return 0
	am_f=$(ko_path "$2")
	[ -n "$am_f" ] || { echo "mkinitramfs: no module $2" >&2; exit 1; }
	for am_d in $(tr '\0' '\n' < "$am_f" | sed -n 's/^depends=//p' |
	    tr ',' ' '); do
		add_module "$1" "$am_d"
	done
	am_f=$(ko_path "$2")
	mkdir -p "$tree/lib/modules"
	cp "$am_f" "$tree/lib/modules/$2.ko"
	echo "$2" >> "$tree/etc/modules-$1"
}

mkdir -p "$tree/bin" "$tree/sbin" "$tree/etc" "$tree/proc" "$tree/sys" \
    "$tree/dev" "$tree/tmp" "$tree/run" "$tree/scenarios"
cp /bin/busybox "$tree/bin/busybox"
ln -s busybox "$tree/bin/sh"
cp "$helpers/vsock-play" "$tree/bin/vsock-play"
copy_bin socat
cp "$here/guest-init.sh" "$tree/init"
chmod 755 "$tree/init"
cp "$here"/scenarios/*.sh "$tree/scenarios/"
cp "$here/scenario.sh" "$here/matrix.table" "$tree/"
echo "root:x:0:0:root:/root:/bin/sh" > "$tree/etc/passwd"
echo "root:x:0:" > "$tree/etc/group"
for m in virtio_mmio vmw_vsock_virtio_transport; do
	add_module l2 "$m"
done

if [ "$role" = l1 ]; then
	copy_bin tcpdump
	copy_bin ip
	copy_bin qemu-system-x86_64
	mkdir -p "$tree/usr/share/qemu"
	cp -L /usr/share/qemu/qboot.rom /usr/share/qemu/bios-microvm.bin \
	    "$tree/usr/share/qemu/"
	for m in vsock_loopback vsockmon; do
		add_module loopback "$m"
	done
	for m in vsockmon kvm_amd kvm_intel vhost_vsock; do
		add_module nested "$m"
	done
	mkdir -p "$tree/l2"
	cp "$kroot/boot/vmlinuz-$kver" "$tree/l2/vmlinuz"
	[ -z "$l2cpio" ] || cp "$l2cpio" "$tree/l2/initrd"
fi

(cd "$tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
