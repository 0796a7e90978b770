/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging to stderr, journal-aware, with per-call-site rate limits. */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int level = LOG_LVL_INFO;
static bool journal;
static const char *ident = "gtpud";
static uint64_t written, suppressed_total;

/* stderr is the journal when JOURNAL_STREAM names its device and inode. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%lu:%lu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *id)
{
	ident = id;
	journal = stderr_is_journal();
}

void log_set_level(int l) { level = l; }
int log_get_level(void) { return level; }

static const char *level_name(int l)
{
	switch (l) {
	case LOG_LVL_ERR: return "error";
	case LOG_LVL_WARNING: return "warning";
	case LOG_LVL_NOTICE: return "notice";
	case LOG_LVL_INFO: return "info";
	case LOG_LVL_DEBUG: return "debug";
	}
	return "log";
}

void log_msg(int l, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (l > level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	escape_controls(line, sizeof(line));
	if (journal)
		fprintf(stderr, "<%d>%s\n", l, line);
	else
		fprintf(stderr, "%s: %s: %s\n", ident, level_name(l), line);
	__atomic_add_fetch(&written, 1, __ATOMIC_RELAXED);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned *suppressed)
{
	uint64_t now = mono_ns();
	bool ok;

	while (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
		;
	*suppressed = 0;
	if (now - rl->window_start >= (uint64_t)rl->interval * 1000000000u) {
		*suppressed = rl->suppressed;
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->suppressed++;
	__atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
	if (!ok)
		__atomic_add_fetch(&suppressed_total, 1, __ATOMIC_RELAXED);
	return ok;
}

uint64_t log_lines_written(void) { return __atomic_load_n(&written, __ATOMIC_RELAXED); }
uint64_t log_lines_suppressed(void) { return __atomic_load_n(&suppressed_total, __ATOMIC_RELAXED); }
