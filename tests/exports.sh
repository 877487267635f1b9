#!/bin/sh
# exports.sh - libvsockemu exports exactly src/libvsockemu.sym, each of those
# symbols is declared by a public header, and the layers' objects give
# default visibility to exactly those symbols (the rest is hidden).
# Usage: exports.sh [LIBRARY.so [HEADER...]]
#   make check: the built library and $PUBLIC_HEADERS (paths in the sources);
#   make installcheck: the installed library and headers.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
fail=0

. "$src/tests/lib.sh"

so=${1:-$build/src/.libs/libvsockemu.so}
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then
	headers="$*"
else
	headers=$(for h in ${PUBLIC_HEADERS:-}; do echo "$src/$h"; done)
fi
if [ ! -f "$so" ]; then
	echo "SKIP: $so was not built (--disable-shared)"
	exit 77
fi
tmp=$(mktemp -d /tmp/vsockemu-exports-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sort -u "$src/src/libvsockemu.sym" >"$tmp/want"

# same_symbols DESCRIPTION GOT WANT: PASS when the sorted lists are equal.
same_symbols() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		failed "$1: $(diff "$3" "$2" | grep '^[<>]' | head -8 | tr '\n' ' ')"
	fi
}

nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/so"
same_symbols "$(basename "$so") exports exactly libvsockemu.sym" \
    "$tmp/so" "$tmp/want"

# The comparison can fail: a list with one symbol dropped and one invented.
sed '1d' "$tmp/want" >"$tmp/doctored"
echo vse_no_such_symbol >>"$tmp/doctored"
sort -o "$tmp/doctored" "$tmp/doctored"
if cmp -s "$tmp/so" "$tmp/doctored"; then
	failed "a doctored export list is told apart"
else
	pass "a doctored export list is told apart"
fi

# Every exported symbol is part of the documented API.
undeclared=$(while read -r s; do
	grep -qw -- "$s" $headers || echo "$s"
done <"$tmp/want" | tr '\n' ' ')
check "every exported symbol is declared in a public header${undeclared:+ (not: $undeclared)}" \
    test -z "$undeclared"

# In the build tree: what the objects leave visible is what the list says,
# so a function added to a public header is not silently left unexported.
archives=
for l in src/virtio/libvirtio src/vsock/libvsock src/trace/libtrace \
    fakeguest/libfakeguest src/replay/libreplay; do
	a=$build/$(dirname $l)/.libs/$(basename $l).a
	[ -f "$a" ] && archives="$archives $a"
done
if [ -n "$archives" ]; then
	readelf -sW $archives | awk '$5 == "GLOBAL" && $6 == "DEFAULT" &&
	    $7 != "UND" { print $8 }' | sort -u >"$tmp/objects"
	same_symbols "the layers' default-visibility symbols are libvsockemu.sym" \
	    "$tmp/objects" "$tmp/want"
fi
exit $fail
