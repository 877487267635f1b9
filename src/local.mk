# src/local.mk - the device-model library (no I/O, injected clock) and its capture files.
noinst_LIBRARIES += src/libvsockemu.a

src_libvsockemu_a_SOURCES = \
	src/error.c src/error.h \
	src/byteorder.h \
	src/guestmem.c src/guestmem.h \
	src/virtio-ring.h \
	src/virtq.c src/virtq.h \
	src/vsock-proto.h \
	src/pkt.c src/pkt.h \
	src/backend.h \
	src/credit.c src/credit.h \
	src/txbuf.c src/txbuf.h \
	src/conn-list.c src/conntab.c \
	src/device.c src/device.h src/device-int.h src/device-profile.c \
	src/device-tx.c src/device-rx.c \
	src/backend-script.c src/backend-script.h \
	src/connect-line.c src/connect-line.h \
	src/backend-muxer.c src/backend-muxer.h \
	src/uds-path.c src/uds-path.h \
	src/vhost-user.c src/vhost-user.h \
	src/vhost-user-guard.c src/vhost-user-guard.h \
	src/vsockmon.c src/vsockmon.h \
	src/pcap-record.c src/pcap-reader.c src/pcap-reader.h \
	src/pcap-input.c src/pcap-input.h \
	src/pcap-writer.c src/pcap-writer.h \
	src/trace-format.c src/trace-format.h \
	src/replay.c src/replay.h src/replay-int.h \
	src/replay-conn.c src/replay-stream.c src/replay-trace.c \
	src/replay-device.c src/replay-compare.c src/replay-file.c \
	src/replay-script.c src/replay-report.c src/replay-expect.c
