/*
 * vm_hv.h - the host driver: how vmmgrd talks to a hypervisor.
 *
 * A driver is a table of function pointers (as libvirt's own drivers are), so
 * the daemon's host manager and VM lifecycle code never include libvirt.h and
 * tests can substitute a fake. The one real driver, vm_hv_libvirt
 * (vm_hv_libvirt.c), serves every URI libvirt knows: qemu:///system,
 * qemu+ssh://host/system and test:///path/node.xml simulated hosts.
 *
 * Connections report asynchronously through struct vm_hv_events, called from
 * the driver's event thread: a lost connection (keepalive timeout, daemon
 * gone) and domain lifecycle/tunable changes (for pin enforcement). Callbacks
 * must not call back into the same connection's close(); they record what
 * happened and let the daemon act on its own threads.
 *
 * Every function returns an nfv_code: NFV_E_NOENT for a missing domain,
 * NFV_E_UNREACHABLE for a dead connection, NFV_E_HYPERVISOR for anything else
 * libvirt refuses, with libvirt's message.
 */
#ifndef VM_HV_H
#define VM_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "pin/cpuset.h"
#include "pin/topo.h"

struct vm_hv_conn;

enum vm_hv_dom_state {
    VM_HV_DOM_SHUTOFF,
    VM_HV_DOM_RUNNING,
    VM_HV_DOM_PAUSED,
    VM_HV_DOM_OTHER, /* crashed, suspended, in transition */
    VM_HV_DOM__COUNT
};

const char *vm_hv_dom_state_to_string(enum vm_hv_dom_state s);

enum vm_hv_dom_event {
    VM_HV_EV_DEFINED,
    VM_HV_EV_UNDEFINED,
    VM_HV_EV_STARTED,
    VM_HV_EV_STOPPED,
    VM_HV_EV_REBOOTED,
    VM_HV_EV_TUNED,   /* <cputune> changed (vcpupin, emulatorpin) */
    VM_HV_EV_CRASHED, /* stopped by a failure (QEMU died, guest crash), not by a request */
    VM_HV_EV_OTHER,
    VM_HV_EV__COUNT
};

const char *vm_hv_dom_event_to_string(enum vm_hv_dom_event e);

struct vm_hv_events {
    /* The connection died; @reason is a short static description. */
    void (*on_lost)(void *opaque, struct vm_hv_conn *conn, const char *reason);
    /* Something happened to domain @name, whose UUID is @uuid ("" if it
     * could not be read). vmmgrd matches by UUID: a name can be reused. */
    void (*on_domain)(void *opaque, struct vm_hv_conn *conn, const char *name, const char *uuid,
                      enum vm_hv_dom_event ev);
};

struct vm_hv_open_opts {
    unsigned keepalive_interval_s; /* 0: no keepalive */
    unsigned keepalive_count;
    const struct vm_hv_events *events; /* may be NULL */
    void *opaque;                      /* passed to the callbacks */
};

struct vm_hv_node_info {
    char model[32];
    uint64_t memory_kib;
    unsigned n_cpus;
    unsigned n_nodes, n_sockets, n_cores, n_threads; /* libvirt's virNodeInfo view */
};

#define VM_HV_UUID_STR 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */

/* A domain's current job (a migration), from virDomainGetJobInfo. */
struct vm_hv_job_info {
    bool is_active;          /* a job runs (else the numbers are 0) */
    uint64_t elapsed_ms;     /* since the job started */
    uint64_t data_total;     /* bytes to transfer (guest memory), 0 = unknown */
    uint64_t data_processed; /* bytes sent so far */
    uint64_t data_remaining; /* bytes still dirty / to send */
};

#define VM_HV_MIGRATE_LIVE 0x1u /* the guest keeps running (else it must be shut off) */

typedef int (*vm_hv_domain_cb)(void *opaque, const char *name, enum vm_hv_dom_state state);

struct vm_hv_driver {
    const char *name;

    /* Opens @uri. *ret is owned; close with close(). */
    enum nfv_code (*open)(const char *uri, const struct vm_hv_open_opts *opts,
                          struct vm_hv_conn **ret, struct nfv_err *err);
    /* Closes and frees; NULL is a no-op. No callback fires after it returns. */
    void (*close)(struct vm_hv_conn *conn);
    /* False once the connection was lost. */
    bool (*is_alive)(struct vm_hv_conn *conn);

    enum nfv_code (*node_info)(struct vm_hv_conn *conn, struct vm_hv_node_info *ret,
                               struct nfv_err *err);
    /* The host's CPU topology as libvirt's capabilities describe it (cells,
     * sockets, cores, siblings): for remote hosts without an hwloc file.
     * *ret is a sealed topology with one reference. */
    enum nfv_code (*topology)(struct vm_hv_conn *conn, struct pin_topo **ret, struct nfv_err *err);

