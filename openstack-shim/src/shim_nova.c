/*
 * shim_nova.c - the Nova v2.1 front (/compute): version documents,
 * microversion negotiation, authentication, and the routes that are not
 * servers: flavors (with extra specs), server groups and hypervisors.
 * Servers and their actions are in shim_servers.c.
 *
 * Order of checks, as Nova's pipeline does it (golden files): version
 * documents need no token; then the token (401 without version headers);
 * then the microversion (400 malformed without headers, 406 with them);
 * then the route, whose answer carries both version headers and Vary.
 */
#include "shim_priv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "shim/shim_mv.h"
#include "shim/shim_spec.h"

#define MOD "nova"

static bool is_method(const struct shim_req *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static json_t *links(const struct shim_ctx *ctx, const char *coll, const char *id)
{
    char self[SHIM_PATH_MAX + 128], book[SHIM_PATH_MAX + 128];

    snprintf(self, sizeof(self), "%s/compute/v2.1/%s/%s", ctx->base_url, coll, id);
    snprintf(book, sizeof(book), "%s/compute/%s/%s", ctx->base_url, coll, id);
    return json_pack("[{s:s,s:s},{s:s,s:s}]", "rel", "self", "href", self, "rel", "bookmark",
                     "href", book);
}

static json_t *version_doc(const struct shim_ctx *ctx)
{
    char href[SHIM_PATH_MAX + 32], max[16];

    snprintf(href, sizeof(href), "%s/compute/v2.1/", ctx->base_url);
    shim_mv_format(SHIM_MV_MAX, max, sizeof(max));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s},{s:s,s:s,s:s}],s:[{s:s,s:s}]}", "id",
                     "v2.1", "status", "CURRENT", "version", max, "min_version", "2.1", "updated",
                     "2013-07-23T11:33:21Z", "links", "rel", "self", "href", href, "rel",
                     "describedby", "type", "text/html", "href", "http://docs.openstack.org/",
                     "media-types", "base", "application/json", "type",
                     "application/vnd.openstack.compute+json;version=2.1");
}

static void root_doc(const struct shim_ctx *ctx, struct shim_resp *resp)
{
    char v2[SHIM_PATH_MAX + 32], v21[SHIM_PATH_MAX + 32], max[16];

    snprintf(v2, sizeof(v2), "%s/compute/v2/", ctx->base_url);
    snprintf(v21, sizeof(v21), "%s/compute/v2.1/", ctx->base_url);
    shim_mv_format(SHIM_MV_MAX, max, sizeof(max));
    shim_resp_json(resp, 200,
                   json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}]},{s:s,s:s,s:s,s:s,s:s,s:[{"
                             "s:s,s:s}]}]}",
                             "versions", "id", "v2.0", "status", "SUPPORTED", "version", "",
                             "min_version", "", "updated", "2011-01-21T11:33:21Z", "links", "rel",
                             "self", "href", v2, "id", "v2.1", "status", "CURRENT", "version", max,
                             "min_version", "2.1", "updated", "2013-07-23T11:33:21Z", "links",
                             "rel", "self", "href", v21));
}

static void version_headers(struct shim_resp *resp, int mv)
{
    char v[16];

    shim_mv_format(mv, v, sizeof(v));
    shim_resp_header(resp, "OpenStack-API-Version", "compute %s", v);
    shim_resp_header(resp, "X-OpenStack-Nova-API-Version", "%s", v);
    shim_resp_header(resp, "Vary", "OpenStack-API-Version");
    shim_resp_header(resp, "Vary", "X-OpenStack-Nova-API-Version");
}

static void forbidden(struct shim_resp *resp, const char *rule)
{
    shim_nova_error(resp, 403, "forbidden", "Policy doesn't allow %s to be performed.", rule);
}

/* ---- flavors ---- */

json_t *shim_flavor_find(struct shim_ctx *ctx, const char *id)
{
    return json_object_get(ctx->flavors, id);
}

