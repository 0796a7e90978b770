#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Prometheus server scrapes gtpud's HTTP /metrics endpoint; its query
# API returns our series (names of SPEC.md) with the values the traffic sent
# by scapy peers made. promtool finds nothing to say about `gtpuctl metrics`.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
need_cmd curl
need_cmd jq
PROM=/usr/bin/prometheus
[ -x "$PROM" ] || skip_all "prometheus not installed (apt-get install prometheus)"
need_cmd promtool
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

ENB=192.0.2.10 DUTE=192.0.2.1 DUTU=198.51.100.1 UPF=198.51.100.20
SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
MPORT=9152 PPORT=9090
PEER="$PY $TESTS_PY/peer.py"
ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb "$ENB/24" dut "$DUTE/24" && link dut "$DUTU/24" upf "$UPF/24" || skip_all "cannot link namespaces"

# upf gets Echo and never answers: down, and the Echo counter moves.
cat >"$CONF" <<EOF
listen = [ "$DUTE:2152", "$DUTU:2152" ];
control = { path = "$SOCK"; mode = "0600"; };
metrics = { listen = "127.0.0.1:$MPORT"; };
echo = { interval = 1; t3 = 1; n3 = 1; };
error_indication = { enabled = true; rate = 100; quiet = 0; };
peers = (
  { name = "enb"; address = "$ENB"; },
  { name = "upf"; address = "$UPF"; echo = true; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; },
  { name = "down"; from = { peer = "upf"; teid = 0x201; }; to = { peer = "enb"; teid = 0x101; }; }
);
EOF
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }
# bgns NS COMMAND...: in the background in namespace NS; BG is the program's PID.
bgns() { local n=$NS_PREFIX$1; shift; ip netns exec "$n" "$@" & BG=$!; T_PIDS="$T_PIDS $BG"; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got: $2"; diag "want: $3"; fi; }

bgns dut "$GTPUD" -c "$CONF" >>"$LOG" 2>&1
wait_for 5 ctl status || { diag "$(cat "$LOG")"; skip_all "gtpud did not start"; }

# ---- promtool on gtpuctl metrics and the HTTP endpoint ----
ctl metrics >"$T_DIR/m.txt"
promtool check metrics <"$T_DIR/m.txt" >"$T_DIR/promtool.out" 2>&1
rc=$?
is "promtool check metrics on gtpuctl metrics: exit 0" "$rc" 0
check "... and prints nothing" test ! -s "$T_DIR/promtool.out"
[ -s "$T_DIR/promtool.out" ] && diag "$(head -20 "$T_DIR/promtool.out")"
curl_dut() { nsx dut curl -s "$@"; }
curl_dut -o "$T_DIR/h.txt" -D "$T_DIR/h.hdr" "http://127.0.0.1:$MPORT/metrics"
check "HTTP /metrics: 200, Content-Type text/plain; version=0.0.4" \
	sh -c "head -1 $T_DIR/h.hdr | grep -q ' 200' && grep -qi '^content-type: text/plain; version=0.0.4' $T_DIR/h.hdr"
names() { grep -v '^#' "$1" | sed 's/ [^ ]*$//' | sort; }
is "HTTP /metrics has the same series as gtpuctl metrics" "$(names "$T_DIR/h.txt" | md5sum)" "$(names "$T_DIR/m.txt" | md5sum)"
check "promtool check metrics on the HTTP text prints nothing" sh -c "promtool check metrics <$T_DIR/h.txt 2>&1 | wc -c | grep -qx 0"
is "HTTP /other: 404" "$(curl_dut -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" 404
is "HTTP POST /metrics: 405" "$(curl_dut -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")" 405
is "HTTP HEAD /metrics: 200" "$(curl_dut -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$MPORT/metrics")" 200
# Every family has HELP and TYPE; every series belongs to a family.
check "every family has # HELP and # TYPE, every sample a family" "$PY" - "$T_DIR/m.txt" <<'EOF'
import re, sys
help_, type_, fams = set(), {}, set()
for l in open(sys.argv[1]):
    l = l.rstrip('\n')
    if l.startswith('# HELP '):
        help_.add(l.split()[2])
    elif l.startswith('# TYPE '):
        type_[l.split()[2]] = l.split()[3]
    elif l:
        fams.add(re.match(r'[a-zA-Z_:][a-zA-Z0-9_:]*', l).group(0))
assert help_ == set(type_) and fams <= set(type_), (help_ ^ set(type_), fams - set(type_))
assert all(n.startswith('gtpud_') for n in type_)
assert all(n.endswith('_total') for n, t in type_.items() if t == 'counter'), [n for n, t in type_.items() if t == 'counter' and not n.endswith('_total')]
EOF

# ---- traffic: 25 G-PDUs relayed, 3 with an unknown TEID, an Echo Request,
# an Error Indication for tunnel "down" (which sends to enb with 0x101) ----
send() { nsx enb $PEER send --bind "$ENB" --dst "$DUTE" "$@" >/dev/null 2>&1; }
send --pkt "GTP_U_Header(gtp_type=255, teid=0x100)/Raw(b'x' * 100)" --count 25
send --pkt "GTP_U_Header(gtp_type=255, teid=0x7777)/Raw(b'y')" --count 3
send --pkt "GTP_U_Header(gtp_type=1, S=1, seq=7)/GTPEchoRequest()"
send --pkt "GTP_U_Header(gtp_type=26, teid=0, S=1, seq=1)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x101), IE_GSNAddress(length=4, ipv4_address='$ENB')])"
wait_for 5 sh -c "$GTPUCTL -s $SOCK --json stats | jq -e '.error_indications_received == 1 and .forwarded == 25' >/dev/null"
wait_for 5 sh -c "$GTPUCTL -s $SOCK --json peers | jq -e '.[1].state == \"down\"' >/dev/null"
diag "$(ctl stats | head -12)"

