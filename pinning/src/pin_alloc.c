/*
 * pin_alloc.c - a host's pinning state: claims, bitmaps, capacity counters,
 * cloning and JSON persistence.
 *
 * Invariants kept by every function here (and checked by the randomized unit
 * test): used and blocked are disjoint subsets of the dedicated pool; free =
 * dedicated & ~used & ~blocked; a PU is in at most one claim's claimed|blocked
 * set; the counters equal a recount from the bitmaps. Claims are kept in
 * claim order so that a JSON dump and restore give an equal allocation, and
 * are stored compactly (pin_priv.h) because placement holds one allocation
 * per host for thousands of hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin_priv.h"

#define NO_PU 0xffffu

/* ---- compact claims ---------------------------------------------------- */

static size_t claim_n16(const struct pin_claim *c)
{
    size_t n = c->n_vcpus;

    for (int i = 0; i < PIN_CL__COUNT; i++)
        n += c->n_list[i];
    return n;
}

static uint16_t *claim_u16(const struct pin_claim *c)
{
    return c->blob;
}

/* First entry of list @which. */
static const uint16_t *claim_list(const struct pin_claim *c, enum pin_claim_list which)
{
    const uint16_t *p = claim_u16(c) + c->n_vcpus;

    for (int i = 0; i < (int)which; i++)
        p += c->n_list[i];
    return p;
}

static uint8_t *claim_modes(const struct pin_claim *c)
{
    return (uint8_t *)(claim_u16(c) + claim_n16(c));
}

static const char *claim_owner(const struct pin_claim *c)
{
    return (const char *)(claim_modes(c) + c->n_vcpus);
}

static void claim_set(const struct pin_claim *c, enum pin_claim_list which, struct pin_cpuset *ret)
{
    const uint16_t *l = claim_list(c, which);

    pin_cpuset_zero(ret);
    for (unsigned i = 0; i < c->n_list[which]; i++)
        pin_cpuset_set(ret, l[i]);
}

static bool claim_has(const struct pin_claim *c, enum pin_claim_list which, unsigned pu)
{
    const uint16_t *l = claim_list(c, which);

    for (unsigned i = 0; i < c->n_list[which]; i++)
        if (l[i] == pu)
            return true;
    return false;
}

/* Makes @c hold @plan for @owner, reusing its blob when big enough.
 * Returns false on allocation failure (then @c is unchanged). */
static bool claim_store(struct pin_claim *c, const struct pin_plan *plan, const char *owner)
{
    const struct pin_cpuset *sets[PIN_CL__COUNT] = {&plan->claimed, &plan->blocked, &plan->shared,
                                                    &plan->emulator, &plan->iothreads};
    unsigned n_list[PIN_CL__COUNT];
    size_t n16 = plan->n_vcpus, owner_len = strlen(owner), size;
    uint16_t *u;

    for (int i = 0; i < PIN_CL__COUNT; i++) {
        n_list[i] = pin_cpuset_count(sets[i]);
        n16 += n_list[i];
    }
    size = n16 * sizeof(uint16_t) + plan->n_vcpus + owner_len + 1;
    if (size > c->blob_cap) {
        void *b = realloc(c->blob, size);
        if (!b)
            return false;
        c->blob = b;
        c->blob_cap = size;
    }
    c->n_vcpus = (uint16_t)plan->n_vcpus;
    for (int i = 0; i < PIN_CL__COUNT; i++)
        c->n_list[i] = (uint16_t)n_list[i];
    c->n_iothreads = (uint16_t)plan->n_iothreads;
    c->numa = (uint8_t)plan->numa;
    c->emulator_policy = (uint8_t)plan->emulator_policy;
    c->is_mem_strict = plan->is_mem_strict;
    c->node_mask = plan->node_mask;
    c->mem_mib = plan->mem_mib;
    c->hugepage_kib = plan->hugepage_kib;
    u = claim_u16(c);
    for (unsigned v = 0; v < plan->n_vcpus; v++)
        *u++ = plan->vcpu_pu[v] < 0 ? NO_PU : (uint16_t)plan->vcpu_pu[v];
    for (int i = 0; i < PIN_CL__COUNT; i++)
        for (int pu = pin_cpuset_first(sets[i]); pu >= 0;
             pu = pin_cpuset_next(sets[i], (unsigned)pu + 1))
            *u++ = (uint16_t)pu;
    memcpy(claim_modes(c), plan->vcpu_mode, plan->n_vcpus);
    memcpy((char *)claim_owner(c), owner, owner_len + 1);
    return true;
}

