/*
 * nat_main.c - vmmgr-nat: a NAPT VNF on DPDK (the fast path and main()).
 *
 *   vmmgr-nat [EAL options] -- [-f FILE] [--inside-port N] [--outside-port N]
 *             [--outside-ip A.B.C.D[,...]] [--flows N] [--stats-interval SEC]
 *             [--json] [--exit-on-idle MS] [--test-clock pcap|tsc] [--link-wait S]
 *
 * Packets entering the inside port leave the outside port with their source
 * translated; packets entering the outside port that match a flow (or a
 * static forward) leave the inside port with their destination restored.
 * ICMP errors about a flow are translated with the flow (RFC 5508).
 * Everything else is dropped and counted by reason. Decisions that need no
 * DPDK (parsing, checksums, mapping choices, timeouts) live in vnf_core and
 * nat_core.c; this file holds the connection table usage and the glue.
 *
 * File-scope state: the context pointer the telemetry callbacks need (they
 * take no argument), as STYLE.md allows in a main.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "nat.h"
#include "vnf/app.h"
#include "vnf/conf.h"
#include "vnf/csum.h"
#include "vnf/ct.h"
#include "vnf/pkt.h"

#define NAT_SWEEP_BUDGET 32

enum nat_drop {
    NAT_DROP_NON_IPV4,
    NAT_DROP_TRUNCATED,
    NAT_DROP_BAD_HEADER,
    NAT_DROP_BAD_IP_CSUM,
    NAT_DROP_FRAGMENT,
    NAT_DROP_UNSUPPORTED_PROTO,
    NAT_DROP_ICMP_NOT_ECHO,
    NAT_DROP_NO_FLOW,
    NAT_DROP_NO_PORT,
    NAT_DROP_TABLE_FULL,
    NAT_DROP_BAD_ICMP_ERROR,
    NAT_DROP__COUNT
};

static const char *const nat_drop_names[NAT_DROP__COUNT] = {
    [NAT_DROP_NON_IPV4] = "drop_non_ipv4",
    [NAT_DROP_TRUNCATED] = "drop_truncated",
    [NAT_DROP_BAD_HEADER] = "drop_bad_header",
    [NAT_DROP_BAD_IP_CSUM] = "drop_bad_ip_checksum",
    [NAT_DROP_FRAGMENT] = "drop_fragment",
    [NAT_DROP_UNSUPPORTED_PROTO] = "drop_unsupported_proto",
    [NAT_DROP_ICMP_NOT_ECHO] = "drop_icmp_not_echo",
    [NAT_DROP_NO_FLOW] = "drop_no_flow",
    [NAT_DROP_NO_PORT] = "drop_no_port",
    [NAT_DROP_TABLE_FULL] = "drop_table_full",
    [NAT_DROP_BAD_ICMP_ERROR] = "drop_bad_icmp_error",
};

/* Parser verdict -> drop reason (VNF_PKT_OK has none). */
static const enum nat_drop nat_drop_of_verdict[VNF_PKT__COUNT] = {
    [VNF_PKT_NON_IPV4] = NAT_DROP_NON_IPV4,     [VNF_PKT_TRUNCATED] = NAT_DROP_TRUNCATED,
    [VNF_PKT_BAD_HEADER] = NAT_DROP_BAD_HEADER, [VNF_PKT_BAD_CSUM] = NAT_DROP_BAD_IP_CSUM,
    [VNF_PKT_FRAGMENT] = NAT_DROP_FRAGMENT,
};

/* State of one worker lcore: written by it only (counters read by the control thread). */
struct nat_worker {
    struct vnf_ct *ct; /* this worker's flows (see nat.h on ownership) */
    uint64_t drops[NAT_DROP__COUNT];
    uint64_t translated_out; /* inside -> outside */
    uint64_t translated_in;  /* outside -> inside */
    uint64_t flows_created;
    uint64_t flows_expired;
    uint64_t forwards_used; /* flows created by a static forward */
    uint64_t icmp_errors;   /* ICMP errors translated (RFC 5508) */
} __rte_cache_aligned;

struct nat_ctx {
    struct nat_conf *conf;
    unsigned n_workers;
    struct nat_worker *w; /* [n_workers] */
    struct vnf_app *app;
};

static struct nat_ctx *nat_g; /* for the telemetry callbacks */

static inline void nat_drop(struct nat_worker *w, struct rte_mbuf *m, enum nat_drop why)
{
    VNF_CNT_ADD(w->drops[why], 1);
    rte_pktmbuf_free(m);
}

