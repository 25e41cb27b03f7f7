/*
 * pktgen_flow.c - flow ranges and their odometer iteration (see pktgen.h).
 *
 * Ranges are parsed here (not in pktgen_main.c) so that the option syntax is
 * covered by the unit tests. Iteration touches only integers: no allocation,
 * a few compares per packet on the TX fast path.
 */
#include "pktgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pktgen_ipv4_parse(const char *s, uint32_t *ret_ip)
{
    uint32_t ip = 0;
    const char *p = s;

    for (int i = 0; i < 4; i++) {
        char *end;
        long v;

        if (*p < '0' || *p > '9')
            return false;
        errno = 0;
        v = strtol(p, &end, 10);
        if (errno != 0 || v < 0 || v > 255 || end - p > 3)
            return false;
        ip = (ip << 8) | (uint32_t)v;
        p = end;
        if (i < 3) {
            if (*p != '.')
                return false;
            p++;
        }
    }
    if (*p != '\0')
        return false;
    *ret_ip = ip;
    return true;
}

static bool port_parse(const char *s, uint32_t *ret_port)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
        return false;
    *ret_port = (uint32_t)v;
    return true;
}

enum nfv_code pktgen_range_parse(const char *s, bool is_ip, const char *what,
                                 struct pktgen_range *ret_range, struct nfv_err *err)
{
    char buf[64];
    const char *dash;
    struct pktgen_range r;
    bool ok;

    if (s == NULL || strlen(s) >= sizeof(buf))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': missing or too long", what);
    memcpy(buf, s, strlen(s) + 1);
    dash = strchr(buf, '-');
    if (dash == NULL) {
        ok = is_ip ? pktgen_ipv4_parse(buf, &r.min) : port_parse(buf, &r.min);
        r.max = r.min;
    } else {
        buf[dash - buf] = '\0';
        ok = is_ip ? pktgen_ipv4_parse(buf, &r.min) && pktgen_ipv4_parse(dash + 1, &r.max)
                   : port_parse(buf, &r.min) && port_parse(dash + 1, &r.max);
    }
    if (!ok)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not %s", what, s,
                       is_ip ? "an IPv4 address or A.B.C.D-E.F.G.H range"
                             : "a port 0..65535 or N-M range");
    if (r.min > r.max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': range '%s' has its start above its end", what, s);
    *ret_range = r;
    return NFV_OK;
}

static uint64_t range_width(const struct pktgen_range *r)
{
    return (uint64_t)r->max - r->min + 1;
}

uint64_t pktgen_flow_spec_count(const struct pktgen_flow_spec *spec)
{
    /* At most 2^32 * 2^32 * 2^16 * 2^16 overflows; saturate instead. */
    uint64_t w[4] = {range_width(&spec->src_ip), range_width(&spec->dst_ip),
                     range_width(&spec->src_port), range_width(&spec->dst_port)};
    uint64_t n = 1;

    for (int i = 0; i < 4; i++) {
        if (n > UINT64_MAX / w[i])
            return UINT64_MAX;
        n *= w[i];
    }
    return n;
}

void pktgen_flow_iter_init(struct pktgen_flow_iter *it, const struct pktgen_flow_spec *spec)
{
    it->spec = *spec;
    it->cur.src_ip = spec->src_ip.min;
    it->cur.dst_ip = spec->dst_ip.min;
    it->cur.src_port = (uint16_t)spec->src_port.min;
    it->cur.dst_port = (uint16_t)spec->dst_port.min;
}

void pktgen_flow_iter_next(struct pktgen_flow_iter *it, struct pktgen_tuple *ret_tuple)
{
    const struct pktgen_flow_spec *sp = &it->spec;
    struct pktgen_tuple *c = &it->cur;

    *ret_tuple = *c;
    /* Odometer: each field wraps to its minimum and carries into the next. */
    if (c->src_port < sp->src_port.max) {
        c->src_port++;
        return;
    }
    c->src_port = (uint16_t)sp->src_port.min;
    if (c->dst_port < sp->dst_port.max) {
        c->dst_port++;
        return;
    }
    c->dst_port = (uint16_t)sp->dst_port.min;
    if (c->src_ip < sp->src_ip.max) {
        c->src_ip++;
        return;
    }
    c->src_ip = sp->src_ip.min;
    if (c->dst_ip < sp->dst_ip.max) {
        c->dst_ip++;
        return;
    }
    c->dst_ip = sp->dst_ip.min;
}
