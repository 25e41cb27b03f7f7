/*
 * plc_json.c - cluster and request files, and JSON views of results.
 *
 * The adapter between files and the pure core: it reads a JSON document
 * with jansson, walks it with a path buffer so that every error names the
 * file and the JSON path ("$.hosts[2].topology"), and builds the cluster
 * through the plc_cluster_* API, so the model's invariants are checked in
 * one place. Topologies are synthetic strings in hwloc's syntax
 * ("package:2 numa:1 core:32 pu:2") or hwloc XML files, both loaded through
 * pinning's hwloc adapter (pin_hwloc: hwloc's parser is the only one) and
 * turned into a host by placement's bridge (plc/bridge.h), exactly as vmmgrd
 * turns its hosts; or an explicit node list. This file is an adapter
 * (files, jansson, hwloc through pin_hwloc); the pure core it feeds
 * (plc_core, plc_pin) never sees them. The format is documented in
 * docs/cluster-file.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pin/alloc.h"
#include "pin/cpuset.h"
#include "pin/pin_hwloc.h"
#include "pin/pools.h"
#include "pin/topo.h"
#include "plc/bridge.h"
#include "plc/json.h"

/* ---- error helpers: "file: $.path: reason" ---- */

#define PLC_JSON_TOPO_CACHE 16 /* distinct synthetic topologies kept per file */

struct jctx {
    const char *file;
    char path[256];
    struct nfv_err *err;
    struct pin_topo **topos; /* per host, its topology (NULL: a host given by 'nodes') */
    size_t n_topos;
    /* Synthetic topologies loaded so far, by their hwloc description. */
    size_t n_cache;
    struct pin_topo *cache[PLC_JSON_TOPO_CACHE];
    char cache_desc[PLC_JSON_TOPO_CACHE][512];
};

static enum nfv_code jfail(struct jctx *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum nfv_code jfail(struct jctx *j, const char *fmt, ...)
{
    char reason[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return NFV_ERR(j->err, NFV_E_INVAL, "%s: %s: %s", j->file, j->path, reason);
}

/* Pushes ".key" or "[i]" onto the path; returns the old length to pop to. */
static size_t jpush_key(struct jctx *j, const char *key)
{
    size_t n = strlen(j->path);
    snprintf(j->path + n, sizeof(j->path) - n, ".%s", key);
    return n;
}
static size_t jpush_idx(struct jctx *j, size_t i)
{
    size_t n = strlen(j->path);
    snprintf(j->path + n, sizeof(j->path) - n, "[%zu]", i);
    return n;
}
static void jpop(struct jctx *j, size_t n)
{
    j->path[n] = '\0';
}

/* Checks that @obj has only keys from @allowed (NULL-terminated). */
static enum nfv_code jkeys(struct jctx *j, const json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        const char *const *a;
        for (a = allowed; *a; a++)
            if (strcmp(*a, k) == 0)
                break;
        if (!*a) {
            size_t n = jpush_key(j, k);
            enum nfv_code rc = jfail(j, "unknown key");
            jpop(j, n);
            return rc;
        }
    }
    return NFV_OK;
}

static enum nfv_code jstr(struct jctx *j, const json_t *obj, const char *key, bool required,
                          const char **ret)
{
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v) {
        if (!required)
            return NFV_OK;
        size_t n = jpush_key(j, key);
        enum nfv_code rc = jfail(j, "missing");
        jpop(j, n);
        return rc;
    }
    if (!json_is_string(v) || !*json_string_value(v)) {
        size_t n = jpush_key(j, key);
        enum nfv_code rc = jfail(j, "must be a non-empty string");
        jpop(j, n);
        return rc;
    }
    *ret = json_string_value(v);
    return NFV_OK;
}

static enum nfv_code juint(struct jctx *j, const json_t *obj, const char *key, uint64_t max,
                           uint64_t dflt, uint64_t *ret)
{
    json_t *v = json_object_get(obj, key);
    *ret = dflt;
    if (!v)
        return NFV_OK;
    size_t n = jpush_key(j, key);
    enum nfv_code rc = NFV_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        rc = jfail(j, "must be a non-negative integer");
    else if ((uint64_t)json_integer_value(v) > max)
        rc = jfail(j, "%lld is more than %llu", (long long)json_integer_value(v),
                   (unsigned long long)max);
    else
        *ret = (uint64_t)json_integer_value(v);
    jpop(j, n);
    return rc;
}

static enum nfv_code jbool(struct jctx *j, const json_t *obj, const char *key, bool *ret)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return NFV_OK;
    if (!json_is_boolean(v)) {
        size_t n = jpush_key(j, key);
        enum nfv_code rc = jfail(j, "must be true or false");
        jpop(j, n);
        return rc;
    }
    *ret = json_is_true(v);
    return NFV_OK;
}

static enum nfv_code load_file(const char *path, json_t **ret, struct nfv_err *err)
{
    json_error_t je;
    FILE *f = fopen(path, "r");
    if (!f)
        return NFV_ERR_ERRNO(err, errno == ENOENT ? NFV_E_INVAL : NFV_E_IO, errno,
                             "%s: cannot open: %s", path, strerror(errno));
    *ret = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!*ret)
        return NFV_ERR(err, NFV_E_INVAL, "%s:%d:%d: $: not valid JSON: %s", path, je.line,
                       je.column, je.text);
    return NFV_OK;
}

/* ---- topology ---- */

/* a * b, saturated at 2^32: level counts multiply, and no product may wrap
 * around into a small, valid-looking count (4096^6 is 2^72). */
static unsigned long mul_sat(unsigned long a, unsigned long b)
{
    return a > (1UL << 32) / b ? 1UL << 32 : a * b;
}

/*
 * Prepares a synthetic topology string for hwloc, whose parser is the only
 * one (issue 9): this checks the cluster file's limits before hwloc
 * allocates anything (4096^6 objects must not be built to be refused), and
 * applies the two documented defaults hwloc does not share - one NUMA node
 * per package when there is no numa level (hwloc would put the whole
 * machine on one node) and one PU per core when there is no pu level. Which
 * PU sits in which core and node is hwloc's business.
 */
