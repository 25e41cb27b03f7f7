#!/usr/bin/env bash
# Networks and the switch in vmmgrd (issue 15), against a real Open vSwitch:
# a private ovsdb-server + ovs-vswitchd (scripts/lib/ovs.sh: --disable-system,
# a netdev bridge br-tor standing for the top-of-rack switch, dummy
# interfaces) and simulated hosts (libvirt's test driver) whose trunk ports
# are h1-trunk and h2-trunk. Checked the way an operator would: ovs-vsctl's
# trunks, ovs-appctl ofproto/trace (the switch's real forwarding decision),
# vmmgrctl switch show, the event log. Cases: bad VLAN ids, duplicate VLANs
# and unknown networks refused with the field named; create (the trunk gains
# the VLAN before the VM runs), a second VM on the VLAN, delete (the trunk
# loses it only after the last VM), the network refused for deletion while
# used; an outside edit (ovs-vsctl set port ... trunks=) repaired at restart
# and on demand; ovsdb-server down during a create (fails cleanly, nothing
# left) and during a delete (the delete goes on, the monitor repairs the
# trunk once OVS is back); host fields checked.
# Exits 77 (with the reason) only when Open vSwitch cannot run here.
VMMGR_TEST_TAG=net
. "$(dirname "$0")/lib.sh"
: "${VMMGR_SOURCE_DIR:?run through ctest}"
. "$VMMGR_SOURCE_DIR/scripts/lib/ovs.sh"

why=$(vmmgr_ovs_missing) || { echo "SKIP: $why"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: ovs-vswitchd needs root here (it creates /var/run/openvswitch)"; exit 77; }

OVS="$T/ovs"
net_cleanup() {
    vmmgr_ovs_stop
    cleanup
}
trap net_cleanup EXIT
vmmgr_ovs_start "$OVS" || { echo "SKIP: Open vSwitch does not start here (see above)"; exit 77; }
vmmgr_ovs_add_bridge br-tor || fail "cannot add bridge br-tor"
# Access ports standing for the rest of the network on VLANs 100 and 200.
vsctl add-port br-tor p100 tag=100 -- set interface p100 type=dummy || fail "add-port p100"
vsctl add-port br-tor p200 tag=200 -- set interface p200 type=dummy || fail "add-port p200"

syn="package:1 numa:1(memory=8GB) core:8 pu:1"
trunks() { vsctl get port "$1" trunks 2>/dev/null || echo absent; }
trunk_is() { [ "$(trunks "$1")" = "$2" ]; }
# The datapath port number of $1 (dpif/show: "    h1-trunk 2/3: (dummy)").
dp_port() { vappctl dpif/show | awk -v p="$1" '$1 == p { split($2, a, "/"); sub(":", "", a[2]); print a[2] }'; }
# The datapath actions for a broadcast frame entering access port $1.
trace() {
    vappctl ofproto/trace br-tor "in_port=$1,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff" |
        sed -n 's/^Datapath actions: //p'
}
# True when a frame from access port $1 leaves trunk $2 tagged with VLAN $3.
reaches() {
    local a o
    a=$(trace "$1")
    o=$(dp_port "$2")
    [ -n "$o" ] && printf '%s' "$a" | grep -q "push_vlan(vid=$3,pcp=0),.*$o\b"
}
events_of() { ctl --json events --limit 10000 | jget "'\n'.join(e['type']+' '+e['object']+': '+e['message'] for e in (d if isinstance(d, list) else d['events']) if e['type']=='$1')"; }
nvms() { ctl --json vm list | jget 'len(d)'; }
not() { ! "$@"; }
allocs() { sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM allocations"; }

write_config "healing_reserve = off
switch = unix:$VMMGR_OVS_DB_SOCK
switch_bridge = br-tor
switch_iface_type = dummy
switch_timeout_ms = 3000"

# --- the config: the switch comes only from this file ----------------------
cp "$CONF" "$T/good.conf"
echo "switch = http://x" >>"$CONF"
expect_rc 2 "$VMMGRD" --config "$CONF" --check-config
check "bad switch target names 'switch': $(cat "$T/err")" grep -q "'switch'" "$T/err"
cp "$T/good.conf" "$CONF"
echo "switch_bridge = br tor" >>"$CONF"
expect_rc 2 "$VMMGRD" --config "$CONF" --check-config
check "bad bridge names 'switch_bridge': $(cat "$T/err")" grep -q "'switch_bridge'" "$T/err"
cp "$T/good.conf" "$CONF"

start_daemon
expect_rc 0 ctl host add h1 --uri test:/// --synthetic "$syn" --reserved 0 --switch-port h1-trunk
expect_rc 0 ctl host add h2 --uri test:/// --synthetic "$syn" --reserved 0 --switch-port h2-trunk \
    --bridge br-int2
expect_rc 0 ctl host add h3 --uri test:/// --synthetic "$syn" --reserved 0
expect_rc 0 ctl --json host show h2
check "host shows its bridge and trunk port" \
    [ "$(jget 'd["bridge"]+" "+d["switch_port"]' <"$T/out")" = "br-int2 h2-trunk" ]
expect_rc 0 ctl --json host show h1
check "default bridge is br-int" [ "$(jget 'd["bridge"]' <"$T/out")" = br-int ]
# Host fields: OVS names, one trunk per host, not the switch bridge itself.
expect_rc 2 ctl host add h4 --uri test:/// --synthetic "$syn" --switch-port 'bad port'
check "bad switch port names 'switch_port': $(cat "$T/err")" grep -q "'switch_port'" "$T/err"
expect_rc 4 ctl host add h4 --uri test:/// --synthetic "$syn" --switch-port h1-trunk
check "taken trunk names its host: $(cat "$T/err")" grep -q "host 'h1'" "$T/err"
expect_rc 2 ctl host add h4 --uri test:/// --synthetic "$syn" --switch-port br-tor
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"h4","uri":"test:///","synthetic":"package:1 core:2 pu:1","bridge":"0123456789abcdef"}'
check "long bridge names 'bridge'" grep -q "'bridge'" "$T/body"
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"h4","uri":"test:///","synthetic":"package:1 core:2 pu:1","switch":"unix:/tmp/x"}'
check "the switch target is not an API field" grep -q "'switch': unknown field" "$T/body"

