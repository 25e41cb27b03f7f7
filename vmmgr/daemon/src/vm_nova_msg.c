/*
 * vm_nova_msg.c - the pure half of vmmgrd's Nova client (vm_nova.h): the
 * Nova config file, Keystone v3 and Nova request bodies, answer parsers and
 * the mapping of Nova's errors to nfv codes.
 *
 * No I/O and no clock (Keystone's expiry is parsed, the caller compares it
 * with its own clock). The libcurl side is vm_nova.c, the host driver
 * vm_hv_nova.c. tests/unit/vmmgr/test_vm_nova.c checks everything here
 * against exchanges captured from a real Keystone and Nova 26.2.2
 * (the .http files in tests/data/vmmgr/nova/).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_config.h"
#include "vm/vm_nova.h"

/* ---- config ---- */

static bool host_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= VM_NOVA_NAME || !isalnum((unsigned char)s[0]))
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            return false;
    return true;
}

bool vm_nova_uri_is(const char *uri)
{
    return uri && strncmp(uri, VM_NOVA_URI_PREFIX, strlen(VM_NOVA_URI_PREFIX)) == 0 &&
           host_name_ok(uri + strlen(VM_NOVA_URI_PREFIX));
}

const struct vm_nova_compute *vm_nova_config_compute(const struct vm_nova_config *c,
                                                     const char *host)
{
    for (unsigned i = 0; i < c->n_computes; i++)
        if (strcmp(c->computes[i].host, host) == 0)
            return &c->computes[i];
    return NULL;
}

#define NC(field)                                                                                  \
    offsetof(struct vm_nova_config, field), sizeof(((struct vm_nova_config *)0)->field)

static const struct {
    const char *name;
    size_t offset, size;
} str_keys[] = {
    {"auth_url", NC(auth_url)},
    {"username", NC(username)},
    {"password", NC(password)},
    {"project_name", NC(project_name)},
    {"user_domain_name", NC(user_domain)},
    {"project_domain_name", NC(project_domain)},
    {"region_name", NC(region)},
    {"interface", NC(interface)},
    {"compute_url", NC(compute_url)},
    {"image", NC(image)},
};

static const struct {
    const char *name;
    size_t offset;
    unsigned min, max;
} uint_keys[] = {
    {"flavor_disk_gb", offsetof(struct vm_nova_config, flavor_disk_gb), 0, 10000},
    {"boot_timeout_s", offsetof(struct vm_nova_config, boot_timeout_s), 5, 3600},
    {"delete_timeout_s", offsetof(struct vm_nova_config, delete_timeout_s), 5, 3600},
    {"http_timeout_s", offsetof(struct vm_nova_config, http_timeout_s), 1, 600},
};

static bool is_http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static enum nfv_code set_key(struct vm_nova_config *c, const char *key, const char *value,
                             struct nfv_err *err)
{
    char *base = (char *)c;

    for (size_t i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]); i++) {
        if (strcmp(str_keys[i].name, key) != 0)
            continue;
        if (strlen(value) >= str_keys[i].size)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': longer than %zu bytes", key,
                           str_keys[i].size - 1);
        if ((strcmp(key, "auth_url") == 0 || strcmp(key, "compute_url") == 0) && *value &&
            !is_http_url(value))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': not an http:// or https:// URL", key);
        if (strcmp(key, "interface") == 0 && strcmp(value, "public") != 0 &&
            strcmp(value, "internal") != 0 && strcmp(value, "admin") != 0)
            return NFV_ERR(err, NFV_E_INVAL, "'interface': one of public, internal, admin");
        memcpy(base + str_keys[i].offset, value, strlen(value) + 1);
        return NFV_OK;
    }
    for (size_t i = 0; i < sizeof(uint_keys) / sizeof(uint_keys[0]); i++) {
        char *end;
        unsigned long v;
        if (strcmp(uint_keys[i].name, key) != 0)
            continue;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (!isdigit((unsigned char)value[0]) || *end || errno || v < uint_keys[i].min ||
            v > uint_keys[i].max)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': not a number in %u..%u", key, uint_keys[i].min,
                           uint_keys[i].max);
        *(unsigned *)(void *)(base + uint_keys[i].offset) = (unsigned)v;
        return NFV_OK;
    }
    if (strncmp(key, "libvirt.", 8) == 0 || strncmp(key, "shadow.", 7) == 0) {
        bool is_shadow = key[0] == 's';
        const char *host = key + (is_shadow ? 7 : 8);
        struct vm_nova_compute *e;
        if (!host_name_ok(host))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'%s': a compute host name is 1..63 letters, digits or '._-'", key);
        if (!*value || strlen(value) >= sizeof(c->computes[0].uri))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': needs a libvirt URI or alias:NAME", key);
        if (vm_nova_config_compute(c, host))
            return NFV_ERR(err, NFV_E_INVAL, "'%s': compute host '%s' is mapped twice", key, host);
        if (c->n_computes == VM_NOVA_COMPUTES_MAX)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': more than %d compute hosts", key,
                           VM_NOVA_COMPUTES_MAX);
        e = &c->computes[c->n_computes++];
        snprintf(e->host, sizeof(e->host), "%s", host);
        snprintf(e->uri, sizeof(e->uri), "%s", value);
        e->is_shadow = is_shadow;
        return NFV_OK;
    }
    return NFV_ERR(err, NFV_E_INVAL, "'%s': unknown key", key);
}