/*
 * Returns the live flow for @key given the burst lookup's answer @f/@dir:
 * re-checked when earlier packets of the burst changed the table, and deleted
 * (NULL returned) if it has expired.
 */
static struct vnf_ct_flow *nat_flow_get(struct nat_ctx *ctx, struct nat_worker *w,
                                        const struct vnf_ct_key *key, struct vnf_ct_flow *f,
                                        unsigned *dir, bool is_table_changed, uint64_t now_ms)
{
    if (is_table_changed && (!f || !vnf_ct_flow_matches(f, *dir, key)))
        f = vnf_ct_lookup(w->ct, key, dir);
    if (f && vnf_flow_expired(&ctx->conf->tmo, f->key[0].proto, (enum vnf_flow_state)f->state,
                              f->last_ms, now_ms)) {
        vnf_ct_del(w->ct, f);
        VNF_CNT_ADD(w->flows_expired, 1);
        f = NULL;
    }
    return f;
}

/* Creates the flow of a new inside packet: picks the outside address and port. */
static struct vnf_ct_flow *nat_flow_new_out(struct nat_ctx *ctx, struct nat_worker *w,
                                            const struct vnf_pkt *p, const struct vnf_ct_key *k0,
                                            uint64_t now_ms, enum nat_drop *ret_why)
{
    const struct nat_conf *c = ctx->conf;
    uint32_t out_ip = c->outside_ip[nat_pick_outside(c, p->src_ip)];
    unsigned widx = (unsigned)(w - ctx->w);
    uint32_t h = nat_flow_hash(p->src_ip, p->sport, p->dst_ip, p->dport, p->proto);
    struct vnf_ct_key k1;
    struct vnf_ct_flow *f;
    int e = 0;

    for (unsigned i = 0; i < NAT_PORT_TRIES; i++) {
        uint16_t port = nat_port_candidate(c, p->sport, h, widx, ctx->n_workers, i);

        if (!port)
            break;
        /* The reply tuple; for ICMP echo both "ports" are the identifier. */
        vnf_ct_key_set(&k1, p->proto, p->dst_ip, p->proto == VNF_PROTO_ICMP ? port : p->dport,
                       out_ip, port);
        if (nat_fwd_find(c, p->proto, out_ip, port) || vnf_ct_has(w->ct, &k1))
            continue;
        f = vnf_ct_add(w->ct, k0, &k1, 0, now_ms, &e);
        if (f) {
            VNF_CNT_ADD(w->flows_created, 1);
            return f;
        }
        if (e == ENOSPC) {
            *ret_why = NAT_DROP_TABLE_FULL;
            return NULL;
        }
    }
    *ret_why = NAT_DROP_NO_PORT;
    return NULL;
}

/* Creates the flow of a new outside packet that hits a static forward. */
static struct vnf_ct_flow *nat_flow_new_in(struct nat_ctx *ctx, struct nat_worker *w,
                                           const struct vnf_pkt *p, const struct vnf_ct_key *k1,
                                           uint64_t now_ms, enum nat_drop *ret_why)
{
    const struct nat_fwd *fw = nat_fwd_find(ctx->conf, p->proto, p->dst_ip, p->dport);
    struct vnf_ct_key k0;
    struct vnf_ct_flow *f;
    int e = 0;

    if (!fw) {
        *ret_why = NAT_DROP_NO_FLOW;
        return NULL;
    }
    /* key[0] is always the inside host's view: inside -> remote. */
    vnf_ct_key_set(&k0, p->proto, fw->in_ip, fw->in_port, p->src_ip, p->sport);
    f = vnf_ct_add(w->ct, &k0, k1, 1, now_ms, &e);
    if (!f) {
        *ret_why = e == ENOSPC ? NAT_DROP_TABLE_FULL : NAT_DROP_NO_FLOW;
        return NULL;
    }
    VNF_CNT_ADD(w->flows_created, 1);
    VNF_CNT_ADD(w->forwards_used, 1);
    return f;
}

/*
 * One parsed packet with its burst lookup result. Returns true if the
 * connection table changed (a flow was added or deleted).
 */
static bool nat_handle_one(struct nat_ctx *ctx, struct nat_worker *w, struct rte_mbuf *m,
                           struct vnf_pkt *p, const struct vnf_ct_key *key, struct vnf_ct_flow *f,
                           unsigned dir, bool is_table_changed, unsigned side, uint64_t now_ms,
                           struct vnf_tx *tx)
{
    uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
    enum nat_drop why = NAT_DROP_NO_FLOW;
    uint64_t n_flows = w->flows_created + w->flows_expired;