static enum nfv_code synthetic_for_hwloc(struct jctx *j, const char *s, char *out, size_t size)
{
    enum { L_ABOVE, L_NUMA, L_CACHE, L_CORE, L_PU };
    char buf[256], *save = NULL, *tok, *toks[32];
    unsigned long counts[32], nodes = 1, pus = 1;
    size_t n = 0, len = 0, numa_at = 0, numa_last = 0;
    bool seen_numa = false, seen_core = false, seen_pu = false;

    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *colon = strchr(tok, ':'), *end;
        int kind;
        if (!colon)
            return jfail(j, "'%s': expected type:count", tok);
        *colon = '\0';
        unsigned long c = strtoul(colon + 1, &end, 10);
        if (*end || c == 0 || c > 4096)
            return jfail(j, "'%s:%s': count must be 1..4096", tok, colon + 1);
        if (!strcasecmp(tok, "numa") || !strcasecmp(tok, "node") || !strcasecmp(tok, "numanode"))
            kind = L_NUMA;
        else if (!strcasecmp(tok, "core"))
            kind = L_CORE;
        else if (!strcasecmp(tok, "pu"))
            kind = L_PU;
        else if (!strcasecmp(tok, "package") || !strcasecmp(tok, "socket") ||
                 !strcasecmp(tok, "machine") || !strcasecmp(tok, "group"))
            kind = L_ABOVE;
        else if (!strncasecmp(tok, "l", 1) || !strcasecmp(tok, "die"))
            kind = L_CACHE;
        else
            return jfail(j, "'%s': unknown level (package, numa, l3, core, pu)", tok);
        if (kind == L_PU && c > PIN_MAX_SMT)
            return jfail(j, "'pu:%lu': at most %d threads per core", c, PIN_MAX_SMT);
        if (n == sizeof(toks) / sizeof(toks[0]))
            return jfail(j, "too many levels");
        if (kind == L_ABOVE && !seen_numa)
            numa_at = n + 1; /* a default numa level goes below the packages */
        if (kind == L_NUMA)
            numa_last = n;
        seen_numa |= kind == L_NUMA;
        seen_core |= kind == L_CORE;
        seen_pu |= kind == L_PU;
        toks[n] = tok;
        counts[n++] = c;
    }
    if (!seen_core)
        return jfail(j, "needs a 'core:N' level");
    /* Nodes = the product of the levels down to the numa level. */
    for (size_t i = 0; i < n; i++) {
        if (!seen_numa && i == numa_at)
            len += (size_t)snprintf(out + len, size > len ? size - len : 0, "%snuma:1",
                                    len ? " " : "");
        len += (size_t)snprintf(out + len, size > len ? size - len : 0, "%s%s:%lu", len ? " " : "",
                                toks[i], counts[i]);
        if (seen_numa ? i <= numa_last : i < numa_at)
            nodes = mul_sat(nodes, counts[i]);
        pus = mul_sat(pus, counts[i]);
    }
    if (!seen_pu)
        snprintf(out + len, size > len ? size - len : 0, " pu:1");
    if (nodes > PLC_MAX_NODES)
        return jfail(j, "%lu NUMA nodes (at most %d)", nodes, PLC_MAX_NODES);
    if (pus > PIN_MAX_PUS)
        return jfail(j, "%lu PUs (at most %d per host)", pus, PIN_MAX_PUS);
    return NFV_OK;
}

/* Checks that the placement model can mirror hwloc topology @t (loaded from
 * @what); takes @t's reference on failure. */
static enum nfv_code check_topo(struct jctx *j, const char *what, struct pin_topo *t)
{
    enum nfv_code rc = NFV_OK;

    if (t->n_nodes == 0 || t->n_nodes > PLC_MAX_NODES)
        rc = jfail(j, "'%s': %u NUMA nodes (1..%d supported)", what, t->n_nodes, PLC_MAX_NODES);
    /* The model numbers cores node by node; pinning orders them by
     * (package, node, first PU). They agree when nodes never interleave. */
    for (unsigned k = 1; !rc && k < t->n_cores; k++)
        if (t->cores[k].node < t->cores[k - 1].node)
            rc = jfail(j, "'%s': cores of NUMA nodes interleave; not supported", what);
    for (unsigned n = 0; !rc && n < t->n_nodes; n++)
        if (t->nodes[n].n_cores > PLC_NODE_WORDS * 64)
            rc = jfail(j, "'%s': node %u has %u cores (at most %d)", what, n, t->nodes[n].n_cores,
                       PLC_NODE_WORDS * 64);
    if (rc)
        pin_topo_unref(t);
    return rc;
}

/* Loads a synthetic topology through pinning's hwloc adapter. Identical
 * strings share one topology (a cluster of 10,000 hosts of three models
 * loads three). */
static enum nfv_code load_synthetic_topo(struct jctx *j, const char *spec, struct pin_topo **ret)
{
    char desc[512];
    struct nfv_err e2;
    struct pin_topo *t = NULL;
    enum nfv_code rc;

    if ((rc = synthetic_for_hwloc(j, spec, desc, sizeof(desc))))
        return rc;
    for (size_t i = 0; i < j->n_cache; i++)
        if (strcmp(j->cache_desc[i], desc) == 0) {
            *ret = pin_topo_ref(j->cache[i]);
            return NFV_OK;
        }
    if (pin_hwloc_load_synthetic(desc, &t, &e2) != NFV_OK)
        return jfail(j, "'%s': %s", spec, e2.msg);
    if ((rc = check_topo(j, spec, t)))
        return rc;
    if (j->n_cache < PLC_JSON_TOPO_CACHE) {
        snprintf(j->cache_desc[j->n_cache], sizeof(j->cache_desc[0]), "%s", desc);
        j->cache[j->n_cache++] = pin_topo_ref(t);
    }
    *ret = t;
    return NFV_OK;
}

/* Loads "xml:PATH" or "PATH.xml" (relative to the cluster file) through
 * pinning's hwloc adapter and checks the model can mirror it. */
static enum nfv_code load_xml_topo(struct jctx *j, const char *spec, struct pin_topo **ret)
{
    const char *p = strncmp(spec, "xml:", 4) == 0 ? spec + 4 : spec;
    char full[1024];
    struct nfv_err e2;
    struct pin_topo *t = NULL;
    const char *slash = strrchr(j->file, '/');

    if (p[0] != '/' && slash)
        snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - j->file), j->file, p);
    else
        snprintf(full, sizeof(full), "%s", p);
    if (pin_hwloc_load_xml(full, &t, &e2) != NFV_OK)
        return jfail(j, "%s", e2.msg);
    if (check_topo(j, full, t))
        return NFV_E_INVAL;
    *ret = t;
    return NFV_OK;
}

/* The placement shape of topology @t, through the bridge vmmgrd uses
 * (every PU dedicated here: the file's 'reserved_cores' say what is kept). */
static enum nfv_code bridge_spec(struct jctx *j, struct pin_topo *t, const char *name,
                                 struct plc_bridge_host *ret)
{
    struct pin_pools pools;
    struct pin_alloc *a = NULL;
    struct nfv_err e2;
    enum nfv_code rc;

