/*
 * bench_pin_plan.c - how fast the planner plans one request on a big, busy
 * host, and what the allocation state costs placement.
 *
 * Host: 2 packages x 64 cores x 2 threads = 256 PUs, one NUMA node per
 * package, every PU dedicated. It is filled to 90% (at most 10% of PUs free)
 * with a deterministic mix of 1-4 vCPU VMs under thread policies isolate and
 * prefer, so free PUs are scattered over half-used and whole cores. Then one
 * request (4 exclusive vCPUs, dedicated, thread policy prefer - Nova's
 * default for hw:cpu_policy=dedicated - and 1024 MiB of memory in 4 KiB
 * pages, the memory bench_nova_fit.py asks of Nova) is planned again and
 * again.
 *
 * Figures, each the median of --runs runs (>= 5) of --iters calls:
 *   plan_ns        pin_plan_compute, the request above (also 'isolate')
 *   counts_ns      pin_alloc_counts (placement's O(1) capacity read)
 *   copy_ns        pin_alloc_copy into an existing allocation (what-if)
 *   footprint      bytes of one host's allocation state
 * --state FILE writes the filled host (per node: PUs, sibling pairs, held
 * PUs) and the request as JSON, so bench_nova_fit.py runs Nova's
 * numa_fit_instance_to_host on exactly the same input (memory included).
 * --out FILE writes the figures and the PUs each policy chose as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pin/pin.h"

#define N_FILL_VCPUS_MAX 4
#define REQ_VCPUS        4
#define REQ_MEMORY_MIB   1024 /* both sides get it; 4 KiB pages */

static uint64_t g_rng = 0x243f6a8885a308d3ull;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct figure {
    double median, min, max;
};

static struct figure summarize(double *v, unsigned n)
{
    struct figure f;

    f.median = median(v, n); /* sorts v */
    f.min = v[0];
    f.max = v[n - 1];
    return f;
}

/* Fills @a until it refuses 200 requests in a row, then lets random VMs
 * leave until at least 10% of the dedicated PUs are free again: the free
 * PUs end up scattered over whole and half-used cores, as on a host that
 * has lived a while. Returns the number of VMs left. */
static unsigned fill(struct pin_alloc *a)
{
    struct pin_plan *plan = pin_plan_new(N_FILL_VCPUS_MAX);
    struct pin_alloc_counts c;
    unsigned n_made = 0, refusals = 0;
    char owner[32];

    while (refusals < 200) {
        struct pin_request *r = NULL;
        pin_request_new(1 + rnd(N_FILL_VCPUS_MAX), PIN_MODE_EXCLUSIVE, &r, NULL);
        r->thread_policy = rnd(3) ? PIN_THREAD_PREFER : PIN_THREAD_ISOLATE;
        r->emulator = PIN_EMU_VCPUS;
        if (r->n_vcpus > 1 && rnd(3) == 0)
            r->vcpu_mode[0] = PIN_MODE_SHARED;
        if (pin_plan_compute(a, r, plan, NULL) == NFV_OK) {
            snprintf(owner, sizeof(owner), "fill-%u", n_made++);
            pin_alloc_claim(a, plan, owner, NULL);
            refusals = 0;
        } else {
            refusals++;
        }
        pin_request_free(r);
    }
    pin_alloc_counts(a, &c);
    while (c.n_free_pus * 10 < c.n_dedicated_pus) {
        snprintf(owner, sizeof(owner), "fill-%u", rnd(n_made));
        pin_alloc_release(a, owner, NULL); /* NOENT if already gone: draw again */
        pin_alloc_counts(a, &c);
    }
    pin_plan_free(plan);
    return (unsigned)pin_alloc_n_claims(a);
}

/* The request as both benchmarks read it (bench_nova_fit.py builds Nova's
 * InstanceNUMATopology from it). */
static json_t *request_json(const struct pin_request *r)
{
    return json_pack("{s:i,s:s,s:s,s:I,s:I}", "vcpus", (int)r->n_vcpus, "cpu_policy", "dedicated",
                     "thread_policy", pin_thread_policy_to_string(r->thread_policy), "memory_mib",
                     (json_int_t)r->mem_mib, "page_kib", (json_int_t)4);
}

