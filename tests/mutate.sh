#!/bin/sh
# mutate.sh - mutation testing of the guest-facing checks in
# src/virtio/virtq.c, src/virtio/guestmem.c and src/virtio/virtio-ring.h:
# proves each check has a test that fails without it.
#
# Not run by `make check` (it rebuilds the suites once per mutant). Usage:
#
#   tests/mutate.sh [MUTANT-ID...]     from the top of the source tree
#
# How it works: the source tree (working copy, uncommitted edits included,
# generated files excluded) is copied to a scratch directory, bootstrapped and
# configured there once (without --enable-werror, so that a mutant that only
# provokes a warning still builds). For each mutant the script applies one
# sed expression to one file of the copy, refuses to go on if the expression
# changed nothing (a stale mutant must not count as "survived"), rebuilds
# tests/check_guestmem and tests/check_virtq, runs both under `timeout`
# (a removed loop bound may hang), records KILLED (with the failing Check
# tests), SURVIVED or NOBUILD, and restores the pristine file. The source
# tree itself is never modified. A table is printed at the end; the exit
# status is 1 when any mutant survived or failed to apply, except the
# known equivalent and fence mutants listed below (reported as such).
#
# Expressions are sed scripts; most are limited to one function with a
# /^name(/,/^}/ range so that a pattern cannot hit a twin elsewhere.
#
# Environment: MUTATE_DIR (scratch dir, default a mktemp -d, removed at the
# end unless MUTATE_KEEP=1), MUTATE_TIMEOUT (seconds per suite, default 120).
set -u

top=$(pwd)
if [ ! -f "$top/src/virtio/virtq.c" ] || [ ! -f "$top/configure.ac" ]; then
	echo "mutate.sh: run from the top of the vsockemu source tree" >&2
	exit 2
fi
work=${MUTATE_DIR:-$(mktemp -d /tmp/vse-mutate.XXXXXX)}
tmo=${MUTATE_TIMEOUT:-120}
only="$*"
results=$work/results.txt

cleanup() {
	if [ "${MUTATE_KEEP:-0}" != 1 ] && [ -z "${MUTATE_DIR:-}" ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# Copy the tracked and the new-but-unignored files: the tree under test.
mkdir -p "$work/tree"
(cd "$top" && git ls-files -co --exclude-standard -z) |
    (cd "$top" && xargs -0 cp --parents -t "$work/tree") || exit 2
tree=$work/tree
mkdir -p "$work/orig"
cp -p "$tree/src/virtio/virtq.c" "$tree/src/virtio/guestmem.c" \
    "$tree/src/virtio/virtio-ring.h" "$work/orig/"

echo "mutate.sh: building the pristine copy in $tree"
(cd "$tree" && ./bootstrap && ./configure && make -j2 tests/check_guestmem \
    tests/check_virtq) >"$work/build.log" 2>&1 || {
	echo "mutate.sh: pristine build failed, see $work/build.log" >&2
	MUTATE_KEEP=1
	exit 2
}
# The suites must pass before any mutant means anything.
for t in check_guestmem check_virtq; do
	(cd "$tree" && timeout "$tmo" "tests/$t") >"$work/pristine-$t.log" 2>&1 || {
		echo "mutate.sh: pristine tests/$t fails" >&2
		exit 2
	}
done
: >"$results"

# Failing Check tests of a log: "file:line:F:tcase:test:iter: msg".
failed_tests() {
	sed -n 's/^[^:]*:[0-9]*:[EF]:[^:]*:\([^:]*\):\([0-9]*\):.*/\1:\2/p' "$@" |
	    sed 's/:0$//' | sort -u | awk '
		NR <= 4 { printf "%s ", $0 }
		END { if (NR > 4) printf "(+%d more) ", NR - 4 }'
}

# m ID FILE SED-SCRIPT DESCRIPTION: one mutant.
m() {
	id=$1 file=$2 expr=$3 desc=$4
	if [ -n "$only" ]; then
		case " $only " in *" $id "*) ;; *) return 0 ;; esac
	fi
	base=$(basename "$file")
	sed "$expr" "$work/orig/$base" >"$tree/$file"
	if cmp -s "$work/orig/$base" "$tree/$file"; then
		printf '%s\tNOT-APPLIED\t-\t%s\n' "$id" "$desc" | tee -a "$results"
		return 0
	fi
	if ! (cd "$tree" && make -j2 tests/check_guestmem tests/check_virtq) \
	    >"$work/$id.build" 2>&1; then
		status=NOBUILD by=-
	else
		status=SURVIVED by=
		for t in check_guestmem check_virtq; do
			(cd "$tree" && CK_VERBOSITY=normal timeout "$tmo" \
			    "tests/$t") >"$work/$id.$t" 2>&1
			rc=$?
			if [ $rc -ne 0 ]; then
				status=KILLED
				ft=$(failed_tests "$work/$id.$t")
				[ $rc -eq 124 ] && ft="$ft(timeout) "
				[ -z "$ft" ] && ft="$t(rc=$rc) "
				by="$by$ft"
			fi
		done
	fi
	if [ "$status" = SURVIVED ]; then
		case " $equivalent " in *" $id "*) status=EQUIVALENT ;; esac
		case " $fences " in *" $id "*) status=FENCE ;; esac
	fi
	printf '%s\t%s\t%s\t%s\n' "$id" "$status" "${by:--}" "$desc" |
	    tee -a "$results"
	# A fresh mtime, so that make rebuilds what the mutant left behind.
	cp "$work/orig/$base" "$tree/$file"
	touch "$tree/$file"
}

