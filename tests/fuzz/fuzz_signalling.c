/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stateful libFuzzer harness for the signalling path: each input is a
 * sequence of datagrams (Echo Requests and Responses, Error Indications,
 * G-PDUs, anything) from peers and strangers, handed to rx_one in turn with
 * the peer upf awaiting the answer to an Echo Request. After each: a worker
 * told the control thread of an Echo Response only when it answers the
 * request awaited (so only it can bring the peer up or carry a Recovery
 * value); a peer counts as seen only for a G-PDU of its tunnels from its
 * address and port; the worker never writes a peer's state; and every
 * datagram is counted once. Built on fuzz_datapath.c's set-up. */
// FUZZ_SOURCES: src/gtpu.c src/conf.c src/conf_scan.c src/conf_syntax.c src/conf_addr.c src/tunnel.c src/table.c src/inner.c src/tun.c
// FUZZ_LIBS: -lconfig -lmnl -pthread
#define LLVMFuzzerTestOneInput fz_datapath_one
#include "fuzz_datapath.c"
#undef LLVMFuzzerTestOneInput

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AWAITED 0x1234u

static struct peer *peer_named(const char *name)
{
	for (uint32_t i = 0; i < fz_s->n_peers; i++)
		if (!strcmp(fz_s->peers[i]->name, name))
			return fz_s->peers[i];
	return NULL;
}

/* Whether a datagram from src is a G-PDU (or End Marker) of a tunnel of p,
 * from p's address and GTP-U port. */
static bool genuine_traffic(const struct peer *p, const uint8_t *pkt, size_t len,
			    const struct sockaddr_storage *src)
{
	struct gtpu_hdr h;
	uint32_t ti;

	if (gtpu_parse(pkt, len, &h) != GTPU_OK || (h.type != GTPU_GPDU && h.type != GTPU_END_MARKER))
		return false;
	if ((ti = state_lookup_teid(fz_s, h.teid)) == TUNNEL_NONE || fz_s->peers[fz_s->tunnels[ti].from_peer] != p)
		return false;
	if (src->ss_family != p->sa.ss_family)
		return false;
	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)&p->sa;

		return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer *upf;
	size_t off = 0;

	if (!fz_s)
		setup();
	upf = peer_named("upf");
	CHECK(upf);
	/* upf is down and awaits the answer to Echo Request AWAITED. */
	upf->state = PEER_DOWN;
	upf->seen = 0;
	upf->rsp_seq = 0;
	upf->rsp_recovery = 0;
	upf->echo_wait = AWAITED | 0x10000u;
	/* Each datagram: flags, port byte, length, bytes (as fuzz_datapath). */
	while (off + 3 <= size) {
		uint8_t flags = data[off] & (F_SRC | F_TRUNC | F_PKTINFO), port = data[off + 1];
		size_t len = data[off + 2];
		struct sockaddr_storage src;
		struct mmsghdr m;
		struct rxctx x = { &fz_w, fz_s, fz_w.scratch, 0, mono_ns() };
		uint8_t ctl[64], *buf;
		uint32_t seen_before = upf->seen;

		off += 3;
		if (len > size - off)
			len = size - off;
		CHECK((buf = malloc(GTPU_HEADROOM + len + 1)));
		memcpy(buf + GTPU_HEADROOM, data + off, len);
		off += len;
		memset(&m, 0, sizeof(m));
		m.msg_hdr.msg_namelen = make_src(flags, port & 1, &src);
		m.msg_hdr.msg_name = &src;
		x.sock = src.ss_family == AF_INET ? 0 : 1;
		if (flags & F_PKTINFO) {
			m.msg_hdr.msg_control = ctl;
			m.msg_hdr.msg_controllen = make_pktinfo(src.ss_family, ctl, sizeof(ctl));
		}
		m.msg_len = (unsigned)len;
		rx_one(&x, buf + GTPU_HEADROOM, &m, state_lookup_peer(fz_s, m.msg_hdr.msg_name));
		dp_tx_flush(&fz_w, fz_w.scratch);
		/* Only the answer awaited reaches the control thread. */
		CHECK(upf->rsp_seq == 0 || upf->rsp_seq == (AWAITED | 0x10000u));
		/* Only the peer's own traffic makes it seen. */
		if (!seen_before && upf->seen)
			CHECK(genuine_traffic(upf, data + off - len, len, &src));
		/* The worker never writes a peer's state. */
		CHECK(upf->state == PEER_DOWN);
		check_identity();
		free(buf);
		__atomic_store_n(&fz_w.ev_tail, __atomic_load_n(&fz_w.ev_head, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	}
	return 0;
}
