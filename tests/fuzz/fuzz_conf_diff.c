/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differential libFuzzer harness for the config loader: the tunnels list
 * read by the fast scanner and read by libconfig (conf_fast_scan_off) must
 * give the same configuration, or the same errors, for any text. The fast
 * scanner hands every tunnel it cannot take whole to libconfig: a rule it
 * keeps differently from the schema shows here as a difference. */
// FUZZ_SOURCES: src/conf.c src/conf_scan.c src/conf_syntax.c src/conf_addr.c src/tunnel.c
// FUZZ_LIBS: -lconfig -pthread
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define CHECK(c, what) do { if (!(c)) { fprintf(stderr, "DIFFERENT: %s\n", what); abort(); } } while (0)

extern bool conf_fast_scan_off;
extern atomic_uint conf_fast_scan_chunks;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#include "fuzz_libconfig.h"

static bool same_tunnel(const struct conf_tunnel *a, const struct conf_tunnel *b)
{
	if (strcmp(a->name, b->name) || a->from_peer != b->from_peer || a->from_teid != b->from_teid ||
	    a->to_peer != b->to_peer || a->to_teid != b->to_teid || a->n_ue != b->n_ue ||
	    a->qfi != b->qfi || a->rate != b->rate || a->burst != b->burst || a->line != b->line)
		return false;
	for (unsigned i = 0; i < a->n_ue; i++)
		if (!conf_addr_same(&a->ue[i], &b->ue[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct conf_errors ea = { 0 }, eb = { 0 };
	struct conf *a = NULL, *b = NULL;
	int ra, rb;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_fast_scan_off = false;
	ra = conf_read_string(text, "d.conf", &a, &ea);
	conf_fast_scan_off = true;
	rb = conf_read_string(text, "d.conf", &b, &eb);
	conf_fast_scan_off = false;
	CHECK(ra == rb, "result");
	CHECK(ea.count == eb.count && ea.n == eb.n, "number of errors");
	for (unsigned i = 0; i < ea.n; i++)
		CHECK(!strcmp(ea.msg[i], eb.msg[i]), "error text");
	if (ra == 0) {
		CHECK(a->n_tunnels == b->n_tunnels && a->n_peers == b->n_peers, "tunnel and peer counts");
		for (uint32_t i = 0; i < a->n_tunnels; i++)
			CHECK(same_tunnel(&a->tunnels[i], &b->tunnels[i]), "a tunnel");
		CHECK(a->tun.present == b->tun.present, "tun");
		CHECK(a->xdp.n_ifaces == b->xdp.n_ifaces && a->xdp.mode == b->xdp.mode &&
		      !memcmp(a->xdp.ifaces, b->xdp.ifaces, sizeof(a->xdp.ifaces)), "xdp");
	}
	conf_free(a);
	conf_free(b);
	conf_errors_fini(&ea);
	conf_errors_fini(&eb);
	free(text);
	return 0;
}