/* Expands @c into @ret (capacity checked by the caller). */
static void claim_load(const struct pin_claim *c, struct pin_plan *ret)
{
    const uint16_t *u = claim_u16(c);

    ret->n_vcpus = c->n_vcpus;
    for (unsigned v = 0; v < c->n_vcpus; v++)
        ret->vcpu_pu[v] = u[v] == NO_PU ? -1 : (int16_t)u[v];
    memcpy(ret->vcpu_mode, claim_modes(c), c->n_vcpus);
    claim_set(c, PIN_CL_CLAIMED, &ret->claimed);
    claim_set(c, PIN_CL_BLOCKED, &ret->blocked);
    claim_set(c, PIN_CL_SHARED, &ret->shared);
    claim_set(c, PIN_CL_EMULATOR, &ret->emulator);
    claim_set(c, PIN_CL_IOTHREADS, &ret->iothreads);
    ret->n_iothreads = c->n_iothreads;
    ret->numa = (enum pin_numa_policy)c->numa;
    ret->emulator_policy = (enum pin_emulator_policy)c->emulator_policy;
    ret->is_mem_strict = c->is_mem_strict;
    ret->node_mask = c->node_mask;
    ret->mem_mib = c->mem_mib;
    ret->hugepage_kib = c->hugepage_kib;
}

static size_t claim_size(const struct pin_claim *c)
{
    return claim_n16(c) * sizeof(uint16_t) + c->n_vcpus + strlen(claim_owner(c)) + 1;
}

static bool claim_equal(const struct pin_claim *x, const struct pin_claim *y)
{
    return x->n_vcpus == y->n_vcpus && memcmp(x->n_list, y->n_list, sizeof(x->n_list)) == 0 &&
           x->n_iothreads == y->n_iothreads && x->numa == y->numa &&
           x->is_mem_strict == y->is_mem_strict && x->node_mask == y->node_mask &&
           x->mem_mib == y->mem_mib && x->hugepage_kib == y->hugepage_kib &&
           memcmp(x->blob, y->blob, claim_size(x)) == 0;
}

/* ---- counters ---------------------------------------------------------- */

/* Recomputes the counters of logical node @n from the bitmaps. */
static void recount_node(struct pin_alloc *a, unsigned n)
{
    const struct pin_topo *t = a->topo;
    struct pin_node_state *ns = &a->nodes[n];
    struct pin_cpuset tmp;

    pin_cpuset_and(&tmp, &a->free, &t->nodes[n].pus);
    ns->counts.n_free_pus = pin_cpuset_count(&tmp);
    ns->counts.n_free_cores = 0;
    for (unsigned k = ns->core_first; k < ns->core_end; k++)
        if (pin_core_is_whole(t, k, &a->free))
            ns->counts.n_free_cores++;
}

static void recount_total(struct pin_alloc *a)
{
    a->total.n_free_pus = 0;
    a->total.n_free_cores = 0;
    for (unsigned n = 0; n < a->n_nodes; n++) {
        a->total.n_free_pus += a->nodes[n].counts.n_free_pus;
        a->total.n_free_cores += a->nodes[n].counts.n_free_cores;
    }
}

/* Recounts the nodes that hold any PU of @touched. */
static void recount_touched(struct pin_alloc *a, const struct pin_cpuset *touched)
{
    for (unsigned n = 0; n < a->n_nodes; n++)
        if (pin_cpuset_intersects(touched, &a->topo->nodes[n].pus))
            recount_node(a, n);
    recount_total(a);
}

/* Adds (@sign = 1) or removes (-1) the hugepage memory of a single-node
 * claim. Spread plans are not accounted (see docs/pinning.md). */
static void account_hugepages(struct pin_alloc *a, uint64_t node_mask, uint64_t mem_mib,
                              uint64_t hugepage_kib, int sign)
{
    int n, idx;

    if (!hugepage_kib || !mem_mib || !node_mask || (node_mask & (node_mask - 1)))
        return;
    n = pin_topo_node_by_os(a->topo, (unsigned)__builtin_ctzll(node_mask));
    if (n < 0 || (idx = pin_node_hp_index(a->topo, (unsigned)n, hugepage_kib)) < 0)
        return;
    if (sign > 0)
        a->nodes[n].hp_used_kib[idx] += mem_mib * 1024;
    else
        a->nodes[n].hp_used_kib[idx] -= mem_mib * 1024;
}

