/*
 * bench_place.c - placement engine at carrier scale.
 *
 * Builds a cluster of --hosts hosts (2 NUMA nodes x 32 cores x 2 threads,
 * 8 racks in 2 zones, failure "host" reserve), then places --pairs ACT/SBY
 * pairs of 4-vCPU mixed VMs one request at a time (committing each), and
 * prints requests/s, VMs placed/s, p50/p99 latency per request (all,
 * accepted, refused) and the model's bytes per host. With --runs R the whole
 * run repeats R times; the figures reported are medians over runs.
 *
 * With --dump-dir D --samples K it also writes, before K evenly spaced
 * requests of the first run, the cluster state and the request (D/sample-i.json)
 * plus this engine's latency for that exact request at that state (median
 * of 21 dry runs), for nova_compare.py to time Nova's
 * numa_fit_instance_to_host on identical inputs.
 *
 * VM shapes, by pair index mod 4 (every vCPU mode mixed in, 2.5 cores on
 * average): 3 exclusive + 1 shared vCPU (4 cores), 2 exclusive + 2 shared
 * on one core (3), 1 exclusive + 3 shared on one core (2), 4 shared on one
 * core (1). Scope: host for 5 of 10 pairs, rack for 4, zone for 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "plc/engine.h"

static struct plc_cluster *make_cluster(unsigned n_hosts)
{
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = PLC_FAILURE_HOST;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    for (unsigned h = 0; h < n_hosts; h++) {
        char name[32], rack[16], zone[16], power[16];
        unsigned rk = h % 8;
        snprintf(name, sizeof(name), "host%05u", h);
        snprintf(rack, sizeof(rack), "rack%u", rk);
        snprintf(zone, sizeof(zone), "zone%u", rk / 4);
        snprintf(power, sizeof(power), "feed%u", rk % 2);
        struct plc_host_spec sp = {.name = name,
                                   .state = PLC_HOST_UP,
                                   .labels = {NULL, rack, zone, power},
                                   .n_nodes = 2,
                                   .cores_per_node = {32, 32},
                                   .threads_per_core = 2,
                                   .mem_mib_per_node = {196608, 196608},
                                   .nic_nodes = 0x1};
        if (plc_cluster_add_host(c, &sp, NULL, NULL) != NFV_OK) {
            fprintf(stderr, "bench_place: cannot add host\n");
            exit(1);
        }
    }
    return c;
}

struct shape {
    unsigned excl, shared, cores;
};
static const struct shape shapes[4] = {{3, 1, 4}, {2, 2, 3}, {1, 3, 2}, {0, 4, 1}};

static void make_pair(unsigned i, char names[2][32], char *gname, struct plc_vm_req m[2],
                      struct plc_req *r)
{
    const struct shape *s = &shapes[i % 4];
    snprintf(gname, 32, "vnf%06u", i);
    memset(m, 0, 2 * sizeof(*m));
    for (int k = 0; k < 2; k++) {
        snprintf(names[k], 32, "vnf%06u-%s", i, k ? "sby" : "act");
        m[k].name = names[k];
        m[k].role = k ? PLC_ROLE_SBY : PLC_ROLE_ACT;
        m[k].demand.n_vcpus = 4;
        m[k].demand.n_cores = (uint16_t)s->cores;
        m[k].demand.numa_nodes = 1;
        m[k].demand.mem_mib = 4096;
        m[k].demand.is_nic_local = true;
    }
    memset(r, 0, sizeof(*r));
    r->group = gname;
    unsigned sc = i % 10;
    r->scope = sc < 5 ? PLC_SCOPE_HOST : sc < 9 ? PLC_SCOPE_RACK : PLC_SCOPE_ZONE;
    r->n_vms = 2;
    r->vms = m;
}

/* Writes the state of every host and the request for nova_compare.py. */
static void dump_sample(const char *dir, unsigned idx, const struct plc_cluster *c,
                        const struct plc_req *r, double ours_us)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sample-%u.json", dir, idx);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    const struct shape *s = &shapes[idx % 4];
    fprintf(f, "{\"request\":%u,\"ours_us\":%.3f,\"vm\":{\"dedicated\":%u,\"memory_mib\":%u,", idx,
            ours_us, r->vms[0].demand.n_cores, r->vms[0].demand.mem_mib);
    fprintf(f, "\"exclusive\":%u,\"shared\":%u},\"n_vms\":%zu,\"hosts\":[", s->excl, s->shared,
            r->n_vms);
    for (uint32_t h = 0; h < plc_cluster_n_hosts(c); h++) {
        const struct plc_host *hh = plc_cluster_host(c, h);
        fprintf(f, "%s{\"nodes\":[", h ? "," : "");
        for (unsigned n = 0; n < hh->n_nodes; n++) {
            const struct plc_node *nd = &hh->nodes[n];
            fprintf(f,
                    "%s{\"first_core\":%u,\"cores\":%u,\"memory_mib\":%u,\"free_mib\":%u,"
                    "\"used\":[",
                    n ? "," : "", nd->first_core, nd->n_cores, nd->mem_mib, nd->free_mem_mib);
            int first = 1;
            for (unsigned i = 0; i < nd->n_cores; i++)
                if (!((nd->free_cores[i / 64] >> (i % 64)) & 1u)) {
                    fprintf(f, "%s%u", first ? "" : ",", nd->first_core + i);
                    first = 0;
                }
            fprintf(f, "]}");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    fclose(f);
}

struct run_result {
    double cpu_p50, cpu_p99, cpu_max;
    double p50, p99, p50_ok, p99_ok, p50_fail, p99_fail, max;
    double total_s, req_per_s, vms_per_s;
    unsigned placed, refused;
    size_t bytes_per_host;
};

static void run(unsigned n_hosts, unsigned n_pairs, const char *dump_dir, unsigned n_samples,
                struct run_result *res)
{
    struct plc_cluster *c = make_cluster(n_hosts);
    double *lat = malloc(n_pairs * sizeof(double));
    double *lat_ok = malloc(n_pairs * sizeof(double));
    double *lat_fail = malloc(n_pairs * sizeof(double));
    double *lat_cpu = malloc(n_pairs * sizeof(double));
    size_t n_ok = 0, n_fail = 0;
    double total = 0;
    unsigned next_sample = 0, step = n_samples ? n_pairs / (n_samples + 1) : 0;

    memset(res, 0, sizeof(*res));
    for (unsigned i = 0; i < n_pairs; i++) {
        char names[2][32], gname[32];
        struct plc_vm_req m[2];
        struct plc_req r;
        struct plc_choice ch[2];
        make_pair(i, names, gname, m, &r);
        if (dump_dir && next_sample < n_samples && i == step * (next_sample + 1)) {
            double dry[21];
            for (int k = 0; k < 21; k++) {
                double t0 = bench_now_us();
                plc_place(c, &r, false, ch, NULL);
                dry[k] = bench_now_us() - t0;
            }
            dump_sample(dump_dir, i, c, &r, bench_pct(dry, 21, 0.5));
            next_sample++;
        }
        double c0 = bench_cpu_us(), t0 = bench_now_us();
        enum nfv_code rc = plc_place(c, &r, true, ch, NULL);
        double dt = bench_now_us() - t0;
        lat_cpu[i] = bench_cpu_us() - c0;
        total += dt;
        lat[i] = dt;
        if (rc == NFV_OK) {
            lat_ok[n_ok++] = dt;
            res->placed++;
        } else {
            lat_fail[n_fail++] = dt;
            res->refused++;
        }
    }
    res->bytes_per_host = plc_cluster_bytes_per_host(c);
    res->cpu_max = bench_pct(lat_cpu, n_pairs, 1.0);
    res->cpu_p50 = bench_pct(lat_cpu, n_pairs, 0.5);
    res->cpu_p99 = bench_pct(lat_cpu, n_pairs, 0.99);
    res->max = bench_pct(lat, n_pairs, 1.0);
    res->p50 = bench_pct(lat, n_pairs, 0.5);
    res->p99 = bench_pct(lat, n_pairs, 0.99);
    res->p50_ok = bench_pct(lat_ok, n_ok, 0.5);
    res->p99_ok = bench_pct(lat_ok, n_ok, 0.99);
    res->p50_fail = bench_pct(lat_fail, n_fail, 0.5);
    res->p99_fail = bench_pct(lat_fail, n_fail, 0.99);
    res->total_s = total / 1e6;
    res->req_per_s = n_pairs / res->total_s;
    res->vms_per_s = 2.0 * res->placed / res->total_s;
    free(lat);
    free(lat_ok);
    free(lat_fail);
    free(lat_cpu);
    plc_cluster_free(c);
}

#define MED(field)                                                                                 \
    do {                                                                                           \
        double v[64];                                                                              \
        for (unsigned k = 0; k < n_runs; k++)                                                      \
            v[k] = (double)rs[k].field;                                                            \
        printf("%s\"%s\":%.3f", first ? "" : ",", #field, bench_pct(v, n_runs, 0.5));              \
        first = 0;                                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    unsigned n_hosts = 1000, n_pairs = 20000, n_runs = 5, n_samples = 0;
    const char *dump_dir = NULL;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--hosts"))
            n_hosts = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--pairs"))
            n_pairs = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--runs"))
            n_runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--samples"))
            n_samples = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dump-dir"))
            dump_dir = argv[i + 1];
        else {
            fprintf(stderr, "usage: bench_place [--hosts N] [--pairs N] [--runs R] "
                            "[--dump-dir D --samples K]\n");
            return 2;
        }
    }
    if (n_runs < 1 || n_runs > 64 || n_hosts == 0 || n_pairs == 0) {
        fprintf(stderr, "bench_place: bad arguments\n");
        return 2;
    }
    struct run_result rs[64];
    for (unsigned k = 0; k < n_runs; k++) {
        run(n_hosts, n_pairs, k == 0 ? dump_dir : NULL, n_samples, &rs[k]);
        fprintf(stderr,
                "run %u: %u hosts, %u pair requests: %u placed, %u refused; cpu p50 %.1f us, "
                "p99 %.1f us; wall p50 %.1f us, p99 %.1f us (accepted p99 %.1f, refused p99 "
                "%.1f), %.0f requests/s, %zu B/host\n",
                k + 1, n_hosts, n_pairs, rs[k].placed, rs[k].refused, rs[k].cpu_p50, rs[k].cpu_p99,
                rs[k].p50, rs[k].p99, rs[k].p99_ok, rs[k].p99_fail, rs[k].req_per_s,
                rs[k].bytes_per_host);
    }
    /* One JSON object on stdout: medians over runs. */
    int first = 1;
    printf("{\"hosts\":%u,\"pair_requests\":%u,\"runs\":%u,", n_hosts, n_pairs, n_runs);
    MED(placed);
    MED(refused);
    MED(cpu_p50);
    MED(cpu_p99);
    MED(cpu_max);
    MED(p50);
    MED(p99);
    MED(max);
    MED(p50_ok);
    MED(p99_ok);
    MED(p50_fail);
    MED(p99_fail);
    MED(req_per_s);
    MED(vms_per_s);
    MED(bytes_per_host);
    printf("}\n");
    return 0;
}
