/*
 * ctl_heal.c - vmmgrctl's healing verbs: heal status, heal history,
 * host fence NAME --confirm-dead, host recover NAME (GET /v1/heal,
 * GET /v1/heal/history, POST /v1/hosts/NAME/fence|recover).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_client.h"
#include "ctl_verbs.h"

/* "2026-12-02T14:03:07.123Z" from milliseconds since the epoch. */
static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&s, &tm)) {
        snprintf(buf, size, "-");
        return;
    }
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)(ms % 1000));
}

static enum nfv_code print_heal_hosts(const struct ctl_ctx *ctx, const json_t *rows,
                                      struct nfv_err *err)
{
    static const char *const keys[] = {"host", "heal", "since", "vms", "bmc", "reason"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *h;
    size_t i;
    enum nfv_code code;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(rows, i, h)
    {
        const json_t *bmc = json_object_get(h, "bmc");
        char since[32];
        iso_time(json_integer_value(json_object_get(h, "since_ms")), since, sizeof(since));
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(h, "name")));
        nfv_table_add_str(t, json_string_value(json_object_get(h, "state")));
        nfv_table_add_str(t, since);
        nfv_table_add_int(t, json_integer_value(json_object_get(h, "vms")));
        if (bmc)
            nfv_table_add_fmt(t, "%s (%s)", json_string_value(json_object_get(bmc, "address")),
                              json_string_value(json_object_get(bmc, "status")));
        else
            nfv_table_add_str(t, NULL);
        nfv_table_add_str(t, json_string_value(json_object_get(h, "reason")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

static enum nfv_code print_heal_groups(const struct ctl_ctx *ctx, const json_t *rows,
                                       struct nfv_err *err)
{
    static const char *const keys[] = {"group", "protection", "act", "sby"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *g, *m;
    size_t i, k;
    enum nfv_code code;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(rows, i, g)
    {
        char who[2][256] = {"", ""};
        json_array_foreach(json_object_get(g, "members"), k, m)
        {
            const char *role = json_string_value(json_object_get(m, "role"));
            int r = role && strcmp(role, "act") == 0 ? 0 : 1;
            size_t used = strlen(who[r]);
            snprintf(who[r] + used, sizeof(who[r]) - used, "%s%s@%s(%s)", used ? " " : "",
                     json_string_value(json_object_get(m, "name")),
                     json_string_value(json_object_get(m, "host")),
                     json_string_value(json_object_get(m, "state")));
        }
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(g, "name")));
        nfv_table_add_str(t, json_string_value(json_object_get(g, "state")));
        nfv_table_add_str(t, who[0][0] ? who[0] : NULL);
        nfv_table_add_str(t, who[1][0] ? who[1] : NULL);
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

enum nfv_code ctl_cmd_heal_status(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_no_args(argc, argv, "heal status", err)) ||
        (code = ctl_client_call(ctx, "GET", "/v1/heal", NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        printf("healing: %s\n\n", json_is_true(json_object_get(doc, "enabled")) ? "on" : "off");
        if ((code = print_heal_hosts(ctx, json_object_get(doc, "hosts"), err)) == NFV_OK &&
            json_array_size(json_object_get(doc, "groups"))) {
            printf("\n");
            code = print_heal_groups(ctx, json_object_get(doc, "groups"), err);
        }
    }
    json_decref(doc);
    return code;
}

static enum nfv_code print_history(const struct ctl_ctx *ctx, const json_t *rows,
                                   struct nfv_err *err)
{
    static const char *const keys[] = {"time", "type", "object", "message"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *e;
    size_t i;
    enum nfv_code code;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(rows, i, e)
    {
        char ts[32];
        iso_time(json_integer_value(json_object_get(e, "ts_ms")), ts, sizeof(ts));
        nfv_table_add_row(t);
        nfv_table_add_str(t, ts);
        nfv_table_add_str(t, json_string_value(json_object_get(e, "type")));
        nfv_table_add_str(t, json_string_value(json_object_get(e, "object")));
        nfv_table_add_str(t, json_string_value(json_object_get(e, "message")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

enum nfv_code ctl_cmd_heal_history(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"limit=", NULL};
    const char *vals[1] = {NULL};
    unsigned long limit = 100;
    char path[64];
    enum nfv_code code;

    if ((code = ctl_verb_opts(argc, argv, "heal history", spec, vals, err)) ||
        (vals[0] && (code = ctl_opt_uint("limit", vals[0], 1, 1000, &limit, err))))
        return code;
    snprintf(path, sizeof(path), "/v1/heal/history?limit=%lu", limit);
    return ctl_get_and_print(ctx, path, "events", print_history, err);
}

static enum nfv_code print_heal_host(const struct ctl_ctx *ctx, const json_t *rows,
                                     struct nfv_err *err)
{
    return print_heal_hosts(ctx, rows, err);
}

enum nfv_code ctl_cmd_host_fence(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"confirm-dead", NULL};
    const char *name, *confirm;
    char path[256];
    json_t *body;
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "host fence", "NAME", spec, &name, &confirm, err)))
        return code;
    if (!confirm)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'--confirm-dead': is required: say that host '%s' is powered off and "
                       "nothing runs there, so that its standbys may take over",
                       name);
    ctl_client_path(path, sizeof(path), "/v1/hosts", name, "/fence");
    body = json_pack("{s:b}", "confirm_dead", 1);
    code = ctl_call_and_print(ctx, "POST", path, body, print_heal_host, err);
    json_decref(body);
    return code;
}

enum nfv_code ctl_cmd_host_recover(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    const char *name;
    char path[256];
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "host recover", "NAME", NULL, &name, NULL, err)))
        return code;
    ctl_client_path(path, sizeof(path), "/v1/hosts", name, "/recover");
    return ctl_call_and_print(ctx, "POST", path, NULL, print_heal_host, err);
}
