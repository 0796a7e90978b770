/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration loader: gtpud.conf (libconfig 1.5 syntax) checked key by
 * key into a struct conf, every error kept as "FILE:LINE: message". A large
 * tunnels list is cut into chunks read on several threads, by a fast scanner
 * for the common shape of an entry, else by libconfig. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "tunnel.h"
#include "util.h"

#define GTPU_PORT 2152
#define METRICS_PORT 9152
#define MAX_FILE_SIZE (1u << 30)

/* ---- errors ---- */

__attribute__((format(printf, 3, 4)))
void conf_err_at(struct vctx *v, int line, const char *fmt, ...)
{
	struct elist *el = v->el;
	char m[512];
	va_list ap;
	char *s;
	int r;

	el->count++;
	if (el->n >= CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	escape_controls(m, sizeof m);
	if (line > 0)
		r = asprintf(&s, "%s:%d: %s", v->file, line, m);
	else
		r = asprintf(&s, "%s: %s", v->file, m);
	if (r < 0) {
		el->oom = true;
		return;
	}
	el->e[el->n].line = line;
	el->e[el->n].msg = s;
	el->n++;
}

/* The line of a setting in the file; libconfig has none for the root. */
static int sline(const struct vctx *v, const config_setting_t *s)
{
	for (; s; s = config_setting_parent(s)) {
		unsigned l = config_setting_source_line(s);
		if (l)
			return (int)l + v->line_off;
	}
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void err(struct vctx *v, const config_setting_t *s, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	conf_as_written(v, sline(v, s), m, sizeof m);
	conf_err_at(v, sline(v, s), "%s", m);
}

void conf_elist_move(struct elist *dst, struct elist *src)
{
	unsigned i;

	for (i = 0; i < src->n; i++) {
		if (dst->n < CONF_MAX_ERRORS)
			dst->e[dst->n++] = src->e[i];
		else
			free(src->e[i].msg);
	}
	dst->count += src->count;
	dst->oom |= src->oom;
	src->n = src->count = 0;
}

void conf_elist_fini(struct elist *el)
{
	unsigned i;

	for (i = 0; i < el->n; i++)
		free(el->e[i].msg);
	el->n = el->count = 0;
}

/* Sorted by line (stable), handed over to the caller's conf_errors. */
static void elist_out(struct elist *el, struct conf_errors *errs)
{
	unsigned i;

	/* Insertion sort: stable, and the list is short and nearly in order. */
	for (i = 1; i < el->n; i++) {
		struct eitem t = el->e[i];
		unsigned j = i;
		while (j > 0 && el->e[j - 1].line > t.line) {
			el->e[j] = el->e[j - 1];
			j--;
		}
		el->e[j] = t;
	}
	errs->count = el->count;
	errs->n = el->n;
	for (i = 0; i < el->n; i++)
		errs->msg[i] = el->e[i].msg;
	el->n = el->count = 0;
}

void conf_errors_fini(struct conf_errors *errs)
{
	unsigned i;

	if (!errs)
		return;
	for (i = 0; i < errs->n && i < CONF_MAX_ERRORS; i++)
		free(errs->msg[i]);
	memset(errs, 0, sizeof *errs);
}

int conf_peer_index(const struct conf *c, const char *name)
{
	uint32_t i;

	if (!c || !name)
		return -1;
	for (i = 0; i < c->n_peers; i++)
		if (!strcmp(c->peers[i].name, name))
			return (int)i;
	return -1;
}

/* ---- hash tables for the duplicate checks (open addressing, idx + 1) ---- */

static int htab_init(struct htab *h, uint64_t n)
{
	uint64_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	h->slot = calloc(size, sizeof *h->slot);
	if (!h->slot)
		return -ENOMEM;
	h->mask = (uint32_t)(size - 1);
	return 0;
}

static void htab_fini(struct htab *h)
{
	free(h->slot);
	h->slot = NULL;
}

static uint32_t hash_addr(const struct conf_addr *a)
{
	uint32_t h = (uint32_t)a->family, w;
	int i, n = a->family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i += 4) {
		memcpy(&w, a->addr + i, 4);
		h = hash_u32(h ^ w);
	}
	return h;
}

/* Find the entry equal to key, or insert val (non-zero) where the probe ends.
 * Returns the slot found, or 0 when val was inserted. */
static uint64_t htab_put(struct htab *h, uint32_t hash, uint64_t val,
			 bool (*eq)(const void *ctx, uint64_t slot, const void *key),
			 const void *ctx, const void *key)
{
	uint32_t i = hash & h->mask;

	for (;; i = (i + 1) & h->mask) {
		uint64_t s = h->slot[i];
		if (!s) {
			if (val)
				h->slot[i] = val;
			return 0;
		}
		if (eq(ctx, s, key))
			return s;
	}
}

/* ---- generic checks on libconfig settings ---- */

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	}
	return "of no known type";
}

/* prefix.key, or key at the top; cut to len (messages only). */
static void pjoin(char *buf, size_t len, const char *prefix, const char *key)
{
	size_t a = prefix ? strlen(prefix) : 0, b = strlen(key);

	if (a + b + 2 > len) {
		snprintf(buf, len, "%s%s%s", a ? prefix : "", a ? "." : "", key);
		return;
	}
	if (a) {
		memcpy(buf, prefix, a);
		buf[a++] = '.';
	}
	memcpy(buf + a, key, b + 1);
}

/* Unknown keys in group g are errors listing what is allowed. */
static void check_keys(struct vctx *v, const config_setting_t *g, const char *path,
		       const char *const *allowed)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char list[256] = "";
		size_t off = 0;
		unsigned k;

		for (k = 0; allowed[k]; k++)
			if (!strcmp(allowed[k], name))
				break;
		if (allowed[k])
			continue;
		for (k = 0; allowed[k] && off < sizeof list; k++)
			off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
						k ? ", " : "", allowed[k]);
		if (*path)
			err(v, m, "unknown key \"%s\" in %s (allowed: %s)", name, path, list);
		else
			err(v, m, "unknown key \"%s\" (allowed: %s)", name, list);
	}
}

/* Each getter: 0 when absent, 1 when present and valid, -1 when invalid
 * (the error is reported). */
static int get_int_in(struct vctx *v, const config_setting_t *g, const char *key,
		      const char *prefix, int64_t min, int64_t max, bool check, int64_t *out);

static int get_int(struct vctx *v, const config_setting_t *g, const char *key,
		   const char *prefix, int64_t min, int64_t max, int64_t *out)
{
	return get_int_in(v, g, key, prefix, min, max, true, out);
}

/* check false: any integer; min and max only say in a type error what is
 * expected (the range is then someone else's rule). */
