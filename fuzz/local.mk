# fuzz/local.mk - the structure-aware fuzzer: action streams, the rig, the oracle.
noinst_LIBRARIES += fuzz/libvsefuzz.a

fuzz_libvsefuzz_a_SOURCES = \
	fuzz/fuzz.h fuzz/fuzz-int.h fuzz/rig.h \
	fuzz/exec.c fuzz/oracle.c fuzz/gen.c fuzz/corpus.c