# Mutants known to survive, with the reason; reported as EQUIVALENT or
# FENCE instead of SURVIVED and not counted as failures.
#  G20, G21  guestmem_check's step bound: each step consumes a whole region
#            and regions never overlap, so the walk ends within nregions + 1
#            steps with or without the bound (it is defence in depth).
#  G23       copy fast path taken one byte less often: the slow path gives
#            the same result.
#  V15       read_desc's indirect read error: check_indirect has already
#            checked the whole table (V23 proves that check is needed), so
#            the read cannot fail.
#  V49       virtq_pop's not-set-up check: virtq_avail, reached first because
#            both indices are 0, returns the same error.
#  V52       virtq_break keeping the first error: every entry point returns
#            VSE_ERR_VQ_BROKEN before a second error can arise.
#  V73       chain copy skipping a segment at off == len: the mutant copies
#            0 bytes from it and goes on with off = 0, the same result.
#  V51, V58, V61, V72  the C11 fences: on x86-64 (TSO) with relaxed atomic
#            ring accesses nothing observable changes in one process;
#            test_two_threads exercises them on weakly ordered hosts.
equivalent="G20 G21 G23 V15 V49 V52 V73"
fences="V51 V58 V61 V72"

G=src/virtio/guestmem.c
V=src/virtio/virtq.c
H=src/virtio/virtio-ring.h

# ---- guest memory ---------------------------------------------------------
m G01 $G 's#len - 1 > UINT64_MAX - gpa#len - 1 >= UINT64_MAX - gpa#' \
    'range_wraps off by one (> to >=)'
m G02 $G 's#if (size == 0 || hva == NULL)#if (hva == NULL)#' \
    'add_region: zero size accepted'
m G03 $G 's#if (size == 0 || hva == NULL)#if (size == 0)#' \
    'add_region: NULL hva accepted'
m G04 $G '/^guestmem_add_region(/,/^}/s#if (range_wraps(gpa, size))#if (0)#' \
    'add_region: wrapping region accepted'
m G05 $G 's#if (gm->nregions == GUESTMEM_MAX_REGIONS)#if (0)#' \
    'add_region: table-full check removed'
m G06 $G 's#if (gpa <= r->gpa + (r->size - 1) && r->gpa <= gpa + (size - 1))#if (0)#' \
    'add_region: overlap check removed'
m G07 $G 's#if (gpa <= r->gpa + (r->size - 1) &&#if (gpa < r->gpa + (r->size - 1) \&\&#' \
    'add_region: overlap, new start vs old end off by one'
m G08 $G 's#&& r->gpa <= gpa + (size - 1))#\&\& r->gpa < gpa + (size - 1))#' \
    'add_region: overlap, old start vs new end off by one'
m G09 $G 's#if (at == gm->nregions && gpa < r->gpa)#if (at == gm->nregions \&\& gpa > r->gpa)#' \
    'add_region: sort order broken'
m G10 $G 's#if (gpa >= r->gpa && gpa - r->gpa < r->size)#if (gpa > r->gpa \&\& gpa - r->gpa < r->size)#' \
    'region_of: first byte of a region missed'