static enum nfv_code set_cb(void *opaque, const char *key, const char *value, struct nfv_err *err)
{
    return set_key(opaque, key, value, err);
}

enum nfv_code vm_nova_config_parse(const char *text, const char *path, struct vm_nova_config *ret,
                                   struct nfv_err *err)
{
    struct vm_nova_config *c = ret;
    enum nfv_code code;

    memset(c, 0, sizeof(*c));
    snprintf(c->user_domain, sizeof(c->user_domain), "Default");
    snprintf(c->project_domain, sizeof(c->project_domain), "Default");
    snprintf(c->interface, sizeof(c->interface), "public");
    c->flavor_disk_gb = 1;
    c->boot_timeout_s = 300;
    c->delete_timeout_s = 120;
    c->http_timeout_s = 30;
    code = vm_config_lines(text ? text : "", path, set_cb, c, err);
    if (code == NFV_E_PARSE)
        code = NFV_E_INVAL;
    if (code != NFV_OK)
        return code;
    if (!c->auth_url[0] || !c->username[0] || !c->password[0] || !c->project_name[0])
        return NFV_ERR(err, NFV_E_INVAL, "%s: needs auth_url, username, password and project_name",
                       path);
    if (!c->image[0])
        return NFV_ERR(err, NFV_E_INVAL, "%s: needs 'image' (the Glance image Nova boots)", path);
    return NFV_OK;
}

/* ---- Keystone ---- */

