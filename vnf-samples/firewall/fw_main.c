/*
 * fw_main.c - vmmgr-fw: a 5-tuple firewall VNF on DPDK rte_acl.
 *
 *   vmmgr-fw [EAL options] -- -r|--rules FILE [-f|--config FILE] [--stateful]
 *            [--default accept|drop] [--stats-interval SEC] [--json]
 *            [--exit-on-idle MS] [--test-clock pcap|tsc] [--link-wait S]
 *
 * Accepted packets leave by the other port unchanged. The rules (fw_core.c)
 * are compiled into an rte_acl context held in a struct fw_ruleset; the
 * worker reads the active ruleset pointer once per burst and reports an RCU
 * quiescent state after every loop iteration. A reload (SIGHUP or the
 * telemetry command /vmmgr_fw/reload) parses and compiles the new rules off
 * the fast path, swaps the pointer atomically, waits with
 * rte_rcu_qsbr_synchronize() until the worker has passed a quiescent state,
 * and only then frees the old ruleset: no lock on the fast path, and a bad
 * rules file leaves the old rules in force. Per-rule hit counters belong to
 * a ruleset and restart from zero on reload.
 *
 * Stateful mode: a packet accepted by a rule opens a flow in the connection
 * table (vnf/ct.h); packets of either direction that match a live flow are
 * accepted without consulting the rules (the return traffic), and so are ICMP
 * errors that quote a packet of a live flow (related traffic, e.g. path MTU
 * discovery), without refreshing it.
 *
 * File-scope state: the context pointer for the telemetry callbacks (they
 * take no argument), as STYLE.md allows in a main.c.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "fw.h"
#include "vnf/app.h"
#include "vnf/conf.h"
#include "vnf/ct.h"
#include "vnf/pkt.h"

#define FW_SWEEP_BUDGET 64

/* What rte_acl classifies: built per packet, network byte order, proto first (1 byte). */
struct fw_acl_key {
    uint8_t proto;
    uint8_t pad[3];
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t sport;
    uint16_t dport;
};

enum { FW_F_PROTO, FW_F_SRC, FW_F_DST, FW_F_SPORT, FW_F_DPORT, FW_F__COUNT };

RTE_ACL_RULE_DEF(fw_acl_rule, FW_F__COUNT);

static const struct rte_acl_field_def fw_acl_defs[FW_F__COUNT] = {
    {.type = RTE_ACL_FIELD_TYPE_BITMASK,
     .size = 1,
     .field_index = FW_F_PROTO,
     .input_index = 0,
     .offset = offsetof(struct fw_acl_key, proto)},
    {.type = RTE_ACL_FIELD_TYPE_MASK,
     .size = 4,
     .field_index = FW_F_SRC,
     .input_index = 1,
     .offset = offsetof(struct fw_acl_key, src_ip)},
    {.type = RTE_ACL_FIELD_TYPE_MASK,
     .size = 4,
     .field_index = FW_F_DST,
     .input_index = 2,
     .offset = offsetof(struct fw_acl_key, dst_ip)},
    /* Both ports share one 4-byte input group, as rte_acl requires. */
    {.type = RTE_ACL_FIELD_TYPE_RANGE,
     .size = 2,
     .field_index = FW_F_SPORT,
     .input_index = 3,
     .offset = offsetof(struct fw_acl_key, sport)},
    {.type = RTE_ACL_FIELD_TYPE_RANGE,
     .size = 2,
     .field_index = FW_F_DPORT,
     .input_index = 3,
     .offset = offsetof(struct fw_acl_key, dport)},
};

enum fw_cnt {
    FW_CNT_ACCEPT_RULE,
    FW_CNT_ACCEPT_DEFAULT,
    FW_CNT_ACCEPT_STATE,
    FW_CNT_DROP_RULE,
    FW_CNT_DROP_DEFAULT,
    FW_CNT_FLOWS_CREATED,
    FW_CNT_FLOWS_EXPIRED,
    FW_CNT_FLOW_TABLE_FULL,
    FW_CNT_DROP_NON_IPV4,
    FW_CNT_DROP_TRUNCATED,
    FW_CNT_DROP_BAD_HEADER,
    FW_CNT_DROP_BAD_IP_CSUM,
    FW_CNT_DROP_FRAGMENT,
    FW_CNT_ACCEPT_RELATED,
    FW_CNT__COUNT
};

