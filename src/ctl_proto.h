/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol, shared by gtpud and gtpuctl: one JSON object per line
 * on a Unix stream socket, requests, replies and monitor events. Pure
 * functions (no I/O, no logging) so they can be unit-tested and fuzzed. */
#ifndef GTPUD_CTL_PROTO_H
#define GTPUD_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "conf.h"

#define CTL_PROTO_VERSION 1
#define CTL_MAX_REQUEST (64 * 1024)     /* bytes of one request line, newline excluded */
#define CTL_MAX_ARGS 64
/* The same default as gtpud's control.path, whatever the install prefix. */
#define CTL_DEFAULT_SOCKET CONF_DEFAULT_CONTROL_PATH
#define CTL_SOCKET_ENV "GTPUD_CONTROL"

/* Result codes of a reply. Values are part of the protocol: append only. */
enum ctl_result {
	CTL_OK = 0,
	CTL_E_PROTO = 1,          /* malformed request, bad version, NUL bytes, junk */
	CTL_E_UNKNOWN_CMD = 2,
	CTL_E_USAGE = 3,          /* wrong arguments for the command */
	CTL_E_PERM = 4,           /* mutating command from neither root nor the control group */
	CTL_E_NOT_FOUND = 5,
	CTL_E_EXISTS = 6,
	CTL_E_INVALID = 7,        /* configuration errors (reload, tunnel add) */
	CTL_E_LIMIT = 8,          /* a limit was reached (clients, request size, tunnels) */
	CTL_E_INTERNAL = 9,
};
#define CTL_RESULT_MAX CTL_E_INTERNAL

/* "ok", "protocol", ...: a short stable name. */
const char *ctl_result_name(enum ctl_result r);
/* A sentence for people: "malformed request", "permission denied", ... */
const char *ctl_result_str(enum ctl_result r);
/* Same as ctl_result_str() for any int; unknown values give "unknown error". */
const char *ctl_result_str_any(int r);

/* A parsed request. command and args point into root, which owns them. */
struct ctl_request {
	json_object *root;
	const char *command;
	json_object *args;        /* array of strings, possibly empty, never NULL */
	json_object *batch;       /* array of strings (lines), or NULL */
};

/* Parse one request line (without its newline; a trailing '\r' is allowed).
 * Returns 0 and fills req (release with ctl_request_fini), or -EBADMSG with
 * *why set to a static sentence saying what is wrong. */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, const char **why);
void ctl_request_fini(struct ctl_request *req);

/* Build a request line, newline-terminated. Returns malloc'd text, or NULL
 * when out of memory or nargs > CTL_MAX_ARGS. */
char *ctl_request_build(const char *command, const char *const *args, size_t nargs);
/* The same with a batch of lines (and no args); NULL when out of memory or
 * more than CTL_MAX_BATCH lines. */
char *ctl_request_build_batch(const char *command, const char *const *lines, size_t n);

/* Build a reply line, newline-terminated. Takes ownership of data and errors
 * (either may be NULL). On CTL_OK data is sent ("null" when NULL); otherwise
 * "error" is error (or ctl_result_str(result) when NULL) and "errors" is the
 * errors array (an empty array when NULL). Returns malloc'd text or NULL. */
char *ctl_reply_build(int result, json_object *data, const char *error, json_object *errors);

/* A parsed reply. data, error and errors point into root. */
struct ctl_reply {
	json_object *root;
	int result;
	json_object *data;        /* NULL for JSON null */
	const char *error;        /* NULL on CTL_OK */
	json_object *errors;      /* array of strings, NULL on CTL_OK */
};

/* Parse a reply line. Returns 0, or -EBADMSG with *why set. */
int ctl_reply_parse(const char *line, size_t len, struct ctl_reply *rep, const char **why);
void ctl_reply_fini(struct ctl_reply *rep);

/* Build a monitor event line {"event":EVENT,"time":T,...fields},
 * newline-terminated. Takes ownership of fields (an object or NULL); its
 * "event" and "time" keys, if any, are overridden. Returns malloc'd text. */
