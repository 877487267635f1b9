# preload/local.mk - libvsockemu-preload.so, the LD_PRELOAD module of `vsockemu run`.
pkglib_LTLIBRARIES = preload/libvsockemu-preload.la
preload_libvsockemu_preload_la_SOURCES = preload/vsp.h preload/vsp-core.c \
	preload/vsp-calls.c preload/vsp-connect.c preload/vsp-opts.c \
	preload/vsp-io.c preload/vsp-epoll.c preload/vsp-send.c preload/vsp-mmsg.c \
	preload/vsp-dev.c \
	src/host/seq-frame.c src/host/seq-frame.h
preload_libvsockemu_preload_la_CPPFLAGS = -I$(top_srcdir)/src/host
# Built without the sanitizers: it is loaded into programs built without
# them, where ASan's runtime could not come first.
preload_libvsockemu_preload_la_CFLAGS = $(PRELOAD_CFLAGS) -fvisibility=default
preload_libvsockemu_preload_la_LDFLAGS = -module -avoid-version -shared
preload_libvsockemu_preload_la_LIBADD = -ldl -lpthread

# `vsockemu run` end to end with unmodified socat (and Python if present).
TESTS += tests/run.sh
EXTRA_DIST += tests/run.sh tests/vsock-test.sh

# make check-vsock-test: Linux's vsock_test through run, both directions
# (tests/vsock-test.sh; 77 = the linux-source-6.1 tarball is missing).
check-vsock-test: emu/vsockemu preload/libvsockemu-preload.la
	top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	    $(SHELL) $(srcdir)/tests/vsock-test.sh
.PHONY: check-vsock-test
clean-local: clean-vsock-test
clean-vsock-test:
	rm -rf $(top_builddir)/tests/vsock_test-6.1
.PHONY: clean-vsock-test
