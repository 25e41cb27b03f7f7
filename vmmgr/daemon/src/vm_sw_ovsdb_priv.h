/*
 * vm_sw_ovsdb_priv.h - the OVSDB driver's pure half, seen by the driver
 * (vm_sw_ovsdb.c) and the golden-JSON unit tests only.
 *
 * vm_sw_ovsdb_msg.c builds the JSON-RPC requests (RFC 7047 section 4) and
 * parses the answers; it does no I/O and reads no clock. Builders return a
 * new reference (json_decref it); parsers borrow their input.
 */
#ifndef VM_SW_OVSDB_PRIV_H
#define VM_SW_OVSDB_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"
#include "vm/vm_sw.h"

#define VM_SW_OVSDB_DB "Open_vSwitch"

/* {"method": M, "params": take_params, "id": id}. */
json_t *vm_sw_ovsdb_request_new(const char *method, json_t *take_params, json_int_t id);
/* The reply to a server's "echo" request: {"result": params, "error": null, "id": id}. */
json_t *vm_sw_ovsdb_echo_reply_new(json_t *request);
/* "monitor" params: [db, "vmmgr-cfg", {"Open_vSwitch": {"columns": ["cur_cfg"]}}]. */
json_t *vm_sw_ovsdb_monitor_params_new(void);

/*
 * Length of the first complete JSON value in @buf[0..len) (leading white
 * space included), or 0 if it is not complete yet. OVSDB streams JSON texts
 * back to back with no framing; this only balances brackets outside strings,
 * jansson then parses the piece. (size_t)-1 if the stream is not JSON.
 */
size_t vm_sw_ovsdb_frame(const char *buf, size_t len);

/* Reads, as one transaction: the Open_vSwitch row (_uuid, next_cfg), the
 * bridge @bridge (_uuid, ports) and the Port rows named @ports (one select
 * each; all Port rows when @n_ports is 0): _uuid, name, tag, trunks. */
json_t *vm_sw_ovsdb_read_txn_new(const char *bridge, const char *const *ports, size_t n_ports);

/* What a read transaction found. */
struct vm_sw_ovsdb_view {
    bool has_ovs_row;
    char ovs_uuid[40];
    long long next_cfg; /* Open_vSwitch.next_cfg, -1 if unknown */
    bool has_bridge;
    char bridge_uuid[40];
    char (*bridge_ports)[40]; /* the bridge's port UUIDs (owned) */
    size_t n_bridge_ports;
    struct vm_sw_ovsdb_port *ports; /* Port rows selected (owned) */
    size_t n_ports;
};

struct vm_sw_ovsdb_port {
    char uuid[40];
    struct vm_sw_port_info info;
};

void vm_sw_ovsdb_view_free(struct vm_sw_ovsdb_view *v); /* frees the arrays, not @v */
/* Parses the result array of vm_sw_ovsdb_read_txn_new's transaction. */
enum nfv_code vm_sw_ovsdb_view_parse(json_t *result, struct vm_sw_ovsdb_view *ret,
                                     struct nfv_err *err);
/* True if port UUID @uuid is one of the bridge's ports. */
bool vm_sw_ovsdb_view_on_bridge(const struct vm_sw_ovsdb_view *v, const char *uuid);

/* Write transactions: vm_sw_ovsdb_txn_new starts one ([db, a "comment"
 * op naming @what and @object, which ovsdb-server logs]), appenders add
 * operations, vm_sw_ovsdb_txn_finish ends it and returns it. With
 * @is_confirm it adds next_cfg += 1 on the Open_vSwitch row and a select of
 * next_cfg (the value to wait for in cur_cfg), as ovs-vsctl does. */
json_t *vm_sw_ovsdb_txn_new(const char *what, const char *object);
json_t *vm_sw_ovsdb_txn_finish(json_t *txn, bool is_confirm);

/* A new port on @bridge: Interface (type @iface_type unless NULL/""), Port
 * (trunks @trunks when not NULL, else tag @tag), the bridge's ports mutated
 * to insert it, linked by named-uuid "ifaceIDX"/"portIDX" (@idx unique in
 * the transaction). */
void vm_sw_ovsdb_port_create_append(json_t *txn, unsigned idx, const char *bridge, const char *port,
                                    const char *iface_type, const struct vm_sw_vlanset *trunks,
                                    int tag);
/* Trunk change on Port @uuid: wait until trunks == @actual (timeout 0: the
 * transaction fails at once if someone changed it since it was read), then
 * mutate insert @add and delete @remove (each only if not empty). */
void vm_sw_ovsdb_trunk_change_append(json_t *txn, const char *uuid,
                                     const struct vm_sw_vlanset *actual,
                                     const struct vm_sw_vlanset *add,
                                     const struct vm_sw_vlanset *remove);

/* Sets Port @uuid's tag. */
json_t *vm_sw_ovsdb_tag_set_txn_new(const char *uuid, unsigned tag, bool is_confirm);
/* Removes Port @uuid from @bridge's ports (OVSDB garbage-collects the Port
 * and its Interface). */
json_t *vm_sw_ovsdb_port_delete_txn_new(const char *bridge, const char *uuid, bool is_confirm);
/* A new bridge with its internal port, linked into Open_vSwitch row @ovs_uuid. */
json_t *vm_sw_ovsdb_bridge_create_txn_new(const char *ovs_uuid, const char *bridge,
                                          const char *datapath_type, bool is_confirm);

/* The outcome of a write transaction. */
enum vm_sw_ovsdb_txn_status {
    VM_SW_OVSDB_TXN_OK,
    VM_SW_OVSDB_TXN_RACE,    /* a "wait" timed out: re-read and try again */
    VM_SW_OVSDB_TXN_NO_ROW,  /* a mutate/update matched no row (object gone) */
    VM_SW_OVSDB_TXN_REFUSED, /* any other error (constraint, integrity, ...) */
};

/*
 * Parses a transact result (RFC 7047 5.2: one object per operation, plus
 * one for a commit error). *ret_next_cfg receives the selected next_cfg
 * (-1 if none). @ret_detail (may be NULL) receives the server's error and
 * details, for the debug log only.
 */
enum nfv_code vm_sw_ovsdb_txn_parse(json_t *result, enum vm_sw_ovsdb_txn_status *ret_status,
                                    long long *ret_next_cfg, char *ret_detail, size_t detail_size,
                                    struct nfv_err *err);

/* cur_cfg out of a monitor reply or "update" notification's table-updates
 * (monitor v1: {"Open_vSwitch": {uuid: {"new": {"cur_cfg": N}}}}). False if
 * absent. */
bool vm_sw_ovsdb_cur_cfg_parse(json_t *updates, long long *ret);

#endif /* VM_SW_OVSDB_PRIV_H */
