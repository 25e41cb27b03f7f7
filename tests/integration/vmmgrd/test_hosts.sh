#!/usr/bin/env bash
# vmmgrd hosts end to end: simulated hosts on libvirt's test driver (node
# file generated from an hwloc synthetic string or XML, checked with virsh),
# pools and labels, the core map, maintenance, bad input leaving no trace,
# persistence across restarts, journal recovery of interrupted host
# operations, an unreachable URI, and this machine's qemu:///system.
. "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || { echo "SKIP: virsh is not installed"; exit 77; }

# URIs with options (socket=) are the operator's: config aliases. The proxy
# socket of the lost-connection case below is made later.
proxy="$T/libvirt-proxy.sock"
write_config "uri_alias.far = qemu+unix:///system?socket=$T/no-libvirtd.sock
uri_alias.cut = qemu+unix:///system?socket=$proxy"
start_daemon

# A simulated 2 x 2 NUMA x 16 cores x 2 threads server.
expect_rc 0 ctl host add sim1 --uri test:/// --synthetic "package:2 numa:2 core:16 pu:2" \
    --reserved 0-1,64-65 --label rack=r1 --label zone=z1
node="$STATE/hosts/sim1.xml"
check "node file written" [ -f "$node" ]
virsh -q -c "test://$node" nodeinfo >"$T/nodeinfo" 2>&1 || fail "virsh cannot open $node"
check "libvirt sees 128 CPUs" grep -Eq '^CPU\(s\): +128$' "$T/nodeinfo"
check "libvirt sees 4 NUMA cells" grep -Eq '^NUMA cell\(s\): +4$' "$T/nodeinfo"
expect_rc 0 ctl --json host show sim1
check "128 PUs" [ "$(jget 'd["pus"]' <"$T/out")" = 128 ]
check "64 cores" [ "$(jget 'd["cores"]' <"$T/out")" = 64 ]
check "reserved pool" [ "$(jget 'd["pools"]["reserved"]' <"$T/out")" = "0-1,64-65" ]
check "dedicated = the rest" [ "$(jget 'd["pools"]["dedicated"]' <"$T/out")" = "2-63,66-127" ]
check "labels kept" [ "$(jget 'd["labels"]["rack"]+d["labels"]["zone"]' <"$T/out")" = r1z1 ]
check "core map has every PU" [ "$(jget 'len(d["core_map"])' <"$T/out")" = 128 ]
check "PU 64 is reserved" [ "$(jget '[e["pool"] for e in d["core_map"] if e["pu"]==64][0]' <"$T/out")" = reserved ]
check "PU 0 and 1 are siblings" [ "$(jget '[e["core"] for e in d["core_map"] if e["pu"] in (0,1)]' <"$T/out")" = "[0, 0]" ]
expect_rc 0 ctl host show sim1
check "human core map" grep -Eq '^ +66 +33 +2 +1 +dedicated' "$T/out"

# From an hwloc XML file (as lstopo writes it on a real server).
if command -v lstopo-no-graphics >/dev/null; then
    lstopo-no-graphics --input "package:1 core:4 pu:2" --of xml "$T/h.xml" 2>/dev/null
    expect_rc 0 ctl host add simx --uri test:/// --hwloc-xml "$T/h.xml" --dedicated 2-7
    expect_rc 0 ctl --json host show simx
    check "XML host: 8 PUs" [ "$(jget 'd["pus"]' <"$T/out")" = 8 ]
    check "XML host: pools" [ "$(jget 'd["pools"]["dedicated"]' <"$T/out")" = "2-7" ]
fi

