#!/bin/sh
# clusterfuzzlite.sh - runs .clusterfuzzlite/build.sh as OSS-Fuzz and
# ClusterFuzzLite do (clang, CFLAGS with address sanitizer and
# fuzzer-no-link, LIB_FUZZING_ENGINE=-fsanitize=fuzzer, fresh $OUT and
# $WORK, from a copy of the source tree), then checks that every harness
# became a fuzzer with its seed corpus, dictionary and options, and runs
# each for FUZZ_SECONDS (default 10) from its seeds. Exit 77 (skip) where
# clang's libFuzzer is missing. Run by .ci/run; not part of make check (it
# rebuilds the libraries and fuzzes for a minute).
set -u
srcdir=${top_srcdir:-.}
seconds=${FUZZ_SECONDS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-cflite.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

. "$srcdir/tests/lib.sh"

# The engine first: without it the build cannot link a fuzzer.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' > "$tmp/probe.c"
if ! clang -fsanitize=fuzzer,address "$tmp/probe.c" -o "$tmp/probe" 2> /dev/null; then
	echo "SKIP: clang with libFuzzer is missing (Debian: apt-get install clang)"
	exit 77
fi

# OSS-Fuzz's layout: the project in $SRC/vsockemu, build.sh run there.
mkdir -p "$tmp/src/vsockemu" "$tmp/out" "$tmp/work"
if git -C "$srcdir" rev-parse > /dev/null 2>&1; then
	(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 tar cf -) | tar xf - -C "$tmp/src/vsockemu"
else
	cp -R "$srcdir/." "$tmp/src/vsockemu"
fi
(cd "$tmp/src/vsockemu" &&
    env SRC="$tmp/src" OUT="$tmp/out" WORK="$tmp/work" CC=clang CXX=clang++ \
    CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
    bash "$tmp/src/vsockemu/.clusterfuzzlite/build.sh") > "$tmp/build.log" 2>&1
rc=$?
check "build.sh as OSS-Fuzz runs it: exit 0" test $rc -eq 0
[ $rc -eq 0 ] || tail -30 "$tmp/build.log"

for harness in "$srcdir"/fuzz/harness-*.c; do
	target=$(basename "$harness" .c)
	target=${target#harness-}
	fuzzer=$tmp/out/vsockemu-$target
	check "$target: a fuzzer in \$OUT" test -x "$fuzzer"
	check "$target: its dictionary and options" sh -c \
	    "test -s '$fuzzer.dict' && grep -q 'dict = vsockemu-$target.dict' '$fuzzer.options'"
	check "$target: its seed corpus, every file of tests/fuzz/corpus/$target" \
	    test "$(unzip -Z1 "${fuzzer}_seed_corpus.zip" 2> /dev/null | wc -l)" -eq \
	    "$(ls "$srcdir/tests/fuzz/corpus/$target" | wc -l)"
	[ -x "$fuzzer" ] || continue
	mkdir -p "$tmp/corpus-$target"
	unzip -q -o "${fuzzer}_seed_corpus.zip" -d "$tmp/corpus-$target"
	"$fuzzer" -max_total_time="$seconds" -dict="$fuzzer.dict" \
	    -print_final_stats=1 "$tmp/corpus-$target" > "$tmp/$target.log" 2>&1
	rc=$?
	check "$target: fuzzed ${seconds} s from its seeds, no finding" test $rc -eq 0
	check "$target: libFuzzer loaded the dictionary and ran" sh -c \
	    "grep -q 'Dictionary: [1-9][0-9]* entries' '$tmp/$target.log' && grep -q '^stat::number_of_executed_units: *[1-9]' '$tmp/$target.log'"
	[ $rc -eq 0 ] || tail -20 "$tmp/$target.log"
done
exit $fail
