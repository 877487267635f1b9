#!/bin/bash -eu
# build.sh - builds every libFuzzer harness (fuzz/harness-*.c) the way
# OSS-Fuzz and ClusterFuzzLite invoke it: $CC $CFLAGS ... $LIB_FUZZING_ENGINE,
# each fuzzer into $OUT with its seed corpus (tests/fuzz/corpus/TARGET as
# TARGET's _seed_corpus.zip), a dictionary and an .options file. Run from
# the source tree ($SRC/vsockemu); tests/clusterfuzzlite.sh runs it here.

: "${CC:?}" "${CFLAGS:?}" "${LIB_FUZZING_ENGINE:?}" "${OUT:?}" "${WORK:?}"
SRC_DIR=$(pwd)

# libpcap: a static one from $SRC/libpcap when there (the Dockerfile's: the
# runner has no libpcap.so), else the system's through pkg-config.
if [ -d "${SRC:-/nonexistent}/libpcap" ]; then
	(cd "$SRC/libpcap" && ./autogen.sh > /dev/null 2>&1 || true
	 ./configure --prefix="$WORK/pcap" --disable-shared --disable-dbus \
	    --disable-rdma --disable-bluetooth --disable-usb --without-libnl \
	    --disable-remote CC="$CC" CFLAGS="$CFLAGS" > /dev/null &&
	 make -j"$(nproc)" > /dev/null && make install > /dev/null)
	export PKG_CONFIG_PATH="$WORK/pcap/lib/pkgconfig"
fi

# The libraries the harnesses link (fuzz/local.mk's FUZZ_LDADD), built with
# $CFLAGS; the program and the tests are not needed. The layers are libtool
# convenience libraries: their archives are linked directly, so the link is
# $CC's own, with $LIB_FUZZING_ENGINE as OSS-Fuzz passes it.
./bootstrap > /dev/null
./configure CC="$CC" CFLAGS="$CFLAGS" --disable-shared > "$WORK/configure.log"
layers="src/host/libhost src/replay/libreplay src/trace/libtrace
	fakeguest/libfakeguest src/vsock/libvsock src/virtio/libvirtio"
make -j"$(nproc)" fuzz/libvsefuzz.a $(for l in $layers; do echo "$l.la"; done) \
	> "$WORK/make.log"
archives=fuzz/libvsefuzz.a
for l in $layers; do
	archives="$archives $(dirname "$l")/.libs/$(basename "$l").a"
done
includes="-I. -Isrc/virtio -Isrc/vsock -Isrc/host -Isrc/trace -Ifakeguest
	-Isrc/replay -Ifuzz"

pcap_libs=$(pkg-config --libs libpcap)
[ -d "${SRC:-/nonexistent}/libpcap" ] && pcap_libs=$(pkg-config --static --libs libpcap)
for harness in fuzz/harness-*.c; do
	target=$(basename "$harness" .c)
	target=${target#harness-}
	fuzzer=vsockemu-$target
	$CC $CFLAGS $includes -c "$harness" -o "$WORK/$fuzzer.o"
	$CC $CFLAGS "$WORK/$fuzzer.o" -o "$OUT/$fuzzer" $archives \
	    $LIB_FUZZING_ENGINE $pcap_libs $(pkg-config --libs zlib) -lpthread
	rm -f "$OUT/${fuzzer}_seed_corpus.zip"
	if [ -d "tests/fuzz/corpus/$target" ]; then
		(cd "tests/fuzz/corpus/$target" &&
		    zip -q -r "$OUT/${fuzzer}_seed_corpus.zip" .)
	fi
	cp "$SRC_DIR/.clusterfuzzlite/vsockemu.dict" "$OUT/$fuzzer.dict"
	printf '[libfuzzer]\ndict = %s.dict\n' "$fuzzer" > "$OUT/$fuzzer.options"
done