static const char *const fw_cnt_names[FW_CNT__COUNT] = {
    [FW_CNT_ACCEPT_RULE] = "accepted_rule",
    [FW_CNT_ACCEPT_DEFAULT] = "accepted_default",
    [FW_CNT_ACCEPT_STATE] = "accepted_state",
    [FW_CNT_DROP_RULE] = "dropped_rule",
    [FW_CNT_DROP_DEFAULT] = "dropped_default",
    [FW_CNT_FLOWS_CREATED] = "flows_created",
    [FW_CNT_FLOWS_EXPIRED] = "flows_expired",
    [FW_CNT_FLOW_TABLE_FULL] = "flow_table_full",
    [FW_CNT_DROP_NON_IPV4] = "drop_non_ipv4",
    [FW_CNT_DROP_TRUNCATED] = "drop_truncated",
    [FW_CNT_DROP_BAD_HEADER] = "drop_bad_header",
    [FW_CNT_DROP_BAD_IP_CSUM] = "drop_bad_ip_checksum",
    [FW_CNT_DROP_FRAGMENT] = "drop_fragment",
    [FW_CNT_ACCEPT_RELATED] = "accepted_related",
};

static const enum fw_cnt fw_cnt_of_verdict[VNF_PKT__COUNT] = {
    [VNF_PKT_NON_IPV4] = FW_CNT_DROP_NON_IPV4,     [VNF_PKT_TRUNCATED] = FW_CNT_DROP_TRUNCATED,
    [VNF_PKT_BAD_HEADER] = FW_CNT_DROP_BAD_HEADER, [VNF_PKT_BAD_CSUM] = FW_CNT_DROP_BAD_IP_CSUM,
    [VNF_PKT_FRAGMENT] = FW_CNT_DROP_FRAGMENT,
};

/* One compiled generation of the rules. */
struct fw_ruleset {
    struct rte_acl_ctx *acl; /* NULL when there are no rules */
    struct fw_rules *rules;
    /* Per worker and rule, hits[worker * hits_stride + rule]; each worker writes its own
     * cache-line-aligned row only. */
    uint64_t *hits;
    unsigned hits_stride;
    uint64_t generation;
};

struct fw_worker {
    uint64_t cnt[FW_CNT__COUNT];
    struct vnf_ct *ct; /* stateful mode only: this worker's connections */
} __rte_cache_aligned;

struct fw_ctx {
    struct fw_conf conf;
    const char *rules_path;
    struct fw_ruleset *active; /* swapped with __atomic ops; see the file comment */
    struct rte_rcu_qsbr *qs;
    pthread_mutex_t reload_lock; /* serializes reloads and readers of retired rulesets */
    uint64_t next_generation;
    uint64_t reloads;
    uint64_t reload_failures;
    unsigned n_workers;
    struct fw_worker *w; /* [n_workers] */
    struct vnf_app *app;
};

static struct fw_ctx *fw_g; /* for the telemetry callbacks */

static void fw_ruleset_free(struct fw_ruleset *rs)
{
    if (!rs)
        return;
    rte_acl_free(rs->acl);
    fw_rules_free(rs->rules);
    rte_free(rs->hits);
    rte_free(rs);
}

/* Compiles @take_rules (consumed, also on error) into a new ruleset. */
static struct fw_ruleset *fw_ruleset_build(struct fw_ctx *ctx, struct fw_rules *take_rules,
                                           struct nfv_err *err)
{
    struct fw_ruleset *rs = rte_zmalloc("fw_ruleset", sizeof(*rs), RTE_CACHE_LINE_SIZE);
    unsigned n = take_rules->n_rules;
    struct fw_acl_rule *ar = NULL;
    char name[RTE_ACL_NAMESIZE];
    int rc;

