/*
 * ctl_migrate.c - verbs that change where VMs run (issue 16):
 *
 *   vmmgrctl vm repin NAME [--cpu-mode M] [--cpu-map V:P,...] [--shared-vcpus L]
 *            [--thread-policy P] [--emulator E] [--numa-node N] [--dry-run] [--ignore-reserve]
 *   vmmgrctl vm migrate NAME [--host H] [--live | --cold] [--dry-run] [--ignore-reserve]
 *   vmmgrctl host drain NAME [--dry-run]
 *   vmmgrctl cluster defragment --vcpus N [--memory MIB] [--cpu-mode M] [--max-moves N]
 *            [--dry-run]
 *
 * Each is one POST; while it runs (migrations take seconds), a progress
 * thread polls the daemon every half second and prints a line on stderr
 * each second: the migration's phase and transferred memory from
 * GET /v1/vms/NAME/migration, or for a drain the VMs left on the host
 * (unless --quiet or --json).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_client.h"
#include "ctl_verbs.h"

/* Long operations: a migration of a large guest takes minutes. */
#define LONG_OP_TIMEOUT_MS 900000u

struct watch {
    const struct ctl_ctx *ctx;
    char path[320]; /* polled */
    char what[160]; /* "migrating 'x'" */
    bool is_host;   /* a drain: path is the host, print its VM count */
    atomic_bool is_done;
    pthread_t t;
    bool is_started;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void watch_line(struct watch *w, int64_t t0)
{
    json_t *v = NULL;
    struct nfv_err e = {0};
    double secs = (double)(mono_ms() - t0) / 1000.0;

    if (ctl_client_call(w->ctx, "GET", w->path, NULL, 2000, &v, &e) != NFV_OK) {
        fprintf(stderr, "vmmgrctl: %s... %.0f s\n", w->what, secs);
        return;
    }
    if (w->is_host) {
        fprintf(stderr, "vmmgrctl: %s... %lld VM(s) left on it, %.0f s\n", w->what,
                (long long)json_integer_value(json_object_get(v, "vms")), secs);
    } else if (json_is_true(json_object_get(v, "migrating"))) {
        long long total = json_integer_value(json_object_get(v, "data_total"));
        long long rem = json_integer_value(json_object_get(v, "data_remaining"));
        if (total > 0)
            fprintf(stderr, "vmmgrctl: %s %s -> %s (%s): %s, %lld%% (%lld of %lld MiB), %.0f s\n",
                    w->what, json_string_value(json_object_get(v, "from")),
                    json_string_value(json_object_get(v, "to")),
                    json_string_value(json_object_get(v, "mode")),
                    json_string_value(json_object_get(v, "phase")),
                    (long long)json_integer_value(json_object_get(v, "percent")),
                    (total - rem) >> 20, total >> 20, secs);
        else
            fprintf(stderr, "vmmgrctl: %s %s -> %s (%s): %s, %.0f s\n", w->what,
                    json_string_value(json_object_get(v, "from")),
                    json_string_value(json_object_get(v, "to")),
                    json_string_value(json_object_get(v, "mode")),
                    json_string_value(json_object_get(v, "phase")), secs);
    } else {
        fprintf(stderr, "vmmgrctl: %s... %.0f s\n", w->what, secs);
    }
    json_decref(v);
}

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    int64_t t0 = mono_ms(), next = t0 + 1000;

    while (!atomic_load(&w->is_done)) {
        usleep(100 * 1000);
        if (mono_ms() >= next && !atomic_load(&w->is_done)) {
            watch_line(w, t0);
            next += 1000;
        }
    }
    return NULL;
}

static void watch_start(const struct ctl_ctx *ctx, struct watch *w)
{
    w->ctx = ctx;
    atomic_store(&w->is_done, false);
    w->is_started = false;
    if (ctx->is_quiet || ctx->fmt != NFV_OUT_TABLE)
        return;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before two threads use libcurl */
    w->is_started = pthread_create(&w->t, NULL, watch_main, w) == 0;
}

static void watch_stop(struct watch *w)
{
    atomic_store(&w->is_done, true);
    if (w->is_started)
        pthread_join(w->t, NULL);
    w->is_started = false;
}

/* POSTs @body to @path while @w reports progress. */
static enum nfv_code post_watched(const struct ctl_ctx *ctx, const char *path, const json_t *body,
                                  struct watch *w, json_t **ret, struct nfv_err *err)
{
    unsigned t = ctx->timeout_ms > LONG_OP_TIMEOUT_MS ? ctx->timeout_ms : LONG_OP_TIMEOUT_MS;
    enum nfv_code code;

    watch_start(ctx, w);
    code = ctl_client_call(ctx, "POST", path, body, t, ret, err);
    watch_stop(w);
    return code;
}

