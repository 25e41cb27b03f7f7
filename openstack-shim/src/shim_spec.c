/*
 * shim_spec.c - flavor extra specs -> vmmgrd create body (see shim_spec.h).
 *
 * One pass over the specs collects what each key asks for; the cross-key
 * rules (mixed needs a dedicated mask, numbered maps need a host) run after,
 * in a fixed order, so the same flavor always gets the same first message.
 * Pure: jansson and libc only.
 */
#include "shim/shim_spec.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the keys asked for (values borrowed from the specs object). */
struct spec_acc {
    const char *policy;   /* hw:cpu_policy */
    const char *mask;     /* hw:cpu_dedicated_mask */
    const char *mode;     /* vmmgr:cpu_mode */
    const char *shared;   /* vmmgr:shared_vcpus */
    const char *cpu_map;  /* vmmgr:cpu_map */
    const char *thread;   /* hw:cpu_thread_policy / vmmgr:thread_policy */
    const char *emulator; /* vmmgr's emulator policy name */
    const char *nics;     /* vmmgr:nics */
    long numa_node;       /* vmmgr:numa_node, -1 none */
};

static bool one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

static enum nfv_code bad_value(struct nfv_err *err, const char *key, const char *v,
                               const char *want)
{
    return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not %s", key, v, want);
}

/* A decimal number 0..@max with no sign, space or suffix. */
static bool parse_num(const char *s, long max, long *ret)
{
    long v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        v = v * 10 + (*s - '0');
        if (v > max)
            return false;
    }
    *ret = v;
    return true;
}

/*
 * A vCPU list "0,2-3" (with @is_caret_ok, "^0" = every vCPU but 0) into
 * @set[@n]. Errors name @key.
 */
static enum nfv_code parse_vcpu_list(const char *key, const char *s, unsigned n, bool is_caret_ok,
                                     bool *set, struct nfv_err *err)
{
    bool is_neg = false;
    const char *p = s;

    memset(set, 0, n * sizeof(*set));
    if (is_caret_ok && *p == '^') {
        is_neg = true;
        p++;
    }
    if (!*p)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key, s);
    while (*p) {
        long a = 0, b = 0;
        char num[8];
        size_t len = strcspn(p, "-,");
        if (len == 0 || len >= sizeof(num))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key, s);
        memcpy(num, p, len);
        num[len] = '\0';
        if (!parse_num(num, 99999, &a))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key, s);
        p += len;
        b = a;
        if (*p == '-') {
            p++;
            len = strcspn(p, ",");
            if (len == 0 || len >= sizeof(num))
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key,
                               s);
            memcpy(num, p, len);
            num[len] = '\0';
            if (!parse_num(num, 99999, &b) || b < a)
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key,
                               s);
            p += len;
        }
        if (b >= (long)n)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': vCPU %ld is out of range (the flavor has %u)",
                           key, b, n);
        for (long i = a; i <= b; i++)
            set[i] = true;
        if (*p == ',') {
            p++;
            if (!*p)
                return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a vCPU list such as 0,2-3", key,
                               s);
        }
    }
    if (is_neg)
        for (unsigned i = 0; i < n; i++)
            set[i] = !set[i];
    return NFV_OK;
}

/* "0,2,3" of the vCPUs in @set with @want; "" when none. */
static void format_list(const bool *set, unsigned n, bool want, char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < n && o + 8 < size; i++)
        if (set[i] == want)
            o += (size_t)snprintf(buf + o, size - o, "%s%u", o ? "," : "", i);
}

bool shim_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* "bridge:br0,network:default" into a JSON list for "nics". */
static enum nfv_code parse_nics(const char *s, json_t **ret, struct nfv_err *err)
{
    json_t *arr = json_array();
    const char *p = s;

    if (!arr)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t pre = strncmp(p, "bridge:", 7) == 0 ? 7 : strncmp(p, "network:", 8) == 0 ? 8 : 0;
        if (!pre || !shim_name_ok(p + pre, len - pre) || json_array_size(arr) >= 16) {
            json_decref(arr);
            return NFV_ERR(err, NFV_E_INVAL,
                           "'vmmgr:nics': '%s' is not a list of bridge:NAME or network:NAME "
                           "(at most 16)",
                           s);
        }
        json_array_append_new(arr, json_stringn(p, len));
        p += len;
        if (!*p)
            break;
        p++; /* the comma: an item must follow */
    }
    *ret = arr;
    return NFV_OK;
}

