/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PFCP (3GPP TS 29.244) messages and information elements: the header, an
 * IE walker, the IEs gtpud reads and writes, and the rules of a session
 * request decoded into plain structs. Pure: no I/O, no allocation; every
 * length is checked against the bytes that hold it. */
#ifndef GTPUD_PFCP_MSG_H
#define GTPUD_PFCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PFCP_PORT 8805
#define PFCP_VERSION 1
#define PFCP_MAX_MSG 65535

/* Message types (TS 29.244 7.3). */
enum {
	PFCP_HEARTBEAT_REQ = 1, PFCP_HEARTBEAT_RSP = 2,
	PFCP_PFD_MGMT_REQ = 3, PFCP_PFD_MGMT_RSP = 4,
	PFCP_ASSOC_SETUP_REQ = 5, PFCP_ASSOC_SETUP_RSP = 6,
	PFCP_ASSOC_UPDATE_REQ = 7, PFCP_ASSOC_UPDATE_RSP = 8,
	PFCP_ASSOC_RELEASE_REQ = 9, PFCP_ASSOC_RELEASE_RSP = 10,
	PFCP_VERSION_NOT_SUPPORTED = 11,
	PFCP_NODE_REPORT_REQ = 12, PFCP_NODE_REPORT_RSP = 13,
	PFCP_SET_DELETION_REQ = 14, PFCP_SET_DELETION_RSP = 15,
	PFCP_SESS_EST_REQ = 50, PFCP_SESS_EST_RSP = 51,
	PFCP_SESS_MOD_REQ = 52, PFCP_SESS_MOD_RSP = 53,
	PFCP_SESS_DEL_REQ = 54, PFCP_SESS_DEL_RSP = 55,
	PFCP_SESS_REPORT_REQ = 56, PFCP_SESS_REPORT_RSP = 57,
};

/* Information element types (TS 29.244 8.1.2). */
enum {
	IE_CREATE_PDR = 1, IE_PDI = 2, IE_CREATE_FAR = 3, IE_FORWARDING_PARAMS = 4,
	IE_DUPLICATING_PARAMS = 5, IE_CREATE_URR = 6, IE_CREATE_QER = 7, IE_CREATED_PDR = 8,
	IE_UPDATE_PDR = 9, IE_UPDATE_FAR = 10, IE_UPDATE_FORWARDING_PARAMS = 11,
	IE_UPDATE_URR = 13, IE_UPDATE_QER = 14, IE_REMOVE_PDR = 15, IE_REMOVE_FAR = 16,
	IE_REMOVE_URR = 17, IE_REMOVE_QER = 18, IE_CAUSE = 19, IE_SOURCE_INTERFACE = 20,
	IE_F_TEID = 21, IE_NETWORK_INSTANCE = 22, IE_SDF_FILTER = 23, IE_APPLICATION_ID = 24,
	IE_GATE_STATUS = 25, IE_MBR = 26, IE_GBR = 27, IE_PRECEDENCE = 29, IE_TRANSPORT_LEVEL_MARKING = 30, IE_REPORT_TYPE = 39,
	IE_OFFENDING_IE = 40, IE_FORWARDING_POLICY = 41, IE_DESTINATION_INTERFACE = 42,
	IE_UP_FUNCTION_FEATURES = 43, IE_APPLY_ACTION = 44, IE_PFCPSMREQ_FLAGS = 49,
	IE_PDR_ID = 56, IE_F_SEID = 57, IE_NODE_ID = 60, IE_URR_ID = 81,
	IE_QUERY_URR = 77, IE_USAGE_REPORT_SMR = 78, IE_USAGE_REPORT_SDR = 79,
	IE_USAGE_REPORT_SRR = 80, IE_MEASUREMENT_METHOD = 62, IE_USAGE_REPORT_TRIGGER = 63,
	IE_MEASUREMENT_PERIOD = 64, IE_VOLUME_MEASUREMENT = 66, IE_DURATION_MEASUREMENT = 67,
	IE_VOLUME_QUOTA = 73, IE_TIME_QUOTA = 74, IE_START_TIME = 75, IE_END_TIME = 76,
	IE_VOLUME_THRESHOLD = 31, IE_TIME_THRESHOLD = 32, IE_REPORTING_TRIGGERS = 37, IE_UR_SEQN = 104,
	IE_OUTER_HEADER_CREATION = 84, IE_CREATE_BAR = 85, IE_UPDATE_BAR = 86, IE_REMOVE_BAR = 87,
	IE_BAR_ID = 88, IE_CP_FUNCTION_FEATURES = 89, IE_UE_IP_ADDRESS = 93,
	IE_OUTER_HEADER_REMOVAL = 95, IE_RECOVERY_TIME_STAMP = 96, IE_ERROR_INDICATION_REPORT = 99,
	IE_NODE_REPORT_TYPE = 101, IE_UP_PATH_FAILURE_REPORT = 102, IE_REMOTE_GTPU_PEER = 103,
	IE_FAR_ID = 108, IE_QER_ID = 109, IE_ASSOC_RELEASE_REQUEST = 111,
	IE_GRACEFUL_RELEASE_PERIOD = 112, IE_PDN_TYPE = 113, IE_FAILED_RULE_ID = 114,
	IE_USER_PLANE_INACTIVITY_TIMER = 117, IE_QFI = 124, IE_CREATE_TRAFFIC_ENDPOINT = 127,
	IE_SOURCE_IP_ADDRESS = 192, IE_UPDATE_BAR_SRR = 12, IE_DL_DATA_NOTIFICATION_DELAY = 46,
	IE_DL_BUFFERING_DURATION = 47, IE_DL_BUFFERING_SUGGESTED_COUNT = 48, IE_SXSRRSP_FLAGS = 50,
	IE_DOWNLINK_DATA_REPORT = 83, IE_SUGGESTED_BUFFERING_COUNT = 140,
};

