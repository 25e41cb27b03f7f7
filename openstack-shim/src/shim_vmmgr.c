/*
 * shim_vmmgr.c - the shim's client of vmmgrd's native API (libcurl),
 * over the Unix socket (CURLOPT_UNIX_SOCKET_PATH) or TCP with a bearer
 * token. One easy handle per call, as vmmgrctl's client does; vmmgrd's
 * answers are JSON objects and its errors {"error":{"code","message"}}
 * carry no outside text (docs/vmmgrd.md), so the shim may pass the message
 * on in a server's fault.
 */
#include "shim_priv.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIM_VMMGR_MAX_ANSWER (64u << 20) /* a 10,000-VM list is a few MB */

struct buf {
    char *data;
    size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *opaque)
{
    struct buf *b = opaque;
    size_t add = size * n;

    if (b->len + add + 1 > SHIM_VMMGR_MAX_ANSWER)
        return 0;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->len + add + 1) * 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

void shim_vmmgr_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum nfv_code shim_vmmgr_call(struct shim_ctx *ctx, const char *method, const char *path,
                              const json_t *body, long *ret_status, json_t **ret_doc,
                              struct nfv_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct buf b = {0};
    char url[SHIM_PATH_MAX + 512], *text = NULL;
    enum nfv_code code = NFV_OK;
    CURLcode cc;

    *ret_doc = NULL;
    *ret_status = 0;
    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "cannot initialise libcurl");
    if (ctx->conf.vmmgrd_url[0]) {
        snprintf(url, sizeof(url), "%s%s", ctx->conf.vmmgrd_url, path);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (ctx->conf.vmmgrd_cacert[0])
            curl_easy_setopt(c, CURLOPT_CAINFO, ctx->conf.vmmgrd_cacert);
    } else {
        snprintf(url, sizeof(url), "http://vmmgrd%s", path);
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ctx->conf.vmmgrd_socket);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ctx->conf.vmmgrd_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (ctx->vmmgrd_token[0]) {
        char auth[sizeof(ctx->vmmgrd_token) + 32];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctx->vmmgrd_token);
        hdrs = curl_slist_append(hdrs, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            goto cleanup;
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        code = NFV_ERR(err, NFV_E_TIMEOUT, "vmmgrd did not answer within %u ms",
                       ctx->conf.vmmgrd_timeout_ms);
        goto cleanup;
    }
    if (cc != CURLE_OK) {
        /* curl's own text names the socket or address: keep it to the log. */
        code = NFV_ERR(err, NFV_E_UNREACHABLE, "vmmgrd cannot be reached (curl error %d)", (int)cc);
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    if (b.len) {
        *ret_doc = json_loadb(b.data, b.len, 0, NULL);
        if (!*ret_doc)
            code = NFV_ERR(err, NFV_E_PARSE, "vmmgrd sent an answer that is not JSON (HTTP %ld)",
                           *ret_status);
    }
cleanup:
    free(b.data);
    free(text);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return code;
}

enum nfv_code shim_vmmgr_error(long status, const json_t *doc, struct nfv_err *err)
{
    const json_t *e = json_object_get(doc, "error");
    const char *name = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    enum nfv_code code = name ? nfv_code_from_name(name) : NFV_E__COUNT;

    if (code == NFV_E__COUNT || code == NFV_OK)
        code = status == 404 ? NFV_E_NOENT : status == 409 ? NFV_E_EXIST : NFV_E_INTERNAL;
    return NFV_ERR(err, code, "%s", msg ? msg : nfv_code_describe(code));
}
