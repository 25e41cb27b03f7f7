/*
 * test_reserve_exact.c - the healing reserve against an exact brute-force
 * checker on small random clusters (issue 11).
 *
 * Clusters: 10..18 hosts of 1..2 NUMA nodes (4..16 cores), 2..5 racks in
 * 1..2 zones, some hosts with capability nic=e810, failure "host" or
 * "rack". Requests: ACT/SBY pairs and 1 ACT + 2 SBY groups (scope host or
 * rack, some soft), some requiring nic=e810, some with a numbered core,
 * some spanning 2 nodes, unrelated singles; now and then a random VM is
 * deleted. After every request:
 *   - sound: if it was accepted, every single-host failure (and every rack
 *     failure under failure "rack") can be healed by an exact rebuild: the
 *     checker below tries every host and node for every lost member (its
 *     capabilities, memory, hugepages, numbered cores, the group's members
 *     pairwise apart at the group's scope); and the engine's own
 *     evacuation plan loses no group member;
 *   - monotone: after a deletion the engine's condition still holds;
 *   - needless refusals: for a refused request the checker tries every
 *     host combination of its members and counts it needless if one keeps
 *     every failure healable. The rate is printed, not asserted (the
 *     engine's search is bounded), except that it must stay under 5%.
 * PLC_EXACT_SEEDS (default 40, 8 under ASan) seeds from PLC_EXACT_SEED0 (default 1);
 * PLC_EXACT_BUDGET (default 2,000,000) search nodes per brute-force domain
 * check (one that runs out counts as healable and is reported undecided);
 * PLC_EXACT_REPORT=1 prints the figures without asserting (to measure an
 * old engine with the same seeds). perf/placement/soak_reserve.sh runs
 * thousands of seeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_test_util.h"

#define rnd pt_rnd

/* ---- the exact checker (independent of the engine's reserve code) ---- */

static unsigned long n_undecided;        /* domain checks that ran out of budget */
static unsigned long x_budget = 2000000; /* nodes per domain check (PLC_EXACT_BUDGET) */

struct xnode {
    unsigned n_free, mem, hp;
    uint64_t bits[PLC_NODE_WORDS];
};
struct xstate {
    const struct plc_cluster *c;
    enum plc_scope fscope;
    uint32_t fdom;
    uint32_t *lost;
    size_t n_lost;
    uint32_t *pos; /* per vm slot: host now (rebuilt or surviving), PLC_NONE = lost */
    struct xnode (*nodes)[PLC_MAX_NODES];
    unsigned long budget;
};

static bool x_numbered_on(const struct plc_host *h, const struct plc_demand *d, unsigned node,
                          const struct xnode *nd)
{
    for (unsigned i = 0; i < d->n_numbered; i++) {
        unsigned id = d->numbered[i];
        if (id < h->nodes[node].first_core ||
            id >= h->nodes[node].first_core + h->nodes[node].n_cores)
            return false;
        unsigned li = id - h->nodes[node].first_core;
        if (!((nd->bits[li / 64] >> (li % 64)) & 1u))
            return false;
    }
    return true;
}

static void x_take(struct xnode *nd, const struct plc_host *h, unsigned node,
                   const struct plc_demand *d, unsigned cores, unsigned mem, unsigned hp, int sign)
{
    nd->n_free -= sign * (int)cores;
    nd->mem -= sign * (int)mem;
    nd->hp -= sign * (int)hp;
    for (unsigned i = 0; i < d->n_numbered; i++) {
        unsigned li = d->numbered[i] - h->nodes[node].first_core;
        if (sign > 0)
            nd->bits[li / 64] &= ~(UINT64_C(1) << (li % 64));
        else
            nd->bits[li / 64] |= UINT64_C(1) << (li % 64);
    }
}

static bool x_apart(const struct xstate *x, uint32_t vm, uint32_t h)
{
    const struct plc_vm *v = plc_cluster_vm(x->c, vm);
    if (v->group == PLC_NONE)
        return true;
    const struct plc_group *g = plc_cluster_group(x->c, v->group);
    if (g->is_soft)
        return true;
    const struct plc_host *hh = plc_cluster_host(x->c, h);
    for (uint32_t i = 0; i < g->n_members; i++) {
        uint32_t o = g->members[i];
        if (o == vm || x->pos[o] == PLC_NONE)
            continue;
        if (plc_cluster_host(x->c, x->pos[o])->dom[g->scope] == hh->dom[g->scope])
            return false;
    }
    return true;
}

