/*
 * app_dpdk.c - EAL-side runtime of the sample VNFs (see vnf/app.h).
 *
 * Threads: one worker loop per EAL lcore (worker 0 on the main lcore, the
 * others launched with rte_eal_remote_launch); with several workers each one
 * passes packets it does not own to the owner's ring (vnf_dispatch). A DPDK
 * control thread wakes every 10 ms to act on the flags that signal handlers
 * raise (stats on SIGUSR1, reload on SIGHUP), to print periodic statistics
 * and to detect --exit-on-idle. Workers never print, sleep or take a lock.
 *
 * The signal flags are the one piece of file-scope state outside a main.c:
 * a signal handler has no context argument (STYLE.md "Globals" exception).
 */
#include "vnf/app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "vnf/conf.h"

#define VNF_NB_MBUF     8191
#define VNF_MBUF_CACHE  256
#define VNF_NB_RXD      1024
#define VNF_NB_TXD      1024
#define VNF_CTL_TICK_US 10000
#define VNF_RING_SIZE   4096
/* How long a link may stay down under --link-wait before its port is
 * restarted: a memif handshake takes a few control messages, well under this
 * even on a busy machine. */
#define VNF_LINK_RETRY_MS 1000

static volatile sig_atomic_t vnf_sig_quit;
static volatile sig_atomic_t vnf_sig_stats;
static volatile sig_atomic_t vnf_sig_reload;

struct vnf_side_cnt {
    uint64_t rx;
    uint64_t tx;
    uint64_t tx_full; /* dropped: the TX queue was full */
};

/* State of one worker: written by its lcore only (counters read by the control thread). */
struct vnf_worker {
    struct vnf_app *app;
    unsigned idx;
    struct rte_ring *ring; /* packets other workers dispatched to this one */
    struct vnf_side_cnt cnt[2];
    uint64_t dispatch_full; /* dropped: the owner's ring was full */
} __rte_cache_aligned;

struct vnf_app {
    char prog[32];
    struct vnf_opts opts;
    uint16_t port[2];
    uint16_t n_rxq[2]; /* RX queues per port (<= n_workers) */
    const char *side_names[2];
    struct rte_mempool *pool;
    int ts_off; /* mbuf timestamp dynfield offset (test clock), -1 if none */
    uint64_t ts_flag;
    unsigned n_workers;
    struct vnf_worker *w;
    const struct vnf_app_ops *ops;
    void *ctx;
    struct rte_rcu_qsbr *qs;
    volatile int quit; /* set by the control thread (idle) or from signals */
    char stat_names[6][48];
};

static void vnf_sig_handler(int sig)
{
    switch (sig) {
    case SIGINT:
    case SIGTERM:
        vnf_sig_quit = 1;
        break;
    case SIGUSR1:
        vnf_sig_stats = 1;
        break;
    case SIGHUP:
        vnf_sig_reload = 1;
        break;
    default:
        break;
    }
}

enum nfv_code vnf_opts_common(struct vnf_opts *o, int opt, const char *arg, struct nfv_err *err)
{
    switch (opt) {
    case 'f':
        o->config = arg;
        return NFV_OK;
    case VNF_OPT_STATS_INTERVAL:
        return vnf_parse_u32(arg, 0, 86400, "--stats-interval", &o->stats_interval_s, err);
    case VNF_OPT_JSON:
        o->is_json = true;
        return NFV_OK;
    case VNF_OPT_EXIT_ON_IDLE:
        return vnf_parse_u32(arg, 1, 3600000, "--exit-on-idle", &o->exit_on_idle_ms, err);
    case VNF_OPT_LINK_WAIT:
        return vnf_parse_u32(arg, 1, 3600, "--link-wait", &o->link_wait_s, err);
    case VNF_OPT_TEST_CLOCK:
        if (strcmp(arg, "pcap") == 0) {
            o->is_pcap_clock = true;
            return NFV_OK;
        }
        if (strcmp(arg, "tsc") == 0) {
            o->is_pcap_clock = false;
            return NFV_OK;
        }
        return NFV_ERR(err, NFV_E_INVAL, "'--test-clock': '%s' is not 'pcap' or 'tsc'", arg);
    default:
        return NFV_E_NOENT;
    }
}

