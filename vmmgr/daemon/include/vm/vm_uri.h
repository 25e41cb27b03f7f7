/*
 * vm_uri.h - which libvirt URIs vmmgrd opens, and where their options come from.
 *
 * Pure core (no libvirt, no file system). A libvirt URI is more than an
 * address: its query options name programs and files that libvirt's remote
 * driver runs or reads as vmmgrd's user (command=, netcat=, keyfile=,
 * pkipath=, socket=, known_hosts=), and a test:// path is a file the test
 * driver parses and quotes back in its errors. So an API caller may only
 * give a URI from a short allow-list, with no query at all:
 *
 *   qemu:///system  qemu+unix:///system  test:///default
 *   test:///                          (vmmgrd generates the node file)
 *   qemu+ssh://[USER@]HOST[:PORT]/system
 *   qemu+tls://HOST[:PORT]/system
 *   alias:NAME                        (a URI from the daemon's config)
 *
 * Anything else -- options, qemu+tcp (unencrypted, unauthenticated), other
 * drivers, other test:// files -- is written by the operator in the config
 * file as "uri_alias.NAME = URI" (vm_config.h) and checked at start-up by
 * vm_uri_check_config(); the API names it "alias:NAME". The host row keeps
 * "alias:NAME", so the options never appear in answers, events or the
 * journal. The host service (host add and host load) gets the URI it
 * opens from vm_uri_effective().
 */
#ifndef VM_URI_H
#define VM_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "nfv/err.h"

#define VM_URI_ALIAS_PREFIX "alias:"
#define VM_URI_ALIASES_MAX  64
#define VM_URI_ALIAS_NAME   64   /* alias names, including the NUL (= VM_NAME_MAX) */
#define VM_URI_ALIAS_URI    1024 /* a configured URI with its options, including the NUL */

struct vm_uri_alias {
    char name[VM_URI_ALIAS_NAME];
    char uri[VM_URI_ALIAS_URI];
};

/* The config's "uri_alias.NAME = URI" entries (a plain array: vm_config is copied). */
struct vm_uri_aliases {
    struct vm_uri_alias items[VM_URI_ALIASES_MAX];
    unsigned n_items;
};

/*
 * Checks a URI given through the API against the allow-list above.
 * NFV_E_INVAL names 'uri' and says what is allowed; the message never quotes
 * the URI (it may hold terminal escapes or a path the caller is probing).
 */
enum nfv_code vm_uri_check_api(const char *uri, struct nfv_err *err);

/*
 * Called for every file or program a configured URI names, so the caller
 * (vm_main.c, at start-up) can check it exists with the right type.
 * @option is "command", "keyfile", ...; @path is absolute. Returns NFV_OK or
 * an error naming the path.
 */
typedef enum nfv_code (*vm_uri_path_check_fn)(void *opaque, const char *option, const char *path,
                                              struct nfv_err *err);

/*
 * Checks a URI written in the config for alias @name: a qemu or test URI
 * whose query holds only known libvirt remote-driver options, each at most
 * once, file and program options with absolute paths and no '%' (libvirt
 * would decode it). @check (may be NULL) is called for each of those paths.
 * Errors name 'uri_alias.NAME'.
 */
enum nfv_code vm_uri_check_config(const char *name, const char *uri, vm_uri_path_check_fn check,
                                  void *opaque, struct nfv_err *err);

/* Adds or replaces alias @name (already checked). NFV_E_INVAL when full. */
enum nfv_code vm_uri_aliases_set(struct vm_uri_aliases *a, const char *name, const char *uri,
                                 struct nfv_err *err);

/* The configured URI for @name, or NULL. Borrowed from @a. */
const char *vm_uri_aliases_get(const struct vm_uri_aliases *a, const char *name);

/* True for "alias:..." URIs. */
bool vm_uri_is_alias(const char *uri);

/*
 * The URI to open for the stored/API URI @uri: an alias's configured URI,
 * anything else unchanged. NFV_E_INVAL if the alias is not configured (the
 * config changed since the host was added) or does not fit in @buf.
 */
enum nfv_code vm_uri_resolve(const struct vm_uri_aliases *a, const char *uri, char *buf,
                             size_t buf_size, struct nfv_err *err);

/*
 * vm_uri_check_api() then vm_uri_resolve(): what the host service calls for a
 * URI from the API or from a stored host row (rows written by an older
 * vmmgrd may hold URIs the allow-list now refuses: they are not opened).
 * On error @buf is "" and the host driver refuses to open it.
 */
enum nfv_code vm_uri_effective(const struct vm_uri_aliases *a, const char *uri, char *buf,
                               size_t buf_size, struct nfv_err *err);

#endif /* VM_URI_H */