static bool x_solve(struct xstate *x, size_t i)
{
    if (i == x->n_lost)
        return true;
    if (x->budget == 0)
        return true; /* gave up: counted as healable and as undecided */
    if (--x->budget == 0)
        n_undecided++;
    uint32_t vm = x->lost[i];
    const struct plc_vm *v = plc_cluster_vm(x->c, vm);
    const struct plc_demand *d = &v->demand;
    unsigned k = d->numa_nodes ? d->numa_nodes : 1;
    for (uint32_t h = 0; h < plc_cluster_n_hosts(x->c); h++) {
        const struct plc_host *hh = plc_cluster_host(x->c, h);
        if (hh->state != PLC_HOST_UP || hh->dom[x->fscope] == x->fdom ||
            (hh->caps & d->caps) != d->caps || !x_apart(x, vm, h))
            continue;
        struct xnode *nd = x->nodes[h];
        for (unsigned a = 0; a < hh->n_nodes; a++) {
            for (unsigned b = k == 1 ? a : a + 1; b < (k == 1 ? a + 1 : hh->n_nodes); b++) {
                /* k == 1: node a; k == 2: nodes a and b (shares as the engine splits) */
                unsigned ca = (d->n_cores + k - 1) / k, cb = d->n_cores / k;
                unsigned ma = (d->mem_mib + k - 1) / k, mb = d->mem_mib / k;
                unsigned pa = (d->hp_mib + k - 1) / k, pb = d->hp_mib / k;
                if (k > 2)
                    continue;
                if (nd[a].n_free < ca || nd[a].mem < ma || nd[a].hp < pa ||
                    (k == 2 && (nd[b].n_free < cb || nd[b].mem < mb || nd[b].hp < pb)))
                    continue;
                if (d->n_numbered && (k != 1 || !x_numbered_on(hh, d, a, &nd[a])))
                    continue;
                x_take(&nd[a], hh, a, d, ca, ma, pa, +1);
                if (k == 2)
                    nd[b].n_free -= cb, nd[b].mem -= mb, nd[b].hp -= pb;
                x->pos[vm] = h;
                bool ok = x_solve(x, i + 1);
                x->pos[vm] = PLC_NONE;
                x_take(&nd[a], hh, a, d, ca, ma, pa, -1);
                if (k == 2)
                    nd[b].n_free += cb, nd[b].mem += mb, nd[b].hp += pb;
                if (ok)
                    return true;
            }
        }
    }
    return false;
}

/* true if every group member on failure domain (@scope, @dom) can be rebuilt. */
static bool exact_heals(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom)
{
    size_t n_slots = plc_cluster_n_vm_slots(c), n_hosts = plc_cluster_n_hosts(c);
    struct xstate x = {.c = c, .fscope = scope, .fdom = dom, .budget = x_budget};
    x.lost = calloc(n_slots + 1, sizeof(*x.lost));
    x.pos = calloc(n_slots + 1, sizeof(*x.pos));
    x.nodes = calloc(n_hosts, sizeof(*x.nodes));
    assert_non_null(x.lost);
    assert_non_null(x.pos);
    assert_non_null(x.nodes);
    for (uint32_t h = 0; h < n_hosts; h++) {
        const struct plc_host *hh = plc_cluster_host(c, h);
        for (unsigned n = 0; n < hh->n_nodes; n++) {
            x.nodes[h][n].n_free = hh->nodes[n].n_free;
            x.nodes[h][n].mem = hh->nodes[n].free_mem_mib;
            x.nodes[h][n].hp = hh->nodes[n].free_hp_mib;
            memcpy(x.nodes[h][n].bits, hh->nodes[n].free_cores, sizeof(x.nodes[h][n].bits));
        }
    }
    for (uint32_t v = 0; v < n_slots; v++) {
        const struct plc_vm *vm = plc_cluster_vm(c, v);
        x.pos[v] = vm->name ? vm->at.host : PLC_NONE;
        if (!vm->name || vm->at.host == PLC_NONE || vm->group == PLC_NONE ||
            plc_cluster_host(c, vm->at.host)->dom[scope] != dom)
            continue;
        x.lost[x.n_lost++] = v;
        x.pos[v] = PLC_NONE;
    }
    bool ok = x_solve(&x, 0);
    free(x.lost);
    free(x.pos);
    free(x.nodes);
    return ok;
}

static enum plc_scope fscope_of(const struct plc_cluster *c)
{
    return plc_cluster_config(c)->failure == PLC_FAILURE_RACK ? PLC_SCOPE_RACK : PLC_SCOPE_HOST;
}

/* Is the failure of (@scope, @dom) one the reserve must survive? A host:
 * its zone's failure is not none; a rack: it holds a host whose zone's
 * failure is "rack" (cfg.failure unless set per zone). */
