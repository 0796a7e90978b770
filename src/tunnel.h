/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules of one tunnel, whatever brought it: the configuration file
 * (libconfig's parse and the fast scanner alike), gtpuctl's command line,
 * batches, the state file, and the PFCP sessions to come. Parsers only
 * tokenize into a tunnel_in; tunnel_check decides, with one message per
 * broken rule. Whether a name, TEID or address is already taken is the
 * table's business (state_tunnel_check), and duplicates within the file the
 * loader's. Pure: no I/O, no allocation. */
#ifndef GTPUD_TUNNEL_H
#define GTPUD_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* The keys of a tunnel; tunnel_key_name() gives the file's spelling. */
enum tunnel_key {
	TK_NAME, TK_FROM_PEER, TK_FROM_TEID, TK_TO_PEER, TK_TO_TEID,
	TK_UE, TK_QFI, TK_RATE, TK_BURST, TK__COUNT
};
#define TK_BIT(k) (1u << (k))

#define TUNNEL_TEID_MIN 1              /* 0 is the TEID of signalling */
#define TUNNEL_TEID_MAX 0xffffffffLL
#define TUNNEL_QFI_MAX 63
#define TUNNEL_RATE_MAX ((int64_t)CONF_RATE_MAX)
#define TUNNEL_BURST_MAX ((int64_t)CONF_BURST_MAX)

const char *tunnel_key_name(enum tunnel_key k);   /* "name", "from.teid", ... */

/* A tunnel as a parser read it: numbers as written (out of range too),
 * strings as written, keys given in has. */
struct tunnel_in {
	unsigned has;                 /* TK_BIT() of the keys given */
	const char *name, *from_peer, *to_peer;
	int64_t from_teid, to_teid, qfi, rate, burst;
	unsigned n_ue;                /* as written: may be more than CONF_MAX_UE */
	const char *const *ue;
};

/* Where the rules need the running configuration. */
struct tunnel_ctx {
	/* The index of a peer by name, or -1; NULL: peers are resolved later
	 * (gtpuctl checks a command line before it has a daemon). */
	int (*peer)(void *ud, const char *name);
	void *ud;
	int has_tun;                  /* 1, 0, or -1: not known here */
	/* Each broken rule: its key, the ue index for a ue address (else
	 * -1), and the message without the key ("0 is out of range
	 * (1..4294967295)"); "missing" for a required key not given. */
	void (*err)(void *ud, enum tunnel_key k, int index, const char *msg);
};

/* Check in and fill out (out->name points to in->name; the ue addresses go
 * to ue[CONF_MAX_UE], out->ue points there). Returns the number of rules
 * broken (0: out is a valid tunnel). */
unsigned tunnel_check(const struct tunnel_in *in, const struct tunnel_ctx *ctx,
		      struct conf_tunnel *out, struct conf_addr *ue);

#endif
