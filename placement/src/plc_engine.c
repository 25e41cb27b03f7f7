/*
 * plc_engine.c - filters, weighers and the group search.
 *
 * One request costs: a scan of every host through the cheap filters (state,
 * forced host, capability bitmask, memory and hugepage counts, then the
 * NUMA-shaped core fit on per-node free counters) and anti-affinity against
 * the group's existing members, a sort of the survivors by weight, and then
 * a best-first depth-first search over the members' candidate lists. Each
 * step of the search claims the member's cores in place (plc_claim), so the
 * next member sees the capacity its sibling took, and the reserve check at a
 * leaf reads the aggregates the claims updated (plc_reserve.c). Undo is the
 * same claim with the opposite sign, so a non-committed request leaves the
 * cluster bit-for-bit as it was.
 *
 * Pruning: when every later member conflicts with the member at a level
 * (hard anti-affinity, opposite roles), the outcome of the subtree below a
 * host depends only on the host's scope domain, so a domain whose subtree
 * failed (for reasons other than the reserve) is skipped for the rest of that
 * level. That keeps an infeasible pair at O(hosts) instead of O(hosts^2);
 * combinations that pass every filter but break the reserve are bounded by
 * PLC_MAX_RESERVE_TRIES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_priv.h"

static const char *const filter_names[PLC_F__COUNT] = {
    "state",     "force_host", "capabilities",  "memory",
    "hugepages", "cores",      "anti_affinity", "reserve"};

const char *plc_filter_to_string(enum plc_filter f)
{
    return (unsigned)f < PLC_F__COUNT ? filter_names[f] : "passes";
}

/* ---- the core fit ---- */

static unsigned share(unsigned total, unsigned k, unsigned j)
{
    return total / k + (j < total % k ? 1u : 0u);
}

/* Marks @n lowest free cores of node @nd not in @skip into @out. */
static void take_cores(const struct plc_node *nd, const uint64_t *skip, unsigned n, uint64_t *out)
{
    for (unsigned w = 0; w < PLC_NODE_WORDS && n; w++) {
        uint64_t avail = nd->free_cores[w] & ~skip[w] & ~out[w];
        while (avail && n) {
            uint64_t bit = avail & (~avail + 1);
            out[w] |= bit;
            avail &= ~bit;
            n--;
        }
    }
}

/* The fit; without @is_bits the parts' core bitmaps stay empty (counts,
 * nodes and memory are set), which is all the weighers read. */
