/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PFCP messages and IEs (pfcp_msg.h). Every read is bounded by the IE or
 * the message that holds it; nothing here trusts a length it did not check. */
#include "pfcp_msg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum pfcp_hdr_err pfcp_hdr_parse(const uint8_t *b, size_t n, struct pfcp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (n < 4)
		return PFCP_HDR_SHORT;
	h->version = b[0] >> 5;
	h->mp = b[0] & 0x02;
	h->has_seid = b[0] & 0x01;
	h->type = b[1];
	h->length = rd16(b + 2);
	if (h->version != PFCP_VERSION)
		return PFCP_HDR_VERSION;
	h->hdr_len = h->has_seid ? 16 : 8;
	if (n < h->hdr_len)
		return PFCP_HDR_SHORT;
	if ((size_t)h->length + 4 != n || h->length + 4u < h->hdr_len)
		return PFCP_HDR_LENGTH;
	if (h->has_seid) {
		h->seid = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
		b += 8;
	}
	h->seq = (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6];
	return PFCP_HDR_OK;
}

int pfcp_ie_next(struct pfcp_iter *it, struct pfcp_ie *ie)
{
	size_t left = (size_t)(it->end - it->p);

	memset(ie, 0, sizeof(*ie));
	if (!left)
		return 0;
	if (left < 4) {
		if (left >= 2)
			ie->type = rd16(it->p);
		return -1;
	}
	ie->type = rd16(it->p);
	ie->len = rd16(it->p + 2);
	if ((size_t)ie->len + 4 > left)
		return -1;
	ie->v = it->p + 4;
	it->p += 4 + (size_t)ie->len;
	if (ie->type & 0x8000) {  /* vendor-specific: an Enterprise ID first */
		if (ie->len < 2)
			return -1;
		ie->enterprise = rd16(ie->v);
		ie->v += 2;
		ie->len -= 2;
	}
	return 1;
}

bool pfcp_get_u8(const struct pfcp_ie *ie, uint8_t *v)
{
	if (ie->len < 1)
		return false;
	*v = ie->v[0];
	return true;
}

bool pfcp_get_u16(const struct pfcp_ie *ie, uint16_t *v)
{
	if (ie->len < 2)
		return false;
	*v = rd16(ie->v);
	return true;
}

bool pfcp_get_u32(const struct pfcp_ie *ie, uint32_t *v)
{
	if (ie->len < 4)
		return false;
	*v = rd32(ie->v);
	return true;
}

/* TS 29.244 8.2.3: flags, then TEID and addresses, or (CH) a CHOOSE ID. */
bool pfcp_get_fteid(const struct pfcp_ie *ie, struct pfcp_fteid *f)
{
	const uint8_t *p = ie->v, *end = ie->v + ie->len;

	memset(f, 0, sizeof(*f));
	if (ie->len < 1)
		return false;
	f->flags = *p++ & 0x0f;
	if (f->flags & PFCP_FTEID_CH) {
		if (f->flags & PFCP_FTEID_CHID) {
			if (p >= end)
				return false;
			f->choose_id = *p;
		}
		/* CH with neither family: the UP function cannot choose one. */
		return f->flags & (PFCP_FTEID_V4 | PFCP_FTEID_V6);
	}
	if (f->flags & PFCP_FTEID_CHID)
		return false;     /* CHID only with CH */
	if (end - p < 4)
		return false;
	f->teid = rd32(p);
	p += 4;
	if (f->flags & PFCP_FTEID_V4) {
		if (end - p < 4)
			return false;
		memcpy(f->v4, p, 4);
		p += 4;
	}
	if (f->flags & PFCP_FTEID_V6) {
		if (end - p < 16)
			return false;
		memcpy(f->v6, p, 16);
	}
	return f->flags & (PFCP_FTEID_V4 | PFCP_FTEID_V6);
}

/* 8.2.37: flags (V6 bit 1, V4 bit 2), SEID, IPv4, IPv6. */
bool pfcp_get_fseid(const struct pfcp_ie *ie, struct pfcp_fseid *f)
{
	const uint8_t *p = ie->v, *end = ie->v + ie->len;
	uint8_t fl;

	memset(f, 0, sizeof(*f));
	if (ie->len < 9)
		return false;
	fl = *p++;
	f->seid = (uint64_t)rd32(p) << 32 | rd32(p + 4);
	p += 8;
	if (fl & 0x02) {
		if (end - p < 4)
			return false;
		f->v4.family = AF_INET;
		memcpy(f->v4.a, p, 4);
		p += 4;
	}
	if (fl & 0x01) {
		if (end - p < 16)
			return false;
		f->v6.family = AF_INET6;
		memcpy(f->v6.a, p, 16);
	}
	return fl & 0x03;
}