    f = nat_flow_get(ctx, w, key, f, &dir, is_table_changed, now_ms);
    if (side == 0) {
        if (f && dir != 0) {
            nat_drop(w, m, NAT_DROP_NO_FLOW);
            goto out;
        }
        if (!f) {
            /* Only an echo request opens an ICMP flow. */
            if (p->proto == VNF_PROTO_ICMP && p->icmp_type != VNF_ICMP_ECHO_REQUEST) {
                nat_drop(w, m, NAT_DROP_NO_FLOW);
                goto out;
            }
            f = nat_flow_new_out(ctx, w, p, key, now_ms, &why);
            if (!f) {
                nat_drop(w, m, why);
                goto out;
            }
        }
        vnf_csum_set_ip(frame, p, 1, f->key[1].dst_ip);
        vnf_csum_set_port(frame, p, 1, f->key[1].dport);
        VNF_CNT_ADD(w->translated_out, 1);
        dir = 0;
    } else {
        if (f && dir != 1) {
            nat_drop(w, m, NAT_DROP_NO_FLOW);
            goto out;
        }
        if (!f) {
            f = nat_flow_new_in(ctx, w, p, key, now_ms, &why);
            if (!f) {
                nat_drop(w, m, why);
                goto out;
            }
        }
        vnf_csum_set_ip(frame, p, 0, f->key[0].src_ip);
        vnf_csum_set_port(frame, p, 0, f->key[0].sport);
        VNF_CNT_ADD(w->translated_in, 1);
        dir = 1;
    }
    f->state = (uint8_t)vnf_flow_next((enum vnf_flow_state)f->state, p->proto, p->tcp_flags,
                                      dir != f->init_dir);
    f->last_ms = now_ms;
    vnf_tx_put(tx, side ^ 1, m);
out:
    return w->flows_created + w->flows_expired != n_flows;
}

/*
 * An ICMP error about a flow (RFC 5508): the quoted packet travelled the
 * other way, so its reversed tuple is the flow's key for this direction.
 * Outside -> inside: the destination and the quote's source go back to the
 * inside host; inside -> outside: the source and the quote's destination
 * become the outside address/port. Errors do not refresh the flow's timer.
 */
static void nat_icmp_error(struct nat_ctx *ctx, struct nat_worker *w, struct rte_mbuf *m,
                           struct vnf_pkt *p, unsigned side, uint64_t now_ms, struct vnf_tx *tx)
{
    uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
    struct vnf_pkt_inner in;
    struct vnf_ct_key key;
    struct vnf_ct_flow *f;
    unsigned dir = 0;

    if (vnf_pkt_parse_icmp_inner(frame, p, &in) != VNF_PKT_OK) {
        nat_drop(w, m, NAT_DROP_BAD_ICMP_ERROR);
        return;
    }
    vnf_ct_key_set(&key, in.proto, in.dst_ip, in.dport, in.src_ip, in.sport);
    f = vnf_ct_lookup(w->ct, &key, &dir);
    if (!f || dir != side ||
        vnf_flow_expired(&ctx->conf->tmo, f->key[0].proto, (enum vnf_flow_state)f->state,
                         f->last_ms, now_ms)) {
        nat_drop(w, m, NAT_DROP_NO_FLOW);
        return;
    }
    if (side == 1) {
        vnf_csum_set_ip(frame, p, 0, f->key[0].src_ip);
        vnf_csum_set_inner(frame, p, &in, 1, f->key[0].src_ip, f->key[0].sport);
    } else {
        vnf_csum_set_ip(frame, p, 1, f->key[1].dst_ip);
        vnf_csum_set_inner(frame, p, &in, 0, f->key[1].dst_ip, f->key[1].dport);
    }
    VNF_CNT_ADD(w->icmp_errors, 1);
    vnf_tx_put(tx, side ^ 1, m);
}

/*
 * A burst: parse and filter every packet, look all flows up at once (the
 * cache misses overlap), then translate in arrival order.
 */
