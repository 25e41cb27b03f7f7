/*
 * plc_reserve.c - the healing reserve, kept as incremental aggregates.
 *
 * Goal (issue 4): after any single failure domain D (a host, or a rack when
 * configured) fails, every ACT/SBY member it held can be rebuilt elsewhere
 * with its group's anti-affinity still true. Checking that exactly is a
 * bin-packing problem per D; the engine instead keeps a *sufficient*
 * condition that costs O(log n) per change:
 *
 * Slots. Capacity is counted in slots of the largest per-node shape any group
 * member has (cores, memory, hugepages). A NUMA node offers
 * min(free_cores/slot_cores, free_mem/slot_mem, free_hp/slot_hp) slots, a
 * host the sum over its nodes (0 unless it is up), and a member needs one
 * slot per NUMA node it spans. Any member fits any free slot, so counting
 * slots is sound despite NUMA fragmentation.
 *
 * Regions. A lost member of a hard group is rebuilt anywhere outside the
 * failed domain D except the scope domains of its k opposite-role siblings
 * (after a promotion, every other member may be opposite: k = members - 1);
 * a soft group's member anywhere outside D (k = 0). Each member takes at
 * most one slot, so (Hall's theorem: a set of members that all avoid the
 * same domain still sees every other slot) a rebuild exists when
 *   c3: total slots - slots(D) >= all(D) + kmax * largest S-domain slots
 * for every D. Rewritten as max_D(slots(D) + all(D)) <= total - kmax * maxS,
 * the left side is the root of a max-tree over failure domains, kept in
 * O(log n) per claim; the largest S-domain comes from a max-tree over hosts
 * or a scan of the (few) racks, zones or power feeds. Greedy rebuilding in
 * any order meets it: each sibling-avoiding member still has at least
 * total - slots(D) - maxS - (members already rebuilt) free slots.
 *
 * The model also keeps two nested-region conditions for members rebuilt in
 * their own rack or zone (classes RACK/ZONE, c1/c2, range maxima over the
 * racks and zones in (zone, rack) order); plc_rclass_of() does not choose
 * them at present (see there).
 *
 * Spread members (W NUMA nodes at most) count as that many slots in c3 and,
 * in c4, as one "W-set" - W distinct nodes of one host with a slot each:
 *   c4: W-sets outside D - kmax * (largest S-domain slots / W) >= spread
 *       members in D.
 * Rebuilding spread members first, each on the nodes with the most free
 * cores (plc_fit_host ranks nodes that way for multi-node VMs), lowers the
 * W-sets by one per member and the slots by its width, so c4 and then c3
 * carry the greedy rebuild through.
 */
#include <stdlib.h>
#include <string.h>

#include "plc_priv.h"

enum plc_rclass plc_rclass_of(const struct plc_cluster *c, enum plc_scope scope, bool is_soft,
                              uint32_t n_members)
{
    (void)n_members;
    if (c->cfg.failure == PLC_FAILURE_NONE)
        return PLC_RC_NONE;
    if (is_soft)
        return PLC_RC_SOFT;
    /*
     * Every hard member is class B: rebuilt anywhere outside the failed
     * domain except its siblings' scope domains. The "own rack / own zone"
     * classes (RACK, ZONE: c1/c2 below) are kept in the model but not
     * chosen: they refuse rack-scoped pairs in clusters of few hosts per
     * rack, where a rebuild in another sibling-free rack is valid, and they
     * break for N+M groups after a promotion.
     */
    switch (scope) {
    case PLC_SCOPE_HOST:
        return PLC_RC_B_HOST;
    case PLC_SCOPE_RACK:
        return PLC_RC_B_RACK;
    case PLC_SCOPE_ZONE:
        return PLC_RC_B_ZONE;
    case PLC_SCOPE_POWER:
    default:
        return PLC_RC_B_POWER;
    }
}

uint32_t plc_slots_of(const struct plc_demand *d)
{
    return d->numa_nodes ? d->numa_nodes : 1;
}

/*
 * Slots of a host, and the number of disjoint sets of W distinct nodes with
 * a slot each (how many W-wide spread members it can take): the largest t
 * with sum_n min(slots_n, t) >= W t - taking one slot from each of the W
 * fullest nodes is optimal and lowers it by exactly one.
 */
