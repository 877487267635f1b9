# testvectors/local.mk - recorded traces and their expected verdicts.
EXTRA_DIST += testvectors/README.md
