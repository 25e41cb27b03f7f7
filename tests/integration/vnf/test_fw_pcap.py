"""test_fw_pcap.py - vmmgr-fw, driven through net_pcap, every output packet asserted.

The rules file below is also encoded as a small Python reference (RULES); the
test derives each packet's verdict from the reference, so the expected
outputs, per-rule hit counters and drop counters are computed independently
of the firewall's rte_acl code. Three runs over the same traffic:
  1. stateless, default drop: replies from port 1 are judged by the rules;
  2. stateful (config file): replies of accepted flows pass by state, also
     after a rule-dropped flow's reply is still dropped, and a reply after the
     UDP timeout (capture timestamps are the clock) is judged by the rules again;
  3. stateless with --default accept.
Accepted packets must leave the other port byte-for-byte unchanged.
"""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnftest as vt  # noqa: E402
from vnftest import ICMP, IP, TCP, UDP, Ether, Raw, check  # noqa: E402

RULES_TEXT = """# vmmgr-fw functional test rules (first match wins)
accept proto tcp dst 192.0.2.10 dport 80
drop   src 10.0.0.66

accept proto udp src 10.0.0.0/24 dport 53
accept proto icmp src 10.0.0.0/24
drop   proto tcp dport 1000-2000
accept proto tcp src 203.0.113.0/24 dst 10.0.0.0/24 sport 443 dport 30000-40000
"""
# (line, action, proto or None, src net, dst net, sport range, dport range)
ANY = (0, 65535)
RULES = [
    (2, "accept", 6, "0.0.0.0/0", "192.0.2.10/32", ANY, (80, 80)),
    (3, "drop", None, "10.0.0.66/32", "0.0.0.0/0", ANY, ANY),
    (5, "accept", 17, "10.0.0.0/24", "0.0.0.0/0", ANY, (53, 53)),
    (6, "accept", 1, "10.0.0.0/24", "0.0.0.0/0", ANY, ANY),
    (7, "drop", 6, "0.0.0.0/0", "0.0.0.0/0", ANY, (1000, 2000)),
    (8, "accept", 6, "203.0.113.0/24", "10.0.0.0/24", (443, 443), (30000, 40000)),
]
T = 2000.0


def tuple_of(p):
    ip = p[IP]
    if TCP in p:
        return ip.proto, ip.src, ip.dst, p[TCP].sport, p[TCP].dport
    if UDP in p:
        return ip.proto, ip.src, ip.dst, p[UDP].sport, p[UDP].dport
    if ICMP in p and p[ICMP].type in (0, 8):
        return ip.proto, ip.src, ip.dst, p[ICMP].id, p[ICMP].id
    return ip.proto, ip.src, ip.dst, 0, 0


def ref_match(p):
    proto, src, dst, sp, dp = tuple_of(p)
    for idx, (_, _, rp, rs, rd, rsp, rdp) in enumerate(RULES):
        if rp is not None and rp != proto:
            continue
        if ipaddress.ip_address(src) not in ipaddress.ip_network(rs):
            continue
        if ipaddress.ip_address(dst) not in ipaddress.ip_network(rd):
            continue
        if not (rsp[0] <= sp <= rsp[1] and rdp[0] <= dp <= rdp[1]):
            continue
        return idx
    return None


def pkt(t, l3, l4, payload):
    p = Ether(bytes(Ether(src=vt.MAC_A, dst=vt.MAC_B) / l3 / l4 / Raw(payload)))
    p.time = t
    return p


