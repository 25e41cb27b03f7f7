/*
 * pktgen_main.c - vmmgr-pktgen: the DPDK glue around the pure core (pktgen.h).
 *
 * One run-to-completion loop on the main lcore, in the style of DPDK's
 * examples: every iteration asks the TSC pacer how many frames are due,
 * builds them (flow range x frame size or IMIX, or the next pcap frames),
 * stamps them with a sequence number and the TX TSC and sends them on the TX
 * port; then it polls every port's RX queue and accounts what came back
 * (sequence -> loss/reorder/duplicates, stamp -> latency, addresses ->
 * whether a NAT translated them, checksums when --verify-rx is given).
 *
 * Modes: a plain run (--duration or --count, per-second counters, a summary)
 * and --rfc2544 (throughput search: one trial per rate, each with its own
 * stream id so late frames of a previous trial are not counted).
 *
 * Typical set-up, generator as memif server and the VNF as client:
 *   vmmgr-pktgen --no-huge --no-pci -m 256 --file-prefix pg \
 *     --vdev=net_memif0,role=server,socket=/run/pg/in.sock \
 *     --vdev=net_memif1,role=server,socket=/run/pg/out.sock \
 *     -- --tx-port 0 --rate 100k --size 64 --duration 5 --json
 * Options are parsed by pktgen_opts.c (pure). Globals are limited to what
 * STYLE.md allows in a main.c: the options and the stop flag.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "nfv/err.h"
#include "pktgen.h"
#include "pktgen_opts.h"

#define MAX_PORTS  PKTGEN_MAX_PORTS
#define BURST_MAX  PKTGEN_BURST_MAX
#define RING_SIZE  1024
#define N_MBUFS    8191
#define MBUF_CACHE 256

/* Counters of one run or trial. Kept in one struct on the main lcore's
 * stack; cache-line alignment matters little with a single lcore. */
struct pktgen_counters {
    uint64_t n_tx;
    uint64_t n_tx_bytes;
    uint64_t n_tx_full; /* frames the TX ring refused (re-offered later) */
    uint64_t n_rx;
    uint64_t n_rx_bytes;
    uint64_t n_rx_stream; /* stamped with the current stream id */
    uint64_t n_rx_other;  /* not ours: unstamped, other stream, not IPv4 */
    uint64_t n_rx_csum_bad;
    uint64_t n_rx_translated; /* source address outside the generated range */
    uint64_t n_reflected;     /* answered on the --reflect port */
    uint32_t rx_src_ip_min, rx_src_ip_max;
    uint32_t rx_dst_ip_min, rx_dst_ip_max;
    struct pktgen_seq seq[MAX_PORTS]; /* one stream per TX port */
    uint64_t n_tx_port[MAX_PORTS];
    uint64_t n_rx_port[MAX_PORTS];
    struct pktgen_lat lat; /* nanoseconds */
};

/* The stamp's stream field: the run or trial id in the high 13 bits, the
 * index of the TX port in the low 3, so each TX port is its own sequence. */
#define STREAM_PORT_BITS 3
#define STREAM_WARMUP    (UINT16_MAX >> STREAM_PORT_BITS)

struct pktgen_ctx {
    struct pktgen_opts *o;
    struct rte_mempool *pool;
    uint16_t n_ports;
    uint16_t sizes[PKTGEN_IMIX_MAX_SEQ];
    unsigned n_sizes, size_idx;
    struct pktgen_flow_iter flow_it;
    struct pktgen_pcap *pcap;
    size_t pcap_idx;
    uint64_t hz;
    uint16_t stream; /* run or trial id, < STREAM_WARMUP except in the warm-up */
    uint32_t next_seq[MAX_PORTS];
    unsigned tx_rr; /* index into o->tx_port of the next burst */
    struct pktgen_counters c;
};

static struct pktgen_opts g_opts;
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ---- ports ----------------------------------------------------------------- */

static enum nfv_code ports_setup(struct pktgen_ctx *ctx, struct nfv_err *err)
{
    uint16_t port;
    uint64_t deadline;
    unsigned max_frame = 0;
    int rc;

