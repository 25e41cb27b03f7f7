#!/usr/bin/env bash
# test_api.sh - vmmgr-shim over curl: microversion negotiation, bad bodies,
# unknown flavor/image/group, tokens (garbage, revoked, expired, wrong
# password), projects (another project's token never sees a server: 404 as
# Nova), extra specs as vmmgrd receives them, server-group scope and
# soft-anti-affinity, and hostile input (no caller value may name a file,
# program or URI option; bounded bodies; garbage never crashes the shim).
. "$(dirname "$0")/lib.sh"
start_shim 2
C=/compute/v2.1

expect_status() { # expect_status CODE DESCRIPTION [PATTERN] : checks the last shim answer
    n_checks=$((n_checks + 1))
    [ "$status" = "$1" ] || fail "$2: HTTP $status, expected $1: $body"
    [ -z "${3:-}" ] || grep -qE -- "$3" "$T/sbody" || fail "$2: body does not match '$3': $body"
}
hdr() { tr -d '\r' <"$T/hdrs" | grep -i "^$1:" | cut -d' ' -f2-; }

TOKEN=$(get_token admin admin secret)
ADMIN=$TOKEN

# ---- microversions ----
shim GET $C/flavors
expect_status 200 "no version header"
check "default is 2.1" [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.1 ]
check "both Vary headers" [ "$(hdr Vary | sort | tr '\n' ' ')" = "OpenStack-API-Version X-OpenStack-Nova-API-Version " ]
shim GET $C/flavors "" -H "OpenStack-API-Version: compute 2.64"
check "2.64 echoed in both headers" [ "$(hdr OpenStack-API-Version)" = "compute 2.64" ] && [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.64 ]
shim GET $C/flavors "" -H "X-OpenStack-Nova-API-Version: 2.53"
check "legacy header 2.53" [ "$(hdr OpenStack-API-Version)" = "compute 2.53" ]
shim GET $C/flavors "" -H "X-OpenStack-Nova-API-Version: 2.53" -H "OpenStack-API-Version: compute 2.61"
check "OpenStack-API-Version wins" [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.61 ]
shim GET $C/flavors "" -H "OpenStack-API-Version: volume 3.0, compute 2.70"
check "compute item of a list" [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.70 ]
shim GET $C/flavors "" -H "OpenStack-API-Version: volume 3.0"
check "no compute item: 2.1" [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.1 ]
shim GET $C/flavors "" -H "OpenStack-API-Version: compute latest"
check "latest is 2.93" [ "$(hdr X-OpenStack-Nova-API-Version)" = 2.93 ]
shim GET $C/flavors "" -H "OpenStack-API-Version: compute 2.0"
expect_status 406 "2.0 is below the minimum" "Minimum is 2.1 and maximum is 2.93"
shim GET $C/flavors "" -H "OpenStack-API-Version: compute 3.1"
expect_status 406 "3.1" "Version 3.1 is not supported"
for bad in "2." "2" "two.one" "2.1.1" "-2.1" "2.1000"; do
    shim GET $C/flavors "" -H "X-OpenStack-Nova-API-Version: $bad"
    expect_status 400 "malformed version '$bad'" "is of invalid format"
done

# ---- tokens ----
TOKEN=garbage shim GET $C/servers
expect_status 401 "garbage token"
check "WWW-Authenticate names the shim's Keystone" bash -c "tr -d '\r' <$T/hdrs | grep -q 'Keystone uri=\"$SHIM_URL/identity/v3\"'"
TOKEN=$(printf '%064d' 0) shim GET $C/servers
expect_status 401 "well-formed unknown token"
check "wrong password" [ -z "$(get_token admin admin wrong)" ]
check "unknown user" [ -z "$(get_token nobody admin secret)" ]
check "a project the user is not in" [ -z "$(get_token alice projb pw-a)" ]
T2=$(get_token admin admin secret)
TOKEN=$ADMIN shim GET /identity/v3/auth/tokens "" -H "X-Subject-Token: $T2"
expect_status 200 "token validation" '"expires_at"'
TOKEN=$ADMIN shim DELETE /identity/v3/auth/tokens "" -H "X-Subject-Token: $T2"
expect_status 204 "token revocation"
TOKEN=$T2 shim GET $C/servers
expect_status 401 "revoked token"
shim POST /identity/v3/auth/tokens '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"secret"}}}}}'
expect_status 201 "token with the user's own project when unscoped" '"catalog"'
check "catalog has compute and image" grep -q '"type":"image"' "$T/sbody"
shim POST /identity/v3/auth/tokens 'not json'
expect_status 400 "garbage auth body"

