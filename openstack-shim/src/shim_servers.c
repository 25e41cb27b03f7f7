/*
 * shim_servers.c - Nova servers on vmmgr VMs: create (202, then BUILD ->
 * ACTIVE or ERROR with a fault), show, list / detail with filters, delete,
 * the actions os-start, os-stop and reboot, and the worker thread that
 * makes the vmmgrd calls in the order the requests came.
 *
 * A server is a record in the shim's store (project, flavor snapshot,
 * image, group, metadata, the Nova states) plus, once built, a vmmgr VM
 * named PREFIX + server id. vmmgrd stays the truth for where the VM runs
 * and whether it runs: show and list read it and adopt what changed (a
 * stop done with vmmgrctl, a VM healed onto another host).
 *
 * Server groups: the first member creates the vmmgr redundancy group
 * (POST /v1/groups, with the group's scope); later members join it
 * (POST /v1/vms with group and role). Roles come from the metadata key
 * vmmgr:role, else the first member is act and the others sby.
 * soft-anti-affinity: when vmmgrd finds no host apart, the server is
 * placed again outside the group.
 */
#include "shim_priv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nfv/log.h"
#include "shim/shim_mv.h"
#include "shim/shim_spec.h"

#define MOD "servers"

enum job_kind { JOB_CREATE, JOB_START, JOB_STOP, JOB_REBOOT, JOB_DELETE };

struct shim_job {
    enum job_kind kind;
    char server_id[37];
    char vm_name[80];
    json_t *body; /* JOB_CREATE: the POST /v1/vms body (owned) */
    struct shim_job *next;
};

