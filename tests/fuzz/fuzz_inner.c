/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the inner-packet layer: inner_parse and
 * inner_icmp_too_big on arbitrary bytes, checking their promises.
 * The first two bytes pick the MTU; the rest is the packet. */
// FUZZ_SOURCES: src/inner.c
// FUZZ_LIBS:
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../csum_ref.h"
#include "inner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t src4[4] = { 192, 0, 2, 1 };
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t out[INNER_ICMP6_MAX], *pkt;
	struct inner_pkt ip;
	enum inner_err e;
	unsigned mtu;
	size_t n, len;

	if (size < 2)
		return 0;
	mtu = (unsigned)data[0] << 8 | data[1];
	len = size - 2;
	/* An exact-size copy so that any read past the end is caught. */
	pkt = malloc(len ? len : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + 2, len);

	e = inner_parse(pkt, len, &ip);
	if (e < INNER_OK || e >= INNER_E__COUNT)
		abort();
	if (e == INNER_OK) {
		if (ip.len > len || ip.l4_off > ip.len)
			abort();
		if (ip.src < pkt || ip.dst + ip.addr_len > pkt + ip.len)
			abort();
		if ((ip.family == AF_INET) != (ip.addr_len == 4))
			abort();
	}

	n = inner_icmp_too_big(out, sizeof(out), pkt, len, mtu,
			       len && pkt[0] >> 4 == 4 ? src4 : (mtu & 1) ? src6 : NULL);
	if (n) {
		if (e != INNER_OK && e != INNER_E_GTP_IN_GTP)
			abort();
		if (ip.family == AF_INET) {
			if (n > INNER_ICMP4_MAX || ref_sum(out, 20, 0) != 0xffff ||
			    ref_sum(out + 20, n - 20, 0) != 0xffff)
				abort();
		} else {
			uint8_t ph[8] = { 0, 0, (uint8_t)((n - 40) >> 8), (uint8_t)(n - 40), 0, 0, 0, 58 };

			if (n > INNER_ICMP6_MAX ||
			    ref_sum(out + 40, n - 40, ref_sum(ph, 8, ref_sum(out + 8, 32, 0))) != 0xffff)
				abort();
		}
		/* An error is never answered with an error. */
		if (inner_parse(out, n, &ip) != INNER_OK)
			abort();
		{
			uint8_t again[INNER_ICMP6_MAX];

			if (inner_icmp_too_big(again, sizeof(again), out, n, mtu, NULL) != 0)
				abort();
		}
	}
	free(pkt);
	return 0;
}
