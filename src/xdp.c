// SPDX-License-Identifier: GPL-2.0-or-later
/* The XDP fast path's loader and its maps (see xdp.h). The program relays
 * only what it is sure the sockets would relay the same way; the maps hold
 * the relay tunnels, the peers (by an id that survives reloads) and the
 * addresses gtpud listens on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xdp.h"

#ifndef HAVE_XDP

int xdp_start(struct xdp_path **out, const struct conf *c, const struct sockaddr_storage *bound,
	      unsigned n_bound, uint32_t max_tunnels, char *err, size_t errlen)
{
	*out = NULL;
	if (!c->xdp.n_ifaces)
		return 0;
	if (c->xdp.mode != CONF_XDP_AUTO) {
		snprintf(err, errlen, "xdp: this gtpud was built without XDP support (--disable-xdp)");
		return -EOPNOTSUPP;
	}
	log_warn("xdp: this gtpud was built without XDP support: relaying on the sockets only");
	return 0;
}

void xdp_stop(struct xdp_path *x) {}
const char *xdp_mode_name(const struct xdp_path *x) { return "off"; }
void xdp_sync(struct xdp_path *x, struct state *s, const struct state *old) {}
void xdp_tunnel_changed(struct xdp_path *x, const struct state *s, uint32_t i, bool added) {}
void xdp_peer_changed(struct xdp_path *x, const struct state *s, struct peer *p) {}
void xdp_tunnel_ctr(struct xdp_path *x, const struct state *s, uint32_t i, struct ctr *c) {}
void xdp_peer_ctr(struct xdp_path *x, const struct peer *p, struct ctr *c) {}
void xdp_totals(struct xdp_path *x, struct xdp_totals *t) { memset(t, 0, sizeof(*t)); }

#else

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp/gtpu_xdp.h"
#include "xdp/gtpu_xdp.skel.h"
#include "xdp_table.h"

#define XDP_MAX_LOCALS 1024       /* the program's locals map */
enum { SLOT_FREE, SLOT_USED, SLOT_KEPT };

struct xdp_path {
	struct gtpu_xdp *skel;
	int mode;                 /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	unsigned n_links;
	int links[CONF_MAX_XDP_IFACES];
	unsigned ncpu;
	int fd_peers, fd_locals, fd_pctr, fd_gstats, fd_paddr;
	struct xdp_ttab tt;       /* the tunnel table, mapped */
	unsigned n_bound;
	struct sockaddr_storage bound[CONF_MAX_LISTEN];
	uint64_t not_offloaded;
	void *buf;                /* a per-CPU value, ncpu of them */
	/* The peers' slots: SLOT_FREE, SLOT_USED, SLOT_KEPT (while a sync
	 * marks those the new state holds). The file's peers always have
	 * one (at most CONF_MAX_PEERS of the new state and as many of the old
	 * one during a reload); PFCP's as they come, while there are. */
	uint8_t slot[XDP_MAX_PEERS];
	uint32_t slot_next;       /* where the search for a free one starts */
	/* A PFCP peer found no slot: a datagram from it could not be counted
	 * to it here, so tunnels that take any source go by the sockets. */
	bool any_src_off;
};
_Static_assert(XDP_MAX_PEERS >= 2 * CONF_MAX_PEERS, "a reload may replace every peer");
_Static_assert(XDP_MAX_PEERS <= XDP_ANY_PEER, "a slot is never taken for any source");

/* libbpf's own messages: its warnings (the verifier's log among them) go
 * to the log at debug level, where an operator who asks finds them. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char m[512];
	size_t n;

	if (level == LIBBPF_DEBUG || log_get_level() < LOG_LVL_DEBUG)
		return 0;
	vsnprintf(m, sizeof(m), fmt, ap);
	n = strlen(m);
	if (n && m[n - 1] == '\n')
		m[n - 1] = '\0';
	log_debug("xdp: libbpf: %s", m);
	return 0;
}

const char *xdp_mode_name(const struct xdp_path *x)
{
	if (!x)
		return "off";
	return x->mode == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

static void detach(struct xdp_path *x)
{
	/* A link detaches when its last fd closes (gtpud's exit too, with no
	 * capability left to do it otherwise). */
	for (unsigned i = 0; i < x->n_links; i++)
		close(x->links[i]);
	x->n_links = 0;
}

