/*
 * ctl_main.c - vmmgrctl entry point: global options and the verb table.
 *
 * Global options may stand before or after the verb (as with systemctl):
 *   --json[=pretty|short|off]  --no-legend  --socket PATH  --timeout MS
 *   --url https://HOST:PORT  --cacert FILE  --token-file FILE
 *   --quiet  --help  --version
 * The API token comes from --token-file or the VMMGR_TOKEN environment
 * variable (never from the command line, where ps shows it to everyone).
 * They are removed from argv before the verb's handler sees its arguments.
 * Exit codes follow nfv_code_exit(): 0 ok, 2 usage, 3 not found, 4 conflict,
 * 5 no capacity, 6 daemon unreachable, 7 permission, 8 timeout, 1 other.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "nfv/log.h"

#define CTL_DEFAULT_SOCKET "/run/vmmgr/vmmgrd.sock"

/* Every verb; handlers are declared in ctl_verbs.h. */
static const struct ctl_verb verbs[] = {
    {"version", "", "Print the vmmgrctl version.", ctl_cmd_version},
    {"status", "", "Show vmmgrd's version, uptime, hosts and journal.", ctl_cmd_status},
    {"events", "[--since ID] [--limit N] [--follow]",
     "List the event log; --follow waits for new events.", ctl_cmd_events},
    {"metrics", "", "Print vmmgrd's Prometheus metrics.", ctl_cmd_metrics},
    {"audit", "", "Show who changed what and how it ended, newest first (admin).", ctl_cmd_audit},
    {"operation show", "ID [--wait]",
     "Show a journaled operation (e.g. an --async create); --wait polls until it ends.",
     ctl_cmd_operation_show},
    {"host add",
     "NAME --uri URI [--synthetic S | --hwloc-xml F] [--reserved SET] [--dedicated SET] "
     "[--label K=V ...] [--bridge BR] [--switch-port PORT] [--bmc ADDR[:PORT] --bmc-user USER "
     "--bmc-password-file FILE]",
     "Register a host (test:/// simulates one from the topology).", ctl_cmd_host_add},
    {"host list", "", "List hosts with state, PUs, pools and VM counts.", ctl_cmd_host_list},
    {"host show", "NAME", "Show a host and its core map (who holds each PU).", ctl_cmd_host_show},
    {"host set", "NAME --state up|maintenance", "Put a host in or out of maintenance.",
     ctl_cmd_host_set},
    {"host remove", "NAME [--if-exists]", "Forget a host that has no VMs.", ctl_cmd_host_remove},
    {"host fence", "NAME --confirm-dead",
     "Say a failed host is off: its standbys take over and its VMs are rebuilt elsewhere.",
     ctl_cmd_host_fence},
    {"host recover", "NAME",
     "Bring a repaired host back: the domains it may still hold are removed, then it is up.",
     ctl_cmd_host_recover},
    {"heal status", "", "Show each host's healing state and each group's protection.",
     ctl_cmd_heal_status},
    {"heal history", "[--limit N]",
     "Show the healing events (detection, fence, promotion, rebuild).", ctl_cmd_heal_history},
    {"vm create",
     "NAME --vcpus N --memory MIB [--cpu-mode exclusive|shared|numbered] [--cpu-map V:P,...] "
     "[--shared-vcpus LIST] [--thread-policy P] [--emulator E] [--numa-node N] [--host H] "
     "[--group G --role act|sby] [--disk PATH] [--nic bridge:BR|network:NET|vhostuser:PATH ...] "
     "[--net NETWORK ...] [--dry-run] [--async] [--ignore-reserve]",
     "Place, pin, define and start a VM; verify its pins.", ctl_cmd_vm_create},
    {"vm list", "", "List VMs with host, state, role and PUs.", ctl_cmd_vm_list},
    {"vm show", "NAME", "Show a VM, its peers and its pin plan.", ctl_cmd_vm_show},
    {"vm pins", "NAME", "Show the live pins libvirt reports next to the plan.", ctl_cmd_vm_pins},
    {"vm start", "NAME", "Start a VM (pins verified).", ctl_cmd_vm_start},
    {"vm stop", "NAME [--force]", "Shut a VM down (destroyed after 10 s, or at once with --force).",
     ctl_cmd_vm_stop},
    {"vm reboot", "NAME", "Reset a VM (pins verified).", ctl_cmd_vm_reboot},
    {"vm delete", "NAME [--if-exists]", "Destroy and undefine a VM; release its PUs.",
     ctl_cmd_vm_delete},
    /* issue 16 (ctl_migrate.c) */
    {"vm repin",
     "NAME [--cpu-mode M] [--cpu-map V:P,...] [--shared-vcpus LIST] [--thread-policy P] "
     "[--emulator E] [--numa-node N] [--dry-run] [--ignore-reserve]",
     "Pin a VM to new cores or a new CPU mode on its host, live; verified, rolled back on failure.",
     ctl_cmd_vm_repin},
    {"vm migrate", "NAME [--host H] [--live | --cold] [--dry-run] [--ignore-reserve] [--async]",
     "Move a VM to another host (placement chooses without --host) with new pins there.",
     ctl_cmd_vm_migrate},
    {"host drain", "NAME [--dry-run]",
     "Put a host in maintenance and move every VM off it (SBYs first, fewest moves).",
     ctl_cmd_host_drain},
    {"cluster defragment",
     "--vcpus N [--memory MIB] [--cpu-mode M] [--thread-policy P] [--max-moves N] [--dry-run]",
     "Make room for a VM of that shape with the fewest moves, and move.",
     ctl_cmd_cluster_defragment},
    {"group create",
     "NAME --scope host|rack|zone|power --member NAME:ROLE:SPEC ... [--dry-run] [--async] "
     "[--ignore-reserve]",
     "Create an ACT/SBY group: all members placed and started, or none.", ctl_cmd_group_create},
    {"group list", "", "List redundancy groups.", ctl_cmd_group_list},
    /* issue 15: networks (VLANs) and the top-of-rack switch */
    {"net create", "NAME --vlan ID", "Create a network: a VLAN (1..4094) VM NICs can join.",
     ctl_cmd_net_create},
    {"net list", "", "List networks with their VLAN and VM count.", ctl_cmd_net_list},
    {"net show", "NAME", "Show a network and the VMs and hosts on it.", ctl_cmd_net_show},
    {"net delete", "NAME [--if-exists]", "Delete a network no VM uses.", ctl_cmd_net_delete},
    {"switch show", "", "Per trunk port: the VLANs expected (VMs on its host) and actual.",
     ctl_cmd_switch_show},
    {"switch repair", "", "Make every trunk port carry exactly its expected VLANs.",
     ctl_cmd_switch_repair},
    {"group show", "NAME", "Show a group's members, roles and hosts.", ctl_cmd_group_show},
    {"place", "--cluster FILE --request FILE [--explain]",
     "Place a VM or an ACT/SBY group on a cluster file (offline what-if).", ctl_cmd_place},
    {"evacuate-plan", "--cluster FILE (--host NAME | --rack NAME)",
     "Plan the promotions and rebuilds after a host or rack fails.", ctl_cmd_evacuate_plan},
    {"drain-plan", "--cluster FILE (--host NAME | --request FILE [--max-moves N])",
     "Plan the fewest moves that empty a host, or that make room for a request.",
     ctl_cmd_drain_plan},
    {"topology", "[--hwloc-xml FILE | --synthetic DESC]",
     "Show a host's packages, NUMA nodes, cores with their PUs, and NICs.", ctl_cmd_topology},
    {"plan",
     "--vcpus N [--cpu-mode exclusive|shared|numbered] [--cpu-map V:P,...] [--shared-vcpus LIST] "
     "[--shared-pus N] [--thread-policy isolate|prefer|require] "
     "[--emulator reserved|shared|isolate|vcpus] [--numa single|spread] "
     "[--numa-node N | --nic NAME [--nic-policy required|preferred]] [--iothreads N] "
     "[--memory MIB] [--hugepages KIB] "
     "[[--reserved SET] [--dedicated SET] [--shared-pool SET] | --allocation FILE] "
     "[--save FILE --owner NAME] [--hwloc-xml F | --synthetic S] [--xml]",
     "Plan vCPU pinning on an empty host (or on a recorded one, --allocation; --save claims "
     "it); print a table, --json or the libvirt --xml.",
     ctl_cmd_plan},
};

