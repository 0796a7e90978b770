/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GTP-U wire codec (3GPP TS 29.281): pure functions on buffers.
 * No I/O, no logging, no allocation. Every length is checked. */
#ifndef GTPUD_GTPU_H
#define GTPUD_GTPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GTPU_PORT 2152
#define GTPU_HDR_LEN 8          /* mandatory part */
#define GTPU_OPT_LEN 4          /* sequence number, N-PDU number, next ext type */
#define GTPU_MAX_EXT 16         /* bound on the extension-header chain */
#define GTPU_MAX_EXT_TYPES 32   /* bound on an Extension Header Type List */
#define GTPU_HEADROOM 64        /* room callers reserve in front of a payload */

/* Octet 1: version (3 bits), PT, spare, E, S, PN. */
#define GTPU_FLAG_PN 0x01
#define GTPU_FLAG_S 0x02
#define GTPU_FLAG_E 0x04
#define GTPU_FLAG_PT 0x10
#define GTPU_FLAGS_V1 0x30      /* version 1, PT 1 */

enum gtpu_msg_type {
	GTPU_ECHO_REQ = 1,
	GTPU_ECHO_RSP = 2,
	GTPU_ERROR_IND = 26,
	GTPU_SUPP_EXT_NOTIF = 31,
	GTPU_END_MARKER = 254,
	GTPU_GPDU = 255,
};

enum gtpu_ext_type {
	GTPU_EXT_NONE = 0x00,
	GTPU_EXT_SCI = 0x20,             /* Service Class Indicator */
	GTPU_EXT_UDP_PORT = 0x40,
	GTPU_EXT_RAN_CONTAINER = 0x81,
	GTPU_EXT_LONG_PDCP = 0x82,       /* Long PDCP PDU Number */
	GTPU_EXT_NR_RAN_CONTAINER = 0x84,
	GTPU_EXT_PDU_SESSION = 0x85,     /* PDU Session Container */
	GTPU_EXT_PDCP = 0xc0,            /* PDCP PDU Number */
};

/* The top two bits of an extension header type (TS 29.281 5.2.1). */
enum gtpu_ext_class {
	GTPU_EXT_CLASS_FORWARD = 0,      /* 00: not required, forwarded */
	GTPU_EXT_CLASS_DISCARD = 1,      /* 01: not required, an intermediate node drops it */
	GTPU_EXT_CLASS_REQ_ENDPOINT = 2, /* 10: required at the receiving endpoint */
	GTPU_EXT_CLASS_REQ_ALL = 3,      /* 11: required by every receiver */
};

enum gtpu_ie_type {
	GTPU_IE_RECOVERY = 14,
	GTPU_IE_TEID_DATA_I = 16,
	GTPU_IE_PEER_ADDR = 133,
	GTPU_IE_EXT_TYPE_LIST = 141,
	GTPU_IE_PRIVATE_EXT = 255,
};

/* Why a datagram is not a valid GTP-U message. GTPU_OK is 0; the others
 * become drop reasons (see gtpu_err_name). Keep gtpu_err_name in step. */
enum gtpu_err {
	GTPU_OK = 0,
	GTPU_E_SHORT,            /* shorter than the 8-byte header, or 12 with E/S/PN */
	GTPU_E_VERSION,          /* version is not 1 */
	GTPU_E_PT,               /* PT = 0 (GTP') */
	GTPU_E_LEN_LONG,         /* Length runs past the datagram */
	GTPU_E_LEN_SHORT,        /* Length leaves bytes of the datagram unused */
	GTPU_E_EXT_ZERO,         /* extension header length 0 */
	GTPU_E_EXT_TRUNC,        /* extension chain runs past the message */
	GTPU_E_EXT_TOO_MANY,     /* more than GTPU_MAX_EXT extension headers */
	GTPU_E_EXT_BAD,          /* a known extension header with a bad length or content */
	GTPU_E_IE_TRUNC,         /* an IE runs past the message */
	GTPU_E_IE_BAD,           /* an IE with a bad length (Peer Address not 4 or 16...) */
	GTPU_E_IE_MISSING,       /* a mandatory IE is absent */
	GTPU_E__COUNT
};

/* Stable lower_snake name of an error, used as a drop reason and in logs. */
const char *gtpu_err_name(enum gtpu_err e);
/* Human sentence for logs and tests. */
const char *gtpu_err_str(enum gtpu_err e);

enum gtpu_pdu_type { GTPU_PDU_DL = 0, GTPU_PDU_UL = 1 };

struct gtpu_pdu_session {
	uint8_t pdu_type;        /* GTPU_PDU_DL or GTPU_PDU_UL */
	uint8_t qfi;             /* 6 bits */
	bool rqi;                /* DL only */
	bool ppp;                /* DL only: PPI present */
	uint8_t ppi;             /* 3 bits */
};

struct gtpu_ext {
	uint8_t type;
	uint8_t len4;            /* length in units of 4 octets, never 0 */
	uint16_t off;            /* offset of the length octet from the message start */
};

