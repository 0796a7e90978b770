/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the config loader: valid files with every value and default
 * asserted, one must-fail row per kind of error with its exact text and line,
 * several errors in one file, the chunked path for large tunnel lists, the
 * fast scanner against libconfig, and the address helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"

#define F "gtpud.conf"

static struct conf *load_ok(const char *text)
{
	struct conf_errors e;
	struct conf *c = NULL;
	int r = conf_read_string(text, F, &c, &e);
	unsigned i;

	for (i = 0; i < e.n; i++)
		print_message("unexpected: %s\n", e.msg[i]);
	assert_int_equal(r, 0);
	assert_int_equal(e.count, 0);
	assert_non_null(c);
	conf_errors_fini(&e);
	return c;
}

static void assert_addr(const struct conf_addr *a, const char *want, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];

	assert_string_equal(conf_addr_str(a, buf, sizeof buf), want);
	assert_int_equal(a->family, strchr(want, ':') ? AF_INET6 : AF_INET);
	assert_int_equal(a->port, port);
}

/* ---- valid files ---- */

static void test_defaults(void **state)
{
	struct conf *c = load_ok("");

	(void)state;
	assert_string_equal(c->file, F);
	assert_int_equal(c->n_listen, 2);
	assert_addr(&c->listen[0], "0.0.0.0", 2152);
	assert_addr(&c->listen[1], "::", 2152);
	assert_string_equal(c->control.path, "/run/gtpud/control.sock");
	assert_string_equal(c->control.group, "gtpud");
	assert_true(c->control.group_default);
	assert_int_equal(c->control.mode, 0660);
	assert_int_equal(c->control.max_clients, 64);
	assert_int_equal(c->control.idle_timeout, 300);
	assert_int_equal(c->log_level, CONF_LOG_INFO);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->echo.interval, 60);
	assert_int_equal(c->echo.t3, 3);
	assert_int_equal(c->echo.n3, 3);
	assert_int_equal(c->echo.on_down, CONF_DOWN_FORWARD);
	assert_true(c->error_indication.enabled);
	assert_int_equal(c->error_indication.rate, 100);
	assert_int_equal(c->error_indication.quiet, 0);
	assert_false(c->error_indication.remove_tunnel);
	assert_false(c->metrics.enabled);
	assert_int_equal(c->n_peers, 0);
	assert_false(c->tun.present);
	assert_int_equal(c->n_tunnels, 0);
	conf_free(c);
}

/* A relay and an endpoint tunnel in one file: the two shipped examples
 * (etc/gtpud.conf, etc/gtpud-endpoint.conf) as they once were together. */
static const char example[] =
	"# gtpud.conf: example configuration, see gtpud.conf(5).\n"
	"listen  = [ \"0.0.0.0:2152\", \"[::]:2152\" ];   # GTP-U sockets\n"
	"control = { path = \"/run/gtpud/control.sock\"; group = \"gtpud\"; mode = \"0660\"; };  # mode is octal text: libconfig 1.5 has no octal numbers\n"
	"log_level = \"info\";                           # error | warning | info | debug\n"
	"workers = 1;                                  # datapath threads\n"
	"echo = { interval = 60; t3 = 3; n3 = 3; };    # seconds; interval 0 = no Echo\n"
	"error_indication = { enabled = true; rate = 100; };   # per peer per second\n"
	"peers = (\n"
	"  { name = \"enb\"; address = \"192.0.2.10\"; },            # port defaults to 2152\n"
	"  { name = \"upf\"; address = \"198.51.100.20\"; port = 2152; echo = true; }\n"
	");\n"
	"tun = { name = \"gtp0\"; mtu = 1452; addresses = [ \"10.45.0.1/16\" ]; };  # optional\n"
	"tunnels = (\n"
	"  # relay: G-PDUs from enb with TEID 0x100 leave for upf with TEID 0x200\n"
	"  { name = \"ue1-up\"; from = { peer = \"enb\"; teid = 0x100; }; to = { peer = \"upf\"; teid = 0x200; }; },\n"
	"  # endpoint: G-PDUs from enb with TEID 0x300 are decapsulated onto the TUN\n"
	"  # device; packets from the TUN device to 10.45.0.2 leave for enb with TEID 0x301\n"
	"  { name = \"ue2\"; from = { peer = \"enb\"; teid = 0x300; }; to = { peer = \"enb\"; teid = 0x301; };\n"
	"    ue = [ \"10.45.0.2\", \"2001:db8:45::2\" ]; qfi = 9; rate = 10000000; }\n"
	");\n";

static void check_example(const struct conf *c)
{
	const struct conf_tunnel *t;

	assert_string_equal(c->control.group, "gtpud");
	assert_int_equal(c->control.mode, 0660);
	assert_int_equal(c->n_peers, 2);
	assert_string_equal(c->peers[0].name, "enb");
	assert_addr(&c->peers[0].addr, "192.0.2.10", 2152);
	assert_false(c->peers[0].echo);
	assert_int_equal(c->peers[0].line, 9);
	assert_string_equal(c->peers[1].name, "upf");
	assert_addr(&c->peers[1].addr, "198.51.100.20", 2152);
	assert_true(c->peers[1].echo);
	assert_true(c->tun.present);
	assert_string_equal(c->tun.name, "gtp0");
	assert_int_equal(c->tun.mtu, 1452);
	assert_int_equal(c->tun.n_addrs, 1);
	assert_addr(&c->tun.addrs[0].addr, "10.45.0.1", 0);
	assert_int_equal(c->tun.addrs[0].plen, 16);
	assert_int_equal(c->n_tunnels, 2);
	t = &c->tunnels[0];
	assert_string_equal(t->name, "ue1-up");
	assert_int_equal(t->from_peer, 0);
	assert_int_equal(t->from_teid, 0x100);
	assert_int_equal(t->to_peer, 1);
	assert_int_equal(t->to_teid, 0x200);
	assert_int_equal(t->n_ue, 0);
	assert_null(t->ue);
	assert_int_equal(t->qfi, -1);
	assert_int_equal(t->rate, 0);
	assert_int_equal(t->burst, 0);
	t = &c->tunnels[1];
	assert_string_equal(t->name, "ue2");
	assert_int_equal(t->from_teid, 0x300);
	assert_int_equal(t->to_peer, 0);
	assert_int_equal(t->to_teid, 0x301);
	assert_int_equal(t->n_ue, 2);
	assert_addr(&t->ue[0], "10.45.0.2", 0);
	assert_addr(&t->ue[1], "2001:db8:45::2", 0);
	assert_int_equal(t->qfi, 9);
	assert_int_equal(t->rate, 10000000);
	assert_int_equal(t->line, 18);
	assert_int_equal(conf_peer_index(c, "upf"), 1);
	assert_int_equal(conf_peer_index(c, "enb"), 0);
	assert_int_equal(conf_peer_index(c, "nope"), -1);
}

static void test_example(void **state)
{
	struct conf *c = load_ok(example);

	(void)state;
	check_example(c);
	conf_free(c);
}

/* read_example NAME: etc/NAME of the source tree, valid with no error; NULL
 * (the test skipped) when make check does not say where that is. */
static struct conf *read_example(const char *name)
{
	const char *top = getenv("top_srcdir");
	struct conf_errors e;
	struct conf *c;
	char path[4096];

	if (!top)
		return NULL;
	snprintf(path, sizeof path, "%s/etc/%s", top, name);
	assert_int_equal(conf_read_file(path, &c, &e), 0);
	assert_int_equal(e.count, 0);
	assert_string_equal(c->file, path);
	conf_errors_fini(&e);
	return c;
}

/* The shipped etc/gtpud.conf is what the installed gtpud.service runs as it
 * is: a relay, with no tun section (which would need the drop-in). */