m G11 $G 's#gpa - r->gpa < r->size)#gpa - r->gpa <= r->size)#' \
    'region_of: one byte past a region accepted'
m G12 $G 's#if (len > 0 && range_wraps(gpa, len)) {#if (0) {#' \
    'map: wrap check removed'
m G13 $G 's#if (len > 0 && range_wraps(gpa, len)) {#if (range_wraps(gpa, len)) {#' \
    'map: len 0 special case removed'
m G14 $G 's#if (len > r->size - off) {#if (len >= r->size - off) {#' \
    'map: region end off by one'
m G15 $G 's#if (len > r->size - off) {#if (0) {#' \
    'map: region end check removed'
m G16 $G 's#-VSE_ERR_MEM_SPLIT : -VSE_ERR_MEM_UNMAPPED#-VSE_ERR_MEM_UNMAPPED : -VSE_ERR_MEM_UNMAPPED#' \
    'map: split not told from hole'
m G17 $G '/^guestmem_check(/,/^}/s#if (len == 0)#if (0)#' \
    'check: len 0 shortcut removed'
m G18 $G '/^guestmem_check(/,/^}/s#if (range_wraps(gpa, len))#if (0)#' \
    'check: wrap check removed'
m G19 $G 's#if (len <= avail)#if (len < avail)#' \
    'check: region end off by one'
m G20 $G 's#steps <= GUESTMEM_MAX_REGIONS#steps < GUESTMEM_MAX_REGIONS#' \
    'check: step bound off by one'
m G21 $G 's#steps <= GUESTMEM_MAX_REGIONS#1#' \
    'check: step bound removed'
m G22 $G '/^guestmem_check(/,/^}/s#^\t\tif (r == NULL)$#\t\tif (0)#' \
    'check: hole inside the range ignored'
m G23 $G 's#if (r != NULL && len <= r->size - (gpa - r->gpa)) {#if (r != NULL \&\& len < r->size - (gpa - r->gpa)) {#' \
    'copy: fast path off by one'
m G24 $G 's#if (r != NULL && len <= r->size - (gpa - r->gpa)) {#if (r != NULL) {#' \
    'copy: fast path bound removed'
m G25 $G '/^guestmem_copy(/,/^}/s#if (e < 0)#if (0)#' \
    'copy: check result ignored'
m G26 $G 's#chunk = r->size - off < len ? r->size - off : len;#chunk = len;#' \
    'copy: chunk not clipped at region end'

# ---- ring layout helpers --------------------------------------------------
m H01 $H 's#< (uint16_t)(new_idx - old_idx)#<= (uint16_t)(new_idx - old_idx)#' \
    'need_event: < to <='
m H02 $H 's#(uint16_t)(new_idx - event_idx - 1)#(uint16_t)(new_idx - event_idx)#' \
    'need_event: -1 dropped'
m H03 $H 's#&& (num & (num - 1)) == 0#\&\& 1#' \
    'size_valid: power of two not required'
m H04 $H 's#num <= VIRTQ_MAX_SIZE#num < VIRTQ_MAX_SIZE#' \
    'size_valid: 32768 refused'

# ---- virtqueue setup ------------------------------------------------------
m V01 $V 's#if (gpa % align != 0)#if (0)#' 'setup: gpa alignment unchecked'
m V02 $V 's#if ((uintptr_t)p % align != 0)#if (0)#' \
    'setup: host pointer alignment unchecked'
m V03 $V 's#if (!virtq_size_valid(num))#if (0)#' 'setup: queue size unchecked'
m V04 $V 's#avail_len = virtq_avail_bytes(num) - (event_idx ? 0 : 2);#avail_len = virtq_avail_bytes(num) - 2;#' \
    'setup: used_event word not mapped with EVENT_IDX'
m V05 $V 's#used_len = virtq_used_bytes(num) - (event_idx ? 0 : 2);#used_len = virtq_used_bytes(num) - 2;#' \
    'setup: avail_event word not mapped with EVENT_IDX'
m V06 $V '/^virtq_set_base(/,/^}/s#vq->last_avail_idx = last_avail_idx;#;#' \
    'set_base: last_avail_idx ignored'
m V07 $V '/^virtq_set_base(/,/^}/s#vq->shadow_avail_idx = last_avail_idx;#;#' \
    'set_base: shadow idx not reset'