static bool is_method(const struct shim_req *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static void enqueue(struct shim_ctx *ctx, enum job_kind kind, const char *id, const char *vm_name,
                    json_t *take_body)
{
    struct shim_job *j = calloc(1, sizeof(*j));

    if (!j) {
        json_decref(take_body);
        NFV_LOG_ERR(MOD, "out of memory queueing a job for '%s'", id);
        return;
    }
    j->kind = kind;
    snprintf(j->server_id, sizeof(j->server_id), "%s", id);
    snprintf(j->vm_name, sizeof(j->vm_name), "%s", vm_name);
    j->body = take_body;
    /* Called with ctx->lock held. */
    if (ctx->jobs_tail)
        ctx->jobs_tail->next = j;
    else
        ctx->jobs_head = j;
    ctx->jobs_tail = j;
    pthread_cond_signal(&ctx->cond);
}

static void save(struct shim_ctx *ctx, const char *id, const json_t *rec)
{
    struct nfv_err err = {0};

    if (shim_store_put(ctx->store, "server", id, rec, &err))
        NFV_LOG_ERR(MOD, "%s", err.msg);
}

static void set_state(json_t *rec, const char *status, const char *vm_state, const char *task,
                      int power)
{
    json_object_set_new(rec, "status", json_string(status));
    json_object_set_new(rec, "vm_state", json_string(vm_state));
    json_object_set_new(rec, "task_state", task ? json_string(task) : json_null());
    json_object_set_new(rec, "power_state", json_integer(power));
    json_object_set_new(rec, "updated", json_integer(shim_now()));
}

/* A fault as Nova shows it: code, created (ISO 8601), message, details. */
static json_t *fault_new(int code, const char *msg, const char *details)
{
    char now[40];

    shim_time_format(shim_now(), false, now, sizeof(now));
    return json_pack("{s:i,s:s,s:s,s:s}", "code", code, "created", now, "message", msg, "details",
                     details ? details : "");
}

/* ---- views ---- */

static json_t *link_pair(const struct shim_ctx *ctx, const char *coll, const char *id, bool is_self)
{
    char self[SHIM_PATH_MAX + 128], book[SHIM_PATH_MAX + 128];

    snprintf(self, sizeof(self), "%s/compute/v2.1/%s/%s", ctx->base_url, coll, id);
    snprintf(book, sizeof(book), "%s/compute/%s/%s", ctx->base_url, coll, id);
    if (!is_self)
        return json_pack("[{s:s,s:s}]", "rel", "bookmark", "href", book);
    return json_pack("[{s:s,s:s},{s:s,s:s}]", "rel", "self", "href", self, "rel", "bookmark",
                     "href", book);
}

static json_t *server_brief(const struct shim_ctx *ctx, const json_t *s)
{
    const char *id = json_string_value(json_object_get(s, "id"));

    return json_pack("{s:s,s:O,s:o}", "id", id, "name", json_object_get(s, "name"), "links",
                     link_pair(ctx, "servers", id, true));
}

static json_t *time_json(const json_t *t, bool is_micro)
{
    char buf[40];

    if (!json_is_integer(t))
        return json_null();
    shim_time_format(json_integer_value(t), is_micro, buf, sizeof(buf));
    if (is_micro) /* launched_at: "2026-11-21T04:57:52.000000" (no zone) */
        buf[strlen(buf) - 1] = '\0';
    return json_string(buf);
}

static json_t *server_view(const struct shim_ctx *ctx, const json_t *s, int mv)
{
    const char *id = json_string_value(json_object_get(s, "id"));
    const char *host = json_string_value(json_object_get(s, "host"));
    const char *image = json_string_value(json_object_get(s, "image_id"));
    const json_t *fl = json_object_get(s, "flavor");
    const char *group = json_string_value(json_object_get(s, "group_id"));
    char host_id[33] = "", key[160];
    json_t *o, *flavor;

    if (host) {
        snprintf(key, sizeof(key), "%s/%s", json_string_value(json_object_get(s, "project_id")),
                 host);
        shim_id_from_name("hostId", key, false, host_id, sizeof(host_id));
    }
    if (mv >= SHIM_MV(2, 47))
        flavor = json_pack(
            "{s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "vcpus", json_object_get(fl, "vcpus"), "ram",
            json_object_get(fl, "ram"), "disk", json_object_get(fl, "disk"), "ephemeral",
            json_object_get(fl, "ephemeral"), "swap", json_object_get(fl, "swap"), "original_name",
            json_object_get(fl, "name"), "extra_specs", json_object_get(fl, "extra_specs"));
    else
        flavor = json_pack(
            "{s:O,s:o}", "id", json_object_get(s, "flavor_id"), "links",
            link_pair(ctx, "flavors", json_string_value(json_object_get(s, "flavor_id")), false));
    o = json_pack("{s:s,s:O,s:O,s:O,s:O,s:O,s:s,s:{s:s,s:o},s:o,s:o,s:o,s:{},s:s,s:s,s:o,s:s}",
                  "id", id, "name", json_object_get(s, "name"), "status",
                  json_object_get(s, "status"), "tenant_id", json_object_get(s, "project_id"),
                  "user_id", json_object_get(s, "user_id"), "metadata",
                  json_object_get(s, "metadata"), "hostId", host_id, "image", "id", image, "links",
                  link_pair(ctx, "images", image, false), "flavor", flavor, "created",
                  time_json(json_object_get(s, "created"), false), "updated",
                  time_json(json_object_get(s, "updated"), false), "addresses", "accessIPv4", "",
                  "accessIPv6", "", "links", link_pair(ctx, "servers", id, true),
                  "OS-DCF:diskConfig", "MANUAL");
    if (json_is_object(json_object_get(s, "fault")))
        json_object_set(o, "fault", json_object_get(s, "fault"));
    json_object_set_new(o, "OS-EXT-AZ:availability_zone", json_string(host ? "nova" : ""));
    json_object_set_new(o, "config_drive", json_string(""));
    json_object_set_new(o, "key_name", json_null());
    json_object_set_new(o, "OS-SRV-USG:launched_at",
                        time_json(json_object_get(s, "launched_at"), true));
    json_object_set_new(o, "OS-SRV-USG:terminated_at", json_null());
    json_object_set_new(o, "OS-EXT-SRV-ATTR:host", host ? json_string(host) : json_null());
    json_object_set(o, "OS-EXT-SRV-ATTR:instance_name", json_object_get(s, "vm_name"));
    json_object_set_new(o, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                        host ? json_string(host) : json_null());
    if (mv >= SHIM_MV(2, 3)) {
        json_object_set(o, "OS-EXT-SRV-ATTR:reservation_id", json_object_get(s, "reservation_id"));
        json_object_set_new(o, "OS-EXT-SRV-ATTR:launch_index", json_integer(0));
        json_object_set(o, "OS-EXT-SRV-ATTR:hostname", json_object_get(s, "hostname"));
        json_object_set_new(o, "OS-EXT-SRV-ATTR:kernel_id", json_string(""));
        json_object_set_new(o, "OS-EXT-SRV-ATTR:ramdisk_id", json_string(""));
        json_object_set_new(o, "OS-EXT-SRV-ATTR:root_device_name", json_null());
        json_object_set_new(o, "OS-EXT-SRV-ATTR:user_data", json_null());
    }
    json_object_set(o, "OS-EXT-STS:task_state", json_object_get(s, "task_state"));
    json_object_set(o, "OS-EXT-STS:vm_state", json_object_get(s, "vm_state"));
    json_object_set(o, "OS-EXT-STS:power_state", json_object_get(s, "power_state"));
    json_object_set_new(o, "os-extended-volumes:volumes_attached", json_array());
    if (mv >= SHIM_MV(2, 16))
        json_object_set_new(o, "host_status", json_string(host ? "UP" : ""));
    if (mv >= SHIM_MV(2, 9))
        json_object_set_new(o, "locked", json_false());
    if (mv >= SHIM_MV(2, 73))
        json_object_set_new(o, "locked_reason", json_null());
    if (mv >= SHIM_MV(2, 19))
        json_object_set(o, "description", json_object_get(s, "description"));
    if (mv >= SHIM_MV(2, 26))
        json_object_set_new(o, "tags", json_array());
    if (mv >= SHIM_MV(2, 63))
        json_object_set_new(o, "trusted_image_certificates", json_null());
    if (mv >= SHIM_MV(2, 71))
        json_object_set_new(o, "server_groups", group ? json_pack("[s]", group) : json_array());
    return o;
}

/* The server @id visible to @auth (borrowed, under the lock). */
static json_t *server_find(struct shim_ctx *ctx, const struct shim_auth *auth, const char *id)
{
    json_t *s = json_object_get(ctx->servers, id);

    if (s && !auth->is_admin &&
        strcmp(json_string_value(json_object_get(s, "project_id")), auth->project_id) != 0)
        return NULL;
    return s;
}

/* Adopts vmmgrd's view @vm (NULL: vmmgrd has no such VM) into record @s
 * (under the lock). Only settled servers change: a server with a task in
 * flight belongs to the worker. */
static void adopt(struct shim_ctx *ctx, json_t *s, const json_t *vm)
{
    const char *status = json_string_value(json_object_get(s, "status"));
    const char *state = json_string_value(json_object_get(vm, "state"));
    const char *host = json_string_value(json_object_get(vm, "host"));
    const char *old_host = json_string_value(json_object_get(s, "host"));
    bool is_changed = false;

    if (!json_is_null(json_object_get(s, "task_state")) ||
        (strcmp(status, "ACTIVE") && strcmp(status, "SHUTOFF")))
        return;
    if (!vm) {
        set_state(s, "ERROR", "error", NULL, 0);
        json_object_set_new(s, "fault",
                            fault_new(500, "vmmgrd no longer knows this server's VM", NULL));
        is_changed = true;
    } else if (state && strcmp(state, "running") == 0 && strcmp(status, "ACTIVE")) {
        set_state(s, "ACTIVE", "active", NULL, 1);
        is_changed = true;
    } else if (state && strcmp(state, "stopped") == 0 && strcmp(status, "SHUTOFF")) {
        set_state(s, "SHUTOFF", "stopped", NULL, 4);
        is_changed = true;
    } else if (state && strcmp(state, "error") == 0) {
        set_state(s, "ERROR", "error", NULL, 0);
        json_object_set_new(s, "fault",
                            fault_new(500,
                                      "vmmgrd reports the VM in state error (see vmmgrctl vm "
                                      "show)",
                                      NULL));
        is_changed = true;
    }
    if (host && (!old_host || strcmp(host, old_host))) {
        json_object_set_new(s, "host", json_string(host));
        is_changed = true;
    }
    if (is_changed) {
        /* Keep the fault when still in error; drop it on recovery. */
        if (strcmp(json_string_value(json_object_get(s, "status")), "ERROR"))
            json_object_del(s, "fault");
        save(ctx, json_string_value(json_object_get(s, "id")), s);
    }
}

/* ---- list / show ---- */

static int created_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t sx = json_integer_value(json_object_get(x, "seq"));
    json_int_t sy = json_integer_value(json_object_get(y, "seq"));

    return sx < sy ? 1 : sx > sy ? -1 : 0; /* newest first, as Nova */
}

