/*
 * test_vm_security.c - the pure parts of vmmgrd's hardening (issue 10): the
 * host-URI allow-list and config aliases (vm_uri.h), roles, the token file
 * and SHA-256 (vm_auth.h), label and topology checks (vm_req.h, vm_topo.h),
 * the security config keys (vm_config.h). No daemon, no libvirt.
 * tests/integration/vmmgrd/test_security.sh runs the attacks end to end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/topo.h"
#include "vm/vm_auth.h"
#include "vm/vm_config.h"
#include "vm/vm_req.h"
#include "vm/vm_topo.h"
#include "vm/vm_uri.h"

static void test_uri_allow_list(void **state)
{
    static const char *const good[] = {
        "qemu:///system",
        "qemu+unix:///system",
        "test:///default",
        "test:///",
        "qemu+ssh://node7/system",
        "qemu+ssh://root@node7.lab:2222/system",
        "qemu+tls://10.0.0.7/system",
        "qemu+ssh://[fe80::1]:22/system",
        "alias:far-1",
    };
    static const char *const bad[] = {
        "test:///etc/shadow",
        "test:///../etc/shadow",
        "test://host/x",
        "test:///default?x=1",
        "qemu+ssh://h/system?command=/bin/sh",
        "qemu+ssh://h/system?netcat=/tmp/nc",
        "qemu+ssh://h/system?keyfile=/root/.ssh/id_rsa",
        "qemu+unix:///system?socket=/tmp/s",
        "qemu+tls://h/system?pkipath=/tmp",
        "qemu+ssh://h/system#x",
        "qemu+ssh://h/system%3F",
        "qemu+ssh://-oProxyCommand=x/system",
        "qemu+ssh://-user@h/system",
        "qemu+tls://u@h/system",
        "qemu+ssh://h:0/system",
        "qemu+ssh://h:99999/system",
        "qemu+ssh://h/session",
        "qemu+ssh://h/system/",
        "qemu+ssh:///system",
        "qemu+tcp://h/system",
        "qemu+ext:///system",
        "qemu:///session",
        "xen:///system",
        "alias:",
        "alias:-x",
        "alias:a/b",
        "",
        "qemu+ssh://h\x1b[2J/system",
    };
    struct nfv_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (vm_uri_check_api(good[i], &err) != NFV_OK)
            fail_msg("'%s' refused: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vm_uri_check_api(bad[i], &err) != NFV_E_INVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.msg, "'uri'"));
        /* The message never quotes what the caller sent. */
        if (bad[i][0] && strstr(err.msg, bad[i]))
            fail_msg("'%s' echoed: %s", bad[i], err.msg);
    }
    assert_non_null(strstr((vm_uri_check_api("qemu+tcp://h/system", &err), err.msg), "uri_alias"));
}