/* Cause values (TS 29.244 8.2.1). */
enum {
	PFCP_CAUSE_ACCEPTED = 1,
	PFCP_CAUSE_REJECTED = 64,
	PFCP_CAUSE_NO_SESSION = 65,
	PFCP_CAUSE_MANDATORY_MISSING = 66,
	PFCP_CAUSE_CONDITIONAL_MISSING = 67,
	PFCP_CAUSE_INVALID_LENGTH = 68,
	PFCP_CAUSE_MANDATORY_INCORRECT = 69,
	PFCP_CAUSE_INVALID_FWD_POLICY = 70,
	PFCP_CAUSE_INVALID_FTEID_ALLOC = 71,
	PFCP_CAUSE_NO_ASSOCIATION = 72,
	PFCP_CAUSE_RULE_FAILURE = 73,
	PFCP_CAUSE_CONGESTION = 74,
	PFCP_CAUSE_NO_RESOURCES = 75,
	PFCP_CAUSE_NOT_SUPPORTED = 76,
	PFCP_CAUSE_SYSTEM_FAILURE = 77,
};

/* Interface values of Source and Destination Interface. */
enum { PFCP_IF_ACCESS = 0, PFCP_IF_CORE = 1, PFCP_IF_SGI = 2, PFCP_IF_CP = 3 };

/* Apply Action flags (octet 5). */
#define PFCP_AA_DROP 0x01
#define PFCP_AA_FORW 0x02
#define PFCP_AA_BUFF 0x04
#define PFCP_AA_NOCP 0x08
#define PFCP_AA_DUPL 0x10

/* Outer Header Creation description flags (octets 5-6, big endian). */
#define PFCP_OHC_GTPU_V4 0x0100
#define PFCP_OHC_GTPU_V6 0x0200
#define PFCP_OHC_UDP_V4 0x0400
#define PFCP_OHC_UDP_V6 0x0800
#define PFCP_OHC_IPV4 0x1000
#define PFCP_OHC_IPV6 0x2000
#define PFCP_OHC_CTAG 0x4000
#define PFCP_OHC_STAG 0x8000
#define PFCP_OHC_N19 0x0001
#define PFCP_OHC_N6 0x0002

/* Outer Header Removal descriptions gtpud honours. */
enum { PFCP_OHR_GTPU_V4 = 0, PFCP_OHR_GTPU_V6 = 1, PFCP_OHR_GTPU_IP = 6, PFCP_OHR_NONE = 0xff };

/* Rule types of Failed Rule ID. */
enum { PFCP_RULE_PDR = 0, PFCP_RULE_FAR = 1, PFCP_RULE_QER = 2, PFCP_RULE_URR = 3, PFCP_RULE_BAR = 4 };

/* ---- header ---- */

struct pfcp_hdr {
	uint8_t version;
	uint8_t type;
	bool has_seid;
	bool mp;
	uint16_t length;          /* of what follows the first four octets */
	uint64_t seid;
	uint32_t seq;             /* 24 bits */
	size_t hdr_len;           /* 8 or 16 */
};

