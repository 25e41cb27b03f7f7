/*
 * vm_nova.h - vmmgrd's OpenStack Nova client: OpenStack as the VIM.
 *
 * vmmgr places and plans; Nova boots the server on exactly the compute host
 * vmmgr chose (microversion 2.74 "host"), and vmmgr then pins the libvirt
 * domain Nova made (docs/vmmgrd.md "Nova as the VIM"). Three layers:
 *
 *   vm_nova_msg.c  pure: the Nova config file, Keystone v3 password-auth
 *                  bodies and token answers, flavor/server bodies, server
 *                  and hypervisor parsers, Nova's error bodies mapped to
 *                  nfv codes with vmmgr's own messages. No I/O, no clock:
 *                  tested against golden exchanges (tests/data/vmmgr/nova/).
 *   vm_nova.c      libcurl: the client (token renewal before expiry and on
 *                  401, microversion 2.74 on every call) and Nova's calls.
 *   vm_hv_nova.c   the host driver (vm_hv.h) for "nova:COMPUTE" hosts.
 *
 * Nova's own error text never reaches an API caller: it is logged at debug
 * level; callers get "Nova: ... (HTTP 404 itemNotFound)".
 */
#ifndef VM_NOVA_H
#define VM_NOVA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

#define VM_NOVA_URI_PREFIX   "nova:"
#define VM_NOVA_MICROVERSION "2.74"
#define VM_NOVA_COMPUTES_MAX 64
#define VM_NOVA_NAME         64
#define VM_NOVA_URL          512

/* A compute host of the config: "libvirt.HOST = URI" (Nova's libvirt driver
 * runs there: vmmgr pins the domain Nova made) or "shadow.HOST = URI" (a
 * compute node whose Nova driver makes no libvirt domain, e.g. the fake
 * driver: vmmgr defines a stand-in domain named as Nova's instance_name on
 * URI and pins that). URI is one the API allow-list accepts or alias:NAME. */
struct vm_nova_compute {
    char host[VM_NOVA_NAME];
    char uri[1024];
    bool is_shadow;
};

/* The Nova config file (nova_config in vmmgrd.conf; mode 0600: it holds the
 * password). Keys: auth_url, username, password, project_name,
 * user_domain_name, project_domain_name (both default "Default"),
 * region_name, interface (default public), compute_url (overrides the
 * catalog), image (name or UUID), flavor_disk_gb (default 1),
 * boot_timeout_s (default 300), delete_timeout_s (default 120),
 * http_timeout_s (default 30), libvirt.HOST, shadow.HOST. */
struct vm_nova_config {
    char auth_url[VM_NOVA_URL];
    char username[128];
    char password[256];
    char project_name[128];
    char user_domain[64];
    char project_domain[64];
    char region[64];
    char interface[16];
    char compute_url[VM_NOVA_URL];
    char image[128];
    unsigned flavor_disk_gb;
    unsigned boot_timeout_s;
    unsigned delete_timeout_s;
    unsigned http_timeout_s;
    struct vm_nova_compute computes[VM_NOVA_COMPUTES_MAX];
    unsigned n_computes;
};

/* Parses the Nova config @text read from @path. Errors read
 * "PATH:LINE: 'key': reason"; the password never appears in them. */
enum nfv_code vm_nova_config_parse(const char *text, const char *path, struct vm_nova_config *ret,
                                   struct nfv_err *err);

/* The compute entry for Nova host @host, or NULL. Borrowed. */
const struct vm_nova_compute *vm_nova_config_compute(const struct vm_nova_config *c,
                                                     const char *host);

/* True for "nova:HOST" with HOST a Nova host name (letters, digits, . _ -). */
bool vm_nova_uri_is(const char *uri);

/* ---- Keystone ---- */

/* The POST /v3/auth/tokens body (password method, project scope). Owned. */
json_t *vm_nova_auth_body_new(const struct vm_nova_config *c);

/* What a token answer gives: expiry and the endpoints of the catalog. */
struct vm_nova_token_info {
    int64_t expires_s; /* seconds since the epoch */
    char compute_url[VM_NOVA_URL];
    char image_url[VM_NOVA_URL];
};

/* Parses a token answer's body: "expires_at" and the catalog's compute and
 * image endpoints of @interface (and @region, if not ""). NFV_E_PARSE names
 * what is missing. */
enum nfv_code vm_nova_token_parse(const char *body, const char *interface, const char *region,
                                  struct vm_nova_token_info *ret, struct nfv_err *err);

