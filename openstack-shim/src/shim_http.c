/*
 * shim_http.c - the libmicrohttpd adapter: listens on ADDR:PORT, collects
 * a request body up to max_body_bytes (413 beyond, also for chunked
 * uploads without Content-Length), builds a struct shim_req and sends the
 * struct shim_resp the routes filled. Nothing else here knows
 * libmicrohttpd.
 */
#include "shim_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfv/log.h"
#include "shim/shim_buf.h"

#define MOD "http"

struct shim_http {
    struct shim_ctx *ctx;
    struct MHD_Daemon *d;
};

struct req_state {
    struct shim_buf body;
    bool is_too_large;
};

static const char *get_header(void *h, const char *name)
{
    return MHD_lookup_connection_value(h, MHD_HEADER_KIND, name);
}

static const char *get_arg(void *h, const char *name)
{
    return MHD_lookup_connection_value(h, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct shim_resp *resp,
                                 const char *method)
{
    char *text = NULL;
    size_t len = 0;
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (resp->body && resp->status != 204) {
        text = json_dumps(resp->body, JSON_COMPACT);
        if (!text)
            return MHD_NO;
        len = strlen(text);
    }
    (void)method;
    r = MHD_create_response_from_buffer(len, text ? text : (void *)"",
                                        text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->status >= 400 ? "application/json; charset=UTF-8"
                                                : "application/json");
    for (unsigned i = 0; i < resp->n_hdrs; i++)
        MHD_add_response_header(r, resp->hdr_name[i], resp->hdr_value[i]);
    ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result too_large(struct shim_http *srv, struct MHD_Connection *c)
{
    struct shim_resp resp = {0};
    enum MHD_Result ret;

    shim_nova_error(&resp, 413, "overLimit", "Request is too large (more than %zu bytes).",
                    srv->ctx->conf.max_body_bytes);
    ret = send_resp(c, &resp, "POST");
    json_decref(resp.body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct shim_http *srv = cls;
    struct req_state *rs = *con_cls;
    struct shim_req req = {0};
    struct shim_resp resp = {0};
    enum MHD_Result ret;

    (void)version;
    if (!rs) {
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        rs = calloc(1, sizeof(*rs));
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        if (cl && strtoull(cl, NULL, 10) > srv->ctx->conf.max_body_bytes)
            rs->is_too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!rs->is_too_large &&
            !shim_buf_append(&rs->body, upload_data, n, srv->ctx->conf.max_body_bytes))
            rs->is_too_large = true; /* answered 413 once the upload is read */
        return MHD_YES;
    }
    if (rs->is_too_large)
        return too_large(srv, c);
    req.method = method;
    req.path = url;
    req.body = rs->body.data;
    req.body_size = rs->body.len;
    req.header = get_header;
    req.arg = get_arg;
    req.h = c;
    resp.status = 500;
    shim_api_route(srv->ctx, &req, &resp);
    NFV_LOG_DEBUG(MOD, "%s %s -> %d", method, url, resp.status);
    ret = send_resp(c, &resp, method);
    json_decref(resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_state *rs = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (rs) {
        free(rs->body.data);
        free(rs);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    nfv_logv(NFV_LOG_DEBUG, MOD, fmt, ap);
}

enum nfv_code shim_http_start(struct shim_ctx *ctx, struct shim_http **ret, struct nfv_err *err)
{
    struct shim_http *srv = calloc(1, sizeof(*srv));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char addr[128];
    const char *colon = strrchr(ctx->conf.listen, ':');
    unsigned long port;

    if (!srv)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    srv->ctx = ctx;
    snprintf(addr, sizeof(addr), "%.*s", (int)(colon - ctx->conf.listen), ctx->conf.listen);
    port = strtoul(colon + 1, NULL, 10);
    sa.sin_port = htons((uint16_t)port);
    if (addr[0] && inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        free(srv);
        return NFV_ERR(err, NFV_E_INVAL, "'listen': '%s' is not an IPv4 address", addr);
    }
    srv->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
            MHD_USE_ITC,
        0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_LIMIT, 512u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 128u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!srv->d) {
        free(srv);
        return NFV_ERR(err, NFV_E_IO, "'listen': cannot listen on %s (in use?)", ctx->conf.listen);
    }
    *ret = srv;
    return NFV_OK;
}

void shim_http_stop(struct shim_http *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->d);
    free(srv);
}
