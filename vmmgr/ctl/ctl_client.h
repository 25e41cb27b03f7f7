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
#include <stdbool.h>
#include <stddef.h>

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

/* "@collection/<escaped @name>@suffix", e.g. "/v1/vms/nat-1/pins". */
void ctl_client_path(char *buf, size_t size, const char *collection, const char *name,
                     const char *suffix);

/* Prints an array of API objects as a table (one row each). */
typedef enum nfv_code (*ctl_rows_fn)(const struct ctl_ctx *ctx, const json_t *rows,
                                     struct nfv_err *err);

/* The table of one API object @obj: @rows on a one-element array. */
enum nfv_code ctl_print_row(const struct ctl_ctx *ctx, const json_t *obj, ctl_rows_fn rows,
                            struct nfv_err *err);
/* @obj as JSON (--json) or as a one-row table. */
enum nfv_code ctl_print_obj(const struct ctl_ctx *ctx, const json_t *obj, ctl_rows_fn rows,
                            struct nfv_err *err);

/* The "list" shape: GET @path, take the array @key of the answer and print
 * it as JSON (--json) or through @rows. With --json the member is
 * re-indented from the answer's text when ctl_json_member_dump() can (same
 * bytes as ctl_print_json, no tree); otherwise through jansson. */
enum nfv_code ctl_get_and_print(const struct ctl_ctx *ctx, const char *path, const char *key,
                                ctl_rows_fn rows, struct nfv_err *err);

/* A whole "list" verb: no arguments (ctl_verb_no_args), then ctl_get_and_print(). */
enum nfv_code ctl_verb_list(const struct ctl_ctx *ctx, int argc, char **argv, const char *verb,
                            const char *path, const char *key, ctl_rows_fn rows,
                            struct nfv_err *err);

/* The "show" shape: "VERB NAME" (ctl_verb_one_arg), then GET
 * @collection/NAME@suffix. With --json the answer is printed and *ret_doc is
 * NULL; for a table *ret_doc is the answer (the caller prints and frees it). */
enum nfv_code ctl_verb_show(const struct ctl_ctx *ctx, int argc, char **argv, const char *verb,
                            const char *collection, const char *suffix, const char **ret_name,
                            json_t **ret_doc, struct nfv_err *err);

/* The "action" shape: @method @path with @body (borrowed, may be NULL), then
 * the object the daemon answers printed with ctl_print_obj(). */
enum nfv_code ctl_call_and_print(const struct ctl_ctx *ctx, const char *method, const char *path,
                                 const json_t *body, ctl_rows_fn rows, struct nfv_err *err);

/* The "delete" shape: DELETE @path; a missing object is fine with
 * @is_if_exists. Prints the answer (--json) or "@done '@name'" unless --quiet. */
enum nfv_code ctl_delete_and_report(const struct ctl_ctx *ctx, const char *path, bool is_if_exists,
                                    const char *done, const char *name, struct nfv_err *err);

#endif /* VMMGR_CTL_CLIENT_H */
