#!/bin/sh
# fuzz-corpus.sh - every fuzz harness, built as a plain program, runs its
# whole corpus: the seeds and every finding ever made (tests/fuzz/corpus/).
set -u
top=${top_builddir:-.}
corpus=${top_srcdir:-.}/tests/fuzz/corpus
fail=0

for t in virtq pkt pcap connect device; do
	if "$top/fuzz/onefile-$t" "$corpus/$t"; then
		echo "PASS: corpus of $t"
	else
		echo "FAIL: corpus of $t"
		fail=1
	fi
done
exit $fail