/* bpf_fib_lookup answers only where the kernel would forward: without
 * forwarding on an interface, what would leave by it goes by the sockets. */
static void check_forwarding(const char *ifname)
{
	static const char *const fam[] = { "ipv4", "ipv6" };

	for (unsigned i = 0; i < 2; i++) {
		char path[96], v = '0';
		FILE *f;

		snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding", fam[i], ifname);
		if (!(f = fopen(path, "re")))
			continue;
		if (fread(&v, 1, 1, f) == 1 && v == '0')
			log_warn("xdp: %s forwarding is off on %s: what would leave by it is relayed by the "
				 "sockets (sysctl net.%s.conf.%s.forwarding=1 to relay it in XDP)",
				 i ? "IPv6" : "IPv4", ifname, fam[i], ifname);
		fclose(f);
	}
}

static int attach(struct xdp_path *x, const struct conf *c, int mode, char *err, size_t errlen)
{
	int prog = bpf_program__fd(x->skel->progs.gtpu_xdp);

	x->mode = mode;
	for (unsigned i = 0; i < c->xdp.n_ifaces; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, o, .flags = (__u32)mode);
		unsigned ifi = if_nametoindex(c->xdp.ifaces[i]);
		int fd;

		if (!ifi) {
			snprintf(err, errlen, "xdp: interface \"%s\": %s", c->xdp.ifaces[i], strerror(errno));
			return -ENODEV;
		}
		fd = bpf_link_create(prog, (int)ifi, BPF_XDP, &o);
		if (fd < 0) {
			snprintf(err, errlen, "xdp: cannot attach in %s mode to %s: %s", xdp_mode_name(x),
				 c->xdp.ifaces[i], strerror(-fd));
			detach(x);
			return fd;
		}
		x->links[x->n_links++] = fd;
		/* The program redirects to the interfaces it is attached to. */
		if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.txports), &ifi, &ifi, BPF_ANY) < 0)
			log_warn("xdp: %s not added to the redirect map (%s): its traffic goes by the sockets",
				 c->xdp.ifaces[i], strerror(errno));
	}
	return 0;
}

/* The programs that count the relayed frames the kernel could not send
 * (gtpu_xdp_lost_*, the object's raw tracepoints) need the kernel's BTF,
 * for where an interface's index and namespace are. Off: left unloaded.
 * Whether they are on. */
static bool txlost_prepare(struct xdp_path *x, bool on)
{
	struct bpf_program *p;
	struct stat ns;

	if (on && access("/sys/kernel/btf/vmlinux", R_OK) == 0 && stat("/proc/self/ns/net", &ns) == 0) {
		x->skel->rodata->netns_ino = (__u32)ns.st_ino;
		return true;
	}
	if (on)
		log_warn("xdp: the kernel has no BTF (/sys/kernel/btf/vmlinux): relayed frames that it "
			 "cannot send are not counted as send_error");
	bpf_object__for_each_program(p, x->skel->obj)
		if (bpf_program__type(p) == BPF_PROG_TYPE_RAW_TRACEPOINT)
			bpf_program__set_autoload(p, false);
	return false;
}

static int load(struct xdp_path *x, uint32_t max_tunnels, char *err, size_t errlen)
{
	uint32_t n = xdp_ttab_buckets(max_tunnels);
	bool txlost = true;
	int r;

	/* A second try without the counting programs: they need what the
	 * relay does not (the kernel's BTF, tracing programs allowed). */
	for (;;) {
		if (!(x->skel = gtpu_xdp__open())) {
			snprintf(err, errlen, "xdp: cannot open the program: %s", strerror(errno));
			return -errno;
		}
		bpf_map__set_max_entries(x->skel->maps.tunnels, n);
		x->skel->rodata->tbuckets = n;
		bpf_map__set_max_entries(x->skel->maps.locals, XDP_MAX_LOCALS);
		txlost = txlost_prepare(x, txlost);
		if ((r = gtpu_xdp__load(x->skel)) == 0)
			break;
		snprintf(err, errlen, "xdp: the kernel refused the program: %s", strerror(-r));
		if (!txlost)
			return r;
		log_warn("xdp: the kernel refused the programs that count what it cannot send (%s): "
			 "trying without them", strerror(-r));
		gtpu_xdp__destroy(x->skel);
		x->skel = NULL;
		txlost = false;
	}
	if ((r = xdp_ttab_map(&x->tt, bpf_map__fd(x->skel->maps.tunnels), n, bpf_map__fd(x->skel->maps.grace),
			      bpf_map__fd(x->skel->maps.grace_inner))) < 0) {
		snprintf(err, errlen, "xdp: cannot map the tunnel table (%zu MB): %s",
			 sizeof(struct xdp_tbucket) * n >> 20, strerror(-r));
		return r;
	}
	x->fd_peers = bpf_map__fd(x->skel->maps.peers);
	x->fd_paddr = bpf_map__fd(x->skel->maps.paddr);
	x->fd_locals = bpf_map__fd(x->skel->maps.locals);
	x->fd_pctr = bpf_map__fd(x->skel->maps.pctr);
	x->fd_gstats = bpf_map__fd(x->skel->maps.gstats);
	/* The skeleton attaches what it can by itself: the raw tracepoints
	 * (the XDP program, per interface, is attach()'s); its links go with
	 * gtpu_xdp__destroy. */
	if (txlost && (r = gtpu_xdp__attach(x->skel)) < 0)
		log_warn("xdp: cannot attach the programs that count what the kernel cannot send (%s): "
			 "relayed frames that it cannot send are not counted as send_error", strerror(-r));
	return 0;
}

