/*
 * fuzz_vm_req.c - vmmgrd's request-body validation (vm_req.h, the pure part
 * of the native API): vm_req_parse_object on the raw body, then the host-add
 * validation (vm_req_host_spec) and the generic field getters the VM routes
 * use (name check, strings, bounded numbers, unknown-field check).
 *
 * Properties: a non-object body or malformed JSON is refused with a
 * message; an accepted host spec has a valid name, a URI of a supported
 * scheme (test:// ones with a topology), and CPU lists that parse; a name
 * that passes vm_req_name_check has 1..63 allowed characters.
 * Issue 10: an accepted URI carries no query, fragment, %-escape, control
 * character or leading '-' host, and a test:// one is test:/// or
 * test:///default (no file); an accepted synthetic string cannot close an
 * XML comment or open markup; accepted label values hold no control
 * character and at most 255 bytes. The same URI text also goes straight to
 * vm_uri_check_api and, as a config alias, to vm_uri_check_config (no
 * crash, a message on refusal).
 */
#include <ctype.h>
#include <stdbool.h>

#include "fuzz_util.h"
#include "pin/cpuset.h"
#include "vm/vm_req.h"
#include "vm/vm_uri.h"

static void fuzz_check_uri(const char *uri)
{
    FUZZ_CHECK(!strchr(uri, '%'));
    if (vm_uri_is_alias(uri))
        return;
    FUZZ_CHECK(!strchr(uri, '?') && !strchr(uri, '#'));
    for (const char *c = uri; *c; c++)
        FUZZ_CHECK((unsigned char)*c > ' ' && (unsigned char)*c < 0x7f);
    if (strncmp(uri, "test:", 5) == 0)
        FUZZ_CHECK(strcmp(uri, "test:///") == 0 || strcmp(uri, "test:///default") == 0);
    if (strncmp(uri, "qemu+ssh://", 11) == 0 || strncmp(uri, "qemu+tls://", 11) == 0)
        FUZZ_CHECK(uri[11] != '-' && strstr(uri, "/system") != NULL);
    FUZZ_CHECK(strncmp(uri, "qemu+tcp", 8) != 0);
}

static void fuzz_check_name(const char *name)
{
    size_t n = strlen(name);
    FUZZ_CHECK(n >= 1 && n <= 63);
    FUZZ_CHECK(isalnum((unsigned char)name[0]));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(isalnum((unsigned char)name[i]) || strchr("._-", name[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vm_fields[] = {"name", "vcpus", "memory_mib", "pins",
                                            "host", "group", "role",       NULL};
    struct nfv_err err;
    json_t *body = NULL;
    struct vm_host_spec hs;
    struct pin_cpuset set;

    if (size > 65536)
        return 0;
    if (vm_req_parse_object((const char *)data, size, &body, &err) != NFV_OK) {
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);
        return 0;
    }
    FUZZ_CHECK(json_is_object(body));
    if (vm_req_host_spec(body, &hs, &err) == NFV_OK) {
        fuzz_check_name(hs.name);
        FUZZ_CHECK(hs.uri && hs.topo_source < VM_TOPO__COUNT);
        fuzz_check_uri(hs.uri);
        if (hs.topo_source == VM_TOPO_SYNTHETIC)
            FUZZ_CHECK(!strpbrk(hs.topo, "<>&\"'") && !strstr(hs.topo, "--"));
        if (hs.labels) {
            const char *k;
            json_t *lv;
            json_object_foreach((json_t *)hs.labels, k, lv)
            {
                const unsigned char *p = (const unsigned char *)json_string_value(lv);
                FUZZ_CHECK(strlen((const char *)p) <= VM_LABEL_VALUE_MAX);
                for (; *p; p++)
                    FUZZ_CHECK(*p >= 0x20 && *p != 0x7f && !(p[0] == 0xc2 && p[1] < 0xa0));
            }
        }
        FUZZ_CHECK(!vm_uri_is_test(hs.uri) || hs.topo_source != VM_TOPO_LIVE);
        FUZZ_CHECK(vm_topo_source_to_string(hs.topo_source));
        if (hs.reserved)
            FUZZ_CHECK(pin_cpuset_parse(hs.reserved, PIN_MAX_PUS, true, &set, NULL) == NFV_OK);
        if (hs.dedicated)
            FUZZ_CHECK(pin_cpuset_parse(hs.dedicated, PIN_MAX_PUS, false, &set, NULL) == NFV_OK);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }

    const char *s = NULL;
    uint64_t u = 7;
    if (vm_req_get_str(body, "uri", false, &s, &err) == NFV_OK && s) {
        if (vm_uri_check_api(s, &err) == NFV_OK)
            fuzz_check_uri(s);
        else
            FUZZ_CHECK(err.msg[0] != '\0');
        if (vm_uri_check_config("a", s, NULL, NULL, &err) != NFV_OK)
            FUZZ_CHECK(err.msg[0] != '\0');
        s = NULL;
    }
    if (vm_req_get_str(body, "name", false, &s, &err) == NFV_OK && s &&
        vm_req_name_check("name", s, &err) == NFV_OK)
        fuzz_check_name(s);
    if (vm_req_get_uint(body, "vcpus", false, 1, 4096, &u, &err) == NFV_OK)
        FUZZ_CHECK(u == 7 || (u >= 1 && u <= 4096));
    if (vm_req_check_fields(body, vm_fields, &err) != NFV_OK)
        FUZZ_CHECK(err.msg[0]);
    json_decref(body);
    return 0;
}
