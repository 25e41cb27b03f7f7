/*
 * fuzz_pktgen_pcap.c - vmmgr-pktgen's pcap replay loader (pktgen_pcap_load
 * in perf/pktgen/pktgen.h): classic pcap, either byte order, micro- or
 * nanosecond, link type Ethernet.
 *
 * The loader takes a path, so the input is put in a memfd and loaded as
 * /proc/self/fd/N (no file on disk, nothing left behind). The maximum frame
 * length comes from the first input byte (60..315). Properties: errors
 * carry a message; a loaded capture has >= 1 frame, each of length
 * <= max_len lying inside the data buffer; every frame goes through
 * pktgen_pkt_parse (what the replay does with it) without a fault.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "pktgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err;
    struct pktgen_pcap *pc = NULL;
    size_t n_trunc = 0;
    char path[64];

    if (size < 1 || size > 1 << 20)
        return 0;
    size_t max_len = 60 + data[0];
    int fd = memfd_create("fuzz-pcap", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    if (pktgen_pcap_load(path, max_len, &pc, &n_trunc, &err) == NFV_OK) {
        FUZZ_CHECK(pc->n_frames >= 1 && n_trunc <= pc->n_frames);
        size_t data_size = 0;
        for (size_t i = 0; i < pc->n_frames; i++) {
            FUZZ_CHECK(pc->len[i] <= max_len);
            if (pc->offset[i] + pc->len[i] > data_size)
                data_size = pc->offset[i] + pc->len[i];
            struct pktgen_pkt_info info;
            (void)pktgen_pkt_parse(pc->data + pc->offset[i], pc->len[i], &info);
        }
        FUZZ_CHECK(data_size <= size);
        pktgen_pcap_free(pc);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    close(fd);
    return 0;
}
