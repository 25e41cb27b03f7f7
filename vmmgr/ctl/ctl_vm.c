/*
 * ctl_vm.c - vmmgrctl VM and group verbs, clients of /v1/vms and /v1/groups:
 *   vm create NAME --vcpus N --memory MIB [--cpu-mode M] [--cpu-map V:P,...]
 *             [--shared-vcpus LIST] [--thread-policy P] [--emulator E]
 *             [--numa-node N] [--host H] [--group G --role act|sby]
 *             [--disk PATH] [--nic bridge:BR|network:NET|vhostuser:PATH ...] [--dry-run]
 *             [--ignore-reserve]
 *   vm list | vm show NAME | vm pins NAME
 *   vm start|stop|reboot NAME (stop: [--force]) | vm delete NAME [--if-exists]
 *   group create NAME --scope host|rack|zone|power --member NAME:ROLE:SPEC ... [--dry-run]
 *     [--ignore-reserve] (place even if the healing reserve breaks)
 *     SPEC = vcpus=N,memory=MIB[,cpu-mode=M][,host=H][,shared-vcpus=L][,...]
 *   group list | group show NAME
 * A create that takes more than a second prints one progress line on
 * stderr (from a timer, so quick creates stay silent).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_client.h"

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

/* ---- progress after one second ---- */

static char progress_msg[160];

static void on_alarm(int sig)
{
    (void)sig;
    if (write(STDERR_FILENO, progress_msg, strlen(progress_msg)) < 0)
        progress_msg[0] = '\0';
}

static void progress_arm(const struct ctl_ctx *ctx, const char *what, const char *name)
{
    struct itimerval it = {.it_value = {.tv_sec = 1}};

    if (ctx->is_quiet || ctx->fmt != NFV_OUT_TABLE)
        return;
    snprintf(progress_msg, sizeof(progress_msg),
             "vmmgrctl: %s '%s' (placing, defining, starting, "
             "verifying pins)...\n",
             what, name);
    signal(SIGALRM, on_alarm);
    setitimer(ITIMER_REAL, &it, NULL);
}

static void progress_disarm(void)
{
    struct itimerval it = {0};

    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- shared helpers ---- */

static enum nfv_code name_arg(int argc, char **argv, const char *verb, const char *const *spec,
                              const char **ret_name, bool *ret_flag, struct nfv_err *err)
{
    const char *opt, *val;
    int i = 1;

    *ret_name = NULL;
    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (*opt) {
            if (ret_flag)
                *ret_flag = true;
            continue;
        }
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

static void vm_path(char *buf, size_t size, const char *name, const char *suffix)
{
    char esc[200];

    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(buf, size, "/v1/vms/%s%s", esc, suffix);
}

static enum nfv_code print_vms(const struct ctl_ctx *ctx, const json_t *vms, struct nfv_err *err)
{
    static const char *const keys[] = {"name",  "host",  "state",      "role",
                                       "group", "vcpus", "memory_mib", "pus"};
    struct nfv_table *t = nfv_table_new(keys, sizeof(keys) / sizeof(keys[0]));
    const json_t *v;
    enum nfv_code code;
    size_t i;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(vms, i, v)
    {
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(v, "name")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "host")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "state")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "role")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "group")));
        nfv_table_add_int(t, json_integer_value(json_object_get(v, "vcpus")));
        nfv_table_add_int(t, json_integer_value(json_object_get(v, "memory_mib")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "pus")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    return code;
}

/* Prints a plan's vCPU -> PU table. */
static enum nfv_code print_plan(const struct ctl_ctx *ctx, const json_t *plan, struct nfv_err *err)
{
    static const char *const keys[] = {"vcpu", "mode", "pu"};
    struct nfv_table *t = nfv_table_new(keys, 3);
    const json_t *v;
    enum nfv_code code;
    size_t i;