static json_t *flavor_view(const struct shim_ctx *ctx, const json_t *f, int mv, bool is_detail)
{
    const char *id = json_string_value(json_object_get(f, "id"));
    json_int_t swap = json_integer_value(json_object_get(f, "swap"));
    json_t *o = json_pack("{s:s,s:O,s:o}", "id", id, "name", json_object_get(f, "name"), "links",
                          links(ctx, "flavors", id));

    if (mv >= SHIM_MV(2, 55))
        json_object_set(o, "description", json_object_get(f, "description"));
    if (!is_detail)
        return o;
    json_object_set(o, "ram", json_object_get(f, "ram"));
    json_object_set(o, "disk", json_object_get(f, "disk"));
    json_object_set_new(o, "swap",
                        mv >= SHIM_MV(2, 75) || swap ? json_integer(swap) : json_string(""));
    json_object_set(o, "OS-FLV-EXT-DATA:ephemeral", json_object_get(f, "ephemeral"));
    json_object_set_new(o, "OS-FLV-DISABLED:disabled", json_false());
    json_object_set(o, "vcpus", json_object_get(f, "vcpus"));
    json_object_set(o, "os-flavor-access:is_public", json_object_get(f, "is_public"));
    json_object_set(o, "rxtx_factor", json_object_get(f, "rxtx_factor"));
    if (mv >= SHIM_MV(2, 61))
        json_object_set(o, "extra_specs", json_object_get(f, "extra_specs"));
    return o;
}

static bool uint_field(const json_t *v, json_int_t lo, json_int_t hi, json_int_t *ret)
{
    json_int_t n;

    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || strlen(s) > 18 || !isdigit((unsigned char)*s))
            return false;
        n = strtoll(s, &end, 10);
        if (*end)
            return false;
    } else
        return false;
    if (n < lo || n > hi)
        return false;
    *ret = n;
    return true;
}

static const char *const flavor_keys[] = {"name",
                                          "ram",
                                          "vcpus",
                                          "disk",
                                          "id",
                                          "swap",
                                          "OS-FLV-EXT-DATA:ephemeral",
                                          "rxtx_factor",
                                          "os-flavor-access:is_public",
                                          "description",
                                          NULL};

static void flavor_create(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    json_t *doc = shim_req_json(ctx, req, resp), *f, *rec = NULL;
    const char *name, *id = NULL, *key, *desc = NULL;
    json_int_t ram, vcpus, disk, swap = 0, eph = 0;
    double rxtx = 1.0;
    char uuid[37];
    json_t *v;

    if (!doc)
        return;
    f = json_object_get(doc, "flavor");
    if (!json_is_object(f)) {
        shim_nova_error(
            resp, 400, "badRequest",
            "Invalid input for field/attribute flavor. 'flavor' is a required property");
        goto cleanup;
    }
    if (shim_unknown_key(resp, f, flavor_keys, "flavor"))
        goto cleanup;
    name = json_string_value(json_object_get(f, "name"));
    if (!shim_text_ok(name, 255)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute name. 'name' must be 1..255 printable "
                        "characters");
        goto cleanup;
    }
    if (!uint_field(json_object_get(f, "ram"), 1, 1 << 30, &ram) ||
        !uint_field(json_object_get(f, "vcpus"), 1, SHIM_SPEC_MAX_VCPUS, &vcpus) ||
        !uint_field(json_object_get(f, "disk"), 0, 1 << 30, &disk) ||
        ((v = json_object_get(f, "swap")) && !(json_is_string(v) && !*json_string_value(v)) &&
         !uint_field(v, 0, 1 << 30, &swap)) ||
        ((v = json_object_get(f, "OS-FLV-EXT-DATA:ephemeral")) &&
         !uint_field(v, 0, 1 << 30, &eph))) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute flavor: 'ram' (1..), 'vcpus' (1..%d), "
                        "'disk', 'swap' and 'OS-FLV-EXT-DATA:ephemeral' (0..) must be integers",
                        SHIM_SPEC_MAX_VCPUS);
        goto cleanup;
    }
    if ((v = json_object_get(f, "rxtx_factor"))) {
        rxtx = json_number_value(v);
        if (!json_is_number(v) || rxtx <= 0) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute rxtx_factor.");
            goto cleanup;
        }
    }
    if ((v = json_object_get(f, "os-flavor-access:is_public")) && !json_is_boolean(v)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute os-flavor-access:is_public.");
        goto cleanup;
    }
    if ((v = json_object_get(f, "description")) && !json_is_null(v)) {
        desc = json_string_value(v);
        if (req->mv < SHIM_MV(2, 55) || !desc || strlen(desc) > 65535) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute description.");
            goto cleanup;
        }
    }
    if ((v = json_object_get(f, "id")) && !json_is_null(v)) {
        id = json_string_value(v);
        if (!id || !*id || strlen(id) > 255 ||
            strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                       "KLMNOPQRSTUVWXYZ0123456789-_. ") != strlen(id) ||
            id[0] == ' ' || id[strlen(id) - 1] == ' ') {
            shim_nova_error(resp, 400, "badRequest", "Invalid input for field/attribute id.");
            goto cleanup;
        }
    }
    if (!id) {
        shim_uuid(uuid);
        id = uuid;
    }
    pthread_mutex_lock(&ctx->lock);
    json_object_foreach(ctx->flavors, key, v)
    {
        if (strcmp(key, id) == 0 ||
            strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
            pthread_mutex_unlock(&ctx->lock);
            shim_nova_error(resp, 409, "conflictingRequest",
                            strcmp(key, id) == 0 ? "Flavor with ID %s already exists."
                                                 : "Flavor with name %s already exists.",
                            strcmp(key, id) == 0 ? id : name);
            goto cleanup;
        }
    }
    rec = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:b,s:o,s:{}}", "id", id, "name", name, "ram",
                    ram, "vcpus", vcpus, "disk", disk, "swap", swap, "ephemeral", eph,
                    "rxtx_factor", rxtx, "is_public",
                    json_object_get(f, "os-flavor-access:is_public")
                        ? json_is_true(json_object_get(f, "os-flavor-access:is_public"))
                        : 1,
                    "description", desc ? json_string(desc) : json_null(), "extra_specs");
    json_object_set(ctx->flavors, id, rec);
    {
        struct nfv_err err = {0};
        if (shim_store_put(ctx->store, "flavor", id, rec, &err))
            NFV_LOG_ERR(MOD, "%s", err.msg);
    }
    pthread_mutex_unlock(&ctx->lock);
    shim_resp_json(resp, 200, json_pack("{s:o}", "flavor", flavor_view(ctx, rec, req->mv, true)));