m V08 $V 's#vq->used_idx = ring_load16(vq->used + VIRTQ_USED_IDX);#vq->used_idx = 0;#' \
    'set_base: used idx not taken from the ring'
m V09 $V '/^virtq_set_base(/,/^}/s#vq->signalled_used_valid = false;#vq->signalled_used_valid = true;#' \
    'set_base: first notify decision not forced'

# ---- avail index ----------------------------------------------------------
m V10 $V 's#if (pending > vq->num)#if (pending >= vq->num)#' \
    'avail: distance off by one'
m V11 $V 's#if (pending > vq->num)#if (0)#' 'avail: distance unchecked'
m V12 $V 's#return virtq_break(vq, -VSE_ERR_AVAIL_IDX);#return -VSE_ERR_AVAIL_IDX;#' \
    'avail: bad distance does not break the queue'
m V13 $V '/^virtq_avail(/,/^}/s#if (vq->broken)#if (0)#' \
    'avail: broken queue still reads the ring'
m V14 $V '/^virtq_avail(/,/^}/s#if (vq->num == 0)#if (0)#' \
    'avail: queue not set up still reads'

# ---- the walker -----------------------------------------------------------
m V15 $V '/^read_desc(/,/^}/s#if (e < 0)#if (0)#' \
    'read_desc: indirect entry read failure ignored'
m V16 $V 's#if (!vq->indirect)#if (0)#' 'INDIRECT accepted when not negotiated'
m V17 $V '/^check_indirect(/,/^}/s#if (d->flags & VIRTQ_DESC_F_NEXT)#if (0)#' \
    'INDIRECT | NEXT accepted'
m V18 $V '/^check_indirect(/,/^}/s#if (d->len == 0)#if (0)#' \
    'empty indirect table accepted'
m V19 $V 's#if (d->len % sizeof(struct virtq_desc) != 0)#if (0)#' \
    'indirect length not a multiple of 16 accepted'
m V20 $V 's#if (d->len / sizeof(struct virtq_desc) > vq->num)#if (0)#' \
    'indirect table size unlimited'
m V21 $V 's#if (d->len / sizeof(struct virtq_desc) > vq->num)#if (d->len / sizeof(struct virtq_desc) >= vq->num)#' \
    'indirect table size limit off by one'
m V22 $V '/^check_indirect(/,/^}/s#if (e == -VSE_ERR_MEM_OVERFLOW)#if (0)#' \
    'indirect table wrap reported as unmapped'
m V23 $V '/^check_indirect(/,/^}/s#if (e < 0)#if (0)#' \
    'indirect table range unchecked'
m V24 $V 's#if (!writable && \*seen_write)#if (0)#' \
    'readable after writable accepted'
m V25 $V 's#\*seen_write |= writable;#*seen_write |= writable \&\& d->len != 0;#' \
    'empty writable buffer does not start the writable part'
m V26 $V '/^add_seg(/,/^}/s#if (d->len == 0)#if (0)#' \
    'zero-length buffers listed'
m V27 $V '/^add_seg(/,/^}/s#e = guestmem_check(vq->mem, d->addr, d->len);#e = 0;#' \
    'buffer range unchecked'
m V28 $V '/^add_seg(/,/^}/s#if (e == -VSE_ERR_MEM_OVERFLOW)#if (0)#' \
    'buffer wrap reported as unmapped'
m V29 $V '/^add_seg(/,/^}/s#if (e < 0)#if (0)#' \
    'buffer outside memory accepted'
m V30 $V 's#if (d->len > UINT32_MAX - c->write_len)#if (0)#' \
    'writable total overflow unchecked'
m V31 $V 's#if (d->len > UINT32_MAX - c->write_len)#if (d->len >= UINT32_MAX - c->write_len)#' \
    'writable total limit off by one'
m V32 $V 's#if (d->len > UINT32_MAX - c->read_len)#if (0)#' \
    'readable total overflow unchecked'
m V33 $V 's#if (d->len > UINT32_MAX - c->read_len)#if (d->len >= UINT32_MAX - c->read_len)#' \
    'readable total limit off by one'
m V34 $V 's#if (c->nseg == VIRTQ_CHAIN_MAX_SEGS)#if (c->nseg > VIRTQ_CHAIN_MAX_SEGS)#' \
    'segment limit off by one'
m V35 $V 's#if (c->nseg == VIRTQ_CHAIN_MAX_SEGS)#if (0)#' \
    'segment limit removed'