static int get_int_in(struct vctx *v, const config_setting_t *g, const char *key,
		      const char *prefix, int64_t min, int64_t max, bool check, int64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char p[160];
	int64_t x;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		pjoin(p, sizeof p, prefix, key);
		err(v, s, "%s: must be an integer (%lld..%lld), not %s", p, (long long)min,
		    (long long)max, type_name(s));
		return -1;
	}
	x = config_setting_get_int64(s);
	if (check && (x < min || x > max)) {
		pjoin(p, sizeof p, prefix, key);
		err(v, s, "%s: %lld is out of range (%lld..%lld)", p, (long long)x,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 1;
}

static int get_uint(struct vctx *v, const config_setting_t *g, const char *key,
		    const char *prefix, int64_t min, int64_t max, unsigned *out)
{
	int64_t x;
	int r = get_int(v, g, key, prefix, min, max, &x);

	if (r > 0)
		*out = (unsigned)x;
	return r;
}

static int get_bool(struct vctx *v, const config_setting_t *g, const char *key,
		    const char *prefix, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char p[160];

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		pjoin(p, sizeof p, prefix, key);
		err(v, s, "%s: must be true or false, not %s", p, type_name(s));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

static int get_str(struct vctx *v, const config_setting_t *g, const char *key,
		   const char *prefix, const char *what, const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char p[160];

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		pjoin(p, sizeof p, prefix, key);
		err(v, s, "%s: must be a string (%s), not %s", p, what, type_name(s));
		return -1;
	}
	*out = config_setting_get_string(s);
	return 1;
}

/* A group member that must itself be a group. */
static int get_group(struct vctx *v, const config_setting_t *g, const char *key,
		     const char *prefix, const char *what, config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	char p[160];

	if (!s)
		return 0;
	if (!config_setting_is_group(s)) {
		pjoin(p, sizeof p, prefix, key);
		err(v, s, "%s: must be a group { %s }, not %s", p, what, type_name(s));
		return -1;
	}
	*out = s;
	return 1;
}

/* Strings in an array [ ] or list ( ). */
static int get_str_list(struct vctx *v, const config_setting_t *g, const char *key,
			const char *prefix, const char *what, unsigned max,
			config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	char p[160];
	int i, n;
	int ret = 1;

	if (!s)
		return 0;
	pjoin(p, sizeof p, prefix, key);   /* rare key: no need to save the work */
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		err(v, s, "%s: must be an array of strings [ %s, ... ], not %s", p, what, type_name(s));
		return -1;
	}
	n = config_setting_length(s);
	if ((unsigned)n > max) {
		err(v, s, "%s: has %d entries, at most %u are allowed", p, n, max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err(v, e, "%s[%d]: must be a string (%s), not %s", p, i, what, type_name(e));
			ret = -1;
		}
	}
	*out = s;
	return ret;
}

static void missing(struct vctx *v, const config_setting_t *g, const char *path, const char *key)
{
	err(v, g, "%s: missing required key \"%s\"", path, key);
}

static int get_name(struct vctx *v, const config_setting_t *g, const char *prefix,
		    const char **out)
{
	const char *s;
	char p[160];
	int r = get_str(v, g, "name", prefix, CONF_NAME_RULE, &s);

	if (r <= 0)
		return r;
	if (!conf_name_ok(s)) {
		pjoin(p, sizeof p, prefix, "name");
		err(v, config_setting_get_member(g, "name"), "%s: \"%s\" is not a valid name (%s)",
		    p, s, CONF_NAME_RULE);
		return -1;
	}
	*out = s;
	return 1;
}

/* ---- the top-level settings ---- */

static bool peer_name_eq(const void *ctx, uint64_t slot, const void *key)
{
	const struct conf *c = ctx;

	return !strcmp(c->peers[slot - 1].name, key);
}

int conf_peer_lookup(const struct loader *ld, const char *name)
{
	uint64_t s = htab_put((struct htab *)&ld->peer_names, hash_str(name), 0,
			      peer_name_eq, ld->c, name);
	return s ? (int)(s - 1) : -1;
}

/* Why an address with a port in the file is refused, for key (listen[0]). */
static void endpoint_err(struct vctx *v, const config_setting_t *e, const char *key, const char *s, int r)
{
	const char *last = strrchr(s, ':');

	if (r == -ERANGE)
		err(v, e, "%s: \"%s\": port is out of range (1..65535)", key, s);
	else if (r == -EDOM)
		err(v, e, "%s: \"%s\" is ambiguous: write \"[%.*s]:%s\" for port %s, or \"[%s]\" for the "
		    "address alone", key, s, (int)(last - s), s, last + 1, last + 1, s);
	else if (r == -ENXIO)
		err(v, e, "%s: \"%s\": an address with a zone (%%IFACE) is not supported (gtpud keeps no "
		    "interface with an address): use a global or unique local address", key, s);
	else
		err(v, e, "%s: \"%s\" is not an IP address with an optional port (ADDR, ADDR:PORT, "
		    "[V6ADDR]:PORT)", key, s);
}

static void load_listen(struct loader *ld, const config_setting_t *root)
{
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	config_setting_t *l;
	int i, j, n;

	if (get_str_list(v, root, "listen", "", "\"ADDR:PORT\" or \"[V6ADDR]:PORT\"",
			 CONF_MAX_LISTEN, &l) <= 0)
		return;
	n = config_setting_length(l);
	if (n == 0) {
		err(v, l, "listen: must have 1 to %d entries", CONF_MAX_LISTEN);
		return;
	}
	c->n_listen = 0;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *s = config_setting_get_string(e), *why;
		struct conf_addr a;
		int r = conf_parse_endpoint(s, GTPU_PORT, &a);
		char key[32];

		snprintf(key, sizeof key, "listen[%d]", i);
		if (r < 0) {
			endpoint_err(v, e, key, s, r);
			continue;
		}
		/* The unspecified address is "all"; the others cannot be bound. */
		if ((why = conf_addr_unusable(&a)) && !strstr(why, "unspecified")) {
			err(v, e, "%s: \"%s\" %s: listen takes local unicast addresses, or 0.0.0.0 and :: "
			    "for all", key, s, why);
			continue;
		}
		for (j = 0; j < (int)c->n_listen; j++)
			if (conf_addr_same(&c->listen[j], &a) && c->listen[j].port == a.port)
				break;
		if (j < (int)c->n_listen) {
			err(v, e, "listen[%d]: \"%s\" is listed twice", i, s);
			continue;
		}
		c->listen[c->n_listen++] = a;
	}
}

static char *xstrdup(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ld->v.el->oom = true;
	return d;
}

static int parse_mode(const char *s, mode_t *mode)
{
	unsigned long m = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 4)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		m = m * 8 + (unsigned long)(*s - '0');
	}
	if (m > 0777)
		return -ERANGE;
	*mode = (mode_t)m;
	return 0;
}