void xdp_stop(struct xdp_path *x)
{
	if (!x)
		return;
	detach(x);
	xdp_ttab_unmap(&x->tt);
	gtpu_xdp__destroy(x->skel);
	free(x->buf);
	free(x);
}

int xdp_start(struct xdp_path **out, const struct conf *c, const struct sockaddr_storage *bound,
	      unsigned n_bound, uint32_t max_tunnels, char *err, size_t errlen)
{
	struct xdp_path *x;
	int r, ncpu;

	*out = NULL;
	if (!c->xdp.n_ifaces)
		return 0;
	libbpf_set_print(libbpf_log);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || !(x = calloc(1, sizeof(*x))))
		return ncpu <= 0 ? ncpu : -ENOMEM;
	x->ncpu = (unsigned)ncpu;
	if (!(x->buf = calloc(x->ncpu, sizeof(struct xdp_ctr) + sizeof(struct xdp_gstats)))) {
		free(x);
		return -ENOMEM;
	}
	x->n_bound = n_bound < CONF_MAX_LISTEN ? n_bound : CONF_MAX_LISTEN;
	memcpy(x->bound, bound, x->n_bound * sizeof(*bound));
	if (max_tunnels < 1024)
		max_tunnels = 1024;
	r = load(x, max_tunnels, err, errlen);
	if (r == 0 && c->xdp.mode != CONF_XDP_GENERIC) {
		r = attach(x, c, XDP_FLAGS_DRV_MODE, err, errlen);
		if (r < 0 && c->xdp.mode == CONF_XDP_AUTO) {
			log_warn("%s; trying generic mode", err);
			r = attach(x, c, XDP_FLAGS_SKB_MODE, err, errlen);
		}
	} else if (r == 0) {
		r = attach(x, c, XDP_FLAGS_SKB_MODE, err, errlen);
	}
	if (r < 0) {
		xdp_stop(x);
		if (c->xdp.mode != CONF_XDP_AUTO)
			return r;
		log_warn("%s; relaying on the sockets only", err);
		return 0;
	}
	log_info("xdp: fast path attached in %s mode to %u interface%s", xdp_mode_name(x), x->n_links,
		 x->n_links == 1 ? "" : "s");
	for (unsigned i = 0; i < c->xdp.n_ifaces; i++)
		check_forwarding(c->xdp.ifaces[i]);
	*out = x;
	return 0;
}

/* ---- the addresses gtpud listens on ---- */

