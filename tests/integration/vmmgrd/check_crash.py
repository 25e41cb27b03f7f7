#!/usr/bin/python3
"""check_crash.py VMMGRCTL SOCKET DB STATE_DIR OURS SINCE [options] - after
vmmgrd was killed at a crash point and restarted, does everything a user can
look at agree? (test_crash_points.sh runs it once per restart: one Python
start instead of dozens on a loaded machine.) OURS is the glob of the
test's own domain names (qemu:///system is shared with other tests).

Options: --kvm (a qemu:///system host named "kvm" is registered),
--acked "A B" (VMs whose create was acknowledged: must be listed),
--gone "A B" (VMs whose delete was acknowledged: must be gone everywhere),
--case KIND TARGET [HOST] (the operation that crashed: vm_create, vm_delete
or host_add).

Checks, each one able to fail:
  1. the journal (GET /v1/operations) has no pending entry (start-up
     recovery may defer one while libvirt ends the killed daemon's call and
     retry it every second: waited for up to 30 s);
  2. acknowledged creates are listed, acknowledged deletes have no row; every
     VM is running;
  3. check_pins.py (core maps = plans = allocations rows; qemu:///system
     live pins in virsh and /proc = plans), and for each VM the core map PUs
     equal `vm show`'s plan (vCPU PUs and blocked siblings);
  4. simulated hosts: each VM's domain answers live pins equal to the plan
     (vmmgrd defined it again in libvirt's test driver at start-up); no
     vm_lost, alloc_conflict or (for OURS domains) domain_unknown event
     since event SINCE;
  5. qemu:///system: the OURS domains of `virsh list --all` are exactly
     vmmgrd's VMs on host kvm, each running;
  6. the crashed operation was all or nothing and its journal entry says
     which: a listed VM is running on its host with its plan's PUs (create
     "done", delete "rolled_back"); an absent one has no row, allocation,
     core-map PU or libvirt domain (create "rolled_back", delete "done"); a
     host is listed, connected, with a full core map ("done"), or has no
     row and no node file in STATE_DIR/hosts ("rolled_back").
Prints "outcome: present|absent" for --case, one line per disagreement, and
exits 1 if there is any.
"""
import argparse
import fnmatch
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_pins  # noqa: E402  (same directory; reused, not copied)

bad = []


def expect(ok, what):
    if not ok:
        bad.append(what)
    return ok


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("vmmgrd", timeout=10)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def operations(sock):
    con = UnixHTTP(sock)
    con.request("GET", "/v1/operations?limit=100000")
    res = con.getresponse()
    body = res.read()
    con.close()
    if res.status != 200:
        raise SystemExit("GET /v1/operations: HTTP %d: %s" % (res.status, body))
    return json.loads(body)["operations"]


def op_state(ops, kind, target):
    """State of the newest journal entry of @kind on @target, or 'none'."""
    for o in sorted(ops, key=lambda o: -o["id"]):
        if o["kind"] == kind and o["target"] == target:
            return o["state"]
    return "none"


def virsh(*args):
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system"] + list(args),
                          capture_output=True, text=True, check=False)


