/*
 * plc_plan.c - evacuation, drain and defragment plans.
 *
 * Every plan is computed on a clone of the cluster by replaying the steps
 * through the engine (plc_place with commit on the clone), so a step is
 * only emitted if the engine accepted it in the state left by the previous
 * steps: constraints hold after each step by construction. The original
 * cluster is never touched; plc_plan_apply() replays the steps on it.
 *
 * Order of work in an evacuation: promotions first (an ACT lost with its
 * host makes one surviving SBY of its group ACT - the lowest-index SBY, so
 * the choice is deterministic), then rebuilds of lost group members (largest
 * first, as SBY after a promotion), then other VMs. Rebuilds waive the
 * reserve (they are what it was kept for) but keep anti-affinity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc/plan.h"
#include "plc_priv.h"

static const char *const step_names[PLC_STEP__COUNT] = {"promote", "rebuild", "move", "lost"};

const char *plc_step_kind_to_string(enum plc_step_kind k)
{
    return (unsigned)k < PLC_STEP__COUNT ? step_names[k] : "?";
}

void plc_plan_free(struct plc_plan *p)
{
    if (!p)
        return;
    free(p->steps);
    free(p);
}

static enum nfv_code plan_add(struct plc_plan *p, const struct plc_step *s)
{
    if (p->n_steps == p->n_alloc) {
        size_t n = p->n_alloc ? p->n_alloc * 2 : 16;
        struct plc_step *st = realloc(p->steps, n * sizeof(*st));
        if (!st)
            return NFV_E_NOMEM;
        p->steps = st;
        p->n_alloc = n;
    }
    p->steps[p->n_steps++] = *s;
    if (s->kind == PLC_STEP_LOST)
        p->n_lost++;
    if (s->kind == PLC_STEP_MOVE || s->kind == PLC_STEP_REBUILD)
        p->n_moves++;
    return NFV_OK;
}

/* Sort VMs for rebuilding: the reserve's Hall argument (plc_reserve.c)
 * holds for greedy placement when the most constrained regions go first -
 * members rebuilt in their own rack, then in their own zone, then other
 * members - then VMs outside groups; within a rank more cores first. */
struct vm_key {
    uint32_t vm;
    uint8_t rank;
    uint16_t n_cores;
};
static int vm_key_cmp(const void *a, const void *b)
{
    const struct vm_key *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->n_cores != y->n_cores)
        return x->n_cores > y->n_cores ? -1 : 1;
    return x->vm < y->vm ? -1 : x->vm > y->vm;
}

/* Group members before other VMs; members spanning several nodes first
 * (they need whole free nodes that single-node members would fragment). */
static uint8_t vm_rank(const struct plc_vm *vm)
{
    if (vm->group == PLC_NONE)
        return 2;
    return vm->demand.numa_nodes >= 2 ? 0 : 1;
}

/*
 * Re-places VM @vm of clone @w somewhere else (its current resources are
 * released first, as for a rebuild or the source of a finished migration):
 * removes it and places it again under the same name, group and role.
 * @avoid (may be PLC_NONE) is kept out by the caller through its state.
 * Returns the engine's code; on failure the VM is put back where it was.
 */
/* The request that places VM @vm of @w again under its own name (copied
 * into @name), group and @role. */
static void again_req(const struct plc_cluster *w, uint32_t vm, enum plc_role role,
                      bool is_reserve_waived, const char *force_host, char *name, size_t name_size,
                      struct plc_vm_req *vr, struct plc_req *r)
{
    const struct plc_vm *v = &w->vms[vm];

    snprintf(name, name_size, "%s", v->name);
    memset(vr, 0, sizeof(*vr));
    vr->name = name;
    vr->role = role;
    vr->demand = v->demand;
    vr->force_host = force_host;
    memset(r, 0, sizeof(*r));
    if (v->group != PLC_NONE) {
        r->group = w->groups[v->group].name;
        r->scope = w->groups[v->group].scope;
        r->is_soft = w->groups[v->group].is_soft;
    }
    r->is_reserve_waived = is_reserve_waived;
    r->n_vms = 1;
    r->vms = vr;
}