static int n_checked;
static enum nfv_code count_paths(void *opaque, const char *option, const char *path,
                                 struct nfv_err *err)
{
    (void)opaque;
    n_checked++;
    if (strcmp(path, "/nonexistent") == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s': missing", option, path);
    return NFV_OK;
}

static void test_uri_config_aliases(void **state)
{
    struct vm_uri_aliases a = {0};
    struct nfv_err err;
    char buf[VM_URI_ALIAS_URI];

    (void)state;
    n_checked = 0;
    assert_int_equal(vm_uri_check_config("far",
                                         "qemu+ssh://h/system?keyfile=/etc/vmmgr/id&"
                                         "command=/usr/bin/ssh&no_verify=1",
                                         count_paths, NULL, &err),
                     NFV_OK);
    assert_int_equal(n_checked, 2);
    assert_int_equal(vm_uri_check_config("t", "qemu+tcp://h/system", NULL, NULL, &err), NFV_OK);
    assert_int_equal(vm_uri_check_config("x", "qemu+ssh://h/system?command=/nonexistent",
                                         count_paths, NULL, &err),
                     NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'uri_alias.x'"));
    assert_int_equal(vm_uri_check_config("x", "qemu+ssh://h/system?bogus=1", NULL, NULL, &err),
                     NFV_E_INVAL);
    assert_int_equal(vm_uri_check_config("x", "qemu+ssh://h/system?keyfile=rel", NULL, NULL, &err),
                     NFV_E_INVAL);
    assert_int_equal(
        vm_uri_check_config("x", "qemu+ssh://h/system?keyfile=/a&keyfile=/b", NULL, NULL, &err),
        NFV_E_INVAL);
    assert_int_equal(
        vm_uri_check_config("x", "qemu+ssh://h/system?keyfile=/a%2Fb", NULL, NULL, &err),
        NFV_E_INVAL);
    assert_int_equal(vm_uri_check_config("x", "test:///etc/shadow", NULL, NULL, &err), NFV_E_INVAL);
    assert_int_equal(vm_uri_check_config("bad name", "qemu:///system", NULL, NULL, &err),
                     NFV_E_INVAL);

    assert_int_equal(vm_uri_aliases_set(&a, "far", "qemu+ssh://h/system?keyfile=/k", &err), NFV_OK);
    assert_int_equal(vm_uri_resolve(&a, "alias:far", buf, sizeof(buf), &err), NFV_OK);
    assert_string_equal(buf, "qemu+ssh://h/system?keyfile=/k");
    assert_int_equal(vm_uri_resolve(&a, "qemu:///system", buf, sizeof(buf), &err), NFV_OK);
    assert_string_equal(buf, "qemu:///system");
    assert_int_equal(vm_uri_resolve(&a, "alias:near", buf, sizeof(buf), &err), NFV_E_INVAL);
    /* A row stored by an older vmmgrd with options is not opened. */
    assert_int_equal(vm_uri_effective(&a, "qemu+ssh://h/system?command=/x", buf, sizeof(buf), &err),
                     NFV_E_INVAL);
    assert_string_equal(buf, "");
}

static void test_sha256_vectors(void **state)
{
    static const struct {
        const char *in, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        /* 56 bytes: the padding takes a second block. */
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    uint8_t h[32];
    char hex[65];

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        vm_auth_sha256(v[i].in, strlen(v[i].in), h);
        for (int j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", h[j]);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_token_file_and_roles(void **state)
{
    static struct vm_auth_tokens t;
    const struct vm_auth_token *found;
    struct nfv_err err;
    /* sha256("abc") */
    const char *file =
        "# id role hash\n"
        "ci operator ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        "\n"
        "ro reader e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856 # x\n";

    (void)state;
    assert_int_equal(vm_auth_tokens_parse(file, "tok", &t, &err), NFV_OK);
    assert_int_equal(t.n_items, 2);
    found = vm_auth_tokens_find(&t, "abc");
    assert_non_null(found);
    assert_string_equal(found->id, "ci");
    assert_int_equal(found->role, VM_AUTH_OPERATOR);
    assert_null(vm_auth_tokens_find(&t, "abd"));
    assert_null(vm_auth_tokens_find(&t, ""));
    assert_null(vm_auth_tokens_find(NULL, "abc"));

    /* A plain token is refused and not quoted. */
    assert_int_equal(vm_auth_tokens_parse("s3cret-token\n", "tok", &t, &err), NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "tok:1:"));
    assert_null(strstr(err.msg, "s3cret"));
    assert_int_equal(
        vm_auth_tokens_parse("a boss " /* role */
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
                             "tok", &t, &err),
        NFV_E_PARSE);
    assert_int_equal(vm_auth_tokens_parse("a admin abc\n", "tok", &t, &err), NFV_E_PARSE);
    assert_int_equal(
        vm_auth_tokens_parse(
            "a admin ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
            "a reader ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
            "tok", &t, &err),
        NFV_E_PARSE);
    assert_non_null(strstr(err.msg, "tok:2: token 'a' given twice"));

    assert_int_equal(vm_auth_role_from_string("operator"), VM_AUTH_OPERATOR);
    assert_string_equal(vm_auth_role_to_string(VM_AUTH_ADMIN), "admin");
    assert_int_equal(vm_auth_role_from_string("root"), VM_AUTH__COUNT);
}

static void test_peer_roles(void **state)
{
    struct vm_auth_peers p = {.default_role = VM_AUTH_READER};
    struct nfv_err err;

    (void)state;
    assert_int_equal(vm_auth_peers_set(&p, false, 1001, VM_AUTH_OPERATOR, &err), NFV_OK);
    assert_int_equal(vm_auth_peers_set(&p, true, 500, VM_AUTH_ADMIN, &err), NFV_OK);
    assert_int_equal(vm_auth_peers_set(&p, false, 1002, VM_AUTH_NONE, &err), NFV_OK);
    assert_int_equal(vm_auth_peer_role(&p, 0, 0, 999), VM_AUTH_ADMIN);         /* root */
    assert_int_equal(vm_auth_peer_role(&p, 999, 999, 999), VM_AUTH_ADMIN);     /* vmmgrd's user */
    assert_int_equal(vm_auth_peer_role(&p, 1001, 500, 999), VM_AUTH_OPERATOR); /* uid wins */
    assert_int_equal(vm_auth_peer_role(&p, 1003, 500, 999), VM_AUTH_ADMIN);    /* by gid */
    assert_int_equal(vm_auth_peer_role(&p, 1002, 100, 999), VM_AUTH_NONE);
    assert_int_equal(vm_auth_peer_role(&p, 1004, 100, 999), VM_AUTH_READER); /* default */
}

static void test_label_and_topology_text(void **state)
{
    struct nfv_err err;
    char big[300];

    (void)state;
    assert_int_equal(vm_req_text_check("labels", "Zürich r1", 255, &err), NFV_OK);
    assert_int_equal(vm_req_text_check("labels", "r1\x1b[31m", 255, &err), NFV_E_INVAL);
    assert_int_equal(vm_req_text_check("labels",
                                       "a\xc2\x9b"
                                       "b",
                                       255, &err),
                     NFV_E_INVAL); /* CSI */
    assert_int_equal(vm_req_text_check("labels", "tab\there", 255, &err), NFV_E_INVAL);
    assert_int_equal(vm_req_text_check("labels", "del\x7f", 255, &err), NFV_E_INVAL);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(vm_req_text_check("labels", big, 255, &err), NFV_E_INVAL);

    assert_int_equal(vm_topo_synthetic_check("package:2 numa:2(memory=64GB) core:16 pu:2", &err),
                     NFV_OK);
    assert_int_equal(vm_topo_synthetic_check("pu:2 --><domain/><!--", &err), NFV_E_INVAL);
    assert_int_equal(vm_topo_synthetic_check("pu:2 --", &err), NFV_E_INVAL);
    assert_int_equal(vm_topo_synthetic_check("pu:2\n", &err), NFV_E_INVAL);
    assert_int_equal(vm_topo_synthetic_check("", &err), NFV_E_INVAL);

    assert_int_equal(vm_topo_xml_check("<?xml version=\"1.0\"?>\n<!DOCTYPE topology SYSTEM "
                                       "\"hwloc2.dtd\">\n<topology/>",
                                       &err),
                     NFV_OK);
    assert_int_equal(vm_topo_xml_check("<!DOCTYPE t [<!ENTITY s SYSTEM \"file:///etc/shadow\">]>"
                                       "<topology>&s;</topology>",
                                       &err),
                     NFV_E_INVAL);
    assert_int_equal(
        vm_topo_xml_check("<!DOCTYPE t SYSTEM \"file:///etc/shadow\"><topology/>", &err),
        NFV_E_INVAL);
    assert_int_equal(vm_topo_xml_check("<topology xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                                       "<xi:include href=\"/etc/shadow\"/></topology>",
                                       &err),
                     NFV_E_INVAL);
}

static void test_node_xml_comment_cannot_be_closed(void **state)
{
    struct pin_topo *t = NULL;
    struct nfv_err err;
    char *xml, *end;

    (void)state;
    /* A source stored before the synthetic check existed. */
    assert_int_equal(pin_topo_new_synthetic(1, 1, 2, 1, 0, &t, &err), NFV_OK);
    assert_int_equal(pin_topo_set_source(t, "synthetic:pu:2 --><domain type='test'/><!-- -", &err),
                     NFV_OK);
    xml = vm_topo_node_xml(t, 1024);
    assert_non_null(xml);
    end = strstr(xml, "-->");
    assert_non_null(end);
    /* The only "-->" closes vmmgrd's own comment; nothing else became markup. */
    assert_null(strstr(end + 3, "-->"));
    assert_null(strstr(xml, "<domain"));
    assert_null(strstr(xml, "--->"));
    free(xml);
    pin_topo_unref(t);
}

static void test_config_security_keys(void **state)
{
    static struct vm_config c;
    struct nfv_err err;

    (void)state;
    vm_config_defaults(&c);
    assert_int_equal(c.max_connections, 256);
    assert_int_equal(c.max_connections_per_ip, 16);
    assert_int_equal(c.http_timeout_s, 15);
    assert_int_equal(c.unix_peers.default_role, VM_AUTH_READER);
    assert_int_equal(vm_config_parse(&c,
                                     "uri_alias.far = qemu+ssh://h/system?keyfile=/etc/vmmgr/k\n"
                                     "unix_uid.1001 = operator\n"
                                     "unix_gid.50 = admin\n"
                                     "unix_default_role = none\n"
                                     "listen_tcp = 127.0.0.1:7000\n"
                                     "api_token_file = /etc/vmmgr/tokens\n"
                                     "allow_plain_tcp = yes\n",
                                     "f.conf", &err),
                     NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_OK);
    assert_string_equal(vm_uri_aliases_get(&c.uri_aliases, "far"),
                        "qemu+ssh://h/system?keyfile=/etc/vmmgr/k");
    assert_int_equal(vm_auth_peer_role(&c.unix_peers, 1001, 7, 0), VM_AUTH_OPERATOR);
    assert_int_equal(vm_auth_peer_role(&c.unix_peers, 1002, 50, 0), VM_AUTH_ADMIN);
    assert_int_equal(vm_auth_peer_role(&c.unix_peers, 1002, 7, 0), VM_AUTH_NONE);

    /* Plain TCP off loopback, or not allowed, or TLS half configured. */
    assert_int_equal(vm_config_set(&c, "listen_tcp", "0.0.0.0:7000", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "loopback"));
    assert_int_equal(vm_config_set(&c, "listen_tcp", "127.0.0.1:7000", &err), NFV_OK);
    assert_int_equal(vm_config_set(&c, "allow_plain_tcp", "no", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "tls_cert"));
    assert_int_equal(vm_config_set(&c, "tls_cert", "/etc/vmmgr/cert.pem", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_E_INVAL);
    assert_non_null(strstr(err.msg, "'tls_key'"));
    assert_int_equal(vm_config_set(&c, "tls_key", "/etc/vmmgr/key.pem", &err), NFV_OK);
    assert_int_equal(vm_config_finish(&c, &err), NFV_OK);

    assert_int_equal(vm_config_set(&c, "uri_alias.x", "qemu+ssh://h/system?bogus=1", &err),
                     NFV_E_INVAL);
    assert_int_equal(vm_config_set(&c, "unix_uid.x", "admin", &err), NFV_E_INVAL);
    assert_int_equal(vm_config_set(&c, "unix_uid.5", "root", &err), NFV_E_INVAL);
    assert_int_equal(vm_config_set(&c, "allow_plain_tcp", "maybe", &err), NFV_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_allow_list),
        cmocka_unit_test(test_uri_config_aliases),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_token_file_and_roles),
        cmocka_unit_test(test_peer_roles),
        cmocka_unit_test(test_label_and_topology_text),
        cmocka_unit_test(test_node_xml_comment_cannot_be_closed),
        cmocka_unit_test(test_config_security_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