# An expired token: a second shim on the same vmmgrd with 4 s tokens (1 s
# was too short for a loaded machine to issue and use one).
sed -e "s/^listen = .*/listen = 127.0.0.1:$(free_port)/" -e "s/^token_ttl_s = .*/token_ttl_s = 4/" \
    -e "s#^state_dir = .*#state_dir = $T/shim2-state#" "$T/shim.conf" >"$T/shim2.conf"
"$SHIM" --config "$T/shim2.conf" >>"$T/shim2.log" 2>&1 &
PIDS="$PIDS $!"
URL2="http://$(sed -n 's/^listen = //p' "$T/shim2.conf")"
wait_for 10 "second shim up" curl -s -o /dev/null "$URL2/identity/v3"
short=$(SHIM_URL=$URL2 get_token admin admin secret)
t_short=$(date +%s)
check "short token works at once" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $short" "$URL2$C/flavors")" = 200 ]
left=$((t_short + 5 - $(date +%s))) # issued before t_short: expired by then
[ "$left" -gt 0 ] && sleep "$left"
check "expired token is 401" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $short" "$URL2$C/flavors")" = 401 ]

# ---- flavors, extra specs ----
TOKEN=$ADMIN
shim POST $C/flavors '{"flavor":{"name":"f4","ram":512,"vcpus":4,"disk":0}}'
expect_status 200 "flavor f4"
F4=$(echo "$body" | jq_ 'd["flavor"]["id"]')
shim POST $C/flavors '{"flavor":{"name":"f4","ram":512,"vcpus":4,"disk":0}}'
expect_status 409 "duplicate flavor name" "already exists"
shim POST $C/flavors '{"flavor":{"name":"x","ram":512,"vcpus":0,"disk":0}}'
expect_status 400 "zero vcpus"
shim POST $C/flavors '{"flavor":{"name":"x","ram":512,"vcpus":1,"disk":0,"bogus":1}}'
expect_status 400 "unknown flavor key" "bogus"
shim POST $C/flavors '{"flavor":{"name":"small","ram":256,"vcpus":1,"disk":0}}'
FS=$(echo "$body" | jq_ 'd["flavor"]["id"]')
spec() { shim POST "$C/flavors/$F4/os-extra_specs" "{\"extra_specs\":{$1}}"; }
spec '"vmmgr:bogus":"1"'
expect_status 400 "unknown vmmgr: key is named" "'vmmgr:bogus': unknown vmmgr key"
spec '"hw:cpu_policy":"sometimes"'
expect_status 400 "bad hw:cpu_policy" "'hw:cpu_policy'"
spec '"hw:mem_page_size":"1GB"'
expect_status 400 "hugepages are refused, naming the key" "'hw:mem_page_size'"
spec '"hw:numa_nodes":"2"'
expect_status 400 "two NUMA nodes refused" "'hw:numa_nodes'"
spec '"hw:cpu_dedicated_mask":"^0"'
expect_status 400 "mask without mixed" "only with hw:cpu_policy=mixed"
spec '"hw:cpu_policy":"mixed","hw:cpu_dedicated_mask":"0-7"'
expect_status 400 "mask out of range" "out of range"
spec '"vmmgr:nics":"vhostuser:/tmp/evil.sock"'
expect_status 400 "vhost-user socket paths cannot be named" "'vmmgr:nics'"
spec '"vmmgr:nics":"bridge:br0?socket=/etc/x"'
expect_status 400 "no URI options through a NIC name" "'vmmgr:nics'"
spec '"vmmgr:cpu_map":"0:2;rm -rf"'
expect_status 400 "cpu map syntax" "'vmmgr:cpu_map'"
spec '"hw:cpu_policy":"mixed","hw:cpu_dedicated_mask":"^0","hw:cpu_thread_policy":"prefer","hw:emulator_threads_policy":"isolate","vmmgr:numa_node":"0"'
expect_status 200 "mixed flavor accepted"
TOKEN=$(get_token alice proja pw-a) shim POST $C/flavors '{"flavor":{"name":"y","ram":512,"vcpus":1,"disk":0}}'
expect_status 403 "members cannot create flavors" "Policy doesn't allow"