    pin_cpuset_zero(&pools.reserved);
    pin_cpuset_zero(&pools.shared);
    pools.dedicated = t->all;
    if ((rc = pin_alloc_new(t, &pools, &a, &e2)) ||
        (rc = plc_bridge_host_spec(a, name, PLC_HOST_UP, 0, ret, &e2)))
        rc = rc == NFV_E_NOMEM ? NFV_ERR(j->err, rc, "out of memory") : jfail(j, "%s", e2.msg);
    pin_alloc_free(a);
    return rc;
}

static const char *const host_keys[] = {
    "name",   "state",        "topology", "nodes",          "memory_mib",       "hugepages_mib",
    "labels", "capabilities", "nic_numa", "reserved_cores", "threads_per_core", NULL};

/* Loads host @h into @c; *ret_topo is its topology (owned by the caller
 * until it is handed to j->topos, then NULL), so every early error return
 * leaves it to load_host() to drop. */
static enum nfv_code load_host_into(struct jctx *j, struct plc_cluster *c, const json_t *h,
                                    struct pin_topo **ret_topo)
{
    struct plc_host_spec sp;
    const char *name, *state = NULL, *topo = NULL, *reserved = NULL;
    const char *caps[PLC_MAX_CAPS];
    char capbuf[PLC_MAX_CAPS][128];
    uint64_t mem, hp, tpc;
    struct pin_cpuset rs;
    enum nfv_code rc;
    unsigned n_nodes = 0;
    bool is_xml = false;

    memset(&sp, 0, sizeof(sp));
    if (!json_is_object(h))
        return jfail(j, "must be an object");
    if ((rc = jkeys(j, h, host_keys)) || (rc = jstr(j, h, "name", true, &name)) ||
        (rc = jstr(j, h, "state", false, &state)) ||
        (rc = juint(j, h, "memory_mib", UINT32_MAX, 0, &mem)) ||
        (rc = juint(j, h, "hugepages_mib", UINT32_MAX, 0, &hp)) ||
        (rc = juint(j, h, "threads_per_core", 8, 1, &tpc)) ||
        (rc = jstr(j, h, "reserved_cores", false, &reserved)))
        return rc;
    sp.name = name;
    sp.state = PLC_HOST_UP;
    if (state && (sp.state = plc_host_state_from_string(state)) == PLC_HOST__COUNT) {
        size_t n = jpush_key(j, "state");
        rc = jfail(j, "'%s': expected up, maintenance or down", state);
        jpop(j, n);
        return rc;
    }
    json_t *tv = json_object_get(h, "topology"), *nv = json_object_get(h, "nodes");
    if (!!tv == !!nv)
        return jfail(j, "needs exactly one of 'topology' (synthetic string) or 'nodes'");
    if (tv) {
        size_t n = jpush_key(j, "topology");
        if (!json_is_string(tv)) {
            rc = jfail(j, "must be a synthetic topology string such as "
                          "\"package:2 core:32 pu:2\"");
        } else {
            topo = json_string_value(tv);
            size_t tl = strlen(topo);
            is_xml =
                strncmp(topo, "xml:", 4) == 0 || (tl > 4 && strcmp(topo + tl - 4, ".xml") == 0);
            rc = is_xml ? load_xml_topo(j, topo, ret_topo) : load_synthetic_topo(j, topo, ret_topo);
        }
        jpop(j, n);
        if (rc)
            return rc;
        const struct pin_topo *host_topo = *ret_topo;
        /* Nodes, cores, threads and NIC nodes through the bridge, as vmmgrd
         * sees a host; memory from the file when given (always for synthetic
         * topologies, which know none), else from the XML topology. */
        struct plc_bridge_host bh;
        if ((rc = bridge_spec(j, *ret_topo, name, &bh)))
            return rc;
        n_nodes = bh.spec.n_nodes;
        sp.nic_nodes = bh.spec.nic_nodes;
        sp.n_nodes = (uint8_t)n_nodes;
        for (unsigned i = 0; i < n_nodes; i++) {
            const struct pin_node_info *ni = &host_topo->nodes[i];
            uint64_t hp_kib = 0;
            sp.cores_per_node[i] = bh.spec.cores_per_node[i];
            for (unsigned k = 0; k < ni->n_hp; k++)
                hp_kib += ni->hp[k].size_kib * ni->hp[k].n_total;
            sp.mem_mib_per_node[i] = json_object_get(h, "memory_mib") || !is_xml
                                         ? (uint32_t)(mem / n_nodes + (i < mem % n_nodes))
                                         : bh.spec.mem_mib_per_node[i];
            sp.hp_mib_per_node[i] = json_object_get(h, "hugepages_mib") || !is_xml
                                        ? (uint32_t)(hp / n_nodes + (i < hp % n_nodes))
                                        : (uint32_t)(hp_kib / 1024);
        }
        sp.threads_per_core = bh.spec.threads_per_core;
    } else {
        size_t n = jpush_key(j, "nodes");
        if (!json_is_array(nv) || json_array_size(nv) == 0 || json_array_size(nv) > PLC_MAX_NODES) {
            rc = jfail(j, "must be an array of 1..%d nodes", PLC_MAX_NODES);
            jpop(j, n);
            return rc;
        }
        sp.n_nodes = (uint8_t)json_array_size(nv);
        for (size_t i = 0; i < json_array_size(nv); i++) {
            const json_t *nd = json_array_get(nv, i);
            static const char *const node_keys[] = {"cores", "memory_mib", "hugepages_mib", NULL};
            uint64_t nc, nm, nh;
            size_t m = jpush_idx(j, i);
            if (!json_is_object(nd))
                rc = jfail(j, "must be an object");
            else if (!(rc = jkeys(j, nd, node_keys)) &&
                     !(rc = juint(j, nd, "cores", PLC_NODE_WORDS * 64, 0, &nc)) &&
                     !(rc = juint(j, nd, "memory_mib", UINT32_MAX, 0, &nm)) &&
                     !(rc = juint(j, nd, "hugepages_mib", UINT32_MAX, 0, &nh))) {
                if (nc == 0)
                    rc = jfail(j, "'cores': must be 1..%d", PLC_NODE_WORDS * 64);
                sp.cores_per_node[i] = (uint16_t)nc;
                sp.mem_mib_per_node[i] = (uint32_t)nm;
                sp.hp_mib_per_node[i] = (uint32_t)nh;
            }
            jpop(j, m);
            if (rc) {
                jpop(j, n);
                return rc;
            }
        }
        jpop(j, n);
        sp.threads_per_core = (uint8_t)tpc;
    }
    /* labels */
    json_t *lv = json_object_get(h, "labels");
    if (lv) {
        static const char *const label_keys[] = {"rack", "zone", "power", NULL};
        size_t n = jpush_key(j, "labels");
        if (!json_is_object(lv))
            rc = jfail(j, "must be an object of rack/zone/power names");
        else if (!(rc = jkeys(j, lv, label_keys)) &&
                 !(rc = jstr(j, lv, "rack", false, &sp.labels[PLC_SCOPE_RACK])) &&
                 !(rc = jstr(j, lv, "zone", false, &sp.labels[PLC_SCOPE_ZONE])))
            rc = jstr(j, lv, "power", false, &sp.labels[PLC_SCOPE_POWER]);
        jpop(j, n);
        if (rc)
            return rc;
    }
    /* capabilities: {"key": "value"} -> "key=value" */
    json_t *cv = json_object_get(h, "capabilities");
    if (cv) {
        size_t n = jpush_key(j, "capabilities");
        const char *k;
        json_t *v;
        if (!json_is_object(cv)) {
            rc = jfail(j, "must be an object of key: value strings");
        } else {
            json_object_foreach(cv, k, v)
            {
                if (!json_is_string(v)) {
                    size_t m = jpush_key(j, k);
                    rc = jfail(j, "must be a string");
                    jpop(j, m);
                    break;
                }
                if (sp.n_caps == PLC_MAX_CAPS) {
                    rc = jfail(j, "more than %d capabilities", PLC_MAX_CAPS);
                    break;
                }
                snprintf(capbuf[sp.n_caps], sizeof(capbuf[0]), "%s=%s", k, json_string_value(v));
                caps[sp.n_caps] = capbuf[sp.n_caps];
                sp.n_caps++;
            }
        }
        jpop(j, n);
        if (rc)
            return rc;
        sp.caps = caps;
    }
    /* NIC locality */
    json_t *nn = json_object_get(h, "nic_numa");
    if (nn) {
        size_t n = jpush_key(j, "nic_numa");
        if (!json_is_array(nn))
            rc = jfail(j, "must be an array of node numbers");
        for (size_t i = 0; !rc && i < json_array_size(nn); i++) {
            json_t *x = json_array_get(nn, i);
            if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                json_integer_value(x) >= sp.n_nodes)
                rc = jfail(j, "[%zu]: must be a node number 0..%u", i, sp.n_nodes - 1u);
            else
                sp.nic_nodes |= (uint8_t)(1u << json_integer_value(x));
        }
        jpop(j, n);
        if (rc)
            return rc;
    }
    if (reserved) {
        unsigned total = 0;
        for (unsigned i = 0; i < sp.n_nodes; i++)
            total += sp.cores_per_node[i];
        struct nfv_err e2;
        if (pin_cpuset_parse(reserved, total, true, &rs, &e2) != NFV_OK) {
            size_t n = jpush_key(j, "reserved_cores");
            rc = jfail(j, "%s", e2.msg);
            jpop(j, n);
            return rc;
        }
        sp.reserved_cores = rs.w;
        sp.n_reserved_words = PIN_CPUSET_WORDS;
    }
    uint32_t hi = PLC_NONE;
    rc = plc_cluster_add_host(c, &sp, &hi, j->err);
    if (rc) {
        nfv_err_prefix(j->err, "%s: %s", j->file, j->path);
        return rc == NFV_E_NOMEM ? rc : NFV_E_INVAL;
    }
    if (j->topos && hi < j->n_topos) {
        j->topos[hi] = *ret_topo;
        *ret_topo = NULL;
    }
    return NFV_OK;
}