static void load_control(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "path", "group", "mode", "max_clients",
					    "idle_timeout", NULL };
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	config_setting_t *g;
	const char *s;

	c->control.group = xstrdup(ld, CONF_DEFAULT_CONTROL_GROUP);
	c->control.group_default = true;
	if (get_group(v, root, "control", "", "path = \"...\"; group = \"...\"; mode = \"0660\"; ...",
		      &g) <= 0)
		return;
	check_keys(v, g, "control", keys);
	if (get_str(v, g, "path", "control", "an absolute path", &s) > 0) {
		if (s[0] != '/' || strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			err(v, config_setting_get_member(g, "path"),
			    "control.path: \"%s\" must be an absolute path of at most %zu bytes",
			    s, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		else {
			free(c->control.path);
			c->control.path = xstrdup(ld, s);
		}
	}
	if (get_str(v, g, "group", "control", "a group name, or \"\" for none", &s) > 0) {
		free(c->control.group);
		c->control.group = *s ? xstrdup(ld, s) : NULL;
		c->control.group_default = false;
	}
	if (get_str(v, g, "mode", "control", "octal text such as \"0660\"", &s) > 0) {
		int r = parse_mode(s, &c->control.mode);
		if (r == -ERANGE)
			err(v, config_setting_get_member(g, "mode"),
			    "control.mode: \"%s\" is out of range (\"0\"..\"0777\")", s);
		else if (r < 0)
			err(v, config_setting_get_member(g, "mode"),
			    "control.mode: \"%s\" is not octal text such as \"0660\"", s);
	}
	get_uint(v, g, "max_clients", "control", 1, 1024, &c->control.max_clients);
	get_uint(v, g, "idle_timeout", "control", 1, 86400, &c->control.idle_timeout);
}

static void load_misc(struct loader *ld, const config_setting_t *root)
{
	static const char *const echo_keys[] = { "interval", "t3", "n3", "on_down", "answer_rate", "answer_rate_total", NULL };
	static const char *const ei_keys[] = { "enabled", "rate", "quiet", "remove_tunnel", "accept_rate", NULL };
	static const char *const m_keys[] = { "listen", NULL };
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	config_setting_t *g;
	const char *s;

	if (get_str(v, root, "log_level", "", "error, warning, notice, info or debug", &s) > 0) {
		if (!strcmp(s, "error"))
			c->log_level = CONF_LOG_ERROR;
		else if (!strcmp(s, "warning"))
			c->log_level = CONF_LOG_WARNING;
		else if (!strcmp(s, "notice"))
			c->log_level = CONF_LOG_NOTICE;
		else if (!strcmp(s, "info"))
			c->log_level = CONF_LOG_INFO;
		else if (!strcmp(s, "debug"))
			c->log_level = CONF_LOG_DEBUG;
		else
			err(v, config_setting_get_member(root, "log_level"),
			    "log_level: \"%s\" is not one of error, warning, notice, info, debug", s);
	}
	get_uint(v, root, "workers", "", 1, 64, &c->workers);
	get_uint(v, root, "max_runtime_tunnels", "", 0, CONF_MAX_RUNTIME, &c->max_runtime);
	if (get_str(v, root, "user", "", "a user name", &s) > 0 && s[0])
		c->user = xstrdup(ld, s);
	if (get_str(v, root, "group", "", "a group name", &s) > 0 && s[0])
		c->group = xstrdup(ld, s);
	if (get_str(v, root, "state_directory", "", "an absolute directory path", &s) > 0) {
		if (s[0] != '/' && s[0])
			err(v, config_setting_get_member(root, "state_directory"),
			    "state_directory: \"%s\" is not an absolute path", s);
		else if (s[0])
			c->state_directory = xstrdup(ld, s);
	}

	if (get_group(v, root, "echo", "", "interval = 60; t3 = 3; n3 = 3; on_down = \"forward\";",
		      &g) > 0) {
		check_keys(v, g, "echo", echo_keys);
		get_uint(v, g, "interval", "echo", 0, 86400, &c->echo.interval);
		get_uint(v, g, "t3", "echo", 1, 3600, &c->echo.t3);
		get_uint(v, g, "n3", "echo", 0, 100, &c->echo.n3);
		get_uint(v, g, "answer_rate", "echo", 1, 1000000, &c->echo.answer_rate);
		get_uint(v, g, "answer_rate_total", "echo", 1, 10000000, &c->echo.answer_rate_total);
		if (get_str(v, g, "on_down", "echo", "forward or drop", &s) > 0) {
			if (!strcmp(s, "forward"))
				c->echo.on_down = CONF_DOWN_FORWARD;
			else if (!strcmp(s, "drop"))
				c->echo.on_down = CONF_DOWN_DROP;
			else
				err(v, config_setting_get_member(g, "on_down"),
				    "echo.on_down: \"%s\" is not one of forward, drop", s);
		}
	}
	if (get_group(v, root, "error_indication", "", "enabled = true; rate = 100; ...", &g) > 0) {
		check_keys(v, g, "error_indication", ei_keys);
		get_bool(v, g, "enabled", "error_indication", &c->error_indication.enabled);
		get_uint(v, g, "rate", "error_indication", 0, 1000000, &c->error_indication.rate);
		get_uint(v, g, "quiet", "error_indication", 0, 3600, &c->error_indication.quiet);
		get_uint(v, g, "accept_rate", "error_indication", 1, 1000000, &c->error_indication.accept_rate);
		get_bool(v, g, "remove_tunnel", "error_indication",
			 &c->error_indication.remove_tunnel);
	}
	if (get_group(v, root, "metrics", "", "listen = \"127.0.0.1:9152\";", &g) > 0) {
		check_keys(v, g, "metrics", m_keys);
		c->metrics.enabled = true;
		if (get_str(v, g, "listen", "metrics", "\"ADDR:PORT\" or \"[V6ADDR]:PORT\"", &s) > 0) {
			int r = conf_parse_endpoint(s, METRICS_PORT, &c->metrics.listen);
			const config_setting_t *e = config_setting_get_member(g, "listen");
			if (r < 0)
				endpoint_err(v, e, "metrics.listen", s, r);
		}
	}
}

/* A list of addresses: each with parse (0 ok, -ERANGE port, else bad). */
static unsigned addr_list(struct vctx *v, config_setting_t *l, const char *path, const char *what,
			  void *out, size_t size, unsigned max,
			  int (*parse)(const char *s, void *out))
{
	unsigned n = 0;

	for (int i = 0; l && i < config_setting_length(l) && (unsigned)i < max; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const char *s = config_setting_get_string(e);
		int r;

		if (!s)
			continue;
		r = parse(s, (char *)out + (size_t)n * size);
		if (r == -ERANGE)
			err(v, e, "%s[%d]: \"%s\": port is out of range (1..65535)", path, i, s);
		else if (r < 0)
			err(v, e, "%s[%d]: \"%s\" is not %s", path, i, s, what);
		else
			n++;
	}
	return n;
}

static int parse_pfcp_listen(const char *s, void *out)
{
	return conf_parse_endpoint(s, PFCP_DEFAULT_PORT, out);
}

static int parse_plain_addr(const char *s, void *out)
{
	return conf_parse_addr(s, out);
}

static int parse_allow(const char *s, void *out)
{
	struct conf_prefix *p = out;

	if (conf_parse_prefix(s, p) == 0)
		return 0;
	if (conf_parse_addr(s, &p->addr) < 0)
		return -EINVAL;
	p->plen = p->addr.family == AF_INET ? 32 : 128;
	return 0;
}

/* One IPv4 and one IPv6 address at most. */
static void one_per_family(struct vctx *v, const config_setting_t *g, const char *key,
			   const struct conf_addr *a, unsigned n)
{
	if (n == 2 && a[0].family == a[1].family)
		err(v, config_setting_get_member(g, key),
		    "pfcp.%s: at most one IPv4 and one IPv6 address", key);
}

static bool node_id_ok(const char *s)
{
	struct conf_addr a;
	size_t label = 0;

	if (conf_parse_addr(s, &a) == 0)
		return true;
	if (!*s || strlen(s) > 253)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (!label)
				return false;
			label = 0;
		} else if ((isalnum((unsigned char)*s) || *s == '-') && ++label <= 63) {
			continue;
		} else {
			return false;
		}
	}
	return label > 0;
}

