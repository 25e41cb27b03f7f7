/*
 * ctl_host.c - vmmgrctl host verbs, clients of /v1/hosts:
 *   host add NAME --uri URI [--synthetic S | --hwloc-xml FILE] [--reserved SET]
 *            [--dedicated SET] [--label k=v ...]
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
#include "ctl_client.h"

enum nfv_code ctl_cmd_host_add(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_set(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);
enum nfv_code ctl_cmd_host_remove(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err);

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

/* Sends @take_body and prints the resulting host like `host list` does. */
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

/* Takes exactly one positional NAME; other options per @spec via @on_opt. */
enum nfv_code ctl_cmd_host_add(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {
        "uri=", "synthetic=", "hwloc-xml=", "reserved=", "dedicated=", "label=", NULL};
    const char *opt, *val, *name = NULL;
    json_t *body = json_object(), *labels = json_object(), *doc = NULL, *arr;
    char *xml = NULL;
    enum nfv_code code = NFV_OK;
    int i = 1;

    if (!body || !labels) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto out;
    }
    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (!*opt) {
            if (name) {
                code = NFV_ERR(err, NFV_E_INVAL, "host add: unexpected argument '%s'", val);
                goto out;
            }
            name = val;
        } else if (strcmp(opt, "uri=") == 0) {
            json_object_set_new(body, "uri", json_string(val));
        } else if (strcmp(opt, "synthetic=") == 0) {
            json_object_set_new(body, "synthetic", json_string(val));
        } else if (strcmp(opt, "hwloc-xml=") == 0) {
            free(xml);
            xml = NULL;
            if ((code = read_file("hwloc-xml", val, &xml, err)))
                goto out;
            json_object_set_new(body, "hwloc_xml", json_string(xml));
        } else if (strcmp(opt, "reserved=") == 0) {
            json_object_set_new(body, "reserved", json_string(val));
        } else if (strcmp(opt, "dedicated=") == 0) {
            json_object_set_new(body, "dedicated", json_string(val));
        } else if (strcmp(opt, "label=") == 0) {
            const char *eq = strchr(val, '=');
            char key[64];
            if (!eq || eq == val || (size_t)(eq - val) >= sizeof(key)) {
                code = NFV_ERR(err, NFV_E_INVAL, "'--label': '%s' is not KEY=VALUE", val);
                goto out;
            }
            snprintf(key, sizeof(key), "%.*s", (int)(eq - val), val);
            json_object_set_new(labels, key, json_string(eq + 1));
        }
    }
    if (err && err->code) {
        code = err->code;
        goto out;
    }
    if (!name) {
        code = NFV_ERR(err, NFV_E_INVAL, "host add: missing NAME");
        goto out;
    }
    if (!json_object_get(body, "uri")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--uri': is required");
        goto out;
    }
    json_object_set_new(body, "name", json_string(name));
    if (json_object_size(labels))
        json_object_set(body, "labels", labels);
    if ((code = ctl_client_call(ctx, "POST", "/v1/hosts", body, 0, &doc, err)))
        goto out;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        arr = json_array();
        json_array_append(arr, doc);
        code = print_host_rows(ctx, arr, err);
        json_decref(arr);
    }
out:
    json_decref(doc);
    json_decref(body);
    json_decref(labels);
    free(xml);
    return code;
}

/* Parses "VERB NAME" with no options other than @spec; returns NAME. */
static enum nfv_code one_name(int argc, char **argv, const char *verb, const char **ret_name,
                              struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *opt, *val;
    int i = 1;

    *ret_name = NULL;
    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (*ret_name)
            return NFV_ERR(err, NFV_E_INVAL, "%s: unexpected argument '%s'", verb, val);
        *ret_name = val;
    }
    if (err && err->code)
        return err->code;
    if (!*ret_name)
        return NFV_ERR(err, NFV_E_INVAL, "%s: missing NAME", verb);
    return NFV_OK;
}

