# src/local.mk - the device-model library (no I/O, injected clock) and its capture files.
noinst_LIBRARIES += src/libvsockemu.a

src_libvsockemu_a_CPPFLAGS = $(AM_CPPFLAGS) $(PCAP_CFLAGS)
src_libvsockemu_a_SOURCES = \
	src/error.c src/error.h \
	src/byteorder.h \
	src/guestmem.c src/guestmem.h \
	src/virtio-ring.h \
	src/virtq.c src/virtq.h \
	src/vsock-proto.h \
	src/pkt.c src/pkt.h \
	src/backend.h \
	src/device.h \
	src/vsockmon.c src/vsockmon.h \
	src/pcap-record.c src/pcap-reader.c src/pcap-reader.h \
	src/pcap-writer.c src/pcap-writer.h