/* 8.2.38: type in the low four bits; IPv4, IPv6 or an FQDN as labels. */
bool pfcp_get_node_id(const struct pfcp_ie *ie, struct pfcp_node_id *n)
{
	size_t len;

	memset(n, 0, sizeof(*n));
	if (ie->len < 1)
		return false;
	n->type = ie->v[0] & 0x0f;
	len = ie->len - 1u;
	switch (n->type) {
	case 0:
		if (len < 4)
			return false;
		len = 4;
		break;
	case 1:
		if (len < 16)
			return false;
		len = 16;
		break;
	case 2: {
		size_t i = 0;

		if (len < 1 || len > sizeof(n->v))
			return false;
		/* Labels, each with its length, that stay inside the IE. */
		while (i < len) {
			size_t l = ie->v[1 + i];

			if (l == 0 && i + 1 == len && i > 0)
				break;    /* a root label may end it */
			if (l == 0 || i + 1 + l > len)
				return false;
			i += 1 + l;
		}
		break;
	}
	default:
		return false;
	}
	n->len = (uint8_t)len;
	memcpy(n->v, ie->v + 1, len);
	return true;
}

void pfcp_node_id_str(const struct pfcp_node_id *n, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = 0;
	if (n->type == 0) {
		inet_ntop(AF_INET, n->v, buf, (socklen_t)len);
	} else if (n->type == 1) {
		inet_ntop(AF_INET6, n->v, buf, (socklen_t)len);
	} else if (n->type == 2) {
		size_t o = 0;

		for (size_t i = 0; i < n->len && n->v[i];) {
			size_t l = n->v[i++];

			for (size_t k = 0; k < l && i < n->len; k++, i++) {
				char c = (char)n->v[i];

				if (o + 2 >= len)
					goto done;
				buf[o++] = isalnum((unsigned char)c) || c == '-' ? c : '_';
			}
			if (i < n->len && n->v[i] && o + 2 < len)
				buf[o++] = '.';
		}
done:
		buf[o] = 0;
	}
}

bool pfcp_node_id_eq(const struct pfcp_node_id *a, const struct pfcp_node_id *b)
{
	return a->type == b->type && a->len == b->len && !memcmp(a->v, b->v, a->len);
}

bool pfcp_node_id_parse(const char *s, struct pfcp_node_id *n)
{
	size_t o = 0;

	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->v) == 1) {
		n->len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, n->v) == 1) {
		n->type = 1;
		n->len = 16;
		return true;
	}
	n->type = 2;
	while (*s) {
		size_t l = strcspn(s, ".");

		if (l == 0 || l > 63 || o + 1 + l > sizeof(n->v))
			return false;
		n->v[o++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++) {
			if (!isalnum((unsigned char)s[i]) && s[i] != '-')
				return false;
			n->v[o++] = (uint8_t)s[i];
		}
		s += l;
		if (*s == '.')
			s++;
	}
	n->len = (uint8_t)o;
	return o > 0;
}

/* 8.2.56: a 16-bit description, then TEID, IPv4, IPv6, port as it says. */
bool pfcp_get_ohc(const struct pfcp_ie *ie, struct pfcp_ohc *o)
{
	const uint8_t *p = ie->v, *end = ie->v + ie->len;

	memset(o, 0, sizeof(*o));
	if (ie->len < 2)
		return false;
	o->desc = rd16(p);
	p += 2;
	if (o->desc & (PFCP_OHC_GTPU_V4 | PFCP_OHC_GTPU_V6)) {
		if (end - p < 4)
			return false;
		o->teid = rd32(p);
		p += 4;
	}
	if (o->desc & (PFCP_OHC_GTPU_V4 | PFCP_OHC_UDP_V4 | PFCP_OHC_IPV4)) {
		if (end - p < 4)
			return false;
		memcpy(o->v4, p, 4);
		p += 4;
	}
	if (o->desc & (PFCP_OHC_GTPU_V6 | PFCP_OHC_UDP_V6 | PFCP_OHC_IPV6)) {
		if (end - p < 16)
			return false;
		memcpy(o->v6, p, 16);
		p += 16;
	}
	if (o->desc & (PFCP_OHC_UDP_V4 | PFCP_OHC_UDP_V6)) {
		if (end - p < 2)
			return false;
		o->port = rd16(p);
	}
	return true;
}

/* 8.2.62: flags, IPv4, IPv6, then fields gtpud does not use. */
bool pfcp_get_ueip(const struct pfcp_ie *ie, struct pfcp_ueip *u)
{
	const uint8_t *p = ie->v, *end = ie->v + ie->len;

	memset(u, 0, sizeof(*u));
	if (ie->len < 1)
		return false;
	u->flags = *p++;
	if (u->flags & PFCP_UEIP_V4) {
		if (end - p < 4)
			return false;
		memcpy(u->v4, p, 4);
		p += 4;
	}
	if (u->flags & PFCP_UEIP_V6) {
		if (end - p < 16)
			return false;
		memcpy(u->v6, p, 16);
	}
	return true;
}

/* 8.2.5: flags (FD bit 1), a spare octet, then the Flow Description's
 * length and text. gtpud has no packet filters: it takes only the filter
 * that selects everything. */
bool pfcp_sdf_all_ip(const struct pfcp_ie *ie)
{
	static const char *const ok[] = {
		"permit out ip from any to any", "permit out ip from any to assigned",
		"permit out ip from assigned to any", "permit out 0 from any to any",
		"permit out 0 from any to assigned", "permit out 0 from assigned to any",
	};
	char text[64];
	size_t l, o = 0;

	if (ie->len < 2 || (ie->v[0] & 0x1e))   /* TTC, SPI, FL or BID: a real filter */
		return false;
	if (!(ie->v[0] & 0x01))
		return ie->len == 2;       /* no flow description: matches all */
	if (ie->len < 4)
		return false;
	l = rd16(ie->v + 2);
	if (l + 4 > ie->len || l >= sizeof(text))
		return false;
	/* Compare with single blanks and without case. */
	for (size_t i = 0; i < l; i++) {
		char c = (char)tolower((unsigned char)ie->v[4 + i]);

		if (c == ' ' || c == '\t') {
			if (o && text[o - 1] != ' ')
				text[o++] = ' ';
		} else {
			text[o++] = c;
		}
	}
	while (o && text[o - 1] == ' ')
		o--;
	text[o] = 0;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(text, ok[i]))
			return true;
	return false;
}

/* ---- writing ---- */

static uint8_t *room(struct pfcp_buf *w, size_t n)
{
	uint8_t *p;

	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return NULL;
	}
	p = w->b + w->len;
	w->len += n;
	return p;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

void pfcp_msg_begin(struct pfcp_buf *w, uint8_t type, bool has_seid, uint64_t seid, uint32_t seq)
{
	uint8_t *p;

	w->len = 0;
	w->overflow = false;
	if (!(p = room(w, has_seid ? 16 : 8)))
		return;
	p[0] = PFCP_VERSION << 5 | (has_seid ? 1 : 0);
	p[1] = type;
	if (has_seid) {
		wr32(p + 4, (uint32_t)(seid >> 32));
		wr32(p + 8, (uint32_t)seid);
		p += 8;
	}
	p[4] = (uint8_t)(seq >> 16);
	p[5] = (uint8_t)(seq >> 8);
	p[6] = (uint8_t)seq;
	p[7] = 0;
}

void pfcp_msg_end(struct pfcp_buf *w)
{
	if (!w->overflow && w->len >= 4)
		wr16(w->b + 2, (uint16_t)(w->len - 4));
}

void pfcp_put(struct pfcp_buf *w, uint16_t type, const void *v, size_t len)
{
	uint8_t *p;

	if (len > 0xffff || !(p = room(w, 4 + len)))
		return;
	wr16(p, type);
	wr16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + 4, v, len);
}

void pfcp_put_u8(struct pfcp_buf *w, uint16_t type, uint8_t v)
{
	pfcp_put(w, type, &v, 1);
}

void pfcp_put_u16(struct pfcp_buf *w, uint16_t type, uint16_t v)
{
	uint8_t b[2];

	wr16(b, v);
	pfcp_put(w, type, b, 2);
}

void pfcp_put_u32(struct pfcp_buf *w, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	pfcp_put(w, type, b, 4);
}

void pfcp_put_fteid(struct pfcp_buf *w, const struct pfcp_fteid *f)
{
	uint8_t b[25];
	size_t n = 0;

	b[n++] = f->flags & (PFCP_FTEID_V4 | PFCP_FTEID_V6);
	wr32(b + n, f->teid);
	n += 4;
	if (f->flags & PFCP_FTEID_V4) {
		memcpy(b + n, f->v4, 4);
		n += 4;
	}
	if (f->flags & PFCP_FTEID_V6) {
		memcpy(b + n, f->v6, 16);
		n += 16;
	}
	pfcp_put(w, IE_F_TEID, b, n);
}

void pfcp_put_fseid(struct pfcp_buf *w, uint64_t seid, const struct pfcp_addr *v4,
		    const struct pfcp_addr *v6)
{
	uint8_t b[29];
	size_t n = 1;

	b[0] = (v4 && v4->family ? 0x02 : 0) | (v6 && v6->family ? 0x01 : 0);
	wr32(b + n, (uint32_t)(seid >> 32));
	wr32(b + n + 4, (uint32_t)seid);
	n += 8;
	if (b[0] & 0x02) {
		memcpy(b + n, v4->a, 4);
		n += 4;
	}
	if (b[0] & 0x01) {
		memcpy(b + n, v6->a, 16);
		n += 16;
	}
	pfcp_put(w, IE_F_SEID, b, n);
}

void pfcp_put_node_id(struct pfcp_buf *w, const struct pfcp_node_id *n)
{
	uint8_t b[256];

	b[0] = n->type;
	memcpy(b + 1, n->v, n->len);
	pfcp_put(w, IE_NODE_ID, b, 1u + n->len);
}

size_t pfcp_group_begin(struct pfcp_buf *w, uint16_t type)
{
	size_t at = w->len;
	uint8_t *p = room(w, 4);

	if (p)
		wr16(p, type);
	return at;
}

