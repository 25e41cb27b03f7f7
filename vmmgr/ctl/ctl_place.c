/*
 * ctl_place.c - offline placement verbs of vmmgrctl (no daemon needed).
 *
 *   vmmgrctl place --cluster FILE --request FILE [--explain]
 *     (a request file holding a JSON array is a what-if list: placed in
 *     order, each seeing the ones before, nothing written back)
 *   vmmgrctl evacuate-plan --cluster FILE (--host NAME | --rack NAME)
 *   vmmgrctl drain-plan --cluster FILE (--host NAME | --request FILE [--max-moves N])
 *
 * All load a cluster file (docs/cluster-file.md) through plc_json, run the
 * pure engine (placement/) and print a table or, with --json, the engine's
 * JSON view. Nothing is written back: `place` is a what-if by nature.
 * Bad files exit 2 naming file, JSON path and reason (plc_json's messages).
 * `place` also maps each placed VM's vCPUs onto the PUs of its cores with
 * pinning/'s planner (plc_pin_plan), the plan libvirt <cputune> would get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "plc/json.h"
#include "plc/pin.h"

static enum nfv_code print_plan(struct ctl_ctx *ctx, const struct plc_cluster *c,
                                const struct plc_plan *p, struct nfv_err *err);

/* "0:4,1:6" (vCPU:PU) of the pin plan of a placed VM, or the reason none. */
static void pins_text(const struct plc_cluster *c, struct pin_topo **topos,
                      const struct plc_vm_req *v, const struct plc_choice *ch, char *buf,
                      size_t size, json_t **ret_json)
{
    struct pin_plan *plan = NULL;
    struct nfv_err e;
    size_t off = 0;

    buf[0] = '\0';
    if (plc_pin_plan_on(c, topos[ch->host], &v->demand, ch, &plan, &e) != NFV_OK) {
        snprintf(buf, size, "(%.200s)", e.msg);
        if (ret_json)
            *ret_json = json_pack("{s:s}", "error", e.msg);
        return;
    }
    for (unsigned i = 0; i < plan->n_vcpus && off < size; i++)
        off +=
            (size_t)snprintf(buf + off, size - off, "%s%u:%d", i ? "," : "", i, plan->vcpu_pu[i]);
    if (ret_json)
        *ret_json = pin_plan_to_json(plan);
    pin_plan_free(plan);
}

