/*
 * ctl_verbs.h - every vmmgrctl verb handler (signature ctl_verb_fn), declared
 * once: ctl_main.c puts them in its verb table, each ctl_<group>.c defines
 * its own. A new verb: its line here, its table line in ctl_main.c.
 */
#ifndef VMMGR_CTL_VERBS_H
#define VMMGR_CTL_VERBS_H

#include "ctl.h"

/* ctl_main.c */
enum nfv_code ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_pin.c: offline pinning */
enum nfv_code ctl_cmd_topology(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_plan(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_place.c: offline placement */
enum nfv_code ctl_cmd_place(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_evacuate_plan(struct ctl_ctx *ctx, int argc, char **argv,
                                    struct nfv_err *err);
enum nfv_code ctl_cmd_drain_plan(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_daemon.c: the daemon itself */
enum nfv_code ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_events(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_audit(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_operation_show(struct ctl_ctx *ctx, int argc, char **argv,
                                     struct nfv_err *err);

/* ctl_host.c: /v1/hosts */
enum nfv_code ctl_cmd_host_add(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_set(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_remove(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_heal.c: healing (/v1/heal, host fence/recover) */
enum nfv_code ctl_cmd_heal_status(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_heal_history(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_fence(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_recover(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_vm.c: /v1/vms and /v1/groups */
enum nfv_code ctl_cmd_vm_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_pins(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_start(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_stop(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_reboot(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_delete(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_group_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_group_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_group_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

/* ctl_net.c: /v1/networks and /v1/switch (issue 15) */
enum nfv_code ctl_cmd_net_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_net_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_net_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_net_delete(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_switch_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_switch_repair(struct ctl_ctx *ctx, int argc, char **argv,
                                    struct nfv_err *err);
/* ctl_migrate.c: re-pin, migrate, drain, defragment (issue 16) */
enum nfv_code ctl_cmd_vm_repin(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_vm_migrate(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_drain(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_cluster_defragment(struct ctl_ctx *ctx, int argc, char **argv,
                                         struct nfv_err *err);

#endif /* VMMGR_CTL_VERBS_H */