# --- networks: bad input refused with the field named -----------------------
for bad in 0 4095 4096 -1; do
    expect_rc 2 ctl net create bad --vlan "$bad"
    check "--vlan $bad refused naming 'vlan': $(cat "$T/err")" grep -q "'vlan': $bad is not a VLAN id (1..4094)" "$T/err"
    check "one line on stderr" [ "$(wc -l <"$T/err")" = 1 ]
done
expect_rc 2 ctl net create bad --vlan abc
check "non-number names --vlan" grep -q "'--vlan'" "$T/err"
expect_rc 2 ctl net create bad
expect_api_error 400 INVALID_ARGUMENT POST /v1/networks '{"name":"bad","vlan":"100"}'
expect_api_error 400 INVALID_ARGUMENT POST /v1/networks '{"name":"b a d","vlan":100}'
check "bad name names 'name'" grep -q "'name'" "$T/body"
expect_api_error 400 INVALID_ARGUMENT POST /v1/networks '{"name":"bad","vlan":100,"trunk":"x"}'
expect_rc 0 ctl net create n100 --vlan 100
expect_rc 0 ctl net create n200 --vlan 200
expect_rc 0 ctl net create n300 --vlan 300
expect_rc 4 ctl net create other --vlan 100
check "duplicate VLAN names the network: $(cat "$T/err")" grep -q "'vlan': 100 is already network 'n100'" "$T/err"
expect_rc 4 ctl net create n100 --vlan 101
expect_rc 0 ctl --json net list
check "net list has 3 networks" [ "$(jget 'len(d)' <"$T/out")" = 3 ]
expect_rc 3 ctl net show nope

# --- VMs on networks -------------------------------------------------------
expect_rc 2 ctl vm create v0 --vcpus 1 --memory 64 --host h1 --net n100 --net nope
check "unknown network names the NIC: $(cat "$T/err")" \
    grep -q "'nics\[1\].network': unknown network 'nope'" "$T/err"
