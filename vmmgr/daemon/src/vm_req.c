/*
 * vm_req.c - native API request validation (see vm_req.h).
 *
 * Every check names the field in quotes so the CLI can print one useful line;
 * nothing here allocates except the parsed JSON document.
 */
#include "vm/vm_req.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_sw.h"
#include "vm/vm_topo.h"
#include "vm/vm_uri.h"

enum nfv_code vm_req_name_check(const char *field, const char *name, struct nfv_err *err)
{
    size_t len = strlen(name);

    if (len == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must not be empty", field);
    if (len >= VM_NAME_MAX)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': longer than %d characters", field, VM_NAME_MAX - 1);
    if (!isalnum((unsigned char)name[0]))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' must start with a letter or digit", field,
                       name);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' may only hold letters, digits, '.-_'",
                           field, name);
    }
    return NFV_OK;
}

enum nfv_code vm_req_parse_object(const char *body, size_t size, json_t **ret, struct nfv_err *err)
{
    json_error_t jerr;
    json_t *v;
    size_t i = 0;

    while (i < size && isspace((unsigned char)body[i]))
        i++;
    if (i == size) {
        *ret = json_object();
        return *ret ? NFV_OK : NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    v = json_loadb(body, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return NFV_ERR(err, NFV_E_INVAL, "'body': malformed JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return NFV_ERR(err, NFV_E_INVAL, "'body': must be a JSON object");
    }
    *ret = v;
    return NFV_OK;
}

enum nfv_code vm_req_check_fields(const json_t *obj, const char *const *allowed,
                                  struct nfv_err *err)
{
    const char *key;
    json_t *value;

    json_object_foreach((json_t *)obj, key, value)
    {
        const char *const *a;
        (void)value;
        for (a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                break;
        if (!*a)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown field", key);
    }
    return NFV_OK;
}

enum nfv_code vm_req_get_str(const json_t *obj, const char *field, bool is_required,
                             const char **ret, struct nfv_err *err)
{
    const json_t *v = json_object_get(obj, field);

    if (!v || json_is_null(v)) {
        if (is_required)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': is required", field);
        return NFV_OK;
    }
    if (!json_is_string(v))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must be a string", field);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must not contain NUL", field);
    *ret = json_string_value(v);
    return NFV_OK;
}

enum nfv_code vm_req_get_uint(const json_t *obj, const char *field, bool is_required, uint64_t min,
                              uint64_t max, uint64_t *ret, struct nfv_err *err)
{
    const json_t *v = json_object_get(obj, field);
    json_int_t i;

    if (!v || json_is_null(v)) {
        if (is_required)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': is required", field);
        return NFV_OK;
    }
    if (!json_is_integer(v))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must be an integer", field);
    i = json_integer_value(v);
    if (i < 0)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': must not be negative", field);
    if ((uint64_t)i < min || (uint64_t)i > max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %lld is out of range (%llu..%llu)", field,
                       (long long)i, (unsigned long long)min, (unsigned long long)max);
    *ret = (uint64_t)i;
    return NFV_OK;
}

static const char *const topo_names[VM_TOPO__COUNT] = {
    [VM_TOPO_LIVE] = "live",
    [VM_TOPO_SYNTHETIC] = "synthetic",
    [VM_TOPO_XML] = "hwloc_xml",
};

const char *vm_topo_source_to_string(enum vm_topo_source s)
{
    return (unsigned)s < VM_TOPO__COUNT ? topo_names[s] : "?";
}

enum vm_topo_source vm_topo_source_from_string(const char *s)
{
    for (int i = 0; i < VM_TOPO__COUNT; i++)
        if (s && strcmp(topo_names[i], s) == 0)
            return (enum vm_topo_source)i;
    return VM_TOPO__COUNT;
}

bool vm_uri_is_test(const char *uri)
{
    return strncmp(uri, "test:", 5) == 0 || strncmp(uri, "test+", 5) == 0;
}

enum nfv_code vm_req_text_check(const char *field, const char *text, size_t max,
                                struct nfv_err *err)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text);

    if (len > max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': longer than %zu bytes", field, max);
    for (size_t i = 0; i < len; i++) {
        /* C0 controls and DEL; C1 controls are U+0080..U+009F, 0xC2 0x80..0x9F
         * in UTF-8 (jansson has already checked the encoding). */
        if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': control character at byte %zu", field, i + 1);
    }
    return NFV_OK;
}

enum nfv_code vm_req_host_spec(const json_t *body, struct vm_host_spec *ret, struct nfv_err *err)
{
    static const char *const fields[] = {"name",        "uri",       "synthetic", "hwloc_xml",
                                         "reserved",    "dedicated", "labels",    "bridge",
                                         "switch_port", "bmc",       NULL};
    struct vm_host_spec s = {0};
    const char *synthetic = NULL, *xml = NULL;
    struct pin_cpuset dummy;
    const char *key;
    json_t *v;