static enum plc_filter fit_host(const struct plc_cluster *c, uint32_t hi,
                                const struct plc_demand *d, struct plc_choice *ret, bool is_bits)
{
    const struct plc_host *h = &c->hosts[hi];
    unsigned k = d->numa_nodes ? d->numa_nodes : 1;
    struct plc_choice ch;
    unsigned order[PLC_MAX_NODES], n_ok = 0;

    if (k > h->n_nodes || k > PLC_MAX_VM_NODES)
        return PLC_F_CORES;
    memset(&ch, 0, sizeof(ch));
    ch.host = hi;
    ch.n_parts = (uint8_t)k;
    if (d->n_numbered) {
        /* Numbered cores fix the nodes: they must be free and span exactly k
         * nodes; the other cores are shared out over the same nodes. */
        unsigned nodes[PLC_MAX_NODES], n_nodes = 0;
        for (unsigned i = 0; i < d->n_numbered; i++) {
            unsigned id = d->numbered[i], n;
            for (n = 0; n < h->n_nodes; n++)
                if (id >= h->nodes[n].first_core &&
                    id < (unsigned)h->nodes[n].first_core + h->nodes[n].n_cores)
                    break;
            if (n == h->n_nodes)
                return PLC_F_CORES;
            unsigned li = id - h->nodes[n].first_core;
            if (!((h->nodes[n].free_cores[li / 64] >> (li % 64)) & 1u))
                return PLC_F_CORES;
            unsigned j;
            for (j = 0; j < n_nodes; j++)
                if (nodes[j] == n)
                    break;
            if (j == n_nodes) {
                if (n_nodes == k)
                    return PLC_F_CORES;
                nodes[n_nodes++] = n;
            }
            ch.parts[j].node = (uint8_t)n;
            ch.parts[j].cores[li / 64] |= UINT64_C(1) << (li % 64);
            ch.parts[j].n_cores++;
        }
        if (n_nodes != k)
            return PLC_F_CORES;
        unsigned extra = d->n_cores > d->n_numbered ? d->n_cores - d->n_numbered : 0;
        for (unsigned j = 0; j < k; j++) {
            struct plc_part *pt = &ch.parts[j];
            const struct plc_node *nd = &h->nodes[pt->node];
            unsigned e = share(extra, k, j);
            pt->mem_mib = share(d->mem_mib, k, j);
            pt->hp_mib = share(d->hp_mib, k, j);
            if (nd->free_mem_mib < pt->mem_mib)
                return PLC_F_MEMORY;
            if (nd->free_hp_mib < pt->hp_mib)
                return PLC_F_HUGEPAGES;
            if ((unsigned)nd->n_free < pt->n_cores + e)
                return PLC_F_CORES;
            uint64_t none[PLC_NODE_WORDS] = {0};
            take_cores(nd, none, e, pt->cores);
            pt->n_cores = (uint16_t)(pt->n_cores + e);
        }
        if (ret)
            *ret = ch;
        return PLC_F__COUNT;
    }
    /* Nodes able to take the largest share of cores, memory and hugepages. */
    unsigned need_c = share(d->n_cores, k, 0), need_m = share(d->mem_mib, k, 0);
    unsigned need_h = share(d->hp_mib, k, 0);
    unsigned mem_ok = 0, hp_ok = 0;
    for (unsigned n = 0; n < h->n_nodes; n++) {
        const struct plc_node *nd = &h->nodes[n];
        bool m = nd->free_mem_mib >= need_m, hp = nd->free_hp_mib >= need_h;
        if (d->node_mask && !(d->node_mask & (1u << n)))
            continue; /* the request names another node */
        mem_ok += m;
        hp_ok += m && hp;
        if (m && hp && nd->n_free >= need_c)
            order[n_ok++] = n;
    }
    if (mem_ok < k)
        return PLC_F_MEMORY;
    if (hp_ok < k)
        return PLC_F_HUGEPAGES;
    if (n_ok < k)
        return PLC_F_CORES;
    /* Rank: NIC-local nodes first when asked, then best fit (fewest free
     * cores), then node index. Insertion sort: at most 8 nodes. */
    for (unsigned i = 1; i < n_ok; i++) {
        unsigned x = order[i], j = i;
        while (j > 0) {
            unsigned y = order[j - 1];
            bool xn = d->is_nic_local && ((h->nic_nodes >> x) & 1u);
            bool yn = d->is_nic_local && ((h->nic_nodes >> y) & 1u);
            /* best fit for one node; a spread VM takes the freest nodes,
             * which is what keeps the reserve's W-set count exact */
            bool fewer = k == 1 ? h->nodes[x].n_free < h->nodes[y].n_free
                                : h->nodes[x].n_free > h->nodes[y].n_free;
            bool before =
                xn != yn ? xn : (h->nodes[x].n_free != h->nodes[y].n_free ? fewer : x < y);
            if (!before)
                break;
            order[j] = y;
            j--;
        }
        order[j] = x;
    }
    if (!ret)
        return PLC_F__COUNT;
    for (unsigned j = 0; j < k; j++) {
        struct plc_part *pt = &ch.parts[j];
        const struct plc_node *nd = &h->nodes[order[j]];
        uint64_t none[PLC_NODE_WORDS] = {0};
        pt->node = (uint8_t)order[j];
        pt->n_cores = (uint16_t)share(d->n_cores, k, j);
        pt->mem_mib = share(d->mem_mib, k, j);
        pt->hp_mib = share(d->hp_mib, k, j);
        if (is_bits)
            take_cores(nd, none, pt->n_cores, pt->cores);
    }
    *ret = ch;
    return PLC_F__COUNT;
}

enum plc_filter plc_fit_host(const struct plc_cluster *c, uint32_t hi, const struct plc_demand *d,
                             struct plc_choice *ret)
{
    return fit_host(c, hi, d, ret, true);
}

/* ---- weighers ---- */

double plc_weigh(const struct plc_cluster *c, const struct plc_demand *d,
                 const struct plc_choice *ch)
{
    const struct plc_host *h = &c->hosts[ch->host];
    const double *w = c->cfg.weights;
    unsigned free_host = 0, used_now = d->n_cores, node_cores = 0, node_free_after = 0;
    unsigned nic_parts = 0;

    for (unsigned n = 0; n < h->n_nodes; n++)
        free_host += h->nodes[n].n_free;
    for (unsigned p = 0; p < ch->n_parts; p++) {
        const struct plc_node *nd = &h->nodes[ch->parts[p].node];
        node_cores += nd->n_cores;
        node_free_after += nd->n_free - ch->parts[p].n_cores;
        nic_parts += (h->nic_nodes >> ch->parts[p].node) & 1u;
    }
    double total = h->n_cores ? h->n_cores : 1;
    double free_after = (double)(free_host - used_now);
    /* pack: best fit on the host, and on the chosen nodes (fewest fragments) */
    double pack = 0.5 * (1.0 - free_after / total) +
                  0.5 * (node_cores ? 1.0 - (double)node_free_after / node_cores : 0.0);
    double spread = free_after / total;
    double nic = d->is_nic_local && ch->n_parts ? (double)nic_parts / ch->n_parts : 0.0;
    return w[PLC_W_PACK] * pack + w[PLC_W_SPREAD] * spread + w[PLC_W_NIC_LOCAL] * nic;
}

/* ---- request context ---- */

#define SOFT_PENALTY 100.0

struct placed {
    uint32_t host;
    enum plc_role role;
};

