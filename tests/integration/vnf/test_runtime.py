"""test_vnf_runtime.py - what an operator does to a running VNF.

  - bad usage and bad config/rules files: exit code 2 and one stderr line that
    names the option or "FILE:LINE: reason";
  - vmmgr-fw under continuous traffic (net_pcap infinite_rx replays one UDP
    packet forever): SIGHUP with new rules changes the verdict of the live
    traffic (the RCU-protected swap), a broken rules file is refused with
    "FILE:LINE: reason" while the old rules stay in force, and the telemetry
    socket answers /vmmgr_fw/rules, /vmmgr_fw/stats and /vmmgr_fw/reload;
  - vmmgr-nat answers /vmmgr_nat/stats and /vmmgr_nat/config;
  - SIGUSR1 prints statistics, SIGTERM stops cleanly with final statistics.
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnftest as vt  # noqa: E402
from vnftest import IP, UDP, Ether, Raw, check  # noqa: E402


def usage_errors(wd, nat, fw):
    rules = wd.path("bad.rules")
    with open(rules, "w") as f:
        f.write("accept proto udp dport 53\n\ndrop proto tcp dport 99999\n")
    conf = wd.path("bad-nat.conf")
    with open(conf, "w") as f:
        f.write("outside-ip 198.51.100.1\nforward tcp 198.51.100.9 80 10.0.0.1 80\n")
    cases = [
        (nat, ["--flows", "0"], "vmmgr-nat: '--flows': '0' is not a number in 1..1073741824"),
        (nat, ["--outside-ip", "1.2.3"], "vmmgr-nat: 'outside-ip': '1.2.3' is not an IPv4 address"),
        (nat, ["--bogus"], "vmmgr-nat: '--bogus': unknown option or missing argument"),
        (nat, ["-f", conf], "vmmgr-nat: %s:2: 'forward': 198.51.100.9 is not an outside address"
         % conf),
        (fw, [], "vmmgr-fw: '--rules': a rules file is required"),
        (fw, ["-r", rules], "vmmgr-fw: %s:3: 'dport': '99999' is not a port or port range "
         "(0..65535)" % rules),
        (fw, ["-r", rules, "--default", "maybe"],
         "vmmgr-fw: '--default': 'maybe' is not accept or drop"),
    ]
    for exe, args, want in cases:
        r = subprocess.run([exe] + wd.eal_args() + ["--"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        check(r.returncode == 2, "%s %s: exit %d, expected 2" % (os.path.basename(exe), args,
                                                                   r.returncode))
        check(last == want, "%s %s: stderr %r, expected %r" % (os.path.basename(exe), args,
                                                                 last, want))


class Vnf:
    """A running VNF: JSON stat lines from stdout in a queue, stderr kept."""

    def __init__(self, wd, cmd):
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wd.procs.append(self.p)
        self.q = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, args=(self.p.stdout, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.p.stderr, False), daemon=True).start()
        # SIGUSR1 before the handlers are installed would kill the process: wait for the
        # "running" line the VNF prints once its loop starts.
        end = time.time() + 20
        while not any(" worker(s) on lcores " in ln for ln in self.err):
            if time.time() > end or self.p.poll() is not None:
                raise SystemExit("FAIL: %s did not start: %s" % (cmd[0], self.err))
            time.sleep(0.02)

    def _pump(self, f, is_out):
        for line in f:
            if is_out and line.startswith("{"):
                self.q.put(json.loads(line))
            elif not is_out:
                self.err.append(line.rstrip("\n"))

    def stats(self, timeout=5.0):
        """Sends SIGUSR1 and returns the statistics it prints."""
        while not self.q.empty():
            self.q.get_nowait()
        self.p.send_signal(signal.SIGUSR1)
        return self.q.get(timeout=timeout)

    def wait_for(self, pred, what, timeout=10.0):
        end = time.time() + timeout
        st = None
        while time.time() < end:
            st = self.stats()
            if pred(st):
                return st
            time.sleep(0.05)
        raise SystemExit("FAIL: timed out waiting for %s; last stats %s; stderr %s"
                         % (what, st, self.err))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=20)
        final = None
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                final = self.q.get(timeout=0.2)
            except queue.Empty:
                if final is not None:
                    break
        return rc, final


def telemetry(wd, cmds):
    """Sends each command to the EAL telemetry socket; returns the decoded answers."""
    path = None
    for _ in range(100):
        for d in vt.runtime_dirs(wd.prefix):
            if os.path.exists(os.path.join(d, "dpdk_telemetry.v2")):
                path = os.path.join(d, "dpdk_telemetry.v2")
        if path:
            break
        time.sleep(0.05)
    if not path:
        raise SystemExit("FAIL: no telemetry socket under %s" % vt.runtime_dirs(wd.prefix))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    json.loads(s.recv(16384).decode())  # the greeting
    out = []
    for c in cmds:
        s.send(c.encode())
        out.append(json.loads(s.recv(65536).decode()))
    s.close()
    return out


def fw_live_reload(wd, fw):
    one = Ether(src=vt.MAC_A, dst=vt.MAC_B) / IP(src="10.0.0.7", dst="8.8.8.8") / \
        UDP(sport=5354, dport=53) / Raw(b"live traffic")
    one.time = 1.0
    vt.write_pcap(wd.path("one.pcap"), [one])
    vt.write_pcap(wd.path("empty.pcap"), [])
    rules = wd.path("live.rules")
    with open(rules, "w") as f:
        f.write("accept proto udp dport 53\n")
    cmd = [fw] + wd.eal_args(extra=[
        "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % wd.path("one.pcap"),
        "--vdev", "net_pcap1,rx_pcap=%s" % wd.path("empty.pcap")]) + [
        "--", "-r", rules, "--json"]
    v = Vnf(wd, cmd)
    st = v.wait_for(lambda s: s["accepted_rule"] > 1000, "traffic accepted by rule 1")
    check(st["rules"] == 1 and st["dropped_rule"] == 0, "before reload: %s" % st)

    # New rules: the same traffic is now dropped by line 2.
    with open(rules, "w") as f:
        f.write("# reloaded\ndrop proto udp dport 53\naccept proto tcp\n")
    v.p.send_signal(signal.SIGHUP)
    st = v.wait_for(lambda s: s["reloads"] == 1, "the SIGHUP reload")
    a1, d1 = st["accepted_rule"], st["dropped_rule"]
    time.sleep(0.3)
    st = v.stats()
    check(st["accepted_rule"] == a1, "accepted_rule still grows after the reload (%d -> %d)"
          % (a1, st["accepted_rule"]))
    check(st["dropped_rule"] > d1, "dropped_rule does not grow after the reload")
    check(st["rules"] == 2 and st["rules_generation"] == 1, "after reload: %s" % st)
    check(st["rule_hits"][0]["line"] == 2 and st["rule_hits"][0]["action"] == "drop"
          and st["rule_hits"][0]["hits"] > 0, "hits after reload: %s" % st["rule_hits"])

    # A broken file: refused with FILE:LINE, old rules stay.
    with open(rules, "w") as f:
        f.write("accept proto udp dport 53\nreject everything\n")
    v.p.send_signal(signal.SIGHUP)
    st = v.wait_for(lambda s: s["reload_failures"] == 1, "the failed reload")
    want = "vmmgr-fw: reload failed, old rules stay in force: %s:2: 'reject': a rule starts " \
           "with 'accept' or 'drop'" % rules
    check(want in v.err, "stderr lacks %r: %s" % (want, v.err))
    d2 = st["dropped_rule"]
    time.sleep(0.2)
    st = v.stats()
    check(st["rules"] == 2 and st["rules_generation"] == 1 and st["dropped_rule"] > d2
          and st["accepted_rule"] == a1, "old rules not in force after a failed reload: %s" % st)

    # Telemetry: rules, stats, and a reload back to accepting.
    with open(rules, "w") as f:
        f.write("accept proto udp dport 53\n")
    r_rules, r_stats, r_reload = telemetry(wd, ["/vmmgr_fw/rules", "/vmmgr_fw/stats",
                                                "/vmmgr_fw/reload"])
    tr = r_rules.get("/vmmgr_fw/rules", {})
    check(tr.get("rules") == 2 and tr.get("line") == [2, 3] and tr.get("default") == "drop"
          and tr.get("generation") == 1, "/vmmgr_fw/rules answered %s" % r_rules)
    ts = r_stats.get("/vmmgr_fw/stats", {})
    check(ts.get("dropped_rule", 0) > 0 and ts.get("rx_port0", 0) > 0,
          "/vmmgr_fw/stats answered %s" % r_stats)
    check(r_reload.get("/vmmgr_fw/reload") == {"status": "ok", "rules": 1},
          "/vmmgr_fw/reload answered %s" % r_reload)
    a3 = v.stats()["accepted_rule"]
    time.sleep(0.2)
    check(v.stats()["accepted_rule"] > a3, "traffic not accepted after the telemetry reload")

    rc, final = v.stop()
    check(rc == 0, "vmmgr-fw exited %d on SIGTERM" % rc)
    check(final is not None and final["reloads"] == 2 and final["reload_failures"] == 1,
          "final statistics: %s" % final)


def nat_telemetry(wd, nat):
    vt.write_pcap(wd.path("empty.pcap"), [])
    cmd = [nat] + wd.eal_args(extra=[
        "--vdev", "net_pcap0,rx_pcap=%s" % wd.path("empty.pcap"),
        "--vdev", "net_pcap1,rx_pcap=%s" % wd.path("empty.pcap")]) + [
        "--", "--outside-ip", "192.0.2.1,192.0.2.2", "--flows", "1000", "--json",
        "--stats-interval", "1"]
    v = Vnf(wd, cmd)
    # --stats-interval 1: a statistics line arrives by itself within about a second.
    try:
        periodic = v.q.get(timeout=5)
    except queue.Empty:
        periodic = None
    check(periodic is not None and periodic.get("flows_max") == 1000,
          "no periodic statistics with --stats-interval 1 (%s)" % periodic)
    st = v.stats()
    check(st["flows_max"] == 1000 and st["flows_active"] == 0, "nat stats: %s" % st)
    r_stats, r_conf = telemetry(wd, ["/vmmgr_nat/stats", "/vmmgr_nat/config"])
    check("drop_no_flow" in r_stats.get("/vmmgr_nat/stats", {}),
          "/vmmgr_nat/stats answered %s" % r_stats)
    c = r_conf.get("/vmmgr_nat/config", {})
    check(c.get("outside_ip_0") == "192.0.2.1" and c.get("outside_ip_1") == "192.0.2.2"
          and c.get("flows") == 1000 and c.get("timeout_udp") == 300,
          "/vmmgr_nat/config answered %s" % r_conf)
    rc, final = v.stop()
    check(rc == 0 and final is not None and final["flows_max"] == 1000,
          "nat SIGTERM: rc %d, final %s" % (rc, final))


def main():
    nat = vt.binary("nat/vmmgr-nat")
    fw = vt.binary("firewall/vmmgr-fw")
    with vt.Workdir("rt") as wd:
        usage_errors(wd, nat, fw)
        fw_live_reload(wd, fw)
        nat_telemetry(wd, nat)
    vt.finish()


if __name__ == "__main__":
    main()
