/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The optional HTTP metrics endpoint: libmicrohttpd driven from the sd-event
 * loop (no thread of its own), serving GET /metrics with text from a render
 * callback and 404 elsewhere. */
#ifndef GTPUD_HTTP_H
#define GTPUD_HTTP_H

#include <systemd/sd-event.h>

#include "conf.h"

#define HTTP_DEFAULT_PORT 9152
#define HTTP_MAX_CLIENTS 16
#define HTTP_TIMEOUT 10           /* seconds a connection may stay idle */
#define HTTP_RERUN_USEC 1000000   /* the longest wait while a connection is open */

struct http;

/* Returns the exposition text, malloc'd (freed by http), or NULL on failure
 * (the scrape then gets 500). Called on the event loop's thread. */
typedef char *(*http_render_fn)(void *ctx);

/* Listen on addr (port 0 means HTTP_DEFAULT_PORT). Returns 0 or -errno of
 * the failing step (-EADDRINUSE, -EACCES, ...). */
int http_new(sd_event *ev, const struct conf_addr *addr, http_render_fn render, void *ctx,
	     struct http **out);
void http_free(struct http *h);

#endif
