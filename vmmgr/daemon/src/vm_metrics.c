/*
 * vm_metrics.c - Prometheus text rendering (see vm_metrics.h).
 *
 * Names follow Prometheus conventions: a vmmgr_ prefix, base units (seconds),
 * _total for counters, one HELP and TYPE line per family, labels for the
 * dimensions an operator filters by (state, role, pool, op, result).
 */
#include "vm/vm_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_ms[VM_METRICS_N_BUCKETS] = {10,   50,   100,  250,   500,
                                                       1000, 2500, 5000, 10000, 30000};

double vm_metrics_bucket_ms(unsigned i)
{
    return i < VM_METRICS_N_BUCKETS ? bucket_ms[i] : 0;
}

void vm_metrics_observe(struct vm_metrics_ops *ops, enum vm_op_kind kind, int is_failed, double ms)
{
    if ((unsigned)kind >= VM_OP__COUNT)
        return;
    vm_metrics_hist_observe(&ops->latency[kind][is_failed ? 1 : 0], ms);
}

void vm_metrics_hist_observe(struct vm_metrics_hist *h, double ms)
{
    unsigned i;

    for (i = 0; i < VM_METRICS_N_BUCKETS; i++)
        if (ms <= bucket_ms[i])
            break;
    if (i < VM_METRICS_N_BUCKETS)
        h->buckets[i]++;
    else
        h->inf++;
    h->count++;
    h->sum_s += ms / 1000.0;
}

