# src/virtio/local.mk - layer 1, the virtio transport: guest memory, the split
# ring layout, the one chain walker, and the error table every layer uses.
noinst_LTLIBRARIES += src/virtio/libvirtio.la

# What a file of this layer may include: itself only.
VIRTIO_CPPFLAGS = -I$(top_srcdir)/src/virtio

src_virtio_libvirtio_la_SOURCES = \
	src/virtio/virtio-api.h \
	src/virtio/blockpool.c src/virtio/blockpool.h \
	src/virtio/error.c src/virtio/error.h \
	src/virtio/guestmem.c src/virtio/guestmem.h \
	src/virtio/virtio-ring.h \
	src/virtio/virtq.c src/virtio/virtq.h
src_virtio_libvirtio_la_CPPFLAGS = $(VIRTIO_CPPFLAGS) $(LAYER_CPPFLAGS) \
	-include $(top_srcdir)/src/virtio/virtio-api.h
src_virtio_libvirtio_la_CFLAGS = $(LAYER_CFLAGS)
