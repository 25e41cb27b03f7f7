/*
 * vm_nova.c - vmmgrd's Nova client, the libcurl side (vm_nova_client.h).
 *
 * Keystone v3 password auth (the config's credentials, never the API's),
 * the token kept until 5 minutes before its expiry and renewed on a 401;
 * every Nova call with microversion 2.74. Bodies are built and answers
 * parsed by the pure vm_nova_msg.c; this file only moves bytes and maps
 * transport failures (curl codes) to NFV_E_UNREACHABLE / NFV_E_TIMEOUT.
 *
 * Called by vm_hv_nova.c (the host driver) and tools/vm_nova_tool.c.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfv/log.h"
#include "vm_nova_client.h"

#define MOD               "nova"
#define TOKEN_MAX         4096
#define TOKEN_RENEW_AHEAD 300 /* seconds before expiry */
#define BODY_MAX          (16u << 20)

struct vm_nova_client {
    struct vm_nova_config cfg;
    pthread_mutex_t lock; /* guards the token and the endpoints */
    char token[TOKEN_MAX];
    int64_t token_expires_s;
    char compute_url[VM_NOVA_URL];
    char image_url[VM_NOVA_URL];
    char image_id[64];
};

struct buf {
    char *data;
    size_t len;
    bool is_too_big;
};

struct reply {
    struct buf body;
    char subject_token[TOKEN_MAX];
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *opaque)
{
    struct buf *b = opaque;
    size_t n = size * nmemb;
    char *p;

    if (b->len + n > BODY_MAX) {
        b->is_too_big = true;
        return 0;
    }
    p = realloc(b->data, b->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *opaque)
{
    struct reply *r = opaque;
    size_t n = size * nmemb;
    static const char key[] = "x-subject-token:";

    if (n > sizeof(key) - 1 && strncasecmp(ptr, key, sizeof(key) - 1) == 0) {
        size_t i = sizeof(key) - 1, j = n;
        while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        while (j > i && (ptr[j - 1] == '\r' || ptr[j - 1] == '\n' || ptr[j - 1] == ' '))
            j--;
        if (j - i < sizeof(r->subject_token)) {
            memcpy(r->subject_token, ptr + i, j - i);
            r->subject_token[j - i] = '\0';
        }
    }
    return n;
}

static bool curl_is_not_sent(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
           c == CURLE_COULDNT_RESOLVE_PROXY || c == CURLE_UNSUPPORTED_PROTOCOL;
}

/*
 * One HTTP exchange. @token may be NULL (Keystone, version documents).
 * Fills *ret_status and @r. Transport failures are NFV_E_UNREACHABLE
 * ("@what: Nova at URL is unreachable") or NFV_E_TIMEOUT.
 */
static enum nfv_code http(const struct vm_nova_client *cl, const char *method, const char *url,
                          const char *token, const char *body, unsigned timeout_ms,
                          long *ret_status, struct reply *r, bool *ret_is_sent, const char *who,
                          const char *what, struct nfv_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char hdr[TOKEN_MAX + 32];
    CURLcode cc;

    (void)cl;
    if (ret_is_sent)
        *ret_is_sent = false;
    if (!c)
        return NFV_ERR(err, NFV_E_NOMEM, "%s: cannot make a curl handle", what);
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "OpenStack-API-Version: compute " VM_NOVA_MICROVERSION);
    h = curl_slist_append(h, "X-OpenStack-Nova-API-Version: " VM_NOVA_MICROVERSION);
    h = curl_slist_append(h, "Expect:");
    if (token) {
        snprintf(hdr, sizeof(hdr), "X-Auth-Token: %s", token);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 3000 ? timeout_ms : 3000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    curl_slist_free_all(h);
    explicit_bzero(hdr, sizeof(hdr));
    curl_easy_cleanup(c);
    if (ret_is_sent)
        *ret_is_sent = !curl_is_not_sent(cc);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        NFV_LOG_DEBUG(MOD, "%s %s: %s", method, url, curl_easy_strerror(cc));
        return NFV_ERR(err, NFV_E_TIMEOUT, "%s: %s did not answer within %u ms", what, who,
                       timeout_ms);
    }
    if (cc != CURLE_OK) {
        NFV_LOG_DEBUG(MOD, "%s %s: %s", method, url, curl_easy_strerror(cc));
        return NFV_ERR(err, NFV_E_UNREACHABLE, "%s: %s is unreachable (curl code %d)", what, who,
                       (int)cc);
    }
    return NFV_OK;
}

