/*
 * pin_alloc.c - a host's pinning state: claims, bitmaps, capacity counters,
 * cloning and JSON persistence.
 *
 * Invariants kept by every function here (and checked by the randomized unit
 * test): used and blocked are disjoint subsets of the dedicated pool; free =
 * dedicated & ~used & ~blocked; a PU is in at most one claim's claimed|blocked
 * set; the counters equal a recount from the bitmaps. Claims are kept in
 * claim order so that a JSON dump and restore give an equal allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin_priv.h"

/* Recomputes the counters of logical node @n from the bitmaps. */
static void recount_node(struct pin_alloc *a, unsigned n)
{
    const struct pin_topo *t = a->topo;
    struct pin_alloc_counts *c = &a->node[n];
    struct pin_cpuset tmp;

    pin_cpuset_and(&tmp, &a->free, &t->nodes[n].pus);
    c->n_free_pus = pin_cpuset_count(&tmp);
    c->n_free_cores = 0;
    for (unsigned k = a->node_core_first[n]; k < a->node_core_end[n]; k++)
        if (pin_core_is_whole(t, k, &a->free))
            c->n_free_cores++;
}

static void recount_total(struct pin_alloc *a)
{
    a->total.n_free_pus = 0;
    a->total.n_free_cores = 0;
    for (unsigned n = 0; n < a->topo->n_nodes; n++) {
        a->total.n_free_pus += a->node[n].n_free_pus;
        a->total.n_free_cores += a->node[n].n_free_cores;
    }
}

/* Recounts the nodes that hold any PU of @touched. */
static void recount_touched(struct pin_alloc *a, const struct pin_cpuset *touched)
{
    for (unsigned n = 0; n < a->topo->n_nodes; n++)
        if (pin_cpuset_intersects(touched, &a->topo->nodes[n].pus))
            recount_node(a, n);
    recount_total(a);
}

enum nfv_code pin_alloc_new(struct pin_topo *topo, const struct pin_pools *pools,
                            struct pin_alloc **ret_alloc, struct nfv_err *err)
{
    struct pin_alloc *a;
    enum nfv_code rc;

    if (!topo->is_sealed)
        return NFV_ERR(err, NFV_E_INVAL, "allocation: topology is not sealed");
    rc = pin_pools_validate(topo, pools, err);
    if (rc)
        return rc;
    a = calloc(1, sizeof(*a));
    if (!a)
        return NFV_ERR(err, NFV_E_NOMEM, "allocation: out of memory");
    a->topo = pin_topo_ref(topo);
    a->pools = *pools;
    a->free = pools->dedicated;
    for (unsigned n = 0; n < topo->n_nodes; n++) {
        a->node_core_first[n] = UINT16_MAX;
        a->node_core_end[n] = 0;
    }
    for (unsigned c = 0; c < topo->n_cores; c++) {
        unsigned n = topo->cores[c].node;
        if (a->node_core_first[n] == UINT16_MAX)
            a->node_core_first[n] = (uint16_t)c;
        a->node_core_end[n] = (uint16_t)(c + 1);
    }
    a->total.n_dedicated_pus = pin_cpuset_count(&pools->dedicated);
    for (unsigned n = 0; n < topo->n_nodes; n++) {
        struct pin_cpuset tmp;
        if (a->node_core_first[n] == UINT16_MAX)
            a->node_core_first[n] = 0; /* memory-only node: empty range */
        pin_cpuset_and(&tmp, &pools->dedicated, &topo->nodes[n].pus);
        a->node[n].n_dedicated_pus = pin_cpuset_count(&tmp);
        recount_node(a, n);
    }
    recount_total(a);
    *ret_alloc = a;
    return NFV_OK;
}

void pin_alloc_free(struct pin_alloc *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_claims; i++)
        pin_plan_free(a->claims[i].plan);
    free(a->claims);
    pin_topo_unref(a->topo);
    free(a);
}

