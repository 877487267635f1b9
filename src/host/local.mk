# src/host/local.mk - layer 3, the host side: the Firecracker / Cloud
# Hypervisor AF_UNIX muxer and its CONNECT line, socket paths, vhost-user.
noinst_LTLIBRARIES += src/host/libhost.la

HOST_CPPFLAGS = -I$(top_srcdir)/src/host $(VSOCK_CPPFLAGS)

src_host_libhost_la_SOURCES = \
	src/host/connect-line.c src/host/connect-line.h \
	src/host/seq-frame.c src/host/seq-frame.h src/host/peer-line.h \
	src/host/backend-muxer.c src/host/backend-muxer.h \
	src/host/uds-path.c src/host/uds-path.h \
	src/host/vhost-user.c src/host/vhost-user.h \
	src/host/vhost-user-guard.c src/host/vhost-user-guard.h
src_host_libhost_la_CPPFLAGS = $(HOST_CPPFLAGS) $(LAYER_CPPFLAGS)
src_host_libhost_la_CFLAGS = $(LAYER_CFLAGS)
