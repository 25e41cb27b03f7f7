/*
 * vm_sw.h - the switch port: how vmmgrd keeps VLANs on switch ports.
 *
 * A switch driver is a table of function pointers, as the host driver is
 * (vm_hv.h), so the daemon's network code never speaks a switch protocol and
 * tests can substitute a fake. The model is issue 15's: the top-of-rack
 * switch is one bridge with one trunk port per host, and vmmgr keeps each
 * host's trunk carrying exactly the VLANs of the VMs on it; VM NICs (or a
 * host's uplink in tests) are access ports with one tag.
 *
 * Drivers:
 *   vm_sw_ovsdb   Open vSwitch through ovsdb-server's JSON-RPC (RFC 7047),
 *                 vm_sw_ovsdb.c (socket I/O) over vm_sw_ovsdb_msg.c (the pure
 *                 message builders/parsers). Target "unix:/path" or
 *                 "tcp:127.0.0.1:6640".
 *   vm_sw_fake    an in-memory switch for unit tests and scale runs
 *                 (vm_sw_fake.c), target "fake:" (any suffix).
 *
 * Errors (nfv_code; the message names the object in quotes, never the
 * switch's own text, which drivers log at debug):
 *   NFV_E_INVAL        a bad VLAN id ("'vlan': 4095 is not 1..4094"), a bad
 *                      bridge or port name, a bad target
 *   NFV_E_NOENT        unknown bridge or port
 *   NFV_E_EXIST        the port exists on another bridge, or as the other kind
 *   NFV_E_UNREACHABLE  the switch cannot be reached or the connection broke
 *                      during the call (the change may or may not have been
 *                      applied: ensure_* are idempotent, so retry); the next
 *                      call reconnects
 *   NFV_E_TIMEOUT      no answer, or the switch did not confirm in time
 *   NFV_E_STATE        others kept editing the same trunks (5 re-reads), or
 *                      the database has no Open_vSwitch row (ovs-vsctl init)
 *   NFV_E_HYPERVISOR   the switch refused the change (constraint, schema)
 *   NFV_E_PARSE        the switch answered something that is not OVSDB
 *
 * A connection is used by one thread at a time (the caller's job holds it);
 * calls block for at most the open timeout.
 */
#ifndef VM_SW_H
#define VM_SW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

struct vm_sw_conn;

#define VM_SW_VLAN_MIN  1
#define VM_SW_VLAN_MAX  4094
#define VM_SW_NAME_SIZE 64 /* bridge and port names, NUL included */

/* A set of VLAN ids 0..4095 (only 1..4094 are ever set by vmmgr). */
struct vm_sw_vlanset {
    uint64_t bits[64];
};

void vm_sw_vlanset_clear(struct vm_sw_vlanset *s);
void vm_sw_vlanset_add(struct vm_sw_vlanset *s, unsigned vid);
void vm_sw_vlanset_remove(struct vm_sw_vlanset *s, unsigned vid);
bool vm_sw_vlanset_has(const struct vm_sw_vlanset *s, unsigned vid);
unsigned vm_sw_vlanset_count(const struct vm_sw_vlanset *s);
bool vm_sw_vlanset_equal(const struct vm_sw_vlanset *a, const struct vm_sw_vlanset *b);
/* Next member >= @from, or -1. Iterate with
 * for (int v = vm_sw_vlanset_next(s, 0); v >= 0; v = vm_sw_vlanset_next(s, v + 1)) */
int vm_sw_vlanset_next(const struct vm_sw_vlanset *s, unsigned from);
/* "100,200,300-310" into @buf (truncated with "..." if too small); "" when empty. */
void vm_sw_vlanset_format(const struct vm_sw_vlanset *s, char *buf, size_t buf_size);
/* Parses "100,200,300-310" (what format writes; "" is the empty set). Each id
 * must be 1..4094: NFV_E_INVAL naming @field and the bad id otherwise. */
enum nfv_code vm_sw_vlanset_parse(const char *text, const char *field, struct vm_sw_vlanset *ret,
                                  struct nfv_err *err);

/* NFV_E_INVAL "'FIELD': VID is not a VLAN id (1..4094)" unless 1 <= vid <= 4094.
 * Takes a long long so -1 and 4096 from a request are checked, not wrapped. */
