"""test_nat_pcap.py - vmmgr-nat, driven through net_pcap, every output packet asserted.

Two runs of the same binary with the same config:
  1. inside traffic only, to learn which outside ports the NAT chose (its
     choice is deterministic for the same input, and is checked again in run 2);
  2. inside traffic, the replies to the learned outside ports, a static port
     forward, unsolicited and malformed packets, and a reply that arrives after
     its flow's UDP timeout (capture timestamps are the clock).
Every output packet must equal the input packet with only the translated
address/port changed and all checksums as scapy recomputes them (tshark
agrees), and every counter must match exactly.

Also checks the contract's memory claim: the default 1,048,576 flows fit with
--no-huge -m 1024.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnftest as vt  # noqa: E402
from vnftest import ICMP, IP, TCP, UDP, Ether, Raw, check  # noqa: E402

OUT_IP = "198.51.100.1"
T = 1000.0
CONFIG = """# vmmgr-nat functional test config
outside-ip 198.51.100.1
timeout udp 30
timeout icmp 10
timeout tcp-transitory 20
forward tcp 198.51.100.1 8080 10.0.0.5 80
"""


def pkt(t, l3, l4, payload):
    p = Ether(src=vt.MAC_A, dst=vt.MAC_B) / l3 / l4 / Raw(payload)
    p = Ether(bytes(p))  # freeze checksums as a real sender would have them
    p.time = t
    return p


def inside_flows():
    """The dynamic flows opened from inside: key -> packet."""
    return [
        ("a", pkt(T + 0.000, IP(src="10.0.0.1", dst="203.0.113.5"), UDP(sport=5000, dport=53),
                  b"seq=0001 payload a")),
        ("b", pkt(T + 0.001, IP(src="10.0.0.2", dst="203.0.113.5"), UDP(sport=5000, dport=53),
                  b"seq=0002 payload b")),
        ("c", pkt(T + 0.002, IP(src="10.0.0.1", dst="198.18.0.9"),
                  TCP(sport=40000, dport=443, flags="S", seq=777), b"seq=0003")),
        ("d", pkt(T + 0.003, IP(src="10.0.0.3", dst="203.0.113.5"),
                  ICMP(type=8, id=0x1234, seq=1), b"ping-payload-0004")),
        ("e", pkt(T + 0.004, IP(src="10.0.0.1", dst="203.0.113.6"), UDP(sport=80, dport=53),
                  b"seq=0005 low source port")),
        ("f", pkt(T + 0.005, IP(src="10.0.0.4", dst="203.0.113.5"),
                  UDP(sport=7000, dport=9, chksum=0), b"seq=0006 no udp checksum")),
    ]


def out_port(p):
    """The outside port / ICMP id a translated packet carries."""
    if ICMP in p:
        return p[ICMP].id
    return p[TCP].sport if TCP in p else p[UDP].sport


def translated_src(p, ip, port):
    q = Ether(bytes(p))
    q[IP].src = ip
    if ICMP in q:
        q[ICMP].id = port
    elif TCP in q:
        q[TCP].sport = port
    else:
        q[UDP].sport = port
    return vt.with_checksums(q)


def translated_dst(p, ip, port):
    q = Ether(bytes(p))
    q[IP].dst = ip
    if ICMP in q:
        q[ICMP].id = port
    elif TCP in q:
        q[TCP].dport = port
    else:
        q[UDP].dport = port
    return vt.with_checksums(q)


def main():
    exe = vt.binary("nat/vmmgr-nat")
    with vt.Workdir("nat") as wd:
        conf = wd.path("nat.conf")
        with open(conf, "w") as f:
            f.write(CONFIG)
        args = ["-f", conf]

        # Run 1: learn the mapping.
        flows = inside_flows()
        st1, o0, o1, _, _ = vt.run_pcap(wd, exe, [p for _, p in flows], [], args, mem=1024,
                                        name="learn")
        check(st1["flows_max"] == 1048576, "default flow table is %d, not 1048576"
              % st1["flows_max"])
        check(len(o0) == 0 and len(o1) == len(flows), "run 1: %d/%d packets out, expected 0/%d"
              % (len(o0), len(o1), len(flows)))
        port = {k: out_port(o) for (k, _), o in zip(flows, o1)}
        check(port["a"] == 5000, "flow a: source port 5000 not preserved (got %d)" % port["a"])
        check(port["b"] != 5000 and 1024 <= port["b"] <= 65535,
              "flow b (same port, same remote as a) got port %d" % port["b"])
        check(port["c"] == 40000, "flow c: port 40000 not preserved")
        check(port["d"] == 0x1234, "flow d: ICMP id not preserved")
        check(1024 <= port["e"] <= 65535, "flow e: port %d outside 1024-65535" % port["e"])
        check(port["f"] == 7000, "flow f: port 7000 not preserved")

        # Run 2: everything.
        in0 = [p for _, p in flows]
        g = pkt(T + 0.020, IP(src="10.0.0.5", dst="192.0.2.77"),
                TCP(sport=80, dport=33333, flags="SA", seq=5, ack=1001), b"forwarded reply")
        h = pkt(T + 0.030, IP(src="10.0.0.1", dst="203.0.113.5"), UDP(sport=5000, dport=53),
                b"seq=0008 second packet of a")
        i = pkt(T + 101.0, IP(src="10.0.0.1", dst="203.0.113.5"), UDP(sport=5000, dport=53),
                b"seq=0009 after expiry")
        gre = pkt(T + 0.040, IP(src="10.0.0.1", dst="203.0.113.5", proto=47), Raw(b"\0\0\x08\0"),
                  b"gre")
        # An ICMP error about no flow, one that is neither echo nor error, one whose quote
        # is cut short.
        unreach = pkt(T + 0.041, IP(src="10.0.0.1", dst="203.0.113.5"), ICMP(type=3, code=1),
                      bytes(IP(src="203.0.113.5", dst="10.0.0.1") / UDP(sport=1, dport=2)))
        tstamp = pkt(T + 0.042, IP(src="10.0.0.1", dst="203.0.113.5"), ICMP(type=13), b"\0" * 12)
        short = pkt(T + 0.043, IP(src="10.0.0.1", dst="203.0.113.5"), ICMP(type=3, code=3),
                    bytes(IP(src="203.0.113.5", dst="10.0.0.1") / UDP(sport=1, dport=2))[:10])
        mal_in = vt.malformed(T + 0.050)
        # RFC 5508, inside -> outside: 10.0.0.5 answers the forwarded connection with a port
        # unreachable quoting (IP header + 8 bytes) the packet it received, i.e. the NAT's
        # translation of fw1 below. Outside, the quote must be fw1 as its sender sent it.
        fw1 = pkt(T + 0.015, IP(src="192.0.2.77", dst=OUT_IP),
                  TCP(sport=33333, dport=8080, flags="S", seq=1000), b"to the forward")
        fw1_in = translated_dst(fw1, "10.0.0.5", 80)
        quote = bytes(fw1_in[IP])[:28]
        err_in = pkt(T + 0.0205, IP(src="10.0.0.5", dst="192.0.2.77"), ICMP(type=3, code=3),
                     quote)
        in0 += [g, h, gre, unreach, tstamp, short, err_in] + [p for _, p in mal_in] + [i]
        in0.sort(key=lambda p: p.time)

        r = {
            "r1": pkt(T + 0.010, IP(src="203.0.113.5", dst=OUT_IP), UDP(sport=53, dport=port["a"]),
                      b"reply a"),
            "r2": pkt(T + 0.011, IP(src="203.0.113.5", dst=OUT_IP), UDP(sport=53, dport=port["b"]),
                      b"reply b"),
            "r3": pkt(T + 0.012, IP(src="198.18.0.9", dst=OUT_IP),
                      TCP(sport=443, dport=port["c"], flags="SA", seq=9, ack=778), b"reply c"),
            "r4": pkt(T + 0.013, IP(src="203.0.113.5", dst=OUT_IP),
                      ICMP(type=0, id=port["d"], seq=1), b"ping-payload-0004"),
            "r5": pkt(T + 0.014, IP(src="203.0.113.6", dst=OUT_IP), UDP(sport=53, dport=port["e"]),
                      b"reply e"),
            "fw1": fw1,
        }
        # RFC 5508, outside -> inside: a router says flow e's packet (as the NAT sent it, the
        # whole datagram quoted, so its UDP checksum is inside the quote) ran out of TTL.
        # Inside, the quote must be flow e's packet exactly as 10.0.0.1 sent it.
        e_out = translated_src(dict(flows)["e"], OUT_IP, port["e"])
        err_out = pkt(T + 0.0195, IP(src="192.0.2.254", dst=OUT_IP), ICMP(type=11, code=0),
                      bytes(e_out[IP]))
        x1 = pkt(T + 0.016, IP(src="203.0.113.99", dst=OUT_IP), UDP(sport=53, dport=port["a"]),
                 b"other remote, same port")
        x2 = pkt(T + 0.017, IP(src="192.0.2.77", dst=OUT_IP), TCP(sport=1, dport=9999, flags="S"),
                 b"unsolicited")
        frag = pkt(T + 0.018, IP(src="203.0.113.5", dst=OUT_IP, flags="MF"),
                   UDP(sport=53, dport=port["a"]), b"fragment")
        late = pkt(T + 100.0, IP(src="203.0.113.5", dst=OUT_IP), UDP(sport=53, dport=port["a"]),
                   b"late reply: flow a idle for 99.97 s > 30 s")
        in1 = list(r.values()) + [x1, x2, frag, late, err_out]
        in1.sort(key=lambda p: p.time)

        st, o0, o1, f0, f1 = vt.run_pcap(wd, exe, in0, in1, args, mem=1024, idle_ms=1000,
                                         name="full")

        # Outside port: every inside packet translated, in order, nothing else.
        want1 = [translated_src(p, OUT_IP, port[k]) for k, p in flows]
        err_in_want = Ether(bytes(err_in))
        err_in_want[IP].src = OUT_IP
        err_in_want[ICMP].remove_payload()
        err_in_want = vt.with_checksums(err_in_want / Raw(bytes(fw1[IP])[:28]))
        want1 += [translated_src(g, OUT_IP, 8080), err_in_want,
                  translated_src(h, OUT_IP, port["a"]), translated_src(i, OUT_IP, 5000)]
        check(len(o1) == len(want1), "outside port sent %d packets, expected %d"
              % (len(o1), len(want1)))
        for n, (got, want) in enumerate(zip(o1, want1)):
            vt.assert_same_bytes(got, want, "outside packet %d" % (n + 1))
        # Inside port: replies and the forwarded connection restored.
        want0 = [translated_dst(r["r1"], "10.0.0.1", 5000),
                 translated_dst(r["r2"], "10.0.0.2", 5000),
                 translated_dst(r["r3"], "10.0.0.1", 40000),
                 translated_dst(r["r4"], "10.0.0.3", 0x1234),
                 translated_dst(r["r5"], "10.0.0.1", 80),
                 translated_dst(r["fw1"], "10.0.0.5", 80)]
        err_out_want = Ether(bytes(err_out))
        err_out_want[IP].dst = "10.0.0.1"
        err_out_want[ICMP].remove_payload()
        want0.append(vt.with_checksums(err_out_want / Raw(bytes(dict(flows)["e"][IP]))))
        check(len(o0) == len(want0), "inside port sent %d packets, expected %d"
              % (len(o0), len(want0)))
        for n, (got, want) in enumerate(zip(o0, want0)):
            vt.assert_same_bytes(got, want, "inside packet %d" % (n + 1))
        # UDP without checksum stays without (RFC 768).
        check(o1 and UDP in o1[5] and o1[5][UDP].chksum == 0, "flow f: UDP checksum not left 0")
        vt.tshark_validate(f0, len(want0))
        vt.tshark_validate(f1, len(want1))

        want_st = {
            "rx_inside": len(in0), "rx_outside": len(in1),
            "tx_inside": len(want0), "tx_outside": len(want1),
            "translated_out": len(want1) - 1, "translated_in": len(want0) - 1,
            "icmp_errors_translated": 2, "drop_bad_icmp_error": 1,
            # a b c d e f, the forward, and a re-created after expiry
            "flows_created": 8, "forwards_used": 1,
            # a (on the late reply), b, d, e, f by timeout; c and the forward are
            # established TCP (7440 s), the new a is fresh
            "flows_expired": 5, "flows_active": 3,
            "drop_no_flow": 4, "drop_unsupported_proto": 1, "drop_icmp_not_echo": 1,
            "drop_truncated": 1, "drop_bad_header": 1, "drop_bad_ip_checksum": 1,
            "drop_fragment": 2, "drop_non_ipv4": 2, "drop_no_port": 0, "drop_table_full": 0,
            "tx_full_inside": 0, "tx_full_outside": 0,
        }
        for k, v in want_st.items():
            check(st.get(k) == v, "counter %s = %s, expected %d" % (k, st.get(k), v))

        # Run 3: the production loop (bursts of 32, TSC clock). Packets of new flows
        # follow each other inside one burst, whose flows are looked up in bulk before
        # any is created: every packet must still get its flow's one mapping.
        burst = []
        for n in range(40):
            for k in range(3):
                burst.append(pkt(T + len(burst) * 1e-6, IP(src="10.2.0.%d" % (n % 20 + 1),
                                                           dst="203.0.113.%d" % (n % 3 + 1)),
                                 UDP(sport=6000 + n // 20, dport=53), b"n=%02d k=%d" % (n, k)))
        st, o0, o1, _, _ = vt.run_pcap(wd, exe, burst, [], ["--flows", "1024"],
                                       name="burst", test_clock=False)
        check(len(o1) == len(burst), "burst: %d of %d packets out" % (len(o1), len(burst)))
        mapping = {}
        for got, src in zip(o1, burst):
            key = (src[IP].src, src[UDP].sport, src[IP].dst)
            port = got[UDP].sport
            check(mapping.setdefault(key, port) == port, "burst: flow %s changed port" % (key,))
            vt.assert_same_bytes(got, translated_src(src, OUT_IP, port), "burst packet")
        for k, v in {"flows_created": 40, "flows_active": 40, "translated_out": 120,
                     "drop_no_port": 0}.items():
            check(st.get(k) == v, "burst: counter %s = %s, expected %d" % (k, st.get(k), v))

        # Run 4: a full table and a full port range. --flows 4: the fifth and sixth new
        # flows find no slot (drop_table_full), the first four keep working. Then a range of
        # two ports: a third flow to the same remote endpoint finds no port (drop_no_port).
        six = [pkt(T + n * 0.001, IP(src="10.3.0.%d" % (n + 1), dst="203.0.113.5"),
                   UDP(sport=7000, dport=53), b"six") for n in range(6)]
        six.append(pkt(T + 0.01, IP(src="10.3.0.1", dst="203.0.113.5"), UDP(sport=7000, dport=53),
                       b"first flow again"))
        st, _, o1, _, _ = vt.run_pcap(wd, exe, six, [], ["--flows", "4"], name="full")
        check([p[IP].src for p in o1] == [OUT_IP] * 5, "full table: %d packets out" % len(o1))
        for k, v in {"flows_created": 4, "flows_active": 4, "drop_table_full": 2,
                     "translated_out": 5}.items():
            check(st.get(k) == v, "full table: counter %s = %s, expected %d" % (k, st.get(k), v))
        conf2 = wd.path("two-ports.conf")
        with open(conf2, "w") as f:
            f.write("outside-ip 198.51.100.1\nport-range 2000-2001\n")
        st, _, o1, _, _ = vt.run_pcap(wd, exe, six[:3], [], ["-f", conf2, "--flows", "64"],
                                      name="ports")
        check(sorted(p[UDP].sport for p in o1) == [2000, 2001],
              "two ports: sent from %s" % [p[UDP].sport for p in o1])
        for k, v in {"flows_created": 2, "drop_no_port": 1}.items():
            check(st.get(k) == v, "two ports: counter %s = %s, expected %d" % (k, st.get(k), v))
    vt.finish()


if __name__ == "__main__":
    main()