void pfcp_group_end(struct pfcp_buf *w, size_t at)
{
	if (!w->overflow && w->len - at - 4 <= 0xffff)
		wr16(w->b + at + 2, (uint16_t)(w->len - at - 4));
	else
		w->overflow = true;
}

/* ---- rules ---- */

void pfcp_fail_set(struct pfcp_fail *f, uint8_t cause, uint16_t offending, const char *fmt, ...)
{
	va_list ap;

	f->cause = cause;
	f->offending = offending;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

static bool bad_len(struct pfcp_fail *f, uint16_t type, const char *what)
{
	pfcp_fail_set(f, PFCP_CAUSE_INVALID_LENGTH, type, "%s: invalid length", what);
	return false;
}

static bool walk_err(struct pfcp_fail *f, const struct pfcp_ie *ie, const char *where)
{
	pfcp_fail_set(f, PFCP_CAUSE_INVALID_LENGTH, ie->type, "%s: an IE runs past its end", where);
	return false;
}

static bool parse_pdi(const struct pfcp_ie *g, struct pfcp_pdr *p, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	int r;

	pfcp_iter_init(&it, g->v, g->len);
	while ((r = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_SOURCE_INTERFACE:
			if (!pfcp_get_u8(&ie, &p->src_if))
				return bad_len(f, ie.type, "Source Interface");
			p->src_if &= 0x0f;
			p->has |= PDR_HAS_SRC;
			break;
		case IE_F_TEID:
			if (!pfcp_get_fteid(&ie, &p->fteid)) {
				pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type,
					      "Local F-TEID: malformed");
				return false;
			}
			p->has |= PDR_HAS_FTEID;
			break;
		case IE_UE_IP_ADDRESS:
			if (!pfcp_get_ueip(&ie, &p->ue))
				return bad_len(f, ie.type, "UE IP Address");
			if (p->ue.flags & (PFCP_UEIP_CHV4 | PFCP_UEIP_CHV6 | PFCP_UEIP_IPV6D)) {
				pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
					      "UE IP Address: the UP function does not allocate UE addresses");
				return false;
			}
			if (!(p->ue.flags & (PFCP_UEIP_V4 | PFCP_UEIP_V6))) {
				pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type,
					      "UE IP Address: no address");
				return false;
			}
			p->has |= PDR_HAS_UE;
			break;
		case IE_NETWORK_INSTANCE:
			p->ni_len = (uint8_t)(ie.len < sizeof(p->ni) ? ie.len : sizeof(p->ni));
			memcpy(p->ni, ie.v, p->ni_len);
			p->has |= PDR_HAS_NI;
			break;
		case IE_QFI: {
			uint8_t q;

			if (!pfcp_get_u8(&ie, &q))
				return bad_len(f, ie.type, "QFI");
			p->qfi = (int8_t)(q & 0x3f);
			p->has |= PDR_HAS_QFI;
			break;
		}
		case IE_SDF_FILTER:
			if (!pfcp_sdf_all_ip(&ie)) {
				pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
					      "SDF Filter: only \"permit out ip from any to any\" (or assigned) is supported");
				return false;
			}
			break;
		case IE_APPLICATION_ID:
		case IE_CREATE_TRAFFIC_ENDPOINT:
		case 131:         /* Traffic Endpoint ID */
		case 132:         /* Ethernet Packet Filter */
			pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
				      "PDI: IE type %u is not supported", ie.type);
			return false;
		default:
			break;    /* unknown optional IEs are skipped */
		}
	}
	if (r < 0)
		return walk_err(f, &ie, "PDI");
	if (!(p->has & PDR_HAS_SRC)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_SOURCE_INTERFACE,
			      "PDI: Source Interface missing");
		return false;
	}
	return true;
}

static bool add_id(uint32_t *ids, uint8_t *n, uint32_t id)
{
	for (unsigned i = 0; i < *n; i++)
		if (ids[i] == id)
			return true;
	if (*n >= PFCP_MAX_IDS)
		return false;
	ids[(*n)++] = id;
	return true;
}

bool pfcp_parse_pdr(const struct pfcp_ie *g, bool update, struct pfcp_pdr *p, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	bool has_id = false;
	int r;

	memset(p, 0, sizeof(*p));
	p->ohr = PFCP_OHR_NONE;
	p->qfi = -1;
	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((r = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_PDR_ID:
			if (!pfcp_get_u16(&ie, &p->id))
				return bad_len(f, ie.type, "PDR ID");
			has_id = true;
			break;
		case IE_PRECEDENCE:
			if (!pfcp_get_u32(&ie, &p->precedence))
				return bad_len(f, ie.type, "Precedence");
			p->has |= PDR_HAS_PRECEDENCE;
			break;
		case IE_PDI:
			if (!parse_pdi(&ie, p, f))
				goto rule;
			p->has |= PDR_HAS_PDI;
			break;
		case IE_OUTER_HEADER_REMOVAL:
			if (!pfcp_get_u8(&ie, &p->ohr))
				return bad_len(f, ie.type, "Outer Header Removal");
			if (p->ohr != PFCP_OHR_GTPU_V4 && p->ohr != PFCP_OHR_GTPU_V6 &&
			    p->ohr != PFCP_OHR_GTPU_IP) {
				pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
					      "Outer Header Removal: description %u is not supported", p->ohr);
				goto rule;
			}
			p->has |= PDR_HAS_OHR;
			break;
		case IE_FAR_ID:
			if (!pfcp_get_u32(&ie, &p->far_id))
				return bad_len(f, ie.type, "FAR ID");
			p->has |= PDR_HAS_FAR;
			break;
		case IE_QER_ID:
		case IE_URR_ID: {
			uint32_t id;
			bool qer = ie.type == IE_QER_ID;

			if (!pfcp_get_u32(&ie, &id))
				return bad_len(f, ie.type, qer ? "QER ID" : "URR ID");
			if (!add_id(qer ? p->qer : p->urr, qer ? &p->n_qer : &p->n_urr, id)) {
				pfcp_fail_set(f, PFCP_CAUSE_NO_RESOURCES, ie.type,
					      "more than %d %s IDs in one PDR", PFCP_MAX_IDS, qer ? "QER" : "URR");
				goto rule;
			}
			break;
		}
		case 106:         /* Activate Predefined Rules */
		case 107:
			pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type, "predefined rules are not supported");
			goto rule;
		default:
			break;
		}
	}
	if (r < 0)
		return walk_err(f, &ie, update ? "Update PDR" : "Create PDR");
	if (!has_id) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_PDR_ID, "%s: PDR ID missing",
			      update ? "Update PDR" : "Create PDR");
		return false;
	}
	if (!update && !(p->has & PDR_HAS_PRECEDENCE)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_PRECEDENCE, "Create PDR %u: Precedence missing", p->id);
		goto rule;
	}
	if (!update && !(p->has & PDR_HAS_PDI)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_PDI, "Create PDR %u: PDI missing", p->id);
		goto rule;
	}
	return true;
rule:
	f->rule_type = PFCP_RULE_PDR;
	f->rule_id = p->id;
	return false;
}

static bool parse_fwd(const struct pfcp_ie *g, struct pfcp_far *r, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	int k;

	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_DESTINATION_INTERFACE:
			if (!pfcp_get_u8(&ie, &r->dst_if))
				return bad_len(f, ie.type, "Destination Interface");
			r->dst_if &= 0x0f;
			r->has |= FAR_HAS_DST;
			break;
		case IE_OUTER_HEADER_CREATION:
			if (!pfcp_get_ohc(&ie, &r->ohc))
				return bad_len(f, ie.type, "Outer Header Creation");
			if ((r->ohc.desc & ~(PFCP_OHC_GTPU_V4 | PFCP_OHC_GTPU_V6)) ||
			    !(r->ohc.desc & (PFCP_OHC_GTPU_V4 | PFCP_OHC_GTPU_V6)) ||
			    (r->ohc.desc & PFCP_OHC_GTPU_V4 && r->ohc.desc & PFCP_OHC_GTPU_V6)) {
				pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
					      "Outer Header Creation: only GTP-U/UDP/IPv4 or GTP-U/UDP/IPv6 is supported");
				return false;
			}
			if (r->ohc.teid == 0) {
				pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type,
					      "Outer Header Creation: TEID 0");
				return false;
			}
			r->has |= FAR_HAS_OHC;
			break;
		case IE_TRANSPORT_LEVEL_MARKING:
			if (ie.len < 2)
				return bad_len(f, ie.type, "Transport Level Marking");
			r->tos = ie.v[0];
			r->has |= FAR_HAS_TLM;
			break;
		case IE_NETWORK_INSTANCE:
			r->has |= FAR_HAS_NI;
			break;
		case IE_PFCPSMREQ_FLAGS:          /* in Update Forwarding Parameters */
			if (ie.len >= 1 && ie.v[0] & 0x02)
				r->sndem = true;
			break;
		case IE_FORWARDING_POLICY:
		case 98:                  /* Header Enrichment */
			pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type,
				      "Forwarding Parameters: IE type %u is not supported", ie.type);
			return false;
		default:
			break;
		}
	}
	if (k < 0)
		return walk_err(f, &ie, "Forwarding Parameters");
	return true;
}

bool pfcp_parse_far(const struct pfcp_ie *g, bool update, struct pfcp_far *r, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	bool has_id = false;
	int k;

	memset(r, 0, sizeof(*r));
	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_FAR_ID:
			if (!pfcp_get_u32(&ie, &r->id))
				return bad_len(f, ie.type, "FAR ID");
			has_id = true;
			break;
		case IE_APPLY_ACTION:
			if (!pfcp_get_u8(&ie, &r->action))
				return bad_len(f, ie.type, "Apply Action");
			r->has |= FAR_HAS_ACTION;
			break;
		case IE_FORWARDING_PARAMS:
		case IE_UPDATE_FORWARDING_PARAMS:
			if ((ie.type == IE_UPDATE_FORWARDING_PARAMS) != update) {
				pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type,
					      "%s Forwarding Parameters in %s FAR", update ? "" : "Update",
					      update ? "Update" : "Create");
				goto rule;
			}
			if (!parse_fwd(&ie, r, f))
				goto rule;
			r->has |= FAR_HAS_FWD;
			break;
		case IE_BAR_ID:
			if (!pfcp_get_u8(&ie, &r->bar_id))
				return bad_len(f, ie.type, "BAR ID");
			r->has |= FAR_HAS_BAR;
			break;
		case IE_DUPLICATING_PARAMS:
		case 105:                 /* Update Duplicating Parameters */
			pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type, "duplicating is not supported");
			goto rule;
		default:
			break;
		}
	}
	if (k < 0)
		return walk_err(f, &ie, update ? "Update FAR" : "Create FAR");
	if (!has_id) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_FAR_ID, "%s: FAR ID missing",
			      update ? "Update FAR" : "Create FAR");
		return false;
	}
	if (!update && !(r->has & FAR_HAS_ACTION)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_APPLY_ACTION,
			      "Create FAR %u: Apply Action missing", r->id);
		goto rule;
	}
	if (r->has & FAR_HAS_ACTION) {
		uint8_t a = r->action & (PFCP_AA_DROP | PFCP_AA_FORW | PFCP_AA_BUFF | PFCP_AA_NOCP | PFCP_AA_DUPL);

		if (a & PFCP_AA_DUPL) {
			pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, IE_APPLY_ACTION,
				      "FAR %u: Apply Action DUPL is not supported", r->id);
			goto rule;
		}
		/* NOCP asks for a report of the buffered packets: with BUFF. */
		if (a != PFCP_AA_DROP && a != PFCP_AA_FORW && a != PFCP_AA_BUFF &&
		    a != (PFCP_AA_BUFF | PFCP_AA_NOCP)) {
			pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_APPLY_ACTION,
				      "FAR %u: Apply Action must be one of FORW, DROP, BUFF, BUFF|NOCP", r->id);
			goto rule;
		}
		r->action = a;
	}
	if (!update && r->action == PFCP_AA_FORW && !(r->has & FAR_HAS_FWD)) {
		pfcp_fail_set(f, PFCP_CAUSE_CONDITIONAL_MISSING, IE_FORWARDING_PARAMS,
			      "Create FAR %u: FORW without Forwarding Parameters", r->id);
		goto rule;
	}
	if (r->has & FAR_HAS_FWD && !update && !(r->has & FAR_HAS_DST)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_DESTINATION_INTERFACE,
			      "Create FAR %u: Destination Interface missing", r->id);
		goto rule;
	}
	return true;
rule:
	f->rule_type = PFCP_RULE_FAR;
	f->rule_id = r->id;
	return false;
}

static uint64_t rd40(const uint8_t *p)
{
	return (uint64_t)p[0] << 32 | rd32(p + 1);
}

bool pfcp_parse_qer(const struct pfcp_ie *g, bool update, struct pfcp_qer *q, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	bool has_id = false;
	int k;

	memset(q, 0, sizeof(*q));
	q->qfi = -1;
	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_QER_ID:
			if (!pfcp_get_u32(&ie, &q->id))
				return bad_len(f, ie.type, "QER ID");
			has_id = true;
			break;
		case IE_GATE_STATUS:
			if (!pfcp_get_u8(&ie, &q->gate))
				return bad_len(f, ie.type, "Gate Status");
			q->gate &= 0x0f;
			q->has |= QER_HAS_GATE;
			break;
		case IE_MBR:      /* 8.2.8: UL then DL, 5 octets each, kbit/s */
			if (ie.len < 10)
				return bad_len(f, ie.type, "MBR");
			q->mbr_ul = rd40(ie.v);
			q->mbr_dl = rd40(ie.v + 5);
			q->has |= QER_HAS_MBR;
			break;
		case IE_QFI: {
			uint8_t v;

			if (!pfcp_get_u8(&ie, &v))
				return bad_len(f, ie.type, "QFI");
			q->qfi = (int8_t)(v & 0x3f);
			q->has |= QER_HAS_QFI;
			break;
		}
		default:
			break;    /* GBR, QER Correlation ID, RQI, PPI...: skipped */
		}
	}
	if (k < 0)
		return walk_err(f, &ie, update ? "Update QER" : "Create QER");
	if (!has_id) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_QER_ID, "%s: QER ID missing",
			      update ? "Update QER" : "Create QER");
		return false;
	}
	if (!update && !(q->has & QER_HAS_GATE)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_GATE_STATUS, "Create QER %u: Gate Status missing",
			      q->id);
		f->rule_type = PFCP_RULE_QER;
		f->rule_id = q->id;
		return false;
	}
	return true;
}

/* Flags, then an 8-octet volume for each flag set: total, UL, DL. */
static bool volumes(const struct pfcp_ie *ie, uint8_t *flags, uint64_t v[3])
{
	const uint8_t *p = ie->v + 1, *end = ie->v + ie->len;

	if (ie->len < 1)
		return false;
	*flags = ie->v[0] & 0x07;
	for (int i = 0; i < 3; i++) {
		v[i] = 0;
		if (!(*flags & 1 << i))
			continue;
		if (end - p < 8)
			return false;
		v[i] = (uint64_t)rd32(p) << 32 | rd32(p + 4);
		p += 8;
	}
	return true;
}

