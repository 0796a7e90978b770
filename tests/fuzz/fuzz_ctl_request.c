/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the control protocol: ctl_request_parse (with a
 * build/parse round trip of what it accepts), ctl_reply_parse and the
 * "tunnel add" word parser. The first byte picks the target. */
// FUZZ_SOURCES: src/ctl_proto.c src/conf_addr.c src/tunnel.c
// FUZZ_LIBS: -ljson-c -lconfig -pthread
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const char *line, size_t len)
{
	struct ctl_request req, again;
	const char *why = NULL, *args[CTL_MAX_ARGS];
	size_t i, n;
	char *built;

	if (ctl_request_parse(line, len, &req, &why) < 0) {
		if (!why || !*why)
			abort();
		return;
	}
	n = json_object_array_length(req.args);
	if (!req.command || !*req.command || strlen(req.command) > 63 || n > CTL_MAX_ARGS)
		abort();
	for (i = 0; i < n; i++)
		args[i] = json_object_get_string(json_object_array_get_idx(req.args, i));
	/* What we accept, we can say again, and it means the same. */
	built = ctl_request_build(req.command, args, n);
	if (!built || ctl_request_parse(built, strlen(built) - 1, &again, &why) < 0)
		abort();
	if (strcmp(again.command, req.command) || json_object_array_length(again.args) != n)
		abort();
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(again.args, i)), args[i]))
			abort();
	ctl_request_fini(&again);
	ctl_request_fini(&req);
	free(built);
}

static void reply(const char *line, size_t len)
{
	struct ctl_reply rep;
	const char *why = NULL;

	if (ctl_reply_parse(line, len, &rep, &why) < 0) {
		if (!why)
			abort();
		return;
	}
	if (rep.result != CTL_OK && !rep.error)
		abort();
	ctl_reply_fini(&rep);
}

/* Words separated by spaces, as a shell would pass them. */
static void tunnel(const char *text, size_t len)
{
	char *copy = strndup(text, len), *save = NULL, *w;
	const char *words[CTL_MAX_ARGS];
	struct ctl_tunnel_spec t;
	char err[256];
	size_t n = 0;

	if (!copy)
		return;
	for (w = strtok_r(copy, " ", &save); w && n < CTL_MAX_ARGS; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	err[0] = '\0';
	if (ctl_tunnel_spec_parse(words, n, &t, err, sizeof(err)) == 0) {
		if (!t.from_teid || !*t.name || !*t.from_peer || !*t.to_peer || t.n_ue > CONF_MAX_UE ||
		    t.qfi < -1 || t.qfi > 63 || (t.burst && !t.rate))
			abort();
	} else if (!err[0]) {
		abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: request((const char *)data + 1, size - 1); break;
	case 1: reply((const char *)data + 1, size - 1); break;
	default: tunnel((const char *)data + 1, size - 1); break;
	}
	return 0;
}
