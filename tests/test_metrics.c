/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the Prometheus exposition: exact lines from a fixed JSON,
 * HELP and TYPE for every family, label escaping, zero-valued series, and
 * promtool's verdict when promtool is installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"

static const char status_json[] =
	"{\"version\":\"0.1.0\",\"pid\":42,\"uptime\":3725,\"config\":\"/etc/gtpud/gtpud.conf\","
	"\"workers\":2,\"peers\":3,\"peers_up\":1,\"tunnels\":2,\"runtime_tunnels\":1,"
	"\"reloads\":4,\"last_reload\":\"failed\"}";

static const char stats_json[] =
	"{\"rx_packets\":1000,\"rx_bytes\":1500000,\"tx_packets\":990,\"tx_bytes\":1485000,"
	"\"forwarded\":980,\"answered\":10,\"signalling_answered\":6,\"signalling_received\":4,\"dropped\":10,"
	"\"drops\":{\"unknown_teid\":7,\"malformed\":3,\"wrong_peer\":0},"
	"\"echo_requests_sent\":5,\"echo_requests_received\":6,\"echo_responses_sent\":6,"
	"\"echo_responses_received\":4,\"error_indications_sent\":7,\"error_indications_received\":2,"
	"\"supp_ext_notifs_sent\":1,\"end_markers\":0,\"tun_rx_packets\":0,\"tun_tx_packets\":0,"
	"\"log_lines\":12,\"log_lines_suppressed\":18446744073709551615}";

static const char peers_json[] =
	"[{\"name\":\"enb\",\"address\":\"192.0.2.10\",\"port\":2152,\"echo\":false,\"state\":\"unknown\","
	"\"rtt_us\":null,\"recovery\":null,\"rx_packets\":600,\"rx_bytes\":900000,\"tx_packets\":390,"
	"\"tx_bytes\":585000,\"echo_requests_sent\":0,\"echo_timeouts\":0,\"down_count\":0,"
	"\"error_indications_received\":0},"
	"{\"name\":\"upf\",\"address\":\"2001:db8::20\",\"port\":2152,\"echo\":true,\"state\":\"up\","
	"\"rtt_us\":1250,\"recovery\":0,\"rx_packets\":400,\"rx_bytes\":600000,\"tx_packets\":600,"
	"\"tx_bytes\":900000,\"echo_requests_sent\":5,\"echo_timeouts\":1,\"down_count\":1,"
	"\"error_indications_received\":2},"
	"{\"name\":\"we\\\"ird\\\\pe\\ner\",\"address\":\"198.51.100.7\",\"port\":2153,\"echo\":true,"
	"\"state\":\"down\",\"rtt_us\":null,\"recovery\":null}]";

static const char tunnels_json[] =
	"[{\"name\":\"ue1-up\",\"runtime\":false,\"from\":{\"peer\":\"enb\",\"teid\":256},"
	"\"to\":{\"peer\":\"upf\",\"teid\":512},\"ue\":[],\"qfi\":null,\"rate\":null,\"burst\":null,"
	"\"rx_packets\":300,\"rx_bytes\":450000,\"tx_packets\":300,\"tx_bytes\":450000,\"dropped\":12,"
	"\"drops\":{\"wrong_peer\":2,\"rate_limit\":10},"
	"\"error_indications_received\":0},"
	"{\"name\":\"ue3\",\"runtime\":true,\"from\":{\"peer\":\"enb\",\"teid\":1024},"
	"\"to\":{\"peer\":\"upf\",\"teid\":1280},\"ue\":[\"10.45.0.3\"],\"qfi\":9,\"rate\":1000000,"
	"\"burst\":3000,\"rx_packets\":0,\"rx_bytes\":0,\"tx_packets\":0,\"tx_bytes\":0,\"dropped\":0,\"drops\":{},"
	"\"error_indications_received\":0}]";

static char *render_fixture(void)
{
	json_object *st = json_tokener_parse(status_json), *sa = json_tokener_parse(stats_json),
		    *pe = json_tokener_parse(peers_json), *tu = json_tokener_parse(tunnels_json);
	char *text;

	assert_non_null(st);
	assert_non_null(sa);
	assert_non_null(pe);
	assert_non_null(tu);
	text = metrics_render(st, sa, pe, tu);
	json_object_put(st);
	json_object_put(sa);
	json_object_put(pe);
	json_object_put(tu);
	assert_non_null(text);
	return text;
}

