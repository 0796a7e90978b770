/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses, endpoints, prefixes and names (conf_addr.h). */
#include "conf_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int conf_parse_addr(const char *s, struct conf_addr *a)
{
	struct conf_addr r = { 0 };

	const char *zone;

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, r.addr) == 1)
		r.family = AF_INET;
	else if (inet_pton(AF_INET6, s, r.addr) == 1)
		r.family = AF_INET6;
	else if ((zone = strchr(s, '%')) && zone[1] && (size_t)(zone - s) < INET6_ADDRSTRLEN) {
		char h[INET6_ADDRSTRLEN];

		/* fe80::1%eth0: an address with a zone, which a conf_addr cannot hold. */
		memcpy(h, s, (size_t)(zone - s));
		h[zone - s] = '\0';
		return inet_pton(AF_INET6, h, r.addr) == 1 ? -ENXIO : -EINVAL;
	} else {
		return -EINVAL;
	}
	*a = r;
	return 0;
}

const char *conf_addr_unusable(const struct conf_addr *a)
{
	const uint8_t *b = a->addr;
	static const uint8_t zero[16];

	if (a->family == AF_INET) {
		if (!memcmp(b, zero, 4))
			return "is the unspecified address";
		if ((b[0] & 0xf0) == 0xe0)
			return "is a multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "is the broadcast address";
		return NULL;
	}
	if (!memcmp(b, zero, 16))
		return "is the unspecified address";
	if (b[0] == 0xff)
		return "is a multicast address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "is link-local: it needs a zone (%IFACE), which gtpud does not support";
	return NULL;
}

/* Decimal digits only ("+1", " 1", "0x1" are not ports); -ERANGE outside 1..65535. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

int conf_parse_endpoint(const char *s, uint16_t defport, struct conf_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *host = buf, *port = NULL;
	struct conf_addr r;
	size_t len;
	int ret;

	if (!s || (len = strlen(s)) >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len + 1);
	if (buf[0] == '[') {
		char *e = strchr(buf, ']');
		if (!e)
			return -EINVAL;
		*e = '\0';
		host = buf + 1;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -EINVAL;
		if (!strchr(host, ':'))
			return -EINVAL;   /* brackets are for IPv6 only */
	} else {
		char *c = strchr(buf, ':'), *last = strrchr(buf, ':');
		uint16_t p;

		/* One colon: IPv4:PORT. More: a bare IPv6 address without port,
		 * unless it reads as one with a port as well (::1:2152). */
		if (c && !strchr(c + 1, ':')) {
			*c = '\0';
			port = c + 1;
		} else if (c && parse_port(last + 1, &p) == 0) {
			*last = '\0';
			ret = conf_parse_addr(buf, &r);
			*last = ':';
			if (ret == 0 && r.family == AF_INET6)
				return -EDOM;
		}
	}
	ret = conf_parse_addr(host, &r);
	if (ret < 0)
		return ret;
	if (port) {
		ret = parse_port(port, &r.port);
		if (ret < 0)
			return ret;
	} else {
		r.port = defport;
	}
	*a = r;
	return 0;
}

int conf_parse_prefix(const char *s, struct conf_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct conf_prefix r = { 0 };
	const char *slash;
	unsigned long plen = 0, max;
	size_t len;
	int ret;

	if (!s || (len = strlen(s)) >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len + 1);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	ret = conf_parse_addr(buf, &r.addr);
	if (ret < 0)
		return ret;
	max = r.addr.family == AF_INET ? 32 : 128;
	if (slash) {
		const char *q = slash + 1;
		if (!*q || strlen(q) > 3)
			return -EINVAL;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return -EINVAL;
			plen = plen * 10 + (unsigned long)(*q - '0');
		}
		if (plen > max)
			return -ERANGE;
	} else {
		plen = max;
	}
	r.plen = (uint8_t)plen;
	*p = r;
	return 0;
}

const char *conf_addr_str(const struct conf_addr *a, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->addr, buf, (socklen_t)(len > INT_MAX ? INT_MAX : len)))
		snprintf(buf, len, "?");
	return buf;
}

bool conf_addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && !memcmp(a->addr, b->addr, n);
}

bool conf_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}


int conf_parse_si(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, fdiv = 1, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (fdiv < 1000000000000ull) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
	}
	switch (*p) {
	case 'k': mult = 1000ull; p++; break;
	case 'M': mult = 1000000ull; p++; break;
	case 'G': mult = 1000000000ull; p++; break;
	case 'T': mult = 1000000000000ull; p++; break;
	default: break;
	}
	if (*p || (fdiv > 1 && mult == 1 && frac))
		return -EINVAL;
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	/* The fraction in units: both are powers of ten. */
	frac = mult >= fdiv ? frac * (mult / fdiv) : frac / (fdiv / mult);
	if (whole * mult > UINT64_MAX - frac)
		return -ERANGE;
	*out = whole * mult + frac;
	return 0;
}
