/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Privileges dropped after start-up (privs.h). */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every capability of this thread (effective, permitted, inheritable: the
 * ambient set goes with them), and the bounding set where allowed. */
static int caps_clear(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	bool any = false;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		prctl(PR_CAPBSET_DROP, c, 0, 0, 0);   /* needs CAP_SETPCAP: root's, else ignored */
	/* None to drop (gtpud.service without the TUN drop-in): no capset,
	 * which its system-call filter refuses. */
	if (syscall(SYS_capget, &h, d) == 0) {
		for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
			any |= d[i].effective || d[i].permitted || d[i].inheritable;
		if (!any)
			return 0;
	}
	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int privs_drop(const char *user, const char *group, char *err, size_t errlen)
{
	int ret = 0, r;

	if (user && geteuid() != 0) {
		ret = 1;
	} else if (user) {
		struct passwd *pw = getpwnam(user);
		struct group *gr = group ? getgrnam(group) : NULL;
		gid_t gid;

		if (!pw) {
			snprintf(err, errlen, "user \"%s\" does not exist", user);
			return -ENOENT;
		}
		if (group && !gr) {
			snprintf(err, errlen, "group \"%s\" does not exist", group);
			return -ENOENT;
		}
		gid = gr ? gr->gr_gid : pw->pw_gid;
		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot become %s:%s: %s", user, group ? group : "(its group)",
				 strerror(-r));
			return r;
		}
	}
	if ((r = caps_clear()) < 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s, keeping them", strerror(-r));
		return 2;
	}
	return ret;
}