static const size_t n_verbs = sizeof(verbs) / sizeof(verbs[0]);

static void print_help(FILE *out)
{
    fprintf(out, "Usage: vmmgrctl [OPTIONS] VERB [ARGS...]\n\n"
                 "CPU-pinning VM manager for packet-switching VNFs.\n\n"
                 "Options:\n"
                 "  --json[=pretty|short|off]\n"
                 "                         print JSON instead of a table\n"
                 "  --no-legend            omit table headers\n"
                 "  --socket PATH          vmmgrd socket (default " CTL_DEFAULT_SOCKET ")\n"
                 "  --timeout MS           give up on the daemon after MS milliseconds\n"
                 "  --url https://H:P      talk to vmmgrd over TCP (or VMMGR_URL)\n"
                 "  --cacert FILE          CA certificate for --url (or VMMGR_CACERT)\n"
                 "  --token-file FILE      API token, mode 0600 (or VMMGR_TOKEN)\n"
                 "  --quiet, -q            no progress lines\n"
                 "  --help, -h, --version\n\n"
                 "Verbs:\n");
    for (size_t i = 0; i < n_verbs; i++)
        fprintf(out, "  %-16s %s\n      %s\n", verbs[i].name, verbs[i].usage, verbs[i].help);
}

enum nfv_code ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    json_t *v;

    (void)argv;
    if (argc > 1)
        return NFV_ERR(err, NFV_E_INVAL, "version: takes no arguments");
    if (ctx->fmt == NFV_OUT_TABLE) {
        printf("vmmgrctl %s\n", VMMGR_VERSION);
        return NFV_OK;
    }
    v = json_pack("{s:s}", "version", VMMGR_VERSION);
    ctl_print_json(ctx, v);
    json_decref(v);
    return NFV_OK;
}

