/*
 * csum.c - Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * The update uses eqn. 3 of RFC 1624, HC' = ~(~HC + ~m + m'), which, unlike
 * eqn. 2 of RFC 1141, never produces 0x0000 for a header whose sum is 0xffff
 * ("-0"), so a patched checksum equals a recomputed one bit for bit.
 */
#include "vnf/csum.h"

#include <arpa/inet.h>
#include <string.h>

uint32_t vnf_csum_partial(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *b = data;
    uint64_t acc = sum;

    while (len >= 2) {
        uint16_t w;
        memcpy(&w, b, 2);
        acc += w;
        b += 2;
        len -= 2;
    }
    if (len) {
        uint16_t w = 0;
        memcpy(&w, b, 1);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}