    ctx->n_ports = rte_eth_dev_count_avail();
    if (ctx->n_ports == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'vdev': no DPDK port (give --vdev=net_memif0,...)");
    if (ctx->n_ports > MAX_PORTS)
        ctx->n_ports = MAX_PORTS;
    for (unsigned i = 0; i < ctx->o->n_tx_ports; i++)
        if (ctx->o->tx_port[i] >= ctx->n_ports)
            return NFV_ERR(err, NFV_E_INVAL, "'tx-port': port %u does not exist (%u ports)",
                           ctx->o->tx_port[i], ctx->n_ports);
    if (ctx->o->reflect_port >= (int)ctx->n_ports)
        return NFV_ERR(err, NFV_E_INVAL, "'reflect': port %d does not exist (%u ports)",
                       ctx->o->reflect_port, ctx->n_ports);
    for (unsigned i = 0; i < ctx->o->n_tx_ports; i++)
        if ((int)ctx->o->tx_port[i] == ctx->o->reflect_port)
            return NFV_ERR(err, NFV_E_INVAL, "'reflect': port %d is also a TX port",
                           ctx->o->reflect_port);
    for (unsigned i = 0; i < ctx->o->imix.n_sizes; i++)
        if (ctx->o->imix.size[i] > max_frame)
            max_frame = ctx->o->imix.size[i];
    if (ctx->pcap != NULL)
        max_frame = PKTGEN_FRAME_MAX + 4;
    ctx->pool = rte_pktmbuf_pool_create(
        "pktgen_pool", N_MBUFS * ctx->n_ports, MBUF_CACHE, 0,
        (uint16_t)RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE, max_frame + RTE_PKTMBUF_HEADROOM),
        (int)rte_socket_id());
    if (ctx->pool == NULL)
        return NFV_ERR(err, NFV_E_NOMEM, "'mempool': %s", rte_strerror(rte_errno));
    RTE_ETH_FOREACH_DEV(port)
    {
        struct rte_eth_conf conf = {0};
        struct rte_eth_dev_info info;

        if (port >= ctx->n_ports)
            break;
        /* Jumbo frames need the MTU raised on real NICs, as far as the port
         * allows (memif allows 1500 and chains longer frames instead). */
        if (max_frame > RTE_ETHER_MAX_LEN && rte_eth_dev_info_get(port, &info) == 0)
            conf.rxmode.mtu = RTE_MIN(RTE_MIN(max_frame, info.max_rx_pktlen) - RTE_ETHER_HDR_LEN -
                                          RTE_ETHER_CRC_LEN,
                                      info.max_mtu);
        rc = rte_eth_dev_configure(port, 1, 1, &conf);
        if (rc == 0)
            rc = rte_eth_rx_queue_setup(port, 0, RING_SIZE, rte_eth_dev_socket_id(port), NULL,
                                        ctx->pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(port, 0, RING_SIZE, rte_eth_dev_socket_id(port), NULL);
        if (rc == 0)
            rc = rte_eth_dev_start(port);
        if (rc < 0)
            return NFV_ERR(err, NFV_E_IO, "'port %u': setup failed: %s", port, rte_strerror(-rc));
        rte_eth_promiscuous_enable(port);
    }
    /* A memif server's link is up only once the client (the VNF) connects,
     * and DPDK 22.11's memif server refuses clients until its port is started:
     * this line tells a script that clients may connect now. */
    fprintf(stderr, "vmmgr-pktgen: %u port(s) started; waiting up to %u s for their links\n",
            ctx->n_ports, ctx->o->link_wait);
    deadline = rte_get_tsc_cycles() + (uint64_t)ctx->o->link_wait * ctx->hz;
    for (port = 0; port < ctx->n_ports && !g_stop;) {
        struct rte_eth_link link = {0};

        if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
            port++;
            continue;
        }
        if (rte_get_tsc_cycles() > deadline)
            return NFV_ERR(err, NFV_E_TIMEOUT, "'port %u': link still down after %u s", port,
                           ctx->o->link_wait);
        rte_delay_ms(10);
    }
    return NFV_OK;
}

static void ports_close(struct pktgen_ctx *ctx)
{
    for (uint16_t port = 0; port < ctx->n_ports; port++) {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
    }
}

/* ---- TX and RX ------------------------------------------------------------- */

static void counters_reset(struct pktgen_counters *c)
{
    memset(c, 0, sizeof(*c));
    c->rx_src_ip_min = c->rx_dst_ip_min = UINT32_MAX;
    for (unsigned i = 0; i < MAX_PORTS; i++)
        pktgen_seq_init(&c->seq[i]);
    pktgen_lat_init(&c->lat);
}

/* Builds and sends up to @n frames; returns how many the TX ring took. */
static unsigned tx_burst(struct pktgen_ctx *ctx, unsigned n)
{
    struct rte_mbuf *m[BURST_MAX];
    uint64_t tsc = rte_rdtsc();
    unsigned idx = ctx->tx_rr, sent;

    if (rte_pktmbuf_alloc_bulk(ctx->pool, m, n) != 0)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *buf;
        size_t len;

        if (ctx->pcap != NULL) {
            len = ctx->pcap->len[ctx->pcap_idx];
            buf = rte_pktmbuf_mtod(m[i], uint8_t *);
            memcpy(buf, ctx->pcap->data + ctx->pcap->offset[ctx->pcap_idx], len);
            ctx->pcap_idx = (ctx->pcap_idx + 1) % ctx->pcap->n_frames;
        } else {
            struct pktgen_tuple t;
            struct pktgen_stamp st = {.stream = (uint16_t)((ctx->stream << STREAM_PORT_BITS) | idx),
                                      .seq = ctx->next_seq[idx] + i,
                                      .tsc = tsc};

            len = (size_t)ctx->sizes[ctx->size_idx] - 4; /* the NIC would add the FCS */
            ctx->size_idx = (ctx->size_idx + 1) % ctx->n_sizes;
            pktgen_flow_iter_next(&ctx->flow_it, &t);
            buf = rte_pktmbuf_mtod(m[i], uint8_t *);
            pktgen_pkt_build(buf, len, &ctx->o->tmpl, &t, &st);
        }
        m[i]->data_len = (uint16_t)len;
        m[i]->pkt_len = (uint32_t)len;
        ctx->c.n_tx_bytes += len + 4;
    }
    sent = rte_eth_tx_burst((uint16_t)ctx->o->tx_port[idx], 0, m, (uint16_t)n);
    ctx->tx_rr = (idx + 1) % ctx->o->n_tx_ports;
    if (sent < n) {
        /* The unsent tail goes back to the pool; its sequence numbers are
         * reused by the next burst so no false gap appears. */
        for (unsigned i = sent; i < n; i++)
            ctx->c.n_tx_bytes -= m[i]->pkt_len + 4;
        rte_pktmbuf_free_bulk(m + sent, n - sent);
        ctx->c.n_tx_full += n - sent;
    }
    ctx->next_seq[idx] += sent;
    ctx->c.n_tx += sent;
    ctx->c.n_tx_port[idx] += sent;
    return sent;
}