    if (!rs) {
        fw_rules_free(take_rules);
        NFV_ERR(err, NFV_E_NOMEM, "out of DPDK memory for a ruleset");
        return NULL;
    }
    rs->rules = take_rules;
    rs->generation = ctx->next_generation++;
    rs->hits_stride = RTE_ALIGN_CEIL(n ? n : 1, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
    rs->hits = rte_zmalloc("fw_hits", sizeof(uint64_t) * rs->hits_stride * ctx->n_workers,
                           RTE_CACHE_LINE_SIZE);
    if (!rs->hits)
        goto nomem;
    if (n == 0)
        return rs;
    /* rte_acl_create() returns an existing context of the same name: make it unique. */
    snprintf(name, sizeof(name), "fw_acl_%" PRIu64, rs->generation);
    struct rte_acl_param prm = {.name = name,
                                .socket_id = SOCKET_ID_ANY,
                                .rule_size = RTE_ACL_RULE_SZ(FW_F__COUNT),
                                .max_rule_num = n};
    rs->acl = rte_acl_create(&prm);
    ar = calloc(n, sizeof(*ar));
    if (!rs->acl || !ar)
        goto nomem;
    for (unsigned i = 0; i < n; i++) {
        const struct fw_rule *r = &take_rules->rules[i];

        ar[i].data.category_mask = 1;
        /* First match wins: earlier lines get higher priorities. */
        ar[i].data.priority = (int32_t)(n - i);
        ar[i].data.userdata = i + 1; /* 0 means "no match" */
        ar[i].field[FW_F_PROTO].value.u8 = r->is_any_proto ? 0 : r->proto;
        ar[i].field[FW_F_PROTO].mask_range.u8 = r->is_any_proto ? 0 : 0xff;
        ar[i].field[FW_F_SRC].value.u32 = r->src_ip;
        ar[i].field[FW_F_SRC].mask_range.u32 = r->src_depth;
        ar[i].field[FW_F_DST].value.u32 = r->dst_ip;
        ar[i].field[FW_F_DST].mask_range.u32 = r->dst_depth;
        ar[i].field[FW_F_SPORT].value.u16 = r->sport_lo;
        ar[i].field[FW_F_SPORT].mask_range.u16 = r->sport_hi;
        ar[i].field[FW_F_DPORT].value.u16 = r->dport_lo;
        ar[i].field[FW_F_DPORT].mask_range.u16 = r->dport_hi;
    }
    rc = rte_acl_add_rules(rs->acl, (const struct rte_acl_rule *)ar, n);
    if (rc == 0) {
        struct rte_acl_config cfg = {.num_categories = 1, .num_fields = FW_F__COUNT};
        memcpy(cfg.defs, fw_acl_defs, sizeof(fw_acl_defs));
        rc = rte_acl_build(rs->acl, &cfg);
    }
    free(ar);
    if (rc != 0) {
        NFV_ERR(err, NFV_E_INTERNAL, "rte_acl could not compile %u rules: %s", n, strerror(-rc));
        fw_ruleset_free(rs);
        return NULL;
    }
    return rs;
nomem:
    free(ar);
    fw_ruleset_free(rs);
    NFV_ERR(err, NFV_E_NOMEM, "out of DPDK memory for %u rules", n);
    return NULL;
}

/* Loads, compiles and installs the rules file; the old rules stay on any error. */
static enum nfv_code fw_reload(struct fw_ctx *ctx, unsigned *ret_n_rules, struct nfv_err *err)
{
    struct fw_rules *rules = NULL;
    struct fw_ruleset *rs, *old;
    enum nfv_code rc = NFV_OK;

