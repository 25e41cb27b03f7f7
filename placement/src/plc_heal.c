/*
 * plc_heal.c - the healing reserve, checked exactly per failure domain.
 *
 * Guarantee (issue 11): after every placement the engine accepts, for every
 * failure domain D of the checked kinds (every host, plus every rack, zone
 * or power feed when that is the configured failure), every group member on
 * D can be rebuilt on the hosts that survive D: each on an up host outside
 * D that has its capabilities and a NUMA-shaped fit for its cores (numbered
 * ones included), memory and hugepages, all of them at once, with the hard
 * members of each group pairwise apart at the group's scope (surviving
 * members where they are, rebuilt ones where they are rebuilt).
 *
 * The proof is a witness: per failure domain, one rebuild host (and node
 * shares) for every member on it, found by the search below and kept
 * between requests. A request is accepted only if every witness it can
 * affect is still valid or can be repaired:
 *   - domains that get a new member (the request's hosts) and domains
 *     holding a sibling of a new member (anti-affinity changed) are solved
 *     again, keeping the still-valid rebuilds and searching the rest;
 *   - domains whose witness rebuilds something on a host the request takes
 *     capacity from are re-checked on that host only (the rebuilds there
 *     still fit the free cores, memory, hugepages and named cores), and
 *     solved again if not.
 * Witnesses are checked by counts: rebuilds on one node fit when their
 * cores, memory and hugepages sum to at most what is free and their named
 * cores are free and distinct, which is exact (the other cores are
 * interchangeable). A placement never frees capacity, so a valid witness
 * stays valid under every change the engine does not see except losses of
 * capacity, which it tracks per host (plc_heal_note_*).
 *
 * Deleting a VM only frees capacity and removes a member or a sibling, so
 * every witness stays valid: the condition is monotone.
 *
 * The search is a depth-first assignment, most constrained member first
 * (named cores, capabilities, NUMA width, size), candidate hosts in a
 * per-domain rotated order (so witnesses of different domains spread over
 * the cluster instead of all pointing at one host the engine fills next),
 * with backtracking bounded by HEAL_BUDGET fits per domain. A search that
 * runs out of budget counts as "cannot heal": the check stays sound, only
 * completeness is bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "plc_priv.h"

#define HEAL_OV PLC_HEAL_OV
/* Hosts examined per domain search: enough for an exhaustive search on
 * small clusters, 16 passes over the hosts on large ones (a request's
 * latency bound; a search out of budget refuses, never accepts). */
#define HEAL_BUDGET(n_hosts) ((n_hosts) <= 64 ? 60000ul : 16ul * (n_hosts))

struct hpart {
    uint8_t node;
    uint16_t n_cores;
    uint32_t mem_mib, hp_mib;
};

struct wentry {
    uint32_t ref;  /* vm index or HEAL_OV | overlay index */
    uint32_t host; /* rebuild host, PLC_NONE = none found */
    uint8_t n_parts;
    struct hpart parts[PLC_MAX_VM_NODES];
};

struct witness {
    struct wentry *e;
    uint32_t n, alloc;
    bool is_broken;
    uint32_t lost_ref; /* first member without a rebuild when broken */
};

struct dref {
    uint8_t kind; /* enum plc_scope */
    uint32_t dom;
};

struct pend {
    struct dref d;
    size_t off, n;
    bool is_broken;
    uint32_t lost_ref;
};

struct plc_heal {
    size_t n_hosts;
    unsigned n_kinds;
    enum plc_scope kinds[PLC_SCOPE__COUNT];
    /* per kind and domain: its failure is checked (cfg.failure, or the
     * failure of the zones of the hosts in it) */
    uint8_t *checked[PLC_SCOPE__COUNT];
    struct witness *w[PLC_SCOPE__COUNT];
    size_t n_dom[PLC_SCOPE__COUNT];
    struct dref **refs; /* per host: witnesses rebuilding something there */
    uint32_t *n_refs, *a_refs;
    uint32_t *dirty; /* hosts that lost capacity or changed state */
    size_t n_dirty, a_dirty;
    uint8_t *is_dirty;
    uint32_t *fresh; /* group members added since the last refresh */
    size_t n_fresh, a_fresh;
    uint32_t *mark[PLC_SCOPE__COUNT]; /* affected-domain dedupe (epoch) */
    uint32_t epoch;
    struct dref *aff;
    size_t n_aff, a_aff;
    struct pend *pend;
    size_t n_pend, a_pend;
    struct wentry *pe;
    size_t n_pe, a_pe;
    struct wentry *work;
    size_t a_work;
    uint32_t *order;
    size_t a_order;
    uint64_t steps;     /* hosts examined by searches, ever (for request caps) */
    uint64_t steps_cap; /* while checking a request: stop searching here (0: none) */
};

void plc_heal_free(struct plc_heal *hl)
{
    if (!hl)
        return;
    for (int k = 0; k < PLC_SCOPE__COUNT; k++) {
        if (hl->w[k])
            for (size_t d = 0; d < hl->n_dom[k]; d++)
                free(hl->w[k][d].e);
        free(hl->w[k]);
        free(hl->mark[k]);
        free(hl->checked[k]);
    }
    if (hl->refs)
        for (size_t h = 0; h < hl->n_hosts; h++)
            free(hl->refs[h]);
    free(hl->refs);
    free(hl->n_refs);
    free(hl->a_refs);
    free(hl->dirty);
    free(hl->is_dirty);
    free(hl->fresh);
    free(hl->aff);
    free(hl->pend);
    free(hl->pe);
    free(hl->work);
    free(hl->order);
    free(hl);
}

