/*
 * pin/cpuset.h - fixed-size CPU bitmaps and the cpuset list syntax.
 *
 * A struct pin_cpuset is a plain bitmap of host PUs indexed by their OS index
 * (the number Linux, libvirt and `virsh vcpupin` use). It is a value type:
 * copy it with `=`, no heap, so topology, pools, allocations and plans can
 * hold several and be cloned with memcpy. All set operations are inline word
 * loops (PIN_CPUSET_WORDS words), which is what keeps the planner in the
 * microsecond range.
 *
 * The text form is the list syntax shared by Nova (cpu_dedicated_set), libvirt
 * (cpuset=) and the kernel (Cpus_allowed_list): "0-3,8,^2" = {0,1,3,8}.
 * Exclusions ("^N" or "^N-M") apply after all inclusions, as in Nova.
 *
 * Neighbours: topo.h (which PUs exist), pools.h, alloc.h, plan.h.
 * Pure: no I/O, no allocation.
 */
#ifndef PIN_CPUSET_H
#define PIN_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

/* Largest host PU OS index + 1 the model supports (a 2 x 128-core SMT host
 * has 512 PUs; 1024 leaves room). A cpuset is 128 bytes. */
#define PIN_MAX_PUS      1024
#define PIN_CPUSET_WORDS (PIN_MAX_PUS / 64)

struct pin_cpuset {
    uint64_t w[PIN_CPUSET_WORDS];
};

static inline void pin_cpuset_zero(struct pin_cpuset *s)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        s->w[i] = 0;
}

/* @pu must be < PIN_MAX_PUS (asserted by callers; not checked here). */
static inline void pin_cpuset_set(struct pin_cpuset *s, unsigned pu)
{
    s->w[pu >> 6] |= UINT64_C(1) << (pu & 63);
}

static inline void pin_cpuset_clr(struct pin_cpuset *s, unsigned pu)
{
    s->w[pu >> 6] &= ~(UINT64_C(1) << (pu & 63));
}

static inline bool pin_cpuset_test(const struct pin_cpuset *s, unsigned pu)
{
    return pu < PIN_MAX_PUS && (s->w[pu >> 6] >> (pu & 63)) & 1u;
}

static inline unsigned pin_cpuset_count(const struct pin_cpuset *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        n += (unsigned)__builtin_popcountll(s->w[i]);
    return n;
}

static inline bool pin_cpuset_is_empty(const struct pin_cpuset *s)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        if (s->w[i])
            return false;
    return true;
}

static inline bool pin_cpuset_equal(const struct pin_cpuset *a, const struct pin_cpuset *b)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        if (a->w[i] != b->w[i])
            return false;
    return true;
}

/* true if @a and @b share at least one PU. */
static inline bool pin_cpuset_intersects(const struct pin_cpuset *a, const struct pin_cpuset *b)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        if (a->w[i] & b->w[i])
            return true;
    return false;
}

/* true if every PU of @sub is in @super. */
static inline bool pin_cpuset_is_subset(const struct pin_cpuset *sub,
                                        const struct pin_cpuset *super)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        if (sub->w[i] & ~super->w[i])
            return false;
    return true;
}

/* dst = a | b, dst = a & b, dst = a & ~b (dst may alias either operand). */
static inline void pin_cpuset_or(struct pin_cpuset *dst, const struct pin_cpuset *a,
                                 const struct pin_cpuset *b)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        dst->w[i] = a->w[i] | b->w[i];
}

static inline void pin_cpuset_and(struct pin_cpuset *dst, const struct pin_cpuset *a,
                                  const struct pin_cpuset *b)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        dst->w[i] = a->w[i] & b->w[i];
}

static inline void pin_cpuset_andnot(struct pin_cpuset *dst, const struct pin_cpuset *a,
                                     const struct pin_cpuset *b)
{
    for (size_t i = 0; i < PIN_CPUSET_WORDS; i++)
        dst->w[i] = a->w[i] & ~b->w[i];
}

/* Lowest PU >= @from in @s, or -1 if none. Iterate with
 * for (int pu = pin_cpuset_next(s, 0); pu >= 0; pu = pin_cpuset_next(s, pu + 1)). */
static inline int pin_cpuset_next(const struct pin_cpuset *s, unsigned from)
{
    if (from >= PIN_MAX_PUS)
        return -1;
    size_t i = from >> 6;
    uint64_t w = s->w[i] & (~UINT64_C(0) << (from & 63));
    for (;;) {
        if (w)
            return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
        if (++i == PIN_CPUSET_WORDS)
            return -1;
        w = s->w[i];
    }
}

static inline int pin_cpuset_first(const struct pin_cpuset *s)
{
    return pin_cpuset_next(s, 0);
}

/*
 * Parses the list syntax "0-3,8,^2" into @ret_set (written only on success).
 * Whitespace around items is allowed. Every index must be < @n_max (the host's
 * PU count limit; pass PIN_MAX_PUS when unknown). An empty string or a list
 * whose exclusions remove everything gives an empty set only when
 * @is_empty_ok; otherwise NFV_E_INVAL.
 * Errors: NFV_E_INVAL with a message that quotes the offending item, e.g.
 * "'3-1': range is reversed" (the caller prefixes the option name).
 */
enum nfv_code pin_cpuset_parse(const char *text, unsigned n_max, bool is_empty_ok,
                               struct pin_cpuset *ret_set, struct nfv_err *err);

/*
 * Formats @s as the shortest list ("0-3,8"; "" when empty) into @buf.
 * Returns the length the full text needs (excluding the NUL), like snprintf:
 * the output was truncated if the result >= @buf_size.
 */
size_t pin_cpuset_format(const struct pin_cpuset *s, char *buf, size_t buf_size);

#endif /* PIN_CPUSET_H */
