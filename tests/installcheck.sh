#!/bin/sh
# installcheck.sh - `make installcheck`: the installed libvsockemu as a user
# sees it. doc/examples/echo.c builds with `pkg-config --cflags --libs
# vsockemu` alone, against the shared and the static library, and runs
# (tests/api.sh); every installed header compiles on its own (and the
# umbrella as C++); the installed library exports only the public API
# (tests/exports.sh). Run by make with the install directories set.
set -u
src=${top_srcdir:-.}
fail=0

. "$src/tests/lib.sh"

: "${libdir:?}" "${includedir:?}" "${prefix:?}"
destdir=${DESTDIR:-}
cc=${CC:-cc}
pkgconf=${PKG_CONFIG:-pkg-config}
tmp=$(mktemp -d /tmp/vsockemu-installcheck-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# pkg-config reads the installed vsockemu.pc; under DESTDIR the .pc's
# prefix is moved there (its libdir and includedir follow from it).
export PKG_CONFIG_PATH="$destdir$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc() { "$pkgconf" --define-variable=prefix="$destdir$prefix" "$@" vsockemu; }
check "pkg-config finds vsockemu" pc --exists
cflags=$(pc --cflags)
libs=$(pc --libs)
# Static libvsockemu, shared dependencies: what Requires.private names,
# without --static (libpcap's own private libraries need not be there).
slibs=$("$pkgconf" --libs libpcap zlib)

# shellcheck disable=SC2086
check "the example builds with pkg-config against the shared library" \
    $cc $cflags -o "$tmp/echo-shared" "$src/doc/examples/echo.c" $libs \
    ${LDFLAGS:-}
check "the shared example runs" env \
    LD_LIBRARY_PATH="$destdir$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    top_srcdir="$src" sh "$src/tests/api.sh" "$tmp/echo-shared"

if [ -f "$destdir$libdir/libvsockemu.a" ]; then
	# shellcheck disable=SC2086
	check "the example builds against the static library" \
	    $cc $cflags -o "$tmp/echo-static" "$src/doc/examples/echo.c" \
	    "$destdir$libdir/libvsockemu.a" $slibs ${LDFLAGS:-}
	check "the static example needs no libvsockemu.so" \
	    sh -c "readelf -d '$tmp/echo-static' >'$tmp/dyn' &&
	    ! grep -q 'NEEDED.*libvsockemu' '$tmp/dyn'"
	check "the static example runs" env top_srcdir="$src" \
	    sh "$src/tests/api.sh" "$tmp/echo-static"
fi

for h in "$destdir$includedir"/vsockemu/*.h; do
	name=$(basename "$h")
	printf '#include <vsockemu/%s>\n' "$name" >"$tmp/one.c"
	# shellcheck disable=SC2086
	check "<vsockemu/$name> compiles on its own (C99, -Wall -Wextra)" \
	    $cc -std=c99 -Wall -Wextra -Werror $cflags -fsyntax-only \
	    "$tmp/one.c"
done
if command -v c++ >/dev/null 2>&1; then
	printf '#include <vsockemu/vsockemu.h>\nint main() { return 0; }\n' \
	    >"$tmp/one.cc"
	# shellcheck disable=SC2086
	check "<vsockemu/vsockemu.h> compiles as C++" c++ -Wall -Werror \
	    $cflags -fsyntax-only "$tmp/one.cc"
fi

for so in "$destdir$libdir"/libvsockemu.so; do
	[ -f "$so" ] || continue
	check "the installed library exports only the public API" env \
	    top_srcdir="$src" top_builddir=/nonexistent sh "$src/tests/exports.sh" \
	    "$so" "$destdir$includedir"/vsockemu/*.h
done
exit $fail
