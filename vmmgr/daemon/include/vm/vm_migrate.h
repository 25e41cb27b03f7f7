/*
 * vm_migrate.h - changing where a VM runs (issue 16): live re-pin on its
 * host, migration with re-pin to another host, drain of a host and
 * defragment of the cluster, each executed as journaled jobs.
 *
 * Pure helpers (vm_core, vm_migxml.c): the destination XML of a live
 * migration and the crash-recovery decision of a migration. Service entry
 * points (vmmgrd, vm_migrate.c / vm_repin.c / vm_drain.c): called by the
 * API routes; lock not held on entry.
 */
#ifndef VM_MIGRATE_H
#define VM_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>

#include "nfv/err.h"
#include "vm/vm_journal.h"

struct vm_daemon;

/*
 * The destination XML of a live migration: @xml (the source's migratable
 * XML) with every <cputune> and <numatune> element removed and @fragments
 * (pin_libvirt_render's <cputune>/<numatune>) inserted before </domain>.
 * Everything else (UUID, devices, machine type) is kept, as libvirt's ABI
 * check requires. *ret owned (free()). NFV_E_INVAL if @xml has no
 * </domain> or an element is not closed.
 */
enum nfv_code vm_migxml_splice(const char *xml, const char *fragments, char **ret,
                               struct nfv_err *err);

/* What start-up recovery sees of a migration's domain on both hosts. */
struct vm_mig_observed {
    bool is_src_reachable, is_dst_reachable;
    bool is_src_defined, is_src_running, is_src_paused;
    bool is_dst_defined, is_dst_running;
};

/*
 * How to resolve a pending migration: ROLLBACK when the guest runs at the
 * source (even if the destination cannot be asked: it died); FINISH when
 * it runs at the destination and not at the source (or, shut off, is
 * defined only there); ROLLBACK when, shut off, it is defined at the
 * source; DEFER when a host cannot be asked or libvirt is still settling
 * (the source paused at the switch-over while the destination holds it).
 */
enum vm_recovery vm_migrate_decide(const struct vm_mig_observed *o);

/* POST /v1/vms/NAME/repin: body {"cpu_mode"?,"cpu_map"?,"shared_vcpus"?,
 * "thread_policy"?,"emulator"?,"numa_node"?,"ignore_reserve"?,"dry_run"?}. */
enum nfv_code vm_daemon_vm_repin(struct vm_daemon *d, const char *name, const json_t *body,
                                 json_t **ret, struct nfv_err *err);
/* POST /v1/vms/NAME/migrate: body {"host"?,"mode"?:"live"|"cold",
 * "ignore_reserve"?,"dry_run"?}; @is_async: 202 with the operation id once
 * the destination PUs are claimed and journaled. */
enum nfv_code vm_daemon_vm_migrate(struct vm_daemon *d, const char *name, const json_t *body,
                                   bool is_async, json_t **ret, struct nfv_err *err);
/* GET /v1/vms/NAME/migration: the migration in flight (progress). */
enum nfv_code vm_daemon_vm_migration(struct vm_daemon *d, const char *name, json_t **ret,
                                     struct nfv_err *err);
/* POST /v1/hosts/NAME/drain: body {"dry_run"?}; the host goes to
 * maintenance and every VM moves off it. */
enum nfv_code vm_daemon_host_drain(struct vm_daemon *d, const char *name, const json_t *body,
                                   bool is_async, json_t **ret, struct nfv_err *err);
/* POST /v1/cluster/defragment: body {"vcpus","memory_mib"?,"max_moves"?,
 * "dry_run"?}: the fewest moves after which such a VM places. */
enum nfv_code vm_daemon_defragment(struct vm_daemon *d, const json_t *body, bool is_async,
                                   json_t **ret, struct nfv_err *err);

#endif /* VM_MIGRATE_H */
