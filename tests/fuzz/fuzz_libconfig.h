/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the harnesses that run the config loader (libconfig) share: its
 * known leak suppressed, per-input leak checks off, the dictionary. */
#ifndef GTPUD_FUZZ_LIBCONFIG_H
#define GTPUD_FUZZ_LIBCONFIG_H

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define DICT "tests/fuzz/fuzz_conf.dict"

int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks the token of a string that ends in a syntax error
 * (the text `""` alone leaks 64 bytes): its bug, not the loader's. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* That leak makes libFuzzer run LeakSanitizer after nearly every input
 * (20 inputs a second instead of 15000), so per-input leak checks are off
 * unless asked for: replay a corpus with -detect_leaks=1 -runs=0 to check
 * the loader's own frees (the suppression above still applies). The
 * dictionary is used when present. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *args[256];
	static char nol[] = "-detect_leaks=0", dict[] = "-dict=" DICT;
	int n = 0;
	bool has_dict = false, has_leaks = false;

	for (int i = 0; i < *argc && n < 250; i++) {
		args[n++] = (*argv)[i];
		if (!strncmp((*argv)[i], "-dict=", 6))
			has_dict = true;
		if (!strncmp((*argv)[i], "-detect_leaks=", 14))
			has_leaks = true;
	}
	if (n == 0)
		return 0;
	if (!has_leaks)
		args[n++] = nol;
	if (!has_dict && access(DICT, R_OK) == 0)
		args[n++] = dict;
	args[n] = NULL;
	*argc = n;
	*argv = args;
	return 0;
}

#endif
