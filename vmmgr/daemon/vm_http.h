/*
 * vm_http.h - the native API's HTTP server (libmicrohttpd adapter).
 *
 * vm_http.c is the only file that includes microhttpd.h. It listens on a Unix
 * socket (created here with the configured mode, 0660 by default) and,
 * optionally, on TCP, where every request must carry "Authorization: Bearer
 * TOKEN". It reads request bodies up to a size limit (larger: 413 without
 * reading the rest), collects the query string, and hands a complete request
 * to one handler (vm_api.c), whose response it serializes. Every error it
 * produces itself (401, 413) has the same JSON shape as the API's:
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

struct vm_http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* "/v1/hosts/h1", no query string */
    const json_t *query; /* object: query argument name -> string */
    const char *body;    /* NUL-terminated copy; "" when none */
    size_t body_size;
    bool is_tcp; /* came over TCP (authenticated) rather than the Unix socket */
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
    const char *token; /* bearer token required on TCP */
    size_t max_body_size;
    unsigned max_connections;
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