void vnf_log_to_stderr(void)
{
    rte_openlog_stream(stderr);
}

unsigned vnf_app_n_workers(void)
{
    return rte_lcore_count();
}

static enum nfv_code vnf_port_setup(struct vnf_app *app, unsigned side, struct nfv_err *err)
{
    uint16_t port = app->port[side];
    struct rte_eth_conf conf = {0};
    struct rte_eth_dev_info info;
    uint16_t nb_rxd = VNF_NB_RXD, nb_txd = VNF_NB_TXD, n_rxq;
    int rc;

    if (!rte_eth_dev_is_valid_port(port))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'port %u': no such DPDK port (%u available; add --vdev or a NIC)", port,
                       rte_eth_dev_count_avail());
    rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0)
        return NFV_ERR(err, NFV_E_IO, "'port %u': cannot get device info: %s", port, strerror(-rc));
    /* The test clock needs no offload flag: net_pcap stamps every packet it reads with its
     * capture time whether asked or not, and does not advertise RX_OFFLOAD_TIMESTAMP. */
    if (app->opts.is_pcap_clock && strcmp(info.driver_name, "net_pcap") != 0)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'--test-clock': port %u is %s; only net_pcap delivers capture timestamps",
                       port, info.driver_name);
    /* Sending from several lcores on one TX queue would need a lock: one queue each. */
    if (info.max_tx_queues < app->n_workers)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'port %u': %s has %u TX queue(s) but %u lcores need one each (use fewer "
                       "lcores, or give the vdev more queues)",
                       port, info.driver_name, info.max_tx_queues, app->n_workers);
    n_rxq = (uint16_t)RTE_MIN(app->n_workers, (unsigned)info.max_rx_queues);
    if (n_rxq == 0)
        n_rxq = 1;
    if (n_rxq > 1 &&
        (info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP))) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
    }
    rc = rte_eth_dev_configure(port, n_rxq, (uint16_t)app->n_workers, &conf);
    if (rc == 0)
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
    for (uint16_t q = 0; rc == 0 && q < n_rxq; q++)
        rc = rte_eth_rx_queue_setup(port, q, nb_rxd, rte_eth_dev_socket_id(port), NULL, app->pool);
    for (uint16_t q = 0; rc == 0 && q < app->n_workers; q++)
        rc = rte_eth_tx_queue_setup(port, q, nb_txd, rte_eth_dev_socket_id(port), NULL);
    if (rc == 0) {
        rc = rte_eth_dev_start(port);
        /* A memif client whose server socket is not there yet fails to
         * start; under --link-wait, vnf_ports_wait_link() starts it again. */
        if (rc != 0 && app->opts.link_wait_s) {
            fprintf(stderr, "%s: port %u (%s) did not start (%s); retrying for up to %u s\n",
                    app->prog, port, info.driver_name, strerror(-rc), app->opts.link_wait_s);
            rc = 0;
        }
    }
    if (rc != 0)
        return NFV_ERR(err, NFV_E_IO, "'port %u': setup failed: %s", port, strerror(-rc));
    app->n_rxq[side] = n_rxq;
    /* Not every vdev has a MAC filter to open; failure is harmless. */
    (void)rte_eth_promiscuous_enable(port);
    return NFV_OK;
}

