/*
 * shim_priv.h - vmmgr-shim's service: the context, the request and answer
 * types the HTTP adapter (shim_http.c) hands to the routes, and the helpers
 * the routes share.
 *
 * Layout (calls go down this list):
 *   shim_http.c      libmicrohttpd adapter: body bounds, shim_req -> shim_api_route
 *   shim_api.c       routing by service prefix, authentication, error bodies
 *   shim_keystone.c  /identity: version documents, tokens
 *   shim_nova.c      /compute: versions, flavors, server groups, hypervisors
 *   shim_servers.c   /compute servers and actions, and the worker thread
 *   shim_image.c     /image: the images file as a Glance v2 subset
 *   shim_vmmgr.c     libcurl adapter: vmmgrd's native API
 *   shim_store.c     SQLite adapter: the shim's own objects
 * Pure pieces with public headers: shim_mv (microversions), shim_spec
 * (extra specs -> pin request), shim_conf (files).
 *
 * Locking: one mutex (ctx->lock) guards tokens, the object maps and the
 * store. No call to vmmgrd is made while holding it.
 */
#ifndef SHIM_PRIV_H
#define SHIM_PRIV_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "shim/shim_conf.h"

#define SHIM_TOKEN_HEX 64 /* 32 random bytes */
#define SHIM_MAX_HDRS  12

/* Who is calling (a validated token). */
struct shim_auth {
    char user_id[33], user_name[SHIM_NAME_MAX];
    char project_id[33], project_name[SHIM_NAME_MAX];
    char roles[4][SHIM_NAME_MAX];
    unsigned n_roles;
    bool is_admin;
    int64_t issued_s, expires_s;
    char audit_id[23];
};

struct shim_token {
    char token[SHIM_TOKEN_HEX + 1];
    struct shim_auth auth;
};

/* A token a real Keystone issued (Fernet, up to ~250 bytes), once validated. */
struct shim_ks_entry {
    char token[512];
    struct shim_auth auth; /* expires_s: min(token expiry, validation + keystone_cache_s) */
};

struct shim_store;
struct shim_job;

struct shim_ctx {
    struct shim_conf conf;
    char base_url[SHIM_PATH_MAX]; /* public_url or http://LISTEN */
    struct shim_user *users;
    size_t n_users;
    struct shim_image *images;
    size_t n_images;
    char vmmgrd_token[512];             /* bearer token for vmmgrd over TCP, "" = none */
    char keystone_password[256];        /* real-Keystone mode: the service user's */
    char keystone_service_token[512];   /* ... its current token, "" = none yet */
    int64_t keystone_service_expires_s; /* ... and when it expires */
    struct shim_ks_entry *ks_cache;     /* [n_ks_cache] tokens validated by Keystone */
    size_t n_ks_cache;

    pthread_mutex_t lock;
    struct shim_token *tokens; /* [n_tokens], unordered; expired ones are reused */
    size_t n_tokens;
    json_t *flavors; /* id -> flavor record */
    json_t *groups;  /* id -> server group record */
    json_t *servers; /* id -> server record */
    json_t *hosts;   /* vmmgr host name -> {"id": int, "uuid"} */
    int64_t next_host_id;
    struct shim_store *store;

    /* The worker: vmmgrd calls of creates and actions, in order. */
    pthread_t worker;
    bool is_worker_started;
    pthread_cond_t cond;
    struct shim_job *jobs_head, *jobs_tail;
    bool is_stopping;
    uint64_t n_jobs_done;
};

/* A request as the routes see it (the adapter owns every pointer). */
struct shim_req {
    const char *method;
    const char *path;
    const char *body;
    size_t body_size;
    const char *(*header)(void *h, const char *name); /* NULL if absent */
    const char *(*arg)(void *h, const char *name);    /* query argument, NULL if absent */
    void *h;
    /* Filled by the router. */
    struct shim_auth auth;
    int mv; /* negotiated compute microversion */
};

struct shim_resp {
    int status;
    json_t *body; /* owned; NULL = empty body */
    unsigned n_hdrs;
    char hdr_name[SHIM_MAX_HDRS][48];
    char hdr_value[SHIM_MAX_HDRS][SHIM_PATH_MAX + 64];
};

