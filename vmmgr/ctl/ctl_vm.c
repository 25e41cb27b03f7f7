/*
 * ctl_vm.c - vmmgrctl VM and group verbs, clients of /v1/vms and /v1/groups:
 *   vm create NAME --vcpus N --memory MIB [--cpu-mode M] [--cpu-map V:P,...]
 *             [--shared-vcpus LIST] [--thread-policy P] [--emulator E]
 *             [--numa-node N] [--host H] [--group G --role act|sby]
 *             [--disk PATH] [--nic bridge:BR|network:NET|vhostuser:PATH ...] [--net NET ...]
 *             [--dry-run]
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
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_verbs.h"
#include "ctl_client.h"

/* ---- progress after one second ---- */

/* A create's progress line, written after one second by a timer's signal
 * (quick creates stay silent). It lives in the verb's frame; the signal
 * carries its address (sigev_value), so there is no file-scope state. */
struct progress {
    char msg[160];
    size_t len;
    timer_t timer;
    bool is_armed;
};

static void on_progress(int sig, siginfo_t *si, void *uc)
{
    const struct progress *p = si->si_value.sival_ptr;
    ssize_t n;

    (void)sig;
    (void)uc;
    if (si->si_code != SI_TIMER || !p)
        return;
    n = write(STDERR_FILENO, p->msg, p->len);
    (void)n; /* nothing to do if stderr is gone */
}

/* Arms @p; without it (quiet, JSON, or no timer) the create is just silent. */
static void progress_arm(const struct ctl_ctx *ctx, struct progress *p, const char *what,
                         const char *name)
{
    struct sigaction sa = {.sa_sigaction = on_progress, .sa_flags = SA_SIGINFO | SA_RESTART};
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    struct itimerspec its = {.it_value = {.tv_sec = 1}};

    p->is_armed = false;
    if (ctx->is_quiet || ctx->fmt != NFV_OUT_TABLE)
        return;
    snprintf(p->msg, sizeof(p->msg),
             "vmmgrctl: %s '%s' (placing, defining, starting, "
             "verifying pins)...\n",
             what, name);
    p->len = strlen(p->msg);
    sev.sigev_value.sival_ptr = p;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0 || timer_create(CLOCK_MONOTONIC, &sev, &p->timer) != 0)
        return;
    if (timer_settime(p->timer, 0, &its, NULL) != 0) {
        timer_delete(p->timer);
        return;
    }
    p->is_armed = true;
}

static void progress_disarm(struct progress *p)
{
    if (p->is_armed)
        timer_delete(p->timer);
    p->is_armed = false;
}

/* ---- shared helpers ---- */

/* POSTs a create to @collection (with ?async=1 for --async); a synchronous
 * one shows the progress line "@what '@name'" after a second. */
static enum nfv_code post_create(const struct ctl_ctx *ctx, const char *collection,
                                 const json_t *body, bool is_async, const char *what,
                                 const char *name, json_t **ret, struct nfv_err *err)
{
    struct progress prog = {0};
    char path[64];
    enum nfv_code code;

    snprintf(path, sizeof(path), "%s%s", collection, is_async ? "?async=1" : "");
    if (!is_async)
        progress_arm(ctx, &prog, what, name);
    code = ctl_client_call(ctx, "POST", path, body, 0, ret, err);
    progress_disarm(&prog);
    return code;
}

/* What `vm create` / `group create` build while their options are walked:
 * @list is the NICs of a VM or the members of a group. */
struct create {
    json_t *body, *list;
    bool is_async;
};

/* The options both creates share; false if @opt is not one of them. */
static bool create_flag(struct create *c, const char *opt)
{
    if (strcmp(opt, "dry-run") == 0)
        json_object_set_new(c->body, "dry_run", json_true());
    else if (strcmp(opt, "async") == 0)
        c->is_async = true;
    else if (strcmp(opt, "ignore-reserve") == 0)
        json_object_set_new(c->body, "ignore_reserve", json_true());
    else
        return false;
    return true;
}

