# tests/local.mk - Check suites (one per module) and program tests.
# A suite is tests/check_NAME.c; add it to CHECK_SUITES, one per line.
# Fixtures: libtestcommon.a needs only the core and the fake guest;
# libtesttrace.a (pcaps) the trace layer too.
noinst_LIBRARIES += tests/libtestcommon.a tests/libtesttrace.a
tests_libtestcommon_a_SOURCES = tests/common.c tests/common.h \
	tests/wire.c tests/wire.h \
	tests/grig.c tests/grig.h \
	tests/flight.c tests/flight.h tests/flight-int.h
tests_libtesttrace_a_SOURCES = tests/flight-collect.c \
	tests/pcap-util.c tests/pcap-util.h

CHECK_SUITES = \
	tests/check_guestmem \
	tests/check_virtq \
	tests/check_device \
	tests/check_conntab \
	tests/check_device_info \
	tests/check_device_event \
	tests/check_states \
	tests/check_stream \
	tests/check_credit \
	tests/check_pools \
	tests/check_connect_line \
	tests/check_muxer \
	tests/check_seq_frame \
	tests/check_gsock \
	tests/check_guest \
	tests/check_vsock_test \
	tests/check_gstream \
	tests/check_pcap \
	tests/check_tshark \
	tests/check_vhost_user \
	tests/check_replay \
	tests/check_replay_run \
	tests/check_replay_live \
	tests/check_replay_cut \
	tests/check_gapps \
	tests/check_gthread \
	tests/check_simguest \
	tests/check_ladder \
	tests/check_event_log \
	tests/check_gfaults \
	tests/check_control \
	tests/check_siblings

# Shell tests that run the real program.
PROGRAM_TESTS = \
	tests/layering.sh \
	tests/exports.sh \
	tests/api.sh \
	tests/selftest.sh \
	tests/dump.sh \
	tests/ladder.sh \
	tests/replay.sh \
	tests/replay-vectors.sh \
	tests/replay-live.sh tests/replay-live-guest.sh \
	tests/options.sh \
	tests/progress.sh \
	tests/serve.sh \
	tests/events.sh \
	tests/control.sh \
	tests/serve-leak.sh \
	tests/signals.sh \
	tests/vectors.sh \
	tests/fuzz.sh \
	tests/fuzz-corpus.sh \
	tests/vhost-user.sh \
	tests/refuse.sh \
	tests/ready.sh \
	tests/vhost-user-vm.sh \
	tests/serve-vm.sh \
	tests/bench-rows.sh

# Suites take their sources by name (tests/check_NAME.c) and link the
# libraries of the highest layer they test. By default that is the core:
# transport and device, with the fake guest to drive them, and no capture
# library (tests/layering.sh checks the CORE_SUITES' binaries).
CORE_TEST_LDADD = tests/libtestcommon.a $(GUEST_LIBS) $(CHECK_LIBS) \
	-lpthread
HOST_TEST_LDADD = tests/libtestcommon.a src/host/libhost.la $(GUEST_LIBS) \
	$(CHECK_LIBS) -lpthread
TRACE_TEST_LDADD = tests/libtesttrace.a tests/libtestcommon.a \
	src/trace/libtrace.la $(GUEST_LIBS) $(PCAP_LIBS) $(ZLIB_LIBS) \
	$(CHECK_LIBS) -lpthread
REPLAY_TEST_LDADD = tests/libtesttrace.a tests/libtestcommon.a \
	$(REPLAY_LIBS) $(PCAP_LIBS) $(ZLIB_LIBS) $(CHECK_LIBS) -lpthread
LDADD = $(CORE_TEST_LDADD)
CORE_SUITES = tests/check_guestmem tests/check_virtq tests/check_device \
	tests/check_conntab \
	tests/check_device_info tests/check_device_event tests/check_states tests/check_stream \
	tests/check_credit tests/check_gsock tests/check_guest \
	tests/check_vsock_test tests/check_gstream tests/check_pools \
	tests/check_gfaults