cleanup:
    json_decref(rec);
    json_decref(doc);
}

static void flavor_list(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                        bool is_detail)
{
    const char *pub = req->arg(req->h, "is_public");
    const char *key;
    json_t *f, *arr = json_array();
    /* Nova: absent = public only (admins also see private with None). */
    int want = 1;

    if (pub && (strcasecmp(pub, "none") == 0 || strcasecmp(pub, "all") == 0))
        want = -1;
    else if (pub &&
             (strcasecmp(pub, "false") == 0 || strcmp(pub, "0") == 0 || strcasecmp(pub, "no") == 0))
        want = 0;
    pthread_mutex_lock(&ctx->lock);
    json_object_foreach(ctx->flavors, key, f)
    {
        int is_public = json_is_true(json_object_get(f, "is_public"));
        if (want == -1 || want == is_public || (!is_public && want == 1 && req->auth.is_admin))
            json_array_append_new(arr, flavor_view(ctx, f, req->mv, is_detail));
    }
    pthread_mutex_unlock(&ctx->lock);
    shim_resp_json(resp, 200, json_pack("{s:o}", "flavors", arr));
}

static void extra_specs_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                              json_t *f, const char *key)
{
    json_t *specs = json_object_get(f, "extra_specs"), *doc = NULL, *merged = NULL, *add;
    struct nfv_err err = {0};
    const char *k;
    json_t *v;

    if (is_method(req, "GET")) {
        if (!key) {
            shim_resp_json(resp, 200, json_pack("{s:O}", "extra_specs", specs));
        } else if (json_object_get(specs, key)) {
            shim_resp_json(resp, 200, json_pack("{s:O}", key, json_object_get(specs, key)));
        } else {
            shim_nova_error(resp, 404, "itemNotFound", "Flavor %s has no extra specs with key %s.",
                            json_string_value(json_object_get(f, "id")), key);
        }
        return;
    }
    if (!req->auth.is_admin) {
        forbidden(resp, "os_compute_api:os-flavor-extra-specs:create");
        return;
    }
    if (is_method(req, "DELETE") && key) {
        if (!json_object_get(specs, key)) {
            shim_nova_error(resp, 404, "itemNotFound", "Flavor %s has no extra specs with key %s.",
                            json_string_value(json_object_get(f, "id")), key);
            return;
        }
        json_object_del(specs, key);
        goto save;
    }
    if (!(is_method(req, "POST") && !key) && !(is_method(req, "PUT") && key)) {
        shim_nova_error(resp, 405, "computeFault", "Method not allowed.");
        return;
    }
    doc = shim_req_json(ctx, req, resp);
    if (!doc)
        return;
    add = key ? doc : json_object_get(doc, "extra_specs");
    if (!json_is_object(add) ||
        (key && (json_object_size(add) != 1 || !json_object_get(add, key)))) {
        shim_nova_error(resp, 400, "badRequest",
                        key ? "Request body and URI mismatch"
                            : "Invalid input for field/attribute extra_specs.");
        goto cleanup;
    }
    merged = json_deep_copy(specs);
    json_object_foreach(add, k, v)
    {
        char num[32];
        if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            json_object_set_new(merged, k, json_string(num));
        } else if (json_is_string(v)) {
            json_object_set(merged, k, v);
        } else {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute extra_specs. Value of '%.80s' must "
                            "be a string",
                            k);
            goto cleanup;
        }
    }
    if (shim_spec_check(merged, (unsigned)json_integer_value(json_object_get(f, "vcpus")), &err)) {
        shim_nova_error_from(resp, &err);
        goto cleanup;
    }
    json_object_update(specs, merged);
