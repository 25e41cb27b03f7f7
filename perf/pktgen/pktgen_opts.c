/*
 * pktgen_opts.c - vmmgr-pktgen's option parsing (see pktgen_opts.h).
 *
 * getopt_long over the arguments after the EAL's; every error is one
 * sentence naming the option, returned (never printed, never exit()), so
 * pktgen_main.c prints it and exits 2 as STYLE.md asks for bad usage.
 */
#include "pktgen_opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void pktgen_opts_usage(FILE *out)
{
    fprintf(out, "usage: vmmgr-pktgen [EAL options] -- [options]\n"
                 "  --tx-port N[,N...]     ports to send on, a burst each in turn (default 0);\n"
                 "                         every port is received, each TX port is one stream\n"
                 "  --rate PPS             offered rate, k/M/G suffixes (default 0 = unlimited)\n"
                 "  --rate-pct P           offered rate as %% of --line-rate\n"
                 "  --line-rate GBPS       line rate for --rate-pct and RFC 2544 (default 10)\n"
                 "  --size N | --imix SPEC frame size with FCS (default 64) or SIZE:W,...|imix\n"
                 "  --proto udp|tcp        L4 protocol (default udp)\n"
                 "  --src-ip R --dst-ip R  IPv4 address or range A-B (10.0.0.1, 192.0.2.1)\n"
                 "  --src-port R --dst-port R  port or range (1024, 5000)\n"
                 "  --src-mac M --dst-mac M    Ethernet addresses (02:00:00:00:00:01, :02)\n"
                 "  --pcap FILE            replay FILE's frames instead (loops over it)\n"
                 "  --count N | --duration S   stop after N frames or S seconds\n"
                 "  --drain-ms MS          keep receiving after the last frame (default 200)\n"
                 "  --burst N              frames per TX burst (default 32)\n"
                 "  --link-wait S          wait for links to come up (default 10)\n"
                 "  --wait-return S        before measuring, probe until the path returns a frame\n"
                 "  --stats-interval S     per-interval counters (default 1, 0 = off)\n"
                 "  --json                 counters and summary as JSON lines\n"
                 "  --verify-rx            verify IPv4/L4 checksums of received frames\n"
                 "  --reflect N            answer UDP/TCP frames received on port N (swap\n"
                 "                         addresses and ports, send back on N): a NAT's far end\n"
                 "  --yield                sched_yield() when idle (generator sharing a core)\n"
                 "  --results FILE         write the summary (or RFC 2544 search) as JSON\n"
                 "  --dut-pid PID          same-core cycles/packet of the process PID (which must\n"
                 "                         share this CPU): --windows N (200) alternating runs of\n"
                 "                         --window-us A,B (50,150); --count/--duration prefill;\n"
                 "  --dut-pid-file FILE    the same, PID read from FILE after the warm-up\n"
                 "  --rfc2544              throughput search; --trial-sec S (default 2),\n"
                 "                         --loss-ratio R (0), --min-rate, --max-rate (100%% of\n"
                 "                         line rate), --resolution PPS (0.5%% of max)\n");
}

static enum nfv_code parse_double(const char *s, const char *what, double min, double max,
                                  double *ret, struct nfv_err *err)
{
    char *end;
    double v, mult = 1;

    errno = 0;
    v = strtod(s, &end);
    if (end != s && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'k':
        case 'K':
            mult = 1e3;
            end++;
            break;
        case 'm':
        case 'M':
            mult = 1e6;
            end++;
            break;
        case 'g':
        case 'G':
            mult = 1e9;
            end++;
            break;
        default:
            break;
        }
    }
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a number", what, s);
    v *= mult;
    if (v < min || v > max)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %g is outside %g..%g", what, v, min, max);
    *ret = v;
    return NFV_OK;
}

static enum nfv_code parse_mac(const char *s, const char *what, uint8_t *mac, struct nfv_err *err)
{
    unsigned b[6];
    char tail;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) !=
        6)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a MAC address", what, s);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return NFV_OK;
}

/* "N[,N...]": distinct port numbers below PKTGEN_MAX_PORTS. */
static enum nfv_code parse_port_list(const char *s, struct pktgen_opts *o, struct nfv_err *err)
{
    const char *p = s;

