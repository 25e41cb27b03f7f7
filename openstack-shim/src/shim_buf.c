/*
 * shim_buf.c - the bounded byte buffer (see shim_buf.h). Pure.
 */
#include "shim/shim_buf.h"

#include <stdlib.h>
#include <string.h>

bool shim_buf_append(struct shim_buf *b, const void *p, size_t n, size_t max)
{
    if (n > max || b->len + n > max)
        return false;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}
