# src/local.mk - the device-model library (no I/O, injected clock).
noinst_LIBRARIES += src/libvsockemu.a

src_libvsockemu_a_SOURCES = \
	src/error.c src/error.h \
	src/guestmem.c src/guestmem.h \
	src/virtio-ring.h \
	src/virtq.c src/virtq.h \
	src/vsock-proto.h \
	src/pkt.c src/pkt.h \
	src/backend.h
