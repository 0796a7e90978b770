/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The XDP fast path's tunnel table, as the control thread writes it: open
 * addressing over an array of buckets of two entries, one cache line each
 * (src/xdp/gtpu_xdp.h), mapped into gtpud's memory. A lookup in the program
 * reads one line for a tunnel at its home bucket, where a kernel hash map
 * reads three (bucket, element, value); with a million tunnels, each a
 * miss to memory.
 *
 * Writes: an entry is filled, then made live; a removed entry is made
 * dead, and dead entries become free again only after every program run
 * that may have seen them live has ended (xdp_ttab_reap). So a program that
 * found an entry live reads what was written before, and its counts go to
 * that tunnel and no other. Only the control thread writes. */
#ifndef GTPUD_XDP_TABLE_H
#define GTPUD_XDP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp/gtpu_xdp.h"

struct xdp_ttab {
	struct xdp_tbucket *b;    /* the map's memory */
	uint32_t n;               /* buckets */
	uint32_t live, dead;      /* entries */
	int fd_grace, fd_grace_inner;  /* a map of maps: an update waits for the running programs */
};

/* The buckets for max_tunnels: two thirds of the entries used at most. */
uint32_t xdp_ttab_buckets(uint32_t max_tunnels);
/* Map the table of map fd (n buckets, BPF_F_MMAPABLE). -errno. */
int xdp_ttab_map(struct xdp_ttab *t, int fd, uint32_t n, int fd_grace, int fd_grace_inner);
void xdp_ttab_unmap(struct xdp_ttab *t);

/* The live entry of teid, or NULL. */
struct xdp_tunnel *xdp_ttab_find(const struct xdp_ttab *t, uint32_t teid);
/* Make teid's entry e (its to_teid, peers and counts; teid's live entry,
 * if any, is replaced). -ENOSPC: no free entry within the probe window. */
int xdp_ttab_put(struct xdp_ttab *t, uint32_t teid, const struct xdp_tunnel *e);
/* Remove teid's entry (its counts: xdp_ttab_find first). false: none. */
bool xdp_ttab_del(struct xdp_ttab *t, uint32_t teid);
/* Free the dead entries once no program run can still be using them, and
 * set the buckets' overflow marks anew. */
void xdp_ttab_reap(struct xdp_ttab *t);

#endif