static enum nfv_code print_explain(struct ctl_ctx *ctx, const struct plc_cluster *c,
                                   const struct plc_req *r, const struct plc_explain *e)
{
    static const char *const keys[] = {"vm", "reason", "hosts"};
    struct nfv_table *t = nfv_table_new(keys, 3);
    enum nfv_code rc = NFV_OK;

    if (!t)
        return NFV_E_NOMEM;
    for (size_t i = 0; i < e->n_vms; i++) {
        for (int f = 0; f <= PLC_F__COUNT; f++) {
            if (!e->members[i].counts[f])
                continue;
            nfv_table_add_row(t);
            nfv_table_add_str(t, r->vms[i].name);
            nfv_table_add_str(t, f == PLC_F__COUNT ? "passes" : plc_filter_to_string(f));
            nfv_table_add_int(t, e->members[i].counts[f]);
        }
    }
    printf("Request %s; first failing filter per host:\n",
           e->is_placeable ? "is placeable" : "cannot be placed");
    rc = ctl_print_table(ctx, t);
    nfv_table_free(t);
    if (rc != NFV_OK)
        return rc;
    if (!e->is_placeable)
        printf("Refused: %s\n", e->why);
    for (size_t i = 0; i < e->n_vms; i++)
        if (e->members[i].shares_with)
            printf("Soft group '%s' could not spread: '%s' shares %s '%s' with '%s' (no %s apart "
                   "from the members before it passes)\n",
                   r->group, r->vms[i].name, plc_scope_to_string(e->scope),
                   plc_cluster_domain_name(c, e->scope, e->members[i].shared_dom),
                   e->members[i].shares_with, plc_scope_to_string(e->scope));
    /* Per host: the first failing filter, the failure domain a reserve
     * refusal leaves uncovered, and why a host passing alone fails with the
     * other members (joint refusal). */
    static const char *const hkeys[] = {"vm", "host", "reason", "detail"};
    t = nfv_table_new(hkeys, 4);
    if (!t)
        return NFV_E_NOMEM;
    for (size_t i = 0; i < e->n_vms; i++) {
        const struct plc_explain_member *m = &e->members[i];
        for (uint32_t h = 0; h < e->n_hosts; h++) {
            nfv_table_add_row(t);
            nfv_table_add_str(t, r->vms[i].name);
            nfv_table_add_str(t, plc_cluster_host(c, h)->name);
            if (m->first_fail[h] != PLC_F__COUNT) {
                nfv_table_add_str(t, plc_filter_to_string(m->first_fail[h]));
                if (m->first_fail[h] == PLC_F_RESERVE && m->uncovered[h].dom != PLC_NONE)
                    nfv_table_add_fmt(
                        t, "if %s '%s' fails, %s%s%s cannot be rebuilt",
                        plc_scope_to_string(m->uncovered[h].kind),
                        plc_cluster_domain_name(c, m->uncovered[h].kind, m->uncovered[h].dom),
                        m->uncovered[h].vm ? "'" : "a member",
                        m->uncovered[h].vm ? m->uncovered[h].vm : "",
                        m->uncovered[h].vm ? "'" : "");
                else
                    nfv_table_add_str(t, NULL);
            } else if (m->joint_fail[h] != PLC_F__COUNT) {
                nfv_table_add_fmt(t, "joint %s", plc_filter_to_string(m->joint_fail[h]));
                nfv_table_add_str(t, m->joint_fail[h] == PLC_F_RESERVE
                                         ? "passes alone; every combination with it here "
                                           "breaks the healing reserve"
                                         : "passes alone; the other members find no hosts "
                                           "apart from it");
            } else {
                nfv_table_add_str(t, "passes");
                nfv_table_add_str(t, NULL);
            }
        }
    }
    printf("Per host:\n");
    rc = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return rc;
}

/* Request errors the engine would report without a file or a JSON path:
 * a name twice in one request (exit 2), a name the cluster already has
 * (exit 4), a forced host the cluster does not have (exit 3). */
static enum nfv_code check_requests(const struct plc_cluster *c, const char *cluster,
                                    const char *path, struct plc_req_doc **docs, size_t n,
                                    struct nfv_err *err)
{
    for (size_t k = 0; k < n; k++) {
        const struct plc_req *r = &docs[k]->req;
        char at[32] = "$";
        if (n > 1)
            snprintf(at, sizeof(at), "$[%zu]", k);
        for (size_t i = 0; i < r->n_vms; i++) {
            char vm[64];
            if (r->group || r->n_vms > 1)
                snprintf(vm, sizeof(vm), "%s.vms[%zu]", at, i);
            else
                snprintf(vm, sizeof(vm), "%s", at);
            for (size_t j = 0; j < i; j++)
                if (strcmp(r->vms[j].name, r->vms[i].name) == 0)
                    return NFV_ERR(err, NFV_E_INVAL,
                                   "%s: %s.name: '%s' appears twice in the request", path, vm,
                                   r->vms[i].name);
            if (plc_cluster_find_vm(c, r->vms[i].name) != PLC_NONE)
                return NFV_ERR(err, NFV_E_EXIST, "%s: %s.name: vm '%s' already exists in %s", path,
                               vm, r->vms[i].name, cluster);
            if (r->vms[i].force_host && plc_cluster_find_host(c, r->vms[i].force_host) == PLC_NONE)
                return NFV_ERR(err, NFV_E_NOENT, "%s: %s.host: host '%s' is not in %s", path, vm,
                               r->vms[i].force_host, cluster);
        }
    }
    return NFV_OK;
}

