/*
 * fw_core.c - vmmgr-fw rules file and config parsing, reference matcher.
 */
#include "fw.h"

#include <stdlib.h>
#include <string.h>

#include "vnf/conf.h"

static const char *const fw_action_names[FW_ACTION__COUNT] = {
    [FW_ACCEPT] = "accept",
    [FW_DROP] = "drop",
};

const char *fw_action_to_string(enum fw_action a)
{
    return (unsigned)a < FW_ACTION__COUNT ? fw_action_names[a] : "unknown";
}

enum fw_action fw_action_from_string(const char *s)
{
    for (unsigned i = 0; i < FW_ACTION__COUNT; i++)
        if (strcmp(s, fw_action_names[i]) == 0)
            return (enum fw_action)i;
    return FW_ACTION__COUNT;
}

void fw_rules_free(struct fw_rules *r)
{
    if (!r)
        return;
    free(r->rules);
    free(r);
}

static enum nfv_code fw_rule_line(void *opaque, unsigned lineno, unsigned argc, char **argv,
                                  struct nfv_err *err)
{
    struct fw_rules *r = opaque;
    struct fw_rule rule = {
        .is_any_proto = true, .sport_hi = 65535, .dport_hi = 65535, .lineno = lineno};
    bool has_ports = false;
    unsigned seen = 0;
    enum nfv_code rc = NFV_OK;

    rule.action = fw_action_from_string(argv[0]);
    if (rule.action == FW_ACTION__COUNT)
        return NFV_ERR(err, NFV_E_PARSE, "'%s': a rule starts with 'accept' or 'drop'", argv[0]);
    if ((argc - 1) % 2)
        return NFV_ERR(err, NFV_E_PARSE, "'%s': missing value", argv[argc - 1]);
    for (unsigned i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        static const char *const keys[] = {"src", "dst", "proto", "sport", "dport"};
        unsigned bit = 0;

        while (bit < 5 && strcmp(k, keys[bit]) != 0)
            bit++;
        if (bit == 5)
            return NFV_ERR(err, NFV_E_PARSE,
                           "'%s': unknown field (expected src, dst, proto, sport, dport)", k);
        if (seen & (1u << bit))
            return NFV_ERR(err, NFV_E_PARSE, "'%s': given twice", k);
        seen |= 1u << bit;
        switch (bit) {
        case 0:
            rc = vnf_parse_prefix(v, "src", &rule.src_ip, &rule.src_depth, err);
            break;
        case 1:
            rc = vnf_parse_prefix(v, "dst", &rule.dst_ip, &rule.dst_depth, err);
            break;
        case 2:
            rc = vnf_parse_proto(v, "proto", &rule.proto, &rule.is_any_proto, err);
            break;
        case 3:
            rc = vnf_parse_port_range(v, "sport", &rule.sport_lo, &rule.sport_hi, err);
            has_ports |= strcmp(v, "any") != 0;
            break;
        default:
            rc = vnf_parse_port_range(v, "dport", &rule.dport_lo, &rule.dport_hi, err);
            has_ports |= strcmp(v, "any") != 0;
            break;
        }
        if (rc != NFV_OK)
            return rc;
    }
    if (has_ports &&
        (rule.is_any_proto || (rule.proto != VNF_PROTO_TCP && rule.proto != VNF_PROTO_UDP)))
        return NFV_ERR(err, NFV_E_INVAL, "'sport'/'dport': need 'proto tcp' or 'proto udp'");
    if (r->n_rules == FW_MAX_RULES)
        return NFV_ERR(err, NFV_E_INVAL, "more than %d rules", FW_MAX_RULES);
    if (r->n_rules == r->cap) {
        unsigned cap = r->cap ? r->cap * 2 : 64;
        struct fw_rule *n = realloc(r->rules, sizeof(*n) * cap);
        if (!n)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory for %u rules", cap);
        r->rules = n;
        r->cap = cap;
    }
    r->rules[r->n_rules++] = rule;
    return NFV_OK;
}

static enum nfv_code fw_rules_finish(enum nfv_code rc, struct fw_rules *r,
                                     struct fw_rules **ret_rules)
{
    if (rc != NFV_OK) {
        fw_rules_free(r);
        return rc;
    }
    *ret_rules = r;
    return NFV_OK;
}