# Bad input leaves no host, no node file, no journal entry.
api GET /v1/operations
ops_before=$(printf '%s' "$body" | jget 'len(d["operations"])')
expect_rc 4 ctl host add sim1 --uri test:/// --synthetic "core:2 pu:1"
check "duplicate named" grep -q "host 'sim1' already exists" "$T/err"
expect_rc 2 ctl host add bad1 --uri test:/// --synthetic "package:x"
check "synthetic error named" grep -q "'synthetic'" "$T/err"
expect_rc 2 ctl host add bad2 --uri test:/// --synthetic "core:4 pu:1" --reserved 0-9
check "reserved out of range named" grep -q "'reserved'" "$T/err"
expect_rc 2 ctl host add bad3 --uri test:/// --synthetic "core:4 pu:1" --reserved 0-1 --dedicated 1-3
expect_rc 2 ctl host add bad4 --uri test:///
expect_rc 2 ctl host add bad5 --uri test:/// --hwloc-xml "$T/missing.xml"
echo "<topology><broken" >"$T/broken.xml"
expect_rc 2 ctl host add bad6 --uri test:/// --hwloc-xml "$T/broken.xml"
expect_rc 2 ctl host set sim1 --state down
expect_rc 3 ctl host set ghost --state maintenance
expect_rc 0 ctl --json host list
check "only the good hosts" [ "$(jget '",".join(h["name"] for h in d)' <"$T/out")" = "sim1,simx" ]
check "no node file for refused hosts" [ "$(ls "$STATE/hosts" | grep -c '^bad')" = 0 ]
api GET /v1/operations
check "refused input journaled nothing" [ "$(printf '%s' "$body" | jget 'len(d["operations"])')" = "$ops_before" ]

# A host nobody answers for: refused as unreachable (exit 6), not added.
expect_rc 6 ctl host add far --uri alias:far
expect_rc 3 ctl host show far
api GET /v1/operations
check "failed add is journaled as failed" [ "$(printf '%s' "$body" | jget '[o["state"] for o in d["operations"] if o["target"]=="far"][0]')" = failed ]

# Maintenance.
expect_rc 0 ctl host set sim1 --state maintenance
expect_rc 0 ctl --json host show sim1
check "maintenance" [ "$(jget 'd["state"]' <"$T/out")" = maintenance ]
expect_rc 0 ctl events
check "maintenance event" grep -q "host_state .*sim1 .*maintenance" "$T/out"

# Restart: hosts, pools and states persist; a lost node file is rewritten.
stop_daemon
rm -f "$node"
start_daemon
expect_rc 0 ctl --json host show sim1
check "state persisted" [ "$(jget 'd["state"]' <"$T/out")" = maintenance ]
check "connected after restart" [ "$(jget 'd["connected"]' <"$T/out")" = True ]
check "pools persisted" [ "$(jget 'd["pools"]["reserved"]' <"$T/out")" = "0-1,64-65" ]
check "node file rewritten" [ -f "$node" ]

# Journal recovery: a crash after journaling a host add (its node file
# written, the row not) and during a host remove. Simulated by writing the
# pending entries the daemon would have left.
stop_daemon
echo "<node/>" >"$STATE/hosts/half.xml"
sqlite3 "$STATE/vmmgr.db" "INSERT INTO journal (kind, state, target, payload, created_ms)
  VALUES ('host_add', 'pending', 'half', '{\"uri\":\"test:///\",\"node_xml\":\"$STATE/hosts/half.xml\"}', 1);
  INSERT INTO journal (kind, state, target, payload, created_ms)
  VALUES ('host_remove', 'pending', 'simx', '{\"node_xml\":\"\"}', 2);" || fail "sqlite3"
start_daemon
expect_rc 0 ctl --json status
check "journal empty after recovery" [ "$(jget 'd["journal_pending"]' <"$T/out")" = 0 ]
check "half-added host's node file removed" [ ! -e "$STATE/hosts/half.xml" ]
expect_rc 3 ctl host show simx
expect_rc 0 ctl events
check "recovery reported" grep -q "journal_recovery .*2 unfinished operation(s): 1 finished, 1 rolled back" "$T/out"
api GET /v1/operations
check "host_add rolled back" [ "$(printf '%s' "$body" | jget '[o["state"] for o in d["operations"] if o["target"]=="half"][0]')" = rolled_back ]

