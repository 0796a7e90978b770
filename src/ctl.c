/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket server on sd-event: accepts clients, reads request
 * lines, dispatches them to the command table it was given, queues replies
 * and monitor events in bounded per-client buffers. Every socket is non-blocking; no client can
 * stall the loop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "util.h"

#define DEFAULT_MAX_CLIENTS 64
#define READ_CHUNK 16384
/* A request line with its "\r\n". */
/* A request line and its newline: bigger for a batch from a client that
 * may change things. */
#define IN_MAX (CTL_MAX_REQUEST + 2)
#define IN_MAX_BATCH (CTL_MAX_BATCH_REQUEST + 2)
#define ACCEPT_RETRY_USEC 100000  /* after EMFILE and friends */
#define MAX_PEER_GROUPS 1024

struct client {
	LIST_ENTRY(client) link;
	struct ctl *ctl;
	int fd;
	sd_event_source *io;
	sd_event_source *idle;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int n_groups;             /* from SO_PEERGROUPS; -1 when unavailable */
	gid_t *groups;
	char *in;
	size_t in_len, in_cap;
	size_t in_scan;           /* in[0..in_scan) holds no newline */
	char *out;
	size_t out_off, out_len, out_cap;
	unsigned monitor;         /* CTL_MON_* it streams, 0: not a monitor */
	bool read_closed;         /* EOF seen or reading stopped */
	bool close_after_flush;
	bool dead;                /* free at the next safe point */
	bool busy;                /* in its own callback: ctl_event must not free it */
	/* A streamed reply in progress: its command, arguments and cursor.
	 * No other request of the client is handled until it ends. */
	const struct ctl_cmd *stream;
	json_object *stream_args;
	uint64_t cursor;
};

struct ctl {
	sd_event *ev;
	const struct ctl_cmd *cmds;
	void *ctx;                /* of the commands */
	int fd;
	sd_event_source *accept_src;
	sd_event_source *retry_src;
	char *path;               /* owned; NULL when inherited (never unlinked) */
	bool has_group;
	gid_t group;
	uid_t euid;               /* gtpud's own user */
	struct ctl_group_memo {
		uid_t uid;
		bool ok;
		uint64_t until;   /* mono_ns; 0: empty */
	} memo[CTL_GROUP_CACHE];
	unsigned max_clients;
	uint64_t idle_usec;
	unsigned n_clients;
	LIST_HEAD(, client) clients;
	const struct client *caller;   /* whose request runs now, or NULL */
};

bool ctl_privileged(uid_t uid, gid_t gid, bool has_group, gid_t group,
		    const gid_t *groups, int ngroups)
{
	int i;

	if (uid == 0)
		return true;
	if (!has_group)
		return false;
	if (gid == group)
		return true;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == group)
			return true;
	return false;
}

/* Supplementary groups of the peer's user from the user database, looked
 * up at the time of the request (nothing cached: membership may change). */
static bool user_in_group(uid_t uid, gid_t group)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t *groups = NULL;
	int n = 64, tries;
	bool ok = false;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	for (tries = 0; tries < 2; tries++) {
		gid_t *g = realloc(groups, (size_t)n * sizeof(*g));

		if (!g)
			goto out;
		groups = g;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) >= 0) {
			ok = ctl_privileged(uid, pw.pw_gid, true, group, groups, n);
			goto out;
		}
		if (n > MAX_PEER_GROUPS * 64)
			goto out;
	}
out:
	free(groups);
	return ok;
}

/* From what the kernel says of the peer process alone (no lookup). */
static bool creds_privileged(const struct ctl *c, const struct client *cl)
{
	/* gtpud's own user (systemctl reload runs gtpuctl as it) may, too. */
	return cl->uid == c->euid ||
	       ctl_privileged(cl->uid, cl->gid, c->has_group, c->group,
			      cl->groups, cl->n_groups > 0 ? cl->n_groups : 0);
}

/* The longest request line a client may send. */
static size_t in_max(const struct ctl *c, const struct client *cl)
{
	return creds_privileged(c, cl) ? IN_MAX_BATCH : IN_MAX;
}

