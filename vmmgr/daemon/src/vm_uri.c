/*
 * vm_uri.c - the host-URI allow-list and config aliases (see vm_uri.h).
 *
 * The API check is a small hand-written grammar rather than a URI parser:
 * whatever it accepts is one of a handful of shapes whose every byte is
 * known, so libvirt's own parser (which decodes %-escapes and splits the
 * query) has nothing left to interpret. Host names may not start with '-',
 * which ssh would read as an option (qemu+ssh://-oProxyCommand=...).
 */
#include "vm/vm_uri.h"
#include "vm/vm_nova.h" /* nova: hosts (issue 14) */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char api_allowed[] =
    "qemu:///system, qemu+unix:///system, qemu+ssh://[USER@]HOST[:PORT]/system, "
    "qemu+tls://HOST[:PORT]/system, test:///default, test:/// (simulated), alias:NAME (from the "
    "daemon's config) or nova:HOST (a Nova compute host)";

bool vm_uri_is_alias(const char *uri)
{
    return strncmp(uri, VM_URI_ALIAS_PREFIX, strlen(VM_URI_ALIAS_PREFIX)) == 0;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* 1..63 of [A-Za-z0-9._-], starting with a letter or digit (as vm_req names). */
static bool alias_name_ok(const char *s, size_t len)
{
    if (len == 0 || len >= VM_URI_ALIAS_NAME || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(s[i]))
            return false;
    return true;
}

/* Consumes "[USER@]HOST[:PORT]" from *p up to the next '/'; @is_user_ok for ssh. */
static bool authority_ok(const char **p, bool is_user_ok)
{
    const char *s = *p, *end = strchr(s, '/'), *at, *host, *colon = NULL;

    if (!end || end == s)
        return false;
    at = memchr(s, '@', (size_t)(end - s));
    host = s;
    if (at) {
        if (!is_user_ok || at == s || s[0] == '-')
            return false;
        for (const char *c = s; c < at; c++)
            if (!is_name_char(*c))
                return false;
        host = at + 1;
    }
    if (host >= end || *host == '-' || *host == '.')
        return false;
    if (*host == '[') { /* IPv6 literal */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || close == host + 1)
            return false;
        for (const char *c = host + 1; c < close; c++)
            if (!isxdigit((unsigned char)*c) && *c != ':')
                return false;
        if (close + 1 < end && close[1] != ':')
            return false;
        colon = close + 1 < end ? close + 1 : NULL;
    } else {
        const char *c;
        for (c = host; c < end && *c != ':'; c++)
            if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
                return false;
        colon = c < end ? c : NULL;
    }
    if (colon) {
        size_t n = (size_t)(end - colon - 1);
        unsigned long port = 0;
        if (n == 0 || n > 5)
            return false;
        for (const char *c = colon + 1; c < end; c++) {
            if (!isdigit((unsigned char)*c))
                return false;
            port = port * 10 + (unsigned long)(*c - '0');
        }
        if (port == 0 || port > 65535)
            return false;
    }
    *p = end;
    return true;
}

enum nfv_code vm_uri_check_api(const char *uri, struct nfv_err *err)
{
    static const char *const exact[] = {"qemu:///system", "qemu+unix:///system", "test:///default",
                                        "test:///", NULL};
    const char *p;

    for (const char *const *e = exact; *e; e++)
        if (strcmp(uri, *e) == 0)
            return NFV_OK;
    /* Nova as the VIM (issue 14): "nova:HOST" names a compute host; its
     * libvirt URI comes from the daemon's nova_config, never the API. */
    if (vm_nova_uri_is(uri))
        return NFV_OK;
    if (vm_uri_is_alias(uri)) {
        p = uri + strlen(VM_URI_ALIAS_PREFIX);
        if (!alias_name_ok(p, strlen(p)))
            return NFV_ERR(err, NFV_E_INVAL,
                           "'uri': an alias name is 1..63 letters, digits or '.-_' and starts "
                           "with a letter or digit");
        return NFV_OK;
    }
    if (strchr(uri, '?') || strchr(uri, '#') || strchr(uri, '%'))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'uri': query options, fragments and %%-escapes are not accepted through "
                       "the API; configure the URI as uri_alias.NAME in the daemon's config and "
                       "give alias:NAME");
    if (strncmp(uri, "qemu+tcp:", 9) == 0)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'uri': qemu+tcp (no encryption) is only allowed through a uri_alias in "
                       "the daemon's config; give alias:NAME");
    if (strncmp(uri, "qemu+ssh://", 11) == 0 || strncmp(uri, "qemu+tls://", 11) == 0) {
        p = uri + 11;
        if (authority_ok(&p, uri[5] == 's') && strcmp(p, "/system") == 0)
            return NFV_OK;
    }
    return NFV_ERR(err, NFV_E_INVAL, "'uri': not an allowed libvirt URI; use %s", api_allowed);
}

/* libvirt remote-driver options an operator may set, and what their value is. */
enum opt_kind { OPT_PROGRAM, OPT_FILE, OPT_DIR, OPT_SOCKET, OPT_WORD };