/* A JSON array of requests: what-if, each placed in order on the loaded
 * (private) cluster, later ones seeing earlier ones; nothing is written. */
static enum nfv_code place_list(struct ctl_ctx *ctx, struct plc_cluster *c, struct pin_topo **topos,
                                struct plc_req_doc **docs, size_t n, struct nfv_err *err)
{
    static const char *const keys[] = {"request", "vm", "role", "host", "cores", "vcpu_pins"};
    struct nfv_table *t = nfv_table_new(keys, 6);
    json_t *out = json_array();
    size_t n_refused = 0;
    char first_why[NFV_ERR_MSG_SIZE] = "";
    enum nfv_code rc = NFV_OK;

    if (!t || !out) {
        nfv_table_free(t);
        json_decref(out);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const struct plc_req *r = &docs[i]->req;
        struct plc_choice *ch = calloc(r->n_vms, sizeof(*ch));
        struct nfv_err e;
        if (!ch) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            break;
        }
        enum nfv_code prc = plc_place(c, r, true, ch, &e);
        json_t *vms = json_array();
        for (size_t k = 0; k < r->n_vms; k++) {
            char cores[512] = "", pins[512] = "";
            json_t *pj = NULL;
            nfv_table_add_row(t);
            nfv_table_add_int(t, (int64_t)i);
            nfv_table_add_str(t, r->vms[k].name);
            nfv_table_add_str(t, r->group ? plc_role_to_string(r->vms[k].role) : NULL);
            if (prc != NFV_OK) {
                nfv_table_add_str(t, NULL);
                nfv_table_add_str(t, NULL);
                nfv_table_add_fmt(t, "refused: %s", e.msg);
                continue;
            }
            plc_choice_cores_format(c, &ch[k], cores, sizeof(cores));
            pins_text(c, topos, &r->vms[k], &ch[k], pins, sizeof(pins), &pj);
            nfv_table_add_str(t, plc_cluster_host(c, ch[k].host)->name);
            nfv_table_add_str(t, cores);
            nfv_table_add_str(t, pins);
            json_t *v = plc_json_choice(c, &ch[k]);
            json_object_set_new(v, "name", json_string(r->vms[k].name));
            json_object_set_new(v, "pin", pj ? pj : json_null());
            json_array_append_new(vms, v);
        }
        json_t *one = json_pack("{s:I,s:b,s:o}", "request", (json_int_t)i, "placed", prc == NFV_OK,
                                "vms", vms);
        if (prc != NFV_OK) {
            json_object_set_new(one, "error", json_string(e.msg));
            if (!n_refused++)
                snprintf(first_why, sizeof(first_why), "request %zu: %.400s", i, e.msg);
        }
        json_array_append_new(out, one);
        free(ch);
    }
    if (rc == NFV_OK) {
        if (ctx->fmt != NFV_OUT_TABLE) {
            json_t *doc = json_pack("{s:o}", "requests", out);
            out = NULL;
            ctl_print_json(ctx, doc);
            json_decref(doc);
        } else {
            rc = ctl_print_table(ctx, t);
        }
    }
    if (rc == NFV_OK && n_refused)
        rc = NFV_ERR(err, NFV_E_NOCAP, "%zu of %zu requests refused (first: %.300s)", n_refused, n,
                     first_why);
    json_decref(out);
    nfv_table_free(t);
    return rc;
}