void plc_heal_reset(struct plc_cluster *c)
{
    plc_heal_free(c->heal);
    c->heal = NULL;
}

/* ---- members: real VMs and the request's tentative ones ---- */

static const struct plc_demand *m_demand(const struct plc_cluster *c, const struct plc_overlay *ov,
                                         uint32_t ref)
{
    return ref & HEAL_OV ? ov->demands[ref & ~HEAL_OV] : &c->vms[ref].demand;
}

static uint32_t m_host(const struct plc_cluster *c, const struct plc_overlay *ov, uint32_t ref)
{
    return ref & HEAL_OV ? ov->hosts[ref & ~HEAL_OV] : c->vms[ref].at.host;
}

/* Hard group of @ref: real group index (or PLC_NONE for a new one) and scope;
 * false if @ref has no hard anti-affinity. */
static bool m_hard(const struct plc_cluster *c, const struct plc_overlay *ov, uint32_t ref,
                   uint32_t *ret_group, enum plc_scope *ret_scope)
{
    if (ref & HEAL_OV) {
        if (ov->is_soft)
            return false;
        *ret_group = ov->group;
        *ret_scope = ov->scope;
        return true;
    }
    const struct plc_vm *v = &c->vms[ref];
    if (v->group == PLC_NONE || c->groups[v->group].is_soft)
        return false;
    *ret_group = v->group;
    *ret_scope = c->groups[v->group].scope;
    return true;
}

/* Where @ref is while domain (@kind, @dom) is failed: its rebuild host in
 * @work if it is one of the domain's members, else where it runs. */
static uint32_t m_pos(const struct plc_cluster *c, const struct plc_overlay *ov,
                      const struct wentry *work, size_t n_work, uint32_t ref)
{
    for (size_t i = 0; i < n_work; i++)
        if (work[i].ref == ref)
            return work[i].host;
    return m_host(c, ov, ref);
}

/* true if rebuilding @ref on host @h keeps its hard group pairwise apart. */
static bool apart(const struct plc_cluster *c, const struct plc_overlay *ov,
                  const struct wentry *work, size_t n_work, uint32_t ref, uint32_t h)
{
    uint32_t g;
    enum plc_scope s;
    if (!m_hard(c, ov, ref, &g, &s))
        return true;
    uint32_t dom = c->hosts[h].dom[s];
    if (g != PLC_NONE) {
        const struct plc_group *gr = &c->groups[g];
        for (uint32_t i = 0; i < gr->n_members; i++) {
            uint32_t o = gr->members[i], p;
            if (o == ref || (p = m_pos(c, ov, work, n_work, o)) == PLC_NONE)
                continue;
            if (c->hosts[p].dom[s] == dom)
                return false;
        }
    }
    if (ov && ov->is_member && ov->group == g && !ov->is_soft)
        for (size_t i = 0; i < ov->n; i++) {
            uint32_t o = HEAL_OV | (uint32_t)i, p;
            if (o == ref || (p = m_pos(c, ov, work, n_work, o)) == PLC_NONE)
                continue;
            if (c->hosts[p].dom[s] == dom)
                return false;
        }
    return true;
}

/* ---- virtual claims (counts and named cores; undone exactly) ---- */

static bool numbered_bit(const struct plc_host *h, unsigned node, unsigned id, unsigned *ret_li)
{
    const struct plc_node *nd = &h->nodes[node];
    if (id < nd->first_core || id >= (unsigned)nd->first_core + nd->n_cores)
        return false;
    *ret_li = id - nd->first_core;
    return true;
}

/* Claims (+1) or releases (-1) @e on the model's counters; with +1 it
 * first checks that it fits and returns false (claiming nothing) if not. */
static bool vclaim(struct plc_cluster *c, const struct plc_demand *d, const struct wentry *e,
                   int sign)
{
    struct plc_host *h = &c->hosts[e->host];
    if (sign > 0) {
        for (unsigned p = 0; p < e->n_parts; p++) {
            const struct plc_node *nd = &h->nodes[e->parts[p].node];
            if (nd->n_free < e->parts[p].n_cores || nd->free_mem_mib < e->parts[p].mem_mib ||
                nd->free_hp_mib < e->parts[p].hp_mib)
                return false;
        }
        for (unsigned i = 0; i < d->n_numbered; i++) {
            bool found = false;
            for (unsigned p = 0; p < e->n_parts && !found; p++) {
                unsigned li;
                if (!numbered_bit(h, e->parts[p].node, d->numbered[i], &li))
                    continue;
                found = (h->nodes[e->parts[p].node].free_cores[li / 64] >> (li % 64)) & 1u;
                if (!found)
                    return false;
            }
            if (!found)
                return false;
        }
    }
    for (unsigned p = 0; p < e->n_parts; p++) {
        struct plc_node *nd = &h->nodes[e->parts[p].node];
        nd->n_free = (uint16_t)(nd->n_free - sign * (int)e->parts[p].n_cores);
        nd->free_mem_mib =
            (uint32_t)((int64_t)nd->free_mem_mib - sign * (int64_t)e->parts[p].mem_mib);
        nd->free_hp_mib = (uint32_t)((int64_t)nd->free_hp_mib - sign * (int64_t)e->parts[p].hp_mib);
        for (unsigned i = 0; i < d->n_numbered; i++) {
            unsigned li;
            if (!numbered_bit(h, e->parts[p].node, d->numbered[i], &li))
                continue;
            if (sign > 0)
                nd->free_cores[li / 64] &= ~(UINT64_C(1) << (li % 64));
            else
                nd->free_cores[li / 64] |= UINT64_C(1) << (li % 64);
        }
    }
    return true;
}