json_t *vm_nova_auth_body_new(const struct vm_nova_config *c)
{
    return json_pack("{s:{s:{s:[s], s:{s:{s:s, s:{s:s}, s:s}}}, s:{s:{s:s, s:{s:s}}}}}", "auth",
                     "identity", "methods", "password", "password", "user", "name", c->username,
                     "domain", "name", c->user_domain, "password", c->password, "scope", "project",
                     "name", c->project_name, "domain", "name", c->project_domain);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's formula). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, unsigned n, unsigned *ret)
{
    unsigned v = 0;

    for (unsigned i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *ret = v;
    return true;
}

int64_t vm_nova_time_parse(const char *iso)
{
    unsigned y, mo, d, h, mi, s;

    if (!iso || strlen(iso) < 19 || !digits(iso, 4, &y) || iso[4] != '-' ||
        !digits(iso + 5, 2, &mo) || iso[7] != '-' || !digits(iso + 8, 2, &d) || iso[10] != 'T' ||
        !digits(iso + 11, 2, &h) || iso[13] != ':' || !digits(iso + 14, 2, &mi) || iso[16] != ':' ||
        !digits(iso + 17, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    /* Keystone writes UTC ("Z" or no zone); anything else is refused. */
    iso += 19;
    if (*iso == '.')
        for (iso++; isdigit((unsigned char)*iso); iso++)
            ;
    if (*iso && strcmp(iso, "Z") != 0 && strcmp(iso, "+00:00") != 0)
        return -1;
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* The URL of service @type's endpoint on @interface (and @region). */
static bool catalog_url(json_t *catalog, const char *type, const char *interface,
                        const char *region, char *buf, size_t buf_size)
{
    size_t i, j;
    json_t *svc, *ep;

    json_array_foreach(catalog, i, svc)
    {
        const char *t = json_string_value(json_object_get(svc, "type"));
        if (!t || strcmp(t, type) != 0)
            continue;
        json_array_foreach(json_object_get(svc, "endpoints"), j, ep)
        {
            const char *itf = json_string_value(json_object_get(ep, "interface"));
            const char *url = json_string_value(json_object_get(ep, "url"));
            const char *rg = json_string_value(json_object_get(ep, "region_id"));
            if (!rg)
                rg = json_string_value(json_object_get(ep, "region"));
            if (!itf || !url || strcmp(itf, interface) != 0)
                continue;
            if (region && region[0] && (!rg || strcmp(rg, region) != 0))
                continue;
            if (strlen(url) >= buf_size)
                return false;
            snprintf(buf, buf_size, "%s", url);
            /* Nova's catalog URL may end in "/" or carry the project id. */
            while (strlen(buf) > 1 && buf[strlen(buf) - 1] == '/')
                buf[strlen(buf) - 1] = '\0';
            return true;
        }
    }
    return false;
}

enum nfv_code vm_nova_token_parse(const char *body, const char *interface, const char *region,
                                  struct vm_nova_token_info *ret, struct nfv_err *err)
{
    json_t *root = json_loads(body ? body : "", 0, NULL);
    json_t *token = json_object_get(root, "token");
    const char *exp = json_string_value(json_object_get(token, "expires_at"));
    enum nfv_code code = NFV_OK;

    memset(ret, 0, sizeof(*ret));
    if (!json_is_object(token))
        code = NFV_ERR(err, NFV_E_PARSE, "Keystone's token answer has no 'token' object");
    else if ((ret->expires_s = vm_nova_time_parse(exp)) < 0)
        code = NFV_ERR(err, NFV_E_PARSE, "Keystone's token answer has no valid 'expires_at'");
    else if (!catalog_url(json_object_get(token, "catalog"), "compute", interface, region,
                          ret->compute_url, sizeof(ret->compute_url)))
        code = NFV_ERR(err, NFV_E_PARSE,
                       "Keystone's catalog has no 'compute' endpoint on interface '%s'", interface);
    else
        catalog_url(json_object_get(token, "catalog"), "image", interface, region, ret->image_url,
                    sizeof(ret->image_url));
    json_decref(root);
    return code;
}

/* ---- Nova bodies ---- */

void vm_nova_flavor_name(unsigned vcpus, uint64_t memory_mib, char *buf, size_t buf_size)
{
    snprintf(buf, buf_size, "vmmgr-%uc-%" PRIu64 "m", vcpus, memory_mib);
}

json_t *vm_nova_flavor_body_new(const char *name, unsigned vcpus, uint64_t memory_mib,
                                unsigned disk_gb)
{
    /* The id is the name: "GET /flavors/vmmgr-2c-1024m" finds it again. */
    return json_pack("{s:{s:s, s:s, s:i, s:I, s:i}}", "flavor", "name", name, "id", name, "vcpus",
                     (int)vcpus, "ram", (json_int_t)memory_mib, "disk", (int)disk_gb);
}

json_t *vm_nova_server_body_new(const struct vm_nova_boot *b)
{
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}}", "server", "name", b->name,
                     "imageRef", b->image_id, "flavorRef", b->flavor_id, "networks", "none", "host",
                     b->host, "metadata", "vmmgr_uuid", b->vmmgr_uuid, "vmmgr_vm", b->name);
}

static void copy_str(json_t *obj, const char *key, char *buf, size_t buf_size)
{
    const char *s = json_string_value(json_object_get(obj, key));

    snprintf(buf, buf_size, "%s", s ? s : "");
}

enum nfv_code vm_nova_server_parse(json_t *obj, struct vm_nova_server *ret, struct nfv_err *err)
{
    json_t *meta, *fault;

    memset(ret, 0, sizeof(*ret));
    if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "id")))
        return NFV_ERR(err, NFV_E_PARSE, "Nova's server answer has no 'id'");
    copy_str(obj, "id", ret->id, sizeof(ret->id));
    copy_str(obj, "name", ret->name, sizeof(ret->name));
    copy_str(obj, "status", ret->status, sizeof(ret->status));
    copy_str(obj, "OS-EXT-STS:task_state", ret->task_state, sizeof(ret->task_state));
    copy_str(obj, "OS-EXT-SRV-ATTR:host", ret->host, sizeof(ret->host));
    copy_str(obj, "OS-EXT-SRV-ATTR:instance_name", ret->instance_name, sizeof(ret->instance_name));
    meta = json_object_get(obj, "metadata");
    copy_str(meta, "vmmgr_uuid", ret->vmmgr_uuid, sizeof(ret->vmmgr_uuid));
    fault = json_object_get(obj, "fault");
    if (json_is_object(fault))
        ret->fault_code = (int)json_integer_value(json_object_get(fault, "code"));
    return NFV_OK;
}

