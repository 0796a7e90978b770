/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime tunnels kept across restarts: DIR/tunnels, one tunnel a line
 * in the syntax of "gtpuctl tunnel add" (a batch file), between a header
 * and a trailer that counts the lines, so that a cut file is recognised.
 * Written whole and atomically (temporary file, fsync, rename, fsync of
 * the directory). No logging: errors are returned. */
#ifndef GTPUD_STATEFILE_H
#define GTPUD_STATEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define STATEFILE_NAME "tunnels"
#define STATEFILE_HEADER "# gtpud runtime tunnels, version 1"

/* Write the runtime tunnels of s to DIR/tunnels. 0 or -errno. */
int statefile_write(const char *dir, const struct state *s);

/* The tunnel lines of DIR/tunnels: *text (malloc'd, the caller frees it)
 * holds them, lines[i] points into it, numbers[i] is its line number in
 * the file (both malloc'd). Returns 0; -ENOENT when there is no file;
 * -EBADMSG with err set when it is cut or has no header; -errno. */
int statefile_read(const char *dir, char **text, char ***lines, uint32_t **numbers, uint32_t *n,
		   char *err, size_t errlen);

/* Move DIR/tunnels aside to DIR/tunnels.bad-SECONDS, its new name in
 * moved. 0 or -errno. */
int statefile_quarantine(const char *dir, char *moved, size_t len);

#endif
