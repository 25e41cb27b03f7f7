/*
 * test_pin_random.c - fill hosts with random mixed requests until they
 * refuse, checking the allocation after every step against an independent
 * model kept by the test.
 *
 * Invariants (issue 3, "Tests"): no PU is held by two owners (claims and
 * blocked siblings are pairwise disjoint, and the allocation's bitmaps are
 * exactly their union); numbered pins land on the named PUs; the thread
 * policy held (isolate: every picked PU's siblings are kept empty; prefer:
 * nothing kept empty; require: every core touched is wholly the VM's);
 * single-node and NIC-required plans stay on one node; the O(1) counters
 * equal a brute-force recount; a refusal is correct (no node really had
 * room, or the numbered PU really was taken); the same inputs give the same
 * plan; JSON restore gives an equal allocation; and releasing everything in
 * random order returns the host to its start state.
 *
 * The seed is printed; set VMMGR_SEED to replay a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/pin.h"

#define MAX_VMS 512

static uint64_t g_rng;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return n ? (unsigned)(g_rng % n) : 0;
}

struct vm {
    char owner[16];
    struct pin_cpuset claimed, blocked;
};

struct world {
    struct pin_topo *t;
    struct pin_alloc *a;
    struct pin_alloc *start;
    struct pin_plan *plan, *plan2;
    struct vm vms[MAX_VMS];
    unsigned n_vms;
    unsigned next_id;
    unsigned n_plans, n_refusals;
};

/* Free PUs by the model: dedicated minus every VM's claimed and blocked. */
static void model_free(const struct world *w, struct pin_cpuset *ret)
{
    *ret = pin_alloc_pools(w->a)->dedicated;
    for (unsigned i = 0; i < w->n_vms; i++) {
        pin_cpuset_andnot(ret, ret, &w->vms[i].claimed);
        pin_cpuset_andnot(ret, ret, &w->vms[i].blocked);
    }
}

/* Units of node @n in @free for @policy (see pin_plan.c), by brute force. */
static unsigned units(const struct pin_topo *t, unsigned n, const struct pin_cpuset *free,
                      enum pin_thread_policy policy)
{
    unsigned u = 0;

    for (unsigned c = 0; c < t->n_cores; c++) {
        const struct pin_core_info *core = &t->cores[c];
        unsigned n_free = 0;
        if (core->node != n)
            continue;
        for (unsigned k = 0; k < core->n_pus; k++)
            n_free += pin_cpuset_test(free, core->pus[k]);
        if (policy == PIN_THREAD_PREFER)
            u += n_free;
        else if (n_free == core->n_pus)
            u += policy == PIN_THREAD_REQUIRE ? core->n_pus : 1;
    }
    return u;
}

static void check_alloc(struct world *w)
{
    struct pin_cpuset used, blocked, free, tmp;
    struct pin_alloc_counts c, cn;
    unsigned sum_pus = 0, sum_cores = 0;

    pin_cpuset_zero(&used);
    pin_cpuset_zero(&blocked);
    for (unsigned i = 0; i < w->n_vms; i++) {
        for (unsigned j = i + 1; j < w->n_vms; j++) {
            pin_cpuset_or(&tmp, &w->vms[j].claimed, &w->vms[j].blocked);
            if (pin_cpuset_intersects(&w->vms[i].claimed, &tmp) ||
                pin_cpuset_intersects(&w->vms[i].blocked, &tmp))
                fail_msg("'%s' and '%s' share a PU", w->vms[i].owner, w->vms[j].owner);
        }
        pin_cpuset_or(&used, &used, &w->vms[i].claimed);
        pin_cpuset_or(&blocked, &blocked, &w->vms[i].blocked);
    }
    assert_true(pin_cpuset_equal(&used, pin_alloc_used(w->a)));
    assert_true(pin_cpuset_equal(&blocked, pin_alloc_blocked(w->a)));
    model_free(w, &free);
    assert_true(pin_cpuset_equal(&free, pin_alloc_free_set(w->a)));
    assert_false(pin_cpuset_intersects(&used, &blocked));
    assert_true(pin_cpuset_is_subset(&used, &pin_alloc_pools(w->a)->dedicated));
    for (unsigned n = 0; n < w->t->n_nodes; n++) {
        pin_alloc_node_counts(w->a, n, &cn);
        pin_cpuset_and(&tmp, &free, &w->t->nodes[n].pus);
        assert_int_equal(cn.n_free_pus, pin_cpuset_count(&tmp));
        assert_int_equal(cn.n_free_cores, units(w->t, n, &free, PIN_THREAD_ISOLATE));
        sum_pus += cn.n_free_pus;
        sum_cores += cn.n_free_cores;
    }
    pin_alloc_counts(w->a, &c);
    assert_int_equal(c.n_free_pus, sum_pus);
    assert_int_equal(c.n_free_cores, sum_cores);
    assert_int_equal(pin_alloc_n_claims(w->a), w->n_vms);
}

