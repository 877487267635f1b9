# fakeguest/local.mk - the simulated guest driver library.
noinst_LIBRARIES += fakeguest/libfakeguest.a

fakeguest_libfakeguest_a_SOURCES = \
	fakeguest/mem.c fakeguest/mem.h \
	fakeguest/ring.c fakeguest/ring.h \
	fakeguest/badchain.c fakeguest/badchain.h \
	fakeguest/guest-credit.c fakeguest/guest-credit.h \
	fakeguest/inbuf.c fakeguest/inbuf.h \
	fakeguest/txq.c fakeguest/txq.h \
	fakeguest/vsock.c fakeguest/vsock.h fakeguest/vsock-int.h \
	fakeguest/sock.c fakeguest/sock.h \
	fakeguest/sock-proto.c \
	fakeguest/rawguest.c fakeguest/rawguest.h