tests_check_connect_line_LDADD = $(HOST_TEST_LDADD)
tests_check_muxer_LDADD = $(HOST_TEST_LDADD)
tests_check_seq_frame_LDADD = $(HOST_TEST_LDADD)
# The allocation fault seam of test_muxer_new_error_codes.
tests_check_muxer_LDFLAGS = -Wl,--wrap=realloc
tests_check_vhost_user_LDADD = $(HOST_TEST_LDADD)
tests_check_pcap_LDADD = $(TRACE_TEST_LDADD)
tests_check_tshark_LDADD = $(TRACE_TEST_LDADD)
tests_check_replay_LDADD = $(REPLAY_TEST_LDADD)
tests_check_replay_run_LDADD = $(REPLAY_TEST_LDADD)
tests_check_replay_live_LDADD = $(REPLAY_TEST_LDADD)
tests_check_replay_cut_LDADD = $(REPLAY_TEST_LDADD)

# doc/examples/echo.c as a library user builds it: only the public headers
# (include/ and the public layers' folders, never host/) and only the
# installed library, shared when shared libraries are built (tests/api.sh).
check_PROGRAMS += tests/api-echo
tests_api_echo_SOURCES = doc/examples/echo.c
tests_api_echo_CPPFLAGS = -I$(top_srcdir)/include -I$(top_srcdir)/src/virtio \
	-I$(top_srcdir)/src/vsock -I$(top_srcdir)/src/trace \
	-I$(top_srcdir)/fakeguest -I$(top_srcdir)/src/replay
tests_api_echo_LDADD = src/libvsockemu.la

# Helpers the program tests run (not tests themselves); flight-pcap turns
# a failed test's flight ring into a pcap (tests/flight.h).
check_PROGRAMS += tests/slow-reader tests/gen-vectors tests/flight-pcap \
	tests/vhu-frontend tests/seqpacket-peer
tests_gen_vectors_LDADD = $(REPLAY_TEST_LDADD)
tests_flight_pcap_LDADD = $(TRACE_TEST_LDADD)

# dump --html's and replay --html's ladder model, from emu/.
tests_check_ladder_SOURCES = tests/check_ladder.c emu/ladder.c \
	emu/ladder-html.c
tests_check_ladder_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_ladder_LDADD = $(TRACE_TEST_LDADD)

# Sibling VMs' routing, built from emu/ into its suite.
tests_check_siblings_SOURCES = tests/check_siblings.c emu/vm-group.c \
	emu/vm-group.h
tests_check_siblings_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
# serve's guest services, built from emu/ into their suite.
tests_check_gapps_SOURCES = tests/check_gapps.c emu/guest-apps.c \
	emu/bridge-gate.c \
	emu/loop.c emu/serve-stats.c
tests_check_gapps_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_gapps_LDADD = $(HOST_TEST_LDADD)

# The guest on its own thread, built from emu/ into its suite.
tests_check_gthread_SOURCES = tests/check_gthread.c emu/guest-thread.c \
	emu/wakeup.c emu/cpu-spare.c \
	emu/loop.c emu/sim-guest.c
tests_check_gthread_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_gthread_LDADD = $(CORE_TEST_LDADD)

# serve's settle, built from emu/ into its suite.
tests_check_simguest_SOURCES = tests/check_simguest.c emu/sim-guest.c
tests_check_simguest_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_simguest_LDADD = $(CORE_TEST_LDADD)

# The suites with two threads on the rings, under ThreadSanitizer:
# ./configure --enable-sanitizers=thread && make check-tsan (.ci/run).
TSAN_SUITES = tests/check_gthread tests/check_virtq
check-tsan: $(TSAN_SUITES)
	@for t in $(TSAN_SUITES); do \
	    echo "  TSAN     $$t"; \
	    TSAN_OPTIONS="halt_on_error=1 $$TSAN_OPTIONS" ./$$t || exit 1; \
	done
.PHONY: check-tsan

# The event log (--log, -v), built from emu/ into its suite.
tests_check_event_log_SOURCES = tests/check_event_log.c emu/event-log.c \
	emu/json-escape.c
tests_check_event_log_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_event_log_LDADD = $(HOST_TEST_LDADD)

# the --control socket, built from emu/ into its suite.
tests_check_control_SOURCES = tests/check_control.c emu/control.c \
	emu/vhu-control.c emu/loop.c emu/options.c
tests_check_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/emu
tests_check_control_LDADD = $(HOST_TEST_LDADD)

