/*
 * vm_sw.c - the switch port's shared, pure part: VLAN sets, name and VLAN
 * checks, expected-against-actual comparison, and the driver lookup.
 *
 * Drivers (vm_sw_ovsdb.c, vm_sw_fake.c) and the daemon use these; nothing
 * here does I/O. vm_sw_check and vm_sw_repair only call through a driver
 * table.
 */
#include "vm/vm_sw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vm_sw_vlanset_clear(struct vm_sw_vlanset *s)
{
    memset(s, 0, sizeof(*s));
}

void vm_sw_vlanset_add(struct vm_sw_vlanset *s, unsigned vid)
{
    if (vid < 4096)
        s->bits[vid / 64] |= 1ull << (vid % 64);
}

void vm_sw_vlanset_remove(struct vm_sw_vlanset *s, unsigned vid)
{
    if (vid < 4096)
        s->bits[vid / 64] &= ~(1ull << (vid % 64));
}

bool vm_sw_vlanset_has(const struct vm_sw_vlanset *s, unsigned vid)
{
    return vid < 4096 && (s->bits[vid / 64] >> (vid % 64)) & 1;
}

unsigned vm_sw_vlanset_count(const struct vm_sw_vlanset *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < 64; i++)
        n += (unsigned)__builtin_popcountll(s->bits[i]);
    return n;
}

bool vm_sw_vlanset_equal(const struct vm_sw_vlanset *a, const struct vm_sw_vlanset *b)
{
    return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

int vm_sw_vlanset_next(const struct vm_sw_vlanset *s, unsigned from)
{
    for (unsigned w = from / 64; w < 64; w++) {
        uint64_t word = s->bits[w];
        if (w == from / 64)
            word &= ~0ull << (from % 64);
        if (word)
            return (int)(w * 64 + (unsigned)__builtin_ctzll(word));
    }
    return -1;
}

void vm_sw_vlanset_format(const struct vm_sw_vlanset *s, char *buf, size_t buf_size)
{
    size_t len = 0;
    if (buf_size == 0)
        return;
    buf[0] = '\0';
    for (int v = vm_sw_vlanset_next(s, 0); v >= 0;) {
        /* A run v..last prints as "v-last" when it has 3 or more members. */
        int last = v;
        while (last < 4095 && vm_sw_vlanset_has(s, (unsigned)last + 1))
            last++;
        char item[32]; /* ",4094-4095": ints are bounded, but the compiler cannot tell */
        if (last - v >= 2)
            snprintf(item, sizeof(item), "%s%d-%d", len ? "," : "", v, last);
        else if (last > v)
            snprintf(item, sizeof(item), "%s%d,%d", len ? "," : "", v, last);
        else
            snprintf(item, sizeof(item), "%s%d", len ? "," : "", v);
        size_t n = strlen(item);
        if (len + n + 4 > buf_size) {
            if (len + 4 <= buf_size)
                memcpy(buf + len, "...", 4);
            return;
        }
        memcpy(buf + len, item, n + 1);
        len += n;
        v = last >= 4095 ? -1 : vm_sw_vlanset_next(s, (unsigned)last + 1);
    }
}

enum nfv_code vm_sw_vlan_check(long long vid, const char *field, struct nfv_err *err)
{
    if (vid < VM_SW_VLAN_MIN || vid > VM_SW_VLAN_MAX)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %lld is not a VLAN id (%d..%d)", field, vid,
                       VM_SW_VLAN_MIN, VM_SW_VLAN_MAX);
    return NFV_OK;
}

