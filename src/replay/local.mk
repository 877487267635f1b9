# src/replay/local.mk - layer 4, replay: verifies the device against a
# recorded trace, with the raw ring driver that puts its frames on the rings.
noinst_LTLIBRARIES += src/replay/libreplay.la

REPLAY_CPPFLAGS = -I$(top_srcdir)/src/replay -I$(top_srcdir)/src/trace \
	$(GUEST_CPPFLAGS)

src_replay_libreplay_la_SOURCES = \
	src/replay/replay-api.h \
	src/replay/replay.c src/replay/replay.h src/replay/replay-int.h \
	src/replay/replay-conn.c src/replay/replay-stream.c \
	src/replay/replay-trace.c src/replay/replay-device.c \
	src/replay/replay-compare.c src/replay/replay-file.c \
	src/replay/replay-script.c src/replay/replay-report.c \
	src/replay/replay-expect.c \
	src/replay/rawguest.c src/replay/rawguest.h \
	src/replay/replay-run.c src/replay/replay-run.h \
	src/replay/replay-rxsize.c src/replay/replay-cut.c \
	src/replay/replay-eom.c \
	src/replay/replay-divergence.c src/replay/replay-divergence.h \
	src/replay/live-trace.h src/replay/live-trace-int.h \
	src/replay/replay-live-trace.c src/replay/replay-live-compare.c \
	src/replay/replay-live-play.c
src_replay_libreplay_la_CPPFLAGS = $(REPLAY_CPPFLAGS) $(LAYER_CPPFLAGS) \
	-include $(top_srcdir)/src/replay/replay-api.h
src_replay_libreplay_la_CFLAGS = $(LAYER_CFLAGS)
