/*
 * bench_incremental.c - a create on a long-lived cluster, as vmmgrd will do
 * it (issue 9 item 3): time per create must not grow with the number of VMs.
 *
 * Builds --hosts pinning hosts (2 packages x 16 cores x 2 threads, core 0 of
 * each node reserved, 64 GiB per node; one shared topology, one pin_alloc
 * per host) and one plc_cluster from them through the bridge
 * (plc_bridge_host_spec), 20 racks in 2 zones, healing reserve "host". Then
 * creates VMs one request at a time until --vms VMs exist, each exactly as
 * the daemon's create path will: pin request -> plc_bridge_demand ->
 * plc_place (committed into the kept cluster) -> plc_bridge_plan on the
 * chosen host's allocation -> pin_alloc_claim. Every fifth request is an
 * ACT/SBY pair (a group, host anti-affinity), the others single VMs; a VM
 * has 2 vCPUs (vCPU 0 shared, vCPU 1 exclusive, isolate: 2 cores) and
 * 2 GiB.
 *
 * Reported per milestone of 1,000 VMs: the median and p99 CPU time of the
 * creates that led to it, and for contrast the time the old daemon path
 * spent before every create - rebuilding the whole cluster from every host
 * and VM (cluster_build in vm_vm.c, here: plc_cluster_new + bridge hosts +
 * bridge VMs from the allocations' claims), median of 3. At the end,
 * --churn deletes (plc_cluster_remove_vm + pin_alloc_release) and creates
 * alternate at the full count. JSON on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pin/alloc.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "pin/topo.h"
#include "bench_util.h"
#include "plc/bridge.h"
#include "plc/engine.h"

#define VM_MEM_MIB 2048

struct bench {
    unsigned n_hosts;
    struct pin_topo *topo;
    struct pin_alloc **allocs;
    struct plc_cluster *c;
    struct pin_request *req;
    struct pin_plan *plan;
    struct plc_demand demand;
    unsigned n_vms, next_id;
};

static void die(const char *what, const struct nfv_err *err)
{
    fprintf(stderr, "bench_incremental: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void host_name(unsigned i, char *buf, size_t size)
{
    snprintf(buf, size, "host-%05u", i);
}

/* Adds every host to @c through the bridge, as the daemon does on start. */
static void add_hosts(struct bench *b, struct plc_cluster *c)
{
    struct nfv_err err = {0};

    for (unsigned i = 0; i < b->n_hosts; i++) {
        struct plc_bridge_host bh;
        char name[32], rack[16], zone[16];
        host_name(i, name, sizeof(name));
        snprintf(rack, sizeof(rack), "r%02u", i % 20);
        snprintf(zone, sizeof(zone), "z%u", i % 20 < 10 ? 0 : 1);
        if (plc_bridge_host_spec(b->allocs[i], name, PLC_HOST_UP, 0, &bh, &err))
            die("host spec", &err);
        bh.spec.labels[PLC_SCOPE_RACK] = rack;
        bh.spec.labels[PLC_SCOPE_ZONE] = zone;
        if (plc_cluster_add_host(c, &bh.spec, NULL, &err))
            die("add host", &err);
    }
}

/* The old path: the whole cluster rebuilt from the hosts' claims. */
static double rebuild_us(struct bench *b)
{
    struct nfv_err err = {0};
    struct pin_plan *scratch = pin_plan_new(16);
    double t0 = bench_cpu_us();
    struct plc_cluster *c = plc_cluster_new(NULL);

    add_hosts(b, c);
    for (unsigned h = 0; h < b->n_hosts; h++)
        for (size_t k = 0; k < pin_alloc_n_claims(b->allocs[h]); k++) {
            const char *owner = pin_alloc_claim_owner(b->allocs[h], k);
            if (pin_alloc_claim_plan(b->allocs[h], owner, scratch, &err) ||
                plc_bridge_add_vm(c, h, b->allocs[h], owner, PLC_NONE, PLC_ROLE_NONE, b->req,
                                  scratch, VM_MEM_MIB, NULL, &err))
                die("rebuild", &err);
        }
    double t = bench_cpu_us() - t0;
    plc_cluster_free(c);
    pin_plan_free(scratch);
    return t;
}

/* One create request (one VM, or an ACT/SBY pair): place, pin, claim. */
static void create(struct bench *b, bool is_pair)
{
    struct nfv_err err = {0};
    char names[2][32], group[32];
    struct plc_vm_req vr[2];
    struct plc_choice ch[2];
    unsigned id = b->next_id++, n = is_pair ? 2 : 1;
    struct plc_req r = {.n_vms = n, .vms = vr};

    memset(vr, 0, sizeof(vr));
    for (unsigned i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "vm-%06u-%u", id, i);
        vr[i].name = names[i];
        vr[i].role = is_pair ? (i ? PLC_ROLE_SBY : PLC_ROLE_ACT) : PLC_ROLE_NONE;
        vr[i].demand = b->demand;
    }
    if (is_pair) {
        snprintf(group, sizeof(group), "g-%06u", id);
        r.group = group;
        r.scope = PLC_SCOPE_HOST;
    }
    if (plc_place(b->c, &r, true, ch, &err))
        die("place", &err);
    for (unsigned i = 0; i < n; i++) {
        struct pin_alloc *a = b->allocs[ch[i].host];
        if (plc_bridge_plan(a, &ch[i], b->req, b->plan, &err) ||
            pin_alloc_claim(a, b->plan, names[i], &err))
            die("pin", &err);
    }
    b->n_vms += n;
}