enum nfv_code vm_sw_trunk_vlans_check(const struct vm_sw_vlanset *vlans, struct nfv_err *err)
{
    if (!vlans || vm_sw_vlanset_count(vlans) == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'vlans': a trunk needs at least one VLAN");
    if (vm_sw_vlanset_has(vlans, 0))
        return vm_sw_vlan_check(0, "vlans", err);
    if (vm_sw_vlanset_has(vlans, 4095))
        return vm_sw_vlan_check(4095, "vlans", err);
    return NFV_OK;
}

/* One decimal number of @text at *pos (optionally signed, so "-1" is
 * reported as -1 rather than as a syntax error). */
static bool vm_sw_parse_num(const char *text, size_t *pos, long long *ret)
{
    const char *p = text + *pos;
    char *end;
    if (!(*p == '-' || (*p >= '0' && *p <= '9')))
        return false;
    long long v = strtoll(p, &end, 10);
    if (end == p || (*p == '-' && end == p + 1))
        return false;
    *pos += (size_t)(end - p);
    *ret = v;
    return true;
}

enum nfv_code vm_sw_vlanset_parse(const char *text, const char *field, struct vm_sw_vlanset *ret,
                                  struct nfv_err *err)
{
    struct vm_sw_vlanset s;
    size_t pos = 0;
    vm_sw_vlanset_clear(&s);
    while (text[pos]) {
        long long lo, hi;
        enum nfv_code rc;
        if (!vm_sw_parse_num(text, &pos, &lo))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': expected a VLAN id at \"%.16s\"", field,
                           text + pos);
        hi = lo;
        if (text[pos] == '-' && text[pos + 1] >= '0' && text[pos + 1] <= '9') {
            pos++;
            if (!vm_sw_parse_num(text, &pos, &hi))
                return NFV_ERR(err, NFV_E_INVAL, "'%s': bad range end", field);
        }
        if ((rc = vm_sw_vlan_check(lo, field, err)) || (rc = vm_sw_vlan_check(hi, field, err)))
            return rc;
        if (hi < lo)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': range %lld-%lld is reversed", field, lo, hi);
        for (long long v = lo; v <= hi; v++)
            vm_sw_vlanset_add(&s, (unsigned)v);
        if (text[pos] == ',')
            pos++;
        else if (text[pos])
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected \"%.16s\"", field, text + pos);
    }
    *ret = s;
    return NFV_OK;
}

enum nfv_code vm_sw_name_check(const char *name, const char *what, struct nfv_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 15)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': name must be 1..15 characters", what);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'%s': name '%s' may hold only letters, digits, '-', '_' and '.'", what,
                           name);
    }
    return NFV_OK;
}

enum nfv_code vm_sw_port_name_check(const char *bridge, const char *port, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    if (rc == NFV_OK)
        rc = vm_sw_name_check(port, "port", err);
    if (rc == NFV_OK && strcmp(bridge, port) == 0)
        rc = NFV_ERR(err, NFV_E_INVAL, "'port': '%s' is the bridge's own internal port", port);
    return rc;
}

enum nfv_code vm_sw_trunks_check(const char *bridge, const struct vm_sw_expect *ports,
                                 size_t n_ports, struct nfv_err *err)
{
    enum nfv_code rc = vm_sw_name_check(bridge, "bridge", err);
    if (rc == NFV_OK && n_ports == 0)
        rc = NFV_ERR(err, NFV_E_INVAL, "'ports': no port given");
    for (size_t i = 0; rc == NFV_OK && i < n_ports; i++) {
        if ((rc = vm_sw_port_name_check(bridge, ports[i].port, err)) == NFV_OK &&
            (rc = vm_sw_trunk_vlans_check(&ports[i].vlans, err)) != NFV_OK)
            nfv_err_prefix(err, "port '%s'", ports[i].port);
        for (size_t k = 0; rc == NFV_OK && k < i; k++)
            if (strcmp(ports[k].port, ports[i].port) == 0)
                rc = NFV_ERR(err, NFV_E_INVAL, "'ports': port '%s' is given twice", ports[i].port);
    }
    return rc;
}

