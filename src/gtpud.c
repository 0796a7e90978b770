/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtpud: GTP-U tunnel endpoint daemon (3GPP TS 29.281). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/gtpud/gtpud.conf"

static void usage(FILE *f)
{
	fprintf(f, "Usage: gtpud [-c FILE] [-t] [-V] [-h]\n"
		   "  -c, --config FILE   configuration file (default " DEFAULT_CONF ")\n"
		   "  -t, --test          check the configuration and exit: 0 valid, 1 invalid, 3 unreadable\n"
		   "  -V, --version       print the version and exit\n"
		   "  -h, --help          print this help and exit\n"
		   "Runs in the foreground; SIGHUP reloads, SIGTERM/SIGINT stop. See gtpud(8).\n");
}

/* -t: every error on stderr as FILE:LINE: message. */
static int check_config(const char *file)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	int r = conf_read_file(file, &c, &errs);

	for (unsigned i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (errs.count > errs.n)
		fprintf(stderr, "%s: %u more errors not shown\n", file, errs.count - errs.n);
	conf_errors_fini(&errs);
	if (r < 0)
		return r == -EINVAL ? EXIT_CONFIG : EXIT_STARTUP;
	conf_free(c);
	printf("%s: configuration valid\n", file);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *file = DEFAULT_CONF;
	bool test = false;
	int c;

	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 't': test = true; break;
		case 'V': printf("gtpud %s\n", PACKAGE_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gtpud: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (test)
		return check_config(file);
	log_init("gtpud");
	return daemon_main(file);
}
