/*
 * test_vnf_conf.c - the config syntax ("FILE:LINE: reason" errors), the value
 * parsers, vmmgr-nat's config and mapping choices, vmmgr-fw's rules file and
 * its reference matcher.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw.h"
#include "nat.h"
#include "vnf/conf.h"
#include "vnf/pkt.h"

struct lines {
    unsigned n;
    unsigned lineno[8];
    unsigned argc[8];
    char first[8][32];
};

static enum nfv_code record_line(void *opaque, unsigned lineno, unsigned argc, char **argv,
                                 struct nfv_err *err)
{
    struct lines *l = opaque;

    if (strcmp(argv[0], "fail") == 0)
        return NFV_ERR(err, NFV_E_PARSE, "'%s': told to fail", argv[0]);
    l->lineno[l->n] = lineno;
    l->argc[l->n] = argc;
    snprintf(l->first[l->n], sizeof(l->first[0]), "%s", argv[0]);
    l->n++;
    return NFV_OK;
}

static void test_tokenizer_and_line_numbers(void **state)
{
    struct lines l = {0};
    struct nfv_err err;

    (void)state;
    assert_int_equal(
        vnf_conf_parse_text("t.conf", "# comment\n\n  a b\tc # tail\nd\n", record_line, &l, &err),
        NFV_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.lineno[0], 3);
    assert_int_equal(l.argc[0], 3);
    assert_string_equal(l.first[0], "a");
    assert_int_equal(l.lineno[1], 4);

    memset(&l, 0, sizeof(l));
    assert_int_equal(vnf_conf_parse_text("t.conf", "a\n#\nfail x\nb\n", record_line, &l, &err),
                     NFV_E_PARSE);
    assert_string_equal(err.msg, "t.conf:3: 'fail': told to fail");
    assert_int_equal(l.n, 1); /* stops at the first error */
}