enum nfv_code pin_alloc_copy(struct pin_alloc *dst, const struct pin_alloc *src,
                             struct nfv_err *err)
{
    struct pin_claim *claims = dst->claims;
    size_t cap = dst->cap_claims;

    if (dst == src)
        return NFV_OK;
    /* Grow the claim array and make sure every slot's plan is big enough
     * before touching anything, so that a failure leaves @dst unchanged. */
    if (cap < src->n_claims) {
        claims = realloc(dst->claims, src->n_claims * sizeof(*claims));
        if (!claims)
            return NFV_ERR(err, NFV_E_NOMEM, "allocation copy: out of memory");
        memset(claims + cap, 0, (src->n_claims - cap) * sizeof(*claims));
        dst->claims = claims;
        dst->cap_claims = cap = src->n_claims;
    }
    for (size_t i = 0; i < src->n_claims; i++) {
        const struct pin_plan *sp = src->claims[i].plan;
        if (!claims[i].plan || claims[i].plan->cap_vcpus < sp->n_vcpus) {
            struct pin_plan *p = pin_plan_new(sp->n_vcpus);
            if (!p)
                return NFV_ERR(err, NFV_E_NOMEM, "allocation copy: out of memory");
            pin_plan_free(claims[i].plan);
            claims[i].plan = p;
        }
    }
    for (size_t i = 0; i < src->n_claims; i++) {
        struct pin_plan *dp = claims[i].plan;
        const struct pin_plan *sp = src->claims[i].plan;
        int16_t *pus = dp->vcpu_pu;
        uint8_t *modes = dp->vcpu_mode;
        unsigned dcap = dp->cap_vcpus;

        memcpy(claims[i].owner, src->claims[i].owner, sizeof(claims[i].owner));
        *dp = *sp;
        dp->cap_vcpus = dcap;
        dp->vcpu_pu = pus;
        dp->vcpu_mode = modes;
        memcpy(pus, sp->vcpu_pu, sp->n_vcpus * sizeof(*pus));
        memcpy(modes, sp->vcpu_mode, sp->n_vcpus);
    }
    if (dst->topo != src->topo) {
        pin_topo_unref(dst->topo);
        dst->topo = pin_topo_ref(src->topo);
    }
    dst->pools = src->pools;
    dst->used = src->used;
    dst->blocked = src->blocked;
    dst->free = src->free;
    dst->total = src->total;
    memcpy(dst->node, src->node, sizeof(dst->node));
    memcpy(dst->node_core_first, src->node_core_first, sizeof(dst->node_core_first));
    memcpy(dst->node_core_end, src->node_core_end, sizeof(dst->node_core_end));
    dst->n_claims = src->n_claims;
    return NFV_OK;
}

struct pin_alloc *pin_alloc_clone(const struct pin_alloc *src)
{
    struct pin_alloc *a;

    if (pin_alloc_new(src->topo, &src->pools, &a, NULL))
        return NULL;
    if (pin_alloc_copy(a, src, NULL)) {
        pin_alloc_free(a);
        return NULL;
    }
    return a;
}

const struct pin_topo *pin_alloc_topo(const struct pin_alloc *a)
{
    return a->topo;
}
const struct pin_pools *pin_alloc_pools(const struct pin_alloc *a)
{
    return &a->pools;
}
const struct pin_cpuset *pin_alloc_used(const struct pin_alloc *a)
{
    return &a->used;
}
const struct pin_cpuset *pin_alloc_blocked(const struct pin_alloc *a)
{
    return &a->blocked;
}
const struct pin_cpuset *pin_alloc_free_set(const struct pin_alloc *a)
{
    return &a->free;
}

void pin_alloc_counts(const struct pin_alloc *a, struct pin_alloc_counts *ret)
{
    *ret = a->total;
}

void pin_alloc_node_counts(const struct pin_alloc *a, unsigned node, struct pin_alloc_counts *ret)
{
    if (node >= a->topo->n_nodes) {
        memset(ret, 0, sizeof(*ret));
        return;
    }
    *ret = a->node[node];
}