    o->n_tx_ports = 0;
    while (*p != '\0') {
        char *end;
        long v;

        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p || errno != 0 || v < 0 || v >= PKTGEN_MAX_PORTS ||
            (*end != ',' && *end != '\0'))
            return NFV_ERR(err, NFV_E_INVAL, "'tx-port': '%s' is not a list of ports 0..%d", s,
                           PKTGEN_MAX_PORTS - 1);
        for (unsigned i = 0; i < o->n_tx_ports; i++)
            if (o->tx_port[i] == (unsigned)v)
                return NFV_ERR(err, NFV_E_INVAL, "'tx-port': port %ld listed twice", v);
        o->tx_port[o->n_tx_ports++] = (unsigned)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (o->n_tx_ports == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'tx-port': empty list");
    return NFV_OK;
}

enum {
    OPT_TX_PORT = 256,
    OPT_RATE,
    OPT_RATE_PCT,
    OPT_LINE,
    OPT_SIZE,
    OPT_IMIX,
    OPT_PROTO,
    OPT_SRC_IP,
    OPT_DST_IP,
    OPT_SRC_PORT,
    OPT_DST_PORT,
    OPT_SRC_MAC,
    OPT_DST_MAC,
    OPT_PCAP,
    OPT_COUNT,
    OPT_DURATION,
    OPT_DRAIN,
    OPT_BURST,
    OPT_LINK_WAIT,
    OPT_WAIT_RETURN,
    OPT_STATS,
    OPT_JSON,
    OPT_VERIFY,
    OPT_YIELD,
    OPT_RESULTS,
    OPT_RFC2544,
    OPT_TRIAL,
    OPT_LOSS,
    OPT_MIN_RATE,
    OPT_MAX_RATE,
    OPT_RESOLUTION,
    OPT_DUT_PID,
    OPT_REFLECT,
    OPT_DUT_PID_FILE,
    OPT_WINDOWS,
    OPT_WINDOW_US,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"tx-port", required_argument, NULL, OPT_TX_PORT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"rate-pct", required_argument, NULL, OPT_RATE_PCT},
    {"line-rate", required_argument, NULL, OPT_LINE},
    {"size", required_argument, NULL, OPT_SIZE},
    {"imix", required_argument, NULL, OPT_IMIX},
    {"proto", required_argument, NULL, OPT_PROTO},
    {"src-ip", required_argument, NULL, OPT_SRC_IP},
    {"dst-ip", required_argument, NULL, OPT_DST_IP},
    {"src-port", required_argument, NULL, OPT_SRC_PORT},
    {"dst-port", required_argument, NULL, OPT_DST_PORT},
    {"src-mac", required_argument, NULL, OPT_SRC_MAC},
    {"dst-mac", required_argument, NULL, OPT_DST_MAC},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"count", required_argument, NULL, OPT_COUNT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"drain-ms", required_argument, NULL, OPT_DRAIN},
    {"burst", required_argument, NULL, OPT_BURST},
    {"link-wait", required_argument, NULL, OPT_LINK_WAIT},
    {"wait-return", required_argument, NULL, OPT_WAIT_RETURN},
    {"stats-interval", required_argument, NULL, OPT_STATS},
    {"json", no_argument, NULL, OPT_JSON},
    {"verify-rx", no_argument, NULL, OPT_VERIFY},
    {"yield", no_argument, NULL, OPT_YIELD},
    {"results", required_argument, NULL, OPT_RESULTS},
    {"rfc2544", no_argument, NULL, OPT_RFC2544},
    {"trial-sec", required_argument, NULL, OPT_TRIAL},
    {"loss-ratio", required_argument, NULL, OPT_LOSS},
    {"min-rate", required_argument, NULL, OPT_MIN_RATE},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"resolution", required_argument, NULL, OPT_RESOLUTION},
    {"dut-pid", required_argument, NULL, OPT_DUT_PID},
    {"reflect", required_argument, NULL, OPT_REFLECT},
    {"dut-pid-file", required_argument, NULL, OPT_DUT_PID_FILE},
    {"windows", required_argument, NULL, OPT_WINDOWS},
    {"window-us", required_argument, NULL, OPT_WINDOW_US},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

