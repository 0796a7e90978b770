#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# relay.sh once more, with gtpud's XDP fast path attached in native mode to
# both of its interfaces: every relay behaviour the sockets pass, it passes.
GT_XDP=native exec bash "$(dirname "$0")/relay.sh"