    pthread_mutex_lock(&ctx->reload_lock);
    rc = fw_rules_load(ctx->rules_path, &rules, err);
    if (rc == NFV_OK) {
        rs = fw_ruleset_build(ctx, rules, err);
        if (!rs) {
            rc = err ? err->code : NFV_E_INTERNAL;
        } else {
            old = __atomic_exchange_n(&ctx->active, rs, __ATOMIC_ACQ_REL);
            /* Wait until the worker cannot hold @old any more. */
            rte_rcu_qsbr_synchronize(ctx->qs, RTE_QSBR_THRID_INVALID);
            fw_ruleset_free(old);
            __atomic_store_n(&ctx->reloads, ctx->reloads + 1, __ATOMIC_RELAXED);
            /* Read under the lock: another reload may retire @rs right after. */
            *ret_n_rules = rs->rules->n_rules;
        }
    }
    if (rc != NFV_OK)
        __atomic_store_n(&ctx->reload_failures, ctx->reload_failures + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->reload_lock);
    return rc;
}

static void fw_reload_signal(void *opaque)
{
    struct fw_ctx *ctx = opaque;
    struct nfv_err err = {0};
    unsigned n_rules = 0;

    if (fw_reload(ctx, &n_rules, &err) == NFV_OK)
        fprintf(stderr, "vmmgr-fw: reloaded %s: %u rules\n", ctx->rules_path, n_rules);
    else
        fprintf(stderr, "vmmgr-fw: reload failed, old rules stay in force: %s\n", err.msg);
}

static inline void fw_count(struct fw_worker *w, enum fw_cnt c)
{
    VNF_CNT_ADD(w->cnt[c], 1);
}

/* Hits of rule @i summed over the workers (control path). */
static uint64_t fw_rule_hits(const struct fw_ctx *ctx, const struct fw_ruleset *rs, unsigned i)
{
    uint64_t n = 0;

    for (unsigned w = 0; w < ctx->n_workers; w++)
        n += VNF_CNT_GET(rs->hits[w * rs->hits_stride + i]);
    return n;
}

/*
 * Stateful fast accept: true if @p belongs to a live flow (which is refreshed).
 * @f/@dir come from the burst's bulk lookup; an earlier packet of the burst may
 * have deleted that flow since (expiry), which vnf_ct_flow_matches() notices.
 */
static bool fw_state_accept(struct fw_ctx *ctx, struct fw_worker *w, const struct vnf_pkt *p,
                            const struct vnf_ct_key *key, struct vnf_ct_flow *f, unsigned dir,
                            uint64_t now_ms)
{
    if (f && !vnf_ct_flow_matches(f, dir, key))
        f = vnf_ct_lookup(w->ct, key, &dir);
    if (!f)
        return false;
    if (vnf_flow_expired(&ctx->conf.tmo, f->key[0].proto, (enum vnf_flow_state)f->state, f->last_ms,
                         now_ms)) {
        vnf_ct_del(w->ct, f);
        fw_count(w, FW_CNT_FLOWS_EXPIRED);
        return false;
    }
    f->state = (uint8_t)vnf_flow_next((enum vnf_flow_state)f->state, p->proto, p->tcp_flags,
                                      dir != f->init_dir);
    f->last_ms = now_ms;
    return true;
}

/*
 * Stateful mode: true if @p is an ICMP error quoting a packet of a live
 * connection (as conntrack's RELATED), e.g. a router's "fragmentation needed"
 * for path MTU discovery. The connection's timer is not refreshed.
 */
static bool fw_related_accept(struct fw_ctx *ctx, struct fw_worker *w, const uint8_t *frame,
                              const struct vnf_pkt *p, uint64_t now_ms)
{
    struct vnf_pkt_inner in;
    struct vnf_ct_key key;
    struct vnf_ct_flow *f;
    unsigned dir;

    if (p->proto != VNF_PROTO_ICMP || p->is_echo || !vnf_icmp_is_error(p->icmp_type) ||
        vnf_pkt_parse_icmp_inner(frame, p, &in) != VNF_PKT_OK)
        return false;
    vnf_ct_key_set(&key, in.proto, in.src_ip, in.sport, in.dst_ip, in.dport);
    f = vnf_ct_lookup(w->ct, &key, &dir);
    return f && !vnf_flow_expired(&ctx->conf.tmo, f->key[0].proto, (enum vnf_flow_state)f->state,
                                  f->last_ms, now_ms);
}

static void fw_state_open(struct fw_worker *w, const struct vnf_pkt *p, uint64_t now_ms)
{
    struct vnf_ct_key k0, k1;
    struct vnf_ct_flow *f;
    int e = 0;

    vnf_ct_key_set(&k0, p->proto, p->src_ip, p->sport, p->dst_ip, p->dport);
    vnf_ct_key_set(&k1, p->proto, p->dst_ip, p->dport, p->src_ip, p->sport);
    f = vnf_ct_add(w->ct, &k0, &k1, 0, now_ms, &e);
    if (f) {
        f->state = (uint8_t)vnf_flow_next(VNF_FLOW_OPENING, p->proto, p->tcp_flags, false);
        fw_count(w, FW_CNT_FLOWS_CREATED);
    } else if (e == ENOSPC) {
        /* The rule accepted this packet; only its return traffic loses the state. */
        fw_count(w, FW_CNT_FLOW_TABLE_FULL);
    }
}

static void fw_handle(void *opaque, unsigned worker, struct rte_mbuf **pkts, uint16_t n,
                      unsigned side, uint64_t now_ms, struct vnf_tx *tx)
{
    struct fw_ctx *ctx = opaque;
    struct fw_worker *w = &ctx->w[worker];
    struct fw_ruleset *rs = __atomic_load_n(&ctx->active, __ATOMIC_ACQUIRE);
    struct fw_acl_key keys[VNF_BURST];
    const uint8_t *data[VNF_BURST];
    struct vnf_pkt pk[VNF_BURST];
    struct rte_mbuf *ok[VNF_BURST];
    struct vnf_ct_key ck[VNF_BURST];
    const struct vnf_ct_key *ckp[VNF_BURST] = {0};
    struct vnf_ct_flow *fl[VNF_BURST];
    uint8_t dirs[VNF_BURST], cls_pk[VNF_BURST];
    uint8_t is_accepted[VNF_BURST]; /* per parsed packet; sent in arrival order at the end */
    uint32_t res[VNF_BURST];
    unsigned n_ok = 0, n_cls = 0;

    /* Parse; malformed packets are counted and dropped. */
    for (uint16_t i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];
        struct vnf_pkt *p = &pk[n_ok];
        enum vnf_pkt_verdict v =
            vnf_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), p);

        if (v != VNF_PKT_OK) {
            fw_count(w, fw_cnt_of_verdict[v]);
            rte_pktmbuf_free(m);
            continue;
        }
        if (w->ct) {
            vnf_ct_key_set(&ck[n_ok], p->proto, p->src_ip, p->sport, p->dst_ip, p->dport);
            ckp[n_ok] = &ck[n_ok];
        }
        ok[n_ok++] = m;
    }
    /* Stateful: all connections of the burst looked up at once, then in order. */
    if (w->ct)
        vnf_ct_lookup_bulk(w->ct, ckp, n_ok, fl, dirs);
    for (unsigned j = 0; j < n_ok; j++) {
        struct rte_mbuf *m = ok[j];
        const struct vnf_pkt *p = &pk[j];

        is_accepted[j] = 1;
        if (w->ct && fw_state_accept(ctx, w, p, &ck[j], fl[j], dirs[j], now_ms)) {
            fw_count(w, FW_CNT_ACCEPT_STATE);
            continue;
        }
        if (w->ct && fw_related_accept(ctx, w, rte_pktmbuf_mtod(m, const uint8_t *), p, now_ms)) {
            fw_count(w, FW_CNT_ACCEPT_RELATED);
            continue;
        }
        keys[n_cls] = (struct fw_acl_key){.proto = p->proto,
                                          .src_ip = rte_cpu_to_be_32(p->src_ip),
                                          .dst_ip = rte_cpu_to_be_32(p->dst_ip),
                                          .sport = rte_cpu_to_be_16(p->sport),
                                          .dport = rte_cpu_to_be_16(p->dport)};
        data[n_cls] = (const uint8_t *)&keys[n_cls];
        cls_pk[n_cls] = (uint8_t)j;
        n_cls++;
    }
    if (n_cls && rs->acl)
        rte_acl_classify(rs->acl, data, res, n_cls, 1);
    else if (n_cls)
        memset(res, 0, sizeof(res[0]) * n_cls);
    uint64_t *hits = &rs->hits[worker * rs->hits_stride];
    for (unsigned j = 0; j < n_cls; j++) {
        enum fw_action a;

        if (res[j]) {
            VNF_CNT_ADD(hits[res[j] - 1], 1);
            a = rs->rules->rules[res[j] - 1].action;
            fw_count(w, a == FW_ACCEPT ? FW_CNT_ACCEPT_RULE : FW_CNT_DROP_RULE);
        } else {
            a = ctx->conf.default_action;
            fw_count(w, a == FW_ACCEPT ? FW_CNT_ACCEPT_DEFAULT : FW_CNT_DROP_DEFAULT);
        }
        is_accepted[cls_pk[j]] = a == FW_ACCEPT;
        if (a == FW_ACCEPT && w->ct)
            fw_state_open(w, &pk[cls_pk[j]], now_ms);
    }
    /* Accepted packets leave in the order they arrived, whichever path accepted them. */
    for (unsigned j = 0; j < n_ok; j++) {
        if (is_accepted[j])
            vnf_tx_put(tx, side ^ 1, ok[j]);
        else
            rte_pktmbuf_free(ok[j]);
    }
}

