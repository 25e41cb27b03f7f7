/*
 * shim/shim_spec.h - flavor extra specs and server metadata -> the body of
 * vmmgrd's POST /v1/vms (pure: jansson only, no I/O).
 *
 * Nova's `hw:` keys map onto vmmgr's pin request (README.md, "Extra specs");
 * `vmmgr:` keys say what Nova cannot (shared-core groups, numbered core
 * maps, the NUMA node of the NIC, NICs). An unknown `vmmgr:` key, a value
 * that is not one of the listed ones, or a `hw:` request vmmgrd's API cannot
 * express is NFV_E_INVAL naming the key in quotes; the shim answers 400
 * badRequest with that message. Other `hw:` keys and other namespaces are
 * kept on the flavor and ignored, as Nova's libvirt driver ignores keys it
 * does not know.
 *
 * No value from a caller can name a file, a program or a URI option here:
 * NICs are bridges or libvirt networks only (never vhost-user socket paths),
 * the disk comes from the operator's images file, and every name is checked
 * again by vmmgrd (vm_spec.c).
 */
#ifndef SHIM_SPEC_H
#define SHIM_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

#define SHIM_SPEC_MAX_VCPUS 1024 /* flavor vcpus accepted by the shim */
#define SHIM_SPEC_VALUE_MAX 255  /* bytes of an extra-spec key or value (Nova's limit) */

struct shim_spec_in {
    const char *vm_name;       /* vmmgr VM name (already a valid name) */
    unsigned vcpus;            /* 1..SHIM_SPEC_MAX_VCPUS */
    uint64_t ram_mb;           /* flavor RAM */
    const json_t *extra_specs; /* the flavor's object of strings, may be NULL */
    const char *host;          /* forced host or NULL */
    const char *disk;          /* image path from the images file, or NULL */
};

/*
 * Builds the POST /v1/vms body for @in into *ret_body (owned). The caller
 * adds "group"/"role". Errors: NFV_E_INVAL naming the key
 * ("'hw:cpu_policy': 'x' is not dedicated, shared or mixed"), NFV_E_NOMEM.
 */
enum nfv_code shim_spec_build(const struct shim_spec_in *in, json_t **ret_body,
                              struct nfv_err *err);

/*
 * Checks extra specs as a flavor of @vcpus vCPUs would use them (the same
 * rules as shim_spec_build, no host): run when specs are set, so a mistake
 * is a 400 at `flavor set` time and not an ERROR server later.
 */
enum nfv_code shim_spec_check(const json_t *extra_specs, unsigned vcpus, struct nfv_err *err);

/* Server metadata the shim reads: "vmmgr:role" (act|sby) and "vmmgr:scope"
 * (host|rack|zone|power). Other vmmgr: keys are NFV_E_INVAL naming them;
 * keys of other namespaces are kept as plain metadata. *ret_role and
 * *ret_scope borrow from @metadata and are NULL when absent. */
enum nfv_code shim_spec_metadata(const json_t *metadata, const char **ret_role,
                                 const char **ret_scope, struct nfv_err *err);

/* vmmgrd's name rule on @len bytes of @s: 1..63 of [A-Za-z0-9._-], starting
 * with a letter or digit (hosts, bridges, networks, users, images). */
bool shim_name_ok(const char *s, size_t len);

/* "host", "rack", "zone", "power": NFV_E_INVAL naming @field otherwise. */
enum nfv_code shim_spec_scope_check(const char *field, const char *scope, struct nfv_err *err);

#endif /* SHIM_SPEC_H */
