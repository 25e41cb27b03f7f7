/*
 * vm_build.c - the create-body parser and the domain XML builder (see
 * vm_build.h). Calls nothing of the service.
 */
#define _GNU_SOURCE /* asprintf, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pin/pin_libvirt.h"
#include "vm_build.h"

void vm_build_spec_clear(struct vm_spec *s)
{
    pin_request_free(s->req);
    s->req = NULL;
}

const char *const vm_build_vm_fields[] = {
    "name",          "vcpus",    "memory_mib", "cpu_mode",       "cpu_map", "shared_vcpus",
    "thread_policy", "emulator", "numa_node",  "host",           "group",   "role",
    "disk",          "nics",     "dry_run",    "ignore_reserve", NULL};

const char *const vm_build_member_fields[] = {
    "name",     "vcpus",     "memory_mib", "cpu_mode", "cpu_map", "shared_vcpus", "thread_policy",
    "emulator", "numa_node", "host",       "role",     "disk",    "nics",         NULL};

/* A path or bridge name goes into domain XML: no markup characters. */
static enum nfv_code xml_safe(const char *field, const char *s, struct nfv_err *err)
{
    if (strpbrk(s, "<>&'\"") || !*s)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is empty or has <>&'\" characters", field, s);
    return NFV_OK;
}

enum nfv_code vm_build_spec_parse(const json_t *body, const char *const *allowed, struct vm_spec *s,
                                  struct nfv_err *err)
{
    const char *mode_s = "exclusive", *cpu_map = NULL, *shared = NULL, *thread = NULL, *emu = NULL,
               *role = NULL;
    uint64_t n_vcpus = 0, numa = UINT64_MAX;
    enum pin_cpu_mode mode;
    const json_t *dr, *ir;

    memset(s, 0, sizeof(*s));
    s->role = VM_ROLE_NONE;
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
        vm_req_get_str(body, "disk", false, &s->disk, err))
        return NFV_E_INVAL;
    dr = json_object_get(body, "dry_run");
    if (dr && !json_is_boolean(dr))
        return NFV_ERR(err, NFV_E_INVAL, "'dry_run': must be true or false");
    s->is_dry_run = json_is_true(dr);
    ir = json_object_get(body, "ignore_reserve");
    if (ir && !json_is_boolean(ir))
        return NFV_ERR(err, NFV_E_INVAL, "'ignore_reserve': must be true or false");
    s->is_reserve_ignored = json_is_true(ir);
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
    s->nics = json_object_get(body, "nics");
    if (s->nics) {
        size_t i;
        const json_t *n;
        if (!json_is_array(s->nics))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'nics': must be a list of \"bridge:NAME\", "
                           "\"network:NAME\" or \"vhostuser:PATH\"");
        json_array_foreach(s->nics, i, n)
        {
            const char *v = json_string_value(n), *colon = v ? strchr(v, ':') : NULL;
            if (!colon || (strncmp(v, "bridge:", 7) && strncmp(v, "network:", 8) &&
                           strncmp(v, "vhostuser:", 10)))
                return NFV_ERR(err, NFV_E_INVAL,
                               "'nics[%zu]': must be bridge:NAME, network:NAME or vhostuser:PATH",
                               i);
            if (xml_safe("nics", colon + 1, err))
                return NFV_E_INVAL;
        }
    }
    mode = pin_cpu_mode_from_string(mode_s);
    if (mode == PIN_MODE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'cpu_mode': '%s' is not exclusive, shared or numbered",
                       mode_s);
    if (cpu_map && mode != PIN_MODE_NUMBERED)
        mode = PIN_MODE_EXCLUSIVE; /* a map names some vCPUs; the rest keep @mode */
    if (pin_request_new((unsigned)n_vcpus,
                        mode == PIN_MODE_NUMBERED && !cpu_map
                            ? PIN_MODE_NUMBERED
                            : (mode == PIN_MODE_NUMBERED ? PIN_MODE_EXCLUSIVE : mode),
                        &s->req, err))
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