# This machine, topology from live hwloc. Without libvirtd the other checks
# still run, and the test ends with exit 77 naming the reason.
live=0
if virsh -q -c qemu:///system version >/dev/null 2>&1; then
    live=1
    expect_rc 0 ctl host add kvm --uri qemu:///system --reserved 0
    expect_rc 0 ctl --json host show kvm
    check "live PUs = nproc" [ "$(jget 'd["pus"]' <"$T/out")" = "$(nproc --all)" ]
    check "live host up" [ "$(jget 'd["state"]' <"$T/out")" = up ]
    expect_rc 0 ctl host remove kvm
    # Through libvirt's remote driver (as a qemu+ssh host would be): not this
    # machine as far as vmmgrd knows, so the topology comes from libvirt's
    # capabilities, and the connection has keepalive.
    expect_rc 0 ctl host add remote --uri qemu+unix:///system --reserved 0
    expect_rc 0 ctl --json host show remote
    check "capabilities topology: PUs = nproc" [ "$(jget 'd["pus"]' <"$T/out")" = "$(nproc --all)" ]
    check "capabilities topology: core map" [ "$(jget 'len(d["core_map"])' <"$T/out")" = "$(nproc --all)" ]
    check "capabilities topology source" [ "$(jget 'd["topology"]["source"]' <"$T/out")" = libvirt-capabilities ]
    expect_rc 0 ctl host remove remote
    # A lost connection: the host goes unreachable (event), vmmgrd retries
    # with backoff, and the host comes back when libvirt answers again. The
    # cut is made by a proxy in front of libvirtd's socket.
    "$PY" "$(dirname "$0")/unix_proxy.py" "$proxy" /var/run/libvirt/libvirt-sock &
    ppid_=$!
    PIDS="$PIDS $ppid_"
    wait_for 5 "proxy listening" test -S "$proxy"
    expect_rc 0 ctl host add cut --uri alias:cut --reserved 0
    host_state_is() { [ "$(ctl --json host show "$1" | jget 'd["state"]')" = "$2" ]; }
    kill "$ppid_"
    wait "$ppid_" 2>/dev/null
    wait_for 10 "host unreachable after the cut" host_state_is cut unreachable
    expect_rc 0 ctl events
    check "unreachable event" grep -q "host_unreachable .*cut" "$T/out"
    "$PY" "$(dirname "$0")/unix_proxy.py" "$proxy" /var/run/libvirt/libvirt-sock &
    ppid_=$!
    PIDS="$PIDS $ppid_"
    wait_for 10 "host back up after the proxy returns" host_state_is cut up
    expect_rc 0 ctl events
    check "reconnected event" grep -q "host_reconnected .*cut" "$T/out"
    api GET /metrics
    check "disconnect counted" grep -q '^vmmgr_host_disconnects_total 1$' "$T/body"
    expect_rc 0 ctl host remove cut
    kill "$ppid_"
fi

# Metrics count the hosts and their PUs.
api GET /metrics
check "maintenance gauge" grep -q '^vmmgr_hosts{state="maintenance"} 1$' "$T/body"
check "reserved PUs gauge" grep -q '^vmmgr_pus{pool="reserved",use="free"} 4$' "$T/body"

# Remove: the node file goes too; remove is idempotent with --if-exists.
expect_rc 0 ctl host remove sim1
check "node file removed" [ ! -e "$node" ]
expect_rc 3 ctl host remove sim1
expect_rc 0 ctl host remove sim1 --if-exists
expect_rc 0 ctl --json host list
check "no hosts left" [ "$(jget 'len(d)' <"$T/out")" = 0 ]
stop_daemon

[ $live = 1 ] || skip_real_host "libvirtd does not answer on qemu:///system"
echo "PASS: $n_checks checks"