    enum nfv_code (*domain_define)(struct vm_hv_conn *conn, const char *xml, struct nfv_err *err);
    /* Undefines (destroying first if running). NFV_E_NOENT if unknown. */
    enum nfv_code (*domain_undefine)(struct vm_hv_conn *conn, const char *name,
                                     struct nfv_err *err);
    enum nfv_code (*domain_start)(struct vm_hv_conn *conn, const char *name, struct nfv_err *err);
    /* Graceful shutdown, or destroy when @is_force. */
    enum nfv_code (*domain_stop)(struct vm_hv_conn *conn, const char *name, bool is_force,
                                 struct nfv_err *err);
    enum nfv_code (*domain_reboot)(struct vm_hv_conn *conn, const char *name, struct nfv_err *err);
    enum nfv_code (*domain_state)(struct vm_hv_conn *conn, const char *name,
                                  enum vm_hv_dom_state *ret, struct nfv_err *err);
    /* True if the host can run KVM guests (libvirt's domain capabilities
     * for virttype kvm); false means QEMU's TCG only. Optional (NULL: the
     * daemon looks at this machine's /dev/kvm). */
    bool (*has_kvm)(struct vm_hv_conn *conn);
    /* The UUID of domain @name into @ret_uuid (VM_HV_UUID_STR bytes). */
    enum nfv_code (*domain_uuid)(struct vm_hv_conn *conn, const char *name, char *ret_uuid,
                                 struct nfv_err *err);
    /* Calls @cb for every domain (defined or running); nonzero stops. */
    enum nfv_code (*domain_list)(struct vm_hv_conn *conn, vm_hv_domain_cb cb, void *opaque,
                                 struct nfv_err *err);
    /* True if domain @name carries vmmgr's metadata element (urn:vmmgr:vm:1),
     * i.e. some vmmgrd defined it. */
    bool (*domain_is_vmmgr)(struct vm_hv_conn *conn, const char *name);
    /* Live (and persistent) pin of one vCPU. */
    enum nfv_code (*vcpu_pin)(struct vm_hv_conn *conn, const char *name, unsigned vcpu,
                              const struct pin_cpuset *pus, struct nfv_err *err);
    /* Reads the pins of vCPUs 0..@n_vcpus-1 of a running domain. */
    enum nfv_code (*vcpu_pins)(struct vm_hv_conn *conn, const char *name, unsigned n_vcpus,
                               struct pin_cpuset *ret_pus, struct nfv_err *err);
    /* Live (and persistent) pin of the emulator threads. Optional: a driver
     * without emulator pins leaves both NULL and drift checks skip them. */
    enum nfv_code (*emulator_pin)(struct vm_hv_conn *conn, const char *name,
                                  const struct pin_cpuset *pus, struct nfv_err *err);
    /* Reads the emulator threads' pin of a domain (live when running). */
    enum nfv_code (*emulator_pins)(struct vm_hv_conn *conn, const char *name,
                                   struct pin_cpuset *ret_pus, struct nfv_err *err);

    /* ---- issue 16: migration (optional: NULL in drivers without it) ---- */
    /* The domain's XML into *ret (owned, free()); @is_migratable: the form
     * a migration's destination XML is derived from (no secrets, no
     * defaults the destination must not see). */
    enum nfv_code (*domain_xml)(struct vm_hv_conn *conn, const char *name, bool is_migratable,
                                char **ret, struct nfv_err *err);
    /* Migrates domain @name from @src to @dst with @dxml as its definition
     * there (same UUID; the new <cputune>), persistent at the destination
     * and undefined at the source; @flags VM_HV_MIGRATE_*. Blocks until the
     * migration ends; on failure libvirt leaves the guest on @src. */
    enum nfv_code (*domain_migrate)(struct vm_hv_conn *src, struct vm_hv_conn *dst,
                                    const char *name, const char *dxml, unsigned flags,
                                    struct nfv_err *err);
    /* The domain's current job (progress of a migration in flight). */
    enum nfv_code (*domain_job_info)(struct vm_hv_conn *conn, const char *name,
                                     struct vm_hv_job_info *ret, struct nfv_err *err);
};

/* The libvirt driver. Call vm_hv_libvirt_init() once before opening (it
 * registers libvirt's event loop and starts its thread) and
 * vm_hv_libvirt_shutdown() after closing every connection. */
extern const struct vm_hv_driver vm_hv_libvirt;
enum nfv_code vm_hv_libvirt_init(struct nfv_err *err);
void vm_hv_libvirt_shutdown(void);

#endif /* VM_HV_H */