static enum nfv_code load_host(struct jctx *j, struct plc_cluster *c, const json_t *h)
{
    struct pin_topo *topo = NULL;
    enum nfv_code rc = load_host_into(j, c, h, &topo);

    pin_topo_unref(topo);
    return rc;
}

static const char *const vm_keys[] = {"name",     "role",       "host",       "group",
                                      "vcpus",    "exclusive",  "shared",     "shared_cores",
                                      "numbered", "numa_nodes", "memory_mib", "hugepages_mib",
                                      "requires", "nic_local",  "cores",      NULL};

/* Parses a VM's demand (shared by cluster VMs and requests). */
static enum nfv_code load_demand(struct jctx *j, const struct plc_cluster *c, const json_t *v,
                                 struct plc_demand *d)
{
    uint64_t vcpus, excl, shared, shared_cores, numa, mem, hp;
    const char *numbered = NULL;
    bool nic_local = false;
    enum nfv_code rc;

    memset(d, 0, sizeof(*d));
    if ((rc = juint(j, v, "vcpus", 4096, 0, &vcpus)) ||
        (rc = juint(j, v, "exclusive", 4096, 0, &excl)) ||
        (rc = juint(j, v, "shared", 4096, 0, &shared)) ||
        (rc = juint(j, v, "shared_cores", 256, 1, &shared_cores)) ||
        (rc = juint(j, v, "numa_nodes", PLC_MAX_VM_NODES, 1, &numa)) ||
        (rc = juint(j, v, "memory_mib", UINT32_MAX, 0, &mem)) ||
        (rc = juint(j, v, "hugepages_mib", UINT32_MAX, 0, &hp)) ||
        (rc = jstr(j, v, "numbered", false, &numbered)) ||
        (rc = jbool(j, v, "nic_local", &nic_local)))
        return rc;
    if (numbered) {
        struct pin_cpuset s;
        struct nfv_err e2;
        size_t n = jpush_key(j, "numbered");
        if (pin_cpuset_parse(numbered, PLC_MAX_NODES * PLC_NODE_WORDS * 64, false, &s, &e2)) {
            rc = jfail(j, "%s", e2.msg);
        } else if (pin_cpuset_count(&s) > PLC_MAX_NUMBERED) {
            rc = jfail(j, "more than %d numbered cores", PLC_MAX_NUMBERED);
        } else {
            for (int i = pin_cpuset_first(&s); i >= 0; i = pin_cpuset_next(&s, (unsigned)i + 1))
                d->numbered[d->n_numbered++] = (uint16_t)i;
        }
        jpop(j, n);
        if (rc)
            return rc;
    }
    if (!json_object_get(v, "exclusive") && !json_object_get(v, "shared") && !numbered)
        excl = vcpus; /* plain "vcpus": every vCPU exclusive */
    if (shared == 0)
        shared_cores = 0;
    else if (shared_cores > shared)
        return jfail(j, "'shared_cores': %llu cores for %llu shared vCPUs",
                     (unsigned long long)shared_cores, (unsigned long long)shared);
    uint64_t total_vcpus = excl + shared + d->n_numbered;
    if (json_object_get(v, "vcpus") && vcpus != total_vcpus)
        return jfail(j, "'vcpus': %llu, but exclusive + shared + numbered = %llu",
                     (unsigned long long)vcpus, (unsigned long long)total_vcpus);
    if (total_vcpus == 0)
        return jfail(j, "needs 'vcpus' (or 'exclusive'/'shared'/'numbered')");
    d->n_vcpus = (uint16_t)total_vcpus;
    d->n_shared_vcpus = (uint16_t)shared;
    d->n_shared_cores = (uint16_t)shared_cores;
    d->n_cores = (uint16_t)(excl + shared_cores + d->n_numbered);
    d->numa_nodes = (uint8_t)numa;
    d->mem_mib = (uint32_t)mem;
    d->hp_mib = (uint32_t)hp;
    d->is_nic_local = nic_local;
    json_t *rq = json_object_get(v, "requires");
    if (rq) {
        size_t n = jpush_key(j, "requires");
        const char *k;
        json_t *x;
        if (!json_is_object(rq)) {
            rc = jfail(j, "must be an object of key: value strings");
        } else {
            json_object_foreach(rq, k, x)
            {
                char kv[256];
                if (!json_is_string(x)) {
                    size_t m = jpush_key(j, k);
                    rc = jfail(j, "must be a string");
                    jpop(j, m);
                    break;
                }
                snprintf(kv, sizeof(kv), "%s=%s", k, json_string_value(x));
                uint32_t bit = plc_cluster_find_cap(c, kv);
                /* A capability no host has: no host can pass. */
                d->caps |= bit == PLC_NONE ? ~UINT64_C(0) : UINT64_C(1) << bit;
            }
        }
        jpop(j, n);
        if (rc)
            return rc;
    }
    return NFV_OK;
}