enum nfv_code vm_nova_servers_parse(json_t *body, struct vm_nova_server **ret, size_t *ret_n,
                                    struct nfv_err *err)
{
    json_t *arr = json_object_get(body, "servers");
    struct vm_nova_server *v;
    size_t i, n;
    json_t *s;

    if (!json_is_array(arr))
        return NFV_ERR(err, NFV_E_PARSE, "Nova's server list has no 'servers' array");
    n = json_array_size(arr);
    v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, s)
    {
        if (vm_nova_server_parse(s, &v[i], err) != NFV_OK) {
            free(v);
            return NFV_E_PARSE;
        }
    }
    *ret = v;
    *ret_n = n;
    return NFV_OK;
}

enum nfv_code vm_nova_hypervisors_parse(json_t *body, struct vm_nova_hypervisor **ret,
                                        size_t *ret_n, struct nfv_err *err)
{
    json_t *arr = json_object_get(body, "hypervisors");
    struct vm_nova_hypervisor *v;
    size_t i, n;
    json_t *h;

    if (!json_is_array(arr))
        return NFV_ERR(err, NFV_E_PARSE, "Nova's hypervisor list has no 'hypervisors' array");
    n = json_array_size(arr);
    v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, h)
    {
        const char *st = json_string_value(json_object_get(h, "state"));
        const char *ss = json_string_value(json_object_get(h, "status"));
        copy_str(h, "hypervisor_hostname", v[i].hostname, sizeof(v[i].hostname));
        copy_str(json_object_get(h, "service"), "host", v[i].host, sizeof(v[i].host));
        copy_str(h, "hypervisor_type", v[i].type, sizeof(v[i].type));
        v[i].is_up = st && strcmp(st, "up") == 0;
        v[i].is_enabled = ss && strcmp(ss, "enabled") == 0;
        v[i].vcpus = (unsigned)json_integer_value(json_object_get(h, "vcpus"));
        v[i].memory_mb = (uint64_t)json_integer_value(json_object_get(h, "memory_mb"));
        if (!v[i].host[0]) {
            free(v);
            return NFV_ERR(err, NFV_E_PARSE, "Nova's hypervisor %zu has no 'service.host'", i);
        }
    }
    *ret = v;
    *ret_n = n;
    return NFV_OK;
}

/* ---- errors ---- */

enum nfv_code vm_nova_error(long http_status, json_t *body, const char *what, char *ret_detail,
                            size_t detail_size, struct nfv_err *err)
{
    enum nfv_code code;
    const char *kind = NULL;
    const char *msg = NULL;
    const char *key;
    json_t *val;

    /* Nova: {"itemNotFound": {"code", "message"}}; Keystone: {"error": {...}}. */
    json_object_foreach(body, key, val)
    {
        if (json_is_object(val)) {
            kind = key;
            msg = json_string_value(json_object_get(val, "message"));
            if (strcmp(key, "error") == 0 && json_is_string(json_object_get(val, "title")))
                kind = json_string_value(json_object_get(val, "title"));
            break;
        }
    }
    if (ret_detail && detail_size)
        snprintf(ret_detail, detail_size, "%s", msg ? msg : "");
    switch (http_status) {
    case 400:
        code = NFV_E_INVAL;
        break;
    case 401:
    case 403:
        code = NFV_E_PERM;
        break;
    case 404:
        code = NFV_E_NOENT;
        break;
    case 409:
        code = NFV_E_EXIST;
        break;
    case 413:
    case 429:
        code = NFV_E_NOCAP;
        break;
    case 503:
    case 504:
        code = NFV_E_UNREACHABLE;
        break;
    default:
        code = NFV_E_HYPERVISOR;
        break;
    }
    /* The kind is a short identifier of Nova's ("itemNotFound"); only
     * letters pass, so nothing of the caller-controlled text leaks. */
    if (kind) {
        for (const char *c = kind; *c; c++)
            if (!isalpha((unsigned char)*c) && *c != ' ') {
                kind = NULL;
                break;
            }
    }
    if (kind && strlen(kind) < 40)
        return NFV_ERR(err, code, "%s: Nova answered HTTP %ld (%s)", what, http_status, kind);
    return NFV_ERR(err, code, "%s: Nova answered HTTP %ld", what, http_status);
}
