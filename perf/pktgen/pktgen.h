/*
 * pktgen.h - the pure core of vmmgr-pktgen, the DPDK traffic generator.
 *
 * vmmgr-pktgen is split like the rest of vmmgr (STYLE.md, "pure core, thin
 * adapters"): everything that decides what to send and what the received
 * traffic means lives behind this header and includes no DPDK header, reads
 * no clock (TSC values are passed in) and is deterministic, so the cmocka
 * suite in tests/unit/pktgen covers it exactly. The DPDK glue is
 * pktgen_main.c (options, EAL, ports, the TX/RX loop, RFC 2544 driver).
 *
 * Pieces, one file each:
 *   pktgen_flow.c    flow ranges (src/dst IP, src/dst port) and their iteration
 *   pktgen_imix.c    frame-size mixes (IMIX) as a smooth repeating sequence
 *   pktgen_pace.c    TSC pacing arithmetic and line-rate conversion
 *   pktgen_seq.c     per-stream sequence accounting: loss, reordering, duplicates
 *   pktgen_lat.c     latency histogram with min/avg/percentiles/max
 *   pktgen_rfc2544.c RFC 2544 throughput binary search state machine
 *   pktgen_pkt.c     Ethernet/IPv4/UDP|TCP frame building, checksums, the
 *                    payload stamp (sequence number + TX TSC) and its parser
 *   pktgen_pcap.c    classic pcap file reader for replay
 *   pktgen_fit.c     line fits of the same-core cycles windows
 * Option parsing (also pure) is pktgen_opts.h.
 */
#ifndef PKTGEN_H
#define PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfv/err.h"

/* ---- flow ranges (pktgen_flow.c) ---------------------------------------- */

/* An inclusive range of host-order values; a single value has min == max. */
struct pktgen_range {
    uint32_t min;
    uint32_t max;
};

/* The four fields that vary per packet. Ports are 0..65535. */
struct pktgen_flow_spec {
    struct pktgen_range src_ip;
    struct pktgen_range dst_ip;
    struct pktgen_range src_port;
    struct pktgen_range dst_port;
};

/* One flow's 5-tuple minus the protocol, host byte order. */
struct pktgen_tuple {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
};

/* Walks every combination of a spec like an odometer: the source port turns
 * fastest, then the destination port, the source IP and the destination IP,
 * so consecutive packets hit different flows (as Pktgen-DPDK's range mode). */
struct pktgen_flow_iter {
    struct pktgen_flow_spec spec;
    struct pktgen_tuple cur;
};

/*
 * Parses "A.B.C.D" or "A.B.C.D-E.F.G.H" (is_ip) or "N" / "N-M" (ports,
 * 0..65535) into @ret_range. Gives NFV_E_INVAL naming @what if malformed or
 * if min > max.
 */
enum nfv_code pktgen_range_parse(const char *s, bool is_ip, const char *what,
                                 struct pktgen_range *ret_range, struct nfv_err *err);
/* Parses dotted-quad IPv4 into host order; false if malformed. */
bool pktgen_ipv4_parse(const char *s, uint32_t *ret_ip);
/* Number of distinct tuples in @spec (product of the four range widths). */
uint64_t pktgen_flow_spec_count(const struct pktgen_flow_spec *spec);
/* Starts @it at the first tuple (all minima). */
void pktgen_flow_iter_init(struct pktgen_flow_iter *it, const struct pktgen_flow_spec *spec);
/* Stores the current tuple in @ret_tuple and advances (wrapping at the end). */
void pktgen_flow_iter_next(struct pktgen_flow_iter *it, struct pktgen_tuple *ret_tuple);

/* ---- IMIX (pktgen_imix.c) ------------------------------------------------ */

#define PKTGEN_IMIX_MAX_SIZES 8
#define PKTGEN_IMIX_MAX_SEQ   1024
#define PKTGEN_FRAME_MIN      60   /* without FCS: a "64-byte" frame on the wire */
#define PKTGEN_FRAME_MAX      9014 /* jumbo, without FCS */

/* A frame-size mix. Sizes count the Ethernet FCS, as RFC 2544 and every
 * tester do (64..1518); the generator builds size - 4 bytes in the mbuf. */