struct cand {
    uint32_t host;
    double score;
};

struct req_ctx {
    struct plc_cluster *c;
    const struct plc_req *r;
    uint32_t group; /* existing group or PLC_NONE */
    enum plc_scope scope;
    bool is_soft;
    uint32_t *force;      /* per member: forced host or PLC_NONE */
    struct placed *exist; /* placed members of the existing group */
    size_t n_exist;
    size_t *order;       /* member search order */
    struct cand **cands; /* per member (by search level) */
    size_t *n_cands;
    size_t *n_sorted;                     /* cands[lv][0..n_sorted) is in final order */
    uint32_t (*counts)[PLC_F__COUNT + 1]; /* per level: first failing filter counts */
    /* search state */
    struct plc_choice *chosen; /* per level */
    uint32_t *touched;
    size_t n_reserve_fail;
    bool is_search_capped;
    struct plc_heal_fail fail;            /* the first combination's uncovered domain */
    uint64_t heal_steps0;                 /* plc_heal_steps() when the search began */
    const struct plc_demand **ov_demands; /* overlay of the tried combination */
    uint32_t *ov_hosts;
    uint8_t **dead; /* per level: dead scope domains (pruning) */
};

static void ctx_free(struct req_ctx *x)
{
    size_t n = x->r ? x->r->n_vms : 0;
    free(x->force);
    free(x->exist);
    free(x->order);
    free(x->cands); /* the lists themselves live in the cluster's scratch */
    free(x->n_cands);
    free(x->n_sorted);
    free(x->counts);
    free(x->chosen);
    free(x->touched);
    free(x->ov_demands);
    free(x->ov_hosts);
    if (x->dead)
        for (size_t i = 0; i < n; i++)
            free(x->dead[i]);
    free(x->dead);
}

static bool is_member(const struct req_ctx *x)
{
    return x->r->group != NULL;
}

static enum nfv_code ctx_init(struct req_ctx *x, struct plc_cluster *c, const struct plc_req *r,
                              struct nfv_err *err)
{
    memset(x, 0, sizeof(*x));
    x->c = c;
    x->r = r;
    x->group = PLC_NONE;
    if (!r || r->n_vms == 0 || !r->vms)
        return NFV_ERR(err, NFV_E_INVAL, "'vms': the request places no VM");
    if (!r->group && r->n_vms > 1)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'group': placing %zu VMs together needs a redundancy group", r->n_vms);
    if (!r->is_reserve_waived && plc_heal_ensure(c) != NFV_OK)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    size_t n = r->n_vms;
    x->fail.ref = PLC_NONE;
    x->fail.dom = PLC_NONE;
    x->ov_demands = calloc(n, sizeof(*x->ov_demands));
    x->ov_hosts = calloc(n, sizeof(*x->ov_hosts));
    x->force = calloc(n, sizeof(*x->force));
    x->order = calloc(n, sizeof(*x->order));
    x->cands = calloc(n, sizeof(*x->cands));
    x->n_cands = calloc(n, sizeof(*x->n_cands));
    x->n_sorted = calloc(n, sizeof(*x->n_sorted));
    x->counts = calloc(n, sizeof(*x->counts));
    x->chosen = calloc(n, sizeof(*x->chosen));
    x->touched = calloc(n, sizeof(*x->touched));
    x->dead = calloc(n, sizeof(*x->dead));
    size_t need = n * (c->n_hosts ? c->n_hosts : 1) * sizeof(struct cand);
    if (c->scratch_size < need) {
        void *p = realloc(c->scratch, need);
        if (!p)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        c->scratch = p;
        c->scratch_size = need;
    }
    if (!x->force || !x->order || !x->cands || !x->n_cands || !x->n_sorted || !x->counts ||
        !x->chosen || !x->touched || !x->dead || !x->ov_demands || !x->ov_hosts)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct plc_vm_req *v = &r->vms[i];
        if (!v->name || !*v->name)
            return NFV_ERR(err, NFV_E_INVAL, "'vms[%zu].name': missing", i);
        if (plc_cluster_find_vm(c, v->name) != PLC_NONE)
            return NFV_ERR(err, NFV_E_EXIST, "vm '%s': already exists", v->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->vms[j].name, v->name) == 0)
                return NFV_ERR(err, NFV_E_INVAL, "vm '%s': appears twice in the request", v->name);
        if (v->demand.n_cores == 0)
            return NFV_ERR(err, NFV_E_INVAL, "vm '%s': needs at least one core", v->name);
        if (v->demand.numa_nodes > PLC_MAX_VM_NODES)
            return NFV_ERR(err, NFV_E_INVAL, "vm '%s': 'numa_nodes' %u is more than %d", v->name,
                           v->demand.numa_nodes, PLC_MAX_VM_NODES);
        if (v->demand.n_numbered > v->demand.n_cores)
            return NFV_ERR(err, NFV_E_INVAL, "vm '%s': more numbered cores than cores", v->name);
        x->force[i] = PLC_NONE;
        if (v->force_host) {
            x->force[i] = plc_cluster_find_host(c, v->force_host);
            if (x->force[i] == PLC_NONE)
                return NFV_ERR(err, NFV_E_NOENT, "vm '%s': forced host '%s' does not exist",
                               v->name, v->force_host);
        }
        if (r->group && v->role == PLC_ROLE_NONE)
            return NFV_ERR(err, NFV_E_INVAL, "vm '%s': a group member needs a role (act|sby)",
                           v->name);
    }
    x->scope = r->scope;
    x->is_soft = r->is_soft;
    if (r->group) {
        x->group = plc_cluster_find_group(c, r->group);
        if (x->group != PLC_NONE) {
            const struct plc_group *g = &c->groups[x->group];
            x->scope = g->scope;
            x->is_soft = g->is_soft;
            x->exist = calloc(g->n_members + 1, sizeof(*x->exist));
            if (!x->exist)
                return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            for (uint32_t i = 0; i < g->n_members; i++) {
                const struct plc_vm *m = &c->vms[g->members[i]];
                if (m->at.host == PLC_NONE)
                    continue;
                x->exist[x->n_exist].host = m->at.host;
                x->exist[x->n_exist].role = m->role;
                x->n_exist++;
            }
        }
        if ((unsigned)x->scope >= PLC_SCOPE__COUNT)
            return NFV_ERR(err, NFV_E_INVAL, "group '%s': bad scope", r->group);
    }
    /* Search order: most cores first (most constrained), then request order. */
    for (size_t i = 0; i < n; i++)
        x->order[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t v = x->order[i], j = i;
        while (j > 0 && r->vms[x->order[j - 1]].demand.n_cores < r->vms[v].demand.n_cores) {
            x->order[j] = x->order[j - 1];
            j--;
        }
        x->order[j] = v;
    }
    return NFV_OK;
}