static bool vnf_link_is_up(uint16_t port)
{
    struct rte_eth_link link = {0};

    return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

/*
 * --link-wait: waits for both links before any worker polls the ports. A DPDK
 * 22.11 memif client connects once, from rte_eth_dev_start(); a server whose
 * own port is not started yet answers "device is disabled", and the client
 * never tries again. Stopping and starting the port connects anew, so a port
 * whose link is still down after VNF_LINK_RETRY_MS is restarted (safe here:
 * no worker runs yet), each time with a line on stderr.
 */
static enum nfv_code vnf_ports_wait_link(struct vnf_app *app, struct nfv_err *err)
{
    uint64_t hz = rte_get_timer_hz(), t0 = rte_get_timer_cycles();
    uint64_t deadline = t0 + (uint64_t)app->opts.link_wait_s * hz;
    uint64_t retry_cycles = VNF_LINK_RETRY_MS * hz / 1000, next_retry = t0 + retry_cycles;
    unsigned attempt = 0;

    while (!vnf_sig_quit) {
        uint64_t now = rte_get_timer_cycles();
        unsigned n_down = 0;

        for (unsigned s = 0; s < 2; s++)
            n_down += !vnf_link_is_up(app->port[s]);
        if (n_down == 0)
            return NFV_OK;
        if (now >= deadline) {
            unsigned s = vnf_link_is_up(app->port[0]) ? 1 : 0;

            return NFV_ERR(err, NFV_E_TIMEOUT,
                           "'port %u': link still down after %u s (--link-wait; is the peer, "
                           "e.g. the memif server, running?)",
                           app->port[s], app->opts.link_wait_s);
        }
        if (now >= next_retry) {
            attempt++;
            for (unsigned s = 0; s < 2; s++) {
                uint16_t port = app->port[s];
                int rc;

                if (vnf_link_is_up(port))
                    continue;
                fprintf(stderr,
                        "%s: port %u (%s side): link down after %.1f s, restarting the port to "
                        "reconnect (attempt %u, %.0f s left)\n",
                        app->prog, port, app->side_names[s], (double)(now - t0) / (double)hz,
                        attempt, (double)(deadline - now) / (double)hz);
                (void)rte_eth_dev_stop(port);
                rc = rte_eth_dev_start(port);
                if (rc != 0)
                    fprintf(stderr, "%s: port %u: start failed (%s), will retry\n", app->prog, port,
                            strerror(-rc));
            }
            next_retry = now + retry_cycles;
        }
        rte_delay_ms(10);
    }
    return NFV_ERR(err, NFV_E_STATE, "'--link-wait': interrupted by a signal");
}

struct vnf_app *vnf_app_new(const char *prog, const struct vnf_opts *o, uint16_t port0,
                            uint16_t port1, const char *const side_names[2], struct nfv_err *err)
{
    struct vnf_app *app;
    char pool_name[RTE_MEMPOOL_NAMESIZE];
    struct sigaction sa;

    if (port0 == port1) {
        NFV_ERR(err, NFV_E_INVAL, "'ports': both sides use port %u", port0);
        return NULL;
    }
    app = calloc(1, sizeof(*app));
    if (!app) {
        NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(app->prog, sizeof(app->prog), "%s", prog);
    app->opts = *o;
    app->port[0] = port0;
    app->port[1] = port1;
    for (unsigned s = 0; s < 2; s++) {
        app->side_names[s] = side_names[s];
        /* Counter names are fixed here, so concurrent readers never format them. */
        snprintf(app->stat_names[s * 3], sizeof(app->stat_names[0]), "rx_%s", side_names[s]);
        snprintf(app->stat_names[s * 3 + 1], sizeof(app->stat_names[0]), "tx_%s", side_names[s]);
        snprintf(app->stat_names[s * 3 + 2], sizeof(app->stat_names[0]), "tx_full_%s",
                 side_names[s]);
    }
    app->ts_off = -1;
    app->n_workers = vnf_app_n_workers();
    if (app->n_workers > VNF_MAX_WORKERS) {
        NFV_ERR(err, NFV_E_INVAL, "'-l': at most %d lcores, not %u", VNF_MAX_WORKERS,
                app->n_workers);
        app->port[0] = app->port[1] = RTE_MAX_ETHPORTS;
        goto fail;
    }
    if (o->is_pcap_clock && app->n_workers > 1) {
        NFV_ERR(err, NFV_E_INVAL, "'--test-clock': needs exactly one lcore (-l N), not %u",
                app->n_workers);
        app->port[0] = app->port[1] = RTE_MAX_ETHPORTS;
        goto fail;
    }
    app->w = rte_zmalloc("vnf_workers", sizeof(*app->w) * app->n_workers, RTE_CACHE_LINE_SIZE);
    snprintf(pool_name, sizeof(pool_name), "%s_mbuf", prog);
    /* Each worker may hold its RX bursts, its ring and its TX queues' descriptors. */
    app->pool = rte_pktmbuf_pool_create(pool_name, VNF_NB_MBUF * app->n_workers, VNF_MBUF_CACHE, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (!app->pool || !app->w) {
        NFV_ERR(err, NFV_E_NOMEM, "cannot create the mbuf pool: %s", rte_strerror(rte_errno));
        app->port[0] = app->port[1] = RTE_MAX_ETHPORTS;
        goto fail;
    }
    for (unsigned w = 0; w < app->n_workers; w++) {
        char ring_name[RTE_RING_NAMESIZE];

        app->w[w].app = app;
        app->w[w].idx = w;
        if (app->n_workers == 1)
            break;
        snprintf(ring_name, sizeof(ring_name), "%s_disp%u", prog, w);
        app->w[w].ring = rte_ring_create(ring_name, VNF_RING_SIZE, rte_socket_id(), RING_F_SC_DEQ);
        if (!app->w[w].ring) {
            NFV_ERR(err, NFV_E_NOMEM, "cannot create dispatch ring %u: %s", w,
                    rte_strerror(rte_errno));
            app->port[0] = app->port[1] = RTE_MAX_ETHPORTS;
            goto fail;
        }
    }
    for (unsigned s = 0; s < 2; s++) {
        if (vnf_port_setup(app, s, err) != NFV_OK) {
            /* Do not stop a port we never started. */
            app->port[s] = RTE_MAX_ETHPORTS;
            if (s == 0)
                app->port[1] = RTE_MAX_ETHPORTS;
            goto fail;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vnf_sig_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (o->link_wait_s && vnf_ports_wait_link(app, err) != NFV_OK)
        goto fail;
    if (o->is_pcap_clock) {
        /* net_pcap registered the field and flag when it was probed. */
        int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
        app->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
        if (app->ts_off < 0 || flag_bit < 0) {
            NFV_ERR(err, NFV_E_INVAL, "'--test-clock': the ports registered no RX timestamp");
            goto fail;
        }
        app->ts_flag = 1ull << flag_bit;
    }
    return app;
fail:
    vnf_app_free(app);
    return NULL;
}

void vnf_app_free(struct vnf_app *app)
{
    if (!app)
        return;
    for (unsigned s = 0; s < 2; s++) {
        if (app->port[s] >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(app->port[s]))
            continue;
        /* Closing flushes and closes a net_pcap tx_pcap file. */
        rte_eth_dev_stop(app->port[s]);
        rte_eth_dev_close(app->port[s]);
    }
    if (app->w) {
        for (unsigned w = 0; w < app->n_workers; w++) {
            struct rte_mbuf *m;
            if (!app->w[w].ring)
                continue;
            while (rte_ring_dequeue(app->w[w].ring, (void **)&m) == 0)
                rte_pktmbuf_free(m);
            rte_ring_free(app->w[w].ring);
        }
        rte_free(app->w);
    }
    rte_mempool_free(app->pool);
    free(app);
}

static void vnf_tx_flush(struct vnf_worker *w, struct vnf_tx *tx)
{
    struct vnf_app *app = w->app;

    for (unsigned s = 0; s < 2; s++) {
        uint16_t n = tx->n[s], sent;

        if (!n)
            continue;
        sent = rte_eth_tx_burst(app->port[s], (uint16_t)w->idx, tx->pkts[s], n);
        VNF_CNT_ADD(w->cnt[s].tx, sent);
        if (sent < n) {
            VNF_CNT_ADD(w->cnt[s].tx_full, (uint64_t)(n - sent));
            rte_pktmbuf_free_bulk(&tx->pkts[s][sent], n - sent);
        }
        tx->n[s] = 0;
    }
}

static inline uint64_t vnf_tsc_ms(uint64_t tsc_per_ms)
{
    return rte_get_tsc_cycles() / tsc_per_ms;
}

/*
 * Several workers: keeps the packets this worker owns, in order, and sends
 * the others to their owners' rings (in order too: one burst per owner).
 * Returns how many stay in @pkts.
 */
static uint16_t vnf_dispatch(struct vnf_worker *w, struct rte_mbuf **pkts, uint16_t n,
                             unsigned side)
{
    struct vnf_app *app = w->app;
    struct rte_mbuf *to[VNF_MAX_WORKERS][VNF_BURST];
    uint16_t n_to[VNF_MAX_WORKERS] = {0};
    uint16_t n_mine = 0;
    unsigned n_workers = app->n_workers;

    for (uint16_t i = 0; i < n; i++) {
        unsigned o = app->ops->owner(app->ctx, pkts[i], side, w->idx, n_workers);

        if (o == w->idx || o >= n_workers)
            pkts[n_mine++] = pkts[i];
        else
            to[o][n_to[o]++] = pkts[i];
    }
    for (unsigned o = 0; o < n_workers; o++) {
        unsigned sent;

        if (!n_to[o])
            continue;
        sent = rte_ring_enqueue_burst(app->w[o].ring, (void **)to[o], n_to[o], NULL);
        if (sent < n_to[o]) {
            VNF_CNT_ADD(w->dispatch_full, (uint64_t)(n_to[o] - sent));
            rte_pktmbuf_free_bulk(&to[o][sent], n_to[o] - sent);
        }
    }
    return n_mine;
}

/* Handles packets other workers dispatched here, in runs of the same ingress side. */
static void vnf_drain_ring(struct vnf_worker *w, uint64_t now_ms, struct vnf_tx *tx)
{
    struct vnf_app *app = w->app;
    struct rte_mbuf *pkts[VNF_BURST];
    unsigned n = rte_ring_dequeue_burst(w->ring, (void **)pkts, VNF_BURST, NULL);
    unsigned i = 0;

    while (i < n) {
        unsigned side = pkts[i]->port == app->port[1];
        unsigned j = i + 1;

        while (j < n && (unsigned)(pkts[j]->port == app->port[1]) == side)
            j++;
        app->ops->handle(app->ctx, w->idx, &pkts[i], (uint16_t)(j - i), side, now_ms, tx);
        vnf_tx_flush(w, tx);
        i = j;
    }
}

/* Production loop of one worker: burst from each side, dispatch, handle, transmit. */
static void vnf_loop_burst(struct vnf_worker *w)
{
    struct vnf_app *app = w->app;
    const struct vnf_app_ops *ops = app->ops;
    uint64_t tsc_per_ms = rte_get_tsc_hz() / 1000;
    struct rte_mbuf *pkts[VNF_BURST];
    struct vnf_tx tx = {0};

    while (!app->quit && !vnf_sig_quit) {
        uint64_t now_ms = vnf_tsc_ms(tsc_per_ms);

        for (unsigned s = 0; s < 2; s++) {
            uint16_t n;

            if (w->idx >= app->n_rxq[s])
                continue;
            n = rte_eth_rx_burst(app->port[s], (uint16_t)w->idx, pkts, VNF_BURST);
            if (!n)
                continue;
            VNF_CNT_ADD(w->cnt[s].rx, n);
            if (w->ring)
                n = vnf_dispatch(w, pkts, n, s);
            if (n) {
                ops->handle(app->ctx, w->idx, pkts, n, s, now_ms, &tx);
                vnf_tx_flush(w, &tx);
            }
        }
        if (w->ring)
            vnf_drain_ring(w, now_ms, &tx);
        if (ops->idle)
            ops->idle(app->ctx, w->idx, now_ms);
        if (app->qs)
            rte_rcu_qsbr_quiescent(app->qs, w->idx);
    }
}

/*
 * Test-clock loop (one worker): keeps one burst per side staged and always
 * handles the staged packet with the smallest RX timestamp next, so that two
 * captures replay in their common time order. net_pcap returns 0 only at the
 * end of its file, so an empty stage after an RX call means the side is drained.
 */
static void vnf_loop_merged(struct vnf_worker *w)
{
    struct vnf_app *app = w->app;
    const struct vnf_app_ops *ops = app->ops;
    struct rte_mbuf *stage[2][VNF_BURST];
    uint16_t head[2] = {0, 0}, cnt[2] = {0, 0};
    uint64_t now_ms = 0;
    struct vnf_tx tx = {0};

    while (!app->quit && !vnf_sig_quit) {
        int best = -1;
        uint64_t best_ts = UINT64_MAX;

        for (unsigned s = 0; s < 2; s++) {
            if (head[s] == cnt[s]) {
                head[s] = 0;
                cnt[s] = rte_eth_rx_burst(app->port[s], 0, stage[s], VNF_BURST);
                VNF_CNT_ADD(w->cnt[s].rx, cnt[s]);
            }
            if (head[s] < cnt[s]) {
                struct rte_mbuf *m = stage[s][head[s]];
                uint64_t ts = (m->ol_flags & app->ts_flag)
                                  ? *RTE_MBUF_DYNFIELD(m, app->ts_off, rte_mbuf_timestamp_t *)
                                  : 0;
                if (ts < best_ts || best < 0) {
                    best = (int)s;
                    best_ts = ts;
                }
            }
        }
        if (best >= 0) {
            /* net_pcap stamps microseconds since the epoch (the capture's time). */
            now_ms = best_ts / 1000;
            ops->handle(app->ctx, 0, &stage[best][head[best]], 1, (unsigned)best, now_ms, &tx);
            head[best]++;
            vnf_tx_flush(w, &tx);
        }
        if (ops->idle)
            ops->idle(app->ctx, 0, now_ms);
        if (app->qs)
            rte_rcu_qsbr_quiescent(app->qs, 0);
    }
    for (unsigned s = 0; s < 2; s++)
        if (head[s] < cnt[s])
            rte_pktmbuf_free_bulk(&stage[s][head[s]], cnt[s] - head[s]);
}

static int vnf_worker_main(void *arg)
{
    struct vnf_worker *w = arg;
    struct vnf_app *app = w->app;

    if (app->qs) {
        rte_rcu_qsbr_thread_register(app->qs, w->idx);
        rte_rcu_qsbr_thread_online(app->qs, w->idx);
    }
    if (app->opts.is_pcap_clock)
        vnf_loop_merged(w);
    else
        vnf_loop_burst(w);
    if (app->qs) {
        /* Offline: a reload must not wait for a worker that stopped. */
        rte_rcu_qsbr_thread_offline(app->qs, w->idx);
        rte_rcu_qsbr_thread_unregister(app->qs, w->idx);
    }
    return 0;
}

unsigned vnf_app_stats(struct vnf_app *app, struct vnf_stat *out, unsigned max)
{
    unsigned n = 0;
    struct vnf_side_cnt sum[2] = {0};
    uint64_t dispatch_full = 0;

    for (unsigned w = 0; w < app->n_workers; w++) {
        for (unsigned s = 0; s < 2; s++) {
            sum[s].rx += VNF_CNT_GET(app->w[w].cnt[s].rx);
            sum[s].tx += VNF_CNT_GET(app->w[w].cnt[s].tx);
            sum[s].tx_full += VNF_CNT_GET(app->w[w].cnt[s].tx_full);
        }
        dispatch_full += VNF_CNT_GET(app->w[w].dispatch_full);
    }
    for (unsigned s = 0; s < 2 && n + 3 <= max; s++) {
        out[n++] = (struct vnf_stat){app->stat_names[s * 3], sum[s].rx};
        out[n++] = (struct vnf_stat){app->stat_names[s * 3 + 1], sum[s].tx};
        out[n++] = (struct vnf_stat){app->stat_names[s * 3 + 2], sum[s].tx_full};
    }
    if (n + 2 <= max) {
        out[n++] = (struct vnf_stat){"workers", app->n_workers};
        out[n++] = (struct vnf_stat){"dispatch_full", dispatch_full};
    }
    if (app->ops && app->ops->stats)
        n += app->ops->stats(app->ctx, out + n, max - n);
    return n;
}

void vnf_app_stats_print(struct vnf_app *app, FILE *f, bool is_json)
{
    struct vnf_stat st[VNF_MAX_STATS];
    unsigned n = vnf_app_stats(app, st, VNF_MAX_STATS);

    if (is_json) {
        json_t *o = json_object();
        char *s;

        for (unsigned i = 0; i < n; i++)
            json_object_set_new(o, st[i].name, json_integer((json_int_t)st[i].value));
        if (app->ops && app->ops->detail_json && app->ops->detail_name) {
            json_t *d = app->ops->detail_json(app->ctx);
            if (d)
                json_object_set_new(o, app->ops->detail_name, d);
        }
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            fprintf(f, "%s\n", s);
        free(s);
        json_decref(o);
    } else {
        fprintf(f, "%s statistics:\n", app->prog);
        for (unsigned i = 0; i < n; i++)
            fprintf(f, "  %-28s %" PRIu64 "\n", st[i].name, st[i].value);
        if (app->ops && app->ops->detail_text)
            app->ops->detail_text(app->ctx, f);
    }
    fflush(f);
}

void vnf_app_stats_tel(struct vnf_app *app, void *tel_data)
{
    struct vnf_stat st[VNF_MAX_STATS];
    unsigned n = vnf_app_stats(app, st, VNF_MAX_STATS);

    for (unsigned i = 0; i < n; i++)
        rte_tel_data_add_dict_u64(tel_data, st[i].name, st[i].value);
}

static uint64_t vnf_rx_total(struct vnf_app *app)
{
    uint64_t n = 0;

    for (unsigned w = 0; w < app->n_workers; w++)
        n += VNF_CNT_GET(app->w[w].cnt[0].rx) + VNF_CNT_GET(app->w[w].cnt[1].rx);
    return n;
}

static void *vnf_ctl_main(void *arg)
{
    struct vnf_app *app = arg;
    uint64_t ticks = 0, idle_ticks = 0, last_rx = 0;
    uint64_t stats_ticks = (uint64_t)app->opts.stats_interval_s * (1000000 / VNF_CTL_TICK_US);

    while (!app->quit && !vnf_sig_quit) {
        usleep(VNF_CTL_TICK_US);
        ticks++;
        if (vnf_sig_stats || (stats_ticks && ticks % stats_ticks == 0)) {
            vnf_sig_stats = 0;
            vnf_app_stats_print(app, stdout, app->opts.is_json);
        }
        if (vnf_sig_reload) {
            vnf_sig_reload = 0;
            if (app->ops->reload)
                app->ops->reload(app->ctx);
        }
        if (app->opts.exit_on_idle_ms) {
            uint64_t rx = vnf_rx_total(app);
            if (rx != last_rx) {
                last_rx = rx;
                idle_ticks = 0;
            } else if (++idle_ticks * VNF_CTL_TICK_US / 1000 >= app->opts.exit_on_idle_ms) {
                app->quit = 1;
            }
        }
    }
    return NULL;
}

enum nfv_code vnf_app_run(struct vnf_app *app, const struct vnf_app_ops *ops, void *ctx,
                          struct rte_rcu_qsbr *qs, struct nfv_err *err)
{
    unsigned lcore, w = 1;
    pthread_t ctl;
    int rc;

    if (app->n_workers > 1 && !ops->owner)
        return NFV_ERR(err, NFV_E_INVAL, "'-l': %s runs on one lcore only, not %u", app->prog,
                       app->n_workers);
    app->ops = ops;
    app->ctx = ctx;
    app->qs = qs;
    rc = rte_ctrl_thread_create(&ctl, "vnf-ctl", NULL, vnf_ctl_main, app);
    if (rc != 0)
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the control thread: %s", strerror(rc));
    /* Signal handlers are installed and the ports run: tell whoever waits for us. */
    fprintf(stderr, "%s: running %u worker(s) on lcores", app->prog, app->n_workers);
    fprintf(stderr, " %u", rte_lcore_id());
    RTE_LCORE_FOREACH_WORKER(lcore)
    fprintf(stderr, " %u", lcore);
    fprintf(stderr, ", ports %u and %u%s\n", app->port[0], app->port[1],
            app->opts.is_pcap_clock ? ", test clock: pcap" : "");
    RTE_LCORE_FOREACH_WORKER(lcore)
    {
        rc = rte_eal_remote_launch(vnf_worker_main, &app->w[w], lcore);
        if (rc != 0) {
            /* Its queues and ring would go unserved: stop everything, say why. */
            NFV_ERR(err, NFV_E_INTERNAL, "cannot start worker %u on lcore %u: %s", w, lcore,
                    strerror(-rc));
            app->quit = 1;
            break;
        }
        w++;
    }
    if (!app->quit)
        vnf_worker_main(&app->w[0]);
    app->quit = 1;
    rte_eal_mp_wait_lcore();
    pthread_join(ctl, NULL);
    if (err && err->code != NFV_OK)
        return err->code;
    vnf_app_stats_print(app, stdout, app->opts.is_json);
    return NFV_OK;
}
