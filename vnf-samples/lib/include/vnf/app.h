/*
 * vnf/app.h - the DPDK runtime shared by vmmgr-nat and vmmgr-fw.
 *
 * DPDK adapter, in the manner of the DPDK sample applications: EAL
 * start-up, mbuf pool and two-port setup, the run-to-completion loop, the
 * quit/stats/reload flags raised by signals, a control thread that prints
 * statistics and runs reloads off the fast path, and statistics rendered as
 * text, JSON or an rte_telemetry dictionary.
 *
 * An application (nat_main.c, fw_main.c) fills a struct vnf_app_ops with its
 * packet handler and hands it to vnf_app_run(). The handler sees packets of
 * one side (0 or 1) at a time and queues each one for a side with
 * vnf_tx_put() or frees it; the runtime transmits and counts.
 *
 * Workers: one per EAL lcore (-l), the main lcore being worker 0. Each worker
 * polls RX queue <worker> of both ports (spread by RSS where the port has it,
 * by the sender otherwise: memif, pcap) and sends on TX queue <worker>. With
 * more than one worker, every packet goes to the worker that owns its flow,
 * as the application's owner() callback says (through one rte_ring per
 * worker), so each worker keeps its own connection table without locks and
 * the packets of one flow stay in order. A worker handles packets in the
 * order it received or dequeued them.
 *
 * Test clock (--test-clock=pcap, documented in docs/vnf-samples.md): the
 * ports must deliver RX timestamps (net_pcap does, from the capture); the
 * loop then merges both ports' packets in timestamp order, one packet at a
 * time, and "now" is the packet's timestamp. This makes a two-port capture
 * replay deterministic, including timeouts, without sleeping.
 */
#ifndef VNF_APP_H
#define VNF_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include "nfv/err.h"

#define VNF_BURST       32
#define VNF_MAX_STATS   128
#define VNF_MAX_WORKERS 64 /* lcores; bounds the dispatch staging arrays */

struct vnf_stat {
    const char *name;
    uint64_t value;
};

struct vnf_tx {
    struct rte_mbuf *pkts[2][VNF_BURST];
    uint16_t n[2];
};

/* Queues @m for transmission on @side; the caller's burst never exceeds VNF_BURST. */
static inline void vnf_tx_put(struct vnf_tx *tx, unsigned side, struct rte_mbuf *m)
{
    tx->pkts[side][tx->n[side]++] = m;
}

struct vnf_app_ops {
    /* Worker @worker handles @n packets received on @side; every mbuf is queued or freed. */
    void (*handle)(void *ctx, unsigned worker, struct rte_mbuf **pkts, uint16_t n, unsigned side,
                   uint64_t now_ms, struct vnf_tx *tx);
    /* Called once per loop iteration of each worker (incremental expiry). May be NULL. */
    void (*idle)(void *ctx, unsigned worker, uint64_t now_ms);
    /*
     * The worker (< @n_workers) that owns the flow of @m received on @side;
     * return @self for packets that belong to no flow (malformed). Called
     * only with more than one worker; NULL limits the application to one.
     */
    unsigned (*owner)(void *ctx, const struct rte_mbuf *m, unsigned side, unsigned self,
                      unsigned n_workers);
    /* Appends the application's counters to @out; returns how many. */
    unsigned (*stats)(void *ctx, struct vnf_stat *out, unsigned max);
    /* Runs on the control thread after SIGHUP. May be NULL. */
    void (*reload)(void *ctx);
    /*
     * Optional details beyond counters (the firewall's per-rule hits): a new
     * JSON value stored under @detail_name in the JSON statistics, and a text
     * rendering for the human form. Both may be NULL.
     */
    const char *detail_name;
    struct json_t *(*detail_json)(void *ctx);
    void (*detail_text)(void *ctx, FILE *f);
};

/* Options every VNF accepts after "--" (parsed by vnf_opts_common()). */
struct vnf_opts {
    uint32_t stats_interval_s; /* 0: no periodic stats */
    uint32_t exit_on_idle_ms;  /* 0: run until a signal */
    uint32_t link_wait_s;      /* 0: start without waiting for the links */
    bool is_json;
    bool is_pcap_clock;
    const char *config;
};