static void server_list(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                        bool is_detail)
{
    const char *name = req->arg(req->h, "name"), *host = req->arg(req->h, "host");
    const char *status = req->arg(req->h, "status"), *all = req->arg(req->h, "all_tenants");
    const char *limit_s = req->arg(req->h, "limit");
    bool is_all = req->auth.is_admin && all && strcasecmp(all, "false") && strcmp(all, "0");
    json_t *vms = NULL, *by_name = json_object(), *arr = json_array(), *s, *v;
    struct nfv_err err = {0};
    json_t **rows = NULL;
    size_t n = 0, i, limit = SIZE_MAX;
    const char *key;
    long st = 0;

    if (limit_s) {
        char *end;
        unsigned long l = strtoul(limit_s, &end, 10);
        if (!isdigit((unsigned char)*limit_s) || *end) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for query parameters limit. Value: %.20s.", limit_s);
            goto cleanup;
        }
        limit = l;
    }
    /* One call gives every VM's state and host. */
    if (shim_vmmgr_call(ctx, "GET", "/v1/vms", NULL, &st, &vms, &err) == NFV_OK && st == 200)
        json_array_foreach(json_object_get(vms, "vms"), i, v)
        {
            const char *vn = json_string_value(json_object_get(v, "name"));
            if (vn)
                json_object_set(by_name, vn, v);
        }
    else
        NFV_LOG_WARN(MOD, "server list: vmmgrd unavailable, states may be stale (%s)", err.msg);
    pthread_mutex_lock(&ctx->lock);
    rows = calloc(json_object_size(ctx->servers) + 1, sizeof(*rows));
    json_object_foreach(ctx->servers, key, s)
    {
        const char *vm_name = json_string_value(json_object_get(s, "vm_name"));
        const char *sname = json_string_value(json_object_get(s, "name"));
        const char *shost = json_string_value(json_object_get(s, "host"));
        if (!rows)
            break;
        if (!is_all &&
            strcmp(json_string_value(json_object_get(s, "project_id")), req->auth.project_id))
            continue;
        if (vms)
            adopt(ctx, s, json_object_get(by_name, vm_name));
        if (name && !strstr(sname, name))
            continue;
        if (host && req->auth.is_admin && (!shost || strcmp(shost, host)))
            continue;
        if (status && strcasecmp(status, json_string_value(json_object_get(s, "status"))) != 0)
            continue;
        rows[n++] = s;
    }
    if (rows)
        qsort(rows, n, sizeof(*rows), created_cmp);
    for (i = 0; i < n && i < limit; i++)
        json_array_append_new(arr, is_detail ? server_view(ctx, rows[i], req->mv)
                                             : server_brief(ctx, rows[i]));
    pthread_mutex_unlock(&ctx->lock);
    shim_resp_json(resp, 200, json_pack("{s:O}", "servers", arr));
cleanup:
    free(rows);
    json_decref(vms);
    json_decref(by_name);
    json_decref(arr);
}

static void not_found(struct shim_resp *resp, const char *id)
{
    char shown[80];

    shim_shown(id, shown, sizeof(shown));
    shim_nova_error(resp, 404, "itemNotFound", "Instance %s could not be found.", shown);
}

static void server_show(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                        const char *id)
{
    char path[160], vm_name[80] = "";
    json_t *vm = NULL, *s;
    struct nfv_err err = {0};
    long st = 0;
    bool is_known;

    pthread_mutex_lock(&ctx->lock);
    s = server_find(ctx, &req->auth, id);
    if (s)
        snprintf(vm_name, sizeof(vm_name), "%s", json_string_value(json_object_get(s, "vm_name")));
    pthread_mutex_unlock(&ctx->lock);
    if (!s) {
        not_found(resp, id);
        return;
    }
    snprintf(path, sizeof(path), "/v1/vms/%s", vm_name);
    is_known = shim_vmmgr_call(ctx, "GET", path, NULL, &st, &vm, &err) == NFV_OK &&
               (st == 200 || st == 404);
    pthread_mutex_lock(&ctx->lock);
    s = server_find(ctx, &req->auth, id);
    if (s && is_known)
        adopt(ctx, s, st == 200 ? vm : NULL);
    if (s)
        shim_resp_json(resp, 200, json_pack("{s:o}", "server", server_view(ctx, s, req->mv)));
    pthread_mutex_unlock(&ctx->lock);
    if (!s)
        not_found(resp, id);
    json_decref(vm);
}

