/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtpuctl: GTP-U control client. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "Usage: gtpuctl [-s SOCKET] [--json] COMMAND [-V] [-h]\n");
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "s:Vh")) != -1) {
		switch (c) {
		case 'V': printf("gtpuctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}
