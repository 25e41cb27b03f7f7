/*
 * ctl_client.c - HTTP-over-Unix-socket client for vmmgrctl (see
 * ctl_client.h). One curl easy handle per call: vmmgrctl makes a handful of
 * calls per run, so connection reuse would not pay for its complexity.
 */
#include "ctl_client.h"

#include "ctl_json.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body_buf {
    char *data;
    size_t len;
    size_t cap;
    CURL *curl; /* for the announced Content-Length */
};

static size_t on_data(char *ptr, size_t size, size_t n, void *opaque)
{
    struct body_buf *b = opaque;
    size_t add = size * n;

    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->len + add + 1) * 2;
        curl_off_t announced = -1;
        /* A 1 MB list arrives in 16 KB pieces: take the whole size at once
         * when the server announced it, rather than copy while doubling. */
        if (!b->data &&
            curl_easy_getinfo(b->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) ==
                CURLE_OK &&
            announced > 0 && (uint64_t)announced < SIZE_MAX / 2 && (size_t)announced >= add)
            cap = (size_t)announced + 1;
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

void ctl_client_escape(const char *s, char *buf, size_t buf_size)
{
    size_t o = 0;

    for (; *s && o + 4 < buf_size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, buf_size - o, "%%%02X", c);
    }
    buf[o] = '\0';
}

static enum nfv_code do_call(const struct ctl_ctx *ctx, const char *method, const char *path,
                             const json_t *body, unsigned timeout_ms, struct body_buf *resp,
                             long *ret_status, struct nfv_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char url[2048], *text = NULL;
    CURLcode cc;
    enum nfv_code code = NFV_OK;

    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "cannot initialise libcurl");
    if (ctx->url) {
        /* TCP (TLS unless the daemon allows plain loopback): the token is required. */
        snprintf(url, sizeof(url), "%s%s", ctx->url, path);
        if (ctx->cacert)
            curl_easy_setopt(c, CURLOPT_CAINFO, ctx->cacert);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    } else {
        /* The host part is ignored on a Unix socket but must be a valid name. */
        snprintf(url, sizeof(url), "http://vmmgrd%s", path);
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ctx->socket_path);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : ctx->timeout_ms));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    resp->curl = c;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (ctx->token[0]) {
        char auth[sizeof(ctx->token) + 32];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctx->token);
        hdrs = curl_slist_append(hdrs, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(c);
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        code = NFV_ERR(err, NFV_E_TIMEOUT, "vmmgrd did not answer within %u ms",
                       timeout_ms ? timeout_ms : ctx->timeout_ms);
    else if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
        code = NFV_ERR(err, NFV_E_UNREACHABLE,
                       "'%s': cannot connect to vmmgrd (is it running? see --socket)",
                       ctx->url ? ctx->url : ctx->socket_path);
    else if (cc != CURLE_OK)
        code = NFV_ERR(err, NFV_E_UNREACHABLE, "'%s': %s", ctx->url ? ctx->url : ctx->socket_path,
                       curl_easy_strerror(cc));
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    free(text);
    return code;
}

/* Turns an error response into an nfv_err with the server's code and message. */
static enum nfv_code api_error(long status, const json_t *doc, struct nfv_err *err)
{
    const json_t *e = json_object_get(doc, "error");
    const char *name = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    enum nfv_code code = nfv_code_from_name(name);

    if (code == NFV_E__COUNT || code == NFV_OK)
        code = status == 404 ? NFV_E_NOENT : status == 409 ? NFV_E_EXIST : NFV_E_INTERNAL;
    return NFV_ERR(err, code, "%s", msg ? msg : nfv_code_describe(code));
}

/* Parses @resp (freed here) into *ret (may be NULL); an error answer
 * (@status >= 400) becomes the server's error. */
static enum nfv_code parse_answer(struct body_buf *resp, long status, json_t **ret,
                                  struct nfv_err *err)
{
    json_t *doc = NULL;
    enum nfv_code code;

    if (resp->len)
        doc = json_loadb(resp->data, resp->len, 0, NULL);
    free(resp->data);
    resp->data = NULL;
    if (!doc) {
        return NFV_ERR(err, NFV_E_PARSE, "vmmgrd sent a response that is not JSON (HTTP %ld)",
                       status);
    }
    if (status >= 400) {
        code = api_error(status, doc, err);
        json_decref(doc);
        return code;
    }
    if (ret)
        *ret = doc;
    else
        json_decref(doc);
    return NFV_OK;
}

enum nfv_code ctl_client_call(const struct ctl_ctx *ctx, const char *method, const char *path,
                              const json_t *body, unsigned timeout_ms, json_t **ret,
                              struct nfv_err *err)
{
    struct body_buf resp = {0};
    long status = 0;
    enum nfv_code code;