/* A random request; numbered PUs are drawn from one node's dedicated PUs
 * (free or not, so that conflicts happen too). */
static struct pin_request *random_request(struct world *w)
{
    unsigned n = 1 + rnd(6);
    struct pin_request *r = NULL;
    const struct pin_cpuset *ded = &pin_alloc_pools(w->a)->dedicated;

    assert_int_equal(pin_request_new(n, PIN_MODE_EXCLUSIVE, &r, NULL), NFV_OK);
    r->thread_policy = (enum pin_thread_policy)rnd(PIN_THREAD__COUNT);
    if (n > 1 && rnd(2))
        r->vcpu_mode[0] = PIN_MODE_SHARED;
    if (n > 2 && rnd(3) == 0)
        r->vcpu_mode[1] = PIN_MODE_SHARED;
    if (rnd(5) == 0) {
        /* numbered: vCPUs from the end, PUs on one random node */
        unsigned node = rnd(w->t->n_nodes), k = 1 + rnd(2);
        struct pin_cpuset cand;
        pin_cpuset_and(&cand, ded, &w->t->nodes[node].pus);
        for (unsigned i = 0; i < k && i < n && !pin_cpuset_is_empty(&cand); i++) {
            unsigned skip = rnd(pin_cpuset_count(&cand));
            int pu = pin_cpuset_first(&cand);
            while (skip--)
                pu = pin_cpuset_next(&cand, (unsigned)pu + 1);
            r->vcpu_mode[n - 1 - i] = PIN_MODE_NUMBERED;
            r->vcpu_pu[n - 1 - i] = (int16_t)pu;
            pin_cpuset_clr(&cand, (unsigned)pu);
        }
    }
    switch (rnd(3)) {
    case 0:
        r->emulator = PIN_EMU_ISOLATE;
        break;
    case 1:
        r->emulator = r->vcpu_mode[0] == PIN_MODE_SHARED ? PIN_EMU_SHARED : PIN_EMU_RESERVED;
        break;
    default:
        r->emulator = PIN_EMU_RESERVED;
        break;
    }
    if (rnd(6) == 0 && w->t->n_nodes > 1)
        r->numa = PIN_NUMA_SPREAD;
    else if (w->t->n_nics && rnd(3) == 0) {
        snprintf(r->nic, sizeof(r->nic), "%s", w->t->nics[rnd(w->t->n_nics)].name);
        r->nic_policy = rnd(2) ? PIN_NIC_REQUIRED : PIN_NIC_PREFERRED;
    }
    return r;
}

static bool plans_equal(const struct pin_plan *x, const struct pin_plan *y)
{
    return x->n_vcpus == y->n_vcpus &&
           memcmp(x->vcpu_pu, y->vcpu_pu, x->n_vcpus * sizeof(*x->vcpu_pu)) == 0 &&
           pin_cpuset_equal(&x->claimed, &y->claimed) &&
           pin_cpuset_equal(&x->blocked, &y->blocked) &&
           pin_cpuset_equal(&x->emulator, &y->emulator) && x->node_mask == y->node_mask;
}