/* Members of @p sharing host @h's scope domain (members of a group are
 * pairwise apart whatever their roles; soft groups count as a penalty). */
static unsigned aa_conflicts(const struct req_ctx *x, uint32_t h, const struct placed *p,
                             size_t n_p)
{
    const struct plc_host *hh = &x->c->hosts[h];
    unsigned n = 0;
    for (size_t i = 0; i < n_p; i++)
        if (x->c->hosts[p[i].host].dom[x->scope] == hh->dom[x->scope])
            n++;
    return n;
}

/* First failing per-host filter, before anti-affinity and reserve. */
static enum plc_filter host_filters(const struct req_ctx *x, size_t vi, uint32_t h,
                                    struct plc_choice *ret)
{
    const struct plc_host *hh = &x->c->hosts[h];
    const struct plc_demand *d = &x->r->vms[vi].demand;

    if (hh->state != PLC_HOST_UP)
        return PLC_F_STATE;
    if (x->force[vi] != PLC_NONE && x->force[vi] != h)
        return PLC_F_FORCE_HOST;
    if ((hh->caps & d->caps) != d->caps)
        return PLC_F_CAPABILITIES;
    return fit_host(x->c, h, d, ret, false);
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->host < y->host ? -1 : x->host > y->host;
}

#define PLC_TOP_K 32

static void cand_swap(struct cand *a, struct cand *b)
{
    struct cand t = *a;
    *a = *b;
    *b = t;
}

/* Quickselect: afterwards cs[0..k) holds the k best candidates (in any
 * order) and every later one compares after them. Deterministic: the pivot
 * is the median of three positions. */
static void select_top(struct cand *cs, size_t n, size_t k)
{
    size_t lo = 0, hi = n; /* the k-th boundary lies in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (cand_cmp(&cs[mid], &cs[lo]) < 0)
            cand_swap(&cs[mid], &cs[lo]);
        if (cand_cmp(&cs[last], &cs[lo]) < 0)
            cand_swap(&cs[last], &cs[lo]);
        if (cand_cmp(&cs[last], &cs[mid]) < 0)
            cand_swap(&cs[last], &cs[mid]);
        cand_swap(&cs[mid], &cs[last]); /* pivot (median) at the end */
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (cand_cmp(&cs[i], &cs[last]) < 0)
                cand_swap(&cs[i], &cs[store++]);
        cand_swap(&cs[store], &cs[last]);
        /* cs[lo..store) < pivot = cs[store] < cs[store+1..hi) */
        if (store == k || store + 1 == k)
            return;
        if (store > k)
            hi = store;
        else
            lo = store + 1;
    }
}

/* Candidate list of level @lv: every host passing the per-host filters and
 * hard anti-affinity against the group's existing members, best first. */
static enum nfv_code build_cands(struct req_ctx *x, size_t lv)
{
    size_t vi = x->order[lv];
    const struct plc_vm_req *v = &x->r->vms[vi];
    size_t n_hosts = x->c->n_hosts;
    struct cand *cs = (struct cand *)x->c->scratch + lv * (n_hosts ? n_hosts : 1);
    size_t n = 0;