static const char *const hw_policies[] = {"dedicated", "shared", "mixed", NULL};
static const char *const thread_policies[] = {"prefer", "isolate", "require", NULL};
static const char *const modes[] = {"exclusive", "shared", "numbered", NULL};
static const char *const emulators[] = {"reserved", "shared", "isolate", "vcpus", "auto", NULL};

static enum nfv_code take_hw(const char *key, const char *v, struct spec_acc *a,
                             struct nfv_err *err)
{
    const char *k = key + 3;

    if (strcmp(k, "cpu_policy") == 0) {
        if (!one_of(v, hw_policies))
            return bad_value(err, key, v, "dedicated, shared or mixed");
        a->policy = v;
    } else if (strcmp(k, "cpu_thread_policy") == 0) {
        if (!one_of(v, thread_policies))
            return bad_value(err, key, v, "prefer, isolate or require");
        if (!a->thread)
            a->thread = v;
    } else if (strcmp(k, "emulator_threads_policy") == 0) {
        if (strcmp(v, "share") == 0)
            a->emulator = a->emulator ? a->emulator : "reserved";
        else if (strcmp(v, "isolate") == 0)
            a->emulator = a->emulator ? a->emulator : "isolate";
        else
            return bad_value(err, key, v, "share or isolate");
    } else if (strcmp(k, "cpu_dedicated_mask") == 0) {
        a->mask = v;
    } else if (strcmp(k, "numa_nodes") == 0) {
        long n;
        if (!parse_num(v, 64, &n) || n == 0)
            return bad_value(err, key, v, "a NUMA node count");
        if (n != 1)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'%s': vmmgr keeps a VM on one NUMA node; use 1 (or vmmgr:numa_node "
                           "to choose the node)",
                           key);
    } else if (strcmp(k, "mem_page_size") == 0) {
        if (strcasecmp(v, "small") && strcasecmp(v, "any") && strcasecmp(v, "4") &&
            strcasecmp(v, "4k") && strcasecmp(v, "4kb"))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'%s': '%s' is not available: vmmgrd's create API has no hugepage "
                           "request (use small or any)",
                           key, v);
    }
    /* Other hw: keys (hw:cpu_sockets, hw:watchdog_action, ...) are kept
     * and ignored, as a driver ignores keys it does not act on. */
    return NFV_OK;
}

static enum nfv_code take_vmmgr(const char *key, const char *v, struct spec_acc *a,
                                struct nfv_err *err)
{
    const char *k = key + 6;

    if (strcmp(k, "cpu_mode") == 0) {
        if (!one_of(v, modes))
            return bad_value(err, key, v, "exclusive, shared or numbered");
        a->mode = v;
    } else if (strcmp(k, "shared_vcpus") == 0) {
        a->shared = v;
    } else if (strcmp(k, "cpu_map") == 0) {
        if (!*v || strspn(v, "0123456789:,") != strlen(v) || !strchr(v, ':'))
            return bad_value(err, key, v, "a core map VCPU:PU,... such as 0:4,1:6");
        a->cpu_map = v;
    } else if (strcmp(k, "numa_node") == 0) {
        if (!parse_num(v, 63, &a->numa_node))
            return bad_value(err, key, v, "a NUMA node number 0..63");
    } else if (strcmp(k, "nics") == 0) {
        a->nics = v;
    } else if (strcmp(k, "emulator") == 0) {
        if (!one_of(v, emulators))
            return bad_value(err, key, v, "reserved, shared, isolate, vcpus or auto");
        a->emulator = v;
    } else if (strcmp(k, "thread_policy") == 0) {
        if (!one_of(v, thread_policies))
            return bad_value(err, key, v, "prefer, isolate or require");
        a->thread = v;
    } else {
        return NFV_ERR(err, NFV_E_INVAL,
                       "'%s': unknown vmmgr key (known: vmmgr:cpu_mode, vmmgr:shared_vcpus, "
                       "vmmgr:cpu_map, vmmgr:numa_node, vmmgr:nics, vmmgr:emulator, "
                       "vmmgr:thread_policy)",
                       key);
    }
    return NFV_OK;
}