save:
    if (shim_store_put(ctx->store, "flavor", json_string_value(json_object_get(f, "id")), f, &err))
        NFV_LOG_ERR(MOD, "%s", err.msg);
    if (is_method(req, "DELETE"))
        shim_resp_json(resp, 200, NULL);
    else if (key)
        shim_resp_json(resp, 200, json_pack("{s:O}", key, json_object_get(specs, key)));
    else
        shim_resp_json(resp, 200, json_pack("{s:O}", "extra_specs", specs));
cleanup:
    json_decref(merged);
    json_decref(doc);
}

static void flavors_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                          char **seg, size_t n)
{
    json_t *f;

    if (n == 1 && is_method(req, "GET")) {
        flavor_list(ctx, req, resp, false);
        return;
    }
    if (n == 1 && is_method(req, "POST")) {
        if (!req->auth.is_admin)
            forbidden(resp, "os_compute_api:os-flavor-manage:create");
        else
            flavor_create(ctx, req, resp);
        return;
    }
    if (n == 2 && strcmp(seg[1], "detail") == 0 && is_method(req, "GET")) {
        flavor_list(ctx, req, resp, true);
        return;
    }
    pthread_mutex_lock(&ctx->lock);
    f = n >= 2 ? shim_flavor_find(ctx, seg[1]) : NULL;
    if (!f) {
        pthread_mutex_unlock(&ctx->lock);
        shim_nova_error(resp, 404, "itemNotFound", "Flavor %.64s could not be found.",
                        n >= 2 ? seg[1] : "");
        return;
    }
    if (n == 2 && is_method(req, "GET")) {
        shim_resp_json(resp, 200, json_pack("{s:o}", "flavor", flavor_view(ctx, f, req->mv, true)));
    } else if (n == 2 && is_method(req, "DELETE")) {
        struct nfv_err err = {0};
        if (!req->auth.is_admin) {
            forbidden(resp, "os_compute_api:os-flavor-manage:delete");
        } else {
            if (shim_store_del(ctx->store, "flavor", seg[1], &err))
                NFV_LOG_ERR(MOD, "%s", err.msg);
            json_object_del(ctx->flavors, seg[1]);
            shim_resp_json(resp, 202, NULL);
        }
    } else if ((n == 3 || n == 4) && strcmp(seg[2], "os-extra_specs") == 0) {
        extra_specs_route(ctx, req, resp, f, n == 4 ? seg[3] : NULL);
    } else {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
    }
    pthread_mutex_unlock(&ctx->lock);
}

/* ---- server groups ---- */

json_t *shim_group_find(struct shim_ctx *ctx, const struct shim_auth *auth, const char *id)
{
    json_t *g = json_object_get(ctx->groups, id);

    if (g && !auth->is_admin &&
        strcmp(json_string_value(json_object_get(g, "project_id")), auth->project_id) != 0)
        return NULL;
    return g;
}

/* Members: the servers that name the group (under the lock). */
static json_t *group_members(struct shim_ctx *ctx, const char *id)
{
    json_t *arr = json_array(), *s;
    const char *key;

    json_object_foreach(ctx->servers, key, s)
    {
        const char *g = json_string_value(json_object_get(s, "group_id"));
        if (g && strcmp(g, id) == 0)
            json_array_append_new(arr, json_string(key));
    }
    return arr;
}

