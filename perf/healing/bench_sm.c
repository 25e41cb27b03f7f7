/*
 * bench_sm.c - healing's decision path, timed (never part of the test suite).
 *
 * Part 1, simulated cluster: 1,000 hosts in 50 racks of 20, 10,000 VMs as
 * 5,000 ACT/SBY groups (ACT and SBY always in different racks), one
 * heal_mon_test BMC and one heal_host state machine per host. A run injects a
 * fault, then runs the engine loop a daemon would: the libvirt "lost" events
 * of the failed hosts, one poll sweep over all 1,000 BMCs feeding power and
 * SEL events to the state machines, each FENCE action run through
 * heal_mon_fence() (power off + read back) and fed back as FENCE_DONE, and
 * each PROMOTE turned into the promotion of the SBY of every ACT on the host.
 * Measured: wall time from the fault input to the last group promoted.
 *   host fault: uncorrectable ECC in the SEL + libvirt lost, power still on
 *               (rule C confirms, the fence powers it off);
 *   rack fault: 20 hosts lose power (BMC on standby power reads off, PSU SEL
 *               event) + libvirt lost (rule B confirms).
 * p50/p99 over the runs of one repetition, medians of the repetitions.
 * The poll interval is not part of this figure (a daemon adds up to one poll
 * period of detection delay); part 2 measures it for real.
 *
 * Part 2, real BMC: ipmi_sim (scripts/lib/ipmisim.sh) and heal_mon_ipmi. A
 * poll loop every 200 ms; the fault (uncorrectable ECC through Add SEL Entry,
 * and the host's libvirt connection declared lost at the same moment) is
 * injected at a random phase of the loop; measured from just before the
 * injection to: detected (SEL event seen), FENCE emitted, power read back
 * off (fence confirmed), PROMOTE emitted. Median of 5 runs.
 *
 *   bench_sm [--runs N] [--reps N] [--bmc-runs N] [--no-bmc] [--out FILE]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heal/mon.h"
#include "heal/mon_test.h"
#include "heal/sm.h"
#include "ipmisim_util.h"

#define N_HOSTS          1000
#define RACK_SIZE        20
#define N_RACKS          (N_HOSTS / RACK_SIZE)
#define N_GROUPS         5000
#define MAX_ACT_PER_HOST 64

struct cluster {
    struct heal_rules rules;
    struct heal_mon_test_bmc bmc[N_HOSTS];
    struct heal_mon *mon[N_HOSTS];
    struct heal_host sm[N_HOSTS];
    /* group g: ACT on act_host[g], SBY on sby_host[g]; is_promoted once switched */
    unsigned act_host[N_GROUPS], sby_host[N_GROUPS];
    bool is_promoted[N_GROUPS];
    unsigned n_act[N_HOSTS];
    unsigned acts[N_HOSTS][MAX_ACT_PER_HOST]; /* groups whose ACT runs on the host */
    unsigned n_promoted;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

static void cluster_build(struct cluster *c)
{
    memset(c, 0, sizeof(*c));
    heal_rules_default(&c->rules);
    uint64_t seed = 7;
    for (unsigned g = 0; g < N_GROUPS; g++) {
        unsigned a, s;
        do {
            a = (unsigned)(lcg(&seed) % N_HOSTS);
        } while (c->n_act[a] >= MAX_ACT_PER_HOST);
        do {
            s = (unsigned)(lcg(&seed) % N_HOSTS);
        } while (s / RACK_SIZE == a / RACK_SIZE);
        c->act_host[g] = a;
        c->sby_host[g] = s;
        c->acts[a][c->n_act[a]++] = g;
    }
    for (unsigned h = 0; h < N_HOSTS; h++) {
        struct heal_mon_config cfg;
        heal_mon_config_init(&cfg);
        cfg.driver_data = &c->bmc[h];
        heal_mon_test_bmc_init(&c->bmc[h]);
        if (heal_mon_test.open(&cfg, &c->mon[h], NULL) != NFV_OK)
            abort();
    }
}

/* Back to all up: power on, SEL read to the end, state machines UP. */
static void cluster_reset(struct cluster *c, uint64_t t_ms)
{
    struct heal_mon_poll p;
    for (unsigned h = 0; h < N_HOSTS; h++) {
        c->bmc[h].power = HEAL_POWER_ON;
        c->bmc[h].n_sel = 0;
        heal_mon_test.close(c->mon[h]);
        struct heal_mon_config cfg;
        heal_mon_config_init(&cfg);
        cfg.driver_data = &c->bmc[h];
        if (heal_mon_test.open(&cfg, &c->mon[h], NULL) != NFV_OK ||
            heal_mon_test.poll(c->mon[h], &p, NULL) != NFV_OK)
            abort();
        heal_host_init(&c->sm[h], t_ms);
    }
    memset(c->is_promoted, 0, sizeof(c->is_promoted));
    c->n_promoted = 0;
}