enum nfv_code ctl_cmd_place(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"cluster=", "request=", "explain", NULL};
    const char *opts[3], *cluster, *request;
    bool is_explain;
    struct plc_cluster *c = NULL;
    struct plc_req_doc *rd = NULL;
    struct plc_choice *ch = NULL;
    struct plc_explain *e = NULL;
    struct pin_topo **topos = NULL;
    struct plc_req_doc **docs = NULL;
    size_t n_docs = 0;
    enum nfv_code rc;

    if ((rc = ctl_verb_opts(argc, argv, "place", spec, opts, err)))
        return rc;
    cluster = opts[0];
    request = opts[1];
    is_explain = opts[2] != NULL;
    if (!cluster)
        return NFV_ERR(err, NFV_E_INVAL, "'--cluster': required (a cluster file)");
    if (!request)
        return NFV_ERR(err, NFV_E_INVAL, "'--request': required (a request file)");
    if ((rc = plc_json_load_cluster_topos(cluster, &c, &topos, err)) ||
        (rc = plc_json_load_requests(request, c, &docs, &n_docs, err)))
        goto cleanup;
    if ((rc = check_requests(c, cluster, request, docs, n_docs, err)))
        goto cleanup;
    enum plc_scope bkind;
    uint32_t bdom, bvm;
    if (!ctx->is_quiet && plc_reserve_uncovered(c, &bkind, &bdom, &bvm))
        fprintf(stderr,
                "vmmgrctl: warning: the healing reserve of '%s' does not hold as loaded (if %s "
                "'%s' fails, %s%s%s cannot be rebuilt); only requests that do not make it worse "
                "pass\n",
                cluster, plc_scope_to_string(bkind),
                bdom == PLC_NONE ? "-" : plc_cluster_domain_name(c, bkind, bdom),
                bvm == PLC_NONE ? "a member" : "'",
                bvm == PLC_NONE ? "" : plc_cluster_vm(c, bvm)->name, bvm == PLC_NONE ? "" : "'");
    if (n_docs > 1) {
        if (is_explain) {
            rc = NFV_ERR(err, NFV_E_INVAL, "'--explain': takes a single request, not a list");
            goto cleanup;
        }
        rc = place_list(ctx, c, topos, docs, n_docs, err);
        goto cleanup;
    }
    rd = docs[0];
    ch = calloc(rd->req.n_vms, sizeof(*ch));
    if (!ch) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (is_explain) {
        e = plc_explain_new(c, &rd->req, err);
        if (!e) {
            rc = err ? err->code : NFV_E_NOMEM;
            goto cleanup;
        }
    }
    rc = plc_place(c, &rd->req, false, ch, err);
    if (ctx->fmt != NFV_OUT_TABLE) {
        json_t *out = json_object();
        json_t *vms = json_array();
        for (size_t i = 0; rc == NFV_OK && i < rd->req.n_vms; i++) {
            json_t *v = plc_json_choice(c, &ch[i]);
            json_object_set_new(v, "name", json_string(rd->req.vms[i].name));
            json_object_set_new(v, "role", json_string(plc_role_to_string(rd->req.vms[i].role)));
            char pins[512];
            json_t *pj = NULL;
            pins_text(c, topos, &rd->req.vms[i], &ch[i], pins, sizeof(pins), &pj);
            json_object_set_new(v, "pin", pj ? pj : json_null());
            json_array_append_new(vms, v);
        }
        json_object_set_new(out, "placed", json_boolean(rc == NFV_OK));
        json_object_set_new(out, "vms", vms);
        if (rc != NFV_OK)
            json_object_set_new(out, "error", json_string(err ? err->msg : ""));
        if (e)
            json_object_set_new(out, "explain", plc_json_explain(c, &rd->req, e));
        ctl_print_json(ctx, out);
        json_decref(out);
        goto cleanup;
    }
    if (e)
        print_explain(ctx, c, &rd->req, e);
    if (rc == NFV_OK) {
        static const char *const keys[] = {"vm",    "role",       "host",     "nodes",
                                           "cores", "memory_mib", "vcpu_pins"};
        struct nfv_table *t = nfv_table_new(keys, 7);
        if (!t) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < rd->req.n_vms; i++) {
            char cores[512], nodes[64];
            size_t off = 0;
            nodes[0] = '\0';
            for (unsigned p = 0; p < ch[i].n_parts && off < sizeof(nodes); p++)
                off += (size_t)snprintf(nodes + off, sizeof(nodes) - off, "%s%u", p ? "," : "",
                                        ch[i].parts[p].node);
            plc_choice_cores_format(c, &ch[i], cores, sizeof(cores));
            unsigned mem = 0;
            for (unsigned p = 0; p < ch[i].n_parts; p++)
                mem += ch[i].parts[p].mem_mib + ch[i].parts[p].hp_mib;
            nfv_table_add_row(t);
            nfv_table_add_str(t, rd->req.vms[i].name);
            nfv_table_add_str(t, rd->req.group ? plc_role_to_string(rd->req.vms[i].role) : NULL);
            nfv_table_add_str(t, plc_cluster_host(c, ch[i].host)->name);
            nfv_table_add_str(t, nodes);
            nfv_table_add_str(t, cores);
            nfv_table_add_int(t, mem);
            char pins[512];
            pins_text(c, topos, &rd->req.vms[i], &ch[i], pins, sizeof(pins), NULL);
            nfv_table_add_str(t, pins);
        }
        rc = ctl_print_table(ctx, t);
        nfv_table_free(t);
    }