def main():
    ap = argparse.ArgumentParser()
    for name in ("vmmgrctl", "sock", "db", "state_dir", "ours"):
        ap.add_argument(name)
    ap.add_argument("since", type=int)
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("--acked", default="")
    ap.add_argument("--gone", default="")
    ap.add_argument("--case", nargs="+", default=[])
    a = ap.parse_args()

    def ctl(*args):
        return check_pins.ctl(a.vmmgrctl, a.sock, *args)

    def db_count(sql, *params):
        con = sqlite3.connect(a.db)
        n = con.execute(sql, params).fetchone()[0]
        con.close()
        return n

    # 1. journal
    deadline = time.monotonic() + 30
    while True:
        ops = operations(a.sock)
        pending = [o for o in ops if o["state"] == "pending"]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(not pending, "journal still has pending entries 30 s after restart: %s" % pending)

    # 2. acknowledged operations, states
    vms = {v["name"]: v for v in ctl("vm", "list")}
    for name in a.acked.split():
        expect(name in vms, "acknowledged create of %s lost (vmmgrd lists %s)" % (name, sorted(vms)))
    for name in a.gone.split():
        expect(name not in vms, "acknowledged delete of %s undone: listed again" % name)
        expect(db_count("SELECT COUNT(*) FROM vms WHERE name = ?", name) == 0,
               "acknowledged delete of %s undone: database row back" % name)
    for name, v in vms.items():
        expect(v["state"] == "running", "%s is %s after recovery, not running" % (name, v["state"]))

    # 3. core maps = plans (database plan via check_pins, `vm show` plan here)
    argv, sys.argv = sys.argv, ["check_pins.py", a.vmmgrctl, a.sock, a.db]
    expect(check_pins.main() == 0, "check_pins found disagreements (above)")
    sys.argv = argv
    core_maps = {h["name"]: ctl("host", "show", h["name"])["core_map"] for h in ctl("host", "list")}
    for name, v in vms.items():
        plan = ctl("vm", "show", name)["plan"]
        want = {p["pu"] for p in plan["vcpus"]} | check_pins.cpuset(str(plan.get("blocked") or ""))
        have = {e["pu"] for e in core_maps.get(v["host"], [])
                if e["vm"] == name and e["vcpus"] != "emulator"}
        expect(want and want == have, "%s: `vm show` plan PUs %s, core map of %s gives it %s"
               % (name, sorted(want), v["host"], sorted(have)))

    # 4. simulated hosts' libvirt (in vmmgrd's process), events
    for name, v in vms.items():
        if v["host"] == "kvm":
            continue
        pins = ctl("vm", "pins", name)
        expect(pins.get("live") is True and pins.get("drift") == 0,
               "%s: libvirt's test driver has no domain with the plan's pins: %s" % (name, pins))
    for e in ctl("events", "--since", str(a.since), "--limit", "1000"):
        expect(e["type"] not in ("vm_lost", "alloc_conflict") and
               not (e["type"] == "domain_unknown" and fnmatch.fnmatchcase(e["object"], a.ours)),
               "event since the restart: %s %s: %s" % (e["type"], e["object"], e["message"]))

    # 5. qemu:///system domains = vmmgrd's VMs there
    if a.kvm:
        res = virsh("list", "--all", "--name")
        libvirt = {n.strip() for n in res.stdout.splitlines() if fnmatch.fnmatchcase(n.strip(), a.ours)}
        ours = {n for n, v in vms.items() if v["host"] == "kvm"}
        expect(res.returncode == 0 and libvirt == ours,
               "qemu:///system has domains %s, vmmgrd VMs %s" % (sorted(libvirt), sorted(ours)))
        for name in ours:
            st = virsh("domstate", name).stdout.strip()
            expect(st == "running", "%s is '%s' in libvirt, vmmgrd says running" % (name, st))

    # 6. the crashed operation: all or nothing, and the journal says which
    if a.case:
        kind, target = a.case[0], a.case[1]
        st = op_state(ops, kind, target)
        if kind == "host_add":
            hosts = {h["name"]: h for h in ctl("host", "list")}
            present = target in hosts
            if present:
                h = ctl("host", "show", target)
                expect(h["connected"] and len(h["core_map"]) == h["pus"] > 0,
                       "host %s listed but not whole: connected %s, %d of %d PUs in its core map"
                       % (target, h["connected"], len(h["core_map"]), h["pus"]))
            else:
                left = [f for f in os.listdir(os.path.join(a.state_dir, "hosts"))
                        if f.startswith(target + ".")]
                expect(not left, "host %s gone but its node files remain: %s" % (target, left))
                expect(db_count("SELECT COUNT(*) FROM hosts WHERE name = ?", target) == 0,
                       "host %s not listed but has a database row" % target)
            want = "done" if present else "rolled_back"
        else:
            host = a.case[2]
            present = target in vms
            if present:
                expect(vms[target]["host"] == host,
                       "%s recovered onto %s, asked for %s" % (target, vms[target]["host"], host))
            else:
                expect(db_count("SELECT COUNT(*) FROM vms WHERE name = ?", target) == 0,
                       "%s not listed but has a database row" % target)
                expect(db_count("SELECT COUNT(*) FROM allocations al JOIN vms v ON v.id = al.vm_id "
                                "WHERE v.name = ?", target) == 0,
                       "%s not listed but holds allocation rows" % target)
                for hname, cm in core_maps.items():
                    held = [e["pu"] for e in cm if e["vm"] == target]
                    expect(not held, "%s is gone but %s's core map gives it PUs %s"
                           % (target, hname, held))
                if a.kvm:
                    expect(virsh("dominfo", target).returncode != 0,
                           "%s is gone from vmmgrd but still defined in qemu:///system" % target)
            want = ("done" if present else "rolled_back") if kind == "vm_create" else \
                ("rolled_back" if present else "done")
        expect(st == want, "%s %s is %s after recovery, so its journal entry must be %s, not %s"
               % (kind, target, "present" if present else "absent", want, st))
        print("outcome: %s (journal: %s)" % ("present" if present else "absent", st))

    for line in bad:
        print("check_crash: " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