static void rx_account(struct pktgen_ctx *ctx, const uint8_t *buf, size_t len, uint64_t now)
{
    struct pktgen_counters *c = &ctx->c;
    struct pktgen_pkt_info in;
    const struct pktgen_flow_spec *fl = &ctx->o->flows;

    if (!pktgen_pkt_parse(buf, len, &in)) {
        c->n_rx_other++;
        return;
    }
    if (ctx->o->is_verify_rx && !pktgen_pkt_csum_ok(buf, len))
        c->n_rx_csum_bad++;
    if (in.tuple.src_ip < c->rx_src_ip_min)
        c->rx_src_ip_min = in.tuple.src_ip;
    if (in.tuple.src_ip > c->rx_src_ip_max)
        c->rx_src_ip_max = in.tuple.src_ip;
    if (in.tuple.dst_ip < c->rx_dst_ip_min)
        c->rx_dst_ip_min = in.tuple.dst_ip;
    if (in.tuple.dst_ip > c->rx_dst_ip_max)
        c->rx_dst_ip_max = in.tuple.dst_ip;
    if (in.tuple.src_ip < fl->src_ip.min || in.tuple.src_ip > fl->src_ip.max)
        c->n_rx_translated++;
    if (!in.is_stamped || (in.stamp.stream >> STREAM_PORT_BITS) != ctx->stream ||
        (in.stamp.stream & ((1u << STREAM_PORT_BITS) - 1)) >= ctx->o->n_tx_ports) {
        c->n_rx_other++;
        return;
    }
    c->n_rx_stream++;
    pktgen_seq_rx(&c->seq[in.stamp.stream & ((1u << STREAM_PORT_BITS) - 1)], in.stamp.seq);
    /* In double: cycles * 1e9 overflows 64 bits after 8 s at 2.3 GHz (a frame
     * replayed from an old capture carries an old TSC). */
    if (now >= in.stamp.tsc)
        pktgen_lat_add(&c->lat, (uint64_t)((double)(now - in.stamp.tsc) * 1e9 / (double)ctx->hz));
}

/* The far end of a NAT test: answers what arrives on the --reflect port. */
static void rx_reflect(struct pktgen_ctx *ctx, uint16_t port, struct rte_mbuf **m, uint16_t n)
{
    struct rte_mbuf *out[BURST_MAX];
    uint16_t n_out = 0, sent;

    for (uint16_t i = 0; i < n; i++) {
        if (rte_pktmbuf_is_contiguous(m[i]) &&
            pktgen_pkt_reflect(rte_pktmbuf_mtod(m[i], uint8_t *), rte_pktmbuf_data_len(m[i])))
            out[n_out++] = m[i];
        else
            rte_pktmbuf_free(m[i]);
    }
    sent = n_out ? rte_eth_tx_burst(port, 0, out, n_out) : 0;
    if (sent < n_out)
        rte_pktmbuf_free_bulk(out + sent, n_out - sent);
    ctx->c.n_reflected += sent;
}

/* Polls every port once; returns the number of frames received. */
static unsigned rx_poll(struct pktgen_ctx *ctx)
{
    struct rte_mbuf *m[BURST_MAX];
    unsigned total = 0;

    for (uint16_t port = 0; port < ctx->n_ports; port++) {
        uint16_t n = rte_eth_rx_burst(port, 0, m, BURST_MAX);
        uint64_t now;

        if (n == 0)
            continue;
        if ((int)port == ctx->o->reflect_port) {
            ctx->c.n_rx_port[port] += n;
            rx_reflect(ctx, port, m, n);
            total += n;
            continue;
        }
        now = rte_rdtsc();
        for (uint16_t i = 0; i < n; i++) {
            ctx->c.n_rx++;
            ctx->c.n_rx_port[port]++;
            ctx->c.n_rx_bytes += m[i]->pkt_len + 4;
            rx_account(ctx, rte_pktmbuf_mtod(m[i], const uint8_t *), rte_pktmbuf_data_len(m[i]),
                       now);
        }
        rte_pktmbuf_free_bulk(m, n);
        total += n;
    }
    return total;
}

/* ---- reporting ------------------------------------------------------------- */

