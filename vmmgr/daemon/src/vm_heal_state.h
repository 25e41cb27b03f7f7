/*
 * vm_heal_state.h - each host's healing state inside vmmgrd: the pure state
 * machine of healing/ (heal/sm.h) fed under the daemon lock, persisted with
 * the host (host_heal), its BMC settings (the password in a 0600 file under
 * STATE_DIR/bmc/), and the actions it asks for queued for the healer thread
 * (vm_heal.c) as h->heal_todo bits.
 *
 * Called by vm_host (add, load, connect), vm_monitor (connection lost) and
 * vm_heal. Calls vm_ctx and vm_place.
 */
#ifndef VM_HEAL_STATE_H
#define VM_HEAL_STATE_H

#include "heal/mon.h"
#include "vm_daemon_priv.h"

/* What a host add's "bmc" object asked for, checked. */
struct vm_heal_bmc {
    bool is_set;
    struct heal_mon_config cfg; /* address, user; password_file = where it is kept */
    char password[HEAL_MON_PASSWORD_SIZE];
};

/* The rules from the config (lock not needed: start-up). */
void vm_heal_rules_from_config(const struct vm_config *cfg, struct heal_rules *ret);

/*
 * Checks a host add's "bmc" object ({"address", "user", "password"}; NULL
 * or absent: no BMC) for host @host: NFV_E_INVAL naming the field
 * ('bmc.address': ...). Touches nothing. Lock not needed.
 */
enum nfv_code vm_heal_bmc_parse(struct vm_daemon *d, const char *host, const json_t *bmc,
                                struct vm_heal_bmc *ret, struct nfv_err *err);
/* Writes the password file (0600, in a 0700 directory). Lock not needed. */
enum nfv_code vm_heal_bmc_write(const struct vm_heal_bmc *bmc, struct nfv_err *err);
/* The password file of host @host (STATE_DIR/bmc/HOST.password). */
enum nfv_code vm_heal_bmc_path(struct vm_daemon *d, const char *host, char *buf, size_t size,
                               struct nfv_err *err);

/* A new host (row @h->id inserted, in the caller's transaction): UP, with
 * @bmc (may be unset); its healing row is written. Lock held. */
enum nfv_code vm_heal_host_added(struct vm_daemon *d, struct host_rt *h,
                                 const struct vm_heal_bmc *bmc, struct nfv_err *err);
/* A loaded host: its persisted state back, and the work that state implies
 * (FAILED: fence again; FENCED: promote and rebuild). Lock held. */
void vm_heal_host_loaded(struct vm_daemon *d, struct host_rt *h);
/* A removed host: its password file goes. Lock held. */
void vm_heal_host_removed(struct vm_daemon *d, const char *name);

/* Feeds @kind (now) to @h's state machine: persists a state change, emits
 * the event, queues the actions for the healer, wakes it. Lock held. */
void vm_heal_feed(struct vm_daemon *d, struct host_rt *h, enum heal_input_kind kind);
/* The same with a full input (BMC power, SEL kind). */
void vm_heal_feed_input(struct vm_daemon *d, struct host_rt *h, const struct heal_input *in);

/* True when placement must not put anything new on @h (suspect or worse). */
bool vm_heal_is_unplaceable(const struct host_rt *h);

/* {"state", "since", "reason", "bmc": {...}} of @h. Lock held. */
json_t *vm_heal_host_json(const struct host_rt *h);

#endif /* VM_HEAL_STATE_H */