static const struct {
    const char *name;
    enum opt_kind kind;
} known_opts[] = {
    {"command", OPT_PROGRAM},
    {"netcat", OPT_PROGRAM},
    {"keyfile", OPT_FILE},
    {"known_hosts", OPT_FILE},
    {"pkipath", OPT_DIR},
    {"socket", OPT_SOCKET},
    {"no_verify", OPT_WORD},
    {"no_tty", OPT_WORD},
    {"sshauth", OPT_WORD},
    {"mode", OPT_WORD},
    {"proxy", OPT_WORD},
    {"tls_priority", OPT_WORD},
    {"known_hosts_verify", OPT_WORD},
    {"name", OPT_WORD},
};

static int opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known_opts) / sizeof(known_opts[0]); i++)
        if (strlen(known_opts[i].name) == len && strncmp(known_opts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static bool word_ok(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && !strchr("._-:+,/", *v))
            return false;
    return true;
}

enum nfv_code vm_uri_check_config(const char *name, const char *uri, vm_uri_path_check_fn check,
                                  void *opaque, struct nfv_err *err)
{
    static const char *const schemes[] = {"qemu://",         "qemu+ssh://", "qemu+tls://",
                                          "qemu+unix://",    "qemu+tcp://", "qemu+libssh://",
                                          "qemu+libssh2://", NULL};
    const char *q;
    char query[VM_URI_ALIAS_URI];
    unsigned seen = 0;
    const char *const *s;

    if (!alias_name_ok(name, strlen(name)))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'uri_alias.%.63s': the name is 1..63 letters, digits or '.-_'", name);
    if (strlen(uri) >= VM_URI_ALIAS_URI)
        return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': longer than %d bytes", name,
                       VM_URI_ALIAS_URI - 1);
    for (s = schemes; *s; s++)
        if (strncmp(uri, *s, strlen(*s)) == 0)
            break;
    if (!*s)
        return NFV_ERR(err, NFV_E_INVAL,
                       "'uri_alias.%s': '%s' is not a qemu, qemu+ssh, qemu+tls, qemu+unix, "
                       "qemu+tcp or qemu+libssh URI",
                       name, uri);
    for (const char *c = uri; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || *c == '#')
            return NFV_ERR(err, NFV_E_INVAL,
                           "'uri_alias.%s': spaces, control characters and '#' are not allowed",
                           name);
    q = strchr(uri, '?');
    if (!q)
        return NFV_OK;
    snprintf(query, sizeof(query), "%s", q + 1);
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *value;
        int i;
        enum nfv_code code;

        if (!eq)
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': option '%s' has no value", name, kv);
        *eq = '\0';
        value = eq + 1;
        i = opt_find(kv, strlen(kv));
        if (i < 0)
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': unknown libvirt URI option '%s'",
                           name, kv);
        if (seen & (1u << i))
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': option '%s' given twice", name, kv);
        seen |= 1u << i;
        if (strchr(value, '%'))
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': '%s': %%-escapes are not accepted",
                           name, kv);
        if (known_opts[i].kind == OPT_WORD) {
            if (!word_ok(value))
                return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': '%s': bad value", name, kv);
            continue;
        }
        if (value[0] != '/')
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': '%s': '%s' is not an absolute path",
                           name, kv, value);
        if (check && (code = check(opaque, kv, value, err)) != NFV_OK) {
            nfv_err_prefix(err, "'uri_alias.%s'", name);
            return code;
        }
    }
    return NFV_OK;
}

enum nfv_code vm_uri_aliases_set(struct vm_uri_aliases *a, const char *name, const char *uri,
                                 struct nfv_err *err)
{
    struct vm_uri_alias *slot = NULL;

    for (unsigned i = 0; i < a->n_items; i++)
        if (strcmp(a->items[i].name, name) == 0)
            slot = &a->items[i];
    if (!slot) {
        if (a->n_items == VM_URI_ALIASES_MAX)
            return NFV_ERR(err, NFV_E_INVAL, "'uri_alias.%s': more than %d aliases", name,
                           VM_URI_ALIASES_MAX);
        slot = &a->items[a->n_items++];
    }
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    snprintf(slot->uri, sizeof(slot->uri), "%s", uri);
    return NFV_OK;
}

const char *vm_uri_aliases_get(const struct vm_uri_aliases *a, const char *name)
{
    for (unsigned i = 0; i < a->n_items; i++)
        if (strcmp(a->items[i].name, name) == 0)
            return a->items[i].uri;
    return NULL;
}

enum nfv_code vm_uri_resolve(const struct vm_uri_aliases *a, const char *uri, char *buf,
                             size_t buf_size, struct nfv_err *err)
{
    const char *target = uri;

    if (vm_uri_is_alias(uri)) {
        const char *name = uri + strlen(VM_URI_ALIAS_PREFIX);
        target = vm_uri_aliases_get(a, name);
        if (!target)
            return NFV_ERR(err, NFV_E_INVAL,
                           "'uri': alias '%.63s' is not configured (uri_alias.%.63s in the "
                           "daemon's config)",
                           name, name);
    }
    if ((size_t)snprintf(buf, buf_size, "%s", target) >= buf_size)
        return NFV_ERR(err, NFV_E_INVAL, "'uri': too long");
    return NFV_OK;
}

enum nfv_code vm_uri_effective(const struct vm_uri_aliases *a, const char *uri, char *buf,
                               size_t buf_size, struct nfv_err *err)
{
    enum nfv_code code = vm_uri_check_api(uri, err);

    if (code == NFV_OK)
        code = vm_uri_resolve(a, uri, buf, buf_size, err);
    if (code != NFV_OK && buf_size)
        buf[0] = '\0';
    return code;
}