static void ip_str(uint32_t ip, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Sums the per-stream sequence counters (not the bitmaps). */
static struct pktgen_seq seq_total(const struct pktgen_ctx *ctx, const struct pktgen_counters *c)
{
    struct pktgen_seq t = {0};

    for (unsigned i = 0; i < ctx->o->n_tx_ports; i++) {
        t.n_rx += c->seq[i].n_rx;
        t.n_reorder += c->seq[i].n_reorder;
        t.n_dup += c->seq[i].n_dup;
        t.n_gap += c->seq[i].n_gap;
        t.n_too_late += c->seq[i].n_too_late;
    }
    return t;
}

static uint64_t counters_lost(const struct pktgen_ctx *ctx, const struct pktgen_counters *c)
{
    if (ctx->pcap != NULL)
        return c->n_tx > c->n_rx ? c->n_tx - c->n_rx : 0;
    uint64_t n_rx = seq_total(ctx, c).n_rx;

    return c->n_tx > n_rx ? c->n_tx - n_rx : 0;
}

/* The summary of a run or trial as a JSON object (owned by the caller). */
static json_t *counters_json(const struct pktgen_ctx *ctx, const struct pktgen_counters *c,
                             double seconds)
{
    char src_min[16], src_max[16], dst_min[16], dst_max[16];
    uint64_t lost = counters_lost(ctx, c);
    struct pktgen_seq st = seq_total(ctx, c);
    json_t *j = json_object();
    json_t *ports = json_array();

    ip_str(c->rx_src_ip_min, src_min, sizeof(src_min));
    ip_str(c->rx_src_ip_max, src_max, sizeof(src_max));
    ip_str(c->rx_dst_ip_min, dst_min, sizeof(dst_min));
    ip_str(c->rx_dst_ip_max, dst_max, sizeof(dst_max));
    json_object_set_new(j, "seconds", json_real(seconds));
    json_object_set_new(j, "tx", json_integer((json_int_t)c->n_tx));
    json_object_set_new(j, "rx", json_integer((json_int_t)c->n_rx));
    json_object_set_new(j, "rx_stream", json_integer((json_int_t)st.n_rx));
    json_object_set_new(j, "rx_other", json_integer((json_int_t)c->n_rx_other));
    json_object_set_new(j, "tx_ring_full", json_integer((json_int_t)c->n_tx_full));
    json_object_set_new(j, "lost", json_integer((json_int_t)lost));
    json_object_set_new(j, "loss_ratio", json_real(c->n_tx ? (double)lost / (double)c->n_tx : 0.0));
    json_object_set_new(j, "reordered", json_integer((json_int_t)st.n_reorder));
    json_object_set_new(j, "duplicated", json_integer((json_int_t)st.n_dup));
    for (uint16_t p = 0; p < ctx->n_ports; p++) {
        json_t *pj = json_object();
        uint64_t n_tx = 0;

        for (unsigned i = 0; i < ctx->o->n_tx_ports; i++)
            if (ctx->o->tx_port[i] == p)
                n_tx = c->n_tx_port[i];
        json_object_set_new(pj, "port", json_integer(p));
        json_object_set_new(pj, "tx", json_integer((json_int_t)n_tx));
        json_object_set_new(pj, "rx", json_integer((json_int_t)c->n_rx_port[p]));
        json_object_set_new(pj, "rx_pps",
                            json_real(seconds > 0 ? (double)c->n_rx_port[p] / seconds : 0));
        json_array_append_new(ports, pj);
    }
    json_object_set_new(j, "ports", ports);
    json_object_set_new(j, "tx_pps", json_real(seconds > 0 ? (double)c->n_tx / seconds : 0));
    json_object_set_new(j, "rx_pps", json_real(seconds > 0 ? (double)c->n_rx / seconds : 0));
    json_object_set_new(j, "tx_bps",
                        json_real(seconds > 0 ? (double)c->n_tx_bytes * 8 / seconds : 0));
    json_object_set_new(j, "rx_translated", json_integer((json_int_t)c->n_rx_translated));
    if (ctx->o->reflect_port >= 0)
        json_object_set_new(j, "reflected", json_integer((json_int_t)c->n_reflected));
    if (ctx->o->is_verify_rx)
        json_object_set_new(j, "rx_checksum_bad", json_integer((json_int_t)c->n_rx_csum_bad));
    if (c->n_rx > c->n_rx_other || c->n_rx_translated > 0) {
        json_object_set_new(j, "rx_src_ip_min", json_string(src_min));
        json_object_set_new(j, "rx_src_ip_max", json_string(src_max));
        json_object_set_new(j, "rx_dst_ip_min", json_string(dst_min));
        json_object_set_new(j, "rx_dst_ip_max", json_string(dst_max));
    }
    if (c->lat.n > 0) {
        json_t *l = json_object();

        json_object_set_new(l, "samples", json_integer((json_int_t)c->lat.n));
        json_object_set_new(l, "min", json_integer((json_int_t)c->lat.min));
        json_object_set_new(l, "avg", json_real(pktgen_lat_mean(&c->lat)));
        json_object_set_new(l, "p50", json_integer((json_int_t)pktgen_lat_percentile(&c->lat, 50)));
        json_object_set_new(l, "p99", json_integer((json_int_t)pktgen_lat_percentile(&c->lat, 99)));
        json_object_set_new(l, "max", json_integer((json_int_t)c->lat.max));
        json_object_set_new(j, "latency_ns", l);
    }
    return j;
}

static void print_json_line(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));

    if (s != NULL) {
        puts(s);
        fflush(stdout);
    }
    free(s);
}

static void print_summary(const struct pktgen_ctx *ctx, const struct pktgen_counters *c,
                          double seconds)
{
    uint64_t lost = counters_lost(ctx, c);
    struct pktgen_seq st = seq_total(ctx, c);

    printf("summary: %.3f s  tx %" PRIu64 " (%.0f pps)  rx %" PRIu64 " (%.0f pps)  lost %" PRIu64
           " (%.6f)  reordered %" PRIu64 "  duplicated %" PRIu64 "  translated %" PRIu64 "\n",
           seconds, c->n_tx, seconds > 0 ? (double)c->n_tx / seconds : 0, c->n_rx,
           seconds > 0 ? (double)c->n_rx / seconds : 0, lost,
           c->n_tx ? (double)lost / (double)c->n_tx : 0, st.n_reorder, st.n_dup,
           c->n_rx_translated);
    if (c->lat.n > 0)
        printf("latency ns: min %" PRIu64 "  avg %.0f  p50 %" PRIu64 "  p99 %" PRIu64
               "  max %" PRIu64 "  (%" PRIu64 " samples)\n",
               c->lat.min, pktgen_lat_mean(&c->lat), pktgen_lat_percentile(&c->lat, 50),
               pktgen_lat_percentile(&c->lat, 99), c->lat.max, c->lat.n);
    if (ctx->o->is_verify_rx)
        printf("rx checksum errors: %" PRIu64 "\n", c->n_rx_csum_bad);
    fflush(stdout);
}