static json_t *group_view(struct shim_ctx *ctx, const json_t *g, int mv)
{
    const char *id = json_string_value(json_object_get(g, "id"));
    json_t *o = json_pack("{s:s,s:O}", "id", id, "name", json_object_get(g, "name"));

    if (mv >= SHIM_MV(2, 64)) {
        json_object_set(o, "policy", json_object_get(g, "policy"));
        json_object_set(o, "rules", json_object_get(g, "rules"));
    } else {
        json_object_set_new(o, "policies", json_pack("[O]", json_object_get(g, "policy")));
    }
    json_object_set_new(o, "members", group_members(ctx, id));
    if (mv < SHIM_MV(2, 64))
        json_object_set_new(o, "metadata", json_object());
    if (mv >= SHIM_MV(2, 13)) {
        json_object_set(o, "project_id", json_object_get(g, "project_id"));
        json_object_set(o, "user_id", json_object_get(g, "user_id"));
    }
    return o;
}

static void group_create(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    json_t *doc = shim_req_json(ctx, req, resp), *g, *rules = NULL, *rec = NULL;
    const char *name, *policy = NULL, *scope = "host";
    struct nfv_err err = {0};
    char id[37], vname[80];

    if (!doc)
        return;
    g = json_object_get(doc, "server_group");
    name = json_string_value(json_object_get(g, "name"));
    if (!json_is_object(g) || !shim_text_ok(name, 255)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute name. 'name' must be 1..255 printable "
                        "characters");
        goto cleanup;
    }
    if (req->mv >= SHIM_MV(2, 64)) {
        static const char *const keys[] = {"name", "policy", "rules", NULL};
        if (shim_unknown_key(resp, g, keys, "server_group"))
            goto cleanup;
        policy = json_string_value(json_object_get(g, "policy"));
        rules = json_object_get(g, "rules");
    } else {
        static const char *const keys[] = {"name", "policies", NULL};
        const json_t *pols = json_object_get(g, "policies");
        if (shim_unknown_key(resp, g, keys, "server_group"))
            goto cleanup;
        if (json_array_size(pols) == 1)
            policy = json_string_value(json_array_get(pols, 0));
    }
    if (!policy ||
        (strcmp(policy, "anti-affinity") && strcmp(policy, "soft-anti-affinity") &&
         strcmp(policy, "affinity") && strcmp(policy, "soft-affinity")) ||
        (req->mv < SHIM_MV(2, 15) && strncmp(policy, "soft-", 5) == 0)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute policy. Value: %.40s. It must be one "
                        "of anti-affinity, affinity%s",
                        policy ? policy : "None",
                        req->mv >= SHIM_MV(2, 15) ? ", soft-anti-affinity, soft-affinity" : "");
        goto cleanup;
    }
    if (strstr(policy, "anti-affinity") == NULL) {
        shim_nova_error(resp, 400, "badRequest",
                        "'%s': vmmgr groups are anti-affinity groups (ACT/SBY); use "
                        "anti-affinity or soft-anti-affinity",
                        policy);
        goto cleanup;
    }
    if (rules) {
        const char *k;
        json_t *v;
        if (!json_is_object(rules))
            goto bad_rules;
        json_object_foreach(rules, k, v)
        {
            json_int_t n;
            if (strcmp(k, "vmmgr:scope") == 0) {
                scope = json_string_value(v);
                if (shim_spec_scope_check("vmmgr:scope", scope, &err)) {
                    shim_nova_error_from(resp, &err);
                    goto cleanup;
                }
            } else if (strcmp(k, "max_server_per_host") == 0 && uint_field(v, 1, 1, &n)) {
                /* vmmgr's anti-affinity is one member per failure domain. */
            } else {
                goto bad_rules;
            }
        }
    }
    shim_uuid(id);
    snprintf(vname, sizeof(vname), "%sg-%s", ctx->conf.vm_prefix, id);
    rec = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:b}", "id", id, "name", name, "policy",
                    policy, "rules", rules ? json_incref(rules) : json_object(), "project_id",
                    req->auth.project_id, "user_id", req->auth.user_id, "vmmgr_group", vname,
                    "scope", scope, "is_vmmgr_created", 0);
    pthread_mutex_lock(&ctx->lock);
    json_object_set(ctx->groups, id, rec);
    if (shim_store_put(ctx->store, "group", id, rec, &err))
        NFV_LOG_ERR(MOD, "%s", err.msg);
    shim_resp_json(resp, 200, json_pack("{s:o}", "server_group", group_view(ctx, rec, req->mv)));
    pthread_mutex_unlock(&ctx->lock);
    goto cleanup;
