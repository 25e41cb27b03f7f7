/*
 * vm_build.h - builders with no state: the create-body parser and the
 * domain XML of a VM. (To be replaced by the pure vm_spec/vm_domxml pair.)
 * Called by vm_create and vm_recover.
 */
#ifndef VM_BUILD_H
#define VM_BUILD_H

#include "vm_daemon_priv.h"

/* What a create request asks for (strings borrow from the request JSON). */
struct vm_spec {
    const char *name;
    uint64_t memory_mib;
    const char *host;
    const char *group;
    enum vm_role role;
    const char *disk;
    const json_t *nics;
    bool is_dry_run;
    bool is_reserve_ignored; /* "ignore_reserve": place even if the reserve breaks */
    struct pin_request *req; /* owned */
};

/* The fields of POST /v1/vms. */
extern const char *const vm_build_vm_fields[];
/* The fields of one member of POST /v1/groups. */
extern const char *const vm_build_member_fields[];

/* Parses a create body (strings borrow from @body). */
enum nfv_code vm_build_spec_parse(const json_t *body, const char *const *allowed, struct vm_spec *s,
                                  struct nfv_err *err);
void vm_build_spec_clear(struct vm_spec *s);

/* The domain XML of VM @name (malloc'ed in *ret). */
enum nfv_code vm_build_domain_xml(const struct host_rt *h, const char *name, const char *uuid,
                                  const struct vm_spec *s, enum vm_role role, const char *group,
                                  const struct pin_plan *plan, char **ret, struct nfv_err *err);

#endif /* VM_BUILD_H */