/* ---- create ---- */

static const char *const server_keys[] = {"name",
                                          "imageRef",
                                          "flavorRef",
                                          "availability_zone",
                                          "metadata",
                                          "networks",
                                          "min_count",
                                          "max_count",
                                          "return_reservation_id",
                                          "host",
                                          "hypervisor_hostname",
                                          "key_name",
                                          "security_groups",
                                          "user_data",
                                          "config_drive",
                                          "description",
                                          "tags",
                                          "OS-DCF:diskConfig",
                                          "accessIPv4",
                                          "accessIPv6",
                                          "adminPass",
                                          NULL};

/* The last path segment of an id or a link ("http://.../flavors/ID"). */
static const char *ref_id(const char *ref)
{
    const char *slash = ref ? strrchr(ref, '/') : NULL;

    return slash ? slash + 1 : ref;
}

/* 400 unless vmmgrd knows host @h. */
static bool host_exists(struct shim_ctx *ctx, struct shim_resp *resp, const char *h)
{
    char path[128];
    json_t *doc = NULL;
    struct nfv_err err = {0};
    long st = 0;

    if (!shim_name_ok(h, h ? strlen(h) : 0)) {
        shim_nova_error(resp, 400, "badRequest", "Compute host %s could not be found.",
                        shim_text_ok(h, 63) ? h : "(invalid)");
        return false;
    }
    snprintf(path, sizeof(path), "/v1/hosts/%s", h);
    if (shim_vmmgr_call(ctx, "GET", path, NULL, &st, &doc, &err)) {
        json_decref(doc);
        shim_nova_error_from(resp, &err);
        return false;
    }
    json_decref(doc);
    if (st == 404) {
        shim_nova_error(resp, 400, "badRequest", "Compute host %s could not be found.", h);
        return false;
    }
    return true;
}

static bool metadata_ok(struct shim_resp *resp, const json_t *md)
{
    const char *key;
    const json_t *v;

    if (!md)
        return true;
    if (!json_is_object(md) || json_object_size(md) > 128) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute metadata: an object of at most 128 "
                        "string values");
        return false;
    }
    json_object_foreach((json_t *)md, key, v)
    {
        if (!shim_text_ok(key, 255) || !json_is_string(v) || strlen(json_string_value(v)) > 255) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute metadata: keys and values are "
                            "strings of at most 255 characters");
            return false;
        }
    }
    return true;
}

/* The role of a new member of group @gid (under the lock): act when no
 * live member is act yet, else sby. */
static const char *default_role(struct shim_ctx *ctx, const char *gid)
{
    const char *key;
    json_t *s;

    json_object_foreach(ctx->servers, key, s)
    {
        const char *g = json_string_value(json_object_get(s, "group_id"));
        const char *r = json_string_value(json_object_get(s, "role"));
        if (g && strcmp(g, gid) == 0 && r && strcmp(r, "act") == 0 &&
            strcmp(json_string_value(json_object_get(s, "status")), "ERROR"))
            return "sby";
    }
    return "act";
}