/* "2026-11-21T05:57:52.000000Z" (Keystone) -> seconds since the epoch, or -1. */
int64_t vm_nova_time_parse(const char *iso);

/* ---- Nova bodies ---- */

/* "vmmgr-<vcpus>c-<memory>m": the flavor (id and name) of a VM's size. */
void vm_nova_flavor_name(unsigned vcpus, uint64_t memory_mib, char *buf, size_t buf_size);
json_t *vm_nova_flavor_body_new(const char *name, unsigned vcpus, uint64_t memory_mib,
                                unsigned disk_gb);

struct vm_nova_boot {
    const char *name;       /* vmmgr's VM name = Nova's server name */
    const char *vmmgr_uuid; /* kept in the server's metadata */
    const char *image_id;
    const char *flavor_id;
    const char *host; /* the compute host vmmgr chose (2.74) */
};
json_t *vm_nova_server_body_new(const struct vm_nova_boot *b);

/* A server as vmmgr needs it. Strings are "" when Nova left them null. */
struct vm_nova_server {
    char id[VM_NOVA_NAME];
    char name[VM_NOVA_NAME];
    char status[24];                  /* BUILD, ACTIVE, SHUTOFF, ERROR, REBOOT, HARD_REBOOT, ... */
    char task_state[48];              /* OS-EXT-STS:task_state: scheduling, spawning, ... */
    char host[VM_NOVA_NAME];          /* OS-EXT-SRV-ATTR:host */
    char instance_name[VM_NOVA_NAME]; /* OS-EXT-SRV-ATTR:instance_name */
    char vmmgr_uuid[37];              /* metadata vmmgr_uuid ("" if not vmmgr's) */
    int fault_code;                   /* fault.code, 0 if none */
};

/* One server object ("server" of a show, or an element of "servers"). */
enum nfv_code vm_nova_server_parse(json_t *obj, struct vm_nova_server *ret, struct nfv_err *err);
/* A GET /servers/detail body: *ret (owned, free()) holds *ret_n servers. */
enum nfv_code vm_nova_servers_parse(json_t *body, struct vm_nova_server **ret, size_t *ret_n,
                                    struct nfv_err *err);

struct vm_nova_hypervisor {
    char hostname[VM_NOVA_NAME]; /* hypervisor_hostname */
    char host[VM_NOVA_NAME];     /* service.host: what "host" of a boot names */
    char type[32];               /* hypervisor_type: QEMU, fake, ... */
    bool is_up, is_enabled;
    unsigned vcpus;
    uint64_t memory_mb;
};
/* A GET /os-hypervisors/detail body (2.53+). *ret is owned (free()). */
enum nfv_code vm_nova_hypervisors_parse(json_t *body, struct vm_nova_hypervisor **ret,
                                        size_t *ret_n, struct nfv_err *err);

/*
 * Maps a non-2xx answer of Nova or Keystone to an nfv code and vmmgr's own
 * message "@what: Nova answered HTTP 404 (itemNotFound)": 400 INVAL,
 * 401/403 PERM, 404 NOENT, 409 EXIST, 413/429 NOCAP, 503/504 UNREACHABLE,
 * other HYPERVISOR. The body's message is only put in @ret_detail (for the
 * debug log) when @ret_detail is not NULL.
 */
enum nfv_code vm_nova_error(long http_status, json_t *body, const char *what, char *ret_detail,
                            size_t detail_size, struct nfv_err *err);

/* ---- the host driver (vm_hv_nova.c) ---- */

struct vm_hv_driver;
struct vm_uri_aliases;

/*
 * The host driver for a daemon with a Nova: "nova:HOST" URIs are Nova
 * compute hosts (booted through Nova, pinned through the libvirt URI the
 * config maps HOST to); every other URI goes straight to vm_hv_libvirt.
 * vm_hv_nova_init() (after vm_hv_libvirt_init()) takes the parsed config and
 * the daemon's URI aliases (compute URIs may name alias:NAME); without it,
 * "nova:" URIs are refused. vm_hv_nova_shutdown() after the last close.
 */
extern const struct vm_hv_driver vm_hv_nova;
enum nfv_code vm_hv_nova_init(const struct vm_nova_config *cfg,
                              const struct vm_uri_aliases *aliases, struct nfv_err *err);
void vm_hv_nova_shutdown(void);

#endif /* VM_NOVA_H */