    for (uint32_t h = 0; h < n_hosts; h++) {
        struct plc_choice ch;
        enum plc_filter f = host_filters(x, vi, h, &ch);
        unsigned conflicts = 0;
        if (f == PLC_F__COUNT && is_member(x)) {
            conflicts = aa_conflicts(x, h, x->exist, x->n_exist);
            if (conflicts && !x->is_soft)
                f = PLC_F_ANTI_AFFINITY;
        }
        x->counts[lv][f]++;
        if (f != PLC_F__COUNT)
            continue;
        cs[n].host = h;
        cs[n].score = plc_weigh(x->c, &v->demand, &ch) - SOFT_PENALTY * conflicts;
        n++;
    }
    /* Most requests are decided by the first few candidates: order only the
     * best PLC_TOP_K now (selection is O(n), a full sort O(n log n) is
     * what dominated at 10,000 hosts) and sort the rest if the search
     * ever gets there. */
    if (n > PLC_TOP_K) {
        select_top(cs, n, PLC_TOP_K);
        qsort(cs, PLC_TOP_K, sizeof(*cs), cand_cmp);
        x->n_sorted[lv] = PLC_TOP_K;
    } else {
        qsort(cs, n, sizeof(*cs), cand_cmp);
        x->n_sorted[lv] = n;
    }
    x->cands[lv] = cs;
    x->n_cands[lv] = n;
    return NFV_OK;
}

/* The healing-reserve check of the combination now claimed (levels
 * 0..n-1): the request's members as an overlay on the model. */
static bool reserve_ok(struct req_ctx *x)
{
    struct plc_overlay ov = {.n = x->r->n_vms,
                             .demands = x->ov_demands,
                             .hosts = x->ov_hosts,
                             .is_member = is_member(x),
                             .group = x->group,
                             .scope = x->scope,
                             .is_soft = x->is_soft};
    struct plc_heal_fail f;
    for (size_t lv = 0; lv < x->r->n_vms; lv++) {
        x->ov_demands[x->order[lv]] = &x->r->vms[x->order[lv]].demand;
        x->ov_hosts[x->order[lv]] = x->chosen[lv].host;
    }
    uint64_t spent = plc_heal_steps(x->c) - x->heal_steps0;
    uint64_t cap = PLC_MAX_RESERVE_STEPS(x->c->n_hosts);
    if (plc_heal_check(x->c, &ov, spent < cap ? cap - spent : 1, &f))
        return true;
    if (x->fail.dom == PLC_NONE)
        x->fail = f;
    return false;
}

/* The configured failure for messages: cfg.failure, or "per zone" when
 * some zone has its own. */
static const char *failure_label(const struct plc_cluster *c)
{
    for (size_t z = 0; z < plc_cluster_n_domains(c, PLC_SCOPE_ZONE); z++)
        if (plc_cluster_zone_failure(c, (uint32_t)z) != c->cfg.failure)
            return "per zone";
    return plc_failure_to_string(c->cfg.failure);
}

/* true if every host's own failure is checked by the reserve. */
static bool every_host_checked(const struct plc_cluster *c)
{
    for (size_t z = 0; z < plc_cluster_n_domains(c, PLC_SCOPE_ZONE); z++)
        if (plc_cluster_zone_failure(c, (uint32_t)z) == PLC_FAILURE_NONE)
            return false;
    return c->n_zone_failure || c->cfg.failure != PLC_FAILURE_NONE;
}

/* Depth-first search; returns true when a full combination passed. Hard
 * groups: every later member must avoid this member's scope domain, so a
 * domain whose subtree failed (not for the reserve) is skipped. Soft
 * groups: hosts apart from the members already tried come first. */