static struct pin_claim *claim_find(const struct pin_alloc *a, const char *owner)
{
    for (size_t i = 0; i < a->n_claims; i++)
        if (strcmp(a->claims[i].owner, owner) == 0)
            return &a->claims[i];
    return NULL;
}

/* Describes the holder of @pu into @buf ("'vm-a' (vcpu 0)"). */
static void describe_holder(const struct pin_alloc *a, unsigned pu, char *buf, size_t size)
{
    const char *owner;
    int vcpu;

    if (!pin_alloc_pu_owner(a, pu, &owner, &vcpu))
        snprintf(buf, size, "nobody");
    else if (vcpu == PIN_OWNER_EMULATOR)
        snprintf(buf, size, "'%s' (emulator)", owner);
    else if (vcpu == PIN_OWNER_BLOCKED)
        snprintf(buf, size, "'%s' (kept empty as an SMT sibling)", owner);
    else
        snprintf(buf, size, "'%s' (vcpu %d)", owner, vcpu);
}

enum nfv_code pin_alloc_claim(struct pin_alloc *a, const struct pin_plan *plan, const char *owner,
                              struct nfv_err *err)
{
    struct pin_cpuset tmp, touched;
    struct pin_plan *copy;

    if (!owner || !*owner || strlen(owner) >= PIN_OWNER_SIZE)
        return NFV_ERR(err, NFV_E_INVAL, "owner: must be 1..%d bytes", PIN_OWNER_SIZE - 1);
    if (claim_find(a, owner))
        return NFV_ERR(err, NFV_E_EXIST, "owner '%s': already holds a claim on this host", owner);
    pin_cpuset_or(&touched, &plan->claimed, &plan->blocked);
    pin_cpuset_andnot(&tmp, &touched, &a->pools.dedicated);
    if (!pin_cpuset_is_empty(&tmp))
        return NFV_ERR(err, NFV_E_INVAL, "owner '%s': PU %d is not in the dedicated pool", owner,
                       pin_cpuset_first(&tmp));
    if (pin_cpuset_intersects(&plan->claimed, &plan->blocked))
        return NFV_ERR(err, NFV_E_INVAL, "owner '%s': plan both holds and blocks a PU", owner);
    pin_cpuset_andnot(&tmp, &touched, &a->free);
    if (!pin_cpuset_is_empty(&tmp)) {
        char holder[PIN_OWNER_SIZE + 48];
        int pu = pin_cpuset_first(&tmp);
        describe_holder(a, (unsigned)pu, holder, sizeof(holder));
        return NFV_ERR(err, NFV_E_EXIST, "owner '%s': PU %d is held by %s", owner, pu, holder);
    }
    if (a->n_claims == a->cap_claims) {
        size_t cap = a->cap_claims ? a->cap_claims * 2 : 8;
        struct pin_claim *c = realloc(a->claims, cap * sizeof(*c));
        if (!c)
            return NFV_ERR(err, NFV_E_NOMEM, "claim: out of memory");
        memset(c + a->cap_claims, 0, (cap - a->cap_claims) * sizeof(*c));
        a->claims = c;
        a->cap_claims = cap;
    }
    copy = pin_plan_dup(plan);
    if (!copy)
        return NFV_ERR(err, NFV_E_NOMEM, "claim: out of memory");
    pin_plan_free(a->claims[a->n_claims].plan); /* a slot left from pin_alloc_copy */
    snprintf(a->claims[a->n_claims].owner, PIN_OWNER_SIZE, "%s", owner);
    a->claims[a->n_claims].plan = copy;
    a->n_claims++;
    pin_cpuset_or(&a->used, &a->used, &plan->claimed);
    pin_cpuset_or(&a->blocked, &a->blocked, &plan->blocked);
    pin_cpuset_andnot(&a->free, &a->free, &touched);
    recount_touched(a, &touched);
    return NFV_OK;
}

enum nfv_code pin_alloc_release(struct pin_alloc *a, const char *owner, struct nfv_err *err)
{
    struct pin_claim *c = owner ? claim_find(a, owner) : NULL;
    struct pin_cpuset touched;
    struct pin_plan *plan;
    size_t i;