/* What the user database said of a uid, kept CTL_GROUP_CACHE_SECS: a lookup
 * (LDAP, sssd) blocks the loop, so it happens at most once a uid in that
 * time, for at most CTL_GROUP_CACHE uids (the oldest answer goes first). */
static bool user_in_group_cached(struct ctl *c, uid_t uid)
{
	uint64_t now = mono_ns();
	struct ctl_group_memo *m, *old = &c->memo[0];

	for (m = c->memo; m < c->memo + CTL_GROUP_CACHE; m++) {
		if (m->until > now && m->uid == uid)
			return m->ok;
		if (m->until < old->until)
			old = m;
	}
	old->uid = uid;
	old->ok = user_in_group(uid, c->group);
	old->until = mono_ns() + CTL_GROUP_CACHE_SECS * 1000000000ull;
	return old->ok;
}

static bool may_mutate(struct ctl *c, const struct client *cl)
{
	return creds_privileged(c, cl) ||
	       (c->has_group && cl->uid != 0 && user_in_group_cached(c, cl->uid));
}

static void client_free(struct client *cl)
{
	struct ctl *c = cl->ctl;

	LIST_REMOVE(cl, link);
	c->n_clients--;
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->idle);
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->groups);
	free(cl->in);
	free(cl->out);
	json_object_put(cl->stream_args);
	free(cl);
}

static void touch(struct client *cl)
{
	if (!cl->idle || cl->monitor)
		return;
	if (sd_event_source_set_time_relative(cl->idle, cl->ctl->idle_usec) >= 0)
		sd_event_source_set_enabled(cl->idle, SD_EVENT_ONESHOT);
}

static void flush(struct client *cl)
{
	while (!cl->dead && cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = true;
			break;
		}
		cl->out_off += (size_t)n;
		touch(cl);
	}
	if (cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
}

/* Queue a line. Up to CTL_MAX_OUTPUT may wait; one reply larger than that
 * is still accepted into an empty buffer (a big "tunnels"), but a client
 * that lets anything pile up behind it is dropped. */
