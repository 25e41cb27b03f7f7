/*
 * shim_main.c - the vmmgr-shim process: options, the three files, the
 * state database, the worker and the HTTP server; SIGTERM/SIGINT stop it
 * (the worker finishes the vmmgrd call it is making, queued jobs of a
 * stopped shim are re-run from their records at the next start).
 *
 *   vmmgr-shim [--config FILE] [--listen ADDR:PORT] [--log-level L] [--check-config]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfv/log.h"
#include "shim_http.h"
#include "shim_priv.h"

#define MOD             "shim"
#define SHIM_FILE_LIMIT (4u << 20)

/* Reads @path whole (at most SHIM_FILE_LIMIT bytes) into *ret (malloc'ed). */
static enum nfv_code read_file(const char *path, char **ret, struct nfv_err *err)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;

    if (!f)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': cannot open (%s)", path, strerror(errno));
    buf = malloc(SHIM_FILE_LIMIT + 1);
    if (!buf) {
        fclose(f);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    n = fread(buf, 1, SHIM_FILE_LIMIT + 1, f);
    fclose(f);
    if (n > SHIM_FILE_LIMIT) {
        free(buf);
        return NFV_ERR(err, NFV_E_INVAL, "'%s': larger than %u bytes", path, SHIM_FILE_LIMIT);
    }
    buf[n] = '\0';
    *ret = buf;
    return NFV_OK;
}

/* The users file holds password hashes and the token file a secret:
 * neither may be readable by group or others. */
static enum nfv_code private_file(const char *path, struct nfv_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", path, strerror(errno));
    if (st.st_mode & 077)
        return NFV_ERR(err, NFV_E_PERM, "'%s': must not be readable by group or others (chmod 600)",
                       path);
    return NFV_OK;
}

static enum nfv_code load_files(struct shim_ctx *ctx, struct nfv_err *err)
{
    char *text = NULL;
    enum nfv_code code;

    if (private_file(ctx->conf.users_file, err) || read_file(ctx->conf.users_file, &text, err))
        return err->code;
    code = shim_users_parse(ctx->conf.users_file, text, &ctx->users, &ctx->n_users, err);
    free(text);
    if (code)
        return code;
    if (read_file(ctx->conf.images_file, &text, err))
        return err->code;
    code = shim_images_parse(ctx->conf.images_file, text, &ctx->images, &ctx->n_images, err);
    free(text);
    if (code)
        return code;
    if (ctx->conf.keystone_url[0]) {
        if (!ctx->conf.keystone_user[0] || !ctx->conf.keystone_password_file[0])
            return NFV_ERR(err, NFV_E_INVAL,
                           "'keystone_url': needs keystone_user and keystone_password_file");
        if (private_file(ctx->conf.keystone_password_file, err) ||
            read_file(ctx->conf.keystone_password_file, &text, err))
            return err->code;
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(ctx->keystone_password, sizeof(ctx->keystone_password), "%s", text);
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (ctx->conf.vmmgrd_token_file[0]) {
        if (private_file(ctx->conf.vmmgrd_token_file, err) ||
            read_file(ctx->conf.vmmgrd_token_file, &text, err))
            return err->code;
        text[strcspn(text, "\r\n")] = '\0';
        if (strlen(text) >= sizeof(ctx->vmmgrd_token)) {
            free(text);
            return NFV_ERR(err, NFV_E_INVAL, "'%s': token longer than %zu bytes",
                           ctx->conf.vmmgrd_token_file, sizeof(ctx->vmmgrd_token) - 1);
        }
        memcpy(ctx->vmmgrd_token, text, strlen(text) + 1);
        explicit_bzero(text, strlen(text));
        free(text);
    }
    return NFV_OK;
}

static enum nfv_code open_state(struct shim_ctx *ctx, struct nfv_err *err)
{
    char path[SHIM_PATH_MAX + 16];
    const char *key;
    json_t *h;