bool pfcp_parse_urr(const struct pfcp_ie *g, bool update, struct pfcp_urr *u, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	bool has_id = false;
	int k;

	memset(u, 0, sizeof(*u));
	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_URR_ID:
			if (!pfcp_get_u32(&ie, &u->id))
				return bad_len(f, ie.type, "URR ID");
			has_id = true;
			break;
		case IE_MEASUREMENT_METHOD:
			if (!pfcp_get_u8(&ie, &u->method))
				return bad_len(f, ie.type, "Measurement Method");
			u->has |= URR_HAS_METHOD;
			break;
		case IE_REPORTING_TRIGGERS:
			if (ie.len < 2)
				return bad_len(f, ie.type, "Reporting Triggers");
			u->triggers = (uint16_t)(ie.v[0] | ie.v[1] << 8);
			u->has |= URR_HAS_TRIGGERS;
			break;
		case IE_MEASUREMENT_PERIOD:
			if (!pfcp_get_u32(&ie, &u->period))
				return bad_len(f, ie.type, "Measurement Period");
			u->has |= URR_HAS_PERIOD;
			break;
		case IE_VOLUME_THRESHOLD:
			if (!volumes(&ie, &u->vth_flags, u->vth))
				return bad_len(f, ie.type, "Volume Threshold");
			u->has |= URR_HAS_VTH;
			break;
		case IE_VOLUME_QUOTA:
			if (!volumes(&ie, &u->vq_flags, u->vq))
				return bad_len(f, ie.type, "Volume Quota");
			u->has |= URR_HAS_VQ;
			break;
		case IE_TIME_THRESHOLD:
			if (!pfcp_get_u32(&ie, &u->time_th))
				return bad_len(f, ie.type, "Time Threshold");
			u->has |= URR_HAS_TTH;
			break;
		case IE_TIME_QUOTA:
			if (!pfcp_get_u32(&ie, &u->time_quota))
				return bad_len(f, ie.type, "Time Quota");
			u->has |= URR_HAS_TQ;
			break;
		default:
			break;
		}
	}
	if (k < 0)
		return walk_err(f, &ie, update ? "Update URR" : "Create URR");
	if (!has_id) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_URR_ID, "%s: URR ID missing",
			      update ? "Update URR" : "Create URR");
		return false;
	}
	if (!update && (!(u->has & URR_HAS_METHOD) || !(u->has & URR_HAS_TRIGGERS))) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING,
			      u->has & URR_HAS_METHOD ? IE_REPORTING_TRIGGERS : IE_MEASUREMENT_METHOD,
			      "Create URR %u: %s missing", u->id,
			      u->has & URR_HAS_METHOD ? "Reporting Triggers" : "Measurement Method");
		goto rule;
	}
	if (u->triggers & PFCP_RT_PERIO && (u->has & URR_HAS_PERIOD) && !u->period) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_MEASUREMENT_PERIOD,
			      "URR %u: Measurement Period 0", u->id);
		goto rule;
	}
	return true;
rule:
	f->rule_type = PFCP_RULE_URR;
	f->rule_id = u->id;
	return false;
}

/* DL Buffering Duration (8.2.45): a timer unit and a value, in seconds. */
static uint32_t buffering_duration(uint8_t v)
{
	static const uint32_t unit[8] = { 2, 60, 600, 3600, 36000, 60, 60, 0 };

	if ((v >> 5) == 7)
		return UINT32_MAX;        /* infinite */
	return (v & 0x1f) * unit[v >> 5];
}

bool pfcp_parse_bar(const struct pfcp_ie *g, bool srr, struct pfcp_bar *b, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	bool has_id = false;
	uint8_t v8;
	int k;

	memset(b, 0, sizeof(*b));
	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_BAR_ID:
			if (!pfcp_get_u8(&ie, &b->id))
				return bad_len(f, ie.type, "BAR ID");
			has_id = true;
			break;
		case IE_DL_DATA_NOTIFICATION_DELAY:
			if (!pfcp_get_u8(&ie, &b->dl_delay))
				return bad_len(f, ie.type, "Downlink Data Notification Delay");
			b->has |= BAR_HAS_DELAY;
			break;
		case IE_SUGGESTED_BUFFERING_COUNT:
			if (!pfcp_get_u8(&ie, &v8))
				return bad_len(f, ie.type, "Suggested Buffering Packets Count");
			b->count = v8;
			b->has |= BAR_HAS_COUNT;
			break;
		case IE_DL_BUFFERING_DURATION:
			if (!srr)
				break;
			if (!pfcp_get_u8(&ie, &v8))
				return bad_len(f, ie.type, "DL Buffering Duration");
			b->duration = buffering_duration(v8);
			b->has |= BAR_HAS_DURATION;
			break;
		case IE_DL_BUFFERING_SUGGESTED_COUNT:
			if (!srr)
				break;
			/* One octet, or two (8.2.46). */
			if (ie.len == 1)
				b->dl_count = ie.v[0];
			else if (!pfcp_get_u16(&ie, &b->dl_count))
				return bad_len(f, ie.type, "DL Buffering Suggested Packet Count");
			b->has |= BAR_HAS_DL_COUNT;
			break;
		default:
			break;
		}
	}
	if (k < 0)
		return walk_err(f, &ie, "BAR");
	if (!has_id) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, IE_BAR_ID, "BAR: BAR ID missing");
		return false;
	}
	return true;
}