static void load_pfcp(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "listen", "node_id", "allow", "access_address", "core_address",
					    "heartbeat_interval", "heartbeat_timeout", "heartbeat_retries",
					    "max_sessions", "max_rules", "max_message", "max_peers", "buffer_packets",
					    "buffer_bytes", "buffer_total", "buffer_time", NULL };
	struct vctx *v = &ld->v;
	struct conf_pfcp *p = &ld->c->pfcp;
	config_setting_t *g, *l;
	const char *s;

	if (get_group(v, root, "pfcp", "", "listen = [ \"ADDR\" ]; node_id = \"ADDR\"; allow = [ ... ]; ...", &g) <= 0)
		return;
	check_keys(v, g, "pfcp", keys);
	p->enabled = true;
	if (get_str_list(v, g, "listen", "pfcp", "\"ADDR\" or \"ADDR:PORT\"", CONF_MAX_LISTEN, &l) > 0)
		p->n_listen = addr_list(v, l, "pfcp.listen", "an IP address with an optional port (ADDR, ADDR:PORT, [V6ADDR]:PORT)",
					p->listen, sizeof(p->listen[0]), CONF_MAX_LISTEN, parse_pfcp_listen);
	if (get_str(v, g, "node_id", "pfcp", "an address or an FQDN", &s) > 0) {
		if (!node_id_ok(s))
			err(v, config_setting_get_member(g, "node_id"),
			    "pfcp.node_id: \"%s\" is neither an IP address nor an FQDN", s);
		else
			snprintf(p->node_id, sizeof(p->node_id), "%s", s);
	}
	if (get_str_list(v, g, "allow", "pfcp", "\"ADDR\" or \"ADDR/PLEN\"", CONF_PFCP_MAX_ALLOW, &l) > 0)
		p->n_allow = addr_list(v, l, "pfcp.allow", "an IP address or prefix (ADDR, ADDR/PLEN)",
				       p->allow, sizeof(p->allow[0]), CONF_PFCP_MAX_ALLOW, parse_allow);
	if (get_str_list(v, g, "access_address", "pfcp", "\"ADDR\"", 2, &l) > 0) {
		p->n_access = addr_list(v, l, "pfcp.access_address", "an IP address", p->access,
					sizeof(p->access[0]), 2, parse_plain_addr);
		one_per_family(v, g, "access_address", p->access, p->n_access);
	}
	if (get_str_list(v, g, "core_address", "pfcp", "\"ADDR\"", 2, &l) > 0) {
		p->n_core = addr_list(v, l, "pfcp.core_address", "an IP address", p->core,
				      sizeof(p->core[0]), 2, parse_plain_addr);
		one_per_family(v, g, "core_address", p->core, p->n_core);
	}
	get_uint(v, g, "heartbeat_interval", "pfcp", 0, 3600, &p->heartbeat_interval);
	get_uint(v, g, "heartbeat_timeout", "pfcp", 1, 60, &p->heartbeat_timeout);
	get_uint(v, g, "heartbeat_retries", "pfcp", 0, 10, &p->heartbeat_retries);
	get_uint(v, g, "max_sessions", "pfcp", 1, 4194304, &p->max_sessions);
	get_uint(v, g, "max_rules", "pfcp", 1, 1024, &p->max_rules);
	get_uint(v, g, "max_message", "pfcp", 512, 65535, &p->max_message);
	get_uint(v, g, "max_peers", "pfcp", 1, 65536, &p->max_peers);
	get_uint(v, g, "buffer_packets", "pfcp", 0, 65535, &p->buffer_packets);
	get_uint(v, g, "buffer_bytes", "pfcp", 0, 16777216, &p->buffer_bytes);
	get_uint(v, g, "buffer_total", "pfcp", 0, 1073741824, &p->buffer_total);
	get_uint(v, g, "buffer_time", "pfcp", 1, 86400, &p->buffer_time);
	if (!p->n_listen && !ld->v.el->count) {
		struct conf_addr a;

		if (conf_parse_addr(p->node_id, &a) == 0) {
			a.port = PFCP_DEFAULT_PORT;
			p->listen[p->n_listen++] = a;
		} else {
			err(v, g, "pfcp.listen: missing (needed when node_id is not an IP address)");
		}
	}
	if (!p->node_id[0] && p->n_listen) {
		struct conf_addr z = { .family = p->listen[0].family };

		if (conf_addr_same(&p->listen[0], &z))
			err(v, g, "pfcp.node_id: missing (needed when listen is a wildcard address)");
		else
			conf_addr_str(&p->listen[0], p->node_id, sizeof(p->node_id));
	}
	if (!p->n_access && !p->n_core)
		err(v, g, "pfcp: access_address or core_address is needed (the F-TEIDs that gtpud chooses)");
}

static void load_peer(struct loader *ld, const config_setting_t *e, uint32_t i)
{
	static const char *const keys[] = { "name", "address", "port", "echo", NULL };
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	struct conf_peer *p = &c->peers[i];
	const char *name = NULL, *addr, *why;
	int64_t port;
	int r;
	char pre[32];
	uint64_t dup;
	uint32_t j;

	snprintf(pre, sizeof pre, "peers[%u]", i);
	p->line = sline(v, e);
	p->addr.port = GTPU_PORT;
	if (!config_setting_is_group(e)) {
		err(v, e, "%s: must be a group { name = \"...\"; address = \"...\"; }, not %s",
		    pre, type_name(e));
		return;
	}
	check_keys(v, e, pre, keys);
	if (get_name(v, e, pre, &name) == 0)
		missing(v, e, pre, "name");
	if (name) {
		const config_setting_t *ns = config_setting_get_member(e, "name");
		snprintf(p->name, sizeof p->name, "%s", name);
		ld->peer_name_line[i] = (uint32_t)sline(v, ns);
		dup = htab_put(&ld->peer_names, hash_str(name), i + 1, peer_name_eq, c, name);
		if (dup)
			err(v, ns, "%s.name: duplicate peer name \"%s\" (first at line %u)", pre, name,
			    ld->peer_name_line[dup - 1]);
	}
	switch (get_str(v, e, "address", pre, "an IPv4 or IPv6 address", &addr)) {
	case 0:
		missing(v, e, pre, "address");
		break;
	case 1:
		r = conf_parse_addr(addr, &p->addr);
		if (r == -ENXIO) {
			err(v, config_setting_get_member(e, "address"),
			    "%s.address: \"%s\": an address with a zone (%%IFACE) is not supported (gtpud keeps "
			    "no interface with a peer): use a global or unique local address", pre, addr);
			break;
		}
		if (r < 0) {
			err(v, config_setting_get_member(e, "address"),
			    "%s.address: \"%s\" is not an IPv4 or IPv6 address", pre, addr);
			break;
		}
		if ((why = conf_addr_unusable(&p->addr))) {
			err(v, config_setting_get_member(e, "address"),
			    "%s.address: %s %s: %s", pre, addr, why, strstr(why, "link-local") ?
			    "use a global or unique local address" : "a peer needs the unicast address it sends from");
			p->addr.family = 0;
			break;
		}
		p->addr.port = GTPU_PORT;
		/* Peers are told apart by source address alone (any port). */
		for (j = 0; j < i; j++) {
			if (c->peers[j].addr.family && conf_addr_same(&c->peers[j].addr, &p->addr)) {
				err(v, config_setting_get_member(e, "address"),
				    "%s.address: %s is already the address of peer \"%s\" (line %d)",
				    pre, addr, c->peers[j].name, c->peers[j].line);
				break;
			}
		}
		break;
	}
	if (get_int(v, e, "port", pre, 1, 65535, &port) > 0)
		p->addr.port = (uint16_t)port;
	get_bool(v, e, "echo", pre, &p->echo);
}

static void load_peers(struct loader *ld, const config_setting_t *root)
{
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	const config_setting_t *l = config_setting_get_member(root, "peers");
	uint32_t i, n;

	if (htab_init(&ld->peer_names, CONF_MAX_PEERS) < 0)
		goto oom;
	if (!l)
		return;
	if (!config_setting_is_list(l)) {
		err(v, l, "peers: must be a list ( { name = \"...\"; address = \"...\"; }, ... ), not %s",
		    type_name(l));
		return;
	}
	n = (uint32_t)config_setting_length(l);
	if (n > CONF_MAX_PEERS) {
		err(v, l, "peers: has %u entries, at most %u are allowed", n, CONF_MAX_PEERS);
		return;
	}
	if (n == 0)
		return;
	c->peers = calloc(n, sizeof *c->peers);
	ld->peer_name_line = calloc(n, sizeof *ld->peer_name_line);
	if (!c->peers || !ld->peer_name_line)
		goto oom;
	c->n_peers = n;
	for (i = 0; i < n; i++)
		load_peer(ld, config_setting_get_elem(l, i), i);
	return;
oom:
	v->el->oom = true;
}

