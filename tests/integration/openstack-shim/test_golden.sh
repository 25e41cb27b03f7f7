#!/usr/bin/env bash
# test_golden.sh - vmmgr-shim's answers against the golden exchanges of a
# real Nova 26.2.2 (tests/data/openstack-shim/golden/), field by field
# (golden_compare.py says what is ignored: ids, dates, addresses, sizes).
# Each request is sent in the situation the golden file was captured in:
# same flavor, group and server names, same microversion.
. "$(dirname "$0")/lib.sh"
GOLDEN="$VMMGR_SOURCE_DIR/tests/data/openstack-shim/golden"

golden() { # golden NAME : compares the last shim answer with NAME.http
    n_checks=$((n_checks + 1))
    "$PY" "$(dirname "$0")/golden_compare.py" "$GOLDEN/$1.http" "$status" "$T/hdrs" "$T/sbody" \
        >"$T/cmp" 2>&1 || fail "golden $1 differs:
$(cat "$T/cmp")
answer: $body"
}
MV21=(-H 'X-OpenStack-Nova-API-Version: 2.1')

start_shim 2
TOKEN=$(get_token admin admin secret)
[ -n "$TOKEN" ] || fail "no token"

# Version documents (no token needed).
shim GET /compute/ && golden root
shim GET /compute/v2.1 && golden v21
shim GET /compute/v2.1/ && golden v21_slash

# Authentication.
saved=$TOKEN
TOKEN="" shim GET /compute/v2.1/servers && golden noauth_servers
TOKEN=garbage shim GET /compute/v2.1/servers && golden badtoken_servers
TOKEN=$saved

# Microversion negotiation.
shim GET /compute/v2.1/servers "" -H 'X-OpenStack-Nova-API-Version: abc' && golden mv_garbage
shim GET /compute/v2.1/servers "" -H 'OpenStack-API-Version: compute 2.99' && golden mv_too_high

# Hypervisors.
shim GET /compute/v2.1/os-hypervisors "" "${MV21[@]}" && golden hv_list_21
shim GET /compute/v2.1/os-hypervisors/detail "" "${MV21[@]}" && golden hv_detail_21
shim GET /compute/v2.1/os-hypervisors/detail "" -H "OpenStack-API-Version: compute 2.53" && golden hv_detail_253

# Flavors.
shim POST /compute/v2.1/flavors '{"flavor":{"name":"m1.tiny","ram":512,"vcpus":1,"disk":1}}'
check "flavor m1.tiny created ($status)" [ "$status" = 200 ]
TINY=$(echo "$body" | jq_ 'd["flavor"]["id"]')
shim POST /compute/v2.1/flavors '{"flavor":{"name":"pinned","ram":1024,"vcpus":2,"disk":1}}'
PINNED=$(echo "$body" | jq_ 'd["flavor"]["id"]')
shim POST "/compute/v2.1/flavors/$PINNED/os-extra_specs" '{"extra_specs":{"hw:cpu_policy":"dedicated"}}'
check "extra specs set ($status)" [ "$status" = 200 ]
shim GET "/compute/v2.1/flavors/$PINNED" "" -H "OpenStack-API-Version: compute 2.61" && golden flavor_pinned_261
shim GET "/compute/v2.1/flavors/$PINNED/os-extra_specs" "" "${MV21[@]}" && golden flavor_extra_specs

# Server groups.
shim POST /compute/v2.1/os-server-groups '{"server_group":{"name":"g21","policies":["anti-affinity"]}}' "${MV21[@]}"
golden sg_create_21
shim POST /compute/v2.1/os-server-groups '{"server_group":{"name":"g264","policy":"anti-affinity"}}' -H "OpenStack-API-Version: compute 2.64"
golden sg_create_264
shim POST /compute/v2.1/os-server-groups '{"server_group":{"name":"grp1","policies":["anti-affinity"]}}'
GRP=$(echo "$body" | jq_ 'd["server_group"]["id"]')
IMAGE=$(curl -s -H "X-Auth-Token: $TOKEN" "$SHIM_URL/image/v2/images?name=cirros" | jq_ 'd["images"][0]["id"]')

# Two members fill both hosts; golden1, the third, finds no host apart.
create() { # NAME [extra server fields]
    shim POST /compute/v2.1/servers "{\"server\":{\"name\":\"$1\",\"imageRef\":\"$IMAGE\",\"flavorRef\":\"$TINY\",\"networks\":\"none\"${2:-}},\"os:scheduler_hints\":{\"group\":\"$GRP\"}}" -H "OpenStack-API-Version: compute 2.74"
}
server_status() {
    curl -s -H "X-Auth-Token: $TOKEN" "$SHIM_URL/compute/v2.1/servers/$1" | jq_ 'd["server"]["status"]'
}
create vm1
check "vm1 accepted ($status)" [ "$status" = 202 ]
VM1=$(echo "$body" | jq_ 'd["server"]["id"]')
create vm4
VM4=$(echo "$body" | jq_ 'd["server"]["id"]')
wait_for 30 "vm1 and vm4 ACTIVE" bash -c "[ \"\$(curl -s -H 'X-Auth-Token: $TOKEN' $SHIM_URL/compute/v2.1/servers/detail?status=ACTIVE | grep -o '\"status\": *\"ACTIVE\"' | wc -l)\" = 2 ]"
create golden1
golden create_274
GOLDEN1=$(echo "$body" | jq_ 'd["server"]["id"]')
wait_for 30 "golden1 in ERROR" bash -c "curl -s -H 'X-Auth-Token: $TOKEN' $SHIM_URL/compute/v2.1/servers/$GOLDEN1 | grep -q '\"status\": *\"ERROR\"'"

shim GET "/compute/v2.1/servers/$GOLDEN1" "" "${MV21[@]}" && golden show_21
shim GET "/compute/v2.1/servers/$GOLDEN1" "" -H "OpenStack-API-Version: compute 2.74" && golden show_274
check "the fault carries vmmgr's explanation" grep -q 'anti_affinity' "$T/sbody"
shim GET "/compute/v2.1/os-server-groups/$GRP" "" "${MV21[@]}" && golden sg_show
shim GET "/compute/v2.1/os-server-groups/$GRP" "" -H "OpenStack-API-Version: compute 2.64" && golden sg_show_264
shim GET "/compute/v2.1/servers?name=golden1" "" "${MV21[@]}" && golden servers_name_filter
shim GET /compute/v2.1/servers "" -H 'OpenStack-API-Version: compute latest' && golden mv_latest
shim GET /compute/v2.1/servers "" -H 'X-OpenStack-Nova-API-Version: latest' && golden mv_legacy_latest
shim GET /compute/v2.1/servers/00000000-0000-0000-0000-000000000000 "" "${MV21[@]}" && golden show_404
shim POST /compute/v2.1/servers "{\"server\":{\"name\":\"x\",\"imageRef\":\"$IMAGE\",\"flavorRef\":\"$TINY\",\"networks\":\"none\",\"host\":\"no-such-host\"}}" -H "OpenStack-API-Version: compute 2.74"
golden create_nohost_bad
shim DELETE "/compute/v2.1/servers/$GOLDEN1" "" "${MV21[@]}" && golden delete
shim GET "/compute/v2.1/servers/$GOLDEN1" "" "${MV21[@]}"
check "deleted server is 404 ($status)" [ "$status" = 404 ]
echo "PASS: $n_checks checks"