/* Builds a choice from explicit host core ids. */
static enum nfv_code explicit_choice(struct jctx *j, const struct plc_cluster *c, uint32_t host,
                                     const char *list, const struct plc_demand *d,
                                     struct plc_choice *ch)
{
    const struct plc_host *h = plc_cluster_host(c, host);
    struct pin_cpuset s;
    struct nfv_err e2;

    if (pin_cpuset_parse(list, h->n_cores, false, &s, &e2))
        return jfail(j, "'cores': %s", e2.msg);
    memset(ch, 0, sizeof(*ch));
    ch->host = host;
    unsigned n_cores = 0;
    for (int i = pin_cpuset_first(&s); i >= 0; i = pin_cpuset_next(&s, (unsigned)i + 1)) {
        unsigned n;
        for (n = 0; n < h->n_nodes; n++)
            if ((unsigned)i >= h->nodes[n].first_core &&
                (unsigned)i < (unsigned)h->nodes[n].first_core + h->nodes[n].n_cores)
                break;
        unsigned p;
        for (p = 0; p < ch->n_parts; p++)
            if (ch->parts[p].node == n)
                break;
        if (p == ch->n_parts) {
            if (p == PLC_MAX_VM_NODES)
                return jfail(j, "'cores': spans more than %d NUMA nodes", PLC_MAX_VM_NODES);
            ch->parts[p].node = (uint8_t)n;
            ch->n_parts++;
        }
        unsigned li = (unsigned)i - h->nodes[n].first_core;
        ch->parts[p].cores[li / 64] |= UINT64_C(1) << (li % 64);
        ch->parts[p].n_cores++;
        n_cores++;
    }
    if (n_cores != d->n_cores)
        return jfail(j, "'cores': %u cores listed, the VM needs %u", n_cores, d->n_cores);
    for (unsigned p = 0; p < ch->n_parts; p++) {
        ch->parts[p].mem_mib = d->mem_mib / ch->n_parts + (p < d->mem_mib % ch->n_parts);
        ch->parts[p].hp_mib = d->hp_mib / ch->n_parts + (p < d->hp_mib % ch->n_parts);
    }
    return NFV_OK;
}

static enum nfv_code load_vm(struct jctx *j, struct plc_cluster *c, const json_t *v)
{
    const char *name, *host, *group, *role_s, *cores;
    struct plc_demand d;
    struct plc_choice ch;
    enum nfv_code rc;
    enum plc_role role = PLC_ROLE_NONE;
    uint32_t g = PLC_NONE;

    if (!json_is_object(v))
        return jfail(j, "must be an object");
    if ((rc = jkeys(j, v, vm_keys)) || (rc = jstr(j, v, "name", true, &name)) ||
        (rc = jstr(j, v, "host", true, &host)) || (rc = jstr(j, v, "group", false, &group)) ||
        (rc = jstr(j, v, "role", false, &role_s)) || (rc = jstr(j, v, "cores", false, &cores)) ||
        (rc = load_demand(j, c, v, &d)))
        return rc;
    uint32_t h = plc_cluster_find_host(c, host);
    if (h == PLC_NONE)
        return jfail(j, "'host': '%s' is not a host of this cluster", host);
    if (group) {
        g = plc_cluster_find_group(c, group);
        if (g == PLC_NONE)
            return jfail(j, "'group': '%s' is not declared in $.groups", group);
        if (!role_s || (role = plc_role_from_string(role_s)) == PLC_ROLE__COUNT ||
            role == PLC_ROLE_NONE)
            return jfail(j, "'role': a group member needs role act or sby");
    } else if (role_s) {
        return jfail(j, "'role': only group members have a role");
    }
    if (cores) {
        if ((rc = explicit_choice(j, c, h, cores, &d, &ch)))
            return rc;
    } else if (plc_fit_host(c, h, &d, &ch) != PLC_F__COUNT) {
        return jfail(j, "does not fit host '%s' (cores, memory or hugepages)", host);
    }
    rc = plc_cluster_add_vm(c, name, g, role, &d, &ch, NULL, j->err);
    if (rc) {
        nfv_err_prefix(j->err, "%s: %s", j->file, j->path);
        return rc == NFV_E_NOMEM ? rc : NFV_E_INVAL;
    }
    return NFV_OK;
}

static enum nfv_code cluster_from(const json_t *doc, const char *file,
                                  struct plc_cluster **ret_cluster, struct pin_topo ***ret_topos,
                                  struct nfv_err *err);

enum nfv_code plc_json_cluster_from(const json_t *doc, const char *file,
                                    struct plc_cluster **ret_cluster, struct nfv_err *err)
{
    return cluster_from(doc, file, ret_cluster, NULL, err);
}

enum nfv_code plc_json_cluster_from_topos(const json_t *doc, const char *file,
                                          struct plc_cluster **ret_cluster,
                                          struct pin_topo ***ret_topos, struct nfv_err *err)
{
    return cluster_from(doc, file, ret_cluster, ret_topos, err);
}

void plc_json_topos_free(struct pin_topo **topos, size_t n)
{
    if (!topos)
        return;
    for (size_t i = 0; i < n; i++)
        pin_topo_unref(topos[i]);
    free(topos);
}

