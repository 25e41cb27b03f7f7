/*
 * pktgen_opts.h - vmmgr-pktgen's command line (after the EAL's "--").
 *
 * Parsing is pure (getopt only, no DPDK), so tests/unit/pktgen checks every
 * option, its defaults and its error message; pktgen_main.c keeps the parsed
 * struct as its one options global. docs/pktgen.md describes the options.
 */
#ifndef PKTGEN_OPTS_H
#define PKTGEN_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfv/err.h"
#include "pktgen.h"

#define PKTGEN_MAX_PORTS    8   /* ports used (TX and RX) */
#define PKTGEN_BURST_MAX    64  /* frames per TX or RX burst */
#define PKTGEN_MAX_RATE_PPS 1e9 /* sanity bound for every rate option */

struct pktgen_opts {
    unsigned tx_port[PKTGEN_MAX_PORTS]; /* ports to send on, a burst each in turn */
    unsigned n_tx_ports;
    double rate_pps;         /* 0 = unlimited */
    double rate_pct;         /* alternative to rate_pps, < 0 when unset */
    double line_gbps;        /* for --rate-pct and the RFC 2544 maximum */
    struct pktgen_imix imix; /* n_sizes == 1 for a fixed frame size */
    struct pktgen_flow_spec flows;
    struct pktgen_pkt_tmpl tmpl;
    const char *pcap_path;
    uint64_t count;    /* frames to send, 0 = until --duration */
    double duration;   /* seconds, 0 = until --count or a signal */
    unsigned drain_ms; /* keep receiving after the last frame */
    unsigned burst;
    unsigned link_wait; /* seconds to wait for every link to come up */
    double wait_return; /* seconds to wait for the path to return a probe, 0 = don't */
    double stats_interval;
    bool is_json;
    bool is_verify_rx;
    bool is_yield;
    const char *results_path;
    /* RFC 2544 */
    bool is_rfc2544;
    double trial_sec;
    double loss_ratio;
    double min_pps, max_pps, resolution_pps;
    /* Same-core cycles per packet (pktgen_main.c, run_windows) */
    long dut_pid;
    const char *dut_pid_file; /* read after the warm-up: the DUT starts after us */
    unsigned n_windows;
    unsigned window_us[2];
    int reflect_port; /* --reflect: answer frames received on this port, -1 = off */
    bool is_help;     /* --help: print pktgen_opts_usage() and exit 0 */
};

/*
 * Parses @argv (argv[0] is the program or "--"; getopt state is reset) into
 * *ret_opts, with the defaults of docs/pktgen.md. Derived values are filled
 * in: --rate-pct becomes rate_pps, and --rfc2544 gets its maximum (100% of
 * the line rate), minimum (max / 1000) and resolution (0.5% of max) when not
 * given. NFV_E_INVAL with one sentence naming the option on bad input
 * (*ret_opts then holds partial values). --help sets is_help and returns
 * NFV_OK at once.
 */
enum nfv_code pktgen_opts_parse(int argc, char **argv, struct pktgen_opts *ret_opts,
                                struct nfv_err *err);
/* Prints the option summary to @out. */
void pktgen_opts_usage(FILE *out);

#endif /* PKTGEN_OPTS_H */
