/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd glue: socket activation, sd_notify state changes and the watchdog.
 * Everything here is a no-op outside systemd (no NOTIFY_SOCKET, no LISTEN_FDS),
 * so the daemon calls it unconditionally. */
#ifndef GTPUD_SD_H
#define GTPUD_SD_H

#include <stddef.h>
#include <systemd/sd-event.h>

/* Names the socket units give their fds (FileDescriptorName=). */
#define SYSD_FDNAME_GTPU "gtpu"
#define SYSD_FDNAME_CONTROL "control"
#define SYSD_FDNAME_PFCP "pfcp"

/* Take the sockets passed by systemd (sd_listen_fds_with_names; LISTEN_* is
 * unset afterwards). Fds named "gtpu" must be AF_INET/AF_INET6 datagram
 * sockets and go to gtpu_fds (at most max of them); one fd named "control"
 * must be a listening AF_UNIX stream socket and goes to *control_fd. Every fd
 * taken is made O_NONBLOCK and close-on-exec.
 * Returns 0 with *n_gtpu = 0 and *control_fd = -1 when nothing was passed.
 * On error returns -errno with one sentence in err, closes every passed fd
 * and leaves *n_gtpu = 0, *control_fd = -1. */
int sysd_listen_fds(int *gtpu_fds, unsigned max, unsigned *n_gtpu, int *control_fd,
		    int *pfcp_fds, unsigned *n_pfcp, char *err, size_t errlen);

/* READY=1: sockets bound, config loaded (also after a reload). */
void sysd_ready(void);
/* RELOADING=1 with MONOTONIC_USEC=now, in one message. */
void sysd_reloading(void);
/* STOPPING=1, once; nothing after sysd_fatal(), whose STATUS= stays. */
void sysd_stopping(void);
/* STATUS=<text>; newlines in the text are replaced by spaces. */
void sysd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ERRNO=<errnum> and STATUS="<what>: <strerror>" (just "<what>" when it
 * already contains the strerror text), before exiting on a fatal start-up
 * failure. errnum may be given as errno or -errno. */
void sysd_fatal(int errnum, const char *what);

/* Let the event loop send WATCHDOG=1 when the service has WatchdogSec=
 * (WATCHDOG_USEC, and WATCHDOG_PID if set equal to our pid). sd-event sends it
 * from the loop itself, so a stalled loop stops sending it: the wake-up is
 * scheduled between 1/2 and 3/4 of WATCHDOG_USEC after the previous ping, and
 * any earlier loop iteration pings once 1/4 has elapsed.
 * Returns 1 when enabled, 0 when no watchdog was asked for (or NOTIFY_SOCKET
 * is unset), -errno on error. */
int sysd_watchdog(sd_event *ev);

#endif