/* Options shared by the verbs: each named field of the body. */
struct body_opts {
    json_t *body;
    const char *verb;
    bool is_async; /* --async (vm migrate): answer at once with the operation */
};

static enum nfv_code set_uint(json_t *body, const char *key, const char *opt, const char *val,
                              unsigned long max, struct nfv_err *err)
{
    unsigned long n;
    enum nfv_code code;

    if ((code = ctl_opt_uint(opt, val, 0, max, &n, err)))
        return code;
    json_object_set_new(body, key, json_integer((json_int_t)n));
    return NFV_OK;
}

static enum nfv_code on_opt(void *opaque, const char *opt, const char *val, struct nfv_err *err)
{
    struct body_opts *o = opaque;
    json_t *b = o->body;
    char name[32];
    size_t nl = strcspn(opt, "=");

    /* @opt is the spec entry ("host=" for an option with a value). */
    if (nl >= sizeof(name))
        return NFV_ERR(err, NFV_E_INVAL, "%s: unknown option '--%s'", o->verb, opt);
    memcpy(name, opt, nl);
    name[nl] = '\0';
    opt = name;

    if (strcmp(opt, "async") == 0)
        o->is_async = true;
    else if (strcmp(opt, "dry-run") == 0)
        json_object_set_new(b, "dry_run", json_true());
    else if (strcmp(opt, "ignore-reserve") == 0)
        json_object_set_new(b, "ignore_reserve", json_true());
    else if (strcmp(opt, "live") == 0 || strcmp(opt, "cold") == 0) {
        if (json_object_get(b, "mode"))
            return NFV_ERR(err, NFV_E_INVAL, "%s: --live and --cold exclude each other", o->verb);
        json_object_set_new(b, "mode", json_string(opt));
    } else if (strcmp(opt, "numa-node") == 0)
        return set_uint(b, "numa_node", "--numa-node", val, 63, err);
    else if (strcmp(opt, "vcpus") == 0)
        return set_uint(b, "vcpus", "--vcpus", val, 4096, err);
    else if (strcmp(opt, "memory") == 0)
        return set_uint(b, "memory_mib", "--memory", val, 16ul << 20, err);
    else if (strcmp(opt, "max-moves") == 0)
        return set_uint(b, "max_moves", "--max-moves", val, 64, err);
    else {
        /* String fields: --cpu-mode -> cpu_mode, --host -> host, ... */
        char key[32];
        size_t i;
        for (i = 0; opt[i] && i + 1 < sizeof(key); i++)
            key[i] = opt[i] == '-' ? '_' : opt[i];
        key[i] = '\0';
        json_object_set_new(b, key, json_string(val));
    }
    return NFV_OK;
}

static void print_moves(const json_t *moves)
{
    size_t i;
    const json_t *m;

    json_array_foreach(moves, i, m)
    {
        const json_t *to = json_object_get(m, "to");
        printf("  %s -> %s%s%s\n",
               json_string_value(json_object_get(m, "name"))
                   ? json_string_value(json_object_get(m, "name"))
                   : json_string_value(json_object_get(m, "vm")),
               json_is_string(to) ? json_string_value(to) : "?",
               json_object_get(m, "mode") ? " " : "",
               json_object_get(m, "mode") ? json_string_value(json_object_get(m, "mode")) : "");
    }
}

enum nfv_code ctl_cmd_vm_repin(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"cpu-mode=",      "cpu-map=",       "shared-vcpus=",
                                       "thread-policy=", "emulator=",      "numa-node=",
                                       "dry-run",        "ignore-reserve", NULL};
    struct body_opts o = {.body = json_object(), .verb = "vm repin"};
    struct watch w = {0};
    const char *name;
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "vm repin", "NAME", spec, on_opt, &o, &name, err)))
        goto out;
    ctl_client_path(w.path, sizeof(w.path), "/v1/vms", name, "/repin");
    snprintf(w.what, sizeof(w.what), "re-pinning '%s'", name);
    {
        char path[320];
        snprintf(path, sizeof(path), "%s", w.path);
        ctl_client_path(w.path, sizeof(w.path), "/v1/vms", name, "/migration");
        code = post_watched(ctx, path, o.body, &w, &doc, err);
    }
    if (code)
        goto out;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        char pus[256] = "";
        const json_t *plan = json_object_get(doc, "plan");
        const json_t *cl = json_object_get(plan, "claimed");
        snprintf(pus, sizeof(pus), "%s", json_is_string(cl) ? json_string_value(cl) : "?");
        printf("%s '%s' on %s: PUs %s\n",
               json_is_true(json_object_get(doc, "dry_run")) ? "would re-pin" : "re-pinned", name,
               json_string_value(json_object_get(doc, "host")), pus);
    }