/* A growing string; on allocation failure it stops growing and is_failed. */
struct buf {
    char *s;
    size_t len, cap;
    int is_failed;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->is_failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->is_failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->is_failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const pool_names[VM_POOL__COUNT] = {
    [VM_POOL_RESERVED] = "reserved",
    [VM_POOL_DEDICATED] = "dedicated",
    [VM_POOL_OTHER] = "other",
};

char *vm_metrics_render(const struct vm_metrics_snapshot *snap, const struct vm_metrics_ops *ops)
{
    struct buf b = {0};

    b.cap = 8192;
    b.s = malloc(b.cap);
    if (!b.s)
        return NULL;
    b.s[0] = '\0';

    family(&b, "vmmgr_hosts", "gauge", "Hosts by state.");
    for (int s = 0; s < VM_HOST__COUNT; s++)
        put(&b, "vmmgr_hosts{state=\"%s\"} %u\n", vm_host_state_to_string(s), snap->hosts[s]);

    family(&b, "vmmgr_pus", "gauge", "Logical CPUs of all hosts by pool and use.");
    for (int p = 0; p < VM_POOL__COUNT; p++) {
        put(&b, "vmmgr_pus{pool=\"%s\",use=\"used\"} %u\n", pool_names[p], snap->pus_used[p]);
        put(&b, "vmmgr_pus{pool=\"%s\",use=\"free\"} %u\n", pool_names[p],
            snap->pus_total[p] - snap->pus_used[p]);
    }

    family(&b, "vmmgr_vms", "gauge", "VMs by state and redundancy role.");
    for (int s = 0; s < VM_GUEST__COUNT; s++)
        for (int r = 0; r < VM_ROLE__COUNT; r++)
            put(&b, "vmmgr_vms{state=\"%s\",role=\"%s\"} %u\n", vm_guest_state_to_string(s),
                vm_role_to_string(r), snap->vms[s][r]);

    family(&b, "vmmgr_groups", "gauge", "Redundancy groups.");
    put(&b, "vmmgr_groups %u\n", snap->groups);

    family(&b, "vmmgr_groups_unprotected", "gauge",
           "Redundancy groups without a running ACT and SBY apart (lost, promoting, rebuilding).");
    put(&b, "vmmgr_groups_unprotected %u\n", snap->groups_unprotected);

    if (snap->heal_state_names[0]) {
        family(&b, "vmmgr_hosts_heal", "gauge", "Hosts by healing state.");
        for (int s = 0; s < HEAL_STATE_N; s++)
            put(&b, "vmmgr_hosts_heal{state=\"%s\"} %u\n", snap->heal_state_names[s],
                snap->hosts_heal[s]);
    }

    family(&b, "vmmgr_heal_hook_failures_total", "counter",
           "VNF promotion hooks that failed after every attempt.");
    put(&b, "vmmgr_heal_hook_failures_total %llu\n", (unsigned long long)ops->heal_hook_failures);

    family(&b, "vmmgr_heal_duration_seconds", "histogram",
           "Healing latency: detect (first sign to confirmed failed), promote (confirmed to "
           "every SBY promoted), restore (confirmed to every lost member rebuilt).");
    {
        static const char *const phases[VM_HEAL__PHASES] = {"detect", "promote", "restore"};
        for (int p = 0; p < VM_HEAL__PHASES; p++) {
            const struct vm_metrics_hist *h = &ops->heal[p];
            uint64_t cum = 0;
            for (int i = 0; i < VM_METRICS_N_BUCKETS; i++) {
                cum += h->buckets[i];
                put(&b, "vmmgr_heal_duration_seconds_bucket{phase=\"%s\",le=\"%g\"} %llu\n",
                    phases[p], bucket_ms[i] / 1000.0, (unsigned long long)cum);
            }
            put(&b, "vmmgr_heal_duration_seconds_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n",
                phases[p], (unsigned long long)h->count);
            put(&b, "vmmgr_heal_duration_seconds_sum{phase=\"%s\"} %.6f\n", phases[p], h->sum_s);
            put(&b, "vmmgr_heal_duration_seconds_count{phase=\"%s\"} %llu\n", phases[p],
                (unsigned long long)h->count);
        }
    }

    family(&b, "vmmgr_journal_pending", "gauge", "Unfinished journal entries.");
    put(&b, "vmmgr_journal_pending %llu\n", (unsigned long long)snap->journal_pending);

    family(&b, "vmmgr_events_total", "counter", "Events recorded in the event log.");
    put(&b, "vmmgr_events_total %llu\n", (unsigned long long)snap->events_total);

    family(&b, "vmmgr_pin_drift_events_total", "counter",
           "Pins found changed outside vmmgrd and re-applied.");
    put(&b, "vmmgr_pin_drift_events_total %llu\n", (unsigned long long)ops->drift_events);

    family(&b, "vmmgr_host_disconnects_total", "counter", "Lost host connections.");
    put(&b, "vmmgr_host_disconnects_total %llu\n", (unsigned long long)ops->host_disconnects);

    family(&b, "vmmgr_http_requests_total", "counter", "Native API requests served.");
    put(&b, "vmmgr_http_requests_total %llu\n", (unsigned long long)ops->http_requests);
    family(&b, "vmmgr_http_errors_total", "counter", "Native API responses with status >= 400.");
    put(&b, "vmmgr_http_errors_total %llu\n", (unsigned long long)ops->http_errors);

    family(&b, "vmmgr_uptime_seconds", "gauge", "Seconds since vmmgrd started.");
    put(&b, "vmmgr_uptime_seconds %.3f\n", snap->uptime_s);

    family(&b, "vmmgr_operation_duration_seconds", "histogram",
           "Duration of journaled operations by kind and result.");
    for (int k = 0; k < VM_OP__COUNT; k++) {
        for (int f = 0; f < 2; f++) {
            const struct vm_metrics_hist *h = &ops->latency[k][f];
            const char *op = vm_op_kind_to_string(k), *res = f ? "failed" : "ok";
            uint64_t cum = 0;
            if (h->count == 0)
                continue; /* keep the output short: only kinds that happened */
            for (int i = 0; i < VM_METRICS_N_BUCKETS; i++) {
                cum += h->buckets[i];
                put(&b,
                    "vmmgr_operation_duration_seconds_bucket{op=\"%s\",result=\"%s\",le=\"%g\"} "
                    "%llu\n",
                    op, res, bucket_ms[i] / 1000.0, (unsigned long long)cum);
            }
            put(&b,
                "vmmgr_operation_duration_seconds_bucket{op=\"%s\",result=\"%s\",le=\"+Inf\"} "
                "%llu\n",
                op, res, (unsigned long long)h->count);
            put(&b, "vmmgr_operation_duration_seconds_sum{op=\"%s\",result=\"%s\"} %.6f\n", op, res,
                h->sum_s);
            put(&b, "vmmgr_operation_duration_seconds_count{op=\"%s\",result=\"%s\"} %llu\n", op,
                res, (unsigned long long)h->count);
        }
    }
    if (b.is_failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