static void server_create(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    json_t *doc = shim_req_json(ctx, req, resp), *srv, *v, *md, *hints, *flavor, *body = NULL;
    json_t *rec = NULL, *specs_copy = NULL;
    const char *name, *flavor_ref, *image_ref, *az, *host = NULL, *group_id = NULL;
    const char *role = NULL, *scope_md = NULL;
    const struct shim_image *image;
    struct nfv_err err = {0};
    char id[37], vm_name[80], pass[13], loc[SHIM_PATH_MAX + 64], az_host[64] = "", rid[16];
    struct shim_spec_in in = {0};
    static json_int_t seq; /* guarded by ctx->lock */

    if (!doc)
        return;
    srv = json_object_get(doc, "server");
    if (!json_is_object(srv)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute server. 'server' is a required "
                        "property");
        goto cleanup;
    }
    if (shim_unknown_key(resp, srv, server_keys, "server"))
        goto cleanup;
    name = json_string_value(json_object_get(srv, "name"));
    if (!shim_text_ok(name, 255)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute name. 'name' must be 1..255 printable "
                        "characters");
        goto cleanup;
    }
    md = json_object_get(srv, "metadata");
    if (!metadata_ok(resp, md))
        goto cleanup;
    if (md && shim_spec_metadata(md, &role, &scope_md, &err)) {
        shim_nova_error_from(resp, &err);
        goto cleanup;
    }
    if (((v = json_object_get(srv, "min_count")) && json_integer_value(v) != 1 &&
         !(json_is_string(v) && strcmp(json_string_value(v), "1") == 0)) ||
        ((v = json_object_get(srv, "max_count")) && json_integer_value(v) != 1 &&
         !(json_is_string(v) && strcmp(json_string_value(v), "1") == 0))) {
        shim_nova_error(resp, 400, "badRequest",
                        "'min_count'/'max_count': vmmgr-shim creates one server per request");
        goto cleanup;
    }
    v = json_object_get(srv, "networks");
    if (req->mv >= SHIM_MV(2, 37) && !v) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute server. 'networks' is a required "
                        "property");
        goto cleanup;
    }
    if (v &&
        !(json_is_string(v) && (strcmp(json_string_value(v), "none") == 0 ||
                                strcmp(json_string_value(v), "auto") == 0)) &&
        !(json_is_array(v) && json_array_size(v) == 0)) {
        shim_nova_error(resp, 400, "badRequest",
                        "'networks': vmmgr-shim has no network service: boot with --nic none "
                        "(or auto) and give NICs with the flavor's vmmgr:nics");
        goto cleanup;
    }
    az = json_string_value(json_object_get(srv, "availability_zone"));
    if (json_object_get(srv, "availability_zone") && !az) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute availability_zone.");
        goto cleanup;
    }
    if (az && *az && strcmp(az, "nova") != 0) {
        /* "nova:HOST", "nova:HOST:NODE" or ":HOST" force the host. */
        const char *c = strchr(az, ':');
        size_t len;
        if (!c || (c != az && strncmp(az, "nova:", 5) != 0)) {
            shim_nova_error(resp, 400, "badRequest",
                            "The requested availability zone is not available");
            goto cleanup;
        }
        len = strcspn(c + 1, ":");
        if (len == 0 || len >= sizeof(az_host)) {
            shim_nova_error(resp, 400, "badRequest",
                            "The requested availability zone is not available");
            goto cleanup;
        }
        memcpy(az_host, c + 1, len);
        az_host[len] = '\0';
        host = az_host;
    }
    if (json_object_get(srv, "host") || json_object_get(srv, "hypervisor_hostname")) {
        const char *h = json_string_value(json_object_get(srv, "host"));
        const char *hh = json_string_value(json_object_get(srv, "hypervisor_hostname"));
        if (req->mv < SHIM_MV(2, 74)) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute server. Additional properties are "
                            "not allowed ('host' was unexpected)");
            goto cleanup;
        }
        if ((json_object_get(srv, "host") && !h) ||
            (json_object_get(srv, "hypervisor_hostname") && !hh) || (h && hh && strcmp(h, hh))) {
            shim_nova_error(resp, 400, "badRequest",
                            "'host' and 'hypervisor_hostname' must name the same vmmgr host");
            goto cleanup;
        }
        host = h ? h : hh;
    }
    if (host && !host_exists(ctx, resp, host))
        goto cleanup;
    hints = json_object_get(doc, "os:scheduler_hints");
    if (!hints)
        hints = json_object_get(doc, "OS-SCH-HNT:scheduler_hints");
    if (hints && !json_is_object(hints)) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute "
                        "os:scheduler_hints.");
        goto cleanup;
    }
    if ((v = json_object_get(hints, "group"))) {
        group_id = json_string_value(v);
        if (!group_id && json_array_size(v) == 1)
            group_id = json_string_value(json_array_get(v, 0));
        if (!group_id) {
            shim_nova_error(resp, 400, "badRequest", "Invalid input for field/attribute group.");
            goto cleanup;
        }
    }
    flavor_ref = ref_id(json_string_value(json_object_get(srv, "flavorRef")));
    image_ref = ref_id(json_string_value(json_object_get(srv, "imageRef")));
    if (!flavor_ref) {
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid input for field/attribute flavorRef. 'flavorRef' is a required "
                        "property");
        goto cleanup;
    }
    image = image_ref ? shim_image_find(ctx, image_ref) : NULL;
    if (!image) {
        shim_nova_error(resp, 400, "badRequest", "Image %.64s could not be found.",
                        image_ref ? image_ref : "None");
        goto cleanup;
    }

    shim_uuid(id);
    snprintf(vm_name, sizeof(vm_name), "%s%s", ctx->conf.vm_prefix, id);
    pthread_mutex_lock(&ctx->lock);
    flavor = shim_flavor_find(ctx, flavor_ref);
    if (!flavor) {
        pthread_mutex_unlock(&ctx->lock);
        shim_nova_error(resp, 400, "badRequest", "Flavor %.64s could not be found.", flavor_ref);
        goto cleanup;
    }
    if (group_id && !shim_group_find(ctx, &req->auth, group_id)) {
        pthread_mutex_unlock(&ctx->lock);
        shim_nova_error(resp, 400, "badRequest",
                        "Invalid server group: Instance group %.64s could not be found.", group_id);
        goto cleanup;
    }
    specs_copy = json_deep_copy(json_object_get(flavor, "extra_specs"));
    in.vm_name = vm_name;
    in.vcpus = (unsigned)json_integer_value(json_object_get(flavor, "vcpus"));
    in.ram_mb = (uint64_t)json_integer_value(json_object_get(flavor, "ram"));
    in.extra_specs = specs_copy;
    in.host = host;
    in.disk = image->path[0] ? image->path : NULL;
    if (shim_spec_build(&in, &body, &err)) {
        pthread_mutex_unlock(&ctx->lock);
        shim_nova_error_from(resp, &err);
        goto cleanup;
    }
    if (group_id && !role)
        role = default_role(ctx, group_id);
    shim_random_hex(rid, 4);
    rec = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:O,s:O,s:O,s:O,s:O,s:O,s:O},s:s,s:o,s:o,s:o,"
        "s:o,s:s,s:s,s:O,s:I,s:I,s:I}",
        "id", id, "name", name, "hostname", name, "project_id", req->auth.project_id, "user_id",
        req->auth.user_id, "flavor_id", json_string_value(json_object_get(flavor, "id")), "flavor",
        "vcpus", json_object_get(flavor, "vcpus"), "ram", json_object_get(flavor, "ram"), "disk",
        json_object_get(flavor, "disk"), "ephemeral", json_object_get(flavor, "ephemeral"), "swap",
        json_object_get(flavor, "swap"), "name", json_object_get(flavor, "name"), "extra_specs",
        specs_copy, "image_id", image->id, "group_id",
        group_id ? json_string(group_id) : json_null(), "metadata",
        md ? json_incref(md) : json_object(), "role", role ? json_string(role) : json_null(),
        "forced_host", host ? json_string(host) : json_null(), "vm_name", vm_name, "reservation_id",
        rid, "description",
        json_object_get(srv, "description") ? json_object_get(srv, "description") : json_null(),
        "created", (json_int_t)shim_now(), "updated", (json_int_t)shim_now(), "seq", ++seq);
    if (!rec) {
        pthread_mutex_unlock(&ctx->lock);
        shim_nova_error(resp, 500, "computeFault", "out of memory");
        goto cleanup;
    }
    json_object_set_new(rec, "reservation_id", json_sprintf("r-%s", rid));
    json_object_set_new(rec, "host", json_null());
    json_object_set_new(rec, "launched_at", json_null());
    set_state(rec, "BUILD", "building", "scheduling", 0);
    if (scope_md)
        json_object_set_new(rec, "scope", json_string(scope_md));
    json_object_set(ctx->servers, id, rec);
    json_object_set(rec, "vm_body", body);
    save(ctx, id, rec);
    enqueue(ctx, JOB_CREATE, id, vm_name, body);
    body = NULL;
    pthread_mutex_unlock(&ctx->lock);

    shim_random_hex(pass, 6);
    snprintf(loc, sizeof(loc), "%s/compute/v2.1/servers/%s", ctx->base_url, id);
    shim_resp_header(resp, "Location", "%s", loc);
    shim_resp_json(resp, 202,
                   json_pack("{s:{s:s,s:o,s:s,s:[{s:s}],s:s}}", "server", "id", id, "links",
                             link_pair(ctx, "servers", id, true), "OS-DCF:diskConfig", "MANUAL",
                             "security_groups", "name", "default", "adminPass", pass));
