/*
 * nat_core.c - vmmgr-nat configuration and mapping decisions (see nat.h).
 */
#include "nat.h"

#include <string.h>

#include "vnf/conf.h"
#include "vnf/pkt.h"

void nat_conf_init(struct nat_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->max_flows = NAT_DEFAULT_FLOWS;
    c->port_lo = 1024;
    c->port_hi = 65535;
    vnf_timeouts_default(&c->tmo);
}

static enum nfv_code nat_add_outside(struct nat_conf *c, const char *s, struct nfv_err *err)
{
    uint32_t ip;
    enum nfv_code rc = vnf_parse_ipv4(s, "outside-ip", &ip, err);

    if (rc != NFV_OK)
        return rc;
    for (unsigned i = 0; i < c->n_outside_ip; i++)
        if (c->outside_ip[i] == ip)
            return NFV_ERR(err, NFV_E_INVAL, "'outside-ip': %s is listed twice", s);
    if (c->n_outside_ip == NAT_MAX_OUTSIDE_IPS)
        return NFV_ERR(err, NFV_E_INVAL, "'outside-ip': more than %d addresses",
                       NAT_MAX_OUTSIDE_IPS);
    c->outside_ip[c->n_outside_ip++] = ip;
    return NFV_OK;
}

static enum nfv_code nat_add_outside_list(struct nat_conf *c, const char *list, struct nfv_err *err)
{
    char buf[VNF_CONF_MAX_LINE];
    char *save = NULL, *tok;
    size_t len = strlen(list);

    if (len >= sizeof(buf) || len == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'outside-ip': bad address list");
    memcpy(buf, list, len + 1);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        enum nfv_code rc = nat_add_outside(c, tok, err);
        if (rc != NFV_OK)
            return rc;
    }
    return NFV_OK;
}

enum nfv_code nat_conf_set_outside_ips(struct nat_conf *c, const char *list, struct nfv_err *err)
{
    c->n_outside_ip = 0;
    return nat_add_outside_list(c, list, err);
}

static enum nfv_code nat_conf_forward(struct nat_conf *c, unsigned lineno, unsigned argc,
                                      char **argv, struct nfv_err *err)
{
    struct nat_fwd f = {.lineno = lineno};
    uint32_t port;
    bool is_any;
    enum nfv_code rc;

    if (argc != 6)
        return NFV_ERR(err, NFV_E_PARSE,
                       "'forward': expected 'forward tcp|udp OUTSIDE_IP OUTSIDE_PORT INSIDE_IP "
                       "INSIDE_PORT'");
    rc = vnf_parse_proto(argv[1], "forward", &f.proto, &is_any, err);
    if (rc != NFV_OK)
        return rc;
    if (is_any || (f.proto != VNF_PROTO_TCP && f.proto != VNF_PROTO_UDP))
        return NFV_ERR(err, NFV_E_INVAL, "'forward': protocol must be tcp or udp, not '%s'",
                       argv[1]);
    if ((rc = vnf_parse_ipv4(argv[2], "forward", &f.out_ip, err)) != NFV_OK ||
        (rc = vnf_parse_u32(argv[3], 1, 65535, "forward", &port, err)) != NFV_OK)
        return rc;
    f.out_port = (uint16_t)port;
    if ((rc = vnf_parse_ipv4(argv[4], "forward", &f.in_ip, err)) != NFV_OK ||
        (rc = vnf_parse_u32(argv[5], 1, 65535, "forward", &port, err)) != NFV_OK)
        return rc;
    f.in_port = (uint16_t)port;
    if (c->n_fwd == NAT_MAX_FORWARDS)
        return NFV_ERR(err, NFV_E_INVAL, "'forward': more than %d forwards", NAT_MAX_FORWARDS);
    c->fwd[c->n_fwd++] = f;
    return NFV_OK;
}

static enum nfv_code nat_conf_line(void *opaque, unsigned lineno, unsigned argc, char **argv,
                                   struct nfv_err *err)
{
    struct nat_conf *c = opaque;
    const char *kw = argv[0];

