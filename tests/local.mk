# tests/local.mk - Check suites (one per module) and program tests.
noinst_LIBRARIES += tests/libtestcommon.a
tests_libtestcommon_a_SOURCES = tests/common.c tests/common.h \
	tests/wire.c tests/wire.h
tests_libtestcommon_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

TEST_LDADD = tests/libtestcommon.a fakeguest/libfakeguest.a \
	src/libvsockemu.a $(CHECK_LIBS) $(PCAP_LIBS) -lpthread
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

check_PROGRAMS += tests/check_guestmem tests/check_virtq tests/check_device \
	tests/check_states tests/check_stream tests/check_credit \
	tests/check_connect_line tests/check_muxer
tests_check_guestmem_SOURCES = tests/check_guestmem.c
tests_check_guestmem_CFLAGS = $(TEST_CFLAGS)
tests_check_guestmem_LDADD = $(TEST_LDADD)
tests_check_virtq_SOURCES = tests/check_virtq.c
tests_check_virtq_CFLAGS = $(TEST_CFLAGS)
tests_check_virtq_LDADD = $(TEST_LDADD)

TESTS += tests/check_guestmem tests/check_virtq tests/check_device \
	tests/check_states tests/check_stream tests/check_credit \
	tests/check_connect_line tests/check_muxer tests/selftest.sh
EXTRA_DIST += tests/selftest.sh
TESTS_ENVIRONMENT = top_builddir=$(top_builddir) top_srcdir=$(top_srcdir)
tests_check_device_SOURCES = tests/check_device.c
tests_check_device_CFLAGS = $(TEST_CFLAGS)
tests_check_device_LDADD = $(TEST_LDADD)
tests_check_states_SOURCES = tests/check_states.c
tests_check_states_CFLAGS = $(TEST_CFLAGS)
tests_check_states_LDADD = $(TEST_LDADD)
tests_check_stream_SOURCES = tests/check_stream.c
tests_check_stream_CFLAGS = $(TEST_CFLAGS)
tests_check_stream_LDADD = $(TEST_LDADD)
tests_check_credit_SOURCES = tests/check_credit.c
tests_check_credit_CFLAGS = $(TEST_CFLAGS)
tests_check_credit_LDADD = $(TEST_LDADD)
tests_check_connect_line_SOURCES = tests/check_connect_line.c
tests_check_connect_line_CFLAGS = $(TEST_CFLAGS)
tests_check_connect_line_LDADD = $(TEST_LDADD)
tests_check_muxer_SOURCES = tests/check_muxer.c
tests_check_muxer_CFLAGS = $(TEST_CFLAGS)
tests_check_muxer_LDADD = $(TEST_LDADD)