/* Reads every key; the vmmgr: keys go first so that they win over hw:. */
static enum nfv_code collect(const json_t *specs, struct spec_acc *a, struct nfv_err *err)
{
    const char *key;
    const json_t *val;

    a->numa_node = -1;
    if (!specs)
        return NFV_OK;
    if (!json_is_object(specs))
        return NFV_ERR(err, NFV_E_INVAL, "'extra_specs': must be an object of strings");
    for (int pass = 0; pass < 2; pass++) {
        json_object_foreach((json_t *)specs, key, val)
        {
            const char *v = json_string_value(val);
            bool is_vmmgr = strncmp(key, "vmmgr:", 6) == 0;
            if (pass == 0 && (!v || strlen(key) > SHIM_SPEC_VALUE_MAX ||
                              strlen(v) > SHIM_SPEC_VALUE_MAX || !*key))
                return NFV_ERR(err, NFV_E_INVAL,
                               "'extra_specs': key and value must be strings of 1..%d bytes",
                               SHIM_SPEC_VALUE_MAX);
            if (pass == 0 && is_vmmgr && take_vmmgr(key, v, a, err))
                return NFV_E_INVAL;
            if (pass == 1 && strncmp(key, "hw:", 3) == 0 && take_hw(key, v, a, err))
                return NFV_E_INVAL;
        }
    }
    return NFV_OK;
}

/* The pinning fields of the body from @a for @vcpus vCPUs. */
static enum nfv_code fill_pinning(const struct spec_acc *a, unsigned vcpus, const char *host,
                                  bool is_host_checked, json_t *body, struct nfv_err *err)
{
    bool *set = calloc(vcpus, sizeof(*set));
    char list[8 * SHIM_SPEC_MAX_VCPUS];
    const char *mode = a->mode;
    enum nfv_code code = NFV_OK;

    if (!set)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (a->mask && (!a->policy || strcmp(a->policy, "mixed")))
        code = NFV_ERR(err, NFV_E_INVAL, "'hw:cpu_dedicated_mask': only with hw:cpu_policy=mixed");
    else if (a->policy && strcmp(a->policy, "mixed") == 0 && !a->mask && !a->shared)
        code = NFV_ERR(err, NFV_E_INVAL,
                       "'hw:cpu_policy': mixed needs hw:cpu_dedicated_mask (or "
                       "vmmgr:shared_vcpus) to say which vCPUs are dedicated");
    if (code)
        goto cleanup;
    if (!mode && a->policy)
        mode = strcmp(a->policy, "shared") == 0 ? "shared" : "exclusive";
    if (a->mask) {
        /* Nova's mask names the dedicated vCPUs; vmmgr names the shared ones. */
        if (parse_vcpu_list("hw:cpu_dedicated_mask", a->mask, vcpus, true, set, err)) {
            code = NFV_E_INVAL;
            goto cleanup;
        }
        format_list(set, vcpus, false, list, sizeof(list));
        bool is_any_dedicated = false;
        for (unsigned i = 0; i < vcpus; i++)
            is_any_dedicated |= set[i];
        if (!list[0] || !is_any_dedicated) {
            code = NFV_ERR(err, NFV_E_INVAL,
                           "'hw:cpu_dedicated_mask': mixed needs at least one dedicated and one "
                           "shared vCPU");
            goto cleanup;
        }
        if (a->shared) {
            code = NFV_ERR(err, NFV_E_INVAL,
                           "'vmmgr:shared_vcpus': give either it or hw:cpu_dedicated_mask");
            goto cleanup;
        }
        json_object_set_new(body, "shared_vcpus", json_string(list));
    } else if (a->shared) {
        if (parse_vcpu_list("vmmgr:shared_vcpus", a->shared, vcpus, false, set, err)) {
            code = NFV_E_INVAL;
            goto cleanup;
        }
        format_list(set, vcpus, true, list, sizeof(list));
        json_object_set_new(body, "shared_vcpus", json_string(list));
    }
    if (a->cpu_map) {
        if (is_host_checked && !host) {
            code = NFV_ERR(err, NFV_E_INVAL,
                           "'vmmgr:cpu_map': numbered cores name PUs of one host: boot with "
                           "--availability-zone nova:HOST (or --host at 2.74)");
            goto cleanup;
        }
        if (!mode)
            mode = "numbered";
        json_object_set_new(body, "cpu_map", json_string(a->cpu_map));
    }
    if (mode)
        json_object_set_new(body, "cpu_mode", json_string(mode));
    if (a->thread)
        json_object_set_new(body, "thread_policy", json_string(a->thread));
    if (a->emulator)
        json_object_set_new(body, "emulator", json_string(a->emulator));
    if (a->numa_node >= 0)
        json_object_set_new(body, "numa_node", json_integer(a->numa_node));
    if (a->nics) {
        json_t *nics = NULL;
        if (parse_nics(a->nics, &nics, err)) {
            code = NFV_E_INVAL;
            goto cleanup;
        }
        json_object_set_new(body, "nics", nics);
    }
cleanup:
    free(set);
    return code;
}