bool pfcp_parse_remove(const struct pfcp_ie *g, uint16_t id_type, uint32_t *id, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	int k;

	f->rule_type = 0xff;
	pfcp_iter_init(&it, g->v, g->len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		if (ie.type != id_type)
			continue;
		if (id_type == IE_PDR_ID) {
			uint16_t v;

			if (!pfcp_get_u16(&ie, &v))
				return bad_len(f, ie.type, "PDR ID");
			*id = v;
		} else if (id_type == IE_BAR_ID) {
			uint8_t v;

			if (!pfcp_get_u8(&ie, &v))
				return bad_len(f, ie.type, "BAR ID");
			*id = v;
		} else if (!pfcp_get_u32(&ie, id)) {
			return bad_len(f, ie.type, "rule ID");
		}
		return true;
	}
	if (k < 0)
		return walk_err(f, &ie, "Remove");
	pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, id_type, "Remove: rule ID missing");
	return false;
}

const char *pfcp_msg_name(uint8_t type)
{
	switch (type) {
	case PFCP_HEARTBEAT_REQ: return "heartbeat_request";
	case PFCP_HEARTBEAT_RSP: return "heartbeat_response";
	case PFCP_PFD_MGMT_REQ: return "pfd_management_request";
	case PFCP_PFD_MGMT_RSP: return "pfd_management_response";
	case PFCP_ASSOC_SETUP_REQ: return "association_setup_request";
	case PFCP_ASSOC_SETUP_RSP: return "association_setup_response";
	case PFCP_ASSOC_UPDATE_REQ: return "association_update_request";
	case PFCP_ASSOC_UPDATE_RSP: return "association_update_response";
	case PFCP_ASSOC_RELEASE_REQ: return "association_release_request";
	case PFCP_ASSOC_RELEASE_RSP: return "association_release_response";
	case PFCP_VERSION_NOT_SUPPORTED: return "version_not_supported_response";
	case PFCP_NODE_REPORT_REQ: return "node_report_request";
	case PFCP_NODE_REPORT_RSP: return "node_report_response";
	case PFCP_SET_DELETION_REQ: return "session_set_deletion_request";
	case PFCP_SET_DELETION_RSP: return "session_set_deletion_response";
	case PFCP_SESS_EST_REQ: return "session_establishment_request";
	case PFCP_SESS_EST_RSP: return "session_establishment_response";
	case PFCP_SESS_MOD_REQ: return "session_modification_request";
	case PFCP_SESS_MOD_RSP: return "session_modification_response";
	case PFCP_SESS_DEL_REQ: return "session_deletion_request";
	case PFCP_SESS_DEL_RSP: return "session_deletion_response";
	case PFCP_SESS_REPORT_REQ: return "session_report_request";
	case PFCP_SESS_REPORT_RSP: return "session_report_response";
	default: return "other";
	}
}

const char *pfcp_cause_name(uint8_t cause)
{
	switch (cause) {
	case PFCP_CAUSE_ACCEPTED: return "request_accepted";
	case PFCP_CAUSE_REJECTED: return "request_rejected";
	case PFCP_CAUSE_NO_SESSION: return "session_context_not_found";
	case PFCP_CAUSE_MANDATORY_MISSING: return "mandatory_ie_missing";
	case PFCP_CAUSE_CONDITIONAL_MISSING: return "conditional_ie_missing";
	case PFCP_CAUSE_INVALID_LENGTH: return "invalid_length";
	case PFCP_CAUSE_MANDATORY_INCORRECT: return "mandatory_ie_incorrect";
	case PFCP_CAUSE_INVALID_FWD_POLICY: return "invalid_forwarding_policy";
	case PFCP_CAUSE_INVALID_FTEID_ALLOC: return "invalid_f_teid_allocation_option";
	case PFCP_CAUSE_NO_ASSOCIATION: return "no_established_pfcp_association";
	case PFCP_CAUSE_RULE_FAILURE: return "rule_creation_modification_failure";
	case PFCP_CAUSE_CONGESTION: return "pfcp_entity_in_congestion";
	case PFCP_CAUSE_NO_RESOURCES: return "no_resources_available";
	case PFCP_CAUSE_NOT_SUPPORTED: return "service_not_supported";
	case PFCP_CAUSE_SYSTEM_FAILURE: return "system_failure";
	default: return "other";
	}
}
