/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the control socket server: a real sd-event loop and real
 * Unix sockets in a temporary directory, with a fake command table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl.h"
#include "ctl.h"
#include "ctl_proto.h"

static struct ctl *g_ctl;

/* ---- the fake command table ---- */

static int cmd_status(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	*data = json_object_new_object();
	json_object_object_add(*data, "ok", json_object_new_int(1));
	return CTL_OK;
}

static int cmd_echo(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	*data = json_object_get(args);
	return CTL_OK;
}

static int cmd_fail(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	*errors = json_object_new_array();
	json_object_array_add(*errors, json_object_new_string("gtpud.conf:3: unknown key 'x'"));
	json_object_array_add(*errors, json_object_new_string("gtpud.conf:9: peer 'y' unknown"));
	return CTL_E_INVALID;
}

static int cmd_errno(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	return -ENOMEM;
}

/* A 256 KiB reply, to fill the buffers of a client that never reads. */
static int cmd_big(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	static char s[256 * 1024];

	memset(s, 'x', sizeof(s) - 1);
	*data = json_object_new_string(s);
	return CTL_OK;
}

/* Emits an event while a client's request is being handled. */
static int cmd_emit(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	ctl_event(g_ctl, CTL_EV_RELOAD, NULL);
	return CTL_OK;
}

static int cmd_tadd(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	return CTL_OK;
}

/* Who asks: the caller's credentials as ctl_caller gives them. */
static int cmd_whoami(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	uid_t uid;
	pid_t pid;

	if (!ctl_caller(g_ctl, &uid, &pid))
		return CTL_E_INTERNAL;
	*data = json_object_new_object();
	json_object_object_add(*data, "uid", json_object_new_int64(uid));
	json_object_object_add(*data, "pid", json_object_new_int64(pid));
	return CTL_OK;
}

static const struct ctl_cmd cmds[] = {
	{ "status", false, cmd_status, NULL, NULL },
	{ "echo", false, cmd_echo, NULL, NULL },
	{ "fail", false, cmd_fail, NULL, NULL },
	{ "errno", false, cmd_errno, NULL, NULL },
	{ "big", false, cmd_big, NULL, NULL },
	{ "emit", false, cmd_emit, NULL, NULL },
	{ "tunnel add", true, cmd_tadd, NULL, NULL },
	{ "whoami", false, cmd_whoami, NULL, NULL },
	{ NULL, false, NULL, NULL, NULL },
};

/* ---- harness ---- */

struct fx {
	char dir[64];
	char path[128];
	sd_event *ev;
	struct ctl *ctl;
};

