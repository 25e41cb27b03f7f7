#!/usr/bin/env bash
# test_cli.sh - the Debian openstack CLI, unmodified, against vmmgr-shim in
# front of a real vmmgrd with two simulated hosts: token issue, flavor
# create with properties, server group create, two servers of an
# anti-affinity group landing on different hosts (checked in vmmgrd too),
# list, show, stop/start/reboot, hypervisor list, delete, and the error
# cases a user meets (unknown flavor or image, a third member with no host
# apart, an unknown vmmgr: property, wrong password).
. "$(dirname "$0")/lib.sh"
command -v openstack >/dev/null ||
    { echo "SKIP: the openstack CLI is not installed (scripts/setup.sh installs python3-openstackclient)"; exit 77; }
start_shim 2

expect_out() { # expect_out DESCRIPTION PATTERN COMMAND... : exit 0 and stdout matching PATTERN
    local what=$1 pat=$2
    shift 2
    n_checks=$((n_checks + 1))
    "$@" >"$T/out" 2>"$T/err" || fail "$what: '$*' exited $?: $(cat "$T/err")"
    [ -z "$pat" ] || grep -qE -- "$pat" "$T/out" || fail "$what: output does not match '$pat': $(cat "$T/out")"
}
expect_fail() { # expect_fail DESCRIPTION PATTERN COMMAND... : non-zero exit, stderr matching
    local what=$1 pat=$2
    shift 2
    n_checks=$((n_checks + 1))
    "$@" >"$T/out" 2>"$T/err" && fail "$what: '$*' succeeded: $(cat "$T/out")"
    grep -qE -- "$pat" "$T/err" "$T/out" || fail "$what: error does not match '$pat': $(cat "$T/err")"
}

expect_said() { # expect_said DESCRIPTION PATTERN COMMAND... : any exit, output matching
    local what=$1 pat=$2
    shift 2
    n_checks=$((n_checks + 1))
    "$@" >"$T/out" 2>&1
    grep -qE -- "$pat" "$T/out" || fail "$what: output does not match '$pat': $(cat "$T/out")"
}

expect_out "token issue" "expires" osc token issue -f json
expect_out "flavor create with properties" '"hw:cpu_policy": "dedicated"' \
    osc flavor create --vcpus 2 --ram 512 --disk 1 --property hw:cpu_policy=dedicated \
    --property hw:cpu_thread_policy=isolate pinned -f json
expect_out "flavor list" "pinned" osc flavor list
expect_out "flavor show" "hw:cpu_thread_policy='isolate'|hw:cpu_thread_policy.*isolate" osc flavor show pinned
expect_fail "unknown vmmgr: property is refused, naming it" "vmmgr:bogus" \
    osc flavor set --property vmmgr:bogus=1 pinned
expect_out "server group create" '"policy": "anti-affinity"' \
    osc server group create --policy anti-affinity pair -f json
G=$(osc server group show pair -f value -c id)
expect_out "image list" "cirros" osc image list

expect_out "server create a1 (2.1, no --nic)" '"status": "ACTIVE"' \
    osc server create --flavor pinned --image cirros --hint group="$G" --wait a1 -f json
expect_out "server create a2 (2.74, --nic none)" '"status": "ACTIVE"' \
    osc --os-compute-api-version 2.74 server create --flavor pinned --image cirros --nic none \
    --hint group="$G" --property vmmgr:role=sby --wait a2 -f json
h1=$(osc server show a1 -f value -c OS-EXT-SRV-ATTR:host)
h2=$(osc server show a2 -f value -c OS-EXT-SRV-ATTR:host)
check "a1 ($h1) and a2 ($h2) on different hosts" [ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ]
# vmmgrd agrees: one redundancy group, act and sby on the hosts shown.
ctl --json group list >"$T/groups.json"
check "vmmgrd has the redundancy group" grep -q "g-$G" "$T/groups.json"
ctl --json vm list >"$T/vms.json"
check "a1 is the group's act, a2 its sby in vmmgrd" "$PY" - "$T/vms.json" "$h1" "$h2" <<'PYEOF'
import json, sys
vms = json.load(open(sys.argv[1]))
vms = vms["vms"] if isinstance(vms, dict) else vms
roles = sorted((v["host"], v["role"]) for v in vms)
assert roles == sorted([(sys.argv[2], "act"), (sys.argv[3], "sby")]), roles
PYEOF
expect_out "server list shows both" "a1.*ACTIVE" osc server list
expect_out "server list --long shows the hosts" "$h1" osc server list --long
expect_out "server show a1 has the flavor and image" "pinned" osc server show a1
expect_out "server group show lists both members" "$(osc server show a1 -f value -c id)" \
    osc server group show pair

# A third member has no host apart: ERROR, and the fault says why (vmmgr's words).
# (this CLI prints the error of --wait but exits 0, with real Nova too)
expect_said "third member goes to ERROR" "Error creating server" \
    osc server create --flavor pinned --image cirros --hint group="$G" --wait a3
expect_out "its fault carries vmmgr's explanation" "No valid host was found.*anti_affinity" \
    osc server show a3 -f value -c fault

expect_out "server stop" "" osc server stop a1
wait_for 20 "a1 SHUTOFF" bash -c "openstack server show a1 -f value -c status | grep -qx SHUTOFF"
check "vmmgrd stopped the VM" bash -c "$(printf '%q ' "$VMMGRCTL") --socket $SOCK --json vm list | grep -q '\"stopped\"'"
expect_out "server start" "" osc server start a1
wait_for 20 "a1 ACTIVE again" bash -c "openstack server show a1 -f value -c status | grep -qx ACTIVE"
expect_out "server reboot" "" osc server reboot a1
wait_for 20 "a1 ACTIVE after reboot" bash -c "openstack server show a1 -f value -c status | grep -qx ACTIVE"
expect_fail "start of a running server is refused (409)" "Cannot 'start' instance" osc server start a1

expect_out "hypervisor list" "sim1.*up|sim1" osc hypervisor list
expect_out "hypervisor list shows both hosts" "sim2" osc hypervisor list

# Errors a user meets.
expect_fail "unknown flavor" "No [Ff]lavor" osc server create --flavor nope --image cirros x1
expect_fail "unknown image" "No [Ii]mage|[Cc]ould not find" osc server create --flavor pinned --image nope x1
expect_fail "unknown server" "No server with a name or ID of 'nope'" osc server show nope
expect_fail "wrong password" "401|authenticat|Unauthorized" osc --os-password wrong server list

expect_out "server delete" "" osc server delete a1 a2 a3
wait_for 20 "VMs gone from vmmgrd" bash -c "! $(printf '%q ' "$VMMGRCTL") --socket $SOCK --json vm list | grep -q vmmgr-test-shim"
expect_out "server list is empty" "" osc server list -f value
check "server list is empty" [ ! -s "$T/out" ]
expect_out "flavor delete" "" osc flavor delete pinned
echo "PASS: $n_checks checks"
