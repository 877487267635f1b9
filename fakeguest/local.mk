# fakeguest/local.mk - layer 3, the simulated Linux guest: its RAM, the driver
# side of the rings and a Linux-like vsock socket stack. It sees only the
# transport and the device's public headers.
noinst_LTLIBRARIES += fakeguest/libfakeguest.la

GUEST_CPPFLAGS = -I$(top_srcdir)/fakeguest $(VSOCK_CPPFLAGS)

fakeguest_libfakeguest_la_SOURCES = \
	fakeguest/guest-api.h \
	fakeguest/mem.c fakeguest/mem.h \
	fakeguest/ring.c fakeguest/ring.h \
	fakeguest/queues.c fakeguest/queues.h \
	fakeguest/badchain.c fakeguest/badchain.h \
	fakeguest/guest-credit.c fakeguest/guest-credit.h \
	fakeguest/inbuf.c fakeguest/inbuf.h \
	fakeguest/txq.c fakeguest/txq.h \
	fakeguest/vsock.c fakeguest/vsock.h fakeguest/vsock-int.h \
	fakeguest/sock.c fakeguest/sock.h \
	fakeguest/sock-proto.c \
	fakeguest/faults.c fakeguest/faults.h \
	fakeguest/guest.c fakeguest/guest.h
fakeguest_libfakeguest_la_CPPFLAGS = $(GUEST_CPPFLAGS) $(LAYER_CPPFLAGS) \
	-include $(top_srcdir)/fakeguest/guest-api.h
fakeguest_libfakeguest_la_CFLAGS = $(LAYER_CFLAGS)