/* Per-interval line: the deltas since the previous one. */
static void print_interval(const struct pktgen_ctx *ctx, struct pktgen_counters *prev, double t,
                           double dt)
{
    const struct pktgen_counters *c = &ctx->c;
    double tx_pps = (double)(c->n_tx - prev->n_tx) / dt;
    double rx_pps = (double)(c->n_rx - prev->n_rx) / dt;
    uint64_t lost = counters_lost(ctx, c);

    if (ctx->o->is_json) {
        json_t *j = json_object();

        json_object_set_new(j, "t", json_real(t));
        json_object_set_new(j, "tx", json_integer((json_int_t)c->n_tx));
        json_object_set_new(j, "rx", json_integer((json_int_t)c->n_rx));
        json_object_set_new(j, "tx_pps", json_real(tx_pps));
        json_object_set_new(j, "rx_pps", json_real(rx_pps));
        json_object_set_new(j, "lost", json_integer((json_int_t)lost));
        json_object_set_new(j, "reordered", json_integer((json_int_t)seq_total(ctx, c).n_reorder));
        if (c->lat.n > 0) {
            json_object_set_new(j, "lat_avg_ns", json_real(pktgen_lat_mean(&c->lat)));
            json_object_set_new(j, "lat_p99_ns",
                                json_integer((json_int_t)pktgen_lat_percentile(&c->lat, 99)));
        }
        print_json_line(j);
        json_decref(j);
    } else {
        printf("%7.1f s  tx %12.0f pps  rx %12.0f pps  tx %12" PRIu64 "  rx %12" PRIu64
               "  in flight/lost %" PRIu64 "\n",
               t, tx_pps, rx_pps, c->n_tx, c->n_rx, lost);
        fflush(stdout);
    }
    *prev = *c;
}

/* ---- runs ------------------------------------------------------------------ */

/*
 * Sends at @pps for @seconds (0 = until the count or a signal), then keeps
 * receiving for the drain time. Counters are in ctx->c afterwards; returns
 * the sending time in seconds.
 */
static double run_traffic(struct pktgen_ctx *ctx, double pps, double seconds, bool is_reporting)
{
    struct pktgen_opts *o = ctx->o;
    struct pktgen_pace pace;
    struct pktgen_counters prev; /* at the last interval line (about 12 KB: fine on the stack) */
    uint64_t start = rte_rdtsc(), now = start, end_tx, end_drain, next_stats, last_stats = start;
    uint64_t stats_step = (uint64_t)(o->stats_interval * (double)ctx->hz);

    counters_reset(&ctx->c);
    prev = ctx->c;
    memset(ctx->next_seq, 0, sizeof(ctx->next_seq));
    ctx->tx_rr = 0;
    pktgen_flow_iter_init(&ctx->flow_it, &o->flows);
    ctx->size_idx = 0;
    ctx->pcap_idx = 0;
    end_tx = seconds > 0 ? start + (uint64_t)(seconds * (double)ctx->hz) : UINT64_MAX;
    next_stats = stats_step > 0 && is_reporting ? start + stats_step : UINT64_MAX;
    pktgen_pace_init(&pace, ctx->hz, pps, start);
    while (!g_stop && now < end_tx && (o->count == 0 || ctx->c.n_tx < o->count)) {
        unsigned n = pktgen_pace_due(&pace, now, o->burst), did = 0;

        if (o->count > 0 && n > o->count - ctx->c.n_tx)
            n = (unsigned)(o->count - ctx->c.n_tx);
        if (n > 0) {
            did = tx_burst(ctx, n);
            pktgen_pace_sent(&pace, did);
        }
        did += rx_poll(ctx);
        if (did == 0 && o->is_yield)
            sched_yield();
        now = rte_rdtsc();
        if (now >= next_stats) {
            /* Rates over the time that really passed: a busy core may delay
             * the line, and the next one is not due in a burst to catch up. */
            print_interval(ctx, &prev, (double)(now - start) / (double)ctx->hz,
                           (double)(now - last_stats) / (double)ctx->hz);
            last_stats = now;
            while (next_stats <= now)
                next_stats += stats_step;
        }
    }
    end_tx = now;
    end_drain = now + (uint64_t)o->drain_ms * ctx->hz / 1000;
    while (!g_stop && now < end_drain) {
        if (rx_poll(ctx) == 0 && o->is_yield)
            sched_yield();
        now = rte_rdtsc();
        /* Everything is back: no need to wait out the drain time. */
        if (ctx->pcap == NULL && seq_total(ctx, &ctx->c).n_rx >= ctx->c.n_tx)
            break;
    }
    return (double)(end_tx - start) / (double)ctx->hz;
}

static bool all_streams_returned(const struct pktgen_ctx *ctx)
{
    for (unsigned i = 0; i < ctx->o->n_tx_ports; i++)
        if (ctx->c.seq[i].n_rx == 0)
            return false;
    return true;
}

/*
 * Warm-up: a VNF's link is up before it forwards (it may still be starting
 * its lcores), and frames sent in between would count as lost. Send one
 * probe every 10 ms on a stream of its own until one has come back on every TX port, then let
 * the path drain for 100 ms. NFV_E_TIMEOUT if nothing returns in time.
 */
static enum nfv_code wait_return(struct pktgen_ctx *ctx, struct nfv_err *err)
{
    uint64_t start = rte_rdtsc(), now = start, next_probe = start;
    uint64_t deadline = start + (uint64_t)(ctx->o->wait_return * (double)ctx->hz);

    counters_reset(&ctx->c);
    pktgen_flow_iter_init(&ctx->flow_it, &ctx->o->flows);
    ctx->stream = STREAM_WARMUP;
    while (!g_stop && !all_streams_returned(ctx)) {
        if (now > deadline)
            return NFV_ERR(err, NFV_E_TIMEOUT,
                           "'wait-return': no probe came back within %g s (%" PRIu64 " sent)",
                           ctx->o->wait_return, ctx->c.n_tx);
        if (now >= next_probe) {
            tx_burst(ctx, 1);
            next_probe += ctx->hz / 100;
        }
        if (rx_poll(ctx) == 0)
            rte_delay_us_sleep(100);
        now = rte_rdtsc();
    }
    for (deadline = rte_rdtsc() + ctx->hz / 10; rte_rdtsc() < deadline && !g_stop;)
        if (rx_poll(ctx) == 0)
            rte_delay_us_sleep(100);
    ctx->stream = 0;
    return NFV_OK;
}

static int write_results(const char *path, json_t *j)
{
    if (path == NULL)
        return 0;
    if (json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
        fprintf(stderr, "vmmgr-pktgen: '%s': cannot write results\n", path);
        return -1;
    }
    return 0;
}

