/*
 * vnf/csum.h - Internet checksum: full computation and incremental update.
 *
 * Pure code (no DPDK). The VNFs never recompute a checksum over a packet they
 * forward: they patch it with RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for each
 * 16-bit word they change. One's-complement sums do not depend on byte order,
 * so every value here is a raw 16-bit word as it sits in the packet (network
 * order), read with memcpy; no byte swapping happens anywhere.
 * vnf_csum_set_ip()/vnf_csum_set_port() combine the header rewrite with the
 * updates of the IPv4 header checksum and the TCP/UDP/ICMP checksum.
 */
#ifndef VNF_CSUM_H
#define VNF_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "vnf/pkt.h"

/* One's-complement sum of @len bytes (odd tail padded with zero), folded, not inverted. */
uint32_t vnf_csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds @sum to 16 bits and inverts it: the value to store in a checksum field. */
uint16_t vnf_csum_fold(uint32_t sum);

/* RFC 1624 eqn. 3 for one 16-bit word @old_w replaced by @new_w; returns the new checksum. */
uint16_t vnf_csum_update16(uint16_t csum, uint16_t old_w, uint16_t new_w);
/* Same for a 32-bit field (an IPv4 address): two words at once. */
uint16_t vnf_csum_update32(uint16_t csum, uint32_t old_w, uint32_t new_w);

/*
 * Rewrites the source (is_src != 0) or destination IPv4 address of the parsed
 * packet @p in @frame to @new_ip (host order), updating the IPv4 header
 * checksum and, for TCP and UDP, the L4 checksum (pseudo-header). A UDP
 * checksum of 0 (none) stays 0; an updated UDP checksum of 0 is sent as 0xffff
 * (RFC 768). @p is updated too.
 */
void vnf_csum_set_ip(uint8_t *frame, struct vnf_pkt *p, int is_src, uint32_t new_ip);
/*
 * Rewrites the source or destination port of a TCP/UDP packet, or the echo
 * identifier of an ICMP echo (is_src ignored: both tuple ports change), to
 * @new_port (host order), updating the L4 checksum. @p is updated too.
 */
void vnf_csum_set_port(uint8_t *frame, struct vnf_pkt *p, int is_src, uint16_t new_port);

#endif /* VNF_CSUM_H */