struct pktgen_imix {
    unsigned n_sizes;
    uint16_t size[PKTGEN_IMIX_MAX_SIZES];
    uint16_t weight[PKTGEN_IMIX_MAX_SIZES];
};

/*
 * Parses "SIZE:WEIGHT[,SIZE:WEIGHT...]" or the keyword "imix" (the simple
 * IMIX 64:7,570:4,1518:1). Each size must be 64..9018 and each weight 1..1000;
 * the weights may sum to at most PKTGEN_IMIX_MAX_SEQ. NFV_E_INVAL otherwise.
 */
enum nfv_code pktgen_imix_parse(const char *s, struct pktgen_imix *ret_imix, struct nfv_err *err);
/*
 * Fills @seq with one period of the mix (sum of weights entries) using smooth
 * weighted round-robin, so sizes are interleaved rather than sent in runs:
 * 7:4:1 gives 64,570,64,64,570,64,1518,64,570,64,64,570 ... Returns the
 * period length; @seq must hold PKTGEN_IMIX_MAX_SEQ entries.
 */
unsigned pktgen_imix_sequence(const struct pktgen_imix *imix, uint16_t *seq);
/* Weighted mean frame size (with FCS), for line-rate conversion. */
double pktgen_imix_mean_size(const struct pktgen_imix *imix);

/* ---- pacing (pktgen_pace.c) ---------------------------------------------- */

/* Per-frame overhead on the wire beyond the frame itself: preamble + SFD (8)
 * and the minimum inter-frame gap (12). */
#define PKTGEN_WIRE_OVERHEAD 20

/* Packets per second that fill @pct percent of a @line_bps link with frames
 * of @frame_size bytes (FCS included), e.g. 100% of 10G at 64 B = 14.88 Mpps. */
double pktgen_pps_from_pct(double pct, double line_bps, double frame_size);

/*
 * A TSC pacer: packet k is due at start + k * hz / pps. Callers ask how many
 * packets are due now and report how many they actually sent, so a full TX
 * ring delays packets instead of dropping them, and the long-run rate stays
 * exact (no accumulated rounding: the schedule is computed from the start).
 */
struct pktgen_pace {
    uint64_t hz;        /* TSC frequency */
    double pps;         /* target rate; 0 = unlimited */
    uint64_t start_tsc; /* schedule origin */
    uint64_t n_sent;    /* packets reported sent since start */
    uint64_t max_lag;   /* cap on the backlog, so a stall does not become a burst */
};

void pktgen_pace_init(struct pktgen_pace *p, uint64_t hz, double pps, uint64_t now_tsc);
/* Packets due at @now_tsc and not yet sent, capped at @max_burst. */
unsigned pktgen_pace_due(struct pktgen_pace *p, uint64_t now_tsc, unsigned max_burst);
/* Records @n packets sent. */
void pktgen_pace_sent(struct pktgen_pace *p, unsigned n);

/* ---- sequence accounting (pktgen_seq.c) ---------------------------------- */

/*
 * Per-stream receive accounting from the 32-bit wire sequence numbers.
 * Following RFC 4737's "next expected" idea: a number above the expected one
 * opens a gap (provisionally lost), a number below it is a late (reordered)
 * packet that fills a gap, or a duplicate if it was already seen. A sliding
 * bitmap of the last PKTGEN_SEQ_WINDOW numbers tells the two apart.
 * The final loss is tx - unique received, computed by the caller.
 */
#define PKTGEN_SEQ_WINDOW 1024

struct pktgen_seq {
    uint64_t next;       /* next expected (64-bit extended) */
    uint64_t n_rx;       /* unique packets received */
    uint64_t n_reorder;  /* arrived after a higher number */
    uint64_t n_dup;      /* seen twice */
    uint64_t n_gap;      /* currently missing (may shrink as late ones arrive) */
    uint64_t n_too_late; /* older than the window: counted neither way */
    uint64_t seen[PKTGEN_SEQ_WINDOW / 64];
};

void pktgen_seq_init(struct pktgen_seq *s);
/* Accounts one received wire sequence number (extended to 64 bits around
 * the expected value, so the 32-bit wire field may wrap). */
void pktgen_seq_rx(struct pktgen_seq *s, uint32_t wire_seq);

/* ---- latency (pktgen_lat.c) ---------------------------------------------- */