static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("missing line: %s", line);
}

static void test_lines(void **state)
{
	static const char *const lines[] = {
		"gtpud_build_info{version=\"0.1.0\"} 1",
		"gtpud_uptime_seconds 3725",
		"gtpud_workers 2",
		"gtpud_peers 3",
		"gtpud_peers_up 1",
		"gtpud_tunnels 2",
		"gtpud_runtime_tunnels 1",
		"gtpud_reloads_total 4",
		"gtpud_config_last_reload_successful 0",
		"gtpud_received_packets_total 1000",
		"gtpud_received_bytes_total 1500000",
		"gtpud_sent_packets_total 990",
		"gtpud_sent_bytes_total 1485000",
		"gtpud_forwarded_total 980",
		"gtpud_answered_total 10",
		"gtpud_signalling_answered_total 6",
		"gtpud_signalling_received_total 4",
		"gtpud_echo_requests_sent_total 5",
		"gtpud_echo_requests_received_total 6",
		"gtpud_echo_responses_sent_total 6",
		"gtpud_echo_responses_received_total 4",
		"gtpud_error_indications_sent_total 7",
		"gtpud_error_indications_received_total 2",
		"gtpud_supported_extension_headers_notifications_sent_total 1",
		"gtpud_end_markers_total 0",
		"gtpud_log_lines_suppressed_total 18446744073709551615",
		"gtpud_drops_total{reason=\"unknown_teid\"} 7",
		"gtpud_drops_total{reason=\"malformed\"} 3",
		"gtpud_drops_total{reason=\"wrong_peer\"} 0",
		"gtpud_peer_rx_packets_total{peer=\"enb\"} 600",
		"gtpud_peer_rx_bytes_total{peer=\"upf\"} 600000",
		"gtpud_peer_tx_packets_total{peer=\"upf\"} 600",
		"gtpud_peer_tx_bytes_total{peer=\"enb\"} 585000",
		"gtpud_peer_echo_timeouts_total{peer=\"upf\"} 1",
		"gtpud_tunnel_dropped_total{tunnel=\"ue1-up\"} 12",
		"gtpud_tunnel_dropped_total{tunnel=\"ue3\"} 0",
		"gtpud_tunnel_drops_total{tunnel=\"ue1-up\",reason=\"wrong_peer\"} 2",
		"gtpud_tunnel_drops_total{tunnel=\"ue1-up\",reason=\"rate_limit\"} 10",
		"gtpud_peer_down_total{peer=\"upf\"} 1",
		"gtpud_peer_error_indications_received_total{peer=\"upf\"} 2",
		"gtpud_peer_up{peer=\"enb\"} 0",
		"gtpud_peer_up{peer=\"upf\"} 1",
		"gtpud_peer_rtt_seconds{peer=\"upf\"} 0.001250",
		"gtpud_peer_rtt_seconds{peer=\"enb\"} NaN",
		"gtpud_peer_info{peer=\"upf\",address=\"2001:db8::20\",port=\"2152\"} 1",
		"gtpud_tunnel_rx_packets_total{tunnel=\"ue1-up\"} 300",
		"gtpud_tunnel_tx_bytes_total{tunnel=\"ue1-up\"} 450000",
		"gtpud_tunnel_rx_packets_total{tunnel=\"ue3\"} 0",
		"gtpud_tunnel_error_indications_received_total{tunnel=\"ue3\"} 0",
		"# HELP gtpud_drops_total Packets received and dropped, by reason.",
		"# TYPE gtpud_drops_total counter",
		"# TYPE gtpud_peer_up gauge",
		"# TYPE gtpud_tunnels gauge",
	};
	char *text = render_fixture();
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_line(text, lines[i]);
	free(text);
}

