/* ladder.h - a vsock session as ladder diagrams: frames grouped per connection, long runs collapsed, every bound fixed. */
#ifndef VSOCKEMU_LADDER_H
#define VSOCKEMU_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pcap-reader.h"

/*
 * The model behind `dump --html` and `replay --html` (doc/ladder.md): one
 * trace's frames, grouped into connections (a pair of CID:port endpoints;
 * a REQUEST starts a new one), each a list of rows in capture order. A run
 * of more than LADDER_RUN_SHOW data packets (RW, CREDIT_UPDATE,
 * CREDIT_REQUEST) is collapsed: its first rows show, the rest fold into
 * an expandable part holding at most LADDER_RUN_KEEP rows and the run's
 * last LADDER_RUN_TAIL, with what was left out counted. A capture is
 * untrusted: connections, rows and payload previews are bounded, so the
 * page's size is too, whatever the capture holds.
 */
#define LADDER_MAX_CONNS	256	/* drawn per trace; the rest counted */
#define LADDER_MAX_ROWS		6000	/* drawn per trace; the rest counted */
#define LADDER_RUN_FOLD_MIN	24	/* a run this long or less shows whole */
#define LADDER_RUN_SHOW		8	/* a longer one: rows shown before folding */
#define LADDER_RUN_KEEP		200	/* folded rows kept (expandable) */
#define LADDER_RUN_TAIL		3	/* a long run's last rows, kept */
#define LADDER_PREVIEW		64	/* payload bytes kept for the tooltip */

enum ladder_row_kind {
	LADDER_ROW_PACKET = 0,
	LADDER_ROW_OMITTED,		/* a run's rows not kept: counts only */
};

/* What the renderer marks on a row. */
#define LADDER_MARK_DROPPED	0x1	/* vsockemu's device refused it */
#define LADDER_MARK_SPLIT_TAP	0x2	/* Linux 6.1's split-RX tap */
#define LADDER_MARK_DIVERGED	0x4	/* replay's first divergence */
#define LADDER_MARK_CUT		0x8	/* the snaplen cut its payload */

/* One arrow (or, OMITTED, the count of a run's rows left out). */
struct ladder_row {
	enum ladder_row_kind kind;
	uint64_t frame;			/* trace frame number */
	uint64_t ts_ns;			/* since the trace's first frame */
	bool backwards;			/* the capture's time ran back */
	bool from_left;			/* sender is the left (guest) lane */
	bool folded;			/* inside a run's expandable part */
	unsigned marks;
	struct vsock_hdr hdr;
	uint32_t payload_len;		/* bytes the record holds */
	uint8_t preview[LADDER_PREVIEW];
	uint8_t preview_len;
	/* The sender's receive space as it advertises it: buf_alloc minus
	 * what its peer has sent and it has not yet counted in fwd_cnt. */
	uint32_t credit_free;
	bool credit_known;		/* false: no bar (mid-stream start) */
	/* OMITTED: what the run's left-out rows held. */
	uint64_t omitted_frames;
	uint64_t omitted_bytes[2];	/* [0] left->right, [1] right->left */
};

/* One connection: its two endpoints and its rows. */
struct ladder_conn {
	uint64_t left_cid, right_cid;
	uint32_t left_port, right_port;
	bool left_is_guest;		/* the directions were known */
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_* of its first frame */
	uint64_t frames;		/* all of them, drawn or not */
	uint64_t bytes[2];		/* RW payload: [0] left->right */
	struct ladder_row *rows;
	unsigned nrows, cap;
	/* Building: the run now open, and its last rows when folded. */
	unsigned run_len, run_start;	/* rows in it; its first's index */
	struct ladder_row tail[LADDER_RUN_TAIL];
	unsigned ntail;
	struct ladder_row omitted;	/* counts while the run is open */
	uint64_t sent[2];		/* RW bytes each way, for credit */
	struct ladder_conn *next;
};

/* One trace. */
struct ladder {
	uint64_t first_ns;
	bool have_first;
	uint64_t frames;		/* every frame fed */
	uint64_t undrawn_frames;	/* past LADDER_MAX_ROWS or _CONNS */
	unsigned nconns, nrows;
	uint64_t mark_frame;		/* 0: none */
	unsigned mark;
	struct ladder_conn *head, *tail;
};

void ladder_init(struct ladder *l);

/* Marks frame number n (say, replay's divergence): always drawn, unfolded. */
void ladder_mark(struct ladder *l, uint64_t n, unsigned mark);

/* Adds one frame; 0, or -1 out of memory (the ladder stays usable). */
int ladder_add(struct ladder *l, const struct vsock_pcap_frame *f);

/* Closes open runs: call once after the last frame, before drawing. */
void ladder_finish(struct ladder *l);

void ladder_free(struct ladder *l);

/*
 * Reads the capture at path into l (ladder_init'ed; finished on return).
 * Returns 0, or -1 with a message in err naming the file and frame.
 */
int ladder_read_file(struct ladder *l, const char *path, char *err,
    size_t errlen);

#endif
