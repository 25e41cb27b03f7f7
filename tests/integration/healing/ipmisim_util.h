/*
 * ipmisim_util.h - drives scripts/lib/ipmisim.sh from C (tests and
 * perf/healing): start/stop a simulated BMC, inject SEL events, signal it.
 * Every helper runs one bash command; paths come from VMMGR_SOURCE_DIR.
 */
#ifndef IPMISIM_UTIL_H
#define IPMISIM_UTIL_H

#include <stdbool.h>

#include "heal/mon.h"

struct ipmisim {
    char dir[256];
    unsigned port;
    bool is_running;
};

/* Starts a BMC in @dir on a free port; false (with a reason on stderr) when
 * ipmi_sim cannot run here. */
bool ipmisim_start(struct ipmisim *sim, const char *dir);
void ipmisim_stop(struct ipmisim *sim);
/* "uecc", "ierr", "thermal", "psu", "watchdog", "other". */
bool ipmisim_inject(const struct ipmisim *sim, const char *kind);
/* SIGSTOP / SIGCONT the ipmi_sim process: a BMC that stops answering. */
bool ipmisim_signal(const struct ipmisim *sim, int sig);
/* True while the simulated host process (the chassis power) lives. */
bool ipmisim_host_alive(const struct ipmisim *sim);
/* A monitor config for @sim (user, password file, 127.0.0.1:port). */
void ipmisim_config(const struct ipmisim *sim, struct heal_mon_config *ret);

#endif /* IPMISIM_UTIL_H */