enum nfv_code pktgen_opts_parse(int argc, char **argv, struct pktgen_opts *o, struct nfv_err *err)
{
    enum nfv_code rc = NFV_OK;
    double v;
    int c;

    *o = (struct pktgen_opts){
        .n_tx_ports = 1,
        .reflect_port = -1,
        .rate_pct = -1,
        .line_gbps = 10,
        .imix = {.n_sizes = 1, .size = {64}, .weight = {1}},
        .flows = {{0x0a000001, 0x0a000001}, {0xc0000201, 0xc0000201}, {1024, 1024}, {5000, 5000}},
        .tmpl = {.dst_mac = {0x02, 0, 0, 0, 0, 0x02},
                 .src_mac = {0x02, 0, 0, 0, 0, 0x01},
                 .proto = PKTGEN_PROTO_UDP,
                 .ttl = 64},
        .drain_ms = 200,
        .burst = 32,
        .link_wait = 10,
        .stats_interval = 1,
        .trial_sec = 2,
        .n_windows = 200,
        .window_us = {50, 150},
    };
    optind = 1;
    while (rc == NFV_OK && (c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_TX_PORT:
            rc = parse_port_list(optarg, o, err);
            break;
        case OPT_RATE:
            rc = parse_double(optarg, "rate", 0, PKTGEN_MAX_RATE_PPS, &o->rate_pps, err);
            break;
        case OPT_RATE_PCT:
            rc = parse_double(optarg, "rate-pct", 0.001, 100, &o->rate_pct, err);
            break;
        case OPT_LINE:
            rc = parse_double(optarg, "line-rate", 0.001, 1000, &o->line_gbps, err);
            break;
        case OPT_SIZE:
            rc = parse_double(optarg, "size", PKTGEN_FRAME_MIN + 4, PKTGEN_FRAME_MAX + 4, &v, err);
            if (rc == NFV_OK)
                o->imix = (struct pktgen_imix){.n_sizes = 1, .size = {(uint16_t)v}, .weight = {1}};
            break;
        case OPT_IMIX:
            rc = pktgen_imix_parse(optarg, &o->imix, err);
            break;
        case OPT_PROTO:
            o->tmpl.proto = pktgen_proto_from_string(optarg);
            if (o->tmpl.proto == PKTGEN_PROTO__COUNT)
                rc = NFV_ERR(err, NFV_E_INVAL, "'proto': '%s' is not udp or tcp", optarg);
            break;
        case OPT_SRC_IP:
            rc = pktgen_range_parse(optarg, true, "src-ip", &o->flows.src_ip, err);
            break;
        case OPT_DST_IP:
            rc = pktgen_range_parse(optarg, true, "dst-ip", &o->flows.dst_ip, err);
            break;
        case OPT_SRC_PORT:
            rc = pktgen_range_parse(optarg, false, "src-port", &o->flows.src_port, err);
            break;
        case OPT_DST_PORT:
            rc = pktgen_range_parse(optarg, false, "dst-port", &o->flows.dst_port, err);
            break;
        case OPT_SRC_MAC:
            rc = parse_mac(optarg, "src-mac", o->tmpl.src_mac, err);
            break;
        case OPT_DST_MAC:
            rc = parse_mac(optarg, "dst-mac", o->tmpl.dst_mac, err);
            break;
        case OPT_PCAP:
            o->pcap_path = optarg;
            break;
        case OPT_COUNT:
            rc = parse_double(optarg, "count", 1, 1e15, &v, err);
            if (rc == NFV_OK)
                o->count = (uint64_t)v;
            break;
        case OPT_DURATION:
            rc = parse_double(optarg, "duration", 0.01, 1e7, &o->duration, err);
            break;
        case OPT_DRAIN:
            rc = parse_double(optarg, "drain-ms", 0, 60000, &v, err);
            if (rc == NFV_OK)
                o->drain_ms = (unsigned)v;
            break;
        case OPT_BURST:
            rc = parse_double(optarg, "burst", 1, PKTGEN_BURST_MAX, &v, err);
            if (rc == NFV_OK)
                o->burst = (unsigned)v;
            break;
        case OPT_LINK_WAIT:
            rc = parse_double(optarg, "link-wait", 0, 3600, &v, err);
            if (rc == NFV_OK)
                o->link_wait = (unsigned)v;
            break;
        case OPT_WAIT_RETURN:
            rc = parse_double(optarg, "wait-return", 0, 3600, &o->wait_return, err);
            break;
        case OPT_STATS:
            rc = parse_double(optarg, "stats-interval", 0, 3600, &o->stats_interval, err);
            break;
        case OPT_JSON:
            o->is_json = true;
            break;
        case OPT_VERIFY:
            o->is_verify_rx = true;
            break;
        case OPT_YIELD:
            o->is_yield = true;
            break;
        case OPT_RESULTS:
            o->results_path = optarg;
            break;
        case OPT_RFC2544:
            o->is_rfc2544 = true;
            break;
        case OPT_TRIAL:
            rc = parse_double(optarg, "trial-sec", 0.01, 3600, &o->trial_sec, err);
            break;
        case OPT_LOSS:
            rc = parse_double(optarg, "loss-ratio", 0, 0.999999, &o->loss_ratio, err);
            break;
        case OPT_MIN_RATE:
            rc = parse_double(optarg, "min-rate", 1, PKTGEN_MAX_RATE_PPS, &o->min_pps, err);
            break;
        case OPT_MAX_RATE:
            rc = parse_double(optarg, "max-rate", 1, PKTGEN_MAX_RATE_PPS, &o->max_pps, err);
            break;
        case OPT_RESOLUTION:
            rc =
                parse_double(optarg, "resolution", 1, PKTGEN_MAX_RATE_PPS, &o->resolution_pps, err);
            break;
        case OPT_DUT_PID:
            rc = parse_double(optarg, "dut-pid", 2, 1 << 30, &v, err);
            if (rc == NFV_OK)
                o->dut_pid = (long)v;
            break;
        case OPT_REFLECT:
            rc = parse_double(optarg, "reflect", 0, PKTGEN_MAX_PORTS - 1, &v, err);
            if (rc == NFV_OK)
                o->reflect_port = (int)v;
            break;
        case OPT_DUT_PID_FILE:
            o->dut_pid_file = optarg;
            break;
        case OPT_WINDOWS:
            rc = parse_double(optarg, "windows", 2, 100000, &v, err);
            if (rc == NFV_OK)
                o->n_windows = (unsigned)v;
            break;
        case OPT_WINDOW_US: {
            char *end;

            errno = 0;
            o->window_us[0] = (unsigned)strtoul(optarg, &end, 10);
            o->window_us[1] = *end == ',' ? (unsigned)strtoul(end + 1, &end, 10) : o->window_us[0];
            if (*end != '\0' || errno != 0 || o->window_us[0] < 10 || o->window_us[1] < 10 ||
                o->window_us[0] > 100000 || o->window_us[1] > 100000)
                rc = NFV_ERR(err, NFV_E_INVAL, "'window-us': '%s' is not US[,US] in 10..100000",
                             optarg);
            break;
        }
        case OPT_HELP:
            o->is_help = true;
            return NFV_OK;
        default:
            rc = NFV_ERR(err, NFV_E_INVAL, "'%s': unknown option or missing argument",
                         argv[optind - 1]);
            break;
        }
    }
    if (rc != NFV_OK)
        return rc;
    if (optind < argc)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected argument", argv[optind]);
    if (o->rate_pct > 0)
        o->rate_pps =
            pktgen_pps_from_pct(o->rate_pct, o->line_gbps * 1e9, pktgen_imix_mean_size(&o->imix));
    if (o->is_rfc2544) {
        if (o->max_pps == 0)
            o->max_pps =
                pktgen_pps_from_pct(100, o->line_gbps * 1e9, pktgen_imix_mean_size(&o->imix));
        if (o->min_pps == 0)
            o->min_pps = o->max_pps / 1000;
        if (o->resolution_pps == 0)
            o->resolution_pps = o->max_pps * 0.005;
        if (o->pcap_path != NULL)
            return NFV_ERR(err, NFV_E_INVAL, "'rfc2544': needs stamped frames, not --pcap");
    } else if (o->count == 0 && o->duration == 0 && o->dut_pid == 0 && o->dut_pid_file == NULL) {
        return NFV_ERR(err, NFV_E_INVAL, "'duration': give --duration, --count or --rfc2544");
    }
    return NFV_OK;
}