/* shim_api.c */
void shim_api_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp);
void shim_resp_header(struct shim_resp *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void shim_resp_json(struct shim_resp *resp, int status, json_t *take_body);
/* Nova's error body {"@kind": {"code": status, "message": ...}}. */
void shim_nova_error(struct shim_resp *resp, int status, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An nfv_err as a Nova error (400 badRequest for INVAL, 404 itemNotFound, ...). */
void shim_nova_error_from(struct shim_resp *resp, const struct nfv_err *err);
/* Keystone's 401 with WWW-Authenticate. */
void shim_unauthorized(struct shim_ctx *ctx, struct shim_resp *resp);
/* Parses the JSON object body; on failure answers 400 and returns NULL. */
json_t *shim_req_json(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp);
/* 1..@max bytes with no control character (C0 or DEL). */
bool shim_text_ok(const char *s, size_t max);
/* @s for a message: printable characters only (others as '?'), cut to fit. */
void shim_shown(const char *s, char *buf, size_t size);
/* Answers Nova's 400 and returns true when @obj has a key outside the
 * NULL-terminated @allowed (@field names the object in the message). */
bool shim_unknown_key(struct shim_resp *resp, const json_t *obj, const char *const *allowed,
                      const char *field);
/* Random UUID (getrandom) in @buf[37]. */
void shim_uuid(char *buf);
/* Random hex of @n_bytes bytes into @buf (2 * n + 1). */
void shim_random_hex(char *buf, size_t n_bytes);
/* ISO 8601 UTC "2026-11-21T04:57:52Z" (@is_micro: "...52.000000Z"). */
void shim_time_format(int64_t t, bool is_micro, char *buf, size_t size);
int64_t shim_now(void);
/* Splits @path into at most @max segments (pointers into @buf). */
size_t shim_path_split(const char *path, char *buf, size_t buf_size, char **seg, size_t max);

/* shim_keystone.c */
void shim_keystone_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                         char **seg, size_t n_seg);
/* Looks the X-Auth-Token up: true and req->auth filled when valid. */
bool shim_token_check(struct shim_ctx *ctx, struct shim_req *req);

/* shim_nova.c */
void shim_nova_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp, char **seg,
                     size_t n_seg);
/* The flavor record @id (borrowed, under ctx->lock) or NULL. */
json_t *shim_flavor_find(struct shim_ctx *ctx, const char *id);
/* The server group record @id visible to @auth (borrowed, under lock) or NULL. */
json_t *shim_group_find(struct shim_ctx *ctx, const struct shim_auth *auth, const char *id);
/* Host name -> hypervisor record {"id","uuid"} (created on first sight; under lock). */
json_t *shim_host_record(struct shim_ctx *ctx, const char *name);

/* shim_servers.c */
void shim_servers_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                        char **seg, size_t n_seg);
enum nfv_code shim_worker_start(struct shim_ctx *ctx, struct nfv_err *err);
void shim_worker_stop(struct shim_ctx *ctx);

/* shim_image.c */
void shim_image_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                      char **seg, size_t n_seg);
const struct shim_image *shim_image_find(const struct shim_ctx *ctx, const char *id_or_name);

/* shim_vmmgr.c: one call to vmmgrd. *ret_status is the HTTP status and
 * *ret_doc the parsed answer (owned, may be NULL). Transport failures are
 * NFV_E_UNREACHABLE / NFV_E_TIMEOUT; an error answer is NFV_OK with its
 * status (see shim_vmmgr_error). */
enum nfv_code shim_vmmgr_call(struct shim_ctx *ctx, const char *method, const char *path,
                              const json_t *body, long *ret_status, json_t **ret_doc,
                              struct nfv_err *err);
/* Real-Keystone mode: @method conf.keystone_url + @path with the optional
 * X-Auth-Token / X-Subject-Token; an answer's X-Subject-Token goes to
 * @ret_subject (may be NULL). */
enum nfv_code shim_keystone_call(struct shim_ctx *ctx, const char *method, const char *path,
                                 const char *auth_token, const char *subject_token,
                                 const json_t *body, long *ret_status, json_t **ret_doc,
                                 char *ret_subject, size_t subject_size, struct nfv_err *err);
/* vmmgrd's error answer as an nfv_err (its code and message, which
 * vmmgrd keeps free of outside text). */
enum nfv_code shim_vmmgr_error(long status, const json_t *doc, struct nfv_err *err);
void shim_vmmgr_global_init(void);

/* shim_store.c */
enum nfv_code shim_store_open(const char *path, struct shim_store **ret, struct nfv_err *err);
void shim_store_close(struct shim_store *s);
/* Loads every object of @kind into @into (id -> doc). */
enum nfv_code shim_store_load(struct shim_store *s, const char *kind, json_t *into,
                              struct nfv_err *err);
enum nfv_code shim_store_put(struct shim_store *s, const char *kind, const char *id,
                             const json_t *doc, struct nfv_err *err);
enum nfv_code shim_store_del(struct shim_store *s, const char *kind, const char *id,
                             struct nfv_err *err);

#endif /* SHIM_PRIV_H */