static void load_tun(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "name", "mtu", "addresses", NULL };
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	config_setting_t *g, *l;
	const char *s;
	int i, n;

	if (get_group(v, root, "tun", "", "name = \"gtp0\"; mtu = 1452; addresses = [ ... ];", &g) <= 0)
		return;
	c->tun.present = true;
	check_keys(v, g, "tun", keys);
	if (get_str(v, g, "name", "tun", "an interface name", &s) > 0) {
		if (!*s || strlen(s) >= sizeof c->tun.name || strchr(s, '/') || strchr(s, ' ') ||
		    !strcmp(s, ".") || !strcmp(s, ".."))
			err(v, config_setting_get_member(g, "name"),
			    "tun.name: \"%s\" is not a valid interface name (1 to 15 characters, "
			    "no '/' or space)", s);
		else
			snprintf(c->tun.name, sizeof c->tun.name, "%s", s);
	}
	get_uint(v, g, "mtu", "tun", 576, 65535, &c->tun.mtu);
	if (get_str_list(v, g, "addresses", "tun", "\"ADDR/PLEN\"", CONF_MAX_TUN_ADDRS, &l) > 0) {
		n = config_setting_length(l);
		for (i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
			struct conf_prefix p;
			s = config_setting_get_string(e);
			if (conf_parse_prefix(s, &p) < 0) {
				err(v, e, "tun.addresses[%d]: \"%s\" is not an address with a prefix "
				    "length (10.45.0.1/16, 2001:db8::1/64)", i, s);
				continue;
			}
			c->tun.addrs[c->tun.n_addrs++] = p;
		}
	}
}

static void load_xdp(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "interfaces", "mode", NULL };
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	config_setting_t *g, *l;
	const char *s;
	int i, n;

	if (get_group(v, root, "xdp", "", "interfaces = [ \"eth0\" ]; mode = \"auto\";", &g) <= 0)
		return;
	check_keys(v, g, "xdp", keys);
	if (get_str(v, g, "mode", "xdp", "native, generic or auto", &s) > 0) {
		if (!strcmp(s, "auto"))
			c->xdp.mode = CONF_XDP_AUTO;
		else if (!strcmp(s, "native"))
			c->xdp.mode = CONF_XDP_NATIVE;
		else if (!strcmp(s, "generic"))
			c->xdp.mode = CONF_XDP_GENERIC;
		else
			err(v, config_setting_get_member(g, "mode"),
			    "xdp.mode: \"%s\" is not one of native, generic, auto", s);
	}
	if (get_str_list(v, g, "interfaces", "xdp", "\"IFNAME\"", CONF_MAX_XDP_IFACES, &l) <= 0)
		return;
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		unsigned j;

		s = config_setting_get_string(e);
		if (!*s || strlen(s) >= sizeof c->xdp.ifaces[0] || strchr(s, '/') || strchr(s, ' ') ||
		    !strcmp(s, ".") || !strcmp(s, "..")) {
			err(v, e, "xdp.interfaces[%d]: \"%s\" is not a valid interface name (1 to 15 "
			    "characters, no '/' or space)", i, s);
			continue;
		}
		for (j = 0; j < c->xdp.n_ifaces && strcmp(c->xdp.ifaces[j], s); j++)
			;
		if (j < c->xdp.n_ifaces) {
			err(v, e, "xdp.interfaces[%d]: \"%s\" is named twice", i, s);
			continue;
		}
		snprintf(c->xdp.ifaces[c->xdp.n_ifaces++], sizeof c->xdp.ifaces[0], "%s", s);
	}
}

/* ---- tunnels ---- */

/* An integer of any value: its range is a rule of the tunnel (tunnel.h);
 * min and max only say, in the type error, what is expected. */
static int get_i64(struct vctx *v, const config_setting_t *g, const char *key,
		   const char *prefix, int64_t min, int64_t max, int64_t *out)
{
	return get_int_in(v, g, key, prefix, min, max, false, out);
}

/* The settings of one tunnel, for the lines of the validator's messages. */
struct tsettings {
	const config_setting_t *e, *key[TK__COUNT], *from, *to;
	const char *pre;
	unsigned told;            /* TK_BIT() of keys whose errors the tokens told */
	bool no_from, no_to;      /* the group is missing: told as such */
};

struct tcheck {
	struct tctx *x;
	struct tsettings *ts;
};

static int tunnel_peer(void *ud, const char *name)
{
	return conf_peer_lookup(((struct tcheck *)ud)->x->ld, name);
}

/* A broken rule of tunnel_check, as the file says it: at the line of the
 * key, a required key missing as the schema says it. */
static void tunnel_err(void *ud, enum tunnel_key k, int index, const char *msg)
{
	struct tcheck *c = ud;
	struct tsettings *ts = c->ts;
	struct vctx *v = &c->x->v;
	bool from = k == TK_FROM_PEER || k == TK_FROM_TEID, to = k == TK_TO_PEER || k == TK_TO_TEID;
	const char *sub = from || to ? strchr(tunnel_key_name(k), '.') + 1 : tunnel_key_name(k);
	char p[64];

	if (ts->told & TK_BIT(k))
		return;
	if (!strcmp(msg, "missing")) {
		/* A missing group is told once, in the order of the keys. */
		if ((from && ts->no_from) || (to && ts->no_to)) {
			if (k == TK_FROM_PEER || k == TK_TO_PEER)
				missing(v, ts->e, ts->pre, from ? "from" : "to");
			return;
		}
		if (from || to) {
			snprintf(p, sizeof p, "%s.%s", ts->pre, from ? "from" : "to");
			missing(v, from ? ts->from : ts->to, p, sub);
		} else {
			missing(v, ts->e, ts->pre, sub);
		}
		return;
	}
	if (index >= 0)
		err(v, config_setting_get_elem(ts->key[k], (unsigned)index), "%s.%s[%d]: %s", ts->pre,
		    tunnel_key_name(k), index, msg);
	else
		err(v, ts->key[k], "%s.%s: %s", ts->pre, tunnel_key_name(k), msg);
}

/* from = { peer = "..."; teid = ...; } into in: tokens only. */
static void load_end(struct tctx *x, struct tsettings *ts, struct tunnel_in *in, bool from)
{
	static const char *const keys[] = { "peer", "teid", NULL };
	struct vctx *v = &x->v;
	const char *key = from ? "from" : "to", *name;
	enum tunnel_key kp = from ? TK_FROM_PEER : TK_TO_PEER, kt = from ? TK_FROM_TEID : TK_TO_TEID;
	config_setting_t *g;
	char p[48];
	int r = get_group(v, ts->e, key, ts->pre, "peer = \"...\"; teid = ...;", &g);

	pjoin(p, sizeof p, ts->pre, key);
	if (r == 0)
		*(from ? &ts->no_from : &ts->no_to) = true;
	if (r < 0)
		ts->told |= TK_BIT(kp) | TK_BIT(kt);
	if (r <= 0)
		return;
	*(from ? &ts->from : &ts->to) = g;
	check_keys(v, g, p, keys);
	r = get_str(v, g, "peer", p, "a peer name", &name);
	if (r != 0)
		in->has |= TK_BIT(kp);
	if (r < 0)
		ts->told |= TK_BIT(kp);
	*(from ? &in->from_peer : &in->to_peer) = r > 0 ? name : "";
	ts->key[kp] = config_setting_get_member(g, "peer");
	r = get_i64(v, g, "teid", p, TUNNEL_TEID_MIN, TUNNEL_TEID_MAX, from ? &in->from_teid : &in->to_teid);
	if (r != 0)
		in->has |= TK_BIT(kt);
	if (r < 0)
		ts->told |= TK_BIT(kt);
	ts->key[kt] = config_setting_get_member(g, "teid");
}