    if (!t)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(json_object_get(plan, "vcpus"), i, v)
    {
        nfv_table_add_row(t);
        nfv_table_add_int(t, json_integer_value(json_object_get(v, "vcpu")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "mode")));
        nfv_table_add_int(t, json_integer_value(json_object_get(v, "pu")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    if (code == NFV_OK && !(ctx->table_flags & NFV_TABLE_NO_LEGEND))
        printf("emulator: %s\n", json_string_value(json_object_get(plan, "emulator")));
    return code;
}

/* ---- vm create ---- */

/* Maps a CLI option or SPEC key to the API field; NULL if unknown. */
static const char *vm_field(const char *opt)
{
    static const char *const map[][2] = {
        {"vcpus", "vcpus"},
        {"memory", "memory_mib"},
        {"cpu-mode", "cpu_mode"},
        {"cpu-map", "cpu_map"},
        {"shared-vcpus", "shared_vcpus"},
        {"thread-policy", "thread_policy"},
        {"emulator", "emulator"},
        {"numa-node", "numa_node"},
        {"host", "host"},
        {"group", "group"},
        {"role", "role"},
        {"disk", "disk"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], opt) == 0)
            return map[i][1];
    return NULL;
}

/* Sets field @opt=@val on @o, converting numbers; names the option on error. */
static enum nfv_code set_field(json_t *o, const char *opt, const char *val, struct nfv_err *err)
{
    const char *field = vm_field(opt);
    unsigned long n;

    if (!field)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown setting", opt);
    if (strcmp(field, "vcpus") == 0 || strcmp(field, "memory_mib") == 0 ||
        strcmp(field, "numa_node") == 0) {
        if (ctl_opt_uint(opt, val, strcmp(field, "numa_node") == 0 ? 0 : 1, 16ul << 20, &n, err))
            return NFV_E_INVAL;
        json_object_set_new(o, field, json_integer((json_int_t)n));
    } else {
        json_object_set_new(o, field, json_string(val));
    }
    return NFV_OK;
}

enum nfv_code ctl_cmd_vm_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {
        "vcpus=",         "memory=",   "cpu-mode=",  "cpu-map=", "shared-vcpus=",
        "thread-policy=", "emulator=", "numa-node=", "host=",    "group=",
        "role=",          "disk=",     "nic=",       "dry-run",  "async",
        "ignore-reserve", NULL};
    const char *opt, *val, *name = NULL;
    json_t *body = json_object(), *nics = json_array(), *doc = NULL;
    enum nfv_code code = NFV_OK;
    bool is_async = false;
    int i = 1;

    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        char key[32];
        if (!*opt) {
            if (name) {
                code = NFV_ERR(err, NFV_E_INVAL, "vm create: unexpected argument '%s'", val);
                goto out;
            }
            name = val;
            continue;
        }
        if (strcmp(opt, "dry-run") == 0) {
            json_object_set_new(body, "dry_run", json_true());
            continue;
        }
        if (strcmp(opt, "async") == 0) {
            is_async = true;
            continue;
        }
        if (strcmp(opt, "ignore-reserve") == 0) {
            json_object_set_new(body, "ignore_reserve", json_true());
            continue;
        }
        snprintf(key, sizeof(key), "%.*s", (int)strlen(opt) - 1, opt);
        if (strcmp(key, "nic") == 0) {
            json_array_append_new(nics, json_string(val));
            continue;
        }
        if ((code = set_field(body, key, val, err)) != NFV_OK)
            goto out;
    }
    if (err && err->code) {
        code = err->code;
        goto out;
    }
    if (!name) {
        code = NFV_ERR(err, NFV_E_INVAL, "vm create: missing NAME");
        goto out;
    }
    if (!json_object_get(body, "vcpus")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--vcpus': is required");
        goto out;
    }
    if (!json_object_get(body, "memory_mib")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--memory': is required (MiB)");
        goto out;
    }
    json_object_set_new(body, "name", json_string(name));
    if (json_array_size(nics))
        json_object_set(body, "nics", nics);
    if (!is_async)
        progress_arm(ctx, "creating VM", name);
    code =
        ctl_client_call(ctx, "POST", is_async ? "/v1/vms?async=1" : "/v1/vms", body, 0, &doc, err);
    progress_disarm();
    if (code != NFV_OK)
        goto out;
    if (ctx->fmt == NFV_OUT_TABLE && is_async && json_object_get(doc, "href")) {
        printf("operation %lld: creating '%s' (poll with 'vmmgrctl operation show %lld')\n",
               (long long)json_integer_value(json_object_get(doc, "operation_id")), name,
               (long long)json_integer_value(json_object_get(doc, "operation_id")));
    } else if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else if (json_is_true(json_object_get(doc, "dry_run"))) {
        const json_t *v = json_array_get(json_object_get(doc, "vms"), 0);
        printf("dry run: '%s' would go to host %s\n", name,
               json_string_value(json_object_get(v, "host")));
        code = print_plan(ctx, json_object_get(v, "plan"), err);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, doc);
        code = print_vms(ctx, arr, err);
        json_decref(arr);
    }