static int start(struct fx *f, unsigned max_clients, unsigned idle, const char *group)
{
	struct ctl_opts o = { f->path, group, 0660, max_clients, idle };

	return ctl_new(f->ev, cmds, NULL, &o, -1, &f->ctl);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/run/control.sock", f->dir);
	assert_int_equal(sd_event_new(&f->ev), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char sub[160];

	ctl_free(f->ctl);
	g_ctl = NULL;
	sd_event_unref(f->ev);
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	unlink(f->path);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void pump(struct fx *f, int n)
{
	while (n-- > 0)
		assert_true(sd_event_run(f->ev, 1000) >= 0);
}

static int client(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A client connected as nobody (the credentials of the connect count). */
static int client_nobody(struct fx *f)
{
	int fd;
	char run[200];

	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(chmod(f->dir, 0755) | chmod(run, 0755) | chmod(f->path, 0666), 0);
	assert_int_equal(setegid(65534), 0);
	assert_int_equal(seteuid(65534), 0);
	fd = client(f);
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(setegid(0), 0);
	return fd;
}

/* Run the loop until one line arrives on fd; returns it (static buffer,
 * without '\n'), "" on EOF, NULL on timeout. */
static char *get_line(struct fx *f, int fd)
{
	static char buf[1 << 20];
	static size_t len;
	static int last_fd = -1;
	int i;

	if (fd != last_fd)
		len = 0;
	last_fd = fd;
	for (i = 0; i < 500; i++) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;

		if (nl) {
			static char line[1 << 20];
			size_t l = (size_t)(nl - buf);

			memcpy(line, buf, l);
			line[l] = '\0';
			memmove(buf, nl + 1, len - l - 1);
			len -= l + 1;
			return line;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return "";
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		pump(f, 1);
	}
	return NULL;
}

static char *xchg(struct fx *f, int fd, const char *req)
{
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	return get_line(f, fd);
}

static bool closed(struct fx *f, int fd)
{
	char *l = get_line(f, fd);

	return l && !*l;
}

#define REQ(cmd) "{\"version\":1,\"command\":\"" cmd "\"}\n"
#define OK_STATUS "{\"version\":1,\"result\":0,\"data\":{\"ok\":1}}"

/* ---- tests ---- */

static void test_commands(void **state)
{
	struct fx *f = *state;
	static const struct { const char *req, *reply; } rows[] = {
		{ REQ("status"), OK_STATUS },
		{ "{\"version\":1,\"command\":\"echo\",\"args\":[\"a\",\"b\"]}\n",
		  "{\"version\":1,\"result\":0,\"data\":[\"a\",\"b\"]}" },
		{ REQ("nope"), "{\"version\":1,\"result\":2,\"error\":\"unknown command 'nope'\",\"errors\":[]}" },
		{ REQ("fail"), "{\"version\":1,\"result\":7,\"error\":\"invalid configuration\",\"errors\":"
		  "[\"gtpud.conf:3: unknown key 'x'\",\"gtpud.conf:9: peer 'y' unknown\"]}" },
		{ REQ("errno"), "{\"version\":1,\"result\":9,\"error\":\"internal error\",\"errors\":"
		  "[\"Cannot allocate memory\"]}" },
		{ "{\"version\":1,\"command\":\"monitor\",\"args\":[\"x\"]}\n",
		  "{\"version\":1,\"result\":3,\"error\":\"usage: monitor [drops]\",\"errors\":[]}" },
		{ "junk\n", "{\"version\":1,\"result\":1,\"error\":\"malformed request: not valid JSON\",\"errors\":[]}" },
		{ "{\"version\":2,\"command\":\"status\"}\n",
		  "{\"version\":1,\"result\":1,\"error\":\"malformed request: unsupported protocol version\",\"errors\":[]}" },
		/* A blank line is ignored; the next request is answered. */
		{ "\n\r\n" REQ("status"), OK_STATUS },
		{ REQ("status"), OK_STATUS },
	};
	size_t i;
	int fd;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	fd = client(f);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *l = xchg(f, fd, rows[i].req);

		assert_non_null(l);
		if (strcmp(l, rows[i].reply))
			fail_msg("row %zu: %s", i, l);
	}
	/* Two requests in one write, answered in order. */
	assert_int_equal(send(fd, REQ("status") REQ("nope"), strlen(REQ("status") REQ("nope")), 0),
			 (ssize_t)strlen(REQ("status") REQ("nope")));
	assert_string_equal(get_line(f, fd), OK_STATUS);
	assert_string_equal(get_line(f, fd),
			    "{\"version\":1,\"result\":2,\"error\":\"unknown command 'nope'\",\"errors\":[]}");
	assert_int_equal(ctl_clients(f->ctl), 1);
	close(fd);
	pump(f, 3);
	assert_int_equal(ctl_clients(f->ctl), 0);
}

/* ctl_caller: the client of the command running, as SO_PEERCRED told it;
 * nobody outside a command. */
static void test_caller(void **state)
{
	struct fx *f = *state;
	char want[96];
	uid_t uid;
	pid_t pid;
	int fd;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	g_ctl = f->ctl;
	assert_false(ctl_caller(f->ctl, &uid, &pid));
	assert_false(ctl_caller(NULL, &uid, &pid));
	fd = client(f);
	snprintf(want, sizeof(want), "{\"version\":1,\"result\":0,\"data\":{\"uid\":%u,\"pid\":%d}}",
		 (unsigned)getuid(), (int)getpid());
	assert_string_equal(xchg(f, fd, REQ("whoami")), want);
	assert_false(ctl_caller(f->ctl, &uid, &pid));
	close(fd);
	pump(f, 3);
}

static void test_nul_junk(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "ab\0cd\n\0\0\0\n\x01\x02\xff\n";
	int fd, i;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	fd = client(f);
	assert_int_equal(send(fd, junk, sizeof(junk) - 1, 0), (ssize_t)sizeof(junk) - 1);
	assert_string_equal(get_line(f, fd), "{\"version\":1,\"result\":1,\"error\":"
			    "\"malformed request: request contains a NUL byte\",\"errors\":[]}");
	assert_string_equal(get_line(f, fd), "{\"version\":1,\"result\":1,\"error\":"
			    "\"malformed request: request contains a NUL byte\",\"errors\":[]}");
	assert_string_equal(get_line(f, fd), "{\"version\":1,\"result\":1,\"error\":"
			    "\"malformed request: not valid JSON\",\"errors\":[]}");
	/* Still usable. */
	for (i = 0; i < 3; i++)
		assert_string_equal(xchg(f, fd, REQ("status")), OK_STATUS);
	close(fd);
}

static long rss_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (fp)
		fclose(fp);
	return kib;
}

static void test_huge_line(void **state)
{
	struct fx *f = *state;
	size_t total = 1 << 20, sent = 0;
	char *big = malloc(total);
	long before, after;
	char *l;
	int fd, i;

	memset(big, 'a', total);
	assert_int_equal(start(f, 8, 0, NULL), 0);
	fd = geteuid() == 0 ? client_nobody(f) : client(f);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	pump(f, 2);
	before = rss_kib();
	/* Keep writing while the server reads, until it hangs up. */
	for (i = 0; i < 2000 && sent < total; i++) {
		ssize_t n = send(fd, big + sent, total - sent, MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		else if (errno != EAGAIN)
			break;
		pump(f, 1);
	}
	after = rss_kib();
	l = get_line(f, fd);
	assert_non_null(l);
	/* The reset may arrive before the reply is read: both mean "closed". */
	if (*l)
		assert_string_equal(l, "{\"version\":1,\"result\":8,\"error\":\"request longer than 65536 bytes\","
				    "\"errors\":[]}");
	assert_true(closed(f, fd));
	assert_int_equal(ctl_clients(f->ctl), 0);
	assert_true(sent < total);   /* it stopped reading long before 1 MiB */
	print_message("# RSS growth while a 1 MiB line was sent: %ld KiB; sent %zu bytes\n",
		      after - before, sent);
	assert_true(after - before < 1024);
	close(fd);
	free(big);
}

static void test_max_clients(void **state)
{
	struct fx *f = *state;
	int a, b, c;

	assert_int_equal(start(f, 2, 0, NULL), 0);
	a = client(f);
	b = client(f);
	pump(f, 3);
	assert_int_equal(ctl_clients(f->ctl), 2);
	c = client(f);
	assert_string_equal(get_line(f, c), "{\"version\":1,\"result\":8,\"error\":\"too many clients\",\"errors\":[]}");
	assert_true(closed(f, c));
	assert_int_equal(ctl_clients(f->ctl), 2);
	/* The first two still work; once one leaves there is room again. */
	assert_string_equal(xchg(f, a, REQ("status")), OK_STATUS);
	close(b);
	pump(f, 3);
	close(c);
	c = client(f);
	assert_string_equal(xchg(f, c, REQ("status")), OK_STATUS);
	assert_int_equal(ctl_clients(f->ctl), 2);
	close(a);
	close(c);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_never_reads(void **state)
{
	struct fx *f = *state;
	double t0, worst = 0;
	int fd, other, i;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	fd = client(f);
	other = client(f);
	pump(f, 2);
	assert_int_equal(ctl_clients(f->ctl), 2);
	/* 32 requests of 256 KiB replies = 8 MiB, never read. */
	for (i = 0; i < 32; i++)
		assert_int_equal(send(fd, REQ("big"), strlen(REQ("big")), MSG_NOSIGNAL), (ssize_t)strlen(REQ("big")));
	for (i = 0; i < 50 && ctl_clients(f->ctl) == 2; i++) {
		double t = now();

		pump(f, 1);
		if (now() - t > worst)
			worst = now() - t;
	}
	assert_int_equal(ctl_clients(f->ctl), 1);
	/* Meanwhile another client is served at once. */
	t0 = now();
	assert_string_equal(xchg(f, other, REQ("status")), OK_STATUS);
	print_message("# slowest loop iteration with a stalled client: %.1f ms\n", worst * 1e3);
	assert_true(worst < 0.5);
	assert_true(now() - t0 < 0.5);
	close(fd);
	close(other);
}

static void test_monitor(void **state)
{
	struct fx *f = *state;
	json_object *fields = json_object_new_object();
	int mon, plain, i;
	char *l;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	g_ctl = f->ctl;
	mon = client(f);
	plain = client(f);
	assert_string_equal(xchg(f, mon, REQ("monitor")), "{\"version\":1,\"result\":0,\"data\":null}");
	assert_string_equal(xchg(f, plain, REQ("status")), OK_STATUS);
	json_object_object_add(fields, "peer", json_object_new_string("upf"));
	ctl_event(f->ctl, CTL_EV_PEER_DOWN, fields);
	l = get_line(f, mon);
	assert_non_null(l);
	assert_non_null(strstr(l, "{\"event\":\"peer_down\",\"time\":"));
	assert_non_null(strstr(l, ",\"peer\":\"upf\"}"));
	/* A monitor client may still send commands; an event raised by its own
	 * command arrives before the reply. */
	assert_non_null(strstr(xchg(f, mon, REQ("emit")), "{\"event\":\"reload\",\"time\":"));
	assert_string_equal(get_line(f, mon), "{\"version\":1,\"result\":0,\"data\":null}");
	/* Non-monitor clients see no events. */
	assert_string_equal(xchg(f, plain, REQ("status")), OK_STATUS);
	/* "monitor drops" gets the drops topic only, and events none of it. */
	{
		int drops = client(f);
		json_object *d = json_object_new_object();

		assert_string_equal(xchg(f, drops, "{\"version\":1,\"command\":\"monitor\",\"args\":[\"drops\"]}\n"),
				    "{\"version\":1,\"result\":0,\"data\":null}");
		assert_int_equal(ctl_monitors(f->ctl, CTL_MON_DROPS), 1);
		assert_int_equal(ctl_monitors(f->ctl, CTL_MON_EVENTS), 1);
		json_object_object_add(d, "reason", json_object_new_string("rate_limit"));
		json_object_object_add(d, "peer", NULL);     /* a null is left out */
		ctl_event_topic(f->ctl, CTL_MON_DROPS, CTL_EV_DROP, 1700000000, d);
		assert_string_equal(get_line(f, drops), "{\"event\":\"drop\",\"time\":1700000000,\"reason\":\"rate_limit\"}");
		ctl_event(f->ctl, CTL_EV_PEER_UP, json_object_new_object());
		l = get_line(f, mon);
		assert_non_null(strstr(l, "{\"event\":\"peer_up\""));   /* not the drop */
		assert_string_equal(xchg(f, drops, REQ("status")), OK_STATUS);   /* no peer_up before it */
		close(drops);
		pump(f, 3);
	}
	/* No monitor: ctl_event just releases the fields. */
	close(mon);
	pump(f, 3);
	ctl_event(f->ctl, CTL_EV_PEER_UP, json_object_new_object());
	/* A monitor that never reads is dropped when its buffer is full. */
	mon = client(f);
	assert_string_equal(xchg(f, mon, REQ("monitor")), "{\"version\":1,\"result\":0,\"data\":null}");
	for (i = 0; i < 20000 && ctl_clients(f->ctl) == 2; i++) {
		json_object *o = json_object_new_object();
		char pad[1024];

		memset(pad, 'p', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		json_object_object_add(o, "pad", json_object_new_string(pad));
		ctl_event(f->ctl, CTL_EV_ERROR_INDICATION, o);
	}
	assert_int_equal(ctl_clients(f->ctl), 1);
	print_message("# monitor that never reads dropped after %d events of 1 KiB\n", i);
	assert_true(i >= (int)(CTL_MAX_OUTPUT / 1100) && i < 20000);
	close(mon);
	close(plain);
}

static void test_idle_timeout(void **state)
{
	struct fx *f = *state;
	int idle, mon, i;

	assert_int_equal(start(f, 8, 1, NULL), 0);
	idle = client(f);
	mon = client(f);
	assert_string_equal(xchg(f, mon, REQ("monitor")), "{\"version\":1,\"result\":0,\"data\":null}");
	assert_string_equal(xchg(f, idle, REQ("status")), OK_STATUS);
	for (i = 0; i < 40 && ctl_clients(f->ctl) == 2; i++) {
		usleep(50000);
		pump(f, 2);
	}
	assert_true(closed(f, idle));
	/* Monitor clients wait for events, however long. */
	assert_int_equal(ctl_clients(f->ctl), 1);
	close(idle);
	close(mon);
}

static void test_eof_without_newline(void **state)
{
	struct fx *f = *state;
	int fd;

	assert_int_equal(start(f, 8, 0, NULL), 0);
	fd = client(f);
	assert_int_equal(send(fd, "{\"version\":1,\"command\":\"status\"}", 32, 0), 32);
	shutdown(fd, SHUT_WR);
	assert_string_equal(get_line(f, fd), OK_STATUS);
	assert_true(closed(f, fd));
	close(fd);
}

static void test_socket_file(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl *other = NULL;
	struct stat st;
	char sub[160];
	int fd;

	/* A stale socket (nobody listening) is replaced. */
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	strcpy(sa.sun_path, f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(start(f, 8, 0, NULL), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	fd = client(f);
	assert_string_equal(xchg(f, fd, REQ("status")), OK_STATUS);
	close(fd);
	/* A live one is not stolen. */
	{
		struct ctl_opts o = { f->path, NULL, 0600, 0, 0 };

		assert_int_equal(ctl_new(f->ev, cmds, NULL, &o, -1, &other), -EADDRINUSE);
		assert_null(other);
	}
	/* Freeing removes the path. */
	ctl_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	/* A file that is not a socket is never removed. */
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(start(f, 8, 0, NULL), -EEXIST);
	unlink(f->path);
	/* An unknown group is an error. */
	assert_int_equal(start(f, 8, 0, "no-such-group-gtpud-test"), -ENOENT);
	assert_int_equal(stat(f->path, &st), -1);
}

static void test_inherited_fd(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_opts o = { "/nonexistent/ignored.sock", NULL, 0600, 0, 0 };
	char sub[160];
	int lfd, fd;

	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	mkdir(sub, 0700);
	strcpy(sa.sun_path, f->path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(ctl_new(f->ev, cmds, NULL, &o, lfd, &f->ctl), 0);
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	fd = client(f);
	assert_string_equal(xchg(f, fd, REQ("status")), OK_STATUS);
	close(fd);
	ctl_free(f->ctl);
	f->ctl = NULL;
	/* systemd owns the path of an inherited socket: still there. */
	assert_int_equal(access(f->path, F_OK), 0);
}

static void test_privileged_rule(void **state)
{
	static const gid_t sup[] = { 100, 27, 999 };
	static const struct {
		uid_t uid;
		gid_t gid;
		bool has_group;
		gid_t group;
		int n;
		bool ok;
	} rows[] = {
		{ 0, 0, false, 0, 0, true },          /* root, no group configured */
		{ 0, 1234, true, 999, 0, true },      /* root, whatever its groups */
		{ 1000, 1000, false, 0, 3, false },   /* no control group: root only */
		{ 1000, 999, true, 999, 0, true },    /* primary group */
		{ 1000, 1000, true, 999, 3, true },   /* supplementary group */
		{ 1000, 1000, true, 999, 2, false },  /* not among the first two */
		{ 1000, 1000, true, 555, 3, false },
		{ 65534, 65534, true, 999, 0, false },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ctl_privileged(rows[i].uid, rows[i].gid, rows[i].has_group, rows[i].group, sup, rows[i].n) !=
		    rows[i].ok)
			fail_msg("row %zu", i);
}

/* In a child with the given credentials, send "tunnel add" and exit with
 * the reply's result code (100 + errno-ish on failures). */
static int run_as(struct fx *f, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	pid_t pid = fork();
	int status = -1, i;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctl_reply rep;
		const char *why;
		char buf[4096];
		ssize_t n, len = 0;
		int fd;

		if (setgroups(ngroups, groups) || setgid(gid) || setuid(uid))
			_exit(100);
		fd = client(f);
		if (send(fd, "{\"version\":1,\"command\":\"tunnel add\",\"args\":[]}\n", 47, 0) != 47)
			_exit(101);
		while ((n = recv(fd, buf + len, sizeof(buf) - (size_t)len, 0)) > 0) {
			len += n;
			if (memchr(buf, '\n', (size_t)len))
				break;
		}
		if (len <= 0 || ctl_reply_parse(buf, (size_t)len - 1, &rep, &why))
			_exit(102);
		_exit(rep.result);
	}
	for (i = 0; i < 500; i++) {
		pump(f, 1);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_privilege(void **state)
{
	struct fx *f = *state;
	static const gid_t none[1] = { 0 };
	struct group *gr;
	gid_t grp;
	int fd;

	if (geteuid() != 0) {
		print_message("# not root: the privilege rule is tested as a pure function only\n");
		skip();
	}
	/* Not nogroup: nobody's primary group in the user database. */
	gr = getgrnam("adm");
	if (!gr)
		skip();
	grp = gr->gr_gid;
	assert_int_equal(start(f, 8, 0, "adm"), 0);
	/* Let the unprivileged children reach the socket. */
	chmod(f->dir, 0755);
	{
		char sub[160];

		snprintf(sub, sizeof(sub), "%s/run", f->dir);
		chmod(sub, 0755);
	}
	chmod(f->path, 0666);
	fd = client(f);
	assert_string_equal(xchg(f, fd, "{\"version\":1,\"command\":\"tunnel add\",\"args\":[]}\n"),
			    "{\"version\":1,\"result\":0,\"data\":null}");
	close(fd);
	/* Neither root nor the group. */
	assert_int_equal(run_as(f, 65534, 4242, none, 0), CTL_E_PERM);
	/* The group as primary group. */
	assert_int_equal(run_as(f, 65534, grp, none, 0), CTL_OK);
	/* The group as a supplementary group of the process. */
	assert_int_equal(run_as(f, 65534, 4242, &grp, 1), CTL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_junk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inherited_fd, setup, teardown),
		cmocka_unit_test(test_privileged_rule),
		cmocka_unit_test_setup_teardown(test_privilege, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
