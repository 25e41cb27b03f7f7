#!/usr/bin/env bash
# cli_place.sh VMMGRCTL - end-to-end checks of `vmmgrctl place` and
# `vmmgrctl evacuate-plan` on the cluster files in tests/data/placement.
set -u
# Debian's python3 rather than a pyenv shim first on PATH (a second per call
# when the machine is busy).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ctl=$1
data=${VMMGR_SOURCE_DIR:?}/tests/data/placement
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check NAME CONDITION-RESULT
    if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
expect_exit() { # expect_exit CODE NAME CMD...
    local want=$1 name=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" = "$want" ]
    check "$name (exit $got, want $want)" $?
}

# A pair: placed on hosts in different racks (scope rack), ACT first.
expect_exit 0 "place pair" "$ctl" place --cluster "$data/small.json" --request "$data/req_pair.json" --json=short
"$PY" - "$tmp/out" "$data/small.json" <<'PY'
import json, sys
out = json.load(open(sys.argv[1])); cl = json.load(open(sys.argv[2]))
rack = {h["name"]: h["labels"]["rack"] for h in cl["hosts"]}
vms = {v["name"]: v for v in out["vms"]}
assert out["placed"] is True
a, s = vms["fw-b-act"], vms["fw-b-sby"]
assert rack[a["host"]] != rack[s["host"]], (a, s)
# cores taken must not overlap the existing VMs of the cluster file
used = {}
def ids(t):
    r = set()
    for p in t.split(","):
        lo, _, hi = p.partition("-"); r |= set(range(int(lo), int(hi or lo) + 1))
    return r
for v in cl["vms"]:
    if "cores" in v: used.setdefault(v["host"], set()).update(ids(v["cores"]))
