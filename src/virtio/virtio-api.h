/* virtio-api.h - the virtio transport's public headers: the error table and guest memory. */
#ifndef VSE_VIRTIO_API_H
#define VSE_VIRTIO_API_H

/* What these headers declare, libvsockemu exports (include/vsockemu/vsockemu.h). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#include "error.h"
#include "guestmem.h"

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif
