/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GTP-U wire codec (3GPP TS 29.281): parse, IE parse, builders and the relay
 * rewrite. Pure functions on caller buffers; every length is checked before
 * the byte it guards is read. */
#include <string.h>

#include "gtpu.h"
#include "util.h"

const char *gtpu_err_name(enum gtpu_err e)
{
	switch (e) {
	case GTPU_OK: return "ok";
	case GTPU_E_SHORT: return "too_short";
	case GTPU_E_VERSION: return "bad_version";
	case GTPU_E_PT: return "bad_pt";
	case GTPU_E_LEN_LONG: return "length_long";
	case GTPU_E_LEN_SHORT: return "length_short";
	case GTPU_E_EXT_ZERO: return "ext_zero_length";
	case GTPU_E_EXT_TRUNC: return "ext_truncated";
	case GTPU_E_EXT_TOO_MANY: return "ext_too_many";
	case GTPU_E_EXT_BAD: return "ext_bad";
	case GTPU_E_IE_TRUNC: return "ie_truncated";
	case GTPU_E_IE_BAD: return "ie_bad";
	case GTPU_E_IE_MISSING: return "ie_missing";
	case GTPU_E__COUNT: break;
	}
	return "unknown";
}

const char *gtpu_err_str(enum gtpu_err e)
{
	switch (e) {
	case GTPU_OK: return "valid GTP-U message";
	case GTPU_E_SHORT: return "datagram shorter than the GTP-U header";
	case GTPU_E_VERSION: return "GTP version is not 1";
	case GTPU_E_PT: return "protocol type is not GTP (PT = 0)";
	case GTPU_E_LEN_LONG: return "Length field runs past the end of the datagram";
	case GTPU_E_LEN_SHORT: return "Length field leaves bytes of the datagram unused";
	case GTPU_E_EXT_ZERO: return "extension header with length 0";
	case GTPU_E_EXT_TRUNC: return "extension header chain runs past the end of the message";
	case GTPU_E_EXT_TOO_MANY: return "too many extension headers";
	case GTPU_E_EXT_BAD: return "extension header with a bad length or content";
	case GTPU_E_IE_TRUNC: return "information element runs past the end of the message";
	case GTPU_E_IE_BAD: return "information element with a bad type or length";
	case GTPU_E_IE_MISSING: return "mandatory information element missing";
	case GTPU_E__COUNT: break;
	}
	return "unknown error";
}

bool gtpu_ext_known(uint8_t type)
{
	switch (type) {
	case GTPU_EXT_SCI:
	case GTPU_EXT_UDP_PORT:
	case GTPU_EXT_RAN_CONTAINER:
	case GTPU_EXT_LONG_PDCP:
	case GTPU_EXT_NR_RAN_CONTAINER:
	case GTPU_EXT_PDU_SESSION:
	case GTPU_EXT_PDCP:
		return true;
	}
	return false;
}

/* PDU Session Container (TS 38.415 5.5.2): p points at the length octet,
 * size = 4 * length. The octets the flags announce must fit before the
 * next-type octet. */
static enum gtpu_err pdu_session(const uint8_t *p, unsigned size, struct gtpu_hdr *h)
{
	unsigned o1 = p[1], o2 = p[2], need = 4;
	struct gtpu_pdu_session *s = &h->pdu_session;

	s->pdu_type = (uint8_t)(o1 >> 4);
	s->qfi = o2 & 0x3f;
	s->rqi = false;
	s->ppp = false;
	s->ppi = 0;
	if (s->pdu_type == GTPU_PDU_DL) {
		/* PDU type | QMP | SNP | MSNP | spare; PPP | RQI | QFI */
		need += (o2 >> 7) + ((o1 >> 3) & 1) * 8 + ((o1 >> 2) & 1) * 3 +
			((o1 >> 1) & 1) * 4;
		if (need > size)
			return GTPU_E_EXT_BAD;
		s->rqi = o2 & 0x40;
		if (o2 & 0x80) {
			s->ppp = true;
			s->ppi = p[3] >> 5;
		}
	} else if (s->pdu_type == GTPU_PDU_UL) {
		/* PDU type | QMP | DL delay | UL delay | SNP;
		 * N3/N9 delay | new IE flag | QFI */
		need += ((o1 >> 3) & 1) * 24 + ((o1 >> 2) & 1) * 4 + ((o1 >> 1) & 1) * 4 +
			(o1 & 1) * 3 + (o2 >> 7) * 4 + ((o2 >> 6) & 1);
		if (need > size)
			return GTPU_E_EXT_BAD;
	} else {
		/* TS 38.415 defines DL (0) and UL (1) only. */
		return GTPU_E_EXT_BAD;
	}
	h->has_pdu_session = true;
	return GTPU_OK;
}

/* Decode one extension header: p points at its length octet. */
static enum gtpu_err ext_decode(uint8_t type, const uint8_t *p, unsigned len4,
				struct gtpu_hdr *h)
{
	switch (type) {
	case GTPU_EXT_PDU_SESSION:
		return pdu_session(p, len4 * 4, h);
	case GTPU_EXT_UDP_PORT:
		if (len4 != 1)
			return GTPU_E_EXT_BAD;
		h->has_udp_port = true;
		h->udp_port = get16(p + 1);
		return GTPU_OK;
	case GTPU_EXT_PDCP:
		if (len4 != 1)
			return GTPU_E_EXT_BAD;
		h->has_pdcp = true;
		h->pdcp_sn = get16(p + 1);
		return GTPU_OK;
	case GTPU_EXT_LONG_PDCP:
		/* 6 spare bits, 18-bit number, 3 spare octets (TS 29.281 5.2.2.2A) */
		if (len4 != 2)
			return GTPU_E_EXT_BAD;
		h->has_long_pdcp = true;
		h->long_pdcp_sn = (uint32_t)(p[1] & 0x03) << 16 | (uint32_t)p[2] << 8 | p[3];
		return GTPU_OK;
	case GTPU_EXT_SCI:
		if (len4 != 1)
			return GTPU_E_EXT_BAD;
		h->has_sci = true;
		h->sci = p[1];
		return GTPU_OK;
	case GTPU_EXT_RAN_CONTAINER:
	case GTPU_EXT_NR_RAN_CONTAINER:
		return GTPU_OK;     /* opaque: for the RAN, not for us */
	}
	/* Unknown: the caller applies the comprehension rules (5.2.1). */
	if (gtpu_ext_class(type) == GTPU_EXT_CLASS_REQ_ALL) {
		if (!h->unknown_req_all)
			h->unknown_req_all = type;
	} else if (gtpu_ext_class(type) == GTPU_EXT_CLASS_REQ_ENDPOINT) {
		if (!h->unknown_req_endpoint)
			h->unknown_req_endpoint = type;
	}
	return GTPU_OK;
}

/* Walk the chain that starts with next-type 'next' at offset 12. Bounded by
 * GTPU_MAX_EXT iterations; each one checks its length octet and its end
 * against msg_len before reading them. Kept out of line so that the fast
 * path of gtpu_parse needs no stack frame. */
static enum gtpu_err __attribute__((noinline))
ext_walk(const uint8_t *buf, unsigned next, unsigned msg_len, struct gtpu_hdr *h)
{
	unsigned off = GTPU_HDR_LEN + GTPU_OPT_LEN, n = 0;

	while (next) {
		unsigned len4, end;
		enum gtpu_err err;

		if (n == GTPU_MAX_EXT)
			return GTPU_E_EXT_TOO_MANY;
		if (off >= msg_len)
			return GTPU_E_EXT_TRUNC;
		len4 = buf[off];
		if (!len4)
			return GTPU_E_EXT_ZERO;
		end = off + len4 * 4;
		if (end > msg_len)
			return GTPU_E_EXT_TRUNC;
		h->ext[n].type = (uint8_t)next;
		h->ext[n].len4 = (uint8_t)len4;
		h->ext[n].off = (uint16_t)off;
		n++;
		err = ext_decode((uint8_t)next, buf + off, len4, h);
		if (err)
			return err;
		next = buf[end - 1];
		off = end;
	}
	h->n_ext = (uint8_t)n;
	h->hdr_len = (uint16_t)off;
	return GTPU_OK;
}

/* The common G-PDU: one PDU Session Container of length 1 without optional
 * fields, last in the chain. Decoded without the general walk. */
static inline __attribute__((always_inline)) bool
pdu_session_fast(const uint8_t *buf, unsigned msg_len, struct gtpu_hdr *h)
{
	unsigned o1, o2;

	if (buf[11] != GTPU_EXT_PDU_SESSION || msg_len < 16 || buf[12] != 1 || buf[15])
		return false;
	o1 = buf[13];
	o2 = buf[14];
	/* DL or UL with no flag that adds octets: PPP (DL), N3/N9 delay and
	 * new IE flag (UL) in o2; QMP, SNP and the rest in o1. */
	if ((o1 & 0xef) || (o2 & (o1 ? 0xc0 : 0x80)))
		return false;
	h->ext[0].type = GTPU_EXT_PDU_SESSION;
	h->ext[0].len4 = 1;
	h->ext[0].off = GTPU_HDR_LEN + GTPU_OPT_LEN;
	h->n_ext = 1;
	h->hdr_len = 16;
	h->has_pdu_session = true;
	h->pdu_session.pdu_type = (uint8_t)(o1 >> 4);
	h->pdu_session.qfi = o2 & 0x3f;
	h->pdu_session.rqi = o2 & 0x40;
	return true;
}

/* Not inlined into gtpu_parse: only the cold path is slower. */
static enum gtpu_err __attribute__((noinline))
bad_first_octet(unsigned flags)
{
	return (flags >> 5) != 1 ? GTPU_E_VERSION : GTPU_E_PT;
}

enum gtpu_err gtpu_parse(const uint8_t *buf, size_t len, struct gtpu_hdr *h)
{
	unsigned flags, msg_len;

	if (len < GTPU_HDR_LEN)
		return GTPU_E_SHORT;
	flags = buf[0];
	/* Version 1 and PT 1 with one test; which one failed is cold. */
	if ((flags & 0xf0) != GTPU_FLAGS_V1)
		return bad_first_octet(flags);
	if ((flags & (GTPU_FLAG_E | GTPU_FLAG_S | GTPU_FLAG_PN)) &&
	    len < GTPU_HDR_LEN + GTPU_OPT_LEN)
		return GTPU_E_SHORT;
	msg_len = GTPU_HDR_LEN + get16(buf + 2);
	if (msg_len != len)
		return msg_len > len ? GTPU_E_LEN_LONG : GTPU_E_LEN_SHORT;

	h->flags = (uint8_t)flags;
	h->type = buf[1];
	h->length = (uint16_t)(msg_len - GTPU_HDR_LEN);
	h->teid = get32(buf + 4);
	h->msg_len = (uint16_t)msg_len;
	h->n_ext = 0;
	/* The decoded-extension fields are contiguous: clear them at once. */
	memset(&h->has_pdu_session, 0,
	       offsetof(struct gtpu_hdr, unknown_req_endpoint) + 1 -
	       offsetof(struct gtpu_hdr, has_pdu_session));
	if (!(flags & (GTPU_FLAG_E | GTPU_FLAG_S | GTPU_FLAG_PN))) {
		h->has_opt = false;
		h->seq = 0;
		h->npdu = 0;
		h->hdr_len = GTPU_HDR_LEN;
		return GTPU_OK;
	}
	/* msg_len == len >= 12 here, so the optional word is in the message. */
	h->has_opt = true;
	h->seq = get16(buf + 8);
	h->npdu = buf[10];
	/* The next-type octet means something only when E is set (5.1). */
	if (!(flags & GTPU_FLAG_E) || !buf[11]) {
		h->hdr_len = GTPU_HDR_LEN + GTPU_OPT_LEN;
		return GTPU_OK;
	}
	if (pdu_session_fast(buf, msg_len, h))
		return GTPU_OK;
	return ext_walk(buf, buf[11], msg_len, h);
}

/* ---- Information elements (TS 29.281 section 8) ---- */

static enum gtpu_err ie_tv(const uint8_t *p, unsigned left, struct gtpu_ies *ies,
			   unsigned *used)
{
	switch (p[0]) {
	case GTPU_IE_RECOVERY:
		if (left < 2)
			return GTPU_E_IE_TRUNC;
		/* Only the first of a repeated IE counts (TS 29.060 7.7.0). */
		if (!ies->has_recovery) {
			ies->has_recovery = true;
			ies->recovery = p[1];
		}
		*used = 2;
		return GTPU_OK;
	case GTPU_IE_TEID_DATA_I:
		if (left < 5)
			return GTPU_E_IE_TRUNC;
		if (!ies->has_teid_data) {
			ies->has_teid_data = true;
			ies->teid_data = get32(p + 1);
		}
		*used = 5;
		return GTPU_OK;
	}
	/* A TV IE of unknown type has no length: nothing after it can be found. */
	return GTPU_E_IE_BAD;
}

static enum gtpu_err ie_tlv(const uint8_t *p, unsigned left, struct gtpu_ies *ies,
			    unsigned *used)
{
	unsigned n;

	if (p[0] == GTPU_IE_EXT_TYPE_LIST) {
		/* The only TLV IE with a one-octet length (TS 29.281 8.5). */
		if (left < 2 || left - 2 < p[1])
			return GTPU_E_IE_TRUNC;
		n = p[1];
		if (n > GTPU_MAX_EXT_TYPES)
			return GTPU_E_IE_BAD;
		if (!ies->has_ext_types) {
			ies->has_ext_types = true;
			ies->n_ext_types = (uint8_t)n;
			memcpy(ies->ext_types, p + 2, n);
		}
		*used = 2 + n;
		return GTPU_OK;
	}
	if (left < 3)
		return GTPU_E_IE_TRUNC;
	n = get16(p + 1);
	if (left - 3 < n)
		return GTPU_E_IE_TRUNC;
	*used = 3 + n;
	switch (p[0]) {
	case GTPU_IE_PEER_ADDR:
		if (n != 4 && n != 16)
			return GTPU_E_IE_BAD;
		if (!ies->has_peer_addr) {
			ies->has_peer_addr = true;
			ies->peer_addr_len = (uint8_t)n;
			memcpy(ies->peer_addr, p + 3, n);
		}
		break;
	case GTPU_IE_PRIVATE_EXT:
		if (ies->n_private < UINT8_MAX)
			ies->n_private++;
		break;
	}
	return GTPU_OK;       /* unknown TLV: skipped by its length */
}

enum gtpu_err gtpu_parse_ies(const uint8_t *buf, const struct gtpu_hdr *h,
			     struct gtpu_ies *ies)
{
	unsigned off = h->hdr_len, end = h->msg_len;

	memset(ies, 0, sizeof(*ies));
	while (off < end) {
		unsigned used = 0;
		enum gtpu_err err;

		if (buf[off] < 128)
			err = ie_tv(buf + off, end - off, ies, &used);
		else
			err = ie_tlv(buf + off, end - off, ies, &used);
		if (err)
			return err;
		off += used;
	}
	switch (h->type) {
	case GTPU_ECHO_RSP:
		if (!ies->has_recovery)
			return GTPU_E_IE_MISSING;
		break;
	case GTPU_ERROR_IND:
		if (!ies->has_teid_data || !ies->has_peer_addr)
			return GTPU_E_IE_MISSING;
		break;
	case GTPU_SUPP_EXT_NOTIF:
		if (!ies->has_ext_types)
			return GTPU_E_IE_MISSING;
		break;
	}
	return GTPU_OK;
}

/* ---- Building ---- */

/* Mandatory header plus, when flags has E/S/PN, the optional word. */
static void put_hdr(uint8_t *p, uint8_t flags, uint8_t type, size_t msg_len,
		    uint32_t teid, uint16_t seq, uint8_t next)
{
	p[0] = flags;
	p[1] = type;
	put16(p + 2, (uint16_t)(msg_len - GTPU_HDR_LEN));
	put32(p + 4, teid);
	if (flags & (GTPU_FLAG_E | GTPU_FLAG_S | GTPU_FLAG_PN)) {
		put16(p + 8, seq);
		p[10] = 0;
		p[11] = next;
	}
}

size_t gtpu_encap(uint8_t *buf, size_t headroom, size_t payload_len,
		  const struct gtpu_encap *e)
{
	uint8_t flags = GTPU_FLAGS_V1;
	size_t n = GTPU_HDR_LEN;
	uint8_t *p;

	if (e->with_seq)
		flags |= GTPU_FLAG_S;
	if (e->with_pdu_session)
		flags |= GTPU_FLAG_E;
	if (flags != GTPU_FLAGS_V1)
		n += GTPU_OPT_LEN;
	if (e->with_pdu_session)
		n += 4;
	if (headroom < n || payload_len > UINT16_MAX + GTPU_HDR_LEN - n)
		return 0;
	p = buf + headroom - n;
	put_hdr(p, flags, e->type ? e->type : GTPU_GPDU, n + payload_len, e->teid,
		e->with_seq ? e->seq : 0, e->with_pdu_session ? GTPU_EXT_PDU_SESSION : 0);
	if (e->with_pdu_session) {
		/* Length 1; PDU type in the high nibble; QFI; no next header. */
		p[12] = 1;
		p[13] = (uint8_t)((e->pdu_type & 0x0f) << 4);
		p[14] = e->qfi & 0x3f;
		p[15] = 0;
	}
	return n;
}

/* Move the kept headers, last first, up against the payload so the payload
 * never moves; each move goes to a higher or equal offset, over bytes already
 * moved. Then fix each next-type octet. */
static size_t __attribute__((noinline))
rewrite_remove(uint8_t *buf, const struct gtpu_hdr *h, uint32_t teid, size_t *start)
{
	unsigned i, dst = h->hdr_len;
	uint8_t next = 0;

	for (i = h->n_ext; i-- > 0;) {
		const struct gtpu_ext *x = &h->ext[i];
		unsigned size = x->len4 * 4u;

		if (gtpu_ext_class(x->type) == GTPU_EXT_CLASS_DISCARD)
			continue;
		dst -= size;
		memmove(buf + dst, buf + x->off, size);
		buf[dst + size - 1] = next;
		next = x->type;
	}
	dst -= GTPU_HDR_LEN + GTPU_OPT_LEN;
	memmove(buf + dst, buf, GTPU_HDR_LEN + GTPU_OPT_LEN);
	buf[dst + 11] = next;
	/* No header left: clear E, but only while S or PN still announces the
	 * optional word, which stays; with E alone, E=1 and next type 0 it is. */
	if (!next && (buf[dst] & (GTPU_FLAG_S | GTPU_FLAG_PN)))
		buf[dst] &= (uint8_t)~GTPU_FLAG_E;
	put16(buf + dst + 2, (uint16_t)(h->msg_len - dst - GTPU_HDR_LEN));
	put32(buf + dst + 4, teid);
	*start = dst;
	return h->msg_len - dst;
}

