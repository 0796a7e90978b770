/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus text exposition (format 0.0.4) rendered from the JSON data of
 * the status, stats, peers and tunnels commands (ctl_cmds.h): one data model
 * for gtpuctl, scripts and Prometheus. Pure: no I/O, no logging. */
#ifndef GTPUD_METRICS_H
#define GTPUD_METRICS_H

#include <json-c/json.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Returns malloc'd text, or NULL when out of memory. Any argument may be
 * NULL: its families are still declared (HELP, TYPE), with zero values for
 * the unlabelled ones. A missing key reads as 0. */
char *metrics_render(json_object *status, json_object *stats, json_object *peers,
		     json_object *tunnels);

#endif