static const uint8_t *sa_addr(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr :
	       (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
	       ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool sa_any(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];

	return !memcmp(sa_addr(ss), zero, alen(ss->ss_family));
}

static void local_put(struct xdp_path *x, int family, const uint8_t *addr, uint16_t port)
{
	struct xdp_local k = { .family = (__u8)family, .port = port };
	__u8 one = 1;

	memcpy(k.addr, addr, alen(family));
	bpf_map_update_elem(x->fd_locals, &k, &one, BPF_ANY);
}

/* A wildcard socket takes every address of the host: they are listed
 * anew at each sync (a reload picks up addresses added since). */
static void sync_locals(struct xdp_path *x)
{
	struct xdp_local next;
	struct ifaddrs *ifa = NULL;

	while (bpf_map_get_next_key(x->fd_locals, NULL, &next) == 0)
		bpf_map_delete_elem(x->fd_locals, &next);
	for (unsigned i = 0; i < x->n_bound; i++) {
		const struct sockaddr_storage *b = &x->bound[i];

		if (!sa_any(b)) {
			local_put(x, b->ss_family, sa_addr(b), sa_port(b));
			continue;
		}
		if (!ifa && getifaddrs(&ifa) < 0)
			continue;
		for (struct ifaddrs *a = ifa; a; a = a->ifa_next)
			if (a->ifa_addr && a->ifa_addr->sa_family == b->ss_family)
				local_put(x, b->ss_family, sa_addr((const struct sockaddr_storage *)a->ifa_addr),
					  sa_port(b));
	}
	if (ifa)
		freeifaddrs(ifa);
}

/* ---- peers ---- */

/* The interface that holds addr: where the route from it leaves. */
static unsigned addr_ifindex(int family, const uint8_t *addr)
{
	struct ifaddrs *ifa;
	unsigned r = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (struct ifaddrs *a = ifa; a && !r; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == family && a->ifa_name &&
		    !memcmp(sa_addr((const struct sockaddr_storage *)a->ifa_addr), addr, alen(family)))
			r = if_nametoindex(a->ifa_name);
	freeifaddrs(ifa);
	return r;
}

/* Where the sockets would send to p from, as dp_pick_sock chooses: the
 * socket bound to the address the route uses, else a wildcard one (the
 * route's address), else the first of the family. false: none. */
static bool peer_source(const struct xdp_path *x, const struct peer *p, struct xdp_peer *v)
{
	struct sockaddr_storage local;
	socklen_t l = sizeof(local);
	int fd = socket(p->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), exact = -1, wildcard = -1, first = -1, k;
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (const struct sockaddr *)&p->sa, p->salen) == 0 &&
	     getsockname(fd, (struct sockaddr *)&local, &l) == 0;
	close(fd);
	if (!ok)
		return false;
	for (unsigned i = 0; i < x->n_bound; i++) {
		const struct sockaddr_storage *b = &x->bound[i];

		if (b->ss_family != p->sa.ss_family)
			continue;
		if (exact < 0 && !memcmp(sa_addr(b), sa_addr(&local), alen(b->ss_family)))
			exact = (int)i;
		if (sa_any(b) && wildcard < 0)
			wildcard = (int)i;
		if (first < 0)
			first = (int)i;
	}
	k = exact >= 0 ? exact : wildcard >= 0 ? wildcard : first;
	if (k < 0)
		return false;
	memcpy(v->src, sa_any(&x->bound[k]) ? sa_addr(&local) : sa_addr(&x->bound[k]), alen(p->sa.ss_family));
	v->sport = sa_port(&x->bound[k]);
	/* The way out is the route's, whatever address the socket is bound to. */
	v->oif = addr_ifindex(p->sa.ss_family, sa_addr(&local));
	return v->oif != 0;
}

static void paddr_key(const struct peer *p, struct xdp_paddr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = (__u8)p->addr.family;
	memcpy(a->addr, p->addr.addr, alen(p->addr.family));
}

/* A slot for p, its counters zeroed: false when every slot is taken. */
static bool slot_take(struct xdp_path *x, struct peer *p)
{
	for (uint32_t n = 0; n < XDP_MAX_PEERS; n++) {
		uint32_t k = (x->slot_next + n) % XDP_MAX_PEERS;

		if (x->slot[k] != SLOT_FREE)
			continue;
		memset(x->buf, 0, x->ncpu * sizeof(struct xdp_ctr));
		if (bpf_map_update_elem(x->fd_pctr, &k, x->buf, BPF_ANY) < 0)
			return false;
		x->slot[k] = SLOT_USED;
		x->slot_next = (k + 1) % XDP_MAX_PEERS;
		p->xdp_slot = k + 1;
		return true;
	}
	return false;
}

/* p's slot emptied (no flags: nothing relayed from or to it) and freed. */
static void slot_free(struct xdp_path *x, struct peer *p)
{
	struct xdp_peer none = { 0 };
	uint32_t k = p->xdp_slot - 1;
	struct xdp_paddr a;
	__u32 v;

	if (!p->xdp_slot)
		return;
	paddr_key(p, &a);
	if (bpf_map_lookup_elem(x->fd_paddr, &a, &v) == 0 && v == k)
		bpf_map_delete_elem(x->fd_paddr, &a);
	bpf_map_update_elem(x->fd_peers, &k, &none, BPF_ANY);
	x->slot[k] = SLOT_FREE;
	p->xdp_slot = 0;
}

