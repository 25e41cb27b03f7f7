/*
 * fuzz_replay.c - deterministic stand-in for libFuzzer's main(), used by the
 * normal (gcc) build and CI.
 *
 * Usage: fuzz_replay_<target> CORPUS_DIR [N_MUTATIONS]
 *
 * Runs every file of CORPUS_DIR (sorted by name) through the harness's
 * LLVMFuzzerTestOneInput(), then N_MUTATIONS (default 2000, or
 * $VMMGR_FUZZ_MUTATIONS) inputs derived from the seeds by a fixed-seed
 * xorshift generator: bit flips, interesting bytes and tokens, deletions,
 * duplications, insertions, splices of two seeds and truncations, a few at a
 * time. The same binary and corpus always run the same inputs, so a failure
 * in CI reproduces locally; the input of a failing mutation is written to
 * ./fuzz-replay-crash-<target> before it runs (the harness may not return).
 *
 * Files named crash-* are reproducers of known, reported bugs that are not
 * fixed yet: they are skipped (listed on stdout) unless VMMGR_FUZZ_CRASHES=1.
 * An empty corpus is an error, so a lost seed directory cannot pass silently.
 * Real coverage-guided fuzzing is tests/fuzz/run.sh (clang, VMMGR_FUZZ=ON).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_util.h"

#define REPLAY_MAX_INPUT (64 * 1024)

struct replay_seed {
    char *name;
    uint8_t *data;
    size_t size;
};

struct replay_rng {
    uint64_t s;
};

static uint64_t replay_rand(struct replay_rng *r)
{
    /* xorshift64*: fast, deterministic across platforms. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

static size_t replay_below(struct replay_rng *r, size_t n)
{
    return n ? (size_t)(replay_rand(r) % n) : 0;
}

static int replay_cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct replay_seed *)a)->name, ((const struct replay_seed *)b)->name);
}

static bool replay_read(const char *path, uint8_t **ret_data, size_t *ret_size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0;

    if (!f)
        return false;
    for (;;) {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return false;
            }
            buf = nb;
        }
        size_t n = fread(buf + size, 1, cap - size, f);
        size += n;
        if (n == 0)
            break;
    }
    bool is_ok = !ferror(f);
    fclose(f);
    if (!is_ok) {
        free(buf);
        return false;
    }
    *ret_data = buf;
    *ret_size = size;
    return true;
}

/* Runs one input from an exactly sized heap copy, so ASan sees reads past
 * its end. */
static void replay_run(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
}

/* Bytes and tokens that steer the text parsers (list syntax, JSON, config
 * lines) and the packet parsers (lengths, flags, protocol numbers). */
static const char *const replay_tokens[] = {
    "0",
    "1",
    "-1",
    "4294967295",
    "18446744073709551616",
    "65535",
    "65536",
    "1024",
    "1023",
    ",",
    "-",
    "^",
    ":",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "\n",
    "#",
    "=",
    " ",
    "null",
    "true",
    "{}",
    "[]",
    "0-",
    "\0",
    "1e9",
    "0x10",
    "255.255.255.255",
    "/0",
    "/33",
    "\"\":",
    "\t",
};
static const uint8_t replay_bytes[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x0b, 0x11, 0x14, 0x40,
                                       0x45, 0x46, 0x4f, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x3a};

/* Applies 1..4 random edits to @buf (@size bytes, capacity REPLAY_MAX_INPUT);
 * @other is a second seed for splices. Returns the new size. */
static size_t replay_mutate(struct replay_rng *r, uint8_t *buf, size_t size,
                            const struct replay_seed *other)
{
    unsigned n_edits = 1 + (unsigned)replay_below(r, 4);

    for (unsigned e = 0; e < n_edits; e++) {
        size_t pos = replay_below(r, size + 1), len;
        switch (replay_below(r, 9)) {
        case 0: /* flip a bit */
            if (size)
                buf[replay_below(r, size)] ^= (uint8_t)(1u << replay_below(r, 8));
            break;
        case 1: /* an interesting byte */
            if (size)
                buf[replay_below(r, size)] = replay_bytes[replay_below(r, sizeof(replay_bytes))];
            break;
        case 2: /* a random byte */
            if (size)
                buf[replay_below(r, size)] = (uint8_t)replay_rand(r);
            break;
        case 3: { /* insert a token */
            const char *t =
                replay_tokens[replay_below(r, sizeof(replay_tokens) / sizeof(replay_tokens[0]))];
            len = t[0] ? strlen(t) : 1;
            if (size + len > REPLAY_MAX_INPUT)
                break;
            memmove(buf + pos + len, buf + pos, size - pos);
            memcpy(buf + pos, t, len);
            size += len;
            break;
        }
        case 4: /* delete a range */
            if (pos < size) {
                len = 1 + replay_below(r, size - pos < 16 ? size - pos : 16);
                memmove(buf + pos, buf + pos + len, size - pos - len);
                size -= len;
            }
            break;
        case 5: /* duplicate a range in place */
            if (pos < size) {
                len = 1 + replay_below(r, size - pos < 32 ? size - pos : 32);
                if (size + len > REPLAY_MAX_INPUT)
                    break;
                memmove(buf + pos + len, buf + pos, size - pos);
                size += len;
            }
            break;
        case 6: { /* splice: a chunk of another seed */
            if (!other->size)
                break;
            size_t from = replay_below(r, other->size);
            len = 1 + replay_below(r, other->size - from);
            if (size + len > REPLAY_MAX_INPUT)
                break;
            memmove(buf + pos + len, buf + pos, size - pos);
            memcpy(buf + pos, other->data + from, len);
            size += len;
            break;
        }
        case 7: /* truncate */
            size = pos;
            break;
        default: /* swap two bytes */
            if (size > 1) {
                size_t a = replay_below(r, size), b = replay_below(r, size);
                uint8_t t = buf[a];
                buf[a] = buf[b];
                buf[b] = t;
            }
            break;
        }
    }
    return size;
}