static void check_plan(struct world *w, const struct pin_request *r)
{
    const struct pin_plan *p = w->plan;
    const struct pin_topo *t = w->t;
    struct pin_cpuset picks = p->claimed, free;
    int nic_node = -1;

    model_free(w, &free);
    assert_true(pin_cpuset_is_subset(&p->claimed, &free));
    assert_true(pin_cpuset_is_subset(&p->blocked, &free));
    for (unsigned v = 0; v < r->n_vcpus; v++) {
        if (r->vcpu_mode[v] == PIN_MODE_NUMBERED) {
            if (p->vcpu_pu[v] != r->vcpu_pu[v])
                fail_msg("numbered vcpu %u on %d, asked %d", v, p->vcpu_pu[v], r->vcpu_pu[v]);
            pin_cpuset_clr(&picks, (unsigned)r->vcpu_pu[v]);
        } else if (r->vcpu_mode[v] == PIN_MODE_SHARED) {
            assert_true(pin_cpuset_test(&p->shared, (unsigned)p->vcpu_pu[v]));
        } else {
            assert_true(pin_cpuset_test(&p->claimed, (unsigned)p->vcpu_pu[v]));
            for (unsigned u = 0; u < v; u++)
                if (r->vcpu_mode[u] == PIN_MODE_EXCLUSIVE)
                    assert_int_not_equal(p->vcpu_pu[u], p->vcpu_pu[v]);
        }
    }
    for (int pu = pin_cpuset_first(&picks); pu >= 0; pu = pin_cpuset_next(&picks, pu + 1)) {
        const struct pin_core_info *core = &t->cores[t->pu_by_os[pu].core];
        for (unsigned k = 0; k < core->n_pus; k++) {
            unsigned s = core->pus[k];
            if (s == (unsigned)pu)
                continue;
            if (r->thread_policy == PIN_THREAD_ISOLATE && !pin_cpuset_test(&p->blocked, s))
                fail_msg("isolate: sibling %u of PU %d not kept empty", s, pu);
            if (r->thread_policy == PIN_THREAD_REQUIRE && !pin_cpuset_test(&p->blocked, s) &&
                !pin_cpuset_test(&p->claimed, s))
                fail_msg("require: sibling %u of PU %d given away", s, pu);
        }
    }
    if (r->thread_policy == PIN_THREAD_PREFER)
        assert_true(pin_cpuset_is_empty(&p->blocked));
    if (r->nic[0] && r->nic_policy == PIN_NIC_REQUIRED)
        nic_node = pin_topo_nic_find(t, r->nic)->node;
    if (p->numa == PIN_NUMA_SINGLE) { /* as resolved: the default is auto */
        unsigned n = (unsigned)__builtin_popcountll(p->node_mask);
        if (n > 1)
            fail_msg("single-node plan on %u nodes", n);
        if (nic_node >= 0)
            assert_int_equal(p->node_mask, UINT64_C(1) << t->nodes[nic_node].os_index);
    }
    if (r->emulator == PIN_EMU_SHARED)
        assert_true(pin_cpuset_equal(&p->emulator, &p->shared));
    if (r->emulator == PIN_EMU_ISOLATE) {
        assert_int_equal(pin_cpuset_count(&p->emulator), 1);
        assert_true(pin_cpuset_is_subset(&p->emulator, &p->claimed));
    }
}

