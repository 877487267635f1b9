# tests/local.mk - Check suites (one per module) and program tests.
noinst_LIBRARIES += tests/libtestcommon.a
tests_libtestcommon_a_SOURCES = tests/common.c tests/common.h
tests_libtestcommon_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

TEST_LDADD = tests/libtestcommon.a fakeguest/libfakeguest.a \
	src/libvsockemu.a $(CHECK_LIBS) $(PCAP_LIBS) -lpthread
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

check_PROGRAMS += tests/check_guestmem tests/check_virtq
tests_check_guestmem_SOURCES = tests/check_guestmem.c
tests_check_guestmem_CFLAGS = $(TEST_CFLAGS)
tests_check_guestmem_LDADD = $(TEST_LDADD)
tests_check_virtq_SOURCES = tests/check_virtq.c
tests_check_virtq_CFLAGS = $(TEST_CFLAGS)
tests_check_virtq_LDADD = $(TEST_LDADD)

# The capture suites write and read pcap files through libpcap directly too.
PCAP_TEST_SOURCES = tests/pcap-util.c tests/pcap-util.h
PCAP_TEST_CFLAGS = $(TEST_CFLAGS) $(PCAP_CFLAGS)

check_PROGRAMS += tests/check_pcap tests/check_tshark
tests_check_pcap_SOURCES = tests/check_pcap.c $(PCAP_TEST_SOURCES)
tests_check_pcap_CFLAGS = $(PCAP_TEST_CFLAGS)
tests_check_pcap_LDADD = $(TEST_LDADD)
tests_check_tshark_SOURCES = tests/check_tshark.c $(PCAP_TEST_SOURCES)
tests_check_tshark_CFLAGS = $(PCAP_TEST_CFLAGS)
tests_check_tshark_LDADD = $(TEST_LDADD)

TESTS += tests/check_guestmem tests/check_virtq tests/selftest.sh \
	tests/check_pcap tests/check_tshark tests/dump.sh
EXTRA_DIST += tests/selftest.sh tests/dump.sh
TESTS_ENVIRONMENT = top_builddir=$(top_builddir) top_srcdir=$(top_srcdir)