cleanup:
    json_decref(specs_copy);
    json_decref(rec);
    json_decref(body);
    json_decref(doc);
}

/* ---- actions, delete ---- */

static void conflict(struct shim_resp *resp, const char *action, const char *id, const char *what,
                     const char *state)
{
    shim_nova_error(resp, 409, "conflictingRequest", "Cannot '%s' instance %s while it is in %s %s",
                    action, id, what, state);
}

static void server_action(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                          const char *id)
{
    json_t *doc = shim_req_json(ctx, req, resp), *s;
    const char *action = NULL, *vm_state, *task;
    enum job_kind kind;

    if (!doc)
        return;
    if (json_object_size(doc) == 1)
        action = json_object_iter_key(json_object_iter(doc));
    if (action && strcmp(action, "os-start") == 0)
        kind = JOB_START;
    else if (action && strcmp(action, "os-stop") == 0)
        kind = JOB_STOP;
    else if (action && strcmp(action, "reboot") == 0) {
        const json_t *r = json_object_get(doc, "reboot");
        const char *type = json_string_value(json_object_get(r, "type"));
        if (!json_is_object(r) || !type ||
            (strcasecmp(type, "SOFT") != 0 && strcasecmp(type, "HARD") != 0)) {
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute type. Value must be SOFT or HARD");
            goto cleanup;
        }
        kind = JOB_REBOOT;
    } else {
        shim_nova_error(resp, 400, "badRequest", "There is no such action: %.40s",
                        action && shim_text_ok(action, 40) ? action : "(none)");
        goto cleanup;
    }
    pthread_mutex_lock(&ctx->lock);
    s = server_find(ctx, &req->auth, id);
    if (!s) {
        pthread_mutex_unlock(&ctx->lock);
        not_found(resp, id);
        goto cleanup;
    }
    vm_state = json_string_value(json_object_get(s, "vm_state"));
    task = json_string_value(json_object_get(s, "task_state"));
    /* Nova names the operation, not the action key. */
    action = kind == JOB_START ? "start" : kind == JOB_STOP ? "stop" : "reboot";
    if (task)
        conflict(resp, action, id, "task_state", task);
    else if (kind == JOB_START && strcmp(vm_state, "stopped") != 0)
        conflict(resp, action, id, "vm_state", vm_state);
    else if (kind != JOB_START && strcmp(vm_state, "active") != 0)
        conflict(resp, action, id, "vm_state", vm_state);
    else {
        bool is_hard =
            kind == JOB_REBOOT &&
            strcasecmp(json_string_value(json_object_get(json_object_get(doc, "reboot"), "type")),
                       "HARD") == 0;
        const char *status = kind == JOB_REBOOT ? (is_hard ? "HARD_REBOOT" : "REBOOT")
                                                : json_string_value(json_object_get(s, "status"));
        set_state(s, status, vm_state,
                  kind == JOB_START  ? "powering-on"
                  : kind == JOB_STOP ? "powering-off"
                  : is_hard          ? "rebooting_hard"
                                     : "rebooting",
                  json_integer_value(json_object_get(s, "power_state")));
        save(ctx, id, s);
        enqueue(ctx, kind, id, json_string_value(json_object_get(s, "vm_name")), NULL);
        shim_resp_json(resp, 202, NULL);
    }
    pthread_mutex_unlock(&ctx->lock);
cleanup:
    json_decref(doc);
}

static void server_delete(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                          const char *id)
{
    struct nfv_err err = {0};
    json_t *s;

    pthread_mutex_lock(&ctx->lock);
    s = server_find(ctx, &req->auth, id);
    if (!s) {
        pthread_mutex_unlock(&ctx->lock);
        not_found(resp, id);
        return;
    }
    /* Nova hides a deleted server at once; the VM goes in the worker. */
    enqueue(ctx, JOB_DELETE, id, json_string_value(json_object_get(s, "vm_name")), NULL);
    if (shim_store_del(ctx->store, "server", id, &err))
        NFV_LOG_ERR(MOD, "%s", err.msg);
    json_object_del(ctx->servers, id);
    pthread_mutex_unlock(&ctx->lock);
    shim_resp_json(resp, 204, NULL);
}

