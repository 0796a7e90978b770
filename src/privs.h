/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Giving up privileges once start-up is done: the user and group of the
 * config (when started as root), then every capability (CAP_NET_ADMIN was
 * for the TUN device only, which reload never touches). No logging. */
#ifndef GTPUD_PRIVS_H
#define GTPUD_PRIVS_H

#include <stddef.h>

/* Become user (and group, or the user's own group) when running as root
 * and a user is given; then drop every capability and forbid new ones
 * (no_new_privs). Call before any thread starts: capabilities are per
 * thread. Returns 0; 1 when user was given but gtpud does not run as root
 * (nothing to change to; capabilities are still dropped); 2 when the
 * capabilities could not be dropped (a system-call filter that refuses
 * capset), with a sentence in err; or -errno with a sentence in err when
 * the user or group cannot be taken on. */
int privs_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
