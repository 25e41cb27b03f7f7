#!/usr/bin/env bash
# scripts/shim-run.sh - a throw-away vmmgrd with simulated hosts and
# vmmgr-shim in front of it, for trying the openstack CLI against vmmgr.
#
#   scripts/shim-run.sh [--hosts N] [--port PORT]
#
# Everything lives in a temp dir (removed on exit); users: admin/secret
# (project admin), alice/pw-a (proja); images: cirros, empty (no disk).
# Prints the OS_* exports and an openrc file path, then waits for Ctrl-C.
# Needs a build (scripts/build.sh) and a running libvirtd is NOT needed:
# the hosts are libvirt test-driver hosts inside vmmgrd.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMMGR_BUILD_DIR:-$src/build}
n_hosts=2
port=8774
while [ $# -gt 0 ]; do
    case $1 in
    --hosts) n_hosts=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "usage: $0 [--hosts N] [--port PORT]" >&2; exit 2 ;;
    esac
done
for b in vmmgr/daemon/vmmgrd vmmgr/ctl/vmmgrctl openstack-shim/vmmgr-shim; do
    [ -x "$build/$b" ] || { echo "shim-run: $build/$b missing: run scripts/build.sh" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/vmmgr-shim-run-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
cat >"$dir/vmmgrd.conf" <<CONF
socket = $dir/vmmgrd.sock
state_dir = $dir/state
healing_reserve = off
CONF
"$build/vmmgr/daemon/vmmgrd" --config "$dir/vmmgrd.conf" >>"$dir/vmmgrd.log" 2>&1 &
pids+=($!)
ctl() { "$build/vmmgr/ctl/vmmgrctl" --socket "$dir/vmmgrd.sock" "$@"; }
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq "$n_hosts"); do
    ctl host add "sim$i" --uri test:/// --synthetic "package:2 numa:2(memory=64GB) core:8 pu:2" \
        --reserved 0-1 --label "rack=r$(( (i + 1) / 2 ))" >/dev/null
done
{
    echo "admin admin admin,member $(openssl passwd -6 secret)"
    echo "alice proja member $(openssl passwd -6 pw-a)"
} >"$dir/users"
chmod 600 "$dir/users"
printf 'cirros\nempty\n' >"$dir/images"
cat >"$dir/shim.conf" <<CONF
listen = 127.0.0.1:$port
vmmgrd_socket = $dir/vmmgrd.sock
state_dir = $dir/shim-state
users_file = $dir/users
images_file = $dir/images
CONF
"$build/openstack-shim/vmmgr-shim" --config "$dir/shim.conf" >>"$dir/shim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/identity/v3" && break; sleep 0.1; done
cat >"$dir/openrc" <<RC
export OS_AUTH_URL=http://127.0.0.1:$port/identity/v3 OS_USERNAME=admin OS_PASSWORD=secret
export OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
export OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public OS_REGION_NAME=RegionOne
RC
echo "shim-run: vmmgrd ($n_hosts simulated hosts) and vmmgr-shim on port $port; logs in $dir"
echo "shim-run: . $dir/openrc   # then: openstack server list"
echo "shim-run: Ctrl-C stops both and removes $dir"
wait