static void fw_idle(void *opaque, unsigned worker, uint64_t now_ms)
{
    struct fw_ctx *ctx = opaque;
    struct fw_worker *w = &ctx->w[worker];

    if (w->ct) {
        unsigned n = vnf_ct_sweep(w->ct, &ctx->conf.tmo, now_ms, FW_SWEEP_BUDGET);
        if (n)
            VNF_CNT_ADD(w->cnt[FW_CNT_FLOWS_EXPIRED], n);
    }
}

static unsigned fw_owner_of(void *opaque, const struct rte_mbuf *m, unsigned side, unsigned self,
                            unsigned n_workers)
{
    const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
    struct vnf_pkt_inner in;
    struct vnf_pkt p;

    (void)opaque;
    (void)side;
    /* Malformed packets belong to no connection: whoever received them counts them. */
    if (vnf_pkt_parse(frame, rte_pktmbuf_data_len(m), &p) != VNF_PKT_OK)
        return self;
    /* An ICMP error belongs with the connection it quotes (the hash is symmetric). */
    if (p.proto == VNF_PROTO_ICMP && !p.is_echo && vnf_icmp_is_error(p.icmp_type) &&
        vnf_pkt_parse_icmp_inner(frame, &p, &in) == VNF_PKT_OK) {
        struct vnf_pkt q = {.proto = in.proto,
                            .src_ip = in.src_ip,
                            .sport = in.sport,
                            .dst_ip = in.dst_ip,
                            .dport = in.dport};
        return fw_flow_owner(&q, n_workers);
    }
    return fw_flow_owner(&p, n_workers);
}