static void promote_host(struct cluster *c, unsigned h)
{
    for (unsigned i = 0; i < c->n_act[h]; i++) {
        unsigned g = c->acts[h][i];
        if (!c->is_promoted[g]) {
            c->is_promoted[g] = true; /* the SBY on sby_host[g] is the ACT now */
            c->n_promoted++;
        }
    }
}

/* Feeds one input and runs what it asks for, recursively for FENCE. */
static void feed(struct cluster *c, unsigned h, const struct heal_input *in)
{
    struct heal_step step;
    heal_host_step(&c->sm[h], &c->rules, in, &step);
    for (unsigned i = 0; i < step.n_actions; i++) {
        switch (step.actions[i]) {
        case HEAL_ACT_FENCE: {
            struct heal_input done = {.now_ms = in->now_ms};
            done.kind = heal_mon_fence(&heal_mon_test, c->mon[h], 1000, 1, NULL) == NFV_OK
                            ? HEAL_IN_FENCE_DONE
                            : HEAL_IN_FENCE_FAILED;
            feed(c, h, &done);
            break;
        }
        case HEAL_ACT_PROMOTE:
            promote_host(c, h);
            break;
        default: /* REBUILD and NOTIFY are jobs and events: not on this path */
            break;
        }
    }
}

/* One engine pass: poll every BMC, feed what it says. */
static void sweep(struct cluster *c, uint64_t t_ms)
{
    struct heal_mon_poll p;
    struct heal_input in[HEAL_MON_POLL_MAX_INPUTS];
    for (unsigned h = 0; h < N_HOSTS; h++) {
        unsigned n = heal_mon_poll_inputs(heal_mon_test.poll(c->mon[h], &p, NULL), &p, t_ms, in);
        for (unsigned i = 0; i < n; i++)
            feed(c, h, &in[i]);
    }
}

static unsigned groups_on(const struct cluster *c, const unsigned *hosts, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += c->n_act[hosts[i]];
    return total;
}

/* One fault; returns ns from the fault input to the last promotion. */
static uint64_t run_fault(struct cluster *c, const unsigned *hosts, unsigned n, bool is_rack,
                          uint64_t t_ms)
{
    unsigned want = groups_on(c, hosts, n);
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++) {
        struct heal_mon_test_bmc *b = &c->bmc[hosts[i]];
        if (is_rack) {
            b->power = HEAL_POWER_OFF;
            heal_mon_test_bmc_add_sel(b, HEAL_SEL_PSU_FAILURE, NULL);
        } else {
            heal_mon_test_bmc_add_sel(b, HEAL_SEL_MEM_UECC, NULL);
        }
        struct heal_input lost = {.kind = HEAL_IN_LIBVIRT_LOST, .now_ms = t_ms};
        feed(c, hosts[i], &lost);
    }
    for (int pass = 0; c->n_promoted < want && pass < 10; pass++)
        sweep(c, t_ms + (uint64_t)pass);
    uint64_t t1 = now_ns();
    if (c->n_promoted != want) {
        fprintf(stderr, "bench_sm: promoted %u of %u groups\n", c->n_promoted, want);
        exit(1);
    }
    return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, unsigned n, double p)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    unsigned i = (unsigned)(p * (n - 1) + 0.5);
    return (double)v[i];
}

