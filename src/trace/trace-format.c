/* trace-format.c - one way to print a vsock header: dump, replay and its reports share it. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "trace-format.h"

const char *
trace_flag_name(const struct vsock_hdr *h, unsigned bit)
{
	static const char *const shutdown[2] = { "RCV", "SEND" };
	static const char *const seq[2] = { "EOM", "EOR" };

	if (bit >= 2)
		return NULL;
	if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN)
		return shutdown[bit];
	if (h->op == VIRTIO_VSOCK_OP_RW &&
	    h->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return seq[bit];
	return NULL;
}

void
trace_format_flags(const struct vsock_hdr *h, char *buf, size_t len)
{
	uint32_t rest = h->flags;
	size_t off = 0;
	unsigned b;
	int n;

	buf[0] = '\0';
	for (b = 0; b < 2; b++) {
		const char *name = trace_flag_name(h, b);

		if (name == NULL || (rest & (1u << b)) == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off > 0 ? "|" : "",
		    name);
		/* A short buf truncates; off never passes its end. */
		off = n < 0 || (size_t)n >= len - off ? len - 1 : off + (size_t)n;
		rest &= ~(1u << b);
	}
	if (rest != 0)
		snprintf(buf + off, len - off, "%s0x%" PRIx32, off > 0 ? "|" :
		    "", rest);
	else if (off == 0)
		snprintf(buf, len, "0");
}

void
trace_format_type(const struct vsock_hdr *h, char *buf, size_t len)
{
	const char *name = vsock_type_name(h->type);

	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "unknown %u", h->type);
}

void
trace_format_hdr(const struct vsock_hdr *h, char *buf, size_t len)
{
	char type[24], flags[48];

	trace_format_type(h, type, sizeof(type));
	trace_format_flags(h, flags, sizeof(flags));
	snprintf(buf, len, "%" PRIu64 ":%" PRIu32 " > %" PRIu64 ":%" PRIu32
	    " %s %s flags %s len %" PRIu32 " buf_alloc %" PRIu32 " fwd_cnt %"
	    PRIu32, h->src_cid, h->src_port, h->dst_cid, h->dst_port, type,
	    vsock_op_name(h->op), flags, h->len, h->buf_alloc, h->fwd_cnt);
}