enum nfv_code vm_sw_vlan_check(long long vid, const char *field, struct nfv_err *err);
/* NFV_E_INVAL naming 'vlans' unless @vlans is a non-empty set of ids 1..4094
 * (what trunk_ensure accepts). */
enum nfv_code vm_sw_trunk_vlans_check(const struct vm_sw_vlanset *vlans, struct nfv_err *err);
/* NFV_E_INVAL unless @name is a usable OVS bridge/port name: 1..15 bytes
 * (IFNAMSIZ), letters, digits, '-', '_', '.'. @what is "bridge" or "port". */
enum nfv_code vm_sw_name_check(const char *name, const char *what, struct nfv_err *err);

/* vm_sw_name_check of @bridge and @port, and NFV_E_INVAL naming 'port' when
 * @port is the bridge's own internal port (same name): vmmgr never changes
 * or deletes that one. */
enum nfv_code vm_sw_port_name_check(const char *bridge, const char *port, struct nfv_err *err);

/* One port as the switch has it. */
struct vm_sw_port_info {
    char name[VM_SW_NAME_SIZE];
    int tag;                     /* access VLAN, -1 if none */
    struct vm_sw_vlanset trunks; /* empty: not a trunk (OVS then carries all VLANs) */
};

/* What vmmgr expects on one trunk port (from the VMs on its host). */
struct vm_sw_expect {
    const char *port;
    struct vm_sw_vlanset vlans;
};

typedef int (*vm_sw_port_cb)(void *opaque, const struct vm_sw_port_info *port);

struct vm_sw_open_opts {
    unsigned timeout_ms; /* per call, 0: 5000 */
    /* Wait until the switch itself (ovs-vswitchd: Open_vSwitch cur_cfg)
     * applied each change, not only its database, as ovs-vsctl does without
     * --no-wait. Off when no vswitchd runs (a database-only test). */
    bool is_confirm;
    /* Interface type of ports the driver creates: NULL/"" the switch's
     * default (a system NIC), "dummy" in tests. */
    const char *iface_type;
};

struct vm_sw_driver {
    const char *name;

    /* Connects to @target. *ret is owned; close with close(). A driver that
     * loses its connection reconnects on the next call. */
    enum nfv_code (*open)(const char *target, const struct vm_sw_open_opts *opts,
                          struct vm_sw_conn **ret, struct nfv_err *err);
    /* Closes and frees; NULL is a no-op. */
    void (*close)(struct vm_sw_conn *conn);
    /* Keepalive: one round trip (OVSDB "echo"). NFV_E_UNREACHABLE if dead. */
    enum nfv_code (*ping)(struct vm_sw_conn *conn, struct nfv_err *err);

    /* Creates bridge @bridge if missing (ovs-vsctl --may-exist add-br), with
     * @datapath_type ("netdev" for the userspace datapath; NULL: default). */
    enum nfv_code (*bridge_ensure)(struct vm_sw_conn *conn, const char *bridge,
                                   const char *datapath_type, struct nfv_err *err);

