# src/local.mk - the layered libraries, lowest first. Each layer is a
# folder and a libtool convenience library compiled with only its own folder
# and the layers below it on the include path, so an upward include does not
# build (tests/layering.sh checks the same rule and more in make check).
#
#   virtio <- vsock <- host
#                   <- trace
#                   <- fakeguest (public device headers only)
#                   <- trace + fakeguest <- replay
include $(srcdir)/src/virtio/local.mk
include $(srcdir)/src/vsock/local.mk
include $(srcdir)/src/host/local.mk
include $(srcdir)/src/trace/local.mk
include $(srcdir)/fakeguest/local.mk
include $(srcdir)/src/replay/local.mk

# libvsockemu, the installed library: every layer with a public API, one
# archive and one shared object. Only what the layers' *-api.h headers
# declare is visible, and the link exports exactly libvsockemu.sym
# (tests/exports.sh checks both). The host side is not part of it.
lib_LTLIBRARIES += src/libvsockemu.la
src_libvsockemu_la_SOURCES =
src_libvsockemu_la_LIBADD = src/replay/libreplay.la src/trace/libtrace.la \
	fakeguest/libfakeguest.la src/vsock/libvsock.la \
	src/virtio/libvirtio.la $(PCAP_LIBS) $(ZLIB_LIBS)
src_libvsockemu_la_LDFLAGS = $(AM_LDFLAGS) -no-undefined \
	-version-info $(VSOCKEMU_LT_VERSION) \
	-export-symbols $(srcdir)/src/libvsockemu.sym
EXTRA_src_libvsockemu_la_DEPENDENCIES = $(srcdir)/src/libvsockemu.sym
EXTRA_DIST += src/libvsockemu.sym

# The installed headers: the umbrella, each layer's *-api.h and what those
# list. A user includes <vsockemu/vsockemu.h>.
vsockemuincludedir = $(includedir)/vsockemu
vsockemuinclude_HEADERS = include/vsockemu/vsockemu.h \
	src/virtio/virtio-api.h src/virtio/error.h src/virtio/guestmem.h \
	src/vsock/vsock-api.h src/vsock/vsock-proto.h src/vsock/pkt.h \
	src/vsock/vsock-time.h src/vsock/tap-record.h src/vsock/backend.h \
	src/vsock/credit-policy.h \
	src/vsock/device.h src/vsock/device-info.h src/vsock/device-event.h \
	src/trace/trace-api.h src/trace/vsockmon.h src/trace/pcap-reader.h \
	src/trace/pcap-writer.h \
	fakeguest/guest-api.h fakeguest/sock.h fakeguest/guest.h \
	src/replay/replay-api.h src/replay/replay.h src/replay/replay-run.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = vsockemu.pc

# Link lines of each layer with everything below it, highest first.
VIRTIO_LIBS = src/virtio/libvirtio.la
VSOCK_LIBS = src/vsock/libvsock.la $(VIRTIO_LIBS)
GUEST_LIBS = fakeguest/libfakeguest.la $(VSOCK_LIBS)
HOST_LIBS = src/host/libhost.la $(VSOCK_LIBS)
TRACE_LIBS = src/trace/libtrace.la $(VSOCK_LIBS)
REPLAY_LIBS = src/replay/libreplay.la src/trace/libtrace.la $(GUEST_LIBS)