static void peer_put(struct xdp_path *x, const struct state *s, struct peer *p)
{
	struct xdp_peer v = { .family = (__u8)p->addr.family };
	int st = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	struct xdp_paddr a;
	uint32_t k;

	if (!p->xdp_slot && !slot_take(x, p)) {
		if (!x->any_src_off)
			log_warn("xdp: no slot left for peer %s: its tunnels, and those that take any source, are "
				 "relayed by the sockets", p->name);
		x->any_src_off = true;
		return;
	}
	k = p->xdp_slot - 1;
	memcpy(v.addr, p->addr.addr, alen(p->addr.family));
	v.port = sa_port(&p->sa);
	/* Until a peer is up its traffic goes by the sockets, which bring it
	 * up; a peer that is down is sent to unless on_down says drop. */
	if (st == PEER_UP)
		v.flags |= XDP_PEER_FROM;
	if (!(st == PEER_DOWN && s->conf->echo.on_down == CONF_DOWN_DROP) && peer_source(x, p, &v))
		v.flags |= XDP_PEER_TO;
	bpf_map_update_elem(x->fd_peers, &k, &v, BPF_ANY);
	/* Its address names it if the sockets find it by that address (the
	 * state's first peer of it); a peer freed later keeps it only if it
	 * still names that one (slot_free). */
	if (state_lookup_peer(s, (const struct sockaddr *)&p->sa) == p) {
		paddr_key(p, &a);
		bpf_map_update_elem(x->fd_paddr, &a, &k, BPF_ANY);
	}
}

void xdp_peer_changed(struct xdp_path *x, const struct state *s, struct peer *p)
{
	if (x)
		peer_put(x, s, p);
}

/* ---- tunnels ---- */

/* A relay tunnel, unrated, whose peers have slots: of the file or gtpuctl
 * within one family, or a PFCP session's forwarding (matched on its TEID
 * alone, its uplink QFI checked in the program; a QER's MBR, a closed
 * gate, DROP and BUFF keep it on the sockets; its URRs count both paths,
 * through state_tunnel_ctr). */
static bool relayable(const struct xdp_path *x, const struct state *s, const struct tunnel *t)
{
	if ((t->flags & (TUNNEL_ENDPOINT | TUNNEL_DROP | TUNNEL_NO_TO)) || t->tb != TUNNEL_NONE ||
	    t->to_peer == TABLE_NO_PEER || !s->peers[t->to_peer]->xdp_slot)
		return false;
	if (t->flags & TUNNEL_ANY_SRC)
		return !x->any_src_off;
	return t->from_peer != TABLE_NO_PEER && s->peers[t->from_peer]->xdp_slot &&
	       s->peers[t->from_peer]->addr.family == s->peers[t->to_peer]->addr.family;
}

static void tunnel_value(const struct state *s, uint32_t i, struct xdp_tunnel *v)
{
	const struct tunnel *t = &s->tunnels[i];

	memset(v, 0, sizeof(*v));
	v->to_teid = t->to_teid;
	v->ul_qfi = t->ul_qfi;
	v->from_peer = t->flags & TUNNEL_ANY_SRC ? XDP_ANY_PEER : s->peers[t->from_peer]->xdp_slot - 1;
	v->to_peer = s->peers[t->to_peer]->xdp_slot - 1;
}

static void tunnel_drop(struct xdp_path *x, uint32_t teid)
{
	xdp_ttab_del(&x->tt, teid);
}

static void tunnel_put(struct xdp_path *x, uint32_t teid, const struct xdp_tunnel *v)
{
	if (xdp_ttab_put(&x->tt, teid, v) == 0)
		return;
	/* Its packets go by the sockets, as correctly, only slower. */
	if (!x->not_offloaded)
		log_warn("xdp: no room in the tunnel table for TEID 0x%x (%u tunnels in it): it and any other "
			 "that finds none are relayed by the sockets", teid, x->tt.live);
	x->not_offloaded++;
}

