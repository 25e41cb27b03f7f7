"""test_robustness.py - garbage in, counted out: vmmgr-nat and vmmgr-fw never crash.

Thousands of frames built valid and then bit-flipped, truncated or cut short
(fixed seed, so a failure reproduces) enter both ports of each VNF through
net_pcap, in the production loop (bursts of 32). Each VNF must exit 0 and
account for every packet: received = transmitted + dropped (per reason).
Run it from an ASan/UBSan build (-DVMMGR_SANITIZE=ON) to have memory errors
caught as well.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnftest as vt  # noqa: E402
from vnftest import ICMP, IP, TCP, UDP, Ether, Raw, check  # noqa: E402

N = 1000


def frames(rng, t0, src_net, dst):
    out = []
    for i in range(N):
        kind = rng.randrange(4)
        ip = IP(src="%s.%d" % (src_net, rng.randrange(1, 255)), dst=dst, ihl=None,
                options=[] if rng.randrange(4) else [b"\x01\x01\x01\x00"])
        if kind == 0:
            l4 = TCP(sport=rng.randrange(65536), dport=rng.randrange(65536),
                     flags=rng.choice(["S", "SA", "A", "F", "R"]))
        elif kind == 1:
            l4 = UDP(sport=rng.randrange(65536), dport=rng.randrange(65536))
        elif kind == 2:
            l4 = ICMP(type=rng.choice([0, 8, 3, 11]), id=rng.randrange(65536))
        else:
            ip.proto = rng.choice([47, 50, 132])
            l4 = Raw(b"\0" * 8)
        b = bytearray(bytes(Ether(src=vt.MAC_A, dst=vt.MAC_B) / ip / l4 /
                            Raw(bytes(rng.randrange(256) for _ in range(rng.randrange(40))))))
        for _ in range(rng.randrange(4)):
            at = rng.randrange(min(len(b), 60) if rng.randrange(2) else len(b))
            b[at] ^= 1 << rng.randrange(8)
        if rng.randrange(5) == 0:
            b = b[:rng.randrange(len(b) + 1)]
        if not b:
            b = bytearray(b"\0")
        p = Raw(bytes(b))  # scapy cannot dissect every broken frame; the pcap gets the bytes
        p.time = t0 + i * 1e-4
        out.append(p)
    return out


def main():
    rng = random.Random(20261121)
    in0 = frames(rng, 1.0, "10.0.0", "203.0.113.5")
    in1 = frames(rng, 1.00005, "203.0.113", "198.51.100.1")
    with vt.Workdir("robust") as wd:
        nat = vt.binary("nat/vmmgr-nat")
        st, o0, o1, _, _ = vt.run_pcap(wd, nat, in0, in1, ["--flows", "8192"], name="nat",
                                       test_clock=False, parse=False)
        drops = sum(v for k, v in st.items() if k.startswith("drop_"))
        rx, tx = st["rx_inside"] + st["rx_outside"], st["tx_inside"] + st["tx_outside"]
        check(rx == 2 * N, "nat: received %d of %d" % (rx, 2 * N))
        check(rx == tx + drops + st["tx_full_inside"] + st["tx_full_outside"],
              "nat: %d received but %d sent + %d dropped" % (rx, tx, drops))
        check(len(o0) + len(o1) == tx, "nat: %d packets in the output captures, %d counted"
              % (len(o0) + len(o1), tx))
        check(st["translated_out"] > 0 and drops > 0, "nat: mix not exercised: %s" % st)

        rules = wd.path("r.rules")
        with open(rules, "w") as f:
            f.write("accept proto tcp\ndrop proto udp dport 0-1023\naccept proto udp\n"
                    "accept proto icmp src 10.0.0.0/24\n")
        fw = vt.binary("firewall/vmmgr-fw")
        for name, extra in (("fw", []), ("fw-stateful", ["--stateful"])):
            st, o0, o1, _, _ = vt.run_pcap(wd, fw, in0, in1, ["-r", rules] + extra, name=name,
                                           test_clock=False, parse=False)
            drops = sum(v for k, v in st.items() if k.startswith("drop_")) + \
                st["dropped_rule"] + st["dropped_default"]
            rx, tx = st["rx_port0"] + st["rx_port1"], st["tx_port0"] + st["tx_port1"]
            acc = st["accepted_rule"] + st["accepted_default"] + st["accepted_state"]
            check(rx == 2 * N, "%s: received %d of %d" % (name, rx, 2 * N))
            check(acc == tx + st["tx_full_port0"] + st["tx_full_port1"],
                  "%s: %d accepted, %d sent" % (name, acc, tx))
            check(rx == acc + drops, "%s: %d received, %d accepted + %d dropped"
                  % (name, rx, acc, drops))
            check(len(o0) + len(o1) == tx, "%s: %d packets in the captures, %d counted"
                  % (name, len(o0) + len(o1), tx))
            check(sum(h["hits"] for h in st["rule_hits"]) ==
                  st["accepted_rule"] + st["dropped_rule"], "%s: rule hits do not add up" % name)
    vt.finish()


if __name__ == "__main__":
    main()
