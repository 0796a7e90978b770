/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file of runtime tunnels (statefile.h). */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>

#include "ctl_proto.h"

static int path_of(char *buf, size_t len, const char *dir, const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, STATEFILE_NAME, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int statefile_write(const char *dir, const struct state *s)
{
	char tmp[PATH_MAX], path[PATH_MAX], line[CTL_MAX_LINE + 2];
	uint32_t n = 0;
	FILE *f;
	int r, fd;

	if ((r = path_of(tmp, sizeof(tmp), dir, ".tmp")) < 0 || (r = path_of(path, sizeof(path), dir, "")) < 0)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (!(f = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		goto fail;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f, "%s\n", STATEFILE_HEADER);
	STATE_FOR_EACH(s, i) {
		struct rt_tunnel x;
		struct ctl_tunnel_line l;
		size_t len;

		if (!(s->tunnels[i].flags & TUNNEL_RUNTIME))
			continue;
		state_tunnel_row(s, i, &x);
		l = (struct ctl_tunnel_line){ x.t.name, x.from, x.to, x.t.from_teid, x.t.to_teid,
					      x.t.ue, x.t.n_ue, x.t.qfi, x.t.rate, x.t.burst };
		len = ctl_tunnel_line_format(line, sizeof(line) - 1, &l);
		line[len] = '\n';
		fwrite(line, 1, len + 1, f);
		n++;
	}
	fprintf(f, "# end %u\n", n);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		r = errno ? -errno : -EIO;
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0) {
		r = -errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return sync_dir(dir);
fail:
	unlink(tmp);
	return r;
}

static int read_all(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return r;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)k;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int statefile_read(const char *dir, char **text, char ***lines, uint32_t **numbers, uint32_t *n,
		   char *err, size_t errlen)
{
	char path[PATH_MAX], *p, *end, *nl;
	uint32_t cap = 0, lineno = 0;
	bool header = false, trailer = false;
	size_t len = 0;
	int r;

	*text = NULL;
	*lines = NULL;
	*numbers = NULL;
	*n = 0;
	if ((r = path_of(path, sizeof(path), dir, "")) < 0 || (r = read_all(path, text, &len)) < 0)
		return r;
	if (memchr(*text, '\0', len)) {
		snprintf(err, errlen, "it holds a NUL byte");
		r = -EBADMSG;
		goto fail;
	}
	for (p = *text, end = *text + len; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p)))) {
			snprintf(err, errlen, "line %u has no end: the file was cut", lineno + 1);
			r = -EBADMSG;
			goto fail;
		}
		*nl = '\0';
		lineno++;
		if (trailer) {
			snprintf(err, errlen, "line %u follows the end line", lineno);
			r = -EBADMSG;
			goto fail;
		}
		if (lineno == 1) {
			if (strcmp(p, STATEFILE_HEADER)) {
				snprintf(err, errlen, "line 1 is not \"%s\"", STATEFILE_HEADER);
				r = -EBADMSG;
				goto fail;
			}
			header = true;
			continue;
		}
		if (!strncmp(p, "# end ", 6)) {
			if (strtoul(p + 6, NULL, 10) != *n || strspn(p + 6, "0123456789") != strlen(p + 6)) {
				snprintf(err, errlen, "line %u: the end line counts %s tunnels, the file has %u",
					 lineno, p + 6, *n);
				r = -EBADMSG;
				goto fail;
			}
			trailer = true;
			continue;
		}
		if (*n == cap) {
			uint32_t c = cap ? cap * 2 : 1024;
			char **l = realloc(*lines, c * sizeof(*l));
			uint32_t *num = l ? realloc(*numbers, c * sizeof(*num)) : NULL;

			if (l)
				*lines = l;
			if (!l || !num) {
				r = -ENOMEM;
				goto fail;
			}
			*numbers = num;
			cap = c;
		}
		(*lines)[*n] = p;
		(*numbers)[*n] = lineno;
		++*n;
	}
	if (!header || !trailer) {
		snprintf(err, errlen, "%s", header ? "it has no end line: the file was cut" : "it is empty");
		r = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	free(*text);
	free(*lines);
	free(*numbers);
	*text = NULL;
	*lines = NULL;
	*numbers = NULL;
	*n = 0;
	return r;
}

int statefile_quarantine(const char *dir, char *moved, size_t len)
{
	char path[PATH_MAX], suffix[40];
	int r;

	snprintf(suffix, sizeof(suffix), ".bad-%lld", (long long)time(NULL));
	if ((r = path_of(path, sizeof(path), dir, "")) < 0 || (r = path_of(moved, len, dir, suffix)) < 0)
		return r;
	return rename(path, moved) < 0 ? -errno : 0;
}
