/*
 * test_property.c - properties of the placement engine on random clusters.
 *
 * For seeded random clusters (10..200 hosts, 1..4 NUMA nodes of 4..32 cores,
 * 2..8 racks in 1..2 zones, failure host or rack) and random request streams
 * (ACT/SBY pairs and 2+1 groups of every scope, spread VMs, numbered-free
 * singles), after every placement:
 *   - no ACT and SBY of a hard group share their scope domain;
 *   - no core is double-booked and every counter matches the VMs;
 *   - the healing reserve holds (the aggregate condition), and
 *     every failure domain's evacuation plan rebuilds every group member,
 *     single- and multi-NUMA-node ones (checked on a sample after each
 *     placement and for all at the end);
 *   - executing an evacuation plan leaves every group protected again;
 *   - the same seed gives the same placements (run twice, compared).
 * Seeds: PLC_PROPERTY_SEEDS (default 12) starting at PLC_PROPERTY_SEED0.
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

static struct plc_cluster *random_cluster(uint64_t *s)
{
    struct plc_config cfg;
    plc_config_init(&cfg);
    cfg.failure = rnd(s, 0, 3) == 0 ? PLC_FAILURE_RACK : PLC_FAILURE_HOST;
    if (rnd(s, 0, 3) == 0) {
        cfg.weights[PLC_W_PACK] = 0;
        cfg.weights[PLC_W_SPREAD] = 1;
    }
    struct plc_cluster *c = plc_cluster_new(&cfg);
    unsigned n_hosts = rnd(s, 10, 200), n_racks = rnd(s, 2, 8), n_zones = rnd(s, 1, 2);
    if (n_zones > n_racks)
        n_zones = 1;
    /* A few host models, as in a real fleet. */
    unsigned models[3][2];
    for (int m = 0; m < 3; m++) {
        models[m][0] = rnd(s, 1, 4);  /* nodes */
        models[m][1] = rnd(s, 4, 32); /* cores per node */
    }
    for (unsigned h = 0; h < n_hosts; h++) {
        char name[16], rack[16], zone[16], power[16];
        unsigned m = rnd(s, 0, 2), rk = h % n_racks;
        snprintf(name, sizeof(name), "h%03u", h);
        snprintf(rack, sizeof(rack), "r%u", rk);
        snprintf(zone, sizeof(zone), "z%u", rk % n_zones);
        snprintf(power, sizeof(power), "p%u", h % 2);
        pt_host(c, name, models[m][0], models[m][1], 4096 * models[m][1], rack, zone, power);
    }
    return c;
}

struct stats {
    unsigned placed, refused, evac_checked, spread_lost;
    uint64_t digest;
};

static void digest_choice(struct stats *st, const struct plc_choice *ch)
{
    st->digest = st->digest * 1000003u ^ ch->host;
    for (unsigned p = 0; p < ch->n_parts; p++)
        st->digest = st->digest * 1000003u ^ (ch->parts[p].node + 7u * ch->parts[p].cores[0]);
}

/* Evacuates domain @dom; asserts no group member is lost and that the
 * executed plan protects every group again. */
static uint64_t cur_seed; /* for failure messages */

static void check_evacuation(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom,
                             unsigned *n_spread_lost)
{
    struct plc_plan *p = NULL;
    assert_int_equal(plc_plan_evacuate(c, scope, dom, &p, NULL), NFV_OK);
    for (size_t i = 0; i < p->n_steps; i++) {
        if (p->steps[i].kind != PLC_STEP_LOST)
            continue;
        const struct plc_vm *vm = plc_cluster_vm(c, p->steps[i].vm);
        if (vm->group == PLC_NONE)
            continue;
        if (vm->demand.numa_nodes > 1)
            (*n_spread_lost)++;
        fail_msg("seed %llu: evacuating %s %u: group member %s is lost although the reserve "
                 "holds",
                 (unsigned long long)cur_seed, plc_scope_to_string(scope), dom, vm->name);
    }
    struct plc_cluster *w = plc_cluster_clone(c);
    assert_non_null(w);
    assert_int_equal(plc_plan_apply(w, p, scope, dom, NULL), NFV_OK);
    const char *bad = pt_check_groups(w);
    if (bad)
        fail_msg("after evacuating %s %u: %s", plc_scope_to_string(scope), dom, bad);
    bad = pt_check_invariants(w);
    if (bad)
        fail_msg("after evacuating: %s", bad);
    plc_cluster_free(w);
    plc_plan_free(p);
}

