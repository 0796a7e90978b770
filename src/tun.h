/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TUN device of endpoint tunnels: created or attached (one fd per queue),
 * then MTU, addresses and link state set through rtnetlink (libmnl). */
#ifndef GTPUD_TUN_H
#define GTPUD_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define TUN_MAX_QUEUES 64         /* = the most workers; the kernel allows 256 */

struct tun_dev {
	char name[16];            /* IFNAMSIZ: the kernel's name, also when cfg->name was a pattern */
	int ifindex;
	unsigned mtu;             /* as set by tun_open */
	bool created;             /* tun_open created it: tun_close deletes it */
	unsigned n_fds;
	int fds[TUN_MAX_QUEUES];  /* IFF_TUN | IFF_NO_PI, O_NONBLOCK | O_CLOEXEC; -1 when closed */
	unsigned n_addrs;
	struct conf_prefix addrs[CONF_MAX_TUN_ADDRS];  /* as configured */
};

/* The character device; tests point it elsewhere. */
extern const char *tun_dev_path;

/* Create the device cfg->name, or attach to an existing TUN device of that
 * name, with n_queues fds (IFF_MULTI_QUEUE when n_queues > 1); then set the
 * MTU, add every address of cfg (an existing one is fine; IPv6 without DAD)
 * and bring the link up. Returns 0, or -errno with a sentence in err (e.g.
 * "TUNSETIFF gtp0: Operation not permitted (needs CAP_NET_ADMIN)"); on
 * error nothing is left behind (a device it created is deleted). */
int tun_open(const struct conf_tun *cfg, unsigned n_queues, struct tun_dev *t,
	     char *err, size_t errlen);

/* Apply cfg's MTU and addresses to an open device and bring it up (done by
 * tun_open; also for a reload). Addresses no longer configured stay. Waits
 * (at most 1 s) until the kernel announces each IPv6 address it added, so
 * packets to them are delivered when this returns. */
int tun_configure(struct tun_dev *t, const struct conf_tun *cfg, char *err, size_t errlen);

/* Close the fds, and delete the link (RTM_DELLINK) when tun_open created it.
 * Safe on a zeroed or already closed struct. */
void tun_close(struct tun_dev *t);

/* State of a link by name, read through rtnetlink (RTM_GETLINK). */
struct tun_link {
	int ifindex;
	unsigned mtu;
	unsigned flags;           /* IFF_UP, IFF_RUNNING... */
};
int tun_link_get(const char *name, struct tun_link *l);

/* The first configured address of family (AF_INET: 4 bytes, AF_INET6: 16)
 * into addr, the source of ICMP errors written into the device. -ENOENT when
 * the device has none of that family. */
int tun_first_addr(const struct tun_dev *t, int family, uint8_t *addr);

#endif