static void test_parse_file_and_io_error(void **state)
{
    char path[] = "/tmp/vmmgr-test-conf-XXXXXX";
    int fd = mkstemp(path);
    struct lines l = {0};
    struct nfv_err err;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x 1\ny 2\nfail\n", 13), 13);
    close(fd);
    assert_int_equal(vnf_conf_parse_file(path, record_line, &l, &err), NFV_E_PARSE);
    char want[128];
    snprintf(want, sizeof(want), "%s:3: 'fail': told to fail", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(l.n, 2);
    unlink(path);
    assert_int_equal(vnf_conf_parse_file(path, record_line, &l, &err), NFV_E_IO);
    assert_non_null(strstr(err.msg, path));
}

static void test_value_parsers(void **state)
{
    struct nfv_err err;
    uint32_t u, ip;
    uint8_t depth, proto;
    uint16_t lo, hi;
    bool any;

    (void)state;
    assert_int_equal(vnf_parse_u32("42", 1, 100, "n", &u, &err), NFV_OK);
    assert_int_equal(u, 42);
    assert_int_equal(vnf_parse_u32("101", 1, 100, "n", &u, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'n': '101' is not a number in 1..100");
    assert_int_equal(vnf_parse_u32("-1", 0, 100, "n", &u, NULL), NFV_E_INVAL);
    assert_int_equal(vnf_parse_u32("7x", 0, 100, "n", &u, NULL), NFV_E_INVAL);

    assert_int_equal(vnf_parse_ipv4("198.51.100.1", "ip", &ip, &err), NFV_OK);
    assert_int_equal(ip, 0xc6336401u);
    assert_int_equal(vnf_parse_ipv4("300.1.1.1", "ip", &ip, &err), NFV_E_INVAL);

    assert_int_equal(vnf_parse_prefix("10.0.0.0/8", "src", &ip, &depth, &err), NFV_OK);
    assert_int_equal(ip, 0x0a000000u);
    assert_int_equal(depth, 8);
    assert_int_equal(vnf_parse_prefix("10.0.0.1", "src", &ip, &depth, &err), NFV_OK);
    assert_int_equal(depth, 32);
    assert_int_equal(vnf_parse_prefix("any", "src", &ip, &depth, &err), NFV_OK);
    assert_int_equal(depth, 0);
    assert_int_equal(vnf_parse_prefix("10.0.0.1/8", "src", &ip, &depth, &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "'src': '10.0.0.1/8' has host bits set");
    assert_int_equal(vnf_parse_prefix("10.0.0.0/33", "src", &ip, &depth, &err), NFV_E_INVAL);

    assert_int_equal(vnf_parse_port_range("80", "dport", &lo, &hi, &err), NFV_OK);
    assert_true(lo == 80 && hi == 80);
    assert_int_equal(vnf_parse_port_range("1024-65535", "dport", &lo, &hi, &err), NFV_OK);
    assert_true(lo == 1024 && hi == 65535);
    assert_int_equal(vnf_parse_port_range("any", "dport", &lo, &hi, &err), NFV_OK);
    assert_true(lo == 0 && hi == 65535);
    assert_int_equal(vnf_parse_port_range("90-80", "dport", &lo, &hi, &err), NFV_E_INVAL);
    assert_int_equal(vnf_parse_port_range("70000", "dport", &lo, &hi, &err), NFV_E_INVAL);

    assert_int_equal(vnf_parse_proto("udp", "proto", &proto, &any, &err), NFV_OK);
    assert_true(proto == 17 && !any);
    assert_int_equal(vnf_parse_proto("47", "proto", &proto, &any, &err), NFV_OK);
    assert_int_equal(proto, 47);
    assert_int_equal(vnf_parse_proto("any", "proto", &proto, &any, &err), NFV_OK);
    assert_true(any);
    assert_int_equal(vnf_parse_proto("sctp", "proto", &proto, &any, &err), NFV_E_INVAL);
}

static void test_nat_conf(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    struct nfv_err err;

    (void)state;
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "nat.conf",
                                        "outside-ip 198.51.100.1,198.51.100.2\n"
                                        "outside-ip 198.51.100.3\n"
                                        "flows 2048\n"
                                        "port-range 2000-2999\n"
                                        "timeout udp 30\n"
                                        "forward tcp 198.51.100.2 8080 10.0.0.5 80\n",
                                        &err),
                     NFV_OK);
    assert_int_equal(nat_conf_finish(c, "nat.conf", &err), NFV_OK);
    assert_int_equal(c->n_outside_ip, 3);
    assert_int_equal(c->max_flows, 2048);
    assert_int_equal(c->port_lo, 2000);
    assert_int_equal(c->tmo.sec[VNF_TMO_UDP], 30);
    assert_int_equal(c->tmo.sec[VNF_TMO_TCP_EST], 7440);
    const struct nat_fwd *f = nat_fwd_find(c, VNF_PROTO_TCP, 0xc6336402u, 8080);
    assert_non_null(f);
    assert_int_equal(f->in_ip, 0x0a000005u);
    assert_int_equal(f->in_port, 80);
    assert_null(nat_fwd_find(c, VNF_PROTO_UDP, 0xc6336402u, 8080));
    assert_null(nat_fwd_find(c, VNF_PROTO_TCP, 0xc6336401u, 8080));

    /* --outside-ip replaces the list; an empty list gets the documented default. */
    assert_int_equal(nat_conf_set_outside_ips(c, "192.0.2.9", &err), NFV_OK);
    assert_int_equal(c->n_outside_ip, 1);
    nat_conf_init(c);
    assert_int_equal(nat_conf_finish(c, "-", &err), NFV_OK);
    assert_int_equal(c->n_outside_ip, 1);
    assert_int_equal(c->outside_ip[0], NAT_DEFAULT_IP);
    assert_int_equal(c->max_flows, 1048576);
    free(c);
}

static void test_nat_conf_errors(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    struct nfv_err err;

    (void)state;
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf", "flows 10\nflows many\n", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:2: 'flows': 'many' is not a number in 1..1073741824");
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf", "\nnonsense 1\n", &err), NFV_E_PARSE);
    assert_true(strncmp(err.msg, "n.conf:2: unknown statement 'nonsense'", 38) == 0);
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf", "forward icmp 1.1.1.1 1 2.2.2.2 2\n", &err),
                     NFV_E_INVAL);
    assert_true(strncmp(err.msg, "n.conf:1: 'forward': protocol must be tcp or udp", 48) == 0);
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf", "port-range 0-100\n", &err), NFV_E_INVAL);

    /* A forward on an address that is not an outside address: reported at its line. */
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf",
                                        "outside-ip 198.51.100.1\n# x\n"
                                        "forward udp 198.51.100.7 53 10.0.0.2 53\n",
                                        &err),
                     NFV_OK);
    assert_int_equal(nat_conf_finish(c, "n.conf", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:3: 'forward': 198.51.100.7 is not an outside address");
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n.conf",
                                        "outside-ip 198.51.100.1\n"
                                        "forward udp 198.51.100.1 53 10.0.0.2 53\n"
                                        "forward udp 198.51.100.1 53 10.0.0.3 53\n",
                                        &err),
                     NFV_OK);
    assert_int_equal(nat_conf_finish(c, "n.conf", &err), NFV_E_INVAL);
    assert_string_equal(err.msg, "n.conf:3: 'forward': 198.51.100.1 port 53 is forwarded twice");
    free(c);
}

