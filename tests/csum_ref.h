/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The tests' own Internet checksum (RFC 1071), an oracle apart from
 * inner_csum: byte by byte, the carries folded at the end. */
#ifndef GTPUD_TESTS_CSUM_REF_H
#define GTPUD_TESTS_CSUM_REF_H

#include <stddef.h>
#include <stdint.h>

/* The 16-bit sum of p (not inverted, host order) added to sum. */
static inline uint16_t ref_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += i & 1 ? p[i] : (uint64_t)p[i] << 8;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif
