/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file (libconfig syntax, see gtpud.conf(5)) parsed into a
 * plain struct. Every error is collected, each as "FILE:LINE: message". */
#ifndef GTPUD_CONF_H
#define GTPUD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf_addr.h"

#define CONF_MAX_LISTEN 16
#define CONF_MAX_PEERS 4096
#define CONF_MAX_TUNNELS (1u << 24)
#define CONF_MAX_RUNTIME (1u << 24)      /* max_runtime_tunnels */
#define CONF_DEFAULT_RUNTIME (1u << 20)
#define CONF_MAX_UE 16            /* ue addresses of one tunnel */
#define CONF_MAX_TUN_ADDRS 16
#define CONF_MAX_XDP_IFACES 16
#define CONF_MAX_ERRORS 100       /* further errors are counted, not kept */
#define CONF_DEFAULT_CONTROL_PATH "/run/gtpud/control.sock"
#define CONF_DEFAULT_CONTROL_GROUP "gtpud"
#define CONF_RATE_MAX 1000000000000ULL   /* a tunnel's rate, bits per second */
#define CONF_BURST_MAX 1000000000ULL     /* its burst, bytes */

enum conf_log_level { CONF_LOG_ERROR = 3, CONF_LOG_WARNING = 4, CONF_LOG_NOTICE = 5, CONF_LOG_INFO = 6,
		      CONF_LOG_DEBUG = 7 };
enum conf_down_action { CONF_DOWN_FORWARD = 0, CONF_DOWN_DROP = 1 };
enum conf_xdp_mode { CONF_XDP_AUTO = 0, CONF_XDP_NATIVE = 1, CONF_XDP_GENERIC = 2 };

struct conf_peer {
	char name[CONF_NAME_MAX + 1];
	struct conf_addr addr;    /* port defaults to 2152 */
	bool echo;
	int line;
};

struct conf_tunnel {
	char *name;               /* owned */
	uint32_t from_peer;       /* index into conf.peers */
	uint32_t from_teid;       /* 1 .. 0xffffffff */
	uint32_t to_peer;
	uint32_t to_teid;         /* 1 .. 0xffffffff (0 is the TEID of signalling) */
	uint8_t n_ue;
	struct conf_addr *ue;     /* owned, malloc'd with n_ue entries; NULL when n_ue == 0
				     (a pointer, not an array: a million tunnels must stay small) */
	int qfi;                  /* -1: no PDU Session Container; else 0..63 */
	uint8_t ul_qfi;           /* PFCP: the QFI a G-PDU received must carry, plus 1; 0: any */
	uint64_t rate;            /* bits per second, 0 = unlimited */
	uint64_t burst;           /* bytes; 0 = default (rate / 8 / 10, at least 3000) */
	uint64_t rate_down;       /* bits per second of an endpoint's downlink when it differs
				     (PFCP QERs): 0 = rate, UINT64_MAX = unlimited */
	int line;
};

struct conf_tun {
	bool present;
	char name[16];            /* IFNAMSIZ */
	unsigned mtu;             /* 576 (IPv4) / 1280 (IPv6) .. 65535 */
	unsigned n_addrs;
	struct conf_prefix addrs[CONF_MAX_TUN_ADDRS];
};

#define CONF_PFCP_MAX_ALLOW 64
#define PFCP_DEFAULT_PORT 8805

/* The PFCP user plane (gtpud.conf(5) "pfcp"). */
struct conf_pfcp {
	bool enabled;             /* the group is present */
	unsigned n_listen;
	struct conf_addr listen[CONF_MAX_LISTEN];
	char node_id[256];        /* an address or an FQDN, as written */
	unsigned n_allow;
	struct conf_prefix allow[CONF_PFCP_MAX_ALLOW];
	unsigned n_access, n_core;
	struct conf_addr access[2], core[2];   /* one IPv4, one IPv6 at most */
	unsigned heartbeat_interval;   /* seconds, 0 = none */
	unsigned heartbeat_timeout;    /* seconds to wait for a response (T1) */
	unsigned heartbeat_retries;    /* N1 */
	unsigned max_sessions;
	unsigned max_rules;       /* PDRs and FARs each per session */
	unsigned max_message;     /* bytes of a request gtpud reads */
	unsigned max_peers;       /* GTP-U peers PFCP may bring */
	unsigned buffer_packets;  /* FAR BUFF: packets held per session */
	unsigned buffer_bytes;    /* bytes held per session */
	unsigned buffer_total;    /* bytes held in all */
	unsigned buffer_time;     /* seconds a packet is held at most */
};

