/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd glue: socket activation, sd_notify state changes and the watchdog.
 * Outside systemd every function does nothing. Library code: never logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "sd.h"
#include "util.h"

/* STOPPING=1 is sent once, and not after a fatal error: the STATUS= that
 * says why gtpud failed must stay what systemctl status shows. */
static bool stop_sent;

static bool notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s && *s;
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static bool is_gtpu_socket(int fd)
{
	return sd_is_socket(fd, AF_INET, SOCK_DGRAM, -1) > 0 ||
	       sd_is_socket(fd, AF_INET6, SOCK_DGRAM, -1) > 0;
}

/* Sort one passed fd into its slot, or explain in err why it does not fit. */
static int take_fd(int fd, const char *name, int *gtpu_fds, unsigned max, unsigned *n_gtpu,
		   int *control_fd, int *pfcp_fds, unsigned *n_pfcp, char *err, size_t errlen)
{
	int r;

	if (strcmp(name, SYSD_FDNAME_PFCP) == 0) {
		if (!is_gtpu_socket(fd)) {
			snprintf(err, errlen, "socket %d passed by systemd as \"%s\" is not an "
				 "IPv4 or IPv6 datagram socket (use ListenDatagram=)", fd, name);
			return -EINVAL;
		}
		if (*n_pfcp >= max) {
			snprintf(err, errlen, "systemd passed more than %u sockets named \"%s\"",
				 max, name);
			return -E2BIG;
		}
		pfcp_fds[(*n_pfcp)++] = fd;
	} else if (strcmp(name, SYSD_FDNAME_GTPU) == 0) {
		if (!is_gtpu_socket(fd)) {
			snprintf(err, errlen, "socket %d passed by systemd as \"%s\" is not an "
				 "IPv4 or IPv6 datagram socket (use ListenDatagram=)", fd, name);
			return -EINVAL;
		}
		if (*n_gtpu >= max) {
			snprintf(err, errlen, "systemd passed more than %u sockets named \"%s\"",
				 max, name);
			return -E2BIG;
		}
		gtpu_fds[(*n_gtpu)++] = fd;
	} else if (strcmp(name, SYSD_FDNAME_CONTROL) == 0) {
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(err, errlen, "socket %d passed by systemd as \"%s\" is not a "
				 "listening Unix stream socket (use ListenStream=/path)", fd, name);
			return -EINVAL;
		}
		if (*control_fd >= 0) {
			snprintf(err, errlen, "systemd passed more than one socket named \"%s\"",
				 name);
			return -E2BIG;
		}
		*control_fd = fd;
	} else {
		snprintf(err, errlen, "systemd passed socket %d named \"%s\"; expected "
			 "FileDescriptorName=%s, %s or %s", fd, name,
			 SYSD_FDNAME_GTPU, SYSD_FDNAME_CONTROL, SYSD_FDNAME_PFCP);
		return -EINVAL;
	}
	r = set_flags(fd);
	if (r < 0)
		snprintf(err, errlen, "cannot set flags on socket %d passed by systemd: %s",
			 fd, strerror(-r));
	return r;
}

int sysd_listen_fds(int *gtpu_fds, unsigned max, unsigned *n_gtpu, int *control_fd,
		    int *pfcp_fds, unsigned *n_pfcp, char *err, size_t errlen)
{
	char **names = NULL;
	int n, i, r = 0;

	*n_gtpu = 0;
	*n_pfcp = 0;
	*control_fd = -1;
	if (errlen)
		err[0] = '\0';
	/* Unset LISTEN_* so nothing we might spawn believes the fds are its own. */
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the sockets passed by systemd "
			 "(LISTEN_FDS, LISTEN_FDNAMES): %s", strerror(-n));
		return n;
	}
	for (i = 0; i < n; i++) {
		r = take_fd(SD_LISTEN_FDS_START + i, names ? names[i] : "unknown",
			    gtpu_fds, max, n_gtpu, control_fd, pfcp_fds, n_pfcp, err, errlen);
		if (r < 0)
			goto out;
	}
out:
	if (r < 0) {
		/* Leave no half-taken set behind: the caller exits anyway. */
		for (i = 0; i < n; i++)
			close(SD_LISTEN_FDS_START + i);
		*n_gtpu = 0;
		*n_pfcp = 0;
		*control_fd = -1;
	}
	if (names) {
		for (i = 0; names[i]; i++)
			free(names[i]);
		free(names);
	}
	return r;
}

void sysd_ready(void)
{
	if (notify_enabled())
		sd_notify(0, "READY=1");
}

void sysd_reloading(void)
{
	unsigned long long usec;

	if (!notify_enabled())
		return;
	/* systemd (and the notify-reload protocol of later versions) matches the
	 * reload by this timestamp, so it is taken right when the reload starts. */
	usec = mono_ns() / 1000;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration", usec);
}

void sysd_stopping(void)
{
	if (!notify_enabled() || stop_sent)
		return;
	stop_sent = true;
	sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
}

void sysd_status(const char *fmt, ...)
{
	char buf[512];
	char *p;
	va_list ap;

	if (!notify_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A newline would start another assignment in the notify message. */
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	sd_notifyf(0, "STATUS=%s", buf);
}

void sysd_fatal(int errnum, const char *what)
{
	char buf[512];
	char *p;

	if (!notify_enabled())
		return;
	stop_sent = true;
	if (errnum < 0)
		errnum = -errnum;
	/* Messages that already give the reason are not told it twice. */
	if (strstr(what, strerror(errnum)))
		snprintf(buf, sizeof(buf), "%s", what);
	else
		snprintf(buf, sizeof(buf), "%s: %s", what, strerror(errnum));
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	sd_notifyf(0, "ERRNO=%d\nSTATUS=%s", errnum, buf);
}

int sysd_watchdog(sd_event *ev)
{
	if (!notify_enabled())
		return 0;
	/* sd-event checks WATCHDOG_USEC and WATCHDOG_PID itself and returns 0
	 * when no watchdog is configured for this process. */
	return sd_event_set_watchdog(ev, 1);
}
