/*
 * fuzz_shim_spec.c - vmmgr-shim's request parsers (openstack-shim, pure):
 * flavor extra specs and server metadata (shim_spec.h) and the microversion
 * headers (shim_mv.h).
 *
 * Input: JSON extra specs, then '\n' and JSON server metadata; the same
 * bytes are also given to shim_mv_negotiate as both header values.
 * Properties: an accepted body names the VM and its vCPU count; its NICs
 * are bridge:NAME or network:NAME with a plain name (nothing a caller
 * could use to name a file, a program or a URI option); a shared vCPU list
 * holds digits and commas; shim_spec_check (flavor time, no host) accepts
 * whatever shim_spec_build accepts with a host; an accepted role is act or
 * sby; a negotiated version is within [2.1, max]; a refusal has a message.
 */
#include <ctype.h>

#include "fuzz_util.h"
#include "shim/shim_mv.h"
#include "shim/shim_spec.h"

static void check_body(const json_t *body, unsigned vcpus)
{
    const json_t *nics = json_object_get(body, "nics"), *n;
    const char *shared = json_string_value(json_object_get(body, "shared_vcpus"));
    size_t i;

    FUZZ_CHECK(json_string_value(json_object_get(body, "name")) != NULL);
    FUZZ_CHECK(json_integer_value(json_object_get(body, "vcpus")) == (json_int_t)vcpus);
    json_array_foreach(nics, i, n)
    {
        const char *v = json_string_value(n);
        const char *name;
        FUZZ_CHECK(v && (strncmp(v, "bridge:", 7) == 0 || strncmp(v, "network:", 8) == 0));
        name = strchr(v, ':') + 1;
        FUZZ_CHECK(*name && isalnum((unsigned char)*name));
        for (const char *p = name; *p; p++)
            FUZZ_CHECK(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_');
    }
    if (shared)
        FUZZ_CHECK(strspn(shared, "0123456789,") == strlen(shared));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t k = fuzz_split(data, size, '\n');
    char *text = fuzz_strndup(data, size);
    json_t *specs = json_loadb((const char *)data, k, 0, NULL);
    json_t *md = k < size ? json_loadb((const char *)data + k + 1, size - k - 1, 0, NULL) : NULL;
    unsigned vcpus = size ? 1 + data[0] % 8 : 1;
    struct shim_spec_in in = {.vm_name = "vm", .vcpus = vcpus, .ram_mb = 512, .host = "h1"};
    struct nfv_err err = {0};
    json_t *body = NULL;
    const char *role, *scope;
    char msg[256];
    int mv = 0;
    enum shim_mv_result r;

    in.extra_specs = specs;
    if (shim_spec_build(&in, &body, &err) == NFV_OK) {
        check_body(body, vcpus);
        FUZZ_CHECK(shim_spec_check(specs, vcpus, &err) == NFV_OK);
        json_decref(body);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    if (json_is_object(md)) {
        if (shim_spec_metadata(md, &role, &scope, &err) == NFV_OK) {
            FUZZ_CHECK(!role || strcmp(role, "act") == 0 || strcmp(role, "sby") == 0);
            FUZZ_CHECK(!scope || shim_spec_scope_check("s", scope, NULL) == NFV_OK);
        } else {
            FUZZ_CHECK(err.msg[0] != '\0');
        }
    }
    r = shim_mv_negotiate(text, text, &mv, msg, sizeof(msg));
    if (r == SHIM_MV_OK)
        FUZZ_CHECK(mv >= SHIM_MV_MIN && mv <= SHIM_MV_MAX);
    else
        FUZZ_CHECK(msg[0] != '\0');
    json_decref(specs);
    json_decref(md);
    free(text);
    return 0;
}
