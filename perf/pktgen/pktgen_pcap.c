/*
 * pktgen_pcap.c - classic pcap reader for replay (see pktgen.h).
 *
 * The whole file is read into one buffer and indexed, so replay is a pointer
 * walk with no I/O on the TX path. Only the classic format is read (what
 * tcpdump -w, tshark -F pcap, scapy wrpcap and DPDK's net_pcap write); pcapng
 * is refused with a clear message rather than guessed at.
 */
#include "pktgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_HDR   24
#define PCAP_REC   16
#define LINK_ETHER 1

static uint32_t rd32(const uint8_t *p, bool is_swapped)
{
    if (is_swapped)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

void pktgen_pcap_free(struct pktgen_pcap *pcap)
{
    if (pcap == NULL)
        return;
    free(pcap->offset);
    free(pcap->len);
    free(pcap->data);
    free(pcap);
}

static enum nfv_code read_file(const char *path, uint8_t **ret_buf, size_t *ret_size,
                               struct nfv_err *err)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long size;

    if (f == NULL)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NFV_ERR(err, NFV_E_IO, "'%s': not a seekable file", path);
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL) {
        fclose(f);
        return NFV_ERR(err, NFV_E_NOMEM, "'%s': out of memory", path);
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NFV_ERR(err, NFV_E_IO, "'%s': read failed", path);
    }
    fclose(f);
    *ret_buf = buf;
    *ret_size = (size_t)size;
    return NFV_OK;
}

enum nfv_code pktgen_pcap_load(const char *path, size_t max_len, struct pktgen_pcap **ret_pcap,
                               size_t *ret_n_truncated, struct nfv_err *err)
{
    struct pktgen_pcap *pc = NULL;
    uint8_t *buf = NULL;
    size_t size = 0, pos, n = 0, n_trunc = 0;
    uint32_t magic;
    bool is_swapped = false;
    enum nfv_code rc;

    rc = read_file(path, &buf, &size, err);
    if (rc != NFV_OK)
        return rc;
    if (size < PCAP_HDR) {
        rc = NFV_ERR(err, NFV_E_PARSE, "%s: too short for a pcap header", path);
        goto cleanup;
    }
    magic = rd32(buf, false);
    if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
        is_swapped = true;
    } else if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
        rc = NFV_ERR(err, NFV_E_PARSE, "%s: not a classic pcap file (magic 0x%08x)", path, magic);
        goto cleanup;
    }
    if (rd32(buf + 20, is_swapped) != LINK_ETHER) {
        rc = NFV_ERR(err, NFV_E_PARSE, "%s: link type %u is not Ethernet", path,
                     rd32(buf + 20, is_swapped));
        goto cleanup;
    }
    /* First pass: validate and count. */
    for (pos = PCAP_HDR; pos < size; n++) {
        uint32_t incl;

        if (size - pos < PCAP_REC) {
            rc = NFV_ERR(err, NFV_E_PARSE, "%s: record %zu: truncated header", path, n + 1);
            goto cleanup;
        }
        incl = rd32(buf + pos + 8, is_swapped);
        if (incl > size - pos - PCAP_REC) {
            rc = NFV_ERR(err, NFV_E_PARSE, "%s: record %zu: truncated data", path, n + 1);
            goto cleanup;
        }
        pos += PCAP_REC + incl;
    }
    if (n == 0) {
        rc = NFV_ERR(err, NFV_E_PARSE, "%s: no frames", path);
        goto cleanup;
    }
    pc = calloc(1, sizeof(*pc));
    if (pc == NULL || (pc->offset = calloc(n, sizeof(*pc->offset))) == NULL ||
        (pc->len = calloc(n, sizeof(*pc->len))) == NULL) {
        rc = NFV_ERR(err, NFV_E_NOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    pc->n_frames = n;
    for (pos = PCAP_HDR, n = 0; pos < size; n++) {
        size_t incl = rd32(buf + pos + 8, is_swapped);
        size_t len = incl;

        if (len > max_len) {
            len = max_len;
            n_trunc++;
        }
        if (len > UINT16_MAX)
            len = UINT16_MAX;
        pc->offset[n] = pos + PCAP_REC;
        pc->len[n] = (uint16_t)len;
        pos += PCAP_REC + incl;
    }
    pc->data = buf; /* ownership moves to pc */
    buf = NULL;
    if (ret_n_truncated != NULL)
        *ret_n_truncated = n_trunc;
    *ret_pcap = pc;
    pc = NULL;
    rc = NFV_OK;
cleanup:
    pktgen_pcap_free(pc);
    free(buf);
    return rc;
}
