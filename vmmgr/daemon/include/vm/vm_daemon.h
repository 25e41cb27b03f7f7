/*
 * vm_daemon.h - vmmgrd's service layer: the daemon context and what the
 * native API asks of it.
 *
 * vm_main.c creates one struct vm_daemon, vm_api.c turns HTTP requests into
 * the calls below, and they work on the state database (vm_db.h), the host
 * connections (vm_hv.h) and the pure rules (vm_state.h, vm_journal.h).
 * One mutex serializes all state changes; long waits (event long-poll) use a
 * condition variable on it. A monitor thread reconnects lost hosts with
 * backoff and turns libvirt callbacks (queued by the event thread, never
 * handled there) into state changes and events.
 *
 * Results are JSON documents built here (the API's response bodies); errors
 * are nfv_err with the field or object named.
 */
#ifndef VM_DAEMON_H
#define VM_DAEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "vm/vm_config.h"
#include "vm/vm_hv.h"
#include "vm/vm_metrics.h"
#include "vm/vm_state.h"

struct vm_daemon;

/*
 * Opens the database, runs journal recovery, connects every known host and
 * starts the monitor thread. @cfg is copied; @hv is the host driver (borrowed,
 * static). *ret is owned; release with vm_daemon_free() after vm_daemon_stop().
 */
enum nfv_code vm_daemon_new(const struct vm_config *cfg, const struct vm_hv_driver *hv,
                            struct vm_daemon **ret, struct nfv_err *err);
/* Wakes long-polls and stops the monitor thread (before the HTTP server stops). */
void vm_daemon_stop(struct vm_daemon *d);
/* Closes connections and the database. NULL is a no-op. */
void vm_daemon_free(struct vm_daemon *d);

/* True until start-up recovery (connects, journal, reconcile) is done:
 * the API refuses changes meanwhile (503), reads are answered. */
bool vm_daemon_is_recovering(struct vm_daemon *d);

/* Milliseconds since the epoch (the daemon's one clock). */
int64_t vm_daemon_now_ms(void);

/* Records an event (event log + waking long-polls + an info/warn log line). */
void vm_daemon_event(struct vm_daemon *d, enum vm_severity sev, const char *type,
                     const char *object, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Counts an HTTP response for the metrics. */
void vm_daemon_count_http(struct vm_daemon *d, int status);

/* ---- API operations (each returns a new JSON reference in *ret) ---- */

enum nfv_code vm_daemon_status(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
/* Events after @since_id (at most @limit); waits up to @wait_s for one. */
enum nfv_code vm_daemon_events(struct vm_daemon *d, int64_t since_id, unsigned limit,
                               unsigned wait_s, json_t **ret, struct nfv_err *err);
/* Prometheus text (malloc'ed) in *ret_text. */
enum nfv_code vm_daemon_metrics(struct vm_daemon *d, char **ret_text, struct nfv_err *err);

enum nfv_code vm_daemon_host_add(struct vm_daemon *d, const json_t *body, json_t **ret,
                                 struct nfv_err *err);
enum nfv_code vm_daemon_host_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
enum nfv_code vm_daemon_host_show(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err);
/* Body {"state":"up"|"maintenance"}. */
enum nfv_code vm_daemon_host_update(struct vm_daemon *d, const char *name, const json_t *body,
                                    json_t **ret, struct nfv_err *err);
enum nfv_code vm_daemon_host_remove(struct vm_daemon *d, const char *name, json_t **ret,
                                    struct nfv_err *err);

/* VMs: body as documented in docs/vmmgrd.md (POST /v1/vms). */
/* @is_async: answer {"operation_id"} once the PUs are reserved and journaled,
 * and finish on a worker thread (poll GET /v1/operations/ID). */
enum nfv_code vm_daemon_vm_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                  json_t **ret, struct nfv_err *err);
/* GET /v1/vms as JSON text (malloc'ed), built without a JSON tree: fast at 10,000 VMs. */
enum nfv_code vm_daemon_vm_list_text(struct vm_daemon *d, char **ret_text, struct nfv_err *err);
enum nfv_code vm_daemon_vm_show(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err);
/* @action: start, stop, reboot (POST /v1/vms/NAME/ACTION). */
enum nfv_code vm_daemon_vm_action(struct vm_daemon *d, const char *name, const char *action,
                                  const json_t *body, json_t **ret, struct nfv_err *err);
enum nfv_code vm_daemon_vm_delete(struct vm_daemon *d, const char *name, json_t **ret,
                                  struct nfv_err *err);
/* Plan next to the live pins libvirt reports. */
enum nfv_code vm_daemon_vm_pins(struct vm_daemon *d, const char *name, json_t **ret,
                                struct nfv_err *err);
/* Groups: create places all members or none. */
enum nfv_code vm_daemon_group_create(struct vm_daemon *d, const json_t *body, bool is_async,
                                     json_t **ret, struct nfv_err *err);
enum nfv_code vm_daemon_group_list(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
enum nfv_code vm_daemon_group_show(struct vm_daemon *d, const char *name, json_t **ret,
                                   struct nfv_err *err);

/* Healing (issue 12): each host's state and each group's protection. */
enum nfv_code vm_daemon_heal_status(struct vm_daemon *d, json_t **ret, struct nfv_err *err);
/* The newest @limit (1..1000) healing events, oldest first. */
enum nfv_code vm_daemon_heal_history(struct vm_daemon *d, unsigned limit, json_t **ret,
                                     struct nfv_err *err);
/* Body {"confirm_dead": true}: the operator says host @name is off. */
enum nfv_code vm_daemon_host_fence(struct vm_daemon *d, const char *name, const json_t *body,
                                   json_t **ret, struct nfv_err *err);
/* A repaired host: its stale domains removed, back up. */
enum nfv_code vm_daemon_host_recover(struct vm_daemon *d, const char *name, json_t **ret,
                                     struct nfv_err *err);
enum nfv_code vm_daemon_op_list(struct vm_daemon *d, unsigned limit, json_t **ret,
                                struct nfv_err *err);
enum nfv_code vm_daemon_op_show(struct vm_daemon *d, int64_t id, json_t **ret, struct nfv_err *err);

#endif /* VM_DAEMON_H */
