/*
 * ctl_host.c - vmmgrctl host verbs, clients of /v1/hosts:
 *   host add NAME --uri URI [--synthetic S | --hwloc-xml FILE] [--reserved SET]
 *            [--dedicated SET] [--label k=v ...] [--bridge BR] [--switch-port PORT]
 *   host list | host show NAME | host set NAME --state up|maintenance
 *   host remove NAME [--if-exists]
 * Input mistakes are caught here when the CLI can tell (missing name, bad
 * label syntax, unreadable file) and otherwise by the daemon, whose error
 * comes back with its code (exit 2 for INVALID_ARGUMENT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "ctl_client.h"

static enum nfv_code read_file(const char *opt, const char *path, char **ret, struct nfv_err *err)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NFV_ERR(err, NFV_E_INVAL, "'--%s': '%s': %s", opt, path, strerror(errno));
    do {
        if (len + 65536 + 1 > cap) {
            char *b;
            cap = (len + 65536 + 1) * 2;
            b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            }
            buf = b;
        }
        n = fread(buf + len, 1, 65536, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    *ret = buf;
    return NFV_OK;
}

/* Prints API host objects as the `host list` table. */
static enum nfv_code print_host_rows(const struct ctl_ctx *ctx, const json_t *hosts,
                                     struct nfv_err *err)
{
    static const char *const keys[] = {"name",      "state", "uri",        "pus",
                                       "cores",     "numa",  "memory_mib", "reserved",
                                       "dedicated", "vms",   "labels"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *h;
    enum nfv_code code;
    size_t i;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(hosts, i, h)
    {
        const json_t *pools = json_object_get(h, "pools");
        const json_t *cores = json_object_get(h, "cores"), *numa = json_object_get(h, "numa_nodes");
        const char *k;
        json_t *v;
        char labels[512] = "";
        size_t used = 0;

        json_object_foreach((json_t *)json_object_get(h, "labels"), k, v)
        {
            int n = snprintf(labels + used, sizeof(labels) - used, "%s%s=%s", used ? "," : "", k,
                             json_string_value(v));
            if (n < 0 || (size_t)n >= sizeof(labels) - used)
                break;
            used += (size_t)n;
        }
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(h, "name")));
        nfv_table_add_str(t, json_string_value(json_object_get(h, "state")));
        nfv_table_add_str(t, json_string_value(json_object_get(h, "uri")));
        nfv_table_add_int(t, json_integer_value(json_object_get(h, "pus")));
        if (cores)
            nfv_table_add_int(t, json_integer_value(cores));
        else
            nfv_table_add_null(t);
        if (numa)
            nfv_table_add_int(t, json_integer_value(numa));
        else
            nfv_table_add_null(t);
        nfv_table_add_int(t, json_integer_value(json_object_get(h, "memory_mib")));
        nfv_table_add_str(t, json_string_value(json_object_get(pools, "reserved")));
        nfv_table_add_str(t, json_string_value(json_object_get(pools, "dedicated")));
        nfv_table_add_int(t, json_integer_value(json_object_get(h, "vms")));
        nfv_table_add_str(t, used ? labels : NULL);
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

/* What `host add` builds while its options are walked. */
struct host_add {
    json_t *body, *labels, *bmc;
    char *xml;
};

static enum nfv_code host_add_opt(void *opaque, const char *opt, const char *val,
                                  struct nfv_err *err)
{
    struct host_add *a = opaque;
    char key[64];
    enum nfv_code code;

    if (strcmp(opt, "hwloc-xml=") == 0) {
        free(a->xml);
        a->xml = NULL;
        if ((code = read_file("hwloc-xml", val, &a->xml, err)))
            return code;
        json_object_set_new(a->body, "hwloc_xml", json_string(a->xml));
    } else if (strcmp(opt, "bmc=") == 0 || strcmp(opt, "bmc-user=") == 0) {
        json_object_set_new(a->bmc, opt[3] == '=' ? "address" : "user", json_string(val));
    } else if (strcmp(opt, "bmc-password-file=") == 0) {
        /* Read here, by the operator's own rights; vmmgrd keeps it in a
         * 0600 file of its own and never opens a path a caller names. */
        char *pw = NULL;
        size_t len;
        if ((code = read_file("bmc-password-file", val, &pw, err)))
            return code;
        len = strlen(pw);
        while (len && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
            pw[--len] = '\0';
        json_object_set_new(a->bmc, "password", json_string(pw));
        memset(pw, 0, len);
        free(pw);
    } else if (strcmp(opt, "label=") == 0) {
        const char *eq = strchr(val, '=');
        if (!eq || eq == val || (size_t)(eq - val) >= sizeof(key))
            return NFV_ERR(err, NFV_E_INVAL, "'--label': '%s' is not KEY=VALUE", val);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - val), val);
        json_object_set_new(a->labels, key, json_string(eq + 1));
    } else {
        /* --uri, --synthetic, --reserved, --dedicated, --bridge,
         * --switch-port: the API field's name (with '_' for '-') */
        snprintf(key, sizeof(key), "%.*s", (int)strlen(opt) - 1, opt);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        json_object_set_new(a->body, key, json_string(val));
    }
    return NFV_OK;
}

