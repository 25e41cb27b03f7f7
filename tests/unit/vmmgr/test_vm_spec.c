/*
 * test_vm_spec.c - the VM create-body parser (vm_spec.h): every field's
 * accepted values, every refusal with its exact message (the field named in
 * quotes: that line is what vmmgrctl prints), the group-member field list,
 * the NIC forms, ownership on failure, and the path-policy hook.
 * Pure: no daemon, no libvirt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vm/vm_spec.h"

/* Parses @text with @fields; the document stays alive in *ret_body. */
static enum nfv_code parse(const char *text, const char *const *fields, json_t **ret_body,
                           struct vm_spec *ret, struct nfv_err *err)
{
    json_error_t jerr;

    *ret_body = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!*ret_body)
        fail_msg("test body is not JSON: %s: %s", text, jerr.text);
    return vm_spec_parse(*ret_body, fields, ret, err);
}

/* parse() that must succeed. */
static void parse_ok(const char *text, const char *const *fields, json_t **ret_body,
                     struct vm_spec *ret)
{
    struct nfv_err err = {0};

    if (parse(text, fields, ret_body, ret, &err) != NFV_OK)
        fail_msg("%s: refused: %s", text, err.msg);
}

static void done(struct vm_spec *s, json_t *body)
{
    vm_spec_clear(s);
    json_decref(body);
}

/* ---- accepted bodies ---- */

static void test_minimal(void **state)
{
    json_t *body;
    struct vm_spec s;

    (void)state;
    assert_int_equal(parse("{\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":512}", vm_spec_vm_fields,
                           &body, &s, NULL),
                     NFV_OK);
    assert_string_equal(s.name, "vm1");
    assert_int_equal(s.memory_mib, 512);
    assert_null(s.host);
    assert_null(s.group);
    assert_int_equal(s.role, VM_ROLE_NONE);
    assert_null(s.disk);
    assert_null(s.nics);
    assert_int_equal(s.n_nics, 0);
    assert_false(s.is_dry_run);
    assert_false(s.is_reserve_ignored);
    assert_non_null(s.req);
    assert_int_equal(s.req->n_vcpus, 2);
    assert_int_equal(s.req->vcpu_mode[0], PIN_MODE_EXCLUSIVE);
    assert_int_equal(s.req->vcpu_mode[1], PIN_MODE_EXCLUSIVE);
    assert_int_equal(s.req->mem_mib, 512);
    assert_int_equal(s.req->numa_node, -1);
    assert_int_equal(s.req->thread_policy, PIN_THREAD_ISOLATE);
    assert_int_equal(s.req->emulator, PIN_EMU_AUTO);
    /* strings borrow from the document */
    assert_ptr_equal(s.name, json_string_value(json_object_get(body, "name")));
    vm_spec_clear(&s);
    assert_null(s.req);
    vm_spec_clear(&s); /* twice is fine */
    vm_spec_clear(NULL);
    json_decref(body);
}

