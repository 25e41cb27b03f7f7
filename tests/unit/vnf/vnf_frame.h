/*
 * vnf_frame.h - test helper: builds Ethernet/IPv4/TCP|UDP|ICMP frames with
 * checksums computed by an independent, deliberately naive RFC 1071 sum
 * (big-endian words, no tricks), so tests of vnf/csum.h do not check the
 * code against itself.
 */
#ifndef VNF_FRAME_H
#define VNF_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct vf_spec {
    uint8_t proto;
    uint32_t src, dst;     /* host order */
    uint16_t sport, dport; /* ICMP: sport is the echo id */
    uint8_t icmp_type;
    uint8_t tcp_flags;
    uint8_t ihl; /* 0 -> 5 */
    size_t payload_size;
    int udp_no_csum; /* UDP checksum field 0 */
};

/* Writes the frame into @buf (>= 1600 bytes); returns its length. */
size_t vf_build(uint8_t *buf, const struct vf_spec *s);
/* Reference checksum over @len bytes (result as stored, host-order value of the field). */
uint16_t vf_ref_csum(const uint8_t *data, size_t len, uint32_t extra);
/* 1 if the IPv4 header checksum and the L4 checksum of the frame verify. */
int vf_verify(const uint8_t *frame, size_t len);
/* Recomputes the IPv4 header checksum after a test edited the header. */
void vf_fix_ip_csum(uint8_t *frame);

#endif
