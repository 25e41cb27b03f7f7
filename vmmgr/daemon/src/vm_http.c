/*
 * vm_http.c - libmicrohttpd adapter for the native API (see vm_http.h).
 *
 * Lifecycle of one request in libmicrohttpd's access-handler protocol: the
 * first call only allocates our per-request state (and may refuse an
 * oversize Content-Length at once); the following calls deliver body chunks;
 * the last call, with no data, runs the handler and queues the response.
 */
#define _GNU_SOURCE /* struct ucred */
#include "vm_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nfv/log.h"

#define MOD "http"

struct vm_http_server {
    struct MHD_Daemon *unix_d;
    struct MHD_Daemon *tcp_d;
    char *unix_path;
    const struct vm_auth_tokens *tokens;
    const struct vm_auth_peers *peers;
    unsigned daemon_uid;
    bool is_client_cert_required;
    unsigned timeout_s, handler_time_s;
    size_t max_body_size;
    vm_http_handler_fn handler;
    void *opaque;
};

/* Per-request state: the body collected so far. */
struct req_state {
    char *body;
    size_t len, cap;
    bool is_too_large;
    bool is_answered; /* a response was queued early (401, 413) */
    enum vm_auth_role role;
    char who[VM_AUTH_ID_MAX + 16];
};

json_t *vm_http_error_json(enum nfv_code code, const char *msg)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", nfv_code_name(code), "message",
                     msg ? msg : nfv_code_describe(code));
}

static enum MHD_Result queue_json(struct MHD_Connection *c, int status, json_t *take_v)
{
    char *text = take_v ? json_dumps(take_v, JSON_COMPACT) : NULL;
    size_t len;
    struct MHD_Response *r;
    enum MHD_Result ret;

    json_decref(take_v);
    if (!text) {
        text = strdup("{\"error\":{\"code\":\"OUT_OF_MEMORY\",\"message\":\"out of memory\"}}");
        status = 500;
        if (!text)
            return MHD_NO;
    }
    len = strlen(text);
    text[len] = '\0';
    /* json_dumps gives no trailing newline; curl users appreciate one. */
    char *nl = realloc(text, len + 2);
    if (nl) {
        text = nl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, int status, enum nfv_code code,
                                   const char *msg)
{
    return queue_json(c, status, vm_http_error_json(code, msg));
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    if (key)
        json_object_set_new(cls, key, json_string(value ? value : ""));
    return MHD_YES;
}

/* The peer's uid/gid on the Unix socket; false if unknown. */
static bool peer_cred(struct MHD_Connection *c, uid_t *ret_uid, gid_t *ret_gid)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred uc;
    socklen_t len = sizeof(uc);

    if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
        return false;
    *ret_uid = uc.uid;
    *ret_gid = uc.gid;
    return true;
}

/* With a CA configured, a TLS client must show a certificate it signed. */
static bool client_cert_ok(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    unsigned status = 0;

    if (!ci || !ci->tls_session)
        return false;
    if (gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) != 0)
        return false;
    return status == 0;
}

/*
 * Decides who is calling (first call of a request): fills @rs's role and
 * who, or queues a 401 and returns false. See vm_http.h for the rules.
 */
static bool authenticate(struct vm_http_server *srv, struct MHD_Connection *c, bool is_tcp,
                         struct req_state *rs, enum MHD_Result *ret)
{
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const struct vm_auth_token *t;
    uid_t uid;
    gid_t gid;

    if (is_tcp && srv->is_client_cert_required && !client_cert_ok(c)) {
        *ret = queue_error(c, 401, NFV_E_PERM, "client certificate missing or not trusted");
        return false;
    }
    if (auth || is_tcp) {
        t = auth && strncmp(auth, "Bearer ", 7) == 0 ? vm_auth_tokens_find(srv->tokens, auth + 7)
                                                     : NULL;
        if (!t) {
            *ret = queue_error(c, 401, NFV_E_PERM, "missing or wrong bearer token");
            return false;
        }
        rs->role = t->role;
        snprintf(rs->who, sizeof(rs->who), "token:%s", t->id);
        return true;
    }
    if (!srv->peers) {
        rs->role = VM_AUTH_ADMIN;
        snprintf(rs->who, sizeof(rs->who), "unix");
        return true;
    }
    if (!peer_cred(c, &uid, &gid)) {
        *ret = queue_error(c, 401, NFV_E_PERM, "cannot identify the socket's peer");
        return false;
    }
    rs->role = vm_auth_peer_role(srv->peers, uid, gid, srv->daemon_uid);
    snprintf(rs->who, sizeof(rs->who), "uid:%u", (unsigned)uid);
    return true;
}