static void test_nat_mapping_choices(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    unsigned seen[4] = {0};

    (void)state;
    nat_conf_init(c);
    c->port_lo = 1024;
    c->port_hi = 1027;
    /* Port preservation inside the range, hashing outside it, wrap-around. */
    assert_int_equal(nat_port_first(c, 1025, 12345, 0, 1), 1025);
    assert_int_equal(nat_port_first(c, 80, 5, 0, 1), 1024 + 5 % 4);
    assert_int_equal(nat_port_next(c, 1026, 1), 1027);
    assert_int_equal(nat_port_next(c, 1027, 1), 1024);
    /* Paired pooling: a host always gets the same address; hosts spread over all of them. */
    c->n_outside_ip = 4;
    for (uint32_t h = 0; h < 400; h++) {
        unsigned i = nat_pick_outside(c, 0x0a000000u + h);
        assert_true(i < 4);
        assert_int_equal(i, nat_pick_outside(c, 0x0a000000u + h));
        seen[i]++;
    }
    for (int i = 0; i < 4; i++)
        assert_true(seen[i] > 50);
    /* The flow hash is deterministic and depends on every tuple field. */
    uint32_t h0 = nat_flow_hash(1, 2, 3, 4, 6);
    assert_int_equal(h0, nat_flow_hash(1, 2, 3, 4, 6));
    assert_true(h0 != nat_flow_hash(1, 2, 3, 4, 17));
    assert_true(h0 != nat_flow_hash(1, 3, 3, 4, 6));
    assert_true(h0 != nat_flow_hash(1, 2, 3, 5, 6));
    free(c);
}

