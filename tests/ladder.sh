#!/bin/sh
# ladder.sh - `dump --html` and `replay --html` opened in a real headless
# browser (Debian's chromium): the page renders (one arrow a frame, the
# marked divergence, a screenshot that is not blank), a hostile payload
# stays text and no script runs, and a large trace's page stays small.
# 77 when chromium is not installed.
set -u
emu=${top_builddir:-.}/emu/vsockemu
vec=${top_srcdir:-.}/testvectors
fail=0

. "${top_srcdir:-.}/tests/lib.sh"

browser=$(command -v chromium || command -v chromium-browser) ||
    { echo "SKIP: no chromium (apt-get install chromium)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vse-ladder.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# chrome FLAGS... PAGE: headless chromium on a local file, its noise
# (dbus, GPU) dropped; a profile of its own so runs never share state.
chrome() {
	ch_page=$1; shift
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
	    --no-first-run --user-data-dir="$tmp/profile" "$@" \
	    "file://$ch_page" 2>/dev/null
}

# not_blank PNG: the screenshot has drawn pixels in several colours (a
# page that failed to render is one colour). Decodes the PNG's rows.
not_blank() {
	python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, w = 8, b'', 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        bpp = {2: 3, 6: 4}[ctype]
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw, stride, prev, colours, ink = zlib.decompress(idat), w * bpp, None, set(), 0
for y in range(h):
    f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = row[x - bpp] if x >= bpp else 0
        b = prev[x] if prev else 0
        c = prev[x - bpp] if prev and x >= bpp else 0
        p = a + b - c
        pred = [0, a, b, (a + b) // 2, a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c)][f]
        row[x] = (row[x] + pred) & 255
    prev = row
    for x in range(0, stride, bpp * 4):
        px = bytes(row[x:x + 3])
        colours.add(px)
        ink += px != b'\xff\xff\xff'
sys.exit(0 if len(colours) > 8 and ink > 500 else 1)
EOF
}

# 1. dump --html of a real trace: one arrow a frame, in a real browser.
trace=$vec/linux61-vhost-echo.pcap
frames=$("$emu" dump "$trace" | wc -l)
"$emu" dump --html "$tmp/echo.html" "$trace"
check "dump --html exits 0" test $? -eq 0
chrome "$tmp/echo.html" --dump-dom > "$tmp/echo.dom"
check "chromium loads the page" grep -q '</html>' "$tmp/echo.dom"
check "the DOM holds one arrow per frame ($frames)" \
    test "$(grep -o '<g class="pkt ' "$tmp/echo.dom" | wc -l)" -eq "$frames"
check "setup, RST and SHUTDOWN arrows are told apart" sh -c \
    "grep -q 'class=\"pkt op-setup' '$tmp/echo.dom' &&
     grep -q 'class=\"pkt op-rst' '$tmp/echo.dom' &&
     grep -q 'class=\"pkt op-shutdown' '$tmp/echo.dom'"
check "lanes are named guest and host" grep -q '>host 2:1234<' "$tmp/echo.dom"
chrome "$tmp/echo.html" --screenshot="$tmp/echo.png" --window-size=1100,800 \
    >/dev/null
check "the screenshot is not blank" not_blank "$tmp/echo.png"

# 2. replay --html: the diverging frame marked, expected beside actual,
# the verdict on top and in the summary of several traces.
neg=$vec/negative/neg-fwd-cnt.pcap
"$emu" replay -q --html "$tmp/replay.html" "$neg" "$trace" >/dev/null
check "replay --html keeps replay's exit status (1: a divergence)" test $? -eq 1
chrome "$tmp/replay.html" --dump-dom > "$tmp/replay.dom"
check "the diverging frame 4 is marked" \
    grep -q '<g class="pkt op-credit diverged" data-frame="4"' "$tmp/replay.dom"
check "exactly one frame is marked" \
    test "$(grep -o ' diverged" data-frame=' "$tmp/replay.dom" | wc -l)" -eq 1
check "expected and actual side by side" sh -c \
    "grep -q '<pre class=\"expected\">at most 6</pre>' '$tmp/replay.dom' &&
     grep -q '<pre class=\"actual\">60</pre>' '$tmp/replay.dom'"
check "the verdict on top of the trace" \
    grep -q '<span class="verdict v-DIVERGED">DIVERGED</span> at <a href="#t1-f4">' \
    "$tmp/replay.dom"
check "a summary table links to each trace" sh -c \
    "grep -q 'href=\"#trace-1\"' '$tmp/replay.dom' &&
     grep -q 'href=\"#trace-2\"' '$tmp/replay.dom'"
chrome "$tmp/replay.html" --screenshot="$tmp/replay.png" \
    --window-size=1100,800 >/dev/null
check "the replay screenshot is not blank" not_blank "$tmp/replay.png"

# 3. A hostile capture: payloads that would be markup, script and an
# event handler if they reached the page unescaped. The page must show
# them as text: no element of theirs in the DOM, nothing they would do.
h=$tmp/hostile.pcap
pcap "$h"
record "$h" 3 2 1024 1234 0 1 1 0 ''
record "$h" 2 3 1234 1024 0 1 2 0 ''
p1='</title></g></svg><script>document.title="PWNED"</script>'
p2='<img src=x onerror="document.body.setAttribute(`data-pwned`,1)">'
record "$h" 3 2 1024 1234 ${#p1} 1 5 0 "$p1"
record "$h" 2 3 1234 1024 ${#p2} 1 5 0 "$p2"
record "$h" 3 2 1024 1234 0 1 3 0 ''
"$emu" dump --html "$tmp/hostile.html" "$h"
check "dump --html of the hostile capture exits 0" test $? -eq 0
check "the file itself holds no raw markup of the payloads" sh -c \
    "! grep -q -e '<script' -e '<img' -e 'onerror=\"' '$tmp/hostile.html'"
chrome "$tmp/hostile.html" --dump-dom > "$tmp/hostile.dom"
check "the DOM holds the hostile capture's 5 arrows" \
    test "$(grep -o '<g class="pkt ' "$tmp/hostile.dom" | wc -l)" -eq 5
check "no script element reached the DOM" sh -c "! grep -qi '<script' '$tmp/hostile.dom'"
check "no img element reached the DOM" sh -c "! grep -qi '<img' '$tmp/hostile.dom'"
check "nothing ran: the title is the page's" \
    grep -q '<title>vsockemu dump</title>' "$tmp/hostile.dom"
check "nothing ran: no attribute set by the handler" sh -c \
    "! grep -q 'data-pwned=' '$tmp/hostile.dom'"
check "the payload shows as text in its tooltip" \
    grep -q '&lt;script&gt;document.title="PWNED"&lt;/script&gt;' \
    "$tmp/hostile.dom"

# 4. A long transfer folds: the page of the 4 MiB bulk traces stays small
# and its folded runs expand (<details>).
"$emu" dump --html "$tmp/bulk.html" "$vec"/linux61-*bulk*.pcap.gz
check "dump --html of the bulk traces exits 0" test $? -eq 0
size=$(wc -c < "$tmp/bulk.html")
check "the bulk traces' page is under 2 MB ($size bytes)" test "$size" -lt 2000000
check "long runs are folded into <details>" grep -q '<details class="run">' "$tmp/bulk.html"

# 5. Bad usage says so.
"$emu" replay --html "$tmp/x.html" - < "$trace" > /dev/null 2> "$tmp/err"
check "replay --html refuses standard input (exit 2)" test $? -eq 2
check "... saying why" grep -q "not a regular file" "$tmp/err"
"$emu" dump --html /nonexistent/dir/x.html "$trace" 2> "$tmp/err"
check "an unwritable page: exit 2" test $? -eq 2
check "... naming it" grep -q "/nonexistent/dir/x.html" "$tmp/err"
exit $fail
