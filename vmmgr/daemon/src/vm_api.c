/*
 * vm_api.c - native API routing (see vm_api.h).
 *
 * Routes are a table of (method, pattern, handler); a pattern segment "*"
 * captures one path segment (a host name, an operation id). An unknown path
 * is 404 and a known path with the wrong method 405, both with a JSON error
 * body, so clients never have to parse HTML.
 */
#include "vm_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_migrate.h"
#include "vm_audit.h"
#include "vm_net.h"
#include "vm/vm_req.h"

#define MAX_SEGS     8
#define MAX_CAPTURES 2

struct route_args {
    struct vm_daemon *d;
    const struct vm_http_request *req;
    const char *cap[MAX_CAPTURES];
    json_t *body; /* parsed body for POST/PATCH/PUT */
};

typedef enum nfv_code (*route_fn)(struct route_args *a, struct vm_http_response *resp,
                                  struct nfv_err *err);

struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
    enum vm_auth_role role; /* the least role that may call it (vm_auth.h) */
};

static const char *query_str(const struct vm_http_request *req, const char *key)
{
    return json_string_value(json_object_get(req->query, key));
}

/* Parses a non-negative integer query argument; absent leaves *ret alone. */
static enum nfv_code query_uint(const struct vm_http_request *req, const char *key,
                                unsigned long long max, unsigned long long *ret,
                                struct nfv_err *err)
{
    const char *v = query_str(req, key);
    char *end;
    unsigned long long n;

