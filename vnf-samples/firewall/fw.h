/*
 * fw.h - vmmgr-fw's pure core: the rules file, the app config and a
 * reference classifier.
 *
 * No DPDK here (fw_core.c is unit-tested in tests/unit/vnf). fw_main.c
 * compiles a struct fw_rules into an rte_acl context and runs the fast path.
 *
 * Rules file: one rule per line, first match wins (line order), '#' comments:
 *   accept|drop [src PREFIX|any] [dst PREFIX|any] [proto tcp|udp|icmp|N|any]
 *               [sport N|LO-HI|any] [dport N|LO-HI|any]
 * Omitted fields match anything. sport/dport need proto tcp or udp. A rule
 * applies to packets entering either port. Errors are "FILE:LINE: reason".
 */
#ifndef FW_H
#define FW_H

#include <stdbool.h>
#include <stdint.h>

#include "nfv/err.h"
#include "vnf/flow.h"
#include "vnf/pkt.h"

#define FW_MAX_RULES     100000
#define FW_DEFAULT_FLOWS 262144u

enum fw_action { FW_ACCEPT, FW_DROP, FW_ACTION__COUNT };

const char *fw_action_to_string(enum fw_action a);
/* Returns FW_ACTION__COUNT for anything but "accept"/"drop". */
enum fw_action fw_action_from_string(const char *s);

struct fw_rule {
    uint32_t src_ip; /* host order */
    uint32_t dst_ip;
    uint8_t src_depth; /* prefix lengths, 0 = any */
    uint8_t dst_depth;
    uint8_t proto;
    bool is_any_proto;
    uint16_t sport_lo, sport_hi;
    uint16_t dport_lo, dport_hi;
    enum fw_action action;
    unsigned lineno;
};

struct fw_rules {
    struct fw_rule *rules;
    unsigned n_rules;
    unsigned cap;
};

/*
 * Parses a rules file into a new *ret_rules (owned by the caller, free with
 * fw_rules_free). An empty file gives zero rules (the default policy decides
 * everything). Errors: NFV_E_IO, NFV_E_PARSE/NFV_E_INVAL as "FILE:LINE: reason",
 * NFV_E_NOMEM; *ret_rules is untouched on error.
 */
enum nfv_code fw_rules_load(const char *path, struct fw_rules **ret_rules, struct nfv_err *err);
/* Same from a string; @name stands for the file name in messages. */
enum nfv_code fw_rules_load_text(const char *name, const char *text, struct fw_rules **ret_rules,
                                 struct nfv_err *err);
void fw_rules_free(struct fw_rules *r);

/* Reference classifier: index of the first rule matching @p, or -1. Linear. */
int fw_rules_match(const struct fw_rules *r, const struct vnf_pkt *p);

/*
 * The worker (of @n_workers) owning @p's connection: a hash that is the same
 * for both directions, so a flow and its return traffic meet in one worker's
 * connection table.
 */
unsigned fw_flow_owner(const struct vnf_pkt *p, unsigned n_workers);

struct fw_conf {
    enum fw_action default_action;
    bool is_stateful;
    uint32_t max_flows; /* connection table size in stateful mode */
    struct vnf_timeouts tmo;
};

/* Defaults: drop, stateless, FW_DEFAULT_FLOWS, vnf_timeouts_default. */
void fw_conf_init(struct fw_conf *c);
/* Config statements: "default accept|drop", "stateful on|off", "flows N", "timeout CLASS SEC". */
enum nfv_code fw_conf_load(struct fw_conf *c, const char *path, struct nfv_err *err);
enum nfv_code fw_conf_load_text(struct fw_conf *c, const char *name, const char *text,
                                struct nfv_err *err);

#endif /* FW_H */