static const char *domain_type(const struct host_rt *h)
{
    if (vm_uri_is_test(h->uri))
        return "test";
    /* A local host without /dev/kvm still runs guests under TCG. */
    if (strncmp(h->uri, "qemu:///", 8) == 0 && access("/dev/kvm", R_OK | W_OK) != 0)
        return "qemu";
    return "kvm";
}

/* Builds the domain XML for @vm on @h (malloc'ed). */
enum nfv_code vm_build_domain_xml(const struct host_rt *h, const char *name, const char *uuid,
                                  const struct vm_spec *s, enum vm_role role, const char *group,
                                  const struct pin_plan *plan, char **ret, struct nfv_err *err)
{
    char *frag = NULL, *devs = NULL, *xml = NULL;
    const char *membacking = "";
    size_t devs_len = 0;
    FILE *f;
    bool is_test = vm_uri_is_test(h->uri);

    if (pin_libvirt_render(h->topo, plan, PIN_LV_ALL, &frag, err) != NFV_OK)
        return err ? err->code : NFV_E_INTERNAL;
    f = open_memstream(&devs, &devs_len);
    if (!f) {
        free(frag);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    if (s->disk) {
        size_t len = strlen(s->disk);
        bool is_qcow = len > 6 && strcmp(s->disk + len - 6, ".qcow2") == 0;
        fprintf(f,
                "    <disk type='file' device='disk'>\n"
                "      <driver name='qemu' type='%s'/>\n"
                "      <source file='%s'/>\n"
                "      <target dev='vda' bus='virtio'/>\n"
                "    </disk>\n",
                is_qcow ? "qcow2" : "raw", s->disk);
    }
    for (size_t i = 0; s->nics && i < json_array_size(s->nics); i++) {
        const char *v = json_string_value(json_array_get(s->nics, i));
        const char *arg = strchr(v, ':') + 1;
        if (strncmp(v, "bridge:", 7) == 0)
            fprintf(f,
                    "    <interface type='bridge'><source bridge='%s'/>"
                    "<model type='virtio'/></interface>\n",
                    arg);
        else if (strncmp(v, "network:", 8) == 0)
            fprintf(f,
                    "    <interface type='network'><source network='%s'/>"
                    "<model type='virtio'/></interface>\n",
                    arg);
        else
            fprintf(f,
                    "    <interface type='vhostuser'><source type='unix' path='%s' "
                    "mode='server'/><model type='virtio'/></interface>\n",
                    arg);
    }
    if (!is_test)
        fprintf(f, "    <console type='pty'/>\n    <memballoon model='none'/>\n");
    fclose(f);
    /* vhost-user needs guest memory the switch can map (shared memfd). Not
     * yet exercised against a real vhost-user backend here. */
    for (size_t i = 0; s->nics && i < json_array_size(s->nics); i++)
        if (strncmp(json_string_value(json_array_get(s->nics, i)), "vhostuser:", 10) == 0)
            membacking = "  <memoryBacking><source type='memfd'/><access mode='shared'/>"
                         "</memoryBacking>\n";
    if (asprintf(&xml,
                 "<domain type='%s'>\n"
                 "  <name>%s</name>\n"
                 "  <uuid>%s</uuid>\n"
                 "  <metadata>\n"
                 "    <vmmgr:vm xmlns:vmmgr='urn:vmmgr:vm:1' role='%s' group='%s'/>\n"
                 "  </metadata>\n"
                 "  <memory unit='MiB'>%llu</memory>\n"
                 "%s%s"
                 "  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>\n"
                 "  <features><acpi/></features>\n"
                 "  <on_poweroff>destroy</on_poweroff>\n"
                 "  <on_reboot>restart</on_reboot>\n"
                 "  <on_crash>restart</on_crash>\n"
                 "  <devices>\n%s  </devices>\n"
                 "</domain>\n",
                 domain_type(h), name, uuid, vm_role_to_string(role), group ? group : "",
                 (unsigned long long)s->memory_mib, frag, membacking, devs ? devs : "") < 0)
        xml = NULL;
    free(frag);
    free(devs);
    if (!xml)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    *ret = xml;
    return NFV_OK;
}