out:
    json_decref(doc);
    json_decref(o.body);
    return code;
}

enum nfv_code ctl_cmd_vm_migrate(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"host=",          "live",  "cold", "dry-run",
                                       "ignore-reserve", "async", NULL};
    struct body_opts o = {.body = json_object(), .verb = "vm migrate"};
    struct watch w = {0};
    const char *name;
    char path[320];
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "vm migrate", "NAME", spec, on_opt, &o, &name, err)))
        goto out;
    ctl_client_path(path, sizeof(path), "/v1/vms", name,
                    o.is_async ? "/migrate?async=1" : "/migrate");
    ctl_client_path(w.path, sizeof(w.path), "/v1/vms", name, "/migration");
    snprintf(w.what, sizeof(w.what), "migrating '%s'", name);
    if (o.is_async)
        code = ctl_client_call(ctx, "POST", path, o.body, 0, &doc, err);
    else
        code = post_watched(ctx, path, o.body, &w, &doc, err);
    if (code)
        goto out;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else if (json_object_get(doc, "href")) {
        long long id = (long long)json_integer_value(json_object_get(doc, "operation_id"));
        printf("operation %lld: migrating '%s' from %s to %s (progress: GET /v1/vms/%s/migration; "
               "result: 'vmmgrctl operation show %lld --wait')\n",
               id, name, json_string_value(json_object_get(doc, "from")),
               json_string_value(json_object_get(doc, "to")), name, id);
    } else {
        const json_t *cl = json_object_get(json_object_get(doc, "plan"), "claimed");
        if (json_is_true(json_object_get(doc, "dry_run")))
            printf("would migrate '%s' from %s to %s (%s), PUs %s\n", name,
                   json_string_value(json_object_get(doc, "from")),
                   json_string_value(json_object_get(doc, "to")),
                   json_string_value(json_object_get(doc, "mode")),
                   json_is_string(cl) ? json_string_value(cl) : "?");
        else
            printf("migrated '%s' from %s to %s (%s) in %lld ms, PUs %s\n", name,
                   json_string_value(json_object_get(doc, "from")),
                   json_string_value(json_object_get(doc, "to")),
                   json_string_value(json_object_get(doc, "mode")),
                   (long long)json_integer_value(json_object_get(doc, "move_ms")),
                   json_is_string(cl) ? json_string_value(cl) : "?");
    }
out:
    json_decref(doc);
    json_decref(o.body);
    return code;
}

enum nfv_code ctl_cmd_host_drain(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"dry-run", NULL};
    struct body_opts o = {.body = json_object(), .verb = "host drain"};
    struct watch w = {.is_host = true};
    const char *name;
    char path[320];
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "host drain", "NAME", spec, on_opt, &o, &name, err)))
        goto out;
    ctl_client_path(path, sizeof(path), "/v1/hosts", name, "/drain");
    ctl_client_path(w.path, sizeof(w.path), "/v1/hosts", name, "");
    snprintf(w.what, sizeof(w.what), "draining '%s'", name);
    if ((code = post_watched(ctx, path, o.body, &w, &doc, err)))
        goto out;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        const json_t *moves = json_object_get(doc, "moves");
        printf("%s '%s': %zu move(s)%s\n",
               json_is_true(json_object_get(doc, "dry_run")) ? "drain plan of" : "drained", name,
               json_array_size(moves),
               json_is_true(json_object_get(doc, "dry_run")) ? "" : "; host in maintenance");
        print_moves(moves);
    }
out:
    json_decref(doc);
    json_decref(o.body);
    return code;
}

enum nfv_code ctl_cmd_cluster_defragment(struct ctl_ctx *ctx, int argc, char **argv,
                                         struct nfv_err *err)
{
    static const char *const spec[] = {
        "vcpus=", "memory=", "cpu-mode=", "thread-policy=", "max-moves=", "dry-run", NULL};
    struct body_opts o = {.body = json_object(), .verb = "cluster defragment"};
    struct watch w = {0};
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "cluster defragment", NULL, spec, on_opt, &o, NULL, err)))
        goto out;
    snprintf(w.path, sizeof(w.path), "/v1/status");
    snprintf(w.what, sizeof(w.what), "defragmenting");
    if ((code = post_watched(ctx, "/v1/cluster/defragment", o.body, &w, &doc, err)))
        goto out;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        const json_t *moves = json_object_get(doc, "moves"),
                     *fits = json_object_get(doc, "fits_on");
        printf("%s: %zu move(s); then the VM fits on %s\n",
               json_is_true(json_object_get(doc, "dry_run")) ? "defragment plan" : "defragmented",
               json_array_size(moves), json_is_string(fits) ? json_string_value(fits) : "?");
        print_moves(moves);
    }
out:
    json_decref(doc);
    json_decref(o.body);
    return code;
}
