/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses and names as gtpud reads and writes them: the configuration
 * file, gtpuctl's arguments and the control protocol share these (and
 * nothing else of the loader). Pure functions. */
#ifndef GTPUD_CONF_ADDR_H
#define GTPUD_CONF_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_MAX 63          /* peer, tunnel and device names */
#define CONF_NAME_RULE "1 to 63 of A-Z a-z 0-9 - _ ."

/* An IP address, network byte order; port in host order (0 when not given). */
struct conf_addr {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* 4 bytes used for AF_INET */
	uint16_t port;
};

struct conf_prefix {
	struct conf_addr addr;
	uint8_t plen;
};

/* A peer or tunnel name: CONF_NAME_RULE (used in gtpuctl arguments and
 * metric labels). */
bool conf_name_ok(const char *s);
/* The same address (the ports are not compared). */
bool conf_addr_same(const struct conf_addr *a, const struct conf_addr *b);
/* -ENXIO: an IPv6 address with a zone (fe80::1%eth0), which is not supported. */
int conf_parse_addr(const char *s, struct conf_addr *a);            /* "1.2.3.4", "2001:db8::1" */
/* -EDOM: a bare IPv6 address that reads as an address and a port too
 * (::1:2152); -ERANGE: a port outside 1..65535; -ENXIO: a zone. */
int conf_parse_endpoint(const char *s, uint16_t defport, struct conf_addr *a); /* "1.2.3.4:2152", "[::]:2152" */
/* Why a cannot be a peer's address (unspecified, multicast, broadcast,
 * link-local), or NULL. */
const char *conf_addr_unusable(const struct conf_addr *a);
int conf_parse_prefix(const char *s, struct conf_prefix *p);        /* "10.45.0.1/16" */
/* A number as written, decimal, with an optional SI suffix k, M, G or T
 * (powers of 1000) and a fraction before it ("10M", "1.5G", "2500"): 0, or
 * -EINVAL (not such a number), -ERANGE (above UINT64_MAX). */
int conf_parse_si(const char *s, uint64_t *out);
/* Format an address (without port) into buf; returns buf. */
const char *conf_addr_str(const struct conf_addr *a, char *buf, size_t len);
#endif