/* A refusal must be true. */
static void check_refusal(struct world *w, const struct pin_request *r, enum nfv_code rc,
                          const char *msg)
{
    struct pin_cpuset free;
    struct pin_demand d;
    unsigned need, tpc = pin_topo_threads_per_core(w->t);
    uint64_t numbered_nodes = 0;

    model_free(w, &free);
    if (rc == NFV_E_EXIST) {
        for (unsigned v = 0; v < r->n_vcpus; v++)
            if (r->vcpu_mode[v] == PIN_MODE_NUMBERED &&
                !pin_cpuset_test(&free, (unsigned)r->vcpu_pu[v]))
                return; /* a numbered PU really is taken */
        fail_msg("EXIST but every numbered PU is free: %s", msg);
    }
    if (rc == NFV_E_INVAL) {
        /* the one INVAL the generator can cause: numbered PUs off the node
         * of a required NIC */
        if (r->nic[0] && r->nic_policy == PIN_NIC_REQUIRED && r->numa != PIN_NUMA_SPREAD) {
            int nic_node = pin_topo_nic_find(w->t, r->nic)->node;
            for (unsigned v = 0; v < r->n_vcpus; v++)
                if (r->vcpu_mode[v] == PIN_MODE_NUMBERED &&
                    w->t->pu_by_os[r->vcpu_pu[v]].node != nic_node) {
                    assert_non_null(strstr(msg, "'cpu-map': numbered PUs are on numa node"));
                    return;
                }
        }
        fail_msg("unexpected INVAL: %s", msg);
    }
    assert_int_equal(rc, NFV_E_NOCAP);
    pin_request_demand(r, tpc, &d);
    for (unsigned v = 0; v < r->n_vcpus; v++)
        if (r->vcpu_mode[v] == PIN_MODE_NUMBERED) {
            pin_cpuset_clr(&free, (unsigned)r->vcpu_pu[v]);
            numbered_nodes |= UINT64_C(1) << w->t->pu_by_os[r->vcpu_pu[v]].node;
        }
    need = d.n_exclusive + d.n_shared_pus + d.n_emulator_pus;
    if (r->thread_policy == PIN_THREAD_REQUIRE)
        need = (need + tpc - 1) / tpc * tpc;
    if (r->numa == PIN_NUMA_SPREAD) {
        unsigned total = 0;
        for (unsigned n = 0; n < w->t->n_nodes; n++)
            total += units(w->t, n, &free, r->thread_policy);
        if (total >= need)
            fail_msg("spread refused with %u units for %u: %s", total, need, msg);
        return;
    }
    for (unsigned n = 0; n < w->t->n_nodes; n++) {
        bool is_allowed = true;
        if (numbered_nodes)
            is_allowed = numbered_nodes == (UINT64_C(1) << n);
        else if (r->nic[0] && r->nic_policy == PIN_NIC_REQUIRED)
            is_allowed = pin_topo_nic_find(w->t, r->nic)->node == (int)n;
        if (is_allowed && units(w->t, n, &free, r->thread_policy) >= need)
            fail_msg("refused although node %u has room for %u: %s", n, need, msg);
    }
}

static void release_one(struct world *w, unsigned i)
{
    struct nfv_err err = {0};

    if (pin_alloc_release(w->a, w->vms[i].owner, &err) != NFV_OK)
        fail_msg("release %s: %s", w->vms[i].owner, err.msg);
    w->vms[i] = w->vms[--w->n_vms];
}

static void run_world(struct world *w, unsigned max_refusals)
{
    struct nfv_err err = {0};

    w->plan = pin_plan_new(16);
    w->plan2 = pin_plan_new(16);
    w->start = pin_alloc_clone(w->a);
    for (unsigned step = 0; w->n_refusals < max_refusals && step < 5000; step++) {
        struct pin_request *r = random_request(w);
        enum nfv_code rc = pin_plan_compute(w->a, r, w->plan, &err);

        if (rc == NFV_OK) {
            assert_int_equal(pin_plan_compute(w->a, r, w->plan2, NULL), NFV_OK);
            assert_true(plans_equal(w->plan, w->plan2));
            check_plan(w, r);
            struct vm *vm = &w->vms[w->n_vms];
            snprintf(vm->owner, sizeof(vm->owner), "vm-%u", w->next_id++);
            vm->claimed = w->plan->claimed;
            vm->blocked = w->plan->blocked;
            if (pin_alloc_claim(w->a, w->plan, vm->owner, &err) != NFV_OK)
                fail_msg("claim: %s", err.msg);
            w->n_vms++;
            w->n_plans++;
        } else {
            check_refusal(w, r, rc, err.msg);
            w->n_refusals++;
        }
        /* now and then a VM leaves */
        if (w->n_vms && rnd(4) == 0)
            release_one(w, rnd(w->n_vms));
        check_alloc(w);
        if (step % 16 == 0) {
            json_t *j = pin_alloc_to_json(w->a);
            struct pin_alloc *back;
            assert_int_equal(pin_alloc_from_json(w->t, j, &back, &err), NFV_OK);
            assert_true(pin_alloc_equal(w->a, back));
            pin_alloc_free(back);
            json_decref(j);
        }
        pin_request_free(r);
    }
    assert_true(w->n_plans > 5);
    assert_true(w->n_refusals >= max_refusals);
    while (w->n_vms) {
        release_one(w, rnd(w->n_vms));
        check_alloc(w);
    }
    assert_true(pin_alloc_equal(w->a, w->start));
    pin_alloc_free(w->start);
    pin_alloc_free(w->a);
    pin_plan_free(w->plan);
    pin_plan_free(w->plan2);
    pin_topo_unref(w->t);
}

