/*
 * vm_spec.c - the VM create body parser (see vm_spec.h).
 *
 * Checks run in a fixed order (field getters first, then the cross-field
 * rules, then pinning's own request validation), so a body with several
 * mistakes always gets the same first message. Nothing is kept on failure.
 */
#include "vm/vm_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_req.h"

const char *const vm_spec_vm_fields[] = {
    "name",          "vcpus",    "memory_mib", "cpu_mode",       "cpu_map", "shared_vcpus",
    "thread_policy", "emulator", "numa_node",  "host",           "group",   "role",
    "disk",          "nics",     "dry_run",    "ignore_reserve", NULL};

const char *const vm_spec_member_fields[] = {
    "name",     "vcpus",     "memory_mib", "cpu_mode", "cpu_map", "shared_vcpus", "thread_policy",
    "emulator", "numa_node", "host",       "role",     "disk",    "nics",         NULL};

/* The NIC prefixes as written in the body (with the colon). */
static const char *const nic_prefixes[VM_NIC__COUNT] = {
    [VM_NIC_BRIDGE] = "bridge:",
    [VM_NIC_NETWORK] = "network:",
    [VM_NIC_VHOSTUSER] = "vhostuser:",
    [VM_NIC_NET] = NULL, /* only as {"network": "NAME"} */
};

static const char *const nic_names[VM_NIC__COUNT] = {
    [VM_NIC_BRIDGE] = "bridge",
    [VM_NIC_NETWORK] = "network",
    [VM_NIC_VHOSTUSER] = "vhostuser",
    [VM_NIC_NET] = "net",
};

const char *vm_nic_kind_to_string(enum vm_nic_kind k)
{
    return (unsigned)k < VM_NIC__COUNT ? nic_names[k] : "?";
}

enum vm_nic_kind vm_nic_kind_from_string(const char *s)
{
    for (unsigned k = 0; s && k < VM_NIC__COUNT; k++)
        if (strcmp(s, nic_names[k]) == 0)
            return (enum vm_nic_kind)k;
    return VM_NIC__COUNT;
}

void vm_spec_clear(struct vm_spec *s)
{
    if (!s)
        return;
    pin_request_free(s->req);
    free(s->nics);
    memset(s, 0, sizeof(*s));
    s->role = VM_ROLE_NONE;
}

/* A path or bridge name goes into domain XML: no markup characters (today's
 * rule; the XML writer escapes anyway) and no control character, which XML
 * cannot carry at all (vm_domxml_build would refuse it after placement). */
static enum nfv_code xml_safe(const char *field, const char *s, struct nfv_err *err)
{
    if (strpbrk(s, "<>&'\"") || !*s)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is empty or has <>&'\" characters", field, s);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': has a control character (byte %u)", field,
                           (unsigned)(unsigned char)*p);
    return NFV_OK;
}

/* {"network": "NAME"}: a NIC on a vmmgr network (its VLAN is resolved by
 * the daemon). */
static enum nfv_code parse_net_nic(const json_t *n, size_t i, struct vm_nic *ret,
                                   struct nfv_err *err)
{
    static const char *const fields[] = {"network", NULL};
    const char *name = NULL;
    char field[40];

    snprintf(field, sizeof(field), "nics[%zu].network", i);
    if (vm_req_check_fields(n, fields, err) != NFV_OK) {
        nfv_err_prefix(err, "'nics[%zu]'", i);
        return NFV_E_INVAL;
    }
    name = json_string_value(json_object_get(n, "network"));
    if (!name)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': is required (a network name)", field);
    if (vm_req_name_check(field, name, err) != NFV_OK)
        return NFV_E_INVAL;
    ret->kind = VM_NIC_NET;
    ret->arg = name;
    ret->vlan = 0;
    return NFV_OK;
}

static enum nfv_code parse_nics(const json_t *nics, struct vm_spec *s, struct nfv_err *err)
{
    size_t i;
    const json_t *n;

