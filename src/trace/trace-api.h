/* trace-api.h - the trace layer's public headers: vsockmon records, pcap reader and writer. */
#ifndef VSE_TRACE_API_H
#define VSE_TRACE_API_H

/* What these headers declare, libvsockemu exports (include/vsockemu/vsockemu.h). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#include "vsockmon.h"
#include "pcap-reader.h"
#include "pcap-writer.h"

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif
