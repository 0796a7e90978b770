/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TUN device: /dev/net/tun for the packets, rtnetlink through libmnl for
 * MTU, addresses, link state and removal. Library code: errors are returned
 * as -errno with a sentence, never logged. */
#include "tun.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *tun_dev_path = "/dev/net/tun";
bool tun_offload = true;

_Static_assert(sizeof(struct tun_vnet) == TUN_VNET_LEN, "struct tun_vnet is the 10-byte virtio_net_hdr");

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
	struct pollfd pfd = { .fd = mnl_socket_get_fd(ev->sock), .events = POLLIN };
	uint64_t t0 = mono_ns();
	long left = TUN_V6_WAIT_MS;
	ssize_t n;

	while (w->n && left > 0 && poll(&pfd, 1, (int)left) > 0) {
		while ((n = mnl_socket_recvfrom(ev->sock, ev->buf, sizeof(ev->buf))) > 0)
			mnl_cb_run(ev->buf, (size_t)n, 0, 0, v6_cb, w);
		left = TUN_V6_WAIT_MS - (long)((mono_ns() - t0) / 1000000);
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

/* Offloads wanted for the device: TCP segmentation with partial checksums.
 * Kernels that refuse TSO may still take checksum offload; nothing at all
 * leaves plain packets behind the header. */
static void set_offload(struct tun_dev *t, int fd)
{
	static const unsigned want[] = { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
					 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM, 0 };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, want[i]) == 0) {
			t->offload = want[i];
			return;
		}
	}
	t->offload = 0;
}

static bool offload_wanted(void)
{
	const char *e = getenv("GTPUD_TUN_OFFLOAD");

	return tun_offload && !(e && !strcmp(e, "0"));
}

int tun_open(const struct conf_tun *cfg, unsigned n_queues, struct tun_dev *t,
	     char *err, size_t errlen)
{
	short flags = IFF_TUN | IFF_NO_PI | (n_queues > 1 ? IFF_MULTI_QUEUE : 0);
	struct ifreq ifr;
	int r = 0, fd, hsz = TUN_VNET_LEN;

	memset(t, 0, sizeof(*t));
	if (n_queues < 1 || n_queues > TUN_MAX_QUEUES) {
		errf(err, errlen, "TUN queues %u out of range 1..%u", n_queues, TUN_MAX_QUEUES);
		return -EINVAL;
	}
	if (strnlen(cfg->name, sizeof(cfg->name)) >= IFNAMSIZ) {
		errf(err, errlen, "TUN device name too long (at most %d characters)", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (offload_wanted())
		flags |= IFF_VNET_HDR;
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
		if (i == 0 && (flags & IFF_VNET_HDR) && ioctl(fd, TUNSETVNETHDRSZ, &hsz) < 0) {
			/* Without the size we cannot parse the header: start over plain. */
			tun_close(t);
			t->offload = 0;
			flags &= (short)~IFF_VNET_HDR;
			i = (unsigned)-1;
			continue;
		}
		if (i == 0 && (flags & IFF_VNET_HDR))
			set_offload(t, fd);
	}
	t->vnet_hdr = flags & IFF_VNET_HDR;
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

/* ---- offloads ---- */

int tun_csum_complete(uint8_t *pkt, size_t len, const struct tun_vnet *v)
{
	size_t at = (size_t)v->csum_start + v->csum_offset;

	if (!(v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (v->csum_start >= len || at + 2 > len)
		return -EINVAL;
	/* The field holds the pseudo-header sum: summing over it adds it in. */
	put16(pkt + at, (uint16_t)~inner_csum(0, pkt + v->csum_start, len - v->csum_start));
	return 0;
}

/* Pseudo-header sum for TCP over l4len bytes. */
static uint16_t pseudo_sum(int family, const uint8_t *ip, uint32_t l4len)
{
	uint16_t s;

	if (family == AF_INET)
		s = inner_csum(0, ip + 12, 8);
	else
		s = inner_csum(0, ip + 8, 32);
	s = csum_add16(s, IPPROTO_TCP);
	s = csum_add16(s, l4len & 0xffff);
	return csum_add16(s, l4len >> 16);
}

static void ip_set_len(int family, uint8_t *ip, uint32_t len)
{
	if (family == AF_INET) {
		put16(ip + 2, (uint16_t)len);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~inner_csum(0, ip, (size_t)(ip[0] & 0x0f) * 4));
	} else {
		put16(ip + 4, (uint16_t)(len - 40));
	}
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_URG 0x20
#define TCP_CWR 0x80

int tun_seg_init(struct tun_seg *g, const uint8_t *pkt, size_t len, const struct inner_pkt *ip,
		 const struct tun_vnet *v)
{
	uint8_t type = v->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t thl;

	memset(g, 0, sizeof(*g));
	g->pkt = pkt;
	g->len = ip->len < len ? ip->len : (uint32_t)len;
	g->family = ip->family;
	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		g->n = 1;
		return 1;
	}
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EPROTONOSUPPORT;
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4) != (ip->family == AF_INET) ||
	    ip->proto != IPPROTO_TCP || ip->frag || !v->gso_size || ip->l4_off + 20 > g->len)
		return -EINVAL;
	thl = (uint32_t)(pkt[ip->l4_off + 12] >> 4) * 4;
	if (thl < 20 || ip->l4_off + thl > g->len)
		return -EINVAL;
	g->l4_off = ip->l4_off;
	g->hlen = ip->l4_off + thl;
	g->mss = v->gso_size;
	g->n = g->len == g->hlen ? 1 : (g->len - g->hlen + g->mss - 1) / g->mss;
	return (int)g->n;
}

size_t tun_seg_next(struct tun_seg *g, uint8_t *out, size_t cap)
{
	uint32_t pay, n;
	uint8_t *th, flags;
	uint16_t psum;

	if (g->i >= g->n)
		return 0;
	if (!g->mss) {            /* not segmented: the packet as it is */
		if (cap < g->len)
			return 0;
		memcpy(out, g->pkt, g->len);
		g->i++;
		return g->len;
	}
	pay = g->len - g->hlen - g->off;
	if (pay > g->mss)
		pay = g->mss;
	n = g->hlen + pay;
	if (cap < n)
		return 0;
	memcpy(out, g->pkt, g->hlen);
	psum = inner_csum_copy(out + g->hlen, g->pkt + g->hlen + g->off, pay);
	if (g->family == AF_INET)
		put16(out + 4, (uint16_t)(get16(g->pkt + 4) + g->i));
	ip_set_len(g->family, out, n);
	th = out + g->l4_off;
	put32(th + 4, get32(g->pkt + g->l4_off + 4) + g->off);
	flags = th[13];
	if (g->i)
		flags &= (uint8_t)~TCP_CWR;
	if (g->i + 1 < g->n)
		flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	th[13] = flags;
	put16(th + 16, 0);
	/* The payload starts at an even offset of the TCP header (4 * doff). */
	put16(th + 16, (uint16_t)~inner_csum(csum_add16(pseudo_sum(g->family, out, n - g->l4_off), psum),
					  th, g->hlen - g->l4_off));
	g->off += pay;
	g->i++;
	return n;
}

/* A packet that may be merged: TCP with payload and only ACK/PSH (and
 * ECE/CWR) set, plain headers. Sets *thl. */
static bool coal_ok(const uint8_t *pkt, const struct inner_pkt *ip, uint32_t *thl)
{
	const uint8_t *th = pkt + ip->l4_off;

	if (ip->proto != IPPROTO_TCP || ip->frag ||
	    ip->l4_off != (ip->family == AF_INET ? 20u : 40u) || ip->l4_off + 20 > ip->len)
		return false;
	*thl = (uint32_t)(th[12] >> 4) * 4;
	if (*thl < 20 || ip->l4_off + *thl >= ip->len ||
	    (th[13] & (TCP_FIN | TCP_SYN | TCP_RST | TCP_URG)))
		return false;
	return true;
}

/* Copy the payload of pkt (TCP header thl bytes) to dst and check the TCP
 * checksum on the way. Merged, the segments get a checksum computed afresh:
 * one damaged on the way must not come out looking good. */
static bool copy_checked(uint8_t *dst, const uint8_t *pkt, const struct inner_pkt *ip, uint32_t thl)
{
	uint32_t l4 = ip->len - ip->l4_off;
	uint16_t sum = inner_csum(pseudo_sum(ip->family, pkt, l4), pkt + ip->l4_off, thl);

	return csum_add16(sum, inner_csum_copy(dst, pkt + ip->l4_off + thl, l4 - thl)) == 0xffff;
}

bool tun_coal_add(struct tun_coal *c, const uint8_t *pkt, const struct inner_pkt *ip)
{
	uint8_t *head = c->buf + TUN_VNET_LEN, *th;
	const uint8_t *nth = pkt + ip->l4_off;
	uint32_t thl, pay;

	if (!coal_ok(pkt, ip, &thl))
		return false;
	pay = ip->len - ip->l4_off - thl;
	if (!c->len) {
		if (!copy_checked(head + ip->l4_off + thl, pkt, ip, thl))
			return false;
		memcpy(head, pkt, ip->l4_off + thl);
		c->len = ip->len;
		c->n = 1;
		c->family = ip->family;
		c->l4_off = ip->l4_off;
		c->hlen = ip->l4_off + thl;
		c->mss = pay;
		c->next_seq = get32(nth + 4) + pay;
		c->closed = nth[13] & TCP_PSH;
		return true;
	}
	th = head + c->l4_off;
	if (c->closed || ip->family != c->family || ip->l4_off + thl != c->hlen ||
	    pay > c->mss || c->len + pay > TUN_GSO_MAX || get32(nth + 4) != c->next_seq)
		return false;
	/* Same addresses, ports, ack, window, options, and flags but PSH. */
	if (ip->family == AF_INET) {
		if (pkt[1] != head[1] || pkt[8] != head[8] || (pkt[6] & 0x40) != (head[6] & 0x40) ||
		    memcmp(pkt + 12, head + 12, 8))
			return false;
	} else if (memcmp(pkt, head, 4) || memcmp(pkt + 6, head + 6, 34)) {
		return false;
	}
	if (memcmp(nth, th, 4) || memcmp(nth + 8, th + 8, 5) || (nth[13] & ~TCP_PSH) != (th[13] & ~TCP_PSH) ||
	    memcmp(nth + 14, th + 14, 2) || memcmp(nth + 20, th + 20, thl - 20))
		return false;
	if (!copy_checked(head + c->len, pkt, ip, thl))
		return false;
	c->len += pay;
	c->n++;
	c->next_seq += pay;
	th[13] |= nth[13] & TCP_PSH;
	c->closed = pay < c->mss || (nth[13] & TCP_PSH);
	return true;
}

size_t tun_coal_finish(struct tun_coal *c, unsigned *n_pkts)
{
	uint8_t *head = c->buf + TUN_VNET_LEN;
	struct tun_vnet v = { 0 };
	size_t n = c->len;

	*n_pkts = c->n;
	if (!n)
		return 0;
	if (c->n > 1) {
		ip_set_len(c->family, head, c->len);
		/* The kernel completes the checksum of each segment it cuts. */
		put16(head + c->l4_off + 16, pseudo_sum(c->family, head, c->len - c->l4_off));
		v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		v.gso_type = c->family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		v.hdr_len = (uint16_t)c->hlen;
		v.gso_size = (uint16_t)c->mss;
		v.csum_start = (uint16_t)c->l4_off;
		v.csum_offset = 16;
	}
	memcpy(c->buf, &v, TUN_VNET_LEN);
	c->len = 0;
	c->n = 0;
	return n + TUN_VNET_LEN;
}
