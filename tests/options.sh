#!/bin/sh
# options.sh - one option grammar for every subcommand (doc/vsockemu.1,
# OPTIONS): --help, --version, -q, -v, bad usage as one message and one
# usage line with exit 2, conflicting options refused, `vsockemu help`, and
# the man page itself (groff clean, reserved CIDs as --help says).
set -u
emu=${top_builddir:-.}/emu/vsockemu
man1=${top_srcdir:-.}/doc/vsockemu.1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-options.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
out=$tmp/out err=$tmp/err

. "${top_srcdir:-.}/tests/lib.sh"

commands="serve vhost-user selftest dump replay fuzz ctl"
version=$("$emu" --version)

# bad_usage CMD MESSAGE ARGS...: exit 2, nothing on stdout, and on stderr
# exactly "vsockemu CMD: MESSAGE" and CMD's usage line pointing to --help.
bad_usage() {
	bu_cmd=$1 bu_msg=$2
	shift 2
	# timeout: a command that took bad usage for good would serve forever.
	timeout 20 "$emu" "$bu_cmd" "$@" > "$out" 2> "$err" < /dev/null
	bu_rc=$?
	printf 'vsockemu %s: %s\n' "$bu_cmd" "$bu_msg" > "$tmp/want1"
	test $bu_rc -eq 2 && test ! -s "$out" &&
	    test "$(wc -l < "$err")" -eq 2 &&
	    head -n 1 "$err" | cmp -s - "$tmp/want1" &&
	    sed -n 2p "$err" | grep -q "^usage: vsockemu $bu_cmd .*(try 'vsockemu $bu_cmd --help')\$"
}

for c in $commands; do
	for h in --help -h; do
		"$emu" $c $h > "$out" 2> "$err"
		check "$c $h: exit 0, usage on stdout, nothing on stderr" sh -c \
		    "test $? -eq 0 && head -n 1 '$out' | grep -q '^usage: vsockemu $c' && test ! -s '$err'"
	done
	for v in --version -V; do
		"$emu" $c $v > "$out" 2> "$err"
		check "$c $v: exit 0, the version" sh -c \
		    "test $? -eq 0 && test \"\$(cat '$out')\" = '$version' && test ! -s '$err'"
	done
	"$emu" help $c > "$tmp/help"
	"$emu" $c --help > "$tmp/own"
	check "help $c is $c --help" cmp -s "$tmp/help" "$tmp/own"
	check "$c --help lists -q, -v and -V" sh -c "grep -q -- '-q, --quiet' '$tmp/own' && grep -q -- '-v, --verbose' '$tmp/own' && grep -q -- '-V, --version' '$tmp/own'"
	check "$c: an unknown long option" bad_usage $c \
	    "unknown option '--no-such-option'" --no-such-option
	check "$c: an unknown short option" bad_usage $c "unknown option '-Z'" -Z
	check "$c: -q and -v conflict" bad_usage $c "-q and -v conflict" -q -v
	check "$c: -v and -q conflict" bad_usage $c "-q and -v conflict" -v -q
	for qv in -q --quiet -v --verbose; do
		timeout 20 "$emu" $c $qv --help > "$out" 2> "$err" < /dev/null
		check "$c takes $qv" test $? -eq 0
	done
done

# Missing arguments and bad values, in the same two lines.
check "replay --format without its argument" bad_usage replay \
    "option '--format' needs an argument" x --format
check "replay --guest-cid 2" bad_usage replay "bad --guest-cid '2'" --guest-cid 2 x
check "replay with no trace" bad_usage replay "no trace given"
check "dump with no file" bad_usage dump "no capture file given"
check "fuzz --seed x" bad_usage fuzz "bad --seed 'x'" --seed x
check "fuzz with an operand" bad_usage fuzz "unexpected operand 'x'" x
check "selftest --chains x" bad_usage selftest "--chains: not a number: 'x'" --chains x
check "serve --cid 2: reserved" bad_usage serve \
    "--cid '2': not a guest CID (0, 1, 2 and 0xffffffff are reserved, above 32 bits unsupported)" --cid 2
check "vhost-user without --socket" bad_usage vhost-user "--socket PATH is required"

# Conflicting options are refused, never taken silently.
check "replay --semantic --strict" bad_usage replay \
    "--semantic and --strict conflict" --semantic --strict x
check "fuzz --runs --seconds" bad_usage fuzz "--runs and --seconds conflict" \
    --runs 1 --seconds 1
check "fuzz --replay with --seed" bad_usage fuzz \
    "--replay runs one stream: no --seed, --runs, --seconds, --corpus or --save" \
    --replay x --seed 2
check "fuzz --pcap without --replay" bad_usage fuzz "--pcap needs --replay" --pcap x
check "dump -x -q" bad_usage dump "-x and -q conflict" -x -q x
check "replay --host --guest" bad_usage replay \
    "--host and --guest conflict: one live program at a time" \
    --host a --guest b x

# The top level and `vsockemu help`.
"$emu" help > "$tmp/help"
"$emu" --help > "$tmp/own"
check "help is --help" cmp -s "$tmp/help" "$tmp/own"
check "--help lists help" grep -q '^  help ' "$tmp/own"
"$emu" help no-such-command > "$out" 2> "$err"
check "help of an unknown command: exit 2, one message and the usage line" sh -c \
    "test $? -eq 2 && test ! -s '$out' && test \"\$(cat '$err')\" = \"vsockemu: unknown command 'no-such-command'
usage: vsockemu COMMAND [options] (try 'vsockemu --help')\""
"$emu" --no-such-option > "$out" 2> "$err"
check "vsockemu --no-such-option: exit 2, unknown option" sh -c \
    "test $? -eq 2 && head -n 1 '$err' | grep -q \"^vsockemu: unknown option '--no-such-option'\$\""

# The man page: no groff warning, and the reserved CIDs as --help gives them.
groff -ww -z -man "$man1" > "$out" 2>&1
check "groff -ww -z -man doc/vsockemu.1: clean" sh -c "test $? -eq 0 && test ! -s '$out'"
if command -v man > /dev/null 2>&1; then
	man --warnings -l "$man1" > /dev/null 2> "$err"
	check "man --warnings -l doc/vsockemu.1: clean" test ! -s "$err"
fi
flat() { tr -s ' \n' '  '; }
reserved="3 to 0xfffffffe"
groff -man -Tascii -rLL=1000n "$man1" 2> /dev/null | col -bx | flat > "$tmp/man.txt"
for c in serve vhost-user; do
	"$emu" $c --help | flat > "$tmp/$c.txt"
	check "$c --help: guest CIDs $reserved" grep -qF "$reserved" "$tmp/$c.txt"
done
check "the man page: guest CIDs $reserved" grep -qF "$reserved" "$tmp/man.txt"
check "... and never -1 alone" sh -c "! grep -qF 'and -1 are reserved' '$tmp/man.txt' '$tmp/serve.txt' '$tmp/vhost-user.txt'"
exit $fail