void shim_servers_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                        char **seg, size_t n)
{
    if (n == 1 && is_method(req, "GET"))
        server_list(ctx, req, resp, false);
    else if (n == 1 && is_method(req, "POST"))
        server_create(ctx, req, resp);
    else if (n == 2 && strcmp(seg[1], "detail") == 0 && is_method(req, "GET"))
        server_list(ctx, req, resp, true);
    else if (n == 2 && is_method(req, "GET"))
        server_show(ctx, req, resp, seg[1]);
    else if (n == 2 && is_method(req, "DELETE"))
        server_delete(ctx, req, resp, seg[1]);
    else if (n == 3 && strcmp(seg[2], "action") == 0 && is_method(req, "POST"))
        server_action(ctx, req, resp, seg[1]);
    else
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
}

/* ---- the worker ---- */

/* Records the end of a create or action on server @id (under the lock). */
static void finish(struct shim_ctx *ctx, const struct shim_job *j, const json_t *vm,
                   const struct nfv_err *err)
{
    json_t *s = json_object_get(ctx->servers, j->server_id);
    const char *host = json_string_value(json_object_get(vm, "host"));
    const char *state = json_string_value(json_object_get(vm, "state"));

    if (!s)
        return; /* deleted meanwhile: the delete job follows */
    if (err && j->kind == JOB_CREATE) {
        char msg[700];
        set_state(s, "ERROR", "error", NULL, 0);
        snprintf(msg, sizeof(msg), "%s%s",
                 err->code == NFV_E_NOCAP ? "No valid host was found. " : "", err->msg);
        json_object_set_new(
            s, "fault",
            fault_new(err->code == NFV_E_NOCAP ? 500 : nfv_code_http(err->code), msg, err->msg));
    } else if (err) {
        /* A failed action leaves the server as it was, as Nova does. */
        NFV_LOG_WARN(MOD, "server %s: %s failed: %s", j->server_id,
                     j->kind == JOB_STOP    ? "stop"
                     : j->kind == JOB_START ? "start"
                                            : "reboot",
                     err->msg);
        json_object_set_new(s, "task_state", json_null());
        json_object_set_new(
            s, "status",
            json_string(strcmp(json_string_value(json_object_get(s, "vm_state")), "stopped") == 0
                            ? "SHUTOFF"
                            : "ACTIVE"));
    } else {
        bool is_running = !state || strcmp(state, "stopped") != 0;
        if (j->kind == JOB_STOP)
            is_running = false;
        set_state(s, is_running ? "ACTIVE" : "SHUTOFF", is_running ? "active" : "stopped", NULL,
                  is_running ? 1 : 4);
        if (host)
            json_object_set_new(s, "host", json_string(host));
        if (j->kind == JOB_CREATE)
            json_object_set_new(s, "launched_at", json_integer(shim_now()));
        json_object_del(s, "fault");
    }
    save(ctx, j->server_id, s);
}

/* POST @path @body to vmmgrd; the created VM (or group member) into *ret_vm. */
static enum nfv_code post(struct shim_ctx *ctx, const char *path, const json_t *body,
                          json_t **ret_doc, struct nfv_err *err)
{
    long st = 0;

    if (shim_vmmgr_call(ctx, "POST", path, body, &st, ret_doc, err))
        return err->code;
    if (st >= 300)
        return shim_vmmgr_error(st, *ret_doc, err);
    return NFV_OK;
}

static void run_create(struct shim_ctx *ctx, struct shim_job *j)
{
    char vgroup[80] = "", scope[16] = "host", role[8] = "", gid[37] = "";
    bool is_created = false, is_soft = false, is_member = false;
    json_t *doc = NULL, *vm = NULL, *s, *g;
    struct nfv_err err = {0};
    enum nfv_code code;

    pthread_mutex_lock(&ctx->lock);
    s = json_object_get(ctx->servers, j->server_id);
    if (s && json_string_value(json_object_get(s, "group_id")))
        snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(s, "group_id")));
    g = gid[0] ? json_object_get(ctx->groups, gid) : NULL;
    if (s && g) {
        is_member = true;
        snprintf(vgroup, sizeof(vgroup), "%s",
                 json_string_value(json_object_get(g, "vmmgr_group")));
        snprintf(scope, sizeof(scope), "%s", json_string_value(json_object_get(g, "scope")));
        if (json_string_value(json_object_get(s, "scope")))
            snprintf(scope, sizeof(scope), "%s", json_string_value(json_object_get(s, "scope")));
        snprintf(role, sizeof(role), "%s", json_string_value(json_object_get(s, "role")));
        is_created = json_is_true(json_object_get(g, "is_vmmgr_created"));
        is_soft = strncmp(json_string_value(json_object_get(g, "policy")), "soft-", 5) == 0;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (!s)
        return; /* deleted before it was built */

    if (!is_member) {
        code = post(ctx, "/v1/vms", j->body, &doc, &err);
        vm = doc;
    } else {
        json_t *member = json_deep_copy(j->body);
        json_object_set_new(member, "role", json_string(role));
        if (!is_created) {
            json_t *gb =
                json_pack("{s:s,s:s,s:[O]}", "name", vgroup, "scope", scope, "members", member);
            code = post(ctx, "/v1/groups", gb, &doc, &err);
            json_decref(gb);
            if (code == NFV_OK) {
                vm = json_array_get(json_object_get(doc, "members"), 0);
                pthread_mutex_lock(&ctx->lock);
                g = json_object_get(ctx->groups, gid);
                if (g) {
                    struct nfv_err e2 = {0};
                    json_object_set_new(g, "is_vmmgr_created", json_true());
                    if (shim_store_put(ctx->store, "group", gid, g, &e2))
                        NFV_LOG_ERR(MOD, "%s", e2.msg);
                }
                pthread_mutex_unlock(&ctx->lock);
            }
        }
        if (is_created || code == NFV_E_EXIST) {
            /* The group exists in vmmgrd (or a restart lost our flag): join it. */
            nfv_err_clear(&err);
            json_decref(doc);
            doc = NULL;
            json_object_set_new(member, "group", json_string(vgroup));
            code = post(ctx, "/v1/vms", member, &doc, &err);
            vm = doc;
        }
        if (code == NFV_E_NOCAP && is_soft) {
            /* soft-anti-affinity: a place, even next to a peer, beats none. */
            NFV_LOG_INFO(MOD, "server %s: no host apart (%s); placing it outside group '%s'",
                         j->server_id, err.msg, vgroup);
            nfv_err_clear(&err);
            json_decref(doc);
            doc = NULL;
            code = post(ctx, "/v1/vms", j->body, &doc, &err);
            vm = doc;
        }
        json_decref(member);
    }
    if (code == NFV_E_EXIST) {
        /* Queued again after a restart, and vmmgrd had made it: adopt it. */
        char path[160];
        long st = 0;
        json_t *cur = NULL;
        struct nfv_err e2 = {0};
        snprintf(path, sizeof(path), "/v1/vms/%s", j->vm_name);
        if (shim_vmmgr_call(ctx, "GET", path, NULL, &st, &cur, &e2) == NFV_OK && st == 200) {
            json_decref(doc);
            doc = vm = cur;
            code = NFV_OK;
        } else {
            json_decref(cur);
        }
    }
    pthread_mutex_lock(&ctx->lock);
    finish(ctx, j, vm, code ? &err : NULL);
    pthread_mutex_unlock(&ctx->lock);
    json_decref(doc);
}

