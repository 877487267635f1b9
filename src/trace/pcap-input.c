/* pcap-input.c - a capture's bytes, read once from a file, pipe or stdin, through zlib. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "pcap-input.h"

/*
 * zlib reads its input in chunks of this size; stdio asks for twice as much
 * at a time, which zlib's pass-through mode reads straight into stdio's
 * buffer (no extra copy for an uncompressed capture).
 */
#define INPUT_GZ_BUF	(64 * 1024)
#define INPUT_STDIO_BUF	(2 * INPUT_GZ_BUF)

struct pcap_input {
	gzFile gz;
	uint8_t head[PCAP_INPUT_HEAD];
	size_t nhead, head_off;	/* peeked bytes, and how many were handed out */
	bool ended;		/* the data ended */
	int read_errno;		/* read(2) failed with this */
	int gz_err;		/* zlib found the gzip data damaged or cut short */
	uint64_t delivered;	/* bytes handed out, peeked ones included */
};

/* Reads on through zlib, noting why a read came back short. */
static ssize_t
input_read(struct pcap_input *in, void *buf, size_t size)
{
	int n, errnum, saved;

	n = gzread(in->gz, buf, size > INT_MAX ? INT_MAX : (unsigned)size);
	saved = errno;
	if (n > 0)
		return n;
	(void)gzerror(in->gz, &errnum);
	if (errnum == Z_ERRNO)
		in->read_errno = saved != 0 ? saved : EIO;
	else if (errnum != Z_OK)
		in->gz_err = errnum;	/* Z_BUF_ERROR: cut short */
	if (n == 0 || errnum == Z_BUF_ERROR)
		in->ended = true;
	return in->read_errno != 0 || in->gz_err != 0 ? -1 : 0;
}

/* The peeked bytes first, then the rest of the data; counts what it gives. */
ssize_t
pcap_input_read(struct pcap_input *in, void *buf, size_t size)
{
	size_t k = in->nhead - in->head_off;
	ssize_t n;

	if (k == 0) {
		if ((n = input_read(in, buf, size)) > 0)
			in->delivered += (uint64_t)n;
		return n;
	}
	if (k > size)
		k = size;
	memcpy(buf, in->head + in->head_off, k);
	in->head_off += k;
	in->delivered += k;
	return (ssize_t)k;
}

uint64_t
pcap_input_delivered(const struct pcap_input *in)
{
	return in->delivered;
}

/* stdio's read. */
static ssize_t
input_cookie_read(void *cookie, char *buf, size_t size)
{
	return pcap_input_read(cookie, buf, size);
}

static int
input_cookie_close(void *cookie)
{
	pcap_input_free(cookie);
	return 0;
}

void
pcap_input_free(struct pcap_input *in)
{
	if (in == NULL)
		return;
	if (in->gz != NULL)
		gzclose(in->gz);
	free(in);
}

/* The descriptor behind path: "-" is a duplicate of standard input. */
static int
input_fd(const char *path)
{
	if (strcmp(path, "-") == 0)
		return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int
pcap_input_open(const char *path, struct pcap_input **out, char *why,
    size_t whylen)
{
	struct pcap_input *in;
	struct stat st;
	ssize_t n;
	int fd;

	*out = NULL;
	if ((fd = input_fd(path)) < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* read(2) on a directory fails late and vaguely: say it now. */
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(why, whylen, "a directory, not a capture");
		return -1;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->gz = gzdopen(fd, "rb")) == NULL) {
		free(in);
		close(fd);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	gzbuffer(in->gz, INPUT_GZ_BUF);
	while (in->nhead < PCAP_INPUT_HEAD && (n = input_read(in,
	    in->head + in->nhead, PCAP_INPUT_HEAD - in->nhead)) > 0)
		in->nhead += (size_t)n;
	if (in->read_errno != 0 || in->gz_err != 0) {
		pcap_input_describe(in, why, whylen);
		pcap_input_free(in);
		return -1;
	}
	*out = in;
	return 0;
}

const uint8_t *
pcap_input_head(const struct pcap_input *in, size_t *n)
{
	*n = in->nhead;
	return in->head;
}

bool
pcap_input_compressed(const struct pcap_input *in)
{
	/* gzdirect: zlib passes the bytes through (decided on the first read). */
	return in->nhead > 0 && !gzdirect(in->gz);
}

FILE *
pcap_input_stream(struct pcap_input *in)
{
	static const cookie_io_functions_t io = {
		.read = input_cookie_read, .close = input_cookie_close,
	};
	FILE *f = fopencookie(in, "r", io);

	if (f != NULL)
		setvbuf(f, NULL, _IOFBF, INPUT_STDIO_BUF);
	return f;
}

enum pcap_input_state
pcap_input_state(const struct pcap_input *in)
{
	if (in->read_errno != 0)
		return PCAP_INPUT_READ_ERROR;
	if (in->gz_err == Z_BUF_ERROR)
		return PCAP_INPUT_GZIP_CUT;
	if (in->gz_err != 0)
		return PCAP_INPUT_GZIP_DAMAGED;
	return in->ended ? PCAP_INPUT_ENDED : PCAP_INPUT_OK;
}

void
pcap_input_describe(const struct pcap_input *in, char *buf, size_t len)
{
	switch (pcap_input_state(in)) {
	case PCAP_INPUT_READ_ERROR:
		snprintf(buf, len, "read error: %s", strerror(in->read_errno));
		break;
	case PCAP_INPUT_GZIP_CUT:
		snprintf(buf, len, "the gzip data is cut short");
		break;
	case PCAP_INPUT_GZIP_DAMAGED:
		snprintf(buf, len, "damaged gzip data");
		break;
	case PCAP_INPUT_ENDED:
		snprintf(buf, len, "the data ends");
		break;
	default:
		snprintf(buf, len, "no input error");
		break;
	}
}