static unsigned fw_stats(void *opaque, struct vnf_stat *out, unsigned max)
{
    struct fw_ctx *ctx = opaque;
    struct fw_ruleset *rs;
    unsigned n = 0;

    if (max < FW_CNT__COUNT + 6)
        return 0;
    /* The lock keeps a concurrent reload from freeing @rs under us (control path only). */
    pthread_mutex_lock(&ctx->reload_lock);
    rs = ctx->active;
    uint64_t active = 0;
    for (unsigned i = 0; i < FW_CNT__COUNT; i++) {
        uint64_t v = 0;
        for (unsigned w = 0; w < ctx->n_workers; w++)
            v += VNF_CNT_GET(ctx->w[w].cnt[i]);
        out[n++] = (struct vnf_stat){fw_cnt_names[i], v};
    }
    for (unsigned w = 0; w < ctx->n_workers; w++)
        active += ctx->w[w].ct ? vnf_ct_count(ctx->w[w].ct) : 0;
    out[n++] = (struct vnf_stat){"flows_active", active};
    out[n++] = (struct vnf_stat){"rules", rs->rules->n_rules};
    out[n++] = (struct vnf_stat){"rules_generation", rs->generation};
    out[n++] = (struct vnf_stat){"reloads", VNF_CNT_GET(ctx->reloads)};
    out[n++] = (struct vnf_stat){"reload_failures", VNF_CNT_GET(ctx->reload_failures)};
    pthread_mutex_unlock(&ctx->reload_lock);
    out[n++] = (struct vnf_stat){"stateful", ctx->conf.is_stateful};
    return n;
}

/* Per-rule hits as [{"line":L,"action":"accept","hits":H},...]; under the reload lock. */
static struct json_t *fw_detail_json(void *opaque)
{
    struct fw_ctx *ctx = opaque;
    json_t *a = json_array();

    pthread_mutex_lock(&ctx->reload_lock);
    struct fw_ruleset *rs = ctx->active;
    for (unsigned i = 0; i < rs->rules->n_rules; i++) {
        const struct fw_rule *r = &rs->rules->rules[i];
        json_array_append_new(a, json_pack("{s:i, s:s, s:I}", "line", (int)r->lineno, "action",
                                           fw_action_to_string(r->action), "hits",
                                           (json_int_t)fw_rule_hits(ctx, rs, i)));
    }
    pthread_mutex_unlock(&ctx->reload_lock);
    return a;
}

static void fw_detail_text(void *opaque, FILE *f)
{
    struct fw_ctx *ctx = opaque;

    pthread_mutex_lock(&ctx->reload_lock);
    struct fw_ruleset *rs = ctx->active;
    for (unsigned i = 0; i < rs->rules->n_rules; i++)
        fprintf(f, "  rule %-5u line %-6u %-6s hits %" PRIu64 "\n", i + 1,
                rs->rules->rules[i].lineno, fw_action_to_string(rs->rules->rules[i].action),
                fw_rule_hits(ctx, rs, i));
    pthread_mutex_unlock(&ctx->reload_lock);
}

static int fw_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    (void)params;
    rte_tel_data_start_dict(d);
    vnf_app_stats_tel(fw_g->app, d);
    return 0;
}