    if (mkdir(ctx->conf.state_dir, 0700) != 0 && errno != EEXIST)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'state_dir': cannot create '%s' (%s)",
                             ctx->conf.state_dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/shim.db", ctx->conf.state_dir);
    if (shim_store_open(path, &ctx->store, err) ||
        shim_store_load(ctx->store, "flavor", ctx->flavors, err) ||
        shim_store_load(ctx->store, "group", ctx->groups, err) ||
        shim_store_load(ctx->store, "server", ctx->servers, err) ||
        shim_store_load(ctx->store, "host", ctx->hosts, err))
        return err->code;
    ctx->next_host_id = 1;
    json_object_foreach(ctx->hosts, key, h)
    {
        json_int_t id = json_integer_value(json_object_get(h, "id"));
        if (id >= ctx->next_host_id)
            ctx->next_host_id = id + 1;
    }
    return NFV_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vmmgr-shim [--config FILE] [--listen ADDR:PORT] [--log-level "
               "err|warn|info|debug] [--check-config]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"log-level", required_argument, NULL, 'L'},
                                         {"check-config", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct shim_ctx ctx = {0};
    struct nfv_err err = {0};
    const char *config = "/etc/vmmgr/shim.conf", *listen = NULL, *level = NULL;
    bool is_check = false, is_config_named = false;
    struct shim_http *http = NULL;
    sigset_t set;
    int opt, sig, rc = 1;
    char *text = NULL;

    nfv_log_set_progname("vmmgr-shim");
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            is_config_named = true;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'L':
            level = optarg;
            break;
        case 'k':
            is_check = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vmmgr-shim: '%s': unexpected argument\n", argv[optind]);
        return 2;
    }
    shim_conf_defaults(&ctx.conf);
    if (access(config, F_OK) == 0 || is_config_named) {
        if (read_file(config, &text, &err) || shim_conf_parse(&ctx.conf, config, text, &err)) {
            free(text);
            fprintf(stderr, "vmmgr-shim: %s\n", err.msg);
            return 2;
        }
        free(text);
    }
    if ((listen && shim_conf_set(&ctx.conf, "listen", listen, &err)) ||
        (level && shim_conf_set(&ctx.conf, "log_level", level, &err))) {
        fprintf(stderr, "vmmgr-shim: %s\n", err.msg);
        return 2;
    }
    nfv_log_set_level(nfv_log_level_from_string(ctx.conf.log_level));
    if (ctx.conf.public_url[0])
        snprintf(ctx.base_url, sizeof(ctx.base_url), "%s", ctx.conf.public_url);
    else
        snprintf(ctx.base_url, sizeof(ctx.base_url), "http://%s", ctx.conf.listen);
    if (load_files(&ctx, &err)) {
        fprintf(stderr, "vmmgr-shim: %s\n", err.msg);
        return 2;
    }
    if (is_check) {
        printf("vmmgr-shim: configuration OK (%zu users, %zu images)\n", ctx.n_users, ctx.n_images);
        return 0;
    }
    ctx.flavors = json_object();
    ctx.groups = json_object();
    ctx.servers = json_object();
    ctx.hosts = json_object();
    pthread_mutex_init(&ctx.lock, NULL);
    pthread_cond_init(&ctx.cond, NULL);
    ctx.tokens = calloc(ctx.conf.max_tokens, sizeof(*ctx.tokens));
    if (ctx.conf.keystone_url[0])
        ctx.ks_cache = calloc(ctx.conf.max_tokens, sizeof(*ctx.ks_cache));
    if (!ctx.tokens || (ctx.conf.keystone_url[0] && !ctx.ks_cache)) {
        fprintf(stderr, "vmmgr-shim: out of memory\n");
        return 1;
    }
    shim_vmmgr_global_init();

    /* Signals are taken by sigwait() below; every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (open_state(&ctx, &err) || shim_worker_start(&ctx, &err) ||
        shim_http_start(&ctx, &http, &err)) {
        NFV_LOG_ERR(MOD, "%s", err.msg);
        goto cleanup;
    }
    NFV_LOG_INFO(MOD,
                 "serving %s: identity %s/identity/v3, compute %s/compute/v2.1, image %s/image; "
                 "vmmgrd at %s",
                 ctx.conf.listen, ctx.base_url, ctx.base_url, ctx.base_url,
                 ctx.conf.vmmgrd_url[0] ? ctx.conf.vmmgrd_url : ctx.conf.vmmgrd_socket);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            NFV_LOG_INFO(MOD, "SIGHUP ignored (restart to read the files again)");
            continue;
        }
        break;
    }
    NFV_LOG_INFO(MOD, "stopping");
    rc = 0;
cleanup:
    shim_http_stop(http);
    shim_worker_stop(&ctx);
    shim_store_close(ctx.store);
    json_decref(ctx.flavors);
    json_decref(ctx.groups);
    json_decref(ctx.servers);
    json_decref(ctx.hosts);
    free(ctx.users);
    free(ctx.images);
    free(ctx.tokens);
    free(ctx.ks_cache);
    explicit_bzero(ctx.keystone_password, sizeof(ctx.keystone_password));
    return rc;
}