/* Log-linear histogram (HdrHistogram style): exact below 64, then 32
 * sub-buckets per power of two, so any percentile is within 3.2%. */
#define PKTGEN_LAT_SUB     32
#define PKTGEN_LAT_BUCKETS (64 + 40 * PKTGEN_LAT_SUB)

struct pktgen_lat {
    uint64_t n;
    uint64_t min;
    uint64_t max;
    uint64_t sum;
    uint64_t count[PKTGEN_LAT_BUCKETS];
};

void pktgen_lat_init(struct pktgen_lat *l);
void pktgen_lat_add(struct pktgen_lat *l, uint64_t value);
/* Adds every sample of @from to @to. */
void pktgen_lat_merge(struct pktgen_lat *to, const struct pktgen_lat *from);
/* Value at percentile @pct (0..100): the lower bound of the bucket holding
 * that rank, clamped to [min, max]. 0 when empty. */
uint64_t pktgen_lat_percentile(const struct pktgen_lat *l, double pct);
double pktgen_lat_mean(const struct pktgen_lat *l);

/* ---- RFC 2544 throughput search (pktgen_rfc2544.c) ------------------------ */

#define PKTGEN_RFC2544_MAX_TRIALS 64

struct pktgen_trial {
    double rate_pps;
    uint64_t n_tx;
    uint64_t n_rx;
    double loss_ratio;
    bool is_pass;
};

/*
 * RFC 2544 section 26.1 throughput: the highest offered rate at which the
 * loss ratio is at most @max_loss. The first trial runs at @max_pps (if it
 * passes, that is the answer); then a binary search between the highest pass
 * and the lowest fail until they are within @resolution_pps, or trials run
 * out. The caller runs each trial (pktgen_rfc2544_next gives the rate) and
 * reports its counters.
 */
struct pktgen_rfc2544 {
    double min_pps, max_pps, resolution_pps, max_loss;
    double lo;  /* highest rate known to pass (0: none yet) */
    double hi;  /* lowest rate known to fail */
    double cur; /* rate of the trial in progress */
    bool is_done;
    unsigned n_trials;
    struct pktgen_trial trial[PKTGEN_RFC2544_MAX_TRIALS];
};

/* NFV_E_INVAL unless 0 < min <= max, resolution > 0 and 0 <= max_loss < 1. */
enum nfv_code pktgen_rfc2544_init(struct pktgen_rfc2544 *s, double min_pps, double max_pps,
                                  double resolution_pps, double max_loss, struct nfv_err *err);
/* Rate of the next trial in *ret_pps; false when the search is finished. */
bool pktgen_rfc2544_next(struct pktgen_rfc2544 *s, double *ret_pps);
/* Reports the trial started by the last pktgen_rfc2544_next(). */
void pktgen_rfc2544_report(struct pktgen_rfc2544 *s, uint64_t n_tx, uint64_t n_rx);
/* The throughput found: the highest passing rate, 0 if even min_pps failed. */
double pktgen_rfc2544_result(const struct pktgen_rfc2544 *s);

/* ---- packets (pktgen_pkt.c) ---------------------------------------------- */

enum pktgen_proto { PKTGEN_PROTO_UDP, PKTGEN_PROTO_TCP, PKTGEN_PROTO__COUNT };

const char *pktgen_proto_to_string(enum pktgen_proto p);
/* PKTGEN_PROTO__COUNT if unknown. */
enum pktgen_proto pktgen_proto_from_string(const char *s);

/*
 * The stamp written at the start of the L4 payload of every generated frame:
 * a magic, the stream id (the generator changes it per RFC 2544 trial so
 * stragglers from an earlier trial are not counted), a 32-bit sequence number
 * and the TX TSC, all big-endian on the wire. 16 bytes, so a 64-byte UDP
 * frame (42 bytes of headers) still carries it.
 */
#define PKTGEN_STAMP_MAGIC 0x7067u /* "pg" */
#define PKTGEN_STAMP_SIZE  16

struct pktgen_stamp {
    uint16_t stream;
    uint32_t seq;
    uint64_t tsc;
};

/* Addresses and protocol shared by every frame of a stream. */
struct pktgen_pkt_tmpl {
    uint8_t dst_mac[6];
    uint8_t src_mac[6];
    enum pktgen_proto proto;
    uint8_t ttl;
};