static int fw_tel_rules(const char *cmd, const char *params, struct rte_tel_data *d)
{
    struct rte_tel_data *hits = rte_tel_data_alloc(), *lines = rte_tel_data_alloc();

    (void)cmd;
    (void)params;
    if (!hits || !lines) {
        rte_tel_data_free(hits);
        rte_tel_data_free(lines);
        return -ENOMEM;
    }
    rte_tel_data_start_array(hits, RTE_TEL_U64_VAL);
    rte_tel_data_start_array(lines, RTE_TEL_U64_VAL);
    rte_tel_data_start_dict(d);
    pthread_mutex_lock(&fw_g->reload_lock);
    struct fw_ruleset *rs = fw_g->active;
    rte_tel_data_add_dict_string(d, "file", fw_g->rules_path);
    rte_tel_data_add_dict_u64(d, "generation", rs->generation);
    rte_tel_data_add_dict_u64(d, "rules", rs->rules->n_rules);
    rte_tel_data_add_dict_string(d, "default", fw_action_to_string(fw_g->conf.default_action));
    for (unsigned i = 0; i < rs->rules->n_rules; i++) {
        rte_tel_data_add_array_u64(lines, rs->rules->rules[i].lineno);
        rte_tel_data_add_array_u64(hits, fw_rule_hits(fw_g, rs, i));
    }
    pthread_mutex_unlock(&fw_g->reload_lock);
    rte_tel_data_add_dict_container(d, "line", lines, 0);
    rte_tel_data_add_dict_container(d, "hits", hits, 0);
    return 0;
}

static int fw_tel_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
    struct nfv_err err = {0};
    unsigned n_rules = 0;

    (void)cmd;
    (void)params;
    rte_tel_data_start_dict(d);
    if (fw_reload(fw_g, &n_rules, &err) == NFV_OK) {
        rte_tel_data_add_dict_string(d, "status", "ok");
        rte_tel_data_add_dict_u64(d, "rules", n_rules);
    } else {
        rte_tel_data_add_dict_string(d, "status", "error");
        rte_tel_data_add_dict_string(d, "error", err.msg);
    }
    return 0;
}

struct fw_cli {
    struct vnf_opts vo;
    bool is_help;
    const char *rules;
    bool is_stateful;
    const char *default_action;
};

enum { FW_OPT_STATEFUL = VNF_OPT__APP_FIRST, FW_OPT_DEFAULT };

static void fw_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [EAL options] -- -r|--rules FILE [-f|--config FILE] [--stateful]\n"
            "       [--default accept|drop] [--stats-interval SEC] [--json]\n"
            "       [--exit-on-idle MS] [--test-clock pcap|tsc] [--link-wait S]\n"
            "Forwards accepted packets port 0 <-> port 1. Default policy: drop.\n"
            "Signals: SIGINT/SIGTERM stop (final stats), SIGUSR1 stats, SIGHUP reloads rules.\n"
            "Telemetry: /vmmgr_fw/stats, /vmmgr_fw/rules, /vmmgr_fw/reload.\n"
            "See docs/vnf-samples.md.\n",
            prog);
}

static enum nfv_code fw_parse_args(int argc, char **argv, struct fw_cli *cli, struct nfv_err *err)
{
    static const struct option longopts[] = {
        VNF_OPTS_LONG{"rules", required_argument, NULL, 'r'},
        {"stateful", no_argument, NULL, FW_OPT_STATEFUL},
        {"default", required_argument, NULL, FW_OPT_DEFAULT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "f:r:h", longopts, NULL)) != -1) {
        enum nfv_code rc = vnf_opts_common(&cli->vo, opt, optarg, err);

        if (rc == NFV_OK)
            continue;
        if (rc != NFV_E_NOENT)
            return rc;
        switch (opt) {
        case 'r':
            cli->rules = optarg;
            break;
        case FW_OPT_STATEFUL:
            cli->is_stateful = true;
            break;
        case FW_OPT_DEFAULT:
            if (fw_action_from_string(optarg) == FW_ACTION__COUNT)
                return NFV_ERR(err, NFV_E_INVAL, "'--default': '%s' is not accept or drop", optarg);
            cli->default_action = optarg;
            break;
        case 'h':
            cli->is_help = true;
            return NFV_OK;
        default:
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown option or missing argument",
                           argv[optind - 1]);
        }
    }
    if (optind < argc)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected argument", argv[optind]);
    if (!cli->rules)
        return NFV_ERR(err, NFV_E_INVAL, "'--rules': a rules file is required");
    return NFV_OK;
}

