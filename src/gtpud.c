/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtpud: GTP-U tunnel endpoint daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "Usage: gtpud [-c FILE] [-t] [-V] [-h]\n");
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:tVh")) != -1) {
		switch (c) {
		case 'V': printf("gtpud %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}