    if (strcmp(kw, "outside-ip") == 0) {
        if (argc < 2)
            return NFV_ERR(err, NFV_E_PARSE, "'outside-ip': expected one or more addresses");
        for (unsigned i = 1; i < argc; i++) {
            enum nfv_code rc = nat_add_outside_list(c, argv[i], err);
            if (rc != NFV_OK)
                return rc;
        }
        return NFV_OK;
    }
    if (strcmp(kw, "flows") == 0) {
        if (argc != 2)
            return NFV_ERR(err, NFV_E_PARSE, "'flows': expected 'flows N'");
        return vnf_parse_u32(argv[1], 1, 1u << 30, "flows", &c->max_flows, err);
    }
    if (strcmp(kw, "port-range") == 0) {
        uint16_t lo, hi;
        enum nfv_code rc;

        if (argc != 2)
            return NFV_ERR(err, NFV_E_PARSE, "'port-range': expected 'port-range LO-HI'");
        rc = vnf_parse_port_range(argv[1], "port-range", &lo, &hi, err);
        if (rc != NFV_OK)
            return rc;
        if (lo == 0)
            return NFV_ERR(err, NFV_E_INVAL, "'port-range': port 0 cannot be allocated");
        c->port_lo = lo;
        c->port_hi = hi;
        return NFV_OK;
    }
    if (strcmp(kw, "timeout") == 0)
        return vnf_timeouts_conf(&c->tmo, argc, argv, err);
    if (strcmp(kw, "forward") == 0)
        return nat_conf_forward(c, lineno, argc, argv, err);
    return NFV_ERR(err, NFV_E_PARSE,
                   "unknown statement '%s' (expected outside-ip, flows, port-range, timeout, "
                   "forward)",
                   kw);
}

enum nfv_code nat_conf_load(struct nat_conf *c, const char *path, struct nfv_err *err)
{
    return vnf_conf_parse_file(path, nat_conf_line, c, err);
}

enum nfv_code nat_conf_load_text(struct nat_conf *c, const char *name, const char *text,
                                 struct nfv_err *err)
{
    return vnf_conf_parse_text(name, text, nat_conf_line, c, err);
}

static unsigned nat_proto_idx(uint8_t proto)
{
    return proto == VNF_PROTO_TCP ? 0 : 1;
}

enum nfv_code nat_conf_finish(struct nat_conf *c, const char *name, struct nfv_err *err)
{
    char ip_buf[16];

    if (c->n_outside_ip == 0)
        c->outside_ip[c->n_outside_ip++] = NAT_DEFAULT_IP;
    memset(c->fwd_bits, 0, sizeof(c->fwd_bits));
    memset(c->fwd_in_bits, 0, sizeof(c->fwd_in_bits));
    for (unsigned i = 0; i < c->n_fwd; i++) {
        const struct nat_fwd *f = &c->fwd[i];
        bool is_outside = false;

        for (unsigned j = 0; j < c->n_outside_ip; j++)
            is_outside |= c->outside_ip[j] == f->out_ip;
        if (!is_outside)
            return NFV_ERR(err, NFV_E_INVAL, "%s:%u: 'forward': %s is not an outside address", name,
                           f->lineno, vnf_ipv4_format(f->out_ip, ip_buf, sizeof(ip_buf)));
        for (unsigned j = 0; j < i; j++)
            if (c->fwd[j].proto == f->proto && c->fwd[j].out_ip == f->out_ip &&
                c->fwd[j].out_port == f->out_port)
                return NFV_ERR(err, NFV_E_INVAL, "%s:%u: 'forward': %s port %u is forwarded twice",
                               name, f->lineno, vnf_ipv4_format(f->out_ip, ip_buf, sizeof(ip_buf)),
                               f->out_port);
        c->fwd_bits[nat_proto_idx(f->proto)][f->out_port / 64] |= 1ull << (f->out_port % 64);
        c->fwd_in_bits[nat_proto_idx(f->proto)][f->in_port / 64] |= 1ull << (f->in_port % 64);
    }
    /* After the bits: nat_fwd_find_inside() gives the first forward to an endpoint. */
    for (unsigned i = 0; i < c->n_fwd; i++) {
        struct nat_fwd *f = &c->fwd[i];
        f->owner_port = nat_fwd_find_inside(c, f->proto, f->in_ip, f->in_port)->out_port;
    }
    return NFV_OK;
}

