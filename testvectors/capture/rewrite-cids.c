/* rewrite-cids.c - give a loopback vsockmon capture (CID 1 <-> 1) a guest and a host. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

/*
 * usage: rewrite-cids [-H] [-g GUEST_CID] [-h HOST_CID] IN.pcap OUT.pcap
 *
 * Over vsock_loopback both ends of every connection are CID 1, so a trace
 * cannot say which end is the VM. The convention: the side that sends a
 * connection's first REQUEST is the guest (with -H: the host), the other
 * side the host. Both the af_vsockmon_hdr and the virtio header CIDs are
 * rewritten (GUEST_CID 3 and HOST_CID 2 by default); ports, payload and
 * timestamps are kept. A packet of a connection whose REQUEST the trace
 * does not hold, or one not between CID 1 and CID 1, is an error (exit 1).
 */

#define LINKTYPE_VSOCK	271
#define MON_HDR		32	/* struct af_vsockmon_hdr */
#define VIRTIO_HDR	44	/* struct virtio_vsock_hdr */
#define OP_REQUEST	1
#define MAX_CONNS	4096

/* One connection: its ports, and the port of the side that connected. */
struct conn {
	uint32_t a, b;		/* the two ports, a <= b */
	uint32_t connector;
};

static struct conn conns[MAX_CONNS];
static int nconns;

static uint32_t
get32(const u_char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const u_char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put64(u_char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (u_char)(v >> (8 * i));
}

/* The connection with ports sp and dp; a new one if op is REQUEST. */
static struct conn *
lookup(uint32_t sp, uint32_t dp, uint16_t op)
{
	uint32_t a = sp < dp ? sp : dp, b = sp < dp ? dp : sp;
	int i;

	/* Newest first: a port pair reused later is a new connection. */
	for (i = nconns - 1; i >= 0; i--)
		if (conns[i].a == a && conns[i].b == b)
			break;
	if (op == OP_REQUEST && (i < 0 || conns[i].connector != sp)) {
		if (nconns == MAX_CONNS)
			return NULL;
		i = nconns++;
		conns[i].a = a;
		conns[i].b = b;
		conns[i].connector = sp;
	}
	return i < 0 ? NULL : &conns[i];
}

/* Rewrites one record in place; -1 with a message if it cannot. */
static int
rewrite(u_char *rec, uint32_t caplen, uint64_t n, int host_connects,
    uint64_t guest, uint64_t host)
{
	u_char *v = rec + MON_HDR;
	uint32_t sp, dp;
	uint64_t src, dst;
	struct conn *c;

	if (caplen < MON_HDR + VIRTIO_HDR) {
		fprintf(stderr, "rewrite-cids: frame %" PRIu64 ": short\n", n);
		return -1;
	}
	src = get64(v);
	dst = get64(v + 8);
	sp = get32(v + 16);
	dp = get32(v + 20);
	if (src != 1 || dst != 1 || get64(rec) != 1 || get64(rec + 8) != 1) {
		fprintf(stderr, "rewrite-cids: frame %" PRIu64 ": not a "
		    "loopback packet (CID %" PRIu64 " > %" PRIu64 ")\n", n, src,
		    dst);
		return -1;
	}
	if ((c = lookup(sp, dp, (uint16_t)(v[30] | v[31] << 8))) == NULL) {
		fprintf(stderr, "rewrite-cids: frame %" PRIu64 ": port %" PRIu32
		    " > %" PRIu32 " before any REQUEST\n", n, sp, dp);
		return -1;
	}
	/* The connector is the guest unless the host connects (-H). */
	src = (sp == c->connector) != host_connects ? guest : host;
	dst = src == guest ? host : guest;
	put64(rec, src);
	put64(rec + 8, dst);
	put64(v, src);
	put64(v + 8, dst);
	return 0;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	uint64_t guest = 3, host = 2, n = 0;
	struct pcap_pkthdr *ph;
	const u_char *data;
	u_char *copy;
	pcap_dumper_t *d;
	pcap_t *p;
	int opt, r, host_connects = 0;

	while ((opt = getopt(argc, argv, "Hg:h:")) != -1) {
		switch (opt) {
		case 'H': host_connects = 1; break;
		case 'g': guest = strtoull(optarg, NULL, 0); break;
		case 'h': host = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: rewrite-cids [-H] [-g GUEST_CID] "
		    "[-h HOST_CID] IN.pcap OUT.pcap\n");
		return 2;
	}
	p = pcap_open_offline(argv[optind], err);
	if (p == NULL) {
		fprintf(stderr, "rewrite-cids: %s\n", err);
		return 1;
	}
	if (pcap_datalink(p) != LINKTYPE_VSOCK) {
		fprintf(stderr, "rewrite-cids: %s: link type %d, not vsock\n",
		    argv[optind], pcap_datalink(p));
		return 1;
	}
	if ((d = pcap_dump_open(p, argv[optind + 1])) == NULL) {
		fprintf(stderr, "rewrite-cids: %s\n", pcap_geterr(p));
		return 1;
	}
	while ((r = pcap_next_ex(p, &ph, &data)) == 1) {
		if ((copy = malloc(ph->caplen)) == NULL)
			return 1;
		memcpy(copy, data, ph->caplen);
		if (rewrite(copy, ph->caplen, ++n, host_connects, guest,
		    host) < 0)
			return 1;
		pcap_dump((u_char *)d, ph, copy);
		free(copy);
	}
	if (r != PCAP_ERROR_BREAK) {
		fprintf(stderr, "rewrite-cids: %s\n", pcap_geterr(p));
		return 1;
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
