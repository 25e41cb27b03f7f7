/*
 * vm_audit.c - the audit trail's service-layer half (see vm_audit.h): takes
 * the daemon lock around the database like every other service call.
 */
#include "vm_audit.h"

#include <stdio.h>

#include "nfv/log.h"
#include "vm_daemon_priv.h"

#define MOD "audit"

void vm_daemon_audit(struct vm_daemon *d, const char *who, const char *method, const char *path,
                     int status, const char *result)
{
    struct vm_db_audit a = {0};
    struct nfv_err err = {0};
    int64_t id = 0;

    if (!d)
        return;
    a.ts_ms = vm_daemon_now_ms();
    snprintf(a.who, sizeof(a.who), "%s", who ? who : "?");
    snprintf(a.method, sizeof(a.method), "%s", method);
    snprintf(a.path, sizeof(a.path), "%s", path);
    a.status = status;
    snprintf(a.result, sizeof(a.result), "%s", result);
    NFV_LOG_INFO(MOD, "%s %s %.200s -> %d %s", a.who, a.method, a.path, status, a.result);
    pthread_mutex_lock(&d->lock);
    if (d->db && vm_db_audit_add(d->db, &a, &id, &err) != NFV_OK)
        NFV_LOG_ERR(MOD, "cannot record an audit entry: %s", err.msg);
    /* Bounded like the event log (event_keep), checked every 256 entries. */
    else if (d->db && id % 256 == 0 && vm_db_audit_prune(d->db, d->cfg.event_keep, &err) != NFV_OK)
        NFV_LOG_ERR(MOD, "cannot prune the audit trail: %s", err.msg);
    pthread_mutex_unlock(&d->lock);
}

static int audit_cb(void *opaque, const struct vm_db_audit *a)
{
    json_array_append_new(opaque, json_pack("{s:I,s:I,s:s,s:s,s:s,s:i,s:s}", "id",
                                            (json_int_t)a->id, "ts_ms", (json_int_t)a->ts_ms, "who",
                                            a->who, "method", a->method, "path", a->path, "status",
                                            a->status, "result", a->result));
    return 0;
}

enum nfv_code vm_daemon_audit_list(struct vm_daemon *d, unsigned limit, json_t **ret,
                                   struct nfv_err *err)
{
    json_t *arr = json_array();
    enum nfv_code code;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    pthread_mutex_lock(&d->lock);
    code = vm_db_audit_list(d->db, limit, audit_cb, arr, err);
    pthread_mutex_unlock(&d->lock);
    if (code != NFV_OK) {
        json_decref(arr);
        return code;
    }
    *ret = json_pack("{s:o}", "audit", arr);
    return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
}
