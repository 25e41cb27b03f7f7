/*
 * ctl_client.h - vmmgrctl's client of vmmgrd's native API.
 *
 * HTTP over the daemon's Unix socket with libcurl (CURLOPT_UNIX_SOCKET_PATH).
 * A call sends an optional JSON body and returns the parsed JSON response;
 * an API error body {"error":{"code","message"}} becomes an nfv_err with the
 * same code, so vmmgrctl exits with the code's exit status (3 not found, 4
 * conflict, ...). A socket nobody answers on is NFV_E_UNREACHABLE (exit 6)
 * with a hint, a timeout NFV_E_TIMEOUT (exit 8).
 */
#ifndef VMMGR_CTL_CLIENT_H
#define VMMGR_CTL_CLIENT_H

#include <jansson.h>

#include "ctl.h"
#include "nfv/err.h"

/*
 * Sends @method @path (with query string) to the daemon at ctx->socket_path
 * with @body (borrowed, may be NULL). @timeout_ms 0 uses ctx->timeout_ms.
 * On success *ret (may be NULL if not wanted) receives the response JSON.
 */
enum nfv_code ctl_client_call(const struct ctl_ctx *ctx, const char *method, const char *path,
                              const json_t *body, unsigned timeout_ms, json_t **ret,
                              struct nfv_err *err);

/* Same, for a text response (GET /metrics); *ret_text is malloc'ed. */
enum nfv_code ctl_client_get_text(const struct ctl_ctx *ctx, const char *path, char **ret_text,
                                  struct nfv_err *err);

/* Percent-encodes @s for a path segment into @buf (names are [A-Za-z0-9._-]
 * already, but a user may type anything). */
void ctl_client_escape(const char *s, char *buf, size_t buf_size);

#endif /* VMMGR_CTL_CLIENT_H */
