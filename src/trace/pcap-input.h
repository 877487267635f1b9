/* pcap-input.h - a capture's bytes, read once from a file, pipe or stdin, gzip-compressed or not. */
#ifndef VSE_PCAP_INPUT_H
#define VSE_PCAP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * The reader's input (private to pcap-reader.c). Every byte is read once,
 * in order, from one descriptor, so a pipe, a FIFO, /dev/stdin or a process
 * substitution works as a file does. gzip is undone on the way (zlib passes
 * other data through unchanged); the first bytes are peeked, to be judged
 * before libpcap sees them, and are then read again from memory.
 */
struct pcap_input;

/* Bytes peeked: a classic pcap file header; a pcapng magic and more. */
#define PCAP_INPUT_HEAD		24

/*
 * Opens path ("-": standard input) and peeks its first bytes. On failure
 * returns -1 with a reason in our words, without the path, in why.
 */
int pcap_input_open(const char *path, struct pcap_input **out, char *why,
    size_t whylen);

/* The peeked bytes (fewer than PCAP_INPUT_HEAD only at the end of the data). */
const uint8_t *pcap_input_head(const struct pcap_input *in, size_t *n);

/* Was the data gzip-compressed? */
bool pcap_input_compressed(const struct pcap_input *in);

/*
 * A stdio stream over the input (peeked bytes first), for libpcap. Closing
 * it frees the input; without it, pcap_input_free does. Call once.
 */
FILE *pcap_input_stream(struct pcap_input *in);

/*
 * Reads up to size bytes on, as the stream does (peeked bytes first), but
 * into buf with no stdio buffer between: zlib reads a large request straight
 * from the descriptor. Only for a caller that knows the stream holds no byte
 * it has not consumed (pcap_input_delivered). Returns the bytes read, 0 at
 * the end of the data, -1 on an error (pcap_input_state says which).
 */
ssize_t pcap_input_read(struct pcap_input *in, void *buf, size_t size);

/* Bytes handed out so far, to the stream and by pcap_input_read. */
uint64_t pcap_input_delivered(const struct pcap_input *in);

/* What stopped the input, if anything. */
enum pcap_input_state {
	PCAP_INPUT_OK = 0,		/* more data may follow */
	PCAP_INPUT_ENDED,		/* the data ended cleanly */
	PCAP_INPUT_READ_ERROR,		/* read(2) failed */
	PCAP_INPUT_GZIP_CUT,		/* gzip data that ends in mid-stream */
	PCAP_INPUT_GZIP_DAMAGED,	/* gzip data that does not decompress */
};

enum pcap_input_state pcap_input_state(const struct pcap_input *in);

/* The state as a phrase in our words ("read error: ...", "damaged gzip data"). */
void pcap_input_describe(const struct pcap_input *in, char *buf, size_t len);

/* Frees an input whose stream was never made. */
void pcap_input_free(struct pcap_input *in);

#endif
