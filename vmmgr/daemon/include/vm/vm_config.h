/*
 * vm_config.h - vmmgrd's configuration: defaults, file syntax, validation.
 *
 * Pure core: vm_config_parse() takes the file's text (vm_main.c reads it), so
 * every rule is unit-tested without a file system. The file is "key = value"
 * lines; '#' starts a comment; blank lines are ignored; values may be quoted
 * with double quotes. Errors read "FILE:LINE: 'key': reason". Command-line
 * flags go through vm_config_set() too, after the file, so they win.
 * docs/vmmgrd.md is the reference for every key.
 */
#ifndef VM_CONFIG_H
#define VM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"
#include "nfv/log.h"
#include "vm/vm_auth.h"
#include "vm/vm_uri.h"

#define VM_CONFIG_DEFAULT_FILE "/etc/vmmgr/vmmgrd.conf"
#define VM_TOKEN_MAX           256

enum vm_log_target { VM_LOG_TARGET_STDERR, VM_LOG_TARGET_SYSLOG, VM_LOG_TARGET__COUNT };

/* healing_reserve: the failure placement keeps room to rebuild group members
 * after (placement's plc_config.failure): one host, one rack, or none. */
enum vm_reserve { VM_RESERVE_HOST, VM_RESERVE_RACK, VM_RESERVE_OFF, VM_RESERVE__COUNT };
const char *vm_reserve_to_string(enum vm_reserve r);
enum vm_reserve vm_reserve_from_string(const char *s); /* VM_RESERVE__COUNT if unknown */

struct vm_config {
    char socket_path[PATH_MAX]; /* socket: Unix socket of the native API */
    unsigned socket_mode;       /* socket_mode: octal permissions, default 0660 */
    char state_dir[PATH_MAX];   /* state_dir: database, node files of simulated hosts */
    char db_path[PATH_MAX];     /* db: empty means STATE_DIR/vmmgr.db */
    char pid_file[PATH_MAX];    /* pid_file: written when daemonized or when set */
    char listen_tcp[128];       /* listen_tcp: "ADDR:PORT" for TCP, empty = off */
    char token_file[PATH_MAX];  /* api_token_file: bearer token for TCP clients */
    enum nfv_log_level log_level;
    enum vm_log_target log_target;
    unsigned keepalive_interval_s;   /* libvirt keepalive: probe every N s */
    unsigned keepalive_count;        /* ... and drop after N unanswered probes */
    unsigned reconnect_min_ms;       /* first retry delay after a lost host */
    unsigned reconnect_max_ms;       /* backoff cap */
    size_t max_body_size;            /* request bodies larger than this get 413 */
    unsigned event_keep;             /* events kept in the log (oldest pruned) */
    unsigned longpoll_max_s;         /* cap for GET /v1/events?wait= */
    enum vm_reserve healing_reserve; /* default host; a request may waive it */
    char crash_at[64];               /* debug_crash_at: OP.POINT to _exit at (crash tests) */
    /* Security (docs/vmmgrd.md "Security"). */
    char tls_cert[PATH_MAX];           /* tls_cert: PEM certificate chain for TCP */
    char tls_key[PATH_MAX];            /* tls_key: its PEM private key (0600) */
    char tls_ca[PATH_MAX];             /* tls_ca: PEM CAs; set = clients need a certificate */
    bool is_plain_tcp_allowed;         /* allow_plain_tcp: TCP without TLS, loopback only */
    unsigned max_connections;          /* global cap on open API connections */
    unsigned max_connections_per_ip;   /* cap per TCP client address */
    unsigned http_timeout_s;           /* idle connection (header, body) timeout */
    struct vm_auth_peers unix_peers;   /* unix_uid.N / unix_gid.N / unix_default_role */
    struct vm_uri_aliases uri_aliases; /* uri_alias.NAME = URI */
    /* Healing (issue 12, docs/healing.md). */
    bool is_heal_enabled;              /* heal: detect, fence, promote, rebuild (default on) */
    unsigned heal_poll_ms;             /* heal_poll_ms: BMC poll period (default 1000) */
    unsigned heal_bmc_timeout_ms;      /* heal_bmc_timeout_ms: one BMC exchange (1000) */
    unsigned heal_fence_timeout_ms;    /* heal_fence_timeout_ms: power off read back (10000) */
    unsigned heal_unreachable_periods; /* rule A: keepalive periods unreachable (3; 0 off) */
    bool is_heal_unreachable_and_off;  /* rule B (on) */
    bool is_heal_unreachable_and_sel;  /* rule C (on) */
    bool is_heal_sel_alone;            /* rule D: a critical SEL event alone (off) */
    unsigned heal_rebuild_retry_ms;    /* retry rebuilds that found no room (30000) */
    char heal_hook_exec[PATH_MAX];     /* heal_hook_exec: program given JSON on stdin */
    char heal_hook_url[512];           /* heal_hook_url: http(s) webhook (POST JSON) */
    unsigned heal_hook_timeout_ms;     /* each hook attempt (2000) */
    unsigned heal_hook_attempts;       /* attempts per hook (3) */
    /* The switch (issue 15, docs/vmmgrd.md "Networks and the switch"): only
     * from this file, never from the API. */
    char switch_target[PATH_MAX + 8]; /* switch: unix:PATH | tcp:HOST:PORT | fake: ("" = none) */
    char switch_bridge[64];           /* switch_bridge: the top-of-rack bridge (br-tor) */
    char host_bridge[64];             /* host_bridge: hosts' default integration bridge (br-int) */
    bool is_switch_confirm;           /* switch_confirm: wait for ovs-vswitchd (yes) */
    char switch_iface_type[32];       /* switch_iface_type: type of trunk ports vmmgrd creates */
    unsigned switch_timeout_ms;       /* switch_timeout_ms: per switch call (5000) */
    /* switch_bridge_datapath: create switch_bridge with this datapath type
     * (netdev, system) when missing; "" (default): never, the bridge is the
     * operator's. */
    char switch_bridge_datapath[16];
    char nova_config[PATH_MAX]; /* nova_config: Nova as the VIM (vm_nova.h), mode 0600 */
};