void conf_load_tunnel(struct tctx *x, const config_setting_t *e, uint32_t i, struct conf_tunnel *t)
{
	static const char *const keys[] = { "name", "from", "to", "ue", "qfi", "rate", "burst", NULL };
	static const enum tunnel_key ints[] = { TK_QFI, TK_RATE, TK_BURST };
	static const int64_t max[] = { TUNNEL_QFI_MAX, TUNNEL_RATE_MAX, TUNNEL_BURST_MAX };
	struct vctx *v = &x->v;
	struct tunnel_in in = { 0 };
	struct tsettings ts = { .e = e };
	struct tcheck tc = { x, &ts };
	struct tunnel_ctx ctx = { tunnel_peer, &tc, x->ld->c->tun.present, tunnel_err };
	struct conf_addr ue[CONF_MAX_UE];
	const char *ues[CONF_MAX_UE + 1], *name = NULL;
	config_setting_t *l;
	char pre[32];
	int64_t *iv[] = { &in.qfi, &in.rate, &in.burst };
	int r;

	snprintf(pre, sizeof pre, "tunnels[%u]", i);
	ts.pre = pre;
	memset(t, 0, sizeof *t);
	t->qfi = -1;
	t->line = sline(v, e);
	if (!config_setting_is_group(e)) {
		err(v, e, "%s: must be a group { name = \"...\"; from = { ... }; to = { ... }; }, not %s",
		    pre, type_name(e));
		return;
	}
	check_keys(v, e, pre, keys);
	r = get_str(v, e, "name", pre, CONF_NAME_RULE, &name);
	if (r != 0)
		in.has |= TK_BIT(TK_NAME);
	if (r < 0)
		ts.told |= TK_BIT(TK_NAME);
	in.name = r > 0 ? name : "";
	ts.key[TK_NAME] = config_setting_get_member(e, "name");
	load_end(x, &ts, &in, true);
	load_end(x, &ts, &in, false);
	if ((r = get_str_list(v, e, "ue", pre, "IPv4 or IPv6 address", UINT32_MAX, &l)) != 0) {
		in.has |= TK_BIT(TK_UE);
		ts.key[TK_UE] = config_setting_get_member(e, "ue");
		if (r < 0) {
			ts.told |= TK_BIT(TK_UE);
		} else {
			in.n_ue = (unsigned)config_setting_length(l);
			for (unsigned k = 0; k < in.n_ue && k <= CONF_MAX_UE; k++)
				ues[k] = config_setting_get_string(config_setting_get_elem(l, k));
			in.ue = ues;
			x->tl->ue[i] = (uint32_t)sline(v, l);
		}
	}
	for (unsigned k = 0; k < 3; k++) {
		const config_setting_t *m = config_setting_get_member(e, tunnel_key_name(ints[k]));

		/* A rate or burst may be written "10M", "1.5G" (SI, powers of 1000). */
		if (k && m && config_setting_type(m) == CONFIG_TYPE_STRING) {
			uint64_t si;

			if (conf_parse_si(config_setting_get_string(m), &si) < 0 || si > INT64_MAX) {
				err(v, m, "%s.%s: \"%s\" is not a number (with an optional k, M, G or T)", pre,
				    tunnel_key_name(ints[k]), config_setting_get_string(m));
				r = -1;
			} else {
				*iv[k] = (int64_t)si;
				r = 1;
			}
		} else {
			r = get_i64(v, e, tunnel_key_name(ints[k]), pre, 0, max[k], iv[k]);
		}
		if (r != 0)
			in.has |= TK_BIT(ints[k]);
		if (r < 0)
			ts.told |= TK_BIT(ints[k]);
		ts.key[ints[k]] = config_setting_get_member(e, tunnel_key_name(ints[k]));
	}
	/* A from.teid it refuses stays 0: no duplicate check on it. */
	tunnel_check(&in, &ctx, t, ue);
	t->line = sline(v, e);
	if (name && conf_name_ok(name)) {
		if (!(t->name = strdup(name)))
			v->el->oom = true;
		x->tl->name[i] = (uint32_t)sline(v, ts.key[TK_NAME]);
	} else {
		t->name = NULL;
	}
	if (ts.key[TK_FROM_TEID])
		x->tl->teid[i] = (uint32_t)sline(v, ts.key[TK_FROM_TEID]);
	if (t->n_ue) {
		struct conf_addr *u = malloc(t->n_ue * sizeof *u);

		if (u) {
			memcpy(u, ue, t->n_ue * sizeof *u);
			for (unsigned k = 0; k < t->n_ue; k++)
				x->any_v6_ue |= u[k].family == AF_INET6;
		} else {
			v->el->oom = true;
			t->n_ue = 0;
		}
		t->ue = u;
	} else {
		t->ue = NULL;
	}
}

static bool tname_eq(const void *ctx, uint64_t slot, const void *key)
{
	const struct conf *c = ctx;

	return !strcmp(c->tunnels[slot - 1].name, key);
}

static bool teid_eq(const void *ctx, uint64_t slot, const void *key)
{
	const struct conf *c = ctx;

	return c->tunnels[slot - 1].from_teid == *(const uint32_t *)key;
}

/* ue slots: (tunnel + 1) << 8 | index in its ue[] */
static bool ue_eq(const void *ctx, uint64_t slot, const void *key)
{
	const struct conf *c = ctx;

	return conf_addr_same(&c->tunnels[(slot >> 8) - 1].ue[slot & 0xff], key);
}

/* Names, from.teid and ue addresses are unique across all tunnels. */
static int check_tunnel_dups(struct loader *ld, const struct tlines *tl)
{
	struct vctx *v = &ld->v;
	struct conf *c = ld->c;
	struct htab names = { 0 }, teids = { 0 }, ues = { 0 };
	uint64_t n_ue = 0, s;
	uint32_t i;
	int k, ret = -ENOMEM;
	char a[INET6_ADDRSTRLEN];

	for (i = 0; i < c->n_tunnels; i++)
		n_ue += c->tunnels[i].n_ue;
	if (htab_init(&names, c->n_tunnels) < 0 || htab_init(&teids, c->n_tunnels) < 0 ||
	    htab_init(&ues, n_ue) < 0)
		goto out;
	for (i = 0; i < c->n_tunnels; i++) {
		struct conf_tunnel *t = &c->tunnels[i];
		if (t->name) {
			s = htab_put(&names, hash_str(t->name), i + 1, tname_eq, c, t->name);
			if (s)
				conf_err_at(v, (int)tl->name[i],
				       "tunnels[%u].name: duplicate tunnel name \"%s\" (first at line %u)",
				       i, t->name, tl->name[s - 1]);
		}
		if (t->from_teid) {
			s = htab_put(&teids, hash_u32(t->from_teid), i + 1, teid_eq, c, &t->from_teid);
			if (s)
				conf_err_at(v, (int)tl->teid[i],
				       "tunnels[%u].from.teid: duplicate from.teid %u (0x%x), first in "
				       "tunnels[%u] at line %u", i, t->from_teid, t->from_teid,
				       (unsigned)(s - 1), tl->teid[s - 1]);
		}
		for (k = 0; k < t->n_ue; k++) {
			s = htab_put(&ues, hash_addr(&t->ue[k]), (uint64_t)(i + 1) << 8 | (unsigned)k,
				     ue_eq, c, &t->ue[k]);
			if (s)
				conf_err_at(v, (int)tl->ue[i],
				       "tunnels[%u].ue: %s is already a ue of tunnels[%u] (line %u)", i,
				       conf_addr_str(&t->ue[k], a, sizeof a), (unsigned)((s >> 8) - 1),
				       tl->ue[(s >> 8) - 1]);
		}
	}
	ret = 0;
out:
	htab_fini(&names);
	htab_fini(&teids);
	htab_fini(&ues);
	return ret;
}

