/*
 * fuzz_pin_alloc_json.c - restoring pin plans and a host's allocation from
 * JSON (pin_plan_from_json, pin_alloc_from_json in pin/plan.h, pin/alloc.h):
 * what vmmgrd reads back from its database at start.
 *
 * The document is tried as both. On a fixed synthetic host (2 packages x
 * 8 cores x 2 threads, 32 PUs), properties: a loaded plan serializes,
 * reloads and serializes to the same JSON; claiming it either succeeds (and
 * then every vCPU's PU is held) or fails with a message and changes nothing;
 * a loaded allocation round-trips the same way and its counters stay within
 * the host.
 */
#include "fuzz_util.h"
#include "pin/alloc.h"
#include "pin/plan.h"
#include "pin/pools.h"
#include "pin/topo.h"

static void fuzz_plan(struct pin_topo *topo, const json_t *doc)
{
    struct nfv_err err;
    struct pin_plan *plan = NULL, *back = NULL;
    struct pin_alloc *a = NULL;
    struct pin_pools pools;

    if (pin_plan_from_json(doc, &plan, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        return;
    }
    json_t *j = pin_plan_to_json(plan);
    FUZZ_CHECK(j);
    FUZZ_CHECK(pin_plan_from_json(j, &back, &err) == NFV_OK);
    json_t *j2 = pin_plan_to_json(back);
    FUZZ_CHECK(json_equal(j, j2));

    FUZZ_CHECK(pin_pools_parse(topo, "0-1", NULL, NULL, &pools, &err) == NFV_OK);
    FUZZ_CHECK(pin_alloc_new(topo, &pools, &a, &err) == NFV_OK);
    struct pin_alloc_counts before, after;
    pin_alloc_counts(a, &before);
    if (pin_alloc_claim(a, plan, "vm", &err) == NFV_OK) {
        for (unsigned v = 0; v < plan->n_vcpus; v++)
            FUZZ_CHECK(pin_alloc_claim_vcpu_pu(a, "vm", v) == plan->vcpu_pu[v]);
        json_t *aj = pin_alloc_to_json(a);
        struct pin_alloc *a2 = NULL;
        FUZZ_CHECK(aj);
        FUZZ_CHECK(pin_alloc_from_json(topo, aj, &a2, &err) == NFV_OK);
        pin_alloc_free(a2);
        json_decref(aj);
        FUZZ_CHECK(pin_alloc_release(a, "vm", &err) == NFV_OK);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    pin_alloc_counts(a, &after);
    FUZZ_CHECK(after.n_free_pus == before.n_free_pus);
    pin_alloc_free(a);
    json_decref(j2);
    json_decref(j);
    pin_plan_free(back);
    pin_plan_free(plan);
}

static void fuzz_alloc(struct pin_topo *topo, const json_t *doc)
{
    struct nfv_err err;
    struct pin_alloc *a = NULL, *back = NULL;

    if (pin_alloc_from_json(topo, doc, &a, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
        return;
    }
    struct pin_alloc_counts c;
    pin_alloc_counts(a, &c);
    FUZZ_CHECK(c.n_free_pus <= c.n_dedicated_pus && c.n_dedicated_pus <= topo->n_pus);
    json_t *j = pin_alloc_to_json(a);
    FUZZ_CHECK(j);
    FUZZ_CHECK(pin_alloc_from_json(topo, j, &back, &err) == NFV_OK);
    json_t *j2 = pin_alloc_to_json(back);
    FUZZ_CHECK(json_equal(j, j2));
    char buf[64];
    for (unsigned pu = 0; pu < topo->n_pus; pu++)
        (void)pin_alloc_pu_vcpus_format(a, pu, NULL, buf, sizeof(buf));
    json_decref(j2);
    json_decref(j);
    pin_alloc_free(back);
    pin_alloc_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pin_topo *topo;
    struct nfv_err err;

    if (size > 65536)
        return 0;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    /* One sealed topology for every input (it is immutable once sealed;
     * still reachable at exit, so not a leak). */
    if (!topo)
        FUZZ_CHECK(pin_topo_new_synthetic(2, 1, 8, 2, 16384, &topo, &err) == NFV_OK);
    fuzz_plan(topo, doc);
    fuzz_alloc(topo, doc);
    json_decref(doc);
    return 0;
}
