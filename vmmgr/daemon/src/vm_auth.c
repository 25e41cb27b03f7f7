/*
 * vm_auth.c - roles, token file, Unix peers (see vm_auth.h).
 *
 * SHA-256 is written out here (FIPS 180-4, the compact form) so the pure
 * core links no crypto library; it hashes a few dozen bytes per request.
 */
#include "vm/vm_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const role_names[VM_AUTH__COUNT] = {"none", "reader", "operator", "admin"};

const char *vm_auth_role_to_string(enum vm_auth_role r)
{
    return (unsigned)r < VM_AUTH__COUNT ? role_names[r] : "?";
}

enum vm_auth_role vm_auth_role_from_string(const char *s)
{
    for (unsigned i = 0; i < VM_AUTH__COUNT; i++)
        if (strcmp(role_names[i], s) == 0)
            return (enum vm_auth_role)i;
    return VM_AUTH__COUNT;
}

/* ---- SHA-256 ---- */

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t b[64])
{
    uint32_t w[64], v[8];

    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(v, h, sizeof(v));
    for (unsigned i = 0; i < 64; i++) {
        uint32_t s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
        uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
        uint32_t t1 = v[7] + s1 + ch + k256[i] + w[i];
        uint32_t s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
        uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
        memmove(v + 1, v, 7 * sizeof(v[0]));
        v[4] += t1;
        v[0] = t1 + s0 + maj;
    }
    for (unsigned i = 0; i < 8; i++)
        h[i] += v[i];
}

void vm_auth_sha256(const void *data, size_t len, uint8_t ret[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    uint8_t tail[128] = {0};
    size_t n_full = len / 64, rest = len % 64, tail_len;
    uint64_t bits = (uint64_t)len * 8;

    for (size_t i = 0; i < n_full; i++)
        sha256_block(h, p + 64 * i);
    memcpy(tail, p + 64 * n_full, rest);
    tail[rest] = 0x80;
    tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    for (unsigned i = 0; i < 8; i++)
        tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tail_len == 128)
        sha256_block(h, tail + 64);
    for (unsigned i = 0; i < 8; i++) {
        ret[4 * i] = (uint8_t)(h[i] >> 24);
        ret[4 * i + 1] = (uint8_t)(h[i] >> 16);
        ret[4 * i + 2] = (uint8_t)(h[i] >> 8);
        ret[4 * i + 3] = (uint8_t)h[i];
    }
}

/* ---- token file ---- */

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One "ID ROLE HEX" line (already split at blanks) into @t. */
static enum nfv_code token_line(char **f, unsigned n_f, struct vm_auth_token *t,
                                const char *file_name, unsigned line_no, struct nfv_err *err)
{
    if (n_f != 3)
        return NFV_ERR(err, NFV_E_PARSE,
                       "%s:%u: expected 'ID ROLE SHA256-HEX' (the token itself is never stored: "
                       "printf %%s TOKEN | sha256sum)",
                       file_name, line_no);
    if (strlen(f[0]) >= sizeof(t->id))
        return NFV_ERR(err, NFV_E_PARSE, "%s:%u: id longer than %zu bytes", file_name, line_no,
                       sizeof(t->id) - 1);
    for (const char *c = f[0]; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-@", *c))
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: id may only hold letters, digits, '._-@'",
                           file_name, line_no);
    snprintf(t->id, sizeof(t->id), "%s", f[0]);
    t->role = vm_auth_role_from_string(f[1]);
    if (t->role == VM_AUTH__COUNT || t->role == VM_AUTH_NONE)
        return NFV_ERR(err, NFV_E_PARSE, "%s:%u: token '%s': role is not reader, operator or admin",
                       file_name, line_no, t->id);
    if (strlen(f[2]) != 64)
        return NFV_ERR(err, NFV_E_PARSE, "%s:%u: token '%s': hash is not 64 hex digits (SHA-256)",
                       file_name, line_no, t->id);
    for (unsigned i = 0; i < 32; i++) {
        int hi = hex_val(f[2][2 * i]), lo = hex_val(f[2][2 * i + 1]);
        if (hi < 0 || lo < 0)
            return NFV_ERR(err, NFV_E_PARSE,
                           "%s:%u: token '%s': hash is not 64 hex digits (SHA-256)", file_name,
                           line_no, t->id);
        t->sha256[i] = (uint8_t)(hi << 4 | lo);
    }
    return NFV_OK;
}