check_PROGRAMS += $(CHECK_SUITES)
TESTS += $(CHECK_SUITES) $(PROGRAM_TESTS)
EXTRA_DIST += $(PROGRAM_TESTS) tests/lib.sh tests/layers.sh \
	tests/replay-schema.jq tests/events-schema.jq tests/svc-unready.py \
	tests/ready-check.py tests/control-client.py tests/live-host.py \
	tests/live-guest.py \
	tests/clusterfuzzlite.sh .clusterfuzzlite/project.yaml \
	.clusterfuzzlite/Dockerfile .clusterfuzzlite/build.sh \
	.clusterfuzzlite/vsockemu.dict
# A failing device test leaves tests/TEST-PID.pcap (tests/flight.h).
TESTS_ENVIRONMENT = top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	VSE_FLIGHT_DIR=$(abs_top_builddir)/tests \
	CORE_SUITES="$(CORE_SUITES)" \
	PUBLIC_HEADERS="$(vsockemuinclude_HEADERS)"
CLEANFILES += tests/test_*.pcap tests/flight-*.ring

# make installcheck (and so distcheck): the installed library, headers and
# vsockemu.pc as a user's build sees them (tests/installcheck.sh).
EXTRA_DIST += tests/installcheck.sh doc/examples/echo.c
installcheck-local:
	DESTDIR="$(DESTDIR)" prefix="$(prefix)" libdir="$(libdir)" \
	    includedir="$(includedir)" CC="$(CC)" PKG_CONFIG="$(PKG_CONFIG)" \
	    LDFLAGS="$(VSE_LDFLAGS)" top_srcdir="$(top_srcdir)" \
	    $(SHELL) $(srcdir)/tests/installcheck.sh

# make bench: performance figures, never part of make check; built by it
# all the same: tests/bench-rows.sh checks its rows (bench --quick).
check_PROGRAMS += tests/bench/bench
tests_bench_bench_SOURCES = tests/bench/bench.c tests/bench/bench.h \
	tests/bench/bench-stream.c tests/bench/bench-pair.c \
	tests/bench/bench-thread-floor.c \
	tests/bench/bench-packet.c \
	emu/guest-thread.c emu/wakeup.c emu/cpu-spare.c emu/loop.c \
	emu/sim-guest.c
tests_bench_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/emu
tests_bench_bench_LDADD = $(HOST_TEST_LDADD)
CLEANFILES += tests/bench/bench bench.json
EXTRA_DIST += tests/bench/run.sh tests/bench/run-bench.sh
bench: tests/bench/bench tests/gen-vectors emu/vsockemu
	top_builddir=$(top_builddir) $(SHELL) $(srcdir)/tests/bench/run.sh $(BENCH_FLAGS)
.PHONY: bench
# make bench's replay rows (tests/bench/replay-bench.sh, called by run.sh).
# A check program too: tests/bench-rows.sh runs the rows on a small trace.
check_PROGRAMS += tests/bench/replay-bench
tests_bench_replay_bench_SOURCES = tests/bench/replay-bench.c
tests_bench_replay_bench_LDADD = $(PCAP_LIBS)
EXTRA_DIST += tests/bench/replay-bench.sh
# Every report of every bundled trace, to diff two builds (doc/performance.md).
EXTRA_DIST += tests/bench/replay-reports.sh
bench: tests/bench/replay-bench

# make soak: serve under churn, then every fd, socket, service, slot and
# byte of RSS must come back (tests/soak.sh). Not part of make check.
SOAK_SECONDS = 60
EXTRA_DIST += tests/soak.sh
# Its clients and talking service; built by make check, so always compiled.
check_PROGRAMS += tests/soak-client
soak: emu/vsockemu tests/soak-client
	SOAK_SECONDS=$(SOAK_SECONDS) top_builddir=$(top_builddir) \
	    top_srcdir=$(top_srcdir) $(SHELL) $(srcdir)/tests/soak.sh
.PHONY: soak

# make check-qemu: a real Linux guest under TCG against `vsockemu
# vhost-user` (needs root-installed qemu-system-x86, busybox-static, socat;
# fetches Debian's kernel package). Not part of make check: three guest
# boots and a fourth for vsock_test, ~70 s here.
EXTRA_DIST += tests/qemu/check-qemu.sh tests/qemu/guest-init.sh \
    tests/qemu/seqpacket-echo.c tests/qemu/half-close.c \
    tests/qemu/vsock-test-qemu.sh
check-qemu: emu/vsockemu
	top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	    $(SHELL) $(srcdir)/tests/qemu/check-qemu.sh
.PHONY: check-qemu