static void nat_handle(void *opaque, unsigned worker, struct rte_mbuf **pkts, uint16_t n,
                       unsigned side, uint64_t now_ms, struct vnf_tx *tx)
{
    struct nat_ctx *ctx = opaque;
    struct nat_worker *w = &ctx->w[worker];
    struct vnf_pkt pk[VNF_BURST];
    struct vnf_ct_key keys[VNF_BURST];
    const struct vnf_ct_key *kp[VNF_BURST] = {0};
    struct vnf_ct_flow *fl[VNF_BURST];
    uint8_t dirs[VNF_BURST];
    struct rte_mbuf *ok[VNF_BURST];
    uint8_t is_err[VNF_BURST];
    unsigned n_ok = 0;
    bool is_changed = false;

    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        struct vnf_pkt *p = &pk[n_ok];
        enum vnf_pkt_verdict v =
            vnf_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), p);

        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        if (v != VNF_PKT_OK) {
            nat_drop(w, m, nat_drop_of_verdict[v]);
            continue;
        }
        if (p->proto != VNF_PROTO_TCP && p->proto != VNF_PROTO_UDP && p->proto != VNF_PROTO_ICMP) {
            nat_drop(w, m, NAT_DROP_UNSUPPORTED_PROTO);
            continue;
        }
        /* ICMP: echo is a flow of its own, errors follow the flow they quote (handled in
         * order with the others below; their bulk lookup result is not used), the rest is
         * dropped. */
        is_err[n_ok] = p->proto == VNF_PROTO_ICMP && !p->is_echo;
        if (is_err[n_ok] && !vnf_icmp_is_error(p->icmp_type)) {
            nat_drop(w, m, NAT_DROP_ICMP_NOT_ECHO);
            continue;
        }
        vnf_ct_key_set(&keys[n_ok], p->proto, p->src_ip, p->sport, p->dst_ip, p->dport);
        kp[n_ok] = &keys[n_ok];
        ok[n_ok++] = m;
    }
    vnf_ct_lookup_bulk(w->ct, kp, n_ok, fl, dirs);
    for (unsigned j = 0; j < n_ok; j++) {
        if (is_err[j])
            nat_icmp_error(ctx, w, ok[j], &pk[j], side, now_ms, tx);
        else
            is_changed |= nat_handle_one(ctx, w, ok[j], &pk[j], &keys[j], fl[j], dirs[j],
                                         is_changed, side, now_ms, tx);
    }
}

static void nat_idle(void *opaque, unsigned worker, uint64_t now_ms)
{
    struct nat_ctx *ctx = opaque;
    struct nat_worker *w = &ctx->w[worker];
    unsigned n = vnf_ct_sweep(w->ct, &ctx->conf->tmo, now_ms, NAT_SWEEP_BUDGET);

    if (n)
        VNF_CNT_ADD(w->flows_expired, n);
}

static unsigned nat_owner_of(void *opaque, const struct rte_mbuf *m, unsigned side, unsigned self,
                             unsigned n_workers)
{
    struct nat_ctx *ctx = opaque;
    struct vnf_pkt p;

    const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
    struct vnf_pkt_inner in;

    /* Malformed packets belong to no flow: whoever received them counts them. */
    if (vnf_pkt_parse(frame, rte_pktmbuf_data_len(m), &p) != VNF_PKT_OK)
        return self;
    if (p.proto == VNF_PROTO_ICMP && !p.is_echo) {
        if (!vnf_icmp_is_error(p.icmp_type) ||
            vnf_pkt_parse_icmp_inner(frame, &p, &in) != VNF_PKT_OK)
            return self;
        return nat_owner_icmp_error(ctx->conf, &in, side, n_workers);
    }
    return nat_owner(ctx->conf, &p, side, n_workers);
}