/* Fills @c with the documented defaults. */
void vm_config_defaults(struct vm_config *c);

/*
 * Sets one key from its text value (used by the file parser and by flags).
 * NFV_E_INVAL names the key: unknown keys, bad numbers, out of range values.
 * Keys with a name part: "uri_alias.NAME" (checked by vm_uri_check_config
 * for syntax; files are checked at start-up), "unix_uid.N" and "unix_gid.N"
 * (a role).
 */
enum nfv_code vm_config_set(struct vm_config *c, const char *key, const char *value,
                            struct nfv_err *err);

/*
 * The "key = value" line syntax of vmmgrd.conf, for other files of the same
 * syntax (nova_config): '#' comments, values optionally double-quoted (an
 * unquoted value ends at '#'), @set called per key; its errors are prefixed
 * with "FILE:LINE". NFV_E_PARSE for a line without '=' or an open quote.
 */
typedef enum nfv_code (*vm_config_set_fn)(void *opaque, const char *key, const char *value,
                                          struct nfv_err *err);
enum nfv_code vm_config_lines(const char *text, const char *file_name, vm_config_set_fn set,
                              void *opaque, struct nfv_err *err);

/*
 * Parses the text of a config file (@text, NUL-terminated) into @c, which
 * should already hold defaults. @file_name is only used in messages. On error
 * returns NFV_E_PARSE/NFV_E_INVAL with "FILE:LINE: ..." and @c may be partly
 * updated.
 */
enum nfv_code vm_config_parse(struct vm_config *c, const char *text, const char *file_name,
                              struct nfv_err *err);

/*
 * Fills derived values (db path from the state dir) and checks keys
 * together: listen_tcp needs api_token_file, and either tls_cert + tls_key
 * or allow_plain_tcp with a loopback address (127.0.0.0/8); tls_key and
 * tls_ca need tls_cert. Call after parsing.
 */
enum nfv_code vm_config_finish(struct vm_config *c, struct nfv_err *err);

/* Splits "ADDR:PORT" (ADDR may be empty for all addresses) for listen_tcp. */
enum nfv_code vm_config_split_listen(const char *listen, char *addr, size_t addr_size,
                                     unsigned *ret_port, struct nfv_err *err);

#endif /* VM_CONFIG_H */
