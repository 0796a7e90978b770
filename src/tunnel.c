/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules of one tunnel (tunnel.h): every rule once, in key order. */
#include "tunnel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const char *tunnel_key_name(enum tunnel_key k)
{
	switch (k) {
	case TK_NAME: return "name";
	case TK_FROM_PEER: return "from.peer";
	case TK_FROM_TEID: return "from.teid";
	case TK_TO_PEER: return "to.peer";
	case TK_TO_TEID: return "to.teid";
	case TK_UE: return "ue";
	case TK_QFI: return "qfi";
	case TK_RATE: return "rate";
	case TK_BURST: return "burst";
	case TK__COUNT: break;
	}
	return "?";
}

struct run {
	const struct tunnel_ctx *ctx;
	unsigned bad;
};

static void fail(struct run *r, enum tunnel_key k, int index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct run *r, enum tunnel_key k, int index, const char *fmt, ...)
{
	char m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	r->bad++;
	if (r->ctx->err)
		r->ctx->err(r->ctx->ud, k, index, m);
}

static bool given(struct run *r, const struct tunnel_in *in, enum tunnel_key k, bool required)
{
	if (in->has & TK_BIT(k))
		return true;
	if (required)
		fail(r, k, -1, "missing");
	return false;
}

/* A number in [min, max]; false (told) otherwise. */
static bool in_range(struct run *r, enum tunnel_key k, int64_t x, int64_t min, int64_t max)
{
	if (x >= min && x <= max)
		return true;
	fail(r, k, -1, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", x, min, max);
	return false;
}

static void peer(struct run *r, const struct tunnel_in *in, enum tunnel_key k, const char *name,
		 uint32_t *out)
{
	int i;

	if (!given(r, in, k, true))
		return;
	/* A peer found has a valid name (the file's peers are checked): the
	 * rule is looked at only for one that is not, a million times less. */
	if (r->ctx->peer && (i = r->ctx->peer(r->ctx->ud, name)) >= 0) {
		*out = (uint32_t)i;
		return;
	}
	if (!conf_name_ok(name))
		fail(r, k, -1, "\"%s\" is not a valid name (%s)", name, CONF_NAME_RULE);
	else if (r->ctx->peer)
		fail(r, k, -1, "unknown peer \"%s\"", name);
}

static void teid(struct run *r, const struct tunnel_in *in, enum tunnel_key k, int64_t x, uint32_t *out)
{
	if (given(r, in, k, true) && in_range(r, k, x, TUNNEL_TEID_MIN, TUNNEL_TEID_MAX))
		*out = (uint32_t)x;
}

static void ue_list(struct run *r, const struct tunnel_in *in, struct conf_tunnel *out, struct conf_addr *ue)
{
	if (!given(r, in, TK_UE, false))
		return;
	if (r->ctx->has_tun == 0)
		fail(r, TK_UE, -1, "needs a TUN device, but there is no tun group");
	if (in->n_ue > CONF_MAX_UE) {
		fail(r, TK_UE, -1, "has %u entries, at most %u are allowed", in->n_ue, CONF_MAX_UE);
		return;
	}
	for (unsigned i = 0; i < in->n_ue; i++) {
		struct conf_addr a;
		unsigned j;

		if (conf_parse_addr(in->ue[i], &a) < 0) {
			fail(r, TK_UE, (int)i, "\"%s\" is not an IPv4 or IPv6 address", in->ue[i]);
			continue;
		}
		for (j = 0; j < out->n_ue && !conf_addr_same(&ue[j], &a); j++)
			;
		if (j < out->n_ue) {
			fail(r, TK_UE, (int)i, "%s is listed twice", in->ue[i]);
			continue;
		}
		ue[out->n_ue++] = a;
	}
	out->ue = out->n_ue ? ue : NULL;
}

unsigned tunnel_check(const struct tunnel_in *in, const struct tunnel_ctx *ctx,
		      struct conf_tunnel *out, struct conf_addr *ue)
{
	struct run r = { ctx, 0 };
	bool rate = false;

	memset(out, 0, sizeof(*out));
	out->qfi = -1;
	if (given(&r, in, TK_NAME, true)) {
		if (conf_name_ok(in->name))
			out->name = (char *)in->name;
		else
			fail(&r, TK_NAME, -1, "\"%s\" is not a valid name (%s)", in->name, CONF_NAME_RULE);
	}
	peer(&r, in, TK_FROM_PEER, in->from_peer, &out->from_peer);
	teid(&r, in, TK_FROM_TEID, in->from_teid, &out->from_teid);
	peer(&r, in, TK_TO_PEER, in->to_peer, &out->to_peer);
	teid(&r, in, TK_TO_TEID, in->to_teid, &out->to_teid);
	ue_list(&r, in, out, ue);
	/* On a relay tunnel qfi does nothing: a relayed G-PDU keeps its own
	 * PDU Session Container (gtpud.conf(5) says so). */
	if (given(&r, in, TK_QFI, false) && in_range(&r, TK_QFI, in->qfi, 0, TUNNEL_QFI_MAX))
		out->qfi = (int)in->qfi;
	if (given(&r, in, TK_RATE, false) && in_range(&r, TK_RATE, in->rate, 0, TUNNEL_RATE_MAX)) {
		out->rate = (uint64_t)in->rate;
		rate = in->rate > 0;
	}
	if (given(&r, in, TK_BURST, false) && in_range(&r, TK_BURST, in->burst, 0, TUNNEL_BURST_MAX)) {
		out->burst = (uint64_t)in->burst;
		if (in->burst > 0 && !rate)
			fail(&r, TK_BURST, -1, "has no effect without a rate");
	}
	return r.bad;
}