static bool search(struct req_ctx *x, size_t lv, struct placed *tent)
{
    size_t n = x->r->n_vms;
    size_t vi = x->order[lv];
    const struct plc_vm_req *v = &x->r->vms[vi];
    bool is_hard = is_member(x) && !x->is_soft;
    bool prune = is_hard && lv + 1 < n;
    size_t n_doms = plc_cluster_n_domains(x->c, x->scope);
    int n_pass = is_member(x) && x->is_soft && lv > 0 ? 2 : 1;

    if (prune && !x->dead[lv]) {
        x->dead[lv] = calloc(n_doms ? n_doms : 1, 1);
        if (!x->dead[lv])
            prune = false;
    }
    if (prune)
        memset(x->dead[lv], 0, n_doms ? n_doms : 1);
    for (int pass = 0; pass < n_pass; pass++) {
        for (size_t i = 0; i < x->n_cands[lv]; i++) {
            if (i == x->n_sorted[lv]) {
                qsort(x->cands[lv] + i, x->n_cands[lv] - i, sizeof(struct cand), cand_cmp);
                x->n_sorted[lv] = x->n_cands[lv];
            }
            uint32_t h = x->cands[lv][i].host;
            uint32_t dom = x->c->hosts[h].dom[x->scope];
            struct plc_choice ch;

            if (prune && x->dead[lv][dom])
                continue;
            if (is_hard && aa_conflicts(x, h, tent, lv))
                continue;
            if (n_pass == 2 && (aa_conflicts(x, h, tent, lv) != 0) != (pass == 1))
                continue;
            /* Recompute the fit on the current state (siblings may have
             * claimed cores on this host). */
            if (plc_fit_host(x->c, h, &v->demand, &ch) != PLC_F__COUNT)
                continue;
            plc_claim(x->c, &ch, +1);
            tent[lv].host = h;
            tent[lv].role = v->role;
            x->chosen[lv] = ch;
            x->touched[lv] = h;
            bool ok;
            size_t fails_before = x->n_reserve_fail;
            if (lv + 1 == n) {
                ok = x->r->is_reserve_waived || reserve_ok(x);
                if (!ok &&
                    (++x->n_reserve_fail >= PLC_MAX_RESERVE_TRIES(x->c->n_hosts) ||
                     plc_heal_steps(x->c) - x->heal_steps0 > PLC_MAX_RESERVE_STEPS(x->c->n_hosts)))
                    x->is_search_capped = true;
            } else {
                ok = search(x, lv + 1, tent);
            }
            plc_claim(x->c, &ch, -1);
            if (ok)
                return true;
            if (x->is_search_capped)
                return false;
            if (prune && x->n_reserve_fail == fails_before)
                x->dead[lv][dom] = 1;
        }
    }
    return false;
}

static void counts_message(const uint32_t *counts, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int f = 0; f < PLC_F__COUNT; f++) {
        if (!counts[f])
            continue;
        int w =
            snprintf(buf + off, size - off, "%s%u %s", off ? ", " : "", counts[f], filter_names[f]);
        if (w < 0 || (size_t)w >= size - off)
            break;
        off += (size_t)w;
    }
}

/* "if host 'h3' fails, 'fw-sby' cannot be rebuilt" for @f. */
static void fail_message(const struct plc_cluster *c, const struct plc_req *r,
                         const struct plc_heal_fail *f, char *buf, size_t size)
{
    const char *who = NULL;
    if (f->ref != PLC_NONE && (f->ref & PLC_HEAL_OV))
        who = r->vms[f->ref & ~PLC_HEAL_OV].name;
    else if (f->ref != PLC_NONE && f->ref < c->n_vms)
        who = c->vms[f->ref].name;
    if (f->dom == PLC_NONE) {
        snprintf(buf, size, "the healing reserve breaks");
        return;
    }
    snprintf(buf, size, "if %s '%s' fails, %s%s%s cannot be rebuilt", plc_scope_to_string(f->kind),
             plc_cluster_domain_name(c, f->kind, f->dom), who ? "'" : "its members", who ? who : "",
             who ? "'" : "");
}

enum nfv_code plc_place(struct plc_cluster *c, const struct plc_req *r, bool is_commit,
                        struct plc_choice *ret_choices, struct nfv_err *err)
{
    struct req_ctx x;
    enum nfv_code rc;
    struct placed *tent = NULL;
    uint32_t *vm_of = NULL;

