/*
 * ctl_daemon.c - vmmgrctl verbs about the daemon itself: status, events
 * (with --follow, a long-poll loop on GET /v1/events), metrics, audit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "ctl_client.h"

/* "2026-11-21T05:40:01.123Z" */
static void fmt_ms(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    char sec[32];

    gmtime_r(&s, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%.20s.%03dZ", sec, (int)(ms % 1000));
}

enum nfv_code ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    json_t *doc, *hosts;
    enum nfv_code code;

    if ((code = ctl_verb_no_args(argc, argv, "status", err)) ||
        (code = ctl_client_call(ctx, "GET", "/v1/status", NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
        json_decref(doc);
        return NFV_OK;
    }
    hosts = json_object_get(doc, "hosts");
    printf("vmmgrd %s, pid %lld, up %.0f s\n", json_string_value(json_object_get(doc, "version")),
           (long long)json_integer_value(json_object_get(doc, "pid")),
           json_number_value(json_object_get(doc, "uptime_s")));
    printf("socket:   %s\n", json_string_value(json_object_get(doc, "socket")));
    printf("database: %s (schema %lld)\n", json_string_value(json_object_get(doc, "db")),
           (long long)json_integer_value(json_object_get(doc, "schema_version")));
    printf("hosts:    %lld (%lld up, %lld maintenance, %lld unreachable)\n",
           (long long)json_integer_value(json_object_get(hosts, "total")),
           (long long)json_integer_value(json_object_get(hosts, "up")),
           (long long)json_integer_value(json_object_get(hosts, "maintenance")),
           (long long)json_integer_value(json_object_get(hosts, "unreachable")));
    {
        const char *r = json_string_value(json_object_get(doc, "healing_reserve"));
        if (r && strcmp(r, "off") == 0)
            printf("reserve:  off (no healing reserve kept)\n");
        else
            printf("reserve:  room kept to rebuild group members after one %s failure\n",
                   r ? r : "?");
    }
    if (json_is_true(json_object_get(doc, "recovering")))
        printf("state:    recovering (start-up: host connections, journal, reconcile); "
               "changes are refused until it ends\n");
    printf("journal:  %lld unfinished operation(s)\n",
           (long long)json_integer_value(json_object_get(doc, "journal_pending")));
    printf("events:   last id %lld\n",
           (long long)json_integer_value(json_object_get(doc, "last_event_id")));
    json_decref(doc);
    return NFV_OK;
}

static void print_event_line(const struct ctl_ctx *ctx, const json_t *ev)
{
    char ts[40], obj[256], msg[2048];
    const char *o = json_string_value(json_object_get(ev, "object"));
    const char *m = json_string_value(json_object_get(ev, "message"));

    if (ctx->fmt != NFV_OUT_TABLE) {
        nfv_json_print(ev, NFV_OUT_JSON_SHORT, stdout);
    } else {
        fmt_ms(json_integer_value(json_object_get(ev, "ts_ms")), ts, sizeof(ts));
        /* Free text: escaped so no control sequence reaches the terminal. */
        printf("%lld %s %-5s %-18s %-16s %s\n",
               (long long)json_integer_value(json_object_get(ev, "id")), ts,
               json_string_value(json_object_get(ev, "severity")),
               json_string_value(json_object_get(ev, "type")),
               o ? nfv_text_escape(o, obj, sizeof(obj)) : "",
               m ? nfv_text_escape(m, msg, sizeof(msg)) : "");
    }
    fflush(stdout);
}

/* The options of `events`, checked as they are walked. */
struct events_opts {
    unsigned long since, limit;
    bool is_follow;
};

static enum nfv_code events_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    struct events_opts *o = opaque;

    if (strcmp(opt, "since=") == 0)
        return ctl_opt_uint("since", val, 0, INT64_MAX, &o->since, err);
    if (strcmp(opt, "limit=") == 0)
        return ctl_opt_uint("limit", val, 1, 10000, &o->limit, err);
    o->is_follow = true;
    return NFV_OK;
}

static enum nfv_code print_events(const struct ctl_ctx *ctx, const json_t *events,
                                  struct nfv_err *err)
{
    static const char *const keys[] = {"id", "time", "severity", "type", "object", "message"};
    struct nfv_table *t = nfv_table_new(keys, 6);
    const json_t *ev;
    enum nfv_code code;
    size_t k;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(events, k, ev)
    {
        char ts[40];
        fmt_ms(json_integer_value(json_object_get(ev, "ts_ms")), ts, sizeof(ts));
        nfv_table_add_row(t);
        nfv_table_add_int(t, json_integer_value(json_object_get(ev, "id")));
        nfv_table_add_str(t, ts);
        nfv_table_add_str(t, json_string_value(json_object_get(ev, "severity")));
        nfv_table_add_str(t, json_string_value(json_object_get(ev, "type")));
        nfv_table_add_str(t, json_string_value(json_object_get(ev, "object")));
        nfv_table_add_str(t, json_string_value(json_object_get(ev, "message")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

enum nfv_code ctl_cmd_events(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"since=", "limit=", "follow", NULL};
    struct events_opts o = {.since = 0, .limit = 100};
    unsigned long since;
    char path[128];
    json_t *doc;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "events", NULL, spec, events_opt, &o, NULL, err)))
        return code;
    since = o.since;
    if (!o.is_follow) {
        snprintf(path, sizeof(path), "/v1/events?since=%lu&limit=%lu", since, o.limit);
        return ctl_get_and_print(ctx, path, "events", print_events, err);
    }
    /* --follow: print what exists after --since (default: only new events),
     * then long-poll for more until interrupted. */
    if (since == 0) {
        if ((code = ctl_client_call(ctx, "GET", "/v1/status", NULL, 0, &doc, err)))
            return code;
        since = (unsigned long)json_integer_value(json_object_get(doc, "last_event_id"));
        json_decref(doc);
    }
    for (;;) {
        json_t *ev;
        size_t k;
        snprintf(path, sizeof(path), "/v1/events?since=%lu&limit=%lu&wait=25", since, o.limit);
        /* The poll may legitimately take 25 s: allow it plus the usual margin. */
        if ((code = ctl_client_call(ctx, "GET", path, NULL, 25000 + ctx->timeout_ms, &doc, err)))
            return code;
        json_array_foreach(json_object_get(doc, "events"), k, ev)
        {
            print_event_line(ctx, ev);
            since = (unsigned long)json_integer_value(json_object_get(ev, "id"));
        }
        json_decref(doc);
    }
}

enum nfv_code ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    char *text = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_no_args(argc, argv, "metrics", err)) ||
        (code = ctl_client_get_text(ctx, "/metrics", &text, err)))
        return code;
    fputs(text, stdout);
    free(text);
    return NFV_OK;
}