static enum nfv_code replace_vm(struct plc_cluster *w, uint32_t vm, enum plc_role role,
                                bool is_reserve_waived, const char *force_host,
                                struct plc_choice *ret_choice, uint32_t *ret_new_vm,
                                struct nfv_err *err)
{
    struct plc_vm saved = w->vms[vm];
    char name[256];
    struct plc_vm_req vr;
    struct plc_req r;
    enum nfv_code rc;

    again_req(w, vm, role, is_reserve_waived, force_host, name, sizeof(name), &vr, &r);
    plc_cluster_remove_vm(w, vm);
    rc = plc_place(w, &r, true, ret_choice, err);
    if (rc == NFV_OK) {
        *ret_new_vm = plc_cluster_find_vm(w, name);
        return NFV_OK;
    }
    /* Put it back (its old resources are still free: nothing else ran). */
    uint32_t back;
    plc_cluster_add_vm(w, name, saved.group, saved.role, &saved.demand,
                       saved.at.host != PLC_NONE ? &saved.at : NULL, &back, NULL);
    *ret_new_vm = back;
    return rc;
}

/*
 * Rebuilds lost VM @vm of clone @w exactly at @at (host, nodes and shares
 * from the reserve's witness): its numbered cores, then the lowest free
 * cores of each node. Falls back to the engine (any host) if they are not
 * free after all.
 */
static enum nfv_code rebuild_at(struct plc_cluster *w, uint32_t vm, enum plc_role role,
                                const struct plc_choice *at,
                                const uint64_t (*avoid)[PLC_NODE_WORDS],
                                struct plc_choice *ret_choice, uint32_t *ret_new_vm)
{
    struct plc_choice ch = *at;
    const struct plc_vm *v = &w->vms[vm];
    const struct plc_host *h = &w->hosts[at->host];
    char name[256];
    bool is_short = false;

    for (unsigned p = 0; p < ch.n_parts; p++) {
        struct plc_part *pt = &ch.parts[p];
        const struct plc_node *nd = &h->nodes[pt->node];
        unsigned n = 0;
        memset(pt->cores, 0, sizeof(pt->cores));
        for (unsigned i = 0; i < v->demand.n_numbered; i++) {
            unsigned id = v->demand.numbered[i];
            if (id >= nd->first_core && id < (unsigned)nd->first_core + nd->n_cores) {
                unsigned li = id - nd->first_core;
                pt->cores[li / 64] |= UINT64_C(1) << (li % 64);
                n++;
            }
        }
        /* Other cores: first those no later rebuild names (@avoid). */
        for (int pass = 0; pass < 2; pass++)
            for (unsigned wd = 0; wd < PLC_NODE_WORDS && n < pt->n_cores; wd++) {
                uint64_t avail = nd->free_cores[wd] & ~pt->cores[wd];
                if (pass == 0)
                    avail &= ~avoid[pt->node][wd];
                while (avail && n < pt->n_cores) {
                    uint64_t bit = avail & (~avail + 1);
                    pt->cores[wd] |= bit;
                    avail &= ~bit;
                    n++;
                }
            }
        is_short |= n != pt->n_cores;
    }
    snprintf(name, sizeof(name), "%s", v->name);
    uint32_t group = v->group;
    struct plc_demand d = v->demand;
    plc_cluster_remove_vm(w, vm);
    if (!is_short &&
        plc_cluster_add_vm(w, name, group, role, &d, &ch, ret_new_vm, NULL) == NFV_OK) {
        *ret_choice = ch;
        return NFV_OK;
    }
    plc_cluster_add_vm(w, name, group, role, &d, NULL, ret_new_vm, NULL);
    return replace_vm(w, *ret_new_vm, role, true, NULL, ret_choice, ret_new_vm, NULL);
}

/* Hosts of failure domain (@scope, @dom). */
static bool in_domain(const struct plc_cluster *c, uint32_t h, enum plc_scope scope, uint32_t dom)
{
    return c->hosts[h].dom[scope] == dom;
}