static void test_escaping(void **state)
{
	char *text = render_fixture();

	/* A peer without counters still has every series, at 0. */
	assert_line(text, "gtpud_peer_rx_packets_total{peer=\"we\\\"ird\\\\pe\\ner\"} 0");
	assert_line(text, "gtpud_peer_up{peer=\"we\\\"ird\\\\pe\\ner\"} 0");
	assert_line(text, "gtpud_peer_info{peer=\"we\\\"ird\\\\pe\\ner\",address=\"198.51.100.7\",port=\"2153\"} 1");
	free(text);
}

/* Every sample's family was declared just before with HELP then TYPE;
 * families are contiguous; counters and only counters end in _total. */
static void check_structure(const char *text, size_t *nfam, size_t *nsamples)
{
	char *copy = strdup(text), *save = NULL, *line;
	char help[128] = "", type[128] = "", kind[16] = "", seen[8192] = " ";

	*nfam = *nsamples = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line, "# HELP %127s", help), 1);
			assert_null(strstr(seen, help));   /* declared once */
			strcat(seen, help);
			strcat(seen, " ");
			(*nfam)++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line, "# TYPE %127s %15s", type, kind), 2);
			assert_string_equal(type, help);
			if (!strcmp(kind, "counter"))
				assert_string_equal(type + strlen(type) - 6, "_total");
			else
				assert_string_equal(kind, "gauge");
			if (!strcmp(kind, "gauge"))
				assert_true(strlen(type) < 6 || strcmp(type + strlen(type) - 6, "_total"));
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(sscanf(line, "%127[^{ ]", name), 1);
		if (strcmp(name, type))
			fail_msg("sample of %s under # TYPE %s", name, type);
		assert_int_equal(strncmp(name, "gtpud_", 6), 0);
		(*nsamples)++;
	}
	free(copy);
}

static void test_structure(void **state)
{
	char *text = render_fixture();
	size_t nfam, ns;

	check_structure(text, &nfam, &ns);
	assert_int_equal(nfam, 2 + 7 + 25 + 1 + 8 + 3 + 6 + 1);
	/* 9 unlabelled status, 25 stats, 3 drops, 3 peers x 11, 2 tunnels x 6,
	 * and the tunnel drops there are: none of ue3. */
	assert_int_equal(ns, 9 + 25 + 3 + 3 * 11 + 2 * 6 + 2);
	assert_null(strstr(text, "gtpud_tunnel_drops_total{tunnel=\"ue3\""));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_empty(void **state)
{
	char *text = metrics_render(NULL, NULL, NULL, NULL);
	size_t nfam, ns;

	assert_non_null(text);
	check_structure(text, &nfam, &ns);
	assert_int_equal(nfam, 53);
	assert_int_equal(ns, 9 + 25);
	assert_line(text, "gtpud_xdp_forwarded_total 0");
	assert_line(text, "gtpud_forwarded_total 0");
	assert_line(text, "gtpud_config_last_reload_successful 1");
	assert_line(text, "# TYPE gtpud_peer_rx_packets_total counter");
	assert_null(strstr(text, "gtpud_peer_rx_packets_total{"));
	/* One prefix for the per-peer families: the old names are gone. */
	assert_null(strstr(text, "\ngtpud_rx_packets_total"));
	assert_null(strstr(text, "# TYPE gtpud_tx_bytes_total"));
	free(text);
}

/* promtool (Debian package prometheus) is an independent parser and linter:
 * it must accept the text and print nothing. */
static void test_promtool(void **state)
{
	char in[] = "/tmp/test_metrics.in.XXXXXX", out[] = "/tmp/test_metrics.out.XXXXXX", cmd[256], said[512];
	char *text;
	int fi, fo, status;
	ssize_t n;

	if (access("/usr/bin/promtool", X_OK) != 0) {
		print_message("# promtool not installed\n");
		skip();
	}
	text = render_fixture();
	fi = mkstemp(in);
	fo = mkstemp(out);
	assert_true(fi >= 0 && fo >= 0);
	assert_int_equal(write(fi, text, strlen(text)), (ssize_t)strlen(text));
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics <%s >%s 2>&1", in, out);
	status = system(cmd);
	n = read(fo, said, sizeof(said) - 1);
	said[n > 0 ? n : 0] = '\0';
	close(fi);
	close(fo);
	unlink(in);
	unlink(out);
	free(text);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n > 0)
		fail_msg("promtool check metrics: status %d: %s", status, said);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_promtool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