static void test_every_field(void **state)
{
    json_t *body;
    struct vm_spec s;

    (void)state;
    parse_ok("{\"name\":\"vnf-a.1\",\"vcpus\":4,\"memory_mib\":2048,\"cpu_mode\":\"shared\","
             "\"cpu_map\":\"3:14\",\"shared_vcpus\":\"0-1\",\"thread_policy\":\"prefer\","
             "\"emulator\":\"shared\",\"numa_node\":1,\"host\":\"h1\",\"group\":\"epc\","
             "\"role\":\"sby\",\"disk\":\"/srv/a.qcow2\",\"nics\":[\"bridge:br0\","
             "\"network:default\",\"vhostuser:/run/vhu.sock\",{\"network\":\"n-100\"}],"
             "\"dry_run\":true,\"ignore_reserve\":true}",
             vm_spec_vm_fields, &body, &s);
    assert_string_equal(s.name, "vnf-a.1");
    assert_int_equal(s.memory_mib, 2048);
    assert_string_equal(s.host, "h1");
    assert_string_equal(s.group, "epc");
    assert_int_equal(s.role, VM_ROLE_SBY);
    assert_string_equal(s.disk, "/srv/a.qcow2");
    assert_int_equal(s.n_nics, 4);
    /* a vmmgr network: its VLAN is the daemon's to resolve */
    assert_int_equal(s.nics[3].kind, VM_NIC_NET);
    assert_string_equal(s.nics[3].arg, "n-100");
    assert_int_equal(s.nics[3].vlan, 0);
    assert_int_equal(s.nics[0].kind, VM_NIC_BRIDGE);
    assert_string_equal(s.nics[0].arg, "br0");
    assert_int_equal(s.nics[1].kind, VM_NIC_NETWORK);
    assert_string_equal(s.nics[1].arg, "default");
    assert_int_equal(s.nics[2].kind, VM_NIC_VHOSTUSER);
    assert_string_equal(s.nics[2].arg, "/run/vhu.sock");
    assert_true(s.is_dry_run);
    assert_true(s.is_reserve_ignored);
    /* a map with cpu_mode shared: the mapped vCPU numbered, the listed ones
     * shared, the rest exclusive */
    assert_int_equal(s.req->vcpu_mode[0], PIN_MODE_SHARED);
    assert_int_equal(s.req->vcpu_mode[1], PIN_MODE_SHARED);
    assert_int_equal(s.req->vcpu_mode[2], PIN_MODE_EXCLUSIVE);
    assert_int_equal(s.req->vcpu_mode[3], PIN_MODE_NUMBERED);
    assert_int_equal(s.req->vcpu_pu[3], 14);
    assert_int_equal(s.req->thread_policy, PIN_THREAD_PREFER);
    assert_int_equal(s.req->emulator, PIN_EMU_SHARED);
    assert_int_equal(s.req->numa_node, 1);
    done(&s, body);
}

static void test_modes(void **state)
{
    json_t *body;
    struct vm_spec s;

    (void)state;
    /* shared: every vCPU shared */
    parse_ok("{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":64,\"cpu_mode\":\"shared\"}",
             vm_spec_vm_fields, &body, &s);
    assert_int_equal(s.req->vcpu_mode[0], PIN_MODE_SHARED);
    assert_int_equal(s.req->vcpu_mode[1], PIN_MODE_SHARED);
    done(&s, body);
    /* numbered with a full map and a host */
    parse_ok("{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":64,\"cpu_mode\":"
             "\"numbered\",\"cpu_map\":\"0:4,1:6\",\"host\":\"h\"}",
             vm_spec_vm_fields, &body, &s);
    assert_int_equal(s.req->vcpu_mode[0], PIN_MODE_NUMBERED);
    assert_int_equal(s.req->vcpu_pu[0], 4);
    assert_int_equal(s.req->vcpu_pu[1], 6);
    done(&s, body);
    /* numbered with a partial map: the unmapped vCPUs are exclusive */
    parse_ok("{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":64,\"cpu_mode\":"
             "\"numbered\",\"cpu_map\":\"0:4\",\"host\":\"h\"}",
             vm_spec_vm_fields, &body, &s);
    assert_int_equal(s.req->vcpu_mode[0], PIN_MODE_NUMBERED);
    assert_int_equal(s.req->vcpu_mode[1], PIN_MODE_EXCLUSIVE);
    done(&s, body);
    /* every thread and emulator policy by name */
    for (int p = 0; p < PIN_THREAD__COUNT; p++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":64,\"thread_policy\":\"%s\"}",
                 pin_thread_policy_to_string(p));
        parse_ok(text, vm_spec_vm_fields, &body, &s);
        assert_int_equal(s.req->thread_policy, p);
        done(&s, body);
    }
    for (int p = 0; p < PIN_EMU__COUNT; p++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":64,\"cpu_mode\":\"shared\","
                 "\"emulator\":\"%s\"}",
                 pin_emulator_policy_to_string(p));
        parse_ok(text, vm_spec_vm_fields, &body, &s);
        assert_int_equal(s.req->emulator, p);
        done(&s, body);
    }
    /* null is "absent" for optional strings, and bounds are inclusive */
    parse_ok("{\"name\":\"a\",\"vcpus\":4096,\"memory_mib\":16777216,"
             "\"host\":null,\"numa_node\":63,\"nics\":[]}",
             vm_spec_vm_fields, &body, &s);
    assert_null(s.host);
    assert_int_equal(s.req->numa_node, 63);
    assert_int_equal(s.n_nics, 0);
    done(&s, body);
}

