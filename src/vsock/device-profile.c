/* device-profile.c - what each device profile decides, rule by rule, and where each rule comes from. */
#include "config.h"

#include <string.h>

#include "device.h"
#include "error.h"

/*
 * One row per profile, the only place its name is spelled: options,
 * reports and JSON go through vsock_profile_name()/_parse(), so a new row
 * is a new --profile value everywhere. Every field names the
 * implementation it reproduces; doc/connection-states.md ("Profiles") has
 * the same table for users.
 */
static const struct vsock_profile_rules profile_rules[] = {
	[VSOCK_PROFILE_FIRECRACKER] = {
		.name = "firecracker",
		/* csm/mod.rs: CONN_TX_BUF_SIZE */
		.buf_alloc = 64 * 1024,
		/* csm/mod.rs: CONN_SHUTDOWN_TIMEOUT_MS */
		.close_timeout = 2 * VSOCK_NS_PER_SEC,
		/* connection.rs: peer_needs_credit_update() */
		.update_policy = VSOCK_CREDIT_FIRECRACKER,
		/* connection.rs recv_pkt(): need_credit_update_from_peer() */
		.credit_request = true,
		/* connection.rs peer_avail_credit(): the peer's buffer alone */
		.credit_cap_own_buf = false,
		/* connection.rs send_pkt(): LocalInit drops all but RESPONSE */
		.connecting_reply_resets = false,
		/* send_pkt(), SHUTDOWN with tx_buf not empty: expiry */
		.peer_close_timer = true,
		/* packet.rs VsockPacketTx::parse(): only hdr.len is bounded */
		.tx_chain_max = 0,
		/* connection.rs send_pkt(), recv_pkt(), notify() */
		.close_rules = VSOCK_CLOSE_FIRECRACKER,
		/*
		 * muxer.rs handle_peer_request_pkt(): a blocking
		 * UnixStream::connect(PATH_port), which Linux's AF_UNIX makes
		 * wait while the listener's queue is full
		 * (unix_stream_connect() -> unix_wait_for_peer()); RST only
		 * when it fails.
		 */
		.host_backlog_waits = true,
	},
	[VSOCK_PROFILE_LINUX] = {
		.name = "linux",
		/* VIRTIO_VSOCK_DEFAULT_BUF_SIZE */
		.buf_alloc = 256 * 1024,
		/* af_vsock.h: VSOCK_CLOSE_TIMEOUT */
		.close_timeout = 8 * VSOCK_NS_PER_SEC,
		/*
		 * virtio_transport_stream_do_dequeue(): free space below one
		 * packet, or the queue below SO_RCVLOWAT (6.1.192 has it).
		 */
		.update_policy = VSOCK_CREDIT_LINUX,
		/*
		 * Nothing in virtio_transport_common.c sends CREDIT_REQUEST:
		 * a blocked sender waits for the reader's CREDIT_UPDATE
		 * (virtio_transport_stream_do_dequeue()).
		 */
		.credit_request = false,
		/*
		 * virtio_transport_get_credit() / _has_space() since "vsock/
		 * virtio: cap TX credit to local buffer size" (2026): bytes in
		 * flight <= min(peer_buf_alloc, buf_alloc). The Debian 6.1.192
		 * source has it (virtio_transport_tx_buf_size()); a 6.1 from
		 * before that fix would set this false.
		 */
		.credit_cap_own_buf = true,
		/* virtio_transport_recv_connecting(), default case: EPROTO */
		.connecting_reply_resets = true,
		/* virtio_transport_recv_connected(), SHUTDOWN: no timer */
		.peer_close_timer = false,
		/*
		 * vhost_vsock_alloc_skb(): a chain over MAX_PKT_BUF_SIZE +
		 * VIRTIO_VSOCK_SKB_HEADROOM (the header) is dropped.
		 */
		.tx_chain_max = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + VSOCK_HDR_SIZE,
		/* virtio_transport_close(), _recv_connected(), vsock_shutdown() */
		.close_rules = VSOCK_CLOSE_LINUX,
		/*
		 * virtio_transport_recv_listen(): sk_acceptq_is_full() ->
		 * virtio_transport_reset_no_sock(), at once.
		 */
		.host_backlog_waits = false,
	},
};

const struct vsock_profile_rules *
vsock_profile_rules(enum vsock_profile p)
{
	if ((unsigned)p >= sizeof(profile_rules) / sizeof(profile_rules[0]))
		return NULL;
	return &profile_rules[p];
}

const char *
vsock_profile_name(enum vsock_profile p)
{
	const struct vsock_profile_rules *r = vsock_profile_rules(p);

	return r != NULL ? r->name : NULL;
}

int
vsock_profile_parse(const char *name, enum vsock_profile *out)
{
	unsigned p;

	for (p = 0; p < sizeof(profile_rules) / sizeof(profile_rules[0]);
	    p++)
		if (strcmp(profile_rules[p].name, name) == 0) {
			*out = (enum vsock_profile)p;
			return 0;
		}
	return -VSE_ERR_INVAL;
}

uint32_t
vsock_profile_buf_alloc(enum vsock_profile p)
{
	const struct vsock_profile_rules *r = vsock_profile_rules(p);

	return r != NULL ? r->buf_alloc : 0;
}

vsock_time_t
vsock_profile_close_timeout(enum vsock_profile p)
{
	const struct vsock_profile_rules *r = vsock_profile_rules(p);

	return r != NULL ? r->close_timeout : 0;
}
