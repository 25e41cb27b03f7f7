/*
 * bench_vlan_move.c - vmmgr-bench-vlan-move: the failover VLAN move (issue
 * 15) through the switch port against ovs-vsctl doing the same change.
 *
 *   vmmgr-bench-vlan-move MODE TARGET BRIDGE N_PORTS N_MOVES
 *   MODE: driver   vm_sw_ovsdb (or vm_sw_fake for a fake: target): the move
 *                  is one trunks_ensure of {from: set - v, to: set + v}, one
 *                  transaction confirmed by ovs-vswitchd (cur_cfg)
 *         vsctl    one ovs-vsctl process per move: "remove port FROM trunks
 *                  V -- add port TO trunks V" (one transaction; ovs-vsctl
 *                  waits for ovs-vswitchd too)
 *         driver-nowait, vsctl-nowait   the same without waiting for
 *                  ovs-vswitchd (is_confirm off, --no-wait): the database
 *                  round trip alone, to show where the time goes
 *
 * The ports h0000..h(N-1) must exist as trunks carrying VLAN (i % 4000) + 1
 * each (run_vlan_move.py creates them); VLAN 4094 starts on h0000 and hops
 * to a pseudo-random other port at every move. Prints one JSON object: the
 * per-move latencies in ms and their p50/p99. The timed region is the move
 * only (for vsctl: spawn to exit).
 */
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "vm/vm_sw.h"

extern char **environ;

#define MOVING_VLAN 4094

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int vsctl_move(const char *target, const char *from, const char *to, bool is_wait)
{
    char db[512], vid[16], wait_opt[16];
    pid_t pid;
    int status;
    snprintf(db, sizeof(db), "--db=%s", target);
    snprintf(vid, sizeof(vid), "%d", MOVING_VLAN);
    /* --timeout repeated is harmless: it stands in for --no-wait when waiting. */
    snprintf(wait_opt, sizeof(wait_opt), "%s", is_wait ? "--timeout=30" : "--no-wait");
    char *argv[] = {"ovs-vsctl", db,  wait_opt, "--timeout=30", "remove", "port",     (char *)from,
                    "trunks",    vid, "--",     "add",          "port",   (char *)to, "trunks",
                    vid,         NULL};
    if (posix_spawnp(&pid, "ovs-vsctl", NULL, NULL, argv, environ) != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode, *target, *bridge;
    unsigned n_ports, n_moves, cur = 0, seed = 12345;
    struct vm_sw_vlanset *sets;
    struct vm_sw_conn *conn = NULL;
    const struct vm_sw_driver *drv = NULL;
    struct nfv_err err = {0};
    double *lat;

    if (argc != 6) {
        fprintf(
            stderr,
            "usage: vmmgr-bench-vlan-move driver|vsctl[-nowait] TARGET BRIDGE N_PORTS N_MOVES\n");
        return 2;
    }
    mode = argv[1];
    target = argv[2];
    bridge = argv[3];
    n_ports = (unsigned)strtoul(argv[4], NULL, 10);
    n_moves = (unsigned)strtoul(argv[5], NULL, 10);
    if (n_ports < 2 || n_moves < 1)
        return 2;
    sets = calloc(n_ports, sizeof(*sets));
    lat = calloc(n_moves, sizeof(*lat));
    if (!sets || !lat)
        return 1;
    for (unsigned i = 0; i < n_ports; i++)
        vm_sw_vlanset_add(&sets[i], (i % 4000) + 1);
    vm_sw_vlanset_add(&sets[0], MOVING_VLAN);

    bool is_wait = strstr(mode, "-nowait") == NULL;
    if (strncmp(mode, "driver", 6) == 0) {
        struct vm_sw_open_opts opts = {
            .timeout_ms = 30000, .is_confirm = is_wait, .iface_type = "dummy"};
        drv = vm_sw_driver_for(target);
        if (!drv || drv->open(target, &opts, &conn, &err) != NFV_OK) {
            fprintf(stderr, "vmmgr-bench-vlan-move: %s\n", err.msg);
            return 1;
        }
        if (drv == &vm_sw_fake) { /* the fake starts empty */
            drv->bridge_ensure(conn, bridge, NULL, NULL);
            for (unsigned i = 0; i < n_ports; i++) {
                char name[16];
                snprintf(name, sizeof(name), "h%04u", i);
                drv->trunk_ensure(conn, bridge, name, &sets[i], NULL, NULL, NULL);
            }
        }
    } else if (strncmp(mode, "vsctl", 5) != 0) {
        fprintf(stderr, "vmmgr-bench-vlan-move: 'mode': expected driver, vsctl, "
                        "driver-nowait or vsctl-nowait\n");
        return 2;
    }

    for (unsigned m = 0; m < n_moves; m++) {
        unsigned next;
        char from[16], to[16];
        seed = seed * 1103515245u + 12345u;
        next = (cur + 1 + (seed >> 8) % (n_ports - 1)) % n_ports;
        snprintf(from, sizeof(from), "h%04u", cur);
        snprintf(to, sizeof(to), "h%04u", next);
        vm_sw_vlanset_remove(&sets[cur], MOVING_VLAN);
        vm_sw_vlanset_add(&sets[next], MOVING_VLAN);
        double t0 = now_ms();
        if (drv) {
            struct vm_sw_expect move[2] = {{from, sets[cur]}, {to, sets[next]}};
            if (drv->trunks_ensure(conn, bridge, move, 2, NULL, &err) != NFV_OK) {
                fprintf(stderr, "vmmgr-bench-vlan-move: move %u: %s\n", m, err.msg);
                return 1;
            }
        } else if (vsctl_move(target, from, to, is_wait) != 0) {
            fprintf(stderr, "vmmgr-bench-vlan-move: move %u: ovs-vsctl failed\n", m);
            return 1;
        }
        lat[m] = now_ms() - t0;
        cur = next;
    }
    if (drv)
        drv->close(conn);

    printf("{\"mode\": \"%s\", \"n_ports\": %u, \"n_moves\": %u, \"final_port\": \"h%04u\", "
           "\"latency_ms\": [",
           mode, n_ports, n_moves, cur);
    for (unsigned m = 0; m < n_moves; m++)
        printf("%s%.3f", m ? ", " : "", lat[m]);
    qsort(lat, n_moves, sizeof(*lat), cmp_double);
    printf("], \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n", lat[n_moves / 2],
           lat[(n_moves * 99) / 100 < n_moves ? (n_moves * 99) / 100 : n_moves - 1]);
    free(sets);
    free(lat);
    return 0;
}