enum nfv_code vm_auth_tokens_parse(const char *text, const char *file_name,
                                   struct vm_auth_tokens *ret, struct nfv_err *err)
{
    char line[512];
    unsigned line_no = 0;
    const char *p = text;

    memset(ret, 0, sizeof(*ret));
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *f[4], *save = NULL, *tok;
        unsigned n_f = 0;
        struct vm_auth_token t;
        enum nfv_code code;

        line_no++;
        if (len >= sizeof(line))
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: line too long", file_name, line_no);
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl ? nl + 1 : p + len;
        if (strchr(line, '#'))
            *strchr(line, '#') = '\0';
        for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
            if (n_f == 4)
                break;
            f[n_f++] = tok;
        }
        if (n_f == 0)
            continue;
        if ((code = token_line(f, n_f, &t, file_name, line_no, err)) != NFV_OK)
            return code;
        for (unsigned i = 0; i < ret->n_items; i++)
            if (strcmp(ret->items[i].id, t.id) == 0)
                return NFV_ERR(err, NFV_E_PARSE, "%s:%u: token '%s' given twice", file_name,
                               line_no, t.id);
        if (ret->n_items == VM_AUTH_TOKENS_MAX)
            return NFV_ERR(err, NFV_E_PARSE, "%s:%u: more than %d tokens", file_name, line_no,
                           VM_AUTH_TOKENS_MAX);
        ret->items[ret->n_items++] = t;
    }
    return NFV_OK;
}

const struct vm_auth_token *vm_auth_tokens_find(const struct vm_auth_tokens *t, const char *token)
{
    const struct vm_auth_token *found = NULL;
    uint8_t h[32];

    if (!t || !token || !*token)
        return NULL;
    vm_auth_sha256(token, strlen(token), h);
    for (unsigned i = 0; i < t->n_items; i++) {
        uint8_t diff = 0;
        for (unsigned j = 0; j < 32; j++)
            diff |= (uint8_t)(h[j] ^ t->items[i].sha256[j]);
        if (diff == 0)
            found = &t->items[i];
    }
    return found;
}

/* ---- Unix peers ---- */

enum nfv_code vm_auth_peers_set(struct vm_auth_peers *p, bool is_gid, unsigned id,
                                enum vm_auth_role role, struct nfv_err *err)
{
    for (unsigned i = 0; i < p->n_items; i++)
        if (p->items[i].is_gid == is_gid && p->items[i].id == id) {
            p->items[i].role = role;
            return NFV_OK;
        }
    if (p->n_items == VM_AUTH_PEERS_MAX)
        return NFV_ERR(err, NFV_E_INVAL, "'unix_%s.%u': more than %d uid/gid mappings",
                       is_gid ? "gid" : "uid", id, VM_AUTH_PEERS_MAX);
    p->items[p->n_items++] = (struct vm_auth_peer){.is_gid = is_gid, .id = id, .role = role};
    return NFV_OK;
}

enum vm_auth_role vm_auth_peer_role(const struct vm_auth_peers *p, uid_t uid, gid_t gid,
                                    uid_t daemon_uid)
{
    enum vm_auth_role by_gid = VM_AUTH__COUNT;

    if (uid == 0 || uid == daemon_uid)
        return VM_AUTH_ADMIN;
    for (unsigned i = 0; i < p->n_items; i++) {
        const struct vm_auth_peer *e = &p->items[i];
        if (!e->is_gid && e->id == (unsigned)uid)
            return e->role;
        if (e->is_gid && e->id == (unsigned)gid && (by_gid == VM_AUTH__COUNT || e->role > by_gid))
            by_gid = e->role;
    }
    return by_gid != VM_AUTH__COUNT ? by_gid : p->default_role;
}