static unsigned nat_stats(void *opaque, struct vnf_stat *out, unsigned max)
{
    struct nat_ctx *ctx = opaque;
    struct nat_worker sum = {0};
    uint64_t active = 0, cap = 0;
    unsigned n = 0;

    if (max < 8 + NAT_DROP__COUNT)
        return 0;
    for (unsigned i = 0; i < ctx->n_workers; i++) {
        const struct nat_worker *w = &ctx->w[i];

        for (unsigned d = 0; d < NAT_DROP__COUNT; d++)
            sum.drops[d] += VNF_CNT_GET(w->drops[d]);
        sum.translated_out += VNF_CNT_GET(w->translated_out);
        sum.translated_in += VNF_CNT_GET(w->translated_in);
        sum.flows_created += VNF_CNT_GET(w->flows_created);
        sum.flows_expired += VNF_CNT_GET(w->flows_expired);
        sum.forwards_used += VNF_CNT_GET(w->forwards_used);
        sum.icmp_errors += VNF_CNT_GET(w->icmp_errors);
        /* Flows created minus flows deleted: exact for a reader on another thread. */
        active += vnf_ct_count(w->ct);
        cap += vnf_ct_capacity(w->ct);
    }
    out[n++] = (struct vnf_stat){"translated_out", sum.translated_out};
    out[n++] = (struct vnf_stat){"translated_in", sum.translated_in};
    out[n++] = (struct vnf_stat){"flows_active", active};
    out[n++] = (struct vnf_stat){"flows_max", cap};
    out[n++] = (struct vnf_stat){"flows_created", sum.flows_created};
    out[n++] = (struct vnf_stat){"flows_expired", sum.flows_expired};
    out[n++] = (struct vnf_stat){"forwards_used", sum.forwards_used};
    out[n++] = (struct vnf_stat){"icmp_errors_translated", sum.icmp_errors};
    for (unsigned i = 0; i < NAT_DROP__COUNT; i++)
        out[n++] = (struct vnf_stat){nat_drop_names[i], sum.drops[i]};
    return n;
}

static int nat_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    (void)params;
    rte_tel_data_start_dict(d);
    vnf_app_stats_tel(nat_g->app, d);
    return 0;
}

static int nat_tel_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
    const struct nat_conf *c = nat_g->conf;
    char buf[16];

    (void)cmd;
    (void)params;
    rte_tel_data_start_dict(d);
    for (unsigned i = 0; i < c->n_outside_ip; i++) {
        char key[32];
        snprintf(key, sizeof(key), "outside_ip_%u", i);
        rte_tel_data_add_dict_string(d, key, vnf_ipv4_format(c->outside_ip[i], buf, sizeof(buf)));
    }
    rte_tel_data_add_dict_u64(d, "flows", c->max_flows);
    rte_tel_data_add_dict_u64(d, "port_lo", c->port_lo);
    rte_tel_data_add_dict_u64(d, "port_hi", c->port_hi);
    rte_tel_data_add_dict_u64(d, "forwards", c->n_fwd);
    for (unsigned t = 0; t < VNF_TMO__COUNT; t++) {
        char key[48];
        snprintf(key, sizeof(key), "timeout_%s", vnf_tmo_to_string((enum vnf_tmo)t));
        rte_tel_data_add_dict_u64(d, key, c->tmo.sec[t]);
    }
    return 0;
}

struct nat_cli {
    struct vnf_opts vo;
    bool is_help;
    uint32_t inside_port;
    uint32_t outside_port;
    const char *outside_ips;
    uint32_t flows;
    bool is_flows_set;
};

enum {
    NAT_OPT_INSIDE_PORT = VNF_OPT__APP_FIRST,
    NAT_OPT_OUTSIDE_PORT,
    NAT_OPT_OUTSIDE_IP,
    NAT_OPT_FLOWS
};

static void nat_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [EAL options] -- [-f|--config FILE] [--inside-port N] [--outside-port N]\n"
            "       [--outside-ip A.B.C.D[,A.B.C.D...]] [--flows N] [--stats-interval SEC]\n"
            "       [--json] [--exit-on-idle MS] [--test-clock pcap|tsc] [--link-wait S]\n"
            "Defaults: inside port 0, outside port 1, outside IP 198.51.100.1, 1048576 flows.\n"
            "Signals: SIGINT/SIGTERM stop (final stats), SIGUSR1 prints stats.\n"
            "Telemetry: /vmmgr_nat/stats, /vmmgr_nat/config. See docs/vnf-samples.md.\n",
            prog);
}

static enum nfv_code nat_parse_args(int argc, char **argv, struct nat_cli *cli, struct nfv_err *err)
{
    static const struct option longopts[] = {
        VNF_OPTS_LONG{"inside-port", required_argument, NULL, NAT_OPT_INSIDE_PORT},
        {"outside-port", required_argument, NULL, NAT_OPT_OUTSIDE_PORT},
        {"outside-ip", required_argument, NULL, NAT_OPT_OUTSIDE_IP},
        {"flows", required_argument, NULL, NAT_OPT_FLOWS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    cli->outside_port = 1;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        enum nfv_code rc = vnf_opts_common(&cli->vo, opt, optarg, err);

        if (rc == NFV_OK)
            continue;
        if (rc != NFV_E_NOENT)
            return rc;
        rc = NFV_OK;
        switch (opt) {
        case NAT_OPT_INSIDE_PORT:
            rc = vnf_parse_u32(optarg, 0, RTE_MAX_ETHPORTS - 1, "--inside-port", &cli->inside_port,
                               err);
            break;
        case NAT_OPT_OUTSIDE_PORT:
            rc = vnf_parse_u32(optarg, 0, RTE_MAX_ETHPORTS - 1, "--outside-port",
                               &cli->outside_port, err);
            break;
        case NAT_OPT_OUTSIDE_IP:
            cli->outside_ips = optarg;
            break;
        case NAT_OPT_FLOWS:
            rc = vnf_parse_u32(optarg, 1, 1u << 30, "--flows", &cli->flows, err);
            cli->is_flows_set = true;
            break;
        case 'h':
            cli->is_help = true;
            return NFV_OK;
        default:
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown option or missing argument",
                           argv[optind - 1]);
        }
        if (rc != NFV_OK)
            return rc;
    }
    if (optind < argc)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected argument", argv[optind]);
    return NFV_OK;
}

