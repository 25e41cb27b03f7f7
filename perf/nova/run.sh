#!/usr/bin/env bash
# perf/nova/run.sh [BUILD_DIR] - create -> pinned through Nova against Nova's
# own boot (perf/nova/README.md). Reuses scripts/lib/openstack.sh's OpenStack
# when it is up (else starts it and stops it at the end), starts a private
# vmmgrd with host c1 = nova:compute-1, runs bench_nova.py (RUNS, default 5)
# and writes perf/results/nova.json.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
. "$SRC/scripts/lib/openstack.sh"
miss=$(vmmgr_os_missing) || { echo "OpenStack package '$miss' is not installed (scripts/setup-openstack.sh)" >&2; exit 1; }
# One user of $VMMGR_OS_DIR at a time (the Nova test takes the same lock).
exec 9>"$VMMGR_OS_DIR.lock"
flock -w 1000 9
started=0
if ! vmmgr_os_status; then
    vmmgr_os_up
    started=1
fi
eval "$(vmmgr_os_env)"
T=$(mktemp -d /tmp/vmmgr-bench-nova-XXXXXX)
cat >"$T/nova.conf" <<CONF
auth_url = $VMMGR_OS_KEYSTONE
username = admin
password = secret
project_name = admin
region_name = RegionOne
image = cirros
libvirt.compute-1 = qemu:///system
CONF
chmod 600 "$T/nova.conf"
cat >"$T/vmmgrd.conf" <<CONF
socket = $T/vmmgrd.sock
state_dir = $T/state
nova_config = $T/nova.conf
healing_reserve = off
log_level = info
CONF
"$BUILD/vmmgr/daemon/vmmgrd" --config "$T/vmmgrd.conf" >"$T/vmmgrd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ $started = 1 ] && vmmgr_os_down; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -S "$T/vmmgrd.sock" ] && break; sleep 0.1; done
CTL="$BUILD/vmmgr/ctl/vmmgrctl"
"$CTL" --socket "$T/vmmgrd.sock" host add c1 --uri nova:compute-1 --reserved 0 --dedicated 1
/usr/bin/python3 "$SRC/perf/nova/bench_nova.py" --vmmgrctl "$CTL" --socket "$T/vmmgrd.sock" \
    --runs "${RUNS:-5}" --out "$SRC/perf/results/nova.json"
grep -E "server '.*ACTIVE on|pinned" "$T/vmmgrd.log" | tail -3 >&2 || true
