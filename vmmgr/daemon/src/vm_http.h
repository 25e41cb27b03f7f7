/*
 * vm_http.h - the native API's HTTP server (libmicrohttpd adapter).
 *
 * vm_http.c is the only file that includes microhttpd.h (and gnutls.h, for
 * client certificates). It listens on a Unix socket (created here with the
 * configured mode, 0660 by default) and, optionally, on TCP: with TLS
 * (certificate and key from the config; with a CA, clients must present a
 * certificate it signed), or in plain text where the config allows it
 * (loopback only, vm_config.h). It authenticates every request and hands the
 * caller's role to the handler (vm_auth.h): on TCP a bearer token from the
 * token file is required ("Authorization: Bearer TOKEN", else 401); on the
 * Unix socket a token, if sent, decides, else the peer's uid/gid
 * (SO_PEERCRED). It caps connections (in all and per TCP client address)
 * and closes idle ones after a timeout, so half-sent requests cannot lock
 * clients out. It reads request bodies up to a size limit (larger: 413
 * without reading the rest), collects the query string, and hands a complete
 * request to one handler (vm_api.c), whose response it serializes. Every
 * error it produces itself (401, 413) has the same JSON shape as the API's:
 * {"error":{"code":"...","message":"..."}}.
 *
 * One thread per connection: handlers may block (long-poll of GET /v1/events,
 * VM creates waiting on libvirt) without stalling other clients.
 */
#ifndef VM_HTTP_H
#define VM_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"
#include "vm/vm_auth.h"

struct vm_http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* "/v1/hosts/h1", no query string */
    const json_t *query; /* object: query argument name -> string */
    const char *body;    /* NUL-terminated copy; "" when none */
    size_t body_size;
    bool is_tcp;            /* came over TCP (authenticated) rather than the Unix socket */
    enum vm_auth_role role; /* what the caller may do (vm_auth.h) */
    const char *who;        /* "token:ID" or "uid:N": for logs and audit */
};

struct vm_http_response {
    int status;
    json_t *json;             /* owned by the response; serialized compactly */
    char *text;               /* or a malloc'ed text body (metrics) */
    const char *content_type; /* for text; JSON sets its own */
};

typedef void (*vm_http_handler_fn)(void *opaque, const struct vm_http_request *req,
                                   struct vm_http_response *resp);

struct vm_http_options {
    const char *unix_path; /* required */
    unsigned unix_mode;    /* e.g. 0660 */
    const char *tcp_addr;  /* NULL: no TCP listener; "" = all addresses */
    unsigned tcp_port;
    const struct vm_auth_tokens *tokens; /* token file (required for TCP); may be NULL */
    const struct vm_auth_peers *peers;   /* Unix-socket uid/gid -> role; NULL: all admin */
    unsigned daemon_uid;                 /* vmmgrd's own uid: admin on the socket */
    const char *tls_cert_pem;            /* PEM text; NULL: TCP is plain (config allowed it) */
    const char *tls_key_pem;
    const char *tls_ca_pem; /* NULL: no client certificates asked for */
    size_t max_body_size;
    unsigned max_connections;        /* per listener; 0 = 256 */
    unsigned max_connections_per_ip; /* TCP only; 0 = no cap */
    unsigned timeout_s;              /* idle timeout while a request arrives; 0 = 15 */
    unsigned handler_time_s;         /* longest a handler may block (long-poll cap) */
};

struct vm_http_server;

/*
 * Starts listening. Refuses (NFV_E_EXIST) when another process answers on
 * the socket path; a stale socket file is replaced. *ret is owned.
 */
enum nfv_code vm_http_start(const struct vm_http_options *opts, vm_http_handler_fn handler,
                            void *opaque, struct vm_http_server **ret, struct nfv_err *err);

/* Stops accepting, waits for running handlers, removes the socket file.
 * NULL is a no-op. Handlers blocked in long-polls must be woken first. */
void vm_http_stop(struct vm_http_server *srv);

/* {"error":{"code":NAME,"message":MSG}}, a new reference. */
json_t *vm_http_error_json(enum nfv_code code, const char *msg);

#endif /* VM_HTTP_H */