static void test_member_fields(void **state)
{
    json_t *body;
    struct vm_spec s;
    struct nfv_err err = {0};

    (void)state;
    parse_ok("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"role\":\"act\","
             "\"host\":\"h1\",\"disk\":\"/d\",\"nics\":[\"bridge:b\"]}",
             vm_spec_member_fields, &body, &s);
    assert_int_equal(s.role, VM_ROLE_ACT);
    done(&s, body);
    static const char *const not_members[] = {"group", "dry_run", "ignore_reserve"};
    for (size_t i = 0; i < 3; i++) {
        char text[256], want[64];
        snprintf(text, sizeof(text), "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"%s\":true}",
                 not_members[i]);
        snprintf(want, sizeof(want), "'%s': unknown field", not_members[i]);
        assert_int_equal(parse(text, vm_spec_member_fields, &body, &s, &err), NFV_E_INVAL);
        assert_string_equal(err.msg, want);
        json_decref(body);
    }
    /* the lists end with NULL and the member list is the VM list minus those three */
    size_t n_vm = 0, n_member = 0;
    while (vm_spec_vm_fields[n_vm])
        n_vm++;
    while (vm_spec_member_fields[n_member])
        n_member++;
    assert_int_equal(n_vm, 16);
    assert_int_equal(n_member, 13);
}

/* ---- refused bodies: the exact line a user sees ---- */

struct refusal {
    const char *body;
    const char *msg;
};

#define BASE "\"name\":\"vm1\",\"vcpus\":2,\"memory_mib\":64"

