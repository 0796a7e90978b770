# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages gtpud builds and tests with, when missing.
# Sourced by tests/run and tests/demo.
GTPUD_BUILD_DEPS="autoconf automake pkg-config make gcc libconfig-dev libsystemd-dev
 libjson-c-dev libmnl-dev libmicrohttpd-dev libcmocka-dev
 clang llvm libbpf-dev bpftool linux-libc-dev"
GTPUD_TEST_DEPS="clang python3 python3-scapy tshark iproute2 iputils-ping iperf3 jq
 valgrind osmo-ggsn systemd procps prometheus tcpdump ethtool debootstrap systemd-container"

install_deps() {
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build_gtpud() {
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || return 1
	[ -f Makefile ] || ./configure --quiet "$@" || return 1
	make -s -j"$(nproc)"
}
