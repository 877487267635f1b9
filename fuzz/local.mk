# fuzz/local.mk - the structure-aware fuzzer: action streams, the rig, the oracle.
noinst_LIBRARIES += fuzz/libvsefuzz.a

fuzz_libvsefuzz_a_SOURCES = \
	fuzz/fuzz.h fuzz/fuzz-int.h fuzz/rig.h \
	fuzz/exec.c fuzz/oracle.c fuzz/gen.c fuzz/corpus.c

# Harnesses: bytes in, abort() on a violated property. Each builds as a
# plain program that runs a corpus (fuzz/onefile.c), which make check runs
# over tests/fuzz/corpus/<target>/, and with --enable-fuzzing (clang) as a
# libFuzzer target fuzz/libfuzzer-<target>.
FUZZ_LDADD = fuzz/libvsefuzz.a src/host/libhost.la $(REPLAY_LIBS) \
	$(PCAP_LIBS) $(ZLIB_LIBS)

check_PROGRAMS += fuzz/onefile-virtq fuzz/onefile-pkt fuzz/onefile-pcap \
	fuzz/onefile-connect fuzz/onefile-device
fuzz_onefile_virtq_SOURCES = fuzz/harness-virtq.c fuzz/onefile.c fuzz/harness.h
fuzz_onefile_virtq_LDADD = $(FUZZ_LDADD)
fuzz_onefile_pkt_SOURCES = fuzz/harness-pkt.c fuzz/onefile.c fuzz/harness.h
fuzz_onefile_pkt_LDADD = $(FUZZ_LDADD)
fuzz_onefile_pcap_SOURCES = fuzz/harness-pcap.c fuzz/onefile.c fuzz/harness.h
fuzz_onefile_pcap_LDADD = $(FUZZ_LDADD)
fuzz_onefile_connect_SOURCES = fuzz/harness-connect.c fuzz/onefile.c \
	fuzz/harness.h
fuzz_onefile_connect_LDADD = $(FUZZ_LDADD)
fuzz_onefile_device_SOURCES = fuzz/harness-device.c fuzz/onefile.c \
	fuzz/harness.h
fuzz_onefile_device_LDADD = $(FUZZ_LDADD)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/libfuzzer-virtq fuzz/libfuzzer-pkt \
	fuzz/libfuzzer-pcap fuzz/libfuzzer-connect fuzz/libfuzzer-device
fuzz_libfuzzer_virtq_SOURCES = fuzz/harness-virtq.c fuzz/harness.h
fuzz_libfuzzer_virtq_LDFLAGS = -fsanitize=fuzzer
fuzz_libfuzzer_virtq_LDADD = $(FUZZ_LDADD)
fuzz_libfuzzer_pkt_SOURCES = fuzz/harness-pkt.c fuzz/harness.h
fuzz_libfuzzer_pkt_LDFLAGS = -fsanitize=fuzzer
fuzz_libfuzzer_pkt_LDADD = $(FUZZ_LDADD)
fuzz_libfuzzer_pcap_SOURCES = fuzz/harness-pcap.c fuzz/harness.h
fuzz_libfuzzer_pcap_LDFLAGS = -fsanitize=fuzzer
fuzz_libfuzzer_pcap_LDADD = $(FUZZ_LDADD)
fuzz_libfuzzer_connect_SOURCES = fuzz/harness-connect.c fuzz/harness.h
fuzz_libfuzzer_connect_LDFLAGS = -fsanitize=fuzzer
fuzz_libfuzzer_connect_LDADD = $(FUZZ_LDADD)
fuzz_libfuzzer_device_SOURCES = fuzz/harness-device.c fuzz/harness.h
fuzz_libfuzzer_device_LDFLAGS = -fsanitize=fuzzer
fuzz_libfuzzer_device_LDADD = $(FUZZ_LDADD)
endif

EXTRA_DIST += tests/fuzz/corpus