static void run_job(struct shim_ctx *ctx, struct shim_job *j)
{
    static const char *const verbs[] = {
        [JOB_START] = "start", [JOB_STOP] = "stop", [JOB_REBOOT] = "reboot"};
    char path[160];
    json_t *doc = NULL;
    struct nfv_err err = {0};
    long st = 0;
    enum nfv_code code;

    if (j->kind == JOB_CREATE) {
        run_create(ctx, j);
        return;
    }
    if (j->kind == JOB_DELETE) {
        snprintf(path, sizeof(path), "/v1/vms/%s", j->vm_name);
        code = shim_vmmgr_call(ctx, "DELETE", path, NULL, &st, &doc, &err);
        if (code || (st >= 300 && st != 404)) {
            if (!code)
                shim_vmmgr_error(st, doc, &err);
            NFV_LOG_ERR(MOD, "server %s: deleting VM '%s' failed: %s", j->server_id, j->vm_name,
                        err.msg);
        }
        json_decref(doc);
        return;
    }
    snprintf(path, sizeof(path), "/v1/vms/%s/%s", j->vm_name, verbs[j->kind]);
    code = post(ctx, path, NULL, &doc, &err);
    pthread_mutex_lock(&ctx->lock);
    finish(ctx, j, code ? NULL : doc, code ? &err : NULL);
    pthread_mutex_unlock(&ctx->lock);
    json_decref(doc);
}

static void *worker_main(void *opaque)
{
    struct shim_ctx *ctx = opaque;

    pthread_mutex_lock(&ctx->lock);
    for (;;) {
        struct shim_job *j;
        while (!ctx->jobs_head && !ctx->is_stopping)
            pthread_cond_wait(&ctx->cond, &ctx->lock);
        if (!ctx->jobs_head)
            break; /* stopping with nothing left */
        j = ctx->jobs_head;
        ctx->jobs_head = j->next;
        if (!ctx->jobs_head)
            ctx->jobs_tail = NULL;
        pthread_mutex_unlock(&ctx->lock);
        run_job(ctx, j);
        json_decref(j->body);
        free(j);
        pthread_mutex_lock(&ctx->lock);
        ctx->n_jobs_done++;
    }
    pthread_mutex_unlock(&ctx->lock);
    return NULL;
}

enum nfv_code shim_worker_start(struct shim_ctx *ctx, struct nfv_err *err)
{
    const char *key;
    json_t *s;

    /* Servers a previous run left half-way: builds are queued again from
     * the body kept in their record (a VM vmmgrd already made answers
     * CONFLICT and is adopted), unfinished actions are settled by the
     * next show or list, which read vmmgrd. */
    pthread_mutex_lock(&ctx->lock);
    json_object_foreach(ctx->servers, key, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "status")), "BUILD") == 0) {
            json_t *body = json_object_get(s, "vm_body");
            enqueue(ctx, JOB_CREATE, key, json_string_value(json_object_get(s, "vm_name")),
                    body ? json_deep_copy(body) : json_object());
        } else if (!json_is_null(json_object_get(s, "task_state"))) {
            json_object_set_new(s, "task_state", json_null());
            json_object_set_new(
                s, "status",
                json_string(strcmp(json_string_value(json_object_get(s, "vm_state")), "stopped") ==
                                    0
                                ? "SHUTOFF"
                                : "ACTIVE"));
            save(ctx, key, s);
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    if (pthread_create(&ctx->worker, NULL, worker_main, ctx))
        return NFV_ERR(err, NFV_E_INTERNAL, "cannot start the worker thread");
    ctx->is_worker_started = true;
    return NFV_OK;
}

void shim_worker_stop(struct shim_ctx *ctx)
{
    if (!ctx->is_worker_started)
        return;
    pthread_mutex_lock(&ctx->lock);
    ctx->is_stopping = true;
    pthread_cond_signal(&ctx->cond);
    pthread_mutex_unlock(&ctx->lock);
    pthread_join(ctx->worker, NULL);
    ctx->is_worker_started = false;
}
