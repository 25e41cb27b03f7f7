/*
 * fuzz_pktgen_opts.c - vmmgr-pktgen's command line after the EAL's
 * (pktgen_opts_parse in perf/pktgen/pktgen_opts.h: getopt_long plus the
 * range, IMIX, rate and port-list parsers behind it).
 *
 * Input: NUL- or newline-separated arguments (at most 64); argv[0] is
 * "vmmgr-pktgen". Properties: errors carry a message naming the option;
 * accepted options keep their documented bounds (1..8 TX ports, burst
 * 1..64, IMIX weights summing to <= PKTGEN_IMIX_MAX_SEQ, sizes 64..9018,
 * ranges min <= max). Seed seed-refused-size-after-count is the regression
 * input of the UB this harness found (a refused --size converting --count's
 * stale double, fixed in ee76a3d).
 */
#include <getopt.h>

#include "fuzz_util.h"
#include "pktgen_opts.h"

#define FUZZ_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[FUZZ_MAX_ARGS + 2];
    int argc = 0;
    struct pktgen_opts o;
    struct nfv_err err;

    if (size > 4096)
        return 0;
    char *text = fuzz_strndup(data, size);
    argv[argc++] = "vmmgr-pktgen";
    char *p = text, *end = text + size;
    while (p <= end && argc <= FUZZ_MAX_ARGS) {
        char *q = p;
        while (q < end && *q != '\0' && *q != '\n')
            q++;
        *q = '\0';
        argv[argc++] = p;
        p = q + 1;
    }
    argv[argc] = NULL;

    opterr = 0; /* getopt's own messages would flood the replay log */
    if (pktgen_opts_parse(argc, argv, &o, &err) != NFV_OK) {
        FUZZ_CHECK(err.msg[0]);
    } else if (!o.is_help) {
        FUZZ_CHECK(o.n_tx_ports >= 1 && o.n_tx_ports <= PKTGEN_MAX_PORTS);
        FUZZ_CHECK(o.burst >= 1 && o.burst <= PKTGEN_BURST_MAX);
        FUZZ_CHECK(o.imix.n_sizes >= 1 && o.imix.n_sizes <= PKTGEN_IMIX_MAX_SIZES);
        unsigned w = 0;
        for (unsigned i = 0; i < o.imix.n_sizes; i++) {
            FUZZ_CHECK(o.imix.size[i] >= 64 && o.imix.size[i] <= PKTGEN_FRAME_MAX + 4);
            w += o.imix.weight[i];
        }
        FUZZ_CHECK(w >= 1 && w <= PKTGEN_IMIX_MAX_SEQ);
        uint16_t seq[PKTGEN_IMIX_MAX_SEQ];
        FUZZ_CHECK(pktgen_imix_sequence(&o.imix, seq) == w);
        FUZZ_CHECK(o.flows.src_ip.min <= o.flows.src_ip.max);
        FUZZ_CHECK(o.flows.dst_port.min <= o.flows.dst_port.max);
        FUZZ_CHECK(pktgen_flow_spec_count(&o.flows) >= 1);
    }
    free(text);
    return 0;
}
