/*
 * fuzz_util.h - helpers shared by the libFuzzer harnesses of tests/fuzz/.
 *
 * Every harness is one LLVMFuzzerTestOneInput() in its own fuzz_<target>.c.
 * It is linked either with libFuzzer (clang, VMMGR_FUZZ=ON) or with
 * fuzz_replay.c (the deterministic corpus replay of the normal build). A
 * finding is a crash: a sanitizer report, or FUZZ_CHECK failing on a
 * property the parser promises (round trips, bounds), which aborts with the
 * file and line. Harnesses free everything they allocate, so the leak check
 * of ASan runs cleanly.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test was violated: report and crash, so both
 * libFuzzer and the replay driver record the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as an owned NUL-terminated string (bytes after an embedded NUL
 * are kept but invisible to C string parsers, as they would be in a file
 * read into a string). Aborts on allocation failure: not a finding. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits the input at the first byte @sep: [0, k) and (k, size). When @sep is
 * absent, the second part is empty. Returns k. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep)
{
    const uint8_t *p = size ? memchr(data, sep, size) : NULL;
    return p ? (size_t)(p - data) : size;
}

#endif /* FUZZ_UTIL_H */