size_t gtpu_relay_rewrite(uint8_t *buf, const struct gtpu_hdr *h, uint32_t teid,
			  size_t *start)
{
	unsigned i;

	/* Most G-PDUs carry at most one extension header: test that first. */
	if (h->n_ext == 0 ||
	    (h->n_ext == 1 && gtpu_ext_class(h->ext[0].type) != GTPU_EXT_CLASS_DISCARD))
		goto in_place;
	for (i = 0; i < h->n_ext; i++)
		if (gtpu_ext_class(h->ext[i].type) == GTPU_EXT_CLASS_DISCARD)
			return rewrite_remove(buf, h, teid, start);
in_place:
	put32(buf + 4, teid);
	*start = 0;
	return h->msg_len;
}

size_t gtpu_build_echo_req(uint8_t *buf, size_t cap, uint16_t seq)
{
	const size_t n = GTPU_HDR_LEN + GTPU_OPT_LEN;

	if (cap < n)
		return 0;
	put_hdr(buf, GTPU_FLAGS_V1 | GTPU_FLAG_S, GTPU_ECHO_REQ, n, 0, seq, 0);
	return n;
}

size_t gtpu_build_echo_rsp(uint8_t *buf, size_t cap, uint16_t seq, uint8_t recovery)
{
	const size_t n = GTPU_HDR_LEN + GTPU_OPT_LEN + 2;

	if (cap < n)
		return 0;
	put_hdr(buf, GTPU_FLAGS_V1 | GTPU_FLAG_S, GTPU_ECHO_RSP, n, 0, seq, 0);
	buf[12] = GTPU_IE_RECOVERY;
	buf[13] = recovery;
	return n;
}

size_t gtpu_build_error_ind(uint8_t *buf, size_t cap, uint16_t seq, uint32_t teid,
			    const uint8_t *addr, size_t addr_len, int udp_port)
{
	uint8_t flags = GTPU_FLAGS_V1 | GTPU_FLAG_S;
	size_t n = GTPU_HDR_LEN + GTPU_OPT_LEN, off;

	if ((addr_len != 4 && addr_len != 16) || udp_port > UINT16_MAX)
		return 0;
	if (udp_port >= 0) {
		flags |= GTPU_FLAG_E;
		n += 4;
	}
	off = n;
	n += 5 + 3 + addr_len;
	if (cap < n)
		return 0;
	/* The header's TEID is 0: the peer has no tunnel to name (7.3.1). */
	put_hdr(buf, flags, GTPU_ERROR_IND, n, 0, seq,
		udp_port >= 0 ? GTPU_EXT_UDP_PORT : 0);
	if (udp_port >= 0) {
		buf[12] = 1;
		put16(buf + 13, (uint16_t)udp_port);
		buf[15] = 0;
	}
	buf[off] = GTPU_IE_TEID_DATA_I;
	put32(buf + off + 1, teid);
	buf[off + 5] = GTPU_IE_PEER_ADDR;
	put16(buf + off + 6, (uint16_t)addr_len);
	memcpy(buf + off + 8, addr, addr_len);
	return n;
}

size_t gtpu_build_supp_ext_notif(uint8_t *buf, size_t cap, uint16_t seq,
				 const uint8_t *types, size_t n_types)
{
	size_t n = GTPU_HDR_LEN + GTPU_OPT_LEN + 2 + n_types;

	/* Bounded like the parser, so what we send we could also receive. */
	if (n_types > GTPU_MAX_EXT_TYPES || cap < n)
		return 0;
	put_hdr(buf, GTPU_FLAGS_V1 | GTPU_FLAG_S, GTPU_SUPP_EXT_NOTIF, n, 0, seq, 0);
	buf[12] = GTPU_IE_EXT_TYPE_LIST;
	buf[13] = (uint8_t)n_types;
	if (n_types)
		memcpy(buf + 14, types, n_types);
	return n;
}

size_t gtpu_build_end_marker(uint8_t *buf, size_t cap, uint32_t teid)
{
	if (cap < GTPU_HDR_LEN)
		return 0;
	put_hdr(buf, GTPU_FLAGS_V1, GTPU_END_MARKER, GTPU_HDR_LEN, teid, 0, 0);
	return GTPU_HDR_LEN;
}
