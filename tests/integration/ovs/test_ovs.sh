#!/usr/bin/env bash
# tests/integration/ovs/test_ovs.sh - the switch port's OVSDB driver against
# a real Open vSwitch (issue 15).
#
# Starts a private ovsdb-server and ovs-vswitchd (scripts/lib/ovs.sh:
# --disable-system, netdev bridge, dummy interfaces) in a temp dir, drives
# the driver through vmmgr-sw-tool, and checks what a user would check:
# ovs-vsctl's view of the ports, ovsdb-tool show-log (one transaction per
# change), and ovs-appctl ofproto/trace, the switch's real forwarding
# decision (push_vlan(vid=100) out of the trunk). Cases: trunk create,
# change, idempotence, removal; access port; ovsdb-server killed in the
# middle of an operation (clear error, then success on retry); an outside
# edit detected as drift and repaired; bad VLAN ids and unknown bridges.
# Exits 77 (with the reason) only when Open vSwitch cannot start here.
set -u
: "${VMMGR_BINARY_DIR:?run through ctest}"
: "${VMMGR_SOURCE_DIR:?run through ctest}"
TOOL="$VMMGR_BINARY_DIR/tests/integration/ovs/vmmgr-sw-tool"
. "$VMMGR_SOURCE_DIR/scripts/lib/ovs.sh"

why=$(vmmgr_ovs_missing) || { echo "SKIP: $why"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: ovs-vswitchd needs root here (it creates /var/run/openvswitch)"; exit 77; }

T=$(mktemp -d /tmp/vmmgr-test-ovs-XXXXXX)
cleanup() {
    vmmgr_ovs_stop
    rm -rf "$T"
}
trap cleanup EXIT
n_checks=0
fail() {
    echo "FAIL: $*"
    for f in "$T"/*.log; do echo "--- $f"; tail -n 15 "$f"; done
    exit 1
}
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    "$@" || fail "$what"
    n_checks=$((n_checks + 1))
}
# Runs the tool, keeping stdout in $out, stderr in $errout, exit code in $rc.
sw() {
    out=$("$TOOL" --confirm --timeout 5000 --iface-type dummy "unix:$VMMGR_OVS_DB_SOCK" "$@" 2>"$T/err")
    rc=$?
    errout=$(cat "$T/err")
}
expect_rc() { # RC DESCRIPTION
    [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 (stdout: $out; stderr: $errout)"
    n_checks=$((n_checks + 1))
}
trunks() { vsctl get port "$1" trunks; }
n_log() { ovsdb-tool show-log "$T/conf.db" | grep -c "vmmgr: $1" || true; }
# The datapath port number of $1 (dpif/show: "    h1 2/3: (dummy)").
dp_port() { vappctl dpif/show | awk -v p="$1" '$1 == p { split($2, a, "/"); sub(":", "", a[2]); print a[2] }'; }
# The datapath actions for a broadcast frame entering $1 (VLAN $2 if given).
trace() {
    local flow="in_port=$1,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff"
    [ -n "${2:-}" ] && flow="$flow,dl_vlan=$2"
    vappctl ofproto/trace br0 "$flow" | sed -n 's/^Datapath actions: //p'
}

vmmgr_ovs_start "$T" || { echo "SKIP: Open vSwitch does not start here (see above)"; exit 77; }

# --- bridge, trunk, access port ------------------------------------------
sw bridge br0 netdev
expect_rc 0 "bridge create"
check "bridge exists" vsctl br-exists br0
check "bridge uses the userspace datapath" [ "$(vsctl get bridge br0 datapath_type)" = netdev ]
sw bridge br0 netdev
expect_rc 0 "bridge create again (may-exist)"

sw trunk br0 h1 100,200
expect_rc 0 "trunk create"
check "create reports 2 VLANs added" [ "$out" = "added 2 removed 0" ]
check "ovs-vsctl shows trunks 100,200" [ "$(trunks h1)" = "[100, 200]" ]
sw access br0 vm1 100
expect_rc 0 "access port"
check "ovs-vsctl shows tag 100" [ "$(vsctl get port vm1 tag)" = 100 ]
sw trunk br0 h2 300
expect_rc 0 "second host's trunk"

h1=$(dp_port h1)
h2=$(dp_port h2)
vm1=$(dp_port vm1)
[ -n "$h1" ] && [ -n "$h2" ] && [ -n "$vm1" ] || fail "no datapath ports in dpif/show: $(vappctl dpif/show)"
acts=$(trace vm1)
check "VM frame leaves tagged 100 through trunk h1 ($acts)" \
    grep -Eq "push_vlan\(vid=100,pcp=0\)(,[0-9]+)*,$h1(,|\$)" <<<"$acts"
check "VM frame does not reach h2, whose trunk lacks VLAN 100 ($acts)" \
    bash -c "! grep -Eq '(^|,)$h2(,|\$)' <<<'$acts'"
acts=$(trace h1 100)
check "VLAN 100 from the trunk reaches the access port untagged ($acts)" \
    grep -Eq "pop_vlan(,[0-9]+)*,$vm1(,|\$)" <<<"$acts"
acts=$(trace h1 300)
check "VLAN 300 is not accepted on trunk h1 ($acts)" [ "$acts" = drop ]

# --- change the set: one transaction, nothing sent when nothing changes ----
before=$(n_log "trunk change")
sw trunk br0 h1 200,300
expect_rc 0 "trunk change"
check "change adds 300 and removes 100" [ "$out" = "added 1 removed 1" ]
check "ovs-vsctl shows trunks 200,300" [ "$(trunks h1)" = "[200, 300]" ]
check "the change was one transaction" [ "$(n_log "trunk change")" = $((before + 1)) ]
sw trunk br0 h1 200,300
check "same set again changes nothing" [ "$out" = "added 0 removed 0" ]
check "and sends no transaction" [ "$(n_log "trunk change")" = $((before + 1)) ]
acts=$(trace vm1)
check "VLAN 100 no longer goes out of h1 ($acts)" bash -c "! grep -Eq '(^|,)$h1(,|\$)' <<<'$acts'"
sw get br0 h1
check "get reads trunks and tag" [ "$out" = "h1 tag=-1 trunks=200,300" ]

# --- VLAN move between hosts (failover) -----------------------------------
sw trunk br0 h1 100,200,300
sw trunk br0 h2 300
sw access br0 vm1 100
acts=$(trace vm1)
check "before the move VLAN 100 goes to h1 ($acts)" grep -Eq "(^|,)$h1(,|\$)" <<<"$acts"
before=$(n_log "trunk change")
sw trunks br0 h1=200,300 h2=100,300
expect_rc 0 "move VLAN 100 from h1 to h2"
check "the move changed both ports ($out)" [ "$out" = "changed 2" ]
check "the move was one transaction" [ "$(n_log "trunk change")" = $((before + 1)) ]
check "ovs-vsctl shows h1 without 100" [ "$(trunks h1)" = "[200, 300]" ]
check "ovs-vsctl shows h2 with 100" [ "$(trunks h2)" = "[100, 300]" ]
acts=$(trace vm1)
check "after the move VLAN 100 goes to h2 ($acts)" grep -Eq "push_vlan\(vid=100,pcp=0\)(,[0-9]+)*,$h2(,|\$)" <<<"$acts"
check "and not to h1 ($acts)" bash -c "! grep -Eq '(^|,)$h1(,|\$)' <<<'$acts'"

# --- bad input: exit 2 naming the field, nothing changed -------------------
for v in 0 4095 4096 -1; do
    sw trunk br0 h1 "200,$v"
    expect_rc 2 "trunk with VLAN $v"
    check "error for VLAN $v names 'vlans' ($errout)" grep -q "'vlans': $v is not a VLAN id (1..4094)" <<<"$errout"
    sw access br0 vm1 "$v"
    expect_rc 2 "access tag $v"
    check "error for tag $v names 'tag' ($errout)" grep -q "'tag': $v is not a VLAN id" <<<"$errout"
done
check "bad input left h1 alone" [ "$(trunks h1)" = "[200, 300]" ]
sw trunk nobr h1 100
expect_rc 3 "unknown bridge"
check "error names the bridge ($errout)" grep -q "bridge 'nobr' does not exist" <<<"$errout"
check "and not the server's own text" bash -c "! grep -qi 'syntax\|ovsdb' <<<'$errout'"
sw trunk br0 vm1 100
expect_rc 4 "trunk on an access port"
sw trunks br0 h1=100,200 h2=4095
expect_rc 2 "move with a bad VLAN on the second port"
check "error names the port and 'vlans' ($errout)" grep -q "port 'h2': 'vlans': 4095 is not a VLAN id" <<<"$errout"
check "the first port was left alone" [ "$(trunks h1)" = "[200, 300]" ]
sw trunks br0 h1=100 vm1=100
expect_rc 4 "move onto an access port"
check "all or nothing: h1 unchanged" [ "$(trunks h1)" = "[200, 300]" ]
sw del br0 br0
expect_rc 2 "deleting the bridge's own port"
check "the bridge's port is still there" vsctl get port br0 name
sw trunk br0 "bad;name" 100
expect_rc 2 "bad port name"
check "error names 'port' ($errout)" grep -q "'port'" <<<"$errout"

# --- outside edit: drift detected and repaired ------------------------------
vsctl set port h1 trunks=200,999
sw check br0 h1=200,300 h2=100,300
expect_rc 4 "check after an outside edit"
check "drift shows missing 300 and extra 999 ($out)" \
    grep -q "^h1 DRIFT expected=200,300 actual=200,999 missing=300 extra=999" <<<"$out"
check "h2 is fine ($out)" grep -q "^h2 ok" <<<"$out"
check "vm1 is listed as unmanaged ($out)" grep -q "^vm1 unmanaged" <<<"$out"
sw repair br0 h1=200,300 h2=100,300
expect_rc 0 "repair"
check "repair changed one port" [ "$out" = "repaired 1" ]
check "ovs-vsctl shows the repaired trunks" [ "$(trunks h1)" = "[200, 300]" ]
sw check br0 h1=200,300 h2=100,300
expect_rc 0 "check after repair"

# --- ovsdb-server dies in the middle of an operation ------------------------
# Freeze it so the request is sent and unanswered, kill it, start it again on
# the same database: the first attempt fails with a clear error, the retry on
# the same connection reconnects and finishes.
dbpid=$(cat "$T/ovsdb-server.pid")
"$TOOL" --confirm --timeout 3000 --attempts 80 --iface-type dummy \
    --ready-file "$T/connected" --pause-ms 1000 "unix:$VMMGR_OVS_DB_SOCK" \
    trunk br0 h1 200,300,400 >"$T/retry.out" 2>"$T/retry.err" &
toolpid=$!
vmmgr_ovs_wait_file "$T/connected" 100 || fail "the tool did not connect"
kill -STOP "$dbpid"
sleep 1.5
kill -KILL "$dbpid"
sleep 0.5
# While it is down, a call without retries says so and exits 6.
sw trunk br0 h1 200,300,400
expect_rc 6 "switch down"
check "down error names the switch ($errout)" grep -q "switch 'unix:$VMMGR_OVS_DB_SOCK' cannot be reached" <<<"$errout"
vmmgr_ovs_start_db || fail "ovsdb-server restart"
wait $toolpid
toolrc=$?
cat "$T/retry.err"
[ "$toolrc" = 0 ] || fail "retry after restart: exit $toolrc"
n_checks=$((n_checks + 1))
check "the interrupted attempt failed clearly" \
    grep -Eq "UNREACHABLE: .*switch 'unix:.*': connection lost during trunk (read|change)" "$T/retry.err"
check "ovs-vsctl shows the change after the restart" [ "$(trunks h1)" = "[200, 300, 400]" ]
sw ping
expect_rc 0 "echo after restart"
# ovs-vswitchd reconnects on its own backoff; the confirmed change shows it
# applied what the database says.
sw trunk br0 h1 200,300
expect_rc 0 "confirmed change after restart"
acts=$(trace h1 400)
check "VLAN 400 is gone from h1's forwarding ($acts)" [ "$acts" = drop ]

# --- a restart while the connection is idle: no error at all ---------------
# The driver notices the closed socket before sending and reconnects; only a
# call in flight can fail.
"$TOOL" --confirm --timeout 5000 --again-after "$T/go" "unix:$VMMGR_OVS_DB_SOCK" \
    ping >"$T/idle.out" 2>"$T/idle.err" &
toolpid=$!
sleep 0.5
vmmgr_ovs_stop_db
vmmgr_ovs_start_db || fail "ovsdb-server restart (idle)"
touch "$T/go"
wait $toolpid
toolrc=$?
check "a connection idle across a restart works at once (exit $toolrc: $(cat "$T/idle.err"))" \
    test "$toolrc" = 0 -a ! -s "$T/idle.err"

# --- ovs-vswitchd stalls after the database took the change -----------------
# The write is stored but not applied: the driver says so (timeout, exit 8)
# instead of claiming success; the retry finds the database right and
# returns once the switch has applied it.
vspid=$(cat "$T/ovs-vswitchd.pid")
kill -STOP "$vspid"
out=$("$TOOL" --confirm --timeout 1000 --iface-type dummy "unix:$VMMGR_OVS_DB_SOCK" trunk br0 h1 200,300,500 2>"$T/err")
rc=$?
errout=$(cat "$T/err")
kill -CONT "$vspid"
expect_rc 8 "change while ovs-vswitchd is frozen"
check "the timeout says the switch did not apply it ($errout)" grep -q "ovs-vswitchd did not apply it" <<<"$errout"
check "the database has it" [ "$(trunks h1)" = "[200, 300, 500]" ]
sw trunk br0 h1 200,300,500
expect_rc 0 "retry once ovs-vswitchd runs"
check "the retry has nothing left to write" [ "$out" = "added 0 removed 0" ]
acts=$(trace h1 500)
check "VLAN 500 is forwarded from h1 ($acts)" [ "$acts" != drop ]

# --- removal -----------------------------------------------------------------
sw del br0 h1
expect_rc 0 "port delete"
check "ovs-vsctl no longer lists h1" bash -c "! vsctl list-ports br0 | grep -qx h1"
check "its interface went with it" bash -c "! vsctl list interface h1 >/dev/null 2>&1"
sw del br0 h1
expect_rc 3 "delete again"
check "error names the port ($errout)" grep -q "port 'h1' is not on bridge 'br0'" <<<"$errout"
sw list br0
check "list shows the remaining ports ($out)" [ "$out" = "$(printf 'h2 tag=-1 trunks=100,300\nvm1 tag=100 trunks=')" ]

echo "PASS: $n_checks checks"