out:
    json_decref(doc);
    json_decref(body);
    json_decref(nics);
    return code;
}

enum nfv_code ctl_cmd_vm_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *val;
    json_t *doc;
    enum nfv_code code;
    int i = 1;

    if (ctl_opt_next(argc, argv, &i, spec, &val, err))
        return NFV_ERR(err, NFV_E_INVAL, "vm list: takes no arguments");
    if (err && err->code)
        return err->code;
    if ((code = ctl_client_call(ctx, "GET", "/v1/vms", NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, json_object_get(doc, "vms"));
    else
        code = print_vms(ctx, json_object_get(doc, "vms"), err);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_vm_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *name;
    char path[256];
    json_t *doc, *arr, *p;
    enum nfv_code code;
    size_t i;

    if ((code = name_arg(argc, argv, "vm show", spec, &name, NULL, err)))
        return code;
    vm_path(path, sizeof(path), name, "");
    if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
        json_decref(doc);
        return NFV_OK;
    }
    arr = json_array();
    json_array_append(arr, doc);
    code = print_vms(ctx, arr, err);
    json_decref(arr);
    json_array_foreach(json_object_get(doc, "peers"), i, p)
        printf("peer: %s (%s) on %s, %s\n", json_string_value(json_object_get(p, "name")),
               json_string_value(json_object_get(p, "role")),
               json_string_value(json_object_get(p, "host")),
               json_string_value(json_object_get(p, "state")));
    if (code == NFV_OK) {
        printf("\n");
        code = print_plan(ctx, json_object_get(doc, "plan"), err);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_vm_pins(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    static const char *const keys[] = {"vcpu", "mode", "plan", "live", "ok"};
    const char *name;
    char path[256];
    json_t *doc;
    const json_t *v;
    struct nfv_table *t;
    enum nfv_code code;
    size_t i;

    if ((code = name_arg(argc, argv, "vm pins", spec, &name, NULL, err)))
        return code;
    vm_path(path, sizeof(path), name, "/pins");
    if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
        json_decref(doc);
        return NFV_OK;
    }
    t = nfv_table_new(keys, 5);
    if (!t) {
        json_decref(doc);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    json_array_foreach(json_object_get(doc, "vcpus"), i, v)
    {
        nfv_table_add_row(t);
        nfv_table_add_int(t, json_integer_value(json_object_get(v, "vcpu")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "mode")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "plan")));
        nfv_table_add_str(t, json_string_value(json_object_get(v, "live")));
        nfv_table_add_bool(t, json_is_true(json_object_get(v, "ok")));
    }
    /* The emulator threads' row, when the plan pins them. */
    v = json_object_get(doc, "emulator_plan");
    if (json_string_value(v) && *json_string_value(v)) {
        const json_t *live = json_object_get(doc, "emulator_live");
        nfv_table_add_row(t);
        nfv_table_add_str(t, "emu");
        nfv_table_add_str(t, "emulator");
        nfv_table_add_str(t, json_string_value(v));
        nfv_table_add_str(t, json_string_value(live));
        if (json_is_string(live))
            nfv_table_add_bool(t, json_is_true(json_object_get(doc, "emulator_ok")));
        else
            nfv_table_add_null(t);
    }
    printf("%s on %s (%s): %s\n", name, json_string_value(json_object_get(doc, "host")),
           json_string_value(json_object_get(doc, "state")),
           !json_is_true(json_object_get(doc, "live"))
               ? "live pins unavailable (not running or host unreachable)"
           : json_integer_value(json_object_get(doc, "drift"))
               ? "DRIFT: live pins differ from the plan"
               : "live pins match the plan");
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    json_decref(doc);
    return code;
}

