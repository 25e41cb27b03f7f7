/*
 * bench_util.h - clocks and percentiles shared by the placement benchmarks
 * (bench_place.c, bench_incremental.c). Header-only: each benchmark is one
 * executable.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

static inline double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time of this thread: on a 2-core machine shared with other jobs the
 * wall clock mostly measures preemption; both are reported. */
static inline double bench_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile @p (0..1) of @v[0..n) (sorts @v); 0 when empty. */
static inline double bench_pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

#endif /* BENCH_UTIL_H */
