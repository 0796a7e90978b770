#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The soak test (tests/soak/run) for 60 seconds: mixed load, a reload and a
# runtime tunnel add + del every second; RSS, fds and counters checked.
SOAK_SECONDS=${SOAK_SECONDS:-60} exec bash "$(dirname "$0")/../soak/run"