static bool in_block(const void *p, const void *block, size_t len)
{
	return p && block && (uintptr_t)p >= (uintptr_t)block && (uintptr_t)p < (uintptr_t)block + len;
}

/* The ue addresses move into one block: one allocation instead of a million. */
static int pack_ue(struct conf *c)
{
	size_t total = 0, off = 0;
	struct conf_addr *store;
	uint32_t i;

	for (i = 0; i < c->n_tunnels; i++)
		total += c->tunnels[i].n_ue;
	if (!total)
		return 0;
	store = malloc(total * sizeof *store);
	if (!store)
		return -ENOMEM;
	for (i = 0; i < c->n_tunnels; i++) {
		struct conf_tunnel *t = &c->tunnels[i];
		if (!t->n_ue)
			continue;
		memcpy(store + off, t->ue, t->n_ue * sizeof *store);
		free(t->ue);
		t->ue = store + off;
		off += t->n_ue;
	}
	c->ue_store = store;
	c->ue_store_n = total;
	return 0;
}

/* The names move into one block, as the ue addresses. */
static int pack_names(struct conf *c)
{
	size_t total = 0, off = 0;
	uint32_t i;
	char *store;

	for (i = 0; i < c->n_tunnels; i++)
		if (c->tunnels[i].name)
			total += strlen(c->tunnels[i].name) + 1;
	if (!total)
		return 0;
	store = malloc(total);
	if (!store)
		return -ENOMEM;
	for (i = 0; i < c->n_tunnels; i++) {
		char *n = c->tunnels[i].name;
		size_t len;
		if (!n)
			continue;
		len = strlen(n) + 1;
		memcpy(store + off, n, len);
		c->tunnels[i].name = store + off;
		off += len;
		free(n);
	}
	c->name_store = store;
	c->name_store_len = total;
	return 0;
}

/* ---- putting it together ---- */

static void set_defaults(struct conf *c)
{
	c->n_listen = 2;
	conf_parse_endpoint("0.0.0.0", GTPU_PORT, &c->listen[0]);
	conf_parse_endpoint("::", GTPU_PORT, &c->listen[1]);
	c->control.mode = 0660;
	c->control.max_clients = 64;
	c->control.idle_timeout = 300;
	c->log_level = CONF_LOG_INFO;
	c->workers = 1;
	c->max_runtime = CONF_DEFAULT_RUNTIME;
	c->echo.interval = 60;
	c->echo.t3 = 3;
	c->echo.n3 = 3;
	c->echo.on_down = CONF_DOWN_FORWARD;
	c->echo.answer_rate = 20;
	c->echo.answer_rate_total = 1000;
	c->error_indication.enabled = true;
	c->error_indication.rate = 100;
	c->error_indication.accept_rate = 100;
	conf_parse_endpoint("127.0.0.1", METRICS_PORT, &c->metrics.listen);
	snprintf(c->tun.name, sizeof c->tun.name, "gtp0");
	c->tun.mtu = 1452;
	c->pfcp.heartbeat_interval = 10;
	c->pfcp.heartbeat_timeout = 3;
	c->pfcp.heartbeat_retries = 3;
	c->pfcp.max_sessions = 1048576;
	c->pfcp.max_rules = 64;
	c->pfcp.max_message = 65535;
	c->pfcp.max_peers = 4096;
	c->pfcp.buffer_packets = 64;
	c->pfcp.buffer_bytes = 131072;
	c->pfcp.buffer_total = 16777216;
	c->pfcp.buffer_time = 30;
}

static int check_root(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "listen", "control", "log_level", "workers", "echo",
					    "error_indication", "metrics", "peers", "tun", "tunnels",
					    "max_runtime_tunnels", "state_directory", "user", "group", "pfcp", "xdp", NULL };
	check_keys(&ld->v, root, "", keys);
	load_listen(ld, root);
	load_control(ld, root);
	load_misc(ld, root);
	load_pfcp(ld, root);
	load_peers(ld, root);
	load_tun(ld, root);
	load_xdp(ld, root);
	return ld->v.el->oom ? -ENOMEM : 0;
}

static void syntax_error(struct loader *ld, config_t *cf, const char *text)
{
	conf_syntax_error(&ld->v, text, config_error_line(cf), config_error_text(cf));
}

/* Returns 0 (errors or not), -ENOMEM, or 1 when the chunks did not match
 * the prescan: then the caller starts again with allow_fast false. */