static enum nfv_code vm_action(struct ctl_ctx *ctx, int argc, char **argv, const char *action,
                               struct nfv_err *err)
{
    static const char *const spec_stop[] = {"force", NULL};
    static const char *const spec_none[] = {NULL};
    bool is_stop = strcmp(action, "stop") == 0, is_force = false;
    const char *name;
    char path[256], verb[32], suffix[16];
    json_t *body = NULL, *doc;
    enum nfv_code code;

    snprintf(verb, sizeof(verb), "vm %s", action);
    if ((code = name_arg(argc, argv, verb, is_stop ? spec_stop : spec_none, &name, &is_force, err)))
        return code;
    snprintf(suffix, sizeof(suffix), "/%s", action);
    vm_path(path, sizeof(path), name, suffix);
    if (is_force)
        body = json_pack("{s:b}", "force", 1);
    else
        body = json_object();
    code = ctl_client_call(ctx, "POST", path, body, 0, &doc, err);
    json_decref(body);
    if (code)
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, doc);
        code = print_vms(ctx, arr, err);
        json_decref(arr);
    }
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_vm_start(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return vm_action(ctx, argc, argv, "start", err);
}

enum nfv_code ctl_cmd_vm_stop(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return vm_action(ctx, argc, argv, "stop", err);
}

enum nfv_code ctl_cmd_vm_reboot(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return vm_action(ctx, argc, argv, "reboot", err);
}

enum nfv_code ctl_cmd_vm_delete(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"if-exists", NULL};
    bool is_if_exists = false;
    const char *name;
    char path[256];
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = name_arg(argc, argv, "vm delete", spec, &name, &is_if_exists, err)))
        return code;
    vm_path(path, sizeof(path), name, "");
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
        printf("deleted VM '%s'\n", name);
    json_decref(doc);
    return NFV_OK;
}

/* ---- groups ---- */

/* "nat-act:act:vcpus=2,memory=512,cpu-mode=exclusive" -> member object. */
static enum nfv_code parse_member(const char *arg, json_t **ret, struct nfv_err *err)
{
    char buf[512], *name, *role, *spec, *save = NULL, *kv;
    json_t *o;

    if (strlen(arg) >= sizeof(buf))
        return NFV_ERR(err, NFV_E_INVAL, "'--member': too long");
    memcpy(buf, arg, strlen(arg) + 1);
    name = buf;
    role = strchr(name, ':');
    spec = role ? strchr(role + 1, ':') : NULL;
    if (!role || !spec)
        return NFV_ERR(err, NFV_E_INVAL, "'--member': '%s' is not NAME:ROLE:SPEC", arg);
    *role++ = '\0';
    *spec++ = '\0';
    o = json_pack("{s:s,s:s}", "name", name, "role", role);
    for (kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            json_decref(o);
            return NFV_ERR(err, NFV_E_INVAL, "'--member': '%s' in '%s' is not KEY=VALUE", kv, arg);
        }
        *eq = '\0';
        if (strcmp(kv, "group") == 0 || strcmp(kv, "role") == 0 ||
            set_field(o, kv, eq + 1, err) != NFV_OK) {
            json_decref(o);
            if (err && err->code == NFV_OK)
                NFV_ERR(err, NFV_E_INVAL, "'--member': '%s' cannot be set per member", kv);
            nfv_err_prefix(err, "'--member' %s", name);
            return NFV_E_INVAL;
        }
    }
    *ret = o;
    return NFV_OK;
}