enum pfcp_hdr_err {
	PFCP_HDR_OK = 0,
	PFCP_HDR_SHORT,           /* fewer than 8 octets, or than the header */
	PFCP_HDR_VERSION,         /* not version 1: Version Not Supported */
	PFCP_HDR_LENGTH,          /* length field disagrees with the datagram */
};

/* Parse the header of the datagram b[0..n). A datagram longer than its
 * length field is PFCP_HDR_LENGTH (TS 29.244 allows no trailing octets
 * outside the FO bit, which gtpud does not support). */
enum pfcp_hdr_err pfcp_hdr_parse(const uint8_t *b, size_t n, struct pfcp_hdr *h);

/* ---- IEs ---- */

struct pfcp_ie {
	uint16_t type;
	uint16_t len;             /* of the value (enterprise ID excluded) */
	uint16_t enterprise;      /* 0 unless type >= 32768 */
	const uint8_t *v;
};

struct pfcp_iter {
	const uint8_t *p, *end;
};

static inline void pfcp_iter_init(struct pfcp_iter *it, const uint8_t *b, size_t n)
{
	it->p = b;
	it->end = b + n;
}
/* The next IE: 1, 0 at the end, -1 when an IE runs past the end (ie->type
 * names it when its type could be read, else 0). */
int pfcp_ie_next(struct pfcp_iter *it, struct pfcp_ie *ie);

struct pfcp_addr {
	uint8_t family;           /* 0, AF_INET or AF_INET6 */
	uint8_t a[16];
};

struct pfcp_fteid {
	uint8_t flags;            /* PFCP_FTEID_* */
	uint32_t teid;
	uint8_t v4[4];
	uint8_t v6[16];
	uint8_t choose_id;
};
#define PFCP_FTEID_V4 0x01
#define PFCP_FTEID_V6 0x02
#define PFCP_FTEID_CH 0x04
#define PFCP_FTEID_CHID 0x08

struct pfcp_fseid {
	uint64_t seid;
	struct pfcp_addr v4, v6;
};

struct pfcp_node_id {
	uint8_t type;             /* 0 IPv4, 1 IPv6, 2 FQDN */
	uint8_t len;              /* of the FQDN as encoded */
	uint8_t v[255];
};

struct pfcp_ohc {
	uint16_t desc;
	uint32_t teid;
	uint8_t v4[4];
	uint8_t v6[16];
	uint16_t port;
};

struct pfcp_ueip {
	uint8_t flags;            /* V6 0x01, V4 0x02, S/D 0x04, ... */
	uint8_t v4[4];
	uint8_t v6[16];
};
#define PFCP_UEIP_V6 0x01
#define PFCP_UEIP_V4 0x02
#define PFCP_UEIP_SD 0x04
#define PFCP_UEIP_IPV6D 0x08
#define PFCP_UEIP_CHV4 0x10
#define PFCP_UEIP_CHV6 0x20

/* Decoders: true when the value is well formed. */
bool pfcp_get_u8(const struct pfcp_ie *ie, uint8_t *v);
bool pfcp_get_u16(const struct pfcp_ie *ie, uint16_t *v);
bool pfcp_get_u32(const struct pfcp_ie *ie, uint32_t *v);
bool pfcp_get_fteid(const struct pfcp_ie *ie, struct pfcp_fteid *f);
bool pfcp_get_fseid(const struct pfcp_ie *ie, struct pfcp_fseid *f);
bool pfcp_get_node_id(const struct pfcp_ie *ie, struct pfcp_node_id *n);
bool pfcp_get_ohc(const struct pfcp_ie *ie, struct pfcp_ohc *o);
bool pfcp_get_ueip(const struct pfcp_ie *ie, struct pfcp_ueip *u);

/* The node ID as text: an address, or the FQDN's labels joined by dots. */
void pfcp_node_id_str(const struct pfcp_node_id *n, char *buf, size_t len);
bool pfcp_node_id_eq(const struct pfcp_node_id *a, const struct pfcp_node_id *b);
/* An SDF filter that gtpud can honour: a flow description that selects all
 * IP traffic ("permit out ip from any to any", or "assigned" for either). */
bool pfcp_sdf_all_ip(const struct pfcp_ie *ie);

/* ---- writing ---- */

struct pfcp_buf {
	uint8_t *b;
	size_t len, cap;
	bool overflow;
};