enum nfv_code ctl_cmd_host_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *val;
    json_t *doc;
    enum nfv_code code;
    int i = 1;

    if (ctl_opt_next(argc, argv, &i, spec, &val, err))
        return NFV_ERR(err, NFV_E_INVAL, "host list: takes no arguments");
    if (err && err->code)
        return err->code;
    if ((code = ctl_client_call(ctx, "GET", "/v1/hosts", NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, json_object_get(doc, "hosts"));
    else
        code = print_host_rows(ctx, json_object_get(doc, "hosts"), err);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_host_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const keys[] = {"pu", "core", "node", "package", "pool", "vm", "vcpus"};
    const char *name;
    char path[256], esc[200];
    json_t *doc, *arr, *e;
    struct nfv_table *t;
    enum nfv_code code;
    size_t i;

    if ((code = one_name(argc, argv, "host show", &name, err)))
        return code;
    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(path, sizeof(path), "/v1/hosts/%s", esc);
    if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
        json_decref(doc);
        return NFV_OK;
    }
    arr = json_array();
    json_array_append(arr, doc);
    code = print_host_rows(ctx, arr, err);
    json_decref(arr);
    if (code == NFV_OK) {
        /* The core map, OpenNebula style: who holds each PU. */
        printf("\n");
        t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
        if (!t) {
            json_decref(doc);
            return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        }
        json_array_foreach(json_object_get(doc, "core_map"), i, e)
        {
            const json_t *vm = json_object_get(e, "vm"), *vc = json_object_get(e, "vcpus");
            nfv_table_add_row(t);
            nfv_table_add_int(t, json_integer_value(json_object_get(e, "pu")));
            nfv_table_add_int(t, json_integer_value(json_object_get(e, "core")));
            nfv_table_add_int(t, json_integer_value(json_object_get(e, "node")));
            nfv_table_add_int(t, json_integer_value(json_object_get(e, "package")));
            nfv_table_add_str(t, json_string_value(json_object_get(e, "pool")));
            nfv_table_add_str(t, json_string_value(vm));
            nfv_table_add_str(t, json_string_value(vc));
        }
        code = ctl_print_table(ctx, t);
        nfv_table_free(t);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_host_set(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"state=", NULL};
    const char *opt, *val, *name = NULL, *state = NULL;
    char path[256], esc[200];
    json_t *body, *doc;
    enum nfv_code code;
    int i = 1;

    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (!*opt) {
            if (name)
                return NFV_ERR(err, NFV_E_INVAL, "host set: unexpected argument '%s'", val);
            name = val;
        } else {
            state = val;
        }
    }
    if (err && err->code)
        return err->code;
    if (!name)
        return NFV_ERR(err, NFV_E_INVAL, "host set: missing NAME");
    if (!state)
        return NFV_ERR(err, NFV_E_INVAL, "'--state': is required (up or maintenance)");
    if (strcmp(state, "up") != 0 && strcmp(state, "maintenance") != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'--state': '%s' is not one of up, maintenance", state);
    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(path, sizeof(path), "/v1/hosts/%s", esc);
    body = json_pack("{s:s}", "state", state);
    code = ctl_client_call(ctx, "PATCH", path, body, 0, &doc, err);
    json_decref(body);
    if (code)
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, doc);
        code = print_host_rows(ctx, arr, err);
        json_decref(arr);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_host_remove(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"if-exists", NULL};
    const char *opt, *val, *name = NULL;
    bool is_if_exists = false;
    char path[256], esc[200];
    json_t *doc = NULL;
    enum nfv_code code;
    int i = 1;

    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (!*opt) {
            if (name)
                return NFV_ERR(err, NFV_E_INVAL, "host remove: unexpected argument '%s'", val);
            name = val;
        } else {
            is_if_exists = true;
        }
    }
    if (err && err->code)
        return err->code;
    if (!name)
        return NFV_ERR(err, NFV_E_INVAL, "host remove: missing NAME");
    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(path, sizeof(path), "/v1/hosts/%s", esc);
    code = ctl_client_call(ctx, "DELETE", path, NULL, 0, &doc, err);
    if (code == NFV_E_NOENT && is_if_exists) {
        nfv_err_clear(err);
        return NFV_OK;
    }
    if (code)
        return code;
    if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, doc);
    else if (!ctx->is_quiet)
        printf("removed host '%s'\n", name);
    json_decref(doc);
    return NFV_OK;
}