bad_rules:
    shim_nova_error(resp, 400, "badRequest",
                    "Invalid input for field/attribute rules: only max_server_per_host (1) and "
                    "vmmgr:scope (host, rack, zone, power) are supported");
cleanup:
    json_decref(rec);
    json_decref(doc);
}

static void groups_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                         char **seg, size_t n)
{
    json_t *g;

    if (n == 1 && is_method(req, "POST")) {
        group_create(ctx, req, resp);
        return;
    }
    pthread_mutex_lock(&ctx->lock);
    if (n == 1 && is_method(req, "GET")) {
        const char *all = req->arg(req->h, "all_projects");
        bool is_all = req->auth.is_admin && all && strcasecmp(all, "false") && strcmp(all, "0");
        json_t *arr = json_array();
        const char *key;
        json_object_foreach(ctx->groups, key, g)
        {
            if (is_all || strcmp(json_string_value(json_object_get(g, "project_id")),
                                 req->auth.project_id) == 0)
                json_array_append_new(arr, group_view(ctx, g, req->mv));
        }
        shim_resp_json(resp, 200, json_pack("{s:o}", "server_groups", arr));
    } else if (n == 2 && !(g = shim_group_find(ctx, &req->auth, seg[1]))) {
        shim_nova_error(resp, 404, "itemNotFound", "Instance group %.64s could not be found.",
                        seg[1]);
    } else if (n == 2 && is_method(req, "GET")) {
        shim_resp_json(resp, 200, json_pack("{s:o}", "server_group", group_view(ctx, g, req->mv)));
    } else if (n == 2 && is_method(req, "DELETE")) {
        struct nfv_err err = {0};
        if (shim_store_del(ctx->store, "group", seg[1], &err))
            NFV_LOG_ERR(MOD, "%s", err.msg);
        json_object_del(ctx->groups, seg[1]);
        shim_resp_json(resp, 204, NULL);
    } else {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
    }
    pthread_mutex_unlock(&ctx->lock);
}

/* ---- hypervisors ---- */

json_t *shim_host_record(struct shim_ctx *ctx, const char *name)
{
    json_t *h = json_object_get(ctx->hosts, name);
    struct nfv_err err = {0};
    char uuid[37], suuid[37];

    if (h)
        return h;
    shim_uuid(uuid);
    shim_uuid(suuid);
    h = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)ctx->next_host_id++, "uuid", uuid,
                  "service_uuid", suuid);
    json_object_set_new(ctx->hosts, name, h);
    if (shim_store_put(ctx->store, "host", name, h, &err))
        NFV_LOG_ERR(MOD, "%s", err.msg);
    return h;
}

/* The address part of a libvirt URI (qemu+ssh://root@h1:22/system -> h1). */
static void uri_host(const char *uri, char *buf, size_t size)
{
    const char *p = uri ? strstr(uri, "://") : NULL;
    size_t len;

    snprintf(buf, size, "127.0.0.1");
    if (!p)
        return;
    p += 3;
    if (strchr(p, '@') && strchr(p, '@') < strchr(p, '/'))
        p = strchr(p, '@') + 1;
    len = strcspn(p, ":/?");
    if (len && len < size) {
        memcpy(buf, p, len);
        buf[len] = '\0';
    }
}

