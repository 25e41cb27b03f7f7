/*
 * fuzz_pin_request_json.c - pin_request_from_json() (pin/request.h): the
 * "pins" object of the daemon's VM create request and of its database rows.
 *
 * Properties: whatever loads re-serializes, loads again, and serializes to
 * the same JSON (the header promises an exact round trip); the loaded request
 * is either valid or refused by pin_request_validate with a message. A valid
 * request is planned on a fixed synthetic host (2 packages x 8 cores x 2
 * threads, PUs 0-1 reserved, one VM already holding PUs 2-5): a plan the
 * planner returns must be claimable (its PUs dedicated and free) with one
 * PU per vCPU.
 */
#include "fuzz_util.h"
#include "pin/alloc.h"
#include "pin/plan.h"
#include "pin/pools.h"
#include "pin/request.h"
#include "pin/topo.h"

static void fuzz_plan(const struct pin_request *req)
{
    static struct pin_topo *topo; /* sealed, shared by every input */
    struct nfv_err err;
    struct pin_pools pools;
    struct pin_alloc *a = NULL;
    struct pin_request *other = NULL;

    if (!topo)
        FUZZ_CHECK(pin_topo_new_synthetic(2, 1, 8, 2, 16384, &topo, &err) == NFV_OK);
    FUZZ_CHECK(pin_pools_parse(topo, "0-1", NULL, NULL, &pools, &err) == NFV_OK);
    FUZZ_CHECK(pin_alloc_new(topo, &pools, &a, &err) == NFV_OK);
    FUZZ_CHECK(pin_request_new(2, PIN_MODE_NUMBERED, &other, &err) == NFV_OK);
    FUZZ_CHECK(pin_request_set_cpu_map(other, "0:2,1:4", PIN_MAX_PUS, &err) == NFV_OK);
    struct pin_plan *plan = pin_plan_new(req->n_vcpus > 2 ? req->n_vcpus : 2);
    FUZZ_CHECK(plan);
    FUZZ_CHECK(pin_plan_compute(a, other, plan, &err) == NFV_OK);
    FUZZ_CHECK(pin_alloc_claim(a, plan, "other", &err) == NFV_OK);

    if (pin_plan_compute(a, req, plan, &err) == NFV_OK) {
        FUZZ_CHECK(plan->n_vcpus == req->n_vcpus);
        for (unsigned v = 0; v < plan->n_vcpus; v++)
            FUZZ_CHECK(plan->vcpu_pu[v] >= 0 && (unsigned)plan->vcpu_pu[v] < PIN_MAX_PUS);
        if (pin_alloc_claim(a, plan, "vm", &err) != NFV_OK) {
            fprintf(stderr, "planned but not claimable: %s\n", err.msg);
            FUZZ_CHECK(!"a computed plan must be claimable");
        }
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    pin_plan_free(plan);
    pin_request_free(other);
    pin_alloc_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;
    struct pin_request *req = NULL, *back = NULL;

    if (size > 65536)
        return 0;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    if (pin_request_from_json(doc, &req, &err) != NFV_OK) {
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);
        json_decref(doc);
        return 0;
    }
    FUZZ_CHECK(req->n_vcpus >= 1 && req->n_vcpus <= PIN_MAX_VCPUS);
    json_t *j = pin_request_to_json(req);
    FUZZ_CHECK(j);
    FUZZ_CHECK(pin_request_from_json(j, &back, &err) == NFV_OK);
    json_t *j2 = pin_request_to_json(back);
    FUZZ_CHECK(json_equal(j, j2));
    if (pin_request_validate(req, &err) != NFV_OK)
        FUZZ_CHECK(err.msg[0]);
    else
        fuzz_plan(req);
    struct pin_request *dup = pin_request_dup(req);
    FUZZ_CHECK(dup);
    pin_request_free(dup);
    json_decref(j2);
    json_decref(j);
    pin_request_free(back);
    pin_request_free(req);
    json_decref(doc);
    return 0;
}