int main(int argc, char **argv)
{
    static const char *const sides[2] = {"inside", "outside"};
    static const struct vnf_app_ops ops = {
        .handle = nat_handle, .idle = nat_idle, .owner = nat_owner_of, .stats = nat_stats};
    struct nfv_err err = {0};
    struct nat_cli cli = {0};
    struct nat_conf *conf = NULL;
    struct nat_ctx *ctx = NULL;
    int ret, code = 0;

    vnf_log_to_stderr();
    ret = rte_eal_init(argc, argv);
    if (ret < 0) {
        fprintf(stderr, "vmmgr-nat: EAL initialization failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= ret;
    argv += ret;

    conf = calloc(1, sizeof(*conf));
    ctx = rte_zmalloc("nat_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
    if (!conf || !ctx) {
        NFV_ERR(&err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    nat_conf_init(conf);
    if (nat_parse_args(argc, argv, &cli, &err) != NFV_OK)
        goto fail;
    if (cli.is_help) {
        nat_usage(stdout, argv[0]);
        goto out;
    }
    if (cli.vo.config && nat_conf_load(conf, cli.vo.config, &err) != NFV_OK)
        goto fail;
    if (cli.outside_ips && nat_conf_set_outside_ips(conf, cli.outside_ips, &err) != NFV_OK)
        goto fail;
    if (cli.is_flows_set)
        conf->max_flows = cli.flows;
    if (nat_conf_finish(conf, cli.vo.config ? cli.vo.config : "--outside-ip", &err) != NFV_OK)
        goto fail;

    ctx->conf = conf;
    ctx->n_workers = vnf_app_n_workers();
    ctx->w = rte_zmalloc("nat_workers", sizeof(*ctx->w) * ctx->n_workers, RTE_CACHE_LINE_SIZE);
    if (!ctx->w) {
        NFV_ERR(&err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    /* Each worker owns 1/n of the ports and so of the flows. */
    for (unsigned i = 0; i < ctx->n_workers; i++) {
        char name[32];

        snprintf(name, sizeof(name), "nat_ct%u", i);
        ctx->w[i].ct =
            vnf_ct_new(name, (conf->max_flows + ctx->n_workers - 1) / ctx->n_workers, &err);
        if (!ctx->w[i].ct)
            goto fail;
    }
    ctx->app = vnf_app_new("vmmgr-nat", &cli.vo, (uint16_t)cli.inside_port,
                           (uint16_t)cli.outside_port, sides, &err);
    if (!ctx->app)
        goto fail;
    nat_g = ctx;
    rte_telemetry_register_cmd("/vmmgr_nat/stats", nat_tel_stats,
                               "vmmgr-nat counters (packets, flows, drops per reason)");
    rte_telemetry_register_cmd("/vmmgr_nat/config", nat_tel_config,
                               "vmmgr-nat configuration (outside addresses, flows, timeouts)");
    if (vnf_app_run(ctx->app, &ops, ctx, NULL, &err) != NFV_OK)
        goto fail;
    goto out;
fail:
    fprintf(stderr, "vmmgr-nat: %s\n", err.msg);
    code = err.code == NFV_E_INVAL || err.code == NFV_E_PARSE ? 2 : 1;
out:
    if (ctx) {
        vnf_app_free(ctx->app);
        for (unsigned i = 0; ctx->w && i < ctx->n_workers; i++)
            vnf_ct_free(ctx->w[i].ct);
        rte_free(ctx->w);
        rte_free(ctx);
    }
    free(conf);
    rte_eal_cleanup();
    return code;
}