void xdp_tunnel_changed(struct xdp_path *x, const struct state *s, uint32_t i, bool added)
{
	struct xdp_tunnel v;
	__u32 k = s->tunnels[i].from_teid;

	if (!x)
		return;
	if (!added) {
		tunnel_drop(x, k);
		return;
	}
	/* A peer PFCP brought in for it: a slot before its first tunnel. */
	if (s->tunnels[i].to_peer != TABLE_NO_PEER && !s->peers[s->tunnels[i].to_peer]->xdp_slot)
		peer_put(x, s, s->peers[s->tunnels[i].to_peer]);
	if (relayable(x, s, &s->tunnels[i])) {
		tunnel_value(s, i, &v);
		tunnel_put(x, k, &v);
	}
}

/* The fast path's counts of tunnel TEID k: 0 and false when it has none. */
static bool tunnel_counts(struct xdp_path *x, uint32_t k, struct ctr *c)
{
	const struct xdp_tunnel *e = xdp_ttab_find(&x->tt, k);

	memset(c, 0, sizeof(*c));
	if (!e)
		return false;
	c->rx_pkts = c->tx_pkts = __atomic_load_n(&e->pkts, __ATOMIC_RELAXED);
	c->rx_bytes = c->tx_bytes = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
	return true;
}

static void ctr_add(struct ctr *c, const struct ctr *a)
{
	c->rx_pkts += a->rx_pkts;
	c->rx_bytes += a->rx_bytes;
	c->tx_pkts += a->tx_pkts;
	c->tx_bytes += a->tx_bytes;
}

static bool same_entry(const struct state *s, uint32_t i, const struct state *o, uint32_t j)
{
	const struct tunnel *a = &s->tunnels[i], *b = &o->tunnels[j];

	/* Both relayable: a next peer each, a source peer unless any source. */
	if (a->to_teid != b->to_teid || a->ul_qfi != b->ul_qfi ||
	    (a->flags & TUNNEL_ANY_SRC) != (b->flags & TUNNEL_ANY_SRC) ||
	    s->peers[a->to_peer]->id != o->peers[b->to_peer]->id)
		return false;
	return (a->flags & TUNNEL_ANY_SRC) || s->peers[a->from_peer]->id == o->peers[b->from_peer]->id;
}

/* teid's entry leaves the map, its counts carried to s->base[n]: once
 * final, after the grace period (xdp_sync's end), or as they are now when
 * the list of those cannot grow. false: no base to carry them to (n is
 * TUNNEL_NONE, or there is none), and the entry stays. */
static bool entry_retire(struct xdp_path *x, struct state *s, uint32_t teid, uint32_t n)
{
	struct ctr c;

	if (!s->base || n == TUNNEL_NONE)
		return false;
	if (xdp_ttab_del_final(&x->tt, teid, n) == 0)
		return true;
	if (tunnel_counts(x, teid, &c))
		ctr_add(&s->base[n], &c);
	tunnel_drop(x, teid);
	return true;
}

