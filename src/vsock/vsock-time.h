/* vsock-time.h - injected time: nanoseconds the caller passes in; nothing here reads a clock. */
#ifndef VSE_VSOCK_TIME_H
#define VSE_VSOCK_TIME_H

#include <stdint.h>

/* Nanoseconds of injected time; the device never reads a clock itself. */
typedef uint64_t vsock_time_t;
#define VSOCK_NS_PER_SEC	UINT64_C(1000000000)
#define VSOCK_TIME_NEVER	UINT64_MAX

#endif
