/* test_vnf_flow.c - timeout classes, the coarse TCP state machine and expiry (vnf/flow.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vnf/flow.h"
#include "vnf/pkt.h"

static void test_defaults_and_names(void **state)
{
    struct vnf_timeouts t;

    (void)state;
    vnf_timeouts_default(&t);
    assert_int_equal(t.sec[VNF_TMO_TCP_EST], 7440);
    assert_int_equal(t.sec[VNF_TMO_TCP_TRANS], 240);
    assert_int_equal(t.sec[VNF_TMO_UDP], 300);
    assert_int_equal(t.sec[VNF_TMO_ICMP], 60);
    for (int i = 0; i < VNF_TMO__COUNT; i++)
        assert_int_equal(vnf_tmo_from_string(vnf_tmo_to_string((enum vnf_tmo)i)), i);
    assert_int_equal(vnf_tmo_from_string("tcp"), VNF_TMO__COUNT);
}

static void test_conf_statement(void **state)
{
    struct vnf_timeouts t;
    struct nfv_err err;
    char *ok[] = {"timeout", "icmp", "5"};
    char *bad_class[] = {"timeout", "sctp", "5"};
    char *zero[] = {"timeout", "udp", "0"};

    (void)state;
    vnf_timeouts_default(&t);
    assert_int_equal(vnf_timeouts_conf(&t, 3, ok, &err), NFV_OK);
    assert_int_equal(t.sec[VNF_TMO_ICMP], 5);
    assert_int_equal(vnf_timeouts_conf(&t, 3, bad_class, &err), NFV_E_PARSE);
    assert_int_equal(vnf_timeouts_conf(&t, 3, zero, &err), NFV_E_INVAL);
    assert_int_equal(vnf_timeouts_conf(&t, 2, ok, &err), NFV_E_PARSE);
}

static void test_tcp_states(void **state)
{
    enum vnf_flow_state s = VNF_FLOW_OPENING;

    (void)state;
    assert_int_equal(vnf_flow_tmo(VNF_PROTO_TCP, s), VNF_TMO_TCP_TRANS);
    s = vnf_flow_next(s, VNF_PROTO_TCP, VNF_TCP_ACK, false); /* more from the opener */
    assert_int_equal(s, VNF_FLOW_OPENING);
    s = vnf_flow_next(s, VNF_PROTO_TCP, VNF_TCP_SYN | VNF_TCP_ACK, true);
    assert_int_equal(s, VNF_FLOW_EST);
    assert_int_equal(vnf_flow_tmo(VNF_PROTO_TCP, s), VNF_TMO_TCP_EST);
    s = vnf_flow_next(s, VNF_PROTO_TCP, VNF_TCP_ACK, false);
    assert_int_equal(s, VNF_FLOW_EST);
    s = vnf_flow_next(s, VNF_PROTO_TCP, VNF_TCP_FIN | VNF_TCP_ACK, false);
    assert_int_equal(s, VNF_FLOW_CLOSING);
    assert_int_equal(vnf_flow_tmo(VNF_PROTO_TCP, s), VNF_TMO_TCP_TRANS);
    /* Closing is final, even when the other side answers. */
    assert_int_equal(vnf_flow_next(s, VNF_PROTO_TCP, VNF_TCP_ACK, true), VNF_FLOW_CLOSING);
    assert_int_equal(vnf_flow_next(VNF_FLOW_EST, VNF_PROTO_TCP, VNF_TCP_RST, true),
                     VNF_FLOW_CLOSING);
    /* UDP: flags mean nothing; a reply establishes. */
    assert_int_equal(vnf_flow_next(VNF_FLOW_OPENING, VNF_PROTO_UDP, 0xff, true), VNF_FLOW_EST);
    assert_int_equal(vnf_flow_tmo(VNF_PROTO_UDP, VNF_FLOW_EST), VNF_TMO_UDP);
    assert_int_equal(vnf_flow_tmo(VNF_PROTO_ICMP, VNF_FLOW_OPENING), VNF_TMO_ICMP);
    assert_int_equal(vnf_flow_tmo(47, VNF_FLOW_OPENING), VNF_TMO_OTHER);
}

static void test_expiry_boundary(void **state)
{
    struct vnf_timeouts t;

    (void)state;
    vnf_timeouts_default(&t);
    t.sec[VNF_TMO_UDP] = 10;
    assert_false(vnf_flow_expired(&t, VNF_PROTO_UDP, VNF_FLOW_EST, 1000, 11000));
    assert_true(vnf_flow_expired(&t, VNF_PROTO_UDP, VNF_FLOW_EST, 1000, 11001));
    /* A clock that goes backwards never expires a flow. */
    assert_false(vnf_flow_expired(&t, VNF_PROTO_UDP, VNF_FLOW_EST, 50000, 1000));
    /* The class follows the state: TCP opening uses the short timeout. */
    assert_true(vnf_flow_expired(&t, VNF_PROTO_TCP, VNF_FLOW_OPENING, 0, 240001));
    assert_false(vnf_flow_expired(&t, VNF_PROTO_TCP, VNF_FLOW_EST, 0, 240001));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_names),
        cmocka_unit_test(test_conf_statement),
        cmocka_unit_test(test_tcp_states),
        cmocka_unit_test(test_expiry_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
