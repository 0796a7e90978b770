/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the modules: network byte order access to
 * unaligned buffers, the hashes of the lookup tables, the monotonic clock. */
#ifndef GTPUD_UTIL_H
#define GTPUD_UTIL_H

#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds (the vDSO: no syscall). */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One's complement addition of two 16-bit sums (or any below 2^31). */
static inline uint16_t csum_add16(uint32_t a, uint32_t b)
{
	a += b;
	a = (a & 0xffff) + (a >> 16);
	return (uint16_t)((a & 0xffff) + (a >> 16));
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A 32-bit integer mixer (good avalanche, a few instructions). */
static inline uint32_t hash_u32(uint32_t k)
{
	k ^= k >> 16;
	k *= 0x7feb352dU;
	k ^= k >> 15;
	k *= 0x846ca68bU;
	k ^= k >> 16;
	return k;
}

/* FNV-1a over a NUL-terminated string. */
static inline uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Control characters of s (a message that may quote a file or a client)
 * written as \n, \t or \xNN, in place within cap bytes (cut where they do
 * not fit): a newline in a name must not forge a log line. */
static inline void escape_controls(char *s, size_t cap)
{
	char tmp[1024];
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < sizeof(tmp); p++) {
		static const char hex[] = "0123456789abcdef";

		if (*p >= 0x20 && *p != 0x7f) {
			tmp[o++] = (char)*p;
		} else if (*p == '\n' || *p == '\t') {
			tmp[o++] = '\\';
			tmp[o++] = *p == '\n' ? 'n' : 't';
		} else {
			tmp[o++] = '\\';
			tmp[o++] = 'x';
			tmp[o++] = hex[*p >> 4];
			tmp[o++] = hex[*p & 15];
		}
	}
	tmp[o] = '\0';
	if (cap) {
		size_t n = o < cap - 1 ? o : cap - 1;

		memcpy(s, tmp, n);
		s[n] = '\0';
	}
}

#endif