IMAGE=$(curl -s -H "X-Auth-Token: $ADMIN" "$SHIM_URL/image/v2/images?name=cirros" | jq_ 'd["images"][0]["id"]')
shim GET /image/v2/images/00000000-0000-0000-0000-000000000000
expect_status 404 "unknown image id"
boot() { # boot NAME FLAVOR [extra server JSON] [extra top-level JSON] [curl args]
    local name=$1 flavor=$2 extra=${3:-} top=${4:-}
    shift 4 2>/dev/null || shift $#
    shim POST $C/servers "{\"server\":{\"name\":\"$name\",\"imageRef\":\"$IMAGE\",\"flavorRef\":\"$flavor\"$extra}$top}" "$@"
}
wait_status() { # wait_status ID STATUS
    wait_for 30 "server $1 $2" bash -c "curl -s -H 'X-Auth-Token: $TOKEN' $SHIM_URL$C/servers/$1 | grep -q '\"status\": *\"$2\"'"
}
boot mixed "$F4"
expect_status 202 "server on the mixed flavor"
MIXED=$(echo "$body" | jq_ 'd["server"]["id"]')
check "Location header" bash -c "tr -d '\r' <$T/hdrs | grep -q '^Location: $SHIM_URL$C/servers/$MIXED$'"
wait_status "$MIXED" ACTIVE
VMNAME=$(curl -s -H "X-Auth-Token: $TOKEN" "$SHIM_URL$C/servers/$MIXED" | jq_ 'd["server"]["OS-EXT-SRV-ATTR:instance_name"]')
ctl --json vm show "$VMNAME" >"$T/vm.json" || fail "vm show $VMNAME"
check "vmmgrd got the pin request the flavor asked for" "$PY" - "$T/vm.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["request"]
assert r["modes"] == ["shared", "exclusive", "exclusive", "exclusive"], r["modes"]
assert r["thread_policy"] == "prefer", r
assert r["emulator"] == "isolate", r
assert r["numa_node"] == 0, r
PYEOF

# Numbered cores need a host; with one (availability zone nova:HOST) they land there.
shim POST $C/flavors '{"flavor":{"name":"numbered","ram":256,"vcpus":2,"disk":0}}'
FN=$(echo "$body" | jq_ 'd["flavor"]["id"]')
shim POST "$C/flavors/$FN/os-extra_specs" '{"extra_specs":{"vmmgr:cpu_map":"0:20,1:22"}}'
expect_status 200 "numbered flavor"
boot nohost "$FN"
expect_status 400 "numbered cores without a host" "'vmmgr:cpu_map'"
boot onsim2 "$FN" ',"availability_zone":"nova:sim2"'
expect_status 202 "numbered on sim2"
NUM=$(echo "$body" | jq_ 'd["server"]["id"]')
wait_status "$NUM" ACTIVE
check "numbered server on sim2" bash -c "curl -s -H 'X-Auth-Token: $TOKEN' $SHIM_URL$C/servers/$NUM | grep -q '\"OS-EXT-SRV-ATTR:host\": *\"sim2\"'"