/* What pktgen_pkt_parse() found in a received frame. */
struct pktgen_pkt_info {
    struct pktgen_tuple tuple;
    uint8_t ip_proto;
    bool has_ports; /* a whole UDP/TCP header is there: the tuple's ports are valid */
    bool is_stamped;
    struct pktgen_stamp stamp;
};

/* Header bytes before the payload: 42 for UDP, 54 for TCP. */
size_t pktgen_pkt_hdr_size(enum pktgen_proto proto);
/*
 * Writes a complete Ethernet/IPv4/UDP|TCP frame of @frame_len bytes (FCS not
 * included, so 60 for a 64-byte frame) into @buf: headers from @tmpl and
 * @tuple, the stamp if it fits (returns true then; false means sent
 * unstamped), a fixed fill pattern after it, and valid IPv4 and L4
 * checksums. @frame_len must be at least the header size (assert).
 */
bool pktgen_pkt_build(uint8_t *buf, size_t frame_len, const struct pktgen_pkt_tmpl *tmpl,
                      const struct pktgen_tuple *tuple, const struct pktgen_stamp *stamp);
/*
 * Parses an Ethernet/IPv4 frame (no VLAN, any IHL) and its stamp if it
 * carries one. False for anything that is not IPv4 or is truncated.
 */
bool pktgen_pkt_parse(const uint8_t *buf, size_t len, struct pktgen_pkt_info *ret_info);

/*
 * Turns a received UDP/TCP frame into its reply in place: Ethernet, IPv4 and
 * port fields swapped, payload (and stamp) kept; checksums stay valid. This
 * is the far end of a NAT test (the "server" answering). False, frame
 * untouched, for anything pktgen_pkt_parse() rejects, that is not UDP/TCP or
 * whose UDP/TCP header is incomplete.
 */
bool pktgen_pkt_reflect(uint8_t *buf, size_t len);
/* RFC 1071 one's complement sum of @len bytes added to @sum (not folded). */
uint32_t pktgen_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds and complements a sum into a checksum field value (network order
 * bytes are summed as they are, so the result is stored without swapping). */
uint16_t pktgen_csum_fold(uint32_t sum);
/* True if the IPv4 header checksum and the UDP/TCP checksum of @buf verify. */
bool pktgen_pkt_csum_ok(const uint8_t *buf, size_t len);

/* ---- pcap replay (pktgen_pcap.c) ----------------------------------------- */

/* Frames of a classic pcap file (microsecond or nanosecond, either byte
 * order, link type Ethernet), held in one buffer. */
struct pktgen_pcap {
    size_t n_frames;
    size_t *offset; /* n_frames offsets into data */
    uint16_t *len;  /* captured length of each frame */
    uint8_t *data;
};

/*
 * Loads @path. Frames longer than @max_len are truncated to it (counted in
 * *ret_n_truncated if not NULL). NFV_E_IO if it cannot be read, NFV_E_PARSE
 * ("file: reason") if it is not a pcap of Ethernet frames or has no frame.
 * The caller owns *ret_pcap (pktgen_pcap_free).
 */
enum nfv_code pktgen_pcap_load(const char *path, size_t max_len, struct pktgen_pcap **ret_pcap,
                               size_t *ret_n_truncated, struct nfv_err *err);
void pktgen_pcap_free(struct pktgen_pcap *pcap);

/* ---- line fits (pktgen_fit.c) --------------------------------------------- */

/* Least-squares slope and intercept of @y over @x (n points; 0, 0 if n < 2
 * or all x are equal). */
void pktgen_fit_line(const double *x, const double *y, unsigned n, double *ret_slope,
                     double *ret_icpt);
/*
 * The same fit over the points whose x is at least the median x of their
 * class (@cls[i] is 0 or 1: the two window lengths). Windows in which another
 * process took the core carry fewer frames for the same cycles; dropping the
 * lower half of each class keeps them out of the slope. *ret_n gets the
 * number of points fitted.
 */
void pktgen_fit_best_half(const double *x, const double *y, const unsigned *cls, unsigned n,
                          double *ret_slope, double *ret_icpt, unsigned *ret_n);
/* qsort comparator for doubles, ascending. */
int pktgen_cmp_double(const void *a, const void *b);

#endif /* PKTGEN_H */
