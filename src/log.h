/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging to stderr with levels: sd-daemon "<N>" prefixes when stderr is the
 * journal, plain text otherwise. Rate-limited variants for events that can
 * repeat per packet. Only the daemon layer logs; the codec and tables never do. */
#ifndef GTPUD_LOG_H
#define GTPUD_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_init(const char *ident);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* At most burst messages per interval seconds from one call site; the number
 * suppressed is reported with the next message that passes. Thread-safe. */
struct log_ratelimit {
	uint64_t window_start;    /* monotonic ns */
	unsigned interval;        /* seconds */
	unsigned burst;
	unsigned printed;
	unsigned suppressed;
	int lock;
};
#define LOG_RATELIMIT_INIT(iv, b) { 0, (iv), (b), 0, 0, 0 }

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned *suppressed);

#define log_ratelimited(level, ...) do { \
	static struct log_ratelimit rl_ = LOG_RATELIMIT_INIT(5, 10); \
	unsigned sup_; \
	if (log_ratelimit_ok(&rl_, &sup_)) { \
		if (sup_) log_msg(level, "%u similar messages suppressed", sup_); \
		log_msg(level, __VA_ARGS__); \
	} \
} while (0)

/* Total lines written and lines suppressed by rate limits (for tests and stats). */
uint64_t log_lines_written(void);
uint64_t log_lines_suppressed(void);

#endif