void xdp_sync(struct xdp_path *x, struct state *s, const struct state *old)
{
	if (!x)
		return;
	sync_locals(x);
	/* A peer kept from the old state keeps its slot and its counts. */
	for (uint32_t i = 0; i < s->n_peers; i++)
		peer_put(x, s, s->peers[i]);
	/* Old tunnels whose TEID now belongs to no tunnel, or to another one
	 * (by name), or to one the fast path no longer relays: gone from the
	 * map. Their counts follow a tunnel that keeps the name (the readers
	 * carried the table's part into s->base already). */
	if (old) {
		STATE_FOR_EACH(old, i) {
			const struct tunnel *t = &old->tunnels[i];
			const char *name = tunnel_name(old, t);
			uint32_t j = state_lookup_teid(s, t->from_teid);

			if (!relayable(x, old, t) ||
			    (j != TUNNEL_NONE && !strcmp(tunnel_name(s, &s->tunnels[j]), name) &&
			     relayable(x, s, &s->tunnels[j])))
				continue;
			if (!entry_retire(x, s, t->from_teid, state_find_tunnel(s, name)))
				tunnel_drop(x, t->from_teid);   /* no tunnel keeps the name */
		}
	}
	STATE_FOR_EACH(s, i) {
		const struct tunnel *t = &s->tunnels[i];
		uint32_t j = old ? state_lookup_teid(old, t->from_teid) : TUNNEL_NONE;
		bool kept = j != TUNNEL_NONE && !strcmp(tunnel_name(old, &old->tunnels[j]), tunnel_name(s, t)) &&
			    relayable(x, old, &old->tunnels[j]);
		struct xdp_tunnel v;
		struct ctr c;

		if (!relayable(x, s, t) || (kept && same_entry(s, i, old, j)))
			continue;   /* not the fast path's, or its entry stays as it is */
		tunnel_value(s, i, &v);
		/* Another next hop for the same tunnel: its counts go on, into
		 * its base (or, without one, into the new entry as they are). */
		if (kept && !entry_retire(x, s, t->from_teid, i) && tunnel_counts(x, t->from_teid, &c)) {
			v.pkts = c.rx_pkts;
			v.bytes = c.rx_bytes;
		}
		tunnel_put(x, t->from_teid, &v);
	}
	/* Peers the new state no longer has: no tunnel in the map names
	 * their slots any more. */
	if (old) {
		for (uint32_t i = 0; i < s->n_peers; i++)
			if (s->peers[i]->xdp_slot)
				x->slot[s->peers[i]->xdp_slot - 1] = SLOT_KEPT;
		for (uint32_t i = 0; i < old->n_peers; i++) {
			struct peer *p = old->peers[i];

			if (p->xdp_slot && x->slot[p->xdp_slot - 1] != SLOT_KEPT)
				slot_free(x, p);
		}
		for (uint32_t i = 0; i < s->n_peers; i++)
			if (s->peers[i]->xdp_slot)
				x->slot[s->peers[i]->xdp_slot - 1] = SLOT_USED;
	}
	/* The removed and replaced tunnels' entries free again, their final
	 * counts (whatever a run under way added after the above) carried
	 * to the tunnels that keep their names. */
	xdp_ttab_reap(&x->tt);
	for (uint32_t k = 0, n = xdp_ttab_finals(&x->tt); k < n; k++) {
		const struct xdp_tfinal *f = &x->tt.fin[k];
		struct ctr c = { f->pkts, f->bytes, f->pkts, f->bytes };

		ctr_add(&s->base[f->cookie], &c);
	}
	xdp_ttab_finals_clear(&x->tt);
}

/* A peer's counts, summed over the CPUs. */
static bool pctr_sum(struct xdp_path *x, const struct peer *p, struct ctr *c)
{
	const struct xdp_ctr *v = x->buf;
	uint32_t k = p->xdp_slot - 1;

	memset(c, 0, sizeof(*c));
	if (!p->xdp_slot || bpf_map_lookup_elem(x->fd_pctr, &k, x->buf) < 0)
		return false;
	for (unsigned cpu = 0; cpu < x->ncpu; cpu++) {
		c->rx_pkts += v[cpu].rx_pkts;
		c->rx_bytes += v[cpu].rx_bytes;
		c->tx_pkts += v[cpu].tx_pkts;
		c->tx_bytes += v[cpu].tx_bytes;
	}
	return true;
}

/* ---- counters ---- */

void xdp_tunnel_ctr(struct xdp_path *x, const struct state *s, uint32_t i, struct ctr *c)
{
	struct ctr a;

	if (x && relayable(x, s, &s->tunnels[i]) && tunnel_counts(x, s->tunnels[i].from_teid, &a))
		ctr_add(c, &a);
}

void xdp_peer_ctr(struct xdp_path *x, const struct peer *p, struct ctr *c)
{
	struct ctr a;

	if (x && pctr_sum(x, p, &a))
		ctr_add(c, &a);
}

void xdp_totals(struct xdp_path *x, struct xdp_totals *t)
{
	const struct xdp_gstats *g = x ? x->buf : NULL;
	__u32 k = 0;

	memset(t, 0, sizeof(*t));
	if (!x || bpf_map_lookup_elem(x->fd_gstats, &k, x->buf) < 0)
		return;
	for (unsigned cpu = 0; cpu < x->ncpu; cpu++) {
		t->rx_pkts += g[cpu].fwd_pkts;
		t->rx_bytes += g[cpu].fwd_bytes;
		t->passed += g[cpu].passed;
		t->tx_lost += g[cpu].tx_lost;
	}
	/* A frame is lost after it was counted: never more than were. */
	if (t->tx_lost > t->rx_pkts)
		t->tx_lost = t->rx_pkts;
	t->fwd_pkts = t->rx_pkts - t->tx_lost;
	t->not_offloaded = x->not_offloaded;
}

#endif
