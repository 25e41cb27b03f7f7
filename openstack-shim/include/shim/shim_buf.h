/*
 * shim/shim_buf.h - a growing, NUL-terminated byte buffer with a hard size
 * limit: request bodies (shim_http.c) and vmmgrd's answers (shim_vmmgr.c).
 */
#ifndef SHIM_BUF_H
#define SHIM_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct shim_buf {
    char *data; /* owned, NUL-terminated once anything was added; free() it */
    size_t len, cap;
};

/* Appends @n bytes of @p. False (and nothing added) when the buffer would
 * exceed @max bytes or memory runs out. */
bool shim_buf_append(struct shim_buf *b, const void *p, size_t n, size_t max);

#endif /* SHIM_BUF_H */
