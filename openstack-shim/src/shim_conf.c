/*
 * shim_conf.c - config, users and images files (see shim_conf.h). Pure.
 */
#include "shim/shim_conf.h"

#include "shim/shim_spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void shim_conf_defaults(struct shim_conf *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8774");
    snprintf(c->vmmgrd_socket, sizeof(c->vmmgrd_socket), "/run/vmmgr/vmmgrd.sock");
    snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/vmmgr-shim");
    snprintf(c->users_file, sizeof(c->users_file), "/etc/vmmgr/shim-users");
    snprintf(c->images_file, sizeof(c->images_file), "/etc/vmmgr/shim-images");
    snprintf(c->vm_prefix, sizeof(c->vm_prefix), "os-");
    snprintf(c->region, sizeof(c->region), "RegionOne");
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->token_ttl_s = 3600;
    c->max_body_bytes = 65536;
    c->max_tokens = 10000;
    c->vmmgrd_timeout_ms = 60000;
    c->keystone_cache_s = 60;
    snprintf(c->keystone_project, sizeof(c->keystone_project), "service");
}

static enum nfv_code set_str(char *dst, size_t size, const char *key, const char *v,
                             struct nfv_err *err)
{
    if (strlen(v) >= size)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': longer than %zu bytes", key, size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return NFV_OK;
}

static enum nfv_code set_uint(unsigned long long *ret, const char *key, const char *v,
                              unsigned long long lo, unsigned long long hi, struct nfv_err *err)
{
    char *end;
    unsigned long long n;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno || n < lo || n > hi)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a number in %llu..%llu", key, v, lo,
                       hi);
    *ret = n;
    return NFV_OK;
}

static enum nfv_code set_abs_path(char *dst, size_t size, const char *key, const char *v,
                                  struct nfv_err *err)
{
    if (v[0] && v[0] != '/')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an absolute path", key, v);
    return set_str(dst, size, key, v, err);
}

enum nfv_code shim_conf_set(struct shim_conf *c, const char *key, const char *v,
                            struct nfv_err *err)
{
    unsigned long long n;

    if (strcmp(key, "listen") == 0) {
        const char *colon = strrchr(v, ':');
        if (!colon || set_uint(&n, key, colon + 1, 1, 65535, err))
            return NFV_ERR(err, NFV_E_INVAL, "'listen': '%s' is not ADDR:PORT", v);
        return set_str(c->listen, sizeof(c->listen), key, v, err);
    }
    if (strcmp(key, "public_url") == 0) {
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return NFV_ERR(err, NFV_E_INVAL, "'public_url': '%s' is not an http(s) URL", v);
        return set_str(c->public_url, sizeof(c->public_url), key, v, err);
    }
    if (strcmp(key, "vmmgrd_socket") == 0)
        return set_abs_path(c->vmmgrd_socket, sizeof(c->vmmgrd_socket), key, v, err);
    if (strcmp(key, "vmmgrd_url") == 0) {
        if (v[0] && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return NFV_ERR(err, NFV_E_INVAL, "'vmmgrd_url': '%s' is not an http(s) URL", v);
        return set_str(c->vmmgrd_url, sizeof(c->vmmgrd_url), key, v, err);
    }
    if (strcmp(key, "vmmgrd_token_file") == 0)
        return set_abs_path(c->vmmgrd_token_file, sizeof(c->vmmgrd_token_file), key, v, err);
    if (strcmp(key, "vmmgrd_cacert") == 0)
        return set_abs_path(c->vmmgrd_cacert, sizeof(c->vmmgrd_cacert), key, v, err);
    if (strcmp(key, "state_dir") == 0)
        return set_abs_path(c->state_dir, sizeof(c->state_dir), key, v, err);
    if (strcmp(key, "users_file") == 0)
        return set_abs_path(c->users_file, sizeof(c->users_file), key, v, err);
    if (strcmp(key, "images_file") == 0)
        return set_abs_path(c->images_file, sizeof(c->images_file), key, v, err);
    if (strcmp(key, "vm_name_prefix") == 0) {
        for (const char *p = v; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                return NFV_ERR(err, NFV_E_INVAL, "'%s': may only hold letters, digits, '.-_'", key);
        if (!isalnum((unsigned char)v[0]))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': must start with a letter or digit", key);
        return set_str(c->vm_prefix, sizeof(c->vm_prefix), key, v, err);
    }
    if (strcmp(key, "region") == 0)
        return set_str(c->region, sizeof(c->region), key, v, err);
    if (strcmp(key, "token_ttl_s") == 0) {
        if (set_uint(&n, key, v, 1, 7 * 86400, err))
            return NFV_E_INVAL;
        c->token_ttl_s = (unsigned)n;
        return NFV_OK;
    }
    if (strcmp(key, "max_body_bytes") == 0) {
        if (set_uint(&n, key, v, 1024, 16 << 20, err))
            return NFV_E_INVAL;
        c->max_body_bytes = (size_t)n;
        return NFV_OK;
    }
    if (strcmp(key, "max_tokens") == 0) {
        if (set_uint(&n, key, v, 16, 1000000, err))
            return NFV_E_INVAL;
        c->max_tokens = (unsigned)n;
        return NFV_OK;
    }
    if (strcmp(key, "vmmgrd_timeout_ms") == 0) {
        if (set_uint(&n, key, v, 100, 600000, err))
            return NFV_E_INVAL;
        c->vmmgrd_timeout_ms = (unsigned)n;
        return NFV_OK;
    }
    if (strcmp(key, "keystone_url") == 0) {
        if (v[0] && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return NFV_ERR(err, NFV_E_INVAL, "'keystone_url': '%s' is not an http(s) URL", v);
        return set_str(c->keystone_url, sizeof(c->keystone_url), key, v, err);
    }
    if (strcmp(key, "keystone_user") == 0)
        return set_str(c->keystone_user, sizeof(c->keystone_user), key, v, err);
    if (strcmp(key, "keystone_project") == 0)
        return set_str(c->keystone_project, sizeof(c->keystone_project), key, v, err);
    if (strcmp(key, "keystone_password_file") == 0)
        return set_abs_path(c->keystone_password_file, sizeof(c->keystone_password_file), key, v,
                            err);
    if (strcmp(key, "keystone_cache_s") == 0) {
        if (set_uint(&n, key, v, 0, 3600, err))
            return NFV_E_INVAL;
        c->keystone_cache_s = (unsigned)n;
        return NFV_OK;
    }
    if (strcmp(key, "log_level") == 0) {
        if (strcmp(v, "err") && strcmp(v, "warn") && strcmp(v, "info") && strcmp(v, "debug"))
            return NFV_ERR(err, NFV_E_INVAL, "'log_level': '%s' is not err, warn, info or debug",
                           v);
        return set_str(c->log_level, sizeof(c->log_level), key, v, err);
    }
    return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown key", key);
}

/* Splits @text into lines and calls @fn on each non-empty, non-comment
 * line (trimmed, NUL-terminated copy). Errors get "FILE:LINE: ". */
typedef enum nfv_code (*line_fn)(void *opaque, char *line, struct nfv_err *err);

static enum nfv_code each_line(const char *file, const char *text, line_fn fn, void *opaque,
                               struct nfv_err *err)
{
    unsigned lineno = 0;
    const char *p = text;

    while (*p) {
        char line[2048];
        size_t len = strcspn(p, "\n");
        char *s, *e;
        lineno++;
        if (len >= sizeof(line)) {
            NFV_ERR(err, NFV_E_PARSE, "line longer than %zu bytes", sizeof(line) - 1);
            nfv_err_prefix(err, "%s:%u", file, lineno);
            return NFV_E_PARSE;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len;
        if (*p == '\n')
            p++;
        s = line;
        if (strchr(s, '#'))
            *strchr(s, '#') = '\0';
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!*s)
            continue;
        if (fn(opaque, s, err)) {
            nfv_err_prefix(err, "%s:%u", file, lineno);
            return err ? err->code : NFV_E_PARSE;
        }
    }
    return NFV_OK;
}

static enum nfv_code conf_line(void *opaque, char *line, struct nfv_err *err)
{
    char *eq = strchr(line, '='), *k = line, *v, *ke;

    if (!eq)
        return NFV_ERR(err, NFV_E_PARSE, "'%s': expected key = value", line);
    *eq = '\0';
    v = eq + 1;
    ke = k + strlen(k);
    while (ke > k && isspace((unsigned char)ke[-1]))
        *--ke = '\0';
    while (isspace((unsigned char)*v))
        v++;
    if (v[0] == '"') {
        size_t n = strlen(v);
        if (n < 2 || v[n - 1] != '"')
            return NFV_ERR(err, NFV_E_PARSE, "'%s': unterminated quote", k);
        v[n - 1] = '\0';
        v++;
    }
    return shim_conf_set(opaque, k, v, err);
}

enum nfv_code shim_conf_parse(struct shim_conf *c, const char *file, const char *text,
                              struct nfv_err *err)
{
    return each_line(file, text, conf_line, c, err);
}

struct vec {
    void *items;
    size_t n, item_size;
};

static void *vec_push(struct vec *v)
{
    char *p = realloc(v->items, (v->n + 1) * v->item_size);
    if (!p)
        return NULL;
    v->items = p;
    memset(p + v->n * v->item_size, 0, v->item_size);
    return p + v->n++ * v->item_size;
}

static bool name_ok(const char *s)
{
    return shim_name_ok(s, strlen(s));
}

/* Up to @max whitespace-separated fields of @line into @f. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    for (char *t = strtok_r(line, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
        f[n++] = t;
    return n;
}

static enum nfv_code user_line(void *opaque, char *line, struct nfv_err *err)
{
    struct vec *v = opaque;
    char *f[5], *save = NULL;
    struct shim_user *u;
    size_t n = split(line, f, 5);

    if (n != 4)
        return NFV_ERR(err, NFV_E_PARSE, "expected USER PROJECT ROLES HASH");
    if (!name_ok(f[0]) || !name_ok(f[1]))
        return NFV_ERR(err, NFV_E_PARSE, "'%s': user and project names are 1..63 of [A-Za-z0-9._-]",
                       name_ok(f[0]) ? f[1] : f[0]);
    if (f[3][0] != '$' || strlen(f[3]) >= sizeof(u->hash))
        return NFV_ERR(err, NFV_E_PARSE, "'%s': the hash must be a crypt(3) string such as $6$...",
                       f[0]);
    u = vec_push(v);
    if (!u)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    memcpy(u->name, f[0], strlen(f[0]) + 1);
    memcpy(u->project, f[1], strlen(f[1]) + 1);
    memcpy(u->hash, f[3], strlen(f[3]) + 1);
    for (char *r = strtok_r(f[2], ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        if (!name_ok(r) || u->n_roles == 4)
            return NFV_ERR(err, NFV_E_PARSE, "'%s': at most 4 roles of [A-Za-z0-9._-]", f[2]);
        memcpy(u->roles[u->n_roles++], r, strlen(r) + 1);
    }
    return NFV_OK;
}

enum nfv_code shim_users_parse(const char *file, const char *text, struct shim_user **ret,
                               size_t *ret_n, struct nfv_err *err)
{
    struct vec v = {.item_size = sizeof(struct shim_user)};

    if (each_line(file, text, user_line, &v, err)) {
        free(v.items);
        return err ? err->code : NFV_E_PARSE;
    }
    *ret = v.items;
    *ret_n = v.n;
    return NFV_OK;
}

static enum nfv_code image_line(void *opaque, char *line, struct nfv_err *err)
{
    struct vec *v = opaque;
    char *f[3];
    struct shim_image *im;
    size_t n = split(line, f, 3);

    if (n < 1 || n > 2)
        return NFV_ERR(err, NFV_E_PARSE, "expected NAME [DISK-PATH]");
    if (!name_ok(f[0]))
        return NFV_ERR(err, NFV_E_PARSE, "'%s': image names are 1..63 of [A-Za-z0-9._-]", f[0]);
    if (n == 2 && (f[1][0] != '/' || strlen(f[1]) >= SHIM_PATH_MAX || strpbrk(f[1], "<>&'\"")))
        return NFV_ERR(err, NFV_E_PARSE, "'%s': the disk must be an absolute path", f[0]);
    im = vec_push(v);
    if (!im)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    memcpy(im->name, f[0], strlen(f[0]) + 1);
    if (n == 2)
        memcpy(im->path, f[1], strlen(f[1]) + 1);
    shim_id_from_name("image", im->name, true, im->id, sizeof(im->id));
    return NFV_OK;
}

enum nfv_code shim_images_parse(const char *file, const char *text, struct shim_image **ret,
                                size_t *ret_n, struct nfv_err *err)
{
    struct vec v = {.item_size = sizeof(struct shim_image)};

    if (each_line(file, text, image_line, &v, err)) {
        free(v.items);
        return err ? err->code : NFV_E_PARSE;
    }
    *ret = v.items;
    *ret_n = v.n;
    return NFV_OK;
}

/* 64-bit FNV-1a over @kind, a separator and @name, from @seed. */
static uint64_t fnv(uint64_t seed, const char *kind, const char *name)
{
    uint64_t h = seed;
    const char *parts[3] = {kind, "\x1f", name};

    for (int i = 0; i < 3; i++)
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ull;
        }
    return h;
}

void shim_id_from_name(const char *kind, const char *name, bool is_uuid, char *buf, size_t buf_size)
{
    uint64_t a = fnv(0xcbf29ce484222325ull, kind, name);
    uint64_t b = fnv(0x84222325cbf29ce4ull, name, kind);

    if (is_uuid)
        snprintf(buf, buf_size,
                 "%08" PRIx32 "-%04" PRIx32 "-5%03" PRIx32 "-8%03" PRIx32 "-%012" PRIx64,
                 (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff, (uint32_t)a & 0xfff,
                 (uint32_t)(b >> 52) & 0xfff, (uint64_t)(b & 0xffffffffffffull));
    else
        snprintf(buf, buf_size, "%016" PRIx64 "%016" PRIx64, a, b);
}