# ---- bad bodies, unknown objects ----
shim POST $C/servers 'not json'
expect_status 400 "malformed body" "Malformed request body"
shim POST $C/servers '[1,2]'
expect_status 400 "body not an object" "Malformed request body"
shim POST $C/servers '{"server":{"name":"x","imageRef":"'"$IMAGE"'","flavorRef":"'"$F4"'","bogus":1}}'
expect_status 400 "unknown server field" "'bogus' was unexpected"
shim POST $C/servers '{"server":{"name":"x","imageRef":"'"$IMAGE"'"}}'
expect_status 400 "no flavorRef" "flavorRef"
boot x nope
expect_status 400 "unknown flavor" "Flavor nope could not be found"
shim POST $C/servers '{"server":{"name":"x","imageRef":"nope","flavorRef":"'"$F4"'"}}'
expect_status 400 "unknown image" "Image nope could not be found"
boot x "$F4" "" ',"os:scheduler_hints":{"group":"00000000-0000-0000-0000-000000000000"}'
expect_status 400 "unknown group" "Instance group .* could not be found"
boot x "$F4" ',"availability_zone":"elsewhere"'
expect_status 400 "unknown availability zone" "availability zone"
boot x "$F4" ',"availability_zone":"nova:../../etc/passwd"'
expect_status 400 "path in a host name" "Compute host"
boot x "$F4" ',"availability_zone":"nova:nosuch"'
expect_status 400 "unknown forced host" "Compute host nosuch could not be found"
boot x "$F4" ',"host":"sim1"'
expect_status 400 "host before 2.74" "'host' was unexpected"
boot x "$FS" ',"host":"sim1","networks":"none"' "" -H "OpenStack-API-Version: compute 2.74"
expect_status 202 "host at 2.74"
boot x "$F4" '' "" -H "OpenStack-API-Version: compute 2.74"
expect_status 400 "networks required from 2.37" "'networks' is a required"
boot x "$F4" ',"networks":[{"uuid":"00000000-0000-0000-0000-000000000000"}]'
expect_status 400 "no network service" "'networks'"
boot x "$F4" ',"min_count":2'
expect_status 400 "one server per request" "min_count"
boot x "$F4" ',"metadata":{"vmmgr:role":"boss"}'
expect_status 400 "bad role" "'vmmgr:role'"
boot x "$F4" ',"metadata":{"vmmgr:colour":"red"}'
expect_status 400 "unknown vmmgr: metadata" "'vmmgr:colour'"
boot "$(printf 'a\001b')" "$F4"
expect_status 400 "control character in a name"
big=$("$PY" -c 'print("x" * 70000)')
boot "$big" "$F4"
expect_status 413 "oversized body" "too large"
shim POST "$C/servers/$MIXED/action" '{"os-explode":null}'
expect_status 400 "unknown action" "There is no such action"
shim POST "$C/servers/$MIXED/action" '{"reboot":{"type":"GENTLE"}}'
expect_status 400 "bad reboot type"
shim GET "$C/servers/..%2F..%2Fetc%2Fpasswd"
expect_status 404 "traversal in a server id"
shim GET /compute/v2.1/nothing-here
expect_status 404 "unknown path" "itemNotFound"

# ---- projects ----
ALICE=$(get_token alice proja pw-a)
BOB=$(get_token bob projb pw-b)
TOKEN=$ALICE boot alices "$FS"
expect_status 202 "alice boots"
AS=$(echo "$body" | jq_ 'd["server"]["id"]')
TOKEN=$ALICE wait_status "$AS" ACTIVE
TOKEN=$BOB shim GET "$C/servers/$AS"
expect_status 404 "bob cannot see alice's server" "Instance $AS could not be found"
TOKEN=$BOB shim POST "$C/servers/$AS/action" '{"os-stop":null}'
expect_status 404 "bob cannot stop it"
TOKEN=$BOB shim DELETE "$C/servers/$AS"
expect_status 404 "bob cannot delete it"
TOKEN=$BOB shim GET "$C/servers/detail"
check "bob's list is empty" [ "$(echo "$body" | jq_ 'len(d["servers"])')" = 0 ]
TOKEN=$ALICE shim GET "$C/servers"
check "alice's list has her server only" [ "$(echo "$body" | jq_ '[s["id"] for s in d["servers"]]')" = "['$AS']" ]
TOKEN=$ADMIN shim GET "$C/servers?all_tenants=1"
check "admin with all_tenants sees it" grep -q "$AS" "$T/sbody"
TOKEN=$ADMIN shim GET "$C/servers"
check "admin without all_tenants does not" bash -c "! grep -q $AS $T/sbody"
TOKEN=$ALICE shim POST $C/os-server-groups '{"server_group":{"name":"ag","policies":["anti-affinity"]}}'
AG=$(echo "$body" | jq_ 'd["server_group"]["id"]')
TOKEN=$BOB shim GET "$C/os-server-groups/$AG"
expect_status 404 "bob cannot see alice's group"
TOKEN=$BOB boot x "$F4" "" ",\"os:scheduler_hints\":{\"group\":\"$AG\"}"
expect_status 400 "bob cannot use alice's group"
TOKEN=$BOB shim GET "$C/os-hypervisors"
expect_status 403 "members cannot list hypervisors"