static void test_example_file(void **state)
{
	struct conf *c = read_example("gtpud.conf");
	const struct conf_tunnel *t;
	unsigned i;

	(void)state;
	if (!c)
		skip();
	assert_string_equal(c->control.group, "gtpud");
	assert_int_equal(c->control.mode, 0660);
	assert_int_equal(c->n_peers, 2);
	assert_addr(&c->peers[0].addr, "192.0.2.10", 2152);
	assert_addr(&c->peers[1].addr, "198.51.100.20", 2152);
	assert_true(c->peers[1].echo);
	assert_false(c->tun.present);
	assert_int_equal(c->n_tunnels, 2);
	for (i = 0; i < c->n_tunnels; i++)
		assert_int_equal(c->tunnels[i].n_ue, 0);
	t = &c->tunnels[0];
	assert_string_equal(t->name, "ue1-up");
	assert_int_equal(t->from_teid, 0x100);
	assert_int_equal(t->to_peer, 1);
	assert_int_equal(t->to_teid, 0x200);
	t = &c->tunnels[1];
	assert_string_equal(t->name, "ue1-down");
	assert_int_equal(t->from_peer, 1);
	assert_int_equal(t->from_teid, 0x201);
	assert_int_equal(t->to_teid, 0x101);
	conf_free(c);
}

/* The endpoint example: a TUN device and one tunnel ending on it. */
static void test_endpoint_example_file(void **state)
{
	struct conf *c = read_example("gtpud-endpoint.conf");
	const struct conf_tunnel *t;

	(void)state;
	if (!c)
		skip();
	assert_int_equal(c->n_peers, 1);
	assert_true(c->tun.present);
	assert_string_equal(c->tun.name, "gtp0");
	assert_int_equal(c->tun.n_addrs, 2);
	assert_addr(&c->tun.addrs[0].addr, "203.0.113.1", 0);
	assert_int_equal(c->tun.addrs[0].plen, 24);
	assert_int_equal(c->n_tunnels, 1);
	t = &c->tunnels[0];
	assert_string_equal(t->name, "ue2");
	assert_int_equal(t->n_ue, 2);
	assert_addr(&t->ue[0], "203.0.113.2", 0);
	assert_addr(&t->ue[1], "2001:db8:45::2", 0);
	assert_int_equal(t->qfi, 9);
	assert_int_equal(t->rate, 10000000);
	conf_free(c);
}

static void test_all_keys(void **state)
{
	struct conf *c = load_ok(
		"listen = ( \"192.0.2.1\", \"[2001:db8::1]:3000\", \"2001:db8::2\", \"198.51.100.1:65535\" );\n"
		"control = { path = \"/tmp/x.sock\"; group = \"adm\"; mode = \"640\"; max_clients = 1024;\n"
		"            idle_timeout = 86400; };\n"
		"log_level = \"debug\"; workers = 64;\n"
		"echo : { interval = 0; t3 = 3600; n3 = 0; on_down = \"drop\"; };\n"
		"error_indication = { enabled = false; rate = 1000000; quiet = 3600; remove_tunnel = true; };\n"
		"metrics = { listen = \"[::1]\"; };\n"
		"peers = ( { name = \"A.b-c_9\"; address = \"2001:db8::10\"; port = 1; echo = true; },\n"
		"          { name = \"z\"; address = \"203.0.113.9\"; port = 65535; } );\n"
		"tun = { name = \"tun-lab\"; mtu = 65535; addresses = [ \"10.0.0.1\", \"2001:db8:1::1/64\" ]; };\n"
		"tunnels = ( { name = \"t\"; from = { peer = \"z\"; teid = 4294967295; };\n"
		"              to = { peer = \"A.b-c_9\"; teid = 0xffffffff; }; qfi = 63; rate = 1000000000000;\n"
		"              burst = 1000000000; ue = [ \"2001:db8:2::1\" ]; },\n"
		"            { name = \"u\"; from = { peer = \"z\"; teid = 0x80000000; };\n"
		"              to = { peer = \"z\"; teid = 1; }; qfi = 0; rate = 8L; } );\n");
	const struct conf_tunnel *t;

	(void)state;
	assert_int_equal(c->n_listen, 4);
	assert_addr(&c->listen[0], "192.0.2.1", 2152);
	assert_addr(&c->listen[1], "2001:db8::1", 3000);
	assert_addr(&c->listen[2], "2001:db8::2", 2152);
	assert_addr(&c->listen[3], "198.51.100.1", 65535);
	assert_string_equal(c->control.path, "/tmp/x.sock");
	assert_string_equal(c->control.group, "adm");
	assert_int_equal(c->control.mode, 0640);
	assert_int_equal(c->control.max_clients, 1024);
	assert_int_equal(c->control.idle_timeout, 86400);
	assert_int_equal(c->log_level, CONF_LOG_DEBUG);
	assert_int_equal(c->workers, 64);
	assert_int_equal(c->echo.interval, 0);
	assert_int_equal(c->echo.t3, 3600);
	assert_int_equal(c->echo.n3, 0);
	assert_int_equal(c->echo.on_down, CONF_DOWN_DROP);
	assert_false(c->error_indication.enabled);
	assert_int_equal(c->error_indication.rate, 1000000);
	assert_int_equal(c->error_indication.quiet, 3600);
	assert_true(c->error_indication.remove_tunnel);
	assert_true(c->metrics.enabled);
	assert_addr(&c->metrics.listen, "::1", 9152);
	assert_string_equal(c->peers[0].name, "A.b-c_9");
	assert_addr(&c->peers[0].addr, "2001:db8::10", 1);
	assert_true(c->peers[0].echo);
	assert_addr(&c->peers[1].addr, "203.0.113.9", 65535);
	assert_string_equal(c->tun.name, "tun-lab");
	assert_int_equal(c->tun.mtu, 65535);
	assert_int_equal(c->tun.n_addrs, 2);
	assert_int_equal(c->tun.addrs[0].plen, 32);
	assert_int_equal(c->tun.addrs[1].plen, 64);
	t = &c->tunnels[0];
	assert_int_equal(t->from_peer, 1);
	assert_int_equal(t->from_teid, 0xffffffffu);
	assert_int_equal(t->to_peer, 0);
	assert_int_equal(t->to_teid, 0xffffffffu);
	assert_int_equal(t->qfi, 63);
	assert_int_equal(t->rate, 1000000000000ULL);
	assert_int_equal(t->burst, 1000000000);
	assert_int_equal(t->n_ue, 1);
	assert_addr(&t->ue[0], "2001:db8:2::1", 0);
	t = &c->tunnels[1];
	assert_int_equal(t->from_teid, 0x80000000u);
	assert_int_equal(t->to_teid, 1);
	assert_int_equal(t->qfi, 0);
	assert_int_equal(t->rate, 8);
	assert_int_equal(t->line, 14);
	conf_free(c);
}

/* Comments, ':' and odd spacing inside the tunnels list, which the loader
 * cuts into chunks itself, must not move line numbers. */
static void test_syntax_variants(void **state)
{
	struct conf *c = load_ok(
		"peers = ( { name = \"a\"; address = \"192.0.2.1\"; } ); // peers\n"
		"tunnels : ( /* a comment, with ( ) { } , \"quotes\"\n"
		"   over lines */ { name = \"x-1\"; from = { peer = \"a\"; teid = 1; };\n"
		"                   to = { peer = \"a\"; teid = 2; }; } # (\n"
		"   , { name = \"y\" \"z\"; from : { peer : \"a\", teid : 3 }, to = { peer = \"a\"; teid = 4; } }\n"
		")\n"
		"workers = 2;\n");

	(void)state;
	assert_int_equal(c->n_tunnels, 2);
	assert_string_equal(c->tunnels[0].name, "x-1");
	assert_int_equal(c->tunnels[0].line, 3);
	assert_string_equal(c->tunnels[1].name, "yz");
	assert_int_equal(c->tunnels[1].line, 5);
	assert_int_equal(c->tunnels[1].from_teid, 3);
	assert_int_equal(c->workers, 2);
	conf_free(c);
}

/* ---- must-fail rows ---- */

struct bad_row {
	const char *name;
	const char *text;
	const char *want[8];     /* every message, in order */
};

#define PEERS "peers = ( { name = \"enb\"; address = \"192.0.2.10\"; }, { name = \"upf\"; address = \"198.51.100.20\"; } );\n"
#define TUN(n, f, t) "{ name = \"" n "\"; from = { peer = \"enb\"; teid = " f "; }; to = { peer = \"upf\"; teid = " t "; }; }"

