/*
 * app_dpdk.c - EAL-side runtime of the sample VNFs (see vnf/app.h).
 *
 * Threads: the worker loop runs on the main lcore; a DPDK control thread
 * wakes every 10 ms to act on the flags that signal handlers raise (stats on
 * SIGUSR1, reload on SIGHUP), to print periodic statistics and to detect
 * --exit-on-idle. The worker never prints, sleeps or takes a lock.
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
#include <rte_log.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "vnf/conf.h"

#define VNF_NB_MBUF     8191
#define VNF_MBUF_CACHE  256
#define VNF_NB_RXD      1024
#define VNF_NB_TXD      1024
#define VNF_CTL_TICK_US 10000

static volatile sig_atomic_t vnf_sig_quit;
static volatile sig_atomic_t vnf_sig_stats;
static volatile sig_atomic_t vnf_sig_reload;

struct vnf_side_cnt {
    uint64_t rx;
    uint64_t tx;
    uint64_t tx_full; /* dropped: the TX queue was full */
} __rte_cache_aligned;

struct vnf_app {
    char prog[32];
    struct vnf_opts opts;
    uint16_t port[2];
    const char *side_names[2];
    struct rte_mempool *pool;
    int ts_off; /* mbuf timestamp dynfield offset (test clock), -1 if none */
    uint64_t ts_flag;
    struct vnf_side_cnt cnt[2];
    const struct vnf_app_ops *ops;
    void *ctx;
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

static enum nfv_code vnf_port_setup(struct vnf_app *app, uint16_t port, struct nfv_err *err)
{
    struct rte_eth_conf conf = {0};
    struct rte_eth_dev_info info;
    uint16_t nb_rxd = VNF_NB_RXD, nb_txd = VNF_NB_TXD;
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
    rc = rte_eth_dev_configure(port, 1, 1, &conf);
    if (rc == 0)
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
    if (rc == 0)
        rc = rte_eth_rx_queue_setup(port, 0, nb_rxd, rte_eth_dev_socket_id(port), NULL, app->pool);
    if (rc == 0)
        rc = rte_eth_tx_queue_setup(port, 0, nb_txd, rte_eth_dev_socket_id(port), NULL);
    if (rc == 0)
        rc = rte_eth_dev_start(port);
    if (rc != 0)
        return NFV_ERR(err, NFV_E_IO, "'port %u': setup failed: %s", port, strerror(-rc));
    /* Not every vdev has a MAC filter to open; failure is harmless. */
    (void)rte_eth_promiscuous_enable(port);
    return NFV_OK;
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
    app->side_names[0] = side_names[0];
    app->side_names[1] = side_names[1];
    app->ts_off = -1;
    snprintf(pool_name, sizeof(pool_name), "%s_mbuf", prog);
    app->pool = rte_pktmbuf_pool_create(pool_name, VNF_NB_MBUF, VNF_MBUF_CACHE, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (!app->pool) {
        NFV_ERR(err, NFV_E_NOMEM, "cannot create the mbuf pool: %s", rte_strerror(rte_errno));
        goto fail;
    }
    for (unsigned s = 0; s < 2; s++) {
        if (vnf_port_setup(app, app->port[s], err) != NFV_OK) {
            /* Do not stop a port we never started. */
            app->port[s] = RTE_MAX_ETHPORTS;
            if (s == 0)
                app->port[1] = RTE_MAX_ETHPORTS;
            goto fail;
        }
    }
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
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vnf_sig_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
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
    rte_mempool_free(app->pool);
    free(app);
}

static void vnf_tx_flush(struct vnf_app *app, struct vnf_tx *tx)
{
    for (unsigned s = 0; s < 2; s++) {
        uint16_t n = tx->n[s], sent;

        if (!n)
            continue;
        sent = rte_eth_tx_burst(app->port[s], 0, tx->pkts[s], n);
        VNF_CNT_ADD(app->cnt[s].tx, sent);
        if (sent < n) {
            VNF_CNT_ADD(app->cnt[s].tx_full, (uint64_t)(n - sent));
            rte_pktmbuf_free_bulk(&tx->pkts[s][sent], n - sent);
        }
        tx->n[s] = 0;
    }
}

static inline uint64_t vnf_tsc_ms(uint64_t tsc_per_ms)
{
    return rte_get_tsc_cycles() / tsc_per_ms;
}

/* Production loop: burst from each side, hand to the app, transmit. */
static void vnf_loop_burst(struct vnf_app *app, struct rte_rcu_qsbr *qs)
{
    const struct vnf_app_ops *ops = app->ops;
    uint64_t tsc_per_ms = rte_get_tsc_hz() / 1000;
    struct rte_mbuf *pkts[VNF_BURST];
    struct vnf_tx tx = {0};

    while (!app->quit && !vnf_sig_quit) {
        uint64_t now_ms = vnf_tsc_ms(tsc_per_ms);

        for (unsigned s = 0; s < 2; s++) {
            uint16_t n = rte_eth_rx_burst(app->port[s], 0, pkts, VNF_BURST);

            if (!n)
                continue;
            VNF_CNT_ADD(app->cnt[s].rx, n);
            ops->handle(app->ctx, pkts, n, s, now_ms, &tx);
            vnf_tx_flush(app, &tx);
        }
        if (ops->idle)
            ops->idle(app->ctx, now_ms);
        if (qs)
            rte_rcu_qsbr_quiescent(qs, 0);
    }
}

/*
 * Test-clock loop: keeps one burst per side staged and always handles the
 * staged packet with the smallest RX timestamp next, so that two captures
 * replay in their common time order. net_pcap returns 0 only at the end of
 * its file, so an empty stage after an RX call means the side is drained.
 */
static void vnf_loop_merged(struct vnf_app *app, struct rte_rcu_qsbr *qs)
{
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
                VNF_CNT_ADD(app->cnt[s].rx, cnt[s]);
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
            ops->handle(app->ctx, &stage[best][head[best]], 1, (unsigned)best, now_ms, &tx);
            head[best]++;
            vnf_tx_flush(app, &tx);
        }
        if (ops->idle)
            ops->idle(app->ctx, now_ms);
        if (qs)
            rte_rcu_qsbr_quiescent(qs, 0);
    }
    for (unsigned s = 0; s < 2; s++)
        if (head[s] < cnt[s])
            rte_pktmbuf_free_bulk(&stage[s][head[s]], cnt[s] - head[s]);
}