static int load(struct loader *ld, const char *text, bool allow_fast)
{
	struct conf *c = ld->c;
	struct scan sc;
	struct tlines tl = { 0 };
	config_t cf;
	config_setting_t *root, *l = NULL;
	bool syntax = false, fast;
	char *main_text = NULL;
	int ret;

	config_init(&cf);
	ret = conf_prescan(text, &sc);
	ld->v.sc = &sc;
	if (ret < 0)
		goto out;
	if (sc.include_line) {
		conf_err_at(&ld->v, sc.include_line, "@include is not supported");
		goto out;
	}
	fast = sc.fast && allow_fast;
#ifdef CONF_FORCE_SLOW
	fast = false;   /* tests: compare with the single libconfig parse */
#endif
	if (fast) {
		/* The rest of the file, with the list emptied but its lines kept. */
		size_t head = sc.list_open + 1, tail = sc.len - sc.list_close;
		main_text = malloc(head + (size_t)sc.list_newlines + tail + 1);
		if (!main_text) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(main_text, sc.text, head);
		memset(main_text + head, '\n', (size_t)sc.list_newlines);
		memcpy(main_text + head + sc.list_newlines, sc.text + sc.list_close, tail + 1);
	}
	if (!config_read_string(&cf, fast ? main_text : sc.text)) {
		/* After the list, an error inside it would have come first. */
		if (fast && config_error_line(&cf) >= sc.list_line)
			ret = 1;
		else
			syntax_error(ld, &cf, text);
		goto out;
	}
	root = config_root_setting(&cf);
	ret = check_root(ld, root);
	if (ret < 0)
		goto out;

	if (fast) {
		c->n_tunnels = sc.n_elems;
	} else if ((l = config_setting_get_member(root, "tunnels"))) {
		if (!config_setting_is_list(l)) {
			err(&ld->v, l, "tunnels: must be a list ( { name = \"...\"; from = { ... }; "
			    "to = { ... }; }, ... ), not %s", type_name(l));
			l = NULL;
		} else {
			c->n_tunnels = (uint32_t)config_setting_length(l);
		}
	}
	if (c->n_tunnels > CONF_MAX_TUNNELS) {
		conf_err_at(&ld->v, 0, "tunnels: has %u entries, at most %u are allowed", c->n_tunnels,
		       CONF_MAX_TUNNELS);
		c->n_tunnels = 0;
		goto out;
	}
	if (c->n_tunnels) {
		c->tunnels = calloc(c->n_tunnels, sizeof *c->tunnels);
		tl.name = calloc(c->n_tunnels, sizeof *tl.name);
		tl.teid = calloc(c->n_tunnels, sizeof *tl.teid);
		tl.ue = calloc(c->n_tunnels, sizeof *tl.ue);
		if (!c->tunnels || !tl.name || !tl.teid || !tl.ue) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (fast && c->n_tunnels) {
		ret = conf_load_chunks(ld, &sc, &tl, &syntax);
		if (ret != 0 || syntax)
			goto out;
	} else if (l) {
		conf_load_list(ld, l, &tl);
	}
	ret = check_tunnel_dups(ld, &tl);
	if (ret < 0)
		goto out;
	if (c->tun.present && c->tun.mtu < 1280) {
		bool v6 = ld->any_v6_ue;
		unsigned i;
		for (i = 0; i < c->tun.n_addrs; i++)
			v6 |= c->tun.addrs[i].addr.family == AF_INET6;
		if (v6)
			err(&ld->v, config_setting_get_member(config_setting_get_member(root, "tun"), "mtu"),
			    "tun.mtu: %u is out of range for IPv6 (1280..65535)", c->tun.mtu);
	}
	ret = pack_names(c);
	if (ret == 0)
		ret = pack_ue(c);
out:
	if (ret == 0 && ld->v.el->oom)
		ret = -ENOMEM;
	free(tl.name);
	free(tl.teid);
	free(tl.ue);
	free(main_text);
	config_destroy(&cf);
	conf_scan_fini(&sc);
	ld->v.sc = NULL;
	return ret;
}

static int read_all(const char *file, char **out, size_t *len)
{
	struct stat st;
	size_t cap, n = 0;
	char *buf = NULL, *t;
	ssize_t r;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	if (st.st_size > MAX_FILE_SIZE) {
		ret = -EFBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* st_size may be 0 or stale for special files: read to EOF anyway. */
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > MAX_FILE_SIZE) {
				ret = -EFBIG;
				goto out;
			}
			t = realloc(buf, cap * 2);
			if (!t) {
				ret = -ENOMEM;
				goto out;
			}
			buf = t;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

static struct conf *conf_new_default(const char *file)
{
	struct conf *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->file = strdup(file);
	c->control.path = strdup(CONF_DEFAULT_CONTROL_PATH);
	if (!c->file || !c->control.path) {
		conf_free(c);
		return NULL;
	}
	set_defaults(c);
	return c;
}

static void loader_fini(struct loader *ld)
{
	htab_fini(&ld->peer_names);
	free(ld->peer_name_line);
	ld->peer_name_line = NULL;
	if (ld->v.el)
		conf_elist_fini(ld->v.el);
	conf_free(ld->c);
	ld->c = NULL;
}

int conf_read_string(const char *text, const char *file, struct conf **out,
		     struct conf_errors *errs)
{
	struct elist *el = calloc(1, sizeof *el);
	struct loader ld = { 0 };
	bool allow_fast = true;
	int ret;

	*out = NULL;
	memset(errs, 0, sizeof *errs);
	if (!file)
		file = "(string)";
	ld.v.file = file;
	ld.v.el = el;
	if (!el) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ld.c = conf_new_default(file);
		if (!ld.c) {
			ret = -ENOMEM;
			goto out;
		}
		ret = load(&ld, text, allow_fast);
		if (ret != 1 || !allow_fast)
			break;
		/* The prescan cut the list wrong: once more as one libconfig parse. */
		loader_fini(&ld);
		allow_fast = false;
	}
	if (ret == 1)
		ret = -EIO;   /* cannot happen: without the fast path there are no chunks */
	if (ret == 0 && el->count)
		ret = -EINVAL;
	if (ret == 0) {
		*out = ld.c;
		ld.c = NULL;
	}
out:
	if (el) {
		if (ret < 0 && el->count == 0)
			conf_err_at(&ld.v, 0, "%s", ret == -ENOMEM ? "out of memory" : strerror(-ret));
		if (ret < 0)
			elist_out(el, errs);
	}
	loader_fini(&ld);
	free(el);
	return ret;
}

int conf_read_file(const char *file, struct conf **out, struct conf_errors *errs)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	memset(errs, 0, sizeof *errs);
	ret = read_all(file, &text, &len);
	if (ret < 0) {
		if (asprintf(&errs->msg[0], "%s: cannot read: %s", file, strerror(-ret)) >= 0)
			errs->n = 1;
		errs->count = 1;
		return ret;
	}
	if (memchr(text, '\0', len)) {
		free(text);
		if (asprintf(&errs->msg[0], "%s: not a text file (it contains a NUL byte)", file) >= 0)
			errs->n = 1;
		errs->count = 1;
		return -EINVAL;
	}
	ret = conf_read_string(text, file, out, errs);
	free(text);
	return ret;
}

/* gtpuctl -c: the control group alone, so that a file broken elsewhere
 * (the moment an operator most needs gtpud's status) still gives the path. */
int conf_control_path_string(const char *text, const char *file, char **path, struct conf_errors *errs)
{
	struct elist *el = calloc(1, sizeof *el);
	struct vctx v = { file, 0, el, NULL };
	char *sub = NULL;
	size_t start = 0, end = 0;
	int line = 1, r;
	config_t cf;

	*path = NULL;
	memset(errs, 0, sizeof *errs);
	config_init(&cf);
	if (!el) {
		r = -ENOMEM;
		goto out;
	}
	r = conf_find_control(text, &start, &end, &line);
	if (r == 0) {
		*path = strdup(CONF_DEFAULT_CONTROL_PATH);
		r = *path ? 0 : -ENOMEM;
		goto out;
	}
	if (r < 0)
		end = strlen(text);
	/* Its own lines, so that libconfig's line numbers stay the file's. */
	if (!(sub = malloc((size_t)line + end - start + 2))) {
		r = -ENOMEM;
		goto out;
	}
	memset(sub, '\n', (size_t)line - 1);
	memcpy(sub + line - 1, text + start, end - start);
	strcpy(sub + line - 1 + end - start, "\n");
	r = -EINVAL;
	if (!config_read_string(&cf, sub)) {
		conf_syntax_error(&v, sub, config_error_line(&cf), config_error_text(&cf));
	} else {
		config_setting_t *g = NULL;
		const char *s = NULL;
		int k = -1;

		if (get_group(&v, config_root_setting(&cf), "control", "", "path = \"...\"; ...", &g) > 0)
			k = get_str(&v, g, "path", "control", "an absolute path", &s);
		if (k == 0)
			*path = strdup(CONF_DEFAULT_CONTROL_PATH);
		else if (k > 0 && *s != '/')
			err(&v, config_setting_get_member(g, "path"), "control.path: \"%s\" is not an absolute path", s);
		else if (k > 0)
			*path = strdup(s);
		if (*path)
			r = 0;
		else if (!el->count)
			r = -ENOMEM;   /* nothing told: strdup failed */
	}
out:
	if (el) {
		if (r < 0 && !el->count)
			conf_err_at(&v, 0, "%s", strerror(-r));
		if (r < 0)
			elist_out(el, errs);
		conf_elist_fini(el);
	}
	config_destroy(&cf);
	free(sub);
	free(el);
	return r;
}

int conf_read_control_path(const char *file, char **path, struct conf_errors *errs)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*path = NULL;
	memset(errs, 0, sizeof *errs);
	if ((r = read_all(file, &text, &len)) < 0) {
		if (asprintf(&errs->msg[0], "%s: cannot read: %s", file, strerror(-r)) >= 0)
			errs->n = 1;
		errs->count = 1;
		return r;
	}
	r = conf_control_path_string(text, file, path, errs);
	free(text);
	return r;
}

void conf_free_tunnels(struct conf *c)
{
	for (uint32_t i = 0; i < c->n_tunnels && c->tunnels; i++) {
		struct conf_tunnel *t = &c->tunnels[i];
		/* Set by hand (not in the loader's blocks): freed one by one. */
		if (!in_block(t->name, c->name_store, c->name_store_len))
			free(t->name);
		if (!in_block(t->ue, c->ue_store, c->ue_store_n * sizeof *c->ue_store))
			free(t->ue);
	}
	free(c->name_store);
	free(c->ue_store);
	free(c->tunnels);
	c->name_store = NULL;
	c->name_store_len = 0;
	c->ue_store = NULL;
	c->ue_store_n = 0;
	c->tunnels = NULL;
	c->n_tunnels = 0;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	conf_free_tunnels(c);
	free(c->peers);
	free(c->control.path);
	free(c->state_directory);
	free(c->user);
	free(c->group);
	free(c->control.group);
	free(c->file);
	free(c);
}