cleanup:
    plc_explain_free(e);
    free(ch);
    for (size_t i = 0; i < n_docs; i++)
        plc_req_doc_free(docs[i]);
    free(docs);
    if (topos)
        plc_json_topos_free(topos, plc_cluster_n_hosts(c));
    plc_cluster_free(c);
    return rc;
}

enum nfv_code ctl_cmd_evacuate_plan(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"cluster=", "host=", "rack=", NULL};
    const char *opts[3], *cluster, *host, *rack;
    struct plc_cluster *c = NULL;
    struct plc_plan *p = NULL;
    enum nfv_code rc;

    if ((rc = ctl_verb_opts(argc, argv, "evacuate-plan", spec, opts, err)))
        return rc;
    cluster = opts[0];
    host = opts[1];
    rack = opts[2];
    if (!cluster)
        return NFV_ERR(err, NFV_E_INVAL, "'--cluster': required (a cluster file)");
    if (!host == !rack)
        return NFV_ERR(err, NFV_E_INVAL, "'--host': give exactly one of --host or --rack");
    if ((rc = plc_json_load_cluster(cluster, &c, err)))
        return rc;
    enum plc_scope scope = host ? PLC_SCOPE_HOST : PLC_SCOPE_RACK;
    uint32_t dom = plc_cluster_find_domain(c, scope, host ? host : rack);
    if (dom == PLC_NONE) {
        rc = NFV_ERR(err, NFV_E_NOENT, "'--%s': '%s' is not in %s", host ? "host" : "rack",
                     host ? host : rack, cluster);
        goto cleanup;
    }
    if ((rc = plc_plan_evacuate(c, scope, dom, &p, err)))
        goto cleanup;
    rc = print_plan(ctx, c, p, err);
    if (rc == NFV_OK && p->n_lost)
        rc = NFV_ERR(err, NFV_E_NOCAP, "%zu VM%s cannot be rebuilt on the surviving hosts",
                     p->n_lost, p->n_lost == 1 ? "" : "s");
cleanup:
    plc_plan_free(p);
    plc_cluster_free(c);
    return rc;
}