# ---- Prometheus scrapes gtpud every second ----
mkdir -p "$T_DIR/tsdb"
cat >"$T_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gtpud
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
bgns dut "$PROM" --config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T_DIR/prom.log" 2>&1
# pq QUERY LABEL: the result as "labelvalue=value ..." sorted (LABEL "" for none).
pq() {
	curl_dut --get --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" |
		jq -r --arg l "$2" '.data.result[] | "\(if $l == "" then "" else .metric[$l] + "=" end)\(.value[1])"' 2>/dev/null |
		sort | tr '\n' ' ' | sed 's/ $//'
}
up_ok() { [ "$(pq 'up{job="gtpud"}' '')" = 1 ] && [ -n "$(pq gtpud_error_indications_received_total '')" ]; }
if wait_for 30 up_ok; then
	ok "Prometheus scrapes gtpud: up{job=\"gtpud\"} is 1"
else
	not_ok "Prometheus scrapes gtpud: up{job=\"gtpud\"} is 1"
	diag "$(tail -20 "$T_DIR/prom.log")"
	diag "$(curl_dut "http://127.0.0.1:$PPORT/api/v1/targets" | jq -c '.data.activeTargets[] | [.health, .lastError]')"
fi
is "scrape errors: none (scrape_samples_post_metric_relabeling equals scrape_samples_scraped)" \
	"$(pq 'scrape_samples_scraped - scrape_samples_post_metric_relabeling' '')" 0

is "gtpud_peer_rx_packets_total{peer}: enb 28 G-PDUs + Echo Request + Error Indication, upf 0" \
	"$(pq gtpud_peer_rx_packets_total peer)" "enb=30 upf=0"
# upf never answers its Echo Requests, which go on: compare within one scrape.
is "gtpud_peer_tx_packets_total{peer}: enb gets the Echo Response and 3 Error Indications, upf the 25 and the Echo Requests" \
	"$(pq 'gtpud_peer_tx_packets_total - on(peer) gtpud_peer_echo_requests_sent_total' peer)" "enb=4 upf=25"
is "gtpud_peer_rx_bytes_total{peer=\"enb\"} equals gtpuctl's" \
	"$(pq 'gtpud_peer_rx_bytes_total{peer="enb"}' '')" "$(ctl --json peers | jq '.[0].rx_bytes')"
is "gtpud_peer_tx_bytes_total{peer=\"upf\"}: the G-PDUs' bytes and 12 for each Echo Request" \
	"$(pq 'gtpud_peer_tx_bytes_total{peer="upf"} - on(peer) 12 * gtpud_peer_echo_requests_sent_total' '')" \
	"$(ctl --json tunnels up | jq '.[0].tx_bytes')"
is "the old per-peer names are gone" "$(pq 'count({__name__=~"gtpud_(rx|tx)_(packets|bytes)_total"})' '')" ""
is "gtpud_drops_total{reason=\"unknown_teid\"} is 3" "$(pq 'gtpud_drops_total{reason="unknown_teid"}' '')" 3
is "gtpud_drops_total has one series per reason, from 0" \
	"$(pq 'count(gtpud_drops_total)' '') $(pq 'sum(gtpud_drops_total)' '')" \
	"$(ctl --json stats | jq -r '"\(.drops | length) \(.dropped)"')"
is "gtpud_peer_up{peer}: enb up (traffic), upf down (no Echo Response)" "$(pq gtpud_peer_up peer)" "enb=1 upf=0"
echo_sent=$(pq gtpud_echo_requests_sent_total '')
check "gtpud_echo_requests_sent_total is at least 1 ($echo_sent)" test "${echo_sent:-0}" -ge 1
is "gtpud_echo_responses_sent_total is 1" "$(pq gtpud_echo_responses_sent_total '')" 1
is "gtpud_error_indications_sent_total is 3" "$(pq gtpud_error_indications_sent_total '')" 3
is "gtpud_error_indications_received_total is 1" "$(pq gtpud_error_indications_received_total '')" 1
is "gtpud_tunnels is 2" "$(pq gtpud_tunnels '')" 2
is "gtpud_tunnel_rx_packets_total{tunnel}: up 25, down 0" "$(pq gtpud_tunnel_rx_packets_total tunnel)" "down=0 up=25"
is "gtpud_peer_error_indications_received_total{peer=\"enb\"} is 1" \
	"$(pq 'gtpud_peer_error_indications_received_total{peer="enb"}' '')" 1
is "gtpud_build_info{version} is 1" "$(pq gtpud_build_info version)" "$(ctl --json status | jq -r .version)=1"

# A runtime tunnel appears in Prometheus at the next scrape.
ctl tunnel add rt1 from enb 0x900 to upf 0x901
send --pkt "GTP_U_Header(gtp_type=255, teid=0x900)/Raw(b'z')" --count 4
rt() { [ "$(pq gtpud_tunnels '') $(pq 'gtpud_tunnel_rx_packets_total{tunnel="rt1"}' '')" = "3 4" ]; }
check "after tunnel add and 4 G-PDUs: gtpud_tunnels 3, rt1 has 4 in Prometheus" wait_for 10 rt
check "gtpud_runtime_tunnels is 1" test "$(pq gtpud_runtime_tunnels '')" = 1
done_testing