static const struct refusal refusals[] = {
    {"{" BASE ",\"colour\":1}", "'colour': unknown field"},
    /* name */
    {"{\"vcpus\":2,\"memory_mib\":64}", "'name': is required"},
    {"{\"name\":null,\"vcpus\":2,\"memory_mib\":64}", "'name': is required"},
    {"{\"name\":7,\"vcpus\":2,\"memory_mib\":64}", "'name': must be a string"},
    {"{\"name\":\"\",\"vcpus\":2,\"memory_mib\":64}", "'name': must not be empty"},
    {"{\"name\":\"-a\",\"vcpus\":2,\"memory_mib\":64}",
     "'name': '-a' must start with a letter or digit"},
    {"{\"name\":\"a b\",\"vcpus\":2,\"memory_mib\":64}",
     "'name': 'a b' may only hold letters, digits, '.-_'"},
    {"{\"name\":\"a\\u0000b\",\"vcpus\":2,\"memory_mib\":64}", "'name': must not contain NUL"},
    {"{\"name\":\"a123456789012345678901234567890123456789012345678901234567890123\","
     "\"vcpus\":2,\"memory_mib\":64}",
     "'name': longer than 63 characters"},
    /* vcpus */
    {"{\"name\":\"a\",\"memory_mib\":64}", "'vcpus': is required"},
    {"{\"name\":\"a\",\"vcpus\":\"2\",\"memory_mib\":64}", "'vcpus': must be an integer"},
    {"{\"name\":\"a\",\"vcpus\":2.5,\"memory_mib\":64}", "'vcpus': must be an integer"},
    {"{\"name\":\"a\",\"vcpus\":-1,\"memory_mib\":64}", "'vcpus': must not be negative"},
    {"{\"name\":\"a\",\"vcpus\":0,\"memory_mib\":64}", "'vcpus': 0 is out of range (1..4096)"},
    {"{\"name\":\"a\",\"vcpus\":4097,\"memory_mib\":64}",
     "'vcpus': 4097 is out of range (1..4096)"},
    /* memory_mib */
    {"{\"name\":\"a\",\"vcpus\":2}", "'memory_mib': is required"},
    {"{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":15}",
     "'memory_mib': 15 is out of range (16..16777216)"},
    {"{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":16777217}",
     "'memory_mib': 16777217 is out of range (16..16777216)"},
    {"{\"name\":\"a\",\"vcpus\":2,\"memory_mib\":true}", "'memory_mib': must be an integer"},
    /* string fields */
    {"{" BASE ",\"cpu_mode\":1}", "'cpu_mode': must be a string"},
    {"{" BASE ",\"cpu_map\":[]}", "'cpu_map': must be a string"},
    {"{" BASE ",\"shared_vcpus\":0}", "'shared_vcpus': must be a string"},
    {"{" BASE ",\"thread_policy\":{}}", "'thread_policy': must be a string"},
    {"{" BASE ",\"emulator\":false}", "'emulator': must be a string"},
    {"{" BASE ",\"host\":1}", "'host': must be a string"},
    {"{" BASE ",\"group\":1}", "'group': must be a string"},
    {"{" BASE ",\"role\":1}", "'role': must be a string"},
    {"{" BASE ",\"disk\":1}", "'disk': must be a string"},
    /* numa_node */
    {"{" BASE ",\"numa_node\":64}", "'numa_node': 64 is out of range (0..63)"},
    {"{" BASE ",\"numa_node\":\"0\"}", "'numa_node': must be an integer"},
    /* booleans */
    {"{" BASE ",\"dry_run\":1}", "'dry_run': must be true or false"},
    {"{" BASE ",\"ignore_reserve\":\"yes\"}", "'ignore_reserve': must be true or false"},
    /* host, group: the name rule */
    {"{" BASE ",\"host\":\"\"}", "'host': must not be empty"},
    {"{" BASE ",\"host\":\"h/1\"}", "'host': 'h/1' may only hold letters, digits, '.-_'"},
    {"{" BASE ",\"group\":\"g<x>\"}", "'group': 'g<x>' may only hold letters, digits, '.-_'"},
    {"{" BASE ",\"group\":\".g\"}", "'group': '.g' must start with a letter or digit"},
    /* role */
    {"{" BASE ",\"role\":\"none\"}", "'role': 'none' is not act or sby"},
    {"{" BASE ",\"role\":\"ACT\"}", "'role': 'ACT' is not act or sby"},
    /* disk */
    {"{" BASE ",\"disk\":\"\"}", "'disk': '' is empty or has <>&'\" characters"},
    {"{" BASE ",\"disk\":\"/a'b\"}", "'disk': '/a'b' is empty or has <>&'\" characters"},
    {"{" BASE ",\"disk\":\"/a<b\"}", "'disk': '/a<b' is empty or has <>&'\" characters"},
    {"{" BASE ",\"disk\":\"/a&b\"}", "'disk': '/a&b' is empty or has <>&'\" characters"},
    {"{" BASE ",\"disk\":\"/a\\\"b\"}", "'disk': '/a\"b' is empty or has <>&'\" characters"},
    {"{" BASE ",\"disk\":\"/a\\u0001b\"}", "'disk': has a control character (byte 1)"},
    {"{" BASE ",\"disk\":\"/a\\nb\"}", "'disk': has a control character (byte 10)"},
    /* nics */
    {"{" BASE ",\"nics\":\"bridge:br0\"}",
     "'nics': must be a list of {\"network\": NAME}, \"bridge:NAME\", \"network:NAME\" or "
     "\"vhostuser:PATH\""},
    {"{" BASE ",\"nics\":[1]}",
     "'nics[0]': must be {\"network\": NAME}, bridge:NAME, network:NAME or "
     "vhostuser:PATH"},
    {"{" BASE ",\"nics\":[\"bridge:a\",\"tap:x\"]}",
     "'nics[1]': must be {\"network\": NAME}, bridge:NAME, network:NAME or "
     "vhostuser:PATH"},
    {"{" BASE ",\"nics\":[\"bridge\"]}",
     "'nics[0]': must be {\"network\": NAME}, bridge:NAME, network:NAME or "
     "vhostuser:PATH"},
    {"{" BASE ",\"nics\":[\"Bridge:br0\"]}",
     "'nics[0]': must be {\"network\": NAME}, bridge:NAME, network:NAME or "
     "vhostuser:PATH"},
    {"{" BASE ",\"nics\":[\"bridge:\"]}", "'nics': '' is empty or has <>&'\" characters"},
    {"{" BASE ",\"nics\":[\"network:a>b\"]}", "'nics': 'a>b' is empty or has <>&'\" characters"},
    {"{" BASE ",\"nics\":[\"vhostuser:/s'\"]}", "'nics': '/s'' is empty or has <>&'\" characters"},
    {"{" BASE ",\"nics\":[\"vhostuser:/s\\t\"]}", "'nics': has a control character (byte 9)"},
    /* vmmgr networks (issue 15): {"network": NAME}, name rule, no other field */
    {"{" BASE ",\"nics\":[\"bridge:a\",{}]}", "'nics[1].network': is required (a network name)"},
    {"{" BASE ",\"nics\":[{\"network\":5}]}", "'nics[0].network': is required (a network name)"},
    {"{" BASE ",\"nics\":[{\"network\":\"\"}]}", "'nics[0].network': must not be empty"},
    {"{" BASE ",\"nics\":[{\"network\":\"a b\"}]}",
     "'nics[0].network': 'a b' may only hold letters, digits, '.-_'"},
    {"{" BASE ",\"nics\":[{\"network\":\"n1\",\"vlan\":100}]}", "'nics[0]': 'vlan': unknown field"},
    /* cpu_mode and the pinning half */
    {"{" BASE ",\"cpu_mode\":\"dedicated\"}",
     "'cpu_mode': 'dedicated' is not exclusive, shared or numbered"},
    {"{" BASE ",\"thread_policy\":\"spread\"}",
     "'thread_policy': 'spread' is not isolate, prefer or require"},
    {"{" BASE ",\"emulator\":\"pinned\"}", "'emulator': 'pinned' is not a policy"},
    {"{" BASE ",\"shared_vcpus\":\"0,5\"}",
     "'shared_vcpus': '0,5': vCPU 5 is out of range (VM has 2 vCPUs)"},
    {"{" BASE ",\"cpu_map\":\"0:x\"}", "'cpu_map': '0:x': PU is not a number"},
    {"{" BASE ",\"cpu_map\":\"0:1,0:2\"}", "'cpu_map': '0:2': vCPU 0 appears twice"},
    {"{" BASE ",\"cpu_map\":\"2:1\"}", "'cpu_map': '2:1': vCPU 2 is out of range (VM has 2 vCPUs)"},
    {"{" BASE ",\"cpu_mode\":\"numbered\",\"host\":\"h\"}", "'cpu-map': numbered vCPU 0 has no PU"},
    {"{" BASE ",\"emulator\":\"shared\"}", "'emulator': 'shared' needs at least one shared vCPU"},
    /* numbered vCPUs name PUs of one host */
    {"{" BASE ",\"cpu_mode\":\"numbered\",\"cpu_map\":\"0:1,1:2\"}",
     "'host': numbered vCPUs name PUs of one host"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        json_t *body;
        struct vm_spec s;
        struct nfv_err err = {0};
        enum nfv_code code = parse(refusals[i].body, vm_spec_vm_fields, &body, &s, &err);

        if (code != NFV_E_INVAL || strcmp(err.msg, refusals[i].msg) != 0)
            fail_msg("%s\n  got  %d '%s'\n  want '%s'", refusals[i].body, code, err.msg,
                     refusals[i].msg);
        /* nothing owned, nothing half-filled */
        assert_null(s.req);
        assert_null(s.nics);
        assert_null(s.name);
        assert_int_equal(s.role, VM_ROLE_NONE);
        done(&s, body);
    }
}