static enum nfv_code print_plan(struct ctl_ctx *ctx, const struct plc_cluster *c,
                                const struct plc_plan *p, struct nfv_err *err)
{
    enum nfv_code rc = NFV_OK;

    if (ctx->fmt != NFV_OUT_TABLE) {
        json_t *out = plc_json_plan(c, p);
        ctl_print_json(ctx, out);
        json_decref(out);
    } else {
        static const char *const keys[] = {"step", "vm", "group", "role", "from", "to", "cores"};
        struct nfv_table *t = nfv_table_new(keys, 7);
        if (!t) {
            rc = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            return rc;
        }
        for (size_t i = 0; i < p->n_steps; i++) {
            const struct plc_step *s = &p->steps[i];
            const struct plc_vm *vm = plc_cluster_vm(c, s->vm);
            char cores[512] = "";
            if (s->kind != PLC_STEP_LOST)
                plc_choice_cores_format(c, &s->to, cores, sizeof(cores));
            nfv_table_add_row(t);
            nfv_table_add_str(t, plc_step_kind_to_string(s->kind));
            nfv_table_add_str(t, vm ? vm->name : NULL);
            nfv_table_add_str(t, vm && vm->group != PLC_NONE ? plc_cluster_group(c, vm->group)->name
                                                             : NULL);
            nfv_table_add_str(t, plc_role_to_string(s->role));
            nfv_table_add_str(t, s->from_host != PLC_NONE ? plc_cluster_host(c, s->from_host)->name
                                                          : NULL);
            nfv_table_add_str(t, s->kind == PLC_STEP_LOST ? NULL
                                                          : plc_cluster_host(c, s->to.host)->name);
            nfv_table_add_str(t, s->kind == PLC_STEP_LOST ? NULL : cores);
        }
        rc = ctl_print_table(ctx, t);
        nfv_table_free(t);
    }
    return rc;
}

/* The options of `drain-plan`; --max-moves is checked as it is walked. */
struct drain_opts {
    const char *cluster, *host, *request;
    unsigned long max_moves;
};

static enum nfv_code drain_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    struct drain_opts *o = opaque;

    if (!strcmp(opt, "cluster="))
        o->cluster = val;
    else if (!strcmp(opt, "host="))
        o->host = val;
    else if (!strcmp(opt, "request="))
        o->request = val;
    else
        return ctl_opt_uint("max-moves", val, 1, 1000, &o->max_moves, err);
    return NFV_OK;
}

/*
 *   vmmgrctl drain-plan --cluster FILE --host NAME
 *   vmmgrctl drain-plan --cluster FILE --request FILE [--max-moves N]
 * The first empties a host for maintenance (one move per VM, every
 * constraint - anti-affinity, capacity, reserve - true after each move);
 * the second is a defragment plan: the fewest moves after which a refused
 * request places (its placements are the last steps, vm "-").
 */
enum nfv_code ctl_cmd_drain_plan(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"cluster=", "host=", "request=", "max-moves=", NULL};
    struct drain_opts o = {.max_moves = 8};
    struct plc_cluster *c = NULL;
    struct plc_req_doc *rd = NULL;
    struct plc_plan *p = NULL;
    enum nfv_code rc;

    if ((rc = ctl_verb_args(argc, argv, "drain-plan", NULL, spec, drain_opt, &o, NULL, err)))
        return rc;
    if (!o.cluster)
        return NFV_ERR(err, NFV_E_INVAL, "'--cluster': required (a cluster file)");
    if (!o.host == !o.request)
        return NFV_ERR(err, NFV_E_INVAL, "'--host': give exactly one of --host or --request");
    if ((rc = plc_json_load_cluster(o.cluster, &c, err)))
        return rc;
    if (o.host) {
        uint32_t h = plc_cluster_find_host(c, o.host);
        if (h == PLC_NONE) {
            rc = NFV_ERR(err, NFV_E_NOENT, "'--host': '%s' is not in %s", o.host, o.cluster);
            goto cleanup;
        }
        rc = plc_plan_drain(c, h, &p, err);
    } else {
        if ((rc = plc_json_load_request(o.request, c, &rd, err)))
            goto cleanup;
        rc = plc_plan_defrag(c, &rd->req, o.max_moves, &p, err);
    }
    if (rc == NFV_OK)
        rc = print_plan(ctx, c, p, err);
cleanup:
    plc_plan_free(p);
    plc_req_doc_free(rd);
    plc_cluster_free(c);
    return rc;
}