    rc = ctx_init(&x, c, r, err);
    if (rc)
        goto cleanup;
    for (size_t lv = 0; lv < r->n_vms; lv++) {
        if (build_cands(&x, lv) != NFV_OK) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
        if (x.n_cands[lv] == 0) {
            char why[256];
            counts_message(x.counts[lv], why, sizeof(why));
            rc = NFV_ERR(err, NFV_E_NOCAP, "vm '%s': no host fits (%s)", r->vms[x.order[lv]].name,
                         why);
            goto cleanup;
        }
    }
    /* A hard member's rebuild after its host fails needs a host that fits
     * it now, other than its own and its request siblings' (existing
     * members' hosts already fail anti-affinity): refuse without a search
     * when there is none. What a nearly full cluster refuses most. (Only
     * when every host's failure is checked: a zone may have none.) */
    if (is_member(&x) && !x.is_soft && !r->is_reserve_waived && every_host_checked(c))
        for (size_t lv = 0; lv < r->n_vms; lv++)
            if (x.force[x.order[lv]] == PLC_NONE && x.n_cands[lv] < r->n_vms + 1) {
                rc = NFV_ERR(err, NFV_E_NOCAP,
                             "group '%s': breaks the healing reserve (failure '%s'): vm '%s' fits "
                             "%zu host%s, and a rebuild after its host fails needs one besides "
                             "its own and its %zu sibling%s",
                             r->group, failure_label(c), r->vms[x.order[lv]].name, x.n_cands[lv],
                             x.n_cands[lv] == 1 ? "" : "s", r->n_vms - 1, r->n_vms == 2 ? "" : "s");
                goto cleanup;
            }
    tent = calloc(r->n_vms, sizeof(*tent));
    if (!tent) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    x.heal_steps0 = plc_heal_steps(c);
    bool is_found = search(&x, 0, tent);
    if (!is_found) {
        char why[256];
        fail_message(c, r, &x.fail, why, sizeof(why));
        if (x.n_reserve_fail)
            rc = NFV_ERR(err, NFV_E_NOCAP,
                         "%s '%s': %zu placement%s fit but break the healing reserve (failure "
                         "'%s'); first: %s%s",
                         r->group ? "group" : "vm", r->group ? r->group : r->vms[0].name,
                         x.n_reserve_fail, x.n_reserve_fail == 1 ? "" : "s", failure_label(c), why,
                         x.is_search_capped ? " (search limit reached)" : "");
        else
            rc = NFV_ERR(err, NFV_E_NOCAP,
                         "group '%s': no combination of hosts keeps the members apart "
                         "(anti_affinity, scope '%s')",
                         r->group, plc_scope_to_string(x.scope));
        goto cleanup;
    }
    for (size_t lv = 0; lv < r->n_vms; lv++)
        ret_choices[x.order[lv]] = x.chosen[lv];
    if (is_commit) {
        uint32_t g = PLC_NONE;
        if (r->group) {
            rc = plc_cluster_add_group(c, r->group, x.scope, x.is_soft, &g, err);
            if (rc)
                goto cleanup;
        }
        vm_of = calloc(r->n_vms, sizeof(*vm_of));
        if (!vm_of) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < r->n_vms; i++) {
            const struct plc_vm_req *v = &r->vms[i];
            rc = plc_cluster_add_vm(c, v->name, g, r->group ? v->role : PLC_ROLE_NONE, &v->demand,
                                    &ret_choices[i], &vm_of[i], err);
            if (rc) {
                /* Cannot happen after a successful search except on ENOMEM:
                 * roll back what was added. */
                for (size_t j = 0; j < i; j++)
                    plc_cluster_remove_vm(c, plc_cluster_find_vm(c, r->vms[j].name));
                goto cleanup;
            }
        }
        /* The last check was on exactly this state: keep its witnesses. */
        if (!r->is_reserve_waived)
            plc_heal_commit(c, vm_of);
    }
    rc = NFV_OK;
cleanup:
    free(vm_of);
    free(tent);
    ctx_free(&x);
    return rc;
}

/* With member @i at host @h alone (its choice @ch claimed): the healing
 * reserve check against the group's placed members. */
static bool member_reserve_ok(struct req_ctx *x, size_t i, const struct plc_choice *ch,
                              struct plc_heal_fail *ret_fail)
{
    const struct plc_demand *d = &x->r->vms[i].demand;
    struct plc_overlay ov = {.n = 1,
                             .demands = &d,
                             .hosts = &ch->host,
                             .is_member = is_member(x),
                             .group = x->group,
                             .scope = x->scope,
                             .is_soft = x->is_soft};
    plc_claim(x->c, ch, +1);
    bool ok = plc_heal_check(x->c, &ov, PLC_MAX_RESERVE_STEPS(x->c->n_hosts), ret_fail);
    plc_claim(x->c, ch, -1);
    if (ret_fail->ref == PLC_HEAL_OV)
        ret_fail->ref = PLC_HEAL_OV | (uint32_t)i; /* overlay index 0 is member i */
    return ok;
}

/* Joint refusal: would a whole combination place with member @i at @h? */
static enum plc_filter joint_fail(struct plc_cluster *c, const struct plc_req *r, size_t i,
                                  uint32_t h)
{
    struct plc_vm_req *vms = malloc(r->n_vms * sizeof(*vms));
    struct plc_choice *tmp = calloc(r->n_vms, sizeof(*tmp));
    enum plc_filter f = PLC_F__COUNT;
    struct nfv_err err;

    if (vms && tmp) {
        struct plc_req copy = *r;
        memcpy(vms, r->vms, r->n_vms * sizeof(*vms));
        vms[i].force_host = c->hosts[h].name;
        copy.vms = vms;
        if (plc_place(c, &copy, false, tmp, &err) != NFV_OK)
            f = strstr(err.msg, "healing reserve") ? PLC_F_RESERVE : PLC_F_ANTI_AFFINITY;
    }
    free(vms);
    free(tmp);
    return f;
}

/* A soft group's placement @ch: names, per member, a member of the group
 * (earlier in the request, or already in the cluster) in the same scope
 * domain - the search puts a soft member beside another only when no host
 * apart from the members chosen before it passes (members already placed
 * rank such hosts last), so this is where the group could not spread. */
static void note_colocated(const struct req_ctx *x, const struct plc_choice *ch,
                           struct plc_explain *e)
{
    const struct plc_cluster *c = x->c;
    const struct plc_group *g = x->group != PLC_NONE ? &c->groups[x->group] : NULL;

