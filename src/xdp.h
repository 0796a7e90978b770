/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The XDP fast path's loader: attaches the program (src/xdp/gtpu_xdp.bpf.c)
 * to the interfaces of the config's xdp group, keeps its maps in step with
 * the tables (every tunnel added or removed, every reload, every peer going
 * up or down) and reads its per-CPU counters. Without XDP support in the
 * build, or with no interface named, every function is a no-op. */
#ifndef GTPUD_XDP_H
#define GTPUD_XDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "table.h"

struct xdp_path;

/* What the fast path carried, summed over the CPUs. */
struct xdp_totals {
	uint64_t rx_pkts, rx_bytes;  /* relayed by the program (bytes: UDP payload) */
	uint64_t tx_lost;         /* of those, not sent: the kernel refused or lost them */
	uint64_t fwd_pkts;        /* rx_pkts - tx_lost: relayed and sent */
	uint64_t passed;          /* handed up to the sockets */
	uint64_t not_offloaded;   /* relay tunnels the maps could not take (full) */
};

/* Attach to c->xdp.ifaces. bound[0..n) are the addresses and ports of
 * gtpud's sockets: the datagrams the program looks at, and the source of
 * what it sends. max_tunnels sizes the tunnel map. Under "auto", a refusal
 * falls back to generic mode, then to the sockets only, each with one log
 * line; under "native" or "generic" it is an error (-errno, err says what).
 * *out is NULL when no XDP path runs. */
int xdp_start(struct xdp_path **out, const struct conf *c, const struct sockaddr_storage *bound,
	      unsigned n_bound, uint32_t max_tunnels, char *err, size_t errlen);
/* Detach and free. */
void xdp_stop(struct xdp_path *x);
/* "native", "generic", or "off" (NULL x too). */
const char *xdp_mode_name(const struct xdp_path *x);

/* Make the maps hold s (after a reload: old is the state s replaced, whose
 * tunnels' counters the readers carried over by name; NULL at start). */
void xdp_sync(struct xdp_path *x, struct state *s, const struct state *old);
/* One tunnel of s added, or about to be removed (the table's hook). */
void xdp_tunnel_changed(struct xdp_path *x, const struct state *s, uint32_t i, bool added);
/* A peer's state changed (up, down), or its route may have. */
void xdp_peer_changed(struct xdp_path *x, const struct state *s, struct peer *p);

/* Add the fast path's counts to what the table counted. */
void xdp_tunnel_ctr(struct xdp_path *x, const struct state *s, uint32_t i, struct ctr *c);
void xdp_peer_ctr(struct xdp_path *x, const struct peer *p, struct ctr *c);
void xdp_totals(struct xdp_path *x, struct xdp_totals *t);

#endif