enum nfv_code plc_plan_evacuate(const struct plc_cluster *c, enum plc_scope scope, uint32_t dom,
                                struct plc_plan **ret_plan, struct nfv_err *err)
{
    struct plc_cluster *w = NULL;
    struct plc_plan *p = NULL;
    struct vm_key *keys = NULL;
    uint32_t *map = NULL; /* clone vm index -> original vm index */
    uint32_t *members = NULL, *targets = NULL, *order = NULL, *target_of = NULL;
    struct plc_choice *wit = NULL, *wit_of = NULL;
    size_t n_keys = 0, n_members = 0;
    enum nfv_code rc = NFV_OK;

    if ((scope != PLC_SCOPE_HOST && scope != PLC_SCOPE_RACK && scope != PLC_SCOPE_ZONE &&
         scope != PLC_SCOPE_POWER) ||
        dom >= plc_cluster_n_domains(c, scope))
        return NFV_ERR(err, NFV_E_INVAL, "evacuate: no such %s", plc_scope_to_string(scope));
    w = plc_cluster_clone(c);
    p = calloc(1, sizeof(*p));
    keys = calloc(c->n_vms ? c->n_vms : 1, sizeof(*keys));
    map = malloc((c->n_vms + 1) * sizeof(*map));
    members = calloc(c->n_vms + 1, sizeof(*members));
    targets = calloc(c->n_vms + 1, sizeof(*targets));
    order = calloc(c->n_vms + 1, sizeof(*order));
    target_of = malloc((c->n_vms + 1) * sizeof(*target_of));
    wit = calloc(c->n_vms + 1, sizeof(*wit));
    wit_of = calloc(c->n_vms + 1, sizeof(*wit_of));
    if (!w || !p || !keys || !map || !members || !targets || !order || !target_of || !wit ||
        !wit_of) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i <= c->n_vms; i++)
        target_of[i] = PLC_NONE;
    for (uint32_t h = 0; h < w->n_hosts; h++)
        if (in_domain(w, h, scope, dom))
            plc_cluster_set_state(w, h, PLC_HOST_DOWN, NULL);
    for (uint32_t v = 0; v < w->n_vms; v++) {
        map[v] = v;
        const struct plc_vm *vm = &w->vms[v];
        if (!vm->name || vm->at.host == PLC_NONE || !in_domain(w, vm->at.host, scope, dom))
            continue;
        keys[n_keys].vm = v;
        keys[n_keys].rank = vm_rank(vm);
        keys[n_keys].n_cores = vm->demand.n_cores;
        n_keys++;
    }
    qsort(keys, n_keys, sizeof(*keys), vm_key_cmp);
    for (size_t i = 0; i < n_keys; i++)
        plc_cluster_lose_vm(w, keys[i].vm);
    /* Promotions: each lost ACT makes one surviving SBY of its group ACT. */
    for (size_t i = 0; i < n_keys; i++) {
        struct plc_vm *vm = &w->vms[keys[i].vm];
        if (vm->group == PLC_NONE || vm->role != PLC_ROLE_ACT)
            continue;
        const struct plc_group *g = &w->groups[vm->group];
        uint32_t best = PLC_NONE;
        for (uint32_t m = 0; m < g->n_members; m++) {
            const struct plc_vm *s = &w->vms[g->members[m]];
            if (s->role == PLC_ROLE_SBY && s->at.host != PLC_NONE &&
                (best == PLC_NONE || g->members[m] < best))
                best = g->members[m];
        }
        if (best == PLC_NONE)
            continue; /* no surviving SBY: the ACT itself is rebuilt */
        plc_cluster_set_role(w, best, PLC_ROLE_ACT);
        vm->role = PLC_ROLE_SBY;
        struct plc_step st = {.kind = PLC_STEP_PROMOTE,
                              .vm = best,
                              .from_host = w->vms[best].at.host,
                              .role = PLC_ROLE_ACT};
        st.to = w->vms[best].at;
        if (plan_add(p, &st) != NFV_OK) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    /* Group members: one rebuild for all of them found together (the
     * healing reserve's witness or its search), replayed in its order; if
     * none is found, members first, largest first, as far as they go. */
    n_members = 0;
    for (size_t i = 0; i < n_keys; i++)
        if (w->vms[keys[i].vm].group != PLC_NONE)
            members[n_members++] = keys[i].vm;
    /* The witness the reserve kept for this domain (the original
     * cluster's; vm indexes are the clone's: its rebuilds exactly, nodes
     * included), else a search now (hosts; the engine picks the nodes). */
    bool is_witness = false;
    if (n_members && plc_heal_witness((struct plc_cluster *)c, scope, dom, members, n_members, wit,
                                      order) == NFV_OK) {
        is_witness = true;
        for (size_t i = 0; i < n_members; i++)
            targets[i] = wit[i].host;
    }
    if (n_members &&
        (is_witness || plc_heal_assign(w, members, n_members, targets, order) == NFV_OK)) {
        /* keys[0..n_members) are the members (rank < 4): reorder them */
        for (size_t i = 0; i < n_members; i++) {
            keys[i].vm = members[order[i]], target_of[i] = targets[order[i]];
            if (is_witness)
                wit_of[i] = wit[order[i]];
        }
    }
    for (size_t i = 0; i < n_keys; i++) {
        uint32_t cv = keys[i].vm, orig = map[cv], nv;
        enum plc_role role = w->vms[cv].role;
        struct plc_step st = {.vm = orig, .from_host = c->vms[orig].at.host, .role = role};
        const char *force =
            i < n_members && target_of[i] != PLC_NONE ? w->hosts[target_of[i]].name : NULL;
        enum nfv_code rrc;
        if (is_witness && i < n_members) {
            /* Cores the later rebuilds on this host name. */
            uint64_t avoid[PLC_MAX_NODES][PLC_NODE_WORDS];
            const struct plc_host *th = &w->hosts[wit_of[i].host];
            memset(avoid, 0, sizeof(avoid));
            for (size_t j = i + 1; j < n_members; j++) {
                const struct plc_demand *dj = &w->vms[keys[j].vm].demand;
                if (wit_of[j].host != wit_of[i].host)
                    continue;
                for (unsigned k = 0; k < dj->n_numbered; k++)
                    for (unsigned nn = 0; nn < th->n_nodes; nn++) {
                        unsigned id = dj->numbered[k], lo = th->nodes[nn].first_core;
                        if (id >= lo && id < lo + th->nodes[nn].n_cores)
                            avoid[nn][(id - lo) / 64] |= UINT64_C(1) << ((id - lo) % 64);
                    }
            }
            rrc = rebuild_at(w, cv, role, &wit_of[i], (const uint64_t(*)[PLC_NODE_WORDS])avoid,
                             &st.to, &nv);
        } else {
            rrc = replace_vm(w, cv, role, true, force, &st.to, &nv, NULL);
        }
        if (rrc != NFV_OK && force)
            rrc = replace_vm(w, cv, role, true, NULL, &st.to, &nv, NULL);
        if (rrc == NFV_OK) {
            st.kind = PLC_STEP_REBUILD;
        } else {
            st.kind = PLC_STEP_LOST;
            memset(&st.to, 0, sizeof(st.to));
            st.to.host = PLC_NONE;
        }
        /* Keep the clone -> original mapping for the slot the VM now uses. */
        if (nv != PLC_NONE && nv < c->n_vms + 1)
            map[nv] = orig;
        if (plan_add(p, &st) != NFV_OK) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    *ret_plan = p;
    p = NULL;
cleanup:
    plc_plan_free(p);
    plc_cluster_free(w);
    free(keys);
    free(map);
    free(members);
    free(targets);
    free(order);
    free(target_of);
    free(wit);
    free(wit_of);
    return rc;
}

enum nfv_code plc_plan_drain(const struct plc_cluster *c, uint32_t h, struct plc_plan **ret_plan,
                             struct nfv_err *err)
{
    struct plc_cluster *w = NULL;
    struct plc_plan *p = NULL;
    struct vm_key *keys = NULL;
    size_t n_keys = 0;
    enum nfv_code rc = NFV_OK;

    if (h >= c->n_hosts)
        return NFV_ERR(err, NFV_E_INVAL, "drain: no such host");
    w = plc_cluster_clone(c);
    p = calloc(1, sizeof(*p));
    keys = calloc(c->n_vms ? c->n_vms : 1, sizeof(*keys));
    if (!w || !p || !keys) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    plc_cluster_set_state(w, h, PLC_HOST_MAINTENANCE, NULL);
    for (uint32_t v = 0; v < w->n_vms; v++) {
        const struct plc_vm *vm = &w->vms[v];
        if (!vm->name || vm->at.host != h)
            continue;
        keys[n_keys].vm = v;
        keys[n_keys].rank = vm_rank(vm);
        keys[n_keys].n_cores = vm->demand.n_cores;
        n_keys++;
    }
    qsort(keys, n_keys, sizeof(*keys), vm_key_cmp);
    /* One move per VM is the minimum a drain can take. Slot reuse in the
     * clone: replace_vm frees the slot and the re-add takes it back (free
     * list is LIFO), so indexes of later keys stay valid. */
    for (size_t i = 0; i < n_keys; i++) {
        uint32_t v = keys[i].vm, nv;
        struct plc_step st = {.kind = PLC_STEP_MOVE, .vm = v, .from_host = h};
        st.role = w->vms[v].role;
        rc = replace_vm(w, v, st.role, false, NULL, &st.to, &nv, err);
        if (rc != NFV_OK) {
            nfv_err_prefix(err, "drain of '%s': vm '%s' cannot move", c->hosts[h].name,
                           c->vms[v].name);
            goto cleanup;
        }
        if (plan_add(p, &st) != NFV_OK) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    *ret_plan = p;
    p = NULL;
cleanup:
    plc_plan_free(p);
    plc_cluster_free(w);
    free(keys);
    return rc;
}

/*
 * Appends to @err why VM @vm of @w (back where it was) fits on no other
 * host: per host the first filter that refuses it, from plc_explain_new
 * ("; s1: anti_affinity, s2: its host, s3: cores"). Best effort.
 */
static void explain_move(struct plc_cluster *w, uint32_t vm, uint32_t from, bool is_reserve_waived,
                         const char *force_host, struct nfv_err *err)
{
    char name[256], buf[NFV_ERR_MSG_SIZE];
    struct plc_vm_req vr;
    struct plc_req r;
    struct plc_explain *e;
    size_t len = 0;

    if (vm >= w->n_vms || !w->vms[vm].name)
        return;
    again_req(w, vm, w->vms[vm].role, is_reserve_waived, force_host, name, sizeof(name), &vr, &r);
    plc_cluster_remove_vm(w, vm);
    e = plc_explain_new(w, &r, NULL);
    if (!e || e->n_vms < 1) {
        plc_explain_free(e);
        return;
    }
    buf[0] = '\0';
    for (uint32_t h = 0; h < w->n_hosts && len + 1 < sizeof(buf); h++) {
        const struct plc_explain_member *m = &e->members[0];
        unsigned f = h < e->n_hosts ? m->first_fail[h] : PLC_F__COUNT;
        const char *why;
        int n;
        if (w->hosts[h].is_removed)
            continue;
        if (h == from)
            why = "its host";
        else if (f < PLC_F__COUNT)
            why = plc_filter_to_string((enum plc_filter)f);
        else if (m->joint_fail && m->joint_fail[h] < PLC_F__COUNT)
            why = plc_filter_to_string((enum plc_filter)m->joint_fail[h]);
        else
            continue;
        n = snprintf(buf + len, sizeof(buf) - len, "%s%s: %s", len ? ", " : "", w->hosts[h].name,
                     why);
        if (n < 0 || (size_t)n >= sizeof(buf) - len)
            break;
        len += (size_t)n;
    }
    plc_explain_free(e);
    if (len) {
        size_t el = strlen(err->msg);
        snprintf(err->msg + el, sizeof(err->msg) - el, "; %s", buf);
    }
}

enum nfv_code plc_plan_move(const struct plc_cluster *c, uint32_t vm, const char *force_host,
                            bool is_reserve_waived, struct plc_choice *ret_choice,
                            struct nfv_err *err)
{
    struct plc_cluster *w;
    uint32_t from, nv;
    enum nfv_code rc;

    if (vm >= c->n_vms || !c->vms[vm].name || c->vms[vm].at.host == PLC_NONE)
        return NFV_ERR(err, NFV_E_INVAL, "move: no such placed VM");
    from = c->vms[vm].at.host;
    if (force_host) {
        uint32_t fh = plc_cluster_find_host(c, force_host);
        if (fh == PLC_NONE)
            return NFV_ERR(err, NFV_E_NOENT, "host '%s' not found", force_host);
        if (fh == from)
            return NFV_ERR(err, NFV_E_INVAL, "'host': '%s' is already the VM's host", force_host);
    }
    if (!(w = plc_cluster_clone(c)))
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    plc_cluster_set_state(w, from, PLC_HOST_MAINTENANCE, NULL);
    rc = replace_vm(w, vm, c->vms[vm].role, is_reserve_waived, force_host, ret_choice, &nv, err);
    if (rc == NFV_E_NOCAP && err)
        explain_move(w, nv, from, is_reserve_waived, force_host, err);
    plc_cluster_free(w);
    return rc;
}

/* Cores the member is short of on its best node of @h (0 = fits). */
static unsigned deficit(const struct plc_cluster *c, uint32_t h, const struct plc_demand *d)
{
    const struct plc_host *hh = &c->hosts[h];
    unsigned best = 0;
    for (unsigned n = 0; n < hh->n_nodes; n++)
        if (hh->nodes[n].n_free > best)
            best = hh->nodes[n].n_free;
    unsigned need = (d->n_cores + (d->numa_nodes ? d->numa_nodes : 1) - 1) /
                    (d->numa_nodes ? d->numa_nodes : 1);
    return need > best ? need - best : 0;
}

struct host_key {
    uint32_t host;
    unsigned deficit;
};
static int host_key_cmp(const void *a, const void *b)
{
    const struct host_key *x = a, *y = b;
    if (x->deficit != y->deficit)
        return x->deficit < y->deficit ? -1 : 1;
    return x->host < y->host ? -1 : x->host > y->host;
}

#define DEFRAG_MAX_HOSTS 32

/* Tries to make room for @r on host @h in a clone; fills @p on success. */
static bool defrag_on(const struct plc_cluster *c, const struct plc_req *r, uint32_t h,
                      size_t max_moves, struct plc_plan *p)
{
    struct plc_cluster *w = plc_cluster_clone(c);
    struct vm_key *keys = calloc(c->n_vms ? c->n_vms : 1, sizeof(*keys));
    struct plc_choice *ch = calloc(r->n_vms, sizeof(*ch));
    size_t n_keys = 0;
    bool ok = false;

    if (!w || !keys || !ch)
        goto out;
    for (uint32_t v = 0; v < w->n_vms; v++) {
        const struct plc_vm *vm = &w->vms[v];
        if (!vm->name || vm->at.host != h)
            continue;
        keys[n_keys].vm = v;
        keys[n_keys].rank = 0; /* move the largest first, members or not */
        keys[n_keys].n_cores = vm->demand.n_cores;
        n_keys++;
    }
    qsort(keys, n_keys, sizeof(*keys), vm_key_cmp);
    for (size_t i = 0; i <= n_keys && i <= max_moves; i++) {
        /* Does the request place now (anywhere)? */
        if (plc_place(w, r, false, ch, NULL) == NFV_OK) {
            if (plc_place(w, r, true, ch, NULL) != NFV_OK)
                break;
            for (size_t j = 0; j < r->n_vms; j++) {
                struct plc_step st = {.kind = PLC_STEP_REBUILD,
                                      .vm = PLC_NONE,
                                      .from_host = PLC_NONE,
                                      .role = r->vms[j].role,
                                      .to = ch[j]};
                if (plan_add(p, &st) != NFV_OK)
                    goto out;
            }
            ok = true;
            break;
        }
        if (i == n_keys || i == max_moves)
            break;
        /* Move the next-largest VM off @h (keeping every constraint). */
        uint32_t v = keys[i].vm, nv;
        struct plc_step st = {.kind = PLC_STEP_MOVE, .vm = v, .from_host = h};
        st.role = w->vms[v].role;
        plc_cluster_set_state(w, h, PLC_HOST_MAINTENANCE, NULL);
        enum nfv_code rc = replace_vm(w, v, st.role, false, NULL, &st.to, &nv, NULL);
        plc_cluster_set_state(w, h, c->hosts[h].state, NULL);
        if (rc != NFV_OK || plan_add(p, &st) != NFV_OK)
            break;
    }
out:
    free(ch);
    free(keys);
    plc_cluster_free(w);
    return ok;
}

enum nfv_code plc_plan_defrag(const struct plc_cluster *c, const struct plc_req *r,
                              size_t max_moves, struct plc_plan **ret_plan, struct nfv_err *err)
{
    struct host_key *hk = NULL;
    struct plc_plan *best = NULL;
    size_t n_hk = 0;

    if (!r || r->n_vms == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'vms': the request places no VM");
    hk = calloc(c->n_hosts ? c->n_hosts : 1, sizeof(*hk));
    if (!hk)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    /* Candidate hosts for the largest member: up, with its capabilities. */
    const struct plc_demand *d = &r->vms[0].demand;
    for (size_t i = 1; i < r->n_vms; i++)
        if (r->vms[i].demand.n_cores > d->n_cores)
            d = &r->vms[i].demand;
    for (uint32_t h = 0; h < c->n_hosts; h++) {
        const struct plc_host *hh = &c->hosts[h];
        if (hh->state != PLC_HOST_UP || (hh->caps & d->caps) != d->caps || hh->n_vms == 0)
            continue;
        hk[n_hk].host = h;
        hk[n_hk].deficit = deficit(c, h, d);
        n_hk++;
    }
    qsort(hk, n_hk, sizeof(*hk), host_key_cmp);
    for (size_t i = 0; i < n_hk && i < DEFRAG_MAX_HOSTS; i++) {
        struct plc_plan *p = calloc(1, sizeof(*p));
        if (!p)
            break;
        if (defrag_on(c, r, hk[i].host, max_moves, p) && (!best || p->n_moves < best->n_moves)) {
            plc_plan_free(best);
            best = p;
            if (best->n_moves - r->n_vms <= 1)
                break; /* one move is the fewest a refused request can need */
        } else {
            plc_plan_free(p);
        }
    }
    free(hk);
    if (!best)
        return NFV_ERR(err, NFV_E_NOCAP, "defragment: no plan of at most %zu moves makes room",
                       max_moves);
    *ret_plan = best;
    return NFV_OK;
}

enum nfv_code plc_plan_apply(struct plc_cluster *c, const struct plc_plan *p,
                             enum plc_scope failed_scope, uint32_t failed_dom, struct nfv_err *err)
{
    enum nfv_code rc;

    if ((unsigned)failed_scope < PLC_SCOPE__COUNT) {
        for (uint32_t h = 0; h < c->n_hosts; h++)
            if (in_domain(c, h, failed_scope, failed_dom))
                plc_cluster_set_state(c, h, PLC_HOST_DOWN, NULL);
        for (uint32_t v = 0; v < c->n_vms; v++)
            if (c->vms[v].name && c->vms[v].at.host != PLC_NONE &&
                in_domain(c, c->vms[v].at.host, failed_scope, failed_dom))
                plc_cluster_lose_vm(c, v);
    }
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct plc_step *s = &p->steps[i];
        switch (s->kind) {
        case PLC_STEP_PROMOTE:
            plc_cluster_set_role(c, s->vm, PLC_ROLE_ACT);
            break;
        case PLC_STEP_REBUILD:
        case PLC_STEP_MOVE:
            if (s->vm == PLC_NONE)
                break; /* placement of a new request: the caller commits it */
            rc = plc_cluster_move_vm(c, s->vm, &s->to, err);
            if (rc)
                return rc;
            plc_cluster_set_role(c, s->vm, s->role);
            break;
        case PLC_STEP_LOST:
        default:
            break;
        }
    }
    return NFV_OK;
}
