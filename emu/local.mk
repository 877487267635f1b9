# emu/local.mk - the vsockemu program.
bin_PROGRAMS += emu/vsockemu

emu_vsockemu_SOURCES = \
	emu/main.c emu/vsockemu.h emu/commands.c \
	emu/options.c emu/options.h emu/progress.c emu/progress.h \
	emu/cmd-selftest.c \
	emu/loop.c emu/loop.h \
	emu/capture.c emu/capture.h \
	emu/host-side.c emu/host-side.h \
	emu/event-log.c emu/event-log.h emu/json-escape.c emu/json-escape.h \
	emu/cmd-serve.c emu/guest-apps.c emu/guest-apps.h \
	emu/ready.c emu/ready.h \
	emu/bridge-gate.c emu/bridge-gate.h \
	emu/serve-stats.c emu/serve-stats.h \
	emu/control.c emu/control.h \
	emu/serve-control.c emu/serve-control.h \
	emu/cmd-ctl.c \
	emu/sim-guest.c emu/sim-guest.h emu/vm-serve.c emu/vm-serve.h \
	emu/guest-thread.c emu/guest-thread.h emu/wakeup.c emu/wakeup.h \
	emu/cpu-spare.c emu/cpu-spare.h \
	emu/cmd-dump.c emu/ladder.c emu/ladder.h \
	emu/ladder-html.c emu/ladder-html.h \
	emu/cmd-vhost-user.c emu/vhu-control.c emu/vhu-control.h \
	emu/vm-group.c emu/vm-group.h \
	emu/vm-spec.c emu/vm-spec.h \
	emu/cmd-replay.c emu/replay-jobs.c emu/replay-jobs.h \
	emu/replay-html.c emu/replay-html.h \
	emu/replay-live.c emu/replay-live.h \
	emu/replay-live-guest.c emu/live-pace.c emu/live-pace.h \
	emu/cmd-fuzz.c \
	emu/cmd-run.c \
	emu/guest-endpoint.c emu/guest-endpoint.h
emu_vsockemu_CPPFLAGS = $(AM_CPPFLAGS) -DPKGLIBDIR='"$(pkglibdir)"'
# The one program linked with -flto (configure --enable-lto): the others
# link with -fno-lto (AM_LDFLAGS).
emu_vsockemu_LDFLAGS = $(VSE_LTO_LDFLAGS)
emu_vsockemu_LDADD = fuzz/libvsefuzz.a src/host/libhost.la $(REPLAY_LIBS) \
	$(PCAP_LIBS) $(ZLIB_LIBS) -lpthread
