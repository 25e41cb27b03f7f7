/*
 * pktgen_imix.c - frame-size mixes (see pktgen.h).
 *
 * The sequence uses smooth weighted round-robin (the algorithm nginx uses for
 * upstream weights): every step each size gains its weight, the size with the
 * largest credit is picked and loses the total. Over one period each size
 * appears exactly weight times, spread as evenly as possible, so a short
 * trial still sees the intended mix.
 */
#include "pktgen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct pktgen_imix simple_imix = {
    .n_sizes = 3, .size = {64, 570, 1518}, .weight = {7, 4, 1}};

enum nfv_code pktgen_imix_parse(const char *s, struct pktgen_imix *ret_imix, struct nfv_err *err)
{
    struct pktgen_imix m = {0};
    const char *p = s;
    unsigned total = 0;

    if (s == NULL || *s == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'imix': empty");
    if (strcmp(s, "imix") == 0) {
        *ret_imix = simple_imix;
        return NFV_OK;
    }
    while (*p != '\0') {
        char *end;
        long size, weight;

        if (m.n_sizes == PKTGEN_IMIX_MAX_SIZES)
            return NFV_ERR(err, NFV_E_INVAL, "'imix': more than %d sizes", PKTGEN_IMIX_MAX_SIZES);
        errno = 0;
        size = strtol(p, &end, 10);
        if (end == p || *end != ':' || errno != 0)
            return NFV_ERR(err, NFV_E_INVAL, "'imix': expected SIZE:WEIGHT at '%s'", p);
        p = end + 1;
        weight = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || errno != 0)
            return NFV_ERR(err, NFV_E_INVAL, "'imix': expected a weight at '%s'", p);
        if (size < PKTGEN_FRAME_MIN + 4 || size > PKTGEN_FRAME_MAX + 4)
            return NFV_ERR(err, NFV_E_INVAL, "'imix': size %ld is outside %d..%d", size,
                           PKTGEN_FRAME_MIN + 4, PKTGEN_FRAME_MAX + 4);
        if (weight < 1 || weight > 1000)
            return NFV_ERR(err, NFV_E_INVAL, "'imix': weight %ld is outside 1..1000", weight);
        m.size[m.n_sizes] = (uint16_t)size;
        m.weight[m.n_sizes] = (uint16_t)weight;
        m.n_sizes++;
        total += (unsigned)weight;
        p = *end == ',' ? end + 1 : end;
    }
    if (total > PKTGEN_IMIX_MAX_SEQ)
        return NFV_ERR(err, NFV_E_INVAL, "'imix': weights sum to %u, more than %d", total,
                       PKTGEN_IMIX_MAX_SEQ);
    *ret_imix = m;
    return NFV_OK;
}

unsigned pktgen_imix_sequence(const struct pktgen_imix *imix, uint16_t *seq)
{
    long credit[PKTGEN_IMIX_MAX_SIZES] = {0};
    long total = 0;
    unsigned n = 0;

    for (unsigned i = 0; i < imix->n_sizes; i++)
        total += imix->weight[i];
    for (long step = 0; step < total && n < PKTGEN_IMIX_MAX_SEQ; step++) {
        unsigned best = 0;

        for (unsigned i = 0; i < imix->n_sizes; i++) {
            credit[i] += imix->weight[i];
            if (credit[i] > credit[best])
                best = i;
        }
        credit[best] -= total;
        seq[n++] = imix->size[best];
    }
    return n;
}

double pktgen_imix_mean_size(const struct pktgen_imix *imix)
{
    double sum = 0, w = 0;

    for (unsigned i = 0; i < imix->n_sizes; i++) {
        sum += (double)imix->size[i] * imix->weight[i];
        w += imix->weight[i];
    }
    return w > 0 ? sum / w : 0;
}