static void run_seed(uint64_t seed, struct stats *st)
{
    uint64_t s = seed;
    cur_seed = seed;
    struct plc_cluster *c = random_cluster(&s);
    enum plc_scope fscope =
        plc_cluster_config(c)->failure == PLC_FAILURE_RACK ? PLC_SCOPE_RACK : PLC_SCOPE_HOST;
    unsigned n_req = rnd(&s, 40, 160);
    size_t n_zones = plc_cluster_n_domains(c, PLC_SCOPE_ZONE);

    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < n_req; i++) {
        char names[3][32], gname[32];
        struct plc_vm_req m[3];
        struct plc_req r;
        struct plc_choice ch[3];
        unsigned kind = rnd(&s, 0, 9);
        memset(m, 0, sizeof(m));
        memset(&r, 0, sizeof(r));
        snprintf(gname, sizeof(gname), "g%u", i);
        struct plc_demand d = pt_demand(rnd(&s, 1, 6), 1024 * rnd(&s, 1, 4));
        if (rnd(&s, 0, 7) == 0)
            d.numa_nodes = 2;
        if (kind < 7) {
            /* ACT/SBY pair or 2 ACT + 1 SBY */
            unsigned n = kind == 6 ? 3 : 2;
            for (unsigned k = 0; k < n; k++) {
                snprintf(names[k], sizeof(names[k]), "g%u-m%u", i, k);
                m[k].name = names[k];
                m[k].role = k + 1 == n ? PLC_ROLE_SBY : PLC_ROLE_ACT;
                m[k].demand = d;
            }
            r.group = gname;
            unsigned sc = rnd(&s, 0, 9);
            r.scope = sc < 5 ? PLC_SCOPE_HOST : sc < 8 ? PLC_SCOPE_RACK : PLC_SCOPE_ZONE;
            if (r.scope == PLC_SCOPE_ZONE && n_zones < 2)
                r.scope = PLC_SCOPE_RACK;
            r.is_soft = rnd(&s, 0, 19) == 0;
            r.n_vms = n;
        } else {
            snprintf(names[0], sizeof(names[0]), "s%u", i);
            m[0].name = names[0];
            m[0].demand = d;
            r.n_vms = 1;
        }
        r.vms = m;
        enum nfv_code rc = plc_place(c, &r, true, ch, NULL);
        if (rc == NFV_OK) {
            st->placed++;
            for (size_t k = 0; k < r.n_vms; k++)
                digest_choice(st, &ch[k]);
        } else {
            assert_int_equal(rc, NFV_E_NOCAP);
            st->refused++;
            st->digest = st->digest * 31u + 1u;
        }
        const char *bad = pt_check_invariants(c);
        if (bad)
            fail_msg("seed %llu request %u: %s", (unsigned long long)seed, i, bad);
        bad = pt_check_groups(c);
        if (bad)
            fail_msg("seed %llu request %u: %s", (unsigned long long)seed, i, bad);
        uint32_t dom;
        if (!plc_reserve_holds(c, &dom))
            fail_msg("seed %llu request %u: reserve broken at domain %u", (unsigned long long)seed,
                     i, dom);
        /* Sampled evacuation after each placement. */
        if (rc == NFV_OK && i % 4 == 0) {
            uint32_t n_dom = (uint32_t)plc_cluster_n_domains(c, fscope);
            check_evacuation(c, fscope, rnd(&s, 0, n_dom - 1), &st->spread_lost);
            st->evac_checked++;
        }
    }
    /* Every failure domain at the end. */
    for (uint32_t dom = 0; dom < plc_cluster_n_domains(c, fscope); dom++) {
        check_evacuation(c, fscope, dom, &st->spread_lost);
        st->evac_checked++;
    }
    plc_cluster_free(c);
}

static void test_random_clusters(void **state)
{
    (void)state;
    const char *e = getenv("PLC_PROPERTY_SEEDS");
    const char *e0 = getenv("PLC_PROPERTY_SEED0");
    unsigned n_seeds = e ? (unsigned)strtoul(e, NULL, 10) : 12;
    uint64_t seed0 = e0 ? strtoull(e0, NULL, 10) : 1;
    unsigned placed = 0, refused = 0, evac = 0, spread_lost = 0;

    for (uint64_t seed = seed0; seed < seed0 + n_seeds; seed++) {
        struct stats a, b;
        run_seed(seed, &a);
        run_seed(seed, &b);
        assert_int_equal(a.digest, b.digest); /* same input, same output */
        assert_int_equal(a.placed, b.placed);
        placed += a.placed;
        refused += a.refused;
        evac += a.evac_checked;
        spread_lost += a.spread_lost;
    }
    printf("property: %u seeds, %u placed, %u refused, %u evacuations checked\n", n_seeds, placed,
           refused, evac);
    assert_int_equal(spread_lost, 0);
    assert_true(placed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