enum nfv_code ctl_print_table(const struct ctl_ctx *ctx, const struct nfv_table *t)
{
    return nfv_table_render(t, ctx->fmt, ctx->table_flags, stdout);
}

void ctl_print_json(const struct ctl_ctx *ctx, const json_t *v)
{
    nfv_json_print(v, ctx->fmt == NFV_OUT_TABLE ? NFV_OUT_JSON_PRETTY : ctx->fmt, stdout);
}

const char *ctl_opt_next(int argc, char **argv, int *idx, const char *const *spec,
                         const char **ret_value, struct nfv_err *err)
{
    const char *arg, *eq;
    size_t name_len;

    if (err)
        nfv_err_clear(err);
    *ret_value = NULL;
    if (*idx >= argc)
        return NULL;
    arg = argv[(*idx)++];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        *ret_value = arg;
        return "";
    }
    arg += 2;
    eq = strchr(arg, '=');
    name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (const char *const *s = spec; *s; s++) {
        size_t slen = strlen(*s);
        bool takes_value = slen > 0 && (*s)[slen - 1] == '=';
        size_t n = takes_value ? slen - 1 : slen;
        if (n != name_len || strncmp(*s, arg, n) != 0)
            continue;
        if (!takes_value) {
            if (eq) {
                NFV_ERR(err, NFV_E_INVAL, "'--%.*s': takes no value", (int)n, arg);
                return NULL;
            }
            return *s;
        }
        if (eq) {
            *ret_value = eq + 1;
        } else if (*idx < argc) {
            *ret_value = argv[(*idx)++];
        } else {
            NFV_ERR(err, NFV_E_INVAL, "'--%.*s': needs a value", (int)n, arg);
            return NULL;
        }
        /* Return the spec entry; callers compare against "name=". */
        return *s;
    }
    NFV_ERR(err, NFV_E_INVAL, "'--%.*s': unknown option", (int)name_len, arg);
    return NULL;
}

enum nfv_code ctl_opt_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                           unsigned long *ret, struct nfv_err *err)
{
    char *end;
    unsigned long v;

    if (!value || !*value || value[0] == '-' || value[0] == '+')
        return NFV_ERR(err, NFV_E_INVAL, "'--%s': '%s' is not a number", opt, value ? value : "");
    v = strtoul(value, &end, 10);
    if (*end != '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'--%s': '%s' is not a number", opt, value);
    if (v < min || v > max)
        return NFV_ERR(err, NFV_E_INVAL, "'--%s': %lu is out of range (%lu..%lu)", opt, v, min,
                       max);
    *ret = v;
    return NFV_OK;
}

/* Strips global options out of argv (in place); returns the new argc or -1. */
/* The first line of @path, which must not be readable by group or others. */
static enum nfv_code read_token_file(const char *path, char *buf, size_t buf_size,
                                     struct nfv_err *err)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NFV_ERR_ERRNO(err, NFV_E_INVAL, errno, "'--token-file': '%s': %s", path,
                             strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return NFV_ERR(err, NFV_E_INVAL,
                       "'--token-file': '%s' is readable by group or others (chmod 600 it)", path);
    }
    n = read(fd, buf, buf_size - 1);
    close(fd);
    if (n < 0)
        return NFV_ERR_ERRNO(err, NFV_E_INVAL, errno, "'--token-file': '%s': %s", path,
                             strerror(errno));
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0])
        return NFV_ERR(err, NFV_E_INVAL, "'--token-file': '%s' holds no token", path);
    return NFV_OK;
}