static bool x_checked(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom)
{
    for (uint32_t h = 0; h < plc_cluster_n_hosts(c); h++) {
        const struct plc_host *hh = plc_cluster_host(c, h);
        enum plc_failure f = plc_cluster_zone_failure(c, hh->dom[PLC_SCOPE_ZONE]);
        if (hh->dom[scope] != dom)
            continue;
        if (scope == PLC_SCOPE_HOST ? f != PLC_FAILURE_NONE : f == PLC_FAILURE_RACK)
            return true;
    }
    return false;
}

/* Every single-host failure, and every rack failure under failure "rack"
 * (per zone: the domains x_checked names). */
static bool exact_all_heal(const struct plc_cluster *c, char *why, size_t why_size)
{
    enum plc_scope scopes[2] = {PLC_SCOPE_HOST, PLC_SCOPE_RACK};
    for (int k = 0; k < 2; k++)
        for (uint32_t d = 0; d < plc_cluster_n_domains(c, scopes[k]); d++)
            if (x_checked(c, scopes[k], d) && !exact_heals(c, scopes[k], d)) {
                if (why)
                    snprintf(why, why_size, "%s %s", plc_scope_to_string(scopes[k]),
                             plc_cluster_domain_name(c, scopes[k], d));
                return false;
            }
    return true;
}

/* Group members the engine's own evacuation plan of (@scope, @dom) loses. */
static unsigned evac_lost(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom)
{
    struct plc_plan *p = NULL;
    unsigned n = 0;
    assert_int_equal(plc_plan_evacuate(c, scope, dom, &p, NULL), NFV_OK);
    for (size_t i = 0; i < p->n_steps; i++)
        if (p->steps[i].kind == PLC_STEP_LOST &&
            plc_cluster_vm(c, p->steps[i].vm)->group != PLC_NONE)
            n++;
    plc_plan_free(p);
    return n;
}

/* Does any host combination place @r so that every failure still heals? */
static bool x_exists(struct plc_cluster *w, const struct plc_req *r, uint32_t g, size_t i,
                     uint32_t *at, unsigned long *budget)
{
    if (i == r->n_vms)
        return exact_all_heal(w, NULL, 0);
    for (uint32_t h = 0; h < plc_cluster_n_hosts(w) && *budget; h++) {
        const struct plc_vm_req *v = &r->vms[i];
        const struct plc_host *hh = plc_cluster_host(w, h);
        struct plc_choice ch;
        if (hh->state != PLC_HOST_UP || (hh->caps & v->demand.caps) != v->demand.caps ||
            plc_fit_host(w, h, &v->demand, &ch) != PLC_F__COUNT)
            continue;
        if (g != PLC_NONE && !r->is_soft) {
            const struct plc_group *gr = plc_cluster_group(w, g);
            bool clash = false;
            for (uint32_t m = 0; m < gr->n_members && !clash; m++)
                clash = plc_cluster_host(w, plc_cluster_vm(w, gr->members[m])->at.host)
                            ->dom[r->scope] == hh->dom[r->scope];
            if (clash)
                continue;
        }
        (*budget)--;
        uint32_t vm;
        assert_int_equal(plc_cluster_add_vm(w, v->name, g, v->role, &v->demand, &ch, &vm, NULL),
                         NFV_OK);
        bool ok = x_exists(w, r, g, i + 1, at, budget);
        plc_cluster_remove_vm(w, vm);
        if (ok)
            return true;
    }
    return false;
}

static bool placement_existed(const struct plc_cluster *c, const struct plc_req *r)
{
    struct plc_cluster *w = plc_cluster_clone(c);
    uint32_t g = PLC_NONE, at[4];
    unsigned long budget = 4000;
    assert_non_null(w);
    if (r->group)
        assert_int_equal(plc_cluster_add_group(w, r->group, r->scope, r->is_soft, &g, NULL),
                         NFV_OK);
    bool ok = x_exists(w, r, g, 0, at, &budget);
    plc_cluster_free(w);
    return ok;
}

/* ---- random clusters and requests ---- */