static const struct bad_row bad[] = {
	{ "syntax", "workers = 1;\npeers = ( { name = \"a\" }\n;\n",
	  { F ":3: syntax error: ';' inside the list opened at line 2: elements are separated by ',' "
	    "(or a ')' is missing); the line reads: ;" } },
	{ "syntax in tunnels", PEERS "tunnels = (\n" TUN("a", "1", "1") ",\n" TUN("b", "2", "2") "\n" TUN("c", "3", "3") "\n);\n",
	  { F ":5: syntax error: missing ',' before '{': elements of the list opened at line 2 are separated by "
	    "','; the line reads: { name = \"c\"; from = { peer = \"enb\"; teid = 3; }; to = { peer = "
	    "\"upf\"; teid = 3; }; }" } },
	{ "syntax in tunnels and after", "workers = 1;\ntunnels = (\ns = (\n}\n)3\n",
	  { F ":3: syntax error: setting \"s\" where a value is expected: settings belong in a group { }; "
	    "the line reads: s = (" } },
	{ "trailing comma", PEERS "tunnels = (\n" TUN("a", "1", "1") ",\n);\n",
	  { F ":3: syntax error: trailing comma before ')': remove the ',' after the last element; the line "
	    "reads: { name = \"a\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 1; }; }," } },
	{ "duplicate setting", "workers = 1;\nworkers = 2;\n", { F ":2: duplicate setting \"workers\" (first at line 1); the line reads: workers = 2;" } },
	{ "include", "workers = 1;\n@include \"other.conf\"\n", { F ":2: @include is not supported" } },
	{ "unknown top key", "workers = 1;\nfoo = 1;\n",
	  { F ":2: unknown key \"foo\" (allowed: listen, control, log_level, workers, echo, "
	      "error_indication, metrics, peers, tun, tunnels, max_runtime_tunnels, state_directory, user, group, pfcp, xdp)" } },
	{ "unknown peer key", "peers = (\n { name = \"enb\"; address = \"192.0.2.1\";\n  foo = 1; }\n);\n",
	  { F ":3: unknown key \"foo\" in peers[0] (allowed: name, address, port, echo)" } },
	{ "unknown tunnel key", PEERS "tunnels = ( { name = \"a\"; from = { peer = \"enb\"; teid = 1; tied = 2; };\n"
	  "to = { peer = \"upf\"; teid = 1; }; }\n);\n",
	  { F ":2: unknown key \"tied\" in tunnels[0].from (allowed: peer, teid)" } },
	{ "unknown control key", "control = { path = \"/run/x\"; perms = 1; };\n",
	  { F ":1: unknown key \"perms\" in control (allowed: path, group, mode, max_clients, idle_timeout)" } },
	{ "duplicate peer name", "peers = (\n { name = \"enb\"; address = \"192.0.2.1\"; },\n"
	  " { name = \"enb\"; address = \"192.0.2.2\"; }\n);\n",
	  { F ":3: peers[1].name: duplicate peer name \"enb\" (first at line 2)" } },
	{ "duplicate peer address", "peers = (\n { name = \"a\"; address = \"192.0.2.1\"; },\n"
	  " { name = \"b\"; address = \"192.0.2.1\"; port = 2153; }\n);\n",
	  { F ":3: peers[1].address: 192.0.2.1 is already the address of peer \"a\" (line 2)" } },
	{ "duplicate tunnel name", PEERS "tunnels = (\n" TUN("a", "1", "1") ",\n" TUN("a", "2", "2") "\n);\n",
	  { F ":4: tunnels[1].name: duplicate tunnel name \"a\" (first at line 3)" } },
	{ "duplicate from.teid", PEERS "tunnels = (\n" TUN("a", "0x10", "1") ",\n" TUN("b", "16", "2") "\n);\n",
	  { F ":4: tunnels[1].from.teid: duplicate from.teid 16 (0x10), first in tunnels[0] at line 3" } },
	{ "duplicate from.teid other peer", PEERS "tunnels = (\n" TUN("a", "7", "1") ",\n"
	  "{ name = \"b\"; from = { peer = \"upf\";\n teid = 7; }; to = { peer = \"enb\"; teid = 7; }; }\n);\n",
	  { F ":5: tunnels[1].from.teid: duplicate from.teid 7 (0x7), first in tunnels[0] at line 3" } },
	{ "from.teid 0", PEERS "tunnels = (\n" TUN("a", "0", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: 0 is out of range (1..4294967295)" } },
	{ "to.teid 0", PEERS "tunnels = (\n" TUN("a", "1", "0") "\n);\n",
	  { F ":3: tunnels[0].to.teid: 0 is out of range (1..4294967295)" } },
	{ "teid 2^32 hex", PEERS "tunnels = (\n" TUN("a", "0x100000000", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: 4294967296 is out of range (1..4294967295)" } },
	{ "teid 2^32+1 hex", PEERS "tunnels = (\n" TUN("a", "0x100000001", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: 4294967297 is out of range (1..4294967295)" } },
	{ "teid 2^32 decimal", PEERS "tunnels = (\n" TUN("a", "1", "4294967296") "\n);\n",
	  { F ":3: tunnels[0].to.teid: 4294967296 is out of range (1..4294967295)" } },
	{ "teid negative", PEERS "tunnels = (\n" TUN("a", "-1", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: -1 is out of range (1..4294967295)" } },
	{ "teid L suffix", PEERS "tunnels = (\n" TUN("a", "0x1FFFFFFFFL", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: 8589934591 is out of range (1..4294967295)" } },
	{ "teid beyond 64 bits", PEERS "tunnels = (\n" TUN("a", "99999999999999999999", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: 99999999999999999999 is out of range (1..4294967295)" } },
	{ "teid float", PEERS "tunnels = (\n" TUN("a", "1.5", "1") "\n);\n",
	  { F ":3: tunnels[0].from.teid: must be an integer (1..4294967295), not a float" } },
	{ "bad peer address", "peers = ( { name = \"a\";\n address = \"192.0.2.300\"; } );\n",
	  { F ":2: peers[0].address: \"192.0.2.300\" is not an IPv4 or IPv6 address" } },
	{ "peer address with port", "peers = ( { name = \"a\"; address = \"192.0.2.1:2152\"; } );\n",
	  { F ":1: peers[0].address: \"192.0.2.1:2152\" is not an IPv4 or IPv6 address" } },
	{ "bad listen address", "listen = [ \"0.0.0.0:2152\",\n \"localhost:2152\" ];\n",
	  { F ":2: listen[1]: \"localhost:2152\" is not an IP address with an optional port "
	      "(ADDR, ADDR:PORT, [V6ADDR]:PORT)" } },
	{ "listen port 0", "listen = [ \"0.0.0.0:0\" ];\n",
	  { F ":1: listen[0]: \"0.0.0.0:0\": port is out of range (1..65535)" } },
	{ "listen port 65536", "listen = [ \"[::]:65536\" ];\n",
	  { F ":1: listen[0]: \"[::]:65536\": port is out of range (1..65535)" } },
	{ "listen twice", "listen = [ \"0.0.0.0\", \"0.0.0.0:2152\" ];\n",
	  { F ":1: listen[1]: \"0.0.0.0:2152\" is listed twice" } },
	{ "listen empty", "listen = [ ];\n", { F ":1: listen: must have 1 to 16 entries" } },
	{ "peer port 0", "peers = ( { name = \"a\"; address = \"192.0.2.1\"; port = 0; } );\n",
	  { F ":1: peers[0].port: 0 is out of range (1..65535)" } },
	{ "peer port 65536", "peers = ( { name = \"a\"; address = \"192.0.2.1\"; port = 65536; } );\n",
	  { F ":1: peers[0].port: 65536 is out of range (1..65535)" } },
	{ "unknown peer", PEERS "tunnels = (\n{ name = \"a\"; from = { peer = \"enb\"; teid = 1; };\n"
	  "  to = { peer = \"sgw\"; teid = 1; }; }\n);\n",
	  { F ":4: tunnels[0].to.peer: unknown peer \"sgw\"" } },
	{ "ue without tun", PEERS "tunnels = (\n{ name = \"a\"; from = { peer = \"enb\"; teid = 1; };\n"
	  "  to = { peer = \"enb\"; teid = 1; };\n ue = [ \"10.0.0.2\" ]; }\n);\n",
	  { F ":5: tunnels[0].ue: needs a TUN device, but there is no tun group" } },
	{ "bad ue", PEERS "tun = { addresses = [ \"10.0.0.1/24\" ]; };\ntunnels = (\n"
	  "{ name = \"a\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"enb\"; teid = 1; };\n"
	  " ue = [ \"10.0.0.2\",\n \"10.0.0.300\" ]; }\n);\n",
	  { F ":6: tunnels[0].ue[1]: \"10.0.0.300\" is not an IPv4 or IPv6 address" } },
	{ "duplicate ue", PEERS "tun = { };\ntunnels = (\n"
	  "{ name = \"a\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"enb\"; teid = 1; }; ue = [ \"2001:db8::2\" ]; },\n"
	  "{ name = \"b\"; from = { peer = \"enb\"; teid = 2; }; to = { peer = \"enb\"; teid = 2; };\n"
	  "  ue = [ \"10.0.0.9\", \"2001:db8:0::2\" ]; }\n);\n",
	  { F ":6: tunnels[1].ue: 2001:db8::2 is already a ue of tunnels[0] (line 4)" } },
	{ "string for int", "workers = \"4\";\n",
	  { F ":1: workers: must be an integer (1..64), not a string" } },
	{ "int for string", PEERS "tunnels = (\n{ name = 5; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 1; }; }\n);\n",
	  { F ":3: tunnels[0].name: must be a string (1 to 63 of A-Z a-z 0-9 - _ .), not an integer" } },
	{ "int for bool", "peers = ( { name = \"a\"; address = \"192.0.2.1\"; echo = 1; } );\n",
	  { F ":1: peers[0].echo: must be true or false, not an integer" } },
	{ "group for list", "peers = { name = \"a\"; address = \"192.0.2.1\"; };\n",
	  { F ":1: peers: must be a list ( { name = \"...\"; address = \"...\"; }, ... ), not a group { ... }" } },
	{ "tunnels not a list", "tunnels = [ 1, 2 ];\n",
	  { F ":1: tunnels: must be a list ( { name = \"...\"; from = { ... }; to = { ... }; }, ... ), not an array [ ... ]" } },
	{ "mode as number", "control = { mode = 0660; };\n",
	  { F ":1: control.mode: must be a string (octal text such as \"0660\"), not an integer" } },
	{ "mode not octal", "control = { mode = \"0689\"; };\n",
	  { F ":1: control.mode: \"0689\" is not octal text such as \"0660\"" } },
	{ "mode too big", "control = { mode = \"1000\"; };\n",
	  { F ":1: control.mode: \"1000\" is out of range (\"0\"..\"0777\")" } },
	{ "relative control path", "control = { path = \"gtpud.sock\"; };\n",
	  { F ":1: control.path: \"gtpud.sock\" must be an absolute path of at most 107 bytes" } },
	{ "workers 0", "workers = 0;\n", { F ":1: workers: 0 is out of range (1..64)" } },
	{ "workers 65", "workers = 65;\n", { F ":1: workers: 65 is out of range (1..64)" } },
	{ "max_clients", "control = { max_clients = 1025; };\n",
	  { F ":1: control.max_clients: 1025 is out of range (1..1024)" } },
	{ "idle_timeout", "control = { idle_timeout = 0; };\n",
	  { F ":1: control.idle_timeout: 0 is out of range (1..86400)" } },
	{ "log_level", "log_level = \"verbose\";\n",
	  { F ":1: log_level: \"verbose\" is not one of error, warning, notice, info, debug" } },
	{ "echo t3", "echo = { t3 = 0; };\n", { F ":1: echo.t3: 0 is out of range (1..3600)" } },
	{ "echo n3", "echo = { n3 = 101; };\n", { F ":1: echo.n3: 101 is out of range (0..100)" } },
	{ "echo on_down", "echo = { on_down = \"queue\"; };\n",
	  { F ":1: echo.on_down: \"queue\" is not one of forward, drop" } },
	{ "ei rate", "error_indication = { rate = 1000001; };\n",
	  { F ":1: error_indication.rate: 1000001 is out of range (0..1000000)" } },
	{ "ei quiet", "error_indication = { quiet = 3601; };\n",
	  { F ":1: error_indication.quiet: 3601 is out of range (0..3600)" } },
	{ "metrics listen", "metrics = { listen = \"127.0.0.1:99999\"; };\n",
	  { F ":1: metrics.listen: \"127.0.0.1:99999\": port is out of range (1..65535)" } },
	{ "tun mtu", "tun = { mtu = 575; };\n", { F ":1: tun.mtu: 575 is out of range (576..65535)" } },
	{ "xdp mode", "xdp = { mode = \"fast\"; };\n", { F ":1: xdp.mode: \"fast\" is not one of native, generic, auto" } },
	{ "xdp interface twice", "xdp = { interfaces = [ \"eth0\",\n \"eth0\" ]; };\n",
	  { F ":2: xdp.interfaces[1]: \"eth0\" is named twice" } },
	{ "xdp interface name", "xdp = { interfaces = [ \"a/b\" ]; };\n",
	  { F ":1: xdp.interfaces[0]: \"a/b\" is not a valid interface name (1 to 15 characters, no '/' or space)" } },
	{ "xdp interfaces type", "xdp = { interfaces = \"eth0\"; };\n",
	  { F ":1: xdp.interfaces: must be an array of strings [ \"IFNAME\", ... ], not a string" } },
	{ "tun mtu ipv6", "tun = {\n mtu = 1279; addresses = [ \"2001:db8::1/64\" ]; };\n",
	  { F ":2: tun.mtu: 1279 is out of range for IPv6 (1280..65535)" } },
	{ "tun name", "tun = { name = \"a-very-long-name\"; };\n",
	  { F ":1: tun.name: \"a-very-long-name\" is not a valid interface name (1 to 15 characters, no '/' or space)" } },
	{ "tun address", "tun = { addresses = [ \"10.0.0.1/33\" ]; };\n",
	  { F ":1: tun.addresses[0]: \"10.0.0.1/33\" is not an address with a prefix length (10.45.0.1/16, 2001:db8::1/64)" } },
	{ "qfi", PEERS "tunnels = (\n{ name = \"a\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 1; }; qfi = 64; }\n);\n",
	  { F ":3: tunnels[0].qfi: 64 is out of range (0..63)" } },
	{ "burst without rate", PEERS "tunnels = (\n{ name = \"a\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 1; }; burst = 3000; }\n);\n",
	  { F ":3: tunnels[0].burst: has no effect without a rate" } },
	{ "bad name", "peers = ( { name = \"e nb\"; address = \"192.0.2.1\"; } );\n",
	  { F ":1: peers[0].name: \"e nb\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" } },
	{ "missing peer keys", "peers = (\n { port = 2152; }\n);\n",
	  { F ":2: peers[0]: missing required key \"name\"",
	    F ":2: peers[0]: missing required key \"address\"" } },
	{ "missing tunnel keys", PEERS "tunnels = (\n { qfi = 1; }\n);\n",
	  { F ":3: tunnels[0]: missing required key \"name\"",
	    F ":3: tunnels[0]: missing required key \"from\"",
	    F ":3: tunnels[0]: missing required key \"to\"" } },
	{ "missing from keys", PEERS "tunnels = (\n { name = \"a\"; from = { }; to = { peer = \"upf\"; teid = 1; }; }\n);\n",
	  { F ":3: tunnels[0].from: missing required key \"peer\"",
	    F ":3: tunnels[0].from: missing required key \"teid\"" } },
	{ "tunnel not a group", PEERS "tunnels = (\n \"a\" );\n",
	  { F ":3: tunnels[0]: must be a group { name = \"...\"; from = { ... }; to = { ... }; }, not a string" } },
	{ "several errors", "workers = 0;\n"
	  "peers = ( { name = \"enb\"; address = \"192.0.2.1\"; port = 0; },\n"
	  "          { name = \"enb\"; address = \"nowhere\"; } );\n"
	  "tunnels = ( { name = \"a\"; from = { peer = \"x\"; teid = 0; }; to = { peer = \"enb\"; teid = 1; }; } );\n",
	  { F ":1: workers: 0 is out of range (1..64)",
	    F ":2: peers[0].port: 0 is out of range (1..65535)",
	    F ":3: peers[1].name: duplicate peer name \"enb\" (first at line 2)",
	    F ":3: peers[1].address: \"nowhere\" is not an IPv4 or IPv6 address",
	    F ":4: tunnels[0].from.peer: unknown peer \"x\"",
	    F ":4: tunnels[0].from.teid: 0 is out of range (1..4294967295)" } },
};

static void test_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct bad_row *b = &bad[i];
		struct conf_errors e;
		struct conf *c = (struct conf *)1;
		unsigned n = 0, k;
		int r;

		while (n < 8 && b->want[n])
			n++;
		r = conf_read_string(b->text, F, &c, &e);
		if (r != -EINVAL || e.count != n || e.n != n)
			print_message("row \"%s\": r %d, %u errors\n", b->name, r, e.count);
		for (k = 0; k < e.n; k++)
			if (k >= n || strcmp(e.msg[k], b->want[k]))
				print_message("row \"%s\": got  %s\n          want %s\n", b->name,
					      e.msg[k], k < n ? b->want[k] : "(nothing)");
		assert_int_equal(r, -EINVAL);
		assert_null(c);
		assert_int_equal(e.count, n);
		assert_int_equal(e.n, n);
		for (k = 0; k < n; k++)
			assert_string_equal(e.msg[k], b->want[k]);
		conf_errors_fini(&e);
		assert_int_equal(e.n, 0);
	}
}

/* More errors than are kept: all counted, the first CONF_MAX_ERRORS kept. */
/* A name holding a newline (or any control character) is quoted escaped:
 * it once forged a log line with a priority prefix of its own. */
static void test_control_chars(void **state)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;

	assert_int_equal(conf_read_string("peers = ( { name = \"a\\n<3>b\\x01\"; address = \"192.0.2.1\"; } );\n",
					  "e.conf", &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "e.conf:1: peers[0].name: \"a\\n<3>b\\x01\" is not a valid name "
			    "(1 to 63 of A-Z a-z 0-9 - _ .)");
	assert_null(strchr(errs.msg[0], '\n'));
	conf_errors_fini(&errs);
}

static void test_many_errors(void **state)
{
	size_t cap = 200 * 128, off = 0;
	char *t = malloc(cap);
	struct conf_errors e;
	struct conf *c;
	unsigned i;

	(void)state;
	off += (size_t)snprintf(t + off, cap - off, PEERS "tunnels = (\n");
	for (i = 0; i < 150; i++)
		off += (size_t)snprintf(t + off, cap - off, "%s" TUN("t%u", "0", "1") "\n",
					i ? "," : "", i);
	snprintf(t + off, cap - off, ");\n");
	assert_int_equal(conf_read_string(t, F, &c, &e), -EINVAL);
	assert_int_equal(e.count, 150);
	assert_int_equal(e.n, CONF_MAX_ERRORS);
	assert_string_equal(e.msg[0], F ":3: tunnels[0].from.teid: 0 is out of range (1..4294967295)");
	assert_string_equal(e.msg[99], F ":102: tunnels[99].from.teid: 0 is out of range (1..4294967295)");
	conf_errors_fini(&e);
	free(t);
}

/* A list long enough to be cut into several chunks: values, lines and
 * indexes of errors found in late chunks must be those of the file. */
static char *big_text(unsigned n, unsigned dup_at, unsigned syntax_at)
{
	size_t cap = (size_t)n * 160 + 512, off = 0;
	char *t = malloc(cap);
	unsigned i;

	off += (size_t)snprintf(t + off, cap - off, PEERS "tun = { };\ntunnels = (\n");
	for (i = 0; i < n; i++) {
		unsigned teid = i == dup_at ? 1 : i + 1;
		off += (size_t)snprintf(t + off, cap - off,
					"%s{ name = \"t%u\"; from = { peer = \"enb\"; teid = %u; };\n"
					"  to = { peer = \"upf\"; teid = %u; }; ue = [ \"10.%u.%u.%u\" ]; }%s\n",
					i ? "," : "", i, teid, 0xfffffff0u - i, i >> 16, (i >> 8) & 255,
					i & 255, i == syntax_at ? " ;" : "");
	}
	snprintf(t + off, cap - off, ");\nworkers = 3;\n");
	return t;
}

static void test_big(void **state)
{
	char *t = big_text(3000, UINT32_MAX, UINT32_MAX);
	struct conf *c = load_ok(t);
	struct conf_errors e;
	unsigned i;

	(void)state;
	assert_int_equal(c->n_tunnels, 3000);
	assert_int_equal(c->workers, 3);
	for (i = 0; i < 3000; i++) {
		char name[16];
		snprintf(name, sizeof name, "t%u", i);
		assert_string_equal(c->tunnels[i].name, name);
		assert_int_equal(c->tunnels[i].from_teid, i + 1);
		assert_int_equal(c->tunnels[i].to_teid, 0xfffffff0u - i);
		assert_int_equal(c->tunnels[i].line, 4 + 2 * (int)i);
		assert_int_equal(c->tunnels[i].n_ue, 1);
		assert_int_equal(c->tunnels[i].ue[0].addr[3], i & 255);
	}
	conf_free(c);
	free(t);

	t = big_text(3000, 2900, UINT32_MAX);
	assert_int_equal(conf_read_string(t, F, &c, &e), -EINVAL);
	assert_int_equal(e.count, 1);
	assert_string_equal(e.msg[0], F ":5804: tunnels[2900].from.teid: duplicate from.teid 1 (0x1), "
			    "first in tunnels[0] at line 4");
	conf_errors_fini(&e);
	free(t);

	t = big_text(3000, UINT32_MAX, 2000);
	assert_int_equal(conf_read_string(t, F, &c, &e), -EINVAL);
	assert_int_equal(e.count, 1);
	assert_string_equal(e.msg[0], F ":4005: syntax error: ';' inside the list opened at line 3: elements "
			    "are separated by ',' (or a ')' is missing); the line reads: to = { peer = \"upf\"; "
			    "teid = 4294965280; }; ue = [ \"10.0.7.208\" ]; } ;");
	conf_errors_fini(&e);
	free(t);
}

/* ---- the fast scanner against libconfig ---- */

/* In conf.c, for tests only: the fast scanner's switch and its count of
 * chunks loaded. */
extern bool conf_fast_scan_off;
extern atomic_uint conf_fast_scan_chunks;

/* Loads text with the fast scanner on or off; *fast: chunks it loaded. */
static int load_mode(const char *text, bool off, struct conf **c, struct conf_errors *e,
		     unsigned *fast)
{
	unsigned before = atomic_load(&conf_fast_scan_chunks);
	int r;

	conf_fast_scan_off = off;
	r = conf_read_string(text, F, c, e);
	conf_fast_scan_off = false;
	*fast = atomic_load(&conf_fast_scan_chunks) - before;
	return r;
}

static void assert_same_tunnels(const struct conf *a, const struct conf *b)
{
	uint32_t i;
	int k;

	assert_int_equal(a->n_tunnels, b->n_tunnels);
	for (i = 0; i < a->n_tunnels; i++) {
		const struct conf_tunnel *x = &a->tunnels[i], *y = &b->tunnels[i];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->from_peer, y->from_peer);
		assert_int_equal(x->from_teid, y->from_teid);
		assert_int_equal(x->to_peer, y->to_peer);
		assert_int_equal(x->to_teid, y->to_teid);
		assert_int_equal(x->n_ue, y->n_ue);
		for (k = 0; k < x->n_ue; k++)
			assert_memory_equal(&x->ue[k], &y->ue[k], sizeof x->ue[k]);
		assert_int_equal(x->qfi, y->qfi);
		assert_int_equal(x->rate, y->rate);
		assert_int_equal(x->burst, y->burst);
		assert_int_equal(x->line, y->line);
	}
}

struct fast_row {
	const char *name;
	const char *body;         /* the tunnels list, from line 4 */
	bool fast;                /* the fast scanner takes it (else libconfig) */
	const char *err[3];       /* every message; none: a valid file */
	/* tunnels[0] of a valid file */
	const char *t_name;
	uint32_t from_teid, to_teid, to_peer;
	int qfi;
	uint64_t rate, burst;
	uint8_t n_ue;
	const char *ue[2];
	int line;
};

#define FHEAD PEERS "tun = { };\ntunnels = (\n"
#define FROM "from = { peer = \"enb\"; teid = 1; }; "
#define TO "to = { peer = \"upf\"; teid = 2; }; "
#define ALLOWED "(allowed: name, from, to, ue, qfi, rate, burst)"
#define EROW(n, b, f, ...) { .name = n, .body = b, .fast = f, .err = { __VA_ARGS__ } }

static const struct fast_row fast_rows[] = {
	{ "canonical", TUN("a", "1", "2"), true, { NULL }, "a", 1, 2, 1, -1, 0, 0, 0, { NULL }, 4 },
	{ "comments", "# one\n// two\n/* three ( { \"\n */ { /* a */ name /* b */ = \"c\" # d\n"
	  "; " FROM "// e\n" TO "/**/}", true, { NULL }, "c", 1, 2, 1, -1, 0, 0, 0, { NULL }, 7 },
	{ "hex and L", "{ name = \"h\"; from = { peer = \"enb\"; teid = 0x10; }; "
	  "to = { peer = \"upf\"; teid = 0XFFFFFFFFL; }; qfi = 0x3fL; rate = 1000000000000L; "
	  "burst = 0x3E8; }", true, { NULL }, "h", 16, 0xffffffff, 1, 63, 1000000000000ull, 1000, 0,
	  { NULL }, 4 },
	{ "wide without L", "{ name = \"w\"; from = { peer = \"enb\"; teid = 00042; }; "
	  "to = { peer = \"upf\"; teid = 4294967295; }; rate = 5000000000; burst = 0; }", true,
	  { NULL }, "w", 42, 0xffffffff, 1, -1, 5000000000ull, 0, 0, { NULL }, 4 },
	{ "escapes", "{ name = \"\\x61\\x2Db\"; from = { peer = \"\\x65nb\"; teid = 1; }; "
	  "to = { peer = \"up\\x66\"; teid = 2; }; ue = [ \"10.0.0.\\x31\" ]; }", true,
	  { NULL }, "a-b", 1, 2, 1, -1, 0, 0, 1, { "10.0.0.1" }, 4 },
	{ "ue array", "{ name = \"u\"; " FROM TO "ue = [ \"10.0.0.1\" , \"2001:db8::1\" ]; }",
	  true, { NULL }, "u", 1, 2, 1, -1, 0, 0, 2, { "10.0.0.1", "2001:db8::1" }, 4 },
	{ "ue list", "{ name = \"u\"; " FROM TO "ue = ( \"2001:db8::2\" ) }", true, { NULL }, "u",
	  1, 2, 1, -1, 0, 0, 1, { "2001:db8::2" }, 4 },
	{ "ue empty", "{ name = \"u\"; " FROM TO "ue = [ ]; }", true, { NULL }, "u", 1, 2, 1, -1,
	  0, 0, 0, { NULL }, 4 },
	{ "keys in another order", "\n  {\n  to : { teid : 7, peer : \"enb\" }, qfi = 9, rate = 8\n"
	  "  burst = 7, from = { teid = 5 peer = \"upf\" } name = \"o\", }", true, { NULL }, "o",
	  5, 7, 0, 9, 8, 7, 0, { NULL }, 5 },
	{ "lines of duplicates", "{\n name\n =\n \"d\";\n from = {\n peer = \"enb\";\n teid\n = 1; };\n"
	  " " TO "ue = [ \"10.0.0.1\" ]; },\n{ " FROM TO "name = \"d\";\n ue\n = [ \"10.0.0.1\" ]; }",
	  true,
	  { F ":13: tunnels[1].name: duplicate tunnel name \"d\" (first at line 5)",
	    F ":13: tunnels[1].from.teid: duplicate from.teid 1 (0x1), first in tunnels[0] at line 10",
	    F ":14: tunnels[1].ue: 10.0.0.1 is already a ue of tunnels[0] (line 12)" },
	  NULL, 0, 0, 0, 0, 0, 0, 0, { NULL }, 0 },
	/* Not for the fast scanner: libconfig reads them as before. */
	{ "joined strings", "{ name = \"t\" \"1\"; " FROM TO "}", false, { NULL }, "t1", 1, 2, 1,
	  -1, 0, 0, 0, { NULL }, 4 },
	{ "LL", "{ name = \"l\"; " FROM TO "qfi = 5LL; }", false, { NULL }, "l", 1, 2, 1, 5, 0, 0,
	  0, { NULL }, 4 },
	{ "plus sign", "{ name = \"p\"; " FROM TO "qfi = +5; }", false, { NULL }, "p", 1, 2, 1, 5,
	  0, 0, 0, { NULL }, 4 },
	{ "NUL escape", "{ name = \"n\\x00\"; " FROM TO "}", false, { NULL }, "n", 1, 2, 1, -1, 0, 0,
	  0, { NULL }, 4 },
	EROW("unknown key", "{ name = \"k\"; " FROM TO "\n foo = 1; }", false,
	     F ":5: unknown key \"foo\" in tunnels[0] " ALLOWED),
	EROW("key twice", "{ name = \"k\"; " FROM TO "\n name = \"k\"; }", false,
	     F ":5: duplicate setting \"name\" (first at line 4); the line reads: name = \"k\"; }"),
	EROW("wrong type", "{ name = \"k\"; " TO "from = { peer = \"enb\"; teid = \"1\"; }; }", false,
	     F ":4: tunnels[0].from.teid: must be an integer (1..4294967295), not a string"),
	EROW("float", "{ name = \"k\"; " FROM TO "qfi = 1.0; }", false,
	     F ":4: tunnels[0].qfi: must be an integer (0..63), not a float"),
	EROW("negative", "{ name = \"k\"; " FROM TO "rate = -1; }", false,
	     F ":4: tunnels[0].rate: -1 is out of range (0..1000000000000)"),
	EROW("beyond 64 bits", "{ name = \"k\"; " FROM TO "rate = 0x1FFFFFFFFFFFFFFFFL; }", false,
	     F ":4: tunnels[0].rate: 0x1FFFFFFFFFFFFFFFFL is out of range (0..1000000000000)"),
	EROW("out of range", "{ name = \"k\"; " FROM TO "qfi = 64; }", false,
	     F ":4: tunnels[0].qfi: 64 is out of range (0..63)"),
	EROW("odd escape", "{ name = \"a\\qb\"; " FROM TO "}", false,
	     F ":4: tunnels[0].name: \"a\\qb\" is not a valid name (" "1 to 63 of A-Z a-z 0-9 - _ ." ")"),
	EROW("escaped quote", "{ name = \"a\\\"b\"; " FROM TO "}", false,
	     F ":4: tunnels[0].name: \"a\"b\" is not a valid name (" "1 to 63 of A-Z a-z 0-9 - _ ." ")"),
	EROW("missing key", "{ name = \"k\"; " FROM "}", false,
	     F ":4: tunnels[0]: missing required key \"to\""),
	EROW("unknown peer", "{ name = \"k\"; " TO "from = { peer = \"x\"; teid = 1; }; }", false,
	     F ":4: tunnels[0].from.peer: unknown peer \"x\""),
	EROW("burst alone", "{ name = \"k\"; " FROM TO "burst = 9; }", false,
	     F ":4: tunnels[0].burst: has no effect without a rate"),
	EROW("ue twice", "{ name = \"k\"; " FROM TO "ue = [ \"10.0.0.1\",\n \"10.0.0.1\" ]; }", false,
	     F ":5: tunnels[0].ue[1]: 10.0.0.1 is listed twice"),
	EROW("ue not an address", "{ name = \"k\"; " FROM TO "ue = ( \"10.0.0\" ); }", false,
	     F ":4: tunnels[0].ue[0]: \"10.0.0\" is not an IPv4 or IPv6 address"),
	EROW("ue not a string", "{ name = \"k\"; " FROM TO "ue = [ 1 ]; }", false,
	     F ":4: tunnels[0].ue[0]: must be a string (IPv4 or IPv6 address), not an integer"),
	EROW("not a group", "\"k\"", false,
	     F ":5: tunnels[0]: must be a group { name = \"...\"; from = { ... }; to = { ... }; }, "
	      "not a string"),
	EROW("syntax", "{ name = \"k\"; " FROM TO "};", false,
	     F ":4: syntax error: ';' inside the list opened at line 3: elements are separated by ',' (or a "
	     "')' is missing); the line reads: { name = \"k\"; from = { peer = \"enb\"; teid = 1; }; to = { "
	     "peer = \"upf\"; teid = 2; }; };"),
};

static void test_fast_scan(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof fast_rows / sizeof fast_rows[0]; i++) {
		const struct fast_row *w = &fast_rows[i];
		struct conf *c[2];
		struct conf_errors e[2];
		unsigned fast[2], n = 0, k;
		char *text;
		int r[2], m;

		assert_true(asprintf(&text, FHEAD "%s\n);\n", w->body) > 0);
		print_message("row \"%s\"\n", w->name);
		for (m = 0; m < 2; m++)
			r[m] = load_mode(text, m == 1, &c[m], &e[m], &fast[m]);
		assert_int_equal(fast[0], w->fast ? 1 : 0);
		assert_int_equal(fast[1], 0);
		while (n < 3 && w->err[n])
			n++;
		for (m = 0; m < 2; m++) {
			for (k = 0; k < e[m].n; k++)
				if (k >= n || strcmp(e[m].msg[k], w->err[k]))
					print_message("got  %s\nwant %s\n", e[m].msg[k],
						      k < n ? w->err[k] : "(nothing)");
			assert_int_equal(r[m], n ? -EINVAL : 0);
			assert_int_equal(e[m].count, n);
			for (k = 0; k < n; k++)
				assert_string_equal(e[m].msg[k], w->err[k]);
			conf_errors_fini(&e[m]);
		}
		if (!n) {
			const struct conf_tunnel *t = &c[0]->tunnels[0];
			assert_same_tunnels(c[0], c[1]);
			assert_string_equal(t->name, w->t_name);
			assert_int_equal(t->from_teid, w->from_teid);
			assert_int_equal(t->to_teid, w->to_teid);
			assert_int_equal(t->from_peer, 1 - w->to_peer);
			assert_int_equal(t->to_peer, w->to_peer);
			assert_int_equal(t->qfi, w->qfi);
			assert_int_equal(t->rate, w->rate);
			assert_int_equal(t->burst, w->burst);
			assert_int_equal(t->line, w->line);
			assert_int_equal(t->n_ue, w->n_ue);
			for (k = 0; k < w->n_ue; k++)
				assert_addr(&t->ue[k], w->ue[k], 0);
		}
		conf_free(c[0]);
		conf_free(c[1]);
		free(text);
	}
}

/* Many chunks: the same rows and the same duplicate message either way,
 * and a chunk the fast scanner gives up on among chunks it takes. */
static void test_fast_scan_big(void **state)
{
	char *t = big_text(3000, UINT32_MAX, UINT32_MAX);
	struct conf *c[2];
	struct conf_errors e[2];
	unsigned fast[2];
	int m;

	(void)state;
	for (m = 0; m < 2; m++) {
		assert_int_equal(load_mode(t, m == 1, &c[m], &e[m], &fast[m]), 0);
		conf_errors_fini(&e[m]);
	}
	assert_int_equal(fast[0], (3000 + 255) / 256);
	assert_int_equal(fast[1], 0);
	assert_same_tunnels(c[0], c[1]);
	conf_free(c[0]);
	conf_free(c[1]);
	free(t);

	t = big_text(3000, 2900, 10);   /* " ;" after tunnels[10]: a syntax error */
	for (m = 0; m < 2; m++) {
		assert_int_equal(load_mode(t, m == 1, &c[m], &e[m], &fast[m]), -EINVAL);
		assert_int_equal(e[m].count, 1);
		assert_string_equal(e[m].msg[0], F ":25: syntax error: ';' inside the list opened at line 3: "
				    "elements are separated by ',' (or a ')' is missing); the line reads: to = { "
				    "peer = \"upf\"; teid = 4294967270; }; ue = [ \"10.0.0.10\" ]; } ;");
		conf_errors_fini(&e[m]);
	}
	assert_int_equal(fast[0], (3000 + 255) / 256 - 1);
	free(t);

	/* An error in chunk 0 and a duplicate in chunk 11. */
	t = big_text(3000, 2900, UINT32_MAX);
	memcpy(strstr(t, "teid = 5;"), "teid = 0;", 9);
	for (m = 0; m < 2; m++) {
		assert_int_equal(load_mode(t, m == 1, &c[m], &e[m], &fast[m]), -EINVAL);
		assert_int_equal(e[m].count, 2);
		assert_string_equal(e[m].msg[0], F ":12: tunnels[4].from.teid: 0 is out of range "
				    "(1..4294967295)");
		assert_string_equal(e[m].msg[1], F ":5804: tunnels[2900].from.teid: duplicate "
				    "from.teid 1 (0x1), first in tunnels[0] at line 4");
		conf_errors_fini(&e[m]);
	}
	assert_int_equal(fast[0], (3000 + 255) / 256 - 1);
	free(t);
}

static void test_read_file(void **state)
{
	struct conf_errors e;
	struct conf *c;

	(void)state;
	assert_int_equal(conf_read_file("/nonexistent/gtpud.conf", &c, &e), -ENOENT);
	assert_null(c);
	assert_int_equal(e.count, 1);
	assert_string_equal(e.msg[0], "/nonexistent/gtpud.conf: cannot read: No such file or directory");
	conf_errors_fini(&e);
	assert_int_equal(conf_read_file("/", &c, &e), -EISDIR);
	assert_string_equal(e.msg[0], "/: cannot read: Is a directory");
	conf_errors_fini(&e);
}

/* gtpuctl -c: the control path from the control group alone. */
static void test_control_path(void **state)
{
	static const struct { const char *text, *path, *err; } rows[] = {
		{ "workers = 1;\n", CONF_DEFAULT_CONTROL_PATH, NULL },
		{ "control = { path = \"/x/y.sock\"; };\n", "/x/y.sock", NULL },
		{ "control: { mode = \"0600\"; }\n", CONF_DEFAULT_CONTROL_PATH, NULL },
		/* The rest broken, keys and syntax: the path still. */
		{ "workers = 999;\npeers = ( { name = enb } );\ncontrol = { path = \"/a.sock\"; mode = \"9\"; bogus = 1; };\n"
		  "tunnels = ( , );\n", "/a.sock", NULL },
		/* A control inside a group is not the top-level one. */
		{ "echo = { control = { path = \"/no.sock\"; }; };\ncontrol = { path = \"/yes.sock\"; };\n", "/yes.sock", NULL },
		{ "# control = { path = \"/no.sock\"; };\nx = \"control = {\";\n", CONF_DEFAULT_CONTROL_PATH, NULL },
		{ "\n\ncontrol = { path = \"rel.sock\"; };\n", NULL,
		  F ":3: control.path: \"rel.sock\" is not an absolute path" },
		{ "control = { };\n", CONF_DEFAULT_CONTROL_PATH, NULL },
		{ "control = { path = \"/x\"; path = \"/y\"; };\n", NULL,
		  F ":1: duplicate setting \"path\" (first at line 1); the line reads: control = { path = \"/x\"; "
		  "path = \"/y\"; };" },
		{ "control = { path = [ \"/x\" ]; };\n", NULL,
		  F ":1: control.path: must be a string (an absolute path), not an array [ ... ]" },
		{ "control = { path = 5; };\n", NULL,
		  F ":1: control.path: must be a string (an absolute path), not an integer" },
		{ "control = \"/x.sock\";\n", NULL,
		  F ":1: control: must be a group { path = \"...\"; ... }, not a string" },
		{ "workers = 1;\ncontrol = { path = \"/x.sock\"\n", NULL,
		  F ":2: syntax error: missing '}': the group opened at line 2 is not closed; the line reads: "
		  "control = { path = \"/x.sock\"" },
	};
	char file[] = "/tmp/test_conf.XXXXXX";
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct conf_errors e;
		char *path, want[256];
		FILE *f = fopen(file, "w");
		int r;

		fputs(rows[i].text, f);
		fclose(f);
		r = conf_read_control_path(file, &path, &e);
		if (rows[i].path) {
			if (r != 0)
				fail_msg("row %zu: %d %s", i, r, e.n ? e.msg[0] : "");
			assert_string_equal(path, rows[i].path);
			free(path);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_null(path);
			if (e.n != 1)
				fail_msg("row %zu: %u errors: %s | %s", i, e.n, e.msg[0], e.n > 1 ? e.msg[1] : "");
			/* Messages name the file: F stands for it here. */
			snprintf(want, sizeof want, "%s%s", file, rows[i].err + strlen(F));
			assert_string_equal(e.msg[0], want);
		}
		conf_errors_fini(&e);
	}
	{
		struct conf_errors e;
		char *path = NULL;

		assert_int_equal(conf_read_control_path("/nonexistent.conf", &path, &e), -ENOENT);
		assert_null(path);
		assert_int_equal(e.n, 1);
		conf_errors_fini(&e);
	}
	unlink(file);
}

/* A struct conf filled in by hand (as for runtime tunnels) is freed too. */
static void test_free_by_hand(void **state)
{
	struct conf *c = calloc(1, sizeof *c);

	(void)state;
	c->n_tunnels = 1;
	c->tunnels = calloc(1, sizeof *c->tunnels);
	c->tunnels[0].name = strdup("x");
	c->tunnels[0].n_ue = 1;
	c->tunnels[0].ue = calloc(1, sizeof *c->tunnels[0].ue);
	conf_free(c);
	conf_free(NULL);
}

/* ---- address helpers ---- */

struct ep_row {
	const char *s;
	int ret;
	const char *addr;
	uint16_t port;
};

static const struct ep_row eps[] = {
	{ "192.0.2.1", 0, "192.0.2.1", 2152 },
	{ "192.0.2.1:80", 0, "192.0.2.1", 80 },
	{ "[2001:db8::1]:65535", 0, "2001:db8::1", 65535 },
	{ "[2001:db8::1]", 0, "2001:db8::1", 2152 },
	{ "2001:db8::1", 0, "2001:db8::1", 2152 },
	{ "[::]:1", 0, "::", 1 },
	{ "192.0.2.1:0", -ERANGE, NULL, 0 },
	{ "192.0.2.1:65536", -ERANGE, NULL, 0 },
	{ "192.0.2.1:99999999999", -ERANGE, NULL, 0 },
	{ "192.0.2.1:", -EINVAL, NULL, 0 },
	{ "192.0.2.1:+80", -EINVAL, NULL, 0 },
	{ "192.0.2.1:0x50", -EINVAL, NULL, 0 },
	{ "[192.0.2.1]:80", -EINVAL, NULL, 0 },
	{ "[2001:db8::1]80", -EINVAL, NULL, 0 },
	{ "[2001:db8::1", -EINVAL, NULL, 0 },
	{ "example.org:80", -EINVAL, NULL, 0 },
	{ "", -EINVAL, NULL, 0 },
	{ "fe80::1%eth0", -ENXIO, NULL, 0 },
	{ "[fe80::1%eth0]:2152", -ENXIO, NULL, 0 },
	{ "::1:2152", -EDOM, NULL, 0 },
	{ "2001:db8::1:2", -EDOM, NULL, 0 },
	{ ":::2152", -EDOM, NULL, 0 },
	{ "::2152", 0, "::2152", 2152 },
	{ "2001:db8::", 0, "2001:db8::", 2152 },
};

static void test_xdp_group(void **state)
{
	struct conf *c = load_ok("xdp = { interfaces = [ \"eth0\", \"veth-upf\" ]; mode = \"generic\"; };\n");

	(void)state;
	assert_int_equal(c->xdp.n_ifaces, 2);
	assert_string_equal(c->xdp.ifaces[0], "eth0");
	assert_string_equal(c->xdp.ifaces[1], "veth-upf");
	assert_int_equal(c->xdp.mode, CONF_XDP_GENERIC);
	conf_free(c);
	c = load_ok("xdp = { interfaces = [ \"eth0\" ]; };\n");
	assert_int_equal(c->xdp.mode, CONF_XDP_AUTO);
	conf_free(c);
	c = load_ok("workers = 1;\n");
	assert_int_equal(c->xdp.n_ifaces, 0);
	conf_free(c);
}

static void test_log_levels(void **state)
{
	static const struct { const char *name; int level; } rows[] = {
		{ "error", CONF_LOG_ERROR }, { "warning", CONF_LOG_WARNING }, { "notice", CONF_LOG_NOTICE },
		{ "info", CONF_LOG_INFO }, { "debug", CONF_LOG_DEBUG },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct conf_errors e;
		struct conf *c;

		snprintf(text, sizeof text, "log_level = \"%s\";\n", rows[i].name);
		assert_int_equal(conf_read_string(text, F, &c, &e), 0);
		assert_int_equal(c->log_level, rows[i].level);
		conf_free(c);
		conf_errors_fini(&e);
	}
}

static void test_endpoint(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof eps / sizeof eps[0]; i++) {
		struct conf_addr a = { 0 };
		int r = conf_parse_endpoint(eps[i].s, 2152, &a);
		if (r != eps[i].ret)
			print_message("\"%s\": %d\n", eps[i].s, r);
		assert_int_equal(r, eps[i].ret);
		if (!r)
			assert_addr(&a, eps[i].addr, eps[i].port);
	}
}

static void test_prefix_addr(void **state)
{
	static const struct { const char *s; int ret; const char *addr; int plen; } rows[] = {
		{ "10.45.0.1/16", 0, "10.45.0.1", 16 },
		{ "10.45.0.1", 0, "10.45.0.1", 32 },
		{ "10.45.0.1/0", 0, "10.45.0.1", 0 },
		{ "2001:db8::1/64", 0, "2001:db8::1", 64 },
		{ "2001:db8::1/128", 0, "2001:db8::1", 128 },
		{ "2001:db8::1", 0, "2001:db8::1", 128 },
		{ "10.45.0.1/33", -ERANGE, NULL, 0 },
		{ "2001:db8::1/129", -ERANGE, NULL, 0 },
		{ "10.45.0.1/", -EINVAL, NULL, 0 },
		{ "10.45.0.1/1a", -EINVAL, NULL, 0 },
		{ "10.45.0.1/0016", -EINVAL, NULL, 0 },
		{ "/16", -EINVAL, NULL, 0 },
	};
	struct conf_addr a;
	char buf[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct conf_prefix p = { 0 };
		int r = conf_parse_prefix(rows[i].s, &p);
		if (r != rows[i].ret)
			print_message("\"%s\": %d\n", rows[i].s, r);
		assert_int_equal(r, rows[i].ret);
		if (!r) {
			assert_addr(&p.addr, rows[i].addr, 0);
			assert_int_equal(p.plen, rows[i].plen);
		}
	}
	assert_int_equal(conf_parse_addr("192.0.2.1:1", &a), -EINVAL);
	assert_int_equal(conf_parse_addr(" 192.0.2.1", &a), -EINVAL);
	assert_int_equal(conf_parse_addr("::ffff:192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	/* Too small a buffer: "?" rather than a cut address. */
	assert_int_equal(conf_parse_addr("2001:db8::1", &a), 0);
	assert_string_equal(conf_addr_str(&a, buf, sizeof buf), "?");
	a.family = 0;
	assert_string_equal(conf_addr_str(&a, buf, sizeof buf), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_endpoint_example_file),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_syntax_variants),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_fast_scan),
		cmocka_unit_test(test_fast_scan_big),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_control_path),
		cmocka_unit_test(test_free_by_hand),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_xdp_group),
		cmocka_unit_test(test_prefix_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