/* The PUs of @plan as a JSON array, or null if @rc says it failed. */
static json_t *plan_pus_json(const struct pin_plan *plan, enum nfv_code rc)
{
    json_t *a;

    if (rc != NFV_OK)
        return json_null();
    a = json_array();
    for (int pu = pin_cpuset_first(&plan->claimed); pu >= 0;
         pu = pin_cpuset_next(&plan->claimed, (unsigned)pu + 1))
        json_array_append_new(a, json_integer(pu));
    return a;
}

static void write_state(const char *path, const struct pin_alloc *a, const struct pin_request *r)
{
    const struct pin_topo *t = pin_alloc_topo(a);
    struct pin_cpuset held;
    json_t *nodes = json_array();
    FILE *f;

    pin_cpuset_or(&held, pin_alloc_used(a), pin_alloc_blocked(a));
    for (unsigned n = 0; n < t->n_nodes; n++) {
        json_t *pus = json_array(), *sib = json_array(), *pinned = json_array();
        for (int pu = pin_cpuset_first(&t->nodes[n].pus); pu >= 0;
             pu = pin_cpuset_next(&t->nodes[n].pus, (unsigned)pu + 1)) {
            json_array_append_new(pus, json_integer(pu));
            if (pin_cpuset_test(&held, (unsigned)pu))
                json_array_append_new(pinned, json_integer(pu));
        }
        for (unsigned c = 0; c < t->n_cores; c++) {
            json_t *s;
            if (t->cores[c].node != n)
                continue;
            s = json_array();
            for (unsigned k = 0; k < t->cores[c].n_pus; k++)
                json_array_append_new(s, json_integer(t->cores[c].pus[k]));
            json_array_append_new(sib, s);
        }
        json_array_append_new(nodes,
                              json_pack("{s:i,s:o,s:o,s:o,s:I}", "id", (int)t->nodes[n].os_index,
                                        "pus", pus, "siblings", sib, "pinned", pinned, "memory_mib",
                                        (json_int_t)(t->nodes[n].mem_bytes >> 20)));
    }
    json_t *root = json_pack("{s:o,s:o}", "nodes", nodes, "request", request_json(r));
    f = fopen(path, "w");
    if (!f || json_dumpf(root, f, JSON_INDENT(1)) < 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
    json_decref(root);
}

/* Times @iters calls of the planner, @runs times. */
static struct figure time_plan(const struct pin_alloc *a, const struct pin_request *r,
                               struct pin_plan *plan, unsigned runs, unsigned iters,
                               enum nfv_code *ret_rc)
{
    double per_call[64];

    for (unsigned k = 0; k < runs; k++) {
        double t0 = now_ns();
        for (unsigned i = 0; i < iters; i++)
            *ret_rc = pin_plan_compute(a, r, plan, NULL);
        per_call[k] = (now_ns() - t0) / iters;
    }
    return summarize(per_call, runs);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *state = NULL;
    unsigned runs = 7, iters = 20000;
    struct pin_topo *t = NULL;
    struct pin_pools pools;
    struct pin_alloc *a = NULL, *scratch;
    struct pin_request *r = NULL;
    struct pin_plan *plan;
    struct pin_alloc_counts c;
    struct figure f_prefer, f_isolate, f_counts, f_copy;
    enum nfv_code rc_prefer, rc_isolate;
    double per_call[64];
    json_t *pus_prefer, *pus_isolate;
    volatile unsigned sink = 0;
    unsigned n_vms;
    char pus[1024];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
            iters = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--runs N>=5] [--iters N] [--state FILE] [--out FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    if (runs < 5 || runs > 64 || iters < 1) {
        fprintf(stderr, "--runs must be 5..64 and --iters at least 1\n");
        return 2;
    }
    if (pin_topo_new_synthetic(2, 1, 64, 2, 65536, &t, NULL) ||
        pin_pools_parse(t, NULL, NULL, NULL, &pools, NULL) || pin_alloc_new(t, &pools, &a, NULL)) {
        fprintf(stderr, "cannot build the host\n");
        return 1;
    }
    n_vms = fill(a);
    pin_alloc_counts(a, &c);
    pin_cpuset_format(pin_alloc_free_set(a), pus, sizeof(pus));
    printf("host: 2 x 64 cores x 2 threads = %u PUs; %u VMs; %u PUs free (%.1f%% full), "
           "%u whole cores free\nfree PUs: %s\n",
           t->n_pus, n_vms, c.n_free_pus,
           100.0 * (c.n_dedicated_pus - c.n_free_pus) / c.n_dedicated_pus, c.n_free_cores, pus);

    pin_request_new(REQ_VCPUS, PIN_MODE_EXCLUSIVE, &r, NULL);
    r->thread_policy = PIN_THREAD_PREFER;
    r->emulator = PIN_EMU_VCPUS;
    r->mem_mib = REQ_MEMORY_MIB;
    plan = pin_plan_new(REQ_VCPUS);
    if (state)
        write_state(state, a, r);

    f_prefer = time_plan(a, r, plan, runs, iters, &rc_prefer);
    pus_prefer = plan_pus_json(plan, rc_prefer);
    if (rc_prefer == NFV_OK) {
        pin_cpuset_format(&plan->claimed, pus, sizeof(pus));
        printf("plan (prefer): vCPUs on %s\n", pus);
    }
    r->thread_policy = PIN_THREAD_ISOLATE;
    f_isolate = time_plan(a, r, plan, runs, iters, &rc_isolate);
    pus_isolate = plan_pus_json(plan, rc_isolate);
    r->thread_policy = PIN_THREAD_PREFER;

    for (unsigned k = 0; k < runs; k++) {
        double t0 = now_ns();
        for (unsigned i = 0; i < iters; i++) {
            struct pin_alloc_counts cc;
            pin_alloc_node_counts(a, i & 1, &cc);
            sink += cc.n_free_cores;
        }
        per_call[k] = (now_ns() - t0) / iters;
    }
    f_counts = summarize(per_call, runs);
    scratch = pin_alloc_clone(a);
    for (unsigned k = 0; k < runs; k++) {
        unsigned n = iters / 10 ? iters / 10 : 1;
        double t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
            pin_alloc_copy(scratch, a, NULL);
        per_call[k] = (now_ns() - t0) / n;
    }
    f_copy = summarize(per_call, runs);

    printf("plan, 4 vCPUs dedicated, prefer:  median %.0f ns (min %.0f, max %.0f) over %u runs "
           "x %u calls -> %s\n",
           f_prefer.median, f_prefer.min, f_prefer.max, runs, iters, nfv_code_name(rc_prefer));
    printf("plan, 4 vCPUs dedicated, isolate: median %.0f ns (min %.0f, max %.0f) -> %s\n",
           f_isolate.median, f_isolate.min, f_isolate.max, nfv_code_name(rc_isolate));
    printf("node capacity read (pin_alloc_node_counts): median %.1f ns\n", f_counts.median);
    printf("what-if copy (pin_alloc_copy, %zu claims): median %.0f ns\n", pin_alloc_n_claims(a),
           f_copy.median);
    printf("allocation footprint: %zu bytes (%zu claims); topology shared\n",
           pin_alloc_footprint(a), pin_alloc_n_claims(a));

    if (out) {
        json_t *root =
            json_pack("{s:s,s:{s:i,s:i,s:i,s:f},s:o,s:i,s:i,"
                      "s:{s:f,s:f,s:f,s:s,s:O},s:{s:f,s:f,s:f,s:s,s:O},s:f,s:f,s:I}",
                      "benchmark", "pin_plan_compute", "host", "pus", (int)t->n_pus, "vms",
                      (int)n_vms, "free_pus", (int)c.n_free_pus, "full_pct",
                      100.0 * (c.n_dedicated_pus - c.n_free_pus) / c.n_dedicated_pus, "request",
                      request_json(r), "runs", (int)runs, "iters", (int)iters, "plan_prefer_ns",
                      "median", f_prefer.median, "min", f_prefer.min, "max", f_prefer.max, "result",
                      nfv_code_name(rc_prefer), "pus", pus_prefer, "plan_isolate_ns", "median",
                      f_isolate.median, "min", f_isolate.min, "max", f_isolate.max, "result",
                      nfv_code_name(rc_isolate), "pus", pus_isolate, "node_counts_ns",
                      f_counts.median, "alloc_copy_ns", f_copy.median, "alloc_footprint_bytes",
                      (json_int_t)pin_alloc_footprint(a));
        if (json_dump_file(root, out, JSON_INDENT(2)) < 0) {
            fprintf(stderr, "cannot write %s\n", out);
            return 1;
        }
        json_decref(root);
    }
    (void)sink;
    json_decref(pus_prefer);
    json_decref(pus_isolate);
    pin_alloc_free(scratch);
    pin_plan_free(plan);
    pin_request_free(r);
    pin_alloc_free(a);
    pin_topo_unref(t);
    return 0;
}