/* Start a message: the header with the length filled in by pfcp_msg_end. */
void pfcp_msg_begin(struct pfcp_buf *w, uint8_t type, bool has_seid, uint64_t seid, uint32_t seq);
void pfcp_msg_end(struct pfcp_buf *w);
void pfcp_put(struct pfcp_buf *w, uint16_t type, const void *v, size_t len);
void pfcp_put_u8(struct pfcp_buf *w, uint16_t type, uint8_t v);
void pfcp_put_u16(struct pfcp_buf *w, uint16_t type, uint16_t v);
void pfcp_put_u32(struct pfcp_buf *w, uint16_t type, uint32_t v);
void pfcp_put_fteid(struct pfcp_buf *w, const struct pfcp_fteid *f);
void pfcp_put_fseid(struct pfcp_buf *w, uint64_t seid, const struct pfcp_addr *v4,
		    const struct pfcp_addr *v6);
void pfcp_put_node_id(struct pfcp_buf *w, const struct pfcp_node_id *n);
/* Grouped IEs: begin returns the offset that end needs. */
size_t pfcp_group_begin(struct pfcp_buf *w, uint16_t type);
void pfcp_group_end(struct pfcp_buf *w, size_t at);

/* A node ID from text: an address, else an FQDN. false: not encodable. */
bool pfcp_node_id_parse(const char *s, struct pfcp_node_id *n);

/* ---- the rules of a session request ---- */

#define PFCP_MAX_IDS 4            /* QER and URR IDs kept per PDR */

struct pfcp_pdr {
	uint16_t id;
	uint16_t has;             /* PDR_HAS_* */
	uint32_t precedence;
	uint8_t src_if;
	uint8_t ohr;              /* PFCP_OHR_NONE when absent */
	int8_t qfi;               /* -1 */
	uint8_t n_qer, n_urr;
	uint32_t far_id;
	struct pfcp_fteid fteid;
	struct pfcp_ueip ue;
	uint32_t qer[PFCP_MAX_IDS], urr[PFCP_MAX_IDS];
	uint8_t ni_len;
	uint8_t ni[64];           /* Network Instance as encoded (first 64 octets) */
};
#define PDR_HAS_PRECEDENCE 0x01
#define PDR_HAS_PDI 0x02
#define PDR_HAS_SRC 0x04
#define PDR_HAS_FTEID 0x08
#define PDR_HAS_UE 0x10
#define PDR_HAS_OHR 0x20
#define PDR_HAS_FAR 0x40
#define PDR_HAS_QFI 0x80
#define PDR_HAS_NI 0x100

struct pfcp_far {
	uint32_t id;
	uint16_t has;             /* FAR_HAS_* */
	uint8_t action;           /* Apply Action octet 5 */
	uint8_t dst_if;
	uint8_t tos;              /* Transport Level Marking: ToS/Traffic Class value */
	uint8_t bar_id;
	bool sndem;               /* Update Forwarding Parameters: send an End Marker */
	struct pfcp_ohc ohc;
};
#define FAR_HAS_ACTION 0x01
#define FAR_HAS_FWD 0x02
#define FAR_HAS_DST 0x04
#define FAR_HAS_OHC 0x08
#define FAR_HAS_TLM 0x10
#define FAR_HAS_NI 0x20
#define FAR_HAS_BAR 0x40

/* Report Type (octet 5). */
#define PFCP_REPORT_DLDR 0x01
#define PFCP_REPORT_USAR 0x02
/* PFCP SRR Rsp Flags (octet 5): drop the buffered packets. */
#define PFCP_SRRSP_DROBU 0x01

/* A Buffering Action Rule: Create BAR, Update BAR (in a Session
 * Modification Request, or in a Session Report Response). */
struct pfcp_bar {
	uint8_t id;
	uint8_t has;              /* BAR_HAS_* */
	uint8_t dl_delay;         /* Downlink Data Notification Delay, 50 ms units */
	uint16_t count;           /* Suggested Buffering Packets Count */
	uint32_t duration;        /* DL Buffering Duration, seconds (UINT32_MAX: infinite) */
	uint16_t dl_count;        /* DL Buffering Suggested Packet Count */
};
#define BAR_HAS_DELAY 0x01
#define BAR_HAS_COUNT 0x02
#define BAR_HAS_DURATION 0x04
#define BAR_HAS_DL_COUNT 0x08
struct pfcp_qer {
	uint32_t id;
	uint8_t has;              /* QER_HAS_* */
	uint8_t gate;             /* Gate Status octet 5: UL << 2 | DL, 0 open, 1 closed */
	int8_t qfi;               /* -1 */
	uint64_t mbr_ul, mbr_dl;  /* kbit/s, 0: none */
};
#define QER_HAS_GATE 0x01
#define QER_HAS_MBR 0x02
#define QER_HAS_QFI 0x04
#define PFCP_GATE_UL_CLOSED(g) (((g) >> 2 & 3) != 0)
#define PFCP_GATE_DL_CLOSED(g) (((g) & 3) != 0)