static double median_d(double *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct sim_result {
    double p50_ms, p99_ms, max_ms;
    unsigned groups_per_fault_p50;
};

static void bench_sim(struct cluster *c, bool is_rack, unsigned runs, unsigned reps,
                      struct sim_result *ret)
{
    double p50[16], p99[16], mx[16];
    uint64_t *v = calloc(runs, sizeof(*v));
    uint64_t *ng = calloc(runs, sizeof(*ng));
    uint64_t seed = is_rack ? 99 : 11, t_ms = 1000;
    for (unsigned r = 0; r < reps; r++) {
        for (unsigned i = 0; i < runs; i++) {
            cluster_reset(c, t_ms);
            unsigned hosts[RACK_SIZE], n = 1;
            if (is_rack) {
                unsigned rack = (unsigned)(lcg(&seed) % N_RACKS);
                for (n = 0; n < RACK_SIZE; n++)
                    hosts[n] = rack * RACK_SIZE + n;
            } else {
                hosts[0] = (unsigned)(lcg(&seed) % N_HOSTS);
            }
            ng[i] = groups_on(c, hosts, n);
            v[i] = run_fault(c, hosts, n, is_rack, t_ms);
            t_ms += 100000;
        }
        p50[r] = pct(v, runs, 0.50) / 1e6;
        p99[r] = pct(v, runs, 0.99) / 1e6;
        mx[r] = pct(v, runs, 1.0) / 1e6;
    }
    ret->p50_ms = median_d(p50, reps);
    ret->p99_ms = median_d(p99, reps);
    ret->max_ms = median_d(mx, reps);
    ret->groups_per_fault_p50 = (unsigned)pct(ng, runs, 0.5);
    free(v);
    free(ng);
}

/* ---- part 2: the real BMC ---- */

struct bmc_result {
    bool is_run;
    char skip_reason[128];
    unsigned runs;
    double inject_ms, detect_ms, fence_emitted_ms, fence_confirmed_ms, promote_ms;
};

static double ms_since(uint64_t t0)
{
    return (double)(now_ns() - t0) / 1e6;
}

static bool bmc_one_run(struct ipmisim *sim, uint64_t *seed, double *ret)
{
    struct heal_mon_config cfg;
    struct heal_mon *mon = NULL;
    struct heal_rules rules;
    struct heal_host host;
    struct nfv_err err = {0};
    ipmisim_config(sim, &cfg);
    cfg.timeout_ms = 1000;
    heal_rules_default(&rules);
    if (heal_mon_ipmi.open(&cfg, &mon, &err) != NFV_OK) {
        fprintf(stderr, "bench_sm: open: %s\n", err.msg);
        return false;
    }
    heal_host_init(&host, 0);
    const uint64_t poll_ns = 200000000u;
    uint64_t next_poll = now_ns();
    /* Inject at a random phase of the poll loop. */
    uint64_t inject_at = now_ns() + 300000000u + lcg(seed) % poll_ns;
    uint64_t t0 = 0;
    bool is_fence_emitted = false;
    for (int i = 0; i < 5; i++)
        ret[i] = -1;
    for (;;) {
        uint64_t t = now_ns();
        if (!t0 && t >= inject_at) {
            t0 = now_ns();
            if (!ipmisim_inject(sim, "uecc"))
                break;
            ret[0] = ms_since(t0);
            struct heal_input lost = {.kind = HEAL_IN_LIBVIRT_LOST,
                                      .now_ms = (now_ns() - t0) / 1000000};
            struct heal_step s;
            heal_host_step(&host, &rules, &lost, &s);
        }
        if (t >= next_poll) {
            next_poll += poll_ns;
            struct heal_mon_poll p;
            enum nfv_code code = heal_mon_ipmi.poll(mon, &p, &err);
            if (code != NFV_OK)
                fprintf(stderr, "bench_sm: poll: %s\n", err.msg);
            uint64_t ms = t0 ? (now_ns() - t0) / 1000000 : 0;
            struct heal_input in[HEAL_MON_POLL_MAX_INPUTS];
            unsigned n = heal_mon_poll_inputs(code, &p, ms, in);
            for (unsigned i = 0; i < n; i++) {
                if (ret[1] < 0 && in[i].kind == HEAL_IN_BMC_SEL && in[i].sel == HEAL_SEL_MEM_UECC)
                    ret[1] = ms_since(t0);
                struct heal_step s;
                heal_host_step(&host, &rules, &in[i], &s);
                if (heal_step_has(&s, HEAL_ACT_FENCE)) {
                    ret[2] = ms_since(t0);
                    is_fence_emitted = true;
                }
            }
        }
        if (is_fence_emitted) {
            enum nfv_code code = heal_mon_fence(&heal_mon_ipmi, mon, 5000, 20, &err);
            if (code != NFV_OK) {
                fprintf(stderr, "bench_sm: fence: %s\n", err.msg);
                break;
            }
            ret[3] = ms_since(t0);
            struct heal_input done = {.kind = HEAL_IN_FENCE_DONE,
                                      .now_ms = (now_ns() - t0) / 1000000};
            struct heal_step s;
            heal_host_step(&host, &rules, &done, &s);
            if (heal_step_has(&s, HEAL_ACT_PROMOTE))
                ret[4] = ms_since(t0);
            break;
        }
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    heal_mon_ipmi.close(mon);
    return ret[4] >= 0;
}

static void bench_bmc(unsigned runs, struct bmc_result *ret)
{
    memset(ret, 0, sizeof(*ret));
    char tmpl[] = "/tmp/vmmgr-bench-healing-XXXXXX";
    if (!mkdtemp(tmpl)) {
        snprintf(ret->skip_reason, sizeof(ret->skip_reason), "mkdtemp failed");
        return;
    }
    double v[5][16];
    uint64_t seed = 5;
    unsigned n = 0;
    for (unsigned r = 0; r < runs && r < 16; r++) {
        struct ipmisim sim = {0};
        char dir[300];
        snprintf(dir, sizeof(dir), "%s/bmc%u", tmpl, r);
        if (!ipmisim_start(&sim, dir)) {
            snprintf(ret->skip_reason, sizeof(ret->skip_reason), "ipmi_sim cannot run here");
            break;
        }
        double one[5];
        bool ok = bmc_one_run(&sim, &seed, one);
        ipmisim_stop(&sim);
        if (!ok) {
            snprintf(ret->skip_reason, sizeof(ret->skip_reason), "run %u failed (see stderr)", r);
            break;
        }
        for (int k = 0; k < 5; k++)
            v[k][n] = one[k];
        n++;
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
    (void)!system(cmd);
    if (n == 0)
        return;
    ret->is_run = true;
    ret->runs = n;
    ret->inject_ms = median_d(v[0], n);
    ret->detect_ms = median_d(v[1], n);
    ret->fence_emitted_ms = median_d(v[2], n);
    ret->fence_confirmed_ms = median_d(v[3], n);
    ret->promote_ms = median_d(v[4], n);
}

int main(int argc, char **argv)
{
    unsigned runs = 200, reps = 5, bmc_runs = 5;
    bool is_bmc = true;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--bmc-runs") && i + 1 < argc)
            bmc_runs = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-bmc"))
            is_bmc = false;
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "bench_sm: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (runs < 1 || reps < 1 || reps > 16 || bmc_runs > 16) {
        fprintf(stderr, "bench_sm: '--runs' >= 1, '--reps' 1..16, '--bmc-runs' 0..16\n");
        return 2;
    }
    struct cluster *c = malloc(sizeof(*c));
    if (!c)
        return 1;
    cluster_build(c);
    struct sim_result host, rack;
    bench_sim(c, false, runs, reps, &host);
    bench_sim(c, true, runs, reps, &rack);
    struct bmc_result bmc = {0};
    if (is_bmc && bmc_runs > 0)
        bench_bmc(bmc_runs, &bmc);
    else
        snprintf(bmc.skip_reason, sizeof(bmc.skip_reason), "--no-bmc");

    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f,
            "{\n  \"benchmark\": \"healing_sm\",\n  \"date\": \"%s\",\n  \"machine\": {\"cpus\": "
            "%ld},\n",
            date, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "  \"notes\": \"fault input to every SBY of the failed hosts promoted (wall ms): "
               "state machines + heal_mon_test BMCs + fence read back, one engine pass over all "
               "hosts; p50/p99/max over the runs of a repetition, medians of the repetitions; "
               "excludes the poll period (see real_bmc)\",\n");
    fprintf(f, "  \"cluster\": {\"hosts\": %d, \"racks\": %d, \"vms\": %d, \"groups\": %d},\n",
            N_HOSTS, N_RACKS, 2 * N_GROUPS, N_GROUPS);
    fprintf(f,
            "  \"one_host\": {\"runs\": %u, \"reps\": %u, \"groups_promoted_p50\": %u, \"p50_ms\": "
            "%.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f},\n",
            runs, reps, host.groups_per_fault_p50, host.p50_ms, host.p99_ms, host.max_ms);
    fprintf(f,
            "  \"one_rack\": {\"runs\": %u, \"reps\": %u, \"hosts\": %d, \"groups_promoted_p50\": "
            "%u, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f},\n",
            runs, reps, RACK_SIZE, rack.groups_per_fault_p50, rack.p50_ms, rack.p99_ms,
            rack.max_ms);
    fprintf(f, "  \"target_p99_ms\": 50,\n");
    if (bmc.is_run)
        fprintf(
            f,
            "  \"real_bmc\": {\"bmc\": \"ipmi_sim (OpenIPMI) on 127.0.0.1, heal_mon_ipmi lanplus "
            "cipher suite 3\", \"poll_ms\": 200, \"runs\": %u, \"median_ms_from_injection\": "
            "{\"inject_returned\": %.1f, \"detected\": %.1f, \"fence_emitted\": %.1f, "
            "\"fence_confirmed\": %.1f, \"promote_emitted\": %.1f}, \"target_ms\": 1000}\n}\n",
            bmc.runs, bmc.inject_ms, bmc.detect_ms, bmc.fence_emitted_ms, bmc.fence_confirmed_ms,
            bmc.promote_ms);
    else
        fprintf(f, "  \"real_bmc\": {\"skipped\": \"%s\"}\n}\n", bmc.skip_reason);
    if (out)
        fclose(f);
    for (unsigned h = 0; h < N_HOSTS; h++)
        heal_mon_test.close(c->mon[h]);
    free(c);
    return 0;
}