static void queue(struct client *cl, const char *line, size_t len)
{
	size_t pending = cl->out_len - cl->out_off;

	if (cl->dead)
		return;
	if (pending && pending + len > CTL_MAX_OUTPUT) {
		cl->dead = true;
		return;
	}
	if (cl->out_off) {
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_off = 0;
		cl->out_len = pending;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_len + len;
		char *p = realloc(cl->out, cap);

		if (!p) {
			cl->dead = true;
			return;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, len);
	cl->out_len += len;
}

static void queue_reply(struct client *cl, int result, json_object *data, const char *error,
			json_object *errors)
{
	char *line = ctl_reply_build(result, data, error, errors);

	if (!line)
		line = ctl_reply_build(CTL_E_INTERNAL, NULL, "out of memory", NULL);
	if (!line) {
		cl->dead = true;
		return;
	}
	queue(cl, line, strlen(line));
	free(line);
}

static void reply_error(struct client *cl, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct client *cl, int result, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	queue_reply(cl, result, NULL, msg, NULL);
}

static void stream_start(struct ctl *c, struct client *cl, const struct ctl_cmd *cmd, json_object *args);

static void run_command(struct ctl *c, struct client *cl, const struct ctl_request *req)
{
	const struct ctl_cmd *cmd;
	json_object *data = NULL, *errors = NULL;
	int r;

	/* monitor is the transport's own business: it changes the connection. */
	if (!strcmp(req->command, "monitor")) {
		json_object *a = json_object_array_get_idx(req->args, 0);
		size_t n = json_object_array_length(req->args);

		/* "monitor": events; "monitor drops": recent drops, apart (a
		 * flood of them would drown the events). */
		if (n > 1 || (n == 1 && strcmp(json_object_get_string(a), "drops"))) {
			reply_error(cl, CTL_E_USAGE, "usage: monitor [drops]");
			return;
		}
		cl->monitor = n ? CTL_MON_DROPS : CTL_MON_EVENTS;
		sd_event_source_set_enabled(cl->idle, SD_EVENT_OFF);
		queue_reply(cl, CTL_OK, NULL, NULL, NULL);
		return;
	}
	for (cmd = c->cmds; cmd->name && strcmp(cmd->name, req->command); cmd++)
		;
	if (!cmd->name)
		cmd = NULL;
	if (!cmd) {
		reply_error(cl, CTL_E_UNKNOWN_CMD, "unknown command '%s'", req->command);
		return;
	}
	if (cmd->mutating && !may_mutate(c, cl)) {
		reply_error(cl, CTL_E_PERM, "permission denied: '%s' needs root or the control group",
			    cmd->name);
		return;
	}
	if (req->batch && (!cmd->batch || json_object_array_length(req->args))) {
		reply_error(cl, CTL_E_USAGE, "'%s' takes no batch%s", cmd->name,
			    cmd->batch ? " with arguments" : "");
		return;
	}
	if (cmd->stream && !req->batch) {
		stream_start(c, cl, cmd, req->args);
		return;
	}
	r = req->batch ? cmd->batch(c->ctx, req->batch, &data, &errors) :
			 cmd->fn(c->ctx, req->args, &data, &errors);
	if (r < 0 || r > CTL_RESULT_MAX) {
		/* A command that returned -errno or garbage: still answer. */
		json_object_put(data);
		data = NULL;
		if (!errors)
			errors = json_object_new_array();
		if (errors && r < 0)
			json_object_array_add(errors, json_object_new_string(strerror(-r)));
		r = CTL_E_INTERNAL;
	}
	queue_reply(cl, r, data, NULL, errors);
}

/* The elements of chunk (a JSON array) appended to the client's output,
 * each after a comma but the very first of the reply. */
static void queue_elements(struct client *cl, json_object *chunk, bool first)
{
	size_t n = json_object_array_length(chunk);

	for (size_t i = 0; i < n && !cl->dead; i++) {
		size_t len;
		const char *t = json_object_to_json_string_length(json_object_array_get_idx(chunk, i),
								   JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE, &len);

		if (!first || i)
			queue(cl, ",", 1);
		queue(cl, t, len);
	}
}

/* More of a streamed reply while little waits for the client: a client
 * that does not read holds one piece, and costs nothing more. */
static void stream_more(struct ctl *c, struct client *cl)
{
	while (cl->stream && !cl->dead && cl->out_len - cl->out_off < CTL_STREAM_LOW) {
		json_object *chunk = json_object_new_array(), *errors = NULL;
		int r;

		if (!chunk) {
			cl->dead = true;
			break;
		}
		if (cl->cursor != CTL_STREAM_END) {
			r = cl->stream->stream(c->ctx, cl->stream_args, &cl->cursor, chunk, &errors);
			json_object_put(errors);
			if (r != CTL_OK)
				cl->cursor = CTL_STREAM_END;   /* what was sent stands */
			queue_elements(cl, chunk, false);
		}
		json_object_put(chunk);
		if (cl->cursor == CTL_STREAM_END) {
			queue(cl, "]}\n", 3);
			cl->stream = NULL;
			json_object_put(cl->stream_args);
			cl->stream_args = NULL;
		}
	}
}

/* The first piece of a streamed reply: an error as any reply, else the
 * head of {"version":1,"result":0,"data":[...]} and what follows as the
 * client reads. */
static void stream_start(struct ctl *c, struct client *cl, const struct ctl_cmd *cmd, json_object *args)
{
	json_object *chunk = json_object_new_array(), *errors = NULL;
	char head[64];
	int r;

	cl->cursor = 0;
	r = chunk ? cmd->stream(c->ctx, args, &cl->cursor, chunk, &errors) : CTL_E_INTERNAL;
	if (r != CTL_OK) {
		json_object_put(chunk);
		queue_reply(cl, r, NULL, NULL, errors);
		return;
	}
	snprintf(head, sizeof(head), "{\"version\":%d,\"result\":0,\"data\":[", CTL_PROTO_VERSION);
	queue(cl, head, strlen(head));
	queue_elements(cl, chunk, true);
	json_object_put(chunk);
	cl->stream = cmd;
	cl->stream_args = json_object_get(args);
	stream_more(c, cl);
}

static void handle_line(struct ctl *c, struct client *cl, const char *line, size_t len)
{
	struct ctl_request req;
	const char *why = NULL;

	/* Blank lines are what a person hitting Enter in socat sends. */
	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;
	if (ctl_request_parse(line, len, &req, &why) < 0) {
		reply_error(cl, CTL_E_PROTO, "malformed request: %s", why);
		return;
	}
	c->caller = cl;
	run_command(c, cl, &req);
	c->caller = NULL;
	ctl_request_fini(&req);
}

bool ctl_caller(const struct ctl *c, uid_t *uid, pid_t *pid)
{
	if (!c || !c->caller)
		return false;
	*uid = c->caller->uid;
	*pid = c->caller->pid;
	return true;
}

/* Handle every complete line in the input buffer; keep the rest. */
static void handle_input(struct ctl *c, struct client *cl, bool eof)
{
	size_t start = 0, max = in_max(c, cl);
	bool stopped = false;
	char *nl;

	/* A long request arrives in many reads: the newline is looked for in
	 * what is new only. A streamed reply holds the next requests back. */
	for (;;) {
		if (cl->dead || cl->close_after_flush || cl->stream) {
			stopped = true;
			break;
		}
		if (!(nl = memchr(cl->in + cl->in_scan, '\n', cl->in_len - cl->in_scan)))
			break;
		handle_line(c, cl, cl->in + start, (size_t)(nl - (cl->in + start)));
		start = (size_t)(nl - cl->in) + 1;
		cl->in_scan = start;
	}
	/* What is left has no newline, unless the loop stopped before looking. */
	cl->in_scan = stopped ? 0 : cl->in_len - start;
	if (eof && !stopped && start < cl->in_len) {
		/* The last line of "printf ... | socat" may lack its newline. */
		handle_line(c, cl, cl->in + start, cl->in_len - start);
		start = cl->in_len;
		cl->in_scan = 0;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len >= max) {
		char msg[80];

		snprintf(msg, sizeof(msg), "request longer than %zu bytes", max - 2);
		queue_reply(cl, CTL_E_LIMIT, NULL, msg, NULL);
		cl->close_after_flush = true;
		cl->read_closed = true;
		cl->in_len = cl->in_scan = 0;
	}
	/* Give back the memory of a big request once it is handled. */
	if (cl->in_len == 0 && cl->in_cap > READ_CHUNK) {
		free(cl->in);
		cl->in = NULL;
		cl->in_cap = 0;
	}
}

static void read_input(struct ctl *c, struct client *cl)
{
	int rounds;

	/* Bounded per wake-up so that one busy client cannot starve others. */
	for (rounds = 0; rounds < 4 && !cl->read_closed && !cl->dead; rounds++) {
		size_t max = in_max(c, cl), want = max - cl->in_len;
		ssize_t n;

		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if (cl->in_len + want > cl->in_cap) {
			size_t cap = cl->in_cap ? cl->in_cap * 2 : 4096;
			char *p;

			while (cap < cl->in_len + want)
				cap *= 2;
			if (cap > max)
				cap = max;
			p = realloc(cl->in, cap);
			if (!p) {
				cl->dead = true;
				return;
			}
			cl->in = p;
			cl->in_cap = cap;
		}
		n = recv(cl->fd, cl->in + cl->in_len, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = true;
			return;
		}
		if (n == 0) {
			cl->read_closed = true;
			handle_input(c, cl, true);
			return;
		}
		cl->in_len += (size_t)n;
		touch(cl);
		handle_input(c, cl, false);
	}
}

/* Decide what the client waits for next, or free it. Returns false when freed. */
static bool client_update(struct client *cl)
{
	bool pending = cl->out_off < cl->out_len;
	uint32_t events = 0;

	if (cl->dead || (!pending && !cl->stream && (cl->close_after_flush || (cl->read_closed && !cl->monitor)))) {
		client_free(cl);
		return false;
	}
	if (!cl->read_closed && !cl->stream)
		events |= EPOLLIN;
	if (pending || cl->stream)
		events |= EPOLLOUT;
	if (sd_event_source_set_io_events(cl->io, events) < 0) {
		client_free(cl);
		return false;
	}
	return true;
}

static int client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;

	/* A command may emit an event (tunnel add) that reaches this very client. */
	cl->busy = true;
	if (revents & EPOLLIN)
		read_input(cl->ctl, cl);
	flush(cl);
	if (cl->stream) {
		stream_more(cl->ctl, cl);
		flush(cl);
		/* Ended: the requests that came meanwhile, in order. */
		if (!cl->stream && cl->in_len)
			handle_input(cl->ctl, cl, cl->read_closed);
	}
	cl->busy = false;
	flush(cl);
	/* HUP: the peer can read no more; ERR: the socket is broken. */
	if (revents & (EPOLLHUP | EPOLLERR))
		cl->dead = true;
	client_update(cl);
	return 0;
}