def traffic():
    """(side, packet) in time order; side 0 = port 0, 1 = port 1."""
    s = []
    n = [0]

    def add(side, l3, l4, payload=b""):
        n[0] += 1
        s.append((side, pkt(T + n[0] * 0.001, l3, l4, b"seq=%04d " % n[0] + payload)))

    add(0, IP(src="10.0.0.1", dst="192.0.2.10"), TCP(sport=40001, dport=80, flags="S"))
    add(0, IP(src="10.0.0.66", dst="192.0.2.10"), TCP(sport=40002, dport=80, flags="S"))
    add(0, IP(src="10.0.0.66", dst="8.8.8.8"), UDP(sport=5353, dport=53))
    add(0, IP(src="10.0.0.7", dst="8.8.8.8"), UDP(sport=5354, dport=53))
    add(0, IP(src="10.0.1.7", dst="8.8.8.8"), UDP(sport=5355, dport=53))
    add(0, IP(src="10.0.0.7", dst="8.8.8.8"), ICMP(type=8, id=77, seq=1))
    add(0, IP(src="10.0.0.7", dst="1.1.1.1"), TCP(sport=40003, dport=1500, flags="S"))
    add(0, IP(src="10.0.0.7", dst="1.1.1.1"), TCP(sport=40004, dport=2500, flags="S"))
    add(0, IP(src="10.0.0.7", dst="1.1.1.1", proto=47), Raw(b"\0\0\x08\0"))
    # replies and unsolicited traffic from port 1
    add(1, IP(src="192.0.2.10", dst="10.0.0.1"), TCP(sport=80, dport=40001, flags="SA"))
    add(1, IP(src="8.8.8.8", dst="10.0.0.7"), UDP(sport=53, dport=5354))
    add(1, IP(src="8.8.8.8", dst="10.0.0.66"), UDP(sport=53, dport=5353))  # its flow was dropped
    add(1, IP(src="8.8.8.8", dst="10.0.0.7"), ICMP(type=0, id=77, seq=1))
    add(1, IP(src="203.0.113.9", dst="192.0.2.10"), TCP(sport=1234, dport=80, flags="S"))
    add(1, IP(src="203.0.113.9", dst="10.0.0.8"), TCP(sport=443, dport=35000, flags="A"))
    add(1, IP(src="203.0.113.9", dst="10.0.0.8"), TCP(sport=443, dport=45000, flags="A"))
    add(1, IP(src="198.18.0.1", dst="10.0.0.7"), UDP(sport=53, dport=9999))
    # ICMP errors: a router on port 1 about the accepted UDP flow of 10.0.0.7:5354 (related
    # in stateful mode), one about no flow, and 10.0.0.7 itself about a stray datagram
    # (accepted by the icmp rule on line 6 in any mode).
    for src, dst, quote_l3, quote_l4, side in (
            ("192.0.2.254", "10.0.0.7", IP(src="10.0.0.7", dst="8.8.8.8"),
             UDP(sport=5354, dport=53), 1),
            ("192.0.2.254", "10.0.0.7", IP(src="10.0.0.7", dst="9.9.9.9"),
             UDP(sport=5354, dport=53), 1),
            ("10.0.0.7", "8.8.8.8", IP(src="8.8.8.8", dst="10.0.0.7"),
             UDP(sport=53, dport=9999), 0)):
        n[0] += 1
        s.append((side, pkt(T + n[0] * 0.001, IP(src=src, dst=dst), ICMP(type=3, code=4),
                            bytes(quote_l3 / quote_l4 / Raw(b"q" * 12))[:28])))
    # malformed, both ports
    for counter, p in vt.malformed(T + 0.5):
        s.append((0, p))
    for counter, p in vt.malformed(T + 0.6, src="8.8.8.8", dst="10.0.0.7"):
        s.append((1, p))
    # a reply long after the UDP flow of 10.0.0.7:5354 went idle (timeout 30 s in run 2)
    s.append((1, pkt(T + 100.0, IP(src="8.8.8.8", dst="10.0.0.7"), UDP(sport=53, dport=5354),
                     b"late reply")))
    s.sort(key=lambda x: x[1].time)
    return s


def malformed_counters():
    want = {}
    for counter, _ in vt.malformed(0) + vt.malformed(0):
        want[counter] = want.get(counter, 0) + 1
    return want


def expect(tr, stateful, default, udp_timeout=30.0):
    """Reference model: expected outputs per port, per-rule hits and counters."""
    out = {0: [], 1: []}
    hits = [0] * len(RULES)
    c = {"accepted_rule": 0, "accepted_default": 0, "accepted_state": 0, "dropped_rule": 0,
         "dropped_default": 0, "flows_created": 0, "accepted_related": 0}
    flows = {}  # normalized tuple -> last time
    for side, p in tr:
        if IP not in p or p[IP].ihl != 5 or p[IP].flags.MF or len(bytes(p)) < 14 + p[IP].len \
                or p[IP].chksum != Ether(bytes(vt.with_checksums(p)))[IP].chksum:
            continue  # malformed, counted separately
        t = tuple_of(p)
        key = frozenset([(t[1], t[3]), (t[2], t[4])]), t[0]
        if stateful and key in flows:
            tmo = udp_timeout if t[0] == 17 else (10 ** 6)
            if p.time - flows[key] <= tmo:
                flows[key] = p.time
                c["accepted_state"] += 1
                out[side ^ 1].append(p)
                continue
            del flows[key]
        if stateful and ICMP in p and p[ICMP].type in (3, 11, 12):
            q = IP(bytes(p[ICMP].payload))  # the quoted packet
            qt = (q.proto, q.src, q.dst, q.sport, q.dport) if q.proto in (6, 17) else None
            qkey = qt and (frozenset([(qt[1], qt[3]), (qt[2], qt[4])]), qt[0])
            if qkey in flows and p.time - flows[qkey] <= udp_timeout:
                c["accepted_related"] += 1  # the flow's timer is not refreshed
                out[side ^ 1].append(p)
                continue
        idx = ref_match(p)
        if idx is not None:
            hits[idx] += 1
            action = RULES[idx][1]
            c["accepted_rule" if action == "accept" else "dropped_rule"] += 1
        else:
            action = default
            c["accepted_default" if action == "accept" else "dropped_default"] += 1
        if action == "accept":
            out[side ^ 1].append(p)
            if stateful:
                flows[key] = p.time
                c["flows_created"] += 1
    return out, hits, c