    for (size_t i = 0; i < x->r->n_vms; i++) {
        uint32_t dom = c->hosts[ch[i].host].dom[x->scope];
        struct plc_explain_member *m = &e->members[i];
        for (size_t j = 0; j < i && !m->shares_with; j++)
            if (c->hosts[ch[j].host].dom[x->scope] == dom)
                m->shares_with = x->r->vms[j].name;
        for (uint32_t k = 0; g && k < g->n_members && !m->shares_with; k++) {
            const struct plc_vm *o = &c->vms[g->members[k]];
            if (o->at.host != PLC_NONE && c->hosts[o->at.host].dom[x->scope] == dom)
                m->shares_with = o->name;
        }
        if (m->shares_with) {
            m->shared_dom = dom;
            e->is_soft_colocated = true;
        }
    }
}

struct plc_explain *plc_explain_new(struct plc_cluster *c, const struct plc_req *r,
                                    struct nfv_err *err)
{
    struct req_ctx x;
    struct plc_explain *e = NULL;

    if (ctx_init(&x, c, r, err) != NFV_OK)
        goto fail;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->members = calloc(r->n_vms, sizeof(*e->members)))) {
        NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto fail;
    }
    e->n_hosts = c->n_hosts;
    e->n_vms = r->n_vms;
    e->scope = x.scope;
    for (size_t i = 0; i < r->n_vms; i++) {
        struct plc_explain_member *m = &e->members[i];
        const struct plc_vm_req *v = &r->vms[i];
        size_t nh = c->n_hosts ? c->n_hosts : 1;
        m->first_fail = malloc(nh);
        m->joint_fail = malloc(nh);
        m->uncovered = malloc(nh * sizeof(*m->uncovered));
        m->shared_dom = PLC_NONE;
        if (!m->first_fail || !m->joint_fail || !m->uncovered) {
            NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t h = 0; h < c->n_hosts; h++) {
            struct plc_choice ch;
            enum plc_filter f = host_filters(&x, i, h, &ch);
            m->uncovered[h].dom = PLC_NONE;
            m->uncovered[h].vm = NULL;
            if (f == PLC_F__COUNT && is_member(&x) && !x.is_soft &&
                aa_conflicts(&x, h, x.exist, x.n_exist))
                f = PLC_F_ANTI_AFFINITY;
            if (f == PLC_F__COUNT && !r->is_reserve_waived) {
                struct plc_heal_fail hf = {.dom = PLC_NONE, .ref = PLC_NONE};
                plc_fit_host(c, h, &v->demand, &ch); /* with core bitmaps */
                if (!member_reserve_ok(&x, i, &ch, &hf)) {
                    f = PLC_F_RESERVE;
                    m->uncovered[h].kind = hf.kind;
                    m->uncovered[h].dom = hf.dom;
                    if (hf.ref != PLC_NONE && (hf.ref & PLC_HEAL_OV))
                        m->uncovered[h].vm = r->vms[hf.ref & ~PLC_HEAL_OV].name;
                    else if (hf.ref != PLC_NONE && hf.ref < c->n_vms)
                        m->uncovered[h].vm = c->vms[hf.ref].name;
                }
            }
            m->first_fail[h] = (uint8_t)f;
            m->joint_fail[h] = PLC_F__COUNT;
            m->counts[f]++;
        }
    }
    {
        struct plc_choice *tmp = calloc(r->n_vms, sizeof(*tmp));
        struct nfv_err perr;
        if (!tmp) {
            NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto fail;
        }
        e->is_placeable = plc_place(c, r, false, tmp, &perr) == NFV_OK;
        if (!e->is_placeable)
            snprintf(e->why, sizeof(e->why), "%s", perr.msg);
        else if (is_member(&x) && x.is_soft)
            note_colocated(&x, tmp, e);
        free(tmp);
    }
    /* A joint refusal: every member has hosts passing alone, yet no
     * combination works. Say per host why it fails together. */
    if (!e->is_placeable && r->n_vms > 1)
        for (size_t i = 0; i < r->n_vms; i++)
            for (uint32_t h = 0; h < c->n_hosts; h++)
                if (e->members[i].first_fail[h] == PLC_F__COUNT)
                    e->members[i].joint_fail[h] = (uint8_t)joint_fail(c, r, i, h);
    ctx_free(&x);
    return e;
fail:
    ctx_free(&x);
    plc_explain_free(e);
    return NULL;
}

void plc_explain_free(struct plc_explain *e)
{
    if (!e)
        return;
    if (e->members)
        for (size_t i = 0; i < e->n_vms; i++)
            free(e->members[i].first_fail), free(e->members[i].joint_fail),
                free(e->members[i].uncovered);
    free(e->members);
    free(e);
}

enum nfv_code plc_whatif(const struct plc_cluster *c, const struct plc_req *reqs, size_t n_reqs,
                         enum nfv_code *ret_codes, struct plc_choice **ret_choices,
                         struct nfv_err *err)
{
    struct plc_cluster *copy = plc_cluster_clone(c);

    if (!copy)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n_reqs; i++)
        ret_codes[i] = plc_place(copy, &reqs[i], true, ret_choices[i], NULL);
    plc_cluster_free(copy);
    return NFV_OK;
}
