/*
 * ipmisim_util.c - see ipmisim_util.h.
 */
#include "ipmisim_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int run(const char *fmt, const char *dir, const char *arg)
{
    const char *src = getenv("VMMGR_SOURCE_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash -c '. \"%s/scripts/lib/ipmisim.sh\" && %s' _ '%s' '%s'",
             src ? src : ".", fmt, dir, arg ? arg : "");
    return system(cmd);
}

bool ipmisim_start(struct ipmisim *sim, const char *dir)
{
    const char *src = getenv("VMMGR_SOURCE_DIR");
    char cmd[1024];
    snprintf(sim->dir, sizeof(sim->dir), "%s", dir);
    snprintf(cmd, sizeof(cmd),
             "bash -c '. \"%s/scripts/lib/ipmisim.sh\" && vmmgr_ipmisim_free_port'",
             src ? src : ".");
    FILE *p = popen(cmd, "r");
    if (!p || fscanf(p, "%u", &sim->port) != 1) {
        if (p)
            pclose(p);
        return false;
    }
    pclose(p);
    char port[16];
    snprintf(port, sizeof(port), "%u", sim->port);
    sim->is_running = run("vmmgr_ipmisim_start \"$1\" \"$2\"", dir, port) == 0;
    return sim->is_running;
}

void ipmisim_stop(struct ipmisim *sim)
{
    if (sim->dir[0])
        run("vmmgr_ipmisim_stop \"$1\"", sim->dir, NULL);
    sim->is_running = false;
}

bool ipmisim_inject(const struct ipmisim *sim, const char *kind)
{
    return run("vmmgr_ipmisim_inject \"$1\" \"$2\"", sim->dir, kind) == 0;
}

static long read_pid(const struct ipmisim *sim, const char *name)
{
    char path[512];
    long pid = -1;
    snprintf(path, sizeof(path), "%s/%s", sim->dir, name);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

bool ipmisim_signal(const struct ipmisim *sim, int sig)
{
    long pid = read_pid(sim, "ipmi_sim.pid");
    return pid > 0 && kill((pid_t)pid, sig) == 0;
}

bool ipmisim_host_alive(const struct ipmisim *sim)
{
    long pid = read_pid(sim, "host.pid");
    return pid > 0 && kill((pid_t)pid, 0) == 0;
}

void ipmisim_config(const struct ipmisim *sim, struct heal_mon_config *ret)
{
    heal_mon_config_init(ret);
    snprintf(ret->address, sizeof(ret->address), "127.0.0.1:%u", sim->port);
    snprintf(ret->user, sizeof(ret->user), "%s",
             getenv("VMMGR_IPMISIM_USER") ? getenv("VMMGR_IPMISIM_USER") : "vmmgr");
    snprintf(ret->password_file, sizeof(ret->password_file), "%s/bmc.pw", sim->dir);
}