def run_case(wd, exe, tr, name, args, stateful, default, tshark=False, test_clock=True):
    in0 = [p for s, p in tr if s == 0]
    in1 = [p for s, p in tr if s == 1]
    st, o0, o1, f0, f1 = vt.run_pcap(wd, exe, in0, in1, args, name=name, test_clock=test_clock)
    if test_clock:
        out, hits, c = expect(tr, stateful, default)
    else:
        # Production loop: each port's capture (< 32 packets) is one burst, port 0's
        # handled first; the TSC clock expires nothing within the run.
        out, hits, c = expect(sorted(tr, key=lambda x: x[0]), stateful, default,
                              udp_timeout=1e9)
    for side, got in ((0, o0), (1, o1)):
        want = out[side]
        check(len(got) == len(want), "%s: port %d sent %d packets, expected %d"
              % (name, side, len(got), len(want)))
        for n, (g, w) in enumerate(zip(got, want)):
            vt.assert_same_bytes(g, w, "%s: port %d packet %d" % (name, side, n + 1))
    if tshark:  # the firewall rewrites nothing; one tshark pass is enough (it is slow)
        vt.tshark_validate(f0, len(out[0]))
        vt.tshark_validate(f1, len(out[1]))
    got_hits = [(h["line"], h["action"], h["hits"]) for h in st["rule_hits"]]
    want_hits = [(r[0], r[1], hits[i]) for i, r in enumerate(RULES)]
    check(got_hits == want_hits, "%s: rule hits %s, expected %s" % (name, got_hits, want_hits))
    want_st = dict(c)
    want_st.update(malformed_counters())
    want_st.update({"rx_port0": len(in0), "rx_port1": len(in1), "tx_port0": len(out[0]),
                    "tx_port1": len(out[1]), "rules": len(RULES), "stateful": int(stateful)})
    if not stateful:
        want_st["flows_created"] = 0
    for k, v in want_st.items():
        check(st.get(k) == v, "%s: counter %s = %s, expected %d" % (name, k, st.get(k), v))
    return st, c


def main():
    exe = vt.binary("firewall/vmmgr-fw")
    tr = traffic()
    with vt.Workdir("fw") as wd:
        rules = wd.path("fw.rules")
        with open(rules, "w") as f:
            f.write(RULES_TEXT)
        conf = wd.path("fw.conf")
        with open(conf, "w") as f:
            f.write("stateful on\nflows 4096\ntimeout udp 30\n")

        run_case(wd, exe, tr, "stateless", ["-r", rules], False, "drop")
        st, c = run_case(wd, exe, tr, "stateful", ["-r", rules, "-f", conf], True, "drop",
                         tshark=True)
        # The late UDP reply came after 30 s idle: judged by the rules (default drop).
        check(c["accepted_state"] == 3, "model: expected 3 state-accepted replies, got %d"
              % c["accepted_state"])
        check(c["accepted_related"] == 1, "model: expected 1 related ICMP error, got %d"
              % c["accepted_related"])
        # Expired by T+100: the UDP flow (on its late reply) and the two ICMP flows (echo, and
        # the accepted error from 10.0.0.7; 60 s); the four TCP flows are established
        # (7440 s) or opening (240 s) and stay.
        check(st.get("flows_created") == 7, "stateful: flows_created %s, expected 7"
              % st.get("flows_created"))
        check(st.get("flows_expired") == 3, "stateful: flows_expired %s, expected 3"
              % st.get("flows_expired"))
        check(st.get("flows_active") == 4, "stateful: flows_active %s, expected 4"
              % st.get("flows_active"))
        run_case(wd, exe, tr, "default-accept", ["-r", rules, "--default", "accept"], False,
                 "accept")
        # Stateful in the production loop: a burst's connections are looked up in bulk.
        check(sum(1 for s, _ in tr if s == 0) < 32 and sum(1 for s, _ in tr if s == 1) < 32,
              "traffic no longer fits one burst per port")
        st, c = run_case(wd, exe, tr, "stateful-burst", ["-r", rules, "-f", conf], True, "drop",
                         test_clock=False)
        check(c["accepted_state"] == 4, "stateful-burst model: %d state-accepted, expected 4"
              % c["accepted_state"])
    vt.finish()


if __name__ == "__main__":
    main()
