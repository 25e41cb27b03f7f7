/*
 * vm_auth.h - who may call the native API: roles, the token file, and the
 * mapping of Unix-socket peers to roles.
 *
 * Pure core (no file system, no sockets): vm_main.c reads the token file
 * after checking its mode, vm_http.c gets the peer's uid/gid (SO_PEERCRED)
 * or its bearer token and asks this module for a role, vm_api.c compares it
 * with the role each route needs and answers 403 when it falls short.
 *
 * Roles are ordered: each includes the ones before it.
 *   reader    every GET (status, events, metrics, hosts, VMs, operations)
 *   operator  VM lifecycle and groups (create, start, stop, reboot, delete)
 *   admin     hosts (add, change state, remove) and everything else
 *
 * Token file ("api_token_file"), one token per line, '#' comments:
 *   ID ROLE SHA256-HEX
 * e.g. "ci operator 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8".
 * Only the SHA-256 of the token is stored (printf %s TOKEN | sha256sum);
 * tokens are random (openssl rand -hex 32), so no salt is needed. The file
 * must be mode 0600 (or 0400) and owned by vmmgrd's user or root: vmmgrd
 * refuses to start otherwise.
 */
#ifndef VM_AUTH_H
#define VM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nfv/err.h"

enum vm_auth_role {
    VM_AUTH_NONE, /* may call nothing */
    VM_AUTH_READER,
    VM_AUTH_OPERATOR,
    VM_AUTH_ADMIN,
    VM_AUTH__COUNT
};

const char *vm_auth_role_to_string(enum vm_auth_role r);
enum vm_auth_role vm_auth_role_from_string(const char *s); /* VM_AUTH__COUNT if unknown */

#define VM_AUTH_ID_MAX     64 /* token ids, including the NUL */
#define VM_AUTH_TOKENS_MAX 256
#define VM_AUTH_PEERS_MAX  32

struct vm_auth_token {
    char id[VM_AUTH_ID_MAX];
    enum vm_auth_role role;
    uint8_t sha256[32];
};

struct vm_auth_tokens {
    struct vm_auth_token items[VM_AUTH_TOKENS_MAX];
    unsigned n_items;
};

/*
 * Parses the token file's text into @ret (filled from scratch). Errors are
 * NFV_E_PARSE "FILE:LINE: reason" (a plain token where a hash is expected,
 * an unknown role, a duplicate id); the token file's content is never
 * quoted in them.
 */
enum nfv_code vm_auth_tokens_parse(const char *text, const char *file_name,
                                   struct vm_auth_tokens *ret, struct nfv_err *err);

/*
 * The entry whose hash is SHA-256(@token), or NULL. Compares every entry in
 * full whatever matches, so the time taken says nothing about the hashes.
 */
const struct vm_auth_token *vm_auth_tokens_find(const struct vm_auth_tokens *t, const char *token);

/* Unix-socket peers: "unix_uid.N = ROLE" / "unix_gid.N = ROLE" in the config. */
struct vm_auth_peer {
    bool is_gid;
    unsigned id;
    enum vm_auth_role role;
};

struct vm_auth_peers {
    struct vm_auth_peer items[VM_AUTH_PEERS_MAX];
    unsigned n_items;
    enum vm_auth_role default_role; /* unix_default_role: peers not listed */
};

/* Adds or replaces one mapping. NFV_E_INVAL when full. */
enum nfv_code vm_auth_peers_set(struct vm_auth_peers *p, bool is_gid, unsigned id,
                                enum vm_auth_role role, struct nfv_err *err);

/*
 * The role of a Unix-socket peer with @uid/@gid: root and vmmgrd's own user
 * (@daemon_uid) are admin; else a uid entry, else a gid entry (the highest
 * if several), else the default.
 */
enum vm_auth_role vm_auth_peer_role(const struct vm_auth_peers *p, uid_t uid, gid_t gid,
                                    uid_t daemon_uid);

/* SHA-256 of @len bytes (FIPS 180-4), for the token file. */
void vm_auth_sha256(const void *data, size_t len, uint8_t ret[32]);

#endif /* VM_AUTH_H */
