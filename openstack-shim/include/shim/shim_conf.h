/*
 * shim/shim_conf.h - vmmgr-shim's configuration, users file and images
 * file (pure parsers: each takes the file's text, so every rule is tested
 * without a file system; shim_main.c reads the files).
 *
 * All three are line files: '#' starts a comment, blank lines are ignored.
 * Errors read "FILE:LINE: 'key': reason" (README.md is the reference).
 *   config  key = value           (values may be double-quoted)
 *   users   USER PROJECT ROLES HASH   ROLES comma-separated (admin, member,
 *           reader), HASH a crypt(3) string ($6$..., $y$...)
 *   images  NAME [DISK-PATH]      a vmmgr disk image or template; no path =
 *           a VM with no disk. Paths are the operator's: never a caller's.
 */
#ifndef SHIM_CONF_H
#define SHIM_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"

#define SHIM_NAME_MAX 64  /* user, project, role, image names (with NUL) */
#define SHIM_PATH_MAX 512 /* paths and URLs */

struct shim_conf {
    char listen[128];                      /* listen: ADDR:PORT (default 127.0.0.1:8774) */
    char public_url[SHIM_PATH_MAX];        /* public_url: base URL in links and the catalog */
    char vmmgrd_socket[SHIM_PATH_MAX];     /* vmmgrd_socket: the native API's Unix socket */
    char vmmgrd_url[SHIM_PATH_MAX];        /* vmmgrd_url: or TCP (http[s]://HOST:PORT) */
    char vmmgrd_token_file[SHIM_PATH_MAX]; /* vmmgrd_token_file: bearer token for vmmgrd */
    char vmmgrd_cacert[SHIM_PATH_MAX];     /* vmmgrd_cacert: CA of vmmgrd's TLS certificate */
    char state_dir[SHIM_PATH_MAX];         /* state_dir: the shim's SQLite database */
    char users_file[SHIM_PATH_MAX];        /* users_file */
    char images_file[SHIM_PATH_MAX];       /* images_file */
    char vm_prefix[24];         /* vm_name_prefix: vmmgr VM name = PREFIX + server UUID */
    char region[SHIM_NAME_MAX]; /* region: catalog region (RegionOne) */
    unsigned token_ttl_s;       /* token_ttl_s: token lifetime (3600) */
    size_t max_body_bytes;      /* max_body_bytes: larger requests get 413 (65536) */
    unsigned max_tokens;        /* max_tokens: live tokens kept (10000) */
    unsigned vmmgrd_timeout_ms; /* vmmgrd_timeout_ms: per call to vmmgrd (60000) */
    char log_level[16];         /* log_level: err|warn|info|debug */
    /* Real-Keystone mode: tokens a real Keystone issued are validated there
     * (with the shim's own service credentials) and cached. */
    char keystone_url[SHIM_PATH_MAX];           /* keystone_url: http(s)://HOST:PORT/v3 */
    char keystone_user[SHIM_NAME_MAX];          /* keystone_user: the shim's service user */
    char keystone_project[SHIM_NAME_MAX];       /* keystone_project: its project (service) */
    char keystone_password_file[SHIM_PATH_MAX]; /* keystone_password_file: mode 0600 */
    unsigned keystone_cache_s;                  /* keystone_cache_s: validation cache (60) */
};

/* Defaults (documented in README.md). */
void shim_conf_defaults(struct shim_conf *c);

/* Parses @text (file @file, for messages) over @c. */
enum nfv_code shim_conf_parse(struct shim_conf *c, const char *file, const char *text,
                              struct nfv_err *err);

/* One key = value, as from the file (also used for command-line overrides). */
enum nfv_code shim_conf_set(struct shim_conf *c, const char *key, const char *value,
                            struct nfv_err *err);

struct shim_user {
    char name[SHIM_NAME_MAX];
    char project[SHIM_NAME_MAX];
    char roles[4][SHIM_NAME_MAX]; /* n_roles used */
    unsigned n_roles;
    char hash[256];
};

struct shim_image {
    char id[37];
    char name[SHIM_NAME_MAX];
    char path[SHIM_PATH_MAX]; /* "" = no disk */
};

/* Parses a users file into *ret (malloc'ed array of *ret_n). */
enum nfv_code shim_users_parse(const char *file, const char *text, struct shim_user **ret,
                               size_t *ret_n, struct nfv_err *err);

/* Parses an images file; each image's id is derived from its name
 * (shim_id_from_name), so ids survive restarts. */
enum nfv_code shim_images_parse(const char *file, const char *text, struct shim_image **ret,
                                size_t *ret_n, struct nfv_err *err);

/*
 * A stable id for @kind + @name: 32 hex digits (Keystone's id shape) or,
 * with @is_uuid, the 8-4-4-4-12 form. Not secret, not random: projects,
 * users and images keep their id across restarts without a database.
 */
void shim_id_from_name(const char *kind, const char *name, bool is_uuid, char *buf,
                       size_t buf_size);

#endif /* SHIM_CONF_H */