static json_t *hv_view(struct shim_ctx *ctx, const json_t *host, const json_t *used, int mv,
                       bool is_detail)
{
    const char *name = json_string_value(json_object_get(host, "name"));
    const char *state = json_string_value(json_object_get(host, "state"));
    const char *admin = json_string_value(json_object_get(host, "admin_state"));
    const char *uri = json_string_value(json_object_get(host, "uri"));
    json_t *rec = shim_host_record(ctx, name);
    bool is_down = state && strcmp(state, "unreachable") == 0;
    bool is_disabled = admin && strcmp(admin, "maintenance") == 0;
    json_int_t pus = json_integer_value(json_object_get(host, "pus"));
    json_int_t cores = json_integer_value(json_object_get(host, "cores"));
    json_int_t pkgs = json_integer_value(json_object_get(host, "packages"));
    json_int_t mem = json_integer_value(json_object_get(host, "memory_mib"));
    json_int_t vused = json_integer_value(json_object_get(used, "vcpus"));
    json_int_t mused = json_integer_value(json_object_get(used, "memory_mib"));
    json_t *o, *cpu;
    char ip[128];

    o = json_pack("{s:o,s:s,s:s,s:s}", "id",
                  mv >= SHIM_MV(2, 53) ? json_incref(json_object_get(rec, "uuid"))
                                       : json_incref(json_object_get(rec, "id")),
                  "hypervisor_hostname", name, "state", is_down ? "down" : "up", "status",
                  is_disabled ? "disabled" : "enabled");
    if (!is_detail)
        return o;
    uri_host(uri, ip, sizeof(ip));
    json_object_set_new(o, "hypervisor_type",
                        json_string(uri && strncmp(uri, "test:", 5) == 0 ? "test" : "QEMU"));
    json_object_set_new(o, "hypervisor_version", json_integer(1000));
    json_object_set_new(o, "host_ip", json_string(ip));
    json_object_set_new(o, "service",
                        json_pack("{s:o,s:s,s:o}", "id",
                                  mv >= SHIM_MV(2, 53)
                                      ? json_incref(json_object_get(rec, "service_uuid"))
                                      : json_incref(json_object_get(rec, "id")),
                                  "host", name, "disabled_reason",
                                  is_disabled ? json_string("maintenance") : json_null()));
    if (mv >= SHIM_MV(2, 88)) {
        json_object_set_new(o, "uptime", json_null());
        return o;
    }
    json_object_set_new(o, "vcpus", json_integer(pus));
    json_object_set_new(o, "memory_mb", json_integer(mem));
    json_object_set_new(o, "local_gb", json_integer(0));
    json_object_set_new(o, "vcpus_used", json_integer(vused));
    json_object_set_new(o, "memory_mb_used", json_integer(mused));
    json_object_set_new(o, "local_gb_used", json_integer(0));
    json_object_set_new(o, "free_ram_mb", json_integer(mem - mused));
    json_object_set_new(o, "free_disk_gb", json_integer(0));
    json_object_set_new(o, "current_workload", json_integer(0));
    json_object_set_new(o, "running_vms",
                        json_object_get(used, "n") ? json_incref(json_object_get(used, "n"))
                                                   : json_integer(0));
    json_object_set_new(o, "disk_available_least", json_integer(0));
    cpu = json_pack("{s:s,s:s,s:s,s:[],s:{s:I,s:I,s:I}}", "arch", "x86_64", "model", "host",
                    "vendor", "", "features", "topology", "cores", pkgs ? cores / pkgs : cores,
                    "threads", cores ? pus / cores : 1, "sockets", pkgs ? pkgs : 1);
    if (mv >= SHIM_MV(2, 28)) {
        json_object_set_new(o, "cpu_info", cpu);
    } else {
        char *s = json_dumps(cpu, JSON_COMPACT);
        json_object_set_new(o, "cpu_info", json_string(s ? s : "{}"));
        free(s);
        json_decref(cpu);
    }
    return o;
}