    if (vm_req_check_fields(body, fields, err) != NFV_OK ||
        vm_req_get_str(body, "name", true, &s.name, err) != NFV_OK ||
        vm_req_name_check("name", s.name, err) != NFV_OK ||
        vm_req_get_str(body, "uri", true, &s.uri, err) != NFV_OK ||
        vm_req_get_str(body, "synthetic", false, &synthetic, err) != NFV_OK ||
        vm_req_get_str(body, "hwloc_xml", false, &xml, err) != NFV_OK ||
        vm_req_get_str(body, "reserved", false, &s.reserved, err) != NFV_OK ||
        vm_req_get_str(body, "dedicated", false, &s.dedicated, err) != NFV_OK ||
        vm_req_get_str(body, "bridge", false, &s.bridge, err) != NFV_OK ||
        vm_req_get_str(body, "switch_port", false, &s.switch_port, err) != NFV_OK)
        return NFV_E_INVAL;
    /* Issue 15: names OVS takes (they reach the domain XML and the switch). */
    if ((s.bridge && vm_sw_name_check(s.bridge, "bridge", err) != NFV_OK) ||
        (s.switch_port && vm_sw_name_check(s.switch_port, "switch_port", err) != NFV_OK))
        return NFV_E_INVAL;
    if (strlen(s.uri) >= VM_URI_MAX)
        return NFV_ERR(err, NFV_E_INVAL, "'uri': longer than %d characters", VM_URI_MAX - 1);
    if (vm_uri_check_api(s.uri, err) != NFV_OK)
        return NFV_E_INVAL;
    if (synthetic && xml)
        return NFV_ERR(err, NFV_E_INVAL, "'synthetic': give either synthetic or hwloc_xml");
    /* Before hwloc parses them or a file holds them (vm_topo.h). */
    if (synthetic && vm_topo_synthetic_check(synthetic, err) != NFV_OK)
        return NFV_E_INVAL;
    if (xml && vm_topo_xml_check(xml, err) != NFV_OK)
        return NFV_E_INVAL;
    s.topo_source = synthetic ? VM_TOPO_SYNTHETIC : xml ? VM_TOPO_XML : VM_TOPO_LIVE;
    s.topo = synthetic ? synthetic : xml;
    /* A simulated host has no hardware to look at: its topology must be given. */
    if (vm_uri_is_test(s.uri) && s.topo_source == VM_TOPO_LIVE)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'synthetic': a test:// host needs a synthetic or hwloc_xml topology");
    if (s.reserved && pin_cpuset_parse(s.reserved, PIN_MAX_PUS, true, &dummy, err) != NFV_OK) {
        nfv_err_prefix(err, "'reserved'");
        return NFV_E_INVAL;
    }
    if (s.dedicated && pin_cpuset_parse(s.dedicated, PIN_MAX_PUS, false, &dummy, err) != NFV_OK) {
        nfv_err_prefix(err, "'dedicated'");
        return NFV_E_INVAL;
    }
    s.bmc = json_object_get(body, "bmc");
    if (s.bmc && !json_is_object(s.bmc) && !json_is_null(s.bmc))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'bmc': must be an object {\"address\", \"user\", \"password\"}");
    v = json_object_get(body, "labels");
    if (v && !json_is_null(v)) {
        json_t *lv;
        if (!json_is_object(v))
            return NFV_ERR(err, NFV_E_INVAL, "'labels': must be an object of strings");
        if (json_object_size(v) > VM_LABELS_MAX)
            return NFV_ERR(err, NFV_E_INVAL, "'labels': more than %d labels", VM_LABELS_MAX);
        json_object_foreach(v, key, lv)
        {
            /* The key is checked first: it is quoted in the value's message. */
            if (vm_req_name_check("labels", key, err) != NFV_OK)
                return NFV_E_INVAL;
            if (!json_is_string(lv))
                return NFV_ERR(err, NFV_E_INVAL, "'labels.%s': must be a string", key);
            if (strlen(json_string_value(lv)) != json_string_length(lv))
                return NFV_ERR(err, NFV_E_INVAL, "'labels.%s': must not contain NUL", key);
            if (vm_req_text_check("labels", json_string_value(lv), VM_LABEL_VALUE_MAX, err) !=
                NFV_OK) {
                nfv_err_prefix(err, "'labels.%s'", key);
                return NFV_E_INVAL;
            }
        }
        s.labels = v;
    }
    *ret = s;
    return NFV_OK;
}