    if (!c)
        return NFV_ERR(err, NFV_E_NOENT, "owner '%s': holds no claim on this host",
                       owner ? owner : "");
    plan = c->plan;
    pin_cpuset_or(&touched, &plan->claimed, &plan->blocked);
    pin_cpuset_andnot(&a->used, &a->used, &plan->claimed);
    pin_cpuset_andnot(&a->blocked, &a->blocked, &plan->blocked);
    pin_cpuset_or(&a->free, &a->free, &touched);
    i = (size_t)(c - a->claims);
    memmove(&a->claims[i], &a->claims[i + 1], (a->n_claims - i - 1) * sizeof(*c));
    a->n_claims--;
    a->claims[a->n_claims].plan = NULL;
    pin_plan_free(plan);
    recount_touched(a, &touched);
    return NFV_OK;
}

size_t pin_alloc_n_claims(const struct pin_alloc *a)
{
    return a->n_claims;
}

const char *pin_alloc_claim_owner(const struct pin_alloc *a, size_t i)
{
    return i < a->n_claims ? a->claims[i].owner : NULL;
}

const struct pin_plan *pin_alloc_claim_plan(const struct pin_alloc *a, const char *owner)
{
    const struct pin_claim *c = owner ? claim_find(a, owner) : NULL;
    return c ? c->plan : NULL;
}

int pin_alloc_claim_vcpu_pu(const struct pin_alloc *a, const char *owner, unsigned vcpu)
{
    const struct pin_claim *c = owner ? claim_find(a, owner) : NULL;

    if (!c || vcpu >= c->plan->n_vcpus)
        return -1;
    return c->plan->vcpu_pu[vcpu];
}

bool pin_alloc_pu_owner(const struct pin_alloc *a, unsigned pu, const char **ret_owner,
                        int *ret_vcpu)
{
    for (size_t i = 0; i < a->n_claims; i++) {
        const struct pin_plan *p = a->claims[i].plan;
        int vcpu = PIN_OWNER_EMULATOR;

        if (pin_cpuset_test(&p->blocked, pu)) {
            vcpu = PIN_OWNER_BLOCKED;
        } else if (pin_cpuset_test(&p->claimed, pu)) {
            bool is_shared = pin_cpuset_test(&p->shared, pu);
            for (unsigned v = 0; v < p->n_vcpus; v++) {
                if ((is_shared && p->vcpu_mode[v] == PIN_MODE_SHARED) ||
                    (!is_shared && p->vcpu_mode[v] != PIN_MODE_SHARED &&
                     p->vcpu_pu[v] == (int)pu)) {
                    vcpu = (int)v;
                    break;
                }
            }
        } else {
            continue;
        }
        if (ret_owner)
            *ret_owner = a->claims[i].owner;
        if (ret_vcpu)
            *ret_vcpu = vcpu;
        return true;
    }
    return false;
}

static json_t *set_json(const struct pin_cpuset *s)
{
    char buf[4096];

    pin_cpuset_format(s, buf, sizeof(buf));
    return json_string(buf);
}

json_t *pin_alloc_to_json(const struct pin_alloc *a)
{
    json_t *claims = json_array();

    for (size_t i = 0; i < a->n_claims; i++)
        json_array_append_new(claims, json_pack("{s:s,s:o}", "owner", a->claims[i].owner, "plan",
                                                pin_plan_to_json(a->claims[i].plan)));
    return json_pack("{s:{s:o,s:o,s:o},s:o}", "pools", "reserved", set_json(&a->pools.reserved),
                     "dedicated", set_json(&a->pools.dedicated), "shared",
                     set_json(&a->pools.shared), "claims", claims);
}

enum nfv_code pin_alloc_from_json(struct pin_topo *topo, const json_t *v,
                                  struct pin_alloc **ret_alloc, struct nfv_err *err)
{
    const char *res, *ded, *shr;
    json_t *claims, *c;
    json_error_t jerr;
    struct pin_pools pools;
    struct pin_alloc *a;
    enum nfv_code rc;
    size_t i;