expect_api_error 400 INVALID_ARGUMENT POST /v1/vms \
    '{"name":"v0","vcpus":1,"memory_mib":64,"nics":[{"network":"n100","vlan":5}]}'
check "unknown NIC field named" grep -q "'nics\[0\]'" "$T/body"
check "refused creates left no VM" [ "$(nvms)" = 0 ]
check "refused creates left no trunk" [ "$(trunks h1-trunk)" = absent ]

expect_rc 0 ctl vm create v1 --vcpus 1 --memory 64 --host h1 --net n100
check "h1's trunk gained VLAN 100" [ "$(trunks h1-trunk)" = "[100]" ]
check "VLAN 100 from p100 leaves h1-trunk tagged (ofproto/trace: $(trace p100))" reaches p100 h1-trunk 100
check "VLAN 200 does not reach h1-trunk" not reaches p200 h1-trunk 200
expect_rc 0 ctl vm create v2 --vcpus 1 --memory 64 --host h1 --net n100 --net n200
check "h1's trunk carries 100,200" [ "$(trunks h1-trunk)" = "[100, 200]" ]
expect_rc 0 ctl --json vm show v2
check "vm show lists its networks" \
    [ "$(jget '" ".join(n["network"]+"="+str(n["vlan"]) for n in d["networks"])' <"$T/out")" = "n100=100 n200=200" ]
expect_rc 0 ctl --json status
check "status shows the switch" [ "$(jget 'd["switch"]["bridge"]+" "+str(d["switch"]["repair_pending"])' <"$T/out")" = "br-tor False" ]
expect_rc 0 ctl vm create v3 --vcpus 1 --memory 64 --host h2 --net n200
check "h2's trunk carries 200" [ "$(trunks h2-trunk)" = "[200]" ]
check "VLAN 200 reaches both trunks" reaches p200 h2-trunk 200
expect_rc 0 ctl vm create v4 --vcpus 1 --memory 64 --host h3 --net n300
check "h3 has no trunk port: nothing on the switch" [ "$(trunks h3-trunk)" = absent ]
expect_rc 0 ctl --json switch show
check "switch show: no drift" [ "$(jget 'sum(p["drift"] for p in d["ports"])' <"$T/out")" = 0 ]
check "switch show: h1-trunk expected 100,200" \
    [ "$(jget '[p["expected"]+"/"+p["actual"] for p in d["ports"] if p["port"]=="h1-trunk"][0]' <"$T/out")" = "100,200/100,200" ]
check "switch show lists the access ports as not vmmgr's" \
    [ "$(jget '[p["managed"] for p in d["ports"] if p["port"]=="p100"][0]' <"$T/out")" = False ]
expect_rc 0 ctl switch show
check "switch show table has a drift column" grep -q "DRIFT" "$T/out"

expect_rc 4 ctl net delete n100
check "network in use names its VMs: $(cat "$T/err")" grep -q "'v1', 'v2'" "$T/err"
expect_rc 0 ctl --json net show n100
check "net show lists VMs and hosts" [ "$(jget '",".join(d["vm_names"])+"/"+",".join(d["hosts"])' <"$T/out")" = "v1,v2/h1" ]

# --- migration (issue 16): the VLAN follows the VM ---------------------------
expect_rc 0 ctl vm create vm1 --vcpus 1 --memory 64 --host h2 --net n300
check "h2's trunk gained 300" [ "$(trunks h2-trunk)" = "[200, 300]" ]
expect_rc 0 ctl vm migrate vm1 --host h1 --cold
check "after the move h1's trunk carries 300 too" [ "$(trunks h1-trunk)" = "[100, 200, 300]" ]
check "and h2's trunk dropped it" [ "$(trunks h2-trunk)" = "[200]" ]
check "the migration journaled its switch step" \
    [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM journal WHERE kind='vm_migrate' AND target='vm1' AND state='done'")" = 1 ]
