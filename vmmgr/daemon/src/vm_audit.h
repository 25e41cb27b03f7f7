/*
 * vm_audit.h - the audit trail: every request that would change state (any
 * method but GET), who sent it, when, and how it ended -- including the
 * ones refused (403, 400). Kept in the database (table audit), read with
 * GET /v1/audit (admin) and `vmmgrctl audit`. vm_api.c records; this file
 * is the service-layer half that owns the lock and the database call.
 *
 * Only vmmgrd's own words are stored: the caller's identity ("token:ID",
 * "uid:N"), the method and path, the HTTP status and the error code -- not
 * the request body and not error messages.
 */
#ifndef VM_AUDIT_H
#define VM_AUDIT_H

#include <jansson.h>

#include "nfv/err.h"
#include "vm/vm_daemon.h"

/* Records one entry; a database failure is logged, never returned. */
void vm_daemon_audit(struct vm_daemon *d, const char *who, const char *method, const char *path,
                     int status, const char *result);

/* {"audit":[{"id","ts_ms","who","method","path","status","result"}]}, newest first. */
enum nfv_code vm_daemon_audit_list(struct vm_daemon *d, unsigned limit, json_t **ret,
                                   struct nfv_err *err);

#endif /* VM_AUDIT_H */
