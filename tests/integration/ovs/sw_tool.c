/*
 * sw_tool.c - vmmgr-sw-tool: the switch port (vm_sw.h) from the command line,
 * for the Open vSwitch integration tests (test_ovs.sh) and by hand.
 *
 *   vmmgr-sw-tool [--timeout MS] [--confirm] [--iface-type T] [--attempts N]
 *                 TARGET VERB ARGS
 *   verbs: ping | bridge BR [DPTYPE] | trunk BR PORT VLANS | access BR PORT TAG
 *          | get BR PORT | del BR PORT | list BR
 *          | trunks BR PORT=VLANS... (one transaction: a VLAN move)
 *          | check BR PORT=VLANS... | repair BR PORT=VLANS...
 *
 * TARGET is unix:PATH, tcp:HOST:PORT or fake:. Errors print one line on
 * stderr and exit with nfv_code_exit() (2 bad input, 3 not found, 6
 * unreachable...). --attempts N retries a verb that failed with
 * "unreachable" or "timeout" on the same connection (the driver reconnects),
 * printing each failure, as a vmmgrd job would retry a journaled step.
 * check exits 4 when any expected port drifted. --ready-file F creates F once
 * connected and --pause-ms N waits N ms before the verb: the restart test
 * freezes ovsdb-server in that gap, so the verb's request is the one left
 * unanswered. --again-after F runs the verb a second time on the same
 * connection once F exists (an idle connection whose server restarted must
 * reconnect without an error). Not installed: a test tool.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm/vm_sw.h"

static void sw_tool_usage_error(const char *msg)
{
    fprintf(stderr, "vmmgr-sw-tool: %s\n", msg);
    exit(2);
}

static int sw_tool_print_port(void *opaque, const struct vm_sw_port_info *p)
{
    char vl[256];
    (void)opaque;
    vm_sw_vlanset_format(&p->trunks, vl, sizeof(vl));
    printf("%s tag=%d trunks=%s\n", p->name, p->tag, vl);
    return 0;
}

/* PORT=VLANS arguments into @exp (names borrowed from argv). */
static enum nfv_code sw_tool_expect_parse(int argc, char **argv, struct vm_sw_expect *exp,
                                          struct nfv_err *err)
{
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': expected PORT=VLANS", argv[i]);
        *eq = '\0';
        exp[i].port = argv[i];
        enum nfv_code rc = vm_sw_vlanset_parse(eq + 1, "vlans", &exp[i].vlans, err);
        if (rc != NFV_OK) {
            nfv_err_prefix(err, "port '%s'", argv[i]);
            return rc;
        }
    }
    return NFV_OK;
}

static enum nfv_code sw_tool_run(const struct vm_sw_driver *drv, struct vm_sw_conn *conn, int argc,
                                 char **argv, struct nfv_err *err)
{
    const char *verb = argv[0];
    enum nfv_code rc;
    struct vm_sw_vlanset vl;
    if (strcmp(verb, "ping") == 0)
        return drv->ping(conn, err);
    if (argc < 2)
        sw_tool_usage_error("missing BRIDGE");
    if (strcmp(verb, "bridge") == 0)
        return drv->bridge_ensure(conn, argv[1], argc > 2 ? argv[2] : NULL, err);
    if (strcmp(verb, "list") == 0)
        return drv->port_list(conn, argv[1], sw_tool_print_port, NULL, err);
    if (strcmp(verb, "check") == 0 || strcmp(verb, "repair") == 0 || strcmp(verb, "trunks") == 0) {
        struct vm_sw_expect *exp = calloc((size_t)argc, sizeof(*exp));
        struct vm_sw_port_state *st = NULL;
        size_t n_st = 0;
        unsigned n_rep = 0;
        int n_drift = 0;
        if (!exp)
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        rc = sw_tool_expect_parse(argc - 2, argv + 2, exp, err);
        if (rc == NFV_OK && strcmp(verb, "trunks") == 0) {
            rc = drv->trunks_ensure(conn, argv[1], exp, (size_t)argc - 2, &n_rep, err);
            if (rc == NFV_OK)
                printf("changed %u\n", n_rep);
        } else if (rc == NFV_OK && verb[0] == 'r') {
            rc = vm_sw_repair(drv, conn, argv[1], exp, (size_t)argc - 2, &n_rep, err);
            if (rc == NFV_OK)
                printf("repaired %u\n", n_rep);
        } else if (rc == NFV_OK) {
            rc = vm_sw_check(drv, conn, argv[1], exp, (size_t)argc - 2, &st, &n_st, err);
            for (size_t i = 0; rc == NFV_OK && i < n_st; i++) {
                char e[128], a[128], m[128], x[128];
                vm_sw_vlanset_format(&st[i].expected, e, sizeof(e));
                vm_sw_vlanset_format(&st[i].actual, a, sizeof(a));
                vm_sw_vlanset_format(&st[i].missing, m, sizeof(m));
                vm_sw_vlanset_format(&st[i].extra, x, sizeof(x));
                printf("%s %s expected=%s actual=%s missing=%s extra=%s%s\n", st[i].port,
                       !st[i].is_expected ? "unmanaged"
                       : st[i].is_drift   ? "DRIFT"
                                          : "ok",
                       e, a, m, x, st[i].is_present ? "" : " absent");
                n_drift += st[i].is_drift;
            }
            if (rc == NFV_OK && n_drift)
                rc = NFV_ERR(err, NFV_E_STATE, "%d port(s) drifted", n_drift);
        }
        free(st);
        free(exp);
        return rc;
    }
    if (argc < 3)
        sw_tool_usage_error("missing PORT");
    if (strcmp(verb, "trunk") == 0) {
        unsigned n_add = 0, n_rm = 0;
        if (argc < 4)
            sw_tool_usage_error("missing VLANS");
        if ((rc = vm_sw_vlanset_parse(argv[3], "vlans", &vl, err)) != NFV_OK)
            return rc;
        rc = drv->trunk_ensure(conn, argv[1], argv[2], &vl, &n_add, &n_rm, err);
        if (rc == NFV_OK)
            printf("added %u removed %u\n", n_add, n_rm);
        return rc;
    }
    if (strcmp(verb, "access") == 0) {
        char *end;
        long long tag;
        if (argc < 4)
            sw_tool_usage_error("missing TAG");
        tag = strtoll(argv[3], &end, 10);
        if (*argv[3] == '\0' || *end)
            return NFV_ERR(err, NFV_E_INVAL, "'tag': '%s' is not a number", argv[3]);
        if ((rc = vm_sw_vlan_check(tag, "tag", err)) != NFV_OK)
            return rc;
        return drv->access_ensure(conn, argv[1], argv[2], (unsigned)tag, err);
    }
    if (strcmp(verb, "get") == 0) {
        struct vm_sw_port_info p;
        rc = drv->port_get(conn, argv[1], argv[2], &p, err);
        if (rc == NFV_OK)
            sw_tool_print_port(NULL, &p);
        return rc;
    }
    if (strcmp(verb, "del") == 0)
        return drv->port_delete(conn, argv[1], argv[2], false, err);
    sw_tool_usage_error("unknown verb");
    return NFV_E_INVAL;
}

