#!/bin/sh
# layers.sh - the layering rules, checked on the sources: a file includes
# only headers of its own layer and of the layers it sits on, a private
# header (*-int.h) only from its own folder, a public header only public
# headers, and the core (virtio, vsock) no socket, file, clock, event-loop
# or capture header. Prints one line per violation; exit 1 if any.
# Usage: layers.sh [SRCDIR]     (default: $top_srcdir, else .)
set -u
root=${1:-${top_srcdir:-.}}
cd "$root" || exit 2

# folder            layer    may include, besides its own layer (L:public:
#                            only the public headers of layer L)
LAYERS='
src/virtio          virtio
src/vsock           vsock    virtio
src/host            host     vsock virtio
src/trace           trace    vsock virtio
fakeguest           guest    vsock:public virtio
src/replay          replay   trace guest vsock virtio
include/vsockemu    public   replay guest trace vsock virtio
fuzz                fuzz     replay host trace guest vsock virtio
emu                 emu      fuzz replay host trace guest vsock virtio
tests               tests    emu fuzz replay host trace guest vsock virtio
tests/bench         tests    emu fuzz replay host trace guest vsock virtio
'

# White-box suites: the only files outside a folder that may include one of
# its private headers.
WHITEBOX='
tests/check_conntab.c device-int.h
tests/check_device.c device-int.h
tests/check_states.c device-int.h
tests/check_stream.c device-int.h
tests/check_replay.c replay-int.h
tests/check_replay_live.c live-trace-int.h
'

# System headers the core never needs: it does no I/O and reads no clock.
CORE_LAYERS='virtio vsock'
CORE_BANNED='
sys/socket.h sys/un.h netinet/* arpa/* netdb.h
fcntl.h unistd.h dirent.h sys/stat.h sys/mman.h
time.h sys/time.h sys/timerfd.h signal.h sys/signalfd.h
poll.h sys/poll.h sys/epoll.h sys/select.h
pcap.h pcap/* zlib.h
'

files=$(echo "$LAYERS" | awk 'NF { print $1 }' | while read -r d; do
	for f in "$d"/*.c "$d"/*.h; do
		[ -f "$f" ] && echo "$f"
	done
done)
[ -n "$files" ] || { echo "layers.sh: no sources under $root" >&2; exit 2; }

# shellcheck disable=SC2086
awk -v layers="$LAYERS" -v whitebox="$WHITEBOX" -v core="$CORE_LAYERS" \
    -v banned="$CORE_BANNED" '
function dirname(p) { sub(/\/[^\/]*$/, "", p); return p }
function basename(p) { sub(/^.*\//, "", p); return p }
function fail(msg) { print FILENAME ":" FNR ": " msg; bad++ }
BEGIN {
	n = split(layers, row, "\n")
	for (i = 1; i <= n; i++) {
		if (split(row[i], w, " ") < 2)
			continue
		layer_of[w[1]] = w[2]
		for (j = 3; j in w; j++) {
			dep = w[j]
			only_public = sub(/:public$/, "", dep)
			may[w[2], dep] = only_public ? "public" : "all"
		}
	}
	n = split(whitebox, row, "\n")
	for (i = 1; i <= n; i++)
		if (split(row[i], w, " ") == 2)
			white[w[1], w[2]] = 1
	n = split(core, w, " ")
	for (i = 1; i <= n; i++)
		is_core[w[i]] = 1
	nbanned = split(banned, ban, /[ \n]+/)
	# Every header, by the name an include spells: one folder each.
	for (i = 1; i < ARGC; i++) {
		f = ARGV[i]
		if (f !~ /\.h$/)
			continue
		b = basename(f)
		# Installed umbrella: included as <vsockemu/...>, never by name.
		if (dirname(f) == "include/vsockemu") {
			entry[f] = 1
			continue
		}
		if (b in home) {
			print f ": header name also used by " home[b] "/" b \
			    ": an include of it is ambiguous"
			bad++
		}
		home[b] = dirname(f)
		if (b ~ /-api\.h$/)
			entry[f] = 1
	}
	# Public headers: what the *-api.h entry points list.
	for (f in entry)
		while ((getline line < f) > 0)
			if (line ~ /^[ \t]*#[ \t]*include[ \t]*"/) {
				h = line
				sub(/^[^"]*"/, "", h)
				sub(/".*$/, "", h)
				public[h] = 1
			}
}
FNR == 1 {
	dir = dirname(FILENAME)
	layer = layer_of[dir]
	self = basename(FILENAME)
}
/^[ \t]*#[ \t]*include[ \t]*</ {
	h = $0
	sub(/^[^<]*</, "", h)
	sub(/>.*$/, "", h)
	if (!(layer in is_core))
		next
	for (i = 1; i <= nbanned; i++) {
		pat = ban[i]
		if (pat == "")
			continue
		if (pat ~ /\*$/ ? index(h, substr(pat, 1, length(pat) - 1)) == 1 \
		    : h == pat)
			fail("the " layer " layer is core (no sockets, files, " \
			    "clocks or captures) and may not include <" h ">")
	}
	next
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	h = $0
	sub(/^[^"]*"/, "", h)
	sub(/".*$/, "", h)
	checked++
	if (h == "config.h")
		next
	if (!(h in home)) {
		fail("includes \"" h "\", which is in no layer folder")
		next
	}
	hdir = home[h]
	hl = layer_of[hdir]
	if (hl != layer && !((layer, hl) in may))
		fail("the " layer " layer may not include " h \
		    " (layer " hl ")")
	else if (hl != layer && may[layer, hl] == "public" && !(h in public))
		fail("the " layer " layer sees only the public headers of " \
		    hl " and " h " is not one")
	if (h ~ /-int\.h$/ && hdir != dir && !((FILENAME, h) in white))
		fail(h " is private to " hdir "/")
	if ((self in public) && !(h in public))
		fail("public header " self " includes " h \
		    ", which is not public (list it in a *-api.h or drop it)")
	next
}
END {
	if (bad > 0) {
		print bad " layering violation(s)"
		exit 1
	}
	print "layering: " ARGC - 1 " files, " checked " includes: OK"
}' $files
