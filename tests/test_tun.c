/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the TUN module, run as root in a network namespace of their
 * own (a forked child unshares it, so nothing leaks). What tun_open set is
 * read back through ioctl and getifaddrs, not through the module. Skipped
 * without root, /dev/net/tun or namespaces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inner.h"
#include "tun.h"

/* src/inner.c is linked when the build lists it for this test; without it
 * the ICMP test skips. */
#pragma weak inner_icmp_too_big

static char skip_reason[128];

static void add_prefix(struct conf_tun *c, const char *s, unsigned plen)
{
	struct conf_prefix *p = &c->addrs[c->n_addrs++];

	p->addr.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p->addr.family, s, p->addr.addr), 1);
	p->plen = (uint8_t)plen;
}

static void make_conf(struct conf_tun *c, const char *name, unsigned mtu)
{
	memset(c, 0, sizeof(*c));
	c->present = true;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->mtu = mtu;
	add_prefix(c, "192.0.2.1", 24);
	add_prefix(c, "2001:db8:45::1", 64);
}

static int ifreq_get(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	assert_true(s >= 0);
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
}

/* Whether name carries addr/plen, by getifaddrs. */
static bool has_addr(const char *name, const char *addr, unsigned plen)
{
	struct ifaddrs *ifa, *i;
	bool found = false;
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i; i = i->ifa_next) {
		const void *sa, *nm;
		size_t alen;
		unsigned bits = 0;

		if (!i->ifa_addr || strcmp(i->ifa_name, name))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			sa = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			nm = &((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
			alen = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			sa = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			nm = &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
			alen = 16;
		} else {
			continue;
		}
		for (size_t k = 0; k < alen; k++)
			bits += (unsigned)__builtin_popcount(((const uint8_t *)nm)[k]);
		inet_ntop(i->ifa_addr->sa_family, sa, a, sizeof(a));
		if (!strcmp(a, addr) && bits == plen)
			found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A persistent TUN device made without the module, as `ip tuntap add` does. */
static void make_persistent(const char *name, short flags, bool on)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = flags;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, on ? 1 : 0), 0);
	close(fd);
}

static void test_create(void **state)
{
	struct conf_tun c;
	struct tun_dev t;
	struct tun_link l;
	struct ifreq ifr;
	struct timespec t0;
	char err[256] = "";
	uint8_t a[16];
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int s;

	(void)state;
	make_conf(&c, "gtpt0", 1400);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tun_open(&c, 1, &t, err, sizeof(err)), 0);
	print_message("# tun_open (create, 2 addresses): %.2f ms\n", ms_since(&t0));
	assert_string_equal(err, "");
	assert_true(t.created);
	assert_string_equal(t.name, "gtpt0");
	assert_int_equal(t.n_fds, 1);
	assert_int_equal(fcntl(t.fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	assert_int_equal(fcntl(t.fds[0], F_GETFD), FD_CLOEXEC);
	assert_int_equal(ioctl(t.fds[0], TUNGETIFF, &ifr), 0);
	assert_int_equal(ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE),
			 IFF_TUN | IFF_NO_PI);

	assert_int_equal(ifreq_get("gtpt0", SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(ifreq_get("gtpt0", SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	assert_true(has_addr("gtpt0", "192.0.2.1", 24));
	assert_true(has_addr("gtpt0", "2001:db8:45::1", 64));
	assert_int_equal(t.ifindex, (int)if_nametoindex("gtpt0"));
	assert_int_equal(t.mtu, 1400);

	assert_int_equal(tun_link_get("gtpt0", &l), 0);
	assert_int_equal(l.ifindex, t.ifindex);
	assert_int_equal(l.mtu, 1400);
	assert_true(l.flags & IFF_UP);
	assert_int_equal(tun_link_get("nosuchdev", &l), -ENODEV);

	assert_int_equal(tun_first_addr(&t, AF_INET, a), 0);
	assert_memory_equal(a, "\xc0\x00\x02\x01", 4);
	assert_int_equal(tun_first_addr(&t, AF_INET6, a), 0);
	assert_memory_equal(a, c.addrs[1].addr.addr, 16);

	/* IPv6 address usable at once (no DAD): a tentative one cannot be bound. */
	memcpy(&sin6.sin6_addr, c.addrs[1].addr.addr, 16);
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	close(s);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tun_close(&t);
	print_message("# tun_close (delete): %.2f ms\n", ms_since(&t0));
	assert_int_equal(if_nametoindex("gtpt0"), 0);
	assert_int_equal(t.n_fds, 0);
	tun_close(&t);                    /* twice is harmless */
}

/* Made persistent after creation, it outlives its fds: only RTM_DELLINK
 * removes it. */
static void test_created_persistent_is_deleted(void **state)
{
	struct conf_tun c;
	struct tun_dev t;
	char err[256];

	(void)state;
	make_conf(&c, "gtpt1", 1500);
	assert_int_equal(tun_open(&c, 1, &t, err, sizeof(err)), 0);
	assert_int_equal(ioctl(t.fds[0], TUNSETPERSIST, 1), 0);
	tun_close(&t);
	assert_int_equal(if_nametoindex("gtpt1"), 0);
}

static void test_attach_existing(void **state)
{
	struct conf_tun c;
	struct tun_dev t;
	struct ifreq ifr;
	char err[256] = "";

	(void)state;
	make_persistent("gtpt2", IFF_TUN | IFF_NO_PI, true);
	make_conf(&c, "gtpt2", 1300);
	assert_int_equal(tun_open(&c, 1, &t, err, sizeof(err)), 0);
	assert_false(t.created);
	assert_int_equal(ifreq_get("gtpt2", SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1300);
	assert_true(has_addr("gtpt2", "192.0.2.1", 24));
	assert_true(has_addr("gtpt2", "2001:db8:45::1", 64));
	tun_close(&t);
	assert_int_not_equal(if_nametoindex("gtpt2"), 0);

	/* Again: the addresses exist already, which is fine. */
	c.mtu = 1280;
	assert_int_equal(tun_open(&c, 1, &t, err, sizeof(err)), 0);
	assert_false(t.created);
	assert_int_equal(ifreq_get("gtpt2", SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1280);
	tun_close(&t);
	assert_int_not_equal(if_nametoindex("gtpt2"), 0);

	/* A single-queue device cannot take several queues. */
	assert_int_equal(tun_open(&c, 2, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "TUNSETIFF gtpt2: Invalid argument (a device of that name exists "
			    "but is not a TUN device of the same queue mode)");
	assert_int_not_equal(if_nametoindex("gtpt2"), 0);
	make_persistent("gtpt2", IFF_TUN | IFF_NO_PI, false);
	assert_int_equal(if_nametoindex("gtpt2"), 0);
}

/* Four queues; a datagram routed into the device comes out of one of them
 * as a bare IPv4 packet (IFF_NO_PI). */
static void test_multiqueue_and_traffic(void **state)
{
	struct conf_tun c;
	struct tun_dev t;
	struct ifreq ifr;
	struct pollfd pfd[4];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint8_t pkt[2048];
	char err[256];
	ssize_t n = -1;
	int s;

	(void)state;
	make_conf(&c, "gtpt3", 1400);
	assert_int_equal(tun_open(&c, 4, &t, err, sizeof(err)), 0);
	assert_true(t.created);
	assert_int_equal(t.n_fds, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ioctl(t.fds[i], TUNGETIFF, &ifr), 0);
		assert_true(ifr.ifr_flags & IFF_MULTI_QUEUE);
		assert_int_equal(fcntl(t.fds[i], F_GETFD), FD_CLOEXEC);
		pfd[i] = (struct pollfd){ .fd = t.fds[i], .events = POLLIN };
	}
	inet_pton(AF_INET, "192.0.2.2", &dst.sin_addr);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(sendto(s, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), 5);
	close(s);
	/* The kernel also sends its own IPv6 packets (MLD, router
	 * solicitations) when the link comes up: look for ours among them. */
	for (int tries = 0; tries < 20 && n != 33; tries++) {
		assert_true(poll(pfd, 4, 2000) >= 1);
		for (unsigned i = 0; i < 4 && n != 33; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			n = read(t.fds[i], pkt, sizeof(pkt));
			if (n > 0 && pkt[0] >> 4 == 6)
				print_message("# queue %u: kernel IPv6 packet, next header %u, %zd bytes\n",
					      i, pkt[6], n);
		}
	}
	assert_int_equal(n, 20 + 8 + 5);
	assert_int_equal(pkt[0], 0x45);
	assert_int_equal(pkt[9], 17);
	assert_memory_equal(pkt + 12, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(pkt + 16, "\xc0\x00\x02\x02", 4);
	assert_memory_equal(pkt + 28, "hello", 5);

	tun_close(&t);
	assert_int_equal(if_nametoindex("gtpt3"), 0);
}

/* Read from the device the first IPv4/IPv6 packet of protocol proto. */
static ssize_t read_proto(int fd, uint8_t *pkt, size_t cap, int version, uint8_t proto)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (int i = 0; i < 50; i++) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		n = read(fd, pkt, cap);
		assert_true(n > 0);
		if (pkt[0] >> 4 == version && pkt[version == 4 ? 9 : 6] == proto)
			return n;
	}
	return -1;
}

struct pmtu_row {
	const char *dst;
	bool from_own;            /* sourced from the TUN address, else from the original destination */
	unsigned mtu;
	int expect_mtu;           /* the path MTU the sending socket ends with */
};

/* A too-big error written back into the device reaches the sending socket
 * as a new path MTU. Measured: an IPv4 one from the TUN's own address is a
 * martian (local source) and is dropped unless accept_local is set; from the
 * offending packet's destination it is taken. IPv6 takes both. */
static const struct pmtu_row pmtu_rows[] = {
	{ "192.0.2.2", true, 1000, 1500 },    /* ignored: stays at the device MTU */
	{ "192.0.2.3", false, 1000, 1000 },
	{ "2001:db8:45::2", true, 1300, 1300 },
	{ "2001:db8:45::3", false, 1280, 1280 },
};

static void test_icmp_too_big_into_tun(void **state)
{
	static uint8_t pkt[65536], out[2048], big[1380];
	struct conf_tun c;
	struct tun_dev t;
	char err[256];

	(void)state;
	if (!inner_icmp_too_big)
		skip();
	make_conf(&c, "gtpt5", 1500);
	assert_int_equal(tun_open(&c, 1, &t, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(pmtu_rows) / sizeof(pmtu_rows[0]); i++) {
		const struct pmtu_row *r = &pmtu_rows[i];
		bool v6 = strchr(r->dst, ':');
		struct sockaddr_in6 d6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
		struct sockaddr_in d4 = { .sin_family = AF_INET, .sin_port = htons(9) };
		int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int pmtud = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO, mtu = 0;
		socklen_t sl = sizeof(mtu);
		uint8_t own[16];
		ssize_t n;
		size_t m;

		print_message("# %s from %s\n", r->dst, r->from_own ? "own address" : "original destination");
		assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, r->dst, v6 ? (void *)&d6.sin6_addr : (void *)&d4.sin_addr), 1);
		assert_int_equal(setsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
					    &pmtud, sizeof(pmtud)), 0);
		assert_int_equal(connect(s, v6 ? (struct sockaddr *)&d6 : (struct sockaddr *)&d4,
					 v6 ? sizeof(d6) : sizeof(d4)), 0);
		assert_int_equal(send(s, big, sizeof(big), 0), sizeof(big));
		n = read_proto(t.fds[0], pkt, sizeof(pkt), v6 ? 6 : 4, 17);
		assert_int_equal(n, sizeof(big) + 8 + (v6 ? 40 : 20));
		assert_int_equal(tun_first_addr(&t, v6 ? AF_INET6 : AF_INET, own), 0);
		m = inner_icmp_too_big(out, sizeof(out), pkt, (size_t)n, r->mtu, r->from_own ? own : NULL);
		assert_int_equal(m, v6 ? 1280 : 576);
		assert_int_equal(write(t.fds[0], out, m), (ssize_t)m);
		/* The kernel handles it in the write; allow a moment anyway. */
		for (int k = 0; k < 20 && mtu != r->expect_mtu; k++) {
			if (k)
				usleep(5000);
			sl = sizeof(mtu);
			assert_int_equal(getsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU,
						    &mtu, &sl), 0);
		}
		assert_int_equal(mtu, r->expect_mtu);
		close(s);
	}
	tun_close(&t);
}

/* Drop or restore CAP_NET_ADMIN in the effective set only. */
static void net_admin(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[CAP_NET_ADMIN / 32].effective |= 1u << (CAP_NET_ADMIN % 32);
	else
		d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

struct err_row {
	const char *name;
	unsigned mtu;
	const char *extra_addr;
	unsigned extra_plen;
	unsigned queues;
	const char *path;
	bool no_net_admin;
	int ret;
	const char *err;
};

static const struct err_row err_rows[] = {
	{ "gtpt4", 1400, NULL, 0, 1, "/nonexistent/net/tun", false, -ENOENT,
	  "cannot open /nonexistent/net/tun: No such file or directory" },
	{ "gtpt4", 1400, NULL, 0, 1, NULL, true, -EPERM,
	  "TUNSETIFF gtpt4: Operation not permitted (needs CAP_NET_ADMIN)" },
	{ "lo", 1400, NULL, 0, 1, NULL, false, -EINVAL,
	  "TUNSETIFF lo: Invalid argument (a device of that name exists but is not a TUN device "
	  "of the same queue mode)" },
	{ "gtpt4", 1400, NULL, 0, 0, NULL, false, -EINVAL, "TUN queues 0 out of range 1..64" },
	{ "gtpt4", 1400, NULL, 0, 65, NULL, false, -EINVAL, "TUN queues 65 out of range 1..64" },
	{ "gtpt4", 70000, NULL, 0, 1, NULL, false, -EINVAL, "setting MTU 70000 on gtpt4: Invalid argument" },
	{ "gtpt4", 1400, "198.51.100.1", 33, 2, NULL, false, -EINVAL,
	  "adding address 198.51.100.1/33 to gtpt4: Invalid argument" },
};

/* Every failure returns -errno with its sentence and leaves no device. */
static void test_errors(void **state)
{
	struct conf_tun c;
	struct tun_dev t;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		const struct err_row *r = &err_rows[i];
		int ret;

		print_message("# %s\n", r->err);
		make_conf(&c, r->name, r->mtu);
		if (r->extra_addr)
			add_prefix(&c, r->extra_addr, r->extra_plen);
		if (r->path)
			tun_dev_path = r->path;
		if (r->no_net_admin)
			net_admin(false);
		err[0] = 0;
		ret = tun_open(&c, r->queues, &t, err, sizeof(err));
		net_admin(true);
		tun_dev_path = "/dev/net/tun";
		assert_int_equal(ret, r->ret);
		assert_string_equal(err, r->err);
		assert_int_equal(t.n_fds, 0);
		assert_int_equal(if_nametoindex("gtpt4"), 0);
	}
	assert_int_not_equal(if_nametoindex("lo"), 0);
}

static void test_skip(void **state)
{
	(void)state;
	print_message("# %s\n", skip_reason);
	skip();
}

static int run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_created_persistent_is_deleted),
		cmocka_unit_test(test_attach_existing),
		cmocka_unit_test(test_multiqueue_and_traffic),
		cmocka_unit_test(test_icmp_too_big_into_tun),
		cmocka_unit_test(test_errors),
	};
	const struct CMUnitTest skipped[] = { cmocka_unit_test(test_skip) };

	if (geteuid() != 0)
		snprintf(skip_reason, sizeof(skip_reason), "needs root");
	else if (access("/dev/net/tun", R_OK | W_OK) < 0)
		snprintf(skip_reason, sizeof(skip_reason), "no /dev/net/tun: %s", strerror(errno));
	else if (unshare(CLONE_NEWNET) < 0)
		snprintf(skip_reason, sizeof(skip_reason), "cannot create a network namespace: %s",
			 strerror(errno));
	if (skip_reason[0])
		return cmocka_run_group_tests(skipped, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
	pid_t pid;
	int st;

	/* These tests read and write plain packets; the offload header has
	 * its own tests (test_offload). */
	tun_offload = false;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 99;
	if (pid == 0)
		_exit(run());
	if (waitpid(pid, &st, 0) < 0)
		return 99;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}
