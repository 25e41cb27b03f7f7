#!/usr/bin/env python3
"""Compare a vmmgr-shim answer with a golden exchange from a real Nova.

usage: golden_compare.py GOLDEN.http STATUS HEADERS_FILE BODY_FILE

Checks, and prints one line per difference (exit 1 if any):
  * the status code;
  * the microversion headers (OpenStack-API-Version, X-OpenStack-Nova-API-
    Version, both Vary values), WWW-Authenticate and Location: present in the
    answer exactly when present in the golden file, with the same value
    (addresses and ids normalised);
  * the JSON body, field by field: the same keys at every level, the same
    JSON types, and the same values except for ids, dates, addresses and what
    only a real cloud has (IGNORE below). Lists are compared item by item
    when the golden list has one item or the same length.
"""
import json
import re
import sys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
# Values that differ between any two clouds (or runs): compared by type only.
IGNORE = {
    "id", "created", "updated", "tenant_id", "user_id", "project_id", "hostId",
    "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:reservation_id",
    "OS-SRV-USG:launched_at", "adminPass", "details", "hypervisor_type",
    "hypervisor_version", "host_ip", "hypervisor_hostname", "host", "vcpus_used",
    "memory_mb", "memory_mb_used", "local_gb", "local_gb_used", "free_ram_mb",
    "free_disk_gb", "running_vms", "disk_available_least", "cpu_info",
    "current_workload", "message_detail",
}
# Values that must match (numbers compared by value here; else by type).
NUMBERS = {"code", "OS-EXT-STS:power_state", "ram", "disk", "ephemeral", "swap",
           "OS-EXT-SRV-ATTR:launch_index", "OS-FLV-EXT-DATA:ephemeral", "rxtx_factor"}
# Hypervisor sizes depend on the hosts: type only, even for "vcpus".
SIZE_KEYS_UNDER = {"hypervisors"}


def norm_url(s):
    # The shim serves every service on one port under a prefix.
    s = re.sub(r"https?://[^/\"\s]+(/compute|/identity|/image)?(?=/|\"|$)", "", s)
    s = UUID.sub("UUID", s)
    return s


def type_name(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return type(v).__name__


def compare(g, a, path, diffs, ctx):
    key = path.rsplit(".", 1)[-1].split("[")[0] if path else ""
    if type_name(g) != type_name(a):
        diffs.append(f"{path}: type {type_name(a)}, golden {type_name(g)} ({a!r} vs {g!r})"[:300])
        return
    if key in IGNORE:
        return
    if isinstance(g, dict):
        for k in sorted(set(g) | set(a)):
            if k not in a:
                diffs.append(f"{path}.{k}: missing (golden {g[k]!r})"[:300])
            elif k not in g:
                diffs.append(f"{path}.{k}: not in golden ({a[k]!r})"[:300])
            else:
                compare(g[k], a[k], f"{path}.{k}", diffs, ctx | ({k} if k in SIZE_KEYS_UNDER else set()))
        return
    if isinstance(g, list):
        if key in ("members", "server_groups") or key in IGNORE:
            return  # ids of this run
        if len(g) == len(a) or len(g) == 1:
            for i in range(min(len(g), len(a)) if len(g) == len(a) else len(a)):
                compare(g[i if len(g) == len(a) else 0], a[i], f"{path}[{i}]", diffs, ctx)
        return
    if key in IGNORE:
        return
    if isinstance(g, str):
        if key == "href" or g.startswith("http"):
            if norm_url(g) != norm_url(a):
                diffs.append(f"{path}: {a!r}, golden {g!r}")
        elif key == "message" and g.startswith("No valid host was found."):
            if not a.startswith("No valid host was found."):
                diffs.append(f"{path}: {a!r} does not start like golden {g!r}")
        elif key in ("name", "original_name") and "hypervisors" in ctx:
            return
        elif UUID.sub("UUID", g) != UUID.sub("UUID", a):
            diffs.append(f"{path}: {a!r}, golden {g!r}"[:300])
        return
    if isinstance(g, (int, float)) and not isinstance(g, bool):
        if key in NUMBERS and "hypervisors" not in ctx and g != a:
            diffs.append(f"{path}: {a!r}, golden {g!r}")
        return
    if g != a:
        diffs.append(f"{path}: {a!r}, golden {g!r}")


def parse_golden(path):
    text = open(path, encoding="utf-8").read()
    head, _, body = text.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs, body.strip()


def parse_headers(path):
    hdrs = {}
    for line in open(path, encoding="utf-8", errors="replace").read().splitlines()[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return hdrs


def main():
    golden, status, hfile, bfile = sys.argv[1:5]
    g_status, g_hdrs, g_body = parse_golden(golden)
    a_hdrs = parse_headers(hfile)
    a_body = open(bfile, encoding="utf-8").read().strip()
    diffs = []
    if int(status) != g_status:
        diffs.append(f"status {status}, golden {g_status}")
    for h in ("openstack-api-version", "x-openstack-nova-api-version", "vary",
              "www-authenticate", "location", "x-subject-token"):
        gv = [norm_url(v.replace('uri="', "").rstrip('"')) for v in g_hdrs.get(h, [])]
        av = [norm_url(v.replace('uri="', "").rstrip('"')) for v in a_hdrs.get(h, [])]
        if h == "vary":
            gv, av = sorted(gv), sorted(av)
        if gv != av:
            diffs.append(f"header {h}: {a_hdrs.get(h)}, golden {g_hdrs.get(h)}")
    if g_body or a_body:
        try:
            g = json.loads(g_body) if g_body else None
            a = json.loads(a_body) if a_body else None
        except ValueError as e:
            diffs.append(f"body is not JSON: {e}")
        else:
            compare(g, a, "", diffs, set())
    for d in diffs:
        print(f"{golden.rsplit('/', 1)[-1]}: {d}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