/* operation show ID [--wait]: a journal entry; --wait polls until it is no
 * longer pending (the exit status then follows its result). */
enum nfv_code ctl_cmd_operation_show(struct ctl_ctx *ctx, int argc, char **argv,
                                     struct nfv_err *err)
{
    static const char *const spec[] = {"wait", NULL};
    const char *id_s, *wait;
    unsigned long id;
    char path[64];
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "operation show", "ID", spec, &id_s, &wait, err)))
        return code;
    if ((code = ctl_opt_uint("id", id_s, 1, INT64_MAX, &id, err)))
        return code;
    snprintf(path, sizeof(path), "/v1/operations/%lu", id);
    for (unsigned waited = 0;; waited += 200) {
        if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
            return code;
        if (!wait || strcmp(json_string_value(json_object_get(doc, "state")), "pending") != 0)
            break;
        json_decref(doc);
        if (waited >= ctx->timeout_ms)
            return NFV_ERR(err, NFV_E_TIMEOUT, "operation %lu still pending after %u ms", id,
                           ctx->timeout_ms);
        usleep(200 * 1000);
    }
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        const char *e = json_string_value(json_object_get(doc, "error"));
        printf("operation %lu: %s %s: %s%s%s\n", id,
               json_string_value(json_object_get(doc, "kind")),
               json_string_value(json_object_get(doc, "target")),
               json_string_value(json_object_get(doc, "state")), e ? " - " : "", e ? e : "");
    }
    code = strcmp(json_string_value(json_object_get(doc, "state")), "failed") == 0
               ? NFV_ERR(err, NFV_E_INTERNAL, "operation %lu failed", id)
               : NFV_OK;
    json_decref(doc);
    return code;
}

/* The audit trail (GET /v1/audit, admin): newest first. */
static enum nfv_code print_audit(const struct ctl_ctx *ctx, const json_t *rows, struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"id", true},      {"ts_ms", true}, {"who", false},
                                          {"method", false}, {"path", false}, {"status", true},
                                          {"result", false}};

    return ctl_print_json_table(ctx, rows, cols, sizeof(cols) / sizeof(cols[0]), err);
}

enum nfv_code ctl_cmd_audit(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return ctl_verb_list(ctx, argc, argv, "audit", "/v1/audit?limit=1000", "audit", print_audit,
                         err);
}