enum nfv_code fw_rules_load(const char *path, struct fw_rules **ret_rules, struct nfv_err *err)
{
    struct fw_rules *r = calloc(1, sizeof(*r));

    if (!r)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return fw_rules_finish(vnf_conf_parse_file(path, fw_rule_line, r, err), r, ret_rules);
}

enum nfv_code fw_rules_load_text(const char *name, const char *text, struct fw_rules **ret_rules,
                                 struct nfv_err *err)
{
    struct fw_rules *r = calloc(1, sizeof(*r));

    if (!r)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    return fw_rules_finish(vnf_conf_parse_text(name, text, fw_rule_line, r, err), r, ret_rules);
}

static bool fw_prefix_match(uint32_t ip, uint32_t net, uint8_t depth)
{
    uint32_t mask = depth ? 0xffffffffu << (32 - depth) : 0;

    return (ip & mask) == net;
}

int fw_rules_match(const struct fw_rules *r, const struct vnf_pkt *p)
{
    for (unsigned i = 0; i < r->n_rules; i++) {
        const struct fw_rule *x = &r->rules[i];

        if (!x->is_any_proto && x->proto != p->proto)
            continue;
        if (!fw_prefix_match(p->src_ip, x->src_ip, x->src_depth) ||
            !fw_prefix_match(p->dst_ip, x->dst_ip, x->dst_depth))
            continue;
        if (p->sport < x->sport_lo || p->sport > x->sport_hi || p->dport < x->dport_lo ||
            p->dport > x->dport_hi)
            continue;
        return (int)i;
    }
    return -1;
}

unsigned fw_flow_owner(const struct vnf_pkt *p, unsigned n_workers)
{
    uint64_t a = (uint64_t)p->src_ip << 16 | p->sport;
    uint64_t b = (uint64_t)p->dst_ip << 16 | p->dport;
    /* Order the two endpoints so both directions hash alike. */
    uint64_t h = (a < b ? a * 31 + b : b * 31 + a) ^ ((uint64_t)p->proto << 56);

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (unsigned)(h % n_workers);
}

void fw_conf_init(struct fw_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->default_action = FW_DROP;
    c->max_flows = FW_DEFAULT_FLOWS;
    vnf_timeouts_default(&c->tmo);
}

static enum nfv_code fw_conf_line(void *opaque, unsigned lineno, unsigned argc, char **argv,
                                  struct nfv_err *err)
{
    struct fw_conf *c = opaque;
    const char *kw = argv[0];

    (void)lineno;
    if (strcmp(kw, "default") == 0) {
        enum fw_action a = argc == 2 ? fw_action_from_string(argv[1]) : FW_ACTION__COUNT;
        if (a == FW_ACTION__COUNT)
            return NFV_ERR(err, NFV_E_PARSE, "'default': expected 'default accept|drop'");
        c->default_action = a;
        return NFV_OK;
    }
    if (strcmp(kw, "stateful") == 0) {
        if (argc != 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
            return NFV_ERR(err, NFV_E_PARSE, "'stateful': expected 'stateful on|off'");
        c->is_stateful = strcmp(argv[1], "on") == 0;
        return NFV_OK;
    }
    if (strcmp(kw, "flows") == 0) {
        if (argc != 2)
            return NFV_ERR(err, NFV_E_PARSE, "'flows': expected 'flows N'");
        return vnf_parse_u32(argv[1], 1, 1u << 30, "flows", &c->max_flows, err);
    }
    if (strcmp(kw, "timeout") == 0)
        return vnf_timeouts_conf(&c->tmo, argc, argv, err);
    return NFV_ERR(err, NFV_E_PARSE,
                   "unknown statement '%s' (expected default, stateful, flows, timeout)", kw);
}

enum nfv_code fw_conf_load(struct fw_conf *c, const char *path, struct nfv_err *err)
{
    return vnf_conf_parse_file(path, fw_conf_line, c, err);
}

enum nfv_code fw_conf_load_text(struct fw_conf *c, const char *name, const char *text,
                                struct nfv_err *err)
{
    return vnf_conf_parse_text(name, text, fw_conf_line, c, err);
}