/* Reporting Triggers (octets 5, 6 as one number, octet 5 low). */
#define PFCP_RT_PERIO 0x0001
#define PFCP_RT_VOLTH 0x0002
#define PFCP_RT_TIMTH 0x0004
#define PFCP_RT_VOLQU 0x0100
#define PFCP_RT_TIMQU 0x0200
/* Usage Report Trigger (octets 5, 6 likewise). */
#define PFCP_URT_PERIO 0x0001
#define PFCP_URT_VOLTH 0x0002
#define PFCP_URT_TIMTH 0x0004
#define PFCP_URT_IMMER 0x0080
#define PFCP_URT_VOLQU 0x0100
#define PFCP_URT_TIMQU 0x0200
#define PFCP_URT_TERMR 0x0800
/* Volume flags of thresholds, quotas and measurements. */
#define PFCP_VOL_TOTAL 0x01
#define PFCP_VOL_UL 0x02
#define PFCP_VOL_DL 0x04

struct pfcp_urr {
	uint32_t id;
	uint16_t has;             /* URR_HAS_* */
	uint8_t method;           /* DURAT 0x01, VOLUM 0x02, EVENT 0x04 */
	uint16_t triggers;        /* PFCP_RT_* */
	uint32_t period;          /* seconds */
	uint8_t vth_flags, vq_flags;
	uint64_t vth[3], vq[3];   /* total, uplink, downlink bytes */
	uint32_t time_th, time_quota;   /* seconds */
};
#define URR_HAS_METHOD 0x01
#define URR_HAS_TRIGGERS 0x02
#define URR_HAS_PERIOD 0x04
#define URR_HAS_VTH 0x08
#define URR_HAS_VQ 0x10
#define URR_HAS_TTH 0x20
#define URR_HAS_TQ 0x40

/* What went wrong with a request: the cause, the IE to name in Offending
 * IE (0: none), the rule to name in Failed Rule ID (type 0xff: none), and
 * a sentence for the log and gtpuctl. */
struct pfcp_fail {
	uint8_t cause;
	uint16_t offending;
	uint8_t rule_type;
	uint32_t rule_id;
	char why[120];
};

/* Decode a Create PDR / Update PDR (update: only the ID is mandatory), a
 * Create FAR / Update FAR. false with f filled in. */
bool pfcp_parse_pdr(const struct pfcp_ie *ie, bool update, struct pfcp_pdr *p, struct pfcp_fail *f);
bool pfcp_parse_far(const struct pfcp_ie *ie, bool update, struct pfcp_far *r, struct pfcp_fail *f);
/* Decode a Create QER / Update QER (Gate Status, MBR, QFI; GBR and
 * others skipped). */
bool pfcp_parse_qer(const struct pfcp_ie *ie, bool update, struct pfcp_qer *q, struct pfcp_fail *f);
/* Decode a Create URR / Update URR. */
bool pfcp_parse_urr(const struct pfcp_ie *ie, bool update, struct pfcp_urr *u, struct pfcp_fail *f);
/* Decode a Create BAR, Update BAR, or the Update BAR of a Session Report
 * Response (srr: DL Buffering Duration and Suggested Packet Count too). */
bool pfcp_parse_bar(const struct pfcp_ie *ie, bool srr, struct pfcp_bar *b, struct pfcp_fail *f);
/* The ID in a Remove PDR (16 bits) / BAR (8 bits) / FAR, QER, URR (32 bits) IE. */
bool pfcp_parse_remove(const struct pfcp_ie *ie, uint16_t id_type, uint32_t *id, struct pfcp_fail *f);

void pfcp_fail_set(struct pfcp_fail *f, uint8_t cause, uint16_t offending, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

const char *pfcp_msg_name(uint8_t type);
const char *pfcp_cause_name(uint8_t cause);

#endif