for v in (a, s):
    assert not (ids(v["cores"]) & used.get(v["host"], set())), v
    assert len(ids(v["cores"])) == 4, v
    # pinning/'s plan: 4 vCPUs on PUs of exactly those cores (SMT-2: PU = 2*core+t),
    # vCPU 0 the shared one, the others exclusive, no PU twice
    pus = [x["pu"] for x in v["pin"]["vcpus"]]
    assert len(pus) == 4 and len(set(pus)) == 4, v
    assert {p // 2 for p in pus} <= ids(v["cores"]), v
    assert [x["mode"] for x in v["pin"]["vcpus"]] == ["shared"] + ["exclusive"] * 3, v
PY
check "pair: different racks, 4 free cores each, vCPUs pinned inside them" $?

# Table output has the header and both members.
expect_exit 0 "place pair (table)" "$ctl" place --cluster "$data/small.json" --request "$data/req_pair.json"
grep -q '^VM ' "$tmp/out" && grep -q 'fw-b-sby' "$tmp/out"
check "table lists members" $?

# A capability only h1/h2 have.
expect_exit 0 "place single with capability" "$ctl" place --cluster "$data/small.json" --request "$data/req_single.json" --json=short
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["vms"][0]; assert v["host"] in ("h1","h2"), v' "$tmp/out"
check "capability respected" $?

# Refused request: exit 5, explain counts per reason, one line on stderr.
expect_exit 5 "refused request" "$ctl" place --cluster "$data/small.json" --request "$data/req_toobig.json" --explain --json=short
"$PY" -c '
import json,sys
o=json.load(open(sys.argv[1])); e=o["explain"]
assert o["placed"] is False and e["placeable"] is False
assert e["vms"][0]["reasons"]["cores"] == 4, e
assert len(e["vms"][0]["hosts"]) == 4' "$tmp/out"
check "explain names the cores filter for all 4 hosts" $?
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "no host fits" "$tmp/err"
check "one error line" $?

# Evacuation of h1: the SBY on h3 is promoted, the ACT rebuilt elsewhere.
expect_exit 0 "evacuate-plan h1" "$ctl" evacuate-plan --cluster "$data/small.json" --host h1 --json=short
"$PY" -c '
import json,sys
p=json.load(open(sys.argv[1]))
st=p["steps"]
assert st[0]["step"]=="promote" and st[0]["vm"]=="nat-a-sby" and st[0]["role"]=="act", st
rb=[s for s in st if s["step"]=="rebuild" and s["vm"]=="nat-a-act"][0]
assert rb["role"]=="sby" and rb["to"]["host"] not in ("h1","h3"), rb
assert p["lost"]==0' "$tmp/out"
check "promotion then rebuild away from failed and SBY hosts" $?
expect_exit 0 "evacuate-plan rack r2" "$ctl" evacuate-plan --cluster "$data/small.json" --rack r2

# What-if list: placed in order on a private copy, later requests see earlier ones.
expect_exit 5 "what-if list with one refusal" "$ctl" place --cluster "$data/small.json" --request "$data/req_list.json" --json=short
"$PY" - "$tmp/out" <<'PY'
import json, sys
reqs = json.load(open(sys.argv[1]))["requests"]
assert [r["placed"] for r in reqs] == [True, True, True, False], reqs
def ids(t):
    r = set()
    for p in t.split(","):
        lo, _, hi = p.partition("-"); r |= set(range(int(lo), int(hi or lo) + 1))
    return r
held = {}
for r in reqs:
    for v in r["vms"]:
        c = ids(v["cores"])
        assert not (held.get(v["host"], set()) & c), (v, held)
        held.setdefault(v["host"], set()).update(c)
act, sby = reqs[1]["vms"]
assert act["host"] != sby["host"]
PY
check "what-if list: earlier placements hold their cores, pair apart" $?
grep -q "1 of 4 requests refused" "$tmp/err"
check "what-if list: refusal counted" $?

# hwloc XML hosts (through pinning's hwloc adapter, paths relative to the file):
# nodes, cores, memory and hugepages come from the XML.
expect_exit 5 "XML hosts have no 'nic' capability" "$ctl" place --cluster "$data/xml-cluster.json" --request "$data/req_single.json"
printf '{"name":"w","exclusive":6,"memory_mib":512}' >"$tmp/six.json"
expect_exit 0 "6 cores on an XML host node" "$ctl" place --cluster "$data/xml-cluster.json" --request "$tmp/six.json" --json=short
"$PY" -c '
import json,sys
v=json.load(open(sys.argv[1]))["vms"][0]
# the XML hosts have 1024 MiB per node: with 512 MiB the VM fits them too
assert v["host"] in ("x1","x2","x3"), v
pus=[x["pu"] for x in v["pin"]["vcpus"]]
assert len(set(pus))==6, v
cores={int(c) for p in v["cores"].split(",") for c in range(int(p.split("-")[0]), int(p.split("-")[-1])+1)}
assert {p//2 for p in pus} <= cores, v
' "$tmp/out"
check "XML cluster: 6 vCPUs pinned on distinct PUs" $?
# issue 9: a bare host (no reserved core) and a VM without shared vCPUs get
# pins too - emulator threads float over the VM's own PUs - instead of
# "(host 'bare' has no reserved core ...)" in the pin column.
printf '{"hosts":[{"name":"bare","topology":"package:2 numa:1 core:8 pu:2","memory_mib":8192}]}' >"$tmp/bare.json"
printf '{"name":"plain","vcpus":2,"memory_mib":512}' >"$tmp/plain.json"
expect_exit 0 "bare host: place" "$ctl" place --cluster "$tmp/bare.json" --request "$tmp/plain.json" --json=short
python3 -c '
import json,sys
v=json.load(open(sys.argv[1]))["vms"][0]
pin=v["pin"]
assert "error" not in pin, pin
assert [x["pu"] for x in pin["vcpus"]]==[0,2], pin
assert pin["emulator"]=="0,2" and pin["emulator_policy"]=="vcpus", pin
' "$tmp/out"
check "bare host: vCPUs pinned, emulator threads over them" $?
printf '{"hosts":[{"name":"a","topology":"xml:nope.xml"}]}' >"$tmp/badxml.json"
expect_exit 2 "missing XML topology" "$ctl" place --cluster "$tmp/badxml.json" --request "$data/req_single.json"
grep -q "badxml.json: \$.hosts\[0\].topology: " "$tmp/err"
check "missing XML names file and path: $(cat "$tmp/err")" $?

# Drain h1: its one VM moves off, not next to its SBY (h3).
expect_exit 0 "drain-plan h1" "$ctl" drain-plan --cluster "$data/small.json" --host h1 --json=short
"$PY" -c '
import json,sys
p=json.load(open(sys.argv[1]))
assert [s["step"] for s in p["steps"]]==["move"] and p["moves"]==1, p
assert p["steps"][0]["vm"]=="nat-a-act" and p["steps"][0]["to"]["host"] not in ("h1","h3"), p' "$tmp/out"
check "drain moves nat-a-act away from h1 and its SBY" $?
expect_exit 2 "drain-plan needs --host or --request" "$ctl" drain-plan --cluster "$data/small.json"

# Bad files: exit 2 naming file, JSON path and reason.
printf '{"hosts": [ {"name": "x", "topology": "package:1 core:4", "labels": {"rack": 3}} ]}' >"$tmp/badlabel.json"
expect_exit 2 "bad label" "$ctl" place --cluster "$tmp/badlabel.json" --request "$data/req_single.json"
grep -q "badlabel.json: \$.hosts\[0\].labels.rack: must be a non-empty string" "$tmp/err"
check "bad label message: $(cat "$tmp/err")" $?
printf '{"hosts": [' >"$tmp/trunc.json"
expect_exit 2 "truncated JSON" "$ctl" place --cluster "$tmp/trunc.json" --request "$data/req_single.json"
grep -q "trunc.json:1:" "$tmp/err"
check "syntax error names file:line" $?
printf '{"name": "v", "vcpus": -1}' >"$tmp/badreq.json"
expect_exit 2 "bad request" "$ctl" place --cluster "$data/small.json" --request "$tmp/badreq.json"
grep -q 'badreq.json: \$.vcpus: must be a non-negative integer' "$tmp/err"
check "bad request message: $(cat "$tmp/err")" $?
printf '{"group": {"name":"g","scope":"shelf"}, "vms":[{"name":"a","role":"act","vcpus":1}]}' >"$tmp/badscope.json"
expect_exit 2 "bad scope" "$ctl" place --cluster "$data/small.json" --request "$tmp/badscope.json"
grep -q "badscope.json: \$.group: 'scope': 'shelf'" "$tmp/err"
check "bad scope message: $(cat "$tmp/err")" $?
printf '{"hosts":[{"name":"a","topology":"core:4"}],"vms":[{"name":"v","host":"zz","vcpus":1}]}' >"$tmp/badhost.json"
expect_exit 2 "unknown host" "$ctl" place --cluster "$tmp/badhost.json" --request "$data/req_single.json"
grep -q "badhost.json: \$.vms\[0\]: 'host': 'zz'" "$tmp/err"
check "unknown host message: $(cat "$tmp/err")" $?
expect_exit 2 "missing --request" "$ctl" place --cluster "$data/small.json"
expect_exit 3 "unknown evacuated host" "$ctl" evacuate-plan --cluster "$data/small.json" --host nope

# Issue 11: a pair needing a capability only four 4-core hosts have. The
# first pair keeps one capable host free (its members' rebuild); the second
# would leave a failed member nowhere to go: refused, naming the failure.
expect_exit 5 "second capable pair refused" "$ctl" place --cluster "$data/caps.json" --request "$data/req_caps_list.json" --json=short
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["requests"]
assert r[0]["placed"] and not r[1]["placed"], r
assert "healing reserve" in r[1]["error"] and "fails" in r[1]["error"], r[1]
assert {v["host"] for v in r[0]["vms"]} < {"c1", "c2", "c3", "c4"}, r[0]' "$tmp/out"
check "capable pair placed, second refused naming the uncovered failure" $?

# 1 ACT + 2 SBY: three hosts; evacuating any of them keeps the three apart.
expect_exit 0 "place 1 act + 2 sby" "$ctl" place --cluster "$data/caps.json" --request "$data/req_trio.json" --json=short
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["vms"]
assert len({x["host"] for x in v}) == 3, v' "$tmp/out"
check "1 act + 2 sby on three hosts" $?

# Soft scope spreads within one request on empty hosts.
printf '{"group": {"name":"s","scope":"host","soft":true}, "vms":[{"name":"s-a","role":"act","vcpus":1},{"name":"s-b","role":"sby","vcpus":1}]}' >"$tmp/soft.json"
expect_exit 0 "place soft pair" "$ctl" place --cluster "$data/caps.json" --request "$tmp/soft.json" --json=short
python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["vms"]; assert v[0]["host"] != v[1]["host"], v' "$tmp/out"
check "soft pair spreads within the request" $?

# Explain of a reserve refusal names the failure domain per host.
printf '{"group": {"name":"big","scope":"host"}, "vms":[{"name":"big-a","role":"act","vcpus":4,"requires":{"nic":"e810"}},{"name":"big-b","role":"sby","vcpus":4,"requires":{"nic":"e810"}},{"name":"big-c","role":"sby","vcpus":4,"requires":{"nic":"e810"}},{"name":"big-d","role":"sby","vcpus":4,"requires":{"nic":"e810"}}]}' >"$tmp/big.json"
expect_exit 5 "explain reserve refusal" "$ctl" place --cluster "$data/caps.json" --request "$tmp/big.json" --explain
grep -q "Refused: .*healing reserve" "$tmp/out" && grep -Eq "c1 +joint (reserve|anti_affinity)" "$tmp/out"
check "explain: refusal reason and per-host joint reason" $?

# The same refusal in JSON carries the table's detail: the joint filter per
# host and, for a reserve refusal, the failure domain left uncovered.
expect_exit 5 "explain reserve refusal --json" "$ctl" place --cluster "$data/caps.json" --request "$tmp/big.json" --explain --json=short
python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["explain"]
assert e["placeable"] is False and "healing reserve" in e["why"], e
h = {x["host"]: x for x in e["vms"][0]["hosts"]}
assert h["c1"]["first_fail"] == "passes" and h["c1"]["joint_fail"] in ("reserve", "anti_affinity"), h
assert h["p1"]["first_fail"] == "capabilities" and "joint_fail" not in h["p1"], h
assert e["soft_spread"] is True, e' "$tmp/out"
check "explain --json: why, joint_fail per host" $?
# c1 is the only NIC host with 4 free cores: a member alone there leaves
# host c1's failure uncovered.
python3 - "$data/caps.json" "$tmp/c1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["vms"] = [{"name": "f2", "host": "c2", "vcpus": 2}, {"name": "f3", "host": "c3", "vcpus": 4},
            {"name": "f4", "host": "c4", "vcpus": 4}]
json.dump(c, open(sys.argv[2], "w"))
PY
printf '{"group": {"name":"two","scope":"host"}, "vms":[{"name":"two-a","role":"act","vcpus":4,"requires":{"nic":"e810"}},{"name":"two-b","role":"sby","vcpus":2,"requires":{"nic":"e810"}}]}' >"$tmp/two.json"
expect_exit 5 "explain uncovered domain --json" "$ctl" place --cluster "$tmp/c1.json" --request "$tmp/two.json" --explain --json=short
python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["explain"]
h = {x["host"]: x for x in e["vms"][0]["hosts"]}
u = h["c1"].get("uncovered")
assert h["c1"]["first_fail"] == "reserve" and u == {"kind": "host", "domain": "c1", "lost": "two-a"}, h["c1"]' "$tmp/out"
check "explain --json: reserve refusal names the uncovered domain and member" $?

# A soft group that cannot spread: explain says which member shares a
# domain with which (4 members needing the NIC, 3 racks have one).
printf '{"group": {"name":"sr","scope":"rack","soft":true}, "vms":[{"name":"sr-a","role":"act","vcpus":1,"requires":{"nic":"e810"}},{"name":"sr-b","role":"sby","vcpus":1,"requires":{"nic":"e810"}},{"name":"sr-c","role":"sby","vcpus":1,"requires":{"nic":"e810"}},{"name":"sr-d","role":"sby","vcpus":1,"requires":{"nic":"e810"}}]}' >"$tmp/softrack.json"
expect_exit 0 "explain soft group that cannot spread" "$ctl" place --cluster "$data/caps.json" --request "$tmp/softrack.json" --explain
grep -Eq "Soft group 'sr' could not spread: 'sr-.' shares rack 'r[123]' with 'sr-.'" "$tmp/out"
check "explain table: soft group could not spread" $?
expect_exit 0 "explain soft group --json" "$ctl" place --cluster "$data/caps.json" --request "$tmp/softrack.json" --explain --json=short
python3 -c '
import json, sys
o = json.load(open(sys.argv[1])); e = o["explain"]
assert e["soft_spread"] is False, e
sh = [v for v in e["vms"] if "shares" in v]
assert len(sh) == 1 and sh[0]["shares"]["kind"] == "rack", sh
racks = {"c1": "r1", "c2": "r1", "c3": "r2", "c4": "r3"}
hosts = {v["name"]: v["host"] for v in o["vms"]}
assert racks[hosts[sh[0]["name"]]] == racks[hosts[sh[0]["shares"]["with"]]] == sh[0]["shares"]["domain"], (sh, hosts)' "$tmp/out"
check "explain --json: soft group names the shared rack" $?
expect_exit 0 "explain soft pair that spreads" "$ctl" place --cluster "$data/caps.json" --request "$tmp/soft.json" --explain
! grep -q "could not spread" "$tmp/out"
check "explain table: a soft pair that spreads says nothing" $?

# Request errors name file and JSON path.
printf '{"group": {"name":"d","scope":"host"}, "vms":[{"name":"x","role":"act","vcpus":1},{"name":"x","role":"sby","vcpus":1}]}' >"$tmp/dup.json"
expect_exit 2 "duplicate name in request" "$ctl" place --cluster "$data/small.json" --request "$tmp/dup.json"
grep -q "dup.json: \$.vms\[1\].name: 'x' appears twice in the request" "$tmp/err"
check "duplicate name message: $(cat "$tmp/err")" $?
printf '{"name": "lone", "vcpus": 1}' >"$tmp/exists.json"
expect_exit 4 "name already in the cluster" "$ctl" place --cluster "$data/small.json" --request "$tmp/exists.json"
grep -q "exists.json: \$.name: vm 'lone' already exists in" "$tmp/err"
check "existing name message: $(cat "$tmp/err")" $?
printf '{"name": "v", "vcpus": 1, "host": "nowhere"}' >"$tmp/force.json"
expect_exit 3 "unknown forced host" "$ctl" place --cluster "$data/small.json" --request "$tmp/force.json"
grep -q "force.json: \$.host: host 'nowhere' is not in" "$tmp/err"
check "unknown forced host message: $(cat "$tmp/err")" $?

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all CLI checks passed"