static int client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

static void get_peer_groups(struct client *cl)
{
	socklen_t len = MAX_PEER_GROUPS * sizeof(gid_t);

	cl->n_groups = -1;
	cl->groups = malloc(len);
	if (!cl->groups)
		return;
	/* The process's own supplementary groups, as the kernel sees them. */
	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0) {
		gid_t *g = realloc(cl->groups, len ? len : sizeof(gid_t));

		/* Keep only what is used: 200 idle clients should cost little. */
		if (g)
			cl->groups = g;
		cl->n_groups = (int)(len / sizeof(gid_t));
		return;
	}
	free(cl->groups);
	cl->groups = NULL;
}

static void refuse(int fd, int result, const char *msg)
{
	char *line = ctl_reply_build(result, NULL, msg, NULL);

	if (line) {
		/* Best effort: the reply is small and the socket buffer empty. */
		if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* nothing more to do for a client we are turning away */
		}
		free(line);
	}
	close(fd);
}

static int accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ctl *c = userdata;

	c->retry_src = sd_event_source_disable_unref(c->retry_src);
	sd_event_source_set_enabled(c->accept_src, SD_EVENT_ON);
	return 0;
}

static void accept_pause(struct ctl *c)
{
	/* Out of fds or memory: stop accepting for a moment instead of
	 * spinning on a level-triggered listening socket. */
	if (c->retry_src)
		return;
	if (sd_event_add_time_relative(c->ev, &c->retry_src, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
				       accept_retry, c) >= 0)
		sd_event_source_set_enabled(c->accept_src, SD_EVENT_OFF);
}