static enum MHD_Result run_handler(struct vm_http_server *srv, struct MHD_Connection *c,
                                   const char *url, const char *method, struct req_state *rs,
                                   bool is_tcp)
{
    struct vm_http_request req = {0};
    struct vm_http_response resp = {0};
    json_t *query = json_object();
    enum MHD_Result ret;

    if (!query)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, query);
    req.method = method;
    req.path = url;
    req.query = query;
    req.body = rs->body ? rs->body : "";
    req.body_size = rs->len;
    req.is_tcp = is_tcp;
    req.role = rs->role;
    req.who = rs->who;
    resp.status = 500;
    /* The request is in: from now on the handler may block (long-poll), so
     * the idle timeout that guards the header and body no longer applies. */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                              srv->timeout_s + srv->handler_time_s);
    srv->handler(srv->opaque, &req, &resp);
    json_decref(query);
    if (resp.text) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(resp.text), resp.text, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(resp.text);
            json_decref(resp.json);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp.content_type ? resp.content_type : "text/plain");
        ret = MHD_queue_response(c, (unsigned)resp.status, r);
        MHD_destroy_response(r);
        json_decref(resp.json);
        return ret;
    }
    return queue_json(c, resp.status, resp.json);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls, bool is_tcp)
{
    struct vm_http_server *srv = cls;
    struct req_state *rs = *con_cls;
    char msg[128];

    (void)version;
    if (!rs) {
        const char *cl;
        enum MHD_Result ret = MHD_NO;
        rs = calloc(1, sizeof(*rs));
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        if (!authenticate(srv, c, is_tcp, rs, &ret)) {
            rs->is_answered = true;
            return ret;
        }
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->max_body_size) {
            rs->is_answered = true;
            snprintf(msg, sizeof(msg), "'body': larger than %zu bytes", srv->max_body_size);
            return queue_error(c, 413, NFV_E_INVAL, msg);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rs->is_answered || rs->is_too_large)
            return MHD_YES;
        if (rs->len + n > srv->max_body_size) {
            /* Chunked uploads have no Content-Length: refuse when crossing. */
            rs->is_too_large = true;
            return MHD_YES;
        }
        if (rs->len + n + 1 > rs->cap) {
            size_t cap = (rs->len + n + 1) * 2;
            char *b = realloc(rs->body, cap);
            if (!b)
                return MHD_NO;
            rs->body = b;
            rs->cap = cap;
        }
        memcpy(rs->body + rs->len, upload_data, n);
        rs->len += n;
        rs->body[rs->len] = '\0';
        return MHD_YES;
    }
    if (rs->is_answered)
        return MHD_YES;
    if (rs->is_too_large) {
        snprintf(msg, sizeof(msg), "'body': larger than %zu bytes", srv->max_body_size);
        return queue_error(c, 413, NFV_E_INVAL, msg);
    }
    return run_handler(srv, c, url, method, rs, is_tcp);
}

static enum MHD_Result on_unix_request(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **con_cls)
{
    return on_request(cls, c, url, method, version, upload_data, upload_data_size, con_cls, false);
}

static enum MHD_Result on_tcp_request(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    return on_request(cls, c, url, method, version, upload_data, upload_data_size, con_cls, true);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct vm_http_server *srv = cls;
    struct req_state *rs = *con_cls;

    (void)toe;
    /* A kept-alive connection's next request gets the short timeout again
     * (run_handler lengthened it for the handler). */
    if (c && srv && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, srv->timeout_s);
    if (rs) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's log callback: @fmt is its printf format for @ap. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    nfv_logv(NFV_LOG_DEBUG, MOD, fmt, ap);
}

/* Creates, binds and listens on the Unix socket; replaces a stale file. */
static enum nfv_code unix_listen(const char *path, unsigned mode, int *ret_fd, struct nfv_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return NFV_ERR(err, NFV_E_INVAL, "'socket': path longer than %zu bytes",
                       sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return NFV_ERR(err, NFV_E_EXIST, "'%s': exists and is not a socket", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return NFV_ERR(err, NFV_E_EXIST, "'%s': another vmmgrd is listening", path);
        }
        if (fd >= 0)
            close(fd);
        unlink(path); /* stale: its daemon is gone */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 ||
        listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': cannot listen: %s", path, strerror(e));
    }
    *ret_fd = fd;
    return NFV_OK;
}