static void replay_save(const char *target, const uint8_t *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "fuzz-replay-crash-%s", target);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    if (size)
        fwrite(data, 1, size, f);
    fclose(f);
}

static const char *replay_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
    struct replay_seed *seeds = NULL;
    size_t n_seeds = 0, cap = 0;
    unsigned long n_mut = 2000;
    const char *env = getenv("VMMGR_FUZZ_MUTATIONS");
    bool is_crashes =
        getenv("VMMGR_FUZZ_CRASHES") && strcmp(getenv("VMMGR_FUZZ_CRASHES"), "1") == 0;
    int rc = 1;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR [N_MUTATIONS]\n", argv[0]);
        return 2;
    }
    if (argc == 3)
        env = argv[2];
    if (env) {
        char *end;
        errno = 0;
        n_mut = strtoul(env, &end, 10);
        if (errno || *end || end == env) {
            fprintf(stderr, "'%s': N_MUTATIONS must be a number\n", env);
            return 2;
        }
    }
    const char *target = replay_base(argv[0]);
    if (strncmp(target, "fuzz_replay_", 12) == 0)
        target += 12;

    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "'%s': cannot open corpus directory: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[4096];
        if (de->d_name[0] == '.')
            continue;
        if (strncmp(de->d_name, "crash-", 6) == 0 && !is_crashes) {
            printf("skipped known crash reproducer %s (VMMGR_FUZZ_CRASHES=1 runs it)\n",
                   de->d_name);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
        if (n_seeds == cap) {
            cap = cap ? cap * 2 : 16;
            struct replay_seed *ns = realloc(seeds, cap * sizeof(*ns));
            if (!ns)
                abort();
            seeds = ns;
        }
        struct replay_seed *s = &seeds[n_seeds];
        if (!replay_read(path, &s->data, &s->size)) {
            fprintf(stderr, "'%s': cannot read\n", path);
            closedir(d);
            goto out;
        }
        if (s->size > REPLAY_MAX_INPUT)
            s->size = REPLAY_MAX_INPUT;
        s->name = strdup(de->d_name);
        if (!s->name)
            abort();
        n_seeds++;
    }
    closedir(d);
    if (!n_seeds) {
        fprintf(stderr, "'%s': empty corpus\n", argv[1]);
        goto out;
    }
    qsort(seeds, n_seeds, sizeof(*seeds), replay_cmp_name);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n_seeds; i++) {
        replay_save(target, seeds[i].data, seeds[i].size);
        replay_run(seeds[i].data, seeds[i].size);
    }

    uint8_t *buf = malloc(REPLAY_MAX_INPUT);
    if (!buf)
        abort();
    /* A fixed seed per target name: deterministic, different per harness. */
    struct replay_rng rng = {UINT64_C(0x9e3779b97f4a7c15)};
    for (const char *p = target; *p; p++)
        rng.s = (rng.s ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
    if (!rng.s)
        rng.s = 1;
    for (unsigned long i = 0; i < n_mut; i++) {
        const struct replay_seed *s = &seeds[i % n_seeds];
        const struct replay_seed *o = &seeds[replay_below(&rng, n_seeds)];
        memcpy(buf, s->data, s->size);
        size_t size = replay_mutate(&rng, buf, s->size, o);
        replay_save(target, buf, size);
        replay_run(buf, size);
    }
    free(buf);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char path[256];
    snprintf(path, sizeof(path), "fuzz-replay-crash-%s", target);
    remove(path);
    printf("%s: %zu seeds, %lu mutations, %.0f ms, no crash\n", target, n_seeds, n_mut,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    rc = 0;
out:
    for (size_t i = 0; i < n_seeds; i++) {
        free(seeds[i].name);
        free(seeds[i].data);
    }
    free(seeds);
    return rc;
}