static void test_nat_worker_ports(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    struct nfv_err err;

    (void)state;
    nat_conf_init(c);
    c->port_lo = 1000;
    c->port_hi = 1100;
    /* Three workers: each walks only its residue class, wrapping inside the range. */
    for (unsigned w = 0; w < 3; w++) {
        unsigned seen = 0;
        uint16_t p = nat_port_first(c, 5, 777 + w, w, 3);

        for (unsigned i = 0; i < 200; i++, p = nat_port_next(c, p, 3)) {
            assert_true(p >= 1000 && p <= 1100);
            assert_int_equal(p % 3, w);
            seen++;
        }
        assert_int_equal(seen, 200);
        /* Port preservation only for a port of the worker's own class. */
        assert_int_equal(nat_port_first(c, 1002, 1, 1002 % 3, 3), 1002);
        assert_int_not_equal(nat_port_first(c, 1002, 1, (1002 + 1) % 3, 3), 1002);
    }
    /* Candidates: preserved port first, then a hash walk; no repeats within the share. */
    for (unsigned w = 0; w < 3; w++) {
        static uint8_t seen[65536];
        uint16_t sport = (uint16_t)(1002 + w); /* in range and of worker w (1002 % 3 == 0) */
        unsigned share = 0;

        memset(seen, 0, sizeof(seen));
        for (uint32_t p = 1000; p <= 1100; p++)
            share += p % 3 == w;
        assert_int_equal(nat_port_candidate(c, sport, 99, w, 3, 0), sport);
        /* Attempt 1 is the hash start, unless that is the preserved port itself. */
        uint16_t hashed = nat_port_first(c, 0, 99, w, 3);
        if (hashed != sport)
            assert_int_equal(nat_port_candidate(c, sport, 99, w, 3, 1), hashed);
        for (unsigned i = 0; i < share; i++) {
            uint16_t p = nat_port_candidate(c, sport, 99, w, 3, i);
            assert_true(p >= 1000 && p <= 1100 && p % 3 == w);
            /* Only the preserved port may come round again, once the hash walk reaches it. */
            if (p != sport)
                assert_int_equal(seen[p]++, 0);
        }
    }
    /* A range too small for a worker gives it no port. */
    c->port_lo = 2000;
    c->port_hi = 2001;
    assert_int_equal(nat_port_first(c, 1, 1, 2, 4), 0);
    assert_int_not_equal(nat_port_first(c, 1, 1, 1, 4), 0);

    /* Owners: outside by destination port, inside by forward or by tuple hash. */
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n",
                                        "outside-ip 198.51.100.1\n"
                                        "forward tcp 198.51.100.1 8081 10.0.0.5 80\n",
                                        &err),
                     NFV_OK);
    assert_int_equal(nat_conf_finish(c, "n", &err), NFV_OK);
    struct vnf_pkt out = {.proto = 6, .src_ip = 1, .dst_ip = 2, .sport = 9, .dport = 4001};
    assert_int_equal(nat_owner(c, &out, 1, 4), 4001 % 4);
    struct vnf_pkt fwd_reply = {
        .proto = 6, .src_ip = 0x0a000005u, .sport = 80, .dst_ip = 7, .dport = 1234};
    assert_int_equal(nat_owner(c, &fwd_reply, 0, 4), 8081 % 4);
    struct vnf_pkt in = {.proto = 17, .src_ip = 0x0a000001u, .sport = 5, .dst_ip = 7, .dport = 53};
    assert_int_equal(nat_owner(c, &in, 0, 4),
                     nat_flow_hash(in.src_ip, in.sport, in.dst_ip, in.dport, in.proto) % 4);
    /* ICMP errors go to the owner of the flow they quote. */
    struct vnf_pkt_inner q_out = {
        .proto = 17, .src_ip = 0xc6336401u, .sport = 4001, .dst_ip = 7, .dport = 53};
    assert_int_equal(nat_owner_icmp_error(c, &q_out, 1, 4), 4001 % 4);
    struct vnf_pkt_inner q_in = {
        .proto = 6, .src_ip = 7, .sport = 1234, .dst_ip = 0x0a000005u, .dport = 80};
    assert_int_equal(nat_owner_icmp_error(c, &q_in, 0, 4), 8081 % 4);
    free(c);
}

/*
 * Two forwards to one inside endpoint (two outside addresses, or ports 80 and
 * 8080 to a server's 80): every packet of a connection opened through either
 * forward, both directions and ICMP errors about it, has one owner. The
 * inside answers used to go to the owner of the first forward only, which
 * had no such flow and opened a new dynamic mapping (wrong source port).
 */