/* A parsed header. Offsets are from the first byte of the datagram. */
struct gtpu_hdr {
	uint8_t flags;
	uint8_t type;
	uint16_t length;         /* the Length field: bytes after the first 8 */
	uint32_t teid;
	bool has_opt;            /* any of E, S, PN set: the optional word is present */
	uint16_t seq;            /* valid when flags & S */
	uint8_t npdu;            /* valid when flags & PN */
	uint8_t n_ext;
	struct gtpu_ext ext[GTPU_MAX_EXT];
	uint16_t hdr_len;        /* 8, 12, or 12 + extension headers: payload/IEs start here */
	uint16_t msg_len;        /* 8 + Length: bytes of the message */
	/* Decoded known extension headers. */
	bool has_pdu_session;
	struct gtpu_pdu_session pdu_session;
	bool has_udp_port;
	uint16_t udp_port;
	bool has_pdcp;
	uint16_t pdcp_sn;        /* PDCP PDU Number 0xC0 */
	bool has_long_pdcp;
	uint32_t long_pdcp_sn;   /* 18 bits */
	bool has_sci;
	uint8_t sci;
	/* Unknown types by comprehension class: the first of each, 0 when none. */
	uint8_t unknown_req_all;       /* class 11: every receiver must understand */
	uint8_t unknown_req_endpoint;  /* class 10: the endpoint must understand */
};

/* Parse the header of one datagram. On GTPU_OK, h describes it. Never reads
 * outside buf[0..len). Bounded: at most GTPU_MAX_EXT extension headers. */
enum gtpu_err gtpu_parse(const uint8_t *buf, size_t len, struct gtpu_hdr *h);

static inline enum gtpu_ext_class gtpu_ext_class(uint8_t type)
{
	return (enum gtpu_ext_class)(type >> 6);
}

/* True when the codec decodes this extension header type. */
bool gtpu_ext_known(uint8_t type);

/* IEs of Echo Request/Response, Error Indication and Supported Extension
 * Headers Notification (TS 29.281 section 8). */
struct gtpu_ies {
	bool has_recovery;
	uint8_t recovery;
	bool has_teid_data;
	uint32_t teid_data;
	bool has_peer_addr;
	uint8_t peer_addr_len;   /* 4 or 16 */
	uint8_t peer_addr[16];
	bool has_ext_types;
	uint8_t n_ext_types;
	uint8_t ext_types[GTPU_MAX_EXT_TYPES];
	uint8_t n_private;       /* Private Extension IEs seen (skipped) */
};

/* Parse the IEs in buf[h->hdr_len .. h->msg_len) of a signalling message and
 * check the mandatory ones for h->type: Recovery for Echo Response, TEID Data
 * I and Peer Address for Error Indication, the type list for the Notification. */
enum gtpu_err gtpu_parse_ies(const uint8_t *buf, const struct gtpu_hdr *h,
			     struct gtpu_ies *ies);

/* ---- Building ---- */

struct gtpu_encap {
	uint32_t teid;
	bool with_seq;
	uint16_t seq;
	bool with_pdu_session;   /* one PDU Session Container */
	uint8_t pdu_type;        /* GTPU_PDU_DL or GTPU_PDU_UL */
	uint8_t qfi;
	uint8_t type;            /* message type; 0 means GTPU_GPDU */
};

/* Write a G-PDU header in front of the payload at buf + headroom (payload_len
 * bytes). Returns the header length n (the message starts at buf + headroom
 * - n and is n + payload_len long), or 0 when headroom is too small or the
 * message would exceed 65535 + 8 bytes. */
size_t gtpu_encap(uint8_t *buf, size_t headroom, size_t payload_len,
		  const struct gtpu_encap *e);

/* Rewrite a parsed G-PDU or End Marker in place for relaying: new TEID, the
 * optional word kept, extension headers of class 01 removed, the others kept,
 * Length fixed. Removing headers moves the header, not the payload: the
 * message then starts at buf + *start. Returns the new message length.
 * When no extension header remains, E is cleared if S or PN still announces
 * the optional word; with E alone it stays set, next type 0. */
size_t gtpu_relay_rewrite(uint8_t *buf, const struct gtpu_hdr *h, uint32_t teid,
			  size_t *start);

/* Signalling builders. Each returns the message length, or 0 when cap is too
 * small. */
size_t gtpu_build_echo_req(uint8_t *buf, size_t cap, uint16_t seq);
size_t gtpu_build_echo_rsp(uint8_t *buf, size_t cap, uint16_t seq, uint8_t recovery);
/* addr_len is 4 or 16. udp_port >= 0 adds a UDP Port extension header. */
size_t gtpu_build_error_ind(uint8_t *buf, size_t cap, uint16_t seq, uint32_t teid,
			    const uint8_t *addr, size_t addr_len, int udp_port);
size_t gtpu_build_supp_ext_notif(uint8_t *buf, size_t cap, uint16_t seq,
				 const uint8_t *types, size_t n_types);
size_t gtpu_build_end_marker(uint8_t *buf, size_t cap, uint32_t teid);

#endif
