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