check "VLAN 200 still reaches h2, which keeps v3" reaches p200 h2-trunk 200
expect_rc 0 ctl vm delete vm1
check "h1 is back to 100,200" [ "$(trunks h1-trunk)" = "[100, 200]" ]

# --- delete: the VLAN leaves after the last VM on the host ------------------
expect_rc 0 ctl vm delete v1
check "v2 still uses 100 on h1" [ "$(trunks h1-trunk)" = "[100, 200]" ]
check "the delete journaled its switch step" \
    [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT step FROM journal WHERE kind='vm_delete' AND target='v1'")" = switched ]
expect_rc 0 ctl vm delete v2
check "h1's trunk port is gone with its last VLAN" [ "$(trunks h1-trunk)" = absent ]
check "VLAN 100 no longer reaches h1" not reaches p100 h1-trunk 100
expect_rc 0 ctl net delete n100
expect_rc 0 ctl net create n100 --vlan 100

# --- outside edits: reported and repaired ----------------------------------
vsctl set port h2-trunk trunks=200,300 || fail "outside edit"
expect_rc 0 ctl --json switch show
check "the edit shows as drift with extra 300" \
    [ "$(jget '[str(p["drift"])+p["extra"] for p in d["ports"] if p["port"]=="h2-trunk"][0]' <"$T/out")" = True300 ]
stop_daemon
start_daemon
check "restart reconcile repaired h2-trunk" [ "$(trunks h2-trunk)" = "[200]" ]
check "the drift is in the event log" grep -q "h2-trunk.*extra VLANs '300'" <(events_of switch_drift)
vsctl set port h2-trunk trunks=[] || fail "outside edit"
expect_rc 0 ctl switch repair
check "repair on demand restored [200]" [ "$(trunks h2-trunk)" = "[200]" ]
vsctl -- --may-exist add-port br-tor h1-trunk -- set interface h1-trunk type=dummy || fail "outside add"
expect_rc 0 ctl --json switch show
check "a trunk that should not exist is drift" \
    [ "$(jget '[p["drift"] for p in d["ports"] if p["port"]=="h1-trunk"][0]' <"$T/out")" = True ]
expect_rc 0 ctl switch repair
check "repair removed it" [ "$(trunks h1-trunk)" = absent ]

# --- the switch down during operations -------------------------------------
vmmgr_ovs_stop_db
expect_rc 6 ctl vm create v5 --vcpus 1 --memory 64 --host h1 --net n100
check "create fails naming the switch: $(cat "$T/err")" grep -q "switch" "$T/err"
check "failed create left no VM" not ctl --json vm show v5 >/dev/null 2>&1
check "failed create left no PU held" [ "$(allocs)" = 2 ]
check "failed create's journal entry is closed" \
    [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT state FROM journal WHERE kind='vm_create' AND target='v5'")" = failed ]
# A delete goes on without the switch; the trunk is repaired once OVS is back.
expect_rc 0 ctl vm delete v3
check "switch_error recorded" grep -q "h2" <(events_of switch_error)
expect_rc 0 ctl --json status
check "status says a repair is pending" [ "$(jget 'd["switch"]["repair_pending"]' <"$T/out")" = True ]
vmmgr_ovs_start_db || fail "ovsdb-server did not restart"

wait_for 20 "the monitor removed h2's trunk after OVS came back" trunk_is h2-trunk absent
expect_rc 0 ctl vm create v5 --vcpus 1 --memory 64 --host h1 --net n100
check "after the restart a create works" [ "$(trunks h1-trunk)" = "[100]" ]
wait_for 10 "vswitchd applied it (ofproto/trace: $(trace p100))" reaches p100 h1-trunk 100

# --- an ACT/SBY group on a network: both hosts' trunks carry it ------------
expect_rc 2 ctl group create g1 --scope host --member g1-a:act:vcpus=1,memory=64,host=h1,net=n300 \
    --member g1-b:sby:vcpus=1,memory=64,host=h2,net=nope
check "group member's unknown network named: $(cat "$T/err")" \
    grep -q "'members\[1\]': 'nics\[0\].network': unknown network 'nope'" "$T/err"