static int client_new(struct ctl *c, int fd)
{
	struct client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return -ENOMEM;
	}
	cl->ctl = c;
	cl->fd = fd;
	cl->uid = cred.uid;
	cl->gid = cred.gid;
	cl->pid = cred.pid;
	LIST_INSERT_HEAD(&c->clients, cl, link);
	c->n_clients++;
	get_peer_groups(cl);
	/* The last slot is kept for a client that may change things: readers
	 * (monitors that never leave, with a socket mode that lets anyone in)
	 * cannot lock root out. Judged on the peer's credentials only: no user
	 * database lookup (it may block) for each connection. */
	if (c->max_clients > 1 && c->n_clients == c->max_clients && !creds_privileged(c, cl)) {
		cl->fd = -1;
		client_free(cl);
		refuse(fd, CTL_E_LIMIT, "too many clients");
		return -EUSERS;
	}
	r = sd_event_add_io(c->ev, &cl->io, fd, EPOLLIN, client_io, cl);
	if (r < 0)
		goto fail;
	if (c->idle_usec) {
		r = sd_event_add_time_relative(c->ev, &cl->idle, CLOCK_MONOTONIC, c->idle_usec, 0,
					       client_idle, cl);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	client_free(cl);
	return r;
}

static int on_accept(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
	struct ctl *c = userdata;
	int i;

	for (i = 0; i < 16; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(c);
			/* EAGAIN, or a connection that died before we took it. */
			return 0;
		}
		if (c->n_clients >= c->max_clients) {
			refuse(fd, CTL_E_LIMIT, "too many clients");
			continue;
		}
		client_new(c, fd);
	}
	return 0;
}