static void test_nic_names(void **state)
{
    (void)state;
    for (int k = 0; k < VM_NIC__COUNT; k++)
        assert_int_equal(vm_nic_kind_from_string(vm_nic_kind_to_string(k)), k);
    assert_int_equal(vm_nic_kind_from_string("tap"), VM_NIC__COUNT);
    assert_int_equal(vm_nic_kind_from_string(NULL), VM_NIC__COUNT);
    assert_string_equal(vm_nic_kind_to_string(VM_NIC__COUNT), "?");
}

/* ---- the path-policy hook ---- */

static void expect_path(const char *path, const char *const *dirs, const char *msg)
{
    struct nfv_err err = {0};
    enum nfv_code code = vm_spec_path_check("disk", path, dirs, &err);

    if (!msg) {
        if (code != NFV_OK)
            fail_msg("%s: refused: %s", path, err.msg);
        return;
    }
    if (code != NFV_E_INVAL || strcmp(err.msg, msg) != 0)
        fail_msg("%s\n  got  %d '%s'\n  want '%s'", path, code, err.msg, msg);
}

static void test_path_check(void **state)
{
    static const char *const one[] = {"/var/lib/vmmgr/images", NULL};
    static const char *const two[] = {"/srv/img/", "/var/lib/vmmgr/images", NULL};
    static const char *const root[] = {"/", NULL};
    static const char *const none[] = {NULL};

    (void)state;
    expect_path("relative.img", NULL, NULL); /* no policy: anything (today's behaviour) */
    expect_path("/var/lib/vmmgr/images/a.qcow2", one, NULL);
    expect_path("/var/lib/vmmgr/images/sub/a.img", one, NULL);
    expect_path("/srv/img/a.img", two, NULL);
    expect_path("/var/lib/vmmgr/images/a.img", two, NULL);
    expect_path("/any/where", root, NULL);
    expect_path("a.img", one, "'disk': 'a.img' is not an absolute path");
    expect_path("/var/lib/vmmgr/images2/a.img", one,
                "'disk': '/var/lib/vmmgr/images2/a.img' is not inside /var/lib/vmmgr/images");
    expect_path("/var/lib/vmmgr/images", one,
                "'disk': '/var/lib/vmmgr/images' is not inside /var/lib/vmmgr/images");
    expect_path("/etc/shadow", two,
                "'disk': '/etc/shadow' is not inside /srv/img/ or the other allowed "
                "directories");
    expect_path("/var/lib/vmmgr/images/../../../etc/shadow", one,
                "'disk': '/var/lib/vmmgr/images/../../../etc/shadow' has an empty, '.' or '..' "
                "path component");
    expect_path("/var/lib/vmmgr/images/./a", one,
                "'disk': '/var/lib/vmmgr/images/./a' has an empty, '.' or '..' path component");
    expect_path("/var/lib/vmmgr/images//a", one,
                "'disk': '/var/lib/vmmgr/images//a' has an empty, '.' or '..' path component");
    expect_path("/var/lib/vmmgr/images/a/", one,
                "'disk': '/var/lib/vmmgr/images/a/' has an empty, '.' or '..' path component");
    expect_path("/var/lib/vmmgr/images/..a", one, NULL); /* a name, not '..' */
    expect_path("/a", none, "'disk': '/a' is not inside any allowed directory");
}

static void test_check_paths(void **state)
{
    static const char *const disks[] = {"/img", NULL};
    static const char *const socks[] = {"/run/vmmgr", NULL};
    json_t *body;
    struct vm_spec s;
    struct nfv_err err = {0};

    (void)state;
    parse_ok("{" BASE ",\"disk\":\"/img/a.img\",\"nics\":[\"bridge:/not/a/path\","
             "\"vhostuser:/run/vmmgr/a.sock\",\"vhostuser:/tmp/b.sock\"]}",
             vm_spec_vm_fields, &body, &s);
    assert_int_equal(vm_spec_check_paths(&s, NULL, NULL, &err), NFV_OK);
    assert_int_equal(vm_spec_check_paths(&s, disks, socks, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'nics[2]': '/tmp/b.sock' is not inside /run/vmmgr");
    assert_int_equal(vm_spec_check_paths(&s, socks, NULL, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'disk': '/img/a.img' is not inside /run/vmmgr");
    done(&s, body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),    cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_modes),      cmocka_unit_test(test_member_fields),
        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_nic_names),
        cmocka_unit_test(test_path_check), cmocka_unit_test(test_check_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
