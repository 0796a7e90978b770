/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file of runtime tunnels: written whole (header, a line a
 * runtime tunnel in gtpuctl's batch syntax, a counted end line) and read
 * back; a file that is cut, has no header, a wrong count, a NUL byte or
 * lines past its end is refused with the reason, and moved aside. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "statefile.h"

static char dir[64];

static int setup(void **st)
{
	snprintf(dir, sizeof(dir), "/tmp/gtpud-sf.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void put(const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, STATEFILE_NAME);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void test_write_read(void **st)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	struct state *s = NULL;
	struct conf_tunnel t = { .name = "rt1", .from_teid = 0x10, .to_teid = 0x20, .qfi = -1, .rate = 8000,
				 .burst = 4000 };
	char *text, **lines, err[200];
	uint32_t *num, n;
	struct ctl_tunnel_spec sp;

	assert_int_equal(conf_read_string("peers = ( { name = \"a\"; address = \"192.0.2.1\"; },"
					  " { name = \"b\"; address = \"192.0.2.2\"; } );\n"
					  "tunnels = ( { name = \"f\"; from = { peer = \"a\"; teid = 1; };"
					  " to = { peer = \"b\"; teid = 2; }; } );\n", "t.conf", &c, &errs), 0);
	conf_errors_fini(&errs);
	assert_int_equal(state_new(c, NULL, 0, 10, NULL, 1, &s, NULL), 0);
	assert_int_not_equal(state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME), TUNNEL_NONE);
	assert_int_equal(statefile_write(dir, s), 0);
	assert_int_equal(statefile_read(dir, &text, &lines, &num, &n, err, sizeof(err)), 0);
	/* The file's tunnel is not in it; the runtime one is, as a batch line. */
	assert_int_equal(n, 1);
	assert_int_equal(num[0], 2);
	assert_string_equal(lines[0], "rt1 from a 0x10 to b 0x20 rate 8000 burst 4000");
	assert_int_equal(ctl_tunnel_line_parse(lines[0], &sp, err, sizeof(err)), 1);
	assert_int_equal(sp.rate, 8000);
	free(text);
	free(lines);
	free(num);
	state_free(s);
}

static void test_bad(void **st)
{
	static const struct { const char *text; const char *why; } rows[] = {
		{ "", "it is empty" },
		{ "rt1 from a 1 to b 2\n# end 1\n", "line 1 is not \"# gtpud runtime tunnels, version 1\"" },
		{ STATEFILE_HEADER "\nrt1 from a 1 to b 2\n", "it has no end line: the file was cut" },
		{ STATEFILE_HEADER "\nrt1 from a 1 to b 2\n# end 1", "line 3 has no end: the file was cut" },
		{ STATEFILE_HEADER "\nrt1 from a 1 to b 2\n# end 2\n",
		  "line 3: the end line counts 2 tunnels, the file has 1" },
		{ STATEFILE_HEADER "\n# end 0\nrt1 from a 1 to b 2\n", "line 3 follows the end line" },
	};
	char *text, **lines, err[200];
	uint32_t *num, n;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put(rows[i].text, strlen(rows[i].text));
		err[0] = '\0';
		if (statefile_read(dir, &text, &lines, &num, &n, err, sizeof(err)) != -EBADMSG)
			fail_msg("row %zu: accepted", i);
		if (strcmp(err, rows[i].why))
			fail_msg("row %zu: '%s', want '%s'", i, err, rows[i].why);
		assert_null(text);
	}
	put(STATEFILE_HEADER "\nx\0y\n# end 1\n", sizeof(STATEFILE_HEADER) + 11);
	assert_int_equal(statefile_read(dir, &text, &lines, &num, &n, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "it holds a NUL byte");
}

static void test_missing_and_aside(void **st)
{
	char *text, **lines, err[200], moved[256], path[160];
	uint32_t *num, n;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, STATEFILE_NAME);
	unlink(path);
	assert_int_equal(statefile_read(dir, &text, &lines, &num, &n, err, sizeof(err)), -ENOENT);
	put("junk\n", 5);
	assert_int_equal(statefile_quarantine(dir, moved, sizeof(moved)), 0);
	assert_non_null(strstr(moved, "/tunnels.bad-"));
	assert_int_equal(stat(moved, &sb), 0);
	assert_int_not_equal(stat(path, &sb), 0);
	/* A directory in its place cannot be read: not -ENOENT, not parsed. */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(statefile_read(dir, &text, &lines, &num, &n, err, sizeof(err)), -EISDIR);
	rmdir(path);
}

/* The line parser the state file and batches share. */
static void test_line(void **st)
{
	struct ctl_tunnel_spec sp;
	char err[200];

	assert_int_equal(ctl_tunnel_line_parse("", &sp, err, sizeof(err)), 0);
	assert_int_equal(ctl_tunnel_line_parse("   \t", &sp, err, sizeof(err)), 0);
	assert_int_equal(ctl_tunnel_line_parse("# a comment", &sp, err, sizeof(err)), 0);
	assert_int_equal(ctl_tunnel_line_parse("  t from a 1 to b 2 # rest", &sp, err, sizeof(err)), 1);
	assert_string_equal(sp.name, "t");
	assert_int_equal(ctl_tunnel_line_parse("t from a 1 to b", &sp, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_tunnel_line_parse("t from a 0 to b 1", &sp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "from.teid: 0 is out of range (1..4294967295)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_missing_and_aside),
		cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