static json_t *config_json(const struct pktgen_ctx *ctx)
{
    const struct pktgen_opts *o = ctx->o;
    json_t *j = json_object();
    json_t *sizes = json_array();

    for (unsigned i = 0; i < o->imix.n_sizes; i++) {
        json_t *s = json_object();

        json_object_set_new(s, "size", json_integer(o->imix.size[i]));
        json_object_set_new(s, "weight", json_integer(o->imix.weight[i]));
        json_array_append_new(sizes, s);
    }
    json_object_set_new(j, "frame_sizes", sizes);
    json_object_set_new(j, "proto", json_string(pktgen_proto_to_string(o->tmpl.proto)));
    json_object_set_new(j, "flows", json_integer((json_int_t)pktgen_flow_spec_count(&o->flows)));
    json_object_set_new(j, "line_rate_gbps", json_real(o->line_gbps));
    json_object_set_new(j, "tsc_hz", json_integer((json_int_t)ctx->hz));
    if (o->pcap_path != NULL)
        json_object_set_new(j, "pcap", json_string(o->pcap_path));
    return j;
}

static int run_plain(struct pktgen_ctx *ctx)
{
    double secs;
    json_t *j;
    int rc = 0;

    ctx->stream = 1;
    secs = run_traffic(ctx, ctx->o->rate_pps, ctx->o->duration, true);
    j = counters_json(ctx, &ctx->c, secs);
    json_object_set_new(j, "mode", json_string("run"));
    json_object_set_new(j, "rate_pps", json_real(ctx->o->rate_pps));
    json_object_set_new(j, "config", config_json(ctx));
    if (ctx->o->is_json)
        print_json_line(j);
    else
        print_summary(ctx, &ctx->c, secs);
    if (write_results(ctx->o->results_path, j) != 0)
        rc = 1;
    json_decref(j);
    return rc;
}