enum nfv_code vm_nova_client_new(const struct vm_nova_config *cfg, struct vm_nova_client **ret,
                                 struct nfv_err *err)
{
    struct vm_nova_client *cl = calloc(1, sizeof(*cl));

    if (!cl)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    cl->cfg = *cfg;
    pthread_mutex_init(&cl->lock, NULL);
    *ret = cl;
    return NFV_OK;
}

void vm_nova_client_free(struct vm_nova_client *cl)
{
    if (!cl)
        return;
    explicit_bzero(cl->token, sizeof(cl->token));
    explicit_bzero(cl->cfg.password, sizeof(cl->cfg.password));
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

const struct vm_nova_config *vm_nova_client_config(const struct vm_nova_client *cl)
{
    return &cl->cfg;
}

/* POST /v3/auth/tokens. Lock held (one authentication at a time). */
static enum nfv_code authenticate(struct vm_nova_client *cl, struct nfv_err *err)
{
    const struct vm_nova_config *c = &cl->cfg;
    json_t *req = vm_nova_auth_body_new(c);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    char url[VM_NOVA_URL + 32];
    struct reply r = {0};
    struct vm_nova_token_info ti;
    long status = 0;
    enum nfv_code code;

    json_decref(req);
    if (!body)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    snprintf(url, sizeof(url), "%s/auth/tokens", c->auth_url);
    code = http(cl, "POST", url, NULL, body, c->http_timeout_s * 1000, &status, &r, NULL,
                "Keystone", "authenticate to Keystone", err);
    explicit_bzero(body, strlen(body));
    free(body);
    if (code == NFV_OK && status != 201 && status != 200) {
        json_t *j = json_loads(r.body.data ? r.body.data : "", 0, NULL);
        char detail[256];
        if (status == 401 || status == 403)
            code = NFV_ERR(err, NFV_E_PERM,
                           "Keystone refused vmmgrd's Nova credentials (user '%s', project "
                           "'%s'; see nova_config): HTTP %ld",
                           c->username, c->project_name, status);
        else
            code =
                vm_nova_error(status, j, "authenticate to Keystone", detail, sizeof(detail), err);
        json_decref(j);
    }
    if (code == NFV_OK && !r.subject_token[0])
        code = NFV_ERR(err, NFV_E_PARSE, "Keystone's token answer has no X-Subject-Token");
    if (code == NFV_OK)
        code = vm_nova_token_parse(r.body.data, c->interface, c->region, &ti, err);
    if (code == NFV_OK) {
        snprintf(cl->token, sizeof(cl->token), "%s", r.subject_token);
        cl->token_expires_s = ti.expires_s;
        snprintf(cl->compute_url, sizeof(cl->compute_url), "%s",
                 c->compute_url[0] ? c->compute_url : ti.compute_url);
        snprintf(cl->image_url, sizeof(cl->image_url), "%s", ti.image_url);
        NFV_LOG_DEBUG(MOD, "token for '%s' valid until %lld; compute %s", c->username,
                      (long long)ti.expires_s, cl->compute_url);
    }
    explicit_bzero(r.subject_token, sizeof(r.subject_token));
    free(r.body.data);
    return code;
}

/* A valid token and the endpoint into the caller's buffers. */
static enum nfv_code token_get(struct vm_nova_client *cl, bool is_forced, char *tok, char *url,
                               struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;

    pthread_mutex_lock(&cl->lock);
    if (is_forced || !cl->token[0] ||
        (int64_t)time(NULL) + TOKEN_RENEW_AHEAD >= cl->token_expires_s)
        code = authenticate(cl, err);
    if (code == NFV_OK) {
        memcpy(tok, cl->token, TOKEN_MAX);
        memcpy(url, cl->compute_url, VM_NOVA_URL);
    }
    pthread_mutex_unlock(&cl->lock);
    return code;
}

enum nfv_code vm_nova_client_auth(struct vm_nova_client *cl, struct nfv_err *err)
{
    char tok[TOKEN_MAX], url[VM_NOVA_URL];
    enum nfv_code code = token_get(cl, true, tok, url, err);

    explicit_bzero(tok, sizeof(tok));
    return code;
}

enum nfv_code vm_nova_ping(struct vm_nova_client *cl, unsigned timeout_ms, struct nfv_err *err)
{
    char url[VM_NOVA_URL + 8];
    struct reply r = {0};
    long status = 0;
    enum nfv_code code;

    pthread_mutex_lock(&cl->lock);
    snprintf(url, sizeof(url), "%s/",
             cl->cfg.compute_url[0] ? cl->cfg.compute_url
             : cl->compute_url[0]   ? cl->compute_url
                                    : cl->cfg.auth_url);
    pthread_mutex_unlock(&cl->lock);
    code =
        http(cl, "GET", url, NULL, NULL, timeout_ms, &status, &r, NULL, "Nova", "probe Nova", err);
    free(r.body.data);
    if (code == NFV_OK && status >= 500)
        code = NFV_ERR(err, NFV_E_UNREACHABLE, "probe Nova: Nova answered HTTP %ld", status);
    return code;
}

enum nfv_code vm_nova_call(struct vm_nova_client *cl, const char *method, const char *path,
                           json_t *body, json_t **ret_json, bool *ret_is_sent, const char *what,
                           struct nfv_err *err)
{
    char tok[TOKEN_MAX], base[VM_NOVA_URL], url[VM_NOVA_URL + 512];
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    enum nfv_code code = NFV_OK;
    long status = 0;
    json_t *j = NULL;
    bool is_sent = false;

    if (ret_json)
        *ret_json = NULL;
    if (ret_is_sent)
        *ret_is_sent = false;
    if (body && !text)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    for (int attempt = 0; attempt < 2; attempt++) {
        struct reply r = {0};
        if ((code = token_get(cl, attempt > 0, tok, base, err)) != NFV_OK) {
            nfv_err_prefix(err, "%s", what);
            break;
        }
        snprintf(url, sizeof(url), "%s%s", base, path);
        code = http(cl, method, url, tok, text, cl->cfg.http_timeout_s * 1000, &status, &r,
                    &is_sent, "Nova", what, err);
        if (ret_is_sent && is_sent)
            *ret_is_sent = true;
        if (code == NFV_OK && r.body.is_too_big)
            code = NFV_ERR(err, NFV_E_PARSE, "%s: Nova's answer is over %u bytes", what, BODY_MAX);
        if (code == NFV_OK && r.body.len)
            j = json_loads(r.body.data, 0, NULL);
        free(r.body.data);
        if (code != NFV_OK)
            break;
        if (status == 401 && attempt == 0) {
            /* Revoked or expired early: one new token, one retry. */
            json_decref(j);
            j = NULL;
            continue;
        }
        if (status < 200 || status > 299) {
            char detail[512];
            code = vm_nova_error(status, j, what, detail, sizeof(detail), err);
            NFV_LOG_DEBUG(MOD, "%s %s: HTTP %ld: %s", method, path, status, detail);
        }
        break;
    }
    explicit_bzero(tok, sizeof(tok));
    free(text);
    if (code == NFV_OK && ret_json)
        *ret_json = j;
    else
        json_decref(j);
    return code;
}

enum nfv_code vm_nova_hypervisors(struct vm_nova_client *cl, struct vm_nova_hypervisor **ret,
                                  size_t *ret_n, struct nfv_err *err)
{
    json_t *j = NULL;
    enum nfv_code code = vm_nova_call(cl, "GET", "/os-hypervisors/detail", NULL, &j, NULL,
                                      "list Nova's hypervisors", err);

    if (code == NFV_OK)
        code = vm_nova_hypervisors_parse(j, ret, ret_n, err);
    json_decref(j);
    return code;
}

enum nfv_code vm_nova_flavor_ensure(struct vm_nova_client *cl, unsigned vcpus, uint64_t memory_mib,
                                    char *ret_id, size_t id_size, struct nfv_err *err)
{
    char name[64], path[128], what[128];
    json_t *body;
    enum nfv_code code;

    vm_nova_flavor_name(vcpus, memory_mib, name, sizeof(name));
    snprintf(path, sizeof(path), "/flavors/%s", name);
    snprintf(what, sizeof(what), "look up flavor '%s'", name);
    code = vm_nova_call(cl, "GET", path, NULL, NULL, NULL, what, err);
    if (code == NFV_E_NOENT) {
        body = vm_nova_flavor_body_new(name, vcpus, memory_mib, cl->cfg.flavor_disk_gb);
        snprintf(what, sizeof(what), "create flavor '%s'", name);
        code = vm_nova_call(cl, "POST", "/flavors", body, NULL, NULL, what, err);
        json_decref(body);
        if (code == NFV_E_EXIST) /* made meanwhile by another create */
            code = NFV_OK;
        if (code == NFV_OK)
            NFV_LOG_INFO(MOD, "created flavor %s", name);
    }
    if (code == NFV_OK)
        snprintf(ret_id, id_size, "%s", name);
    return code;
}

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool is_dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (is_dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

enum nfv_code vm_nova_image_id(struct vm_nova_client *cl, char *ret_id, size_t id_size,
                               struct nfv_err *err)
{
    char tok[TOKEN_MAX], base[VM_NOVA_URL], url[VM_NOVA_URL + 256], img[VM_NOVA_URL];
    char *esc;
    struct reply r = {0};
    long status = 0;
    enum nfv_code code;
    json_t *j, *imgs;
    const char *id = NULL;

    if (is_uuid(cl->cfg.image)) {
        snprintf(ret_id, id_size, "%s", cl->cfg.image);
        return NFV_OK;
    }
    pthread_mutex_lock(&cl->lock);
    snprintf(ret_id, id_size, "%s", cl->image_id);
    pthread_mutex_unlock(&cl->lock);
    if (ret_id[0])
        return NFV_OK;
    if ((code = token_get(cl, false, tok, base, err)) != NFV_OK)
        return code;
    pthread_mutex_lock(&cl->lock);
    snprintf(img, sizeof(img), "%s", cl->image_url);
    pthread_mutex_unlock(&cl->lock);
    if (!img[0]) {
        explicit_bzero(tok, sizeof(tok));
        return NFV_ERR(err, NFV_E_INVAL,
                       "'image': '%s' is a name and Keystone's catalog has no image service; "
                       "give its UUID in nova_config",
                       cl->cfg.image);
    }
    esc = curl_easy_escape(NULL, cl->cfg.image, 0);
    snprintf(url, sizeof(url), "%s/v2/images?name=%s", img, esc ? esc : "");
    curl_free(esc);
    code = http(cl, "GET", url, tok, NULL, cl->cfg.http_timeout_s * 1000, &status, &r, NULL,
                "Glance", "look up the image", err);
    explicit_bzero(tok, sizeof(tok));
    j = code == NFV_OK ? json_loads(r.body.data ? r.body.data : "", 0, NULL) : NULL;
    free(r.body.data);
    if (code == NFV_OK && status != 200)
        code = vm_nova_error(status, j, "look up the image", NULL, 0, err);
    imgs = json_object_get(j, "images");
    if (code == NFV_OK && json_array_size(imgs) == 1)
        id = json_string_value(json_object_get(json_array_get(imgs, 0), "id"));
    if (code == NFV_OK && (!id || !is_uuid(id)))
        code = NFV_ERR(err, NFV_E_NOENT, "'image': Glance has %zu images named '%s', not one",
                       json_array_size(imgs), cl->cfg.image);
    if (code == NFV_OK) {
        snprintf(ret_id, id_size, "%s", id);
        pthread_mutex_lock(&cl->lock);
        snprintf(cl->image_id, sizeof(cl->image_id), "%s", id);
        pthread_mutex_unlock(&cl->lock);
    }
    json_decref(j);
    return code;
}

enum nfv_code vm_nova_server_boot(struct vm_nova_client *cl, const struct vm_nova_boot *b,
                                  char *ret_id, size_t id_size, bool *ret_is_sent,
                                  struct nfv_err *err)
{
    json_t *body = vm_nova_server_body_new(b), *j = NULL;
    char what[128];
    struct vm_nova_server s;
    enum nfv_code code;

    if (!body)
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    snprintf(what, sizeof(what), "boot server '%s' on '%s'", b->name, b->host);
    code = vm_nova_call(cl, "POST", "/servers", body, &j, ret_is_sent, what, err);
    json_decref(body);
    if (code == NFV_OK &&
        (code = vm_nova_server_parse(json_object_get(j, "server"), &s, err)) == NFV_OK)
        snprintf(ret_id, id_size, "%s", s.id);
    json_decref(j);
    return code;
}

enum nfv_code vm_nova_server_get(struct vm_nova_client *cl, const char *id,
                                 struct vm_nova_server *ret, struct nfv_err *err)
{
    char path[128], what[128];
    json_t *j = NULL;
    enum nfv_code code;

    snprintf(path, sizeof(path), "/servers/%s", id);
    snprintf(what, sizeof(what), "show server %s", id);
    code = vm_nova_call(cl, "GET", path, NULL, &j, NULL, what, err);
    if (code == NFV_OK)
        code = vm_nova_server_parse(json_object_get(j, "server"), ret, err);
    json_decref(j);
    return code;
}

enum nfv_code vm_nova_servers_on(struct vm_nova_client *cl, const char *host,
                                 struct vm_nova_server **ret, size_t *ret_n, struct nfv_err *err)
{
    char path[256], what[128];
    json_t *j = NULL;
    enum nfv_code code;

    snprintf(path, sizeof(path), "/servers/detail?all_tenants=1&host=%s", host);
    snprintf(what, sizeof(what), "list the servers on '%s'", host);
    code = vm_nova_call(cl, "GET", path, NULL, &j, NULL, what, err);
    if (code == NFV_OK)
        code = vm_nova_servers_parse(j, ret, ret_n, err);
    json_decref(j);
    return code;
}

enum nfv_code vm_nova_server_delete(struct vm_nova_client *cl, const char *id, struct nfv_err *err)
{
    char path[128], what[128];

    snprintf(path, sizeof(path), "/servers/%s", id);
    snprintf(what, sizeof(what), "delete server %s", id);
    return vm_nova_call(cl, "DELETE", path, NULL, NULL, NULL, what, err);
}

enum nfv_code vm_nova_server_action(struct vm_nova_client *cl, const char *id, const char *action,
                                    struct nfv_err *err)
{
    char path[128], what[128];
    json_t *body;
    enum nfv_code code;

    if (strcmp(action, "reboot") == 0)
        body = json_pack("{s:{s:s}}", "reboot", "type", "HARD");
    else
        body = json_pack("{s:n}", action);
    snprintf(path, sizeof(path), "/servers/%s/action", id);
    snprintf(what, sizeof(what), "%s server %s", action, id);
    code = vm_nova_call(cl, "POST", path, body, NULL, NULL, what, err);
    json_decref(body);
    return code;
}