uint64_t pin_alloc_node_hugepages_free_kib(const struct pin_alloc *a, unsigned node,
                                           uint64_t size_kib)
{
    const struct pin_node_info *ni;
    uint64_t total;
    int idx;

    if (node >= a->n_nodes)
        return 0;
    ni = &a->topo->nodes[node];
    if (ni->n_hp == 0)
        return UINT64_MAX;
    idx = pin_node_hp_index(a->topo, node, size_kib);
    if (idx < 0)
        return 0;
    total = ni->hp[idx].n_free * size_kib;
    return total > a->nodes[node].hp_used_kib[idx] ? total - a->nodes[node].hp_used_kib[idx] : 0;
}

/* ---- life cycle -------------------------------------------------------- */

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
    if (!a || !(a->nodes = calloc(topo->n_nodes ? topo->n_nodes : 1, sizeof(*a->nodes)))) {
        free(a);
        return NFV_ERR(err, NFV_E_NOMEM, "allocation: out of memory");
    }
    a->topo = pin_topo_ref(topo);
    a->n_nodes = topo->n_nodes;
    a->pools = *pools;
    a->free = pools->dedicated;
    for (unsigned n = 0; n < topo->n_nodes; n++)
        a->nodes[n].core_first = UINT16_MAX;
    for (unsigned c = 0; c < topo->n_cores; c++) {
        struct pin_node_state *ns = &a->nodes[topo->cores[c].node];
        if (ns->core_first == UINT16_MAX)
            ns->core_first = (uint16_t)c;
        ns->core_end = (uint16_t)(c + 1);
    }
    a->total.n_dedicated_pus = pin_cpuset_count(&pools->dedicated);
    for (unsigned n = 0; n < topo->n_nodes; n++) {
        struct pin_cpuset tmp;
        if (a->nodes[n].core_first == UINT16_MAX)
            a->nodes[n].core_first = 0; /* memory-only node: empty range */
        pin_cpuset_and(&tmp, &pools->dedicated, &topo->nodes[n].pus);
        a->nodes[n].counts.n_dedicated_pus = pin_cpuset_count(&tmp);
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
    for (size_t i = 0; i < a->cap_claims; i++)
        free(a->claims[i].blob);
    free(a->claims);
    free(a->nodes);
    pin_topo_unref(a->topo);
    free(a);
}

enum nfv_code pin_alloc_copy(struct pin_alloc *dst, const struct pin_alloc *src,
                             struct nfv_err *err)
{
    if (dst == src)
        return NFV_OK;
    /* Grow everything first, so that a failure leaves @dst as it was. */
    if (dst->n_nodes < src->n_nodes) {
        struct pin_node_state *ns = realloc(dst->nodes, src->n_nodes * sizeof(*ns));
        if (!ns)
            return NFV_ERR(err, NFV_E_NOMEM, "allocation copy: out of memory");
        dst->nodes = ns;
    }
    if (dst->cap_claims < src->n_claims) {
        struct pin_claim *c = realloc(dst->claims, src->n_claims * sizeof(*c));
        if (!c)
            return NFV_ERR(err, NFV_E_NOMEM, "allocation copy: out of memory");
        memset(c + dst->cap_claims, 0, (src->n_claims - dst->cap_claims) * sizeof(*c));
        dst->claims = c;
        dst->cap_claims = src->n_claims;
    }
    for (size_t i = 0; i < src->n_claims; i++) {
        size_t size = claim_size(&src->claims[i]);
        if (dst->claims[i].blob_cap < size) {
            void *b = realloc(dst->claims[i].blob, size);
            if (!b)
                return NFV_ERR(err, NFV_E_NOMEM, "allocation copy: out of memory");
            dst->claims[i].blob = b;
            dst->claims[i].blob_cap = size;
        }
    }
    for (size_t i = 0; i < src->n_claims; i++) {
        struct pin_claim *d = &dst->claims[i];
        void *blob = d->blob;
        size_t cap = d->blob_cap;
        *d = src->claims[i];
        d->blob = blob;
        d->blob_cap = cap;
        memcpy(blob, src->claims[i].blob, claim_size(&src->claims[i]));
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
    dst->n_nodes = src->n_nodes;
    memcpy(dst->nodes, src->nodes, src->n_nodes * sizeof(*dst->nodes));
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

/* ---- views ------------------------------------------------------------- */

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
    if (node >= a->n_nodes) {
        memset(ret, 0, sizeof(*ret));
        return;
    }
    *ret = a->nodes[node].counts;
}

static struct pin_claim *claim_find(const struct pin_alloc *a, const char *owner)
{
    for (size_t i = 0; i < a->n_claims; i++)
        if (strcmp(claim_owner(&a->claims[i]), owner) == 0)
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

/* ---- claim and release ------------------------------------------------- */

enum nfv_code pin_alloc_claim(struct pin_alloc *a, const struct pin_plan *plan, const char *owner,
                              struct nfv_err *err)
{
    struct pin_cpuset tmp, touched;
    struct pin_claim *c;

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
        size_t cap = a->cap_claims ? a->cap_claims * 2 : 4;
        c = realloc(a->claims, cap * sizeof(*c));
        if (!c)
            return NFV_ERR(err, NFV_E_NOMEM, "claim: out of memory");
        memset(c + a->cap_claims, 0, (cap - a->cap_claims) * sizeof(*c));
        a->claims = c;
        a->cap_claims = cap;
    }
    c = &a->claims[a->n_claims];
    if (!claim_store(c, plan, owner))
        return NFV_ERR(err, NFV_E_NOMEM, "claim: out of memory");
    a->n_claims++;
    account_hugepages(a, plan->node_mask, plan->mem_mib, plan->hugepage_kib, 1);
    pin_cpuset_or(&a->used, &a->used, &plan->claimed);
    pin_cpuset_or(&a->blocked, &a->blocked, &plan->blocked);
    pin_cpuset_andnot(&a->free, &a->free, &touched);
    recount_touched(a, &touched);
    return NFV_OK;
}

enum nfv_code pin_alloc_release(struct pin_alloc *a, const char *owner, struct nfv_err *err)
{
    struct pin_claim *c = owner ? claim_find(a, owner) : NULL;
    struct pin_cpuset claimed, blocked, touched;
    struct pin_claim gone;
    size_t i;

