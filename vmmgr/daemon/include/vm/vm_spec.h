/*
 * vm_spec.h - the VM create body: POST /v1/vms and each member of
 * POST /v1/groups, parsed into a struct vm_spec.
 *
 * Pure core (jansson and pinning's request model only): every field a client
 * can get wrong is checked here, before the daemon touches any state, and
 * refused as NFV_E_INVAL with the field named in quotes ("'cpu_mode': 'x' is
 * not exclusive, shared or numbered"), which the API returns as 400
 * INVALID_ARGUMENT. The daemon's create job (vmmgrd's service layer) takes
 * the spec to placement and pinning; vm_domxml.h turns it, with the plan,
 * into domain XML.
 *
 * Neighbours: vm_req.h (the generic field getters and the name rule used
 * here), pin/request.h (the pinning half of the spec).
 */
#ifndef VM_SPEC_H
#define VM_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/request.h"
#include "vm/vm_state.h"

/* Fields of a POST /v1/vms body (NULL-terminated). */
extern const char *const vm_spec_vm_fields[];
/* Fields of one member of a POST /v1/groups body: no "group" (the group's
 * own name), no "dry_run"/"ignore_reserve" (they belong to the group request). */
extern const char *const vm_spec_member_fields[];

/* How a NIC is attached: "bridge:NAME", "network:NAME" (a libvirt network),
 * "vhostuser:PATH", or {"network": "NAME"}: a vmmgr network (a VLAN on the
 * host's Open vSwitch integration bridge, carried to the top-of-rack switch
 * by vmmgrd; docs/vmmgrd.md "Networks"). */
enum vm_nic_kind { VM_NIC_BRIDGE, VM_NIC_NETWORK, VM_NIC_VHOSTUSER, VM_NIC_NET, VM_NIC__COUNT };

const char *vm_nic_kind_to_string(enum vm_nic_kind k);   /* "?" if out of range */
enum vm_nic_kind vm_nic_kind_from_string(const char *s); /* __COUNT if unknown */

struct vm_nic {
    enum vm_nic_kind kind;
    const char *arg; /* bridge or network name, or the vhost-user socket path (borrowed) */
    /* VM_NIC_NET only: the network's VLAN id (1..4094), 0 until the daemon
     * resolved the network (vm_spec_parse cannot: networks are state). */
    unsigned vlan;
};

/*
 * What a create request asks for.
 *
 * Lifetime: every const char * below (and the nics' args) BORROWS from the
 * json_t the spec was parsed from; keep that document alive (json_incref it)
 * as long as the spec is used. Only @nics (the array itself) and @req are
 * owned, released by vm_spec_clear().
 */
struct vm_spec {
    const char *name;
    uint64_t memory_mib;
    const char *host;    /* NULL: placement chooses */
    const char *group;   /* NULL: no group */
    enum vm_role role;   /* VM_ROLE_NONE when the body has no "role" */
    const char *disk;    /* image path, NULL: no disk */
    struct vm_nic *nics; /* [n_nics], owned array */
    size_t n_nics;
    bool is_dry_run;
    bool is_reserve_ignored; /* "ignore_reserve": place even if the reserve breaks */
    struct pin_request *req; /* owned; mem_mib set from memory_mib */
};

/*
 * Parses @body against the NULL-terminated field list @allowed
 * (vm_spec_vm_fields or vm_spec_member_fields; a field outside it is refused)
 * into *ret. Rules: "name" (required, the name rule of vm_req_name_check),
 * "vcpus" 1..PIN_MAX_VCPUS and "memory_mib" 16..16 Ti (required), "cpu_mode"
 * exclusive (default), shared or numbered, "cpu_map" "V:P,..." (makes those
 * vCPUs numbered), "shared_vcpus" a vCPU list, "thread_policy", "emulator",
 * "numa_node" 0..63, "host" and "group" (name rule), "role" act or sby,
 * "disk" a path, "nics" a list of "bridge:NAME", "network:NAME",
 * "vhostuser:PATH" or {"network": "NAME"} (a vmmgr network: NAME follows
 * the name rule; whether it exists is the daemon's check, which names
 * 'nics[i].network'), "dry_run" and "ignore_reserve" booleans; cpu_mode
 * numbered needs "host". Paths and NIC names must be non-empty and hold none
 * of <>&'" (they go into domain XML; escaping there is a second guard) and
 * no control character (XML cannot carry one; new, the old parser let it
 * through to a domain XML libvirt refused).
 *
 * Where a path may point is not decided here: the daemon calls
 * vm_spec_check_paths() with its own directories.
 *
 * On success *ret is filled (see the lifetime note above); on failure it is
 * left zeroed (role VM_ROLE_NONE), so vm_spec_clear() is always safe, and
 * nothing is owned. Errors: NFV_E_INVAL naming the field, NFV_E_NOMEM.
 */
enum nfv_code vm_spec_parse(const json_t *body, const char *const *allowed, struct vm_spec *ret,
                            struct nfv_err *err);

/* Frees what @s owns and zeroes it. NULL and a zeroed spec are no-ops. */
void vm_spec_clear(struct vm_spec *s);

/*
 * The hook for path policy: succeeds when @path is absolute, has no "."/".."
 * component or empty component ("//"), and lies inside one of the
 * directories of the NULL-terminated @allowed_dirs (component-wise:
 * "/srv/img" allows "/srv/img/a.qcow2", not "/srv/img2/a"). A NULL
 * @allowed_dirs allows any path (today's behaviour). Errors: NFV_E_INVAL
 * naming @field ("'disk': '/etc/shadow' is not inside /var/lib/vmmgr/images").
 */
enum nfv_code vm_spec_path_check(const char *field, const char *path,
                                 const char *const *allowed_dirs, struct nfv_err *err);

/* vm_spec_path_check() on the disk (field 'disk') and every vhost-user socket
 * (field 'nics[i]') of @s. NULL lists allow anything. */
enum nfv_code vm_spec_check_paths(const struct vm_spec *s, const char *const *disk_dirs,
                                  const char *const *vhostuser_dirs, struct nfv_err *err);

#endif /* VM_SPEC_H */