m V36 $V 's#c->nread = c->nseg;#;#' 'readable count not kept'
m V37 $V 's#if (++count > size)#if (++count >= size)#' \
    'loop bound off by one'
m V38 $V 's#if (++count > size)#if (0)#' 'loop bound removed'
m V39 $V 's#if (in_indirect)$#if (0)#' 'nested indirect accepted'
m V40 $V 's#^\t\t\tcount = 0;#\t\t\t;#' \
    'loop count not restarted in the indirect table'
m V41 $V 's#size = d.len / sizeof(struct virtq_desc);#size = vq->num;#' \
    'indirect table walked with the queue size'
m V42 $V 's#if (i >= size)#if (i > size)#' 'next bound off by one'
m V43 $V 's#if (i >= size)#if (0)#' 'next bound removed'

# ---- pop / push / unpop ---------------------------------------------------
m V44 $V 's#if (head >= vq->num)#if (head > vq->num)#' 'head bound off by one'
m V45 $V 's#if (head >= vq->num)#if (0)#' 'head bound removed'
m V46 $V 's#return virtq_break(vq, -VSE_ERR_HEAD_RANGE);#return -VSE_ERR_HEAD_RANGE;#' \
    'bad head does not break the queue'
m V47 $V '/^virtq_pop(/,/^}/s#return virtq_break(vq, e);#return e;#' \
    'walker error does not break the queue'
m V48 $V '/^virtq_pop(/,/^}/s#if (vq->broken)#if (0)#' \
    'pop: broken queue still walks'
m V49 $V '/^virtq_pop(/,/^}/s#if (vq->num == 0)#if (0)#' \
    'pop: queue not set up still walks'
m V50 $V '/^virtq_pop(/,/^}/s#if (e <= 0)#if (e < 0)#' \
    'pop: empty ring still pops'
m V51 $V '/^virtq_pop(/,/^}/s#atomic_thread_fence(memory_order_acquire);#;#' \
    'pop: acquire fence removed'
m V52 $V 's#if (vq->broken == 0)#if (1)#' 'break: first error overwritten'
m V53 $V '/^virtq_rewind(/,/^}/s#vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);#;#' \
    'rewind: last_avail_idx not moved back'
m V54 $V '/^virtq_push(/,/^}/s#if (vq->broken)#if (0)#' \
    'push: broken queue still writes'
m V55 $V '/^virtq_push(/,/^}/s#if (vq->num == 0)#if (0)#' \
    'push: queue not set up still writes'
m V56 $V 's#if (id >= vq->num)#if (id > vq->num)#' 'push: id bound off by one'
m V57 $V 's#if (id >= vq->num)#if (0)#' 'push: id bound removed'
m V58 $V '/^virtq_push(/,/^}/s#atomic_thread_fence(memory_order_release);#;#' \
    'push: release fence removed'
m V59 $V 's#elem = vq->used + VIRTQ_USED_RING(vq->used_idx & (vq->num - 1));#elem = vq->used + VIRTQ_USED_RING((vq->used_idx + 1) \& (vq->num - 1));#' \
    'push: element written past the index'

# ---- notifications --------------------------------------------------------
m V60 $V '/^virtq_should_notify(/,/^}/s#if (vq->num == 0 || vq->broken)#if (0)#' \
    'should_notify: broken queue still reads the ring'
m V61 $V '/^virtq_should_notify(/,/^}/s#atomic_thread_fence(memory_order_seq_cst);#;#' \
    'should_notify: full fence removed'
m V62 $V 's#if (!vq->used_since_signal)#if (0)#' \
    'should_notify: nothing-new shortcut removed'
m V63 $V 's#VIRTQ_AVAIL_F_NO_INTERRUPT);#0);#' 'NO_INTERRUPT ignored'
m V64 $V 's#notify = !valid || virtq_need_event#notify = virtq_need_event#' \
    'EVENT_IDX: first decision not forced'
m V65 $V '/^virtq_should_notify(/,/^}/s#if (!vq->event_idx)#if (1)#' \
    'EVENT_IDX: used_event ignored'
m V66 $V '/^virtq_should_notify(/,/^}/s#vq->signalled_used = new;#;#' \
    'should_notify: decision point not recorded'
m V67 $V '/^virtq_set_notification(/,/^}/s#if (vq->num == 0 || vq->broken)#if (0)#' \
    'set_notification: broken queue still writes'