static void set_parts(struct wentry *e, const struct plc_choice *ch)
{
    e->n_parts = ch->n_parts;
    for (unsigned p = 0; p < ch->n_parts; p++) {
        e->parts[p].node = ch->parts[p].node;
        e->parts[p].n_cores = ch->parts[p].n_cores;
        e->parts[p].mem_mib = ch->parts[p].mem_mib;
        e->parts[p].hp_mib = ch->parts[p].hp_mib;
    }
}

/* Claims @e on its host as planned or, if its nodes are now too full, on
 * other nodes of the same host (updating @e). The planned nodes only ever
 * need to fit the capacity of now or more, so re-choosing them is safe even
 * while a request's claims are tentative. */
static bool vclaim_refit(struct plc_cluster *c, const struct plc_demand *d, struct wentry *e)
{
    if (vclaim(c, d, e, +1))
        return true;
    struct plc_choice ch;
    if (plc_fit_host(c, e->host, d, &ch) != PLC_F__COUNT)
        return false;
    set_parts(e, &ch);
    return vclaim(c, d, e, +1);
}

/* ---- the per-domain search ---- */

struct solve_ctx {
    struct plc_cluster *c;
    const struct plc_overlay *ov;
    enum plc_scope kind;
    uint32_t dom;
    struct wentry *work;
    size_t n_work;
    const uint32_t *order;  /* indexes into work, most constrained first */
    uint32_t start, stride; /* host order: start + j * stride (mod hosts) */
    unsigned long *budget;
};

static unsigned host_free_cores(const struct plc_host *h)
{
    unsigned n = 0;
    for (unsigned i = 0; i < h->n_nodes; i++)
        n += h->nodes[i].n_free;
    return n;
}

/* One host examined: false when the domain's or the request's budget is
 * spent (the search then fails: refused, never accepted unproven). */
static bool spend(const struct solve_ctx *s)
{
    struct plc_heal *hl = s->c->heal;
    if (*s->budget == 0 || (hl->steps_cap && hl->steps >= hl->steps_cap))
        return false;
    (*s->budget)--;
    hl->steps++;
    return true;
}

/* The cheap filters: state, failed domain, capabilities, free cores. */
static bool host_may(const struct solve_ctx *s, uint32_t h, const struct plc_demand *d)
{
    const struct plc_host *hh = &s->c->hosts[h];
    return hh->state == PLC_HOST_UP && hh->dom[s->kind] != s->dom &&
           (hh->caps & d->caps) == d->caps && host_free_cores(hh) >= d->n_cores;
}

/* Search pass of a host: empty hosts first, then roomy ones (at least half
 * their cores free), then the rest. The pack weigher fills the fullest
 * hosts next, so rebuilds planned on empty and roomy ones stay valid
 * longest (fewer witnesses to repair per request). */
static int host_pass(const struct plc_host *h)
{
    if (h->n_vms == 0)
        return 0;
    return 2 * host_free_cores(h) >= h->n_cores ? 1 : 2;
}

static bool solve(struct solve_ctx *s, size_t i)
{
    if (i == s->n_work)
        return true;
    struct wentry *e = &s->work[s->order[i]];
    if (e->host != PLC_NONE)
        return solve(s, i + 1);
    const struct plc_demand *d = m_demand(s->c, s->ov, e->ref);
    size_t n = s->c->n_hosts;
    for (int pass = 0; pass < 3; pass++) {
        for (size_t j = 0; j < n; j++) {
            uint32_t h = (uint32_t)((s->start + j * s->stride) % n);
            /* Only hosts passing the cheap filters count against the budget:
             * a full cluster's scan is mostly those rejections. */
            if (host_pass(&s->c->hosts[h]) != pass || !host_may(s, h, d))
                continue;
            if (!spend(s))
                return false;
            if (!apart(s->c, s->ov, s->work, s->n_work, e->ref, h))
                continue;
            struct plc_choice ch;
            if (plc_fit_host(s->c, h, d, &ch) != PLC_F__COUNT)
                continue;
            e->host = h;
            set_parts(e, &ch);
            vclaim(s->c, d, e, +1); /* fits: plc_fit_host said so */
            if (solve(s, i + 1))
                return true;
            vclaim(s->c, d, e, -1);
            e->host = PLC_NONE;
        }
    }
    return false;
}

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A stride coprime with @n near 0.618 n: the scan visits every host once,
 * scattered, so the first host that fits is not always the one next to a
 * block of full ones (which is the one the engine fills next). */
static uint32_t scatter_stride(size_t n)
{
    size_t k = n * 618 / 1000;
    if (k == 0)
        return 1;
    while (gcd(k, n) != 1)
        k--;
    return (uint32_t)k;
}

/* Necessary condition, O(hosts) per member: every member without a rebuild
 * fits some host on its own. Most refusals stop here instead of in the
 * backtracking search. */