static void test_nat_owner_shared_forward_endpoint(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    struct nfv_err err = {0};

    (void)state;
    assert_non_null(c);
    nat_conf_init(c);
    assert_int_equal(nat_conf_load_text(c, "n",
                                        "outside-ip 198.51.100.1,198.51.100.2\n"
                                        "forward tcp 198.51.100.1 8081 10.0.0.5 80\n"
                                        "forward tcp 198.51.100.1 8082 10.0.0.5 80\n"
                                        "forward tcp 198.51.100.2 8083 10.0.0.5 80\n"
                                        "forward tcp 198.51.100.1 9000 10.0.0.6 80\n",
                                        &err),
                     NFV_OK);
    assert_int_equal(nat_conf_finish(c, "n", &err), NFV_OK);
    for (unsigned n_workers = 1; n_workers <= 8; n_workers++) {
        static const uint32_t out_ip[] = {0xc6336401u, 0xc6336401u, 0xc6336402u};
        static const uint16_t out_port[] = {8081, 8082, 8083};
        for (unsigned i = 0; i < 3; i++) {
            /* remote 203.0.113.9:40000 -> forward i */
            struct vnf_pkt syn = {.proto = 6,
                                  .src_ip = 0xcb007109u,
                                  .sport = 40000,
                                  .dst_ip = out_ip[i],
                                  .dport = out_port[i]};
            struct vnf_pkt answer = {.proto = 6,
                                     .src_ip = 0x0a000005u,
                                     .sport = 80,
                                     .dst_ip = 0xcb007109u,
                                     .dport = 40000};
            /* an ICMP error from the remote's path quoting the answer (after translation) */
            struct vnf_pkt_inner q_out = {.proto = 6,
                                          .src_ip = out_ip[i],
                                          .sport = out_port[i],
                                          .dst_ip = 0xcb007109u,
                                          .dport = 40000};
            unsigned owner = nat_owner(c, &syn, 1, n_workers);

            assert_int_equal(nat_owner(c, &answer, 0, n_workers), owner);
            assert_int_equal(nat_owner_icmp_error(c, &q_out, 1, n_workers), owner);
        }
        /* a forward of its own keeps its own port's owner */
        struct vnf_pkt other = {
            .proto = 6, .src_ip = 0xcb007109u, .sport = 1, .dst_ip = 0xc6336401u, .dport = 9000};
        assert_int_equal(nat_owner(c, &other, 1, n_workers), 9000 % n_workers);
        /* dynamic mappings: the destination port names the owner, also when the port
         * number is a forward's on another outside address */
        struct vnf_pkt dyn = {
            .proto = 6, .src_ip = 0xcb007109u, .sport = 1, .dst_ip = 0xc6336402u, .dport = 8082};
        assert_int_equal(nat_owner(c, &dyn, 1, n_workers), 8082 % n_workers);
    }
    free(c);
}

/*
 * Regression: with a linear walk, a flow whose hash start fell into the block of
 * ports that one subnet's preserved source ports occupy (1024-2023 here) ran out
 * of its NAT_PORT_TRIES inside the block and was dropped with drop_no_port,
 * although 98% of the ports were free.
 */
static void test_nat_port_search_leaves_used_blocks(void **state)
{
    struct nat_conf *c = malloc(sizeof(*c));
    static uint8_t used[65536];
    unsigned n_failed = 0;

    (void)state;
    nat_conf_init(c);
    memset(used, 0, sizeof(used));
    for (unsigned p = 1024; p <= 2023; p++)
        used[p] = 1;
    for (uint32_t f = 0; f < 5000; f++) {
        uint32_t h = nat_flow_hash(0x0a000000u + f, (uint16_t)(1024 + f % 1000), 7, 53, 17);
        unsigned i;

        for (i = 0; i < NAT_PORT_TRIES; i++) {
            uint16_t p = nat_port_candidate(c, (uint16_t)(1024 + f % 1000), h, 0, 1, i);
            if (!used[p])
                break;
        }
        n_failed += i == NAT_PORT_TRIES;
    }
    assert_int_equal(n_failed, 0);
    free(c);
}