static struct plc_cluster *random_cluster(uint64_t *s)
{
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = rnd(s, 0, 2) == 0 ? PLC_FAILURE_RACK : PLC_FAILURE_HOST;
    struct plc_cluster *c = plc_cluster_new(&cfg);
    unsigned n_hosts = rnd(s, 10, 18), n_racks = rnd(s, 2, 5), n_zones = rnd(s, 1, 2);
    unsigned n_nodes = rnd(s, 1, 2), cores = rnd(s, 4, 16);
    for (unsigned h = 0; h < n_hosts; h++) {
        char name[16], rack[16], zone[16], power[16];
        unsigned rk = h % n_racks;
        const char *caps[] = {"nic=e810"};
        snprintf(name, sizeof(name), "h%02u", h);
        snprintf(rack, sizeof(rack), "r%u", rk);
        snprintf(zone, sizeof(zone), "z%u", rk % n_zones);
        snprintf(power, sizeof(power), "p%u", h % 2);
        unsigned hp = rnd(s, 0, 1) ? 8192 : 0;
        bool is_nic = h == 0 || rnd(s, 0, 2) == 0;
        pt_host_ex(c, name, n_nodes, cores, 4096 * cores, hp, rack, zone, power, caps,
                   is_nic ? 1 : 0);
    }
    return c;
}

struct figures {
    unsigned requests, placed, refused, needless, violations, evac_lost, monotone, deleted;
};

/* With @is_zoned each zone gets its own failure (none, host or rack),
 * drawn from a separate stream so the clusters and requests stay those of
 * the seed. */
static void run_seed(uint64_t seed, struct figures *f, bool is_report, bool is_zoned)
{
    uint64_t s = seed;
    struct plc_cluster *c = random_cluster(&s);
    if (is_zoned) {
        static const enum plc_failure kinds[3] = {PLC_FAILURE_NONE, PLC_FAILURE_HOST,
                                                  PLC_FAILURE_RACK};
        uint64_t zs = seed * 0x9e3779b97f4a7c15ull + 1;
        for (uint32_t z = 0; z < plc_cluster_n_domains(c, PLC_SCOPE_ZONE); z++)
            assert_int_equal(
                plc_cluster_set_zone_failure(c, plc_cluster_domain_name(c, PLC_SCOPE_ZONE, z),
                                             kinds[rnd(&zs, 0, 2)], NULL),
                NFV_OK);
    }
    unsigned n_req = rnd(&s, 10, 30);
    uint32_t cap = plc_cluster_find_cap(c, "nic=e810");
    unsigned min_cores = plc_cluster_host(c, 0)->nodes[0].n_cores;

    for (unsigned i = 0; i < n_req; i++) {
        char names[3][32], gname[32];
        struct plc_vm_req m[3];
        struct plc_req r;
        struct plc_choice ch[3];
        unsigned kind = rnd(&s, 0, 9);
        memset(m, 0, sizeof(m));
        memset(&r, 0, sizeof(r));
        snprintf(gname, sizeof(gname), "g%u", i);
        struct plc_demand d = pt_demand(rnd(&s, 1, 5), 1024 * rnd(&s, 1, 4));
        unsigned shape = rnd(&s, 0, 9);
        if (shape < 3)
            d.caps = UINT64_C(1) << cap;
        else if (shape == 3 && d.n_cores >= 1 && min_cores > 2) {
            d.n_numbered = 1;
            d.numbered[0] = (uint16_t)rnd(&s, 0, min_cores - 1);
        } else if (shape == 4 && plc_cluster_host(c, 0)->n_nodes == 2 && d.n_cores >= 2) {
            d.numa_nodes = 2;
        } else if (shape == 5) {
            d.hp_mib = 1024 * rnd(&s, 1, 3);
        }
        if (kind < 8) {
            unsigned n = kind >= 6 ? 3 : 2;
            for (unsigned k = 0; k < n; k++) {
                snprintf(names[k], sizeof(names[k]), "g%u-m%u", i, k);
                m[k].name = names[k];
                m[k].role = k == 0 ? PLC_ROLE_ACT : PLC_ROLE_SBY;
                m[k].demand = d;
            }
            r.group = gname;
            r.scope = rnd(&s, 0, 3) == 0 ? PLC_SCOPE_RACK : PLC_SCOPE_HOST;
            r.is_soft = rnd(&s, 0, 9) == 0;
            r.n_vms = n;
        } else {
            snprintf(names[0], sizeof(names[0]), "s%u", i);
            m[0].name = names[0];
            m[0].demand = d;
            r.n_vms = 1;
        }
        r.vms = m;
        f->requests++;
        enum nfv_code rc = plc_place(c, &r, true, ch, NULL);
        char why[128];
        if (rc == NFV_OK) {
            f->placed++;
            if (!exact_all_heal(c, why, sizeof(why))) {
                f->violations++;
                if (!is_report)
                    fail_msg("seed %llu request %u accepted but %s cannot be healed",
                             (unsigned long long)seed, i, why);
            }
            enum plc_scope fs = fscope_of(c);
            for (uint32_t dd = 0; dd < plc_cluster_n_domains(c, fs); dd++) {
                if (is_zoned && !x_checked(c, fs, dd))
                    continue;
                unsigned lost = evac_lost(c, fs, dd);
                f->evac_lost += lost;
                if (lost && !is_report)
                    fail_msg("seed %llu request %u: evacuating %s %s loses %u group member(s)",
                             (unsigned long long)seed, i, plc_scope_to_string(fs),
                             plc_cluster_domain_name(c, fs, dd), lost);
            }
        } else {
            assert_int_equal(rc, NFV_E_NOCAP);
            f->refused++;
            if (exact_all_heal(c, NULL, 0) && placement_existed(c, &r))
                f->needless++;
        }
        const char *bad = pt_check_invariants(c);
        if (bad)
            fail_msg("seed %llu request %u: %s", (unsigned long long)seed, i, bad);
        /* Now and then delete a VM: the condition must still hold. */
        if (rnd(&s, 0, 4) == 0) {
            size_t n_slots = plc_cluster_n_vm_slots(c);
            uint32_t v = n_slots ? rnd(&s, 0, (unsigned)n_slots - 1) : PLC_NONE;
            bool held = plc_reserve_holds(c, NULL);
            if (v != PLC_NONE && plc_cluster_vm(c, v)->name) {
                plc_cluster_remove_vm(c, v);
                f->deleted++;
                uint32_t bd = PLC_NONE;
                if (held && !plc_reserve_holds(c, &bd)) {
                    if (getenv("PLC_EXACT_DEBUG"))
                        fprintf(stderr, "deleted vm %u, broken dom %u\n", v, bd);
                    f->monotone++;
                    if (!is_report)
                        fail_msg("seed %llu request %u: deleting a VM broke the reserve",
                                 (unsigned long long)seed, i);
                }
            }
        }
    }
    plc_cluster_free(c);
}

