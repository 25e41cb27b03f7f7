"""test_multicore.py - vmmgr-nat and vmmgr-fw on two lcores (two workers).

Each net_pcap port gets two RX and two TX queues (rx_pcap=/tx_pcap= twice);
worker w reads RX queue w and writes TX queue w, i.e. the w-th tx_pcap file.
Flows are spread over both RX queues, so about half of each queue's packets
belong to the other worker and must cross the dispatch ring. The checks:
  - every packet comes out exactly once, translated (NAT) or unchanged (fw);
  - the packets of a flow leave in their input order, from one TX queue;
  - NAT: a flow leaves by the TX queue of the worker owning its outside port
    (port % 2 == queue), which is what makes replies reach the right worker;
    flows to the same remote endpoint never share an outside port;
  - counters add up exactly over the workers.
No test clock here (it needs one lcore), and no timing assertions.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnftest as vt  # noqa: E402
from vnftest import IP, UDP, Ether, Raw, check  # noqa: E402

N_FLOWS = 60
PKTS_PER_FLOW = 4


def flows_traffic():
    """Two input queues for port 0: flow i on queue i % 2, packets seq 0..3 in order."""
    q = ([], [])
    t = 1.0
    for seq in range(PKTS_PER_FLOW):
        for i in range(N_FLOWS):
            dport = 53 if i % 3 else 5353  # one flow in three is dropped by the fw rules
            p = Ether(bytes(Ether(src=vt.MAC_A, dst=vt.MAC_B) /
                            IP(src="10.1.%d.%d" % (i // 200, i % 200 + 1), dst="203.0.113.5") /
                            UDP(sport=4000 + i % 7, dport=dport) /
                            Raw(b"flow=%03d seq=%d " % (i, seq) + b"x" * 20)))
            p.time = t
            t += 0.001
            q[i % 2].append(p)
    return q


def run2(wd, exe, q0, app_args, name):
    files = {}
    for k in ("in0a", "in0b", "in1a", "in1b", "out0a", "out0b", "out1a", "out1b"):
        files[k] = wd.path("%s-%s.pcap" % (name, k))
    vt.write_pcap(files["in0a"], q0[0])
    vt.write_pcap(files["in0b"], q0[1])
    vt.write_pcap(files["in1a"], [])
    vt.write_pcap(files["in1b"], [])
    eal = ["-l", "0,1", "--no-huge", "--no-pci", "-m", "512", "--file-prefix", wd.prefix,
           "--log-level", "lib.eal:error",
           "--vdev", "net_pcap0,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s"
           % (files["in0a"], files["in0b"], files["out0a"], files["out0b"]),
           "--vdev", "net_pcap1,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s"
           % (files["in1a"], files["in1b"], files["out1a"], files["out1b"])]
    r = subprocess.run([exe] + eal + ["--"] + app_args + ["--exit-on-idle", "1000", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit("FAIL: %s exited %d: %s" % (exe, r.returncode, r.stderr))
    import json
    st = json.loads([ln for ln in r.stdout.splitlines() if ln.startswith("{")][-1])
    outs = [vt.read_pcap(files["out1a"]), vt.read_pcap(files["out1b"])]
    back = vt.read_pcap(files["out0a"]) + vt.read_pcap(files["out0b"])
    return st, outs, back


def payload(p):
    # bytes of the UDP payload (scapy would dissect port 53 as DNS)
    return bytes(p[UDP])[8:]


def flow_of(p):
    return int(payload(p)[5:8])


def seq_of(p):
    return int(payload(p)[13:14])


def check_order(outs, name):
    where = {}
    for qi, out in enumerate(outs):
        last = {}
        for p in out:
            f, s = flow_of(p), seq_of(p)
            check(where.setdefault(f, qi) == qi, "%s: flow %d left by both TX queues" % (name, f))
            check(last.get(f, -1) == s - 1, "%s: flow %d packet seq %d after %s"
                  % (name, f, s, last.get(f)))
            last[f] = s
    return where


def fw_case(wd, q0):
    exe = vt.binary("firewall/vmmgr-fw")
    rules = wd.path("mc.rules")
    with open(rules, "w") as f:
        f.write("accept proto udp dport 53\n")
    st, outs, back = run2(wd, exe, q0, ["-r", rules], "fw")
    all_in = q0[0] + q0[1]
    want = sorted(bytes(p) for p in all_in if p[UDP].dport == 53)
    got = sorted(bytes(p) for out in outs for p in out)
    check(got == want, "fw: %d packets out, expected %d (unchanged bytes)" % (len(got), len(want)))
    check(not back, "fw: %d packets went back out of port 0" % len(back))
    check_order(outs, "fw")
    check(all(len(o) > 0 for o in outs), "fw: one worker sent nothing (%s)"
          % [len(o) for o in outs])
    n_acc = len(want)
    for k, v in {"workers": 2, "rx_port0": len(all_in), "tx_port1": n_acc, "accepted_rule": n_acc,
                 "dropped_default": len(all_in) - n_acc, "dispatch_full": 0}.items():
        check(st.get(k) == v, "fw: counter %s = %s, expected %d" % (k, st.get(k), v))
    check(st["rule_hits"] == [{"line": 1, "action": "accept", "hits": n_acc}],
          "fw: rule hits %s" % st["rule_hits"])


def nat_case(wd, q0):
    exe = vt.binary("nat/vmmgr-nat")
    st, outs, back = run2(wd, exe, q0, ["--flows", "4096"], "nat")
    all_in = q0[0] + q0[1]
    by_key = {(flow_of(p), seq_of(p)): p for p in all_in}
    where = check_order(outs, "nat")
    port_of = {}
    for qi, out in enumerate(outs):
        for p in out:
            f, s = flow_of(p), seq_of(p)
            sport = p[UDP].sport
            check(port_of.setdefault(f, sport) == sport, "nat: flow %d changed port" % f)
            check(sport % 2 == qi, "nat: flow %d port %d left by TX queue %d of the other worker"
                  % (f, sport, qi))
            src = by_key[(f, s)]
            q = Ether(bytes(src))
            q[IP].src = "198.51.100.1"
            q[UDP].sport = sport
            vt.assert_same_bytes(p, vt.with_checksums(q), "nat: flow %d seq %d" % (f, s))
    check(len(where) == N_FLOWS, "nat: %d flows came out, expected %d" % (len(where), N_FLOWS))
    per_remote = {}
    for f, port in port_of.items():
        dport = 53 if f % 3 else 5353
        check(port not in per_remote.setdefault(dport, set()),
              "nat: two flows to 203.0.113.5:%d share outside port %d" % (dport, port))
        per_remote[dport].add(port)
    check(all(len(o) > 0 for o in outs), "nat: one worker sent nothing (%s)"
          % [len(o) for o in outs])
    total = len(all_in)
    for k, v in {"workers": 2, "rx_inside": total, "tx_outside": total, "translated_out": total,
                 "flows_created": N_FLOWS, "flows_active": N_FLOWS, "dispatch_full": 0,
                 "flows_max": 4096}.items():
        check(st.get(k) == v, "nat: counter %s = %s, expected %d" % (k, st.get(k), v))


def main():
    if os.cpu_count() is None or os.cpu_count() < 2:
        vt.skip("needs 2 CPUs for two lcores")
    q0 = flows_traffic()
    with vt.Workdir("mc") as wd:
        fw_case(wd, q0)
        nat_case(wd, q0)
    vt.finish()


if __name__ == "__main__":
    main()