/* reserve.zones: {"zone": "failure"}, each zone one some host has. */
static enum nfv_code load_zone_failures(struct jctx *j, struct plc_cluster *c, const json_t *res)
{
    const json_t *zones = res ? json_object_get(res, "zones") : NULL;
    const char *z;
    json_t *v;
    enum nfv_code rc = NFV_OK;

    if (!zones)
        return NFV_OK;
    size_t n = jpush_key(j, "reserve");
    size_t m = jpush_key(j, "zones");
    if (!json_is_object(zones))
        rc = jfail(j, "must be an object of zone: failure");
    json_object_foreach((json_t *)zones, z, v)
    {
        if (rc)
            break;
        size_t k = jpush_key(j, z);
        enum plc_failure f =
            json_is_string(v) ? plc_failure_from_string(json_string_value(v)) : PLC_FAILURE__COUNT;
        if (f == PLC_FAILURE__COUNT)
            rc = jfail(j, "expected none, host, rack, zone or power");
        else if (plc_cluster_find_domain(c, PLC_SCOPE_ZONE, z) == PLC_NONE)
            rc = jfail(j, "zone '%s' is not the zone of any host", z);
        else if (plc_cluster_set_zone_failure(c, z, f, NULL) != NFV_OK)
            rc = NFV_ERR(j->err, NFV_E_NOMEM, "out of memory");
        jpop(j, k);
    }
    jpop(j, m);
    jpop(j, n);
    return rc;
}

static enum nfv_code cluster_from(const json_t *doc, const char *file,
                                  struct plc_cluster **ret_cluster, struct pin_topo ***ret_topos,
                                  struct nfv_err *err)
{
    static const char *const top_keys[] = {"reserve", "weighers", "hosts", "groups", "vms", NULL};
    struct jctx j = {.file = file, .path = "$", .err = err};
    struct plc_config cfg;
    struct plc_cluster *c = NULL;
    enum nfv_code rc;

    plc_config_init(&cfg);
    if (!json_is_object(doc))
        return jfail(&j, "must be an object with 'hosts'");
    if ((rc = jkeys(&j, doc, top_keys)))
        return rc;
    json_t *res = json_object_get(doc, "reserve");
    if (res) {
        static const char *const res_keys[] = {
            "failure", "zones", "slot_cores", "slot_memory_mib", "slot_hugepages_mib", NULL};
        const char *f = NULL;
        uint64_t sc, sm, sh;
        size_t n = jpush_key(&j, "reserve");
        if (!json_is_object(res))
            rc = jfail(&j, "must be an object");
        else if (!(rc = jkeys(&j, res, res_keys)) && !(rc = jstr(&j, res, "failure", false, &f)) &&
                 !(rc = juint(&j, res, "slot_cores", 1024, 0, &sc)) &&
                 !(rc = juint(&j, res, "slot_memory_mib", UINT32_MAX, 0, &sm)) &&
                 !(rc = juint(&j, res, "slot_hugepages_mib", UINT32_MAX, 0, &sh))) {
            /* slot_*: checked, then ignored (the reserve is exact now) */
            (void)sc, (void)sm, (void)sh;
            if (f && (cfg.failure = plc_failure_from_string(f)) == PLC_FAILURE__COUNT)
                rc = jfail(&j, "'failure': '%s': expected none, host, rack, zone or power", f);
        }
        jpop(&j, n);
        if (rc)
            return rc;
    }
    json_t *wv = json_object_get(doc, "weighers");
    if (wv) {
        size_t n = jpush_key(&j, "weighers");
        const char *k;
        json_t *x;
        if (!json_is_object(wv)) {
            rc = jfail(&j, "must be an object of weigher: weight");
        } else {
            json_object_foreach(wv, k, x)
            {
                enum plc_weigher w = plc_weigher_from_string(k);
                size_t m = jpush_key(&j, k);
                if (w == PLC_W__COUNT)
                    rc = jfail(&j, "unknown weigher (pack, spread, nic_local)");
                else if (!json_is_number(x))
                    rc = jfail(&j, "must be a number");
                else
                    cfg.weights[w] = json_number_value(x);
                jpop(&j, m);
                if (rc)
                    break;
            }
        }
        jpop(&j, n);
        if (rc)
            return rc;
    }
    c = plc_cluster_new(&cfg);
    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_t *hosts = json_object_get(doc, "hosts");
    size_t n = jpush_key(&j, "hosts");
    if (!json_is_array(hosts) || json_array_size(hosts) == 0) {
        rc = jfail(&j, "must be a non-empty array of hosts");
        goto fail;
    }
    j.n_topos = json_array_size(hosts);
    j.topos = calloc(j.n_topos, sizeof(*j.topos));
    if (!j.topos) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(hosts); i++) {
        size_t m = jpush_idx(&j, i);
        if ((rc = load_host(&j, c, json_array_get(hosts, i))))
            goto fail;
        jpop(&j, m);
    }
    jpop(&j, n);
    if ((rc = load_zone_failures(&j, c, json_object_get(doc, "reserve"))))
        goto fail;
    json_t *groups = json_object_get(doc, "groups");
    if (groups) {
        n = jpush_key(&j, "groups");
        if (!json_is_array(groups)) {
            rc = jfail(&j, "must be an array");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(groups); i++) {
            static const char *const gkeys[] = {"name", "scope", "soft", NULL};
            const json_t *g = json_array_get(groups, i);
            const char *name, *scope = NULL;
            bool soft = false;
            enum plc_scope sc = PLC_SCOPE_HOST;
            uint32_t gi;
            size_t m = jpush_idx(&j, i);
            if (!json_is_object(g)) {
                rc = jfail(&j, "must be an object");
                goto fail;
            }
            if ((rc = jkeys(&j, g, gkeys)) || (rc = jstr(&j, g, "name", true, &name)) ||
                (rc = jstr(&j, g, "scope", false, &scope)) || (rc = jbool(&j, g, "soft", &soft)))
                goto fail;
            if (scope && (sc = plc_scope_from_string(scope)) == PLC_SCOPE__COUNT) {
                rc = jfail(&j, "'scope': '%s': expected host, rack, zone or power", scope);
                goto fail;
            }
            if (plc_cluster_find_group(c, name) != PLC_NONE) {
                rc = jfail(&j, "'name': group '%s' is declared twice", name);
                goto fail;
            }
            if ((rc = plc_cluster_add_group(c, name, sc, soft, &gi, err)))
                goto fail;
            jpop(&j, m);
        }
        jpop(&j, n);
    }
    json_t *vms = json_object_get(doc, "vms");
    if (vms) {
        n = jpush_key(&j, "vms");
        if (!json_is_array(vms)) {
            rc = jfail(&j, "must be an array");
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(vms); i++) {
            size_t m = jpush_idx(&j, i);
            if ((rc = load_vm(&j, c, json_array_get(vms, i))))
                goto fail;
            jpop(&j, m);
        }
        jpop(&j, n);
    }
    *ret_cluster = c;
    if (ret_topos)
        *ret_topos = j.topos;
    else
        plc_json_topos_free(j.topos, j.n_topos);
    for (size_t i = 0; i < j.n_cache; i++)
        pin_topo_unref(j.cache[i]);
    return NFV_OK;
