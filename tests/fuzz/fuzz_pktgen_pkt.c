/*
 * fuzz_pktgen_pkt.c - vmmgr-pktgen's receive path on raw frames
 * (pktgen_pkt_parse, pktgen_pkt_reflect, pktgen_pkt_csum_ok in
 * perf/pktgen/pktgen.h): what --reflect and the RX counters do with every
 * frame a device under test sends back.
 *
 * Properties: reflect only touches frames parse accepts; a reflected frame
 * parses again with addresses (and, with a whole L4 header, ports) swapped;
 * checksums that verified before still verify; reflecting twice gives the
 * original frame back.
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "pktgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pktgen_pkt_info a, b;

    if (size > 9100)
        return 0;
    uint8_t *f = calloc(1, size ? size : 1);
    FUZZ_CHECK(f);
    if (size)
        memcpy(f, data, size);
    bool is_parsed = pktgen_pkt_parse(f, size, &a);
    bool is_csum_ok = pktgen_pkt_csum_ok(f, size);
    if (!pktgen_pkt_reflect(f, size)) {
        FUZZ_CHECK(size == 0 || memcmp(f, data, size) == 0);
        free(f);
        return 0;
    }
    FUZZ_CHECK(is_parsed && a.has_ports);
    FUZZ_CHECK(pktgen_pkt_parse(f, size, &b));
    FUZZ_CHECK(b.tuple.src_ip == a.tuple.dst_ip && b.tuple.dst_ip == a.tuple.src_ip);
    FUZZ_CHECK(b.tuple.src_port == a.tuple.dst_port && b.tuple.dst_port == a.tuple.src_port);
    if (is_csum_ok)
        FUZZ_CHECK(pktgen_pkt_csum_ok(f, size));
    FUZZ_CHECK(pktgen_pkt_reflect(f, size));
    FUZZ_CHECK(memcmp(f, data, size) == 0);
    free(f);
    return 0;
}
