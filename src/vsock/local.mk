# src/vsock/local.mk - layer 2, the vsock device: header codec, credit,
# connections, the device, the backend ops table, the scripted host. No
# sockets, no files, no clock: time is an argument.
noinst_LTLIBRARIES += src/vsock/libvsock.la

VSOCK_CPPFLAGS = -I$(top_srcdir)/src/vsock $(VIRTIO_CPPFLAGS)

src_vsock_libvsock_la_SOURCES = \
	src/vsock/vsock-api.h \
	src/vsock/byteorder.h \
	src/vsock/vsock-proto.h \
	src/vsock/pkt.c src/vsock/pkt.h \
	src/vsock/vsock-time.h src/vsock/tap-record.h \
	src/vsock/backend.h \
	src/vsock/credit.c src/vsock/credit.h src/vsock/credit-policy.h \
	src/vsock/txbuf.c src/vsock/txbuf.h \
	src/vsock/conn-list.c src/vsock/conntab.c src/vsock/port-hash.h \
	src/vsock/device.c src/vsock/device.h src/vsock/device-int.h \
	src/vsock/device-profile.c \
	src/vsock/device-tx.c src/vsock/device-rx.c src/vsock/device-close.c \
	src/vsock/device-relay.c \
	src/vsock/device-info.c src/vsock/device-info.h \
	src/vsock/device-event.c src/vsock/device-event.h \
	src/vsock/backend-script.c src/vsock/backend-script.h
src_vsock_libvsock_la_CPPFLAGS = $(VSOCK_CPPFLAGS) $(LAYER_CPPFLAGS) \
	-include $(top_srcdir)/src/vsock/vsock-api.h
src_vsock_libvsock_la_CFLAGS = $(LAYER_CFLAGS)
