/*
 * pktgen_seq.c - loss, reordering and duplicate accounting (see pktgen.h).
 *
 * The wire carries 32 bits of sequence number; they are extended to 64 bits
 * around the next expected value, so a stream may run past 4G packets.
 * A bitmap of the last PKTGEN_SEQ_WINDOW numbers remembers which arrived, so
 * a late packet that fills a gap (reordered) is told apart from a second copy
 * (duplicate). Everything is O(1) per packet except a jump forward, which
 * clears at most one window of bits.
 */
#include "pktgen.h"

#include <string.h>

#define WORDS (PKTGEN_SEQ_WINDOW / 64)

void pktgen_seq_init(struct pktgen_seq *s)
{
    memset(s, 0, sizeof(*s));
}

static uint64_t seq_extend(uint64_t next, uint32_t wire)
{
    uint64_t ext = (next & ~(uint64_t)UINT32_MAX) | wire;

    /* Pick the candidate nearest to next among ext - 2^32, ext, ext + 2^32. */
    if (ext > next && ext - next > (1ull << 31) && ext >= (1ull << 32))
        ext -= 1ull << 32;
    else if (ext < next && next - ext > (1ull << 31))
        ext += 1ull << 32;
    return ext;
}

static bool bit_test(const struct pktgen_seq *s, uint64_t x)
{
    unsigned i = (unsigned)(x % PKTGEN_SEQ_WINDOW);

    return (s->seen[i / 64] >> (i % 64)) & 1u;
}

static void bit_set(struct pktgen_seq *s, uint64_t x)
{
    unsigned i = (unsigned)(x % PKTGEN_SEQ_WINDOW);

    s->seen[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(struct pktgen_seq *s, uint64_t x)
{
    unsigned i = (unsigned)(x % PKTGEN_SEQ_WINDOW);

    s->seen[i / 64] &= ~(1ull << (i % 64));
}

void pktgen_seq_rx(struct pktgen_seq *s, uint32_t wire_seq)
{
    uint64_t x = seq_extend(s->next, wire_seq);

    if (x >= s->next) {
        /* In order or ahead: the numbers skipped are (for now) missing. */
        if (x - s->next >= PKTGEN_SEQ_WINDOW) {
            memset(s->seen, 0, sizeof(s->seen));
        } else {
            for (uint64_t k = s->next; k < x; k++)
                bit_clear(s, k);
        }
        s->n_gap += x - s->next;
        bit_set(s, x);
        s->next = x + 1;
        s->n_rx++;
        return;
    }
    if (s->next - x > PKTGEN_SEQ_WINDOW) {
        /* Too old to tell late from duplicate: count it apart. */
        s->n_too_late++;
        return;
    }
    if (bit_test(s, x)) {
        s->n_dup++;
        return;
    }
    bit_set(s, x);
    s->n_rx++;
    s->n_reorder++;
    if (s->n_gap > 0)
        s->n_gap--;
}