static void vm_sw_state_fill(struct vm_sw_port_state *st, const struct vm_sw_expect *e,
                             const struct vm_sw_port_info *a)
{
    memset(st, 0, sizeof(*st));
    st->tag = -1;
    const char *name = e ? e->port : a->name;
    snprintf(st->port, sizeof(st->port), "%s", name ? name : "");
    if (e) {
        st->is_expected = true;
        st->expected = e->vlans;
    }
    if (a) {
        st->is_present = true;
        st->actual = a->trunks;
        st->tag = a->tag;
    }
    if (!e)
        return;
    for (size_t i = 0; i < 64; i++) {
        st->missing.bits[i] = st->expected.bits[i] & ~st->actual.bits[i];
        st->extra.bits[i] = st->actual.bits[i] & ~st->expected.bits[i];
    }
    st->is_drift = !st->is_present || vm_sw_vlanset_count(&st->missing) ||
                   vm_sw_vlanset_count(&st->extra) || st->tag >= 0;
}

enum nfv_code vm_sw_compare(const struct vm_sw_expect *exp, size_t n_exp,
                            const struct vm_sw_port_info *actual, size_t n_actual,
                            struct vm_sw_port_state **ret, size_t *ret_n, struct nfv_err *err)
{
    struct vm_sw_port_state *out = calloc(n_exp + n_actual + 1, sizeof(*out));
    size_t n = 0;
    if (!out)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory comparing switch ports");
    /* Quadratic in ports, but only where n_exp * n_actual stays small
     * (one bridge, one trunk per host); a sorted merge is not worth it yet. */
    for (size_t i = 0; i < n_exp; i++) {
        const struct vm_sw_port_info *a = NULL;
        for (size_t j = 0; j < n_actual && !a; j++)
            if (strcmp(actual[j].name, exp[i].port) == 0)
                a = &actual[j];
        vm_sw_state_fill(&out[n++], &exp[i], a);
    }
    for (size_t j = 0; j < n_actual; j++) {
        bool is_known = false;
        for (size_t i = 0; i < n_exp && !is_known; i++)
            is_known = strcmp(actual[j].name, exp[i].port) == 0;
        if (!is_known)
            vm_sw_state_fill(&out[n++], NULL, &actual[j]);
    }
    *ret = out;
    *ret_n = n;
    return NFV_OK;
}

struct vm_sw_collect {
    struct vm_sw_port_info *ports;
    size_t n, cap;
    bool is_nomem;
};

static int vm_sw_collect_cb(void *opaque, const struct vm_sw_port_info *port)
{
    struct vm_sw_collect *c = opaque;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct vm_sw_port_info *p = realloc(c->ports, cap * sizeof(*p));
        if (!p) {
            c->is_nomem = true;
            return 1;
        }
        c->ports = p;
        c->cap = cap;
    }
    c->ports[c->n++] = *port;
    return 0;
}

enum nfv_code vm_sw_check(const struct vm_sw_driver *drv, struct vm_sw_conn *conn,
                          const char *bridge, const struct vm_sw_expect *exp, size_t n_exp,
                          struct vm_sw_port_state **ret, size_t *ret_n, struct nfv_err *err)
{
    struct vm_sw_collect c = {0};
    enum nfv_code rc = drv->port_list(conn, bridge, vm_sw_collect_cb, &c, err);
    if (rc == NFV_OK && c.is_nomem)
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory listing bridge '%s'", bridge);
    if (rc == NFV_OK)
        rc = vm_sw_compare(exp, n_exp, c.ports, c.n, ret, ret_n, err);
    free(c.ports);
    return rc;
}

enum nfv_code vm_sw_repair(const struct vm_sw_driver *drv, struct vm_sw_conn *conn,
                           const char *bridge, const struct vm_sw_expect *exp, size_t n_exp,
                           unsigned *ret_n_repaired, struct nfv_err *err)
{
    unsigned n = 0;
    enum nfv_code rc = n_exp ? drv->trunks_ensure(conn, bridge, exp, n_exp, &n, err) : NFV_OK;
    if (rc == NFV_OK && ret_n_repaired)
        *ret_n_repaired = n;
    return rc;
}

const struct vm_sw_driver *vm_sw_driver_for(const char *target)
{
    if (!target)
        return NULL;
    if (strncmp(target, "unix:", 5) == 0 || strncmp(target, "tcp:", 4) == 0)
        return &vm_sw_ovsdb;
    if (strncmp(target, "fake:", 5) == 0)
        return &vm_sw_fake;
    return NULL;
}
