/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the config loader: any text gives either a config
 * that keeps every rule of gtpud.conf(5) or errors as "FILE:LINE: message"
 * (or "FILE: message"), never both, never a crash. Dictionary: fuzz_conf.dict. */
// FUZZ_SOURCES: src/conf.c src/conf_scan.c src/conf_syntax.c src/conf_addr.c src/tunnel.c
// FUZZ_LIBS: -lconfig -pthread
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "CHECK failed: %s\n", #c); abort(); } } while (0)
#define FILE_NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#include "fuzz_libconfig.h"

static void check_addr(const struct conf_addr *a)
{
	CHECK(a->family == AF_INET || a->family == AF_INET6);
}

/* Every rule the loader promises about a config it accepts. */
static void check_conf(const struct conf *c)
{
	CHECK(c->file && !strcmp(c->file, FILE_NAME));
	CHECK(c->n_listen >= 1 && c->n_listen <= CONF_MAX_LISTEN);
	for (unsigned i = 0; i < c->n_listen; i++)
		check_addr(&c->listen[i]);
	CHECK(c->control.path && *c->control.path);
	CHECK(c->workers >= 1 && c->workers <= 64);
	CHECK(c->log_level == CONF_LOG_ERROR || c->log_level == CONF_LOG_WARNING ||
	      c->log_level == CONF_LOG_NOTICE || c->log_level == CONF_LOG_INFO ||
	      c->log_level == CONF_LOG_DEBUG);
	CHECK(c->n_peers <= CONF_MAX_PEERS);
	CHECK(c->n_peers == 0 || c->peers);
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct conf_peer *p = &c->peers[i];

		CHECK(p->name[0] && strlen(p->name) <= CONF_NAME_MAX);
		check_addr(&p->addr);
		for (uint32_t j = 0; j < i; j++)
			CHECK(strcmp(p->name, c->peers[j].name) != 0);
	}
	if (c->tun.present) {
		CHECK(c->tun.name[0] && strlen(c->tun.name) < sizeof(c->tun.name));
		CHECK(c->tun.mtu >= 576 && c->tun.mtu <= 65535);
		CHECK(c->tun.n_addrs <= CONF_MAX_TUN_ADDRS);
	}
	CHECK(c->n_tunnels <= CONF_MAX_TUNNELS);
	for (uint32_t i = 0; i < c->n_tunnels; i++) {
		const struct conf_tunnel *t = &c->tunnels[i];

		CHECK(t->name && t->name[0] && strlen(t->name) <= CONF_NAME_MAX);
		CHECK(t->from_peer < c->n_peers && t->to_peer < c->n_peers);
		CHECK(t->from_teid != 0 && t->to_teid != 0);
		CHECK(t->qfi >= -1 && t->qfi <= 63);
		CHECK(t->n_ue <= CONF_MAX_UE);
		CHECK(t->n_ue == 0 || (t->ue && c->tun.present));
		for (unsigned k = 0; k < t->n_ue; k++)
			check_addr(&t->ue[k]);
		/* Quadratic, but inputs are small (-max_len). */
		for (uint32_t j = 0; j < i; j++) {
			CHECK(strcmp(t->name, c->tunnels[j].name) != 0);
			CHECK(t->from_teid != c->tunnels[j].from_teid);
		}
	}
}

static void check_errors(const struct conf_errors *e)
{
	static const char pre[] = FILE_NAME ":";
	int prev = 0;

	CHECK(e->count >= 1 && e->n >= 1);
	CHECK(e->n <= CONF_MAX_ERRORS && e->n <= e->count);
	for (unsigned i = 0; i < e->n; i++) {
		const char *m = e->msg[i], *p;
		char *end;
		long line = 0;

		CHECK(m && !strncmp(m, pre, sizeof(pre) - 1));
		p = m + sizeof(pre) - 1;
		/* "FILE:LINE: message" or "FILE: message" */
		if (*p != ' ') {
			line = strtol(p, &end, 10);
			CHECK(end != p && *end == ':' && line > 0);
			p = end + 1;
		}
		CHECK(p[0] == ' ' && p[1] != '\0');
		/* Sorted by line ("FILE: ..." errors have line 0). */
		CHECK(line >= prev || line == 0);
		if (line)
			prev = (int)line;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs;
	struct conf *c = (struct conf *)1;
	char *text;
	int r;

	if (size > 64 * 1024)
		return -1;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* gtpuctl -c: the control group found alone, whatever the rest. */
	{
		size_t start = 0, end = 0, len = strlen(text);
		int line = 0, k = conf_find_control(text, &start, &end, &line);

		CHECK(k >= -1 && k <= 1);
		if (k != 0)
			CHECK(start < len && line >= 1 && !strncmp(text + start, "control", 7));
		if (k == 1)
			CHECK(start < end && end <= len);
	}
	{
		struct conf_errors ce;
		char *path = NULL;
		int k = conf_control_path_string(text, FILE_NAME, &path, &ce);

		CHECK(k == 0 || k == -EINVAL || k == -ENOMEM);
		CHECK((k == 0) == (path != NULL));
		CHECK(k == 0 ? ce.n == 0 : ce.n >= 1);
		if (path)
			CHECK(path[0] == '/');
		if (k == -EINVAL)
			check_errors(&ce);
		free(path);
		conf_errors_fini(&ce);
	}
	/* The syntax reader finds no fault in a text libconfig reads: it
	 * never blames a line that is right. (But for a string or comment
	 * left open at the end: libconfig 1.5 takes that, and what it
	 * swallowed, silently; the reader says so once libconfig fails.) */
	{
		config_t cf;
		char why[256];
		int at;

		config_init(&cf);
		if (config_read_string(&cf, text) && (at = conf_syntax_fault(text, why, sizeof why)) &&
		    !strstr(why, "that starts here is not closed")) {
			fprintf(stderr, "line %d: %s\n", at, why);
			CHECK(!"a fault in a text libconfig reads");
		}
		config_destroy(&cf);
	}
	r = conf_read_string(text, FILE_NAME, &c, &errs);
	if (r == 0) {
		CHECK(c != NULL);
		CHECK(errs.count == 0 && errs.n == 0);
		check_conf(c);
		conf_free(c);
	} else {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(c == NULL);
		if (r == -EINVAL)
			check_errors(&errs);
	}
	conf_errors_fini(&errs);
	free(text);
	return 0;
}
