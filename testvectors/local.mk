# testvectors/local.mk - recorded traces and their expected outputs.
EXTRA_DIST += testvectors/README.md \
	testvectors/tcpdump-vsock-1.pcapng \
	testvectors/tcpdump-vsock-1.dump \
	testvectors/tcpdump-vsock-1.dump-x
