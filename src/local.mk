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

# Link lines of each layer with everything below it, highest first.
VIRTIO_LIBS = src/virtio/libvirtio.la
VSOCK_LIBS = src/vsock/libvsock.la $(VIRTIO_LIBS)
GUEST_LIBS = fakeguest/libfakeguest.la $(VSOCK_LIBS)
HOST_LIBS = src/host/libhost.la $(VSOCK_LIBS)
TRACE_LIBS = src/trace/libtrace.la $(VSOCK_LIBS)
REPLAY_LIBS = src/replay/libreplay.la src/trace/libtrace.la $(GUEST_LIBS)
