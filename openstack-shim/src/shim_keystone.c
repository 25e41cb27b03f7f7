/*
 * shim_keystone.c - the Keystone v3 subset the openstack CLI needs
 * (/identity): version documents, password (and token) authentication,
 * token validation and revocation, the service catalog.
 *
 * Tokens are 32 random bytes (getrandom) in hex, kept in memory only with
 * their expiry: a restarted shim forgets them and clients log in again, as
 * after a Keystone key rotation. Passwords are checked with crypt_r(3)
 * against the users file; a wrong user, project or password all give the
 * same 401, so the answer does not tell which one was wrong.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "shim_priv.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfv/log.h"

#define MOD "keystone"

static void ks_error(struct shim_resp *resp, int status, const char *title, const char *msg)
{
    shim_resp_json(
        resp, status,
        json_pack("{s:{s:i,s:s,s:s}}", "error", "code", status, "title", title, "message", msg));
}

static json_t *version_v3(const struct shim_ctx *ctx)
{
    char href[SHIM_PATH_MAX + 32];

    snprintf(href, sizeof(href), "%s/identity/v3/", ctx->base_url);
    return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:[{s:s,s:s}]}", "id", "v3.14", "status", "stable",
                     "updated", "2020-04-07T00:00:00Z", "links", "rel", "self", "href", href,
                     "media-types", "base", "application/json", "type",
                     "application/vnd.openstack.identity-v3+json");
}

static bool has_role(const struct shim_user *u, const char *role)
{
    for (unsigned i = 0; i < u->n_roles; i++)
        if (strcmp(u->roles[i], role) == 0)
            return true;
    return false;
}

/* Constant-time comparison of two NUL-terminated strings. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;

    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool password_ok(const struct shim_user *u, const char *password)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *h;
    bool is_ok;

    if (!cd)
        return false;
    h = crypt_r(password, u->hash, cd);
    is_ok = h && h[0] != '*' && same_secret(h, u->hash);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return is_ok;
}

static void auth_from_user(const struct shim_user *u, struct shim_auth *a)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->user_name, sizeof(a->user_name), "%s", u->name);
    snprintf(a->project_name, sizeof(a->project_name), "%s", u->project);
    shim_id_from_name("user", u->name, false, a->user_id, sizeof(a->user_id));
    shim_id_from_name("project", u->project, false, a->project_id, sizeof(a->project_id));
    for (unsigned i = 0; i < u->n_roles; i++)
        snprintf(a->roles[i], sizeof(a->roles[i]), "%s", u->roles[i]);
    a->n_roles = u->n_roles;
    a->is_admin = has_role(u, "admin");
}

/* Stores a new token for @a (under the lock); the hex token into @out. */
static void token_add(struct shim_ctx *ctx, struct shim_auth *a, char *out)
{
    int64_t now = shim_now();
    struct shim_token *slot = NULL;

    a->issued_s = now;
    a->expires_s = now + ctx->conf.token_ttl_s;
    shim_random_hex(a->audit_id, 11);
    a->audit_id[22] = '\0';
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < ctx->n_tokens && !slot; i++)
        if (ctx->tokens[i].auth.expires_s <= now)
            slot = &ctx->tokens[i];
    if (!slot && ctx->n_tokens < ctx->conf.max_tokens)
        slot = &ctx->tokens[ctx->n_tokens++];
    if (!slot) {
        /* Full of live tokens: the one closest to its expiry goes. */
        slot = &ctx->tokens[0];
        for (size_t i = 1; i < ctx->n_tokens; i++)
            if (ctx->tokens[i].auth.expires_s < slot->auth.expires_s)
                slot = &ctx->tokens[i];
    }
    shim_random_hex(slot->token, SHIM_TOKEN_HEX / 2);
    slot->auth = *a;
    memcpy(out, slot->token, SHIM_TOKEN_HEX + 1);
    pthread_mutex_unlock(&ctx->lock);
}