    /* Makes port @port on @bridge a trunk carrying exactly @vlans (not empty):
     * creates it if missing, else adds the missing VLANs and removes the
     * extra ones in one transaction that first checks the trunks are still
     * what was read (a concurrent edit makes it re-read, never clobber).
     * *ret_n_added / *ret_n_removed (may be NULL) count the changes: both 0
     * means nothing was sent. NFV_E_NOENT for an unknown bridge, NFV_E_EXIST
     * if the port is on another bridge or is an access port. */
    enum nfv_code (*trunk_ensure)(struct vm_sw_conn *conn, const char *bridge, const char *port,
                                  const struct vm_sw_vlanset *vlans, unsigned *ret_n_added,
                                  unsigned *ret_n_removed, struct nfv_err *err);
    /* trunk_ensure for several ports of @bridge in ONE transaction: each
     * port in @ports carries exactly its VLANs afterwards, or nothing
     * changed. A failover's VLAN move is one call (the old host's trunk
     * loses the VLAN, the new one gains it), so the switch never carries it
     * on both or neither, and ovs-vswitchd reconfigures once.
     * *ret_n_changed (may be NULL) counts the ports changed. A port given
     * twice is NFV_E_INVAL. */
    enum nfv_code (*trunks_ensure)(struct vm_sw_conn *conn, const char *bridge,
                                   const struct vm_sw_expect *ports, size_t n_ports,
                                   unsigned *ret_n_changed, struct nfv_err *err);
    /* Makes @port on @bridge an access port with VLAN @tag (created if
     * missing, tag set if different). NFV_E_EXIST if it is a trunk. */
    enum nfv_code (*access_ensure)(struct vm_sw_conn *conn, const char *bridge, const char *port,
                                   unsigned tag, struct nfv_err *err);
    /* Reads @port's tag and trunks. NFV_E_NOENT if it is not on @bridge. */
    enum nfv_code (*port_get)(struct vm_sw_conn *conn, const char *bridge, const char *port,
                              struct vm_sw_port_info *ret, struct nfv_err *err);
    /* Removes @port from @bridge (its interface goes with it). NFV_E_NOENT
     * if it is not there, unless @is_if_exists. */
    enum nfv_code (*port_delete)(struct vm_sw_conn *conn, const char *bridge, const char *port,
                                 bool is_if_exists, struct nfv_err *err);
    /* Calls @cb for every port of @bridge but the bridge's own internal port,
     * in name order; nonzero stops. NFV_E_NOENT for an unknown bridge. */
    enum nfv_code (*port_list)(struct vm_sw_conn *conn, const char *bridge, vm_sw_port_cb cb,
                               void *opaque, struct nfv_err *err);
};

/* Expected against actual for one port (vmmgrctl switch show). */
struct vm_sw_port_state {
    char port[VM_SW_NAME_SIZE];
    bool is_expected;              /* vmmgr wants this port */
    bool is_present;               /* the switch has it */
    struct vm_sw_vlanset expected; /* empty if !is_expected */
    struct vm_sw_vlanset actual;   /* trunks; empty if !is_present */
    int tag;                       /* actual access tag, -1 if none */
    struct vm_sw_vlanset missing;  /* expected - actual */
    struct vm_sw_vlanset extra;    /* actual - expected (expected ports only) */
    bool is_drift;                 /* expected port absent, missing or extra VLANs */
};

/* Checks a trunks_ensure request before anything is sent: the bridge and
 * port names, each VLAN set (the error names the port), no port twice,
 * at least one port. */
enum nfv_code vm_sw_trunks_check(const char *bridge, const struct vm_sw_expect *ports,
                                 size_t n_ports, struct nfv_err *err);

/* Pure: compares @exp (n_exp ports) with @actual (n_actual ports as
 * port_list gives them) into *ret (owned, free()), *ret_n entries: every
 * expected port, then the ports vmmgr does not manage (is_expected false,
 * never drift). */
enum nfv_code vm_sw_compare(const struct vm_sw_expect *exp, size_t n_exp,
                            const struct vm_sw_port_info *actual, size_t n_actual,
                            struct vm_sw_port_state **ret, size_t *ret_n, struct nfv_err *err);

/* port_list through @drv then vm_sw_compare: the switch show of @bridge. */
enum nfv_code vm_sw_check(const struct vm_sw_driver *drv, struct vm_sw_conn *conn,
                          const char *bridge, const struct vm_sw_expect *exp, size_t n_exp,
                          struct vm_sw_port_state **ret, size_t *ret_n, struct nfv_err *err);

/* Repairs drift: one trunks_ensure of every expected port (one
 * transaction). *ret_n_repaired (may be NULL) counts the ports changed. */
enum nfv_code vm_sw_repair(const struct vm_sw_driver *drv, struct vm_sw_conn *conn,
                           const char *bridge, const struct vm_sw_expect *exp, size_t n_exp,
                           unsigned *ret_n_repaired, struct nfv_err *err);

extern const struct vm_sw_driver vm_sw_ovsdb;
extern const struct vm_sw_driver vm_sw_fake;

/* The driver for @target by its scheme ("unix:", "tcp:" -> vm_sw_ovsdb,
 * "fake:" -> vm_sw_fake), or NULL. */
const struct vm_sw_driver *vm_sw_driver_for(const char *target);

#endif /* VM_SW_H */
