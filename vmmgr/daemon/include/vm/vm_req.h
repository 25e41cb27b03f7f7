/*
 * vm_req.h - parsing and validation of native API requests.
 *
 * Pure core (jansson only). The HTTP adapter hands vm_api.c a method, a path
 * and a body; everything a client can get wrong is checked here before any
 * state is touched: malformed JSON, a body that is not an object, unknown
 * fields (a typo must not be silently ignored), bad names, negative or
 * out-of-range numbers, CPU lists. Errors are NFV_E_INVAL with the field
 * named in quotes, which the API returns as 400 INVALID_ARGUMENT.
 */
#ifndef VM_REQ_H
#define VM_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/cpuset.h"

#define VM_NAME_MAX        64 /* host, VM and group names, including the NUL */
#define VM_URI_MAX         512
#define VM_LABELS_MAX      32  /* labels per host */
#define VM_LABEL_VALUE_MAX 255 /* bytes of one label value */

/*
 * Free text from a client that is stored and shown to operators (label
 * values): at most @max bytes of UTF-8 (jansson checked the encoding) with
 * no C0/C1 control character or DEL, so nothing printed later can drive a
 * terminal. NFV_E_INVAL names @field.
 */
enum nfv_code vm_req_text_check(const char *field, const char *text, size_t max,
                                struct nfv_err *err);

/* Names: 1..63 chars of [A-Za-z0-9._-], starting with a letter or digit. */
enum nfv_code vm_req_name_check(const char *field, const char *name, struct nfv_err *err);

/*
 * Parses @body (@size bytes, not necessarily NUL-terminated) as a JSON object.
 * An empty body gives an empty object. *ret is owned by the caller.
 */
enum nfv_code vm_req_parse_object(const char *body, size_t size, json_t **ret, struct nfv_err *err);

/* Fails on the first key of @obj that is not in the NULL-terminated @allowed. */
enum nfv_code vm_req_check_fields(const json_t *obj, const char *const *allowed,
                                  struct nfv_err *err);

/* Field getters: *ret is left alone when the field is absent and !is_required. */
enum nfv_code vm_req_get_str(const json_t *obj, const char *field, bool is_required,
                             const char **ret, struct nfv_err *err);
enum nfv_code vm_req_get_uint(const json_t *obj, const char *field, bool is_required, uint64_t min,
                              uint64_t max, uint64_t *ret, struct nfv_err *err);

enum vm_topo_source {
    VM_TOPO_LIVE,      /* read from the host itself (qemu:///system: live hwloc) */
    VM_TOPO_SYNTHETIC, /* hwloc synthetic string "package:2 core:16 pu:2" */
    VM_TOPO_XML,       /* hwloc XML document supplied by the operator */
    VM_TOPO__COUNT
};

const char *vm_topo_source_to_string(enum vm_topo_source s);
enum vm_topo_source vm_topo_source_from_string(const char *s);

/* POST /v1/hosts body. Strings borrow from the JSON the spec was parsed from. */
struct vm_host_spec {
    const char *name;
    const char *uri;
    enum vm_topo_source topo_source;
    const char *topo;        /* synthetic string or XML text; NULL for live */
    const char *reserved;    /* PU list kept for the host OS (may be NULL) */
    const char *dedicated;   /* PU list for pinned VMs (NULL: all not reserved) */
    const json_t *labels;    /* object of string values, or NULL */
    const json_t *bmc;       /* {"address","user","password"} (checked by vmmgrd), or NULL */
    const char *bridge;      /* Open vSwitch integration bridge (NULL: config host_bridge) */
    const char *switch_port; /* its trunk port on the top-of-rack switch (NULL: none) */
};

/*
 * Validates a host-add request: name, uri (the allow-list of vm_uri.h: no
 * query options; "alias:NAME" is resolved later against the config), at
 * most one of "synthetic"/"hwloc_xml" (checked by vm_topo.h before hwloc or
 * a file sees them), which a test:// host needs, labels as "k": "v" strings
 * (at most 32, values printable and at most 255 bytes), and the CPU lists'
 * syntax (their range is checked once the topology is known); "bridge" and
 * "switch_port" OVS names (1..15 of letters, digits, '-', '_', '.').
 */
enum nfv_code vm_req_host_spec(const json_t *body, struct vm_host_spec *ret, struct nfv_err *err);

/* True for test:// URIs (libvirt's in-memory driver: simulated hosts). */
bool vm_uri_is_test(const char *uri);

#endif /* VM_REQ_H */