m V68 $V '/^virtq_set_notification(/,/^}/s#^\t\tif (enable)$#\t\tif (0)#' \
    'EVENT_IDX: avail_event never written'
m V69 $V 's#vq->shadow_avail_idx);#(uint16_t)(vq->shadow_avail_idx + 1));#' \
    'EVENT_IDX: avail_event off by one'
m V70 $V 's#enable ? 0 : VIRTQ_USED_F_NO_NOTIFY#enable ? VIRTQ_USED_F_NO_NOTIFY : 0#' \
    'NO_NOTIFY inverted'
m V71 $V 's#enable ? 0 : VIRTQ_USED_F_NO_NOTIFY#0#' 'NO_NOTIFY never set'
m V72 $V '/^virtq_set_notification(/,/^}/s#atomic_thread_fence(memory_order_seq_cst);#;#' \
    'set_notification: full fence removed'

# ---- chain copies ---------------------------------------------------------
m V73 $V 's#if (off >= s->len) {#if (off > s->len) {#' 'copy: segment skip off by one'
m V74 $V 's#return len == 0 ? 0 : -VSE_ERR_INVAL;#return 0;#' \
    'copy: short chain not reported'
m V75 $V 's#chunk = s->len - off < len ? s->len - off : len;#chunk = len;#' \
    'copy: chunk not clipped at segment end'
m V76 $V 's#return chain_copy(vq, chain, 0, chain->nread, off, dst, len, false);#return chain_copy(vq, chain, 0, chain->nseg, off, dst, len, false);#' \
    'chain_read runs into the writable part'

# ---- review fixes: sticky broken state, unpop, used idx lap ----------------
m V77 $V '/^virtq_set_base(/,/^}/s#if (vq->broken)#if (0)#' \
    'set_base: broken queue still reads used idx'
m V78 $V '/^chain_copy(/,/^}/s#if (vq->broken)#if (0)#' \
    'chain copy: broken queue still copies'
m V79 $V '/^chain_copy(/,/^}/s#if (vq->num == 0)#if (0)#' \
    'chain copy: reset queue still copies'
m V80 $V 's#if (vq->used_idx == vq->signalled_used)#if (0)#' \
    'EVENT_IDX: used idx lap not detected'
m V81 $V 's#vq->used_since_signal = false;#;#' \
    'should_notify: pushed flag never cleared'
m V82 $V 's#if (n > vq->rewindable)#if (0)#' 'rewind: unguarded'
m V83 $V '/^virtq_push(/,/^}/s#rewind_forget(vq, id);#;#' \
    'rewind: pushed chain still given back'
m V84 $V '/^virtq_rewind(/,/^}/s#if (vq->broken)#if (0)#' \
    'rewind: broken queue rewinds'
m V85 $V '/^virtq_rewind(/,/^}/s#vq->rewindable = (uint16_t)(vq->rewindable - n);#;#' \
    'rewind: may give back twice'
m V86 $V 's#if (vq->rewindable < VIRTQ_REWIND_MAX)#if (1)#' \
    'rewind: more than VIRTQ_REWIND_MAX heads remembered'
m V87 $V '/^virtq_set_base(/,/^}/s#vq->rewindable = 0;#;#' \
    'rewind: chains from before a new base given back'
m V88 $V '/^rewind_forget(/,/^}/s#vq->rewindable = j;#vq->rewindable = 0;#' \
    'rewind: a push of an older chain forgets the newer ones'
m V89 $V '/^rewind_forget(/,/^}/s#vq->rewindable = j;#{ if (j + 1 == vq->rewindable) vq->rewindable = j; else continue; }#' \
    'rewind: the oldest pop of a twice-published head counts'
m V90 $V '/^virtq_rewind(/,/^}/s#vq->stats.popped -= n;#;#' \
    'rewind: popped count not given back'

# ---- report ---------------------------------------------------------------
echo
echo "mutant	status	killed by	description"
cat "$results"
total=$(wc -l <"$results")
killed=$(grep -c '	KILLED	' "$results")
known=$(grep -c '	EQUIVALENT	\|	FENCE	' "$results")
echo "mutate.sh: $killed/$total killed, $known known equivalent or fence"

if grep -q '	SURVIVED	\|	NOT-APPLIED	\|	NOBUILD	' "$results"; then
	exit 1
fi
exit 0