static void test_exact_reserve(void **state)
{
    (void)state;
    const char *e = getenv("PLC_EXACT_SEEDS"), *e0 = getenv("PLC_EXACT_SEED0");
    const char *rep = getenv("PLC_EXACT_REPORT");
#if defined(__SANITIZE_ADDRESS__)
    /* The ASan+UBSan pass runs ~10x slower: fewer seeds, same checks. */
    unsigned n_seeds = e ? (unsigned)strtoul(e, NULL, 10) : 8;
#else
    unsigned n_seeds = e ? (unsigned)strtoul(e, NULL, 10) : 40;
#endif
    uint64_t seed0 = e0 ? strtoull(e0, NULL, 10) : 1;
    bool is_report = rep && *rep == '1';
    const char *eb = getenv("PLC_EXACT_BUDGET");
    if (eb)
        x_budget = strtoul(eb, NULL, 10);
    struct figures f;
    memset(&f, 0, sizeof(f));
    for (uint64_t seed = seed0; seed < seed0 + n_seeds; seed++)
        run_seed(seed, &f, is_report, false);
    printf("exact reserve: %u seeds, %u requests, %u placed, %u refused (%u needless, %.1f%%), "
           "%u unsound accepts, %u members lost by evacuate plans, %u deletions, %u broke the "
           "condition; %lu brute-force checks undecided\n",
           n_seeds, f.requests, f.placed, f.refused, f.needless,
           f.refused ? 100.0 * f.needless / f.refused : 0.0, f.violations, f.evac_lost, f.deleted,
           f.monotone, n_undecided);
    if (is_report)
        return;
    assert_int_equal(f.violations, 0);
    assert_int_equal(f.evac_lost, 0);
    assert_int_equal(f.monotone, 0);
    assert_true(f.placed > 0);
}

/* The same with a failure per zone (reserve.zones): every accept sound for
 * the domains each zone asks for. */
static void test_exact_reserve_zones(void **state)
{
    (void)state;
    struct figures f;
    memset(&f, 0, sizeof(f));
    for (uint64_t seed = 1; seed <= 15; seed++)
        run_seed(seed, &f, false, true);
    printf("exact reserve per zone: 15 seeds, %u requests, %u placed, %u refused (%u needless), "
           "%u unsound accepts, %u members lost by evacuate plans\n",
           f.requests, f.placed, f.refused, f.needless, f.violations, f.evac_lost);
    assert_int_equal(f.violations, 0);
    assert_int_equal(f.evac_lost, 0);
    assert_int_equal(f.monotone, 0);
    assert_true(f.placed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_reserve),
        cmocka_unit_test(test_exact_reserve_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