    if (!v)
        return NFV_OK;
    if (!*v || *v == '-' || *v == '+')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a non-negative integer", key, v);
    n = strtoull(v, &end, 10);
    if (*end)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a non-negative integer", key, v);
    if (n > max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %llu is larger than %llu", key, n, max);
    *ret = n;
    return NFV_OK;
}

/* Rejects query arguments a route does not know (typos must not be ignored). */
static enum nfv_code query_check(const struct vm_http_request *req, const char *const *allowed,
                                 struct nfv_err *err)
{
    return vm_req_check_fields(req->query, allowed, err);
}

static const char *const no_args[] = {NULL};

static void ok(struct vm_http_response *resp, int status, json_t *take_v)
{
    resp->status = status;
    resp->json = take_v;
}

static enum nfv_code r_status(struct route_args *a, struct vm_http_response *resp,
                              struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_status(a->d, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_events(struct route_args *a, struct vm_http_response *resp,
                              struct nfv_err *err)
{
    static const char *const args[] = {"since", "limit", "wait", NULL};
    unsigned long long since = 0, limit = 1000, wait = 0;
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, args, err)) ||
        (code = query_uint(a->req, "since", INT64_MAX, &since, err)) ||
        (code = query_uint(a->req, "limit", 10000, &limit, err)) ||
        (code = query_uint(a->req, "wait", 3600, &wait, err)))
        return code;
    if ((code = vm_daemon_events(a->d, (int64_t)since, (unsigned)limit, (unsigned)wait, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_metrics(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    char *text;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_metrics(a->d, &text, err)))
        return code;
    resp->status = 200;
    resp->text = text;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return NFV_OK;
}

static enum nfv_code r_host_list(struct route_args *a, struct vm_http_response *resp,
                                 struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_host_list(a->d, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_host_add(struct route_args *a, struct vm_http_response *resp,
                                struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_host_add(a->d, a->body, &v, err)))
        return code;
    ok(resp, 201, v);
    return NFV_OK;
}

static enum nfv_code r_host_show(struct route_args *a, struct vm_http_response *resp,
                                 struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_host_show(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_host_update(struct route_args *a, struct vm_http_response *resp,
                                   struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_host_update(a->d, a->cap[0], a->body, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_host_remove(struct route_args *a, struct vm_http_response *resp,
                                   struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_host_remove(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

/* A list route whose only query argument is ?limit=N (default 100). */
typedef enum nfv_code (*limited_list_fn)(struct vm_daemon *d, unsigned limit, json_t **ret,
                                         struct nfv_err *err);

static enum nfv_code limited_list(struct route_args *a, struct vm_http_response *resp,
                                  limited_list_fn list, struct nfv_err *err)
{
    static const char *const args[] = {"limit", NULL};
    unsigned long long limit = 100;
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, args, err)) ||
        (code = query_uint(a->req, "limit", 100000, &limit, err)) ||
        (code = list(a->d, (unsigned)limit, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_op_list(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    return limited_list(a, resp, vm_daemon_op_list, err);
}

static enum nfv_code r_op_show(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    char *end;
    long long id = strtoll(a->cap[0], &end, 10);
    json_t *v;
    enum nfv_code code;

    if (*end || id <= 0)
        return NFV_ERR(err, NFV_E_INVAL, "'id': '%s' is not an operation id", a->cap[0]);
    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_op_show(a->d, id, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_heal_status(struct route_args *a, struct vm_http_response *resp,
                                   struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_heal_status(a->d, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_heal_history(struct route_args *a, struct vm_http_response *resp,
                                    struct nfv_err *err)
{
    return limited_list(a, resp, vm_daemon_heal_history, err);
}

/* POST /v1/hosts/NAME/fence and /recover. */
static enum nfv_code r_host_action(struct route_args *a, struct vm_http_response *resp,
                                   struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)))
        return code;
    if (strcmp(a->cap[1], "fence") == 0)
        code = vm_daemon_host_fence(a->d, a->cap[0], a->body, &v, err);
    else if (strcmp(a->cap[1], "recover") == 0)
        code = a->body && json_object_size(a->body)
                   ? NFV_ERR(err, NFV_E_INVAL, "'%s': recover takes no body fields",
                             json_object_iter_key(json_object_iter(a->body)))
                   : vm_daemon_host_recover(a->d, a->cap[0], &v, err);
    else
        code = NFV_ERR(err, NFV_E_NOENT, "'%s': no such host action (fence, recover, drain)",
                       a->cap[1]);
    if (code)
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_audit(struct route_args *a, struct vm_http_response *resp,
                             struct nfv_err *err)
{
    return limited_list(a, resp, vm_daemon_audit_list, err);
}

static enum nfv_code r_vm_list(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    enum nfv_code code;
    char *text;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_vm_list_text(a->d, &text, err)))
        return code;
    resp->status = 200;
    resp->text = text;
    resp->content_type = "application/json";
    return NFV_OK;
}

/* ?async=1: answer 202 {"operation_id"} at once (see vm_daemon_vm_create). */
static enum nfv_code query_async(const struct vm_http_request *req, bool *ret, struct nfv_err *err)
{
    static const char *const args[] = {"async", NULL};
    unsigned long long v = 0;
    enum nfv_code code;

    if ((code = query_check(req, args, err)) || (code = query_uint(req, "async", 1, &v, err)))
        return code;
    *ret = v == 1;
    return NFV_OK;
}

static int create_status(const json_t *v)
{
    /* Only the asynchronous answer has an href to poll; finished creates
     * carry their operation_id too. */
    if (json_object_get(v, "href"))
        return 202;
    return json_is_true(json_object_get(v, "dry_run")) ? 200 : 201;
}

static enum nfv_code r_vm_create(struct route_args *a, struct vm_http_response *resp,
                                 struct nfv_err *err)
{
    json_t *v;
    bool is_async = false;
    enum nfv_code code;

    if ((code = query_async(a->req, &is_async, err)) ||
        (code = vm_daemon_vm_create(a->d, a->body, is_async, &v, err)))
        return code;
    ok(resp, create_status(v), v);
    return NFV_OK;
}

static enum nfv_code r_vm_show(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_vm_show(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_vm_pins(struct route_args *a, struct vm_http_response *resp,
                               struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_vm_pins(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_vm_action(struct route_args *a, struct vm_http_response *resp,
                                 struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_vm_action(a->d, a->cap[0], a->cap[1], a->body, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_vm_delete(struct route_args *a, struct vm_http_response *resp,
                                 struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_vm_delete(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_group_list(struct route_args *a, struct vm_http_response *resp,
                                  struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = vm_daemon_group_list(a->d, &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_group_create(struct route_args *a, struct vm_http_response *resp,
                                    struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    bool is_async = false;

    if ((code = query_async(a->req, &is_async, err)) ||
        (code = vm_daemon_group_create(a->d, a->body, is_async, &v, err)))
        return code;
    ok(resp, create_status(v), v);
    return NFV_OK;
}

static enum nfv_code r_group_show(struct route_args *a, struct vm_http_response *resp,
                                  struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_group_show(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

/* ---- issue 15: networks and the switch (vm_net.c) ---- */

/* A route whose handler takes the daemon and answers one object. */
typedef enum nfv_code (*obj_fn)(struct vm_daemon *d, json_t **ret, struct nfv_err *err);

static enum nfv_code obj_route(struct route_args *a, struct vm_http_response *resp, obj_fn fn,
                               int status, struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = fn(a->d, &v, err)))
        return code;
    ok(resp, status, v);
    return NFV_OK;
}

/* The same with the captured name. */
typedef enum nfv_code (*named_fn)(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err);

static enum nfv_code named_route(struct route_args *a, struct vm_http_response *resp, named_fn fn,
                                 struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) || (code = fn(a->d, a->cap[0], &v, err)))
        return code;
    ok(resp, 200, v);
    return NFV_OK;
}

static enum nfv_code r_net_create(struct route_args *a, struct vm_http_response *resp,
                                  struct nfv_err *err)
{
    json_t *v;
    enum nfv_code code;

    if ((code = query_check(a->req, no_args, err)) ||
        (code = vm_daemon_net_create(a->d, a->body, &v, err)))
        return code;
    ok(resp, 201, v);
    return NFV_OK;
}

static enum nfv_code r_net_list(struct route_args *a, struct vm_http_response *resp,
                                struct nfv_err *err)
{
    return obj_route(a, resp, vm_daemon_net_list, 200, err);
}

static enum nfv_code r_net_show(struct route_args *a, struct vm_http_response *resp,
                                struct nfv_err *err)
{
    return named_route(a, resp, vm_daemon_net_show, err);
}

static enum nfv_code r_net_delete(struct route_args *a, struct vm_http_response *resp,
                                  struct nfv_err *err)
{
    return named_route(a, resp, vm_daemon_net_delete, err);
}

static enum nfv_code r_switch_show(struct route_args *a, struct vm_http_response *resp,
                                   struct nfv_err *err)
{
    return obj_route(a, resp, vm_daemon_switch_show, 200, err);
}

static enum nfv_code r_switch_repair(struct route_args *a, struct vm_http_response *resp,
                                     struct nfv_err *err)
{
    return obj_route(a, resp, vm_daemon_switch_repair, 200, err);
}

/* ---- issue 16: re-pin, migrate, drain, defragment (vm_migrate.h) ---- */

static enum nfv_code r_modify(struct route_args *a, struct vm_http_response *resp,
                              struct nfv_err *err)
{
    const char *p = a->req->path;
    json_t *v = NULL;
    bool is_async = false;
    enum nfv_code code;

    size_t pl = strlen(p);
    bool is_migrate = pl > 8 && strcmp(p + pl - 8, "/migrate") == 0;

    if ((code =
             is_migrate ? query_async(a->req, &is_async, err) : query_check(a->req, no_args, err)))
        return code;
    if (strncmp(p, "/v1/cluster/", 12) == 0)
        code = vm_daemon_defragment(a->d, a->body, false, &v, err);
    else if (strncmp(p, "/v1/hosts/", 10) == 0)
        code = vm_daemon_host_drain(a->d, a->cap[0], a->body, false, &v, err);
    else if (strcmp(a->req->method, "GET") == 0)
        code = vm_daemon_vm_migration(a->d, a->cap[0], &v, err);
    else if (!is_migrate)
        code = vm_daemon_vm_repin(a->d, a->cap[0], a->body, &v, err);
    else
        code = vm_daemon_vm_migrate(a->d, a->cap[0], a->body, is_async, &v, err);
    if (code)
        return code;
    ok(resp, json_object_get(v, "href") ? 202 : 200, v);
    return NFV_OK;
}

/* Roles: reader GETs, operator changes VMs and groups, admin changes hosts. */
static const struct route routes[] = {
    {"GET", "/v1/vms", r_vm_list, VM_AUTH_READER},
    {"POST", "/v1/vms", r_vm_create, VM_AUTH_OPERATOR},
    {"GET", "/v1/vms/*", r_vm_show, VM_AUTH_READER},
    {"DELETE", "/v1/vms/*", r_vm_delete, VM_AUTH_OPERATOR},
    {"GET", "/v1/vms/*/pins", r_vm_pins, VM_AUTH_READER},
    {"POST", "/v1/vms/*/repin", r_modify, VM_AUTH_OPERATOR},     /* issue 16 */
    {"POST", "/v1/vms/*/migrate", r_modify, VM_AUTH_OPERATOR},   /* issue 16 */
    {"GET", "/v1/vms/*/migration", r_modify, VM_AUTH_READER},    /* issue 16 */
    {"POST", "/v1/hosts/*/drain", r_modify, VM_AUTH_ADMIN},      /* issue 16 */
    {"POST", "/v1/cluster/defragment", r_modify, VM_AUTH_ADMIN}, /* issue 16 */
    {"POST", "/v1/vms/*/*", r_vm_action, VM_AUTH_OPERATOR},
    {"GET", "/v1/groups", r_group_list, VM_AUTH_READER},
    {"POST", "/v1/groups", r_group_create, VM_AUTH_OPERATOR},
    {"GET", "/v1/groups/*", r_group_show, VM_AUTH_READER},
    {"GET", "/v1/status", r_status, VM_AUTH_READER},
    {"GET", "/v1/events", r_events, VM_AUTH_READER},
    {"GET", "/metrics", r_metrics, VM_AUTH_READER},
    {"GET", "/v1/hosts", r_host_list, VM_AUTH_READER},
    {"POST", "/v1/hosts", r_host_add, VM_AUTH_ADMIN},
    {"GET", "/v1/hosts/*", r_host_show, VM_AUTH_READER},
    {"PATCH", "/v1/hosts/*", r_host_update, VM_AUTH_ADMIN},
    {"DELETE", "/v1/hosts/*", r_host_remove, VM_AUTH_ADMIN},
    {"POST", "/v1/hosts/*/*", r_host_action, VM_AUTH_ADMIN},
    {"GET", "/v1/heal", r_heal_status, VM_AUTH_READER},
    {"GET", "/v1/heal/history", r_heal_history, VM_AUTH_READER},
    {"GET", "/v1/operations", r_op_list, VM_AUTH_READER},
    {"GET", "/v1/operations/*", r_op_show, VM_AUTH_READER},
    {"GET", "/v1/audit", r_audit, VM_AUTH_ADMIN},
    /* issue 15 (vm_net.c): networks are admin's, like hosts; a repair only
     * makes the switch agree with what vmmgrd already decided. */
    {"GET", "/v1/networks", r_net_list, VM_AUTH_READER},
    {"POST", "/v1/networks", r_net_create, VM_AUTH_ADMIN},
    {"GET", "/v1/networks/*", r_net_show, VM_AUTH_READER},
    {"DELETE", "/v1/networks/*", r_net_delete, VM_AUTH_ADMIN},
    {"GET", "/v1/switch", r_switch_show, VM_AUTH_READER},
    {"POST", "/v1/switch/repair", r_switch_repair, VM_AUTH_OPERATOR},
};

/* Splits @path into at most MAX_SEGS segments in @buf; returns the count or -1. */
static int split_path(const char *path, char *buf, size_t buf_size, char **segs)
{
    int n = 0;
    char *save = NULL, *tok;

    if (strlen(path) >= buf_size || path[0] != '/')
        return -1;
    memcpy(buf, path, strlen(path) + 1);
    for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGS)
            return -1;
        segs[n++] = tok;
    }
    return n;
}

/* Matches @segs against @pattern; fills captures. */
static bool route_match(const char *pattern, char **segs, int n_segs, const char **cap)
{
    char pbuf[128], *psegs[MAX_SEGS];
    int n = split_path(pattern, pbuf, sizeof(pbuf), psegs), n_cap = 0;

    if (n != n_segs)
        return false;
    for (int i = 0; i < n; i++) {
        if (strcmp(psegs[i], "*") == 0) {
            if (n_cap < MAX_CAPTURES)
                cap[n_cap++] = segs[i];
        } else if (strcmp(psegs[i], segs[i]) != 0) {
            return false;
        }
    }
    return true;
}

static void fail(struct vm_http_response *resp, int status, enum nfv_code code, const char *msg)
{
    json_decref(resp->json);
    free(resp->text);
    resp->text = NULL;
    resp->status = status ? status : nfv_code_http(code);
    resp->json = vm_http_error_json(code, msg);
}

/* Counts the answer and, for anything but a read, records it in the audit
 * trail: who, what (method and path), the status and the error code. */
static void finish(struct vm_daemon *d, const struct vm_http_request *req,
                   const struct vm_http_response *resp)
{
    const char *result = "ok";

    vm_daemon_count_http(d, resp->status);
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return;
    if (resp->status >= 400) {
        const json_t *e = json_object_get(resp->json, "error");
        result = json_string_value(json_object_get(e, "code"));
        if (!result)
            result = "error";
    }
    vm_daemon_audit(d, req->who, req->method, req->path, resp->status, result);
}

void vm_api_handle(void *opaque, const struct vm_http_request *req, struct vm_http_response *resp)
{
    struct route_args a = {.d = opaque, .req = req};
    struct nfv_err err = {0};
    char buf[1024], *segs[MAX_SEGS];
    const struct route *found = NULL;
    bool is_path_known = false;
    int n_segs = split_path(req->path, buf, sizeof(buf), segs);
    enum nfv_code code;

    for (size_t i = 0; n_segs >= 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *cap[MAX_CAPTURES] = {0};
        if (!route_match(routes[i].pattern, segs, n_segs, cap))
            continue;
        is_path_known = true;
        if (strcmp(routes[i].method, req->method) == 0) {
            found = &routes[i];
            memcpy(a.cap, cap, sizeof(cap));
            break;
        }
    }
    if (!found) {
        char msg[256];
        if (is_path_known) {
            snprintf(msg, sizeof(msg), "'%s': method %s is not allowed here", req->path,
                     req->method);
            fail(resp, 405, NFV_E_UNSUPPORTED, msg);
        } else {
            snprintf(msg, sizeof(msg), "'%.200s': no such API path", req->path);
            fail(resp, 404, NFV_E_NOENT, msg);
        }
        finish(a.d, req, resp);
        return;
    }
    if (req->role < found->role) {
        char msg[256];
        snprintf(msg, sizeof(msg), "'%s': %s %s needs the %s role; %s has %s", req->path,
                 req->method, found->pattern, vm_auth_role_to_string(found->role),
                 req->who ? req->who : "the caller", vm_auth_role_to_string(req->role));
        fail(resp, 403, NFV_E_PERM, msg);
        finish(a.d, req, resp);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        vm_daemon_is_recovering(a.d)) {
        fail(resp, 503, NFV_E_UNREACHABLE,
             "vmmgrd is finishing start-up recovery (host connections, journal, reconcile); "
             "retry in a moment ('vmmgrctl status' shows 'recovering')");
        finish(a.d, req, resp);
        return;
    }
    if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PATCH") == 0 ||
        strcmp(req->method, "PUT") == 0) {
        if (vm_req_parse_object(req->body, req->body_size, &a.body, &err) != NFV_OK) {
            fail(resp, 0, err.code, err.msg);
            finish(a.d, req, resp);
            return;
        }
    } else if (req->body_size) {
        fail(resp, 0, NFV_E_INVAL, "'body': this request takes no body");
        finish(a.d, req, resp);
        return;
    }
    code = found->fn(&a, resp, &err);
    json_decref(a.body);
    if (code != NFV_OK)
        fail(resp, 0, code, err.msg[0] ? err.msg : nfv_code_describe(code));
    finish(a.d, req, resp);
}