static int parse_globals(struct ctl_ctx *ctx, int argc, char **argv, bool *ret_help,
                         bool *ret_version, struct nfv_err *err)
{
    int out = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--json") == 0) {
            ctx->fmt = NFV_OUT_JSON_PRETTY;
        } else if (strncmp(a, "--json=", 7) == 0) {
            ctx->fmt = nfv_output_fmt_from_string(a + 7);
            if (ctx->fmt == NFV_OUT__COUNT) {
                NFV_ERR(err, NFV_E_INVAL, "'--json': '%s' is not one of pretty, short, off", a + 7);
                return -1;
            }
        } else if (strcmp(a, "--no-legend") == 0) {
            ctx->table_flags |= NFV_TABLE_NO_LEGEND;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            ctx->is_quiet = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *ret_help = true;
        } else if (strcmp(a, "--version") == 0) {
            *ret_version = true;
        } else if (strcmp(a, "--socket") == 0 || strncmp(a, "--socket=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                NFV_ERR(err, NFV_E_INVAL, "'--socket': needs a path");
                return -1;
            }
            ctx->socket_path = v;
        } else if (strcmp(a, "--url") == 0 || strncmp(a, "--url=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)) {
                NFV_ERR(err, NFV_E_INVAL, "'--url': needs https://HOST:PORT");
                return -1;
            }
            ctx->url = v;
        } else if (strcmp(a, "--cacert") == 0 || strncmp(a, "--cacert=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                NFV_ERR(err, NFV_E_INVAL, "'--cacert': needs a file");
                return -1;
            }
            ctx->cacert = v;
        } else if (strcmp(a, "--token-file") == 0 || strncmp(a, "--token-file=", 13) == 0) {
            const char *v = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                NFV_ERR(err, NFV_E_INVAL, "'--token-file': needs a file");
                return -1;
            }
            if (read_token_file(v, ctx->token, sizeof(ctx->token), err) != NFV_OK)
                return -1;
        } else if (strcmp(a, "--timeout") == 0 || strncmp(a, "--timeout=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            unsigned long ms;
            if (ctl_opt_uint("timeout", v, 1, 86400000ul, &ms, err) != NFV_OK)
                return -1;
            ctx->timeout_ms = (unsigned)ms;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

static const struct ctl_verb *find_verb(int argc, char **argv, int *ret_words)
{
    /* Two-word verbs ("host add") first, then one-word verbs. */
    if (argc >= 3) {
        for (size_t i = 0; i < n_verbs; i++) {
            const char *sp = strchr(verbs[i].name, ' ');
            if (sp && strncmp(verbs[i].name, argv[1], (size_t)(sp - verbs[i].name)) == 0 &&
                argv[1][sp - verbs[i].name] == '\0' && strcmp(sp + 1, argv[2]) == 0) {
                *ret_words = 2;
                return &verbs[i];
            }
        }
    }
    for (size_t i = 0; i < n_verbs; i++) {
        if (strcmp(verbs[i].name, argv[1]) == 0) {
            *ret_words = 1;
            return &verbs[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct ctl_ctx ctx = {
        .fmt = NFV_OUT_TABLE,
        .socket_path = CTL_DEFAULT_SOCKET,
        .timeout_ms = 30000,
    };
    struct nfv_err err = {0};
    const struct ctl_verb *verb;
    bool is_help = false, is_version = false;
    int words = 0;
    enum nfv_code rc;
    const char *env_socket = getenv("VMMGR_SOCKET");

    const char *env_token = getenv("VMMGR_TOKEN");

    nfv_log_set_progname("vmmgrctl");
    if (env_socket && *env_socket)
        ctx.socket_path = env_socket;
    if (getenv("VMMGR_URL") && *getenv("VMMGR_URL"))
        ctx.url = getenv("VMMGR_URL");
    if (getenv("VMMGR_CACERT") && *getenv("VMMGR_CACERT"))
        ctx.cacert = getenv("VMMGR_CACERT");
    if (env_token && *env_token)
        snprintf(ctx.token, sizeof(ctx.token), "%s", env_token);
    argc = parse_globals(&ctx, argc, argv, &is_help, &is_version, &err);
    if (argc < 0) {
        fprintf(stderr, "vmmgrctl: %s\n", err.msg);
        return nfv_code_exit(err.code);
    }
    if (is_version && argc == 1) {
        printf("vmmgrctl %s\n", VMMGR_VERSION);
        return 0;
    }
    if (argc < 2) {
        if (is_help) {
            print_help(stdout);
            return 0;
        }
        fprintf(stderr, "vmmgrctl: no verb given (try 'vmmgrctl --help')\n");
        return 2;
    }
    verb = find_verb(argc, argv, &words);
    if (!verb) {
        fprintf(stderr, "vmmgrctl: '%s': unknown verb (try 'vmmgrctl --help')\n", argv[1]);
        return 2;
    }
    if (is_help) {
        printf("Usage: vmmgrctl %s %s\n%s\n", verb->name, verb->usage, verb->help);
        return 0;
    }
    /* The handler sees argv starting at the (last word of the) verb. */
    rc = verb->fn(&ctx, argc - words, argv + words, &err);
    if (rc != NFV_OK) {
        fprintf(stderr, "vmmgrctl: %s\n", err.msg[0] ? err.msg : nfv_code_describe(rc));
        return nfv_code_exit(rc);
    }
    return 0;
}