static enum nfv_code print_vms(const struct ctl_ctx *ctx, const json_t *vms, struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"name", false},      {"host", false},  {"state", false},
                                          {"role", false},      {"group", false}, {"vcpus", true},
                                          {"memory_mib", true}, {"pus", false}};

    return ctl_print_json_table(ctx, vms, cols, sizeof(cols) / sizeof(cols[0]), err);
}

/* Prints a plan's vCPU -> PU table. */
static enum nfv_code print_plan(const struct ctl_ctx *ctx, const json_t *plan, struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"vcpu", true}, {"mode", false}, {"pu", true}};
    enum nfv_code code;

    code = ctl_print_json_table(ctx, json_object_get(plan, "vcpus"), cols, 3, err);
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

static enum nfv_code vm_create_opt(void *opaque, const char *opt, const char *val,
                                   struct nfv_err *err)
{
    struct create *c = opaque;
    char key[32];

    if (create_flag(c, opt))
        return NFV_OK;
    if (strcmp(opt, "nic=") == 0) {
        json_array_append_new(c->list, json_string(val));
        return NFV_OK;
    }
    if (strcmp(opt, "net=") == 0) { /* a vmmgr network (issue 15) */
        json_array_append_new(c->list, json_pack("{s:s}", "network", val));
        return NFV_OK;
    }
    snprintf(key, sizeof(key), "%.*s", (int)strlen(opt) - 1, opt);
    return set_field(c->body, key, val, err);
}

enum nfv_code ctl_cmd_vm_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {
        "vcpus=",    "memory=",    "cpu-mode=", "cpu-map=", "shared-vcpus=",  "thread-policy=",
        "emulator=", "numa-node=", "host=",     "group=",   "role=",          "disk=",
        "nic=",      "net=",       "dry-run",   "async",    "ignore-reserve", NULL};
    struct create c = {.body = json_object(), .list = json_array()};
    const char *name = NULL;
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code =
             ctl_verb_args(argc, argv, "vm create", "NAME", spec, vm_create_opt, &c, &name, err)))
        goto out;
    if (!json_object_get(c.body, "vcpus")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--vcpus': is required");
        goto out;
    }
    if (!json_object_get(c.body, "memory_mib")) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--memory': is required (MiB)");
        goto out;
    }
    json_object_set_new(c.body, "name", json_string(name));
    if (json_array_size(c.list))
        json_object_set(c.body, "nics", c.list);
    code = post_create(ctx, "/v1/vms", c.body, c.is_async, "creating VM", name, &doc, err);
    if (code != NFV_OK)
        goto out;
    if (ctx->fmt == NFV_OUT_TABLE && c.is_async && json_object_get(doc, "href")) {
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
        code = ctl_print_row(ctx, doc, print_vms, err);
    }
out:
    json_decref(doc);
    json_decref(c.body);
    json_decref(c.list);
    return code;
}

enum nfv_code ctl_cmd_vm_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return ctl_verb_list(ctx, argc, argv, "vm list", "/v1/vms", "vms", print_vms, err);
}

enum nfv_code ctl_cmd_vm_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    const char *name;
    json_t *doc, *p;
    enum nfv_code code;
    size_t i;

    if ((code = ctl_verb_show(ctx, argc, argv, "vm show", "/v1/vms", "", &name, &doc, err)) || !doc)
        return code;
    code = ctl_print_row(ctx, doc, print_vms, err);
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
    static const char *const keys[] = {"vcpu", "mode", "plan", "live", "ok"};
    const char *name;
    json_t *doc;
    const json_t *v;
    struct nfv_table *t;
    enum nfv_code code;
    size_t i;

    if ((code = ctl_verb_show(ctx, argc, argv, "vm pins", "/v1/vms", "/pins", &name, &doc, err)) ||
        !doc)
        return code;
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

/* vm start|stop|reboot NAME: POST /v1/vms/NAME/ACTION; stop takes --force. */
static enum nfv_code vm_action(struct ctl_ctx *ctx, int argc, char **argv, const char *action,
                               struct nfv_err *err)
{
    static const char *const spec_stop[] = {"force", NULL};
    bool is_stop = strcmp(action, "stop") == 0;
    const char *name, *force;
    char path[256], verb[32], suffix[16];
    json_t *body;
    enum nfv_code code;