enum nfv_code ctl_cmd_host_add(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {
        "uri=",    "synthetic=",   "hwloc-xml=", "reserved=", "dedicated=",         "label=",
        "bridge=", "switch-port=", "bmc=",       "bmc-user=", "bmc-password-file=", NULL};
    struct host_add a = {.body = json_object(), .labels = json_object(), .bmc = json_object()};
    const char *name = NULL;
    enum nfv_code code;

    if (!a.body || !a.labels || !a.bmc) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    if ((code = ctl_verb_args(argc, argv, "host add", "NAME", spec, host_add_opt, &a, &name, err)))
        goto out;
    if (!json_object_get(a.body, "uri")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--uri': is required");
        goto out;
    }
    json_object_set_new(a.body, "name", json_string(name));
    if (json_object_size(a.labels))
        json_object_set(a.body, "labels", a.labels);
    if (json_object_size(a.bmc)) {
        static const char *const need[3][2] = {
            {"address", "--bmc"}, {"user", "--bmc-user"}, {"password", "--bmc-password-file"}};
        for (int i = 0; i < 3; i++)
            if (!json_object_get(a.bmc, need[i][0])) {
                code = NFV_ERR(err, NFV_E_INVAL,
                               "'%s': is required with --bmc, --bmc-user and --bmc-password-file",
                               need[i][1]);
                goto out;
            }
        json_object_set(a.body, "bmc", a.bmc);
    }
    code = ctl_call_and_print(ctx, "POST", "/v1/hosts", a.body, print_host_rows, err);
out:
    json_decref(a.body);
    json_decref(a.labels);
    json_decref(a.bmc);
    free(a.xml);
    return code;
}

enum nfv_code ctl_cmd_host_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return ctl_verb_list(ctx, argc, argv, "host list", "/v1/hosts", "hosts", print_host_rows, err);
}

/* The core map, OpenNebula style: who holds each PU of host @doc. */
static enum nfv_code print_core_map(const struct ctl_ctx *ctx, const json_t *doc,
                                    struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"pu", true},      {"core", true},  {"node", true},
                                          {"package", true}, {"pool", false}, {"vm", false},
                                          {"vcpus", false}};

    return ctl_print_json_table(ctx, json_object_get(doc, "core_map"), cols,
                                sizeof(cols) / sizeof(cols[0]), err);
}

enum nfv_code ctl_cmd_host_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    const char *name;
    json_t *doc;
    enum nfv_code code;

    if ((code = ctl_verb_show(ctx, argc, argv, "host show", "/v1/hosts", "", &name, &doc, err)) ||
        !doc)
        return code;
    if ((code = ctl_print_row(ctx, doc, print_host_rows, err)) == NFV_OK) {
        printf("\n");
        code = print_core_map(ctx, doc, err);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_host_set(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"state=", NULL};
    const char *name, *state;
    char path[256];
    json_t *body;
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "host set", "NAME", spec, &name, &state, err)))
        return code;
    if (!state)
        return NFV_ERR(err, NFV_E_INVAL, "'--state': is required (up or maintenance)");
    if (strcmp(state, "up") != 0 && strcmp(state, "maintenance") != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'--state': '%s' is not one of up, maintenance", state);
    ctl_client_path(path, sizeof(path), "/v1/hosts", name, "");
    body = json_pack("{s:s}", "state", state);
    code = ctl_call_and_print(ctx, "PATCH", path, body, print_host_rows, err);
    json_decref(body);
    return code;
}

enum nfv_code ctl_cmd_host_remove(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"if-exists", NULL};
    const char *name, *if_exists;
    char path[256];
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "host remove", "NAME", spec, &name, &if_exists, err)))
        return code;
    ctl_client_path(path, sizeof(path), "/v1/hosts", name, "");
    return ctl_delete_and_report(ctx, path, if_exists != NULL, "removed host", name, err);
}