/* getopt_long option codes of the shared options (above any ASCII letter). */
enum {
    VNF_OPT_STATS_INTERVAL = 256,
    VNF_OPT_JSON,
    VNF_OPT_EXIT_ON_IDLE,
    VNF_OPT_TEST_CLOCK,
    VNF_OPT_LINK_WAIT,
    VNF_OPT__APP_FIRST = 300
};
/* Entries to splice into an app's struct option table (the list ends in a comma). */
#define VNF_OPTS_LONG                                                                              \
    {"config", required_argument, NULL, 'f'},                                                      \
        {"stats-interval", required_argument, NULL, VNF_OPT_STATS_INTERVAL},                       \
        {"json", no_argument, NULL, VNF_OPT_JSON},                                                 \
        {"exit-on-idle", required_argument, NULL, VNF_OPT_EXIT_ON_IDLE},                           \
        {"test-clock", required_argument, NULL, VNF_OPT_TEST_CLOCK},                               \
        {"link-wait", required_argument, NULL, VNF_OPT_LINK_WAIT},
/* Handles option @opt if it is a shared one; returns NFV_E_NOENT if not shared. */
enum nfv_code vnf_opts_common(struct vnf_opts *o, int opt, const char *arg, struct nfv_err *err);

/* Sends EAL/DPDK log lines to stderr so stdout carries only statistics. Call before EAL init. */
void vnf_log_to_stderr(void);
/* Number of workers vnf_app_run() will start: the EAL lcore count. */
unsigned vnf_app_n_workers(void);

struct vnf_app;
struct rte_rcu_qsbr;

/*
 * Sets up ports @port0/@port1 (a TX queue per worker, up to one RX queue per
 * worker, RSS when the port has it; a shared mbuf pool), the dispatch rings,
 * installs the signal handlers and returns the runtime. @side_names name the
 * sides in counters ("inside"/"outside"). With --link-wait S it then waits up
 * to S seconds for both links, restarting a port whose link stays down (a
 * memif client connects only in rte_eth_dev_start()), with a progress line on
 * stderr per restart. Errors: NFV_E_INVAL (port missing, same port twice, too
 * few TX queues for the lcores, test clock with several lcores or on a port
 * that is not net_pcap), NFV_E_NOMEM, NFV_E_IO (port setup), NFV_E_TIMEOUT
 * (a link still down after --link-wait).
 */
struct vnf_app *vnf_app_new(const char *prog, const struct vnf_opts *o, uint16_t port0,
                            uint16_t port1, const char *const side_names[2], struct nfv_err *err);
/* Stops and closes the ports (flushing pcap outputs); NULL is a no-op. */
void vnf_app_free(struct vnf_app *app);

/*
 * Runs the workers (the calling main lcore is worker 0) until SIGINT/SIGTERM
 * or --exit-on-idle, with the control thread beside them; prints the final
 * statistics (JSON with --json) on stdout. @qs, if not NULL, is an RCU QSBR
 * variable for vnf_app_n_workers() threads on which each worker reports a
 * quiescent state after every iteration (thread id = worker index).
 * NFV_E_INVAL when there are several workers and @ops has no owner().
 */
enum nfv_code vnf_app_run(struct vnf_app *app, const struct vnf_app_ops *ops, void *ctx,
                          struct rte_rcu_qsbr *qs, struct nfv_err *err);

/* All counters: the runtime's (rx_/tx_/tx_full_<side>) then the application's. */
unsigned vnf_app_stats(struct vnf_app *app, struct vnf_stat *out, unsigned max);
/* Prints the counters to @f as "name value" lines, or one JSON object line. */
void vnf_app_stats_print(struct vnf_app *app, FILE *f, bool is_json);
/* Fills a started rte_telemetry dictionary (struct rte_tel_data) with the counters. */
void vnf_app_stats_tel(struct vnf_app *app, void *tel_data);

/* Single-writer counter update that a concurrent reader may load (no lock, no RMW). */
#define VNF_CNT_ADD(c, v) __atomic_store_n(&(c), (c) + (v), __ATOMIC_RELAXED)
#define VNF_CNT_GET(c)    __atomic_load_n(&(c), __ATOMIC_RELAXED)

#endif /* VNF_APP_H */