struct conf {
	char *file;               /* owned copy of the file name */
	unsigned n_listen;
	struct conf_addr listen[CONF_MAX_LISTEN];
	struct {
		char *path;       /* owned */
		char *group;      /* owned, NULL = none */
		bool group_default;      /* not named in the file */
		mode_t mode;
		unsigned max_clients;
		unsigned idle_timeout;   /* seconds */
	} control;
	enum conf_log_level log_level;
	unsigned workers;         /* 1 .. 64 */
	unsigned max_runtime;     /* runtime tunnels at most (max_runtime_tunnels) */
	char *state_directory;    /* owned; NULL: $STATE_DIRECTORY, else none */
	char *user, *group;       /* owned; to become after start-up when run as root, or NULL */
	struct {
		unsigned interval;        /* seconds, 0 = no Echo */
		unsigned t3;              /* seconds */
		unsigned n3;
		enum conf_down_action on_down;
		unsigned answer_rate;     /* Echo Requests answered per second per peer (and for all others) */
		unsigned answer_rate_total;   /* ... and from all sources together */
	} echo;
	struct {
		bool enabled;
		unsigned rate;            /* per peer per second */
		unsigned quiet;           /* seconds after start with none sent */
		bool remove_tunnel;       /* a valid one received removes a runtime tunnel */
		unsigned accept_rate;     /* received ones looked at, per peer per second */
	} error_indication;
	struct {
		bool enabled;
		struct conf_addr listen;
	} metrics;
	struct {
		unsigned n_ifaces;        /* 0: no XDP fast path */
		char ifaces[CONF_MAX_XDP_IFACES][16];   /* IFNAMSIZ */
		enum conf_xdp_mode mode;
	} xdp;
	struct conf_pfcp pfcp;
	uint32_t n_peers;
	struct conf_peer *peers;  /* owned */
	struct conf_tun tun;
	uint32_t n_tunnels;
	struct conf_tunnel *tunnels;  /* owned */
	/* The loader keeps all tunnel names and all ue addresses in these two
	 * blocks (tunnels[i].name and .ue point into them); conf_free frees
	 * names and ue that point elsewhere one by one (tunnels set by hand). */
	char *name_store;
	size_t name_store_len;
	struct conf_addr *ue_store;
	size_t ue_store_n;
};

struct conf_errors {
	unsigned count;           /* every error, kept or not */
	unsigned n;               /* kept in msg[] */
	char *msg[CONF_MAX_ERRORS];  /* "FILE:LINE: message", owned */
};

/* Parse a file or a string into a new struct conf. Returns 0 and sets *out,
 * or -EINVAL with every error in errs (and *out NULL). file names the source
 * in messages. Missing values take the defaults of gtpud.conf(5).
 * errs is overwritten (not freed first); free it with conf_errors_fini after
 * either result. Errors are sorted by line. conf_read_file returns the
 * -errno of open/read (-ENOENT, -EACCES, -EISDIR...) with the one error
 * "FILE: cannot read: STRERROR" when the file cannot be read, so callers can
 * tell "cannot read" from "invalid" (-EINVAL). -ENOMEM: out of memory. */
int conf_read_file(const char *file, struct conf **out, struct conf_errors *errs);
int conf_read_string(const char *text, const char *file, struct conf **out,
		     struct conf_errors *errs);
/* control.path of file (or the default when it names none), read from the
 * control group alone: the rest of the file may be invalid, even its syntax.
 * 0 and *path (caller frees), or -errno with the errors in errs. */
int conf_read_control_path(const char *file, char **path, struct conf_errors *errs);
int conf_control_path_string(const char *text, const char *file, char **path, struct conf_errors *errs);
void conf_free(struct conf *c);
/* Free the tunnels of c (once they live in the tables); n_tunnels becomes 0. */
void conf_free_tunnels(struct conf *c);
void conf_errors_fini(struct conf_errors *errs);

/* Index of the peer called name, or -1. */
int conf_peer_index(const struct conf *c, const char *name);

#endif