static void world_synthetic(struct world *w, unsigned p, unsigned n, unsigned c, unsigned th,
                            const char *reserved)
{
    struct pin_pools pools;

    memset(w, 0, sizeof(*w));
    assert_int_equal(pin_topo_new_synthetic(p, n, c, th, 1024, &w->t, NULL), NFV_OK);
    assert_int_equal(pin_pools_parse(w->t, reserved, NULL, NULL, &pools, NULL), NFV_OK);
    assert_int_equal(pin_alloc_new(w->t, &pools, &w->a, NULL), NFV_OK);
}

static void test_fill_one_socket_no_smt(void **state)
{
    static struct world w;

    (void)state;
    world_synthetic(&w, 1, 1, 16, 1, "0");
    run_world(&w, 200);
}

static void test_fill_two_sockets_smt(void **state)
{
    static struct world w;

    (void)state;
    world_synthetic(&w, 2, 1, 16, 2, "0-1,32-33");
    run_world(&w, 200);
}

static void test_fill_eight_numa(void **state)
{
    static struct world w;

    (void)state;
    world_synthetic(&w, 2, 4, 8, 2, "0-1");
    run_world(&w, 200);
}

static void test_fill_nic_host(void **state)
{
    static struct world w;
    struct pin_pools pools;
    unsigned n[2];

    (void)state;
    memset(&w, 0, sizeof(w));
    w.t = pin_topo_new();
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pin_topo_add_node(w.t, i, 1ull << 30, &n[i], NULL), NFV_OK);
    for (unsigned pu = 0; pu < 32; pu++)
        assert_int_equal(pin_topo_add_pu(w.t, pu, n[pu / 16], pu / 16, pu / 2, 0, NULL), NFV_OK);
    assert_int_equal(pin_topo_add_nic(w.t, "eno1", "0000:01:00.0", 0, NULL), NFV_OK);
    assert_int_equal(pin_topo_add_nic(w.t, "ens1f0", "0000:3b:00.0", 1, NULL), NFV_OK);
    assert_int_equal(pin_topo_add_nic(w.t, "ens1f1", "0000:3b:00.1", 1, NULL), NFV_OK);
    assert_int_equal(pin_topo_seal(w.t, NULL), NFV_OK);
    assert_int_equal(pin_pools_parse(w.t, "0-1", NULL, NULL, &pools, NULL), NFV_OK);
    assert_int_equal(pin_alloc_new(w.t, &pools, &w.a, NULL), NFV_OK);
    run_world(&w, 200);
}

int main(void)
{
    const char *seed = getenv("VMMGR_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_one_socket_no_smt),
        cmocka_unit_test(test_fill_two_sockets_smt),
        cmocka_unit_test(test_fill_eight_numa),
        cmocka_unit_test(test_fill_nic_host),
    };

    g_rng = seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
    if (!g_rng)
        g_rng = 1;
    printf("seed: 0x%llx (set VMMGR_SEED to replay)\n", (unsigned long long)g_rng);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