static bool each_has_host(const struct solve_ctx *s)
{
    for (size_t i = 0; i < s->n_work; i++) {
        const struct wentry *e = &s->work[i];
        if (e->host != PLC_NONE)
            continue;
        const struct plc_demand *d = m_demand(s->c, s->ov, e->ref);
        bool found = false;
        for (uint32_t h = 0; h < s->c->n_hosts && !found; h++) {
            if (!host_may(s, h, d))
                continue;
            if (!spend(s))
                return false;
            found = apart(s->c, s->ov, s->work, s->n_work, e->ref, h) &&
                    plc_fit_host(s->c, h, d, NULL) == PLC_F__COUNT;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Constraint rank: higher = placed first. */
static uint64_t tightness(const struct plc_demand *d)
{
    return ((uint64_t)(d->n_numbered > 0) << 60) | ((uint64_t)__builtin_popcountll(d->caps) << 52) |
           ((uint64_t)d->numa_nodes << 44) | ((uint64_t)d->n_cores << 28) | (d->mem_mib >> 4);
}

static int order_cmp_ctx_free(const struct plc_cluster *c, const struct plc_overlay *ov,
                              const struct wentry *a, const struct wentry *b)
{
    uint64_t ta = tightness(m_demand(c, ov, a->ref)), tb = tightness(m_demand(c, ov, b->ref));
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return a->ref < b->ref ? -1 : a->ref > b->ref;
}

/* Search order in @order: members with a kept rebuild first (the search
 * skips them), then the others most constrained first (insertion sort:
 * few are without a rebuild). */
static void order_work(const struct plc_cluster *c, const struct plc_overlay *ov,
                       const struct wentry *work, size_t n, uint32_t *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (work[i].host != PLC_NONE)
            order[k++] = (uint32_t)i;
    size_t first = k;
    for (size_t i = 0; i < n; i++) {
        if (work[i].host != PLC_NONE)
            continue;
        size_t j = k++;
        while (j > first && order_cmp_ctx_free(c, ov, &work[order[j - 1]], &work[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint32_t)i;
    }
}

/* Members of (@kind, @dom) now: the stored witness's members that are still
 * protected there, the fresh ones, and the overlay's. Fills hl->work (hosts
 * of still-usable rebuilds kept when @is_keep). */
static bool is_member_of(const struct plc_cluster *c, const struct plc_overlay *ov, uint32_t ref,
                         enum plc_scope kind, uint32_t dom)
{
    if (ref & HEAL_OV) {
        return ov && ov->is_member && (ref & ~HEAL_OV) < ov->n &&
               c->hosts[ov->hosts[ref & ~HEAL_OV]].dom[kind] == dom;
    }
    if (ref >= c->n_vms)
        return false;
    const struct plc_vm *v = &c->vms[ref];
    return v->name && v->group != PLC_NONE && v->at.host != PLC_NONE &&
           c->hosts[v->at.host].dom[kind] == dom;
}

static bool add_work(struct plc_heal *hl, size_t *n, uint32_t ref, const struct wentry *from,
                     bool is_dedupe)
{
    for (size_t i = 0; is_dedupe && i < *n; i++)
        if (hl->work[i].ref == ref)
            return true;
    if (!plc_grow_array((void **)&hl->work, &hl->a_work, *n + 1, sizeof(*hl->work)))
        return false;
    if (from) {
        hl->work[*n] = *from;
    } else {
        memset(&hl->work[*n], 0, sizeof(hl->work[*n]));
        hl->work[*n].ref = ref;
        hl->work[*n].host = PLC_NONE;
    }
    (*n)++;
    return true;
}

/*
 * Solves domain (@kind, @dom) into hl->work[0..*ret_n): keeps the stored
 * rebuilds that are still valid, searches the rest, and if that fails
 * searches everything again. Returns true if every member has a rebuild.
 */
static bool heal_domain(struct plc_cluster *c, const struct plc_overlay *ov, enum plc_scope kind,
                        uint32_t dom, size_t *ret_n, bool *ret_nomem)
{
    struct plc_heal *hl = c->heal;
    const struct witness *w = &hl->w[kind][dom];
    size_t n = 0;

    *ret_nomem = false;
    for (uint32_t i = 0; i < w->n; i++)
        if (is_member_of(c, ov, w->e[i].ref, kind, dom) &&
            !add_work(hl, &n, w->e[i].ref, &w->e[i], false))
            goto nomem;
    for (size_t i = 0; i < hl->n_fresh; i++)
        if (is_member_of(c, ov, hl->fresh[i], kind, dom) &&
            !add_work(hl, &n, hl->fresh[i], NULL, true))
            goto nomem;
    if (ov && ov->is_member)
        for (size_t i = 0; i < ov->n; i++)
            if (is_member_of(c, ov, HEAL_OV | (uint32_t)i, kind, dom) &&
                !add_work(hl, &n, HEAL_OV | (uint32_t)i, NULL, false))
                goto nomem;
    *ret_n = n;
    hl->steps += 4 * n; /* keep, order and release: counted like hosts examined */
    if (!plc_grow_array((void **)&hl->order, &hl->a_order, n + 1, sizeof(*hl->order)))
        goto nomem;
    /* Keep the rebuilds that are still valid (in witness order). */
    for (size_t i = 0; i < n; i++) {
        struct wentry *e = &hl->work[i];
        if (e->host == PLC_NONE)
            continue;
        const struct plc_demand *d = m_demand(c, ov, e->ref);
        const struct plc_host *hh = &c->hosts[e->host];
        uint32_t keep = e->host;
        e->host = PLC_NONE; /* not yet placed while checking anti-affinity */
        if (hh->state == PLC_HOST_UP && hh->dom[kind] != dom && (hh->caps & d->caps) == d->caps &&
            apart(c, ov, hl->work, n, e->ref, keep)) {
            e->host = keep;
            if (!vclaim_refit(c, d, e))
                e->host = PLC_NONE;
        }
    }
    order_work(c, ov, hl->work, n, hl->order);
    unsigned long budget = HEAL_BUDGET(c->n_hosts);
    struct solve_ctx s = {
        .c = c,
        .ov = ov,
        .kind = kind,
        .dom = dom,
        .work = hl->work,
        .n_work = n,
        .order = hl->order,
        .start = (uint32_t)((dom * 2654435761u + kind * 40503u) % (c->n_hosts ? c->n_hosts : 1)),
        .stride = scatter_stride(c->n_hosts),
        .budget = &budget};
    bool is_kept = false;
    for (size_t i = 0; i < n; i++)
        is_kept |= hl->work[i].host != PLC_NONE;
    bool ok = each_has_host(&s) && solve(&s, 0);
    if (!ok && is_kept) {
        /* Start over without the kept rebuilds. */
        for (size_t i = 0; i < n; i++)
            if (hl->work[i].host != PLC_NONE) {
                vclaim(c, m_demand(c, ov, hl->work[i].ref), &hl->work[i], -1);
                hl->work[i].host = PLC_NONE;
            }
        order_work(c, ov, hl->work, n, hl->order);
        budget = HEAL_BUDGET(c->n_hosts);
        ok = each_has_host(&s) && solve(&s, 0);
    }
    for (size_t i = 0; i < n; i++)
        if (hl->work[i].host != PLC_NONE)
            vclaim(c, m_demand(c, ov, hl->work[i].ref), &hl->work[i], -1);
    return ok;
nomem:
    *ret_nomem = true;
    return false;
}

/* ---- witness storage ---- */

static bool add_ref(struct plc_heal *hl, uint32_t h, enum plc_scope kind, uint32_t dom)
{
    for (uint32_t i = 0; i < hl->n_refs[h]; i++)
        if (hl->refs[h][i].kind == kind && hl->refs[h][i].dom == dom)
            return true;
    size_t a = hl->a_refs[h];
    if (!plc_grow_array((void **)&hl->refs[h], &a, hl->n_refs[h] + 1, sizeof(**hl->refs)))
        return false;
    hl->a_refs[h] = (uint32_t)a;
    hl->refs[h][hl->n_refs[h]].kind = (uint8_t)kind;
    hl->refs[h][hl->n_refs[h]].dom = dom;
    hl->n_refs[h]++;
    return true;
}

/* Stores @n entries as the witness of (@kind, @dom); overlay refs are
 * mapped through @ov_vm (NULL: none expected). */
static bool store(struct plc_heal *hl, enum plc_scope kind, uint32_t dom, const struct wentry *e,
                  size_t n, bool is_broken, uint32_t lost_ref, const uint32_t *ov_vm)
{
    struct witness *w = &hl->w[kind][dom];
    size_t a = w->alloc;
    if (!plc_grow_array((void **)&w->e, &a, n + 1, sizeof(*w->e)))
        return false;
    w->alloc = (uint32_t)a;
    memcpy(w->e, e, n * sizeof(*e));
    w->n = (uint32_t)n;
    w->is_broken = is_broken;
    w->lost_ref = lost_ref;
    for (size_t i = 0; i < n; i++) {
        if (w->e[i].ref & HEAL_OV)
            w->e[i].ref = ov_vm ? ov_vm[w->e[i].ref & ~HEAL_OV] : PLC_NONE;
        if (w->e[i].host != PLC_NONE && !add_ref(hl, w->e[i].host, kind, dom))
            return false;
    }
    if (w->lost_ref != PLC_NONE && (w->lost_ref & HEAL_OV))
        w->lost_ref = ov_vm ? ov_vm[w->lost_ref & ~HEAL_OV] : PLC_NONE;
    return true;
}

static bool is_live_entry(const struct plc_cluster *c, const struct wentry *e, uint32_t h)
{
    return e->host == h && e->ref < c->n_vms && c->vms[e->ref].name;
}

/* true if the rebuilds (@kind, @dom) plans on host @h still fit there
 * (their nodes re-chosen on @h if needed). */
static bool fits_on(struct plc_cluster *c, enum plc_scope kind, uint32_t dom, uint32_t h)
{
    struct witness *w = &c->heal->w[kind][dom];
    bool ok = c->hosts[h].state == PLC_HOST_UP;
    uint32_t i;

    c->heal->steps += w->n;
    for (i = 0; i < w->n && ok; i++)
        if (is_live_entry(c, &w->e[i], h) &&
            !vclaim_refit(c, &c->vms[w->e[i].ref].demand, &w->e[i]))
            break; /* the failing one claimed nothing */
    if (i < w->n)
        ok = false;
    for (uint32_t j = 0; j < i; j++)
        if (is_live_entry(c, &w->e[j], h))
            vclaim(c, &c->vms[w->e[j].ref].demand, &w->e[j], -1);
    return ok;
}

/* ---- affected domains ---- */

static bool affect(struct plc_heal *hl, enum plc_scope kind, uint32_t dom, bool is_full)
{
    if (!hl->checked[kind][dom])
        return true; /* a failure the reserve need not survive */
    uint32_t *m = &hl->mark[kind][dom];
    /* mark: epoch*2 = ref check only, epoch*2+1 = full */
    uint32_t want = hl->epoch * 2 + (is_full ? 1u : 0u);
    if (*m == hl->epoch * 2 + 1 || *m == want)
        return true;
    if (*m != hl->epoch * 2) {
        if (!plc_grow_array((void **)&hl->aff, &hl->a_aff, hl->n_aff + 1, sizeof(*hl->aff)))
            return false;
        hl->aff[hl->n_aff].kind = (uint8_t)kind;
        hl->aff[hl->n_aff].dom = dom;
        hl->n_aff++;
    }
    *m = want;
    return true;
}

/* Domains that a new member on host @h with siblings in group @g (PLC_NONE:
 * none placed) affects. */
static bool affect_member(struct plc_cluster *c, uint32_t h, uint32_t g, uint32_t self)
{
    struct plc_heal *hl = c->heal;
    for (unsigned k = 0; k < hl->n_kinds; k++)
        if (!affect(hl, hl->kinds[k], c->hosts[h].dom[hl->kinds[k]], true))
            return false;
    if (g == PLC_NONE)
        return true;
    const struct plc_group *gr = &c->groups[g];
    for (uint32_t i = 0; i < gr->n_members; i++) {
        const struct plc_vm *s = &c->vms[gr->members[i]];
        if (gr->members[i] == self || s->at.host == PLC_NONE)
            continue;
        for (unsigned k = 0; k < hl->n_kinds; k++)
            if (!affect(hl, hl->kinds[k], c->hosts[s->at.host].dom[hl->kinds[k]], true))
                return false;
    }
    return true;
}

static bool affect_capacity(struct plc_heal *hl, uint32_t h)
{
    for (uint32_t i = 0; i < hl->n_refs[h]; i++)
        if (!affect(hl, hl->refs[h][i].kind, hl->refs[h][i].dom, false))
            return false;
    return true;
}

/* ---- building and refreshing ---- */

static enum nfv_code heal_build(struct plc_cluster *c)
{
    struct plc_heal *hl = calloc(1, sizeof(*hl));
    if (!hl)
        return NFV_E_NOMEM;
    c->heal = hl;
    hl->n_hosts = c->n_hosts;
    for (int s = 0; s < PLC_SCOPE__COUNT; s++) {
        size_t nd = plc_cluster_n_domains(c, (enum plc_scope)s);
        hl->checked[s] = calloc(nd ? nd : 1, 1);
        if (!hl->checked[s])
            goto nomem;
    }
    /* Which failures are checked: per host, its zone's failure (cfg.failure
     * unless set per zone) names the host itself and the domain of that
     * kind holding it. */
    bool is_kind[PLC_SCOPE__COUNT] = {false};
    for (uint32_t h = 0; h < c->n_hosts; h++) {
        const struct plc_host *hh = &c->hosts[h];
        enum plc_scope k;
        if (hh->is_removed)
            continue;
        switch (plc_cluster_zone_failure(c, hh->dom[PLC_SCOPE_ZONE])) {
        case PLC_FAILURE_HOST:
            k = PLC_SCOPE_HOST;
            break;
        case PLC_FAILURE_RACK:
            k = PLC_SCOPE_RACK;
            break;
        case PLC_FAILURE_ZONE:
            k = PLC_SCOPE_ZONE;
            break;
        case PLC_FAILURE_POWER:
            k = PLC_SCOPE_POWER;
            break;
        default:
            continue; /* none */
        }
        hl->checked[PLC_SCOPE_HOST][h] = 1;
        hl->checked[k][hh->dom[k]] = 1;
        is_kind[PLC_SCOPE_HOST] = is_kind[k] = true;
    }
    for (int s = 0; s < PLC_SCOPE__COUNT; s++)
        if (is_kind[s])
            hl->kinds[hl->n_kinds++] = (enum plc_scope)s;
    size_t nh = c->n_hosts ? c->n_hosts : 1;
    hl->refs = calloc(nh, sizeof(*hl->refs));
    hl->n_refs = calloc(nh, sizeof(*hl->n_refs));
    hl->a_refs = calloc(nh, sizeof(*hl->a_refs));
    hl->is_dirty = calloc(nh, 1);
    if (!hl->refs || !hl->n_refs || !hl->a_refs || !hl->is_dirty)
        goto nomem;
    for (unsigned k = 0; k < hl->n_kinds; k++) {
        enum plc_scope s = hl->kinds[k];
        size_t nd = plc_cluster_n_domains(c, s);
        hl->n_dom[s] = nd;
        hl->w[s] = calloc(nd ? nd : 1, sizeof(**hl->w));
        hl->mark[s] = calloc(nd ? nd : 1, sizeof(**hl->mark));
        if (!hl->w[s] || !hl->mark[s])
            goto nomem;
    }
    /* Every placed group member is fresh; the next refresh solves every
     * domain holding one. */
    for (uint32_t v = 0; v < c->n_vms; v++)
        if (c->vms[v].name && c->vms[v].group != PLC_NONE && c->vms[v].at.host != PLC_NONE) {
            if (!plc_grow_array((void **)&hl->fresh, &hl->a_fresh, hl->n_fresh + 1,
                                sizeof(*hl->fresh)))
                goto nomem;
            hl->fresh[hl->n_fresh++] = v;
        }
    return NFV_OK;
nomem:
    plc_heal_reset(c);
    return NFV_E_NOMEM;
}

static void epoch_next(struct plc_heal *hl)
{
    hl->n_aff = 0;
    if (++hl->epoch >= UINT32_MAX / 2 - 1) {
        hl->epoch = 1;
        for (unsigned k = 0; k < hl->n_kinds; k++)
            memset(hl->mark[hl->kinds[k]], 0, hl->n_dom[hl->kinds[k]] * sizeof(uint32_t));
    }
}

/*
 * Solves every affected domain. With @ov (a tentative request whose claims
 * are applied) the results go to the pending list and nothing is stored;
 * without, they are stored. Returns false when a domain that must hold
 * (one with a new member, or one that held before) cannot heal; @ret_fail
 * names the first.
 */
static bool run_affected(struct plc_cluster *c, const struct plc_overlay *ov,
                         struct plc_heal_fail *ret_fail, bool *ret_nomem)
{
    struct plc_heal *hl = c->heal;
    bool ok = true;

    *ret_nomem = false;
    hl->n_pend = 0;
    hl->n_pe = 0;
    for (size_t i = 0; i < hl->n_aff && (ok || !ov); i++) {
        enum plc_scope kind = (enum plc_scope)hl->aff[i].kind;
        uint32_t dom = hl->aff[i].dom;
        struct witness *w = &hl->w[kind][dom];
        bool is_full = hl->mark[kind][dom] & 1u;
        if (!is_full) {
            /* Capacity lost on hosts this witness rebuilds on. */
            bool fine = true;
            for (uint32_t j = 0; j < w->n && fine; j++)
                if (w->e[j].host != PLC_NONE)
                    fine = fits_on(c, kind, dom, w->e[j].host);
            if (fine)
                continue;
        }
        size_t n;
        bool heals = heal_domain(c, ov, kind, dom, &n, ret_nomem);
        if (*ret_nomem)
            return false;
        uint32_t lost = PLC_NONE;
        for (size_t j = 0; j < n && lost == PLC_NONE; j++)
            if (!heals && hl->work[j].host == PLC_NONE)
                lost = hl->work[j].ref;
        if (!heals && lost == PLC_NONE && n)
            lost = hl->work[0].ref;
        /* A domain already broken may stay broken unless it gains a member. */
        bool gains = false;
        if (ov && ov->is_member)
            for (size_t j = 0; j < n && !gains; j++)
                gains = (hl->work[j].ref & HEAL_OV) != 0;
        if (!heals && (!w->is_broken || gains)) {
            ok = false;
            if (ret_fail) {
                ret_fail->kind = kind;
                ret_fail->dom = dom;
                ret_fail->ref = lost;
            }
        }
        if (ov) {
            if (!plc_grow_array((void **)&hl->pend, &hl->a_pend, hl->n_pend + 1,
                                sizeof(*hl->pend)) ||
                !plc_grow_array((void **)&hl->pe, &hl->a_pe, hl->n_pe + n + 1, sizeof(*hl->pe))) {
                *ret_nomem = true;
                return false;
            }
            hl->pend[hl->n_pend] = (struct pend){
                .d = hl->aff[i], .off = hl->n_pe, .n = n, .is_broken = !heals, .lost_ref = lost};
            memcpy(hl->pe + hl->n_pe, hl->work, n * sizeof(*hl->pe));
            hl->n_pe += n;
            hl->n_pend++;
        } else if (!store(hl, kind, dom, hl->work, n, !heals, lost, NULL)) {
            *ret_nomem = true;
            return false;
        }
    }
    return ok;
}

/* Processes the changes noted since the last refresh (stores the results). */
static enum nfv_code refresh(struct plc_cluster *c)
{
    struct plc_heal *hl = c->heal;
    bool nomem;

    if (!hl->n_dirty && !hl->n_fresh)
        return NFV_OK;
    epoch_next(hl);
    for (size_t i = 0; i < hl->n_fresh; i++) {
        const struct plc_vm *v = &c->vms[hl->fresh[i]];
        if (!v->name || v->group == PLC_NONE || v->at.host == PLC_NONE)
            continue;
        if (!affect_member(c, v->at.host, v->group, hl->fresh[i]))
            return NFV_E_NOMEM;
    }
    for (size_t i = 0; i < hl->n_dirty; i++)
        if (!affect_capacity(hl, hl->dirty[i]))
            return NFV_E_NOMEM;
    run_affected(c, NULL, NULL, &nomem);
    if (nomem)
        return NFV_E_NOMEM;
    for (size_t i = 0; i < hl->n_dirty; i++)
        hl->is_dirty[hl->dirty[i]] = 0;
    hl->n_dirty = 0;
    hl->n_fresh = 0;
    return NFV_OK;
}

enum nfv_code plc_heal_ensure(struct plc_cluster *c)
{
    if (!plc_cluster_has_reserve(c))
        return NFV_OK;
    if (c->heal && c->heal->n_hosts != c->n_hosts)
        plc_heal_reset(c);
    if (!c->heal && heal_build(c) != NFV_OK)
        return NFV_E_NOMEM;
    return refresh(c);
}

void plc_heal_note_host(struct plc_cluster *c, uint32_t h)
{
    struct plc_heal *hl = c->heal;
    if (!hl || h >= hl->n_hosts || hl->is_dirty[h])
        return;
    if (!plc_grow_array((void **)&hl->dirty, &hl->a_dirty, hl->n_dirty + 1, sizeof(*hl->dirty))) {
        plc_heal_reset(c); /* rebuilt from scratch on next use */
        return;
    }
    hl->is_dirty[h] = 1;
    hl->dirty[hl->n_dirty++] = h;
}

void plc_heal_note_vm(struct plc_cluster *c, uint32_t vm)
{
    struct plc_heal *hl = c->heal;
    const struct plc_vm *v = &c->vms[vm];
    if (!hl || v->at.host == PLC_NONE)
        return;
    plc_heal_note_host(c, v->at.host);
    if (!c->heal || v->group == PLC_NONE)
        return;
    if (!plc_grow_array((void **)&hl->fresh, &hl->a_fresh, hl->n_fresh + 1, sizeof(*hl->fresh))) {
        plc_heal_reset(c);
        return;
    }
    hl->fresh[hl->n_fresh++] = vm;
}

bool plc_heal_check(struct plc_cluster *c, const struct plc_overlay *ov, uint64_t max_steps,
                    struct plc_heal_fail *ret_fail)
{
    struct plc_heal *hl = c->heal;
    bool nomem;

    if (!plc_cluster_has_reserve(c) || !hl)
        return true;
    epoch_next(hl);
    for (size_t i = 0; i < ov->n; i++) {
        uint32_t h = ov->hosts[i];
        if (ov->is_member && !affect_member(c, h, ov->is_soft ? PLC_NONE : ov->group, PLC_NONE))
            return false;
        if (!affect_capacity(hl, h))
            return false;
    }
    hl->steps_cap = max_steps ? hl->steps + max_steps : 0;
    bool ok = run_affected(c, ov, ret_fail, &nomem);
    hl->steps_cap = 0;
    return ok && !nomem;
}

void plc_heal_commit(struct plc_cluster *c, const uint32_t *ov_vm)
{
    struct plc_heal *hl = c->heal;
    if (!hl)
        return;
    for (size_t i = 0; i < hl->n_pend; i++) {
        const struct pend *p = &hl->pend[i];
        if (!store(hl, (enum plc_scope)p->d.kind, p->d.dom, hl->pe + p->off, p->n, p->is_broken,
                   p->lost_ref, ov_vm)) {
            plc_heal_reset(c);
            return;
        }
    }
    hl->n_pend = 0;
    /* The commit's own notes are what the pending results already cover. */
    for (size_t i = 0; i < hl->n_dirty; i++)
        hl->is_dirty[hl->dirty[i]] = 0;
    hl->n_dirty = 0;
    hl->n_fresh = 0;
}

bool plc_heal_holds(struct plc_cluster *c, struct plc_heal_fail *ret_fail)
{
    if (!plc_cluster_has_reserve(c))
        return true;
    if (plc_heal_ensure(c) != NFV_OK)
        return false;
    const struct plc_heal *hl = c->heal;
    for (unsigned k = 0; k < hl->n_kinds; k++) {
        enum plc_scope s = hl->kinds[k];
        for (size_t d = 0; d < hl->n_dom[s]; d++)
            if (hl->w[s][d].is_broken) {
                if (ret_fail) {
                    ret_fail->kind = s;
                    ret_fail->dom = (uint32_t)d;
                    ret_fail->ref = hl->w[s][d].lost_ref;
                }
                return false;
            }
    }
    return true;
}

enum nfv_code plc_heal_assign(struct plc_cluster *c, const uint32_t *vms, size_t n,
                              uint32_t *ret_hosts, uint32_t *ret_order)
{
    /* Evacuation: the failed hosts are down and the members lost; find one
     * rebuild for all of them at once on the real state. */
    struct plc_heal tmp;
    struct plc_heal *saved = c->heal;
    bool ok;

    memset(&tmp, 0, sizeof(tmp));
    c->heal = &tmp;
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        if (!add_work(&tmp, &nw, vms[i], NULL, true))
            break;
    if (nw != n || !plc_grow_array((void **)&tmp.order, &tmp.a_order, n + 1, sizeof(*tmp.order))) {
        free(tmp.work);
        free(tmp.order);
        c->heal = saved;
        return NFV_E_NOMEM;
    }
    order_work(c, NULL, tmp.work, n, tmp.order);
    unsigned long budget = HEAL_BUDGET(c->n_hosts);
    /* No failed domain to exclude by label: the failed hosts are down. */
    struct solve_ctx s = {.c = c,
                          .kind = PLC_SCOPE_HOST,
                          .dom = PLC_NONE,
                          .work = tmp.work,
                          .n_work = n,
                          .order = tmp.order,
                          .start = 0,
                          .stride = 1,
                          .budget = &budget};
    ok = each_has_host(&s) && solve(&s, 0);
    for (size_t i = 0; i < n; i++) {
        ret_order[i] = tmp.order[i];
        ret_hosts[i] = tmp.work[i].host;
        if (tmp.work[i].host != PLC_NONE)
            vclaim(c, &c->vms[tmp.work[i].ref].demand, &tmp.work[i], -1);
    }
    free(tmp.work);
    free(tmp.order);
    c->heal = saved;
    return ok ? NFV_OK : NFV_E_NOCAP;
}

uint64_t plc_heal_steps(const struct plc_cluster *c)
{
    return c->heal ? c->heal->steps : 0;
}

enum nfv_code plc_heal_witness(struct plc_cluster *c, enum plc_scope kind, uint32_t dom,
                               const uint32_t *vms, size_t n, struct plc_choice *ret_at,
                               uint32_t *ret_order)
{
    if (plc_heal_ensure(c) != NFV_OK || !c->heal || (unsigned)kind >= PLC_SCOPE__COUNT ||
        !c->heal->w[kind] || dom >= c->heal->n_dom[kind] || c->heal->w[kind][dom].is_broken)
        return NFV_E_NOENT;
    const struct witness *w = &c->heal->w[kind][dom];
    struct wentry *tmp = calloc(n ? n : 1, sizeof(*tmp));
    if (!tmp)
        return NFV_E_NOMEM;
    enum nfv_code rc = NFV_OK;
    for (size_t i = 0; i < n && rc == NFV_OK; i++) {
        tmp[i].ref = vms[i];
        tmp[i].host = PLC_NONE;
        memset(&ret_at[i], 0, sizeof(ret_at[i]));
        for (uint32_t j = 0; j < w->n; j++)
            if (w->e[j].ref == vms[i]) {
                tmp[i].host = w->e[j].host;
                ret_at[i].n_parts = w->e[j].n_parts;
                for (unsigned p = 0; p < w->e[j].n_parts; p++) {
                    ret_at[i].parts[p].node = w->e[j].parts[p].node;
                    ret_at[i].parts[p].n_cores = w->e[j].parts[p].n_cores;
                    ret_at[i].parts[p].mem_mib = w->e[j].parts[p].mem_mib;
                    ret_at[i].parts[p].hp_mib = w->e[j].parts[p].hp_mib;
                }
            }
        ret_at[i].host = tmp[i].host;
        if (tmp[i].host == PLC_NONE)
            rc = NFV_E_NOENT;
    }
    /* Replay order: most constrained first (numbered cores before the
     * cores they could otherwise be taken by). */
    for (size_t i = 0; i < n; i++)
        tmp[i].host = PLC_NONE;
    order_work(c, NULL, tmp, n, ret_order);
    free(tmp);
    return rc;
}
