/*
 * vm_metrics.h - vmmgrd's Prometheus metrics: counters and their text form.
 *
 * Pure core. vm_daemon.c fills a vm_metrics_snapshot from its state under its
 * lock (hosts by state, PUs by pool and use, VMs by state and role) and keeps
 * the operation-latency histograms and drift counter in a vm_metrics_ops that
 * lives as long as the daemon; vm_metrics_render() turns both into the text
 * exposition format (version 0.0.4) served at GET /metrics.
 */
#ifndef VM_METRICS_H
#define VM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"
#include "vm/vm_journal.h"
#include "vm/vm_state.h"

/* Healing states as healing/'s heal/sm.h counts them (up, suspect, failed,
 * fenced, evacuated); the daemon passes their names in the snapshot. */
#define HEAL_STATE_N 5

/* Histogram upper bounds in milliseconds; +Inf is implicit. */
#define VM_METRICS_N_BUCKETS 10

enum vm_pu_pool {
    VM_POOL_RESERVED,  /* kept for the host OS */
    VM_POOL_DEDICATED, /* for pinned vCPUs */
    VM_POOL_OTHER,     /* neither (not offered to VMs) */
    VM_POOL__COUNT
};

struct vm_metrics_snapshot {
    unsigned hosts[VM_HOST__COUNT];
    unsigned vms[VM_GUEST__COUNT][VM_ROLE__COUNT];
    unsigned pus_total[VM_POOL__COUNT];
    unsigned pus_used[VM_POOL__COUNT]; /* held by a VM's allocation */
    unsigned groups;
    unsigned groups_unprotected;                /* a member lost, promoting or rebuilding */
    unsigned hosts_heal[HEAL_STATE_N];          /* hosts by healing state */
    const char *heal_state_names[HEAL_STATE_N]; /* their names (NULL: not shown) */
    uint64_t events_total;
    uint64_t journal_pending;
    double uptime_s;
};

struct vm_metrics_hist {
    uint64_t buckets[VM_METRICS_N_BUCKETS]; /* non-cumulative counts */
    uint64_t inf;                           /* above the last bound */
    uint64_t count;
    double sum_s;
};

/* Healing's latencies: first sign -> confirmed failed; confirmed -> every
 * SBY promoted; confirmed -> every lost member rebuilt. */
enum vm_heal_phase { VM_HEAL_DETECT, VM_HEAL_PROMOTE, VM_HEAL_RESTORE, VM_HEAL__PHASES };

struct vm_metrics_ops {
    struct vm_metrics_hist heal[VM_HEAL__PHASES];
    uint64_t heal_hook_failures;
    struct vm_metrics_hist latency[VM_OP__COUNT][2]; /* [kind][0 ok, 1 failed] */
    uint64_t drift_events;
    uint64_t host_disconnects;
    uint64_t http_requests;
    uint64_t http_errors; /* responses >= 400 */
};

/* Records one finished operation of @kind that took @ms milliseconds. */
void vm_metrics_observe(struct vm_metrics_ops *ops, enum vm_op_kind kind, int is_failed, double ms);

/* Adds one observation of @ms milliseconds to @h. */
void vm_metrics_hist_observe(struct vm_metrics_hist *h, double ms);

/* Upper bound of bucket @i in milliseconds. */
double vm_metrics_bucket_ms(unsigned i);

/*
 * Renders @snap and @ops as Prometheus text. Returns a malloc'ed NUL-terminated
 * string the caller frees, or NULL on allocation failure.
 */
char *vm_metrics_render(const struct vm_metrics_snapshot *snap, const struct vm_metrics_ops *ops);

#endif /* VM_METRICS_H */