check "refused group left h1's trunk alone" trunk_is h1-trunk "[100]"
expect_rc 0 ctl group create g1 --scope host --member g1-a:act:vcpus=1,memory=64,host=h1,net=n300 \
    --member g1-b:sby:vcpus=1,memory=64,host=h2,net=n300
check "ACT's host carries 300" trunk_is h1-trunk "[100, 300]"
check "SBY's host carries 300" trunk_is h2-trunk "[300]"
expect_rc 0 ctl vm delete g1-b
check "SBY gone: h2's trunk port gone" trunk_is h2-trunk absent

# --- ovs-vswitchd frozen mid-create: stored, never applied ------------------
# The switch's database takes the change but the switch never confirms it:
# the create fails (timeout) and is undone; once vswitchd runs again the
# monitor's repair takes the VLAN off the trunk.
vs_pid=$(cat "$OVS/ovs-vswitchd.pid")
kill -STOP "$vs_pid"
expect_rc 8 ctl vm create v6 --vcpus 1 --memory 64 --host h2 --net n200
kill -CONT "$vs_pid"
check "timeout named the switch: $(cat "$T/err")" grep -q "switch" "$T/err"
check "timed-out create left no VM" not ctl --json vm show v6 >/dev/null 2>&1
wait_for 20 "the monitor undid the unconfirmed VLAN on h2" trunk_is h2-trunk absent
expect_rc 0 ctl --json switch show
check "no drift left" [ "$(jget 'sum(p["drift"] for p in d["ports"])' <"$T/out")" = 0 ]

# --- a crash right after the switch step: recovery undoes both -------------
# vmmgrd exits (as kill -9 would) with the trunk changed and the create
# journaled at step "switched"; the next start rolls the create back and its
# reconcile takes the VLAN off the trunk, recording the drift.
stop_daemon
cp "$CONF" "$T/good.conf"
echo "debug_crash_at = vm_create.after_switch" >>"$CONF"
start_daemon
ctl vm create v7 --vcpus 1 --memory 64 --host h2 --net n200 >/dev/null 2>&1
wait "$DPID"
check "vmmgrd exited at the crash point (99)" [ $? = 99 ]
check "the crash left VLAN 200 on h2's trunk" trunk_is h2-trunk "[200]"
check "the journal says where it stopped" \
    [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT state||' '||step FROM journal WHERE kind='vm_create' AND target='v7'")" = "pending switched" ]
cp "$T/good.conf" "$CONF"
start_daemon
check "recovery rolled the create back" not ctl --json vm show v7 >/dev/null 2>&1
check "reconcile took the VLAN off h2's trunk" trunk_is h2-trunk absent
check "the drift is recorded" grep -q "h2-trunk.*present though no VM" <(events_of switch_drift)

# --- VLAN moves (healing, migration: vm_net_move) on this switch -----------
# unit_vmmgr_net drives vm_net_move as a healing/migration job would, here
# against the real switch: a failover of VM a (VLAN 100) from t1 to t2, a
# live migration of VM b (200 and 100: on both trunks, then on t2 only),
# then b deleted. It checks each step through vmmgrd's switch show; the end
# state is checked here the operator's way.
n_checks=$((n_checks + 1))
VMMGR_TEST_SWITCH="unix:$VMMGR_OVS_DB_SOCK" VMMGR_TEST_SWITCH_BRIDGE=br-tor \
    "$VMMGR_BINARY_DIR/tests/unit/vmmgr/unit_vmmgr_net" >"$T/unit_net.out" 2>&1 ||
    fail "unit_vmmgr_net on the real switch: $(tail -n 20 "$T/unit_net.out")"
check "after the moves t2 carries VLAN 100 (a stays there)" trunk_is t2 "[100]"
check "t1 lost its last VLAN: no port" trunk_is t1 absent
wait_for 10 "VLAN 100 from p100 reaches t2 (ofproto/trace: $(trace p100))" reaches p100 t2 100

echo "PASS: $n_checks checks (networks, trunks following VMs, drift repair, switch outages)"