static void test_fw_owner_is_symmetric(void **state)
{
    unsigned count[4] = {0};

    (void)state;
    for (uint32_t i = 0; i < 1000; i++) {
        struct vnf_pkt a = {.proto = (i & 1) ? 6 : 17,
                            .src_ip = 0x0a000000u + i,
                            .dst_ip = 0xc0000200u + i % 7,
                            .sport = (uint16_t)(1024 + i),
                            .dport = 80};
        struct vnf_pkt b = a;

        b.src_ip = a.dst_ip, b.dst_ip = a.src_ip, b.sport = a.dport, b.dport = a.sport;
        assert_int_equal(fw_flow_owner(&a, 4), fw_flow_owner(&b, 4));
        count[fw_flow_owner(&a, 4)]++;
    }
    for (int w = 0; w < 4; w++)
        assert_true(count[w] > 150); /* spread over all workers */
}

static const char fw_rules_text[] = "# test rules\n"
                                    "accept proto tcp dst 192.0.2.10 dport 80\n"
                                    "drop src 10.0.0.0/8 proto udp\n"
                                    "accept src 10.0.0.0/8\n"
                                    "\n"
                                    "accept proto udp sport 1000-2000 dport any\n";

static void test_fw_rules(void **state)
{
    struct fw_rules *r = NULL;
    struct nfv_err err;
    struct vnf_pkt p = {
        .proto = 6, .src_ip = 0x0b000001u, .dst_ip = 0xc000020au, .sport = 5000, .dport = 80};

    (void)state;
    assert_int_equal(fw_rules_load_text("fw.rules", fw_rules_text, &r, &err), NFV_OK);
    assert_int_equal(r->n_rules, 4);
    assert_int_equal(r->rules[0].lineno, 2);
    assert_int_equal(r->rules[3].lineno, 6);
    assert_int_equal(r->rules[1].action, FW_DROP);
    assert_int_equal(r->rules[3].sport_lo, 1000);
    assert_int_equal(r->rules[3].sport_hi, 2000);

    assert_int_equal(fw_rules_match(r, &p), 0);
    p.dport = 81;
    assert_int_equal(fw_rules_match(r, &p), -1);
    p.src_ip = 0x0a010203u; /* 10.1.2.3 */
    assert_int_equal(fw_rules_match(r, &p), 2);
    p.proto = 17; /* first match wins: the drop on line 3 */
    assert_int_equal(fw_rules_match(r, &p), 1);
    p.src_ip = 0x0b000001u;
    p.sport = 1500;
    assert_int_equal(fw_rules_match(r, &p), 3);
    p.sport = 2001;
    assert_int_equal(fw_rules_match(r, &p), -1);
    fw_rules_free(r);

    assert_int_equal(fw_rules_load_text("empty", "# nothing\n", &r, &err), NFV_OK);
    assert_int_equal(r->n_rules, 0);
    fw_rules_free(r);
    fw_rules_free(NULL);
}

static void test_fw_rule_errors(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"accept\nallow src any\n", "f:2: 'allow': a rule starts with 'accept' or 'drop'"},
        {"drop src\n", "f:1: 'src': missing value"},
        {"drop from 1.2.3.4\n",
         "f:1: 'from': unknown field (expected src, dst, proto, sport, dport)"},
        {"drop src 1.2.3.4 src 1.2.3.5\n", "f:1: 'src': given twice"},
        {"drop dst 10.0.0.1/24\n", "f:1: 'dst': '10.0.0.1/24' has host bits set"},
        {"\n\ndrop dport 80\n", "f:3: 'sport'/'dport': need 'proto tcp' or 'proto udp'"},
        {"drop proto icmp sport 1\n", "f:1: 'sport'/'dport': need 'proto tcp' or 'proto udp'"},
        {"accept proto tcp dport 90-80\n", "f:1: 'dport': range '90-80' is empty (low > high)"},
    };
    struct fw_rules *r = (struct fw_rules *)0x1;
    struct nfv_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_not_equal(fw_rules_load_text("f", cases[i].text, &r, &err), NFV_OK);
        assert_string_equal(err.msg, cases[i].msg);
        assert_ptr_equal(r, (struct fw_rules *)0x1); /* untouched on error */
    }
}

