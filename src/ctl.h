/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket server: a Unix stream socket served from the sd-event
 * loop, one JSON request per line (ctl_proto.h), commands from the table its
 * creator gives it (ended by a NULL name; "monitor" is the transport's own),
 * monitor clients fed with events. A client can never block the loop. */
#ifndef GTPUD_CTL_H
#define GTPUD_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <json-c/json.h>
#include <systemd/sd-event.h>

struct ctl;

/* A command: args is a JSON array of the words after the command name (may
 * be empty), or with batch the request's "batch" lines. On success it
 * returns CTL_OK (0) and sets *data (NULL allowed); on failure a result code
 * of enum ctl_result (ctl_proto.h) and *errors, a JSON array of strings. The
 * caller owns *data and *errors. ctx is what ctl_new was given. */
typedef int (*ctl_cmd_fn)(void *ctx, json_object *args, json_object **data, json_object **errors);

/* A command whose data is an array too large to build whole (tunnels): the
 * transport asks for it a piece at a time, as the client reads. Each call
 * appends elements from *cursor on (at most CTL_STREAM_CHUNK) to chunk,
 * a JSON array, and moves *cursor on; CTL_STREAM_END when there are no
 * more. *cursor is 0 at the first call, which may fail as fn does (then
 * *errors). Between calls the data may change: each element is sent once
 * at most, as it is when its turn comes. */
#define CTL_STREAM_END UINT64_MAX
#define CTL_STREAM_CHUNK 256
typedef int (*ctl_stream_fn)(void *ctx, json_object *args, uint64_t *cursor, json_object *chunk,
			     json_object **errors);

struct ctl_cmd {
	const char *name;       /* "status", "tunnel add", ... */
	bool mutating;          /* needs root or the control group */
	ctl_cmd_fn fn;
	ctl_cmd_fn batch;       /* with a "batch" of lines instead of args, or NULL */
	ctl_stream_fn stream;   /* instead of fn, or NULL */
};

#define CTL_MAX_OUTPUT (4u << 20)   /* bytes queued for one client before it is dropped */
#define CTL_STREAM_LOW (64u << 10)  /* a stream's next piece is made when less than this waits */
#define CTL_GROUP_CACHE 32          /* uids whose group membership is remembered */
#define CTL_GROUP_CACHE_SECS 60     /* for this long */

struct ctl_opts {
	const char *path;         /* socket path (ignored with an inherited fd, except for logs) */
	const char *group;        /* control group name, NULL = root only */
	mode_t mode;              /* e.g. 0660 */
	unsigned max_clients;     /* 0 = 64 */
	unsigned idle_timeout;    /* seconds without a request; 0 = none. Monitor clients are exempt. */
};

/* Start serving the commands of cmds, each called with ctx. inherited_fd >= 0 is a listening socket passed by systemd:
 * it is used as is (not bound, chmod'ed or unlinked). Otherwise path's
 * directory is created if missing (0755), a stale socket is removed (a live
 * one gives -EADDRINUSE; a non-socket file -EEXIST), and the new socket is
 * chmod'ed to mode and chown'ed to group before it listens. An unknown group
 * gives -ENOENT (look it up with getgrnam() first for a clear message).
 * Returns 0 or -errno. */
int ctl_new(sd_event *ev, const struct ctl_cmd *cmds, void *ctx, const struct ctl_opts *o,
	    int inherited_fd, struct ctl **out);
/* Close every client and the socket; unlink the path when we bound it. */
void ctl_free(struct ctl *c);

/* What a monitor client streams: "monitor" gives events, "monitor drops"
 * the recent drops. */
#define CTL_MON_EVENTS 1u
#define CTL_MON_DROPS 2u

/* Send {"event":event,"time":now,...fields} to every monitor client of
 * events. Takes ownership of fields (an object, or NULL). A client whose
 * output is full is disconnected. */
void ctl_event(struct ctl *c, const char *event, json_object *fields);
/* The same to the monitor clients of topic (CTL_MON_*), with time t. */
void ctl_event_topic(struct ctl *c, unsigned topic, const char *event, time_t t, json_object *fields);
/* Monitor clients of topic. */
unsigned ctl_monitors(const struct ctl *c, unsigned topic);

/* While a command runs: the user and process of the client that asked
 * for it, as the kernel reported them when it connected (SO_PEERCRED).
 * False outside a command. */
bool ctl_caller(const struct ctl *c, uid_t *uid, pid_t *pid);

/* Connected clients (monitor ones included). */
unsigned ctl_clients(const struct ctl *c);

/* The privilege rule for mutating commands: root, or the control group as
 * primary group or as one of the supplementary groups of the peer's user.
 * has_group false means "no control group": root only. Pure, for tests. */
bool ctl_privileged(uid_t uid, gid_t gid, bool has_group, gid_t group,
		    const gid_t *groups, int ngroups);

#endif
