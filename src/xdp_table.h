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

/* A removed entry whose counts are wanted: a run of the program that found
 * it live just before it was removed may still add to them, until the
 * grace period ends (xdp_ttab_reap), when they are taken here. */
struct xdp_tfinal {
	const struct xdp_tunnel *e;   /* the dead entry; NULL once its counts are taken */
	uint64_t pkts, bytes;
	uint32_t cookie;              /* the caller's */
};

struct xdp_ttab {
	struct xdp_tbucket *b;    /* the map's memory */
	uint32_t n;               /* buckets */
	uint32_t live, dead;      /* entries */
	int fd_grace, fd_grace_inner;  /* a map of maps: an update waits for the running programs */
	struct xdp_tfinal *fin;   /* xdp_ttab_del_final's, until xdp_ttab_finals_clear */
	uint32_t n_fin, cap_fin;
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
/* Remove teid's entry, its final counts wanted: they are in t->fin[] (with
 * cookie) after the next xdp_ttab_reap. -ENOENT: no entry; -ENOMEM:
 * nothing removed. */
int xdp_ttab_del_final(struct xdp_ttab *t, uint32_t teid, uint32_t cookie);
/* Free the dead entries once no program run can still be using them (the
 * final counts wanted taken first), and set the buckets' overflow marks
 * anew. */
void xdp_ttab_reap(struct xdp_ttab *t);
/* After xdp_ttab_reap: how many of t->fin[] there are, each with its final
 * counts (those whose grace period failed read as they are now, while
 * still dead). xdp_ttab_finals_clear empties the list. */
uint32_t xdp_ttab_finals(struct xdp_ttab *t);
void xdp_ttab_finals_clear(struct xdp_ttab *t);

#endif