/* Sets the policy of every thread of process @pid; returns how many took it. */
static unsigned dut_sched_set(pid_t pid, int policy, int prio)
{
    char path[64];
    struct sched_param sp = {.sched_priority = prio};
    struct dirent *de;
    unsigned n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(de->d_name, &end, 10);

        if (*end == '\0' && tid > 0 && sched_setscheduler((pid_t)tid, policy, &sp) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static unsigned rx_drain(struct pktgen_ctx *ctx)
{
    unsigned total = 0, n;

    while ((n = rx_poll(ctx)) > 0)
        total += n;
    return total;
}

/*
 * Same-core cycles per packet of a busy-polling process (the DUT: a VNF or
 * dpdk-testpmd) that shares this CPU. Two polling processes time-sliced on
 * one core measure the scheduler, not the code: the DUT drains its ring in
 * microseconds, then spins out its slice. So the generator takes turns with
 * the DUT explicitly:
 *   1. the DUT is stopped (SIGSTOP); the generator fills the DUT's input
 *      ring until the ring refuses more;
 *   2. SIGCONT, and the generator sleeps for a window of W us as a SCHED_FIFO
 *      task, so it gets the core back the moment its timer fires;
 *   3. SIGSTOP again; the frames that came back were forwarded in the window.
 * The DUT had the core alone for the window (other processes of this machine
 * may steal some: the median and the fit damp that). Windows alternate
 * between two lengths; the least-squares slope of cycles over frames is the
 * cost per frame with the constant cost of a window (signals, context
 * switches) removed. A window in which the DUT emptied its ring is discarded,
 * since the DUT then idled for part of it.
 */
static int run_windows(struct pktgen_ctx *ctx, struct nfv_err *err)
{
    struct pktgen_opts *o = ctx->o;
    pid_t pid = (pid_t)o->dut_pid;
    double *wx = calloc(o->n_windows, sizeof(double));
    double *wy = calloc(o->n_windows, sizeof(double));
    double *ratio = calloc(o->n_windows, sizeof(double));
    unsigned *cls = calloc(o->n_windows, sizeof(unsigned));
    struct sched_param rt = {.sched_priority = 2}, normal = {.sched_priority = 0};
    bool is_rt;
    unsigned n_ok = 0, n_drained = 0, n_dut_rt = 0, n_best = 0;
    uint64_t in_dut = 0;
    double slope = 0, icpt = 0, best_slope = 0, best_icpt = 0;
    json_t *j;
    int rc = 0;

    if (wx == NULL || wy == NULL || ratio == NULL || cls == NULL) {
        free(wx);
        free(wy);
        free(ratio);
        free(cls);
        NFV_ERR(err, NFV_E_NOMEM, "'windows': out of memory");
        return -1;
    }
    if (kill(pid, 0) != 0) {
        free(wx);
        free(wy);
        free(ratio);
        free(cls);
        NFV_ERR_ERRNO(err, NFV_E_NOENT, errno, "'dut-pid': process %ld: %s", o->dut_pid,
                      strerror(errno));
        return -1;
    }
    ctx->stream = 1;
    counters_reset(&ctx->c);
    memset(ctx->next_seq, 0, sizeof(ctx->next_seq));
    pktgen_flow_iter_init(&ctx->flow_it, &o->flows);
    /* The DUT runs SCHED_FIFO 1 (only ever inside a window: it is stopped
     * otherwise), the generator SCHED_FIFO 2, so within a window no other
     * process of the machine takes the core and the generator gets it back
     * the moment its timer fires. */
    kill(pid, SIGSTOP);
    is_rt = sched_setscheduler(0, SCHED_FIFO, &rt) == 0;
    if (is_rt)
        n_dut_rt = dut_sched_set(pid, SCHED_FIFO, 1);
    else
        fprintf(stderr, "vmmgr-pktgen: SCHED_FIFO refused (%s): windows may overrun\n",
                strerror(errno));
    for (unsigned w = 0; w < o->n_windows && !g_stop; w++) {
        unsigned window = o->window_us[w % 2], n, got;
        struct timespec ts = {.tv_sec = window / 1000000,
                              .tv_nsec = (long)(window % 1000000) * 1000};
        struct timespec rest = {.tv_sec = 0, .tv_nsec = (long)window * 250};
        uint64_t t0, t1;

        kill(pid, SIGSTOP);
        in_dut -= rx_drain(ctx);
        /* Fill the DUT's input ring until it refuses. */
        do {
            n = tx_burst(ctx, o->burst);
            in_dut += n;
        } while (n > 0 && !g_stop);
        t0 = rte_rdtsc();
        kill(pid, SIGCONT);
        nanosleep(&ts, NULL);
        t1 = rte_rdtsc();
        kill(pid, SIGSTOP);
        got = rx_drain(ctx);
        /* Leave the core to everything else for a quarter window: both of us
         * are real-time, and the kernel throttles a CPU that is 95% real-time. */
        nanosleep(&rest, NULL);
        if (w < o->n_windows / 10) {
            /* Warm-up windows: page faults on first-touched buffers, cold
             * caches; not fitted. */
        } else if (got + BURST_MAX >= in_dut) {
            n_drained++; /* the ring ran dry: the DUT idled part of the window */
        } else if (got > 0) {
            wx[n_ok] = got;
            wy[n_ok] = (double)(t1 - t0);
            ratio[n_ok] = (double)(t1 - t0) / got;
            cls[n_ok] = w % 2;
            if (getenv("PKTGEN_WINDOWS_TRACE") != NULL)
                fprintf(stderr,
                        "window %u: us %u cycles %" PRIu64 " frames %u queued %" PRIu64 "\n", w,
                        window, t1 - t0, got, in_dut);
            n_ok++;
        }
        in_dut = in_dut > got ? in_dut - got : 0;
    }
    if (is_rt) {
        dut_sched_set(pid, SCHED_OTHER, 0);
        sched_setscheduler(0, SCHED_OTHER, &normal);
    }
    kill(pid, SIGCONT);
    pktgen_fit_line(wx, wy, n_ok, &slope, &icpt);
    pktgen_fit_best_half(wx, wy, cls, n_ok, &best_slope, &best_icpt, &n_best);
    qsort(ratio, n_ok, sizeof(double), pktgen_cmp_double);
    j = json_object();
    json_object_set_new(j, "mode", json_string("cycles"));
    json_object_set_new(j, "config", config_json(ctx));
    json_object_set_new(j, "windows", json_integer(o->n_windows));
    json_object_set_new(j, "windows_ok", json_integer(n_ok));
    json_object_set_new(j, "windows_drained", json_integer(n_drained));
    json_object_set_new(j, "window_us_a", json_integer(o->window_us[0]));
    json_object_set_new(j, "window_us_b", json_integer(o->window_us[1]));
    json_object_set_new(j, "sched_fifo", json_boolean(is_rt));
    json_object_set_new(j, "dut_threads_fifo", json_integer(n_dut_rt));
    json_object_set_new(j, "cycles_per_packet", json_real(best_slope));
    json_object_set_new(j, "cycles_per_window_overhead", json_real(best_icpt));
    json_object_set_new(j, "windows_fitted", json_integer(n_best));
    json_object_set_new(j, "cycles_per_packet_all_windows", json_real(slope));
    json_object_set_new(j, "cycles_per_packet_median_raw", json_real(n_ok ? ratio[n_ok / 2] : 0));
    json_object_set_new(j, "tx", json_integer((json_int_t)ctx->c.n_tx));
    json_object_set_new(j, "rx", json_integer((json_int_t)ctx->c.n_rx));
    json_object_set_new(j, "rx_translated", json_integer((json_int_t)ctx->c.n_rx_translated));
    if (o->is_json)
        print_json_line(j);
    else
        printf("cycles: %.1f TSC cycles/packet (fit over the best %u of %u windows, %u drained;"
               " %.0f cycles/window overhead; all windows %.1f; raw median %.1f)\n",
               best_slope, n_best, n_ok, n_drained, best_icpt, slope, n_ok ? ratio[n_ok / 2] : 0);
    if (write_results(o->results_path, j) != 0)
        rc = 1;
    json_decref(j);
    free(wx);
    free(wy);
    free(ratio);
    free(cls);
    if (n_ok < 2) {
        NFV_ERR(err, NFV_E_STATE, "'windows': only %u usable windows (%u drained the ring)", n_ok,
                n_drained);
        return -1;
    }
    return rc;
}

static int run_rfc2544(struct pktgen_ctx *ctx, struct nfv_err *err)
{
    struct pktgen_opts *o = ctx->o;
    struct pktgen_rfc2544 s;
    json_t *trials = json_array(), *j;
    double rate, mean = pktgen_imix_mean_size(&o->imix);
    int rc = 0;

    if (pktgen_rfc2544_init(&s, o->min_pps, o->max_pps, o->resolution_pps, o->loss_ratio, err) !=
        NFV_OK) {
        json_decref(trials);
        return -1;
    }
    o->count = 0;
    while (!g_stop && pktgen_rfc2544_next(&s, &rate)) {
        double secs;
        const struct pktgen_trial *t;
        bool is_short;
        json_t *tj;

        ctx->stream = (uint16_t)(ctx->stream % (STREAM_WARMUP - 1) + 1); /* new trial id */
        secs = run_traffic(ctx, rate, o->trial_sec, false);
        if (g_stop)
            break;
        pktgen_rfc2544_report(&s, ctx->c.n_tx, seq_total(ctx, &ctx->c).n_rx);
        t = &s.trial[s.n_trials - 1];
        tj = counters_json(ctx, &ctx->c, secs);
        json_object_set_new(tj, "trial", json_integer(s.n_trials));
        json_object_set_new(tj, "rate_pps", json_real(rate));
        json_object_set_new(tj, "pass", json_boolean(t->is_pass));
        /* The generator could not send at the offered rate (its core was
         * busy, or the DUT's ring refused frames for over 1 ms): say so, as
         * the trial then measured a lower rate than it is filed under. */
        is_short = secs > 0 && (double)t->n_tx < 0.99 * rate * secs;
        json_object_set_new(tj, "generator_short", json_boolean(is_short));
        if (o->is_json) {
            print_json_line(tj);
        } else {
            printf("trial %2u: offered %12.0f pps (%6.2f%%)  tx %10" PRIu64 "  rx %10" PRIu64
                   "  loss %.6f  %s%s\n",
                   s.n_trials, rate,
                   100 * rate / pktgen_pps_from_pct(100, o->line_gbps * 1e9, mean), t->n_tx,
                   t->n_rx, t->loss_ratio, t->is_pass ? "PASS" : "FAIL",
                   is_short ? "  (generator short of the rate)" : "");
            fflush(stdout);
        }
        json_array_append_new(trials, tj);
    }
    j = json_object();
    json_object_set_new(j, "mode", json_string("rfc2544"));
    json_object_set_new(j, "config", config_json(ctx));
    json_object_set_new(j, "trial_sec", json_real(o->trial_sec));
    json_object_set_new(j, "loss_ratio_max", json_real(o->loss_ratio));
    json_object_set_new(j, "min_pps", json_real(o->min_pps));
    json_object_set_new(j, "max_pps", json_real(o->max_pps));
    json_object_set_new(j, "resolution_pps", json_real(o->resolution_pps));
    json_object_set_new(j, "trials", trials);
    json_object_set_new(j, "complete", json_boolean(!g_stop && s.is_done));
    json_object_set_new(j, "throughput_pps", json_real(pktgen_rfc2544_result(&s)));
    json_object_set_new(j, "throughput_pct",
                        json_real(100 * pktgen_rfc2544_result(&s) /
                                  pktgen_pps_from_pct(100, o->line_gbps * 1e9, mean)));
    json_object_set_new(j, "throughput_bps", json_real(pktgen_rfc2544_result(&s) * mean * 8));
    if (o->is_json)
        print_json_line(j);
    else
        printf("rfc2544: throughput %.0f pps (%.2f%% of %.3g Gb/s at mean frame %.1f B), "
               "%u trials, loss ratio <= %g\n",
               pktgen_rfc2544_result(&s),
               100 * pktgen_rfc2544_result(&s) / pktgen_pps_from_pct(100, o->line_gbps * 1e9, mean),
               o->line_gbps, mean, s.n_trials, o->loss_ratio);
    if (write_results(o->results_path, j) != 0)
        rc = 1;
    json_decref(j);
    return rc;
}

static enum nfv_code dut_pid_read(const char *path, struct pktgen_opts *o, struct nfv_err *err)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    int n;

    if (f == NULL)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'dut-pid-file': %s: %s", path, strerror(errno));
    n = fscanf(f, "%ld", &pid);
    fclose(f);
    if (n != 1 || pid < 2)
        return NFV_ERR(err, NFV_E_PARSE, "'dut-pid-file': %s: no process id", path);
    o->dut_pid = pid;
    return NFV_OK;
}

int main(int argc, char **argv)
{
    struct pktgen_ctx ctx = {.o = &g_opts};
    struct nfv_err err = {0};
    int n_eal, rc = 1;

    n_eal = rte_eal_init(argc, argv);
    if (n_eal < 0) {
        fprintf(stderr, "vmmgr-pktgen: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    argc -= n_eal;
    argv += n_eal;
    if (pktgen_opts_parse(argc, argv, &g_opts, &err) != NFV_OK) {
        fprintf(stderr, "vmmgr-pktgen: %s\n", err.msg);
        rte_eal_cleanup();
        return nfv_code_exit(err.code);
    }
    if (g_opts.is_help) {
        pktgen_opts_usage(stdout);
        rte_eal_cleanup();
        return 0;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ctx.hz = rte_get_tsc_hz();
    ctx.n_sizes = pktgen_imix_sequence(&g_opts.imix, ctx.sizes);
    if (g_opts.pcap_path != NULL &&
        pktgen_pcap_load(g_opts.pcap_path, PKTGEN_FRAME_MAX, &ctx.pcap, NULL, &err) != NFV_OK)
        goto out;
    if (ports_setup(&ctx, &err) != NFV_OK)
        goto out;
    if (g_opts.wait_return > 0 && g_opts.pcap_path == NULL && wait_return(&ctx, &err) != NFV_OK)
        goto out;
    if (g_opts.dut_pid_file != NULL && dut_pid_read(g_opts.dut_pid_file, &g_opts, &err) != NFV_OK)
        goto out;
    if (g_opts.dut_pid > 0) {
        rc = 0;
        if (g_opts.count > 0 || g_opts.duration > 0)
            rc = run_plain(&ctx); /* prefill, e.g. the NAT's flow table */
        if (rc == 0)
            rc = run_windows(&ctx, &err);
    } else if (g_opts.is_rfc2544) {
        rc = run_rfc2544(&ctx, &err);
    } else {
        rc = run_plain(&ctx);
    }
    if (rc < 0)
        goto out;
    ports_close(&ctx);
    pktgen_pcap_free(ctx.pcap);
    rte_mempool_free(ctx.pool);
    rte_eal_cleanup();
    return rc;
out:
    fprintf(stderr, "vmmgr-pktgen: %s\n", err.msg);
    ports_close(&ctx);
    pktgen_pcap_free(ctx.pcap);
    rte_mempool_free(ctx.pool);
    rte_eal_cleanup();
    return err.code != NFV_OK ? nfv_code_exit(err.code) : 1;
}
