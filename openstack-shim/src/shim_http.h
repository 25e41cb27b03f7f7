/*
 * shim_http.h - the HTTP server of vmmgr-shim (libmicrohttpd behind it).
 * A thread per connection; each request goes to shim_api_route().
 */
#ifndef SHIM_HTTP_H
#define SHIM_HTTP_H

#include "shim_priv.h"

struct shim_http;

/* Listens on ctx->conf.listen. Errors: NFV_E_INVAL (address), NFV_E_IO. */
enum nfv_code shim_http_start(struct shim_ctx *ctx, struct shim_http **ret, struct nfv_err *err);
/* Stops serving and waits for the connection threads; NULL is a no-op. */
void shim_http_stop(struct shim_http *srv);

#endif /* SHIM_HTTP_H */