int main(int argc, char **argv)
{
    static const char *const sides[2] = {"port0", "port1"};
    static const struct vnf_app_ops ops = {.handle = fw_handle,
                                           .idle = fw_idle,
                                           .stats = fw_stats,
                                           .owner = fw_owner_of,
                                           .reload = fw_reload_signal,
                                           .detail_name = "rule_hits",
                                           .detail_json = fw_detail_json,
                                           .detail_text = fw_detail_text};
    struct nfv_err err = {0};
    struct fw_cli cli = {0};
    struct fw_ctx *ctx = NULL;
    struct fw_rules *rules = NULL;
    int ret, code = 0;

    vnf_log_to_stderr();
    ret = rte_eal_init(argc, argv);
    if (ret < 0) {
        fprintf(stderr, "vmmgr-fw: EAL initialization failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= ret;
    argv += ret;

    ctx = rte_zmalloc("fw_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
    if (!ctx) {
        NFV_ERR(&err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&ctx->reload_lock, NULL);
    ctx->n_workers = vnf_app_n_workers();
    ctx->w = rte_zmalloc("fw_workers", sizeof(*ctx->w) * ctx->n_workers, RTE_CACHE_LINE_SIZE);
    if (!ctx->w) {
        NFV_ERR(&err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    fw_conf_init(&ctx->conf);
    if (fw_parse_args(argc, argv, &cli, &err) != NFV_OK)
        goto fail;
    if (cli.is_help) {
        fw_usage(stdout, argv[0]);
        goto out;
    }
    if (cli.vo.config && fw_conf_load(&ctx->conf, cli.vo.config, &err) != NFV_OK)
        goto fail;
    if (cli.is_stateful)
        ctx->conf.is_stateful = true;
    if (cli.default_action)
        ctx->conf.default_action = fw_action_from_string(cli.default_action);
    ctx->rules_path = cli.rules;
    if (fw_rules_load(cli.rules, &rules, &err) != NFV_OK)
        goto fail;
    ctx->active = fw_ruleset_build(ctx, rules, &err);
    if (!ctx->active)
        goto fail;

    size_t qs_size = rte_rcu_qsbr_get_memsize(ctx->n_workers);
    ctx->qs = rte_zmalloc("fw_qsbr", qs_size, RTE_CACHE_LINE_SIZE);
    if (!ctx->qs || rte_rcu_qsbr_init(ctx->qs, ctx->n_workers) != 0) {
        NFV_ERR(&err, NFV_E_NOMEM, "cannot set up the RCU QSBR variable");
        goto fail;
    }
    for (unsigned i = 0; ctx->conf.is_stateful && i < ctx->n_workers; i++) {
        char name[32];

        snprintf(name, sizeof(name), "fw_ct%u", i);
        ctx->w[i].ct =
            vnf_ct_new(name, (ctx->conf.max_flows + ctx->n_workers - 1) / ctx->n_workers, &err);
        if (!ctx->w[i].ct)
            goto fail;
    }
    ctx->app = vnf_app_new("vmmgr-fw", &cli.vo, 0, 1, sides, &err);
    if (!ctx->app)
        goto fail;
    fw_g = ctx;
    rte_telemetry_register_cmd("/vmmgr_fw/stats", fw_tel_stats,
                               "vmmgr-fw counters (accepted, dropped, per reason)");
    rte_telemetry_register_cmd("/vmmgr_fw/rules", fw_tel_rules,
                               "vmmgr-fw rules: file, generation, per-rule line and hits");
    rte_telemetry_register_cmd("/vmmgr_fw/reload", fw_tel_reload,
                               "Reload the rules file; on error the old rules stay");
    if (vnf_app_run(ctx->app, &ops, ctx, ctx->qs, &err) != NFV_OK)
        goto fail;
    goto out;
fail:
    fprintf(stderr, "vmmgr-fw: %s\n", err.msg);
    code = err.code == NFV_E_INVAL || err.code == NFV_E_PARSE ? 2 : 1;
out:
    if (ctx) {
        vnf_app_free(ctx->app);
        for (unsigned i = 0; ctx->w && i < ctx->n_workers; i++)
            vnf_ct_free(ctx->w[i].ct);
        rte_free(ctx->w);
        fw_ruleset_free(ctx->active);
        rte_free(ctx->qs);
        pthread_mutex_destroy(&ctx->reload_lock);
        rte_free(ctx);
    }
    rte_eal_cleanup();
    return code;
}