    if (!json_is_array(nics))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'nics': must be a list of {\"network\": NAME}, \"bridge:NAME\", "
                       "\"network:NAME\" or \"vhostuser:PATH\"");
    if (json_array_size(nics) == 0)
        return NFV_OK;
    s->nics = calloc(json_array_size(nics), sizeof(*s->nics));
    if (!s->nics)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(nics, i, n)
    {
        const char *v = json_string_value(n);
        unsigned k = 0;

        if (json_is_object(n)) {
            if (parse_net_nic(n, i, &s->nics[i], err) != NFV_OK)
                return NFV_E_INVAL;
            s->n_nics = i + 1;
            continue;
        }
        while (v && k < VM_NIC__COUNT &&
               (!nic_prefixes[k] || strncmp(v, nic_prefixes[k], strlen(nic_prefixes[k]))))
            k++;
        if (!v || k == VM_NIC__COUNT)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'nics[%zu]': must be {\"network\": NAME}, bridge:NAME, network:NAME "
                           "or vhostuser:PATH",
                           i);
        s->nics[i].kind = (enum vm_nic_kind)k;
        s->nics[i].arg = v + strlen(nic_prefixes[k]);
        if (xml_safe("nics", s->nics[i].arg, err))
            return NFV_E_INVAL;
        s->n_nics = i + 1;
    }
    return NFV_OK;
}

static enum nfv_code parse_bool(const json_t *body, const char *field, bool *ret,
                                struct nfv_err *err)
{
    const json_t *v = json_object_get(body, field);

    if (v && !json_is_boolean(v))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must be true or false", field);
    *ret = json_is_true(v);
    return NFV_OK;
}

/*
 * The pinning half: @mode_s, an optional numbered @cpu_map and the vCPU
 * lists become s->req. A map names some vCPUs; the others keep cpu_mode
 * (exclusive when cpu_mode says numbered, since an unmapped numbered vCPU
 * has no PU). Numbered without a map is refused by pin_request_validate.
 */
static enum nfv_code parse_pinning(struct vm_spec *s, uint64_t n_vcpus, const char *mode_s,
                                   const char *cpu_map, const char *shared, const char *thread,
                                   const char *emu, uint64_t numa, struct nfv_err *err)
{
    enum pin_cpu_mode mode = pin_cpu_mode_from_string(mode_s), base;

    if (mode == PIN_MODE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'cpu_mode': '%s' is not exclusive, shared or numbered",
                       mode_s);
    if (cpu_map && mode != PIN_MODE_NUMBERED)
        mode = PIN_MODE_EXCLUSIVE;
    base = mode == PIN_MODE_NUMBERED && cpu_map ? PIN_MODE_EXCLUSIVE : mode;
    if (pin_request_new((unsigned)n_vcpus, base, &s->req, err))
        return NFV_E_INVAL;
    s->req->mem_mib = s->memory_mib;
    if (numa != UINT64_MAX)
        s->req->numa_node = (int)numa;
    if (thread) {
        s->req->thread_policy = pin_thread_policy_from_string(thread);
        if (s->req->thread_policy == PIN_THREAD__COUNT)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'thread_policy': '%s' is not isolate, prefer or require", thread);
    }
    if (emu) {
        s->req->emulator = pin_emulator_policy_from_string(emu);
        if (s->req->emulator == PIN_EMU__COUNT)
            return NFV_ERR(err, NFV_E_INVAL, "'emulator': '%s' is not a policy", emu);
    }
    if (shared && pin_request_set_mode_list(s->req, shared, PIN_MODE_SHARED, err)) {
        nfv_err_prefix(err, "'shared_vcpus'");
        return NFV_E_INVAL;
    }
    if (cpu_map && pin_request_set_cpu_map(s->req, cpu_map, PIN_MAX_PUS, err)) {
        nfv_err_prefix(err, "'cpu_map'");
        return NFV_E_INVAL;
    }
    if (pin_request_validate(s->req, err))
        return NFV_E_INVAL;
    if (mode == PIN_MODE_NUMBERED && !s->host)
        return NFV_ERR(err, NFV_E_INVAL, "'host': numbered vCPUs name PUs of one host");
    return NFV_OK;
}

static enum nfv_code spec_fill(const json_t *body, const char *const *allowed, struct vm_spec *s,
                               struct nfv_err *err)
{
    const char *mode_s = "exclusive", *cpu_map = NULL, *shared = NULL, *thread = NULL, *emu = NULL,
               *role = NULL;
    uint64_t n_vcpus = 0, numa = UINT64_MAX;
    const json_t *nics;