enum nfv_code ctl_cmd_group_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"scope=", "member=",        "dry-run",
                                       "async",  "ignore-reserve", NULL};
    const char *opt, *val, *name = NULL;
    json_t *body = json_object(), *members = json_array(), *doc = NULL, *m;
    enum nfv_code code = NFV_OK;
    bool is_async = false;
    int i = 1;

    while ((opt = ctl_opt_next(argc, argv, &i, spec, &val, err))) {
        if (!*opt) {
            if (name) {
                code = NFV_ERR(err, NFV_E_INVAL, "group create: unexpected argument '%s'", val);
                goto out;
            }
            name = val;
        } else if (strcmp(opt, "scope=") == 0) {
            json_object_set_new(body, "scope", json_string(val));
        } else if (strcmp(opt, "dry-run") == 0) {
            json_object_set_new(body, "dry_run", json_true());
        } else if (strcmp(opt, "async") == 0) {
            is_async = true;
        } else if (strcmp(opt, "ignore-reserve") == 0) {
            json_object_set_new(body, "ignore_reserve", json_true());
        } else {
            if ((code = parse_member(val, &m, err)) != NFV_OK)
                goto out;
            json_array_append_new(members, m);
        }
    }
    if (err && err->code) {
        code = err->code;
        goto out;
    }
    if (!name) {
        code = NFV_ERR(err, NFV_E_INVAL, "group create: missing NAME");
        goto out;
    }
    if (json_array_size(members) == 0) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--member': at least one is required");
        goto out;
    }
    json_object_set_new(body, "name", json_string(name));
    json_object_set(body, "members", members);
    if (!is_async)
        progress_arm(ctx, "creating group", name);
    code = ctl_client_call(ctx, "POST", is_async ? "/v1/groups?async=1" : "/v1/groups", body, 0,
                           &doc, err);
    progress_disarm();
    if (code != NFV_OK)
        goto out;
    if (ctx->fmt == NFV_OUT_TABLE && is_async && json_object_get(doc, "href"))
        printf("operation %lld: creating group '%s'\n",
               (long long)json_integer_value(json_object_get(doc, "operation_id")), name);
    else if (ctx->fmt != NFV_OUT_TABLE)
        ctl_print_json(ctx, doc);
    else if (json_is_true(json_object_get(doc, "dry_run")))
        code = print_vms(ctx, json_object_get(doc, "vms"), err);
    else
        code = print_vms(ctx, json_object_get(doc, "members"), err);
out:
    json_decref(doc);
    json_decref(body);
    json_decref(members);
    return code;
}

enum nfv_code ctl_cmd_group_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    static const char *const keys[] = {"name", "scope", "members"};
    const char *val;
    struct nfv_table *t;
    json_t *doc;
    const json_t *g;
    enum nfv_code code;
    size_t k;
    int i = 1;

    if (ctl_opt_next(argc, argv, &i, spec, &val, err))
        return NFV_ERR(err, NFV_E_INVAL, "group list: takes no arguments");
    if (err && err->code)
        return err->code;
    if ((code = ctl_client_call(ctx, "GET", "/v1/groups", NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, json_object_get(doc, "groups"));
        json_decref(doc);
        return NFV_OK;
    }
    t = nfv_table_new(keys, 3);
    json_array_foreach(json_object_get(doc, "groups"), k, g)
    {
        nfv_table_add_row(t);
        nfv_table_add_str(t, json_string_value(json_object_get(g, "name")));
        nfv_table_add_str(t, json_string_value(json_object_get(g, "scope")));
        nfv_table_add_int(t, json_integer_value(json_object_get(g, "members")));
    }
    code = ctl_print_table(ctx, t);
    nfv_table_free(t);
    json_decref(doc);
    return code;
}

enum nfv_code ctl_cmd_group_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {NULL};
    const char *name;
    char path[256], esc[200];
    json_t *doc;
    enum nfv_code code;

    if ((code = name_arg(argc, argv, "group show", spec, &name, NULL, err)))
        return code;
    ctl_client_escape(name, esc, sizeof(esc));
    snprintf(path, sizeof(path), "/v1/groups/%s", esc);
    if ((code = ctl_client_call(ctx, "GET", path, NULL, 0, &doc, err)))
        return code;
    if (ctx->fmt != NFV_OUT_TABLE) {
        ctl_print_json(ctx, doc);
    } else {
        printf("group %s, scope %s\n", name, json_string_value(json_object_get(doc, "scope")));
        code = print_vms(ctx, json_object_get(doc, "members"), err);
    }
    json_decref(doc);
    return code;
}