uint32_t nat_flow_hash(uint32_t src_ip, uint16_t sport, uint32_t dst_ip, uint16_t dport,
                       uint8_t proto)
{
    /* Murmur3-style finalizer over the folded tuple: cheap and well spread. */
    uint64_t h = ((uint64_t)src_ip << 32 | dst_ip) ^ ((uint64_t)sport << 24 | dport << 8 | proto);

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

unsigned nat_pick_outside(const struct nat_conf *c, uint32_t inside_ip)
{
    if (c->n_outside_ip <= 1)
        return 0;
    return nat_flow_hash(inside_ip, 0, 0, 0, 0) % c->n_outside_ip;
}

/* Lowest port of the range that belongs to @worker, or 0 if none does. */
static uint32_t nat_port_base(const struct nat_conf *c, unsigned worker, unsigned n_workers)
{
    uint32_t lo = c->port_lo;
    uint32_t base = lo + (worker + n_workers - lo % n_workers) % n_workers;

    return base <= c->port_hi ? base : 0;
}

uint16_t nat_port_first(const struct nat_conf *c, uint16_t sport, uint32_t flow_hash,
                        unsigned worker, unsigned n_workers)
{
    uint32_t base = nat_port_base(c, worker, n_workers);

    if (!base)
        return 0;
    if (sport >= c->port_lo && sport <= c->port_hi && sport % n_workers == worker)
        return sport;
    return (uint16_t)(base + (flow_hash % ((c->port_hi - base) / n_workers + 1)) * n_workers);
}

uint16_t nat_port_next(const struct nat_conf *c, uint16_t port, unsigned n_workers)
{
    if ((uint32_t)port + n_workers > c->port_hi)
        return (uint16_t)nat_port_base(c, port % n_workers, n_workers);
    return (uint16_t)(port + n_workers);
}

static uint32_t nat_gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

uint16_t nat_port_candidate(const struct nat_conf *c, uint16_t sport, uint32_t flow_hash,
                            unsigned worker, unsigned n_workers, unsigned attempt)
{
    uint32_t base = nat_port_base(c, worker, n_workers);
    uint16_t first = nat_port_first(c, sport, flow_hash, worker, n_workers);
    uint16_t hashed = nat_port_first(c, 0, flow_hash, worker, n_workers);
    uint32_t count, k, stride;

    if (!base)
        return 0;
    if (attempt == 0)
        return first;
    /* After a preserved port, attempt 1 is the hashed start itself. */
    k = first != hashed ? attempt - 1 : attempt;
    count = (c->port_hi - base) / n_workers + 1;
    if (count == 1)
        return (uint16_t)base;
    /*
     * Double hashing: a per-flow stride coprime with the share size visits every
     * port once per cycle and, unlike a linear walk, does not run along blocks of
     * used ports (preserved source ports of one inside subnet form such blocks).
     */
    stride = 1 + ((flow_hash >> 16) ^ (flow_hash * 0x9e3779b1u)) % (count - 1);
    while (nat_gcd(stride, count) != 1)
        stride = stride % (count - 1) + 1;
    return (uint16_t)(base +
                      (uint32_t)((((uint64_t)hashed - base) / n_workers + (uint64_t)k * stride) %
                                 count) *
                          n_workers);
}

const struct nat_fwd *nat_fwd_find(const struct nat_conf *c, uint8_t proto, uint32_t ip,
                                   uint16_t port)
{
    if (proto != VNF_PROTO_TCP && proto != VNF_PROTO_UDP)
        return NULL;
    if (!(c->fwd_bits[nat_proto_idx(proto)][port / 64] & (1ull << (port % 64))))
        return NULL;
    for (unsigned i = 0; i < c->n_fwd; i++) {
        const struct nat_fwd *f = &c->fwd[i];
        if (f->proto == proto && f->out_ip == ip && f->out_port == port)
            return f;
    }
    return NULL;
}

const struct nat_fwd *nat_fwd_find_inside(const struct nat_conf *c, uint8_t proto, uint32_t ip,
                                          uint16_t port)
{
    if (proto != VNF_PROTO_TCP && proto != VNF_PROTO_UDP)
        return NULL;
    if (!(c->fwd_in_bits[nat_proto_idx(proto)][port / 64] & (1ull << (port % 64))))
        return NULL;
    for (unsigned i = 0; i < c->n_fwd; i++) {
        const struct nat_fwd *f = &c->fwd[i];
        if (f->proto == proto && f->in_ip == ip && f->in_port == port)
            return f;
    }
    return NULL;
}

unsigned nat_owner(const struct nat_conf *c, const struct vnf_pkt *p, unsigned side,
                   unsigned n_workers)
{
    const struct nat_fwd *f;

    if (side == 1) {
        /* Dynamic ports never take a forward's address/port (nat_flow_new_out). */
        f = nat_fwd_find(c, p->proto, p->dst_ip, p->dport);
        return (f ? f->owner_port : p->dport) % n_workers;
    }
    f = nat_fwd_find_inside(c, p->proto, p->src_ip, p->sport);
    if (f)
        return f->owner_port % n_workers;
    return nat_flow_hash(p->src_ip, p->sport, p->dst_ip, p->dport, p->proto) % n_workers;
}

unsigned nat_owner_icmp_error(const struct nat_conf *c, const struct vnf_pkt_inner *in,
                              unsigned side, unsigned n_workers)
{
    struct vnf_pkt rev = {.proto = in->proto,
                          .src_ip = in->dst_ip,
                          .sport = in->dport,
                          .dst_ip = in->src_ip,
                          .dport = in->sport};

    return nat_owner(c, &rev, side, n_workers);
}