    if (vm_req_check_fields(body, allowed, err) ||
        vm_req_get_str(body, "name", true, &s->name, err) ||
        vm_req_name_check("name", s->name, err) ||
        vm_req_get_uint(body, "vcpus", true, 1, PIN_MAX_VCPUS, &n_vcpus, err) ||
        vm_req_get_uint(body, "memory_mib", true, 16, 16u << 20, &s->memory_mib, err) ||
        vm_req_get_str(body, "cpu_mode", false, &mode_s, err) ||
        vm_req_get_str(body, "cpu_map", false, &cpu_map, err) ||
        vm_req_get_str(body, "shared_vcpus", false, &shared, err) ||
        vm_req_get_str(body, "thread_policy", false, &thread, err) ||
        vm_req_get_str(body, "emulator", false, &emu, err) ||
        vm_req_get_uint(body, "numa_node", false, 0, 63, &numa, err) ||
        vm_req_get_str(body, "host", false, &s->host, err) ||
        vm_req_get_str(body, "group", false, &s->group, err) ||
        vm_req_get_str(body, "role", false, &role, err) ||
        vm_req_get_str(body, "disk", false, &s->disk, err) ||
        parse_bool(body, "dry_run", &s->is_dry_run, err) ||
        parse_bool(body, "ignore_reserve", &s->is_reserve_ignored, err))
        return NFV_E_INVAL;
    if (s->host && vm_req_name_check("host", s->host, err))
        return NFV_E_INVAL;
    if (s->group && vm_req_name_check("group", s->group, err))
        return NFV_E_INVAL;
    if (role) {
        s->role = vm_role_from_string(role);
        if (s->role != VM_ROLE_ACT && s->role != VM_ROLE_SBY)
            return NFV_ERR(err, NFV_E_INVAL, "'role': '%s' is not act or sby", role);
    }
    if (s->disk && xml_safe("disk", s->disk, err))
        return NFV_E_INVAL;
    nics = json_object_get(body, "nics");
    if (nics) {
        enum nfv_code code = parse_nics(nics, s, err);
        if (code != NFV_OK)
            return code;
    }
    return parse_pinning(s, n_vcpus, mode_s, cpu_map, shared, thread, emu, numa, err);
}

enum nfv_code vm_spec_parse(const json_t *body, const char *const *allowed, struct vm_spec *ret,
                            struct nfv_err *err)
{
    enum nfv_code code;

    memset(ret, 0, sizeof(*ret));
    ret->role = VM_ROLE_NONE;
    code = spec_fill(body, allowed, ret, err);
    if (code != NFV_OK)
        vm_spec_clear(ret);
    return code;
}

/* True when @path starts with directory @dir, component-wise. */
static bool path_is_inside(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--; /* "/srv/img/" is "/srv/img" */
    if (n == 1 && dir[0] == '/')
        return true;
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

enum nfv_code vm_spec_path_check(const char *field, const char *path,
                                 const char *const *allowed_dirs, struct nfv_err *err)
{
    const char *p;

    if (!allowed_dirs)
        return NFV_OK;
    if (path[0] != '/')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an absolute path", field, path);
    /* Component checks: no "", "." or ".." between slashes (so no escape from a
     * directory by "..", and one spelling per file). A trailing "/" is an empty
     * component: a directory is not an image or a socket. */
    for (p = path; *p == '/'; p = p + strcspn(p + 1, "/") + 1) {
        size_t len = strcspn(p + 1, "/");
        if (len == 0 || (len == 1 && p[1] == '.') || (len == 2 && p[1] == '.' && p[2] == '.'))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' has an empty, '.' or '..' path component",
                           field, path);
    }
    for (size_t i = 0; allowed_dirs[i]; i++)
        if (path_is_inside(path, allowed_dirs[i]))
            return NFV_OK;
    return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not inside %s%s", field, path,
                   allowed_dirs[0] ? allowed_dirs[0] : "any allowed directory",
                   allowed_dirs[0] && allowed_dirs[1] ? " or the other allowed directories" : "");
}

enum nfv_code vm_spec_check_paths(const struct vm_spec *s, const char *const *disk_dirs,
                                  const char *const *vhostuser_dirs, struct nfv_err *err)
{
    char field[32];

    if (s->disk && vm_spec_path_check("disk", s->disk, disk_dirs, err))
        return NFV_E_INVAL;
    for (size_t i = 0; i < s->n_nics; i++) {
        if (s->nics[i].kind != VM_NIC_VHOSTUSER)
            continue;
        snprintf(field, sizeof(field), "nics[%zu]", i);
        if (vm_spec_path_check(field, s->nics[i].arg, vhostuser_dirs, err))
            return NFV_E_INVAL;
    }
    return NFV_OK;
}