fail:
    for (size_t i = 0; i < j.n_cache; i++)
        pin_topo_unref(j.cache[i]);
    plc_json_topos_free(j.topos, j.n_topos);
    plc_cluster_free(c);
    return rc;
}

enum nfv_code plc_json_load_cluster_topos(const char *path, struct plc_cluster **ret_cluster,
                                          struct pin_topo ***ret_topos, struct nfv_err *err)
{
    json_t *doc;
    enum nfv_code rc = load_file(path, &doc, err);
    if (rc)
        return rc;
    rc = cluster_from(doc, path, ret_cluster, ret_topos, err);
    json_decref(doc);
    return rc;
}

enum nfv_code plc_json_load_cluster(const char *path, struct plc_cluster **ret_cluster,
                                    struct nfv_err *err)
{
    json_t *doc;
    enum nfv_code rc = load_file(path, &doc, err);
    if (rc)
        return rc;
    rc = plc_json_cluster_from(doc, path, ret_cluster, err);
    json_decref(doc);
    return rc;
}

void plc_req_doc_free(struct plc_req_doc *d)
{
    if (!d)
        return;
    free(d->vms);
    json_decref(d->doc);
    free(d);
}

static enum nfv_code request_from(json_t *take_doc, const char *file, const char *root,
                                  const struct plc_cluster *c, struct plc_req_doc **ret_doc,
                                  struct nfv_err *err);

enum nfv_code plc_json_request_from(json_t *take_doc, const char *file, const struct plc_cluster *c,
                                    struct plc_req_doc **ret_doc, struct nfv_err *err)
{
    return request_from(take_doc, file, "$", c, ret_doc, err);
}

enum nfv_code plc_json_load_requests(const char *path, const struct plc_cluster *c,
                                     struct plc_req_doc ***ret_docs, size_t *ret_n,
                                     struct nfv_err *err)
{
    json_t *doc;
    enum nfv_code rc = load_file(path, &doc, err);
    struct plc_req_doc **docs;
    size_t n;

    if (rc)
        return rc;
    n = json_is_array(doc) ? json_array_size(doc) : 1;
    if (n == 0) {
        json_decref(doc);
        return NFV_ERR(err, NFV_E_INVAL, "%s: $: an empty list of requests", path);
    }
    docs = calloc(n, sizeof(*docs));
    if (!docs) {
        json_decref(doc);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char root[32] = "$";
        json_t *one = json_is_array(doc) ? json_array_get(doc, i) : doc;
        if (json_is_array(doc))
            snprintf(root, sizeof(root), "$[%zu]", i);
        rc = request_from(json_incref(one), path, root, c, &docs[i], err);
        if (rc) {
            for (size_t k = 0; k < i; k++)
                plc_req_doc_free(docs[k]);
            free(docs);
            json_decref(doc);
            return rc;
        }
    }
    json_decref(doc);
    *ret_docs = docs;
    *ret_n = n;
    return NFV_OK;
}

static enum nfv_code request_from(json_t *take_doc, const char *file, const char *root,
                                  const struct plc_cluster *c, struct plc_req_doc **ret_doc,
                                  struct nfv_err *err)
{
    static const char *const top_keys[] = {"group", "ignore_reserve", "vms", NULL};
    struct jctx j = {.file = file, .err = err};
    struct plc_req_doc *d = calloc(1, sizeof(*d));
    enum nfv_code rc;
    json_t *list, *single = NULL;

    snprintf(j.path, sizeof(j.path), "%s", root);
    if (!d) {
        json_decref(take_doc);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    d->doc = take_doc;
    if (!json_is_object(take_doc)) {
        rc = jfail(&j, "must be an object (one VM, or {\"group\":..,\"vms\":[..]})");
        goto fail;
    }
    list = json_object_get(take_doc, "vms");
    if (!list) {
        single = json_array();
        if (!single || json_array_append(single, take_doc)) {
            json_decref(single);
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto fail;
        }
        list = single;
    } else {
        if ((rc = jkeys(&j, take_doc, top_keys)))
            goto fail;
        if ((rc = jbool(&j, take_doc, "ignore_reserve", &d->req.is_reserve_waived)))
            goto fail;
        json_t *g = json_object_get(take_doc, "group");
        if (json_is_string(g)) {
            d->req.group = json_string_value(g);
        } else if (g) {
            static const char *const gkeys[] = {"name", "scope", "soft", NULL};
            const char *scope = NULL;
            size_t n = jpush_key(&j, "group");
            if (!json_is_object(g)) {
                rc = jfail(&j, "must be a group name or {\"name\",\"scope\",\"soft\"}");
            } else if (!(rc = jkeys(&j, g, gkeys)) &&
                       !(rc = jstr(&j, g, "name", true, &d->req.group)) &&
                       !(rc = jstr(&j, g, "scope", false, &scope)) &&
                       !(rc = jbool(&j, g, "soft", &d->req.is_soft))) {
                d->req.scope = PLC_SCOPE_HOST;
                if (scope && (d->req.scope = plc_scope_from_string(scope)) == PLC_SCOPE__COUNT)
                    rc = jfail(&j, "'scope': '%s': expected host, rack, zone or power", scope);
            }
            jpop(&j, n);
            if (rc)
                goto fail;
        }
        if (!json_is_array(list) || json_array_size(list) == 0) {
            size_t n = jpush_key(&j, "vms");
            rc = jfail(&j, "must be a non-empty array");
            jpop(&j, n);
            goto fail;
        }
    }
    d->vms = calloc(json_array_size(list), sizeof(*d->vms));
    if (!d->vms) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *v = json_array_get(list, i);
        struct plc_vm_req *vr = &d->vms[i];
        const char *role = NULL;
        size_t m = strlen(j.path);
        if (!single) {
            jpush_key(&j, "vms");
            jpush_idx(&j, i);
        }
        if (!json_is_object(v)) {
            rc = jfail(&j, "must be an object");
            goto fail;
        }
        if ((rc = jkeys(&j, v, vm_keys)) || (rc = jstr(&j, v, "name", true, &vr->name)) ||
            (rc = jstr(&j, v, "role", false, &role)) ||
            (rc = jstr(&j, v, "host", false, &vr->force_host)) ||
            (rc = load_demand(&j, c, v, &vr->demand)))
            goto fail;
        if (json_object_get(v, "group") || json_object_get(v, "cores")) {
            rc = jfail(&j, "'group'/'cores' belong in the cluster file; a request names its "
                           "group at the top");
            goto fail;
        }
        if (role && ((vr->role = plc_role_from_string(role)) == PLC_ROLE__COUNT ||
                     vr->role == PLC_ROLE_NONE)) {
            rc = jfail(&j, "'role': '%s': expected act or sby", role);
            goto fail;
        }
        if (role && !d->req.group) {
            rc = jfail(&j, "'role': only members of a group have a role");
            goto fail;
        }
        if (d->req.group && !role) {
            rc = jfail(&j, "'role': group members need a role (act or sby)");
            goto fail;
        }
        jpop(&j, m);
    }
    d->req.n_vms = json_array_size(list);
    d->req.vms = d->vms;
    json_decref(single);
    *ret_doc = d;
    return NFV_OK;
fail:
    json_decref(single);
    plc_req_doc_free(d);
    return rc;
}