    if (json_unpack_ex((json_t *)v, &jerr, 0, "{s:{s:s,s:s,s:s},s:o}", "pools", "reserved", &res,
                       "dedicated", &ded, "shared", &shr, "claims", &claims) ||
        !json_is_array(claims))
        return NFV_ERR(err, NFV_E_PARSE, "allocation: %s", jerr.text);
    if (pin_cpuset_parse(res, PIN_MAX_PUS, true, &pools.reserved, err) ||
        pin_cpuset_parse(ded, PIN_MAX_PUS, true, &pools.dedicated, err) ||
        pin_cpuset_parse(shr, PIN_MAX_PUS, true, &pools.shared, err)) {
        nfv_err_prefix(err, "allocation: pools");
        if (err)
            err->code = NFV_E_PARSE;
        return NFV_E_PARSE;
    }
    rc = pin_alloc_new(topo, &pools, &a, err);
    if (rc)
        return rc;
    json_array_foreach(claims, i, c)
    {
        const char *owner;
        json_t *pj;
        struct pin_plan *plan;

        if (json_unpack_ex(c, &jerr, 0, "{s:s,s:o}", "owner", &owner, "plan", &pj)) {
            pin_alloc_free(a);
            return NFV_ERR(err, NFV_E_PARSE, "allocation: claim %zu: %s", i, jerr.text);
        }
        rc = pin_plan_from_json(pj, &plan, err);
        if (rc == NFV_OK) {
            rc = pin_alloc_claim(a, plan, owner, err);
            pin_plan_free(plan);
        }
        if (rc) {
            nfv_err_prefix(err, "allocation: claim %zu", i);
            pin_alloc_free(a);
            return rc;
        }
    }
    *ret_alloc = a;
    return NFV_OK;
}

static bool plan_equal(const struct pin_plan *x, const struct pin_plan *y)
{
    return x->n_vcpus == y->n_vcpus &&
           memcmp(x->vcpu_pu, y->vcpu_pu, x->n_vcpus * sizeof(*x->vcpu_pu)) == 0 &&
           memcmp(x->vcpu_mode, y->vcpu_mode, x->n_vcpus) == 0 &&
           pin_cpuset_equal(&x->claimed, &y->claimed) &&
           pin_cpuset_equal(&x->blocked, &y->blocked) && pin_cpuset_equal(&x->shared, &y->shared) &&
           pin_cpuset_equal(&x->emulator, &y->emulator) &&
           pin_cpuset_equal(&x->iothreads, &y->iothreads) && x->n_iothreads == y->n_iothreads &&
           x->node_mask == y->node_mask && x->numa == y->numa && x->mem_mib == y->mem_mib &&
           x->hugepage_kib == y->hugepage_kib && x->is_mem_strict == y->is_mem_strict;
}

bool pin_alloc_equal(const struct pin_alloc *a, const struct pin_alloc *b)
{
    if (a->topo->n_pus != b->topo->n_pus || !pin_cpuset_equal(&a->topo->all, &b->topo->all) ||
        !pin_cpuset_equal(&a->pools.reserved, &b->pools.reserved) ||
        !pin_cpuset_equal(&a->pools.dedicated, &b->pools.dedicated) ||
        !pin_cpuset_equal(&a->pools.shared, &b->pools.shared) ||
        !pin_cpuset_equal(&a->used, &b->used) || !pin_cpuset_equal(&a->blocked, &b->blocked) ||
        !pin_cpuset_equal(&a->free, &b->free) || a->n_claims != b->n_claims ||
        memcmp(&a->total, &b->total, sizeof(a->total)) != 0)
        return false;
    for (size_t i = 0; i < a->n_claims; i++)
        if (strcmp(a->claims[i].owner, b->claims[i].owner) != 0 ||
            !plan_equal(a->claims[i].plan, b->claims[i].plan))
            return false;
    return true;
}
