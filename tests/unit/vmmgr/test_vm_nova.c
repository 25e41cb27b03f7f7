/*
 * test_vm_nova.c - the pure half of vmmgrd's Nova client (vm_nova_msg.c)
 * against exchanges captured from a real Keystone and Nova 26.2.2
 * (the .http files in tests/data/vmmgr/nova/: status line, headers, body) and golden
 * request bodies (the .json files there, VMMGR_REGEN_GOLDEN=1
 * rewrites them). No network, no daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/vm_nova.h"

/* The body and status of a captured exchange. *ret_body is owned. */
static long load_http(const char *name, char **ret_body)
{
    const char *src = getenv("VMMGR_SOURCE_DIR");
    char path[1024];
    FILE *f;
    long size, status = 0;
    char *text, *body;

    snprintf(path, sizeof(path), "%s/tests/data/vmmgr/nova/%s.http", src ? src : ".", name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("no capture %s", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    assert_int_equal(sscanf(text, "HTTP/1.1 %ld", &status), 1);
    body = strstr(text, "\r\n\r\n");
    body = body ? body + 4 : strstr(text, "\n\n") ? strstr(text, "\n\n") + 2 : text + size;
    *ret_body = strdup(body);
    free(text);
    return status;
}

static json_t *load_json_body(const char *name, long *ret_status)
{
    char *body;
    json_t *j;

    *ret_status = load_http(name, &body);
    j = json_loads(body, 0, NULL);
    free(body);
    return j;
}

/* @got (consumed) must equal tests/data/vmmgr/nova/@name.json. */
static void golden_json(const char *name, json_t *got)
{
    const char *src = getenv("VMMGR_SOURCE_DIR"), *regen = getenv("VMMGR_REGEN_GOLDEN");
    char path[1024];
    json_error_t jerr;
    json_t *want;

    snprintf(path, sizeof(path), "%s/tests/data/vmmgr/nova/%s.json", src ? src : ".", name);
    if (regen && strcmp(regen, "1") == 0)
        assert_int_equal(json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    want = json_load_file(path, 0, &jerr);
    if (!want)
        fail_msg("no golden file %s (VMMGR_REGEN_GOLDEN=1 writes it): %s", path, jerr.text);
    if (!json_equal(want, got)) {
        char *text = json_dumps(got, JSON_INDENT(2));
        fail_msg("%s differs; got:\n%s", path, text);
    }
    json_decref(want);
    json_decref(got);
}

static const char good_config[] = "# vmmgrd's Nova\n"
                                  "auth_url = http://127.0.0.1:25000/v3\n"
                                  "username = admin\n"
                                  "password = \"s3cret pass\"\n"
                                  "project_name = admin\n"
                                  "region_name = RegionOne\n"
                                  "image = cirros\n"
                                  "boot_timeout_s = 120\n"
                                  "libvirt.compute-1 = qemu:///system\n"
                                  "shadow.compute-0 = alias:c0\n";

static void test_config(void **state)
{
    struct vm_nova_config *c = calloc(1, sizeof(*c));
    struct nfv_err err = {0};
    const struct vm_nova_compute *cmp;
    (void)state;

    assert_int_equal(vm_nova_config_parse(good_config, "nova.conf", c, &err), NFV_OK);
    assert_string_equal(c->password, "s3cret pass");
    assert_string_equal(c->user_domain, "Default");
    assert_string_equal(c->interface, "public");
    assert_int_equal(c->boot_timeout_s, 120);
    assert_int_equal(c->delete_timeout_s, 120);
    assert_int_equal(c->n_computes, 2);
    cmp = vm_nova_config_compute(c, "compute-1");
    assert_non_null(cmp);
    assert_false(cmp->is_shadow);
    assert_string_equal(cmp->uri, "qemu:///system");
    cmp = vm_nova_config_compute(c, "compute-0");
    assert_true(cmp && cmp->is_shadow);
    assert_null(vm_nova_config_compute(c, "compute-9"));

    /* Each refusal names file, line and key; never the password. */
    assert_int_equal(vm_nova_config_parse("auth_url = ftp://x\n", "n.conf", c, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:1: 'auth_url': not an http:// or https:// URL");
    assert_int_equal(vm_nova_config_parse("password = hunter2\nfoo = 1\n", "n.conf", c, &err),
                     NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:2: 'foo': unknown key");
    assert_int_equal(vm_nova_config_parse("password = hunter2\n", "n.conf", c, &err), NFV_E_INVAL);
    assert_null(strstr(err.msg, "hunter2"));
    assert_non_null(strstr(err.msg, "needs auth_url, username, password and project_name"));
    assert_int_equal(vm_nova_config_parse("libvirt.a = qemu:///system\nshadow.a = test:///\n",
                                          "n.conf", c, &err),
                     NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:2: 'shadow.a': compute host 'a' is mapped twice");
    assert_int_equal(vm_nova_config_parse("libvirt.-x = qemu:///system\n", "n.conf", c, &err),
                     NFV_E_INVAL);
    assert_int_equal(vm_nova_config_parse("boot_timeout_s = 1\n", "n.conf", c, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:1: 'boot_timeout_s': not a number in 5..3600");
    assert_int_equal(vm_nova_config_parse("novalue\n", "n.conf", c, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:1: expected 'key = value'");
    free(c);
}

static void test_uri(void **state)
{
    (void)state;
    assert_true(vm_nova_uri_is("nova:compute-1"));
    assert_true(vm_nova_uri_is("nova:node_7.rack2"));
    assert_false(vm_nova_uri_is("nova:"));
    assert_false(vm_nova_uri_is("nova:-x"));
    assert_false(vm_nova_uri_is("nova:a/b"));
    assert_false(vm_nova_uri_is("nova:a?socket=/x"));
    assert_false(vm_nova_uri_is("qemu:///system"));
}

static void test_auth_body(void **state)
{
    struct vm_nova_config *c = calloc(1, sizeof(*c));
    (void)state;

    assert_int_equal(vm_nova_config_parse(good_config, "nova.conf", c, NULL), NFV_OK);
    golden_json("auth_body", vm_nova_auth_body_new(c));
    free(c);
}

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(vm_nova_time_parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(vm_nova_time_parse("2026-11-21T05:57:52.000000Z"), 1795240672);
    assert_int_equal(vm_nova_time_parse("2000-02-29T12:00:00+00:00"), 951825600);
    assert_int_equal(vm_nova_time_parse("2026-11-21T05:57:52+02:00"), -1);
    assert_int_equal(vm_nova_time_parse("2026-13-21T05:57:52Z"), -1);
    assert_int_equal(vm_nova_time_parse("yesterday"), -1);
    assert_int_equal(vm_nova_time_parse(NULL), -1);
}

static void test_token(void **state)
{
    struct vm_nova_token_info ti;
    struct nfv_err err = {0};
    char *body;
    (void)state;

    assert_int_equal(load_http("token_create", &body), 201);
    assert_int_equal(vm_nova_token_parse(body, "public", "RegionOne", &ti, &err), NFV_OK);
    assert_true(ti.expires_s > 1700000000);
    assert_string_equal(ti.compute_url, "http://127.0.0.1:25774/v2.1");
    assert_string_equal(ti.image_url, "http://127.0.0.1:25292");
    /* Another region: no endpoint. */
    assert_int_equal(vm_nova_token_parse(body, "public", "RegionTwo", &ti, &err), NFV_E_PARSE);
    assert_string_equal(err.msg, "Keystone's catalog has no 'compute' endpoint on interface "
                                 "'public'");
    free(body);
    assert_int_equal(vm_nova_token_parse("{\"token\": {}}", "public", "", &ti, &err), NFV_E_PARSE);
    assert_string_equal(err.msg, "Keystone's token answer has no valid 'expires_at'");
    assert_int_equal(vm_nova_token_parse("<html>", "public", "", &ti, &err), NFV_E_PARSE);
}

static void test_bodies(void **state)
{
    char name[64];
    struct vm_nova_boot b = {
        .name = "nat-act",
        .vmmgr_uuid = "6f1f3c9e-2b1d-4c55-9a43-0d2b7e8a1c01",
        .image_id = "6b0e89b9-3010-433d-9d78-ecb8dd0c2f66",
        .flavor_id = "vmmgr-2c-1024m",
        .host = "compute-1",
    };
    (void)state;

    vm_nova_flavor_name(2, 1024, name, sizeof(name));
    assert_string_equal(name, "vmmgr-2c-1024m");
    golden_json("flavor_body", vm_nova_flavor_body_new(name, 2, 1024, 1));
    golden_json("server_body", vm_nova_server_body_new(&b));
}

static void test_server(void **state)
{
    struct vm_nova_server s;
    struct vm_nova_server *v = NULL;
    size_t n = 0;
    long status;
    json_t *j = load_json_body("show_274", &status);
    (void)state;

    assert_int_equal(status, 200);
    assert_int_equal(vm_nova_server_parse(json_object_get(j, "server"), &s, NULL), NFV_OK);
    assert_string_equal(s.id, "d1c276d1-1b13-4f50-b574-057c71431bc2");
    assert_string_equal(s.name, "golden1");
    assert_string_equal(s.status, "ERROR");
    assert_string_equal(s.instance_name, "instance-00000001");
    assert_string_equal(s.host, ""); /* null: never scheduled */
    assert_string_equal(s.task_state, "");
    assert_string_equal(s.vmmgr_uuid, "");
    assert_int_equal(s.fault_code, 500);
    json_decref(j);

    j = load_json_body("create_274", &status);
    assert_int_equal(status, 202);
    assert_int_equal(vm_nova_server_parse(json_object_get(j, "server"), &s, NULL), NFV_OK);
    assert_string_equal(s.id, "d1c276d1-1b13-4f50-b574-057c71431bc2");
    json_decref(j);

    j = load_json_body("servers_name_filter", &status);
    assert_int_equal(vm_nova_servers_parse(j, &v, &n, NULL), NFV_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "golden1");
    free(v);
    json_decref(j);

    j = json_pack("{s:{}}", "server");
    assert_int_equal(vm_nova_server_parse(json_object_get(j, "server"), &s, NULL), NFV_E_PARSE);
    json_decref(j);
}

static void test_hypervisors(void **state)
{
    struct vm_nova_hypervisor *hv = NULL;
    size_t n = 0;
    long status;
    json_t *j = load_json_body("hv_detail_253", &status);
    (void)state;

    assert_int_equal(vm_nova_hypervisors_parse(j, &hv, &n, NULL), NFV_OK);
    assert_int_equal(n, 1);
    assert_string_equal(hv[0].host, "compute-0");
    assert_string_equal(hv[0].hostname, "compute-0");
    assert_string_equal(hv[0].type, "fake");
    assert_true(hv[0].is_up);
    assert_true(hv[0].is_enabled);
    assert_int_equal(hv[0].vcpus, 1000);
    free(hv);
    json_decref(j);

    /* 2.74 on this machine's OpenStack: the libvirt compute's hypervisor is
     * named after the machine; "host" of a boot is service.host. */
    j = load_json_body("hv_detail_274_two", &status);
    assert_int_equal(status, 200);
    assert_int_equal(vm_nova_hypervisors_parse(j, &hv, &n, NULL), NFV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(hv[1].host, "compute-1");
    assert_string_equal(hv[1].type, "QEMU");
    assert_string_not_equal(hv[1].hostname, "compute-1");
    assert_true(hv[1].is_up && hv[1].is_enabled);
    free(hv);
    json_decref(j);
}

/* Nova's errors become vmmgr's codes with vmmgr's text, never Nova's. */
static void test_errors(void **state)
{
    static const struct {
        const char *capture;
        long status;
        enum nfv_code code;
        const char *msg;
        const char *novas; /* a piece of Nova's text that must not appear */
    } cases[] = {
        {"show_404", 404, NFV_E_NOENT, "show server x: Nova answered HTTP 404 (itemNotFound)",
         "could not be found"},
        {"create_nohost_bad", 400, NFV_E_INVAL,
         "show server x: Nova answered HTTP 400 (badRequest)", "no-such-host"},
        {"badtoken_servers", 401, NFV_E_PERM,
         "show server x: Nova answered HTTP 401 (Unauthorized)", "requires authentication"},
        {"token_bad_password", 401, NFV_E_PERM,
         "show server x: Nova answered HTTP 401 (Unauthorized)", "requires authentication"},
        {"mv_too_high", 406, NFV_E_HYPERVISOR,
         "show server x: Nova answered HTTP 406 (computeFault)", "2.99"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nfv_err err = {0};
        char detail[256];
        long status;
        json_t *j = load_json_body(cases[i].capture, &status);
        assert_int_equal(status, cases[i].status);
        assert_int_equal(vm_nova_error(status, j, "show server x", detail, sizeof(detail), &err),
                         cases[i].code);
        assert_string_equal(err.msg, cases[i].msg);
        assert_null(strstr(err.msg, cases[i].novas));
        assert_non_null(strstr(detail, cases[i].novas)); /* for the debug log */
        json_decref(j);
    }
    /* No body, or a body with an odd key: the status alone. */
    {
        struct nfv_err err = {0};
        json_t *j = json_pack("{s:{s:s}}", "\x1b[31mevil", "message", "x");
        assert_int_equal(vm_nova_error(503, NULL, "boot", NULL, 0, &err), NFV_E_UNREACHABLE);
        assert_string_equal(err.msg, "boot: Nova answered HTTP 503");
        assert_int_equal(vm_nova_error(500, j, "boot", NULL, 0, &err), NFV_E_HYPERVISOR);
        assert_string_equal(err.msg, "boot: Nova answered HTTP 500");
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),    cmocka_unit_test(test_uri),
        cmocka_unit_test(test_auth_body), cmocka_unit_test(test_time),
        cmocka_unit_test(test_token),     cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_server),    cmocka_unit_test(test_hypervisors),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