static void hypervisors_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                              char **seg, size_t n)
{
    json_t *hosts = NULL, *vms = NULL, *used = json_object(), *arr = json_array(), *h;
    const char *pattern = req->arg(req->h, "hypervisor_hostname_pattern");
    bool is_detail = n == 2 && strcmp(seg[1], "detail") == 0;
    const char *want = n == 2 && !is_detail ? seg[1] : NULL;
    struct nfv_err err = {0};
    long st = 0;
    size_t i;

    if (!req->auth.is_admin) {
        forbidden(resp, "os_compute_api:os-hypervisors:list");
        goto cleanup;
    }
    if (n > 2 || !is_method(req, "GET")) {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
        goto cleanup;
    }
    if (shim_vmmgr_call(ctx, "GET", "/v1/hosts", NULL, &st, &hosts, &err) ||
        (st != 200 && shim_vmmgr_error(st, hosts, &err)) ||
        shim_vmmgr_call(ctx, "GET", "/v1/vms", NULL, &st, &vms, &err) ||
        (st != 200 && shim_vmmgr_error(st, vms, &err))) {
        shim_nova_error_from(resp, &err);
        goto cleanup;
    }
    json_array_foreach(json_object_get(vms, "vms"), i, h)
    {
        const char *host = json_string_value(json_object_get(h, "host"));
        json_t *u;
        if (!host)
            continue;
        u = json_object_get(used, host);
        if (!u) {
            u = json_pack("{s:i,s:i,s:i}", "vcpus", 0, "memory_mib", 0, "n", 0);
            json_object_set_new(used, host, u);
        }
        json_object_set_new(u, "vcpus",
                            json_integer(json_integer_value(json_object_get(u, "vcpus")) +
                                         json_integer_value(json_object_get(h, "vcpus"))));
        json_object_set_new(u, "memory_mib",
                            json_integer(json_integer_value(json_object_get(u, "memory_mib")) +
                                         json_integer_value(json_object_get(h, "memory_mib"))));
        json_object_set_new(u, "n", json_integer(json_integer_value(json_object_get(u, "n")) + 1));
    }
    pthread_mutex_lock(&ctx->lock);
    json_array_foreach(json_object_get(hosts, "hosts"), i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        json_t *rec;
        char idbuf[32];
        if (!name || (pattern && !strstr(name, pattern)))
            continue;
        rec = shim_host_record(ctx, name);
        if (want) {
            snprintf(idbuf, sizeof(idbuf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(rec, "id")));
            if (strcmp(want, req->mv >= SHIM_MV(2, 53)
                                 ? json_string_value(json_object_get(rec, "uuid"))
                                 : idbuf) != 0)
                continue;
        }
        json_array_append_new(
            arr, hv_view(ctx, h, json_object_get(used, name), req->mv, is_detail || want));
    }
    pthread_mutex_unlock(&ctx->lock);
    if (want && json_array_size(arr) == 0)
        shim_nova_error(resp, 404, "itemNotFound", "Hypervisor with ID %.64s could not be found.",
                        want);
    else if (want)
        shim_resp_json(resp, 200, json_pack("{s:O}", "hypervisor", json_array_get(arr, 0)));
    else
        shim_resp_json(resp, 200, json_pack("{s:O}", "hypervisors", arr));
cleanup:
    json_decref(hosts);
    json_decref(vms);
    json_decref(used);
    json_decref(arr);
}

void shim_nova_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp, char **seg,
                     size_t n)
{
    char msg[256], reqid[48];
    enum shim_mv_result r;

    if (n == 0) {
        if (is_method(req, "GET") || is_method(req, "HEAD"))
            root_doc(ctx, resp);
        else
            shim_nova_error(resp, 405, "computeFault", "Method not allowed.");
        return;
    }
    snprintf(reqid, sizeof(reqid), "req-");
    shim_uuid(reqid + 4);
    shim_resp_header(resp, "X-OpenStack-Request-Id", "%s", reqid);
    shim_resp_header(resp, "X-Compute-Request-Id", "%s", reqid);
    if (strcmp(seg[0], "v2.1") != 0) {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
        return;
    }
    if (n > 1 && !shim_token_check(ctx, req)) {
        shim_unauthorized(ctx, resp);
        return;
    }
    r = shim_mv_negotiate(req->header(req->h, "OpenStack-API-Version"),
                          req->header(req->h, "X-OpenStack-Nova-API-Version"), &req->mv, msg,
                          sizeof(msg));
    if (r == SHIM_MV_MALFORMED) {
        shim_nova_error(resp, 400, "badRequest", "%s", msg);
        return;
    }
    version_headers(resp, req->mv);
    if (r == SHIM_MV_TOO_HIGH) {
        shim_nova_error(resp, 406, "computeFault", "%s", msg);
        return;
    }
    seg++;
    n--;
    /* Old-style endpoints carry the project id: /v2.1/PROJECT/servers. */
    if (n >= 1 && strcmp(seg[0], req->auth.project_id) == 0) {
        seg++;
        n--;
    }
    if (n == 0) {
        if (is_method(req, "GET"))
            shim_resp_json(resp, 200, json_pack("{s:o}", "version", version_doc(ctx)));
        else
            shim_nova_error(resp, 405, "computeFault", "Method not allowed.");
    } else if (strcmp(seg[0], "flavors") == 0) {
        flavors_route(ctx, req, resp, seg, n);
    } else if (strcmp(seg[0], "os-server-groups") == 0) {
        groups_route(ctx, req, resp, seg, n);
    } else if (strcmp(seg[0], "os-hypervisors") == 0) {
        hypervisors_route(ctx, req, resp, seg, n);
    } else if (strcmp(seg[0], "servers") == 0) {
        shim_servers_route(ctx, req, resp, seg, n);
    } else {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
    }
}
