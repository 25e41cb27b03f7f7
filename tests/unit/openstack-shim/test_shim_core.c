/* test_shim_core.c - vmmgr-shim's pure pieces: microversion negotiation
 * (messages word for word as Nova's golden answers), flavor extra specs ->
 * vmmgrd create body (the README table, row by row), server metadata, and
 * the config, users and images files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "shim/shim_buf.h"
#include "shim/shim_conf.h"
#include "shim/shim_mv.h"
#include "shim/shim_spec.h"

static void test_mv(void **state)
{
    char msg[256];
    int mv = 0;

    (void)state;
    assert_int_equal(shim_mv_negotiate(NULL, NULL, &mv, msg, sizeof(msg)), SHIM_MV_OK);
    assert_int_equal(mv, SHIM_MV(2, 1));
    assert_int_equal(shim_mv_negotiate("compute 2.64", "2.1", &mv, msg, sizeof(msg)), SHIM_MV_OK);
    assert_int_equal(mv, SHIM_MV(2, 64));
    assert_int_equal(shim_mv_negotiate("volume 3.0,  compute 2.53 ", NULL, &mv, msg, sizeof(msg)),
                     SHIM_MV_OK);
    assert_int_equal(mv, SHIM_MV(2, 53));
    assert_int_equal(shim_mv_negotiate("volume 3.0", " 2.61 ", &mv, msg, sizeof(msg)), SHIM_MV_OK);
    assert_int_equal(mv, SHIM_MV(2, 61));
    assert_int_equal(shim_mv_negotiate("compute latest", NULL, &mv, msg, sizeof(msg)), SHIM_MV_OK);
    assert_int_equal(mv, SHIM_MV_MAX);
    assert_int_equal(shim_mv_negotiate(NULL, "LATEST", &mv, msg, sizeof(msg)), SHIM_MV_OK);
    assert_int_equal(shim_mv_negotiate(NULL, "abc", &mv, msg, sizeof(msg)), SHIM_MV_MALFORMED);
    assert_string_equal(msg, "API Version String abc is of invalid format. Must be of format "
                             "MajorNum.MinorNum.");
    assert_int_equal(shim_mv_negotiate("compute 2.99", NULL, &mv, msg, sizeof(msg)),
                     SHIM_MV_TOO_HIGH);
    assert_string_equal(msg, "Version 2.99 is not supported by the API. Minimum is 2.1 and "
                             "maximum is 2.93.");
    assert_int_equal(shim_mv_negotiate(NULL, "2.0", &mv, msg, sizeof(msg)), SHIM_MV_TOO_HIGH);
    for (const char *const *b =
             (const char *const[]){"2.", ".1", "2..1", "2.1.1", "2.1000", "+2.1", "2 .1", "", NULL};
         *b; b++)
        assert_int_equal(shim_mv_negotiate(NULL, *b, &mv, msg, sizeof(msg)), SHIM_MV_MALFORMED);
    /* Control characters are not echoed. */
    assert_int_equal(shim_mv_negotiate(NULL, "a\x01", &mv, msg, sizeof(msg)), SHIM_MV_MALFORMED);
    assert_null(strchr(msg, '\x01'));
}

/* Builds a body for @vcpus vCPUs from the JSON specs @specs_text. */
static json_t *build(const char *specs_text, unsigned vcpus, const char *host, struct nfv_err *err)
{
    json_t *specs = json_loads(specs_text, 0, NULL), *body = NULL;
    struct shim_spec_in in = {
        .vm_name = "vm1", .vcpus = vcpus, .ram_mb = 1024, .extra_specs = specs, .host = host};

    assert_non_null(specs);
    if (shim_spec_build(&in, &body, err))
        body = NULL;
    json_decref(specs);
    return body;
}

