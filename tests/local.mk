# tests/local.mk - Check suites (one per module) and program tests.
# A suite is tests/check_NAME.c; add it to CHECK_SUITES, one per line.
noinst_LIBRARIES += tests/libtestcommon.a
tests_libtestcommon_a_SOURCES = tests/common.c tests/common.h \
	tests/wire.c tests/wire.h \
	tests/grig.c tests/grig.h \
	tests/flight.c tests/flight.h \
	tests/pcap-util.c tests/pcap-util.h

CHECK_SUITES = \
	tests/check_guestmem \
	tests/check_virtq \
	tests/check_device \
	tests/check_states \
	tests/check_stream \
	tests/check_credit \
	tests/check_connect_line \
	tests/check_muxer \
	tests/check_gsock \
	tests/check_vsock_test \
	tests/check_gstream \
	tests/check_pcap \
	tests/check_tshark \
	tests/check_vhost_user \
	tests/check_replay

# Shell tests that run the real program.
PROGRAM_TESTS = \
	tests/selftest.sh \
	tests/dump.sh \
	tests/replay.sh \
	tests/replay-vectors.sh \
	tests/serve.sh \
	tests/vectors.sh \
	tests/fuzz.sh \
	tests/fuzz-corpus.sh

# Suites take their sources by name (tests/check_NAME.c) and link this.
LDADD = tests/libtestcommon.a fakeguest/libfakeguest.a \
	src/libvsockemu.a $(CHECK_LIBS) $(PCAP_LIBS) $(ZLIB_LIBS) -lpthread

# Helpers the program tests run (not tests themselves).
check_PROGRAMS += tests/slow-reader tests/gen-vectors

check_PROGRAMS += $(CHECK_SUITES)
TESTS += $(CHECK_SUITES) $(PROGRAM_TESTS)
EXTRA_DIST += $(PROGRAM_TESTS) tests/lib.sh
# A failing device test leaves tests/TEST-PID.pcap (tests/flight.h).
TESTS_ENVIRONMENT = top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	VSE_FLIGHT_DIR=$(abs_top_builddir)/tests
CLEANFILES += tests/test_*.pcap tests/flight-*.ring

# make bench: performance figures, never part of make check.
EXTRA_PROGRAMS = tests/bench/bench
tests_bench_bench_SOURCES = tests/bench/bench.c
tests_bench_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
CLEANFILES += tests/bench/bench bench.json
EXTRA_DIST += tests/bench/run.sh
bench: tests/bench/bench tests/gen-vectors emu/vsockemu
	top_builddir=$(top_builddir) $(SHELL) $(srcdir)/tests/bench/run.sh $(BENCH_FLAGS)
.PHONY: bench

# make check-qemu: a real Linux guest under TCG against `vsockemu
# vhost-user` (needs root-installed qemu-system-x86, busybox-static, socat;
# fetches Debian's kernel package). Not part of make check: three guest
# boots, ~25 s here.
EXTRA_DIST += tests/qemu/check-qemu.sh tests/qemu/guest-init.sh \
    tests/qemu/seqpacket-echo.c tests/qemu/half-close.c
check-qemu: emu/vsockemu
	top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	    $(SHELL) $(srcdir)/tests/qemu/check-qemu.sh
.PHONY: check-qemu