static enum nfv_code build(const struct shim_spec_in *in, bool is_host_checked, json_t **ret_body,
                           struct nfv_err *err)
{
    struct spec_acc a = {0};
    json_t *body;

    if (in->vcpus == 0 || in->vcpus > SHIM_SPEC_MAX_VCPUS)
        return NFV_ERR(err, NFV_E_INVAL, "'vcpus': must be 1..%d", SHIM_SPEC_MAX_VCPUS);
    if (collect(in->extra_specs, &a, err))
        return NFV_E_INVAL;
    body = json_pack("{s:s,s:i,s:I}", "name", in->vm_name ? in->vm_name : "check", "vcpus",
                     (int)in->vcpus, "memory_mib", (json_int_t)in->ram_mb);
    if (!body)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    if (fill_pinning(&a, in->vcpus, in->host, is_host_checked, body, err)) {
        json_decref(body);
        return err ? err->code : NFV_E_INVAL;
    }
    if (in->host)
        json_object_set_new(body, "host", json_string(in->host));
    if (in->disk)
        json_object_set_new(body, "disk", json_string(in->disk));
    *ret_body = body;
    return NFV_OK;
}

enum nfv_code shim_spec_build(const struct shim_spec_in *in, json_t **ret_body, struct nfv_err *err)
{
    return build(in, true, ret_body, err);
}

enum nfv_code shim_spec_check(const json_t *extra_specs, unsigned vcpus, struct nfv_err *err)
{
    struct shim_spec_in in = {.vcpus = vcpus, .ram_mb = 512, .extra_specs = extra_specs};
    json_t *body = NULL;
    enum nfv_code code = build(&in, false, &body, err);

    json_decref(body);
    return code;
}

enum nfv_code shim_spec_scope_check(const char *field, const char *scope, struct nfv_err *err)
{
    static const char *const scopes[] = {"host", "rack", "zone", "power", NULL};

    if (!scope || !one_of(scope, scopes))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not host, rack, zone or power", field,
                       scope ? scope : "");
    return NFV_OK;
}

enum nfv_code shim_spec_metadata(const json_t *metadata, const char **ret_role,
                                 const char **ret_scope, struct nfv_err *err)
{
    const char *key;
    const json_t *val;

    *ret_role = NULL;
    *ret_scope = NULL;
    json_object_foreach((json_t *)metadata, key, val)
    {
        const char *v = json_string_value(val);
        if (strncmp(key, "vmmgr:", 6) != 0)
            continue;
        if (strcmp(key, "vmmgr:role") == 0) {
            if (!v || (strcmp(v, "act") && strcmp(v, "sby")))
                return NFV_ERR(err, NFV_E_INVAL, "'vmmgr:role': '%s' is not act or sby",
                               v ? v : "");
            *ret_role = v;
        } else if (strcmp(key, "vmmgr:scope") == 0) {
            if (shim_spec_scope_check(key, v, err))
                return NFV_E_INVAL;
            *ret_scope = v;
        } else {
            return NFV_ERR(err, NFV_E_INVAL,
                           "'%s': unknown vmmgr key in server metadata (known: vmmgr:role, "
                           "vmmgr:scope)",
                           key);
        }
    }
    return NFV_OK;
}
