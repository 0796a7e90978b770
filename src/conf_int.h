/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loader's insides, shared by its schema (conf.c) and its scanners
 * (conf_scan.c); nothing outside the loader includes this. */
#ifndef GTPUD_CONF_INT_H
#define GTPUD_CONF_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* ---- errors ---- */

struct eitem {
	int line;
	char *msg;
};

struct elist {
	unsigned count, n;
	bool oom;
	struct eitem e[CONF_MAX_ERRORS];
};

/* Where messages come from: the file name and, for a chunk of the tunnels
 * list parsed on its own, what to add to libconfig's line numbers. */
struct scan;
struct vctx {
	const char *file;
	int line_off;
	struct elist *el;
	const struct scan *sc;    /* its literals beyond 64 bits, or NULL */
};

__attribute__((format(printf, 3, 4)))
void conf_err_at(struct vctx *v, int line, const char *fmt, ...);
void conf_elist_move(struct elist *dst, struct elist *src);
void conf_elist_fini(struct elist *el);

/* ---- the loader ---- */

struct htab {
	uint32_t mask;
	uint64_t *slot;           /* 0 = empty */
};

struct loader {
	struct vctx v;            /* main thread */
	struct conf *c;
	struct htab peer_names;
	uint32_t *peer_name_line;
	bool any_v6_ue;
};

/* The index of the peer called name, or -1. */
int conf_peer_lookup(const struct loader *ld, const char *name);

/* ---- tunnels ---- */

/* Per tunnel, for messages about duplicates found after the (threaded)
 * per-tunnel checks. */
struct tlines {
	uint32_t *name, *teid, *ue;
};

struct tctx {
	struct vctx v;
	const struct loader *ld;
	struct tlines *tl;
	bool any_v6_ue;
};

/* Element i of the tunnels list, read with libconfig into t. */
void conf_load_tunnel(struct tctx *x, const config_setting_t *e, uint32_t i, struct conf_tunnel *t);

/* ---- the prescan and the chunks (conf_scan.c) ---- */

struct chunk {
	size_t start, end;        /* element text in scan.text */
	int line;                 /* of start */
	uint32_t first, n;        /* tunnel indexes */
};

struct scan {
	char *text;               /* rewritten, NUL-terminated */
	const char *in;           /* the input, as written (messages quote it) */
	const char *copied;       /* input up to here is in text */
	size_t len, cap;
	bool fast;                /* a single tunnels = ( ... ) list, cut into chunks */
	bool seen_tunnels;
	size_t list_open, list_close;   /* offsets of its '(' and ')' */
	int list_newlines;
	int list_line;            /* of its '(' */
	uint32_t n_elems;
	struct chunk *chunks;
	uint32_t n_chunks, cap_chunks;
	int include_line;         /* @include seen here, 0 if none */
	/* Integer literals beyond 64 bits, read as the 64-bit limit: messages
	 * quote them as written. */
	struct { int line; char text[48]; } big[16];
	unsigned n_big;
};

/* msg, with the 64-bit limit that stands for a literal of line beyond 64
 * bits replaced by the literal as written. */
void conf_as_written(const struct vctx *v, int line, char *msg, size_t len);

/* Integer literals and the tunnels list of in, into sc: 0, or -ENOMEM. */
int conf_prescan(const char *in, struct scan *sc);
void conf_scan_fini(struct scan *sc);
/* The tunnels of sc's chunks, on threads (fast scanner, else libconfig):
 * 0, 1 when a chunk does not parse alone (the caller falls back to one
 * libconfig parse), or -ENOMEM. */
int conf_load_chunks(struct loader *ld, const struct scan *sc, struct tlines *tl, bool *syntax);
/* The tunnels of a list libconfig parsed whole. */
void conf_load_list(struct loader *ld, const config_setting_t *l, struct tlines *tl);

/* ---- syntax errors (conf_syntax.c) ---- */

/* libconfig's syntax error (its line and text) in text, told as what it
 * is where that can be found, with the line's text. */
void conf_syntax_error(struct vctx *v, const char *text, int line, const char *what);
/* The line of the first fault the syntax reader finds in text, 0 for none
 * (then libconfig must read it too), and what it is into msg. */
int conf_syntax_fault(const char *text, char *msg, size_t len);
/* The top-level "control = { ... }" of text, found without parsing the
 * rest: 1 with [*start, *end) its text and *line its line, 0 when there is
 * none, -1 when it does not read (then *end is not set). */
int conf_find_control(const char *text, size_t *start, size_t *end, int *line);

#endif