    if (!c)
        return NFV_ERR(err, NFV_E_NOENT, "owner '%s': holds no claim on this host",
                       owner ? owner : "");
    claim_set(c, PIN_CL_CLAIMED, &claimed);
    claim_set(c, PIN_CL_BLOCKED, &blocked);
    pin_cpuset_or(&touched, &claimed, &blocked);
    pin_cpuset_andnot(&a->used, &a->used, &claimed);
    pin_cpuset_andnot(&a->blocked, &a->blocked, &blocked);
    pin_cpuset_or(&a->free, &a->free, &touched);
    account_hugepages(a, c->node_mask, c->mem_mib, c->hugepage_kib, -1);
    /* keep claim order; the freed slot (and its blob) moves to the end */
    i = (size_t)(c - a->claims);
    gone = *c;
    memmove(&a->claims[i], &a->claims[i + 1], (a->n_claims - i - 1) * sizeof(*c));
    a->n_claims--;
    a->claims[a->n_claims] = gone;
    recount_touched(a, &touched);
    return NFV_OK;
}

size_t pin_alloc_n_claims(const struct pin_alloc *a)
{
    return a->n_claims;
}

const char *pin_alloc_claim_owner(const struct pin_alloc *a, size_t i)
{
    return i < a->n_claims ? claim_owner(&a->claims[i]) : NULL;
}

enum nfv_code pin_alloc_claim_plan(const struct pin_alloc *a, const char *owner,
                                   struct pin_plan *ret_plan, struct nfv_err *err)
{
    const struct pin_claim *c = owner ? claim_find(a, owner) : NULL;