char *ctl_event_build(const char *event, time_t t, json_object *fields);

/* Monitor event names. */
#define CTL_EV_PEER_UP "peer_up"
#define CTL_EV_PEER_DOWN "peer_down"
#define CTL_EV_ERROR_INDICATION "error_indication"
#define CTL_EV_RELOAD "reload"
#define CTL_EV_TUNNEL_ADDED "tunnel_added"
#define CTL_EV_TUNNEL_REMOVED "tunnel_removed"
#define CTL_EV_TUN_LOST "tun_lost"
#define CTL_EV_PFCP_ASSOC_SETUP "pfcp_association_setup"
#define CTL_EV_PFCP_ASSOC_RELEASED "pfcp_association_released"
#define CTL_EV_PFCP_NODE_RESTARTED "pfcp_node_restarted"
#define CTL_EV_PFCP_SESSION_ESTABLISHED "pfcp_session_established"
#define CTL_EV_PFCP_SESSION_MODIFIED "pfcp_session_modified"
#define CTL_EV_PFCP_SESSION_DELETED "pfcp_session_deleted"
#define CTL_EV_DROP "drop"             /* monitor drops only */

/* The words of "tunnel add" after the command name:
 *   NAME from PEER TEID to PEER TEID [ue ADDR...] [qfi N] [rate BPS] [burst BYTES]
 * Peer names are not resolved here (that needs the running config). */
struct ctl_tunnel_spec {
	char name[CONF_NAME_MAX + 1];
	char from_peer[CONF_NAME_MAX + 1];
	uint32_t from_teid;       /* 1 .. 0xffffffff */
	char to_peer[CONF_NAME_MAX + 1];
	uint32_t to_teid;         /* 1 .. 0xffffffff, as in the config file (0 is signalling) */
	unsigned n_ue;
	struct conf_addr ue[CONF_MAX_UE];
	int qfi;                  /* -1 when not given, else 0..63 */
	uint64_t rate;            /* bits per second, 0 when not given */
	uint64_t burst;           /* bytes, 0 when not given */
};

/* Returns 0, or -EINVAL with a sentence in err ("TEID 'x' is not a number
 * from 1 to 0xffffffff", ...). */
int ctl_tunnel_spec_parse(const char *const *words, size_t n, struct ctl_tunnel_spec *t,
			  char *err, size_t errlen);
/* The same on a JSON array of strings (the args of a request). */
int ctl_tunnel_spec_parse_json(json_object *args, struct ctl_tunnel_spec *t,
			       char *err, size_t errlen);

/* One line of a batch or of the state file: the words of "tunnel add"
 * after the command, separated by blanks; "#" starts a comment. Returns 1
 * with t filled, 0 for a blank or comment line, or -EINVAL with err. */
#define CTL_MAX_LINE 4096
int ctl_tunnel_line_parse(const char *line, struct ctl_tunnel_spec *t, char *err, size_t errlen);

/* What ctl_tunnel_line_format writes: a tunnel by its peers' names. */
struct ctl_tunnel_line {
	const char *name, *from, *to;
	uint32_t from_teid, to_teid;
	const struct conf_addr *ue;
	unsigned n_ue;
	int qfi;                  /* -1 none */
	uint64_t rate, burst;     /* 0 none */
};
/* The line (no newline) that ctl_tunnel_line_parse reads back as t; returns
 * its length (truncated at len - 1 when it is len or more). */
size_t ctl_tunnel_line_format(char *buf, size_t len, const struct ctl_tunnel_line *t);

/* A batch request: {"version":1,"command":"tunnel add","batch":[LINE,...]}
 * (or "tunnel del" with a name a line). Lines count from 1 in errors. */
#define CTL_MAX_BATCH (1u << 20)              /* lines of one batch */
#define CTL_MAX_BATCH_REQUEST (128u << 20)    /* bytes of a batch request (privileged clients) */

#endif