/* mkdir -p of the socket's directory, 0755 for what we create. */
static int make_parent(const char *path)
{
	char *dir = strdup(path), *p;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		goto out;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		*p = save;
		if (!save)
			break;
	}
out:
	free(dir);
	return r;
}

/* Remove a socket left by a dead daemon, but never a live one or a file
 * that is not a socket. */
static int remove_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int resolve_group(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int r;

	r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (r)
		return -r;
	if (!res)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

static int open_socket(struct ctl *c, const struct ctl_opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, r;

	if (!o->path || !*o->path)
		return -EINVAL;
	if (strlen(o->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, o->path);
	r = make_parent(o->path);
	if (r < 0)
		return r;
	r = remove_stale(o->path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	c->path = strdup(o->path);
	if (!c->path) {
		r = -ENOMEM;
		goto fail_unlink;
	}
	/* Permissions are set before listen(): nobody can connect earlier. */
	if (chmod(o->path, o->mode) < 0 ||
	    (c->has_group && chown(o->path, (uid_t)-1, c->group) < 0) ||
	    listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		goto fail_unlink;
	}
	c->fd = fd;
	return 0;
fail_unlink:
	unlink(o->path);
fail:
	close(fd);
	return r;
}

int ctl_new(sd_event *ev, const struct ctl_cmd *cmds, void *ctx, const struct ctl_opts *o, int inherited_fd,
	    struct ctl **out)
{
	struct ctl *c;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ev = sd_event_ref(ev);
	c->euid = geteuid();
	c->cmds = cmds;
	c->ctx = ctx;
	c->fd = -1;
	c->max_clients = o->max_clients ? o->max_clients : DEFAULT_MAX_CLIENTS;
	c->idle_usec = (uint64_t)o->idle_timeout * 1000000u;
	LIST_INIT(&c->clients);
	if (o->group) {
		r = resolve_group(o->group, &c->group);
		if (r < 0)
			goto fail;
		c->has_group = true;
	}
	if (inherited_fd >= 0) {
		int fl = fcntl(inherited_fd, F_GETFL);

		c->fd = inherited_fd;
		if (fl < 0 || fcntl(inherited_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(inherited_fd, F_SETFD, FD_CLOEXEC) < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		r = open_socket(c, o);
		if (r < 0)
			goto fail;
	}
	r = sd_event_add_io(ev, &c->accept_src, c->fd, EPOLLIN, on_accept, c);
	if (r < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	ctl_free(c);
	return r;
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	while (!LIST_EMPTY(&c->clients))
		client_free(LIST_FIRST(&c->clients));
	sd_event_source_disable_unref(c->accept_src);
	sd_event_source_disable_unref(c->retry_src);
	if (c->fd >= 0)
		close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	sd_event_unref(c->ev);
	free(c);
}

unsigned ctl_monitors(const struct ctl *c, unsigned topic)
{
	const struct client *cl;
	unsigned n = 0;

	LIST_FOREACH(cl, &c->clients, link)
		n += (cl->monitor & topic) != 0;
	return n;
}

void ctl_event(struct ctl *c, const char *event, json_object *fields)
{
	ctl_event_topic(c, CTL_MON_EVENTS, event, time(NULL), fields);
}

void ctl_event_topic(struct ctl *c, unsigned topic, const char *event, time_t t, json_object *fields)
{
	struct client *cl, *next;
	char *line;
	size_t len;

	if (!ctl_monitors(c, topic)) {
		json_object_put(fields);
		return;
	}
	line = ctl_event_build(event, t, fields);
	if (!line)
		return;
	len = strlen(line);
	for (cl = LIST_FIRST(&c->clients); cl; cl = next) {
		next = LIST_NEXT(cl, link);
		if (!(cl->monitor & topic))
			continue;
		queue(cl, line, len);
		if (cl->busy)
			continue;
		flush(cl);
		client_update(cl);
	}
	free(line);
}

unsigned ctl_clients(const struct ctl *c)
{
	return c->n_clients;
}
