/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TUN device: /dev/net/tun for the packets, rtnetlink through libmnl for
 * MTU, addresses, link state and removal. Library code: errors are returned
 * as -errno with a sentence, never logged. */
#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *tun_dev_path = "/dev/net/tun";

#define TUN_V6_WAIT_MS 1000

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- rtnetlink ---- */

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char buf[8192];           /* MNL_SOCKET_BUFFER_SIZE at most; replies here are small */
};

static int nl_open_groups(struct nl *nl, unsigned groups)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK * !!groups);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

static int nl_open(struct nl *nl)
{
	return nl_open_groups(nl, 0);
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h;

	/* libmnl 1.0.4 leaves attribute padding as it finds it. */
	memset(nl->buf, 0, sizeof(nl->buf));
	h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* Send one request and read up to its acknowledgement; cb sees the replies
 * before it. Returns 0 or the kernel's -errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	unsigned seq = h->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? -errno : 0;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct tun_link *l = data;

	if (mnl_attr_get_type(a) == IFLA_MTU && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		l->mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	struct tun_link *l = data;

	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	return mnl_attr_parse(h, sizeof(*ifi), link_attr, l);
}

static int link_get(struct nl *nl, const char *name, struct tun_link *l)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	memset(l, 0, sizeof(*l));
	return nl_talk(nl, h, link_cb, l);
}

static struct ifinfomsg *link_msg(struct nl *nl, uint16_t type, int ifindex, struct nlmsghdr **hp)
{
	struct nlmsghdr *h = nl_msg(nl, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	*hp = h;
	return ifi;
}

static int link_set_mtu(struct nl *nl, int ifindex, unsigned mtu)
{
	struct nlmsghdr *h;

	link_msg(nl, RTM_NEWLINK, ifindex, &h);
	mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return nl_talk(nl, h, NULL, NULL);
}

static int link_set_up(struct nl *nl, int ifindex)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifi = link_msg(nl, RTM_NEWLINK, ifindex, &h);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	return nl_talk(nl, h, NULL, NULL);
}

static int addr_add(struct nl *nl, int ifindex, const struct conf_prefix *p)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	size_t alen = p->addr.family == AF_INET ? 4 : 16;

	ifa->ifa_family = (uint8_t)p->addr.family;
	ifa->ifa_prefixlen = p->plen;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(h, IFA_LOCAL, alen, p->addr.addr);
	mnl_attr_put(h, IFA_ADDRESS, alen, p->addr.addr);
	if (p->addr.family == AF_INET6) {
		/* Usable at once: a TUN device has no link layer to
		 * detect duplicates on. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_talk(nl, h, NULL, NULL);
}

/* IPv6 addresses announced ready, out of those tun_configure added. */
struct v6_wait {
	int ifindex;
	unsigned n;
	const struct conf_prefix *addr[CONF_MAX_TUN_ADDRS];
};

static int v6_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	unsigned type = mnl_attr_get_type(a);

	if ((type == IFA_ADDRESS || type == IFA_FLAGS) && type <= IFA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int v6_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct v6_wait *w = data;
	uint32_t flags = ifa->ifa_flags;

	if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET6 ||
	    (int)ifa->ifa_index != w->ifindex ||
	    mnl_attr_parse(h, sizeof(*ifa), v6_attr, tb) < 0 || !tb[IFA_ADDRESS] ||
	    mnl_attr_get_payload_len(tb[IFA_ADDRESS]) != 16)
		return MNL_CB_OK;
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == 4)
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	if (flags & IFA_F_TENTATIVE)
		return MNL_CB_OK;
	for (unsigned i = 0; i < w->n; i++) {
		if (!memcmp(w->addr[i]->addr.addr, mnl_attr_get_payload(tb[IFA_ADDRESS]), 16)) {
			w->addr[i] = w->addr[--w->n];
			break;
		}
	}
	return MNL_CB_OK;
}

/* The kernel finishes an IPv6 address in a work item after the link is up
 * (even without DAD): until it announces the address, the local route is
 * missing and packets to it are dropped. Wait for the announcements, at
 * most TUN_V6_WAIT_MS: a late address is not an error. */
static void v6_wait_ready(struct nl *ev, struct v6_wait *w)
{
	struct timespec t0, t1;
	struct pollfd pfd = { .fd = mnl_socket_get_fd(ev->sock), .events = POLLIN };
	long left = TUN_V6_WAIT_MS;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (w->n && left > 0 && poll(&pfd, 1, (int)left) > 0) {
		while ((n = mnl_socket_recvfrom(ev->sock, ev->buf, sizeof(ev->buf))) > 0)
			mnl_cb_run(ev->buf, (size_t)n, 0, 0, v6_cb, w);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = TUN_V6_WAIT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
					 (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
}

/* ---- the device ---- */

int tun_link_get(const char *name, struct tun_link *l)
{
	struct nl nl;
	int r = nl_open(&nl);

	if (r < 0)
		return r;
	r = link_get(&nl, name, l);
	nl_close(&nl);
	return r;
}

int tun_first_addr(const struct tun_dev *t, int family, uint8_t *addr)
{
	for (unsigned i = 0; i < t->n_addrs; i++) {
		if (t->addrs[i].addr.family == family) {
			memcpy(addr, t->addrs[i].addr.addr, family == AF_INET ? 4 : 16);
			return 0;
		}
	}
	return -ENOENT;
}

int tun_configure(struct tun_dev *t, const struct conf_tun *cfg, char *err, size_t errlen)
{
	struct nl nl, ev = { 0 };
	struct tun_link l;
	struct v6_wait w = { 0 };
	char a[INET6_ADDRSTRLEN];
	unsigned i;
	int r = nl_open(&nl);

	if (r < 0) {
		errf(err, errlen, "rtnetlink: %s", strerror(-r));
		return r;
	}
	r = link_get(&nl, t->name, &l);
	if (r < 0) {
		errf(err, errlen, "cannot find link %s: %s", t->name, strerror(-r));
		goto out;
	}
	t->ifindex = l.ifindex;
	t->mtu = l.mtu;
	if (cfg->mtu && cfg->mtu != l.mtu) {
		r = link_set_mtu(&nl, t->ifindex, cfg->mtu);
		if (r < 0) {
			errf(err, errlen, "setting MTU %u on %s: %s", cfg->mtu, t->name, strerror(-r));
			goto out;
		}
		t->mtu = cfg->mtu;
	}
	/* Subscribed before adding, so no announcement is missed; without
	 * it the addresses still work, only a little later. */
	if (nl_open_groups(&ev, RTMGRP_IPV6_IFADDR) < 0)
		ev.sock = NULL;
	w.ifindex = t->ifindex;
	for (i = 0; i < cfg->n_addrs && i < CONF_MAX_TUN_ADDRS; i++) {
		const struct conf_prefix *p = &cfg->addrs[i];

		r = addr_add(&nl, t->ifindex, p);
		if (r == 0 && p->addr.family == AF_INET6)
			w.addr[w.n++] = p;
		if (r == -EEXIST)
			r = 0;
		if (r < 0) {
			inet_ntop(p->addr.family, p->addr.addr, a, sizeof(a));
			errf(err, errlen, "adding address %s/%u to %s: %s", a, p->plen, t->name,
			     strerror(-r));
			goto out;
		}
	}
	t->n_addrs = i;
	memcpy(t->addrs, cfg->addrs, i * sizeof(cfg->addrs[0]));
	r = link_set_up(&nl, t->ifindex);
	if (r < 0) {
		errf(err, errlen, "bringing %s up: %s", t->name, strerror(-r));
		goto out;
	}
	if (ev.sock)
		v6_wait_ready(&ev, &w);
out:
	nl_close(&ev);
	nl_close(&nl);
	return r;
}

static const char *iff_hint(int r)
{
	switch (r) {
	case -EPERM:
		return " (needs CAP_NET_ADMIN)";
	case -EBUSY:
		return " (another process holds it)";
	case -EINVAL:
		return " (a device of that name exists but is not a TUN device of the same queue mode)";
	default:
		return "";
	}
}

static int set_iff(int fd, struct ifreq *ifr, short flags)
{
	ifr->ifr_flags = flags;
	return ioctl(fd, TUNSETIFF, ifr) < 0 ? -errno : 0;
}

int tun_open(const struct conf_tun *cfg, unsigned n_queues, struct tun_dev *t,
	     char *err, size_t errlen)
{
	short flags = IFF_TUN | IFF_NO_PI | (n_queues > 1 ? IFF_MULTI_QUEUE : 0);
	struct ifreq ifr;
	int r = 0, fd;

	memset(t, 0, sizeof(*t));
	if (n_queues < 1 || n_queues > TUN_MAX_QUEUES) {
		errf(err, errlen, "TUN queues %u out of range 1..%u", n_queues, TUN_MAX_QUEUES);
		return -EINVAL;
	}
	if (strnlen(cfg->name, sizeof(cfg->name)) >= IFNAMSIZ) {
		errf(err, errlen, "TUN device name too long (at most %d characters)", IFNAMSIZ - 1);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n_queues; i++) {
		fd = open(tun_dev_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			errf(err, errlen, "cannot open %s: %s", tun_dev_path, strerror(-r));
			goto out;
		}
		t->fds[t->n_fds++] = fd;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", i ? t->name : cfg->name);
		if (i == 0) {
			/* IFF_TUN_EXCL tells creation from attachment without
			 * a race: it fails with EBUSY when the name exists. */
			r = set_iff(fd, &ifr, flags | IFF_TUN_EXCL);
			t->created = r == 0;
			if (r == -EBUSY)
				r = set_iff(fd, &ifr, flags);
			memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
			t->name[IFNAMSIZ - 1] = 0;
		} else {
			r = set_iff(fd, &ifr, flags);
		}
		if (r < 0) {
			errf(err, errlen, "TUNSETIFF %s: %s%s", ifr.ifr_name[0] ? ifr.ifr_name : "(any)",
			     strerror(-r), iff_hint(r));
			goto out;
		}
	}
	r = tun_configure(t, cfg, err, errlen);
out:
	if (r < 0)
		tun_close(t);
	return r;
}

static int link_del(const struct tun_dev *t)
{
	struct nlmsghdr *h;
	struct nl nl;
	int r = nl_open(&nl);

	if (r < 0)
		return r;
	link_msg(&nl, RTM_DELLINK, t->ifindex, &h);
	if (!t->ifindex)
		mnl_attr_put_strz(h, IFLA_IFNAME, t->name);
	r = nl_talk(&nl, h, NULL, NULL);
	nl_close(&nl);
	return r;
}

void tun_close(struct tun_dev *t)
{
	/* Deleted explicitly, not left to the last close: the device may
	 * have been made persistent meanwhile, and the name must be free
	 * when this returns. */
	if (t->created && t->name[0])
		link_del(t);
	for (unsigned i = 0; i < t->n_fds; i++) {
		if (t->fds[i] >= 0)
			close(t->fds[i]);
		t->fds[i] = -1;
	}
	t->n_fds = 0;
	t->created = false;
}