static struct MHD_Daemon *start_mhd(struct vm_http_server *srv, const struct vm_http_options *o,
                                    int listen_fd, const struct sockaddr_in *sin)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    unsigned max_conn = o->max_connections ? o->max_connections : 256;
    struct MHD_OptionItem opt[12];
    unsigned n = 0;

    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s, NULL};
    if (listen_fd >= 0) {
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL};
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        return MHD_start_daemon(flags, 0, NULL, NULL, on_unix_request, srv, MHD_OPTION_ARRAY, opt,
                                MHD_OPTION_END);
    }
    /* Per address on TCP only: on the Unix socket every peer has the same one. */
    if (o->max_connections_per_ip)
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                           o->max_connections_per_ip, NULL};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)sin};
    if (o->tls_cert_pem) {
        flags |= MHD_USE_TLS;
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem};
        opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem};
        if (o->tls_ca_pem)
            opt[n++] =
                (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)o->tls_ca_pem};
    }
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, ntohs(sin->sin_port), NULL, NULL, on_tcp_request, srv,
                            MHD_OPTION_ARRAY, opt, MHD_OPTION_END);
}

enum nfv_code vm_http_start(const struct vm_http_options *opts, vm_http_handler_fn handler,
                            void *opaque, struct vm_http_server **ret, struct nfv_err *err)
{
    struct vm_http_server *srv = calloc(1, sizeof(*srv));
    int fd = -1;

    if (!srv)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    srv->handler = handler;
    srv->opaque = opaque;
    srv->max_body_size = opts->max_body_size;
    srv->tokens = opts->tokens;
    srv->peers = opts->peers;
    srv->daemon_uid = opts->daemon_uid;
    srv->timeout_s = opts->timeout_s ? opts->timeout_s : 15;
    srv->handler_time_s = opts->handler_time_s;
    srv->is_client_cert_required = opts->tls_cert_pem && opts->tls_ca_pem;
    srv->unix_path = strdup(opts->unix_path);
    if (!srv->unix_path) {
        vm_http_stop(srv);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    if (unix_listen(opts->unix_path, opts->unix_mode, &fd, err) != NFV_OK) {
        free(srv->unix_path);
        srv->unix_path = NULL; /* not ours: do not unlink it in stop */
        vm_http_stop(srv);
        return err ? err->code : NFV_E_IO;
    }
    srv->unix_d = start_mhd(srv, opts, fd, NULL);
    if (!srv->unix_d) {
        close(fd);
        vm_http_stop(srv);
        return NFV_ERR(err, NFV_E_IO, "'%s': cannot start the HTTP server", opts->unix_path);
    }
    if (opts->tcp_addr) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(opts->tcp_port)};
        if (!*opts->tcp_addr || strcmp(opts->tcp_addr, "*") == 0)
            sin.sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, opts->tcp_addr, &sin.sin_addr) != 1) {
            vm_http_stop(srv);
            return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': '%s' is not an IPv4 address",
                           opts->tcp_addr);
        }
        if (!srv->tokens || !srv->tokens->n_items) {
            vm_http_stop(srv);
            return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': TCP needs a token file with tokens");
        }
        if (!opts->tls_cert_pem && (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
            vm_http_stop(srv);
            return NFV_ERR(err, NFV_E_INVAL, "'listen_tcp': plain TCP only on a loopback address");
        }
        srv->tcp_d = start_mhd(srv, opts, -1, &sin);
        if (!srv->tcp_d) {
            vm_http_stop(srv);
            return NFV_ERR(err, NFV_E_IO, "'listen_tcp': cannot listen on %s:%u", opts->tcp_addr,
                           opts->tcp_port);
        }
    }
    *ret = srv;
    return NFV_OK;
}

void vm_http_stop(struct vm_http_server *srv)
{
    if (!srv)
        return;
    if (srv->tcp_d)
        MHD_stop_daemon(srv->tcp_d);
    if (srv->unix_d) {
        /* MHD closes the listen socket it was given. */
        MHD_stop_daemon(srv->unix_d);
    }
    if (srv->unix_path)
        unlink(srv->unix_path);
    free(srv->unix_path);
    free(srv);
}
