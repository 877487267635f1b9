# preload/local.mk - libvsockemu-preload.so, the LD_PRELOAD module of `vsockemu run`.
pkglib_LTLIBRARIES = preload/libvsockemu-preload.la
preload_libvsockemu_preload_la_SOURCES = preload/vsp.h preload/vsp-core.c \
	preload/vsp-calls.c preload/vsp-connect.c preload/vsp-opts.c \
	preload/vsp-io.c
# Built without the sanitizers: it is loaded into programs built without
# them, where ASan's runtime could not come first.
preload_libvsockemu_preload_la_CFLAGS = $(PRELOAD_CFLAGS) -fvisibility=default
preload_libvsockemu_preload_la_LDFLAGS = -module -avoid-version -shared
preload_libvsockemu_preload_la_LIBADD = -ldl -lpthread
