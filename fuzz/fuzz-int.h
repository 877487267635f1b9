/* fuzz-int.h - the action encoding shared by the interpreter, the generator and the pcap importer. */
#ifndef VSE_FUZZ_INT_H
#define VSE_FUZZ_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * One action is an opcode byte (taken modulo FZ__OPS), then a fixed number
 * of argument bytes (fz_arg_bytes); FZ_RAW is followed by as many more bytes
 * as its length argument says. Arguments past the end of the input read as
 * zero, so a truncated stream still decodes.
 */
enum fz_op {
	FZ_PKT,		/* guest packet from fields: see exec.c pkt_build */
	FZ_RAW,		/* guest chain of raw bytes */
	FZ_LISTEN,	/* host listens on a port: accept, refuse or pending */
	FZ_HCONNECT,	/* host connects to a guest port */
	FZ_HCOMPLETE,	/* host finishes a pending guest connect */
	FZ_HSEND,	/* host application writes */
	FZ_HSHUTWR,	/* host application shuts down writing */
	FZ_HCLOSE,	/* host application closes or aborts */
	FZ_HCONSUME,	/* host application reads what it received */
	FZ_HLIMIT,	/* host application's receive buffer size (slow reader) */
	FZ_HERR,	/* next host read or write fails */
	FZ_HWMAX,	/* host application takes at most n bytes a write */
	FZ_RXPOST,	/* guest posts RX buffers of one shape */
	FZ_TIME,	/* virtual time jumps */
	FZ_KICK,	/* guest kicks a queue */
	FZ_FLOOD,	/* many packets of one kind, one kick */
	FZ_BADCHAIN,	/* a malformed chain from the adversarial builder */
	FZ_AVAIL,	/* avail index jumps */
	FZ_MUTATE,	/* a descriptor changes after publication */
	FZ_RESET,	/* transport reset */
	FZ__OPS
};

#define FZ_PKT_ARGS	24
#define FZ_RAW_MAX	512	/* raw chain length is taken modulo this */

extern const uint8_t fz_arg_bytes[FZ__OPS];

/* The argument bytes of one action. */
struct fz_args {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fz_u8(const struct fz_args *a, size_t i)
{
	return i < a->n ? a->p[i] : 0;
}

static inline uint16_t
fz_u16(const struct fz_args *a, size_t i)
{
	return (uint16_t)(fz_u8(a, i) | fz_u8(a, i + 1) << 8);
}

static inline uint32_t
fz_u32(const struct fz_args *a, size_t i)
{
	return (uint32_t)fz_u16(a, i) | (uint32_t)fz_u16(a, i + 2) << 16;
}

/*
 * Length of the action at p (avail bytes left), opcode and raw tail
 * included; never more than avail, never 0 when avail > 0.
 */
size_t fz_action_len(const uint8_t *p, size_t avail);

#endif
