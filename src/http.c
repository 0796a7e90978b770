/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP metrics endpoint: libmicrohttpd in external-loop epoll mode. Its epoll
 * fd is an sd-event I/O source and its timeout an sd-event timer, so scrapes
 * are served on the control loop's thread, never blocking it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "http.h"
#include "metrics.h"

struct http {
	struct MHD_Daemon *mhd;
	sd_event_source *io;
	sd_event_source *timer;
	http_render_fn render;
	void *ctx;
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
			       char *body, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			       "Method Not Allowed\n", MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain", "Not Found: try /metrics\n",
			       MHD_RESPMEM_PERSISTENT);
	text = h->render(h->ctx);
	if (!text)
		return respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			       "Internal Server Error\n", MHD_RESPMEM_PERSISTENT);
	return respond(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, MHD_RESPMEM_MUST_FREE);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static unsigned connections(struct http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i ? i->num_connections : 0;
}

/* Let MHD do its work, then arm the timer for its next deadline. At its
 * connection limit MHD takes the listening socket out of its epoll set and
 * puts it back only in a later run, once connections have gone: a run that
 * closed some is followed by another at once, and while any is open the
 * loop comes back at least every HTTP_RERUN_USEC whatever MHD's deadline
 * (with none left, MHD arms none, and the endpoint froze for good). */
static void run(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	unsigned before = connections(h), after;
	uint64_t usec = UINT64_MAX;

	MHD_run(h->mhd);
	after = connections(h);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		usec = (uint64_t)ms * 1000u;
	if (after < before)
		usec = 0;
	else if (after && usec > HTTP_RERUN_USEC)
		usec = HTTP_RERUN_USEC;
	if (usec == UINT64_MAX) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	if (sd_event_source_set_time_relative(h->timer, usec) >= 0)
		sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	run(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	run(userdata);
	return 0;
}

/* Our own listening socket, so that a failure has its real errno. */
static int listen_on(const struct conf_addr *a)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	uint16_t port = htons(a->port ? a->port : HTTP_DEFAULT_PORT);
	int fd, one = 1, r;

	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, a->addr, 4);
		len = sizeof(*sin);
	} else if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		memcpy(&sin6->sin6_addr, a->addr, 16);
		len = sizeof(*sin6);
	} else {
		return -EAFNOSUPPORT;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int http_new(sd_event *ev, const struct conf_addr *addr, http_render_fn render, void *ctx,
	     struct http **out)
{
	const union MHD_DaemonInfo *info;
	struct http *h;
	int fd, r;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->render = render;
	h->ctx = ctx;
	fd = listen_on(addr);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	/* No MHD_USE_INTERNAL_POLLING_THREAD: we drive it. No MHD_USE_ERROR_LOG:
	 * a library that writes to stderr behind the daemon's back. */
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | (addr->family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, handle, h,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CLIENTS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CLIENTS / 2,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		r = -EIO;
		goto fail;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		r = -EIO;
		goto fail;
	}
	r = sd_event_add_io(ev, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
	if (r < 0)
		goto fail;
	r = sd_event_add_time_relative(ev, &h->timer, CLOCK_MONOTONIC, 0, 0, on_timer, h);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	*out = h;
	return 0;
fail:
	http_free(h);
	return r;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
}