static uint32_t host_supply(const struct plc_cluster *c, const struct plc_host *h,
                            uint32_t *ret_hsupply)
{
    const struct plc_reserve *r = &c->res;
    uint32_t s = 0, per[PLC_MAX_NODES];

    *ret_hsupply = 0;
    if (h->state != PLC_HOST_UP || r->slot_cores == 0)
        return 0;
    for (unsigned n = 0; n < h->n_nodes; n++) {
        const struct plc_node *nd = &h->nodes[n];
        uint32_t k = nd->n_free / r->slot_cores;
        if (r->slot_mem_mib && nd->free_mem_mib / r->slot_mem_mib < k)
            k = nd->free_mem_mib / r->slot_mem_mib;
        if (r->slot_hp_mib && nd->free_hp_mib / r->slot_hp_mib < k)
            k = nd->free_hp_mib / r->slot_hp_mib;
        per[n] = k;
        s += k;
    }
    if (r->spread_w >= 2 && r->spread_w <= h->n_nodes) {
        uint32_t t = s / r->spread_w;
        for (; t > 0; t--) {
            uint64_t sum = 0;
            for (unsigned n = 0; n < h->n_nodes; n++)
                sum += per[n] < t ? per[n] : t;
            if (sum >= (uint64_t)r->spread_w * t)
                break;
        }
        *ret_hsupply = t;
    }
    return s;
}

void plc_reserve_destroy(struct plc_reserve *r)
{
    free(r->supply);
    free(r->a_rack);
    free(r->a_zone);
    free(r->all);
    free(r->fdom_pos);
    free(r->rack_lo);
    free(r->rack_hi);
    free(r->zone_lo);
    free(r->zone_hi);
    free(r->rack_supply);
    free(r->zone_supply);
    free(r->power_supply);
    free(r->hsup);
    free(r->spr);
    plc_maxtree_destroy(&r->t4);
    plc_maxtree_destroy(&r->t1);
    plc_maxtree_destroy(&r->t2);
    plc_maxtree_destroy(&r->t3);
    plc_maxtree_destroy(&r->thost);
    uint16_t sc = r->slot_cores;
    uint32_t sm = r->slot_mem_mib, sh = r->slot_hp_mib, k = r->kmax;
    uint8_t w = r->spread_w;
    memset(r, 0, sizeof(*r));
    r->spread_w = w;
    r->slot_cores = sc;
    r->slot_mem_mib = sm;
    r->slot_hp_mib = sh;
    r->kmax = k;
}

static void refresh_fdom(struct plc_cluster *c, uint32_t f)
{
    struct plc_reserve *r = &c->res;
    uint32_t pos = r->fdom_pos[f];
    plc_maxtree_set(&r->t1, pos, r->supply[f] + r->a_rack[f]);
    plc_maxtree_set(&r->t2, pos, r->supply[f] + r->a_rack[f] + r->a_zone[f]);
    plc_maxtree_set(&r->t3, pos, r->supply[f] + r->all[f]);
    plc_maxtree_set(&r->t4, pos, r->hsup[f] + r->spr[f]);
}