/* Deletes one single VM (not a group member), as the daemon's delete does. */
static void delete_one(struct bench *b, unsigned seed)
{
    size_t n_slots = plc_cluster_n_vm_slots(b->c);
    struct nfv_err err = {0};

    for (size_t k = 0; k < n_slots; k++) {
        uint32_t vm = (uint32_t)((seed * 2654435761u + k) % n_slots);
        const struct plc_vm *v = plc_cluster_vm(b->c, vm);
        if (!v->name || v->group != PLC_NONE)
            continue;
        if (pin_alloc_release(b->allocs[v->at.host], v->name, &err))
            die("release", &err);
        plc_cluster_remove_vm(b->c, vm);
        b->n_vms--;
        return;
    }
}

int main(int argc, char **argv)
{
    struct bench b = {.n_hosts = 1000};
    unsigned target = 10000, step = 1000, churn = 1000;
    struct nfv_err err = {0};
    struct pin_pools pools;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--hosts"))
            b.n_hosts = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--vms"))
            target = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--churn"))
            churn = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_incremental [--hosts N] [--vms N] [--churn N]\n");
            return 2;
        }
    }
    if (pin_topo_new_synthetic(2, 1, 16, 2, 65536, &b.topo, &err) ||
        pin_pools_parse(b.topo, "0-1,32-33", NULL, NULL, &pools, &err))
        die("topology", &err);
    b.allocs = calloc(b.n_hosts, sizeof(*b.allocs));
    for (unsigned i = 0; i < b.n_hosts; i++)
        if (pin_alloc_new(b.topo, &pools, &b.allocs[i], &err))
            die("alloc", &err);
    if (pin_request_new(2, PIN_MODE_EXCLUSIVE, &b.req, &err) ||
        pin_request_set_mode_list(b.req, "0", PIN_MODE_SHARED, &err))
        die("request", &err);
    b.req->mem_mib = VM_MEM_MIB;
    b.plan = pin_plan_new(2);
    if (plc_bridge_demand(b.req, VM_MEM_MIB, NULL, 2, &b.demand, &err))
        die("demand", &err);
    b.c = plc_cluster_new(NULL);
    double t0 = bench_cpu_us();
    add_hosts(&b, b.c);
    double add_hosts_us = bench_cpu_us() - t0;

    size_t cap = target + 16;
    double *lat = malloc(cap * sizeof(*lat));
    printf("{\n  \"hosts\": %u,\n  \"vms\": %u,\n  \"vm_shape\": \"2 vCPUs (1 shared, 1 "
           "exclusive isolate) = 2 cores, %u MiB; every 5th request an ACT/SBY pair\",\n"
           "  \"add_hosts_ms\": %.3f,\n  \"milestones\": [\n",
           b.n_hosts, target, VM_MEM_MIB, add_hosts_us / 1e3);
    double p50_first = 0, p50_last = 0, rb_first = 0, rb_last = 0;
    for (unsigned m = step; m <= target; m += step) {
        size_t n_lat = 0;
        while (b.n_vms < m) {
            double s = bench_cpu_us();
            create(&b, b.next_id % 5 == 0 && b.n_vms + 2 <= m);
            lat[n_lat++] = bench_cpu_us() - s;
        }
        double rb[3];
        for (int k = 0; k < 3; k++)
            rb[k] = rebuild_us(&b);
        double p50 = bench_pct(lat, n_lat, 0.5), p99 = bench_pct(lat, n_lat, 0.99);
        double rbm = bench_pct(rb, 3, 0.5);
        if (m == step) {
            p50_first = p50;
            rb_first = rbm;
        }
        p50_last = p50;
        rb_last = rbm;
        printf("    {\"vms\": %u, \"requests\": %zu, \"create_cpu_p50_us\": %.2f, "
               "\"create_cpu_p99_us\": %.2f, \"rebuild_cpu_ms\": %.3f}%s\n",
               b.n_vms, n_lat, p50, p99, rbm / 1e3, m + step <= target ? "," : "");
        fflush(stdout);
    }
    /* churn at the full count: delete one, create one */
    double *del = malloc(churn * sizeof(*del)), *cre = malloc(churn * sizeof(*cre));
    for (unsigned k = 0; k < churn; k++) {
        double s = bench_cpu_us();
        delete_one(&b, k);
        del[k] = bench_cpu_us() - s;
        s = bench_cpu_us();
        create(&b, false);
        cre[k] = bench_cpu_us() - s;
    }
    printf("  ],\n  \"churn\": {\"pairs\": %u, \"delete_cpu_p50_us\": %.2f, "
           "\"create_cpu_p50_us\": %.2f},\n",
           churn, bench_pct(del, churn, 0.5), bench_pct(cre, churn, 0.5));
    printf("  \"create_p50_ratio_last_to_first\": %.3f,\n"
           "  \"rebuild_ratio_last_to_first\": %.3f\n}\n",
           p50_first > 0 ? p50_last / p50_first : 0, rb_first > 0 ? rb_last / rb_first : 0);
    free(del);
    free(cre);
    free(lat);
    for (unsigned i = 0; i < b.n_hosts; i++)
        pin_alloc_free(b.allocs[i]);
    free(b.allocs);
    plc_cluster_free(b.c);
    pin_plan_free(b.plan);
    pin_request_free(b.req);
    pin_topo_unref(b.topo);
    return 0;
}