    if (!c)
        return NFV_ERR(err, NFV_E_NOENT, "owner '%s': holds no claim on this host",
                       owner ? owner : "");
    if (c->n_vcpus > ret_plan->cap_vcpus)
        return NFV_ERR(err, NFV_E_INVAL, "owner '%s': plan of %u vCPUs does not fit in %u", owner,
                       c->n_vcpus, ret_plan->cap_vcpus);
    claim_load(c, ret_plan);
    return NFV_OK;
}

int pin_alloc_claim_vcpu_pu(const struct pin_alloc *a, const char *owner, unsigned vcpu)
{
    const struct pin_claim *c = owner ? claim_find(a, owner) : NULL;
    uint16_t pu;

    if (!c || vcpu >= c->n_vcpus)
        return -1;
    pu = claim_u16(c)[vcpu];
    return pu == NO_PU ? -1 : pu;
}

bool pin_alloc_pu_owner(const struct pin_alloc *a, unsigned pu, const char **ret_owner,
                        int *ret_vcpu)
{
    for (size_t i = 0; i < a->n_claims; i++) {
        const struct pin_claim *c = &a->claims[i];
        const uint16_t *vp = claim_u16(c);
        const uint8_t *modes = claim_modes(c);
        int vcpu = PIN_OWNER_EMULATOR;

        if (claim_has(c, PIN_CL_BLOCKED, pu)) {
            vcpu = PIN_OWNER_BLOCKED;
        } else if (claim_has(c, PIN_CL_CLAIMED, pu)) {
            bool is_shared = claim_has(c, PIN_CL_SHARED, pu);
            for (unsigned v = 0; v < c->n_vcpus; v++) {
                if ((is_shared && modes[v] == PIN_MODE_SHARED) ||
                    (!is_shared && modes[v] != PIN_MODE_SHARED && vp[v] == pu)) {
                    vcpu = (int)v;
                    break;
                }
            }
        } else {
            continue;
        }
        if (ret_owner)
            *ret_owner = claim_owner(c);
        if (ret_vcpu)
            *ret_vcpu = vcpu;
        return true;
    }
    return false;
}

bool pin_alloc_pu_vcpus_format(const struct pin_alloc *a, unsigned pu, const char **ret_owner,
                               char *buf, size_t buf_size)
{
    const struct pin_claim *c = NULL;
    const uint16_t *vp;
    const uint8_t *modes;
    bool is_shared;
    size_t len = 0;
    int run_start = -1, prev = -2;

    if (buf_size)
        buf[0] = '\0';
    for (size_t i = 0; i < a->n_claims && !c; i++)
        if (claim_has(&a->claims[i], PIN_CL_BLOCKED, pu) ||
            claim_has(&a->claims[i], PIN_CL_CLAIMED, pu))
            c = &a->claims[i];
    if (!c)
        return false;
    if (ret_owner)
        *ret_owner = claim_owner(c);
    if (claim_has(c, PIN_CL_BLOCKED, pu)) {
        snprintf(buf, buf_size, "blocked");
        return true;
    }
    vp = claim_u16(c);
    modes = claim_modes(c);
    is_shared = claim_has(c, PIN_CL_SHARED, pu);
    /* vCPUs on this PU, ascending, compressed into ranges ("0-1,4"). The
     * extra iteration (v == n_vcpus) flushes the last run. */
    for (unsigned v = 0; v <= c->n_vcpus; v++) {
        bool is_here = v < c->n_vcpus && (is_shared ? modes[v] == PIN_MODE_SHARED
                                                    : modes[v] != PIN_MODE_SHARED && vp[v] == pu);
        if (is_here && (int)v == prev + 1) {
            prev = (int)v;
            continue;
        }
        if (run_start >= 0 && len < buf_size) {
            int n = run_start == prev
                        ? snprintf(buf + len, buf_size - len, "%s%d", len ? "," : "", run_start)
                        : snprintf(buf + len, buf_size - len, "%s%d-%d", len ? "," : "", run_start,
                                   prev);
            len += n > 0 ? (size_t)n : 0;
        }
        run_start = is_here ? (int)v : -1;
        prev = is_here ? (int)v : -2;
    }
    if (len == 0)
        snprintf(buf, buf_size, "emulator");
    return true;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *set_json(const struct pin_cpuset *s)
{
    char buf[4096];

    pin_cpuset_format(s, buf, sizeof(buf));
    return json_string(buf);
}

json_t *pin_alloc_to_json(const struct pin_alloc *a)
{
    json_t *claims = json_array();

    for (size_t i = 0; i < a->n_claims; i++) {
        const struct pin_claim *c = &a->claims[i];
        struct pin_plan *p = pin_plan_new(c->n_vcpus ? c->n_vcpus : 1);
        if (!p) {
            json_decref(claims);
            return NULL;
        }
        claim_load(c, p);
        json_array_append_new(
            claims, json_pack("{s:s,s:o}", "owner", claim_owner(c), "plan", pin_plan_to_json(p)));
        pin_plan_free(p);
    }
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
        if (!claim_equal(&a->claims[i], &b->claims[i]))
            return false;
    return true;
}

size_t pin_alloc_footprint(const struct pin_alloc *a)
{
    size_t n = sizeof(*a) + a->n_nodes * sizeof(*a->nodes) + a->cap_claims * sizeof(*a->claims);

    for (size_t i = 0; i < a->cap_claims; i++)
        n += a->claims[i].blob_cap;
    return n;
}
