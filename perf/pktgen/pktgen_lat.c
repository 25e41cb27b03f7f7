/*
 * pktgen_lat.c - latency histogram (see pktgen.h).
 *
 * Values (nanoseconds in vmmgr-pktgen, but any unit works) below 64 have a
 * bucket each; above, each power of two [2^m, 2^(m+1)) is split into 32
 * equal sub-buckets, as HdrHistogram does with 5 significant bits. Adding is
 * a count-leading-zeros and a shift; the array is fixed (no allocation), so
 * one histogram per port lives in the per-lcore state.
 */
#include "pktgen.h"

#include <string.h>

static unsigned lat_index(uint64_t v)
{
    unsigned msb, e;
    unsigned idx;

    if (v < 64)
        return (unsigned)v;
    msb = 63u - (unsigned)__builtin_clzll(v);
    e = msb - 5; /* >= 1: v >> e lies in [32, 64) */
    idx = 64 + (e - 1) * PKTGEN_LAT_SUB + (unsigned)((v >> e) & (PKTGEN_LAT_SUB - 1));
    return idx < PKTGEN_LAT_BUCKETS ? idx : PKTGEN_LAT_BUCKETS - 1;
}

static uint64_t lat_lower(unsigned idx)
{
    unsigned e, sub;

    if (idx < 64)
        return idx;
    e = (idx - 64) / PKTGEN_LAT_SUB + 1;
    sub = (idx - 64) % PKTGEN_LAT_SUB;
    return (uint64_t)(PKTGEN_LAT_SUB + sub) << e;
}

void pktgen_lat_init(struct pktgen_lat *l)
{
    memset(l, 0, sizeof(*l));
    l->min = UINT64_MAX;
}

void pktgen_lat_add(struct pktgen_lat *l, uint64_t value)
{
    l->n++;
    l->sum += value;
    if (value < l->min)
        l->min = value;
    if (value > l->max)
        l->max = value;
    l->count[lat_index(value)]++;
}

void pktgen_lat_merge(struct pktgen_lat *to, const struct pktgen_lat *from)
{
    if (from->n == 0)
        return;
    to->n += from->n;
    to->sum += from->sum;
    if (from->min < to->min)
        to->min = from->min;
    if (from->max > to->max)
        to->max = from->max;
    for (unsigned i = 0; i < PKTGEN_LAT_BUCKETS; i++)
        to->count[i] += from->count[i];
}

uint64_t pktgen_lat_percentile(const struct pktgen_lat *l, double pct)
{
    uint64_t rank, acc = 0;

    if (l->n == 0)
        return 0;
    if (pct <= 0)
        return l->min;
    if (pct >= 100)
        return l->max;
    /* Nearest-rank definition: the smallest value with at least pct% of the
     * samples at or below it. */
    rank = (uint64_t)(pct / 100.0 * (double)l->n);
    if ((double)rank < pct / 100.0 * (double)l->n)
        rank++;
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < PKTGEN_LAT_BUCKETS; i++) {
        acc += l->count[i];
        if (acc >= rank) {
            uint64_t v = lat_lower(i);

            if (v < l->min)
                v = l->min;
            if (v > l->max)
                v = l->max;
            return v;
        }
    }
    return l->max;
}

double pktgen_lat_mean(const struct pktgen_lat *l)
{
    return l->n ? (double)l->sum / (double)l->n : 0.0;
}
