#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pfcp.sh once more, with gtpud's XDP fast path attached in native mode to
# both of its interfaces: sessions' plain forwarding is relayed in XDP, and
# every PFCP behaviour (QER, URR counts and reports, buffering, End
# Markers, deletion) holds as on the sockets.
GT_XDP=native exec bash "$(dirname "$0")/pfcp.sh"
