# src/trace/local.mk - layer 3, traces: the af_vsockmon_hdr codec and
# LINKTYPE_VSOCK pcap files, written from the device's tap and read as hostile.
noinst_LTLIBRARIES += src/trace/libtrace.la

TRACE_CPPFLAGS = -I$(top_srcdir)/src/trace $(VSOCK_CPPFLAGS)

src_trace_libtrace_la_SOURCES = \
	src/trace/trace-api.h \
	src/trace/vsockmon.c src/trace/vsockmon.h \
	src/trace/pcap-record.c src/trace/pcap-reader.c src/trace/pcap-reader.h \
	src/trace/pcap-input.c src/trace/pcap-input.h \
	src/trace/pcap-writer.c src/trace/pcap-writer.h
src_trace_libtrace_la_CPPFLAGS = $(TRACE_CPPFLAGS) $(LAYER_CPPFLAGS) \
	-include $(top_srcdir)/src/trace/trace-api.h $(PCAP_CFLAGS) $(ZLIB_CFLAGS)
src_trace_libtrace_la_CFLAGS = $(LAYER_CFLAGS)