enum nfv_code plc_json_load_request(const char *path, const struct plc_cluster *c,
                                    struct plc_req_doc **ret_doc, struct nfv_err *err)
{
    json_t *doc;
    enum nfv_code rc = load_file(path, &doc, err);
    if (rc)
        return rc;
    return plc_json_request_from(doc, path, c, ret_doc, err);
}

/* ---- output ---- */

void plc_choice_cores_format(const struct plc_cluster *c, const struct plc_choice *ch, char *buf,
                             size_t size)
{
    struct pin_cpuset s;
    const struct plc_host *h = plc_cluster_host(c, ch->host);

    pin_cpuset_zero(&s);
    for (unsigned p = 0; h && p < ch->n_parts; p++)
        for (unsigned i = 0; i < PLC_NODE_WORDS * 64; i++)
            if ((ch->parts[p].cores[i / 64] >> (i % 64)) & 1u)
                pin_cpuset_set(&s, plc_core_id(h, ch->parts[p].node, i));
    pin_cpuset_format(&s, buf, size);
}

json_t *plc_json_choice(const struct plc_cluster *c, const struct plc_choice *ch)
{
    const struct plc_host *h = plc_cluster_host(c, ch->host);
    char cores[512];
    json_t *nodes = json_array();
    uint64_t mem = 0, hp = 0;

    if (!h || !nodes) {
        json_decref(nodes);
        return json_null();
    }
    for (unsigned p = 0; p < ch->n_parts; p++) {
        json_array_append_new(nodes, json_integer(ch->parts[p].node));
        mem += ch->parts[p].mem_mib;
        hp += ch->parts[p].hp_mib;
    }
    plc_choice_cores_format(c, ch, cores, sizeof(cores));
    return json_pack("{s:s,s:o,s:s,s:I,s:I}", "host", h->name, "nodes", nodes, "cores", cores,
                     "memory_mib", (json_int_t)mem, "hugepages_mib", (json_int_t)hp);
}

json_t *plc_json_explain(const struct plc_cluster *c, const struct plc_req *r,
                         const struct plc_explain *e)
{
    json_t *vms = json_array();
    for (size_t i = 0; i < e->n_vms; i++) {
        const struct plc_explain_member *m = &e->members[i];
        json_t *reasons = json_object(), *hosts = json_array();
        for (int f = 0; f < PLC_F__COUNT; f++)
            if (m->counts[f])
                json_object_set_new(reasons, plc_filter_to_string(f), json_integer(m->counts[f]));
        for (uint32_t h = 0; h < e->n_hosts; h++) {
            /* The table's detail column: the domain a reserve refusal
             * leaves uncovered, the joint filter of a joint refusal. */
            json_t *hj = json_pack("{s:s,s:s}", "host", plc_cluster_host(c, h)->name, "first_fail",
                                   m->first_fail[h] == PLC_F__COUNT
                                       ? "passes"
                                       : plc_filter_to_string(m->first_fail[h]));
            if (m->first_fail[h] == PLC_F_RESERVE && m->uncovered[h].dom != PLC_NONE)
                json_object_set_new(
                    hj, "uncovered",
                    json_pack("{s:s,s:s,s:s?}", "kind", plc_scope_to_string(m->uncovered[h].kind),
                              "domain",
                              plc_cluster_domain_name(c, m->uncovered[h].kind, m->uncovered[h].dom),
                              "lost", m->uncovered[h].vm));
            if (m->first_fail[h] == PLC_F__COUNT && m->joint_fail[h] != PLC_F__COUNT)
                json_object_set_new(hj, "joint_fail",
                                    json_string(plc_filter_to_string(m->joint_fail[h])));
            json_array_append_new(hosts, hj);
        }
        json_t *vj =
            json_pack("{s:s,s:I,s:o,s:o}", "name", r->vms[i].name, "passing",
                      (json_int_t)m->counts[PLC_F__COUNT], "reasons", reasons, "hosts", hosts);
        if (m->shares_with)
            json_object_set_new(vj, "shares",
                                json_pack("{s:s,s:s,s:s}", "with", m->shares_with, "kind",
                                          plc_scope_to_string(e->scope), "domain",
                                          plc_cluster_domain_name(c, e->scope, m->shared_dom)));
        json_array_append_new(vms, vj);
    }
    json_t *out = json_pack("{s:b,s:o}", "placeable", e->is_placeable, "vms", vms);
    if (!e->is_placeable)
        json_object_set_new(out, "why", json_string(e->why));
    if (r->group)
        json_object_set_new(out, "soft_spread", json_boolean(!e->is_soft_colocated));
    return out;
}

json_t *plc_json_plan(const struct plc_cluster *c, const struct plc_plan *p)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct plc_step *s = &p->steps[i];
        const struct plc_vm *vm = s->vm != PLC_NONE ? plc_cluster_vm(c, s->vm) : NULL;
        const struct plc_host *from = plc_cluster_host(c, s->from_host);
        json_t *to = s->kind == PLC_STEP_LOST ? json_null() : plc_json_choice(c, &s->to);
        json_array_append_new(
            steps,
            json_pack("{s:s,s:s?,s:s?,s:s,s:s?,s:o}", "step", plc_step_kind_to_string(s->kind),
                      "vm", vm ? vm->name : NULL, "group",
                      vm && vm->group != PLC_NONE ? plc_cluster_group(c, vm->group)->name : NULL,
                      "role", plc_role_to_string(s->role), "from", from ? from->name : NULL, "to",
                      to));
    }
    return json_pack("{s:o,s:I,s:I}", "steps", steps, "moves", (json_int_t)p->n_moves, "lost",
                     (json_int_t)p->n_lost);
}