static const char *str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static void test_spec_table(void **state)
{
    struct nfv_err err = {0};
    json_t *b;

    (void)state;
    b = build("{}", 2, NULL, &err);
    assert_non_null(b);
    assert_string_equal(str(b, "name"), "vm1");
    assert_int_equal(json_integer_value(json_object_get(b, "memory_mib")), 1024);
    assert_null(json_object_get(b, "cpu_mode")); /* vmmgrd's default */
    json_decref(b);

    b = build("{\"hw:cpu_policy\":\"dedicated\",\"hw:cpu_thread_policy\":\"require\","
              "\"hw:emulator_threads_policy\":\"share\",\"hw:numa_nodes\":\"1\","
              "\"hw:mem_page_size\":\"small\",\"hw:cpu_sockets\":\"1\",\"aggregate:x\":\"y\"}",
              4, NULL, &err);
    assert_non_null(b);
    assert_string_equal(str(b, "cpu_mode"), "exclusive");
    assert_string_equal(str(b, "thread_policy"), "require");
    assert_string_equal(str(b, "emulator"), "reserved");
    json_decref(b);

    b = build("{\"hw:cpu_policy\":\"shared\"}", 2, NULL, &err);
    assert_string_equal(str(b, "cpu_mode"), "shared");
    json_decref(b);

    /* mixed: Nova names the dedicated vCPUs, vmmgr the shared ones. */
    b = build("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"^0-1\","
              "\"hw:emulator_threads_policy\":\"isolate\"}",
              4, NULL, &err);
    assert_non_null(b);
    assert_string_equal(str(b, "cpu_mode"), "exclusive");
    assert_string_equal(str(b, "shared_vcpus"), "0,1");
    assert_string_equal(str(b, "emulator"), "isolate");
    json_decref(b);
    b = build("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"2-3\"}", 4, NULL, &err);
    assert_string_equal(str(b, "shared_vcpus"), "0,1");
    json_decref(b);

    /* vmmgr: keys win over hw: ones. */
    b = build("{\"vmmgr:cpu_mode\":\"shared\",\"hw:cpu_policy\":\"dedicated\","
              "\"vmmgr:thread_policy\":\"prefer\",\"hw:cpu_thread_policy\":\"isolate\","
              "\"vmmgr:emulator\":\"vcpus\",\"vmmgr:numa_node\":\"3\","
              "\"vmmgr:nics\":\"bridge:br0,network:default\",\"vmmgr:shared_vcpus\":\"0\"}",
              2, NULL, &err);
    assert_non_null(b);
    assert_string_equal(str(b, "cpu_mode"), "shared");
    assert_string_equal(str(b, "thread_policy"), "prefer");
    assert_string_equal(str(b, "emulator"), "vcpus");
    assert_string_equal(str(b, "shared_vcpus"), "0");
    assert_int_equal(json_integer_value(json_object_get(b, "numa_node")), 3);
    assert_int_equal(json_array_size(json_object_get(b, "nics")), 2);
    json_decref(b);

    b = build("{\"vmmgr:cpu_map\":\"0:4,1:6\"}", 2, "h1", &err);
    assert_non_null(b);
    assert_string_equal(str(b, "cpu_mode"), "numbered");
    assert_string_equal(str(b, "cpu_map"), "0:4,1:6");
    assert_string_equal(str(b, "host"), "h1");
    json_decref(b);
}

static void expect_refused(const char *specs, unsigned vcpus, const char *needle)
{
    struct nfv_err err = {0};
    json_t *b = build(specs, vcpus, NULL, &err);

    if (b)
        fail_msg("'%s' was accepted", specs);
    assert_int_equal(err.code, NFV_E_INVAL);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", specs, err.msg, needle);
}

static void test_spec_refusals(void **state)
{
    (void)state;
    expect_refused("{\"vmmgr:bogus\":\"1\"}", 2, "'vmmgr:bogus': unknown vmmgr key");
    expect_refused("{\"hw:cpu_policy\":\"x\"}", 2, "'hw:cpu_policy': 'x' is not");
    expect_refused("{\"hw:cpu_thread_policy\":\"x\"}", 2, "'hw:cpu_thread_policy'");
    expect_refused("{\"hw:emulator_threads_policy\":\"x\"}", 2, "'hw:emulator_threads_policy'");
    expect_refused("{\"hw:numa_nodes\":\"2\"}", 2, "'hw:numa_nodes'");
    expect_refused("{\"hw:numa_nodes\":\"x\"}", 2, "'hw:numa_nodes'");
    expect_refused("{\"hw:mem_page_size\":\"large\"}", 2, "'hw:mem_page_size'");
    expect_refused("{\"hw:cpu_dedicated_mask\":\"1\"}", 2, "only with hw:cpu_policy=mixed");
    expect_refused("{\"hw:cpu_policy\":\"mixed\"}", 2, "needs hw:cpu_dedicated_mask");
    expect_refused("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"0-1\"}", 2,
                   "at least one dedicated and one shared");
    expect_refused("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"^0-1\"}", 2,
                   "at least one dedicated and one shared");
    expect_refused("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"5\"}", 2,
                   "out of range");
    expect_refused("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"1-\"}", 2,
                   "not a vCPU list");
    expect_refused("{\"hw:cpu_policy\":\"mixed\",\"hw:cpu_dedicated_mask\":\"1,\"}", 2,
                   "not a vCPU list");
    expect_refused("{\"vmmgr:shared_vcpus\":\"2\"}", 2, "out of range");
    expect_refused("{\"vmmgr:cpu_map\":\"0:4\"}", 2, "name PUs of one host");
    expect_refused("{\"vmmgr:cpu_map\":\"0:x\"}", 2, "'vmmgr:cpu_map'");
    expect_refused("{\"vmmgr:numa_node\":\"64\"}", 2, "'vmmgr:numa_node'");
    expect_refused("{\"vmmgr:numa_node\":\"-1\"}", 2, "'vmmgr:numa_node'");
    expect_refused("{\"vmmgr:nics\":\"vhostuser:/tmp/s\"}", 2, "'vmmgr:nics'");
    expect_refused("{\"vmmgr:nics\":\"bridge:../x\"}", 2, "'vmmgr:nics'");
    expect_refused("{\"vmmgr:nics\":\"bridge:br0,\"}", 2, "'vmmgr:nics'");
    expect_refused("{\"vmmgr:nics\":\"bridge:a<b\"}", 2, "'vmmgr:nics'");
    expect_refused("{\"vmmgr:emulator\":\"x\"}", 2, "'vmmgr:emulator'");
    expect_refused("{\"hw:cpu_policy\":1}", 2, "must be strings");
    expect_refused("{}", 0, "'vcpus'");
    expect_refused("{}", SHIM_SPEC_MAX_VCPUS + 1, "'vcpus'");
}

