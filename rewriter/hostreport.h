/*
 * hostreport.h - `zprewrite --check-host`: the report of what this machine
 * offers a rewritten program, as "key: value (note)" lines or one JSON
 * object with the same keys (hostreport.c), from the probes of hostcheck.h.
 */
#ifndef ZP_HOSTREPORT_H
#define ZP_HOSTREPORT_H

#include <stdio.h>

/* Probe this machine and print the report to `to`; json: as one JSON
 * object.  zp_page0_env: the value of ZP_PAGE0, or NULL if it is not set. */
void zp_host_report(const char *zp_page0_env, int json, FILE *to);

#endif /* ZP_HOSTREPORT_H */