/* Opens (once) and runs the verb, up to @attempts times while it fails with
 * UNREACHABLE or TIMEOUT, printing each failure. */
static enum nfv_code sw_tool_attempts(const struct vm_sw_driver *drv, struct vm_sw_conn **conn,
                                      const char *target, const struct vm_sw_open_opts *opts,
                                      unsigned attempts, const char *ready_file, unsigned pause_ms,
                                      int argc, char **argv)
{
    struct nfv_err err = {0};
    enum nfv_code rc = NFV_OK;
    for (unsigned i = 0; i < (attempts ? attempts : 1); i++) {
        if (i > 0) {
            struct timespec ts = {.tv_nsec = 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        rc = *conn ? NFV_OK : drv->open(target, opts, conn, &err);
        if (rc == NFV_OK && i == 0 && ready_file) {
            FILE *f = fopen(ready_file, "w");
            struct timespec ts = {.tv_sec = pause_ms / 1000,
                                  .tv_nsec = (long)(pause_ms % 1000) * 1000000};
            if (f)
                fclose(f);
            nanosleep(&ts, NULL);
        }
        if (rc == NFV_OK)
            rc = sw_tool_run(drv, *conn, argc, argv, &err);
        if (rc == NFV_OK)
            break;
        fprintf(stderr, "vmmgr-sw-tool: %s: %s\n", nfv_code_name(rc), err.msg);
        if (rc != NFV_E_UNREACHABLE && rc != NFV_E_TIMEOUT)
            break;
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct vm_sw_open_opts opts = {0};
    const struct vm_sw_driver *drv;
    struct vm_sw_conn *conn = NULL;
    unsigned attempts = 1, pause_ms = 0;
    const char *ready_file = NULL, *again_file = NULL;
    enum nfv_code rc;
    int c;
    static const struct option longopts[] = {{"timeout", required_argument, NULL, 't'},
                                             {"confirm", no_argument, NULL, 'c'},
                                             {"iface-type", required_argument, NULL, 'i'},
                                             {"attempts", required_argument, NULL, 'a'},
                                             {"debug", no_argument, NULL, 'd'},
                                             {"ready-file", required_argument, NULL, 'r'},
                                             {"pause-ms", required_argument, NULL, 'p'},
                                             {"again-after", required_argument, NULL, 'g'},
                                             {NULL, 0, NULL, 0}};

    nfv_log_set_progname("vmmgr-sw-tool");
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            opts.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'c':
            opts.is_confirm = true;
            break;
        case 'i':
            opts.iface_type = optarg;
            break;
        case 'a':
            attempts = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            nfv_log_set_level(NFV_LOG_DEBUG);
            break;
        case 'r':
            ready_file = optarg;
            break;
        case 'g':
            again_file = optarg;
            break;
        case 'p':
            pause_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        default:
            sw_tool_usage_error("bad option");
        }
    }
    if (argc - optind < 2)
        sw_tool_usage_error("usage: vmmgr-sw-tool [OPTIONS] TARGET VERB ARGS");
    if (!(drv = vm_sw_driver_for(argv[optind])))
        sw_tool_usage_error("'target': expected unix:PATH, tcp:HOST:PORT or fake:");
    rc = sw_tool_attempts(drv, &conn, argv[optind], &opts, attempts, ready_file, pause_ms,
                          argc - optind - 1, argv + optind + 1);
    if (rc == NFV_OK && again_file) {
        /* The same verb again on the same (now idle) connection once
         * @again_file exists: the test restarts ovsdb-server in between. */
        for (unsigned i = 0; i < 600 && access(again_file, F_OK) != 0; i++) {
            struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        rc = sw_tool_attempts(drv, &conn, argv[optind], &opts, attempts, NULL, 0, argc - optind - 1,
                              argv + optind + 1);
    }
    drv->close(conn);
    return rc == NFV_OK ? 0 : nfv_code_exit(rc);
}
