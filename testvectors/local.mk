# testvectors/local.mk - recorded traces and their expected outputs.
EXTRA_DIST += testvectors/README.md \
	testvectors/tcpdump-vsock-1.pcapng \
	testvectors/tcpdump-vsock-1.dump \
	testvectors/tcpdump-vsock-1.dump-x \
	testvectors/MANIFEST \
	testvectors/emu-echo.pcap testvectors/emu-host-connect.pcap \
	testvectors/emu-refused.pcap testvectors/emu-credit.pcap \
	testvectors/emu-timeout.pcap testvectors/emu-halfclose.pcap \
	testvectors/negative/neg-response-tuple.pcap \
	testvectors/negative/neg-fwd-cnt.pcap \
	testvectors/negative/neg-credit-shrunk.pcap \
	testvectors/negative/neg-data-after-shut-rcv.pcap

# Real Linux 6.1 traces recorded by testvectors/capture (see README.md).
EXTRA_DIST += \
	testvectors/linux61-lo-bound-not-listening.pcap \
	testvectors/linux61-lo-bound-not-listening.vm.pcap \
	testvectors/linux61-lo-bulk-g2h.pcap.gz \
	testvectors/linux61-lo-bulk-g2h.vm.pcap.gz \
	testvectors/linux61-lo-bulk-h2g.pcap.gz \
	testvectors/linux61-lo-bulk-h2g.vm.pcap.gz \
	testvectors/linux61-lo-concurrent-50.pcap \
	testvectors/linux61-lo-concurrent-50.vm.pcap \
	testvectors/linux61-lo-echo.pcap \
	testvectors/linux61-lo-echo.vm.pcap \
	testvectors/linux61-lo-guest-close-first.pcap \
	testvectors/linux61-lo-guest-close-first.vm.pcap \
	testvectors/linux61-lo-half-close.pcap \
	testvectors/linux61-lo-half-close.vm.pcap \
	testvectors/linux61-lo-host-close-first.pcap \
	testvectors/linux61-lo-host-close-first.vm.pcap \
	testvectors/linux61-lo-host-initiated.pcap \
	testvectors/linux61-lo-host-initiated.vm.pcap \
	testvectors/linux61-lo-refused.pcap \
	testvectors/linux61-lo-refused.vm.pcap \
	testvectors/linux61-lo-seqpacket.pcap \
	testvectors/linux61-lo-seqpacket.vm.pcap \
	testvectors/linux61-lo-slow-reader.pcap.gz \
	testvectors/linux61-lo-slow-reader.vm.pcap.gz \
	testvectors/linux61-vhost-bound-not-listening.pcap \
	testvectors/linux61-vhost-bulk-g2h.pcap.gz \
	testvectors/linux61-vhost-bulk-h2g.pcap.gz \
	testvectors/linux61-vhost-concurrent-50.pcap \
	testvectors/linux61-vhost-echo.pcap \
	testvectors/linux61-vhost-guest-close-first.pcap \
	testvectors/linux61-vhost-half-close.pcap \
	testvectors/linux61-vhost-host-close-first.pcap \
	testvectors/linux61-vhost-host-initiated.pcap \
	testvectors/linux61-vhost-refused.pcap \
	testvectors/linux61-vhost-seqpacket.pcap \
	testvectors/linux61-vhost-slow-reader.pcap.gz \
	testvectors/linux61-vhost-split-tap.pcap

# Recorded by `vsockemu vhost-user --pcap` serving a real Linux guest.
EXTRA_DIST += testvectors/qemu-vhu-seqpacket.pcap.gz

# Issue 15's close-ordering matrix of real Linux 6.1 traces (the whole
# folder: capture/matrix.table names them) and the verdicts make check does
# not gate on yet.
EXTRA_DIST += testvectors/matrix testvectors/MANIFEST.matrix

# The recorder of the linux61-* traces (testvectors/capture/README.md).
EXTRA_DIST += testvectors/capture/README.md \
	testvectors/capture/capture.sh \
	testvectors/capture/mkinitramfs.sh \
	testvectors/capture/guest-init.sh \
	testvectors/capture/vsock-play.c \
	testvectors/capture/rewrite-cids.c \
	testvectors/capture/scenario.sh \
	testvectors/capture/matrix.table \
	testvectors/capture/scenarios/bound-not-listening.sh \
	testvectors/capture/scenarios/bulk-g2h.sh \
	testvectors/capture/scenarios/bulk-h2g.sh \
	testvectors/capture/scenarios/concurrent-50.sh \
	testvectors/capture/scenarios/echo.sh \
	testvectors/capture/scenarios/guest-close-first.sh \
	testvectors/capture/scenarios/half-close.sh \
	testvectors/capture/scenarios/host-close-first.sh \
	testvectors/capture/scenarios/host-initiated.sh \
	testvectors/capture/scenarios/refused.sh \
	testvectors/capture/scenarios/seqpacket.sh \
	testvectors/capture/scenarios/slow-reader.sh \
	testvectors/capture/scenarios/split-tap.sh

# make capture: record every linux61-* trace again from Debian packages, into
# the source tree's testvectors/ (root for apt-get; about 12 minutes on two
# cores). Not part of make check. CAPTURE_FLAGS passes options, e.g.
# CAPTURE_FLAGS='-m loopback echo'.
CAPTURE_FLAGS =
capture:
	sh $(srcdir)/testvectors/capture/capture.sh -o $(srcdir)/testvectors \
	    -w $(abs_builddir)/capture-work $(CAPTURE_FLAGS)
.PHONY: capture
