/*
 * pktgen_fit.c - line fits for the same-core cycles measurement (see
 * pktgen.h and run_windows in pktgen_main.c).
 *
 * Each window gives (frames forwarded, TSC cycles). The slope of cycles over
 * frames is the cost per frame; the intercept is what a window costs however
 * many frames it carries (signals, context switches, the DUT's timers).
 */
#include "pktgen.h"

#include <stdlib.h>

/* Least-squares slope and intercept of y over x. */
void pktgen_fit_line(const double *x, const double *y, unsigned n, double *ret_slope,
                     double *ret_icpt)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, d;

    for (unsigned i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    d = n * sxx - sx * sx;
    *ret_slope = d != 0 ? (n * sxy - sx * sy) / d : 0;
    *ret_icpt = n > 0 ? (sy - *ret_slope * sx) / n : 0;
}

int pktgen_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The fit over the windows whose frame count is at least the median of their
 * length class: a window in which some other process of the machine got the
 * core forwards fewer frames, and would bias the slope. */
void pktgen_fit_best_half(const double *x, const double *y, const unsigned *cls, unsigned n,
                          double *ret_slope, double *ret_icpt, unsigned *ret_n)
{
    double *sx = calloc(n ? n : 1, sizeof(double)), *kx = calloc(n ? n : 1, sizeof(double));
    double *ky = calloc(n ? n : 1, sizeof(double)), med[2] = {0, 0};
    unsigned k = 0;

    *ret_slope = *ret_icpt = 0;
    *ret_n = 0;
    if (sx == NULL || kx == NULL || ky == NULL)
        goto cleanup;
    for (unsigned c = 0; c < 2; c++) {
        unsigned m = 0;

        for (unsigned i = 0; i < n; i++)
            if (cls[i] == c)
                sx[m++] = x[i];
        qsort(sx, m, sizeof(double), pktgen_cmp_double);
        med[c] = m ? sx[m / 2] : 0;
    }
    for (unsigned i = 0; i < n; i++) {
        if (x[i] >= med[cls[i]]) {
            kx[k] = x[i];
            ky[k] = y[i];
            k++;
        }
    }
    pktgen_fit_line(kx, ky, k, ret_slope, ret_icpt);
    *ret_n = k;
cleanup:
    free(sx);
    free(kx);
    free(ky);
}