    snprintf(verb, sizeof(verb), "vm %s", action);
    if ((code = ctl_verb_one_arg(argc, argv, verb, "NAME", is_stop ? spec_stop : NULL, &name,
                                 &force, err)))
        return code;
    snprintf(suffix, sizeof(suffix), "/%s", action);
    ctl_client_path(path, sizeof(path), "/v1/vms", name, suffix);
    body = force ? json_pack("{s:b}", "force", 1) : json_object();
    code = ctl_call_and_print(ctx, "POST", path, body, print_vms, err);
    json_decref(body);
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
    const char *name, *if_exists;
    char path[256];
    enum nfv_code code;

    if ((code = ctl_verb_one_arg(argc, argv, "vm delete", "NAME", spec, &name, &if_exists, err)))
        return code;
    ctl_client_path(path, sizeof(path), "/v1/vms", name, "");
    return ctl_delete_and_report(ctx, path, if_exists != NULL, "deleted VM", name, err);
}

/* ---- groups ---- */

/* "nat-act:act:vcpus=2,memory=512,cpu-mode=exclusive,net=n100" -> member
 * object (net=NAME, repeatable: a NIC on that network). */
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
        if (strcmp(kv, "net") == 0) { /* a vmmgr network NIC (issue 15), repeatable */
            json_t *nics = json_object_get(o, "nics");
            if (!nics)
                json_object_set_new(o, "nics", nics = json_array());
            json_array_append_new(nics, json_pack("{s:s}", "network", eq + 1));
            continue;
        }
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

static enum nfv_code group_create_opt(void *opaque, const char *opt, const char *val,
                                      struct nfv_err *err)
{
    struct create *c = opaque;
    json_t *m;
    enum nfv_code code;

    if (create_flag(c, opt))
        return NFV_OK;
    if (strcmp(opt, "scope=") == 0) {
        json_object_set_new(c->body, "scope", json_string(val));
        return NFV_OK;
    }
    if ((code = parse_member(val, &m, err)) != NFV_OK)
        return code;
    json_array_append_new(c->list, m);
    return NFV_OK;
}

enum nfv_code ctl_cmd_group_create(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    static const char *const spec[] = {"scope=", "member=",        "dry-run",
                                       "async",  "ignore-reserve", NULL};
    struct create c = {.body = json_object(), .list = json_array()};
    const char *name = NULL;
    json_t *doc = NULL;
    enum nfv_code code;

    if ((code = ctl_verb_args(argc, argv, "group create", "NAME", spec, group_create_opt, &c, &name,
                              err)))
        goto out;
    if (json_array_size(c.list) == 0) {
        code = NFV_ERR(err, NFV_E_INVAL, "'--member': at least one is required");
        goto out;
    }
    json_object_set_new(c.body, "name", json_string(name));
    json_object_set(c.body, "members", c.list);
    code = post_create(ctx, "/v1/groups", c.body, c.is_async, "creating group", name, &doc, err);
    if (code != NFV_OK)
        goto out;
    if (ctx->fmt == NFV_OUT_TABLE && c.is_async && json_object_get(doc, "href"))
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
    json_decref(c.body);
    json_decref(c.list);
    return code;
}

static enum nfv_code print_groups(const struct ctl_ctx *ctx, const json_t *groups,
                                  struct nfv_err *err)
{
    static const struct ctl_col cols[] = {{"name", false}, {"scope", false}, {"members", true}};

    return ctl_print_json_table(ctx, groups, cols, 3, err);
}

enum nfv_code ctl_cmd_group_list(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    return ctl_verb_list(ctx, argc, argv, "group list", "/v1/groups", "groups", print_groups, err);
}

enum nfv_code ctl_cmd_group_show(struct ctl_ctx *ctx, int argc, char **argv, struct nfv_err *err)
{
    const char *name;
    json_t *doc;
    enum nfv_code code;

    if ((code = ctl_verb_show(ctx, argc, argv, "group show", "/v1/groups", "", &name, &doc, err)) ||
        !doc)
        return code;
    printf("group %s, scope %s\n", name, json_string_value(json_object_get(doc, "scope")));
    code = print_vms(ctx, json_object_get(doc, "members"), err);
    json_decref(doc);
    return code;
}