/* Finds @token (under the lock): its auth copied to *ret. */
static bool token_find(struct shim_ctx *ctx, const char *token, struct shim_auth *ret)
{
    int64_t now = shim_now();
    bool is_found = false;

    if (!token || strlen(token) != SHIM_TOKEN_HEX)
        return false;
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < ctx->n_tokens; i++) {
        if (ctx->tokens[i].auth.expires_s > now && same_secret(ctx->tokens[i].token, token)) {
            *ret = ctx->tokens[i].auth;
            is_found = true;
            break;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return is_found;
}

/* ---- real-Keystone mode ---- */

/* "2026-12-02T16:00:00.000000Z" -> seconds since the epoch (0 if malformed). */
static int64_t parse_time(const char *s)
{
    struct tm tm = {0};

    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

/* The shim's own token at Keystone (cached until shortly before expiry). */
static bool service_token(struct shim_ctx *ctx, char *buf, size_t size)
{
    struct nfv_err err = {0};
    json_t *body, *doc = NULL;
    int64_t now = shim_now(), expires;
    long st = 0;
    bool is_ok;

    pthread_mutex_lock(&ctx->lock);
    is_ok = ctx->keystone_service_token[0] && ctx->keystone_service_expires_s > now + 30;
    if (is_ok)
        snprintf(buf, size, "%s", ctx->keystone_service_token);
    pthread_mutex_unlock(&ctx->lock);
    if (is_ok)
        return true;
    body =
        json_pack("{s:{s:{s:[s],s:{s:{s:s,s:{s:s},s:s}}},s:{s:{s:s,s:{s:s}}}}}", "auth", "identity",
                  "methods", "password", "password", "user", "name", ctx->conf.keystone_user,
                  "domain", "name", "Default", "password", ctx->keystone_password, "scope",
                  "project", "name", ctx->conf.keystone_project, "domain", "name", "Default");
    is_ok = shim_keystone_call(ctx, "POST", "/auth/tokens", NULL, NULL, body, &st, &doc, buf, size,
                               &err) == NFV_OK &&
            st == 201 && buf[0];
    json_decref(body);
    if (!is_ok) {
        NFV_LOG_ERR(MOD, "keystone: the service user '%s' cannot log in (HTTP %ld%s%s)",
                    ctx->conf.keystone_user, st, err.msg[0] ? ", " : "", err.msg);
        json_decref(doc);
        return false;
    }
    expires =
        parse_time(json_string_value(json_object_get(json_object_get(doc, "token"), "expires_at")));
    json_decref(doc);
    pthread_mutex_lock(&ctx->lock);
    snprintf(ctx->keystone_service_token, sizeof(ctx->keystone_service_token), "%s", buf);
    ctx->keystone_service_expires_s = expires ? expires : now + 300;
    pthread_mutex_unlock(&ctx->lock);
    return true;
}

/* Keystone's token document -> a shim_auth valid until @until. */
static bool auth_from_keystone(const json_t *doc, int64_t until, struct shim_auth *a)
{
    const json_t *t = json_object_get(doc, "token"), *r;
    const json_t *u = json_object_get(t, "user"), *p = json_object_get(t, "project");
    int64_t exp = parse_time(json_string_value(json_object_get(t, "expires_at")));
    size_t i;

    memset(a, 0, sizeof(*a));
    if (!json_is_object(u) || !json_is_object(p) || !exp)
        return false; /* unscoped or malformed: no project, no compute */
    snprintf(a->user_id, sizeof(a->user_id), "%s",
             json_string_value(json_object_get(u, "id")) ?: "");
    snprintf(a->user_name, sizeof(a->user_name), "%s",
             json_string_value(json_object_get(u, "name")) ?: "");
    snprintf(a->project_id, sizeof(a->project_id), "%s",
             json_string_value(json_object_get(p, "id")) ?: "");
    snprintf(a->project_name, sizeof(a->project_name), "%s",
             json_string_value(json_object_get(p, "name")) ?: "");
    json_array_foreach(json_object_get(t, "roles"), i, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (!name)
            continue;
        if (strcmp(name, "admin") == 0)
            a->is_admin = true;
        if (a->n_roles < 4)
            snprintf(a->roles[a->n_roles++], sizeof(a->roles[0]), "%s", name);
    }
    a->issued_s = shim_now();
    a->expires_s = exp < until ? exp : until;
    return a->project_id[0] != '\0';
}

/* A token a real Keystone issued: from the cache, else validated there. */
static bool keystone_check(struct shim_ctx *ctx, const char *token, struct shim_auth *ret)
{
    char svc[512];
    struct nfv_err err = {0};
    struct shim_auth a;
    json_t *doc = NULL;
    int64_t now = shim_now();
    long st = 0;
    bool is_ok = false;

    if (!token || !*token || strlen(token) >= sizeof(ctx->ks_cache[0].token))
        return false;
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < ctx->n_ks_cache; i++) {
        struct shim_ks_entry *c = &ctx->ks_cache[i];
        if (c->auth.expires_s > now && same_secret(c->token, token)) {
            *ret = c->auth;
            is_ok = true;
            break;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    if (is_ok)
        return true;
    if (!service_token(ctx, svc, sizeof(svc)))
        return false;
    if (shim_keystone_call(ctx, "GET", "/auth/tokens", svc, token, NULL, &st, &doc, NULL, 0,
                           &err) != NFV_OK ||
        st != 200 || !auth_from_keystone(doc, now + ctx->conf.keystone_cache_s, &a)) {
        if (err.msg[0])
            NFV_LOG_WARN(MOD, "keystone: token validation failed: %s", err.msg);
        json_decref(doc);
        return false;
    }
    json_decref(doc);
    *ret = a;
    if (ctx->conf.keystone_cache_s > 0) {
        struct shim_ks_entry *slot = NULL;
        pthread_mutex_lock(&ctx->lock);
        for (size_t i = 0; i < ctx->n_ks_cache && !slot; i++)
            if (ctx->ks_cache[i].auth.expires_s <= now)
                slot = &ctx->ks_cache[i];
        if (!slot && ctx->n_ks_cache < ctx->conf.max_tokens)
            slot = &ctx->ks_cache[ctx->n_ks_cache++];
        if (slot) {
            snprintf(slot->token, sizeof(slot->token), "%s", token);
            slot->auth = a;
        }
        pthread_mutex_unlock(&ctx->lock);
    }
    return true;
}

bool shim_token_check(struct shim_ctx *ctx, struct shim_req *req)
{
    const char *token = req->header(req->h, "X-Auth-Token");

    if (token_find(ctx, token, &req->auth))
        return true;
    return ctx->conf.keystone_url[0] && keystone_check(ctx, token, &req->auth);
}

static json_t *endpoint(const struct shim_ctx *ctx, const char *service, const char *iface,
                        const char *url)
{
    char id[33], key[128];

    snprintf(key, sizeof(key), "%s/%s", service, iface);
    shim_id_from_name("endpoint", key, false, id, sizeof(id));
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "interface", iface, "region_id",
                     ctx->conf.region, "url", url, "region", ctx->conf.region);
}

static json_t *catalog(const struct shim_ctx *ctx)
{
    static const char *const svc[][3] = {{"compute", "nova", "/compute/v2.1"},
                                         {"image", "glance", "/image"},
                                         {"identity", "keystone", "/identity"}};
    static const char *const ifaces[] = {"public", "internal", "admin"};
    json_t *cat = json_array();

    for (size_t s = 0; s < 3; s++) {
        char url[SHIM_PATH_MAX + 32], id[33];
        json_t *eps = json_array();
        snprintf(url, sizeof(url), "%s%s", ctx->base_url, svc[s][2]);
        for (size_t i = 0; i < 3; i++)
            json_array_append_new(eps, endpoint(ctx, svc[s][0], ifaces[i], url));
        shim_id_from_name("service", svc[s][0], false, id, sizeof(id));
        json_array_append_new(cat, json_pack("{s:o,s:s,s:s,s:s}", "endpoints", eps, "id", id,
                                             "type", svc[s][0], "name", svc[s][1]));
    }
    return cat;
}

static json_t *token_body(const struct shim_ctx *ctx, const struct shim_auth *a, const char *method)
{
    char issued[40], expires[40];
    json_t *roles = json_array();

    shim_time_format(a->issued_s, true, issued, sizeof(issued));
    shim_time_format(a->expires_s, true, expires, sizeof(expires));
    for (unsigned i = 0; i < a->n_roles; i++) {
        char id[33];
        shim_id_from_name("role", a->roles[i], false, id, sizeof(id));
        json_array_append_new(roles, json_pack("{s:s,s:s}", "id", id, "name", a->roles[i]));
    }
    return json_pack("{s:{s:[s],s:{s:{s:s,s:s},s:s,s:s,s:n},s:[s],s:s,s:s,s:{s:{s:s,s:s},s:s,"
                     "s:s},s:b,s:o,s:o}}",
                     "token", "methods", method, "user", "domain", "id", "default", "name",
                     "Default", "id", a->user_id, "name", a->user_name, "password_expires_at",
                     "audit_ids", a->audit_id, "expires_at", expires, "issued_at", issued,
                     "project", "domain", "id", "default", "name", "Default", "id", a->project_id,
                     "name", a->project_name, "is_domain", 0, "roles", roles, "catalog",
                     catalog(ctx));
}

/* The user line for (@user by name or id, @project by name or id). */
static const struct shim_user *user_find(const struct shim_ctx *ctx, const char *user,
                                         bool is_user_id, const char *project, bool is_project_id)
{
    for (size_t i = 0; i < ctx->n_users; i++) {
        const struct shim_user *u = &ctx->users[i];
        char uid[33], pid[33];
        shim_id_from_name("user", u->name, false, uid, sizeof(uid));
        shim_id_from_name("project", u->project, false, pid, sizeof(pid));
        if (strcmp(is_user_id ? uid : u->name, user) != 0)
            continue;
        if (!project || strcmp(is_project_id ? pid : u->project, project) == 0)
            return u;
    }
    return NULL;
}

static void issue(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    json_t *doc = json_loadb(req->body ? req->body : "", req->body_size, 0, NULL);
    const json_t *ident = json_object_get(json_object_get(doc, "auth"), "identity");
    const json_t *methods = json_object_get(ident, "methods");
    const json_t *scope =
        json_object_get(json_object_get(json_object_get(doc, "auth"), "scope"), "project");
    const char *method = json_string_value(json_array_get(methods, 0));
    const char *project = json_string_value(json_object_get(scope, "id"));
    bool is_project_id = project != NULL;
    struct shim_auth a;
    char token[SHIM_TOKEN_HEX + 1];

    if (!project)
        project = json_string_value(json_object_get(scope, "name"));
    if (!json_is_object(doc) || !method || json_array_size(methods) != 1) {
        ks_error(resp, 400, "Bad Request",
                 "Invalid input for field 'identity': expected one of the methods password or "
                 "token.");
        goto cleanup;
    }
    if (strcmp(method, "password") == 0) {
        const json_t *u = json_object_get(json_object_get(ident, "password"), "user");
        const char *id = json_string_value(json_object_get(u, "id"));
        const char *name = json_string_value(json_object_get(u, "name"));
        const char *pw = json_string_value(json_object_get(u, "password"));
        const struct shim_user *su =
            (id || name) && pw ? user_find(ctx, id ? id : name, id != NULL, project, is_project_id)
                               : NULL;
        if (!su || !password_ok(su, pw)) {
            NFV_LOG_INFO(MOD, "authentication failed for a password request");
            shim_unauthorized(ctx, resp);
            goto cleanup;
        }
        auth_from_user(su, &a);
    } else if (strcmp(method, "token") == 0) {
        /* Re-scoping a valid token to one of the user's projects. */
        const char *old = json_string_value(json_object_get(json_object_get(ident, "token"), "id"));
        struct shim_auth cur;
        const struct shim_user *su;
        if (!token_find(ctx, old, &cur) ||
            !(su = user_find(ctx, cur.user_name, false, project ? project : cur.project_name,
                             project ? is_project_id : false))) {
            shim_unauthorized(ctx, resp);
            goto cleanup;
        }
        auth_from_user(su, &a);
    } else {
        ks_error(resp, 401, "Unauthorized", "The request you have made requires authentication.");
        goto cleanup;
    }
    token_add(ctx, &a, token);
    shim_resp_json(resp, 201, token_body(ctx, &a, method));
    shim_resp_header(resp, "X-Subject-Token", "%s", token);
    explicit_bzero(token, sizeof(token));
cleanup:
    json_decref(doc);
}

void shim_keystone_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                         char **seg, size_t n_seg)
{
    bool is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

    if (n_seg == 0 && is_get) {
        shim_resp_json(resp, 300, json_pack("{s:{s:[o]}}", "versions", "values", version_v3(ctx)));
        return;
    }
    if (n_seg == 0 || strcmp(seg[0], "v3") != 0) {
        ks_error(resp, 404, "Not Found", "The resource could not be found.");
        return;
    }
    if (n_seg == 1 && is_get) {
        shim_resp_json(resp, 200, json_pack("{s:o}", "version", version_v3(ctx)));
        return;
    }
    if (n_seg == 3 && strcmp(seg[1], "auth") == 0 && strcmp(seg[2], "tokens") == 0) {
        struct shim_auth sub;
        if (strcmp(req->method, "POST") == 0) {
            issue(ctx, req, resp);
            return;
        }
        if (!shim_token_check(ctx, req)) {
            shim_unauthorized(ctx, resp);
            return;
        }
        if (!token_find(ctx, req->header(req->h, "X-Subject-Token"), &sub)) {
            ks_error(resp, 404, "Not Found", "Could not find token.");
            return;
        }
        if (is_get) {
            shim_resp_json(resp, 200, token_body(ctx, &sub, "password"));
            shim_resp_header(resp, "X-Subject-Token", "%s", req->header(req->h, "X-Subject-Token"));
            return;
        }
        if (strcmp(req->method, "DELETE") == 0) {
            const char *t = req->header(req->h, "X-Subject-Token");
            pthread_mutex_lock(&ctx->lock);
            for (size_t i = 0; i < ctx->n_tokens; i++)
                if (same_secret(ctx->tokens[i].token, t))
                    ctx->tokens[i].auth.expires_s = 0;
            pthread_mutex_unlock(&ctx->lock);
            shim_resp_json(resp, 204, NULL);
            return;
        }
    }
    ks_error(resp, 404, "Not Found", "The resource could not be found.");
}