static void test_fw_conf(void **state)
{
    struct fw_conf c;
    struct nfv_err err;

    (void)state;
    fw_conf_init(&c);
    assert_int_equal(c.default_action, FW_DROP);
    assert_false(c.is_stateful);
    assert_int_equal(fw_conf_load_text(&c, "fw.conf",
                                       "default accept\nstateful on\nflows 1000\n"
                                       "timeout tcp-established 60\n",
                                       &err),
                     NFV_OK);
    assert_int_equal(c.default_action, FW_ACCEPT);
    assert_true(c.is_stateful);
    assert_int_equal(c.max_flows, 1000);
    assert_int_equal(c.tmo.sec[VNF_TMO_TCP_EST], 60);
    assert_int_equal(fw_conf_load_text(&c, "fw.conf", "stateful maybe\n", &err), NFV_E_PARSE);
    assert_string_equal(err.msg, "fw.conf:1: 'stateful': expected 'stateful on|off'");
    assert_int_equal(fw_conf_load_text(&c, "fw.conf", "timeout tcp 5\n", &err), NFV_E_PARSE);
    assert_string_equal(err.msg, "fw.conf:1: 'timeout': unknown class 'tcp'");
}

/* The example files in tests/data/vnf parse, and say what their comments say. */
static void test_example_files(void **state)
{
    const char *src = getenv("VMMGR_SOURCE_DIR");
    char path[4096];
    struct nat_conf *nc = malloc(sizeof(*nc));
    struct fw_rules *r = NULL;
    struct fw_conf fc;
    struct nfv_err err;

    (void)state;
    if (!src)
        src = ".";
    snprintf(path, sizeof(path), "%s/tests/data/vnf/nat.conf", src);
    nat_conf_init(nc);
    assert_int_equal(nat_conf_load(nc, path, &err), NFV_OK);
    assert_int_equal(nat_conf_finish(nc, path, &err), NFV_OK);
    assert_int_equal(nc->n_outside_ip, 2);
    assert_int_equal(nc->n_fwd, 2);
    assert_int_equal(nc->max_flows, 1048576);
    free(nc);

    snprintf(path, sizeof(path), "%s/tests/data/vnf/fw.rules", src);
    assert_int_equal(fw_rules_load(path, &r, &err), NFV_OK);
    assert_int_equal(r->n_rules, 8);
    struct vnf_pkt ping_out = {.proto = 1, .src_ip = 0x0a010101u, .dst_ip = 0x08080808u};
    struct vnf_pkt ping_in = {.proto = 1, .src_ip = 0x08080808u, .dst_ip = 0x0a010101u};
    struct vnf_pkt smb = {
        .proto = 6, .src_ip = 0x0a010101u, .dst_ip = 0x0a020202u, .sport = 50000, .dport = 445};
    assert_int_equal(r->rules[fw_rules_match(r, &ping_out)].action, FW_ACCEPT);
    assert_int_equal(r->rules[fw_rules_match(r, &ping_in)].action, FW_DROP);
    assert_int_equal(r->rules[fw_rules_match(r, &smb)].action, FW_DROP);
    fw_rules_free(r);

    snprintf(path, sizeof(path), "%s/tests/data/vnf/fw.conf", src);
    fw_conf_init(&fc);
    assert_int_equal(fw_conf_load(&fc, path, &err), NFV_OK);
    assert_true(fc.is_stateful);
    assert_int_equal(fc.tmo.sec[VNF_TMO_UDP], 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_and_line_numbers),
        cmocka_unit_test(test_parse_file_and_io_error),
        cmocka_unit_test(test_value_parsers),
        cmocka_unit_test(test_nat_conf),
        cmocka_unit_test(test_nat_conf_errors),
        cmocka_unit_test(test_nat_mapping_choices),
        cmocka_unit_test(test_nat_worker_ports),
        cmocka_unit_test(test_nat_owner_shared_forward_endpoint),
        cmocka_unit_test(test_nat_port_search_leaves_used_blocks),
        cmocka_unit_test(test_fw_owner_is_symmetric),
        cmocka_unit_test(test_fw_rules),
        cmocka_unit_test(test_fw_rule_errors),
        cmocka_unit_test(test_fw_conf),
        cmocka_unit_test(test_example_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
