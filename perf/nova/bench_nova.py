#!/usr/bin/python3
"""bench_nova.py - create -> pinned through Nova (vmmgrd, nova:compute-1)
against Nova's own boot of the same flavor on the same compute host, in the
same run, alternating, RUNS times each (perf/nova/README.md).

  vmmgr:    `vmmgrctl vm create` (place, plan, flavor, boot through Nova,
            wait ACTIVE, pin, verify) until it returns;
  nova_api: POST /servers (2.74 host) then GET every 0.3 s until ACTIVE, as
            vmmgrd's client does (Nova's boot time, no vmmgr work);
  nova_cli: `openstack server create --wait` (the CLI: Python start-up and
            its 5 s poll interval included).
Each server is deleted before the next boot (its delete is not timed).
Writes JSON with every sample, the medians and vmmgr's added share.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

MV = {"OpenStack-API-Version": "compute 2.74", "X-OpenStack-Nova-API-Version": "2.74",
      "Content-Type": "application/json", "Accept": "application/json"}


def call(method, url, token=None, body=None):
    headers = dict(MV)
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return r.status, dict(r.headers), (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), None


def auth():
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": os.environ["OS_USERNAME"], "domain": {"name": "Default"},
        "password": os.environ["OS_PASSWORD"]}}},
        "scope": {"project": {"name": os.environ["OS_PROJECT_NAME"], "domain": {"name": "Default"}}}}}
    st, hdr, doc = call("POST", os.environ["OS_AUTH_URL"] + "/auth/tokens", body=body)
    assert st == 201, st
    tok = hdr.get("X-Subject-Token") or hdr.get("x-subject-token")
    nova = [e["url"] for s in doc["token"]["catalog"] if s["type"] == "compute"
            for e in s["endpoints"] if e["interface"] == "public"][0]
    glance = [e["url"] for s in doc["token"]["catalog"] if s["type"] == "image"
              for e in s["endpoints"] if e["interface"] == "public"][0]
    return tok, nova.rstrip("/"), glance.rstrip("/")


def wait_gone(nova, tok, sid):
    while True:
        st, _, _ = call("GET", "%s/servers/%s" % (nova, sid), tok)
        if st == 404:
            return
        time.sleep(0.3)


def find_id(nova, tok, name):
    st, _, doc = call("GET", "%s/servers?name=^%s$" % (nova, name), tok)
    return doc["servers"][0]["id"] if st == 200 and doc["servers"] else None


def nova_api_boot(nova, tok, image, flavor, host, name):
    t0 = time.monotonic()
    st, _, doc = call("POST", nova + "/servers", tok, {"server": {
        "name": name, "imageRef": image, "flavorRef": flavor, "networks": "none", "host": host}})
    assert st == 202, st
    sid = doc["server"]["id"]
    while True:
        st, _, doc = call("GET", "%s/servers/%s" % (nova, sid), tok)
        s = doc["server"]
        if s["status"] == "ACTIVE" and not s.get("OS-EXT-STS:task_state"):
            break
        if s["status"] == "ERROR":
            raise SystemExit("Nova put %s in ERROR" % name)
        time.sleep(0.3)
    ms = (time.monotonic() - t0) * 1000
    call("DELETE", "%s/servers/%s" % (nova, sid), tok)
    wait_gone(nova, tok, sid)
    return ms


def nova_cli_boot(image, flavor, host, name, nova, tok):
    t0 = time.monotonic()
    subprocess.run(["openstack", "--os-compute-api-version", "2.74", "server", "create",
                    "--image", image, "--flavor", flavor, "--nic", "none", "--host", host,
                    "--wait", name], check=True, capture_output=True)
    ms = (time.monotonic() - t0) * 1000
    sid = find_id(nova, tok, name)
    call("DELETE", "%s/servers/%s" % (nova, sid), tok)
    wait_gone(nova, tok, sid)
    return ms


def vmmgr_boot(ctl, sock, name):
    base = [ctl, "--socket", sock, "--timeout", "600000"]
    t0 = time.monotonic()
    subprocess.run(base + ["vm", "create", name, "--vcpus", "1", "--memory", "128", "--host", "c1"],
                   check=True, capture_output=True)
    ms = (time.monotonic() - t0) * 1000
    pins = json.loads(subprocess.run(base + ["--json", "vm", "pins", name], check=True,
                                     capture_output=True, text=True).stdout)
    assert pins["drift"] == 0 and pins["live"], pins
    subprocess.run(base + ["vm", "delete", name], check=True, capture_output=True)
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmmgrctl", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-cli", action="store_true")
    a = ap.parse_args()
    tok, nova, glance = auth()
    st, _, doc = call("GET", glance + "/v2/images?name=cirros", tok)
    image = doc["images"][0]["id"]
    flavor = "vmmgr-1c-128m"  # made by vmmgrd's first create (warm-up)
    pid = os.getpid()
    vmmgr_boot(a.vmmgrctl, a.socket, "vmmgr-bench-nova-warm-%d" % pid)
    samples = {"vmmgr": [], "nova_api": [], "nova_cli": []}
    for i in range(a.runs):
        order = ["vmmgr", "nova_api", "nova_cli"] if i % 2 == 0 else ["nova_cli", "nova_api", "vmmgr"]
        for kind in order:
            name = "vmmgr-bench-nova-%s-%d-%d" % (kind.replace("_", ""), i, pid)
            if kind == "vmmgr":
                ms = vmmgr_boot(a.vmmgrctl, a.socket, name)
            elif kind == "nova_api":
                ms = nova_api_boot(nova, tok, image, flavor, "compute-1", name)
            elif a.no_cli:
                continue
            else:
                ms = nova_cli_boot(image, flavor, "compute-1", name, nova, tok)
            samples[kind].append(round(ms, 1))
            print("run %d %-8s %8.0f ms" % (i, kind, ms), file=sys.stderr)
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    res = {
        "what": "create -> pinned through Nova (vmmgrd, nova:compute-1, libvirt driver, TCG) "
                "vs Nova's own boot of the same flavor on the same host, same run, alternating",
        "runs": a.runs,
        "flavor": flavor,
        "samples_ms": samples,
        "median_ms": med,
        "vmmgr_added_vs_nova_api": round(med["vmmgr"] / med["nova_api"] - 1, 4),
        "target": "vmmgr adds < 10% to Nova's boot",
        "load_avg": os.getloadavg(),
    }
    if "nova_cli" in med:
        res["vmmgr_vs_openstack_cli"] = round(med["vmmgr"] / med["nova_cli"] - 1, 4)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(json.dumps(res["median_ms"]), "vmmgr added vs Nova API: %.1f%%" %
          (100 * res["vmmgr_added_vs_nova_api"]), file=sys.stderr)


if __name__ == "__main__":
    main()
