/*
 * ctl_net.c - vmmgrctl network and switch verbs, clients of /v1/networks
 * and /v1/switch (issue 15):
 *   net create NAME --vlan ID | net list | net show NAME
 *   net delete NAME [--if-exists]
 *   switch show | switch repair
 * The CLI only checks what it can tell (an integer VLAN); the daemon
 * checks the rest (1..4094, unique, name rule) and its one-line error comes
 * back with its code (exit 2 for INVALID_ARGUMENT, 4 for a conflict).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_client.h"
#include "ctl_verbs.h"

static enum nfv_code print_net_rows(const struct ctl_ctx *ctx, const json_t *rows,
                                    struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"name", false}, {"vlan", true}, {"vms", true}};

    return ctl_print_json_table(ctx, rows, cols, sizeof(cols) / sizeof(cols[0]), err);
}

enum nfv_code ctl_cmd_net_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"vlan=", NULL};
    const char *name, *vlan_s;
    char *end;
    long long vlan;
    json_t *body;
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "net create", "NAME", spec, &name, &vlan_s, err)))
        return code;
    if (!vlan_s)
        return NFV_ERR(err, NFV_E_INVAL, "'--vlan': is required (1..4094)");
    errno = 0;
    vlan = strtoll(vlan_s, &end, 10);
    if (!*vlan_s || *end || errno)
        return NFV_ERR(err, NFV_E_INVAL, "'--vlan': '%s' is not an integer", vlan_s);
    /* The range is the daemon's rule ('vlan': N is not a VLAN id). */
    body = json_pack("{s:s,s:I}", "name", name, "vlan", (json_int_t)vlan);
    code = ctl_call_and_print(ctx, "POST", "/v1/networks", body, print_net_rows, err);
    json_decref(body);
    return code;
}

enum nfv_code ctl_cmd_net_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return ctl_verb_list(ctx, argc, argv, "net list", "/v1/networks", "networks", print_net_rows,
                         err);
}

/* A JSON array of strings as "a, b" ("-" when empty). */
static void join_names(const json_t *arr, char *buf, size_t size)
{
    size_t used = 0, i;
    const json_t *v;

    buf[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, size, "-");
}

enum nfv_code ctl_cmd_net_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    const char *name;
    char vms[1024], hosts[1024];
    json_t *doc;
    enum nfv_code code;

    if ((code = ctl_verb_show(ctx, argc, argv, "net show", "/v1/networks", "", &name, &doc, err)) ||
        !doc)
        return code;
    code = ctl_print_row(ctx, doc, print_net_rows, err);
    join_names(json_object_get(doc, "vm_names"), vms, sizeof(vms));
    join_names(json_object_get(doc, "hosts"), hosts, sizeof(hosts));
    if (code == NFV_OK)
        printf("\nVMs:   %s\nhosts: %s\n", vms, hosts);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_net_delete(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"if-exists", NULL};
    const char *name, *if_exists;
    char path[256];
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "net delete", "NAME", spec, &name, &if_exists, err)))
        return code;
    ctl_client_path(path, sizeof(path), "/v1/networks", name, "");
    return ctl_delete_and_report(ctx, path, if_exists != NULL, "deleted network", name, err);
}

/* The per-port table of GET /v1/switch (and of a repair's answer). */
static enum nfv_code print_ports(const struct ctl_ctx *ctx, const json_t *ports,
                                 struct nfv_err *err)
{
    static const char *const keys[] = {"port",    "host",  "expected", "actual",
                                       "missing", "extra", "drift"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *p;
    enum nfv_code code;
    size_t i;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(ports, i, p)
    {
        bool is_managed = json_is_true(json_object_get(p, "managed"));
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(p, "port")));
        nfv_table_add_str(t, is_managed ? json_string_value(json_object_get(p, "host"))
                                        : "(not vmmgr's)");
        nfv_table_add_str(t, json_string_value(json_object_get(p, "expected")));
        nfv_table_add_str(t, json_is_true(json_object_get(p, "present"))
                                 ? json_string_value(json_object_get(p, "actual"))
                                 : "(absent)");
        nfv_table_add_str(t, json_string_value(json_object_get(p, "missing")));
        nfv_table_add_str(t, json_string_value(json_object_get(p, "extra")));
        nfv_table_add_str(t, json_is_true(json_object_get(p, "drift")) ? "yes" : "no");
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

/* `switch show` and `switch repair`: @method @path, then a header line
 * and the port table (or the answer as JSON). */
static enum nfv_code switch_verb(struct ctl_ctx *ctx, int argc, char **argv, const char *verb,
                                 const char *method, const char *path, struct nfv_err *err)
{
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_no_args(argc, argv, verb, err)) ||
        (code = ctl_client_call(ctx, method, path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else if (json_object_get(doc, "repaired")) {
        printf("%lld trunk port(s) repaired\n",
               (long long)json_integer_value(json_object_get(doc, "repaired")));
        code = print_ports(ctx, json_object_get(doc, "ports"), err);
    } else if (!json_is_true(json_object_get(doc, "configured"))) {
        printf("no switch configured (vmmgrd.conf: switch, switch_bridge)\n");
    } else {
        printf("switch bridge %s\n", json_string_value(json_object_get(doc, "bridge")));
        code = print_ports(ctx, json_object_get(doc, "ports"), err);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_switch_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return switch_verb(ctx, argc, argv, "switch show", "GET", "/v1/switch", err);
}

enum nfv_code ctl_cmd_switch_repair(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return switch_verb(ctx, argc, argv, "switch repair", "POST", "/v1/switch/repair", err);
}
