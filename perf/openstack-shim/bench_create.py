#!/usr/bin/env python3
"""100 `server create` calls against a Nova-compatible endpoint.

usage: bench_create.py AUTH_URL USER PASSWORD PROJECT N FLAVOR_NAME IMAGE_NAME [MV]

Authenticates (Keystone v3), finds the compute endpoint, flavor and image,
then sends N POST /servers one after another on one keep-alive connection
(what an orchestrator does) and records each call's latency (request sent to
202 received). Then waits until every server is ACTIVE or ERROR and deletes
them. Prints one JSON object: latencies p50/p99/mean in ms, API throughput
(servers accepted per second), end-to-end throughput (servers ACTIVE per
second, from the first request to the last ACTIVE), ACTIVE/ERROR counts.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def conn_for(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120), u.path.rstrip("/")


def call(c, method, path, tok=None, body=None, headers=None):
    h = {"Content-Type": "application/json", "Accept": "application/json"}
    if tok:
        h["X-Auth-Token"] = tok
    h.update(headers or {})
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    return r.status, r.getheader("X-Subject-Token"), (json.loads(data) if data else None)


def main():
    auth, user, pw, project, n, flavor, image = sys.argv[1:8]
    mv = sys.argv[8] if len(sys.argv) > 8 else "2.74"
    n = int(n)
    kc, kpath = conn_for(auth)
    st, tok, body = call(kc, "POST", kpath + "/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": pw}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}})
    assert st == 201, (st, body)
    cat = {s["type"]: s for s in body["token"]["catalog"]}
    nova = [e["url"] for e in cat["compute"]["endpoints"] if e["interface"] == "public"][0]
    glance = [e["url"] for e in cat["image"]["endpoints"] if e["interface"] == "public"][0]
    nc, npath = conn_for(nova)
    hv = {"OpenStack-API-Version": "compute " + mv}
    st, _, fl = call(nc, "GET", npath + "/flavors/detail?is_public=None", tok, headers=hv)
    flavor_id = [f["id"] for f in fl["flavors"] if f["name"] == flavor][0]
    gc, gpath = conn_for(glance)
    st, _, im = call(gc, "GET", gpath + "/v2/images?name=" + image, tok)
    image_id = im["images"][0]["id"]

    lat, ids = [], []
    t0 = time.monotonic()
    for i in range(n):
        b = {"server": {"name": f"bench-{i}", "flavorRef": flavor_id, "imageRef": image_id,
                        "networks": "none"}}
        s = time.monotonic()
        st, _, body = call(nc, "POST", npath + "/servers", tok, b, hv)
        lat.append((time.monotonic() - s) * 1000)
        assert st == 202, (st, body)
        ids.append(body["server"]["id"])
    t_api = time.monotonic() - t0
    pending = set(ids)
    states = {}
    faults = []
    deadline = time.monotonic() + 1500
    while pending and time.monotonic() < deadline:
        s = time.monotonic()
        st, _, body = call(nc, "GET", npath + "/servers/detail", tok, headers=hv)
        dt = time.monotonic() - s
        for s in body["servers"]:
            if s["id"] in pending and s["status"] in ("ACTIVE", "ERROR"):
                states[s["id"]] = s["status"]
                if s["status"] == "ERROR":
                    faults.append((s.get("fault") or {}).get("message", "?")[:300])
                pending.discard(s["id"])
        if pending:  # poll no harder than the endpoint answers
            time.sleep(max(0.05, 2 * dt))
    t_done = time.monotonic() - t0
    for i in ids:
        call(nc, "DELETE", npath + "/servers/" + i, tok, headers=hv)
    lat.sort()
    out = {
        "n": n,
        "latency_ms": {"p50": round(statistics.median(lat), 2),
                       "p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
                       "mean": round(statistics.mean(lat), 2)},
        "api_servers_per_s": round(n / t_api, 1),
        "active_servers_per_s": round(n / t_done, 1),
        "active": sum(1 for v in states.values() if v == "ACTIVE"),
        "error": sum(1 for v in states.values() if v == "ERROR"),
        "unfinished": len(pending),
        "faults": faults[:3],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