unsigned vnf_app_stats(struct vnf_app *app, struct vnf_stat *out, unsigned max)
{
    unsigned n = 0;

    for (unsigned s = 0; s < 2 && n + 3 <= max; s++) {
        snprintf(app->stat_names[s * 3], sizeof(app->stat_names[0]), "rx_%s", app->side_names[s]);
        snprintf(app->stat_names[s * 3 + 1], sizeof(app->stat_names[0]), "tx_%s",
                 app->side_names[s]);
        snprintf(app->stat_names[s * 3 + 2], sizeof(app->stat_names[0]), "tx_full_%s",
                 app->side_names[s]);
        out[n++] = (struct vnf_stat){app->stat_names[s * 3], VNF_CNT_GET(app->cnt[s].rx)};
        out[n++] = (struct vnf_stat){app->stat_names[s * 3 + 1], VNF_CNT_GET(app->cnt[s].tx)};
        out[n++] = (struct vnf_stat){app->stat_names[s * 3 + 2], VNF_CNT_GET(app->cnt[s].tx_full)};
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
    return VNF_CNT_GET(app->cnt[0].rx) + VNF_CNT_GET(app->cnt[1].rx);
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
    pthread_t ctl;
    int rc;

    app->ops = ops;
    app->ctx = ctx;
    if (rte_lcore_count() > 1)
        fprintf(stderr,
                "%s: warning: %u lcores given; this version runs its loop on the main lcore "
                "only, the others stay idle\n",
                app->prog, rte_lcore_count());
    rc = rte_ctrl_thread_create(&ctl, "vnf-ctl", NULL, vnf_ctl_main, app);
    if (rc != 0)
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the control thread: %s", strerror(rc));
    if (qs) {
        rte_rcu_qsbr_thread_register(qs, 0);
        rte_rcu_qsbr_thread_online(qs, 0);
    }
    /* Signal handlers are installed and the ports run: tell whoever waits for us. */
    fprintf(stderr, "%s: running on lcore %u, ports %u and %u%s\n", app->prog, rte_lcore_id(),
            app->port[0], app->port[1], app->opts.is_pcap_clock ? ", test clock: pcap" : "");
    if (app->opts.is_pcap_clock)
        vnf_loop_merged(app, qs);
    else
        vnf_loop_burst(app, qs);
    if (qs) {
        rte_rcu_qsbr_thread_offline(qs, 0);
        rte_rcu_qsbr_thread_unregister(qs, 0);
    }
    app->quit = 1;
    pthread_join(ctl, NULL);
    vnf_app_stats_print(app, stdout, app->opts.is_json);
    return NFV_OK;
}
