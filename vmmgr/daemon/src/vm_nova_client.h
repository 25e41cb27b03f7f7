/*
 * vm_nova_client.h - the libcurl side of vmmgrd's Nova client (vm_nova.c).
 *
 * One client per Nova (the config's auth_url). Thread-safe: calls from
 * several jobs at once share the Keystone token (a mutex guards it) and each
 * call uses its own curl handle. Every call sends microversion 2.74, renews
 * the token 5 minutes before Keystone's expiry, and once more on a 401.
 *
 * Errors: NFV_E_UNREACHABLE when Keystone or Nova cannot be reached (or
 * answer 503/504), vm_nova_error()'s mapping for other non-2xx answers, with
 * vmmgr's own message; Nova's text goes to the debug log only.
 *
 * Used by vm_hv_nova.c (the host driver) and the vmmgr-nova tool.
 */
#ifndef VM_NOVA_CLIENT_H
#define VM_NOVA_CLIENT_H

#include "vm/vm_nova.h"

struct vm_nova_client;

/* Copies @cfg. Makes no call yet (the first call authenticates). */
enum nfv_code vm_nova_client_new(const struct vm_nova_config *cfg, struct vm_nova_client **ret,
                                 struct nfv_err *err);
void vm_nova_client_free(struct vm_nova_client *cl);
const struct vm_nova_config *vm_nova_client_config(const struct vm_nova_client *cl);

/* Authenticates now (also when a token is cached): for "are the credentials
 * good?" checks. */
enum nfv_code vm_nova_client_auth(struct vm_nova_client *cl, struct nfv_err *err);

/* GET of Nova's version document (no token): the liveness probe, with a
 * short timeout. */
enum nfv_code vm_nova_ping(struct vm_nova_client *cl, unsigned timeout_ms, struct nfv_err *err);

/*
 * @method @path (relative to the compute endpoint, e.g. "/servers/ID") with
 * JSON @body (borrowed, may be NULL). A 2xx answer gives NFV_OK and its
 * parsed body in *ret_json (owned; NULL for an empty body; @ret_json may be
 * NULL). *ret_is_sent (may be NULL) is false only when the request surely
 * never reached Nova (connection refused, name not resolved). @what starts
 * error messages ("boot server 'v1'").
 */
enum nfv_code vm_nova_call(struct vm_nova_client *cl, const char *method, const char *path,
                           json_t *body, json_t **ret_json, bool *ret_is_sent, const char *what,
                           struct nfv_err *err);

/* GET /os-hypervisors/detail. *ret owned (free()). */
enum nfv_code vm_nova_hypervisors(struct vm_nova_client *cl, struct vm_nova_hypervisor **ret,
                                  size_t *ret_n, struct nfv_err *err);
/* The flavor of a VM's size (vmmgr-<v>c-<m>m), created when missing. */
enum nfv_code vm_nova_flavor_ensure(struct vm_nova_client *cl, unsigned vcpus, uint64_t memory_mib,
                                    char *ret_id, size_t id_size, struct nfv_err *err);
/* The config's image as a Glance id (looked up by name once, then cached). */
enum nfv_code vm_nova_image_id(struct vm_nova_client *cl, char *ret_id, size_t id_size,
                               struct nfv_err *err);
/* POST /servers; the new server's id into @ret_id. */
enum nfv_code vm_nova_server_boot(struct vm_nova_client *cl, const struct vm_nova_boot *b,
                                  char *ret_id, size_t id_size, bool *ret_is_sent,
                                  struct nfv_err *err);
/* GET /servers/ID. NFV_E_NOENT when Nova does not know it. */
enum nfv_code vm_nova_server_get(struct vm_nova_client *cl, const char *id,
                                 struct vm_nova_server *ret, struct nfv_err *err);
/* GET /servers/detail?host=HOST (all projects). *ret owned (free()). */
enum nfv_code vm_nova_servers_on(struct vm_nova_client *cl, const char *host,
                                 struct vm_nova_server **ret, size_t *ret_n, struct nfv_err *err);
/* DELETE /servers/ID (NFV_E_NOENT if already gone). */
enum nfv_code vm_nova_server_delete(struct vm_nova_client *cl, const char *id, struct nfv_err *err);
/* POST /servers/ID/action {"os-start": null} / {"os-stop": null} /
 * {"reboot": {"type": "HARD"}}: @action is "os-start", "os-stop" or "reboot". */
enum nfv_code vm_nova_server_action(struct vm_nova_client *cl, const char *id, const char *action,
                                    struct nfv_err *err);

#endif /* VM_NOVA_CLIENT_H */
