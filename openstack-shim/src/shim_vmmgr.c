/*
 * shim_vmmgr.c - the shim's client of vmmgrd's native API (libcurl),
 * over the Unix socket (CURLOPT_UNIX_SOCKET_PATH) or TCP with a bearer
 * token. One easy handle per call, as vmmgrctl's client does; vmmgrd's
 * answers are JSON objects and its errors {"error":{"code","message"}}
 * carry no outside text (docs/vmmgrd.md), so the shim may pass the message
 * on in a server's fault.
 *
 * The same transport serves real-Keystone mode (shim_keystone_call): the
 * shim's service token and the validation of a caller's token.
 */
#include "shim_priv.h"

#include "shim/shim_buf.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SHIM_VMMGR_MAX_ANSWER (64u << 20) /* a 10,000-VM list is a few MB */

static size_t on_data(char *ptr, size_t size, size_t n, void *opaque)
{
    return shim_buf_append(opaque, ptr, size * n, SHIM_VMMGR_MAX_ANSWER) ? size * n : 0;
}

void shim_vmmgr_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* X-Subject-Token of an answer, into the caller's buffer. */
struct subject {
    char *buf;
    size_t size;
};

static size_t on_header(char *ptr, size_t size, size_t n, void *opaque)
{
    struct subject *s = opaque;
    size_t len = size * n;
    static const char name[] = "x-subject-token:";

    if (s->buf && len > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        const char *v = ptr + sizeof(name) - 1;
        size_t vlen = len - (sizeof(name) - 1);
        while (vlen && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        if (vlen < s->size) {
            memcpy(s->buf, v, vlen);
            s->buf[vlen] = '\0';
        }
    }
    return len;
}

/* One call: @url over TCP, or @path on @socket_path when given. */
static enum nfv_code request(struct shim_ctx *ctx, const char *what, const char *socket_path,
                             const char *url_in, const char *method, const char *bearer,
                             const char *auth_token, const char *subject_token, const json_t *body,
                             long *ret_status, json_t **ret_doc, struct subject *subject,
                             struct nfv_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct shim_buf b = {0};
    char url[SHIM_PATH_MAX + 512], *text = NULL;
    enum nfv_code code = NFV_OK;
    CURLcode cc;

    *ret_doc = NULL;
    *ret_status = 0;
    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "cannot initialise libcurl");
    snprintf(url, sizeof(url), "%s", url_in);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (socket_path)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    else if (strcmp(what, "vmmgrd") == 0 && ctx->conf.vmmgrd_cacert[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, ctx->conf.vmmgrd_cacert);
    if (subject) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, subject);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ctx->conf.vmmgrd_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (bearer && bearer[0]) {
        char auth[600];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        hdrs = curl_slist_append(hdrs, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    if (auth_token) {
        char h[600];
        snprintf(h, sizeof(h), "X-Auth-Token: %s", auth_token);
        hdrs = curl_slist_append(hdrs, h);
        explicit_bzero(h, sizeof(h));
    }
    if (subject_token) {
        char h[600];
        snprintf(h, sizeof(h), "X-Subject-Token: %s", subject_token);
        hdrs = curl_slist_append(hdrs, h);
        explicit_bzero(h, sizeof(h));
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
        code = NFV_ERR(err, NFV_E_TIMEOUT, "%s did not answer within %u ms", what,
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
            code = NFV_ERR(err, NFV_E_PARSE, "%s sent an answer that is not JSON (HTTP %ld)", what,
                           *ret_status);
    }
cleanup:
    free(b.data);
    free(text);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return code;
}

enum nfv_code shim_vmmgr_call(struct shim_ctx *ctx, const char *method, const char *path,
                              const json_t *body, long *ret_status, json_t **ret_doc,
                              struct nfv_err *err)
{
    char url[SHIM_PATH_MAX + 512];
    bool is_tcp = ctx->conf.vmmgrd_url[0] != '\0';

    snprintf(url, sizeof(url), "%s%s", is_tcp ? ctx->conf.vmmgrd_url : "http://vmmgrd", path);
    return request(ctx, "vmmgrd", is_tcp ? NULL : ctx->conf.vmmgrd_socket, url, method,
                   ctx->vmmgrd_token, NULL, NULL, body, ret_status, ret_doc, NULL, err);
}

enum nfv_code shim_keystone_call(struct shim_ctx *ctx, const char *method, const char *path,
                                 const char *auth_token, const char *subject_token,
                                 const json_t *body, long *ret_status, json_t **ret_doc,
                                 char *ret_subject, size_t subject_size, struct nfv_err *err)
{
    char url[SHIM_PATH_MAX + 512];
    struct subject sub = {.buf = ret_subject, .size = subject_size};

    if (ret_subject && subject_size)
        ret_subject[0] = '\0';
    snprintf(url, sizeof(url), "%s%s", ctx->conf.keystone_url, path);
    return request(ctx, "keystone", NULL, url, method, NULL, auth_token, subject_token, body,
                   ret_status, ret_doc, ret_subject ? &sub : NULL, err);
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