# ---- filters ----
TOKEN=$ADMIN
shim GET "$C/servers/detail?status=active"
check "status filter" [ "$(echo "$body" | jq_ 'set(s["status"] for s in d["servers"])')" = "{'ACTIVE'}" ]
shim GET "$C/servers/detail?host=sim2"
check "host filter" [ "$(echo "$body" | jq_ 'set(s["OS-EXT-SRV-ATTR:host"] for s in d["servers"])')" = "{'sim2'}" ]
shim GET "$C/servers?name=mix"
check "name filter" [ "$(echo "$body" | jq_ '[s["name"] for s in d["servers"]]')" = "['mixed']" ]
shim GET "$C/flavors/detail?is_public=None"
check "is_public=None lists every flavor" [ "$(echo "$body" | jq_ 'len(d["flavors"])')" = 3 ]

# ---- server groups: scope from rules, soft-anti-affinity ----
shim POST $C/os-server-groups '{"server_group":{"name":"racks","policy":"anti-affinity","rules":{"vmmgr:scope":"rack"}}}' -H "OpenStack-API-Version: compute 2.64"
expect_status 200 "group with a rack scope"
RG=$(echo "$body" | jq_ 'd["server_group"]["id"]')
shim POST $C/os-server-groups '{"server_group":{"name":"bad","policy":"anti-affinity","rules":{"vmmgr:scope":"galaxy"}}}' -H "OpenStack-API-Version: compute 2.64"
expect_status 400 "bad scope" "'vmmgr:scope'"
shim POST $C/os-server-groups '{"server_group":{"name":"aff","policies":["affinity"]}}'
expect_status 400 "affinity is not offered" "anti-affinity"
boot r1 "$FS" "" ",\"os:scheduler_hints\":{\"group\":\"$RG\"}"
R1=$(echo "$body" | jq_ 'd["server"]["id"]')
wait_status "$R1" ACTIVE
ctl --json group show "vmmgr-test-shim-$$-g-$RG" >"$T/g.json" || fail "group show"
check "vmmgrd group scope is rack" grep -q '"scope": *"rack"' "$T/g.json"

shim POST $C/os-server-groups '{"server_group":{"name":"soft","policies":["soft-anti-affinity"]}}' -H "X-OpenStack-Nova-API-Version: 2.15"
expect_status 200 "soft-anti-affinity group"
SG=$(echo "$body" | jq_ 'd["server_group"]["id"]')
for i in 1 2 3; do
    boot "soft$i" "$FS" "" ",\"os:scheduler_hints\":{\"group\":\"$SG\"}"
    eval "S$i=\$(echo \"\$body\" | jq_ 'd[\"server\"][\"id\"]')"
done
wait_status "$S3" ACTIVE
check "soft group: first two on different hosts" [ "$(curl -s -H "X-Auth-Token: $TOKEN" "$SHIM_URL$C/servers/$S1" | jq_ 'd["server"]["OS-EXT-SRV-ATTR:host"]')" != \
    "$(curl -s -H "X-Auth-Token: $TOKEN" "$SHIM_URL$C/servers/$S2" | jq_ 'd["server"]["OS-EXT-SRV-ATTR:host"]')" ]

# ---- garbage never crashes the shim ----
check "random requests" "$PY" - "$SHIM_URL" "$TOKEN" <<'PYEOF'
import http.client, json, random, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1]); tok = sys.argv[2]
rnd = random.Random(13)
paths = ["/compute/v2.1/servers", "/compute/v2.1/flavors", "/compute/v2.1/os-server-groups",
         "/identity/v3/auth/tokens", "/compute/v2.1/flavors/x/os-extra_specs",
         "/compute/v2.1/servers/x/action", "/image/v2/images"]
pieces = ['{', '}', '[', ']', '"server"', '"flavor"', '"name"', ':', ',', 'null', '1e999',
          '"\\u0000"', '-1', '"auth"', '"identity"', '{"server":{', '"flavorRef"', '"a"*']
for i in range(400):
    body = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30))).encode()
    if rnd.random() < 0.2:
        body = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 200)))
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    c.request(rnd.choice(["POST", "PUT", "GET", "DELETE"]), rnd.choice(paths), body,
              {"X-Auth-Token": tok, "Content-Type": "application/json",
               "OpenStack-API-Version": rnd.choice(["compute 2.1", "compute latest", "compute x"])})
    r = c.getresponse(); r.read(); c.close()
    assert r.status < 500 or r.status == 503, (r.status, body)
PYEOF
check "shim still alive" kill -0 "$SHIM_PID"
echo "PASS: $n_checks checks"
