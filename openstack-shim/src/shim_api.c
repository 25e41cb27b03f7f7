/*
 * shim_api.c - routing by service prefix and the helpers every route uses
 * (see shim_priv.h). The shim serves three OpenStack services on one
 * port, under the prefixes a devstack cloud uses: /identity (Keystone v3),
 * /compute (Nova v2.1) and /image (Glance v2).
 */
#include "shim_priv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void shim_resp_header(struct shim_resp *resp, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (resp->n_hdrs == SHIM_MAX_HDRS)
        return;
    snprintf(resp->hdr_name[resp->n_hdrs], sizeof(resp->hdr_name[0]), "%s", name);
    va_start(ap, fmt);
    vsnprintf(resp->hdr_value[resp->n_hdrs], sizeof(resp->hdr_value[0]), fmt, ap);
    va_end(ap);
    resp->n_hdrs++;
}

void shim_resp_json(struct shim_resp *resp, int status, json_t *take_body)
{
    json_decref(resp->body);
    resp->status = status;
    resp->body = take_body;
}

void shim_nova_error(struct shim_resp *resp, int status, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    shim_resp_json(resp, status, json_pack("{s:{s:i,s:s}}", kind, "code", status, "message", msg));
}

void shim_nova_error_from(struct shim_resp *resp, const struct nfv_err *err)
{
    switch (err->code) {
    case NFV_E_INVAL:
    case NFV_E_PARSE:
        shim_nova_error(resp, 400, "badRequest", "%s", err->msg);
        break;
    case NFV_E_NOENT:
        shim_nova_error(resp, 404, "itemNotFound", "%s", err->msg);
        break;
    case NFV_E_EXIST:
    case NFV_E_STATE:
    case NFV_E_NOCAP:
        shim_nova_error(resp, 409, "conflictingRequest", "%s", err->msg);
        break;
    case NFV_E_PERM:
        shim_nova_error(resp, 403, "forbidden", "%s", err->msg);
        break;
    case NFV_E_UNREACHABLE:
    case NFV_E_TIMEOUT:
        shim_nova_error(resp, 503, "computeFault", "%s", err->msg);
        break;
    default:
        shim_nova_error(resp, 500, "computeFault", "%s", err->msg);
        break;
    }
}

void shim_unauthorized(struct shim_ctx *ctx, struct shim_resp *resp)
{
    shim_resp_json(resp, 401,
                   json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 401, "title", "Unauthorized",
                             "message", "The request you have made requires authentication."));
    shim_resp_header(resp, "WWW-Authenticate", "Keystone uri=\"%s/identity/v3\"", ctx->base_url);
}

json_t *shim_req_json(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    json_error_t jerr;
    json_t *doc;

    (void)ctx;
    if (!req->body || req->body_size == 0) {
        shim_nova_error(resp, 400, "badRequest", "Malformed request body");
        return NULL;
    }
    doc = json_loadb(req->body, req->body_size, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        shim_nova_error(resp, 400, "badRequest", "Malformed request body");
        return NULL;
    }
    return doc;
}

bool shim_text_ok(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

void shim_shown(const char *s, char *buf, size_t size)
{
    size_t n = 0;

    for (; s && *s && n + 1 < size; s++)
        buf[n++] = isprint((unsigned char)*s) ? *s : '?';
    buf[n] = '\0';
}

bool shim_unknown_key(struct shim_resp *resp, const json_t *obj, const char *const *allowed,
                      const char *field)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        bool is_known = false;
        for (const char *const *a = allowed; *a && !is_known; a++)
            is_known = strcmp(*a, key) == 0;
        if (!is_known) {
            char shown[80];
            shim_shown(key, shown, sizeof(shown));
            shim_nova_error(resp, 400, "badRequest",
                            "Invalid input for field/attribute %s. Additional properties are not "
                            "allowed ('%s' was unexpected)",
                            field, shown);
            return true;
        }
    }
    return false;
}

void shim_random_hex(char *buf, size_t n_bytes)
{
    unsigned char raw[64];
    size_t got = 0;

    if (n_bytes > sizeof(raw))
        n_bytes = sizeof(raw);
    while (got < n_bytes) {
        ssize_t n = getrandom(raw + got, n_bytes - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < n_bytes; i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    explicit_bzero(raw, sizeof(raw));
}

void shim_uuid(char *buf)
{
    char hex[33];

    shim_random_hex(hex, 16);
    hex[12] = '4';                                                               /* version 4 */
    hex[16] = "89ab"[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3]; /* variant */
    snprintf(buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int64_t shim_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void shim_time_format(int64_t t, bool is_micro, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, size, is_micro ? "%Y-%m-%dT%H:%M:%S.000000Z" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

size_t shim_path_split(const char *path, char *buf, size_t buf_size, char **seg, size_t max)
{
    size_t n = 0, len = strlen(path);
    char *p;

    if (len >= buf_size)
        return SIZE_MAX;
    memcpy(buf, path, len + 1);
    p = buf;
    while (*p) {
        while (*p == '/')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == max)
            return SIZE_MAX;
        seg[n++] = p;
        while (*p && *p != '/')
            p++;
    }
    return n;
}

void shim_api_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp)
{
    char buf[1024];
    char *seg[12];
    size_t n = shim_path_split(req->path, buf, sizeof(buf), seg, 12);

    if (n == SIZE_MAX || n == 0) {
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
        return;
    }
    if (strcmp(seg[0], "identity") == 0)
        shim_keystone_route(ctx, req, resp, seg + 1, n - 1);
    else if (strcmp(seg[0], "compute") == 0)
        shim_nova_route(ctx, req, resp, seg + 1, n - 1);
    else if (strcmp(seg[0], "image") == 0)
        shim_image_route(ctx, req, resp, seg + 1, n - 1);
    else
        shim_nova_error(resp, 404, "itemNotFound", "The resource could not be found.");
}