static void test_spec_check_and_metadata(void **state)
{
    struct nfv_err err = {0};
    json_t *md;
    const char *role, *scope;

    (void)state;
    /* A numbered map is fine at flavor time: the host comes at boot. */
    md = json_pack("{s:s}", "vmmgr:cpu_map", "0:4");
    assert_int_equal(shim_spec_check(md, 1, &err), NFV_OK);
    json_decref(md);
    md = json_pack("{s:s,s:s,s:s}", "vmmgr:role", "sby", "vmmgr:scope", "rack", "owner", "x");
    assert_int_equal(shim_spec_metadata(md, &role, &scope, &err), NFV_OK);
    assert_string_equal(role, "sby");
    assert_string_equal(scope, "rack");
    json_object_set_new(md, "vmmgr:role", json_string("boss"));
    assert_int_equal(shim_spec_metadata(md, &role, &scope, &err), NFV_E_INVAL);
    json_decref(md);
    md = json_pack("{s:s}", "vmmgr:x", "1");
    assert_int_equal(shim_spec_metadata(md, &role, &scope, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'vmmgr:x'"));
    json_decref(md);
}

static void test_conf_files(void **state)
{
    struct shim_conf c;
    struct nfv_err err = {0};
    struct shim_user *users = NULL;
    struct shim_image *images = NULL;
    size_t n = 0;
    char id1[37], id2[37];

    (void)state;
    shim_conf_defaults(&c);
    assert_int_equal(shim_conf_parse(&c, "f",
                                     "# comment\nlisten = 0.0.0.0:9000\n"
                                     "vmmgrd_socket = \"/run/x.sock\"\ntoken_ttl_s = 60\n",
                                     &err),
                     NFV_OK);
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_string_equal(c.vmmgrd_socket, "/run/x.sock");
    assert_int_equal(c.token_ttl_s, 60);
    assert_int_equal(shim_conf_parse(&c, "f", "\n\nbogus = 1\n", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "f:3: 'bogus': unknown key");
    assert_int_equal(shim_conf_parse(&c, "f", "state_dir = relative\n", &err), NFV_E_INVAL);
    assert_int_equal(shim_conf_parse(&c, "f", "token_ttl_s = 0\n", &err), NFV_E_INVAL);
    assert_int_equal(shim_conf_parse(&c, "f", "vm_name_prefix = a/b\n", &err), NFV_E_INVAL);
    assert_int_equal(shim_conf_parse(&c, "f", "listen = nope\n", &err), NFV_E_INVAL);

    assert_int_equal(shim_users_parse("u", "admin admin admin,member $6$s$h\nbob p member $y$x\n",
                                      &users, &n, &err),
                     NFV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(users[0].roles[1], "member");
    assert_int_equal(users[0].n_roles, 2);
    free(users);
    assert_int_equal(shim_users_parse("u", "admin admin admin plaintext\n", &users, &n, &err),
                     NFV_E_PARSE);
    assert_int_equal(shim_users_parse("u", "a/b p r $6$x\n", &users, &n, &err), NFV_E_PARSE);
    assert_int_equal(shim_users_parse("u", "a p r\n", &users, &n, &err), NFV_E_PARSE);

    assert_int_equal(
        shim_images_parse("i", "cirros /var/lib/vmmgr/cirros.qcow2\nempty\n", &images, &n, &err),
        NFV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(images[0].path, "/var/lib/vmmgr/cirros.qcow2");
    assert_string_equal(images[1].path, "");
    assert_int_equal(strlen(images[0].id), 36);
    free(images);
    assert_int_equal(shim_images_parse("i", "x relative/path\n", &images, &n, &err), NFV_E_PARSE);

    /* Ids are stable and differ by kind and name. */
    shim_id_from_name("image", "cirros", true, id1, sizeof(id1));
    shim_id_from_name("image", "cirros", true, id2, sizeof(id2));
    assert_string_equal(id1, id2);
    shim_id_from_name("image", "cirrus", true, id2, sizeof(id2));
    assert_string_not_equal(id1, id2);
}

static void test_buf(void **state)
{
    struct shim_buf b = {0};

    (void)state;
    assert_true(shim_buf_append(&b, "abc", 3, 8));
    assert_true(shim_buf_append(&b, "defgh", 5, 8));
    assert_string_equal(b.data, "abcdefgh");
    /* One byte over the limit: refused, nothing added. */
    assert_false(shim_buf_append(&b, "i", 1, 8));
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "abcdefgh");
    assert_false(shim_buf_append(&b, "x", SIZE_MAX, SIZE_MAX - 1));
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mv),
        cmocka_unit_test(test_spec_table),
        cmocka_unit_test(test_spec_refusals),
        cmocka_unit_test(test_spec_check_and_metadata),
        cmocka_unit_test(test_conf_files),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