    code = do_call(ctx, method, path, body, timeout_ms, &resp, &status, err);
    if (code != NFV_OK) {
        free(resp.data);
        return code;
    }
    return parse_answer(&resp, status, ret, err);
}

enum nfv_code ctl_client_get_text(const struct ctl_ctx *ctx, const char *path, char **ret_text,
                                  struct nfv_err *err)
{
    struct body_buf resp = {0};
    long status = 0;
    enum nfv_code code = do_call(ctx, "GET", path, NULL, 0, &resp, &status, err);

    if (code != NFV_OK) {
        free(resp.data);
        return code;
    }
    if (status >= 400) {
        json_t *doc = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
        code = api_error(status, doc, err);
        json_decref(doc);
        free(resp.data);
        return code;
    }
    *ret_text = resp.data ? resp.data : strdup("");
    return *ret_text ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}

void ctl_client_path(char *buf, size_t size, const char *collection, const char *name,
                     const char *suffix)
{
    char esc[200];

    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(buf, size, "%s/%s%s", collection, esc, suffix);
}

enum nfv_code ctl_print_row(const struct ctl_ctx *ctx, const json_t *obj, ctl_rows_fn rows,
                            struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    /* json_array_append takes a reference; the array is dropped at once. */
    json_array_append(arr, (json_t *)obj);
    code = rows(ctx, arr, err);
    json_decref(arr);
    return code;
}

enum nfv_code ctl_print_obj(const struct ctl_ctx *ctx, const json_t *obj, ctl_rows_fn rows,
                            struct nfv_err *err)
{
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, obj);
        return NFV_OK;
    }
    return ctl_print_row(ctx, obj, rows, err);
}

enum nfv_code ctl_get_and_print(const struct ctl_ctx *ctx, const char *path, const char *key,
                                ctl_rows_fn rows, struct nfv_err *err)
{
    struct body_buf resp = {0};
    long status = 0;
    json_t *doc;
    enum nfv_code code;

    if ((code = do_call(ctx, "GET", path, NULL, 0, &resp, &status, err))) {
        free(resp.data);
        return code;
    }
    /* --json: re-indent the member straight from the answer (ctl_json.h);
     * the tree below is for tables and for answers it refuses. */
    if (ctx->fmt != NFV_OUT_TABLE && status < 400 && resp.len &&
        ctl_json_member_dump(resp.data, resp.len, key, ctx->fmt, stdout)) {
        free(resp.data);
        return NFV_OK;
    }
    if ((code = parse_answer(&resp, status, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, json_object_get(doc, key));
    else
        code = rows(ctx, json_object_get(doc, key), err);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_verb_list(const struct ctl_ctx *ctx, int argc, char **argv, const char *verb,
                            const char *path, const char *key, ctl_rows_fn rows,
                            struct nfv_err *err)
{
    enum nfv_code code;

    if ((code = ctl_verb_no_args(argc, argv, verb, err)))
        return code;
    return ctl_get_and_print(ctx, path, key, rows, err);
}

enum nfv_code ctl_verb_show(const struct ctl_ctx *ctx, int argc, char **argv, const char *verb,
                            const char *collection, const char *suffix, const char **ret_name,
                            json_t **ret_doc, struct nfv_err *err)
{
    char path[256];
    json_t *doc;
    enum nfv_code code;

    *ret_doc = NULL;
    if ((code = ctl_verb_one_arg(argc, argv, verb, "NAME", NULL, ret_name, NULL, err)))
        return code;
    ctl_client_path(path, sizeof(path), collection, *ret_name, suffix);
    if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
        json_decref(doc);
        return NFV_OK;
    }
    *ret_doc = doc;
    return NFV_OK;
}

enum nfv_code ctl_call_and_print(const struct ctl_ctx *ctx, const char *method, const char *path,
                                 const json_t *body, ctl_rows_fn rows, struct nfv_err *err)
{
    json_t *doc;
    enum nfv_code code;

    if ((code = ctl_client_call(ctx, method, path, body, 0, &doc, err)))
        return code;
    code = ctl_print_obj(ctx, doc, rows, err);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_delete_and_report(const struct ctl_ctx *ctx, const char *path, bool is_if_exists,
                                    const char *done, const char *name, struct nfv_err *err)
{
    json_t *doc = NULL;
    enum nfv_code code = ctl_client_call(ctx, "DELETE", path, NULL, 0, &doc, err);

    if (code == NFV_E_NOENT && is_if_exists) {
        nfv_err_clear(err);
        return NFV_OK;
    }
    if (code)
        return code;
    if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, doc);
    else if (!ctx->is_quiet)
        printf("%s '%s'\n", done, name);
    json_decref(doc);
    return NFV_OK;
}
