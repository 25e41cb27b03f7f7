/*
 * pktgen_pace.c - TSC pacing arithmetic (see pktgen.h).
 *
 * The schedule is absolute: packet k is due at start + k * hz / pps, so the
 * rate over a trial is exact however the TX ring behaves. The product
 * elapsed * pps overflows 64 bits after minutes at Mpps, hence the double:
 * at 2^53 its integer part is still exact for any realistic count.
 */
#include "pktgen.h"

double pktgen_pps_from_pct(double pct, double line_bps, double frame_size)
{
    if (frame_size <= 0)
        return 0;
    return line_bps * (pct / 100.0) / ((frame_size + PKTGEN_WIRE_OVERHEAD) * 8.0);
}

void pktgen_pace_init(struct pktgen_pace *p, uint64_t hz, double pps, uint64_t now_tsc)
{
    p->hz = hz;
    p->pps = pps;
    p->start_tsc = now_tsc;
    p->n_sent = 0;
    /* Allow a backlog of at most 1 ms of traffic (and at least one burst):
     * after a longer stall the schedule slides instead of bursting. */
    p->max_lag = (uint64_t)(pps / 1000.0);
    if (p->max_lag < 64)
        p->max_lag = 64;
}

unsigned pktgen_pace_due(struct pktgen_pace *p, uint64_t now_tsc, unsigned max_burst)
{
    uint64_t want, due;

    if (p->pps <= 0)
        return max_burst;
    if (now_tsc <= p->start_tsc)
        return 0;
    want = (uint64_t)((double)(now_tsc - p->start_tsc) * p->pps / (double)p->hz);
    if (want <= p->n_sent)
        return 0;
    due = want - p->n_sent;
    if (due > p->max_lag) {
        /* Slide the schedule: forget what could not be sent in time. */
        p->n_sent = want - p->max_lag;
        due = p->max_lag;
    }
    return due > max_burst ? max_burst : (unsigned)due;
}

void pktgen_pace_sent(struct pktgen_pace *p, unsigned n)
{
    p->n_sent += n;
}