/* Sort keys for the (zone, rack, index) order of failure domains. */
struct fkey {
    uint32_t zone, rack, idx;
};
static int fkey_cmp(const void *a, const void *b)
{
    const struct fkey *x = a, *y = b;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (x->rack != y->rack)
        return x->rack < y->rack ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

enum nfv_code plc_reserve_build(struct plc_cluster *c)
{
    struct plc_reserve *r = &c->res;
    size_t n_racks = c->n_doms[PLC_SCOPE_RACK], n_zones = c->n_doms[PLC_SCOPE_ZONE];
    size_t n_power = c->n_doms[PLC_SCOPE_POWER];
    bool by_host = c->cfg.failure != PLC_FAILURE_RACK;
    struct fkey *keys = NULL;

    plc_reserve_destroy(r);
    if (c->cfg.slot_cores > r->slot_cores)
        r->slot_cores = c->cfg.slot_cores;
    if (c->cfg.slot_mem_mib > r->slot_mem_mib)
        r->slot_mem_mib = c->cfg.slot_mem_mib;
    if (c->cfg.slot_hp_mib > r->slot_hp_mib)
        r->slot_hp_mib = c->cfg.slot_hp_mib;
    r->n_fdom = by_host ? c->n_hosts : n_racks;
    size_t nf = r->n_fdom ? r->n_fdom : 1;
    r->supply = calloc(nf, sizeof(int64_t));
    r->a_rack = calloc(nf, sizeof(int64_t));
    r->a_zone = calloc(nf, sizeof(int64_t));
    r->all = calloc(nf, sizeof(int64_t));
    r->hsup = calloc(nf, sizeof(int64_t));
    r->spr = calloc(nf, sizeof(int64_t));
    r->fdom_pos = calloc(nf, sizeof(uint32_t));
    r->rack_lo = calloc(n_racks + 1, sizeof(uint32_t));
    r->rack_hi = calloc(n_racks + 1, sizeof(uint32_t));
    r->zone_lo = calloc(n_zones + 1, sizeof(uint32_t));
    r->zone_hi = calloc(n_zones + 1, sizeof(uint32_t));
    r->rack_supply = calloc(n_racks + 1, sizeof(int64_t));
    r->zone_supply = calloc(n_zones + 1, sizeof(int64_t));
    r->power_supply = calloc(n_power + 1, sizeof(int64_t));
    keys = calloc(nf, sizeof(*keys));
    if (!r->supply || !r->a_rack || !r->a_zone || !r->all || !r->hsup || !r->spr ||
        plc_maxtree_init(&r->t4, nf) || !r->fdom_pos || !r->rack_lo || !r->rack_hi || !r->zone_lo ||
        !r->zone_hi || !r->rack_supply || !r->zone_supply || !r->power_supply || !keys ||
        plc_maxtree_init(&r->t1, nf) || plc_maxtree_init(&r->t2, nf) ||
        plc_maxtree_init(&r->t3, nf) || plc_maxtree_init(&r->thost, c->n_hosts ? c->n_hosts : 1)) {
        free(keys);
        plc_reserve_destroy(r);
        return NFV_E_NOMEM;
    }
    for (size_t i = 0; i < r->n_fdom; i++) {
        if (by_host) {
            keys[i].rack = c->hosts[i].dom[PLC_SCOPE_RACK];
            keys[i].zone = c->hosts[i].dom[PLC_SCOPE_ZONE];
        } else {
            keys[i].rack = (uint32_t)i;
            keys[i].zone = c->rack_zone[i];
        }
        keys[i].idx = (uint32_t)i;
    }
    qsort(keys, r->n_fdom, sizeof(*keys), fkey_cmp);
    for (size_t z = 0; z < n_zones; z++)
        r->zone_lo[z] = UINT32_MAX;
    for (size_t k = 0; k < n_racks; k++)
        r->rack_lo[k] = UINT32_MAX;
    for (uint32_t p = 0; p < r->n_fdom; p++) {
        const struct fkey *k = &keys[p];
        r->fdom_pos[k->idx] = p;
        if (r->zone_lo[k->zone] == UINT32_MAX)
            r->zone_lo[k->zone] = p;
        r->zone_hi[k->zone] = p + 1;
        if (r->rack_lo[k->rack] == UINT32_MAX)
            r->rack_lo[k->rack] = p;
        r->rack_hi[k->rack] = p + 1;
    }
    free(keys);
    for (size_t i = 0; i < c->n_hosts; i++) {
        struct plc_host *h = &c->hosts[i];
        h->fdom = by_host ? (uint32_t)i : h->dom[PLC_SCOPE_RACK];
        h->supply = host_supply(c, h, &h->hsupply);
        r->supply[h->fdom] += h->supply;
        r->hsup[h->fdom] += h->hsupply;
        r->htotal += h->hsupply;
        r->rack_supply[h->dom[PLC_SCOPE_RACK]] += h->supply;
        r->zone_supply[h->dom[PLC_SCOPE_ZONE]] += h->supply;
        r->power_supply[h->dom[PLC_SCOPE_POWER]] += h->supply;
        r->total += h->supply;
        plc_maxtree_set(&r->thost, i, h->supply);
    }
    r->is_built = true;
    for (size_t v = 0; v < c->n_vms; v++) {
        const struct plc_vm *vm = &c->vms[v];
        if (!vm->name || vm->group == PLC_NONE || vm->at.host == PLC_NONE)
            continue;
        const struct plc_group *g = &c->groups[vm->group];
        enum plc_rclass rc = plc_rclass_of(c, g->scope, g->is_soft, g->n_members);
        uint32_t slots = plc_slots_of(&vm->demand);
        uint32_t f = c->hosts[vm->at.host].fdom;
        r->all[f] += slots;
        if (slots >= 2)
            r->spr[f]++;
        if (rc == PLC_RC_RACK)
            r->a_rack[f] += slots;
        else if (rc == PLC_RC_ZONE)
            r->a_zone[f] += slots;
        r->n_class[rc] += slots;
    }
    for (uint32_t f = 0; f < r->n_fdom; f++)
        refresh_fdom(c, f);
    return NFV_OK;
}

enum nfv_code plc_reserve_ensure(struct plc_cluster *c)
{
    return c->res.is_built ? NFV_OK : plc_reserve_build(c);
}

void plc_reserve_host_changed(struct plc_cluster *c, uint32_t host)
{
    struct plc_reserve *r = &c->res;
    struct plc_host *h = &c->hosts[host];
    uint32_t hs;
    uint32_t s = host_supply(c, h, &hs);
    int64_t delta = (int64_t)s - (int64_t)h->supply;
    int64_t hdelta = (int64_t)hs - (int64_t)h->hsupply;

    if (!delta && !hdelta)
        return;
    h->supply = s;
    h->hsupply = hs;
    r->hsup[h->fdom] += hdelta;
    r->htotal += hdelta;
    r->supply[h->fdom] += delta;
    r->rack_supply[h->dom[PLC_SCOPE_RACK]] += delta;
    r->zone_supply[h->dom[PLC_SCOPE_ZONE]] += delta;
    r->power_supply[h->dom[PLC_SCOPE_POWER]] += delta;
    r->total += delta;
    plc_maxtree_set(&r->thost, host, s);
    refresh_fdom(c, h->fdom);
}

void plc_protect(struct plc_cluster *c, uint32_t host, enum plc_rclass rc, uint32_t slots, int sign)
{
    struct plc_reserve *r = &c->res;
    if (!r->is_built)
        return;
    uint32_t f = c->hosts[host].fdom;
    int64_t d = sign * (int64_t)slots;
    r->all[f] += d;
    if (slots >= 2)
        r->spr[f] += sign;
    if (rc == PLC_RC_RACK)
        r->a_rack[f] += d;
    else if (rc == PLC_RC_ZONE)
        r->a_zone[f] += d;
    r->n_class[rc] += d;
    refresh_fdom(c, f);
}

void plc_reclass(struct plc_cluster *c, uint32_t g, uint32_t skip, enum plc_rclass from,
                 enum plc_rclass to)
{
    const struct plc_group *gr = &c->groups[g];
    if (from == to || !c->res.is_built)
        return;
    for (uint32_t i = 0; i < gr->n_members; i++) {
        const struct plc_vm *v = &c->vms[gr->members[i]];
        if (gr->members[i] == skip || v->at.host == PLC_NONE)
            continue;
        plc_protect(c, v->at.host, from, plc_slots_of(&v->demand), -1);
        plc_protect(c, v->at.host, to, plc_slots_of(&v->demand), +1);
    }
}

void plc_reserve_set_slot(struct plc_cluster *c, uint16_t cores, uint32_t mem, uint32_t hp,
                          uint8_t spread_w)
{
    struct plc_reserve *r = &c->res;
    r->spread_w = spread_w;
    r->slot_cores = cores;
    r->slot_mem_mib = mem;
    r->slot_hp_mib = hp;
    if (r->is_built)
        for (uint32_t h = 0; h < c->n_hosts; h++)
            plc_reserve_host_changed(c, h);
}

bool plc_reserve_grow_slot(struct plc_cluster *c, const struct plc_demand *d)
{
    struct plc_reserve *r = &c->res;
    unsigned k = d->numa_nodes ? d->numa_nodes : 1;
    uint32_t cores = (d->n_cores + k - 1) / k, mem = (d->mem_mib + k - 1) / k;
    uint32_t hp = (d->hp_mib + k - 1) / k;

    uint8_t w = k >= 2 && k > r->spread_w ? (uint8_t)k : r->spread_w;

    if (cores <= r->slot_cores && mem <= r->slot_mem_mib && hp <= r->slot_hp_mib &&
        w == r->spread_w)
        return false;
    plc_reserve_set_slot(c, (uint16_t)(cores > r->slot_cores ? cores : r->slot_cores),
                         mem > r->slot_mem_mib ? mem : r->slot_mem_mib,
                         hp > r->slot_hp_mib ? hp : r->slot_hp_mib, w);
    return true;
}

bool plc_reserve_holds(const struct plc_cluster *c, uint32_t *ret_domain)
{
    struct plc_heal_fail f = {.dom = PLC_NONE, .ref = PLC_NONE};
    /* The witnesses are a cache built on first use: not a change of @c. */
    bool ok = plc_heal_holds((struct plc_cluster *)c, &f);
    if (!ok && ret_domain)
        *ret_domain = f.dom;
    return ok;
}

bool plc_reserve_uncovered(const struct plc_cluster *c, enum plc_scope *ret_kind, uint32_t *ret_dom,
                           uint32_t *ret_vm)
{
    struct plc_heal_fail f = {.kind = PLC_SCOPE_HOST, .dom = PLC_NONE, .ref = PLC_NONE};
    bool ok = plc_heal_holds((struct plc_cluster *)c, &f);
    *ret_kind = f.kind;
    *ret_dom = f.dom;
    *ret_vm = f.ref;
    return !ok;
}
